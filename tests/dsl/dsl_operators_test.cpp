// The DSL's stateless operators, run through the TopologyTestDriver: each test pipes records in
// and checks exactly what reaches the output topic (or the user's callback).
#include <cctype>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>
#include <rivulet/testing/topology_test_driver.h>

#include "rivulet_test_helpers.h"

namespace rivulet {
namespace {

using ::testing::ElementsAre;
using testing::TestRecord;
using testing::TopologyTestDriver;
using KV = KeyValue<std::string, std::string>;
using KVi = KeyValue<std::string, std::int64_t>;

TEST(DslFilter, KeepsOnlyRecordsMatchingThePredicate) {
  StreamsBuilder builder;
  builder.stream<std::string, std::int64_t>("in")
      .filter([](const std::string& key, std::int64_t value) { return key != "skip" && value > 0; })
      .to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::int64_t>("in");
  auto out = driver.create_output_topic<std::string, std::int64_t>("out");
  in.pipe_input("a", 1);
  in.pipe_input("b", -1);
  in.pipe_input("skip", 5);
  in.pipe_input("c", 7);
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KVi{"a", 1}, KVi{"c", 7}));
}

TEST(DslFilterNot, DropsRecordsMatchingThePredicate) {
  StreamsBuilder builder;
  builder.stream<std::string, std::int64_t>("in")
      .filter_not([](const std::string&, std::int64_t value) { return value > 0; })
      .to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::int64_t>("in");
  auto out = driver.create_output_topic<std::string, std::int64_t>("out");
  in.pipe_input("a", 1);
  in.pipe_input("b", -1);
  in.pipe_input("c", 0);
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KVi{"b", -1}, KVi{"c", 0}));
}

TEST(DslMap, ReplacesKeyAndValueWithTheMappersPair) {
  StreamsBuilder builder;
  builder.stream<std::string, std::int64_t>("in")
      .map([](const std::string& key, std::int64_t value) {
        return KeyValue<std::int64_t, std::string>{value * 10, key + "!"};
      })
      .to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::int64_t>("in");
  auto out = driver.create_output_topic<std::int64_t, std::string>("out");
  in.pipe_input("a", 1);
  in.pipe_input("b", 2);
  EXPECT_THAT(out.read_key_values_to_list(),
              ElementsAre(KeyValue<std::int64_t, std::string>{10, "a!"},
                          KeyValue<std::int64_t, std::string>{20, "b!"}));
}

TEST(DslMap, AcceptsAStdPairResult) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .map([](const std::string& key, const std::string& value) {
        return std::make_pair(value, key);
      })
      .to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_input("k", "v");
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KV{"v", "k"}));
}

TEST(DslMapValues, ValueOnlyMapperKeepsTheKey) {
  StreamsBuilder builder;
  builder.stream<std::string, std::int64_t>("in")
      .map_values([](std::int64_t value) { return std::to_string(value * 2); })
      .to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::int64_t>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_input("a", 21);
  in.pipe_input("b", -3);
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KV{"a", "42"}, KV{"b", "-6"}));
}

TEST(DslMapValues, KeyAndValueMapperSeesTheKeyAndKeepsIt) {
  StreamsBuilder builder;
  builder.stream<std::string, std::int64_t>("in")
      .map_values([](const std::string& key, std::int64_t value) {
        return key + "=" + std::to_string(value);
      })
      .to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::int64_t>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_input("a", 1);
  in.pipe_input("b", 2);
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KV{"a", "a=1"}, KV{"b", "b=2"}));
}

TEST(DslFlatMap, EmitsEveryPairTheMapperReturnsInOrder) {
  StreamsBuilder builder;
  builder.stream<std::string, std::int64_t>("in")
      .flat_map([](const std::string& key, std::int64_t count) {
        std::vector<KeyValue<std::string, std::int64_t>> out;
        for (std::int64_t i = 0; i < count; ++i) out.push_back({key + std::to_string(i), i});
        return out;
      })
      .to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::int64_t>("in");
  auto out = driver.create_output_topic<std::string, std::int64_t>("out");
  in.pipe_input("a", 3);
  in.pipe_input("none", 0);
  in.pipe_input("b", 1);
  EXPECT_THAT(out.read_key_values_to_list(),
              ElementsAre(KVi{"a0", 0}, KVi{"a1", 1}, KVi{"a2", 2}, KVi{"b0", 0}));
}

TEST(DslFlatMapValues, ValueOnlyMapperEmitsEachValueWithTheInputKey) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .flat_map_values([](const std::string& sentence) {
        std::vector<std::string> words;
        std::string word;
        for (char c : sentence) {
          if (c == ' ') {
            words.push_back(word);
            word.clear();
          } else {
            word += c;
          }
        }
        if (!word.empty()) words.push_back(word);
        return words;
      })
      .to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_input("k", "hello big world");
  EXPECT_THAT(out.read_key_values_to_list(),
              ElementsAre(KV{"k", "hello"}, KV{"k", "big"}, KV{"k", "world"}));
}

TEST(DslFlatMapValues, KeyAndValueMapperSeesTheKey) {
  StreamsBuilder builder;
  builder.stream<std::string, std::int64_t>("in")
      .flat_map_values([](const std::string& key, std::int64_t n) {
        return std::vector<std::string>(static_cast<std::size_t>(n), key);
      })
      .to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::int64_t>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_input("x", 2);
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KV{"x", "x"}, KV{"x", "x"}));
}

TEST(DslFlatMapValues, EmptyResultEmitsNothing) {
  StreamsBuilder builder;
  int calls = 0;
  builder.stream<std::string, std::string>("in")
      .flat_map_values([&calls](const std::string&) {
        ++calls;
        return std::vector<std::string>{};
      })
      .to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_input("k", "v");
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(out.is_empty());
  EXPECT_EQ(driver.produced_topic_names().count("out"), 0u);
}

TEST(DslSelectKey, ReplacesTheKeyAndKeepsTheValue) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .select_key([](const std::string& key, const std::string& value) {
        return static_cast<std::int64_t>(key.size() + value.size());
      })
      .to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::int64_t, std::string>("out");
  in.pipe_input("ab", "cde");
  EXPECT_THAT(out.read_key_values_to_list(),
              ElementsAre(KeyValue<std::int64_t, std::string>{5, "cde"}));
}

TEST(DslPeek, SeesEveryRecordAndPassesItUnchanged) {
  StreamsBuilder builder;
  std::vector<KV> seen;
  builder.stream<std::string, std::string>("in")
      .peek([&seen](const std::string& key, const std::string& value) {
        seen.push_back({key, value});
      })
      .to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  Headers headers;
  headers.add("h", "1");
  in.pipe_input(TestRecord<std::string, std::string>("a", "1", 100, headers));
  in.pipe_input(TestRecord<std::string, std::string>("b", "2", 200));
  EXPECT_THAT(seen, ElementsAre(KV{"a", "1"}, KV{"b", "2"}));
  EXPECT_THAT(out.read_records_to_list(),
              ElementsAre(TestRecord<std::string, std::string>("a", "1", 100, headers),
                          TestRecord<std::string, std::string>("b", "2", 200)));
}

TEST(DslForeach, SeesEveryRecordAndIsTerminal) {
  StreamsBuilder builder;
  std::vector<KV> seen;
  builder.stream<std::string, std::string>("in").foreach (
      [&seen](const std::string& key, const std::string& value) {
        seen.push_back({key, value});
      });
  Topology topology = builder.build();
  // Terminal: the foreach node has no successors, and nothing is written anywhere.
  const TopologyDescription description = topology.describe();
  const auto& nodes = description.subtopologies().at(0).nodes;
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[1].name, "KSTREAM-FOREACH-0000000001");
  EXPECT_TRUE(nodes[1].successors.empty());
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  in.pipe_input("a", "1");
  in.pipe_input("b", "2");
  EXPECT_THAT(seen, ElementsAre(KV{"a", "1"}, KV{"b", "2"}));
  EXPECT_TRUE(driver.produced_topic_names().empty());
}

TEST(DslMerge, BothInputsReachTheOutputInArrivalOrder) {
  StreamsBuilder builder;
  auto left = builder.stream<std::string, std::string>("left");
  auto right = builder.stream<std::string, std::string>("right");
  left.merge(right).to("out");
  TopologyTestDriver driver(builder.build());
  auto in_left = driver.create_input_topic<std::string, std::string>("left");
  auto in_right = driver.create_input_topic<std::string, std::string>("right");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in_right.pipe_input("r", "1");
  in_left.pipe_input("l", "2");
  in_left.pipe_input("l", "3");
  in_right.pipe_input("r", "4");
  EXPECT_THAT(out.read_key_values_to_list(),
              ElementsAre(KV{"r", "1"}, KV{"l", "2"}, KV{"l", "3"}, KV{"r", "4"}));
}

// Writes keys upper-cased; reads them as they are.
struct UpperCaseSerde {
  void serialize(std::string_view topic, const std::string& value, Bytes& out) const {
    std::string upper = value;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    StringSerde{}.serialize(topic, upper, out);
  }
  std::string deserialize(std::string_view topic, ByteView data) const {
    return StringSerde{}.deserialize(topic, data);
  }
};

TEST(DslMerge, MergedStreamDoesNotWriteOneInputsRecordsWithTheOthersSerde) {
  // As Kafka Streams does, merge drops the serdes of its inputs: the merged records came through
  // different serdes, so neither applies to all of them, and `to` falls back to the defaults.
  StreamsBuilder builder;
  auto left = builder.stream<std::string, std::string>(
      "left", Consumed<std::string, std::string>::with(UpperCaseSerde{}, StringSerde{}));
  auto right = builder.stream<std::string, std::string>(
      "right", Consumed<std::string, std::string>::with(StringSerde{}, StringSerde{}));
  left.merge(right).to("out");
  TopologyTestDriver driver(builder.build());
  auto in_left = driver.create_input_topic<std::string, std::string>("left");
  auto in_right = driver.create_input_topic<std::string, std::string>("right");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in_left.pipe_input("l", "1");
  in_right.pipe_input("r", "2");
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KV{"l", "1"}, KV{"r", "2"}));
}

TEST(DslMerge, SerdeGivenToToIsUsedForRecordsOfBothInputs) {
  StreamsBuilder builder;
  auto calls = std::make_shared<test::SerdeCalls>();
  auto left = builder.stream<std::string, std::string>("left");
  auto right = builder.stream<std::string, std::string>("right");
  left.merge(right).to("out",
                       Produced<std::string, std::string>::with(test::CountingStringSerde(calls),
                                                                test::CountingStringSerde(calls)));
  TopologyTestDriver driver(builder.build());
  driver.create_input_topic<std::string, std::string>("left").pipe_input("l", "1");
  driver.create_input_topic<std::string, std::string>("right").pipe_input("r", "2");
  EXPECT_EQ(calls->serialize.load(), 4);
}

TEST(DslTo, FixedTopicReceivesEveryRecord) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in").to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_input("a", "1");
  in.pipe_input("b", "2");
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KV{"a", "1"}, KV{"b", "2"}));
  EXPECT_EQ(driver.produced_topic_names(), std::set<std::string>{"out"});
}

TEST(DslTo, TopicNameExtractorRoutesEachRecord) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in").to(
      [](const Record<std::string, std::string>& record) { return "topic-" + record.key(); });
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out_a = driver.create_output_topic<std::string, std::string>("topic-a");
  auto out_b = driver.create_output_topic<std::string, std::string>("topic-b");
  in.pipe_input("a", "1");
  in.pipe_input("b", "2");
  in.pipe_input("a", "3");
  EXPECT_THAT(out_a.read_key_values_to_list(), ElementsAre(KV{"a", "1"}, KV{"a", "3"}));
  EXPECT_THAT(out_b.read_key_values_to_list(), ElementsAre(KV{"b", "2"}));
  EXPECT_EQ(driver.produced_topic_names(), (std::set<std::string>{"topic-a", "topic-b"}));
}

TEST(DslTo, ProducedSerdesAreUsedBySink) {
  StreamsBuilder builder;
  auto calls = std::make_shared<test::SerdeCalls>();
  builder.stream<std::string, std::string>("in").to(
      "out", Produced<std::string, std::string>::with(test::CountingStringSerde(calls),
                                                      test::CountingStringSerde(calls)));
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::string>("in");
  in.pipe_input("a", "1");
  EXPECT_EQ(calls->serialize.load(), 2);
}

TEST(DslSerdes, ToUsesTheSerdesTheStreamWasReadWith) {
  StreamsBuilder builder;
  auto key_calls = std::make_shared<test::SerdeCalls>();
  auto value_calls = std::make_shared<test::SerdeCalls>();
  builder
      .stream<std::string, std::string>(
          "in", Consumed<std::string, std::string>::with(test::CountingStringSerde(key_calls),
                                                         test::CountingStringSerde(value_calls)))
      .filter([](const auto&, const auto&) { return true; })
      .peek([](const auto&, const auto&) {})
      .to("out");
  TopologyTestDriver driver(builder.build());
  driver.create_input_topic<std::string, std::string>("in").pipe_input("k", "v");
  EXPECT_EQ(key_calls->deserialize.load(), 1);
  EXPECT_EQ(key_calls->serialize.load(), 1);
  EXPECT_EQ(value_calls->deserialize.load(), 1);
  EXPECT_EQ(value_calls->serialize.load(), 1);
}

TEST(DslSerdes, MapValuesKeepsOnlyTheKeySerdeAndSelectKeyOnlyTheValueSerde) {
  StreamsBuilder builder;
  auto key_calls = std::make_shared<test::SerdeCalls>();
  auto value_calls = std::make_shared<test::SerdeCalls>();
  auto source = builder.stream<std::string, std::string>(
      "in", Consumed<std::string, std::string>::with(test::CountingStringSerde(key_calls),
                                                     test::CountingStringSerde(value_calls)));
  source.map_values([](const std::string& v) { return v; }).to("mapped-values");
  source.select_key([](const std::string& k, const std::string&) { return k; }).to("selected-key");
  TopologyTestDriver driver(builder.build());
  driver.create_input_topic<std::string, std::string>("in").pipe_input("k", "v");
  EXPECT_EQ(key_calls->serialize.load(), 1);    // by the map_values branch's sink only
  EXPECT_EQ(value_calls->serialize.load(), 1);  // by the select_key branch's sink only
}

TEST(DslSerdes, ProducedSerdesWinOverTheStreams) {
  StreamsBuilder builder;
  auto consumed_calls = std::make_shared<test::SerdeCalls>();
  auto produced_calls = std::make_shared<test::SerdeCalls>();
  builder
      .stream<std::string, std::string>(
          "in", Consumed<std::string, std::string>::with(test::CountingStringSerde(consumed_calls),
                                                         test::CountingStringSerde(consumed_calls)))
      .to("out", Produced<std::string, std::string>().with_value_serde(
                     test::CountingStringSerde(produced_calls)));
  TopologyTestDriver driver(builder.build());
  driver.create_input_topic<std::string, std::string>("in").pipe_input("k", "v");
  EXPECT_EQ(consumed_calls->serialize.load(), 1);  // the key: not given to Produced
  EXPECT_EQ(produced_calls->serialize.load(), 1);  // the value
}

// A Processor API processor that emits each record twice, with a counter in the value.
class Duplicator : public Processor<std::string, std::string, std::string, std::int64_t> {
 public:
  void init(ProcessorContext<std::string, std::int64_t>& context) override { context_ = &context; }
  void process(Record<std::string, std::string> record) override {
    context_->forward(record.with_value(++count_));
    context_->forward(std::move(record).with_value(++count_));
  }

 private:
  ProcessorContext<std::string, std::int64_t>* context_ = nullptr;
  std::int64_t count_ = 0;
};

TEST(DslProcess, ProcessorForwardsToTheStreamsChildren) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .process([] { return std::make_unique<Duplicator>(); })
      .to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::int64_t>("out");
  in.pipe_input("a", "x");
  in.pipe_input("b", "y");
  EXPECT_THAT(out.read_key_values_to_list(),
              ElementsAre(KVi{"a", 1}, KVi{"a", 2}, KVi{"b", 3}, KVi{"b", 4}));
}

TEST(DslProcess, MarksTheStreamForRepartitioning) {
  StreamsBuilder builder;
  auto source = builder.stream<std::string, std::string>("in");
  auto processed = source.process([] { return std::make_unique<Duplicator>(); });
  EXPECT_FALSE(source.repartition_required());
  EXPECT_TRUE(processed.repartition_required());
  EXPECT_TRUE(
      source.select_key([](const auto& k, const auto&) { return k; }).repartition_required());
  EXPECT_TRUE(source.map([](const auto& k, const auto& v) { return std::make_pair(k, v); })
                  .repartition_required());
  EXPECT_FALSE(source.map_values([](const std::string& v) { return v; }).repartition_required());
  EXPECT_FALSE(source.filter([](const auto&, const auto&) { return true; }).repartition_required());
}

TEST(DslRepartition, RecordsPassThroughTheInternalTopic) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .select_key([](const std::string&, const std::string& value) { return value; })
      .repartition(Repartitioned<std::string, std::string>::as("by-value"))
      .to("out");
  TopologyTestDriver driver(builder.build(), StreamsConfig{{"application.id", "app"}});
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  auto internal = driver.create_output_topic<std::string, std::string>("app-by-value-repartition");
  in.pipe_input("a", "x");
  in.pipe_input("b", "y");
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KV{"x", "x"}, KV{"y", "y"}));
  EXPECT_THAT(internal.read_key_values_to_list(), ElementsAre(KV{"x", "x"}, KV{"y", "y"}));
  EXPECT_EQ(driver.produced_topic_names(),
            (std::set<std::string>{"app-by-value-repartition", "out"}));
  EXPECT_EQ(driver.internal_topic_name("by-value-repartition"), "app-by-value-repartition");
}

TEST(DslRepartition, UnnamedRepartitionUsesTheGeneratedName) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in").repartition().to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_input("a", "x");
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KV{"a", "x"}));
  EXPECT_EQ(driver.produced_topic_names(),
            (std::set<std::string>{
                "topology-test-driver-KSTREAM-REPARTITION-0000000001-repartition", "out"}));
}

TEST(DslRepartition, IsDescribedAsASecondSubTopology) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .repartition(Repartitioned<std::string, std::string>::as("r"))
      .to("out");
  Topology topology = builder.build();
  const auto description = topology.describe();
  ASSERT_EQ(description.subtopologies().size(), 2u);
  const auto& first = description.subtopologies()[0];
  const auto& second = description.subtopologies()[1];
  EXPECT_EQ(first.id, 0);
  EXPECT_EQ(second.id, 1);
  ASSERT_EQ(first.nodes.size(), 2u);
  EXPECT_EQ(first.nodes[1].name, "r-repartition-sink");
  EXPECT_THAT(first.nodes[1].topics, ElementsAre("r-repartition"));
  ASSERT_EQ(second.nodes.size(), 2u);
  EXPECT_EQ(second.nodes[0].name, "r-repartition-source");
  EXPECT_THAT(second.nodes[0].topics, ElementsAre("r-repartition"));
}

TEST(DslRepartition, RecordsInTheSecondSubTopologyRunInTask1) {
  StreamsBuilder builder;
  std::vector<std::string> tasks;
  builder.stream<std::string, std::string>("in")
      .process(test::fn_supplier<std::string, std::string, std::string, std::string>(
          [&tasks](ProcessorContext<std::string, std::string>& context,
                   Record<std::string, std::string> record) {
            tasks.push_back(context.task_id().to_string());
            context.forward(std::move(record));
          }))
      .repartition()
      .process(test::fn_supplier<std::string, std::string>(
          [&tasks](ProcessorContext<Void, Void>& context, Record<std::string, std::string>) {
            tasks.push_back(context.task_id().to_string());
          }));
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::string>("in");
  in.pipe_input("a", "x");
  EXPECT_THAT(tasks, ElementsAre("0_0", "1_0"));
}

TEST(DslStream, OneSourceCanReadSeveralTopics) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>({"a", "b"}).to("out");
  TopologyTestDriver driver(builder.build());
  auto in_a = driver.create_input_topic<std::string, std::string>("a");
  auto in_b = driver.create_input_topic<std::string, std::string>("b");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in_b.pipe_input("from", "b");
  in_a.pipe_input("from", "a");
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("b", "a"));
}

TEST(DslStream, OneStreamCanFeedSeveralOperators) {
  StreamsBuilder builder;
  auto source = builder.stream<std::string, std::int64_t>("in");
  source.filter([](const auto&, std::int64_t v) { return v % 2 == 0; }).to("even");
  source.map_values([](std::int64_t v) { return v * 100; }).to("scaled");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::int64_t>("in");
  auto even = driver.create_output_topic<std::string, std::int64_t>("even");
  auto scaled = driver.create_output_topic<std::string, std::int64_t>("scaled");
  in.pipe_input("a", 1);
  in.pipe_input("b", 2);
  EXPECT_THAT(even.read_key_values_to_list(), ElementsAre(KVi{"b", 2}));
  EXPECT_THAT(scaled.read_key_values_to_list(), ElementsAre(KVi{"a", 100}, KVi{"b", 200}));
}

TEST(DslStreamsBuilder, StreamsCannotChangeAfterBuild) {
  StreamsBuilder builder;
  auto source = builder.stream<std::string, std::string>("in");
  Topology topology = builder.build();
  const std::string message = test::message_of<TopologyException>([&] { source.to("out"); });
  EXPECT_THAT(message, ::testing::HasSubstr("already built"));
}

}  // namespace
}  // namespace rivulet
