// Stream-table joins (inner, left), run through the TopologyTestDriver: the KStream-KTable join
// semantics table of the Kafka Streams developer guide row by row, lookups through a derived
// table, names, and repartitioning of the stream.
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

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
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

struct Row {
  std::int64_t timestamp;
  bool stream_side;
  std::string value;  // empty: null
  std::vector<std::string> inner;
  std::vector<std::string> left;
};

// The "semantics of stream-table joins" table of the Kafka Streams developer guide: one key,
// records in timestamp order; only stream records trigger the join.
TEST(DslStreamTableJoin, ReproducesKafkaStreamsJoinSemanticsTable) {
  StreamsBuilder builder;
  auto stream = builder.stream<std::string, std::string>(
      "left", Consumed<std::string, std::string>::with(serdes::string(), test::EmptyIsNullSerde{}));
  auto table = builder.table<std::string, std::string>("right");
  stream
      .join(table,
            [](const std::string& l, const std::string& r) { return "[" + l + ", " + r + "]"; })
      .to("inner");
  stream
      .left_join(table,
                 [](const std::string& l, const std::optional<std::string>& r) {
                   return "[" + l + ", " + show(r) + "]";
                 })
      .to("left-out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology, no_cache_config());
  auto left = driver.create_input_topic<std::string, std::string>("left");
  auto right = driver.create_input_topic<std::string, std::string>("right");
  auto inner_out = driver.create_output_topic<std::string, std::string>("inner");
  auto left_out = driver.create_output_topic<std::string, std::string>("left-out");

  using V = std::vector<std::string>;
  const V none;
  const std::vector<Row> rows = {
      {1, true, "", none, none},
      {2, false, "", none, none},
      {3, true, "A", none, V{"[A, null]"}},
      {4, false, "a", none, none},
      {5, true, "B", V{"[B, a]"}, V{"[B, a]"}},
      {6, false, "b", none, none},
      {7, true, "", none, none},
      {8, false, "", none, none},
      {9, true, "C", none, V{"[C, null]"}},
      {10, false, "c", none, none},
      {11, false, "", none, none},
      {12, true, "", none, none},
      {13, false, "", none, none},
      {14, false, "d", none, none},
      {15, true, "D", V{"[D, d]"}, V{"[D, d]"}},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE("row at timestamp " + std::to_string(row.timestamp));
    std::optional<std::string> value;
    if (!row.value.empty()) value = row.value;
    (row.stream_side ? left : right).pipe_input(R("k", value, row.timestamp));
    V inner;
    for (const R& r : inner_out.read_records_to_list()) {
      EXPECT_EQ(r.timestamp, row.timestamp);  // the stream record's
      inner.push_back(*r.value);
    }
    V left_values;
    for (const R& r : left_out.read_records_to_list()) {
      EXPECT_EQ(r.timestamp, row.timestamp);
      left_values.push_back(*r.value);
    }
    EXPECT_EQ(inner, row.inner);
    EXPECT_EQ(left_values, row.left);
  }
  // Stream records with a null value (rows 1, 7, 12) are dropped and counted by both joins.
  EXPECT_EQ(driver.metrics().dropped_records, 6u);
}

TEST(DslStreamTableJoin, KeepsTheStreamRecordsKeyTimestampAndHeaders) {
  StreamsBuilder builder;
  auto table = builder.table<std::string, std::int64_t>("prices");
  builder.stream<std::string, std::int64_t>("orders")
      .join(table, [](const std::string& key, std::int64_t quantity,
                      std::int64_t price) { return key + ":" + std::to_string(quantity * price); })
      .to("totals");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto prices = driver.create_input_topic<std::string, std::int64_t>("prices");
  auto orders = driver.create_input_topic<std::string, std::int64_t>("orders");
  auto totals = driver.create_output_topic<std::string, std::string>("totals");
  prices.pipe_input("apple", 3, 1'000);  // newer than the order: still its current value
  Headers headers;
  headers.add("source", "web");
  orders.pipe_input(TestRecord<std::string, std::int64_t>("apple", 4, 10, headers));
  EXPECT_THAT(totals.read_records_to_list(), ElementsAre(R("apple", "apple:12", 10, headers)));
  prices.pipe_input("apple", 5, 1'001);  // table updates emit nothing
  EXPECT_TRUE(totals.is_empty());
}

TEST(DslStreamTableJoin, LooksUpThroughADerivedTable) {
  StreamsBuilder builder;
  auto table = builder.table<std::string, std::int64_t>("limits")
                   .filter([](const std::string&, std::int64_t limit) { return limit > 0; })
                   .map_values([](std::int64_t limit) { return "limit=" + std::to_string(limit); });
  builder.stream<std::string, std::string>("requests")
      .left_join(table,
                 [](const std::string& request, const std::optional<std::string>& limit) {
                   return request + " " + show(limit);
                 })
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto limits = driver.create_input_topic<std::string, std::int64_t>("limits");
  auto requests = driver.create_input_topic<std::string, std::string>("requests");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  limits.pipe_input("a", 10, 1);
  limits.pipe_input("b", -1, 1);  // filtered out: absent for the join
  requests.pipe_input("a", "GET", 2);
  requests.pipe_input("b", "GET", 2);
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("GET limit=10", "GET null"));
}

TEST(DslStreamTableJoin, NamesFollowKafkaStreams) {
  StreamsBuilder builder;
  auto stream = builder.stream<std::string, std::string>("left");
  auto table = builder.table<std::string, std::string>("right");
  stream.join(table, [](const std::string& l, const std::string& r) { return l + r; }).to("a");
  stream
      .left_join(table, [](const std::string& l,
                           const std::optional<std::string>& r) { return l + show(r); })
      .to("b");
  stream
      .join(
          table, [](const std::string& l, const std::string& r) { return l + r; },
          Joined<std::string, std::string, std::string>::as("enrich"))
      .to("c");
  const std::string text = builder.build().describe().to_string();
  // stream: SOURCE-0; table: store right-STATE-STORE-1, SOURCE-2, KTABLE-SOURCE-3.
  EXPECT_THAT(text, HasSubstr("KSTREAM-JOIN-0000000004"));
  EXPECT_THAT(text, HasSubstr("KSTREAM-LEFTJOIN-0000000006"));
  EXPECT_THAT(text, HasSubstr("enrich"));
  EXPECT_THAT(text, HasSubstr("right-STATE-STORE-0000000001"));
}

TEST(DslStreamTableJoin, RepartitionsAStreamWhoseKeyChanged) {
  StreamsBuilder builder;
  auto table = builder.table<std::string, std::string>("customers");
  builder.stream<std::string, std::string>("orders")
      .select_key([](const std::string&, const std::string& value) { return value; })
      .join(
          table,
          [](const std::string& order, const std::string& customer) {
            return order + " by " + customer;
          },
          Joined<std::string, std::string, std::string>::as("by-customer"))
      .to("out");
  const Topology topology = builder.build();
  EXPECT_THAT(topology.describe().to_string(), HasSubstr("by-customer-left-repartition"));
  TopologyTestDriver driver(topology);
  auto customers = driver.create_input_topic<std::string, std::string>("customers");
  auto orders = driver.create_input_topic<std::string, std::string>("orders");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  customers.pipe_input("c1", "Ada", 1);
  orders.pipe_input("order-7", "c1", 2);
  EXPECT_THAT(out.read_key_values_to_list(),
              ElementsAre(KeyValue<std::string, std::string>{"c1", "c1 by Ada"}));
}

TEST(DslStreamTableJoin, NullKeysAreDroppedAndCounted) {
  StreamsBuilder builder;
  auto table = builder.table<std::optional<std::string>, std::string>("right");
  builder.stream<std::optional<std::string>, std::string>("left")
      .left_join(table, [](const std::string& l,
                           const std::optional<std::string>& r) { return l + "/" + show(r); })
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto left = driver.create_input_topic<std::optional<std::string>, std::string>("left");
  auto out = driver.create_output_topic<std::optional<std::string>, std::string>("out");
  left.pipe_input(std::nullopt, "x", 1);
  EXPECT_TRUE(out.is_empty());
  EXPECT_EQ(driver.metrics().dropped_records, 1u);
  left.pipe_input(std::string("k"), "y", 2);
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("y/null"));
}

}  // namespace
}  // namespace rivulet
