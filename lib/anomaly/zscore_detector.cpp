#include <cmath>

#include <fmt/format.h>

#include <rivulet/anomaly.h>

#include "anomaly/model_codec.h"
#include "anomaly/option_checks.h"

namespace rivulet {

namespace {
constexpr std::uint8_t kModelVersion = 1;
}

ZScoreDetector::ZScoreDetector(ZScoreOptions options) : options_(options) {
  anomaly::check_positive("zscore", "threshold", options_.threshold);
  anomaly::check_warm_up("zscore", options_.warm_up);
}

double ZScoreDetector::variance() const {
  return count_ < 2 ? 0.0 : m2_ / static_cast<double>(count_ - 1);
}

AnomalyScore ZScoreDetector::score(double value) const {
  AnomalyScore out;
  out.threshold = options_.threshold;
  if (count_ < 2) return out;  // no spread yet
  const double stddev = std::sqrt(variance());
  out.score = anomaly::scaled_distance(value, mean_, stddev);
  out.lower = mean_ - options_.threshold * stddev;
  out.upper = mean_ + options_.threshold * stddev;
  return out;
}

// Welford: the new value moves the mean by delta / n and adds delta * (x - new mean) to M2,
// which stays exact where summing squares would cancel.
void ZScoreDetector::learn(double value) {
  ++count_;
  const double delta = value - mean_;
  mean_ += delta / static_cast<double>(count_);
  m2_ += delta * (value - mean_);
}

void ZScoreDetector::reset() {
  count_ = 0;
  mean_ = 0;
  m2_ = 0;
}

void ZScoreDetector::save_model(Bytes& out) const {
  out.clear();
  out.push_back(kModelVersion);
  anomaly::put_i64(out, count_);
  anomaly::put_f64(out, mean_);
  anomaly::put_f64(out, m2_);
}

void ZScoreDetector::load_model(ByteView bytes) {
  anomaly::ModelReader in("zscore model", bytes);
  in.expect_version(kModelVersion);
  const std::int64_t count = in.i64();
  const double mean = in.f64();
  const double m2 = in.f64();
  in.expect_end();
  if (count < 0 || !std::isfinite(mean) || !(m2 >= 0) || !std::isfinite(m2)) {
    in.fail(fmt::format("count {}, mean {} or M2 {} is out of range", count, mean, m2));
  }
  count_ = count;
  mean_ = mean;
  m2_ = m2;
}

}  // namespace rivulet
