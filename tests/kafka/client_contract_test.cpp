// One contract for both implementations of the `lib/kafka/` interfaces: librdkafka's clients on
// the mock cluster and the in-memory clients on InMemoryCluster. Each test runs against both, so
// the in-memory cluster behaves as the real client path does wherever the mock can show it.
// (What the mock cannot show, transactions above all, is tested on the in-memory cluster alone.)
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <rivulet/dev_broker.h>

#include "kafka/in_memory_clients.h"
#include "kafka/rdkafka_client.h"
#include "kafka_test_support.h"

namespace rivulet::kafka {
namespace {

using namespace std::chrono_literals;

// A cluster and a client factory of one implementation.
class Implementation {
 public:
  virtual ~Implementation() = default;
  virtual ClientFactory& clients() = 0;
  virtual void create_topic(const std::string& name, std::int32_t partitions) = 0;
  // The properties every client of this implementation needs.
  virtual std::map<std::string, std::string> base() const = 0;
};

class MockClusterImplementation final : public Implementation {
 public:
  MockClusterImplementation()
      : broker_(DevBroker::Options{.brokers = 1}),
        clients_(std::make_shared<spdlog::logger>(
            "contract", std::make_shared<spdlog::sinks::null_sink_mt>())) {}
  ClientFactory& clients() override { return clients_; }
  void create_topic(const std::string& name, std::int32_t partitions) override {
    broker_.create_topic(name, partitions);
  }
  std::map<std::string, std::string> base() const override {
    return {{"bootstrap.servers", broker_.bootstrap_servers()},
            {"socket.nagle.disable", "true"},
            {"fetch.wait.max.ms", "10"},
            {"session.timeout.ms", "6000"},
            {"heartbeat.interval.ms", "500"},
            {"enable.auto.commit", "false"},
            {"auto.offset.reset", "earliest"},
            {"partitioner", "murmur2_random"}};
  }

 private:
  DevBroker broker_;
  RdKafkaClientFactory clients_;
};

class InMemoryImplementation final : public Implementation {
 public:
  InMemoryImplementation() : cluster_(std::make_shared<InMemoryCluster>()), clients_(cluster_) {}
  ClientFactory& clients() override { return clients_; }
  void create_topic(const std::string& name, std::int32_t partitions) override {
    cluster_->create_topic(name, partitions);
  }
  std::map<std::string, std::string> base() const override {
    return {{"auto.offset.reset", "earliest"}};
  }

 private:
  std::shared_ptr<InMemoryCluster> cluster_;
  InMemoryClientFactory clients_;
};

// Records what the group told the consumer.
class RecordingListener final : public RebalanceListener {
 public:
  void on_partitions_revoked(const std::vector<TopicPartition>& partitions) override {
    revoked.insert(revoked.end(), partitions.begin(), partitions.end());
  }
  void on_partitions_lost(const std::vector<TopicPartition>& partitions) override {
    lost.insert(lost.end(), partitions.begin(), partitions.end());
  }
  void on_partitions_assigned(const std::vector<TopicPartition>& partitions) override {
    assigned.insert(assigned.end(), partitions.begin(), partitions.end());
  }
  std::vector<TopicPartition> revoked, lost, assigned;
};

struct Received {
  std::string key;
  std::string value;
  std::int32_t partition;
  std::int64_t offset;
  std::int64_t timestamp;
  std::string header;
};

class ClientContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "mock") {
      impl_ = std::make_unique<MockClusterImplementation>();
    } else {
      impl_ = std::make_unique<InMemoryImplementation>();
    }
    topic_ = test::unique_name("contract");
    impl_->create_topic(topic_, 3);
  }

  std::map<std::string, std::string> with(std::map<std::string, std::string> extra) const {
    std::map<std::string, std::string> config = impl_->base();
    for (auto& [key, value] : extra) config[key] = value;
    return config;
  }

  // Sends `count` records "k<i % keys>" -> "v<i>" with timestamp 1000 + i and a header.
  void produce(int from, int count, int keys) {
    auto producer = impl_->clients().producer(with({}));
    int delivered = 0;
    int failed = 0;
    producer->set_delivery_listener(
        [&](const DeliveryReport& report) { (report.error ? failed : delivered)++; });
    for (int i = from; i < from + count; ++i) {
      const Bytes key = to_bytes(fmt::format("k{}", i % keys));
      const Bytes value = to_bytes(fmt::format("v{}", i));
      Headers headers;
      headers.add("n", std::to_string(i));
      producer->send(topic_, std::nullopt, ByteView(key), ByteView(value), 1'000 + i, headers);
    }
    producer->flush(10s);
    ASSERT_EQ(delivered, count);
    ASSERT_EQ(failed, 0);
  }

  // Polls until `count` records arrived (or 30 s passed).
  std::vector<Received> consume(Consumer& consumer, std::size_t count) {
    std::vector<Received> out;
    test::wait_until(
        [&] {
          for (auto& record : consumer.poll(50ms, 500)) {
            const Header* header = record.headers.last_header("n");
            out.push_back(Received{to_string(*record.key), to_string(*record.value),
                                   record.partition, record.offset, record.timestamp,
                                   header ? to_string(*header->value) : ""});
          }
          return out.size() >= count;
        },
        30s);
    return out;
  }

  std::unique_ptr<Implementation> impl_;
  std::string topic_;
};

TEST_P(ClientContract, ASubscriberReceivesEveryRecordInOrderPerPartitionWithItsParts) {
  produce(0, 90, 9);
  auto consumer = impl_->clients().consumer(with({{"group.id", topic_ + "-group"}}));
  RecordingListener listener;
  consumer->subscribe({topic_}, listener);
  const std::vector<Received> received = consume(*consumer, 90);
  ASSERT_EQ(received.size(), 90u);
  std::map<std::int32_t, std::int64_t> next_offset;
  std::map<std::string, std::int32_t> partition_of;
  for (const Received& r : received) {
    EXPECT_EQ(r.offset, next_offset[r.partition]++) << "partition " << r.partition;
    EXPECT_EQ(r.value, "v" + r.header);
    EXPECT_EQ(r.timestamp, 1'000 + std::stoll(r.header));
    EXPECT_EQ(r.partition, murmur2_partition(to_bytes(r.key), 3)) << r.key;
    partition_of[r.key] = r.partition;
  }
  EXPECT_EQ(partition_of.size(), 9u);
  std::set<TopicPartition> all{{topic_, 0}, {topic_, 1}, {topic_, 2}};
  EXPECT_EQ(consumer->assignment(), all);
  EXPECT_EQ(std::set<TopicPartition>(listener.assigned.begin(), listener.assigned.end()), all);
  consumer->close();
  EXPECT_EQ(std::set<TopicPartition>(listener.revoked.begin(), listener.revoked.end()), all);
  EXPECT_TRUE(listener.lost.empty());
}

TEST_P(ClientContract, ANewMemberStartsFromTheGroupsCommittedOffsets) {
  produce(0, 30, 3);
  const std::string group = topic_ + "-group";
  std::map<TopicPartition, std::int64_t> positions;
  {
    auto consumer = impl_->clients().consumer(with({{"group.id", group}}));
    RecordingListener listener;
    consumer->subscribe({topic_}, listener);
    ASSERT_EQ(consume(*consumer, 30).size(), 30u);
    // A partition that gave no record has no position (3 keys may share partitions).
    for (std::int32_t p = 0; p < 3; ++p) {
      const TopicPartition tp{topic_, p};
      const bool has_records = p == murmur2_partition(to_bytes("k0"), 3) ||
                               p == murmur2_partition(to_bytes("k1"), 3) ||
                               p == murmur2_partition(to_bytes("k2"), 3);
      const std::optional<std::int64_t> position = consumer->position(tp);
      EXPECT_EQ(position.has_value(), has_records) << "partition " << p;
      if (position) positions[tp] = *position;
    }
    consumer->commit(positions);
    EXPECT_EQ(consumer->committed({{topic_, 0}, {topic_, 1}, {topic_, 2}}, 10s), positions);
    consumer->close();
  }
  std::int64_t total = 0;
  for (const auto& [tp, offset] : positions) total += offset;
  EXPECT_EQ(total, 30);

  produce(30, 6, 3);
  auto consumer = impl_->clients().consumer(with({{"group.id", group}}));
  RecordingListener listener;
  consumer->subscribe({topic_}, listener);
  const std::vector<Received> received = consume(*consumer, 6);
  ASSERT_EQ(received.size(), 6u);
  for (const Received& r : received) EXPECT_GE(std::stoi(r.header), 30) << r.header;
  consumer->close();
}

TEST_P(ClientContract, AManualAssignmentReadsFromItsOffsetAndPausesAndSeeks) {
  produce(0, 20, 1);  // one key: all on one partition
  const TopicPartition tp{topic_, murmur2_partition(to_bytes("k0"), 3)};
  auto consumer = impl_->clients().consumer(with({{"group.id", topic_ + "-restore"}}));
  const auto marks = consumer->watermarks({tp}, 10s);
  EXPECT_EQ(marks.at(tp), std::make_pair(std::int64_t{0}, std::int64_t{20}));

  consumer->assign_partitions({{tp, 15}});
  EXPECT_EQ(consumer->assignment(), std::set<TopicPartition>{tp});
  std::vector<Received> received = consume(*consumer, 5);
  ASSERT_EQ(received.size(), 5u);
  EXPECT_EQ(received.front().offset, 15);
  EXPECT_EQ(consumer->position(tp), 20);

  consumer->seek(tp, 18);
  consumer->pause({tp});
  EXPECT_TRUE(consumer->poll(200ms, 100).empty());
  consumer->resume({tp});
  received = consume(*consumer, 2);
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received.front().offset, 18);

  consumer->unassign_partitions({tp});
  EXPECT_TRUE(consumer->assignment().empty());
  consumer->close();
}

TEST_P(ClientContract, AdminDescribesOnlyTopicsThatExistAndCreatesMissingOnes) {
  auto admin = impl_->clients().admin(with({}));
  const auto described = admin->describe_topics({topic_, topic_ + "-missing"}, 10s);
  EXPECT_EQ(described, (std::map<std::string, std::int32_t>{{topic_, 3}}));
  auto producer = impl_->clients().producer(with({}));
  EXPECT_EQ(producer->partition_count(topic_), 3);
}

// Consume-transform-produce in one transaction: the output becomes visible to read_committed
// readers with the commit. (The mock cluster ignores the offsets sent in a transaction, so they
// are checked on the in-memory cluster only.)
TEST_P(ClientContract, ATransactionCommitsItsRecordsForReadCommittedReaders) {
  produce(0, 6, 3);
  const std::string out = topic_ + "-out";
  impl_->create_topic(out, 1);
  auto consumer = impl_->clients().consumer(
      with({{"group.id", topic_ + "-eos"}, {"isolation.level", "read_committed"}}));
  RecordingListener listener;
  consumer->subscribe({topic_}, listener);
  const std::vector<Received> input = consume(*consumer, 6);
  ASSERT_EQ(input.size(), 6u);

  auto producer = impl_->clients().producer(with({{"transactional.id", topic_ + "-txn"}}));
  producer->set_delivery_listener([](const DeliveryReport&) {});
  producer->init_transactions(30s);
  producer->begin_transaction();
  std::map<TopicPartition, std::int64_t> offsets;
  for (const Received& r : input) {
    const Bytes key = to_bytes(r.key);
    const Bytes value = to_bytes(r.value + "!");
    producer->send(out, 0, ByteView(key), ByteView(value), r.timestamp, {});
    offsets[TopicPartition{topic_, r.partition}] = r.offset + 1;
  }
  producer->send_offsets_to_transaction(offsets, *consumer->group_metadata(), 30s);
  producer->commit_transaction(30s);

  auto reader = impl_->clients().consumer(
      with({{"group.id", topic_ + "-reader"}, {"isolation.level", "read_committed"}}));
  reader->assign_partitions({{TopicPartition{out, 0}, 0}});
  const std::vector<Received> output = consume(*reader, 6);
  ASSERT_EQ(output.size(), 6u);
  for (std::size_t i = 0; i < output.size(); ++i) EXPECT_EQ(output[i].value, input[i].value + "!");
  if (GetParam() == "in_memory") {
    std::vector<TopicPartition> partitions;
    for (const auto& [tp, offset] : offsets) partitions.push_back(tp);
    EXPECT_EQ(consumer->committed(partitions, 10s), offsets);
  }
  reader->close();
  consumer->close();
}

INSTANTIATE_TEST_SUITE_P(BothClusters, ClientContract, ::testing::Values("mock", "in_memory"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace rivulet::kafka
