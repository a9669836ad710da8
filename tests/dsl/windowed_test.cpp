// Windowed aggregations through the TopologyTestDriver: tumbling, hopping, sliding and session
// windows, their boundaries, grace and late records, emit-on-window-close, the windowed key
// layout on output topics, and the arguments the window factories accept.
#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>
#include <rivulet/state/value_and_timestamp.h>
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
using ::testing::UnorderedElementsAre;
using WKey = Windowed<std::string>;
using WRec = TestRecord<WKey, std::int64_t>;

WKey wk(std::string key, std::int64_t start, std::int64_t end) {
  return WKey{std::move(key), Window{start, end}};
}

// A count per window of `windows`, written to "out".
template <class Windows>
Topology windowed_count(const Windows& windows) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .windowed_by(windows)
      .count(Materialized<std::string, std::int64_t>::as("counts"))
      .to_stream()
      .to("out");
  return builder.build();
}

TEST(DslTumblingWindows, CountsPerWindowAlignedToTheEpoch) {
  const Topology topology = windowed_count(TimeWindows::of_size_with_no_grace(10ms));
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = test::WindowedOutput<std::string, std::int64_t>(
      driver, "out", serdes::time_windowed<std::string>(10ms));
  in.pipe_input("a", "x", 0);
  in.pipe_input("a", "x", 9);
  in.pipe_input("a", "x", 10);  // the end is exclusive: the next window
  in.pipe_input("b", "x", 15);
  EXPECT_THAT(out.read_records_to_list(),
              ElementsAre(WRec(wk("a", 0, 10), 1, 0), WRec(wk("a", 0, 10), 2, 9),
                          WRec(wk("a", 10, 20), 1, 10), WRec(wk("b", 10, 20), 1, 15)));
}

TEST(DslHoppingWindows, ARecordFallsIntoEveryOverlappingWindow) {
  const Topology topology =
      windowed_count(TimeWindows::of_size_with_no_grace(10ms).advance_by(5ms));
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = test::WindowedOutput<std::string, std::int64_t>(
      driver, "out", serdes::time_windowed<std::string>(10ms));
  in.pipe_input("a", "x", 7);
  in.pipe_input("a", "x", 12);
  EXPECT_THAT(out.read_records_to_list(),
              ElementsAre(WRec(wk("a", 0, 10), 1, 7), WRec(wk("a", 5, 15), 1, 7),
                          WRec(wk("a", 5, 15), 2, 12), WRec(wk("a", 10, 20), 1, 12)));
}

TEST(DslHoppingWindows, AssignsWindowsAsKafkaStreamsDoes) {
  const TimeWindows windows = TimeWindows::of_size_with_no_grace(5000ms).advance_by(3000ms);
  EXPECT_THAT(windows.windows_for(4000), ElementsAre(Window{0, 5000}, Window{3000, 8000}));
  EXPECT_THAT(windows.windows_for(1000), ElementsAre(Window{0, 5000}));
  EXPECT_THAT(windows.windows_for(6000), ElementsAre(Window{3000, 8000}, Window{6000, 11000}));
}

TEST(DslTimeWindowsGrace, AcceptsOutOfOrderRecordsUntilEndPlusGrace) {
  const Topology topology = windowed_count(TimeWindows::of_size_and_grace(10ms, 5ms));
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = test::WindowedOutput<std::string, std::int64_t>(
      driver, "out", serdes::time_windowed<std::string>(10ms));
  in.pipe_input("a", "x", 0);
  in.pipe_input("a", "x", 14);  // stream time 14: [0,10) closes at 15
  in.pipe_input("a", "x", 3);   // still accepted
  in.pipe_input("a", "x", 15);  // [0,10) is now closed
  in.pipe_input("a", "x", 4);   // late: dropped
  EXPECT_THAT(out.read_records_to_list(),
              ElementsAre(WRec(wk("a", 0, 10), 1, 0), WRec(wk("a", 10, 20), 1, 14),
                          WRec(wk("a", 0, 10), 2, 3), WRec(wk("a", 10, 20), 2, 15)));
  EXPECT_EQ(driver.metrics().late_records_dropped, 1U);
}

TEST(DslTimeWindowsGrace, WithoutGraceAWindowClosesAtItsEnd) {
  const Topology topology = windowed_count(TimeWindows::of_size_with_no_grace(10ms));
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = test::WindowedOutput<std::string, std::int64_t>(
      driver, "out", serdes::time_windowed<std::string>(10ms));
  in.pipe_input("a", "x", 10);
  in.pipe_input("a", "x", 9);
  EXPECT_THAT(out.read_records_to_list(), ElementsAre(WRec(wk("a", 10, 20), 1, 10)));
  EXPECT_EQ(driver.metrics().late_records_dropped, 1U);
}

TEST(DslTimeWindows, DropsAndCountsRecordsWithANullKey) {
  StreamsBuilder builder;
  builder.stream<std::optional<std::string>, std::string>("in")
      .group_by_key()
      .windowed_by(TimeWindows::of_size_with_no_grace(10ms))
      .count();
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::optional<std::string>, std::string>("in");
  in.pipe_value("x");
  EXPECT_EQ(driver.metrics().dropped_records, 1U);
}

TEST(DslTimeWindows, WindowStoreIsQueryableWithRetentionOfSizePlusGrace) {
  const Topology topology = windowed_count(TimeWindows::of_size_and_grace(10ms, 5ms));
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  in.pipe_input("a", "x", 3);
  in.pipe_input("a", "x", 8);
  auto* store = driver.get_window_store<std::string, ValueAndTimestamp<std::int64_t>>("counts");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->fetch("a", 0), (ValueAndTimestamp<std::int64_t>{2, 8}));
  EXPECT_EQ(store->window_size(), 10);
  EXPECT_EQ(store->retention_period(), 15);
}

TEST(DslTimeWindows, MaterializedRetentionExtendsTheStoresRetention) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .windowed_by(TimeWindows::of_size_with_no_grace(10ms))
      .count(Materialized<std::string, std::int64_t>::as("counts").with_retention(1h));
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto* store = driver.get_window_store<std::string, ValueAndTimestamp<std::int64_t>>("counts");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->retention_period(), 3600000);
}

TEST(DslTimeWindows, ReduceAndAggregatePerWindow) {
  StreamsBuilder builder;
  auto windowed = builder.stream<std::string, std::string>("in").group_by_key().windowed_by(
      TimeWindows::of_size_with_no_grace(10ms));
  windowed.reduce([](const std::string& a, const std::string& b) { return a + b; })
      .to_stream()
      .to("reduced");
  windowed
      .aggregate([] { return std::string("<"); },
                 [](const std::string&, const std::string& value, const std::string& aggregate) {
                   return aggregate + value;
                 })
      .to_stream()
      .to("aggregated");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto reduced = test::WindowedOutput<std::string, std::string>(
      driver, "reduced", serdes::time_windowed<std::string>(10ms));
  auto aggregated = test::WindowedOutput<std::string, std::string>(
      driver, "aggregated", serdes::time_windowed<std::string>(10ms));
  in.pipe_input("a", "x", 1);
  in.pipe_input("a", "y", 2);
  in.pipe_input("a", "z", 11);
  EXPECT_THAT(reduced.read_values_to_list(), ElementsAre("x", "xy", "z"));
  EXPECT_THAT(aggregated.read_values_to_list(), ElementsAre("<x", "<xy", "<z"));
}

TEST(DslWindowedSerdes, TimeWindowedKeysAreKeyBytesThenTheStartBigEndian) {
  const Topology topology = windowed_count(TimeWindows::of_size_with_no_grace(10ms));
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  in.pipe_input("ab", "x", 266);
  auto out = driver.create_output_topic<Bytes, std::int64_t>("out");
  EXPECT_EQ(out.read_key_value().key, (Bytes{'a', 'b', 0, 0, 0, 0, 0, 0, 1, 4}));
}

TEST(DslWindowedSerdes, SessionWindowedKeysAreKeyBytesThenEndThenStart) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(10ms))
      .count()
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  in.pipe_input("k", "x", 258);
  auto out = driver.create_output_topic<Bytes, std::int64_t>("out");
  EXPECT_EQ(out.read_key_value().key, (Bytes{'k', 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 1, 2}));
}

TEST(DslWindowedSerdes, RoundTripsWindowedKeys) {
  const TimeWindowedSerde<std::string> time_serde = serdes::time_windowed<std::string>(10ms);
  Bytes bytes;
  time_serde.serialize("t", wk("a", 20, 30), bytes);
  EXPECT_EQ(time_serde.deserialize("t", bytes), wk("a", 20, 30));
  const SessionWindowedSerde<std::string> session_serde = serdes::session_windowed<std::string>();
  session_serde.serialize("t", wk("a", 5, 9), bytes);
  EXPECT_EQ(session_serde.deserialize("t", bytes), wk("a", 5, 9));
  EXPECT_THROW(session_serde.deserialize("t", Bytes{1, 2, 3}), SerializationException);
}

// ---- Sliding windows (KIP-450) ------------------------------------------------------------

TEST(DslSlidingWindows, CreatesLeftAndRightWindowsOnlyWhereRecordsAre) {
  const Topology topology = windowed_count(SlidingWindows::of_time_difference_with_no_grace(10ms));
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = test::WindowedOutput<std::string, std::int64_t>(
      driver, "out", serdes::time_windowed<std::string>(10ms));
  in.pipe_input("a", "x", 10);
  in.pipe_input("a", "x", 15);
  in.pipe_input("a", "x", 30);
  EXPECT_THAT(out.read_records_to_list(),
              ElementsAre(WRec(wk("a", 0, 10), 1, 10),     // left window of 10
                          WRec(wk("a", 11, 21), 1, 15),    // right window of 10 holds 15
                          WRec(wk("a", 5, 15), 2, 15),     // left window of 15: 10 and 15
                          WRec(wk("a", 20, 30), 1, 30)));  // left window of 30
}

TEST(DslSlidingWindows, AnOutOfOrderRecordUpdatesEveryWindowItFallsInto) {
  const Topology topology =
      windowed_count(SlidingWindows::of_time_difference_and_grace(10ms, 100ms));
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = test::WindowedOutput<std::string, std::int64_t>(
      driver, "out", serdes::time_windowed<std::string>(10ms));
  in.pipe_input("a", "x", 10);
  in.pipe_input("a", "x", 15);
  out.read_records_to_list();
  in.pipe_input("a", "x", 12);
  EXPECT_THAT(out.read_records_to_list(),
              ElementsAre(WRec(wk("a", 5, 15), 3, 15),     // 10, 12, 15
                          WRec(wk("a", 11, 21), 2, 15),    // 12, 15
                          WRec(wk("a", 2, 12), 2, 12),     // left window of 12: 10, 12
                          WRec(wk("a", 13, 23), 1, 15)));  // right window of 12: 15
}

TEST(DslSlidingWindows, RecordsBeforeTheTimeDifferenceShareTheFirstWindow) {
  const Topology topology = windowed_count(SlidingWindows::of_time_difference_with_no_grace(10ms));
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = test::WindowedOutput<std::string, std::int64_t>(
      driver, "out", serdes::time_windowed<std::string>(10ms));
  in.pipe_input("a", "x", 5);
  in.pipe_input("a", "x", 8);
  EXPECT_THAT(out.read_records_to_list(),
              ElementsAre(WRec(wk("a", 0, 10), 1, 5), WRec(wk("a", 6, 16), 1, 8),
                          WRec(wk("a", 0, 10), 2, 8)));
}

TEST(DslSlidingWindows, DropsRecordsWhoseWindowsAllClosed) {
  const Topology topology = windowed_count(SlidingWindows::of_time_difference_and_grace(10ms, 5ms));
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = test::WindowedOutput<std::string, std::int64_t>(
      driver, "out", serdes::time_windowed<std::string>(10ms));
  in.pipe_input("a", "x", 100);
  out.read_records_to_list();
  in.pipe_input("a", "x", 84);  // its right window would end at 95, closed at 95 (100 - 5)
  EXPECT_THAT(out.read_records_to_list(), IsEmpty());
  EXPECT_EQ(driver.metrics().late_records_dropped, 1U);
}

// ---- Session windows ------------------------------------------------------------------------

// The session example of the Kafka Streams developer guide ("Session Windows"), gap 5 minutes:
// three records give three sessions; three more merge both green sessions into one, extend the
// blue one and start a new blue one. Merged-away sessions are forwarded as deletions.
TEST(DslSessionWindows, ReproducesKafkaStreamsSessionExample) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(5min))
      .count(Materialized<std::string, std::int64_t>::as("sessions").with_caching_disabled())
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = test::WindowedOutput<std::string, std::int64_t>(
      driver, "out", serdes::session_windowed<std::string>());
  constexpr std::int64_t kMin = 60 * 1000;
  in.pipe_input("green", "x", 0 * kMin);
  in.pipe_input("blue", "x", 2 * kMin);
  in.pipe_input("green", "x", 6 * kMin);
  EXPECT_THAT(
      out.read_records_to_list(),
      ElementsAre(WRec(wk("green", 0, 0), 1, 0), WRec(wk("blue", 2 * kMin, 2 * kMin), 1, 2 * kMin),
                  WRec(wk("green", 6 * kMin, 6 * kMin), 1, 6 * kMin)));
  in.pipe_input("green", "x", 4 * kMin);
  in.pipe_input("blue", "x", 5 * kMin);
  in.pipe_input("blue", "x", 11 * kMin);
  EXPECT_THAT(out.read_records_to_list(),
              ElementsAre(WRec(wk("green", 0, 0), std::nullopt, 0),
                          WRec(wk("green", 6 * kMin, 6 * kMin), std::nullopt, 6 * kMin),
                          WRec(wk("green", 0, 6 * kMin), 3, 6 * kMin),
                          WRec(wk("blue", 2 * kMin, 2 * kMin), std::nullopt, 2 * kMin),
                          WRec(wk("blue", 2 * kMin, 5 * kMin), 2, 5 * kMin),
                          WRec(wk("blue", 11 * kMin, 11 * kMin), 1, 11 * kMin)));
  auto* store = driver.get_session_store<std::string, std::int64_t>("sessions");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->fetch_session("green", 0, 6 * kMin), 3);
  EXPECT_EQ(store->fetch_session("green", 0, 0), std::nullopt);
}

TEST(DslSessionWindows, DropsRecordsForClosedSessions) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .windowed_by(SessionWindows::of_inactivity_gap_and_grace(5ms, 10ms))
      .count()
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = test::WindowedOutput<std::string, std::int64_t>(
      driver, "out", serdes::session_windowed<std::string>());
  in.pipe_input("a", "x", 0);
  in.pipe_input("b", "x", 15);  // stream time 15: a session ending at 0 closes after 15
  in.pipe_input("a", "x", 1);   // merges with [0,0]: end 1 + 5 + 10 >= 15, accepted
  in.pipe_input("b", "x", 30);  // [0,1] closes once stream time passes 16
  in.pipe_input("a", "x", 2);   // late
  EXPECT_EQ(driver.metrics().late_records_dropped, 1U);
  const auto records = out.read_records_to_list();
  ASSERT_EQ(records.size(), 5U);
  EXPECT_EQ(records[3], WRec(wk("a", 0, 1), 2, 1));
}

TEST(DslSessionWindows, AggregateMergesSessionsWithTheMerger) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(10ms))
      .aggregate([] { return std::string(); },
                 [](const std::string&, const std::string& value, const std::string& aggregate) {
                   return aggregate + value;
                 },
                 [](const std::string&, const std::string& a, const std::string& b) {
                   return a + "|" + b;
                 },
                 Materialized<std::string, std::string>::as("s").with_caching_disabled())
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = test::WindowedOutput<std::string, std::string>(
      driver, "out", serdes::session_windowed<std::string>());
  in.pipe_input("a", "x", 0);
  in.pipe_input("a", "y", 20);
  in.pipe_input("a", "z", 10);  // bridges both sessions
  std::vector<std::string> values;
  for (auto& record : out.read_records_to_list()) values.push_back(record.value.value_or("<null>"));
  // The merger starts from the initializer's value: "" | "x", then | "y"; then z is added.
  EXPECT_THAT(values, ElementsAre("x", "y", "<null>", "<null>", "|x|yz"));
}

TEST(DslSessionWindows, ReduceCombinesMergedSessions) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(10ms))
      .reduce([](const std::string& a, const std::string& b) { return a + b; },
              Materialized<std::string, std::string>::as("s").with_caching_disabled())
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = test::WindowedOutput<std::string, std::string>(
      driver, "out", serdes::session_windowed<std::string>());
  in.pipe_input("a", "x", 0);
  in.pipe_input("a", "y", 20);
  in.pipe_input("a", "z", 10);
  std::vector<std::string> values;
  for (auto& record : out.read_records_to_list()) values.push_back(record.value.value_or("<null>"));
  EXPECT_THAT(values, ElementsAre("x", "y", "<null>", "<null>", "xyz"));
}

// ---- Emit on window close -----------------------------------------------------------------

TEST(DslEmitOnWindowClose, EmitsEachWindowOnceWhenItCloses) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .windowed_by(TimeWindows::of_size_and_grace(10ms, 5ms))
      .emit_strategy(EmitStrategy::on_window_close())
      .count()
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = test::WindowedOutput<std::string, std::int64_t>(
      driver, "out", serdes::time_windowed<std::string>(10ms));
  in.pipe_input("a", "x", 1);
  in.pipe_input("b", "x", 7);
  in.pipe_input("a", "x", 5);
  in.pipe_input("a", "x", 14);  // [0,10) closes at 15
  EXPECT_THAT(out.read_records_to_list(), IsEmpty());
  in.pipe_input("a", "x", 15);
  EXPECT_THAT(out.read_records_to_list(),
              UnorderedElementsAre(WRec(wk("a", 0, 10), 2, 5), WRec(wk("b", 0, 10), 1, 7)));
  in.pipe_input("a", "x", 16);
  EXPECT_THAT(out.read_records_to_list(), IsEmpty());
  in.pipe_input("b", "x", 40);
  EXPECT_THAT(out.read_records_to_list(), ElementsAre(WRec(wk("a", 10, 20), 3, 16)));
}

TEST(DslEmitOnWindowClose, SlidingWindowsEmitOnceClosed) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .windowed_by(SlidingWindows::of_time_difference_with_no_grace(10ms))
      .emit_strategy(EmitStrategy::on_window_close())
      .count()
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = test::WindowedOutput<std::string, std::int64_t>(
      driver, "out", serdes::time_windowed<std::string>(10ms));
  in.pipe_input("a", "x", 10);
  EXPECT_THAT(out.read_records_to_list(), IsEmpty());
  in.pipe_input("a", "x", 15);  // both ends are inclusive: [0,10] closed once stream time passed 10
  EXPECT_THAT(out.read_records_to_list(), ElementsAre(WRec(wk("a", 0, 10), 1, 10)));
  in.pipe_input("a", "x", 100);
  EXPECT_THAT(out.read_records_to_list(),
              ElementsAre(WRec(wk("a", 5, 15), 2, 15), WRec(wk("a", 11, 21), 1, 15)));
}

// ---- Window arguments ------------------------------------------------------------------------

TEST(DslWindows, RejectInvalidArguments) {
  EXPECT_THAT(test::message_of<TopologyException>([] { TimeWindows::of_size_with_no_grace(0ms); }),
              HasSubstr("Window size must be larger than zero"));
  EXPECT_THAT(
      test::message_of<TopologyException>([] { TimeWindows::of_size_and_grace(10ms, -1ms); }),
      HasSubstr("Grace period must not be negative"));
  EXPECT_THAT(test::message_of<TopologyException>(
                  [] { TimeWindows::of_size_with_no_grace(10ms).advance_by(11ms); }),
              HasSubstr("advancement interval"));
  EXPECT_THAT(test::message_of<TopologyException>(
                  [] { TimeWindows::of_size_with_no_grace(10ms).advance_by(0ms); }),
              HasSubstr("advancement interval"));
  EXPECT_THAT(test::message_of<TopologyException>(
                  [] { SlidingWindows::of_time_difference_with_no_grace(-1ms); }),
              HasSubstr("time difference must not be negative"));
  EXPECT_THAT(test::message_of<TopologyException>(
                  [] { SessionWindows::of_inactivity_gap_with_no_grace(0ms); }),
              HasSubstr("Gap time cannot be zero or negative"));
}

TEST(DslWindows, DescribeShowsTheWindowStoreOnTheAggregate) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .windowed_by(TimeWindows::of_size_with_no_grace(1min))
      .count()
      .to_stream()
      .to("out");
  EXPECT_EQ(builder.build().describe().to_string(),
            "Topologies:\n"
            "   Sub-topology: 0\n"
            "    Source: KSTREAM-SOURCE-0000000000 (topics: [in])\n"
            "      --> KSTREAM-AGGREGATE-0000000002\n"
            "    Processor: KSTREAM-AGGREGATE-0000000002 (stores: "
            "[KSTREAM-AGGREGATE-STATE-STORE-0000000001])\n"
            "      --> KTABLE-TOSTREAM-0000000003\n"
            "      <-- KSTREAM-SOURCE-0000000000\n"
            "    Processor: KTABLE-TOSTREAM-0000000003 (stores: [])\n"
            "      --> KSTREAM-SINK-0000000004\n"
            "      <-- KSTREAM-AGGREGATE-0000000002\n"
            "    Sink: KSTREAM-SINK-0000000004 (topic: out)\n"
            "      <-- KTABLE-TOSTREAM-0000000003\n"
            "\n");
}

}  // namespace
}  // namespace rivulet
