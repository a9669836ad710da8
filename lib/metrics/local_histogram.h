// LocalHistogram: a histogram that one thread fills without a lock or an atomic, and hands to a
// prometheus::Histogram in one call now and then. prometheus-cpp 1.0 locks a mutex and does two
// atomic additions per `Observe`; a stream thread observes per record, so it counts here and the
// thread moves the counts over when it publishes its metrics (every loop, see ThreadMetrics).
//
// Buckets follow Prometheus' `le` rule, as prometheus::Histogram's: a value goes to the first
// bucket whose upper bound is >= the value, or to +Inf. Owned and used by one thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include <prometheus/histogram.h>

namespace rivulet::metrics {

class LocalHistogram {
 public:
  // REQUIRES: `bounds` ascending.
  explicit LocalHistogram(std::vector<double> bounds)
      : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0.0) {}

  void observe(double value) {
    const auto bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
    counts_[static_cast<std::size_t>(bucket)] += 1.0;
    sum_ += value;
    ++count_;
  }

  std::uint64_t pending() const { return count_; }
  const std::vector<double>& bounds() const { return bounds_; }

  // Adds what was observed since the last flush to `target` (which must have the same bounds)
  // and starts counting from zero again.
  void flush_to(prometheus::Histogram& target) {
    if (count_ == 0) return;
    target.ObserveMultiple(counts_, sum_);
    std::fill(counts_.begin(), counts_.end(), 0.0);
    sum_ = 0;
    count_ = 0;
  }

 private:
  std::vector<double> bounds_;
  std::vector<double> counts_;  // one per bound, then +Inf
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

}  // namespace rivulet::metrics
