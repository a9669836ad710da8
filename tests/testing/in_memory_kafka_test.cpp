// The public in-memory Kafka cluster, used as an application's own tests would use it: only
// public headers of Rivulet (and the suite's wait helper), a whole exactly-once application on it,
// and a crash injected through the hook.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include <rivulet/errors.h>
#include <rivulet/rivulet.h>
#include <rivulet/testing/in_memory_kafka.h>

#include "kafka_test_support.h"

namespace {

using rivulet::KafkaStreams;
using rivulet::testing::InMemoryKafka;

// The suite's poll-with-deadline.
template <class Condition>
bool eventually(Condition condition, std::chrono::seconds timeout = std::chrono::seconds(60)) {
  return rivulet::test::wait_until(condition, timeout);
}

rivulet::Topology count_topology() {
  rivulet::StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .count()
      .to_stream()
      .map_values(
          [](const std::optional<std::int64_t>& n) { return std::to_string(n.value_or(0)); })
      .to("out");
  return builder.build();
}

// The last count per key, and whether every key's counts went 1, 2, 3... with no gap or repeat.
std::map<std::string, int> last_counts(const InMemoryKafka& kafka, bool& in_sequence) {
  std::map<std::string, int> last;
  in_sequence = true;
  for (const auto& record : kafka.read("out")) {
    int& n = last[*record.key];
    if (std::stoi(*record.value) != n + 1) in_sequence = false;
    n = std::stoi(*record.value);
  }
  return last;
}

class InMemoryKafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kafka_.create_topic("in", 2);
    kafka_.create_topic("out", 2);
    dir_ = std::filesystem::temp_directory_path() /
           ("rivulet-in-memory-kafka-" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  rivulet::StreamsConfig config() const {
    rivulet::StreamsConfig config;
    config.set("application.id", "counter")
        .set("bootstrap.servers", "in-memory")
        .set("processing.guarantee", "exactly_once_v2")
        .set("statestore.cache.max.bytes", 0)
        .set("state.dir", dir_.string());
    return config;
  }

  InMemoryKafka kafka_;
  std::filesystem::path dir_;
};

TEST_F(InMemoryKafkaTest, ProducedRecordsArePartitionedByKeyAndReadBack) {
  kafka_.produce("in", "k1", "a", 1'000);
  kafka_.produce("in", "k1", "b", 2'000);
  kafka_.produce("in", std::nullopt, "c", 3'000, 1);
  const auto records = kafka_.read("in");
  ASSERT_EQ(records.size(), 3u);
  int k1_partition = -1;
  for (const auto& r : records) {
    if (r.key == "k1") {
      if (k1_partition >= 0) {
        EXPECT_EQ(r.partition, k1_partition) << "one key, one partition";
      }
      k1_partition = r.partition;
    } else {
      EXPECT_EQ(r.partition, 1);
      EXPECT_EQ(r.value, "c");
      EXPECT_EQ(r.timestamp, 3'000);
    }
  }
  EXPECT_THROW(kafka_.produce("missing", "k", "v", 0), rivulet::StreamsException);
  EXPECT_THROW(kafka_.read("missing"), rivulet::StreamsException);
}

TEST_F(InMemoryKafkaTest, AnApplicationCrashedMidCommitRestartsWithExactlyOnceOutput) {
  std::atomic<int> commits{0};
  kafka_.set_fault_hook([&](InMemoryKafka::FaultPoint point, const std::string& instance) {
    if (instance == "first" && point == InMemoryKafka::FaultPoint::commit_transaction) {
      return ++commits == 3 ? InMemoryKafka::FaultAction::crash_before
                            : InMemoryKafka::FaultAction::none;
    }
    return InMemoryKafka::FaultAction::none;
  });
  const rivulet::Topology topology = count_topology();
  auto first = std::make_unique<KafkaStreams>(topology, config(), kafka_.clients("first"));
  first->start();
  int sent = 0;
  auto crashed = [&] { return first->state() == KafkaStreams::State::error; };
  auto all_committed = [&] {
    std::int64_t total = 0;
    for (const auto& [partition, offset] : kafka_.committed("counter", "in")) total += offset;
    return total >= sent;
  };
  // Batch after batch, each committed before the next, until the third commit crashes.
  while (!crashed() && sent < 2'000) {
    for (int i = 0; i < 20; ++i, ++sent) {
      kafka_.produce("in", "k" + std::to_string(sent % 5), "x", sent);
    }
    eventually([&] { return crashed() || all_committed(); }, std::chrono::seconds(10));
  }
  ASSERT_TRUE(eventually(crashed)) << "the fault never fired";
  first.reset();
  kafka_.expire_sessions("first");

  KafkaStreams second(topology, config(), kafka_.clients("second"));
  second.start();
  std::map<std::string, int> expected;
  for (int i = 0; i < sent; ++i) ++expected["k" + std::to_string(i % 5)];
  bool in_sequence = false;
  EXPECT_TRUE(eventually([&] { return last_counts(kafka_, in_sequence) == expected; }));
  last_counts(kafka_, in_sequence);
  EXPECT_TRUE(in_sequence) << "a count was lost or repeated in the committed output";
  EXPECT_GT(kafka_.read("out", false).size(), kafka_.read("out").size())
      << "the crashed transaction's output is in the log, aborted";
  second.close();
}

}  // namespace
