// Counters a stream task keeps about what it did and what it skipped. The Prometheus metrics
// (a later issue) are built on these; the test driver exposes them directly.
#pragma once

#include <cstdint>

namespace rivulet {

struct TaskMetrics {
  std::uint64_t records_processed = 0;       // input records that reached their source's children
  std::uint64_t deserialization_errors = 0;  // records skipped by the deserialization handler
  std::uint64_t processing_errors = 0;       // records skipped by the processing handler
  std::uint64_t production_errors = 0;       // output records skipped by the production handler
  std::uint64_t invalid_timestamps = 0;      // records dropped for a negative event time
  std::uint64_t dead_lettered = 0;           // records sent to the dead-letter topic
  std::uint64_t punctuations = 0;            // punctuator calls
  std::uint64_t late_records_dropped = 0;    // records for windows already closed (past grace)
  std::uint64_t dropped_records = 0;         // records an operator cannot use (a null key, ...)

  TaskMetrics& operator+=(const TaskMetrics& other) {
    records_processed += other.records_processed;
    deserialization_errors += other.deserialization_errors;
    processing_errors += other.processing_errors;
    production_errors += other.production_errors;
    invalid_timestamps += other.invalid_timestamps;
    dead_lettered += other.dead_lettered;
    punctuations += other.punctuations;
    late_records_dropped += other.late_records_dropped;
    dropped_records += other.dropped_records;
    return *this;
  }
};

}  // namespace rivulet
