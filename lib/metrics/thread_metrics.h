// ThreadMetrics: the Prometheus series of one stream thread (label `thread`), and of its tasks
// and stores. The stream thread owns it and is the only one to call it; prometheus-cpp's objects
// it writes to are read concurrently by scrapes.
//
// Nothing here is on the per-record path except `process_latency()` (a LocalHistogram) and
// `record_sent` (a plain count and a LocalHistogram per topic). Everything else is published from
// values the thread keeps anyway: `publish` (every loop of the thread) turns its running totals
// into counter increments and moves the local histograms over; the slower reads (store sizes,
// consumer lag, restoration, the record cache, RocksDB memory) happen in `publish_slow`, which
// the thread calls at most every `kSlowInterval`.
//
// Series lifetimes:
//   - a task's series ({thread, task}: records processed) and its stores' ({task, store}) are
//     removed when the task closes (`task_closed`); a task that comes back to the same thread
//     continues its counter from where it was, so that it never goes backwards;
//   - a partition's lag series goes when the partition is no longer assigned (or its lag is not
//     known);
//   - the thread's own series stay after the thread stopped, with their last values, until
//     `remove()` (the instance calls it when it replaces the thread after an error; a replacement
//     has a new name, so its counters start from zero under other labels).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/labels.h>

#include <rivulet/task_id.h>
#include <rivulet/task_metrics.h>

#include "kafka/client.h"
#include "metrics/local_histogram.h"
#include "metrics/streams_metrics.h"
#include "state/state_manager.h"
#include "state/thread_cache.h"

namespace rivulet::metrics {

class ThreadMetrics {
 public:
  static constexpr std::chrono::milliseconds kSlowInterval{1000};

  // `dead_letter_topic` (may be empty) gets no end-to-end latency series, like changelogs.
  ThreadMetrics(StreamsMetrics& streams, std::string thread, std::string dead_letter_topic);
  ~ThreadMetrics();  // releases the store series the thread still holds
  ThreadMetrics(const ThreadMetrics&) = delete;
  ThreadMetrics& operator=(const ThreadMetrics&) = delete;

  // ---- Per record ------------------------------------------------------------------------
  // Time of one record through its sub-topology, in seconds.
  LocalHistogram& process_latency() { return process_latency_; }
  // A record was handed to the producer for `topic`, with timestamp `timestamp_ms`.
  void record_sent(std::string_view topic, std::int64_t timestamp_ms);

  // ---- Events ----------------------------------------------------------------------------
  // A rebalance reached the thread (a revocation, a loss, an assignment, or its first join);
  // repeated calls before `rebalance_finished` belong to the same rebalance.
  void rebalance_started();
  // The thread runs again: the rebalance's duration is observed.
  void rebalance_finished();
  void commit_started();
  // The commit that started last succeeded: its latency is observed.
  void commit_finished();

  // ---- Publishing ------------------------------------------------------------------------
  // The thread's running totals (monotonic: closed tasks included).
  struct Totals {
    std::uint64_t consumed = 0;
    std::uint64_t commits = 0;
    std::uint64_t aborted = 0;
    TaskMetrics tasks;
    std::size_t assigned_tasks = 0;
    std::size_t buffered_records = 0;
  };
  void publish(const Totals& totals);
  // A live task's running counts (its StreamTask's own, from zero when it was created).
  void publish_task(const TaskId& id, std::uint64_t processed,
                    const std::map<std::string, std::uint64_t, std::less<>>& late_by_processor);
  // The task closed (or is being recreated) with these last counts: they are published, then its
  // series and its stores' are removed.
  void task_closed(const TaskId& id, std::uint64_t processed,
                   const std::map<std::string, std::uint64_t, std::less<>>& late_by_processor);

  // True when `publish_slow` is due: kSlowInterval after the last one, or at once after
  // `force_slow` (which rebalances call too: the thread's tasks and partitions changed).
  bool slow_due();
  void force_slow() { force_slow_ = true; }
  struct Slow {
    // The lag of each assigned partition, as far as known.
    std::map<kafka::TopicPartition, std::int64_t> lag;
    std::map<std::string, std::uint64_t> restored_by_store;
    std::map<std::string, std::int64_t> remaining_by_store;
    std::optional<state::ThreadCache::Stats> cache;
    std::map<TaskId, std::vector<state::StateManager::StoreStats>> stores;  // per live task
    std::optional<StreamsMetrics::RocksDbMemory> rocksdb;
  };
  void publish_slow(const Slow& slow);

  // Removes every series of the thread (its tasks and stores included).
  void remove();

  const std::string& thread() const { return thread_; }

 private:
  struct TopicSeries {
    std::string topic;
    prometheus::Counter* produced = nullptr;
    std::uint64_t pending = 0;
    prometheus::Histogram* latency = nullptr;  // nullptr: a changelog or dead-letter topic
    std::unique_ptr<LocalHistogram> local;
  };
  struct TaskSeries {
    prometheus::Counter* processed = nullptr;
    std::uint64_t published = 0;  // of the StreamTask's count
    std::map<std::string, std::uint64_t, std::less<>> late_published;
    std::map<std::string, StreamsMetrics::StoreSeries> stores;  // store series held
  };

  prometheus::Labels labels() const { return {{"thread", thread_}}; }
  TopicSeries& topic_series(std::string_view topic);
  TaskSeries& task_series(const TaskId& id);
  prometheus::Counter& late_counter(const std::string& processor);
  void add_late(TaskSeries& series,
                const std::map<std::string, std::uint64_t, std::less<>>& late_by_processor);
  void release_stores(const TaskId& id, TaskSeries& series);

  StreamsMetrics& streams_;
  const StreamsMetrics::Families& families_;
  const std::string thread_;
  const std::string dead_letter_topic_;
  bool removed_ = false;

  LocalHistogram process_latency_;
  prometheus::Histogram* process_latency_series_;
  std::vector<std::unique_ptr<TopicSeries>> topics_;
  TopicSeries* last_topic_ = nullptr;

  prometheus::Counter* consumed_;
  prometheus::Counter* commits_;
  prometheus::Counter* aborted_;
  prometheus::Counter* rebalances_;
  prometheus::Histogram* rebalance_duration_;
  prometheus::Histogram* commit_latency_;
  prometheus::Gauge* assigned_tasks_;
  prometheus::Counter* cache_hits_;
  prometheus::Counter* cache_misses_;
  prometheus::Gauge* cache_hit_ratio_;
  prometheus::Counter* dead_lettered_;
  prometheus::Counter* punctuations_;
  std::map<std::string, prometheus::Counter*> skipped_;            // by reason
  std::map<std::string, prometheus::Counter*, std::less<>> late_;  // by processor
  // DEBUG only.
  prometheus::Counter* cache_evictions_ = nullptr;
  prometheus::Gauge* cache_size_ = nullptr;
  prometheus::Gauge* buffered_records_ = nullptr;

  Totals published_;
  std::map<TaskId, TaskSeries> tasks_;
  std::map<TaskId, double> closed_processed_;  // counter values of closed tasks, to continue
  std::map<kafka::TopicPartition, prometheus::Gauge*> lag_;
  std::map<std::string, prometheus::Counter*> restored_;
  std::map<std::string, std::uint64_t> restored_published_;
  std::map<std::string, prometheus::Gauge*> remaining_;
  state::ThreadCache::Stats cache_published_;

  std::optional<std::chrono::steady_clock::time_point> rebalance_start_;
  std::chrono::steady_clock::time_point commit_start_{};
  std::optional<std::chrono::steady_clock::time_point> last_slow_;
  bool force_slow_ = false;
};

}  // namespace rivulet::metrics
