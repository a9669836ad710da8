// KTable::suppress through the TopologyTestDriver: final results of windows (until_window_closes),
// rate limiting per key (until_time_limit), buffer limits, and the buffer's store.
#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>
#include <rivulet/testing/topology_test_driver.h>

#include "rivulet_test_helpers.h"
#include "windowed_output.h"

namespace rivulet {

namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::TestRecord;
using testing::TopologyTestDriver;
using WKey = Windowed<std::string>;
using WRec = TestRecord<WKey, std::int64_t>;
using Rec = TestRecord<std::string, std::int64_t>;

WKey wk(std::string key, std::int64_t start, std::int64_t end) {
  return WKey{std::move(key), Window{start, end}};
}

// The "Window Final Results" example of the Kafka Streams developer guide, in milliseconds:
// nothing for a window until stream time reaches its end plus grace, then its count once.
TEST(DslSuppressUntilWindowCloses, EmitsTheFinalCountOfEachWindowOnce) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .windowed_by(TimeWindows::of_size_and_grace(10ms, 5ms))
      .count()
      .suppress(Suppressed::until_window_closes(BufferConfig::unbounded()))
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = test::WindowedOutput<std::string, std::int64_t>(
      driver, "out", serdes::time_windowed<std::string>(10ms));
  in.pipe_input("a", "x", 1);
  in.pipe_input("a", "x", 3);
  in.pipe_input("b", "x", 4);
  in.pipe_input("a", "x", 14);
  EXPECT_THAT(out.read_records_to_list(), IsEmpty());
  in.pipe_input("a", "x", 15);  // stream time 15 = end 10 + grace 5: [0,10) is final
  EXPECT_THAT(out.read_records_to_list(),
              ElementsAre(WRec(wk("a", 0, 10), 2, 3), WRec(wk("b", 0, 10), 1, 4)));
  in.pipe_input("a", "x", 24);  // [20,30); [10,20) closes at 25
  EXPECT_THAT(out.read_records_to_list(), IsEmpty());
  in.pipe_input("b", "x", 25);
  EXPECT_THAT(out.read_records_to_list(), ElementsAre(WRec(wk("a", 10, 20), 2, 15)));
}

TEST(DslSuppressUntilWindowCloses, NeverEmitsSessionsThatWereMergedAway) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(5ms))
      .count(Materialized<std::string, std::int64_t>::as("sessions").with_caching_disabled())
      .suppress(Suppressed::until_window_closes(BufferConfig::unbounded()))
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = test::WindowedOutput<std::string, std::int64_t>(
      driver, "out", serdes::session_windowed<std::string>());
  in.pipe_input("a", "x", 0);
  in.pipe_input("a", "x", 3);  // merges [0,0] into [0,3]
  EXPECT_THAT(out.read_records_to_list(), IsEmpty());
  in.pipe_input("b", "x", 20);  // [0,3] closes at 3 + 5
  EXPECT_THAT(out.read_records_to_list(), ElementsAre(WRec(wk("a", 0, 3), 2, 3)));
}

TEST(DslSuppressUntilWindowCloses, NeedsAWindowedAggregation) {
  StreamsBuilder builder;
  KTable<std::string, std::int64_t> counts =
      builder.stream<std::string, std::string>("in").group_by_key().count();
  EXPECT_THAT(test::message_of<TopologyException>([&] {
                counts.suppress(Suppressed::until_window_closes(BufferConfig::unbounded()));
              }),
              HasSubstr("windowed"));
}

TEST(DslSuppressUntilWindowCloses, RejectsABufferThatEmitsEarly) {
  EXPECT_THAT(test::message_of<TopologyException>(
                  [] { Suppressed::until_window_closes(BufferConfig::with_max_records(10)); }),
              HasSubstr("never emits early"));
}

TEST(DslSuppressUntilWindowCloses, WorksThroughFilterAndMapValues) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .windowed_by(TimeWindows::of_size_with_no_grace(10ms))
      .count()
      .map_values([](std::int64_t count) { return count * 100; })
      .suppress(Suppressed::until_window_closes(BufferConfig::unbounded()))
      .filter([](const WKey&, std::int64_t value) { return value > 100; })
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = test::WindowedOutput<std::string, std::int64_t>(
      driver, "out", serdes::time_windowed<std::string>(10ms));
  in.pipe_input("a", "x", 1);
  in.pipe_input("a", "x", 2);
  in.pipe_input("b", "x", 3);
  in.pipe_input("c", "x", 10);
  // b's single count is filtered out downstream of the suppression: a deletion for its key.
  EXPECT_THAT(out.read_records_to_list(),
              ElementsAre(WRec(wk("a", 0, 10), 200, 2), WRec(wk("b", 0, 10), std::nullopt, 3)));
}

TEST(DslSuppressUntilTimeLimit, EmitsTheLatestValuePerKeyAfterTheLimit) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .count()
      .suppress(Suppressed::until_time_limit(10ms, BufferConfig::unbounded()))
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::int64_t>("out");
  in.pipe_input("a", "x", 0);
  in.pipe_input("a", "x", 5);
  in.pipe_input("b", "x", 6);
  EXPECT_THAT(out.read_records_to_list(), IsEmpty());
  in.pipe_input("a", "x", 10);  // a was first buffered at 0: its latest value goes now
  EXPECT_THAT(out.read_records_to_list(), ElementsAre(Rec("a", 3, 10)));
  in.pipe_input("c", "x", 16);
  EXPECT_THAT(out.read_records_to_list(), ElementsAre(Rec("b", 1, 6)));
}

TEST(DslSuppressBuffer, EmitsEarlyWhenFull) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .count()
      .suppress(Suppressed::until_time_limit(1h, BufferConfig::with_max_records(1)))
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::int64_t>("out");
  in.pipe_input("a", "x", 0);
  in.pipe_input("a", "x", 1);
  EXPECT_THAT(out.read_records_to_list(), IsEmpty());
  in.pipe_input("b", "x", 2);
  EXPECT_THAT(out.read_records_to_list(), ElementsAre(Rec("a", 2, 1)));
}

TEST(DslSuppressBuffer, ShutsDownWhenFullIfConfiguredTo) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .count()
      .suppress(
          Suppressed::until_time_limit(1h, BufferConfig::with_max_records(1).shut_down_when_full()))
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  in.pipe_input("a", "x", 0);
  EXPECT_THAT(test::message_of<ProcessingFailedException>([&] { in.pipe_input("b", "x", 1); }),
              HasSubstr("exceeded its capacity"));
}

TEST(DslSuppressBuffer, KeepsTheBufferInAStoreWithAChangelog) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .count()
      .suppress(Suppressed::until_time_limit(1h, BufferConfig::unbounded()))
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  EXPECT_THAT(topology.describe().to_string(),
              HasSubstr("Processor: KTABLE-SUPPRESS-0000000003 (stores: "
                        "[KTABLE-SUPPRESS-STATE-STORE-0000000004])"));
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  in.pipe_input("a", "x", 0);
  EXPECT_TRUE(driver.produced_topic_names().count(
      "topology-test-driver-KTABLE-SUPPRESS-STATE-STORE-0000000004-changelog"));
}

TEST(DslSuppressBuffer, NamedSuppressionNamesItsStore) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in").group_by_key().count().suppress(
      Suppressed::until_time_limit(1h, BufferConfig::unbounded()).with_name("limit"));
  EXPECT_THAT(builder.build().describe().to_string(),
              HasSubstr("Processor: limit (stores: [limit-store])"));
}

}  // namespace
}  // namespace rivulet
