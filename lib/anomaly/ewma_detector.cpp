#include <cmath>

#include <fmt/format.h>

#include <rivulet/anomaly.h>

#include "anomaly/model_codec.h"
#include "anomaly/option_checks.h"

namespace rivulet {

namespace {
constexpr std::uint8_t kModelVersion = 1;
}

EwmaDetector::EwmaDetector(EwmaOptions options) : options_(options) {
  if (!(options_.alpha > 0 && options_.alpha <= 1)) {
    anomaly::bad_option("ewma", "alpha", "in (0, 1]", options_.alpha);
  }
  anomaly::check_positive("ewma", "threshold", options_.threshold);
  anomaly::check_warm_up("ewma", options_.warm_up);
}

AnomalyScore EwmaDetector::score(double value) const {
  AnomalyScore out;
  out.threshold = options_.threshold;
  if (count_ == 0) return out;
  const double sigma = std::sqrt(variance_);
  out.score = anomaly::scaled_distance(value, mean_, sigma);
  out.lower = mean_ - options_.threshold * sigma;
  out.upper = mean_ + options_.threshold * sigma;
  return out;
}

// Finch, "Incremental calculation of weighted mean and variance" (2009): the variance decays
// with the mean's weights, and d * incr = alpha * d^2 keeps it non-negative.
void EwmaDetector::learn(double value) {
  if (count_ == 0) {
    mean_ = value;
    variance_ = 0;
  } else {
    const double d = value - mean_;
    const double incr = options_.alpha * d;
    mean_ += incr;
    variance_ = (1 - options_.alpha) * (variance_ + d * incr);
  }
  ++count_;
}

void EwmaDetector::reset() {
  count_ = 0;
  mean_ = 0;
  variance_ = 0;
}

void EwmaDetector::save_model(Bytes& out) const {
  out.clear();
  out.push_back(kModelVersion);
  anomaly::put_i64(out, count_);
  anomaly::put_f64(out, mean_);
  anomaly::put_f64(out, variance_);
}

void EwmaDetector::load_model(ByteView bytes) {
  anomaly::ModelReader in("ewma model", bytes);
  in.expect_version(kModelVersion);
  const std::int64_t count = in.i64();
  const double mean = in.f64();
  const double variance = in.f64();
  in.expect_end();
  if (count < 0 || !std::isfinite(mean) || !(variance >= 0) || !std::isfinite(variance)) {
    in.fail(
        fmt::format("count {}, average {} or variance {} is out of range", count, mean, variance));
  }
  count_ = count;
  mean_ = mean;
  variance_ = variance;
}

}  // namespace rivulet
