// State on the mock cluster: stores are logged to changelog topics, restored from them when a
// task moves to an instance without local state, and restored only past the checkpoint when the
// same instance restarts.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
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

using Counts = KeyValueStore<std::string, std::int64_t>;

// Counts records per key in a RocksDB store and forwards "<key>" -> count.
class Counter final : public Processor<std::string, std::string, std::string, std::int64_t> {
 public:
  void init(ProcessorContext<std::string, std::int64_t>& context) override {
    context_ = &context;
    store_ = &context.get_state_store<Counts>("counts");
  }
  void process(Record<std::string, std::string> record) override {
    const std::int64_t count = store_->get(record.key()).value_or(0) + 1;
    store_->put(record.key(), count);
    context_->forward(Record<std::string, std::int64_t>(record.key(), count, record.timestamp()));
  }

 private:
  ProcessorContext<std::string, std::int64_t>* context_ = nullptr;
  Counts* store_ = nullptr;
};

// Sums what restoration reported, per store.
class RecordingListener final : public StateRestoreListener {
 public:
  void on_restore_start(const std::string&, std::int32_t, const std::string&, std::int64_t,
                        std::int64_t) override {
    ++starts;
  }
  void on_batch_restored(const std::string&, std::int32_t, const std::string&, std::int64_t,
                         std::uint64_t num_restored) override {
    batched += num_restored;
  }
  void on_restore_end(const std::string&, std::int32_t, const std::string&,
                      std::uint64_t total_restored) override {
    ++ends;
    ended += total_restored;
  }
  std::atomic<int> starts{0};
  std::atomic<int> ends{0};
  std::atomic<std::uint64_t> batched{0};
  std::atomic<std::uint64_t> ended{0};
};

class StateRestore : public ::testing::Test {
 protected:
  void SetUp() override {
    in_ = unique_name("counts-in");
    out_ = unique_name("counts-out");
    app_ = unique_name("counts-app");
    // The mock cluster auto-creates changelogs with 4 partitions: the source has 4 too.
    broker_.create_topic(in_, 4);
    broker_.create_topic(out_, 4);
    dir_ = std::filesystem::temp_directory_path() / unique_name("rivulet-state");
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  Topology topology() const {
    Topology topology;
    topology.add_source<std::string, std::string>("source", {in_});
    topology.add_processor("counter", [] { return std::make_unique<Counter>(); }, {"source"});
    topology.add_state_store(Stores::key_value_store_builder<std::string, std::int64_t>(
                                 Stores::persistent_key_value_store("counts")),
                             {"counter"});
    topology.add_sink<std::string, std::int64_t>("sink", out_, {"counter"});
    return topology;
  }

  StreamsConfig config(const std::string& instance) const {
    StreamsConfig config = test::runtime_test_config(broker_.bootstrap_servers(), app_);
    config.set("state.dir", (dir_ / instance).string());
    return config;
  }

  // Sends `per_key` records for each of `keys` keys; returns how many were sent per key.
  void produce(int keys, int per_key, std::map<std::string, std::int64_t>& sent) {
    PlainProducer producer(broker_.bootstrap_servers());
    for (int i = 0; i < per_key; ++i) {
      for (int k = 0; k < keys; ++k) {
        const std::string key = fmt::format("key-{}", k);
        producer.send(in_, key, "x", 1'700'000'000'000 + i);
        ++sent[key];
      }
    }
    producer.flush();
  }

  // The highest count per key in the output (counts only grow), once it equals `expected`;
  // `decode` reads a count from a value.
  std::map<std::string, std::int64_t> wait_for_output(
      const std::map<std::string, std::int64_t>& expected,
      const std::function<std::int64_t(const std::string&)>& decode) {
    TopicReader reader(broker_.bootstrap_servers(), out_, 4);
    std::map<std::string, std::int64_t> latest;
    wait_until(
        [&] {
          reader.drain(std::chrono::milliseconds(200));
          latest.clear();
          for (const auto& record : reader.records()) {
            std::int64_t& slot = latest[*record.key];
            slot = std::max(slot, decode(*record.value));
          }
          return latest == expected;
        },
        std::chrono::seconds(60));
    return latest;
  }

  // The same for the counter's big-endian int64 counts.
  std::map<std::string, std::int64_t> wait_for_counts(
      const std::map<std::string, std::int64_t>& expected) {
    return wait_for_output(expected, [](const std::string& value) {
      std::int64_t count = 0;
      for (unsigned char c : value) count = (count << 8) | c;
      return count;
    });
  }

  DevBroker broker_{DevBroker::Options{.brokers = 1}};
  std::string in_;
  std::string out_;
  std::string app_;
  std::filesystem::path dir_;
};

TEST_F(StateRestore, AnotherInstanceRestoresTheStoreFromItsChangelogAndContinues) {
  const Topology first_topology = topology();
  std::map<std::string, std::int64_t> sent;
  {
    KafkaStreams first(first_topology, config("first"));
    first.start();
    ASSERT_TRUE(first.wait_for_running(std::chrono::seconds(60)));
    produce(20, 30, sent);
    EXPECT_EQ(wait_for_counts(sent), sent);
    ASSERT_TRUE(first.close(std::chrono::seconds(60)));
  }

  // A second instance on another "machine" (its own, empty state directory).
  const Topology second_topology = topology();
  KafkaStreams second(second_topology, config("second"));
  auto listener = std::make_shared<RecordingListener>();
  second.set_global_state_restore_listener(listener);
  second.start();
  ASSERT_TRUE(second.wait_for_running(std::chrono::seconds(60)));
  // Every change the first instance made was logged, with no cache to merge them: 600.
  EXPECT_EQ(second.records_restored(), 600u);
  EXPECT_EQ(listener->batched.load(), 600u);
  EXPECT_EQ(listener->ended.load(), 600u);
  EXPECT_EQ(listener->starts.load(), 4);  // one changelog partition per task
  EXPECT_EQ(listener->ends.load(), 4);

  produce(20, 5, sent);
  // The restored counts continue: each key ends at 35, as a recomputation from the input says.
  EXPECT_EQ(wait_for_counts(sent), sent);
  ASSERT_TRUE(second.close(std::chrono::seconds(60)));
}

TEST_F(StateRestore, ARestartRestoresOnlyPastTheCheckpoint) {
  const Topology the_topology = topology();
  std::map<std::string, std::int64_t> sent;
  {
    KafkaStreams streams(the_topology, config("only"));
    streams.start();
    ASSERT_TRUE(streams.wait_for_running(std::chrono::seconds(60)));
    produce(10, 20, sent);
    EXPECT_EQ(wait_for_counts(sent), sent);
    ASSERT_TRUE(streams.close(std::chrono::seconds(60)));
  }
  {
    // A clean close wrote the checkpoint at the changelog's end: nothing to restore.
    KafkaStreams streams(the_topology, config("only"));
    auto listener = std::make_shared<RecordingListener>();
    streams.set_global_state_restore_listener(listener);
    streams.start();
    ASSERT_TRUE(streams.wait_for_running(std::chrono::seconds(60)));
    EXPECT_EQ(streams.records_restored(), 0u);
    EXPECT_EQ(listener->starts.load(), 4);
    EXPECT_EQ(listener->ended.load(), 0u);
    produce(10, 3, sent);
    EXPECT_EQ(wait_for_counts(sent), sent);
    ASSERT_TRUE(streams.close(std::chrono::seconds(60)));
  }
}

TEST_F(StateRestore, ALostCheckpointMeansAFullRestoreWithTheSameResult) {
  const Topology the_topology = topology();
  std::map<std::string, std::int64_t> sent;
  {
    KafkaStreams streams(the_topology, config("only"));
    streams.start();
    ASSERT_TRUE(streams.wait_for_running(std::chrono::seconds(60)));
    produce(10, 10, sent);
    EXPECT_EQ(wait_for_counts(sent), sent);
    ASSERT_TRUE(streams.close(std::chrono::seconds(60)));
  }
  int removed = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_)) {
    if (entry.path().filename() == ".checkpoint") {
      std::filesystem::remove(entry.path());
      ++removed;
    }
  }
  EXPECT_EQ(removed, 4);
  KafkaStreams streams(the_topology, config("only"));
  streams.start();
  ASSERT_TRUE(streams.wait_for_running(std::chrono::seconds(60)));
  // Without a checkpoint the whole changelog is read again over the local store; a key-value
  // store ends where it was.
  EXPECT_EQ(streams.records_restored(), 100u);
  produce(10, 1, sent);
  EXPECT_EQ(wait_for_counts(sent), sent);
  ASSERT_TRUE(streams.close(std::chrono::seconds(60)));
}

// The DSL on the real runtime: a windowed count (1-minute windows, RocksDB with the record cache)
// moves to an instance with no local state, which restores the window store from its changelog
// and continues the windows the first instance left half-counted.
TEST_F(StateRestore, AWindowedCountMovesToAnotherInstanceAndEqualsTheRecount) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>(in_)
      .group_by_key()
      .windowed_by(
          TimeWindows::of_size_and_grace(std::chrono::minutes(1), std::chrono::seconds(10)))
      .count(Materialized<std::string, std::int64_t>::as("window-counts"))
      .to_stream()
      .map([](const Windowed<std::string>& key, const std::optional<std::int64_t>& count) {
        return KeyValue<std::string, std::string>(fmt::format("{}@{}", key.key, key.window.start),
                                                  count ? std::to_string(*count) : "null");
      })
      .to(out_);
  const Topology windowed = builder.build();

  // Readings every 10 s per key from kStart (a whole minute): 6 per window. Readings [from, to)
  // of 12 keys.
  constexpr std::int64_t kStart = 1'700'000'040'000;
  std::map<std::string, std::int64_t> expected;  // "key@window start" -> count
  auto send = [&](int from, int to) {
    PlainProducer producer(broker_.bootstrap_servers());
    for (int i = from; i < to; ++i) {
      for (int k = 0; k < 12; ++k) {
        const std::string key = fmt::format("vehicle-{}", k);
        const std::int64_t timestamp = kStart + std::int64_t{i} * 10'000;
        producer.send(in_, key, "reading", timestamp);
        ++expected[fmt::format("{}@{}", key, timestamp - (timestamp - kStart) % 60'000)];
      }
    }
    producer.flush();
  };
  auto wait_for_windows = [&] {
    return wait_for_output(expected, [](const std::string& value) { return std::stoll(value); });
  };

  {
    KafkaStreams first(windowed, config("first"));
    first.start();
    ASSERT_TRUE(first.wait_for_running(std::chrono::seconds(60)));
    send(0, 27);  // the window at 240 s holds 3 of its 6 readings
    EXPECT_EQ(wait_for_windows(), expected);
    ASSERT_TRUE(first.close(std::chrono::seconds(60)));
  }
  ASSERT_EQ(expected.at(fmt::format("vehicle-0@{}", kStart + 240'000)), 3);

  KafkaStreams second(windowed, config("second"));
  second.start();
  ASSERT_TRUE(second.wait_for_running(std::chrono::seconds(60)));
  // Every window of every key was restored (the cache may have merged some of the changes).
  EXPECT_GE(second.records_restored(), 12u * 5u);
  send(27, 33);  // completes the window at 240 s and opens the one at 300 s
  EXPECT_EQ(expected.at(fmt::format("vehicle-0@{}", kStart + 240'000)), 6);
  EXPECT_EQ(wait_for_windows(), expected);
  ASSERT_TRUE(second.close(std::chrono::seconds(60)));
}

TEST_F(StateRestore, TheChangelogIsCompactedWithOnePartitionPerTask) {
  const Topology the_topology = topology();
  KafkaStreams streams(the_topology, config("only"));
  streams.start();
  ASSERT_TRUE(streams.wait_for_running(std::chrono::seconds(60)));
  std::map<std::string, std::int64_t> sent;
  produce(4, 2, sent);
  EXPECT_EQ(wait_for_counts(sent), sent);
  // The changelog holds each change, keyed by the store key, on the task's partition.
  TopicReader changelog(broker_.bootstrap_servers(), app_ + "-counts-changelog", 4);
  const auto& records = changelog.read_at_least(8);
  ASSERT_EQ(records.size(), 8u);
  TopicReader input(broker_.bootstrap_servers(), in_, 4);
  const auto& inputs = input.read_at_least(8);
  std::map<std::string, std::int32_t> partition_of_key;
  for (const auto& record : inputs) partition_of_key[*record.key] = record.partition;
  for (const auto& record : records) {
    EXPECT_EQ(record.partition, partition_of_key.at(*record.key)) << *record.key;
  }
  ASSERT_TRUE(streams.close(std::chrono::seconds(60)));
}

}  // namespace
}  // namespace rivulet
