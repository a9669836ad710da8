// Stream time per task, per-source timestamp extractors, and the default.timestamp.extractor
// policies for records whose Kafka timestamp is negative.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <rivulet/rivulet.h>
#include <rivulet/testing/topology_test_driver.h>

#include "rivulet_test_helpers.h"

namespace telemetry {
struct Reading {
  std::string vehicle;
  std::int64_t event_time = 0;
  double speed = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Reading, vehicle, event_time, speed)
}  // namespace telemetry

namespace rivulet {
namespace {

using telemetry::Reading;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TestRecord;
using testing::TopologyTestDriver;
using Str = std::string;

// "in" -> a processor recording (record timestamp, stream time) -> "out".
struct TimeProbe {
  std::vector<std::int64_t> record_times;
  std::vector<std::int64_t> stream_times;

  Topology topology(std::vector<std::string> topics = {"in"}) {
    Topology topology;
    topology.add_source<Str, Str>("src", std::move(topics))
        .add_processor("probe",
                       test::fn_supplier<Str, Str, Str, Str>(
                           [this](ProcessorContext<Str, Str>& context, Record<Str, Str> record) {
                             record_times.push_back(record.timestamp());
                             stream_times.push_back(context.current_stream_time_ms());
                             context.forward(std::move(record));
                           }),
                       {"src"})
        .add_sink<Str, Str>("sink", "out", {"probe"});
    return topology;
  }
};

TEST(StreamTime, IsTheLargestTimestampSeenAndNeverMovesBack) {
  TimeProbe probe;
  TopologyTestDriver driver(probe.topology());
  auto in = driver.create_input_topic<Str, Str>("in");
  for (std::int64_t t : {100, 250, 180, 250, 300, 10}) in.pipe_input("k", "v", t);
  EXPECT_THAT(probe.record_times, ElementsAre(100, 250, 180, 250, 300, 10));
  EXPECT_THAT(probe.stream_times, ElementsAre(100, 250, 250, 250, 300, 300));
}

TEST(StreamTime, IsSharedByAllTopicsOfOneTask) {
  TimeProbe probe;
  TopologyTestDriver driver(probe.topology({"a", "b"}));
  auto a = driver.create_input_topic<Str, Str>("a");
  auto b = driver.create_input_topic<Str, Str>("b");
  a.pipe_input("k", "v", 500);
  b.pipe_input("k", "v", 20);
  EXPECT_THAT(probe.stream_times, ElementsAre(500, 500));
}

TEST(StreamTime, IsKeptPerTask) {
  std::vector<std::string> seen;
  auto probe = [&seen](const std::string& name) {
    return test::fn_supplier<Str, Str>(
        [&seen, name](ProcessorContext<Void, Void>& context, Record<Str, Str>) {
          seen.push_back(name + "@" + std::to_string(context.current_stream_time_ms()));
        });
  };
  Topology topology;
  topology.add_source<Str, Str>("a-src", {"a"})
      .add_processor("a-probe", probe("a"), {"a-src"})
      .add_source<Str, Str>("b-src", {"b"})
      .add_processor("b-probe", probe("b"), {"b-src"});
  TopologyTestDriver driver(topology);
  driver.create_input_topic<Str, Str>("a").pipe_input("k", "v", 1000);
  driver.create_input_topic<Str, Str>("b").pipe_input("k", "v", 7);
  EXPECT_THAT(seen, ElementsAre("a@1000", "b@7"));
}

TEST(TimestampExtractor, PerSourceExtractorSetsTheTimestampDownstreamAndOnOutput) {
  std::vector<std::int64_t> seen;
  StreamsBuilder builder;
  builder
      .stream<Str, Reading>("readings", Consumed<Str, Reading>().with_timestamp_extractor(
                                            [](const Record<Str, Reading>& record, std::int64_t) {
                                              return record.value().event_time;
                                            }))
      .peek([](const Str&, const Reading&) {})
      .process(test::fn_supplier<Str, Reading, Str, Reading>(
          [&seen](ProcessorContext<Str, Reading>& context, Record<Str, Reading> record) {
            seen.push_back(record.timestamp());
            context.forward(std::move(record));
          }))
      .to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<Str, Reading>("readings");
  auto out = driver.create_output_topic<Str, Reading>("out");
  in.pipe_input("v1", Reading{"v1", 1'700'000'000'000, 42.0}, 5);
  EXPECT_THAT(seen, ElementsAre(1'700'000'000'000));
  EXPECT_EQ(out.read_record().timestamp, 1'700'000'000'000);
}

TEST(TimestampExtractor, ReceivesThePartitionTime) {
  std::vector<std::int64_t> partition_times;
  StreamsBuilder builder;
  builder.stream<Str, Str>("in",
                           Consumed<Str, Str>().with_timestamp_extractor(
                               [&](const Record<Str, Str>& record, std::int64_t partition_time) {
                                 partition_times.push_back(partition_time);
                                 return record.timestamp();
                               }));
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<Str, Str>("in");
  for (std::int64_t t : {50, 20, 80}) in.pipe_input("k", "v", t);
  EXPECT_THAT(partition_times, ElementsAre(-1, 50, 50));
}

TEST(TimestampExtractor, NegativeExtractedTimestampDropsTheRecordAndCountsIt) {
  StreamsBuilder builder;
  builder
      .stream<Str, Reading>("readings", Consumed<Str, Reading>().with_timestamp_extractor(
                                            [](const Record<Str, Reading>& record, std::int64_t) {
                                              return record.value().event_time;
                                            }))
      .to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<Str, Reading>("readings");
  auto out = driver.create_output_topic<Str, Reading>("out");
  in.pipe_input("bad", Reading{"bad", -1, 0}, 10);
  in.pipe_input("good", Reading{"good", 20, 0}, 10);
  const auto records = out.read_records_to_list();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].key, "good");
  EXPECT_EQ(records[0].timestamp, 20);
  EXPECT_EQ(driver.metrics().invalid_timestamps, 1u);
  EXPECT_EQ(driver.metrics().records_processed, 1u);
}

TEST(TimestampExtractor, ExtractorOverridesTheDefaultPolicy) {
  // With a per-source extractor, the record's own negative timestamp does not matter.
  StreamsBuilder builder;
  builder
      .stream<Str, Str>("in", Consumed<Str, Str>().with_timestamp_extractor(
                                  [](const Record<Str, Str>&, std::int64_t) { return 99; }))
      .to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<Str, Str>("in");
  auto out = driver.create_output_topic<Str, Str>("out");
  in.pipe_input("k", "v", -5);
  EXPECT_EQ(out.read_record().timestamp, 99);
}

Topology pass_through() {
  StreamsBuilder builder;
  builder.stream<Str, Str>("in").to("out");
  return builder.build();
}

TEST(DefaultTimestampExtractor, RecordPolicyIsTheDefaultAndFailsOnANegativeTimestamp) {
  TopologyTestDriver driver(pass_through());
  auto in = driver.create_input_topic<Str, Str>("in");
  auto out = driver.create_output_topic<Str, Str>("out");
  in.pipe_input("k", "v", 7);
  EXPECT_EQ(out.read_record().timestamp, 7);
  const std::string message =
      test::message_of<ProcessingFailedException>([&] { in.pipe_input("k", "v", -1); });
  EXPECT_THAT(message, HasSubstr("in-0 offset 1"));
  EXPECT_THAT(message, HasSubstr("-1"));
  EXPECT_TRUE(out.is_empty());
}

TEST(DefaultTimestampExtractor, RecordPolicyAcceptsTimestampZero) {
  TopologyTestDriver driver(pass_through(),
                            StreamsConfig{{"default.timestamp.extractor", "record"}});
  auto in = driver.create_input_topic<Str, Str>("in");
  auto out = driver.create_output_topic<Str, Str>("out");
  in.pipe_input("k", "v", 0);
  EXPECT_EQ(out.read_record().timestamp, 0);
}

TEST(DefaultTimestampExtractor, LogAndSkipDropsAndCountsNegativeTimestamps) {
  TopologyTestDriver driver(pass_through(), StreamsConfig{{"default.timestamp.extractor",
                                                           "log_and_skip_on_invalid_timestamp"}});
  auto in = driver.create_input_topic<Str, Str>("in");
  auto out = driver.create_output_topic<Str, Str>("out");
  in.pipe_input("a", "1", -3);
  in.pipe_input("b", "2", 4);
  const auto records = out.read_records_to_list();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].key, "b");
  EXPECT_EQ(records[0].timestamp, 4);
  EXPECT_EQ(driver.metrics().invalid_timestamps, 1u);
}

TEST(DefaultTimestampExtractor, UsePreviousUsesThePartitionTime) {
  TopologyTestDriver driver(pass_through(), StreamsConfig{{"default.timestamp.extractor",
                                                           "use_previous_on_invalid_timestamp"}});
  auto in = driver.create_input_topic<Str, Str>("in");
  auto out = driver.create_output_topic<Str, Str>("out");
  in.pipe_input("a", "1", 100);
  in.pipe_input("b", "2", 60);  // valid, older: kept as is; partition time stays 100
  in.pipe_input("c", "3", -1);  // invalid: gets the partition time
  const auto records = out.read_records_to_list();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1].timestamp, 60);
  EXPECT_EQ(records[2].timestamp, 100);
  EXPECT_EQ(driver.metrics().invalid_timestamps, 0u);
}

TEST(DefaultTimestampExtractor, UsePreviousFailsWithoutAnEarlierRecord) {
  TopologyTestDriver driver(pass_through(), StreamsConfig{{"default.timestamp.extractor",
                                                           "use_previous_on_invalid_timestamp"}});
  auto in = driver.create_input_topic<Str, Str>("in");
  const std::string message =
      test::message_of<ProcessingFailedException>([&] { in.pipe_input("a", "1", -1); });
  EXPECT_THAT(message, HasSubstr("in-0 offset 0"));
}

TEST(DefaultTimestampExtractor, WallClockUsesTheDriversWallClock) {
  TopologyTestDriver driver(
      pass_through(), StreamsConfig{{"default.timestamp.extractor", "wall_clock"}}, 1'000'000);
  auto in = driver.create_input_topic<Str, Str>("in");
  auto out = driver.create_output_topic<Str, Str>("out");
  in.pipe_input("a", "1", 5);
  driver.advance_wall_clock_time(std::chrono::milliseconds(30));
  in.pipe_input("b", "2", -1);
  const auto records = out.read_records_to_list();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].timestamp, 1'000'000);
  EXPECT_EQ(records[1].timestamp, 1'000'030);
}

}  // namespace
}  // namespace rivulet
