// StreamThread: one thread of a KafkaStreams instance. It owns a consumer (a member of the
// application's group), a producer, and the tasks of the partitions the group assigned to it:
//
//   loop: poll -> route records to their task's PartitionGroup -> pause/resume full partitions
//         -> process (round-robin over tasks, lowest event time first within a task)
//         -> wall-clock punctuation -> commit every commit.interval.ms
//
// Commit (at-least-once): flush the producer, so that every output of the processed records is
// delivered (or handled by the production handler), then commit the input offsets.
//
// Commit (exactly_once_v2): the thread's producer is transactional (transactional.id
// "<application.id>-<process id>-<thread index>", stable across restarts of an instance with the
// same state directory, so that a restart aborts what a crash left open). Everything the tasks
// send between two commits (output, changelog writes, dead letters) is one transaction; the
// commit sends the consumed offsets with the consumer's group metadata, commits the transaction,
// and only then lets the RocksDB stores write what they buffered (crash-safe state). An
// abortable error aborts the transaction, closes the tasks without committing and recreates
// them, so they restore the last committed state and their partitions are read again from the
// last committed offsets; a fenced producer (fatal) is replaced by a new one first. A member
// fenced by a rebalance (a zombie) fails at sending its offsets, so its output never commits.
// Rebalances (eager, range assignor): on revocation the thread commits and suspends its tasks;
// on assignment it resumes the tasks it keeps and creates the new ones, and closes the rest. Lost
// partitions (session expired) are closed without committing.
//
// Public members other than the constructor and `run`-side callbacks are safe to call from other
// threads; everything else runs on the thread itself, with no lock on the hot path.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <rivulet/state/restore_listener.h>
#include <rivulet/streams_config.h>
#include <rivulet/task_id.h>
#include <rivulet/task_metrics.h>

#include "kafka/client.h"
#include "runtime/changelog_reader.h"
#include "runtime/partition_group.h"
#include "runtime/record_collector.h"
#include "runtime/stream_task.h"

namespace spdlog {
class logger;
}

namespace rivulet::detail {
class TopologyImpl;
}

namespace rivulet::metrics {
class StreamsMetrics;
class ThreadMetrics;
}  // namespace rivulet::metrics

namespace rivulet::state {
class StateDirectory;
struct RocksDbResources;
class ThreadCache;
}  // namespace rivulet::state

namespace rivulet::runtime {

// What the threads of one instance share; immutable once the threads start.
struct RuntimeContext {
  const detail::TopologyImpl* topology = nullptr;
  StreamsConfig config;
  std::string application_id;
  std::string client_id;
  TaskSettings task_settings;
  std::shared_ptr<kafka::ClientFactory> clients;
  std::shared_ptr<spdlog::logger> logger;
  std::vector<std::string> source_topics;           // Kafka names, every sub-topology
  std::map<std::string, int> subtopology_of_topic;  // Kafka name -> sub-topology id
  // State: the application's directory, the process-wide RocksDB resources (memory budget),
  // each thread's share of statestore.cache.max.bytes, and the restore listener (may be null).
  std::shared_ptr<state::StateDirectory> state_directory;
  std::shared_ptr<state::RocksDbResources> rocksdb;
  std::uint64_t cache_bytes_per_thread = 0;
  std::shared_ptr<StateRestoreListener> restore_listener;
  // Exactly-once: this instance's id, part of every thread's transactional.id.
  std::string process_id;
  // The instance's Prometheus metrics (may be null: no metrics).
  std::shared_ptr<metrics::StreamsMetrics> metrics;
};

enum class ThreadState {
  created,
  starting,
  partitions_revoked,
  partitions_assigned,
  running,
  pending_shutdown,
  dead
};
std::string_view to_string(ThreadState state);

// What a query of the thread's stores sees, on the thread: its running tasks, and the tasks still
// restoring (their stores are not queryable yet).
struct QueryView {
  std::vector<std::pair<TaskId, StreamTask*>> running;
  std::vector<TaskId> restoring;
};
// Runs on the stream thread between two records; `view` is nullptr when the thread stopped
// before it could run the query.
using StoreQuery = std::function<void(const QueryView* view)>;

class StreamThread final : private kafka::RebalanceListener {
 public:
  struct Callbacks {
    std::function<void(StreamThread&, ThreadState)> on_state;
    // The thread died of `error` (it already closed its tasks without committing).
    std::function<void(StreamThread&, std::exception_ptr error)> on_death;
  };

  StreamThread(const RuntimeContext& context, int index, Callbacks callbacks);
  ~StreamThread() override;  // REQUIRES: joined (or never started)
  StreamThread(const StreamThread&) = delete;
  StreamThread& operator=(const StreamThread&) = delete;

  void start();
  // Asks the thread to finish the record in hand, commit, close its tasks and leave the group.
  void request_shutdown();
  // Asks the thread to stop as a crashed process would: no commit, no leaving the group.
  void request_abort();
  void join();

  int index() const { return index_; }
  const std::string& name() const { return name_; }
  ThreadState state() const { return state_.load(); }
  std::vector<TaskId> active_tasks() const;
  // Counters of every task the thread has run, including closed ones; refreshed every loop.
  TaskMetrics metrics() const;
  std::uint64_t records_consumed() const { return consumed_.load(std::memory_order_relaxed); }
  std::uint64_t records_produced() const { return produced_.load(std::memory_order_relaxed); }
  std::uint64_t commits() const { return commits_.load(std::memory_order_relaxed); }
  // Exactly-once: transactions aborted after an error.
  std::uint64_t transactions_aborted() const { return aborts_.load(std::memory_order_relaxed); }
  // Exactly-once: this thread's transactional.id ("" under at-least-once).
  const std::string& transactional_id() const { return transactional_id_; }
  // Queues `query` to run on the thread at its next safe point (between two records, or when
  // its poll wakes up for it), or runs it with nullptr at once when the thread has stopped.
  // Safe from any thread except this one.
  void submit_query(StoreQuery query);
  // Whether the calling thread is a stream thread (of any instance).
  static bool on_stream_thread();
  // Removes the thread's Prometheus series. REQUIRES: the thread is dead (from on_death on).
  void remove_metrics();

 private:
  // A task is created when assigned, with its partitions paused; it opens its stores once it
  // holds its directory's lock, restores them from the changelogs, and only then runs.
  enum class Phase { created, restoring, running };
  struct Task {
    TaskId id;
    Phase phase = Phase::created;
    std::unique_ptr<StreamTask> task;
    std::unique_ptr<PartitionGroup> group;
  };

  void run();
  void run_loop();
  // One iteration of the loop: poll, restore, process, punctuate, commit.
  void run_once(std::vector<kafka::ConsumerRecord>& records);
  void set_state(ThreadState state);
  void route(std::vector<kafka::ConsumerRecord>& records);
  void apply_flow_control();
  std::size_t process(std::size_t budget);
  void maybe_commit(std::int64_t now_ms);
  // Flushes the producer and commits the offsets of every task. Returns false when there was
  // nothing to commit.
  bool commit_all();
  // Exactly-once: commits the open transaction when it holds anything (`progressed`: some
  // task's offsets moved), then begins the next one.
  bool commit_transaction(bool progressed);
  // After a commit of `offsets`: the tasks mark them and checkpoint their stores (under
  // exactly-once: the stores write what they buffered).
  void committed(const std::map<kafka::TopicPartition, std::int64_t>& offsets);
  // commit_all(), where a failed commit that is not fatal is logged and left for later.
  void try_commit(std::string_view why);
  std::unique_ptr<Task> create_task(TaskId id, const std::vector<kafka::TopicPartition>& parts);
  // Opens the stores of created tasks whose directories are free; starts their restoration.
  void initialize_tasks();
  // One bounded step of restoration; tasks that caught up start running.
  void restore_step(std::chrono::milliseconds timeout);
  void start_running(Task& task);
  bool any_task_pending() const;
  void close_task(Task& task, bool clean);
  void close_all_tasks(bool clean);
  // Creates the producer (transactional under exactly-once, with a transaction begun) and the
  // record collector on it.
  void create_producer();
  void begin_transaction();
  // Exactly-once: `error` broke the open transaction. Aborts it (or replaces a fenced producer),
  // closes every task without committing and, unless `revoking`, recreates the active ones to
  // restore their committed state and read their partitions from the committed offsets.
  void recover_from_transaction_error(const kafka::KafkaException& error, bool revoking);
  void publish_metrics();
  // The Prometheus side of publish_metrics: counters every loop, slower reads now and then.
  void publish_prometheus_metrics(const TaskMetrics& total);
  std::int64_t now_ms() const;
  // Runs the queued queries, when there are any. Cheap when there are none.
  void serve_queries() {
    if (queries_pending_.load(std::memory_order_acquire)) run_queries();
  }
  void run_queries();
  // The thread is stopping: queries from now on get nullptr.
  void stop_queries();

  // RebalanceListener
  void on_partitions_revoked(const std::vector<kafka::TopicPartition>& partitions) override;
  void on_partitions_lost(const std::vector<kafka::TopicPartition>& partitions) override;
  void on_partitions_assigned(const std::vector<kafka::TopicPartition>& partitions) override;

  const RuntimeContext& context_;
  const int index_;
  const std::string name_;
  Callbacks callbacks_;
  std::shared_ptr<spdlog::logger> logger_;
  std::thread thread_;
  std::atomic<ThreadState> state_{ThreadState::created};
  std::atomic<bool> shutdown_requested_{false};
  std::atomic<bool> abort_requested_{false};

  // Thread-owned.
  std::unique_ptr<kafka::Consumer> consumer_;
  std::unique_ptr<kafka::Producer> producer_;
  std::unique_ptr<KafkaRecordCollector> collector_;
  std::unique_ptr<state::ThreadCache> cache_;
  std::unique_ptr<ChangelogReader> changelog_reader_;
  std::int64_t last_lock_warning_ms_ = 0;
  std::map<TaskId, std::unique_ptr<Task>> tasks_;      // active
  std::map<TaskId, std::unique_ptr<Task>> suspended_;  // revoked, may be assigned again
  std::map<kafka::TopicPartition, Task*> task_of_partition_;
  bool dirty_ = false;  // dying of an error: close without committing
  const bool eos_;
  const std::string transactional_id_;
  std::uint64_t sent_at_begin_ = 0;  // the collector's sent() when the transaction began
  std::int64_t last_commit_ms_ = 0;
  std::int64_t commit_interval_ms_ = 0;
  std::int64_t poll_ms_ = 100;
  std::int64_t api_timeout_ms_ = 60'000;
  TaskMetrics closed_metrics_;                              // tasks already closed
  std::unique_ptr<metrics::ThreadMetrics> thread_metrics_;  // null: no metrics

  // Shared with other threads.
  std::mutex query_mutex_;
  std::vector<StoreQuery> queries_;         // guarded by query_mutex_
  kafka::Consumer* wake_target_ = nullptr;  // guarded by query_mutex_: the consumer to wake
  bool queries_closed_ = false;             // guarded by query_mutex_
  std::atomic<bool> queries_pending_{false};
  mutable std::mutex snapshot_mutex_;
  TaskMetrics metrics_snapshot_;
  std::vector<TaskId> active_snapshot_;
  std::atomic<std::uint64_t> consumed_{0};
  std::atomic<std::uint64_t> produced_{0};
  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> aborts_{0};
  std::atomic<std::uint64_t> restored_{0};

 public:
  std::uint64_t records_restored() const { return restored_.load(std::memory_order_relaxed); }
};

}  // namespace rivulet::runtime
