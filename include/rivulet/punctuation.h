// Punctuation: callbacks a processor schedules to run periodically, by stream time or wall-clock.
//
// Stream-time punctuation is driven by data: it fires when the task's stream time (the largest
// timestamp it has seen) passes the next multiple of the interval, at most once per advance, and
// the punctuator receives the current stream time. Wall-clock punctuation fires when the system
// time passes the next scheduled time (first one interval after scheduling), and receives the
// current system time. Both run on the task's thread, between records, never concurrently with
// `process`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace rivulet {

enum class PunctuationType { stream_time, wall_clock_time };

using Punctuator = std::function<void(std::int64_t timestamp)>;

// Returned by `ProcessorContext::schedule`; `cancel()` stops further punctuations. Dropping the
// handle does not cancel.
class Cancellable {
 public:
  Cancellable() = default;
  explicit Cancellable(std::shared_ptr<bool> cancelled) : cancelled_(std::move(cancelled)) {}
  void cancel() {
    if (cancelled_) *cancelled_ = true;
  }

 private:
  std::shared_ptr<bool> cancelled_;
};

}  // namespace rivulet
