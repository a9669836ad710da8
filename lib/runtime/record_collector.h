// KafkaRecordCollector: where a stream thread's sink nodes hand serialized records, on the
// thread's producer. It counts what it sent and what was delivered, and keeps delivery failures
// until the next `flush`, which applies `default.production.exception.handler` to them (records
// the producer rejects at once, such as one over message.max.bytes, get it at `send`): under
// `continue` they are logged and counted, under `fail` the flush throws and the thread dies
// without committing, so the input records are processed again (at-least-once). Under
// exactly-once (`transactional`) a record that failed after it was sent broke the transaction:
// `flush` throws an abortable KafkaException instead, and the thread aborts and processes the
// records again from the last commit; only records the producer rejects at `send` (which never
// joined the transaction) go to the handler.
//
// Owned and used by one stream thread; not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include <rivulet/detail/task_context.h>

#include "kafka/client.h"
#include "runtime/stream_task.h"

namespace spdlog {
class logger;
}

namespace rivulet::metrics {
class ThreadMetrics;
}

namespace rivulet::runtime {

class KafkaRecordCollector final : public detail::RecordCollector {
 public:
  // `metrics` (may be null; must outlive the collector) hears of every record sent.
  KafkaRecordCollector(kafka::Producer& producer, ErrorAction on_error,
                       std::shared_ptr<spdlog::logger> logger, bool transactional = false,
                       metrics::ThreadMetrics* metrics = nullptr);

  void send(std::string_view topic, std::optional<ByteView> key, std::optional<ByteView> value,
            std::int64_t timestamp, const Headers& headers,
            std::optional<std::int32_t> partition) override;
  std::int32_t partition_count(std::string_view topic) override;
  // Tracked for changelog topics ("...-changelog") only, from delivery reports.
  std::optional<std::int64_t> written_offset(std::string_view topic,
                                             std::int32_t partition) override;

  // Waits until everything sent so far is delivered or failed, then applies the production
  // handler to the failures. Throws ProcessingFailedException (handler `fail`) or KafkaException
  // (not delivered within `timeout`).
  void flush(std::chrono::milliseconds timeout);
  // Serves delivery reports without waiting.
  void poll() { producer_.poll(); }

  std::uint64_t sent() const { return sent_; }
  std::uint64_t delivered() const { return delivered_; }
  std::uint64_t failed() const { return failed_; }
  // Failed records the production handler skipped (handler `continue`).
  std::uint64_t skipped() const { return skipped_; }

 private:
  void on_delivery(const kafka::DeliveryReport& report);

  kafka::Producer& producer_;
  ErrorAction on_error_;
  std::shared_ptr<spdlog::logger> logger_;
  bool transactional_;
  metrics::ThreadMetrics* metrics_;
  std::uint64_t sent_ = 0;
  std::uint64_t delivered_ = 0;
  std::uint64_t failed_ = 0;
  std::uint64_t skipped_ = 0;
  std::uint64_t failures_pending_ = 0;  // failed since the last flush
  std::string first_failure_;
  using PartitionOffsets = std::map<std::int32_t, std::int64_t>;
  std::map<std::string, PartitionOffsets, std::less<>> changelog_offsets_;  // by topic
};

}  // namespace rivulet::runtime
