// A topology running for real: KafkaStreams with librdkafka clients against the mock cluster.
#include <map>
#include <set>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>

#include "kafka_test_support.h"

namespace rivulet {
namespace {

using test::PlainProducer;
using test::TopicReader;
using test::unique_name;
using test::wait_until;

class EndToEnd : public ::testing::Test {
 protected:
  DevBroker broker_{DevBroker::Options{.brokers = 3}};
};

// Splits "key:seq" into its sequence number.
int sequence_of(const std::string& value) {
  return std::stoi(value.substr(value.find(':') + 1));
}

TEST_F(EndToEnd, EveryInputRecordAppearsInOrderPerKey) {
  const std::string in = unique_name("e2e-in");
  const std::string out = unique_name("e2e-out");
  broker_.create_topic(in, 4);
  broker_.create_topic(out, 4);

  StreamsBuilder builder;
  builder.stream<std::string, std::string>(in)
      .map_values([](const std::string& v) { return v + ":seen"; })
      .to(out);
  Topology topology = builder.build();
  StreamsConfig config = test::runtime_test_config(broker_.bootstrap_servers(), unique_name("e2e"));
  config.set("num.stream.threads", 2);
  KafkaStreams streams(topology, config);
  std::vector<std::pair<KafkaStreams::State, KafkaStreams::State>> transitions;
  std::mutex transitions_mutex;
  streams.set_state_listener([&](KafkaStreams::State now, KafkaStreams::State before) {
    std::lock_guard lock(transitions_mutex);
    transitions.emplace_back(now, before);
  });
  streams.start();
  ASSERT_TRUE(streams.wait_for_running(std::chrono::seconds(60)));
  std::size_t transitions_when_running = 0;
  {
    std::lock_guard lock(transitions_mutex);
    transitions_when_running = transitions.size();
  }

  constexpr int kKeys = 20;
  constexpr int kPerKey = 100;
  {
    PlainProducer producer(broker_.bootstrap_servers());
    for (int seq = 0; seq < kPerKey; ++seq) {
      for (int k = 0; k < kKeys; ++k) {
        producer.send(in, fmt::format("key-{}", k), fmt::format("key-{}:{}", k, seq),
                      1'700'000'000'000 + seq);
      }
    }
    producer.flush();
  }

  TopicReader reader(broker_.bootstrap_servers(), out, 4);
  const auto& records = reader.read_at_least(kKeys * kPerKey);
  ASSERT_GE(records.size(), static_cast<std::size_t>(kKeys * kPerKey));

  // At-least-once: a record may be processed again after a rebalance, but each key's records
  // come out in input order, and a replay starts again from an earlier point of that order.
  std::map<std::string, std::vector<int>> first_seen;  // per key, sequence numbers, replays dropped
  std::set<std::string> values;
  for (const auto& record : records) {
    ASSERT_TRUE(record.key && record.value);
    ASSERT_TRUE(record.value->ends_with(":seen")) << *record.value;
    if (!values.insert(*record.value).second) continue;
    first_seen[*record.key].push_back(
        sequence_of(record.value->substr(0, record.value->size() - 5)));
  }
  ASSERT_EQ(first_seen.size(), static_cast<std::size_t>(kKeys));
  for (const auto& [key, seqs] : first_seen) {
    std::vector<int> expected(kPerKey);
    for (int i = 0; i < kPerKey; ++i) expected[static_cast<std::size_t>(i)] = i;
    EXPECT_EQ(seqs, expected) << "order of " << key;
  }
  bool rebalanced = false;
  {
    std::lock_guard lock(transitions_mutex);
    for (std::size_t i = transitions_when_running; i < transitions.size(); ++i) {
      rebalanced = rebalanced || transitions[i].first == KafkaStreams::State::rebalancing;
    }
  }
  // Without a rebalance after the input was written, nothing is processed twice.
  if (!rebalanced) {
    EXPECT_EQ(records.size(), values.size()) << "duplicates without a rebalance";
  }

  // Both threads got tasks: 4 partitions over 2 threads.
  const auto threads = streams.metadata_for_local_threads();
  ASSERT_EQ(threads.size(), 2u);
  std::size_t tasks = 0;
  for (const auto& thread : threads) tasks += thread.active_tasks.size();
  EXPECT_EQ(tasks, 4u);

  EXPECT_TRUE(wait_until([&] { return streams.metrics().records_processed >= kKeys * kPerKey; }));
  EXPECT_TRUE(streams.close(std::chrono::seconds(30)));
  EXPECT_EQ(streams.state(), KafkaStreams::State::not_running);
  EXPECT_GE(streams.commits(), 1u);
  std::lock_guard lock(transitions_mutex);
  ASSERT_FALSE(transitions.empty());
  EXPECT_EQ(transitions.front().first, KafkaStreams::State::rebalancing);
  EXPECT_EQ(transitions.front().second, KafkaStreams::State::created);
  EXPECT_EQ(transitions.back().first, KafkaStreams::State::not_running);
}

}  // namespace
}  // namespace rivulet
