// Table-table joins (inner, left, outer), run through the TopologyTestDriver: the KTable-KTable
// join semantics table of the Kafka Streams developer guide row by row, timestamps, old values,
// materialized results, joins of derived tables, and names.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>
#include <rivulet/state/value_and_timestamp.h>
#include <rivulet/testing/topology_test_driver.h>

#include "rivulet_test_helpers.h"

namespace rivulet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TestRecord;
using testing::TopologyTestDriver;
using R = TestRecord<std::string, std::string>;

StreamsConfig no_cache_config() {
  StreamsConfig config;
  config.set("statestore.cache.max.bytes", "0");
  return config;
}

std::string show(const std::optional<std::string>& value) {
  return value.value_or("null");
}

auto inner_joiner() {
  return [](const std::string& l, const std::string& r) { return "[" + l + ", " + r + "]"; };
}
auto left_joiner() {
  return [](const std::string& l, const std::optional<std::string>& r) {
    return "[" + l + ", " + show(r) + "]";
  };
}
auto outer_joiner() {
  return [](const std::optional<std::string>& l, const std::optional<std::string>& r) {
    return "[" + show(l) + ", " + show(r) + "]";
  };
}

struct Row {
  std::int64_t timestamp;
  bool left_side;
  std::string value;  // empty: null (a deletion)
  // What each join forwards: "" nothing, "null" a tombstone, else the joined value.
  std::string inner;
  std::string left;
  std::string outer;
};

// Each output record's value ("null" for a tombstone); checks the timestamps.
std::string read_one(testing::TestOutputTopic<std::string, std::string>& topic,
                     std::int64_t timestamp) {
  std::vector<R> records = topic.read_records_to_list();
  if (records.empty()) return "";
  EXPECT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].key, "k");
  EXPECT_EQ(records[0].timestamp, timestamp);  // the larger of the two sides' timestamps
  return records[0].value.value_or("null");
}

// The "semantics of table-table joins" table of the Kafka Streams developer guide: one key, the
// records of both tables in timestamp order, record caches off so every update is forwarded.
TEST(DslTableTableJoin, ReproducesKafkaStreamsJoinSemanticsTable) {
  StreamsBuilder builder;
  auto left = builder.table<std::string, std::string>("left");
  auto right = builder.table<std::string, std::string>("right");
  left.join(right, inner_joiner()).to_stream().to("inner");
  left.left_join(right, left_joiner()).to_stream().to("left-out");
  left.outer_join(right, outer_joiner()).to_stream().to("outer");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology, no_cache_config());
  auto left_in = driver.create_input_topic<std::string, std::string>("left");
  auto right_in = driver.create_input_topic<std::string, std::string>("right");
  auto inner = driver.create_output_topic<std::string, std::string>("inner");
  auto left_out = driver.create_output_topic<std::string, std::string>("left-out");
  auto outer = driver.create_output_topic<std::string, std::string>("outer");

  const std::vector<Row> rows = {
      {1, true, "", "", "", ""},
      {2, false, "", "", "", ""},
      {3, true, "A", "", "[A, null]", "[A, null]"},
      {4, false, "a", "[A, a]", "[A, a]", "[A, a]"},
      {5, true, "B", "[B, a]", "[B, a]", "[B, a]"},
      {6, false, "b", "[B, b]", "[B, b]", "[B, b]"},
      {7, true, "", "null", "null", "[null, b]"},
      {8, false, "", "", "", "null"},
      {9, true, "C", "", "[C, null]", "[C, null]"},
      {10, false, "c", "[C, c]", "[C, c]", "[C, c]"},
      {11, false, "", "null", "[C, null]", "[C, null]"},
      {12, true, "", "", "null", "null"},
      {13, false, "", "", "", ""},
      {14, false, "d", "", "", "[null, d]"},
      {15, true, "D", "[D, d]", "[D, d]", "[D, d]"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE("row at timestamp " + std::to_string(row.timestamp));
    std::optional<std::string> value;
    if (!row.value.empty()) value = row.value;
    (row.left_side ? left_in : right_in).pipe_input(R("k", value, row.timestamp));
    EXPECT_EQ(read_one(inner, row.timestamp), row.inner);
    EXPECT_EQ(read_one(left_out, row.timestamp), row.left);
    EXPECT_EQ(read_one(outer, row.timestamp), row.outer);
  }
}

TEST(DslTableTableJoin, ResultCarriesTheLargerTimestamp) {
  StreamsBuilder builder;
  auto left = builder.table<std::string, std::string>("left");
  auto right = builder.table<std::string, std::string>("right");
  left.join(right, inner_joiner()).to_stream().to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology, no_cache_config());
  auto l = driver.create_input_topic<std::string, std::string>("left");
  auto r = driver.create_input_topic<std::string, std::string>("right");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  r.pipe_input("k", "a", 50);
  l.pipe_input("k", "A", 10);  // out of order: the result is as new as the right value
  l.pipe_input("k", "B", 70);
  EXPECT_THAT(out.read_records_to_list(), ElementsAre(R("k", "[A, a]", 50), R("k", "[B, a]", 70)));
}

// A materialized result is queryable and keeps the joined value with its timestamp; an
// unmaterialized one is looked up through both sides (here by a stream-table join on it).
TEST(DslTableTableJoin, MaterializedResultAndLookupsThroughTheJoin) {
  StreamsBuilder builder;
  auto left = builder.table<std::string, std::string>("left");
  auto right = builder.table<std::string, std::string>("right");
  left.left_join(right, left_joiner(), Named::as("profile"),
                 Materialized<std::string, std::string>::as("profiles"))
      .to_stream()
      .to("profiles-out");
  auto joined = left.outer_join(right, outer_joiner());
  builder.stream<std::string, std::string>("requests")
      .join(joined, [](const std::string& request,
                       const std::string& profile) { return request + " " + profile; })
      .to("enriched");
  const Topology topology = builder.build();
  const std::string text = topology.describe().to_string();
  EXPECT_THAT(text, HasSubstr("profile-join-this"));
  EXPECT_THAT(text, HasSubstr("profile-join-other"));
  TopologyTestDriver driver(topology, no_cache_config());
  auto l = driver.create_input_topic<std::string, std::string>("left");
  auto r = driver.create_input_topic<std::string, std::string>("right");
  auto requests = driver.create_input_topic<std::string, std::string>("requests");
  auto enriched = driver.create_output_topic<std::string, std::string>("enriched");
  l.pipe_input("k", "A", 1);
  r.pipe_input("k", "a", 2);
  r.pipe_input("only-right", "x", 3);

  auto* store = driver.get_key_value_store<std::string, ValueAndTimestamp<std::string>>("profiles");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->get("k"), (ValueAndTimestamp<std::string>{"[A, a]", 2}));
  EXPECT_EQ(store->get("only-right"), std::nullopt);  // a left join has no result here

  requests.pipe_input("k", "GET", 5);
  requests.pipe_input("only-right", "GET", 5);
  requests.pipe_input("nobody", "GET", 5);
  EXPECT_THAT(enriched.read_values_to_list(), ElementsAre("GET [A, a]", "GET [null, x]"));
}

// Asking a join result for old values (here: a filter downstream that needs them to skip changes
// filtered out before and after) makes both sides send theirs, and the join forwards the
// replaced joined value.
TEST(DslTableTableJoin, ForwardsOldJoinedValuesWhenAsked) {
  StreamsBuilder builder;
  auto left = builder.table<std::string, std::int64_t>("left");
  auto right = builder.table<std::string, std::int64_t>("right");
  auto sum = left.join(right, [](std::int64_t l, std::int64_t r) { return l + r; });
  auto big_sums = sum.filter([](const std::string&, std::int64_t total) { return total >= 10; });
  big_sums.enable_sending_old_values();  // the filter, and so the join, forward old values
  big_sums.to_stream().to("big");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology, no_cache_config());
  auto l = driver.create_input_topic<std::string, std::int64_t>("left");
  auto r = driver.create_input_topic<std::string, std::int64_t>("right");
  auto big = driver.create_output_topic<std::string, std::int64_t>("big");
  l.pipe_input("k", 1, 1);
  r.pipe_input("k", 2, 2);  // 3: filtered out, and nothing was there before: nothing
  l.pipe_input("k", 9, 3);  // 11
  l.pipe_input("k", 2, 4);  // 4: the old value 11 passed, so a deletion
  using RI = TestRecord<std::string, std::int64_t>;
  EXPECT_THAT(big.read_records_to_list(), ElementsAre(RI("k", 11, 3), RI("k", std::nullopt, 4)));
}

TEST(DslTableTableJoin, GeneratedNamesFollowKafkaStreams) {
  StreamsBuilder builder;
  auto left = builder.table<std::string, std::string>("left");
  auto right = builder.table<std::string, std::string>("right");
  left.join(right, inner_joiner()).to_stream().to("a");
  left.outer_join(right, outer_joiner(), Named{}, Materialized<std::string, std::string>{})
      .to_stream()
      .to("b");
  const Topology topology = builder.build();
  const std::string text = topology.describe().to_string();
  // left: store 0, source 1, KTABLE-SOURCE-2; right: 3, 4, 5.
  EXPECT_THAT(text, HasSubstr("KTABLE-MERGE-0000000006"));
  EXPECT_THAT(text, HasSubstr("KTABLE-JOINTHIS-0000000007"));
  EXPECT_THAT(text, HasSubstr("KTABLE-JOINOTHER-0000000008"));
  // to_stream 9, sink 10; then the materialized join's store first, as in Kafka Streams.
  EXPECT_THAT(text, HasSubstr("KTABLE-MERGE-STATE-STORE-0000000011"));
  EXPECT_THAT(text, HasSubstr("KTABLE-MERGE-0000000012"));
  TopologyTestDriver driver(topology);
  EXPECT_NE(driver.get_state_store("KTABLE-MERGE-STATE-STORE-0000000011"), nullptr);
}

}  // namespace
}  // namespace rivulet
