#include "runtime/record_collector.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include <rivulet/errors.h>

#include "metrics/thread_metrics.h"

namespace rivulet::runtime {

KafkaRecordCollector::KafkaRecordCollector(kafka::Producer& producer, ErrorAction on_error,
                                           std::shared_ptr<spdlog::logger> logger,
                                           bool transactional, metrics::ThreadMetrics* metrics)
    : producer_(producer),
      on_error_(on_error),
      logger_(std::move(logger)),
      transactional_(transactional),
      metrics_(metrics) {
  producer_.set_delivery_listener(
      [this](const kafka::DeliveryReport& report) { on_delivery(report); });
}

void KafkaRecordCollector::send(std::string_view topic, std::optional<ByteView> key,
                                std::optional<ByteView> value, std::int64_t timestamp,
                                const Headers& headers, std::optional<std::int32_t> partition) {
  try {
    producer_.send(topic, partition, key, value, timestamp, headers);
  } catch (const kafka::KafkaException& error) {
    // Fatal (a fenced producer) or abortable (the transaction failed): the stream thread aborts
    // and starts again from the last commit; no handler can keep this record.
    if (error.fatal() || error.abortable()) throw;
    // Rejected before it left (too large, unknown partition): the production handler decides.
    ++failed_;
    if (on_error_ == ErrorAction::fail) {
      throw ProcessingFailedException(fmt::format(
          "{}. default.production.exception.handler is fail; set it to continue to skip such "
          "records",
          error.what()));
    }
    ++skipped_;
    logger_->warn("skipping an output record that could not be produced: {}", error.what());
    return;
  }
  ++sent_;
  if (metrics_ != nullptr) metrics_->record_sent(topic, timestamp);
}

std::int32_t KafkaRecordCollector::partition_count(std::string_view topic) {
  return producer_.partition_count(topic);
}

std::optional<std::int64_t> KafkaRecordCollector::written_offset(std::string_view topic,
                                                                 std::int32_t partition) {
  const auto topic_it = changelog_offsets_.find(topic);
  if (topic_it == changelog_offsets_.end()) return std::nullopt;
  const auto it = topic_it->second.find(partition);
  if (it == topic_it->second.end()) return std::nullopt;
  return it->second;
}

void KafkaRecordCollector::on_delivery(const kafka::DeliveryReport& report) {
  if (!report.error) {
    ++delivered_;
    if (report.topic.ends_with("-changelog") && report.offset >= 0) {
      // One lookup by the report's string_view: no key built per delivery, except the first of
      // a topic.
      auto topic_it = changelog_offsets_.find(report.topic);
      if (topic_it == changelog_offsets_.end()) {
        topic_it = changelog_offsets_.emplace(std::string(report.topic), PartitionOffsets{}).first;
      }
      std::int64_t& offset = topic_it->second[report.partition];
      offset = std::max(offset, report.offset);
    }
    return;
  }
  ++failed_;
  if (failures_pending_++ == 0) {
    first_failure_ = fmt::format("topic '{}': {}", report.topic, *report.error);
  }
}

void KafkaRecordCollector::flush(std::chrono::milliseconds timeout) {
  producer_.flush(timeout);
  if (failures_pending_ == 0) return;
  const std::uint64_t failures = std::exchange(failures_pending_, 0);
  if (transactional_) {
    throw kafka::KafkaException(
        fmt::format("{} output record(s) of the transaction could not be produced (first: {})",
                    failures, first_failure_),
        false, false, true);
  }
  if (on_error_ == ErrorAction::fail) {
    throw ProcessingFailedException(fmt::format(
        "{} output record(s) could not be produced (first: {}). "
        "default.production.exception.handler is fail; set it to continue to skip such records",
        failures, first_failure_));
  }
  skipped_ += failures;
  logger_->warn("skipped {} output record(s) that could not be produced (first: {})", failures,
                first_failure_);
}

}  // namespace rivulet::runtime
