// Windowed stream-stream joins (inner, left, outer), run through the TopologyTestDriver: the join
// semantics table of the Kafka Streams developer guide row by row (with the >= 3.1 behaviour of
// left and outer joins: a non-joined record is emitted when its window closes), window
// boundaries, grace and late records, names of nodes and stores, and repartitioning.
#include <chrono>
#include <cstdint>
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

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::TestRecord;
using testing::TopologyTestDriver;
using R = TestRecord<std::string, std::string>;

Consumed<std::string, std::string> nullable_values() {
  return Consumed<std::string, std::string>::with(serdes::string(), test::EmptyIsNullSerde{});
}

std::string show(const std::optional<std::string>& value) {
  return value.value_or("null");
}

auto inner_joiner() {
  return [](const std::string& left, const std::string& right) {
    return "[" + left + ", " + right + "]";
  };
}
auto left_joiner() {
  return [](const std::string& left, const std::optional<std::string>& right) {
    return "[" + left + ", " + show(right) + "]";
  };
}
auto outer_joiner() {
  return [](const std::optional<std::string>& left, const std::optional<std::string>& right) {
    return "[" + show(left) + ", " + show(right) + "]";
  };
}

// Three joins of the same two streams, to "inner-out", "left-out" and "outer-out".
Topology three_joins(const JoinWindows& windows) {
  StreamsBuilder builder;
  auto left = builder.stream<std::string, std::string>("left", nullable_values());
  auto right = builder.stream<std::string, std::string>("right", nullable_values());
  left.join(right, inner_joiner(), windows).to("inner-out");
  left.left_join(right, left_joiner(), windows).to("left-out");
  left.outer_join(right, outer_joiner(), windows).to("outer-out");
  return builder.build();
}

struct Row {
  std::int64_t timestamp;
  bool left_side;
  std::string value;  // empty: null
  std::vector<std::string> inner;
  std::vector<std::string> left;
  std::vector<std::string> outer;
};

// Every output record of `topic`'s values, checking each carries `timestamp` when given.
std::vector<std::string> values_of(testing::TestOutputTopic<std::string, std::string>& topic) {
  std::vector<std::string> out;
  for (const R& record : topic.read_records_to_list()) {
    EXPECT_EQ(record.key, "k");
    out.push_back(record.value.value_or("<tombstone>"));
  }
  return out;
}

void run_rows(const std::vector<Row>& rows, const JoinWindows& windows) {
  const Topology topology = three_joins(windows);
  TopologyTestDriver driver(topology);
  auto left = driver.create_input_topic<std::string, std::string>("left");
  auto right = driver.create_input_topic<std::string, std::string>("right");
  auto inner = driver.create_output_topic<std::string, std::string>("inner-out");
  auto left_out = driver.create_output_topic<std::string, std::string>("left-out");
  auto outer = driver.create_output_topic<std::string, std::string>("outer-out");
  for (const Row& row : rows) {
    SCOPED_TRACE("row at timestamp " + std::to_string(row.timestamp));
    std::optional<std::string> value;
    if (!row.value.empty()) value = row.value;
    (row.left_side ? left : right).pipe_input(R("k", value, row.timestamp));
    EXPECT_EQ(values_of(inner), row.inner);
    EXPECT_EQ(values_of(left_out), row.left);
    EXPECT_EQ(values_of(outer), row.outer);
  }
}

// The "semantics of stream-stream joins" table of the Kafka Streams developer guide: one key, all
// records in one window (here 15 ms), processed in timestamp order. Since Kafka Streams 3.1 the
// left and outer joins no longer emit [A, null] at timestamp 3 (A joins a at 4): all three columns
// are the inner join's.
TEST(DslStreamStreamJoin, ReproducesKafkaStreamsJoinSemanticsTable) {
  using V = std::vector<std::string>;
  const V none;
  const std::vector<Row> rows = {
      {1, true, "", none, none, none},
      {2, false, "", none, none, none},
      {3, true, "A", none, none, none},
      {4, false, "a", V{"[A, a]"}, V{"[A, a]"}, V{"[A, a]"}},
      {5, true, "B", V{"[B, a]"}, V{"[B, a]"}, V{"[B, a]"}},
      {6, false, "b", V{"[A, b]", "[B, b]"}, V{"[A, b]", "[B, b]"}, V{"[A, b]", "[B, b]"}},
      {7, true, "", none, none, none},
      {8, false, "", none, none, none},
      {9, true, "C", V{"[C, a]", "[C, b]"}, V{"[C, a]", "[C, b]"}, V{"[C, a]", "[C, b]"}},
      {10, false, "c", V{"[A, c]", "[B, c]", "[C, c]"}, V{"[A, c]", "[B, c]", "[C, c]"},
       V{"[A, c]", "[B, c]", "[C, c]"}},
      {11, false, "", none, none, none},
      {12, true, "", none, none, none},
      {13, false, "", none, none, none},
      {14, false, "d", V{"[A, d]", "[B, d]", "[C, d]"}, V{"[A, d]", "[B, d]", "[C, d]"},
       V{"[A, d]", "[B, d]", "[C, d]"}},
      {15, true, "D", V{"[D, a]", "[D, b]", "[D, c]", "[D, d]"},
       V{"[D, a]", "[D, b]", "[D, c]", "[D, d]"}, V{"[D, a]", "[D, b]", "[D, c]", "[D, d]"}},
      // The rows Kafka Streams' join semantics page adds for >= 3.1: records that join nothing
      // are emitted once their window has closed (here: 15 ms after them), not on arrival.
      {40, true, "E", none, none, none},
      {60, true, "F", none, V{"[E, null]"}, V{"[E, null]"}},
      {80, false, "f", none, V{"[F, null]"}, V{"[F, null]"}},
      {100, true, "G", none, none, V{"[null, f]"}},
  };
  run_rows(rows, JoinWindows::of_time_difference_with_no_grace(15ms));
}

TEST(DslStreamStreamJoin, JoinedRecordsCarryTheLargerTimestampAndNonJoinedTheirOwn) {
  const Topology topology = three_joins(JoinWindows::of_time_difference_with_no_grace(10ms));
  TopologyTestDriver driver(topology);
  auto left = driver.create_input_topic<std::string, std::string>("left");
  auto right = driver.create_input_topic<std::string, std::string>("right");
  auto inner = driver.create_output_topic<std::string, std::string>("inner-out");
  auto outer = driver.create_output_topic<std::string, std::string>("outer-out");
  right.pipe_input("k", "a", 100);
  left.pipe_input("k", "A", 95);
  left.pipe_input("k", "B", 107);
  left.pipe_input("x", "X", 200);  // closes every window above
  EXPECT_THAT(inner.read_records_to_list(),
              ElementsAre(R("k", "[A, a]", 100), R("k", "[B, a]", 107)));
  EXPECT_THAT(outer.read_records_to_list(),
              ElementsAre(R("k", "[A, a]", 100), R("k", "[B, a]", 107)));
  left.pipe_input("y", "Y", 300);
  EXPECT_THAT(outer.read_records_to_list(), ElementsAre(R("x", "[X, null]", 200)));
}

// A left record at t joins right records in [t - before, t + after]; a right record at s joins
// left records in [s - after, s + before]. Both ends are inclusive.
TEST(DslStreamStreamJoin, WindowBoundsAreInclusiveOnBothSides) {
  StreamsBuilder builder;
  auto left = builder.stream<std::string, std::string>("left");
  auto right = builder.stream<std::string, std::string>("right");
  left.join(right, inner_joiner(),
            JoinWindows::of_time_difference_and_grace(0ms, 1000ms).before(5ms).after(10ms))
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto l = driver.create_input_topic<std::string, std::string>("left");
  auto r = driver.create_input_topic<std::string, std::string>("right");
  auto out = driver.create_output_topic<std::string, std::string>("out");

  l.pipe_input("k", "L", 100);
  r.pipe_input("k", "94", 94);
  r.pipe_input("k", "95", 95);
  r.pipe_input("k", "110", 110);
  r.pipe_input("k", "111", 111);
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("[L, 95]", "[L, 110]"));

  r.pipe_input("j", "R", 200);
  l.pipe_input("j", "189", 189);
  l.pipe_input("j", "190", 190);
  l.pipe_input("j", "205", 205);
  l.pipe_input("j", "206", 206);
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("[190, R]", "[205, R]"));
}

TEST(DslStreamStreamJoin, ZeroTimeDifferenceJoinsEqualTimestampsOnly) {
  StreamsBuilder builder;
  auto left = builder.stream<std::string, std::string>("left");
  auto right = builder.stream<std::string, std::string>("right");
  left.join(right, inner_joiner(), JoinWindows::of_time_difference_and_grace(0ms, 100ms)).to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto l = driver.create_input_topic<std::string, std::string>("left");
  auto r = driver.create_input_topic<std::string, std::string>("right");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  l.pipe_input("k", "A", 50);
  r.pipe_input("k", "49", 49);
  r.pipe_input("k", "50", 50);
  r.pipe_input("k", "51", 51);
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("[A, 50]"));
}

// The window of a left record at t closes when stream time passes t + after + grace: its
// non-joined result comes at the first record beyond that, not at it.
TEST(DslStreamStreamJoin, LeftJoinEmitsNonJoinedRecordOnlyAfterWindowAndGrace) {
  StreamsBuilder builder;
  auto left = builder.stream<std::string, std::string>("left");
  auto right = builder.stream<std::string, std::string>("right");
  left.left_join(right, left_joiner(), JoinWindows::of_time_difference_and_grace(10ms, 5ms))
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto l = driver.create_input_topic<std::string, std::string>("left");
  auto r = driver.create_input_topic<std::string, std::string>("right");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  l.pipe_input("k", "A", 100);
  r.pipe_input("other", "x", 115);  // stream time 115 = 100 + 10 + 5: still open
  EXPECT_TRUE(out.is_empty());
  r.pipe_input("other", "y", 116);
  EXPECT_THAT(out.read_records_to_list(), ElementsAre(R("k", "[A, null]", 100)));
  r.pipe_input("other", "z", 500);
  EXPECT_TRUE(out.is_empty());  // emitted once
}

// Within the grace period an out-of-order record still joins, and the record it joins is then
// never emitted alone.
TEST(DslStreamStreamJoin, OutOfOrderRecordWithinGraceJoinsAndCancelsNonJoinedResult) {
  StreamsBuilder builder;
  auto left = builder.stream<std::string, std::string>("left");
  auto right = builder.stream<std::string, std::string>("right");
  left.outer_join(right, outer_joiner(), JoinWindows::of_time_difference_and_grace(10ms, 20ms))
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto l = driver.create_input_topic<std::string, std::string>("left");
  auto r = driver.create_input_topic<std::string, std::string>("right");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  l.pipe_input("k", "A", 100);
  r.pipe_input("other", "x", 125);
  r.pipe_input("k", "a", 105);  // out of order, within grace
  EXPECT_THAT(out.read_records_to_list(), ElementsAre(R("k", "[A, a]", 105)));
  r.pipe_input("other", "y", 1000);
  // Only "x" at 125 never joined.
  EXPECT_THAT(out.read_records_to_list(), ElementsAre(R("other", "[null, x]", 125)));
}

TEST(DslStreamStreamJoin, LateRecordsAreDroppedAndCounted) {
  StreamsBuilder builder;
  auto left = builder.stream<std::string, std::string>("left");
  auto right = builder.stream<std::string, std::string>("right");
  left.left_join(right, left_joiner(), JoinWindows::of_time_difference_and_grace(10ms, 5ms))
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto l = driver.create_input_topic<std::string, std::string>("left");
  auto r = driver.create_input_topic<std::string, std::string>("right");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  l.pipe_input("k", "A", 100);
  r.pipe_input("k", "late", 84);  // closes at 84 + 10 + 5 = 99 < 100: late
  r.pipe_input("k", "b", 85);     // closes at 100: still accepted, but 15 ms from A
  l.pipe_input("k", "old", 84);   // late too
  EXPECT_TRUE(out.is_empty());
  EXPECT_EQ(driver.metrics().late_records_dropped, 2u);
  // The late left record was not kept: it is never emitted alone.
  r.pipe_input("other", "z", 1000);
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("[A, null]"));
}

TEST(DslStreamStreamJoin, WithoutGraceARecordBehindTheWindowIsLate) {
  StreamsBuilder builder;
  auto left = builder.stream<std::string, std::string>("left");
  auto right = builder.stream<std::string, std::string>("right");
  left.join(right, inner_joiner(), JoinWindows::of_time_difference_with_no_grace(10ms)).to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto l = driver.create_input_topic<std::string, std::string>("left");
  auto r = driver.create_input_topic<std::string, std::string>("right");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  l.pipe_input("k", "A", 100);
  r.pipe_input("k", "90", 90);  // closes at 90 + 10 = 100: not late, joins
  r.pipe_input("k", "89", 89);  // closes at 99: late, though A would be in its window
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("[A, 90]"));
  EXPECT_EQ(driver.metrics().late_records_dropped, 1u);
}

TEST(DslStreamStreamJoin, NullKeysAndValuesAreDroppedAndCounted) {
  StreamsBuilder builder;
  auto left = builder.stream<std::optional<std::string>, std::string>(
      "left", Consumed<std::optional<std::string>, std::string>::with(
                  default_serde<std::optional<std::string>>(), test::EmptyIsNullSerde{}));
  auto right = builder.stream<std::optional<std::string>, std::string>("right");
  left.join(right, inner_joiner(), JoinWindows::of_time_difference_with_no_grace(10ms)).to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto l = driver.create_input_topic<std::optional<std::string>, std::string>("left");
  auto r = driver.create_input_topic<std::optional<std::string>, std::string>("right");
  auto out = driver.create_output_topic<std::optional<std::string>, std::string>("out");
  r.pipe_input(std::string("k"), "a", 1);
  l.pipe_input(std::nullopt, "A", 1);
  l.pipe_input(
      TestRecord<std::optional<std::string>, std::string>(std::string("k"), std::nullopt, 1));
  EXPECT_TRUE(out.is_empty());
  EXPECT_EQ(driver.metrics().dropped_records, 2u);
  l.pipe_input(std::string("k"), "B", 2);
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("[B, a]"));
}

TEST(DslStreamStreamJoin, EveryDuplicateJoinsAndIsEmittedAlone) {
  StreamsBuilder builder;
  auto left = builder.stream<std::string, std::string>("left");
  auto right = builder.stream<std::string, std::string>("right");
  left.outer_join(right, outer_joiner(), JoinWindows::of_time_difference_with_no_grace(10ms))
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto l = driver.create_input_topic<std::string, std::string>("left");
  auto r = driver.create_input_topic<std::string, std::string>("right");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  l.pipe_input("k", "A1", 100);
  l.pipe_input("k", "A2", 100);
  r.pipe_input("j", "b1", 100);
  r.pipe_input("j", "b2", 100);
  r.pipe_input("z", "z", 200);
  // At equal timestamps the right side's waiting records come first, as in Kafka Streams.
  EXPECT_THAT(out.read_values_to_list(),
              ElementsAre("[null, b1]", "[null, b2]", "[A1, null]", "[A2, null]"));
  l.pipe_input("m", "M", 300);  // closes z's window
  r.pipe_input("m", "m1", 301);
  r.pipe_input("m", "m2", 301);
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("[null, z]", "[M, m1]", "[M, m2]"));
}

TEST(DslStreamStreamJoin, JoinerMayTakeTheKeyAndReturnAnotherType) {
  StreamsBuilder builder;
  auto left = builder.stream<std::string, std::int64_t>("left");
  auto right = builder.stream<std::string, std::int64_t>("right");
  left.join(
          right,
          [](const std::string& key, std::int64_t l, std::int64_t r) {
            return key + "=" + std::to_string(l * r);
          },
          JoinWindows::of_time_difference_with_no_grace(10ms))
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto l = driver.create_input_topic<std::string, std::int64_t>("left");
  auto r = driver.create_input_topic<std::string, std::int64_t>("right");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  l.pipe_input("k", 6, 1);
  r.pipe_input("k", 7, 2);
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("k=42"));
}

TEST(DslStreamStreamJoin, GeneratedNamesFollowKafkaStreams) {
  StreamsBuilder builder;
  auto left = builder.stream<std::string, std::string>("left");
  auto right = builder.stream<std::string, std::string>("right");
  left.left_join(right, left_joiner(), JoinWindows::of_time_difference_with_no_grace(10ms))
      .to("out");
  const Topology topology = builder.build();
  const std::string text = topology.describe().to_string();
  EXPECT_THAT(text, HasSubstr("KSTREAM-WINDOWED-0000000002"));
  EXPECT_THAT(text, HasSubstr("KSTREAM-WINDOWED-0000000003"));
  EXPECT_THAT(text, HasSubstr("KSTREAM-JOINTHIS-0000000004"));
  EXPECT_THAT(text, HasSubstr("KSTREAM-OUTEROTHER-0000000005"));
  EXPECT_THAT(text, HasSubstr("KSTREAM-MERGE-0000000006"));
  EXPECT_THAT(text, HasSubstr("KSTREAM-SINK-0000000007"));
  TopologyTestDriver driver(topology);
  using Store = WindowStore<std::string, std::string>;
  EXPECT_NE(dynamic_cast<Store*>(driver.get_state_store("KSTREAM-JOINTHIS-0000000004-store")),
            nullptr);
  EXPECT_NE(dynamic_cast<Store*>(driver.get_state_store("KSTREAM-OUTEROTHER-0000000005-store")),
            nullptr);
  EXPECT_NE(driver.get_state_store("KSTREAM-OUTERSHARED-0000000004-store"), nullptr);
}

TEST(DslStreamStreamJoin, OuterJoinNamesAndStreamJoinedNames) {
  {
    StreamsBuilder builder;
    auto left = builder.stream<std::string, std::string>("left");
    auto right = builder.stream<std::string, std::string>("right");
    left.outer_join(right, outer_joiner(), JoinWindows::of_time_difference_with_no_grace(10ms))
        .to("out");
    const Topology topology = builder.build();
    TopologyTestDriver driver(topology);
    EXPECT_NE(driver.get_state_store("KSTREAM-OUTERTHIS-0000000004-store"), nullptr);
    EXPECT_NE(driver.get_state_store("KSTREAM-OUTEROTHER-0000000005-store"), nullptr);
    EXPECT_NE(driver.get_state_store("KSTREAM-OUTERSHARED-0000000004-store"), nullptr);
  }
  StreamsBuilder builder;
  auto left = builder.stream<std::string, std::string>("left");
  auto right = builder.stream<std::string, std::string>("right");
  left.left_join(right, left_joiner(), JoinWindows::of_time_difference_with_no_grace(10ms),
                 StreamJoined<std::string, std::string, std::string>::as("orders").with_name("j"))
      .to("out");
  const Topology topology = builder.build();
  const std::string text = topology.describe().to_string();
  for (const char* node :
       {"j-this-windowed", "j-other-windowed", "j-this-join", "j-outer-other-join", "j-merge"}) {
    EXPECT_THAT(text, HasSubstr(node));
  }
  TopologyTestDriver driver(topology);
  auto l = driver.create_input_topic<std::string, std::string>("left");
  auto r = driver.create_input_topic<std::string, std::string>("right");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  l.pipe_input("k", "A", 1);
  r.pipe_input("k", "a", 2);
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("[A, a]"));
  auto* this_store = driver.get_window_store<std::string, std::string>("orders-this-join-store");
  ASSERT_NE(this_store, nullptr);
  EXPECT_EQ(this_store->fetch("k", 1), std::optional<std::string>("A"));
  EXPECT_NE(driver.get_state_store("orders-outer-other-join-store"), nullptr);
  EXPECT_NE(driver.get_state_store("orders-outer-shared-join-store"), nullptr);
  // Each store has a changelog.
  EXPECT_THAT(driver.produced_topic_names(),
              ::testing::IsSupersetOf(
                  {driver.application_id() + "-orders-this-join-store-changelog",
                   driver.application_id() + "-orders-outer-other-join-store-changelog"}));
}

TEST(DslStreamStreamJoin, InMemoryStoreSuppliersAreUsedAndChecked) {
  const JoinWindows windows = JoinWindows::of_time_difference_and_grace(10ms, 5ms);
  auto supplier = [&](const std::string& name) {
    return Stores::in_memory_window_store(
        name, std::chrono::milliseconds(windows.store_retention_ms()),
        std::chrono::milliseconds(windows.store_window_size_ms()), true);
  };
  StreamsBuilder builder;
  auto left = builder.stream<std::string, std::string>("left");
  auto right = builder.stream<std::string, std::string>("right");
  left.join(right, inner_joiner(), windows,
            StreamJoined<std::string, std::string, std::string>::with(supplier("mine"),
                                                                      supplier("theirs")))
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto* mine = driver.get_state_store("mine");
  ASSERT_NE(mine, nullptr);
  EXPECT_FALSE(mine->persistent());
  auto l = driver.create_input_topic<std::string, std::string>("left");
  auto r = driver.create_input_topic<std::string, std::string>("right");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  l.pipe_input("k", "A", 1);
  r.pipe_input("k", "a", 2);
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("[A, a]"));

  StreamsBuilder bad;
  auto bl = bad.stream<std::string, std::string>("left");
  auto br = bad.stream<std::string, std::string>("right");
  EXPECT_THROW(bl.join(br, inner_joiner(), windows,
                       StreamJoined<std::string, std::string, std::string>::with(
                           Stores::in_memory_window_store("a", 15ms, 15ms, false), supplier("b"))),
               TopologyException);
  EXPECT_THROW(bl.join(br, inner_joiner(), windows,
                       StreamJoined<std::string, std::string, std::string>::with(supplier("same"),
                                                                                 supplier("same"))),
               TopologyException);
}

TEST(DslStreamStreamJoin, JoinWindowsRejectNegativeSizesAndGrace) {
  EXPECT_THROW(JoinWindows::of_time_difference_with_no_grace(-1ms), TopologyException);
  EXPECT_THROW(JoinWindows::of_time_difference_and_grace(1ms, -1ms), TopologyException);
  EXPECT_THROW(JoinWindows::of_time_difference_with_no_grace(5ms).before(-6ms), TopologyException);
  const JoinWindows shifted = JoinWindows::of_time_difference_with_no_grace(5ms).before(-3ms);
  EXPECT_EQ(shifted.before_ms(), -3);
  EXPECT_EQ(shifted.after_ms(), 5);
  EXPECT_EQ(shifted.size_ms(), 2);
}

// A stream whose key changed is repartitioned before the join, through
// "<upstream node>-repartition" (or "<name>-left-repartition" when the join is named).
TEST(DslStreamStreamJoin, RepartitionsAStreamWhoseKeyChanged) {
  StreamsBuilder builder;
  auto left = builder.stream<std::string, std::string>("left").select_key(
      [](const std::string&, const std::string& value) { return value.substr(0, 1); });
  auto right = builder.stream<std::string, std::string>("right");
  left.join(right, inner_joiner(), JoinWindows::of_time_difference_with_no_grace(10ms)).to("out");
  const Topology topology = builder.build();
  EXPECT_THAT(topology.describe().to_string(),
              HasSubstr("KSTREAM-KEY-SELECT-0000000001-repartition"));
  TopologyTestDriver driver(topology);
  auto l = driver.create_input_topic<std::string, std::string>("left");
  auto r = driver.create_input_topic<std::string, std::string>("right");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  r.pipe_input("x", "right-x", 1);
  l.pipe_input("ignored", "x-left", 2);
  EXPECT_THAT(out.read_key_values_to_list(),
              ElementsAre(KeyValue<std::string, std::string>{"x", "[x-left, right-x]"}));
  EXPECT_THAT(
      driver.produced_topic_names(),
      ::testing::Contains(driver.internal_topic_name("KSTREAM-KEY-SELECT-0000000001-repartition")));

  StreamsBuilder named;
  auto nl = named.stream<std::string, std::string>("left").select_key(
      [](const std::string&, const std::string& value) { return value; });
  auto nr = named.stream<std::string, std::string>("right").select_key(
      [](const std::string&, const std::string& value) { return value; });
  nl.join(nr, inner_joiner(), JoinWindows::of_time_difference_with_no_grace(10ms),
          StreamJoined<std::string, std::string, std::string>{}.with_name("pay"))
      .to("out");
  const std::string text = named.build().describe().to_string();
  EXPECT_THAT(text, HasSubstr("pay-left-repartition"));
  EXPECT_THAT(text, HasSubstr("pay-right-repartition"));
}

}  // namespace
}  // namespace rivulet
