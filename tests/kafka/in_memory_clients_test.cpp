// The in-memory clients: partitioning as librdkafka does it (checked against the real client on
// the mock cluster), and whole applications running on the in-memory cluster through them.
#include "kafka/in_memory_clients.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>

#include "kafka_test_support.h"

namespace rivulet {
namespace {

using kafka::InMemoryClientFactory;
using kafka::InMemoryCluster;
using kafka::TopicPartition;
using test::unique_name;

class NoRebalanceListener final : public kafka::RebalanceListener {
 public:
  void on_partitions_revoked(const std::vector<TopicPartition>&) override {}
  void on_partitions_lost(const std::vector<TopicPartition>&) override {}
  void on_partitions_assigned(const std::vector<TopicPartition>&) override {}
};

// librdkafka's murmur2_random partitioner (the runtime's, as Java's default) and the in-memory
// producer put every key on the same partition.
TEST(InMemoryClients, KeysGoToThePartitionLibrdkafkaPicks) {
  DevBroker broker(DevBroker::Options{.brokers = 1});
  const std::string topic = unique_name("keys");
  broker.create_topic(topic, 7);
  {
    test::PlainProducer producer(broker.bootstrap_servers());
    for (int i = 0; i < 300; ++i) producer.send(topic, fmt::format("key-{}", i * 7919), "v");
    producer.send(topic, std::string(), "empty key");
    producer.flush();
  }
  test::TopicReader reader(broker.bootstrap_servers(), topic, 7);
  const auto& records = reader.read_at_least(301);
  ASSERT_EQ(records.size(), 301u);
  for (const auto& record : records) {
    EXPECT_EQ(kafka::murmur2_partition(to_bytes(*record.key), 7), record.partition)
        << "key '" << *record.key << "'";
  }
}

// Reads every record of `topic` under read_committed, keyed values in offset order per partition
// (a null key reads as "").
std::vector<std::pair<std::string, std::string>> read_all(InMemoryCluster& cluster,
                                                          const std::string& topic) {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::int32_t p = 0; p < *cluster.partition_count(topic); ++p) {
    const auto result =
        cluster.fetch(TopicPartition{topic, p}, 0, 1'000'000, kafka::Isolation::read_committed);
    for (const auto& stored : result.records) {
      out.emplace_back(stored.record.key ? to_string(*stored.record.key) : std::string(),
                       to_string(*stored.record.value));
    }
  }
  return out;
}

// Transactions through the clients, where the in-memory cluster shows what the mock cannot:
// aborted output stays hidden, a fenced producer's transaction never lands, and a consumer that
// lost its membership cannot commit offsets in a transaction.
class InMemoryTransactions : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_->create_topic("in", 1);
    cluster_->create_topic("out", 1);
    auto producer = clients_.producer({});
    for (int i = 0; i < 4; ++i) {
      const Bytes value = to_bytes(fmt::format("v{}", i));
      producer->send("in", 0, std::nullopt, ByteView(value), 1'000 + i, {});
    }
    producer->flush(std::chrono::seconds(1));
  }

  std::unique_ptr<kafka::Producer> transactional(const std::string& id) {
    auto producer = clients_.producer({{"transactional.id", id}});
    producer->set_delivery_listener([](const kafka::DeliveryReport&) {});
    producer->init_transactions(std::chrono::seconds(1));
    return producer;
  }
  void send(kafka::Producer& producer, const std::string& value) {
    const Bytes bytes = to_bytes(value);
    producer.send("out", 0, std::nullopt, ByteView(bytes), 2'000, {});
  }
  // The values of "out" a read_committed reader sees.
  std::vector<std::string> committed_output() {
    std::vector<std::string> out;
    for (const auto& [key, value] : read_all(*cluster_, "out")) out.push_back(value);
    return out;
  }

  std::shared_ptr<InMemoryCluster> cluster_ = std::make_shared<InMemoryCluster>();
  InMemoryClientFactory clients_{cluster_};
};

TEST_F(InMemoryTransactions, AnAbortedTransactionLeavesNoOutputAndNoOffsets) {
  auto producer = transactional("t1");
  auto consumer = clients_.consumer({{"group.id", "g"}, {"auto.offset.reset", "earliest"}});
  NoRebalanceListener listener;
  consumer->subscribe({"in"}, listener);
  ASSERT_EQ(consumer->poll(std::chrono::seconds(1), 10).size(), 4u);
  producer->begin_transaction();
  send(*producer, "doomed");
  producer->send_offsets_to_transaction({{TopicPartition{"in", 0}, 4}}, *consumer->group_metadata(),
                                        std::chrono::seconds(1));
  producer->abort_transaction(std::chrono::seconds(1));
  EXPECT_TRUE(committed_output().empty());
  EXPECT_TRUE(consumer->committed({{"in", 0}}, std::chrono::seconds(1)).empty());

  producer->begin_transaction();
  send(*producer, "kept");
  producer->commit_transaction(std::chrono::seconds(1));
  EXPECT_EQ(committed_output(), std::vector<std::string>{"kept"});
}

TEST_F(InMemoryTransactions, AProducerFencedByItsSuccessorNeverCommits) {
  auto zombie = transactional("t1");
  zombie->begin_transaction();
  send(*zombie, "zombie");
  auto successor = transactional("t1");  // the same transactional id, a new epoch
  try {
    zombie->commit_transaction(std::chrono::seconds(1));
    FAIL() << "the fenced producer committed";
  } catch (const kafka::KafkaException& e) {
    EXPECT_TRUE(e.fatal()) << e.what();
    EXPECT_THAT(e.what(), ::testing::HasSubstr("fenced"));
  }
  successor->begin_transaction();
  send(*successor, "successor");
  successor->commit_transaction(std::chrono::seconds(1));
  EXPECT_EQ(committed_output(), std::vector<std::string>{"successor"});
}

TEST_F(InMemoryTransactions, AConsumerThatLostItsMembershipCannotCommitThroughATransaction) {
  auto producer = transactional("t1");
  auto consumer = clients_.consumer({{"group.id", "g"}, {"auto.offset.reset", "earliest"}});
  NoRebalanceListener listener;
  consumer->subscribe({"in"}, listener);
  ASSERT_EQ(consumer->poll(std::chrono::seconds(1), 10).size(), 4u);
  const auto metadata = consumer->group_metadata();
  cluster_->leave_group("g", consumer->member_id());  // its session expired: a zombie
  producer->begin_transaction();
  send(*producer, "from a zombie");
  try {
    producer->send_offsets_to_transaction({{TopicPartition{"in", 0}, 4}}, *metadata,
                                          std::chrono::seconds(1));
    FAIL() << "a zombie's offsets were accepted";
  } catch (const kafka::KafkaException& e) {
    EXPECT_TRUE(e.abortable()) << e.what();
    EXPECT_FALSE(e.fatal());
  }
  EXPECT_THROW(producer->commit_transaction(std::chrono::seconds(1)), kafka::KafkaException);
  producer->abort_transaction(std::chrono::seconds(1));
  EXPECT_TRUE(committed_output().empty());
  EXPECT_TRUE(cluster_->committed("g", {{"in", 0}}).empty());
}

class InMemoryApplication : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_shared<InMemoryCluster>();
    clients_ = std::make_shared<InMemoryClientFactory>(cluster_);
    cluster_->create_topic("in", 3);
    cluster_->create_topic("out", 3);
    dir_ = std::filesystem::temp_directory_path() / unique_name("rivulet-in-memory");
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  StreamsConfig config(const std::string& instance) const {
    StreamsConfig config = test::runtime_test_config("in-memory:9092", "in-memory-app");
    config.set("state.dir", (dir_ / instance).string());
    return config;
  }

  void produce(int from, int to, int keys) {
    auto producer = clients_->producer({});
    for (int i = from; i < to; ++i) {
      const Bytes key = to_bytes(fmt::format("k{}", i % keys));
      const Bytes value = to_bytes(fmt::format("v{}", i));
      producer->send("in", std::nullopt, ByteView(key), ByteView(value), 1'000 + i, {});
    }
    producer->flush(std::chrono::seconds(1));
  }

  std::shared_ptr<InMemoryCluster> cluster_;
  std::shared_ptr<InMemoryClientFactory> clients_;
  std::filesystem::path dir_;
};

TEST_F(InMemoryApplication, AStatelessTopologyRunsOnTheInMemoryCluster) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .map_values([](const std::string& v) { return v + "!"; })
      .to("out");
  const Topology topology = builder.build();
  produce(0, 60, 6);
  KafkaStreams streams(topology, config("one"), clients_);
  streams.start();
  ASSERT_TRUE(streams.wait_for_running(std::chrono::seconds(30)));
  ASSERT_TRUE(test::wait_until([&] { return read_all(*cluster_, "out").size() >= 60; },
                               std::chrono::seconds(30)));
  std::map<std::string, std::vector<std::string>> by_key;
  for (const auto& [key, value] : read_all(*cluster_, "out")) by_key[key].push_back(value);
  ASSERT_EQ(by_key.size(), 6u);
  for (int k = 0; k < 6; ++k) {
    std::vector<std::string> expected;
    for (int i = k; i < 60; i += 6) expected.push_back(fmt::format("v{}!", i));
    EXPECT_EQ(by_key[fmt::format("k{}", k)], expected) << "k" << k;  // in order per key
  }
  ASSERT_TRUE(streams.close(std::chrono::seconds(30)));
  // The group committed where processing ended: all 60 input records.
  std::int64_t committed = 0;
  for (const auto& [partition, offset] :
       cluster_->committed("in-memory-app", {{"in", 0}, {"in", 1}, {"in", 2}})) {
    committed += offset;
  }
  EXPECT_EQ(committed, 60);
}

// A count moves to a second instance, which restores it from the changelog the first one
// created through the in-memory admin client, and continues.
TEST_F(InMemoryApplication, ACountIsRestoredOnAnotherInstanceFromItsChangelog) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .count(Materialized<std::string, std::int64_t>::as("counts"))
      .to_stream()
      .map_values([](const std::optional<std::int64_t>& count) {
        return std::to_string(count.value_or(-1));
      })
      .to("out");
  const Topology topology = builder.build();
  auto latest = [&] {
    std::map<std::string, std::string> out;
    for (const auto& [key, value] : read_all(*cluster_, "out")) out[key] = value;
    return out;
  };
  produce(0, 40, 4);
  {
    KafkaStreams first(topology, config("first"), clients_);
    first.start();
    ASSERT_TRUE(first.wait_for_running(std::chrono::seconds(30)));
    ASSERT_TRUE(test::wait_until(
        [&] {
          return latest() == std::map<std::string, std::string>{
                                 {"k0", "10"}, {"k1", "10"}, {"k2", "10"}, {"k3", "10"}};
        },
        std::chrono::seconds(30)))
        << fmt::format("{}", fmt::join(read_all(*cluster_, "out"), " "));
    ASSERT_TRUE(first.close(std::chrono::seconds(30)));
  }
  EXPECT_EQ(cluster_->partition_count("in-memory-app-counts-changelog"), 3);

  KafkaStreams second(topology, config("second"), clients_);
  second.start();
  ASSERT_TRUE(second.wait_for_running(std::chrono::seconds(30)));
  EXPECT_GT(second.records_restored(), 0u);
  produce(40, 48, 4);
  EXPECT_TRUE(test::wait_until(
      [&] {
        return latest() == std::map<std::string, std::string>{
                               {"k0", "12"}, {"k1", "12"}, {"k2", "12"}, {"k3", "12"}};
      },
      std::chrono::seconds(30)));
  ASSERT_TRUE(second.close(std::chrono::seconds(30)));
}

}  // namespace
}  // namespace rivulet
