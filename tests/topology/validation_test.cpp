// Topology validation through the Processor API: every invalid add throws TopologyException whose
// message names the offending node, and the topology stays as it was.
#include <cstdint>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>
#include <rivulet/testing/topology_test_driver.h>

#include "rivulet_test_helpers.h"
#include "topology/topology_impl.h"

namespace rivulet {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using Str = std::string;

Topology with_source() {
  Topology topology;
  topology.add_source<Str, Str>("src", {"in"});
  return topology;
}

TEST(TopologyValidation, MessagesStartWithInvalidTopology) {
  Topology topology = with_source();
  const std::string message =
      test::message_of<TopologyException>([&] { topology.add_source<Str, Str>("src", {"other"}); });
  EXPECT_THAT(message, StartsWith("Invalid topology: "));
}

TEST(TopologyValidation, DuplicateNameIsRejected) {
  Topology topology = with_source();
  topology.add_processor("proc", test::forward_all_supplier<Str, Str>(), {"src"});
  const std::string message = test::message_of<TopologyException>(
      [&] { topology.add_processor("proc", test::forward_all_supplier<Str, Str>(), {"src"}); });
  EXPECT_THAT(message, HasSubstr("'proc'"));
  EXPECT_THAT(message, HasSubstr("already added"));
  EXPECT_EQ(detail::topology_impl(topology).nodes().size(), 2u);
}

TEST(TopologyValidation, DuplicateNameAcrossNodeKindsIsRejected) {
  Topology topology = with_source();
  const std::string message = test::message_of<TopologyException>(
      [&] { topology.add_sink<Str, Str>("src", "out", {"src"}); });
  EXPECT_THAT(message, HasSubstr("'src'"));
}

TEST(TopologyValidation, UnknownParentIsRejected) {
  Topology topology = with_source();
  const std::string message = test::message_of<TopologyException>(
      [&] { topology.add_processor("proc", test::forward_all_supplier<Str, Str>(), {"missing"}); });
  EXPECT_THAT(message, HasSubstr("unknown parent 'missing'"));
  EXPECT_THAT(message, HasSubstr("'proc'"));
  EXPECT_EQ(detail::topology_impl(topology).find("proc"), nullptr);
}

TEST(TopologyValidation, NodeNamingItselfAsParentIsACycle) {
  Topology topology = with_source();
  const std::string message = test::message_of<TopologyException>([&] {
    topology.add_processor("loop", test::forward_all_supplier<Str, Str>(), {"src", "loop"});
  });
  EXPECT_THAT(message, HasSubstr("'loop'"));
  EXPECT_THAT(message, HasSubstr("cycle"));
}

TEST(TopologyValidation, ProcessorWithoutParentsIsRejected) {
  Topology topology = with_source();
  const std::string message = test::message_of<TopologyException>(
      [&] { topology.add_processor("orphan", test::forward_all_supplier<Str, Str>(), {}); });
  EXPECT_THAT(message, HasSubstr("'orphan'"));
  EXPECT_THAT(message, HasSubstr("at least one parent"));
}

TEST(TopologyValidation, SameParentTwiceIsRejected) {
  Topology topology = with_source();
  const std::string message = test::message_of<TopologyException>([&] {
    topology.add_processor("proc", test::forward_all_supplier<Str, Str>(), {"src", "src"});
  });
  EXPECT_THAT(message, HasSubstr("'proc'"));
  EXPECT_THAT(message, HasSubstr("'src' twice"));
}

TEST(TopologyValidation, SinkCannotBeAParent) {
  Topology topology = with_source();
  topology.add_sink<Str, Str>("sink", "out", {"src"});
  const std::string message = test::message_of<TopologyException>([&] {
    topology.add_processor("after-sink", test::forward_all_supplier<Str, Str>(), {"sink"});
  });
  EXPECT_THAT(message, HasSubstr("sink 'sink'"));
  EXPECT_THAT(message, HasSubstr("'after-sink'"));
}

TEST(TopologyValidation, SourceWithNoTopicsIsRejected) {
  Topology topology;
  const std::string message =
      test::message_of<TopologyException>([&] { topology.add_source<Str, Str>("empty-src", {}); });
  EXPECT_THAT(message, HasSubstr("source 'empty-src'"));
  EXPECT_THAT(message, HasSubstr("at least one topic"));
}

TEST(TopologyValidation, SourceWithAnEmptyTopicNameIsRejected) {
  Topology topology;
  const std::string message = test::message_of<TopologyException>([&] {
    topology.add_source<Str, Str>("blank-src", {"in", ""});
  });
  EXPECT_THAT(message, HasSubstr("source 'blank-src'"));
  EXPECT_THAT(message, HasSubstr("empty topic"));
}

TEST(TopologyValidation, SameTopicReadByTwoSourcesIsRejected) {
  Topology topology = with_source();
  const std::string message = test::message_of<TopologyException>([&] {
    topology.add_source<Str, Str>("second", {"other", "in"});
  });
  EXPECT_THAT(message, HasSubstr("topic 'in'"));
  EXPECT_THAT(message, HasSubstr("source 'src'"));
  EXPECT_THAT(message, HasSubstr("source 'second'"));
  // Nothing of the rejected source was kept: its other topic is still free.
  EXPECT_NO_THROW((topology.add_source<Str, Str>("third", {"other"})));
}

TEST(TopologyValidation, SourceNamingATopicTwiceIsRejected) {
  Topology topology;
  const std::string message = test::message_of<TopologyException>([&] {
    topology.add_source<Str, Str>("twice", {"in", "in"});
  });
  EXPECT_THAT(message, HasSubstr("source 'twice'"));
  EXPECT_THAT(message, HasSubstr("'in' twice"));
}

TEST(TopologyValidation, SinkWithAnEmptyTopicIsRejected) {
  Topology topology = with_source();
  const std::string message = test::message_of<TopologyException>(
      [&] { topology.add_sink<Str, Str>("no-topic-sink", "", {"src"}); });
  EXPECT_THAT(message, HasSubstr("sink 'no-topic-sink' has no topic"));
  EXPECT_EQ(detail::topology_impl(topology).find("no-topic-sink"), nullptr);
}

TEST(TopologyValidation, DslToAnEmptyTopicIsRejected) {
  StreamsBuilder builder;
  auto stream = builder.stream<Str, Str>("in");
  const std::string message = test::message_of<TopologyException>(
      [&] { stream.to("", Produced<Str, Str>::as("empty-sink")); });
  EXPECT_THAT(message, HasSubstr("sink 'empty-sink' has no topic"));
}

TEST(TopologyValidation, SinkWithAnEmptyTopicExtractorIsRejected) {
  Topology topology = with_source();
  const std::string message = test::message_of<TopologyException>(
      [&] { topology.add_sink<Str, Str>("dyn", TopicNameExtractor<Str, Str>{}, {"src"}); });
  EXPECT_THAT(message, HasSubstr("sink 'dyn'"));
}

TEST(TopologyValidation, SinkWithATopicExtractorNeedsNoTopic) {
  Topology topology = with_source();
  EXPECT_NO_THROW((topology.add_sink<Str, Str>(
      "dyn", TopicNameExtractor<Str, Str>([](const Record<Str, Str>& r) { return r.key(); }),
      {"src"})));
}

TEST(TopologyValidation, ProcessorTypeMismatchNamesBothNodesAndBothTypes) {
  Topology topology = with_source();
  const std::string message = test::message_of<TopologyException>(
      [&] { topology.add_processor("ints", test::forward_all_supplier<Str, int>(), {"src"}); });
  EXPECT_THAT(message, HasSubstr("processor 'ints' takes Record<std::string, int>"));
  EXPECT_THAT(message, HasSubstr("parent 'src' forwards Record<std::string, std::string>"));
}

TEST(TopologyValidation, SinkTypeMismatchNamesBothNodesAndBothTypes) {
  Topology topology = with_source();
  topology.add_processor(
      "to-long",
      test::fn_supplier<Str, Str, Str, std::int64_t>([](auto& context, Record<Str, Str> record) {
        context.forward(record.with_value(std::int64_t{1}));
      }),
      {"src"});
  const std::string message = test::message_of<TopologyException>(
      [&] { topology.add_sink<Str, Str>("sink", "out", {"to-long"}); });
  EXPECT_THAT(message, HasSubstr("sink 'sink' takes Record<std::string, std::string>"));
  EXPECT_THAT(message, HasSubstr("parent 'to-long' forwards Record<std::string, long>"));
}

TEST(TopologyValidation, ProcessorWithParentsOfDifferentOutputTypesIsRejected) {
  Topology topology = with_source();
  topology.add_source<Str, std::int64_t>("longs", {"numbers"});
  const std::string message = test::message_of<TopologyException>([&] {
    topology.add_processor("both", test::forward_all_supplier<Str, Str>(), {"src", "longs"});
  });
  EXPECT_THAT(message, HasSubstr("'both'"));
  EXPECT_THAT(message, HasSubstr("'longs'"));
}

TEST(TopologyValidation, EmptyTopologyIsRejectedByTheDriver) {
  Topology topology;
  const std::string message =
      test::message_of<TopologyException>([&] { testing::TopologyTestDriver driver(topology); });
  EXPECT_THAT(message, HasSubstr("no source"));
}

TEST(TopologyValidation, SupplierReturningNullIsRejectedWhenTasksAreBuilt) {
  Topology topology = with_source();
  topology.add_processor("null-proc",
                         []() -> std::unique_ptr<Processor<Str, Str, Str, Str>> { return nullptr; },
                         {"src"});
  const std::string message =
      test::message_of<TopologyException>([&] { testing::TopologyTestDriver driver(topology); });
  EXPECT_THAT(message, HasSubstr("'null-proc'"));
  EXPECT_THAT(message, HasSubstr("null"));
}

struct NoSerde {
  int x = 0;
};

TEST(TopologyValidation, TypeWithoutDefaultSerdeFailsNamingTheNode) {
  Topology topology;
  topology.add_source<Str, NoSerde>("raw-src", {"in"});
  const std::string message =
      test::message_of<TopologyException>([&] { testing::TopologyTestDriver driver(topology); });
  EXPECT_THAT(message, HasSubstr("'raw-src'"));
  EXPECT_THAT(message, HasSubstr("value serde"));
}

TEST(TopologyValidation, ValidTopologyIsAccepted) {
  Topology topology = with_source();
  topology.add_processor("proc", test::forward_all_supplier<Str, Str>(), {"src"})
      .add_sink<Str, Str>("sink", "out", {"proc"});
  EXPECT_NO_THROW(detail::topology_impl(topology).validate());
  EXPECT_NO_THROW(testing::TopologyTestDriver driver(topology));
}

}  // namespace
}  // namespace rivulet
