// Internal: the interface between processor nodes and the task that runs them. Not API.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include <rivulet/punctuation.h>
#include <rivulet/record.h>
#include <rivulet/task_id.h>

namespace rivulet {
class StateStore;
}

namespace rivulet::detail {

class ProcessorNode;

// A record as it arrives from Kafka, before deserialization. Views into memory owned by the
// caller for the duration of the call.
struct RawRecord {
  std::string_view topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t timestamp = 0;
  std::optional<ByteView> key;
  std::optional<ByteView> value;
  const Headers* headers = nullptr;
};

// Where sink nodes hand serialized records: a producer in the runtime, a list in the test driver.
class RecordCollector {
 public:
  virtual ~RecordCollector() = default;
  virtual void send(std::string_view topic, std::optional<ByteView> key,
                    std::optional<ByteView> value, std::int64_t timestamp, const Headers& headers,
                    std::optional<std::int32_t> partition) = 0;
  // The number of partitions of `topic`, for stream partitioners.
  virtual std::int32_t partition_count(std::string_view topic) = 0;
  // The offset of the last record written to `topic`'s `partition` that is known to be stored
  // (for changelog checkpoints); nullopt when none is known.
  virtual std::optional<std::int64_t> written_offset(std::string_view topic,
                                                     std::int32_t partition) {
    (void)topic;
    (void)partition;
    return std::nullopt;
  }
};

// How a source turns a record's Kafka timestamp into its event time when the user gave no
// extractor (`default.timestamp.extractor`).
enum class TimestampPolicy {
  fail_on_invalid,
  log_and_skip_on_invalid,
  use_previous_on_invalid,
  wall_clock
};

// What a node may ask of the task it runs in. Implemented by runtime::StreamTask.
class TaskContext {
 public:
  virtual ~TaskContext() = default;

  virtual const std::string& application_id() const = 0;
  virtual TaskId task_id() const = 0;
  // Metadata of the record being processed; empty while punctuating.
  virtual const std::optional<RecordMetadata>& record_metadata() const = 0;
  virtual std::int64_t stream_time() const = 0;
  virtual std::int64_t wall_clock_time() const = 0;
  virtual Cancellable schedule(ProcessorNode& node, std::chrono::milliseconds interval,
                               PunctuationType type, Punctuator punctuator) = 0;
  virtual void request_commit() = 0;
  virtual RecordCollector& collector() = 0;
  // The store `name` for `node`, which must be connected to it (else throws StreamsException).
  virtual StateStore& state_store(const ProcessorNode& node, std::string_view name) = 0;

  // The event time of a record whose source has no custom extractor. Returns a negative value
  // when the record must be skipped; throws when the policy says to fail.
  virtual std::int64_t default_timestamp(const RawRecord& raw, std::int64_t partition_time) = 0;

  // Error handling. Each returns normally when the configured handler chose to continue (the
  // record is skipped and counted) and throws ProcessingFailedException when it chose to fail.
  virtual void on_deserialization_error(const ProcessorNode& source, const RawRecord& raw,
                                        const std::exception& error) = 0;
  virtual void on_invalid_timestamp(const ProcessorNode& source, const RawRecord& raw,
                                    std::int64_t extracted) = 0;
  virtual void on_processing_error(const ProcessorNode& node, const std::exception& error) = 0;
  virtual void on_production_error(const ProcessorNode& sink, std::string_view topic,
                                   const std::exception& error) = 0;
  // A windowed operator dropped the record in hand because its window closed (window end plus
  // grace is at or before stream time): counted, logged at debug level, and sent to the
  // dead-letter topic when errors.dead.letter.queue.late.records is set.
  virtual void on_late_record(const ProcessorNode& node, std::int64_t timestamp,
                              std::int64_t window_close) = 0;
  // An operator dropped the record in hand because it cannot use it (a null key for an
  // aggregation, ...): counted and logged at debug level.
  virtual void on_dropped_record(const ProcessorNode& node, std::string_view reason) = 0;
};

}  // namespace rivulet::detail
