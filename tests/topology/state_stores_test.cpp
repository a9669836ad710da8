// State stores in a topology: connecting stores to processors, the sub-topologies they join,
// the description, access through the ProcessorContext, and the driver's view of them.
#include <cstdint>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>
#include <rivulet/state/stores.h>
#include <rivulet/testing/topology_test_driver.h>

namespace rivulet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Counts = KeyValueStore<std::string, std::int64_t>;

// Counts records per key in store "counts" and forwards the new count.
class Counter final : public Processor<std::string, std::string, std::string, std::int64_t> {
 public:
  explicit Counter(std::string store = "counts") : store_name_(std::move(store)) {}
  void init(ProcessorContext<std::string, std::int64_t>& context) override {
    context_ = &context;
    store_ = &context.get_state_store<Counts>(store_name_);
  }
  void process(Record<std::string, std::string> record) override {
    const std::int64_t count = store_->get(record.key()).value_or(0) + 1;
    store_->put(record.key(), count);
    context_->forward(Record<std::string, std::int64_t>(record.key(), count, record.timestamp()));
  }

 private:
  std::string store_name_;
  ProcessorContext<std::string, std::int64_t>* context_ = nullptr;
  Counts* store_ = nullptr;
};

Topology counting_topology(KeyValueBytesStoreSupplier supplier) {
  Topology topology;
  topology.add_source<std::string, std::string>("source", {"in"});
  topology.add_processor("counter", [] { return std::make_unique<Counter>(); }, {"source"});
  topology.add_state_store(Stores::key_value_store_builder<std::string, std::int64_t>(supplier),
                           {"counter"});
  topology.add_sink<std::string, std::int64_t>("sink", "out", {"counter"});
  return topology;
}

TEST(StateStoreTopology, AddingAStoreTwiceOrToAnUnknownProcessorFails) {
  Topology topology;
  topology.add_source<std::string, std::string>("source", {"in"});
  topology.add_processor("counter", [] { return std::make_unique<Counter>(); }, {"source"});
  auto builder = Stores::key_value_store_builder<std::string, std::int64_t>(
      Stores::in_memory_key_value_store("counts"));
  topology.add_state_store(builder, {"counter"});
  EXPECT_THROW(
      {
        try {
          topology.add_state_store(builder);
        } catch (const TopologyException& e) {
          EXPECT_THAT(e.what(), HasSubstr("'counts' is already added"));
          throw;
        }
      },
      TopologyException);
  auto other = Stores::key_value_store_builder<std::string, std::int64_t>(
      Stores::in_memory_key_value_store("other"));
  EXPECT_THROW(topology.add_state_store(other, {"nobody"}), TopologyException);
  EXPECT_THROW(topology.connect_processor_and_state_stores("counter", {"missing"}),
               TopologyException);
  EXPECT_THROW(topology.connect_processor_and_state_stores("source", {"counts"}),
               TopologyException);
}

TEST(StateStoreTopology, StoreNamesMustBeLegalTopicNameParts) {
  EXPECT_THROW(Stores::persistent_key_value_store("no spaces"), TopologyException);
  EXPECT_THROW(Stores::in_memory_key_value_store(""), TopologyException);
  EXPECT_THROW(Stores::persistent_window_store("w", std::chrono::milliseconds(10),
                                               std::chrono::milliseconds(20)),
               TopologyException);
}

TEST(StateStoreTopology, ProcessorsSharingAStoreJoinOneSubtopology) {
  Topology topology;
  topology.add_source<std::string, std::string>("a", {"topic-a"});
  topology.add_source<std::string, std::string>("b", {"topic-b"});
  topology.add_processor("count-a", [] { return std::make_unique<Counter>(); }, {"a"});
  topology.add_processor("count-b", [] { return std::make_unique<Counter>(); }, {"b"});
  topology.add_state_store(Stores::key_value_store_builder<std::string, std::int64_t>(
                               Stores::in_memory_key_value_store("counts")),
                           {"count-a", "count-b"});
  const auto subtopologies = topology.describe().subtopologies();
  ASSERT_EQ(subtopologies.size(), 1u);
  const std::string text = topology.describe().to_string();
  EXPECT_THAT(text, HasSubstr("Processor: count-a (stores: [counts])"));
  EXPECT_THAT(text, HasSubstr("Processor: count-b (stores: [counts])"));
}

TEST(StateStoreTopology, AProcessorWithoutAccessToAStoreFailsClearly) {
  Topology topology;
  topology.add_source<std::string, std::string>("source", {"in"});
  topology.add_processor("counter", [] { return std::make_unique<Counter>("counts"); }, {"source"});
  topology.add_processor("sneaky", [] { return std::make_unique<Counter>("counts"); }, {"source"});
  topology.add_state_store(Stores::key_value_store_builder<std::string, std::int64_t>(
                               Stores::in_memory_key_value_store("counts")),
                           {"counter"});
  EXPECT_THROW(
      {
        try {
          testing::TopologyTestDriver driver(topology);
        } catch (const StreamsException& e) {
          EXPECT_THAT(e.what(), HasSubstr("processor 'sneaky' has no access to state store"));
          throw;
        }
      },
      StreamsException);
}

TEST(StateStoreTopology, AskingForTheWrongStoreTypeNamesBoth) {
  Topology topology;
  topology.add_source<std::string, std::string>("source", {"in"});
  topology.add_processor("counter", [] { return std::make_unique<Counter>(); }, {"source"});
  topology.add_state_store(Stores::key_value_store_builder<std::string, std::string>(
                               Stores::in_memory_key_value_store("counts")),
                           {"counter"});
  EXPECT_THROW(
      {
        try {
          testing::TopologyTestDriver driver(topology);
        } catch (const StreamsException& e) {
          EXPECT_THAT(e.what(), HasSubstr("state store 'counts' of processor 'counter' is not a"));
          throw;
        }
      },
      StreamsException);
}

class CountingInDriver : public ::testing::TestWithParam<bool> {
 protected:
  KeyValueBytesStoreSupplier supplier() const {
    return GetParam() ? Stores::persistent_key_value_store("counts")
                      : Stores::in_memory_key_value_store("counts");
  }
};

TEST_P(CountingInDriver, CountsPerKeyAndLogsEveryChange) {
  testing::TopologyTestDriver driver(counting_topology(supplier()));
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::int64_t>("out");
  in.pipe_input("a", "x", 10);
  in.pipe_input("b", "x", 11);
  in.pipe_input("a", "x", 12);
  EXPECT_THAT(out.read_key_values_to_list(),
              ElementsAre(KeyValue<std::string, std::int64_t>{"a", 1},
                          KeyValue<std::string, std::int64_t>{"b", 1},
                          KeyValue<std::string, std::int64_t>{"a", 2}));

  Counts* store = driver.get_key_value_store<std::string, std::int64_t>("counts");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->get("a"), 2);
  EXPECT_EQ(store->get("b"), 1);
  EXPECT_EQ(store->get("c"), std::nullopt);
  EXPECT_EQ(store->persistent(), GetParam());
  EXPECT_EQ((driver.get_key_value_store<std::string, std::string>("counts")), nullptr);

  const std::string changelog = driver.application_id() + "-counts-changelog";
  auto log = driver.create_output_topic<std::string, std::int64_t>(changelog);
  const auto changes = log.read_records_to_list();
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[2].key, "a");
  EXPECT_EQ(changes[2].value, 2);
  EXPECT_EQ(changes[2].timestamp, 12);  // the timestamp of the record that made the change
}

INSTANTIATE_TEST_SUITE_P(Stores, CountingInDriver, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "RocksDb" : "InMemory";
                         });

}  // namespace
}  // namespace rivulet
