// What the exactly-once tests share: a running count per key on the in-memory cluster, with the
// record cache off so that every input record yields exactly one output record (the key's new
// count). Exactly-once then has a sharp test: for every key the read_committed output must be
// "1", "2", ..., "n" with nothing missing, repeated or out of order.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>

#include "kafka/in_memory_clients.h"
#include "kafka/in_memory_cluster.h"
#include "kafka_test_support.h"

namespace rivulet::eos_test {

inline constexpr const char* kInput = "in";
inline constexpr const char* kOutput = "out";
inline constexpr const char* kApplication = "eos-count";

inline Topology count_topology() {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>(kInput)
      .group_by_key()
      .count(Materialized<std::string, std::int64_t>::as("counts"))
      .to_stream()
      .map_values([](const std::optional<std::int64_t>& count) {
        return count ? std::to_string(*count) : std::string("<null>");
      })
      .to(kOutput);
  return builder.build();
}

inline StreamsConfig eos_config(const std::filesystem::path& state_dir) {
  StreamsConfig config = test::runtime_test_config("in-memory:9092", kApplication);
  config.set("processing.guarantee", "exactly_once_v2")
      .set("commit.interval.ms", 50)
      .set("statestore.cache.max.bytes", 0)
      .set("state.dir", state_dir.string());
  return config;
}

// Keyed records "k<i % keys>" -> "v<i>" for i in [from, to), with increasing timestamps.
inline void produce(const std::shared_ptr<kafka::InMemoryCluster>& cluster, int from, int to,
                    int keys) {
  kafka::InMemoryClientFactory clients(cluster);
  auto producer = clients.producer({});
  for (int i = from; i < to; ++i) {
    const Bytes key = to_bytes(fmt::format("k{}", i % keys));
    const Bytes value = to_bytes(fmt::format("v{}", i));
    producer->send(kInput, std::nullopt, ByteView(key), ByteView(value), 1'000'000 + i, {});
  }
  producer->flush(std::chrono::seconds(1));
}

// Every record of `topic` a reader of `isolation` sees: values per key, in offset order.
inline std::map<std::string, std::vector<std::string>> read_by_key(
    kafka::InMemoryCluster& cluster, const std::string& topic,
    kafka::Isolation isolation = kafka::Isolation::read_committed) {
  std::map<std::string, std::vector<std::string>> out;
  for (std::int32_t p = 0; p < cluster.partition_count(topic).value_or(0); ++p) {
    const auto result = cluster.fetch(kafka::TopicPartition{topic, p}, 0, 10'000'000, isolation);
    for (const auto& stored : result.records) {
      out[stored.record.key ? to_string(*stored.record.key) : std::string()].push_back(
          stored.record.value ? to_string(*stored.record.value) : std::string("<null>"));
    }
  }
  return out;
}

// The output a failure-free run gives for `total` records over `keys` keys: "1".."n" per key.
inline std::map<std::string, std::vector<std::string>> expected_counts(int total, int keys) {
  std::map<std::string, std::vector<std::string>> out;
  for (int i = 0; i < total; ++i) {
    auto& values = out[fmt::format("k{}", i % keys)];
    values.push_back(std::to_string(values.size() + 1));
  }
  return out;
}

// Data records in a partition of `topic` a read_committed reader sees, over all partitions.
inline std::size_t committed_records(kafka::InMemoryCluster& cluster, const std::string& topic) {
  std::size_t n = 0;
  for (const auto& [key, values] : read_by_key(cluster, topic)) n += values.size();
  return n;
}

// Whether `group` committed offsets past every committed record of `topics` (a transaction's
// commit marker takes the offset after its last record, so the log end is no measure).
inline bool all_committed(kafka::InMemoryCluster& cluster, const std::string& group,
                          const std::vector<std::string>& topics) {
  std::vector<kafka::TopicPartition> partitions;
  for (const std::string& topic : topics) {
    for (std::int32_t p = 0; p < cluster.partition_count(topic).value_or(0); ++p) {
      partitions.push_back({topic, p});
    }
  }
  const auto committed = cluster.committed(group, partitions);
  for (const auto& tp : partitions) {
    const auto records =
        cluster.fetch(tp, 0, 100'000'000, kafka::Isolation::read_committed).records;
    const std::int64_t needed = records.empty() ? 0 : records.back().offset + 1;
    const auto found = committed.find(tp);
    if (found == committed.end() ? needed > 0 : found->second < needed) return false;
  }
  return true;
}

// Whether the group committed offsets that cover every record of the input.
inline bool input_committed(kafka::InMemoryCluster& cluster) {
  return all_committed(cluster, kApplication, {kInput});
}

}  // namespace rivulet::eos_test
