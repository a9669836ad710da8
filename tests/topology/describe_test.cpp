// Topology::describe(): the exact text of Kafka Streams' TopologyDescription, and its structure.
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>

#include "rivulet_test_helpers.h"

namespace rivulet {
namespace {

using detail::NodeKind;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(TopologyDescribe, LinearChain) {
  StreamsBuilder builder;
  builder.stream<std::string, std::int64_t>("input")
      .filter([](const auto&, std::int64_t v) { return v > 0; })
      .map([](const std::string& k, std::int64_t v) { return std::make_pair(v, k); })
      .peek([](const auto&, const auto&) {})
      .to("output");
  const std::string expected =
      "Topologies:\n"
      "   Sub-topology: 0\n"
      "    Source: KSTREAM-SOURCE-0000000000 (topics: [input])\n"
      "      --> KSTREAM-FILTER-0000000001\n"
      "    Processor: KSTREAM-FILTER-0000000001 (stores: [])\n"
      "      --> KSTREAM-MAP-0000000002\n"
      "      <-- KSTREAM-SOURCE-0000000000\n"
      "    Processor: KSTREAM-MAP-0000000002 (stores: [])\n"
      "      --> KSTREAM-PEEK-0000000003\n"
      "      <-- KSTREAM-FILTER-0000000001\n"
      "    Processor: KSTREAM-PEEK-0000000003 (stores: [])\n"
      "      --> KSTREAM-SINK-0000000004\n"
      "      <-- KSTREAM-MAP-0000000002\n"
      "    Sink: KSTREAM-SINK-0000000004 (topic: output)\n"
      "      <-- KSTREAM-PEEK-0000000003\n"
      "\n";
  EXPECT_EQ(builder.build().describe().to_string(), expected);
}

TEST(TopologyDescribe, SplitOrdersSuccessorsBySubGraphSizeThenName) {
  StreamsBuilder builder;
  using Stream = KStream<std::string, std::int64_t>;
  auto branches = builder
                      .stream<std::string, std::int64_t>("input")                  // 0
                      .split()                                                     // 1
                      .branch([](const auto&, std::int64_t v) { return v < 0; })   // ...11, burns 2
                      .branch([](const auto&, std::int64_t v) { return v < 10; },  // ...12, burns 3
                              Branched<std::string, std::int64_t>::with_function(
                                  [](Stream s) -> std::optional<Stream> {
                                    return s.map_values([](std::int64_t v) { return v * 2; });  // 4
                                  }))
                      .default_branch();                  // ...10, burns 5
  branches.at("KSTREAM-BRANCH-00000000011").to("out-1");  // 6
  branches.at("KSTREAM-BRANCH-00000000012").to("out-2");  // 7
  branches.at("KSTREAM-BRANCH-00000000010").to("out-0");  // 8
  // Sub-graph sizes: source 9, splitter 8, branch 2 (with map_values) 3, branches 0 and 1 2,
  // map_values 2, sinks 1. Equal sizes order by name.
  const std::string expected =
      "Topologies:\n"
      "   Sub-topology: 0\n"
      "    Source: KSTREAM-SOURCE-0000000000 (topics: [input])\n"
      "      --> KSTREAM-BRANCH-0000000001\n"
      "    Processor: KSTREAM-BRANCH-0000000001 (stores: [])\n"
      "      --> KSTREAM-BRANCH-00000000012, KSTREAM-BRANCH-00000000010, "
      "KSTREAM-BRANCH-00000000011\n"
      "      <-- KSTREAM-SOURCE-0000000000\n"
      "    Processor: KSTREAM-BRANCH-00000000012 (stores: [])\n"
      "      --> KSTREAM-MAPVALUES-0000000004\n"
      "      <-- KSTREAM-BRANCH-0000000001\n"
      "    Processor: KSTREAM-BRANCH-00000000010 (stores: [])\n"
      "      --> KSTREAM-SINK-0000000008\n"
      "      <-- KSTREAM-BRANCH-0000000001\n"
      "    Processor: KSTREAM-BRANCH-00000000011 (stores: [])\n"
      "      --> KSTREAM-SINK-0000000006\n"
      "      <-- KSTREAM-BRANCH-0000000001\n"
      "    Processor: KSTREAM-MAPVALUES-0000000004 (stores: [])\n"
      "      --> KSTREAM-SINK-0000000007\n"
      "      <-- KSTREAM-BRANCH-00000000012\n"
      "    Sink: KSTREAM-SINK-0000000006 (topic: out-1)\n"
      "      <-- KSTREAM-BRANCH-00000000011\n"
      "    Sink: KSTREAM-SINK-0000000007 (topic: out-2)\n"
      "      <-- KSTREAM-MAPVALUES-0000000004\n"
      "    Sink: KSTREAM-SINK-0000000008 (topic: out-0)\n"
      "      <-- KSTREAM-BRANCH-00000000010\n"
      "\n";
  EXPECT_EQ(builder.build().describe().to_string(), expected);
}

TEST(TopologyDescribe, RepartitionGivesTwoSubTopologiesWithKafkaStreamsIndentation) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("input")
      .map_values([](const std::string& v) { return v; })
      .repartition()
      .filter([](const auto&, const auto&) { return true; })
      .to("output");
  // The first "Sub-topology" line has three leading spaces, later ones two (Kafka Streams' quirk),
  // and every sub-topology ends with a blank line. Internal topics appear without the
  // application id, which the description does not know.
  const std::string expected =
      "Topologies:\n"
      "   Sub-topology: 0\n"
      "    Source: KSTREAM-SOURCE-0000000000 (topics: [input])\n"
      "      --> KSTREAM-MAPVALUES-0000000001\n"
      "    Processor: KSTREAM-MAPVALUES-0000000001 (stores: [])\n"
      "      --> KSTREAM-SINK-0000000003\n"
      "      <-- KSTREAM-SOURCE-0000000000\n"
      "    Sink: KSTREAM-SINK-0000000003 (topic: KSTREAM-REPARTITION-0000000002-repartition)\n"
      "      <-- KSTREAM-MAPVALUES-0000000001\n"
      "\n"
      "  Sub-topology: 1\n"
      "    Source: KSTREAM-SOURCE-0000000005 (topics: "
      "[KSTREAM-REPARTITION-0000000002-repartition])\n"
      "      --> KSTREAM-FILTER-0000000006\n"
      "    Processor: KSTREAM-FILTER-0000000006 (stores: [])\n"
      "      --> KSTREAM-SINK-0000000007\n"
      "      <-- KSTREAM-SOURCE-0000000005\n"
      "    Sink: KSTREAM-SINK-0000000007 (topic: output)\n"
      "      <-- KSTREAM-FILTER-0000000006\n"
      "\n";
  EXPECT_EQ(builder.build().describe().to_string(), expected);
}

Topology two_sources_merging() {
  Topology topology;
  topology.add_source<std::string, std::string>("source-b", {"topic-b"})
      .add_source<std::string, std::string>("source-a", {"topic-a"})
      .add_processor("merger", test::forward_all_supplier<std::string, std::string>(),
                     {"source-b", "source-a"})
      .add_processor("enricher", test::forward_all_supplier<std::string, std::string>(), {"merger"})
      .add_sink<std::string, std::string>("sink", "merged", {"enricher"});
  return topology;
}

TEST(TopologyDescribe, ProcessorApiTwoSourcesMerging) {
  const std::string expected =
      "Topologies:\n"
      "   Sub-topology: 0\n"
      "    Source: source-a (topics: [topic-a])\n"
      "      --> merger\n"
      "    Source: source-b (topics: [topic-b])\n"
      "      --> merger\n"
      "    Processor: merger (stores: [])\n"
      "      --> enricher\n"
      "      <-- source-a, source-b\n"
      "    Processor: enricher (stores: [])\n"
      "      --> sink\n"
      "      <-- merger\n"
      "    Sink: sink (topic: merged)\n"
      "      <-- enricher\n"
      "\n";
  EXPECT_EQ(two_sources_merging().describe().to_string(), expected);
}

TEST(TopologyDescribe, StreamOperatorPrintsTheSameText) {
  const Topology topology = two_sources_merging();
  std::ostringstream out;
  out << topology.describe();
  EXPECT_EQ(out.str(), topology.describe().to_string());
}

TEST(TopologyDescribe, SourceOfSeveralTopicsAndDynamicSink) {
  Topology topology;
  topology.add_source<std::string, std::string>("src", {"a", "b"})
      .add_sink<std::string, std::string>(
          "router",
          TopicNameExtractor<std::string, std::string>(
              [](const Record<std::string, std::string>& r) { return r.key(); }),
          {"src"});
  const std::string expected =
      "Topologies:\n"
      "   Sub-topology: 0\n"
      "    Source: src (topics: [a, b])\n"
      "      --> router\n"
      "    Sink: router (extractor class: TopicNameExtractor)\n"
      "      <-- src\n"
      "\n";
  EXPECT_EQ(topology.describe().to_string(), expected);
}

TEST(TopologyDescribe, EmptyTopologyHasNoSubTopologies) {
  Topology topology;
  EXPECT_THAT(topology.describe().subtopologies(), IsEmpty());
  EXPECT_EQ(topology.describe().to_string(), "Topologies:\n ");
}

TEST(TopologyDescription, SubtopologiesExposeNodesKindsTopicsAndEdges) {
  const TopologyDescription description = two_sources_merging().describe();
  ASSERT_EQ(description.subtopologies().size(), 1u);
  const auto& sub = description.subtopologies()[0];
  EXPECT_EQ(sub.id, 0);
  ASSERT_EQ(sub.nodes.size(), 5u);
  std::vector<std::string> names;
  for (const auto& node : sub.nodes) names.push_back(node.name);
  EXPECT_THAT(names, ElementsAre("source-a", "source-b", "merger", "enricher", "sink"));

  const auto& source_a = sub.nodes[0];
  EXPECT_EQ(source_a.kind, NodeKind::source);
  EXPECT_THAT(source_a.topics, ElementsAre("topic-a"));
  EXPECT_THAT(source_a.predecessors, IsEmpty());
  EXPECT_THAT(source_a.successors, ElementsAre("merger"));

  const auto& merger = sub.nodes[2];
  EXPECT_EQ(merger.kind, NodeKind::processor);
  EXPECT_THAT(merger.topics, IsEmpty());
  EXPECT_THAT(merger.stores, IsEmpty());
  EXPECT_THAT(merger.predecessors, ElementsAre("source-a", "source-b"));
  EXPECT_THAT(merger.successors, ElementsAre("enricher"));

  const auto& sink = sub.nodes[4];
  EXPECT_EQ(sink.kind, NodeKind::sink);
  EXPECT_THAT(sink.topics, ElementsAre("merged"));
  EXPECT_THAT(sink.predecessors, ElementsAre("enricher"));
  EXPECT_THAT(sink.successors, IsEmpty());
}

TEST(TopologyDescription, SubTopologiesAreNumberedBySortedSourceNodeNames) {
  // Kafka Streams numbers sub-topologies by traversing source nodes in name order, not in the
  // order they were added.
  Topology topology;
  topology.add_source<std::string, std::string>("zeta", {"z-in"})
      .add_sink<std::string, std::string>("zeta-out", "z-out", {"zeta"})
      .add_source<std::string, std::string>("alpha", {"a-in"})
      .add_sink<std::string, std::string>("alpha-out", "a-out", {"alpha"})
      .add_source<std::string, std::string>("mid", {"m-in"})
      .add_sink<std::string, std::string>("mid-out", "m-out", {"mid"});
  const TopologyDescription description = topology.describe();
  ASSERT_EQ(description.subtopologies().size(), 3u);
  EXPECT_EQ(description.subtopologies()[0].id, 0);
  EXPECT_EQ(description.subtopologies()[0].nodes[0].name, "alpha");
  EXPECT_EQ(description.subtopologies()[1].id, 1);
  EXPECT_EQ(description.subtopologies()[1].nodes[0].name, "mid");
  EXPECT_EQ(description.subtopologies()[2].id, 2);
  EXPECT_EQ(description.subtopologies()[2].nodes[0].name, "zeta");
}

TEST(TopologyDescription, NodesWithEqualSubGraphsOrderByName) {
  Topology topology;
  topology.add_source<std::string, std::string>("src", {"in"})
      .add_sink<std::string, std::string>("c-sink", "c", {"src"})
      .add_sink<std::string, std::string>("a-sink", "a", {"src"})
      .add_sink<std::string, std::string>("b-sink", "b", {"src"});
  const TopologyDescription description = topology.describe();
  const auto& nodes = description.subtopologies().at(0).nodes;
  ASSERT_EQ(nodes.size(), 4u);
  EXPECT_THAT(nodes[0].successors, ElementsAre("a-sink", "b-sink", "c-sink"));
  EXPECT_EQ(nodes[1].name, "a-sink");
  EXPECT_EQ(nodes[2].name, "b-sink");
  EXPECT_EQ(nodes[3].name, "c-sink");
}

}  // namespace
}  // namespace rivulet
