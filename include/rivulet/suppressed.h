// Suppressed: holds back a KTable's updates and emits them later (`KTable::suppress`), as in
// Kafka Streams:
//
//   until_window_closes(buffer)     a windowed table's final result: nothing for a window until it
//                                   closes (window end + grace <= stream time), then its last
//                                   value once. Windows that end as deletions (sessions merged
//                                   away) are never emitted.
//   until_time_limit(limit, buffer) per key, the latest value once stream time has moved `limit`
//                                   past the first update buffered for that key (rate limiting).
//
// Stream time is the largest timestamp the suppression has seen, so a quiet input emits nothing.
// The buffer lives in an in-memory store with a changelog (unless `with_logging_disabled`), so
// buffered updates survive a restart or a move of the task.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include <rivulet/errors.h>
#include <rivulet/named.h>

namespace rivulet {

// How much a suppression may buffer, and what happens when it is full.
struct BufferConfig {
  enum class WhenFull {
    emit_early,  // emit the oldest buffered updates early (not allowed for final results)
    shut_down    // stop processing: the task fails
  };

  std::optional<std::size_t> max_records;  // default: unbounded
  std::optional<std::size_t> max_bytes;    // serialized keys and values; default: unbounded
  WhenFull when_full = WhenFull::shut_down;
  bool logging = true;
  std::map<std::string, std::string> log_config;

  static BufferConfig unbounded() { return BufferConfig{}; }
  static BufferConfig with_max_records(std::size_t n) {
    BufferConfig c;
    c.max_records = n;
    c.when_full = WhenFull::emit_early;
    return c;
  }
  static BufferConfig with_max_bytes(std::size_t n) {
    BufferConfig c;
    c.max_bytes = n;
    c.when_full = WhenFull::emit_early;
    return c;
  }
  BufferConfig&& emit_early_when_full() && {
    when_full = WhenFull::emit_early;
    return std::move(*this);
  }
  BufferConfig&& shut_down_when_full() && {
    when_full = WhenFull::shut_down;
    return std::move(*this);
  }
  BufferConfig&& with_logging_disabled() && {
    logging = false;
    log_config.clear();
    return std::move(*this);
  }
  BufferConfig&& with_logging_enabled(std::map<std::string, std::string> config = {}) && {
    logging = true;
    log_config = std::move(config);
    return std::move(*this);
  }
};

class Suppressed {
 public:
  enum class Kind { until_window_closes, until_time_limit };

  // Final results of a windowed table. REQUIRES: a buffer that does not emit early (unbounded,
  // or one that shuts down when full).
  static Suppressed until_window_closes(BufferConfig buffer) {
    if (buffer.when_full == BufferConfig::WhenFull::emit_early &&
        (buffer.max_records || buffer.max_bytes)) {
      throw TopologyException(
          "Suppressed::until_window_closes needs a buffer that never emits early: use "
          "BufferConfig::unbounded() or .shut_down_when_full()");
    }
    return Suppressed(Kind::until_window_closes, std::chrono::milliseconds(0), std::move(buffer));
  }
  // REQUIRES: time_to_wait >= 0.
  static Suppressed until_time_limit(std::chrono::milliseconds time_to_wait, BufferConfig buffer) {
    if (time_to_wait.count() < 0) {
      throw TopologyException("Suppressed::until_time_limit needs a time limit >= 0, got " +
                              std::to_string(time_to_wait.count()) + " ms");
    }
    return Suppressed(Kind::until_time_limit, time_to_wait, std::move(buffer));
  }
  // Names the processor "<name>" and its store "<name>-store".
  Suppressed&& with_name(std::string name) && {
    Named::validate(name);
    name_ = std::move(name);
    return std::move(*this);
  }

  Kind kind() const { return kind_; }
  std::chrono::milliseconds time_to_wait() const { return time_to_wait_; }
  const BufferConfig& buffer() const { return buffer_; }
  const std::string& name() const { return name_; }

 private:
  Suppressed(Kind kind, std::chrono::milliseconds wait, BufferConfig buffer)
      : kind_(kind), time_to_wait_(wait), buffer_(std::move(buffer)) {}
  Kind kind_;
  std::chrono::milliseconds time_to_wait_;
  BufferConfig buffer_;
  std::string name_;
};

}  // namespace rivulet
