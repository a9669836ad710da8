// Windows of windowed aggregations (`KGroupedStream::windowed_by`), as in Kafka Streams:
//
//   TimeWindows     fixed-size windows aligned to the epoch, [start, start + size): tumbling, or
//                   hopping with `advance_by` (a record then falls into size / advance windows).
//   SlidingWindows  windows of a fixed time difference aligned to the records, [start, end] with
//                   both ends inclusive: one window ends at every record, one starts just after.
//   SessionWindows  per-key periods of activity separated by an inactivity gap; records within
//                   the gap of a session join it, and a record bridging two sessions merges them.
//
// Grace: a window accepts out-of-order records until stream time (the largest timestamp the
// operator has seen) reaches its end plus the grace period; then it is closed, and records for it
// are dropped and counted (`TaskMetrics::late_records_dropped`). Sessions close at their end plus
// the inactivity gap plus grace.
//
// All durations are whole milliseconds. The factories validate their arguments and throw
// TopologyException.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <rivulet/errors.h>
#include <rivulet/state/state_store.h>

namespace rivulet {

namespace detail {
inline std::int64_t window_ms(std::chrono::milliseconds d) {
  return d.count();
}
inline void require_non_negative_grace(std::chrono::milliseconds grace) {
  if (grace.count() < 0) {
    throw TopologyException("Grace period must not be negative, got " +
                            std::to_string(grace.count()) + " ms");
  }
}
}  // namespace detail

class TimeWindows {
 public:
  // Tumbling windows of `size` that close as soon as stream time reaches their end.
  // REQUIRES: size > 0.
  static TimeWindows of_size_with_no_grace(std::chrono::milliseconds size) {
    return of_size_and_grace(size, std::chrono::milliseconds(0));
  }
  // Tumbling windows of `size` that accept records until stream time reaches end + `grace`.
  // REQUIRES: size > 0, grace >= 0.
  static TimeWindows of_size_and_grace(std::chrono::milliseconds size,
                                       std::chrono::milliseconds grace) {
    if (size.count() <= 0) {
      throw TopologyException("Window size must be larger than zero, got " +
                              std::to_string(size.count()) + " ms");
    }
    detail::require_non_negative_grace(grace);
    return TimeWindows(size.count(), size.count(), grace.count());
  }
  // Hopping windows: a new window every `advance`. REQUIRES: 0 < advance <= size.
  TimeWindows advance_by(std::chrono::milliseconds advance) const {
    if (advance.count() <= 0 || advance.count() > size_) {
      throw TopologyException(
          "Window advancement interval should be more than zero and less than or equal to the "
          "window size (" +
          std::to_string(size_) + " ms), got " + std::to_string(advance.count()) + " ms");
    }
    return TimeWindows(size_, advance.count(), grace_);
  }

  std::int64_t size_ms() const { return size_; }
  std::int64_t advance_ms() const { return advance_; }
  std::int64_t grace_ms() const { return grace_; }

  // The windows a record at `timestamp` (>= 0) falls into, by start, as Kafka Streams assigns
  // them: starts are multiples of the advance, and no window starts before 0.
  std::vector<Window> windows_for(std::int64_t timestamp) const {
    std::vector<Window> out;
    const std::int64_t lowest = timestamp - size_ + advance_;
    std::int64_t start = (lowest > 0 ? lowest : 0) / advance_ * advance_;
    for (; start <= timestamp; start += advance_) out.push_back(Window{start, start + size_});
    return out;
  }

 private:
  TimeWindows(std::int64_t size, std::int64_t advance, std::int64_t grace)
      : size_(size), advance_(advance), grace_(grace) {}
  std::int64_t size_;
  std::int64_t advance_;
  std::int64_t grace_;
};

class SlidingWindows {
 public:
  // Windows of `time_difference` (both ends inclusive) that close when stream time reaches their
  // end plus `grace`. REQUIRES: time_difference >= 0, grace >= 0.
  static SlidingWindows of_time_difference_and_grace(std::chrono::milliseconds time_difference,
                                                     std::chrono::milliseconds grace) {
    if (time_difference.count() < 0) {
      throw TopologyException("Window time difference must not be negative, got " +
                              std::to_string(time_difference.count()) + " ms");
    }
    detail::require_non_negative_grace(grace);
    return SlidingWindows(time_difference.count(), grace.count());
  }
  static SlidingWindows of_time_difference_with_no_grace(
      std::chrono::milliseconds time_difference) {
    return of_time_difference_and_grace(time_difference, std::chrono::milliseconds(0));
  }

  std::int64_t time_difference_ms() const { return difference_; }
  std::int64_t grace_ms() const { return grace_; }

 private:
  SlidingWindows(std::int64_t difference, std::int64_t grace)
      : difference_(difference), grace_(grace) {}
  std::int64_t difference_;
  std::int64_t grace_;
};

class SessionWindows {
 public:
  // Sessions separated by `inactivity_gap`, closed once stream time passes their end plus the
  // gap. REQUIRES: inactivity_gap > 0.
  static SessionWindows of_inactivity_gap_with_no_grace(std::chrono::milliseconds inactivity_gap) {
    return of_inactivity_gap_and_grace(inactivity_gap, std::chrono::milliseconds(0));
  }
  // REQUIRES: inactivity_gap > 0, grace >= 0.
  static SessionWindows of_inactivity_gap_and_grace(std::chrono::milliseconds inactivity_gap,
                                                    std::chrono::milliseconds grace) {
    if (inactivity_gap.count() <= 0) {
      throw TopologyException("Gap time cannot be zero or negative, got " +
                              std::to_string(inactivity_gap.count()) + " ms");
    }
    detail::require_non_negative_grace(grace);
    return SessionWindows(inactivity_gap.count(), grace.count());
  }

  std::int64_t inactivity_gap_ms() const { return gap_; }
  std::int64_t grace_ms() const { return grace_; }

 private:
  SessionWindows(std::int64_t gap, std::int64_t grace) : gap_(gap), grace_(grace) {}
  std::int64_t gap_;
  std::int64_t grace_;
};

// When a windowed aggregation emits (`TimeWindowedKStream::emit_strategy`).
class EmitStrategy {
 public:
  enum class Type { on_window_update, on_window_close };

  // Every update of a window's aggregate (the default; a record cache may merge updates).
  static EmitStrategy on_window_update() { return EmitStrategy(Type::on_window_update); }
  // Each window once, with its final aggregate, when it closes (end + grace <= stream time).
  static EmitStrategy on_window_close() { return EmitStrategy(Type::on_window_close); }

  Type type() const { return type_; }

 private:
  explicit EmitStrategy(Type type) : type_(type) {}
  Type type_;
};

}  // namespace rivulet
