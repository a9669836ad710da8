// Node names: Kafka Streams' generated names with one builder-wide counter, Named::as overrides,
// and the rules for legal names.
#include <cstdint>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>

#include "rivulet_test_helpers.h"
#include "topology/topology_impl.h"

namespace rivulet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Every node name of the topology, in the order of its description.
std::vector<std::string> node_names(const Topology& topology) {
  std::vector<std::string> names;
  const TopologyDescription description = topology.describe();
  for (const auto& sub : description.subtopologies()) {
    for (const auto& node : sub.nodes) names.push_back(node.name);
  }
  return names;
}

class Noop : public Processor<std::string, std::string, std::string, std::string> {
 public:
  void process(Record<std::string, std::string>) override {}
};

TEST(DslNaming, EveryOperatorGetsKafkaStreamsGeneratedNameFromOneCounter) {
  StreamsBuilder builder;
  auto s = builder.stream<std::string, std::string>("in");
  EXPECT_EQ(s.node_name(), "KSTREAM-SOURCE-0000000000");
  auto f = s.filter([](const auto&, const auto&) { return true; });
  EXPECT_EQ(f.node_name(), "KSTREAM-FILTER-0000000001");
  auto fn = f.filter_not([](const auto&, const auto&) { return false; });
  EXPECT_EQ(fn.node_name(), "KSTREAM-FILTER-0000000002");
  auto mv = fn.map_values([](const std::string& v) { return v; });
  EXPECT_EQ(mv.node_name(), "KSTREAM-MAPVALUES-0000000003");
  auto m = mv.map([](const std::string& k, const std::string& v) { return std::make_pair(k, v); });
  EXPECT_EQ(m.node_name(), "KSTREAM-MAP-0000000004");
  auto fm = m.flat_map([](const std::string& k, const std::string& v) {
    return std::vector<std::pair<std::string, std::string>>{{k, v}};
  });
  EXPECT_EQ(fm.node_name(), "KSTREAM-FLATMAP-0000000005");
  auto fmv = fm.flat_map_values([](const std::string& v) { return std::vector<std::string>{v}; });
  EXPECT_EQ(fmv.node_name(), "KSTREAM-FLATMAPVALUES-0000000006");
  auto sk = fmv.select_key([](const std::string& k, const std::string&) { return k; });
  EXPECT_EQ(sk.node_name(), "KSTREAM-KEY-SELECT-0000000007");
  auto pk = sk.peek([](const auto&, const auto&) {});
  EXPECT_EQ(pk.node_name(), "KSTREAM-PEEK-0000000008");
  auto merged = pk.merge(s);
  EXPECT_EQ(merged.node_name(), "KSTREAM-MERGE-0000000009");
  auto pr = merged.process([] { return std::make_unique<Noop>(); });
  EXPECT_EQ(pr.node_name(), "KSTREAM-PROCESSOR-0000000010");
  pr.foreach ([](const auto&, const auto&) {});  // 11
  pr.to("out");                                  // 12
  auto branches = pr.split().default_branch();   // 13, default branch burns 14
  EXPECT_EQ(branches.begin()->first, "KSTREAM-BRANCH-00000000130");
  auto rep = pr.repartition();  // 15; sink 16, (filter) 17, source 18
  EXPECT_EQ(rep.node_name(), "KSTREAM-SOURCE-0000000018");
  Topology topology = builder.build();
  const auto names = node_names(topology);
  for (const char* expected :
       {"KSTREAM-FOREACH-0000000011", "KSTREAM-SINK-0000000012", "KSTREAM-BRANCH-0000000013",
        "KSTREAM-BRANCH-00000000130", "KSTREAM-SINK-0000000016", "KSTREAM-SOURCE-0000000018"}) {
    EXPECT_THAT(names, ::testing::Contains(std::string(expected)));
  }
  EXPECT_TRUE(detail::topology_impl(topology).is_internal_topic(
      "KSTREAM-REPARTITION-0000000015-repartition"));
}

TEST(DslNaming, NamedAsOverridesTheGeneratedNameWithoutBurningAnIndex) {
  StreamsBuilder builder;
  auto s = builder.stream<std::string, std::string>(
      "in", Consumed<std::string, std::string>::as("my-source"));
  EXPECT_EQ(s.node_name(), "my-source");
  auto f = s.filter([](const auto&, const auto&) { return true; }, Named::as("keep-all"));
  EXPECT_EQ(f.node_name(), "keep-all");
  auto g = f.filter([](const auto&, const auto&) { return true; });
  EXPECT_EQ(g.node_name(), "KSTREAM-FILTER-0000000000");
  auto m = g.map_values([](const std::string& v) { return v; }, Named::as("upper.case_v2"));
  EXPECT_EQ(m.node_name(), "upper.case_v2");
  m.to("out", Produced<std::string, std::string>::as("my-sink"));
  m.foreach ([](const auto&, const auto&) {}, Named::as("my-foreach"));
  Topology topology = builder.build();
  EXPECT_THAT(node_names(topology),
              ElementsAre("my-source", "keep-all", "KSTREAM-FILTER-0000000000", "upper.case_v2",
                          "my-foreach", "my-sink"));
}

TEST(DslNaming, EveryOperatorAcceptsANamedOverride) {
  StreamsBuilder builder;
  auto s = builder.stream<std::string, std::string>("in");
  EXPECT_EQ(
      s.filter_not([](const auto&, const auto&) { return true; }, Named::as("fn")).node_name(),
      "fn");
  EXPECT_EQ(s.map([](const std::string& k, const std::string& v) { return std::make_pair(k, v); },
                  Named::as("m"))
                .node_name(),
            "m");
  EXPECT_EQ(s.flat_map(
                 [](const std::string& k, const std::string& v) {
                   return std::vector<std::pair<std::string, std::string>>{{k, v}};
                 },
                 Named::as("fm"))
                .node_name(),
            "fm");
  EXPECT_EQ(s.flat_map_values([](const std::string& v) { return std::vector<std::string>{v}; },
                              Named::as("fmv"))
                .node_name(),
            "fmv");
  EXPECT_EQ(
      s.select_key([](const std::string& k, const std::string&) { return k; }, Named::as("sk"))
          .node_name(),
      "sk");
  EXPECT_EQ(s.peek([](const auto&, const auto&) {}, Named::as("pk")).node_name(), "pk");
  EXPECT_EQ(s.merge(s.peek([](const auto&, const auto&) {}), Named::as("mg")).node_name(), "mg");
  EXPECT_EQ(s.process([] { return std::make_unique<Noop>(); }, Named::as("pr")).node_name(), "pr");
}

TEST(DslNaming, NamedRepartitionNamesItsTopicAndNodes) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .repartition(Repartitioned<std::string, std::string>::as("by-id"))
      .to("out");
  Topology topology = builder.build();
  // A named repartition still burns three indices (sink, filter, source), as Kafka Streams does.
  EXPECT_THAT(node_names(topology),
              ElementsAre("KSTREAM-SOURCE-0000000000", "by-id-repartition-sink",
                          "by-id-repartition-source", "KSTREAM-SINK-0000000004"));
  EXPECT_TRUE(detail::topology_impl(topology).is_internal_topic("by-id-repartition"));
  EXPECT_EQ(detail::topology_impl(topology).resolve_topic("app", "by-id-repartition"),
            "app-by-id-repartition");
}

TEST(DslNaming, UnnamedRepartitionUsesGeneratedSinkAndSourceNames) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in").repartition().to("out");
  Topology topology = builder.build();
  EXPECT_THAT(node_names(topology),
              ElementsAre("KSTREAM-SOURCE-0000000000", "KSTREAM-SINK-0000000002",
                          "KSTREAM-SOURCE-0000000004", "KSTREAM-SINK-0000000005"));
  EXPECT_TRUE(detail::topology_impl(topology).is_internal_topic(
      "KSTREAM-REPARTITION-0000000001-repartition"));
}

TEST(DslNaming, TwoBuildersCountIndependently) {
  StreamsBuilder first;
  StreamsBuilder second;
  first.stream<std::string, std::string>("a").filter([](const auto&, const auto&) { return true; });
  auto s = second.stream<std::string, std::string>("b");
  EXPECT_EQ(s.node_name(), "KSTREAM-SOURCE-0000000000");
}

TEST(DslNaming, NameWithASpaceIsIllegal) {
  const std::string message = test::message_of<TopologyException>([] { Named::as("my filter"); });
  EXPECT_THAT(message, HasSubstr("\"my filter\""));
  EXPECT_THAT(message, HasSubstr("character other than ASCII alphanumerics, '.', '_' and '-'"));
}

TEST(DslNaming, NameLongerThan249CharactersIsIllegal) {
  EXPECT_NO_THROW(Named::as(std::string(249, 'a')));
  const std::string message =
      test::message_of<TopologyException>([] { Named::as(std::string(250, 'a')); });
  EXPECT_THAT(message, HasSubstr("1 to 249 characters"));
}

TEST(DslNaming, EmptyNameIsIllegal) {
  const std::string message = test::message_of<TopologyException>([] { Named::as(""); });
  EXPECT_THAT(message, HasSubstr("1 to 249 characters"));
}

TEST(DslNaming, IllegalNamesAreRejectedByConsumedProducedAndRepartitioned) {
  StreamsBuilder builder;
  EXPECT_THAT(test::message_of<TopologyException>([&] {
                builder.stream<std::string, std::string>(
                    "in", Consumed<std::string, std::string>::as("bad name"));
              }),
              HasSubstr("\"bad name\""));
  auto s = builder.stream<std::string, std::string>("in");
  EXPECT_THAT(test::message_of<TopologyException>(
                  [&] { s.to("out", Produced<std::string, std::string>::as("bad/name")); }),
              HasSubstr("\"bad/name\""));
  EXPECT_THAT(test::message_of<TopologyException>(
                  [&] { s.repartition(Repartitioned<std::string, std::string>::as("bad:name")); }),
              HasSubstr("\"bad:name\""));
}

TEST(DslNaming, DuplicateNamedOperatorIsRejectedNamingTheNode) {
  StreamsBuilder builder;
  auto s = builder.stream<std::string, std::string>("in");
  s.filter([](const auto&, const auto&) { return true; }, Named::as("dup"));
  const std::string message = test::message_of<TopologyException>(
      [&] { s.map_values([](const std::string& v) { return v; }, Named::as("dup")); });
  EXPECT_THAT(message, HasSubstr("'dup'"));
  EXPECT_THAT(message, HasSubstr("unique"));
}

}  // namespace
}  // namespace rivulet
