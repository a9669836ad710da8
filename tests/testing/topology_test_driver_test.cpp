// The TopologyTestDriver and its test topics: null keys, reading helpers, timestamps, errors,
// serdes at the boundaries, and isolation between drivers.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>
#include <rivulet/testing/topology_test_driver.h>

#include "rivulet_test_helpers.h"

namespace rivulet::testing {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Str = std::string;
using OptStr = std::optional<std::string>;
using KV = KeyValue<Str, Str>;

Topology pass_through() {
  StreamsBuilder builder;
  builder.stream<Str, Str>("in").to("out");
  return builder.build();
}

TEST(TopologyTestDriver, PipeValueWithAStringKeySeesTheEmptyString) {
  std::vector<Str> keys;
  StreamsBuilder builder;
  builder.stream<Str, Str>("in")
      .peek([&keys](const Str& key, const Str&) { keys.push_back(key); })
      .to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<Str, Str>("in");
  auto out = driver.create_output_topic<Str, Str>("out");
  in.pipe_value("v");
  EXPECT_THAT(keys, ElementsAre(""));
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KV{"", "v"}));
}

TEST(TopologyTestDriver, PipeValueWithAnOptionalKeySeesNullopt) {
  std::vector<OptStr> keys;
  StreamsBuilder builder;
  builder.stream<OptStr, Str>("in")
      .peek([&keys](const OptStr& key, const Str&) { keys.push_back(key); })
      .to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<OptStr, Str>("in");
  auto out = driver.create_output_topic<OptStr, Str>("out");
  in.pipe_value("v");
  in.pipe_input("k", "w");
  EXPECT_THAT(keys, ElementsAre(std::nullopt, OptStr("k")));
  const auto records = out.read_records_to_list();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_FALSE(records[0].key.has_value());  // written back as Kafka null
  EXPECT_EQ(records[1].key, OptStr("k"));
}

TEST(TopologyTestDriver, NullKeyThroughAStringKeyedTopologyComesOutEmpty) {
  TopologyTestDriver driver(pass_through());
  auto raw_out = driver.create_output_topic<Str, Str>("out");
  driver.pipe_raw("in", std::nullopt, ByteView(to_bytes("v")), 5, {});
  // The source deserializes the null key to "" and the StringSerde sink writes "" back.
  const auto record = raw_out.read_record();
  EXPECT_EQ(record.key, Str(""));
  EXPECT_EQ(record.value, Str("v"));
}

TEST(TopologyTestDriver, ReadKeyValuesToMapKeepsTheLastValuePerKey) {
  TopologyTestDriver driver(pass_through());
  auto in = driver.create_input_topic<Str, Str>("in");
  auto out = driver.create_output_topic<Str, Str>("out");
  in.pipe_key_value_list({{"a", "1"}, {"b", "2"}, {"a", "3"}});
  EXPECT_EQ(out.read_key_values_to_map(), (std::map<Str, Str>{{"a", "3"}, {"b", "2"}}));
  EXPECT_TRUE(out.is_empty());
}

TEST(TopologyTestDriver, ReadKeyValuesToMapRemovesAKeyOnANullValue) {
  StreamsBuilder builder;
  builder.stream<Str, OptStr>("in").to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<Str, OptStr>("in");
  auto out = driver.create_output_topic<Str, Str>("out");
  in.pipe_input("a", OptStr("1"));
  in.pipe_input("b", OptStr("2"));
  in.pipe_input("a", std::nullopt);  // tombstone
  in.pipe_input("c", std::nullopt);  // tombstone for an absent key
  EXPECT_EQ(out.read_key_values_to_map(), (std::map<Str, Str>{{"b", "2"}}));
}

TEST(TopologyTestDriver, TombstoneReadsAsNullValue) {
  StreamsBuilder builder;
  builder.stream<Str, OptStr>("in").to("out");
  TopologyTestDriver driver(builder.build());
  driver.create_input_topic<Str, OptStr>("in").pipe_input("a", std::nullopt);
  auto out = driver.create_output_topic<Str, Str>("out");
  const auto record = out.read_record();
  EXPECT_EQ(record.key, Str("a"));
  EXPECT_FALSE(record.value.has_value());
}

TEST(TopologyTestDriver, InputTopicAutoAdvancesTimestamps) {
  TopologyTestDriver driver(pass_through());
  auto in =
      driver.create_input_topic<Str, Str>("in", std::nullopt, std::nullopt, 1000, milliseconds(10));
  auto out = driver.create_output_topic<Str, Str>("out");
  in.pipe_input("a", "1");
  in.pipe_input("b", "2");
  in.pipe_input("c", "3", 5);  // an explicit timestamp does not move the topic's clock
  in.pipe_value("4");
  in.advance_time(milliseconds(100));
  in.pipe_value("5");
  std::vector<std::int64_t> timestamps;
  for (const auto& record : out.read_records_to_list()) timestamps.push_back(*record.timestamp);
  EXPECT_THAT(timestamps, ElementsAre(1000, 1010, 5, 1020, 1130));
}

TEST(TopologyTestDriver, InputTopicWithoutAutoAdvanceKeepsItsStartTime) {
  TopologyTestDriver driver(pass_through());
  auto in = driver.create_input_topic<Str, Str>("in", std::nullopt, std::nullopt, 77);
  auto out = driver.create_output_topic<Str, Str>("out");
  in.pipe_input("a", "1");
  in.pipe_input("b", "2");
  std::vector<std::int64_t> timestamps;
  for (const auto& record : out.read_records_to_list()) timestamps.push_back(*record.timestamp);
  EXPECT_THAT(timestamps, ElementsAre(77, 77));
}

TEST(TopologyTestDriver, PipeKeyValueList) {
  TopologyTestDriver driver(pass_through());
  auto in = driver.create_input_topic<Str, Str>("in");
  auto out = driver.create_output_topic<Str, Str>("out");
  in.pipe_key_value_list({{"a", "1"}, {"b", "2"}});
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KV{"a", "1"}, KV{"b", "2"}));
}

TEST(TopologyTestDriver, PipeValueListSendsNullKeys) {
  StreamsBuilder builder;
  builder.stream<OptStr, Str>("in").to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<OptStr, Str>("in");
  auto out = driver.create_output_topic<OptStr, Str>("out");
  in.pipe_value_list({"x", "y"});
  const auto records = out.read_records_to_list();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_FALSE(records[0].key.has_value());
  EXPECT_EQ(records[0].value, Str("x"));
  EXPECT_FALSE(records[1].key.has_value());
  EXPECT_EQ(records[1].value, Str("y"));
}

TEST(TopologyTestDriver, PipeRecordListKeepsTimestampsAndHeaders) {
  TopologyTestDriver driver(pass_through());
  auto in = driver.create_input_topic<Str, Str>("in");
  auto out = driver.create_output_topic<Str, Str>("out");
  Headers headers;
  headers.add("h", "1");
  const std::vector<TestRecord<Str, Str>> records = {
      TestRecord<Str, Str>("a", "1", 10, headers),
      TestRecord<Str, Str>("b", "2", 20),
  };
  in.pipe_record_list(records);
  EXPECT_EQ(out.read_records_to_list(), records);
}

TEST(TopologyTestDriver, ReadingAnEmptyTopicThrows) {
  TopologyTestDriver driver(pass_through());
  auto out = driver.create_output_topic<Str, Str>("out");
  EXPECT_TRUE(out.is_empty());
  EXPECT_EQ(test::message_of<StreamsException>([&] { out.read_record(); }), "Empty topic: out");
  EXPECT_EQ(test::message_of<StreamsException>([&] { out.read_value(); }), "Empty topic: out");
  EXPECT_EQ(test::message_of<StreamsException>([&] { out.read_key_value(); }), "Empty topic: out");
}

TEST(TopologyTestDriver, ReadingPastTheLastRecordThrows) {
  TopologyTestDriver driver(pass_through());
  auto in = driver.create_input_topic<Str, Str>("in");
  auto out = driver.create_output_topic<Str, Str>("out");
  in.pipe_input("a", "1");
  EXPECT_EQ(out.queue_size(), 1u);
  EXPECT_EQ(out.read_value(), "1");
  EXPECT_THROW(out.read_value(), StreamsException);
}

TEST(TopologyTestDriver, ReadingAnUnknownTopicIsEmpty) {
  TopologyTestDriver driver(pass_through());
  auto nowhere = driver.create_output_topic<Str, Str>("nowhere");
  EXPECT_TRUE(nowhere.read_records_to_list().empty());
  EXPECT_EQ(test::message_of<StreamsException>([&] { nowhere.read_value(); }),
            "Empty topic: nowhere");
}

TEST(TopologyTestDriver, PipingToAnUnknownTopicThrowsNamingIt) {
  TopologyTestDriver driver(pass_through());
  const std::string message = test::message_of<StreamsException>(
      [&] { driver.create_input_topic<Str, Str>("no-such-topic"); });
  EXPECT_THAT(message, HasSubstr("Unknown topic: no-such-topic"));
  EXPECT_THAT(message, HasSubstr("[in]"));
  const std::string raw_message = test::message_of<StreamsException>(
      [&] { driver.pipe_raw("no-such-topic", std::nullopt, std::nullopt, 0, {}); });
  EXPECT_THAT(raw_message, HasSubstr("no-such-topic"));
}

TEST(TopologyTestDriver, ProducedTopicNamesListsEveryTopicWritten) {
  StreamsBuilder builder;
  auto stream = builder.stream<Str, Str>("in");
  stream.filter([](const Str& k, const Str&) { return k == "a"; }).to("only-a");
  stream.to("all");
  stream.to("never", Produced<Str, Str>::as("never-sink"));
  TopologyTestDriver driver(builder.build());
  EXPECT_THAT(driver.produced_topic_names(), IsEmpty());
  auto in = driver.create_input_topic<Str, Str>("in");
  in.pipe_input("b", "1");
  EXPECT_EQ(driver.produced_topic_names(), (std::set<Str>{"all", "never"}));
  in.pipe_input("a", "2");
  EXPECT_EQ(driver.produced_topic_names(), (std::set<Str>{"all", "never", "only-a"}));
  // Reading the records does not forget that the topics were written.
  driver.create_output_topic<Str, Str>("all").read_records_to_list();
  EXPECT_EQ(driver.produced_topic_names().count("all"), 1u);
}

TEST(TopologyTestDriver, SerdesRunAtTheTopicBoundaries) {
  auto input_side = std::make_shared<test::SerdeCalls>();   // the input topic's serdes
  auto source_side = std::make_shared<test::SerdeCalls>();  // Consumed
  auto sink_side = std::make_shared<test::SerdeCalls>();    // Produced
  auto output_side = std::make_shared<test::SerdeCalls>();  // the output topic's serdes
  StreamsBuilder builder;
  builder
      .stream<Str, Str>("in", Consumed<Str, Str>::with(test::CountingStringSerde(source_side),
                                                       test::CountingStringSerde(source_side)))
      .map_values([](const Str& v) { return v + "!"; })
      .to("out", Produced<Str, Str>::with(test::CountingStringSerde(sink_side),
                                          test::CountingStringSerde(sink_side)));
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<Str, Str>("in", test::CountingStringSerde(input_side),
                                                test::CountingStringSerde(input_side));
  auto out = driver.create_output_topic<Str, Str>("out", test::CountingStringSerde(output_side),
                                                  test::CountingStringSerde(output_side));
  in.pipe_input("a", "1");
  in.pipe_input("b", "2");
  EXPECT_EQ(input_side->serialize.load(), 4);
  EXPECT_EQ(input_side->deserialize.load(), 0);
  EXPECT_EQ(source_side->deserialize.load(), 4);
  EXPECT_EQ(source_side->serialize.load(), 0);
  EXPECT_EQ(sink_side->serialize.load(), 4);
  EXPECT_EQ(sink_side->deserialize.load(), 0);
  EXPECT_EQ(output_side->deserialize.load(), 0);  // nothing read yet
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KV{"a", "1!"}, KV{"b", "2!"}));
  EXPECT_EQ(output_side->deserialize.load(), 4);
  EXPECT_EQ(output_side->serialize.load(), 0);
}

TEST(TopologyTestDriver, RecordsCrossTopicsAsBytes) {
  // The output topic may read with any serde: it sees the bytes the sink wrote.
  StreamsBuilder builder;
  builder.stream<Str, std::int64_t>("in").to("out");
  TopologyTestDriver driver(builder.build());
  driver.create_input_topic<Str, std::int64_t>("in").pipe_input("k", 258);
  auto out = driver.create_output_topic<Bytes, Bytes>("out");
  const auto record = out.read_record();
  EXPECT_EQ(record.value, (Bytes{0, 0, 0, 0, 0, 0, 1, 2}));
}

TEST(TopologyTestDriver, RecordsWrittenToATopicTheTopologyReadsAreProcessedAtOnce) {
  StreamsBuilder builder;
  builder.stream<Str, Str>("first").map_values([](const Str& v) { return v + "1"; }).to("middle");
  builder.stream<Str, Str>("middle").map_values([](const Str& v) { return v + "2"; }).to("last");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<Str, Str>("first");
  auto middle = driver.create_output_topic<Str, Str>("middle");
  auto last = driver.create_output_topic<Str, Str>("last");
  in.pipe_input("k", "v");
  EXPECT_THAT(last.read_values_to_list(), ElementsAre("v12"));
  EXPECT_THAT(middle.read_values_to_list(), ElementsAre("v1"));
}

TEST(TopologyTestDriver, MetricsCountProcessedRecords) {
  TopologyTestDriver driver(pass_through());
  auto in = driver.create_input_topic<Str, Str>("in");
  EXPECT_EQ(driver.metrics().records_processed, 0u);
  in.pipe_value_list({"a", "b", "c"});
  EXPECT_EQ(driver.metrics().records_processed, 3u);
}

TEST(TopologyTestDriver, MetricsAreSummedOverTasks) {
  StreamsBuilder builder;
  builder.stream<Str, Str>("in").repartition().to("out");
  TopologyTestDriver driver(builder.build());
  driver.create_input_topic<Str, Str>("in").pipe_input("k", "v");
  EXPECT_EQ(driver.metrics().records_processed, 2u);  // once per sub-topology
}

TEST(TopologyTestDriver, ApplicationIdAndInternalTopicNames) {
  StreamsBuilder builder;
  builder.stream<Str, Str>("in").repartition(Repartitioned<Str, Str>::as("rekey")).to("out");
  Topology topology = builder.build();
  TopologyTestDriver defaulted(topology);
  EXPECT_EQ(defaulted.application_id(), "topology-test-driver");
  EXPECT_EQ(defaulted.internal_topic_name("rekey-repartition"),
            "topology-test-driver-rekey-repartition");
  TopologyTestDriver configured(topology, StreamsConfig{{"application.id", "orders"}});
  EXPECT_EQ(configured.application_id(), "orders");
  EXPECT_EQ(configured.internal_topic_name("rekey-repartition"), "orders-rekey-repartition");
  EXPECT_THAT(test::message_of<StreamsException>([&] { configured.internal_topic_name("out"); }),
              HasSubstr("'out'"));
}

TEST(TopologyTestDriver, InitialWallClockTime) {
  TopologyTestDriver driver(pass_through(), {}, 12345);
  EXPECT_EQ(driver.wall_clock_time_ms(), 12345);
  driver.advance_wall_clock_time(milliseconds(5));
  EXPECT_EQ(driver.wall_clock_time_ms(), 12350);
}

TEST(TopologyTestDriver, TwoDriversInOneProcessDoNotInterfere) {
  std::vector<Str> seen_first;
  std::vector<Str> seen_second;
  auto topology_seeing = [](std::vector<Str>& seen) {
    StreamsBuilder builder;
    builder.stream<Str, Str>("in")
        .process(test::fn_supplier<Str, Str, Str, Str>([&seen](ProcessorContext<Str, Str>& context,
                                                               Record<Str, Str> record) {
          seen.push_back(record.value() + "@" + std::to_string(context.record_metadata()->offset) +
                         "/" + std::to_string(context.current_stream_time_ms()));
          context.forward(std::move(record));
        }))
        .to("out");
    return builder.build();
  };
  TopologyTestDriver first(topology_seeing(seen_first), StreamsConfig{{"application.id", "one"}},
                           100);
  TopologyTestDriver second(topology_seeing(seen_second), StreamsConfig{{"application.id", "two"}},
                            900);
  auto in_first = first.create_input_topic<Str, Str>("in");
  auto in_second = second.create_input_topic<Str, Str>("in");
  auto out_first = first.create_output_topic<Str, Str>("out");
  auto out_second = second.create_output_topic<Str, Str>("out");
  in_first.pipe_input("k", "a", 50);
  in_first.pipe_input("k", "b", 60);
  in_second.pipe_input("k", "c", 5);
  first.advance_wall_clock_time(milliseconds(10));
  EXPECT_THAT(seen_first, ElementsAre("a@0/50", "b@1/60"));
  EXPECT_THAT(seen_second, ElementsAre("c@0/5"));  // own offsets and stream time
  EXPECT_THAT(out_first.read_values_to_list(), ElementsAre("a", "b"));
  EXPECT_THAT(out_second.read_values_to_list(), ElementsAre("c"));
  EXPECT_EQ(first.metrics().records_processed, 2u);
  EXPECT_EQ(second.metrics().records_processed, 1u);
  EXPECT_EQ(first.wall_clock_time_ms(), 110);
  EXPECT_EQ(second.wall_clock_time_ms(), 900);
  EXPECT_EQ(first.application_id(), "one");
  EXPECT_EQ(second.application_id(), "two");
}

TEST(TopologyTestDriver, OneTopologyCanBackSeveralDriversInTurn) {
  Topology topology = pass_through();
  for (int round = 0; round < 2; ++round) {
    TopologyTestDriver driver(topology);
    driver.create_input_topic<Str, Str>("in").pipe_input("k", "v" + std::to_string(round));
    auto out = driver.create_output_topic<Str, Str>("out");
    EXPECT_THAT(out.read_values_to_list(), ElementsAre("v" + std::to_string(round)));
  }
}

TEST(TopologyTestDriver, FailingHandlerLeavesEarlierOutputReadable) {
  StreamsBuilder builder;
  builder.stream<Str, std::int64_t>("in").to("out");
  TopologyTestDriver driver(builder.build());
  driver.create_input_topic<Str, std::int64_t>("in").pipe_input("a", 1);
  auto bad = driver.create_input_topic<Str, Str>("in");
  EXPECT_THROW(bad.pipe_input("b", "xyz"), ProcessingFailedException);
  auto out = driver.create_output_topic<Str, std::int64_t>("out");
  EXPECT_EQ(out.read_value(), 1);
}

}  // namespace
}  // namespace rivulet::testing
