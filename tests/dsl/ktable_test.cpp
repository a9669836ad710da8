// KTables through the TopologyTestDriver: source tables (upserts, deletions, null keys), their
// stores, filter / filter_not / map_values, to_stream, and the value getters joins build on.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

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
using SRec = TestRecord<std::string, std::string>;
using IRec = TestRecord<std::string, std::int64_t>;

TEST(DslTable, UpsertsKeysAndForwardsDeletionsAsTombstones) {
  StreamsBuilder builder;
  builder.table<std::string, std::string>("in").to_stream().to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_input("a", "1", 10);
  in.pipe_input("b", "2", 11);
  in.pipe_input("a", "3", 12);
  in.pipe_input(SRec("a", std::nullopt, 13));
  EXPECT_THAT(out.read_records_to_list(),
              ElementsAre(SRec("a", "1", 10), SRec("b", "2", 11), SRec("a", "3", 12),
                          SRec("a", std::nullopt, 13)));
}

TEST(DslTable, DropsAndCountsRecordsWithANullKey) {
  StreamsBuilder builder;
  builder.table<std::string, std::string>("in").to_stream().to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_value("no key");
  in.pipe_input("a", "1");
  EXPECT_THAT(out.read_records_to_list(), ElementsAre(SRec("a", "1", 0)));
  EXPECT_EQ(driver.metrics().dropped_records, 1U);
}

TEST(DslTable, MaterializedStoreHoldsTheLatestValueOfEachKey) {
  StreamsBuilder builder;
  KTable<std::string, std::string> table = builder.table<std::string, std::string>(
      "in", {}, Materialized<std::string, std::string>::as("table-store"));
  EXPECT_EQ(table.queryable_store_name(), "table-store");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  in.pipe_input("a", "1", 5);
  in.pipe_input("a", "2", 6);
  in.pipe_input("b", "3", 7);
  in.pipe_input(SRec("b", std::nullopt, 8));
  auto* store =
      driver.get_key_value_store<std::string, ValueAndTimestamp<std::string>>("table-store");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->get("a"), (ValueAndTimestamp<std::string>{"2", 6}));
  EXPECT_EQ(store->get("b"), std::nullopt);
}

TEST(DslTable, SourceTableIsNotMaterializedUnlessNeeded) {
  StreamsBuilder builder;
  KTable<std::string, std::string> table = builder.table<std::string, std::string>("in");
  EXPECT_EQ(table.store_name(), "");
  EXPECT_EQ(table.queryable_store_name(), std::nullopt);
  table.to_stream().to("out");
  EXPECT_EQ(builder.build().describe().to_string(),
            "Topologies:\n"
            "   Sub-topology: 0\n"
            "    Source: KSTREAM-SOURCE-0000000001 (topics: [in])\n"
            "      --> KTABLE-SOURCE-0000000002\n"
            "    Processor: KTABLE-SOURCE-0000000002 (stores: [])\n"
            "      --> KTABLE-TOSTREAM-0000000003\n"
            "      <-- KSTREAM-SOURCE-0000000001\n"
            "    Processor: KTABLE-TOSTREAM-0000000003 (stores: [])\n"
            "      --> KSTREAM-SINK-0000000004\n"
            "      <-- KTABLE-SOURCE-0000000002\n"
            "    Sink: KSTREAM-SINK-0000000004 (topic: out)\n"
            "      <-- KTABLE-TOSTREAM-0000000003\n"
            "\n");
}

TEST(DslTable, MaterializedSourceListsItsStoreInTheDescription) {
  StreamsBuilder builder;
  builder.table<std::string, std::string>(
      "in", Consumed<std::string, std::string>::as("users"),
      Materialized<std::string, std::string>::as("users-store"));
  EXPECT_THAT(builder.build().describe().to_string(),
              HasSubstr("    Source: users (topics: [in])\n"
                        "      --> users-table-source\n"
                        "    Processor: users-table-source (stores: [users-store])\n"));
}

// Kafka Streams' KTableFilter: a value that does not pass deletes its key downstream.
TEST(DslTableFilter, ForwardsDeletionsForFilteredOutKeys) {
  StreamsBuilder builder;
  builder.table<std::string, std::int64_t>("in")
      .filter([](const std::string&, std::int64_t value) { return value % 2 == 0; })
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::int64_t>("in");
  auto out = driver.create_output_topic<std::string, std::int64_t>("out");
  in.pipe_input("A", 1, 1);
  in.pipe_input("B", 2, 2);
  in.pipe_input("C", 3, 3);
  in.pipe_input("D", 4, 4);
  in.pipe_input(IRec("B", std::nullopt, 5));
  EXPECT_THAT(out.read_records_to_list(),
              ElementsAre(IRec("A", std::nullopt, 1), IRec("B", 2, 2), IRec("C", std::nullopt, 3),
                          IRec("D", 4, 4), IRec("B", std::nullopt, 5)));
}

TEST(DslTableFilter, FilterNotKeepsValuesThatDoNotMatch) {
  StreamsBuilder builder;
  builder.table<std::string, std::int64_t>("in")
      .filter_not([](const std::string&, std::int64_t value) { return value % 2 == 0; })
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::int64_t>("in");
  auto out = driver.create_output_topic<std::string, std::int64_t>("out");
  in.pipe_input("A", 1, 1);
  in.pipe_input("B", 2, 2);
  EXPECT_THAT(out.read_records_to_list(), ElementsAre(IRec("A", 1, 1), IRec("B", std::nullopt, 2)));
}

TEST(DslTableFilter, MaterializedFilterStoresOnlyPassingValues) {
  StreamsBuilder builder;
  builder.table<std::string, std::int64_t>("in").filter(
      [](const std::string&, std::int64_t value) { return value > 10; }, Named::as("big"),
      Materialized<std::string, std::int64_t>::as("big-store"));
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::int64_t>("in");
  in.pipe_input("a", 20, 1);
  in.pipe_input("b", 5, 2);
  in.pipe_input("a", 3, 3);
  in.pipe_input("c", 30, 4);
  auto* store =
      driver.get_key_value_store<std::string, ValueAndTimestamp<std::int64_t>>("big-store");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->get("a"), std::nullopt);
  EXPECT_EQ(store->get("b"), std::nullopt);
  EXPECT_EQ(store->get("c"), (ValueAndTimestamp<std::int64_t>{30, 4}));
}

TEST(DslTableMapValues, MapsValuesAndKeepsDeletions) {
  StreamsBuilder builder;
  builder.table<std::string, std::int64_t>("in")
      .map_values([](std::int64_t value) { return "v" + std::to_string(value * 10); })
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::int64_t>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_input("a", 1, 7);
  in.pipe_input(IRec("a", std::nullopt, 8));
  EXPECT_THAT(out.read_records_to_list(),
              ElementsAre(SRec("a", "v10", 7), SRec("a", std::nullopt, 8)));
}

TEST(DslTableMapValues, MapperMayTakeTheKey) {
  StreamsBuilder builder;
  builder.table<std::string, std::int64_t>("in")
      .map_values([](const std::string& key, std::int64_t value) {
        return key + "=" + std::to_string(value);
      })
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::int64_t>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_input("a", 1);
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("a=1"));
}

TEST(DslTableToStream, ValuesOfTheStreamAreOptional) {
  StreamsBuilder builder;
  KStream<std::string, std::optional<std::string>> stream =
      builder.table<std::string, std::string>("in").to_stream();
  stream
      .map_values([](const std::optional<std::string>& value) {
        return value ? "upsert " + *value : std::string("delete");
      })
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_input("a", "1");
  in.pipe_input(SRec("a", std::nullopt));
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("upsert 1", "delete"));
}

TEST(DslStreamToTable, ReadsTheStreamAsATableWithNullValuesAsDeletions) {
  StreamsBuilder builder;
  builder.stream<std::string, std::optional<std::string>>("in")
      .to_table(Named::as("as-table"),
                Materialized<std::string, std::optional<std::string>>::as("as-table-store"))
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, std::optional<std::string>>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_input("a", std::optional<std::string>("1"), 1);
  in.pipe_input("a", std::nullopt, 2);
  EXPECT_THAT(out.read_records_to_list(),
              ElementsAre(SRec("a", "1", 1), SRec("a", std::nullopt, 2)));
  auto* store =
      driver.get_key_value_store<std::string, ValueAndTimestamp<std::optional<std::string>>>(
          "as-table-store");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->get("a"), std::nullopt);
}

TEST(DslStreamToTable, RepartitionsWhenTheKeyChanged) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .select_key([](const std::string&, const std::string& value) { return value; })
      .to_table()
      .to_stream()
      .to("out");
  const std::string description = builder.build().describe().to_string();
  EXPECT_THAT(description, HasSubstr("Sink: KSTREAM-SINK-0000000004 (topic: "
                                     "KSTREAM-TOTABLE-0000000002-repartition)"));
  EXPECT_THAT(description, HasSubstr("Processor: KSTREAM-TOTABLE-0000000002 (stores: [])"));
}

// A processor that looks up each record's key in a table through a value getter, as a
// stream-table join does.
class Lookup final : public Processor<std::string, std::string, std::string, std::string> {
 public:
  explicit Lookup(detail::KTableValueGetterSupplier<std::string, std::int64_t> supplier)
      : supplier_(std::move(supplier)) {}
  void init(ProcessorContext<std::string, std::string>& context) override {
    context_ = &context;
    getter_ = supplier_.get();
    getter_->init(detail::store_lookup(context));
  }
  void process(Record<std::string, std::string> record) override {
    std::optional<ValueAndTimestamp<std::int64_t>> found = getter_->get(record.key());
    std::string value = found
                            ? std::to_string(found->value) + "@" + std::to_string(found->timestamp)
                            : std::string("none");
    context_->forward(std::move(record).with_value(std::move(value)));
  }

 private:
  detail::KTableValueGetterSupplier<std::string, std::int64_t> supplier_;
  std::unique_ptr<detail::KTableValueGetter<std::string, std::int64_t>> getter_;
  ProcessorContext<std::string, std::string>* context_ = nullptr;
};

TEST(DslTableValueGetter, ReadsThroughAFilterFromTheMaterializedSource) {
  StreamsBuilder builder;
  KTable<std::string, std::int64_t> table = builder.table<std::string, std::int64_t>("table");
  KTable<std::string, std::int64_t> big =
      table.filter([](const std::string&, std::int64_t value) { return value > 10; });
  detail::KTableValueGetterSupplier<std::string, std::int64_t> supplier =
      big.value_getter_supplier();
  // The source table got a store for the getter; the filter reads through it.
  ASSERT_EQ(supplier.store_names.size(), 1U);
  EXPECT_EQ(supplier.store_names.front(), table.store_name());
  KStream<std::string, std::string> joined =
      builder.stream<std::string, std::string>("stream").process(
          [supplier] { return std::make_unique<Lookup>(supplier); });
  joined.to("out");
  Topology topology = builder.build();
  topology.connect_processor_and_state_stores(joined.node_name(), supplier.store_names);
  TopologyTestDriver driver(topology);
  auto tables = driver.create_input_topic<std::string, std::int64_t>("table");
  auto stream = driver.create_input_topic<std::string, std::string>("stream");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  tables.pipe_input("a", 20, 3);
  tables.pipe_input("b", 5, 4);
  stream.pipe_input("a", "x");
  stream.pipe_input("b", "x");
  stream.pipe_input("c", "x");
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("20@3", "none", "none"));
}

TEST(DslTableValueGetter, MapValuesGetterMapsTheParentsValue) {
  StreamsBuilder builder;
  KTable<std::string, std::int64_t> doubled =
      builder
          .table<std::string, std::int64_t>("table", {},
                                            Materialized<std::string, std::int64_t>::as("t"))
          .map_values([](std::int64_t value) { return value * 2; });
  detail::KTableValueGetterSupplier<std::string, std::int64_t> supplier =
      doubled.value_getter_supplier();
  EXPECT_THAT(supplier.store_names, ElementsAre("t"));
  KStream<std::string, std::string> joined =
      builder.stream<std::string, std::string>("stream").process(
          [supplier] { return std::make_unique<Lookup>(supplier); });
  joined.to("out");
  Topology topology = builder.build();
  topology.connect_processor_and_state_stores(joined.node_name(), supplier.store_names);
  TopologyTestDriver driver(topology);
  auto tables = driver.create_input_topic<std::string, std::int64_t>("table");
  auto stream = driver.create_input_topic<std::string, std::string>("stream");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  tables.pipe_input("a", 21, 9);
  stream.pipe_input("a", "x");
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("42@9"));
}

TEST(DslTableValueGetter, AggregationTableReadsItsStore) {
  StreamsBuilder builder;
  KTable<std::string, std::int64_t> counts =
      builder.stream<std::string, std::string>("words").group_by_key().count();
  detail::KTableValueGetterSupplier<std::string, std::int64_t> supplier =
      counts.value_getter_supplier();
  EXPECT_THAT(supplier.store_names, ElementsAre(counts.store_name()));
}

}  // namespace
}  // namespace rivulet
