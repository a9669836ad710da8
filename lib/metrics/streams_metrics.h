// StreamsMetrics: the Prometheus metrics of one KafkaStreams instance. It owns the instance's
// prometheus::Registry and every metric family in it (names: docs/metrics.md), each with the
// constant label `application` (application.id), and the instance-wide series: the instance's
// state, its live stream threads, its RocksDB memory and `rivulet_info`.
//
// Stream threads add their own series through ThreadMetrics (thread_metrics.h), which holds
// references to them; a scrape (`serialize`, or the application's own exposer on `registry()`)
// reads them concurrently: prometheus-cpp's families and metrics are thread-safe. Store series
// ({task, store}, no thread label) may be wanted by two threads at once while a task moves between
// threads of one instance, so they are shared through `acquire_store` / `release_store`, which
// remove a series only when its last holder lets it go.
//
// Thread-safe. It must outlive every ThreadMetrics made from it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rivulet/streams_config.h>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace rivulet::metrics {

// Bucket bounds, in seconds.
std::vector<double> process_latency_buckets();     // 10 us .. 1 s: one record through a task
std::vector<double> end_to_end_latency_buckets();  // 1 ms .. 60 s: record time to its send
std::vector<double> commit_latency_buckets();      // 1 ms .. 60 s
std::vector<double> rebalance_duration_buckets();  // 10 ms .. 10 min

// The instance states as the `state` label spells them (KafkaStreams' to_string).
const std::vector<std::string>& instance_states();

class StreamsMetrics {
 public:
  template <typename T>
  using Family = prometheus::Family<T>;

  // Every family this instance exports. The DEBUG-only ones are registered only when
  // `metrics.recording.level` is DEBUG or TRACE (nullptr otherwise).
  struct Families {
    Family<prometheus::Counter>* records_consumed;      // {thread}
    Family<prometheus::Counter>* records_processed;     // {thread, task}
    Family<prometheus::Counter>* records_produced;      // {thread, topic}
    Family<prometheus::Histogram>* process_latency;     // {thread}
    Family<prometheus::Histogram>* end_to_end_latency;  // {thread, topic}
    Family<prometheus::Histogram>* commit_latency;      // {thread}
    Family<prometheus::Counter>* commits;               // {thread}
    Family<prometheus::Counter>* transactions_aborted;  // {thread}
    Family<prometheus::Counter>* rebalances;            // {thread}
    Family<prometheus::Histogram>* rebalance_duration;  // {thread}
    Family<prometheus::Gauge>* assigned_tasks;          // {thread}
    Family<prometheus::Gauge>* consumer_lag;            // {thread, topic, partition}
    Family<prometheus::Counter>* restoration_records;   // {thread, store}
    Family<prometheus::Gauge>* restoration_remaining;   // {thread, store}
    Family<prometheus::Gauge>* store_entries;           // {task, store}
    Family<prometheus::Gauge>* store_size;              // {task, store}
    Family<prometheus::Gauge>* rocksdb_memory;          // {kind}
    Family<prometheus::Counter>* cache_hits;            // {thread}
    Family<prometheus::Counter>* cache_misses;          // {thread}
    Family<prometheus::Gauge>* cache_hit_ratio;         // {thread}
    Family<prometheus::Counter>* late_records;          // {thread, processor}
    Family<prometheus::Counter>* dead_lettered;         // {thread}
    Family<prometheus::Counter>* skipped;               // {thread, reason}
    Family<prometheus::Counter>* punctuations;          // {thread}
    Family<prometheus::Gauge>* instance_state;          // {state}
    Family<prometheus::Gauge>* alive_threads;           // {}
    Family<prometheus::Gauge>* info;                    // {version}
    // DEBUG and TRACE only.
    Family<prometheus::Counter>* cache_evictions;  // {thread}
    Family<prometheus::Gauge>* cache_size;         // {thread}
    Family<prometheus::Gauge>* buffered_records;   // {thread}
  };

  // RocksDB memory by kind, bytes (see docs/metrics.md for what each covers).
  struct RocksDbMemory {
    std::uint64_t block_cache = 0;
    std::uint64_t memtables = 0;
    std::uint64_t table_readers = 0;
    std::uint64_t pinned = 0;
  };

  StreamsMetrics(std::string application_id, MetricsRecordingLevel level);
  ~StreamsMetrics();
  StreamsMetrics(const StreamsMetrics&) = delete;
  StreamsMetrics& operator=(const StreamsMetrics&) = delete;

  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }
  const Families& families() const { return families_; }
  // DEBUG or TRACE: the extra series are recorded.
  bool debug() const { return debug_; }
  const std::string& application_id() const { return application_id_; }

  // Every series of the registry in Prometheus' text exposition format (version 0.0.4).
  std::string serialize() const;

  // The instance's state: 1 for `state`, 0 for the others.
  void set_state(std::string_view state);
  void set_alive_threads(std::size_t threads);
  void set_rocksdb_memory(const RocksDbMemory& memory);

  // The store series {task, store}: `entries` when the store can count them, `size_bytes` for a
  // RocksDB store (nullptr otherwise). Shared by every holder, removed when the last one
  // releases them; the pointers stay valid until then.
  struct StoreSeries {
    prometheus::Gauge* entries = nullptr;
    prometheus::Gauge* size_bytes = nullptr;
  };
  StoreSeries acquire_store(const std::string& task, const std::string& store, bool entries,
                            bool size_bytes);
  void release_store(const std::string& task, const std::string& store);

 private:
  std::string application_id_;
  bool debug_;
  std::shared_ptr<prometheus::Registry> registry_;
  Families families_{};
  std::map<std::string, prometheus::Gauge*, std::less<>> state_gauges_;
  prometheus::Gauge* alive_threads_ = nullptr;
  std::map<std::string, prometheus::Gauge*, std::less<>> rocksdb_memory_;

  std::mutex mutex_;  // guards stores_
  struct SharedStore {
    StoreSeries series;
    int holders = 0;
  };
  std::map<std::pair<std::string, std::string>, SharedStore> stores_;
};

}  // namespace rivulet::metrics
