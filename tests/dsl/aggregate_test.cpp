// Non-windowed aggregations (count, reduce, aggregate), run through the TopologyTestDriver: what
// reaches the output topic, what the store holds, how records with null keys are dropped, how
// group_by repartitions, how the record cache merges updates, and how describe() shows it all.
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
using KVi = KeyValue<std::string, std::int64_t>;
using Rec = TestRecord<std::string, std::int64_t>;

StreamsConfig no_cache_config() {
  StreamsConfig config;
  config.set("statestore.cache.max.bytes", "0");
  return config;
}

// The "KGroupedStream -> KTable" table of the Kafka Streams developer guide ("Aggregating"): six
// word counts summed per word, one update per record, with the record's timestamp.
TEST(DslAggregate, ReproducesKafkaStreamsStreamAggregationTable) {
  StreamsBuilder builder;
  builder.stream<std::string, std::int32_t>("word-counts")
      .group_by_key()
      .aggregate([] { return std::int32_t{0}; },
                 [](const std::string&, std::int32_t value, std::int32_t aggregate) {
                   return aggregate + value;
                 },
                 Materialized<std::string, std::int32_t>::as("aggregated-stream-store"))
      .to_stream()
      .to("aggregated");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology, no_cache_config());
  auto in = driver.create_input_topic<std::string, std::int32_t>("word-counts");
  auto out = driver.create_output_topic<std::string, std::int32_t>("aggregated");
  const std::vector<std::pair<std::string, std::int64_t>> input = {
      {"hello", 1}, {"kafka", 2}, {"streams", 3}, {"kafka", 4}, {"kafka", 5}, {"streams", 6}};
  for (const auto& [word, timestamp] : input) in.pipe_input(word, 1, timestamp);

  using R = TestRecord<std::string, std::int32_t>;
  EXPECT_THAT(out.read_records_to_list(),
              ElementsAre(R("hello", 1, 1), R("kafka", 1, 2), R("streams", 1, 3), R("kafka", 2, 4),
                          R("kafka", 3, 5), R("streams", 2, 6)));
  auto* store = driver.get_key_value_store<std::string, ValueAndTimestamp<std::int32_t>>(
      "aggregated-stream-store");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->get("hello"), (ValueAndTimestamp<std::int32_t>{1, 1}));
  EXPECT_EQ(store->get("kafka"), (ValueAndTimestamp<std::int32_t>{3, 5}));
  EXPECT_EQ(store->get("streams"), (ValueAndTimestamp<std::int32_t>{2, 6}));
}

TEST(DslCount, CountsRecordsPerKey) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in").group_by_key().count().to_stream().to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::int64_t>("out");
  in.pipe_input("a", "x");
  in.pipe_input("b", "y");
  in.pipe_input("a", "z");
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KVi{"a", 1}, KVi{"b", 1}, KVi{"a", 2}));
}

TEST(DslReduce, KeepsTheFirstValueThenCombines) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .reduce([](const std::string& aggregate, const std::string& value) {
        return aggregate + "+" + value;
      })
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_input("a", "1");
  in.pipe_input("a", "2");
  in.pipe_input("b", "3");
  in.pipe_input("a", "4");
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("1", "1+2", "3", "1+2+4"));
}

TEST(DslAggregate, ResultTimestampIsTheNewestRecordsTimestamp) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in").group_by_key().count().to_stream().to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::int64_t>("out");
  in.pipe_input("a", "x", 10);
  in.pipe_input("a", "y", 5);  // out of order: the aggregate keeps timestamp 10
  in.pipe_input("a", "z", 12);
  EXPECT_THAT(out.read_records_to_list(),
              ElementsAre(Rec("a", 1, 10), Rec("a", 2, 10), Rec("a", 3, 12)));
}

TEST(DslCount, DropsAndCountsRecordsWithANullKey) {
  StreamsBuilder builder;
  builder.stream<std::optional<std::string>, std::string>("in")
      .group_by_key()
      .count()
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::optional<std::string>, std::string>("in");
  auto out = driver.create_output_topic<std::optional<std::string>, std::int64_t>("out");
  in.pipe_value("no key");
  in.pipe_input(std::optional<std::string>("a"), "x");
  EXPECT_THAT(out.read_key_values_to_list(),
              ElementsAre(KeyValue<std::optional<std::string>, std::int64_t>{"a", 1}));
  EXPECT_EQ(driver.metrics().dropped_records, 1U);
}

TEST(DslCount, DropsAndCountsRecordsWithANullValue) {
  StreamsBuilder builder;
  builder.stream<std::string, std::optional<std::string>>("in")
      .group_by_key()
      .count()
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::optional<std::string>>("in");
  auto out = driver.create_output_topic<std::string, std::int64_t>("out");
  in.pipe_input("a", std::nullopt);
  in.pipe_input("a", std::optional<std::string>("x"));
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KVi{"a", 1}));
  EXPECT_EQ(driver.metrics().dropped_records, 1U);
}

TEST(DslGroupBy, RepartitionsByTheSelectedKeyThroughAnInternalTopic) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by([](const std::string&, const std::string& value) { return value; })
      .count()
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::int64_t>("out");
  in.pipe_input("1", "red");
  in.pipe_input("2", "blue");
  in.pipe_input("3", "red");
  EXPECT_THAT(out.read_key_values_to_list(),
              ElementsAre(KVi{"red", 1}, KVi{"blue", 1}, KVi{"red", 2}));
  EXPECT_TRUE(driver.produced_topic_names().count(
      "topology-test-driver-KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition"));
}

TEST(DslGroupBy, GroupedNameNamesTheRepartitionTopicAndItsNodes) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by([](const std::string&, const std::string& value) { return value; },
                Grouped<std::string, std::string>::as("by-colour"))
      .count()
      .to_stream()
      .to("out");
  const std::string description = builder.build().describe().to_string();
  EXPECT_THAT(description, HasSubstr("Processor: by-colour (stores: [])"));
  EXPECT_THAT(description, HasSubstr("Processor: by-colour-repartition-filter (stores: [])"));
  EXPECT_THAT(description,
              HasSubstr("Sink: by-colour-repartition-sink (topic: by-colour-repartition)"));
  EXPECT_THAT(description,
              HasSubstr("Source: by-colour-repartition-source (topics: [by-colour-repartition])"));
}

TEST(DslGroupByKey, RepartitionsAfterAKeyChangingOperator) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .select_key([](const std::string&, const std::string& value) { return value; })
      .group_by_key()
      .count(Materialized<std::string, std::int64_t>::as("counts"))
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::int64_t>("out");
  in.pipe_input("1", "red");
  in.pipe_input("2", "red");
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KVi{"red", 1}, KVi{"red", 2}));
  EXPECT_TRUE(driver.produced_topic_names().count("topology-test-driver-counts-repartition"));
}

TEST(DslGroupBy, DropsAndCountsNullKeysBeforeTheRepartitionTopic) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by([](const std::string&, const std::string& value) {
        return value.empty() ? std::optional<std::string>() : std::optional<std::string>(value);
      })
      .count()
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::int64_t>("out");
  in.pipe_input("1", "");
  in.pipe_input("2", "red");
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KVi{"red", 1}));
  EXPECT_EQ(driver.metrics().dropped_records, 1U);
}

TEST(DslAggregate, MaterializedStoreIsQueryableWithTimestamps) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in").group_by_key().count(
      Materialized<std::string, std::int64_t>::as("counts"));
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  in.pipe_input("a", "x", 3);
  in.pipe_input("a", "y", 7);
  auto* store = driver.get_key_value_store<std::string, ValueAndTimestamp<std::int64_t>>("counts");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->get("a"), (ValueAndTimestamp<std::int64_t>{2, 7}));
  EXPECT_EQ(store->get("b"), std::nullopt);
  EXPECT_TRUE(driver.produced_topic_names().count("topology-test-driver-counts-changelog"));
}

TEST(DslAggregate, StoreWithoutANameGetsKafkaStreamsGeneratedName) {
  StreamsBuilder builder;
  KTable<std::string, std::int64_t> counts =
      builder.stream<std::string, std::string>("in").group_by_key().count();
  EXPECT_EQ(counts.store_name(), "KSTREAM-AGGREGATE-STATE-STORE-0000000001");
  EXPECT_EQ(counts.node_name(), "KSTREAM-AGGREGATE-0000000002");
  EXPECT_EQ(counts.queryable_store_name(), std::nullopt);
}

TEST(DslAggregate, InMemoryStoreTypeFollowsTheBuildersDefaultDslStore) {
  StreamsConfig config;
  config.set("default.dsl.store", "in_memory");
  StreamsBuilder builder(config);
  builder.stream<std::string, std::string>("in").group_by_key().count(
      Materialized<std::string, std::int64_t>::as("counts"));
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  ASSERT_NE(driver.get_state_store("counts"), nullptr);
  EXPECT_FALSE(driver.get_state_store("counts")->persistent());
}

TEST(DslAggregate, PersistentStoreByDefault) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in").group_by_key().count(
      Materialized<std::string, std::int64_t>::as("counts"));
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  ASSERT_NE(driver.get_state_store("counts"), nullptr);
  EXPECT_TRUE(driver.get_state_store("counts")->persistent());
}

// One input record that updates a key twice before the commit: the record cache forwards the
// merged update once (Kafka Streams' caching), and every update without a cache.
KStream<std::string, std::int64_t> count_twice_per_record(StreamsBuilder& builder) {
  return builder.stream<std::string, std::string>("in")
      .flat_map_values([](const std::string& value) {
        return std::vector<std::string>{value, value};
      })
      .group_by_key()
      .count()
      .to_stream()
      .map_values([](const std::optional<std::int64_t>& count) { return count.value_or(-1); });
}

TEST(DslAggregateCaching, MergesUpdatesOfAKeyBetweenCommits) {
  StreamsBuilder builder;
  count_twice_per_record(builder).to("out");
  StreamsConfig config;
  config.set("statestore.cache.max.bytes", "1048576");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology, config);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::int64_t>("out");
  in.pipe_input("a", "x");
  in.pipe_input("a", "y");
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KVi{"a", 2}, KVi{"a", 4}));
}

TEST(DslAggregateCaching, ForwardsEveryUpdateWhenCachingIsDisabled) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .flat_map_values([](const std::string& value) {
        return std::vector<std::string>{value, value};
      })
      .group_by_key()
      .count(Materialized<std::string, std::int64_t>::as("counts").with_caching_disabled())
      .to_stream()
      .to("out");
  StreamsConfig config;
  config.set("statestore.cache.max.bytes", "1048576");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology, config);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::int64_t>("out");
  in.pipe_input("a", "x");
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KVi{"a", 1}, KVi{"a", 2}));
}

TEST(DslAggregateCaching, ForwardsEveryUpdateWhenTheCacheSizeIsZero) {
  StreamsBuilder builder;
  count_twice_per_record(builder).to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology, no_cache_config());
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::int64_t>("out");
  in.pipe_input("a", "x");
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KVi{"a", 1}, KVi{"a", 2}));
}

// Kafka Streams' word count, as its TopologyDescription prints it.
TEST(DslAggregateDescribe, WordCountMatchesKafkaStreamsLayout) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("streams-plaintext-input")
      .flat_map_values([](const std::string& line) { return std::vector<std::string>{line}; })
      .group_by([](const std::string&, const std::string& word) { return word; })
      .count(Materialized<std::string, std::int64_t>::as("counts-store"))
      .to_stream()
      .to("streams-wordcount-output");
  EXPECT_EQ(builder.build().describe().to_string(),
            "Topologies:\n"
            "   Sub-topology: 0\n"
            "    Source: KSTREAM-SOURCE-0000000000 (topics: [streams-plaintext-input])\n"
            "      --> KSTREAM-FLATMAPVALUES-0000000001\n"
            "    Processor: KSTREAM-FLATMAPVALUES-0000000001 (stores: [])\n"
            "      --> KSTREAM-KEY-SELECT-0000000002\n"
            "      <-- KSTREAM-SOURCE-0000000000\n"
            "    Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])\n"
            "      --> counts-store-repartition-filter\n"
            "      <-- KSTREAM-FLATMAPVALUES-0000000001\n"
            "    Processor: counts-store-repartition-filter (stores: [])\n"
            "      --> counts-store-repartition-sink\n"
            "      <-- KSTREAM-KEY-SELECT-0000000002\n"
            "    Sink: counts-store-repartition-sink (topic: counts-store-repartition)\n"
            "      <-- counts-store-repartition-filter\n"
            "\n"
            "  Sub-topology: 1\n"
            "    Source: counts-store-repartition-source (topics: [counts-store-repartition])\n"
            "      --> KSTREAM-AGGREGATE-0000000003\n"
            "    Processor: KSTREAM-AGGREGATE-0000000003 (stores: [counts-store])\n"
            "      --> KTABLE-TOSTREAM-0000000007\n"
            "      <-- counts-store-repartition-source\n"
            "    Processor: KTABLE-TOSTREAM-0000000007 (stores: [])\n"
            "      --> KSTREAM-SINK-0000000008\n"
            "      <-- KSTREAM-AGGREGATE-0000000003\n"
            "    Sink: KSTREAM-SINK-0000000008 (topic: streams-wordcount-output)\n"
            "      <-- KTABLE-TOSTREAM-0000000007\n"
            "\n");
}

TEST(DslAggregateDescribe, GeneratedNamesFollowKafkaStreamsNumbering) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by([](const std::string&, const std::string& value) { return value; })
      .count();
  const std::string description = builder.build().describe().to_string();
  EXPECT_THAT(description, HasSubstr("Processor: KSTREAM-KEY-SELECT-0000000001 (stores: [])\n"
                                     "      --> KSTREAM-FILTER-0000000005\n"));
  EXPECT_THAT(description, HasSubstr("Sink: KSTREAM-SINK-0000000004 (topic: "
                                     "KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition)"));
  EXPECT_THAT(description, HasSubstr("Processor: KSTREAM-AGGREGATE-0000000003 (stores: "
                                     "[KSTREAM-AGGREGATE-STATE-STORE-0000000002])"));
  EXPECT_THAT(description, HasSubstr("Source: KSTREAM-SOURCE-0000000006 (topics: "
                                     "[KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition])"));
}

TEST(DslMaterialized, RejectsAWindowStoreSupplierForAKeyValueAggregation) {
  StreamsBuilder builder;
  auto grouped = builder.stream<std::string, std::string>("in").group_by_key();
  const std::string message = test::message_of<TopologyException>([&] {
    grouped.count(Materialized<std::string, std::int64_t>::as(Stores::in_memory_window_store(
        "w", std::chrono::milliseconds(10), std::chrono::milliseconds(10))));
  });
  EXPECT_THAT(message, HasSubstr("key-value store supplier"));
}

}  // namespace
}  // namespace rivulet
