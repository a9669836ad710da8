// KStream::drop_duplicates, run through the TopologyTestDriver: duplicates within the window are
// dropped and counted, an id passes again once the window has passed, ids are independent,
// out-of-order records compare by event time, and the state lives in a logged window store.
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
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TestRecord;
using testing::TopologyTestDriver;
using R = TestRecord<std::string, std::string>;

Topology dedup_by_key(std::chrono::milliseconds window) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in").drop_duplicates(window).to("out");
  return builder.build();
}

TEST(DslDeduplication, DropsRecordsOfAKeySeenWithinTheWindowAndCountsThem) {
  const Topology topology = dedup_by_key(10ms);
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_input("a", "first", 100);
  in.pipe_input("a", "again", 105);
  in.pipe_input("a", "edge", 110);  // exactly `window` later: still a duplicate
  EXPECT_THAT(out.read_records_to_list(), ElementsAre(R("a", "first", 100)));
  EXPECT_EQ(driver.metrics().dropped_records, 2u);
}

// Dropped duplicates do not extend the window: the id passes again once its last forwarded
// record is more than `window` away.
TEST(DslDeduplication, AnIdPassesAgainOnceTheWindowHasPassed) {
  const Topology topology = dedup_by_key(10ms);
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_input("a", "1", 100);
  in.pipe_input("a", "2", 108);
  in.pipe_input("a", "3", 111);  // 11 ms after the forwarded one
  in.pipe_input("a", "4", 121);  // within 10 ms of "3"
  in.pipe_input("a", "5", 500);
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("1", "3", "5"));
  EXPECT_EQ(driver.metrics().dropped_records, 2u);
}

TEST(DslDeduplication, IdsAreIndependent) {
  const Topology topology = dedup_by_key(1min);
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_input("a", "a1", 1);
  in.pipe_input("b", "b1", 2);
  in.pipe_input("a", "a2", 3);
  in.pipe_input("c", "c1", 4);
  in.pipe_input("b", "b2", 5);
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("a1", "b1", "c1"));
}

// Out-of-order records compare by event time in both directions.
TEST(DslDeduplication, OutOfOrderRecordsCompareByEventTime) {
  const Topology topology = dedup_by_key(10ms);
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_input("a", "100", 100);
  in.pipe_input("a", "90", 90);  // 10 ms earlier: duplicate
  in.pipe_input("a", "89", 89);  // 11 ms earlier: passes
  in.pipe_input("a", "80", 80);  // within 10 ms of "89"
  in.pipe_input("a", "99", 99);  // within 10 ms of both
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("100", "89"));
  EXPECT_EQ(driver.metrics().dropped_records, 3u);
}

TEST(DslDeduplication, KeepsTimestampAndHeadersOfTheFirstRecord) {
  const Topology topology = dedup_by_key(10ms);
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  Headers headers;
  headers.add("trace", "t-1");
  in.pipe_input(R("a", "v", 42, headers));
  in.pipe_input(R("a", "v", 43));
  EXPECT_THAT(out.read_records_to_list(), ElementsAre(R("a", "v", 42, headers)));
}

// The SaaS sales analytics system deduplicates orders by their event id, whatever the key.
struct Order {
  std::string event_id;
  std::string customer;
  std::int64_t cents = 0;
  friend bool operator==(const Order&, const Order&) = default;
};
void to_json(nlohmann::json& j, const Order& o) {
  j = nlohmann::json{{"event_id", o.event_id}, {"customer", o.customer}, {"cents", o.cents}};
}
void from_json(const nlohmann::json& j, Order& o) {
  j.at("event_id").get_to(o.event_id);
  j.at("customer").get_to(o.customer);
  j.at("cents").get_to(o.cents);
}

TEST(DslDeduplication, DeduplicatesOrdersByEventIdExtractedFromTheValue) {
  StreamsBuilder builder;
  builder.stream<std::string, Order>("orders")
      .drop_duplicates([](const std::string&, const Order& order) { return order.event_id; }, 1h,
                       Named::as("dedup-orders"))
      .to("orders-unique");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, Order>("orders");
  auto out = driver.create_output_topic<std::string, Order>("orders-unique");
  const Order first{"evt-1", "acme", 1000};
  const Order second{"evt-2", "acme", 2000};
  in.pipe_input("acme", first, 1'000);
  in.pipe_input("acme", second, 2'000);
  in.pipe_input("acme", first, 3'000);               // redelivered
  in.pipe_input("other-key", first, 4'000);          // same event under another key
  in.pipe_input("acme", second, 2'000 + 3'600'000);  // exactly 1 h later: still a duplicate
  EXPECT_THAT(out.read_values_to_list(), ElementsAre(first, second));
  EXPECT_EQ(driver.metrics().dropped_records, 3u);

  auto* store = driver.get_window_store<std::string, Bytes>("dedup-orders-store");
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->persistent());
  EXPECT_EQ(store->fetch("evt-1", 0, 10'000).to_vector().size(), 1u);
  // The store is logged, so it is restored when the task restarts or moves.
  EXPECT_THAT(driver.produced_topic_names(),
              Contains(driver.application_id() + "-dedup-orders-store-changelog"));
}

TEST(DslDeduplication, RecordsWithoutAnIdPassThrough) {
  StreamsBuilder builder;
  builder.stream<std::optional<std::string>, std::string>("in").drop_duplicates(10ms).to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::optional<std::string>, std::string>("in");
  auto out = driver.create_output_topic<std::optional<std::string>, std::string>("out");
  in.pipe_input(std::nullopt, "x", 1);
  in.pipe_input(std::nullopt, "x", 2);
  in.pipe_input(std::string("k"), "y", 3);
  in.pipe_input(std::string("k"), "y", 4);
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("x", "x", "y"));
  EXPECT_EQ(driver.metrics().dropped_records, 1u);
}

TEST(DslDeduplication, GeneratedNamesAndInMemoryDefaultStore) {
  StreamsConfig config;
  config.set("default.dsl.store", "in_memory");
  StreamsBuilder builder(config);
  builder.stream<std::string, std::string>("in").drop_duplicates(10ms).to("out");
  const Topology topology = builder.build();
  EXPECT_THAT(topology.describe().to_string(), HasSubstr("KSTREAM-DEDUPLICATE-0000000001"));
  TopologyTestDriver driver(topology);
  StateStore* store = driver.get_state_store("KSTREAM-DEDUPLICATE-0000000001-store");
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->persistent());
}

// Records with equal ids must meet in one task: a stream whose key changed is repartitioned.
TEST(DslDeduplication, RepartitionsWhenTheKeyChanged) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .select_key([](const std::string&, const std::string& value) { return value; })
      .drop_duplicates(10ms, Named::as("unique"))
      .to("out");
  const Topology topology = builder.build();
  EXPECT_THAT(topology.describe().to_string(), HasSubstr("unique-repartition"));
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_input("k1", "v", 1);
  in.pipe_input("k2", "v", 2);
  EXPECT_THAT(out.read_key_values_to_list(),
              ElementsAre(KeyValue<std::string, std::string>{"v", "v"}));
}

TEST(DslDeduplication, RejectsANonPositiveWindow) {
  StreamsBuilder builder;
  auto stream = builder.stream<std::string, std::string>("in");
  EXPECT_THROW(stream.drop_duplicates(0ms), TopologyException);
  EXPECT_THROW(stream.drop_duplicates(-5ms), TopologyException);
}

}  // namespace
}  // namespace rivulet
