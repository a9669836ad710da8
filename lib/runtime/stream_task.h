// StreamTask: one sub-topology bound to one partition number. It owns the task's processor graph,
// its stream time and punctuation schedule, and applies the configured error handlers. The same
// class runs inside the test driver and (next) inside stream threads; it never touches Kafka
// itself: records come in as RawRecords and leave through a RecordCollector.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <rivulet/detail/task_context.h>
#include <rivulet/task_metrics.h>

#include "state/state_manager.h"
#include "topology/processor_graph.h"

namespace spdlog {
class logger;
}

namespace rivulet {
class StreamsConfig;
}

namespace rivulet::metrics {
class LocalHistogram;
}

namespace rivulet::runtime {

enum class ErrorAction { fail, skip };

struct TaskSettings {
  std::string application_id;
  detail::TimestampPolicy timestamp_policy = detail::TimestampPolicy::fail_on_invalid;
  ErrorAction on_deserialization_error = ErrorAction::fail;
  ErrorAction on_processing_error = ErrorAction::fail;
  ErrorAction on_production_error = ErrorAction::fail;
  std::string dead_letter_topic;  // empty: none
  bool dead_letter_late_records = false;
};

// The task-level settings of `config` (handlers, timestamp policy, dead-letter topic).
TaskSettings task_settings_from(const StreamsConfig& config, std::string application_id);

// Where a task's stores live and what they share with the other tasks of the thread.
struct TaskStateOptions {
  const state::StateDirectory* directory = nullptr;  // nullptr: persistent stores fail
  state::RocksDbResources* rocksdb = nullptr;
  state::ThreadCache* cache = nullptr;
  bool exactly_once = false;  // RocksDB stores buffer their writes until the commit
};

class StreamTask final : public detail::TaskContext {
 public:
  using Clock = std::function<std::int64_t()>;  // wall-clock milliseconds

  StreamTask(TaskId id, std::unique_ptr<detail::ProcessorGraph> graph, TaskSettings settings,
             detail::RecordCollector& collector, Clock wall_clock,
             std::shared_ptr<spdlog::logger> logger, TaskStateOptions state = {});
  ~StreamTask() override;

  // Locks the task directory and opens the stores. Returns false (and may be called again)
  // while another owner still holds the directory. After it, the stores may be restored from
  // their changelogs (state()) before `initialize`.
  bool initialize_state();
  // Initializes the processors (and the state first, if not yet: throws StreamsException when
  // the directory is locked). REQUIRES: called once, before processing.
  void initialize();
  // The task's state, or nullptr when it has no stores.
  state::StateManager* state() const { return state_.get(); }
  // Flushes the stores (record caches forward their merged updates downstream here).
  void flush_state();
  // Writes the stores' checkpoint. REQUIRES: flush_state() and the collector delivered all.
  void checkpoint_state();
  // Deserializes and processes one record of one of the task's topics; updates stream time.
  // Returns false when the record was skipped by a handler. Throws ProcessingFailedException
  // when a handler chose to fail.
  bool process(const detail::RawRecord& raw);

  // Buffered processing, for the runtime: the head record of each input partition is
  // deserialized ahead (`prepare`) so that the task can pick the one with the lowest event time,
  // then processed (`process_prepared`). `raw` must be the same record, alive in between.
  // The index of the input reading `topic`; throws StreamsException when the task does not.
  std::size_t input_index(std::string_view topic) const;
  // Deserializes `raw` into its input's slot and returns its event time, or nullopt when a handler
  // skipped it (counted). Throws ProcessingFailedException when a handler chose to fail.
  std::optional<std::int64_t> prepare(std::size_t input, const detail::RawRecord& raw);
  // Processes the record prepared for `input` and updates stream time.
  void process_prepared(std::size_t input, const detail::RawRecord& raw);
  // Fires the stream-time punctuators that are due. Returns how many fired.
  int maybe_punctuate_stream_time();
  // Fires the wall-clock punctuators that are due at the clock's current time.
  int maybe_punctuate_system_time();
  // Closes the processors, then the stores; `clean`: flush the stores and write their checkpoint.
  void close(bool clean = true);

  const detail::ProcessorGraph& graph() const { return *graph_; }
  const TaskMetrics& metrics() const { return metrics_; }
  // Late records dropped, by the name of the processor that dropped them (for the metrics).
  const std::map<std::string, std::uint64_t, std::less<>>& late_records_by_processor() const {
    return late_by_processor_;
  }
  // Where `process_prepared` records the processing time, in seconds, of one record in eight
  // (nullptr, the default: not measured). Must outlive the task.
  void set_process_latency(metrics::LocalHistogram* histogram) { process_latency_ = histogram; }
  bool commit_requested() const { return commit_requested_; }
  void clear_commit_request() { commit_requested_ = false; }

  // TaskContext
  const std::string& application_id() const override { return settings_.application_id; }
  TaskId task_id() const override { return id_; }
  const std::optional<RecordMetadata>& record_metadata() const override { return metadata_; }
  std::int64_t stream_time() const override { return stream_time_; }
  std::int64_t wall_clock_time() const override { return wall_clock_(); }
  Cancellable schedule(detail::ProcessorNode& node, std::chrono::milliseconds interval,
                       PunctuationType type, Punctuator punctuator) override;
  void request_commit() override { commit_requested_ = true; }
  detail::RecordCollector& collector() override { return collector_; }
  StateStore& state_store(const detail::ProcessorNode& node, std::string_view name) override;
  std::int64_t default_timestamp(const detail::RawRecord& raw,
                                 std::int64_t partition_time) override;
  void on_deserialization_error(const detail::ProcessorNode& source, const detail::RawRecord& raw,
                                const std::exception& error) override;
  void on_invalid_timestamp(const detail::ProcessorNode& source, const detail::RawRecord& raw,
                            std::int64_t extracted) override;
  void on_processing_error(const detail::ProcessorNode& node, const std::exception& error) override;
  void on_production_error(const detail::ProcessorNode& sink, std::string_view topic,
                           const std::exception& error) override;
  void on_late_record(const detail::ProcessorNode& node, std::int64_t timestamp,
                      std::int64_t window_close) override;
  void on_dropped_record(const detail::ProcessorNode& node, std::string_view reason) override;

 private:
  struct Schedule {
    detail::ProcessorNode* node;
    std::int64_t interval;
    PunctuationType type;
    std::int64_t next;
    Punctuator punctuator;
    std::shared_ptr<bool> cancelled;
  };
  struct Input {
    std::string topic;
    detail::SourceNodeBase* source;
    std::unique_ptr<detail::SourceSlot> slot;
    std::int64_t partition_time = -1;
    std::int64_t head_timestamp = -1;  // of the prepared record
  };

  int punctuate(PunctuationType type, std::int64_t now);
  void set_metadata(const detail::RawRecord& raw);
  void dead_letter(const detail::RawRecord& raw, const std::exception& error);
  std::string describe_origin() const;

  TaskId id_;
  std::unique_ptr<detail::ProcessorGraph> graph_;
  TaskSettings settings_;
  detail::RecordCollector& collector_;
  Clock wall_clock_;
  std::shared_ptr<spdlog::logger> logger_;
  std::vector<Input> inputs_;
  std::vector<Schedule> schedules_;
  std::optional<RecordMetadata> metadata_;
  const detail::RawRecord* current_raw_ = nullptr;
  std::int64_t stream_time_ = -1;
  std::int64_t record_timestamp_ = -1;  // of the record in hand, or the punctuation time
  std::unique_ptr<state::StateManager> state_;
  bool processors_initialized_ = false;
  bool commit_requested_ = false;
  bool closed_ = false;
  TaskMetrics metrics_;
  std::map<std::string, std::uint64_t, std::less<>> late_by_processor_;
  metrics::LocalHistogram* process_latency_ = nullptr;
  std::uint64_t latency_sample_ = 0;
};

}  // namespace rivulet::runtime
