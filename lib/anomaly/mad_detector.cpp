#include <algorithm>
#include <cmath>
#include <vector>

#include <rivulet/anomaly.h>

#include "anomaly/model_codec.h"
#include "anomaly/option_checks.h"

namespace rivulet {

namespace {

constexpr std::uint8_t kModelVersion = 1;
constexpr std::int64_t kMaxWindow = 65536;  // 512 KiB a model: one changelog record stays < 1 MB
// The MAD of a normal distribution is 0.6745 of its standard deviation (Iglewicz and Hoaglin).
constexpr double kConsistency = 0.6745;

// The median of `values` (reordered). REQUIRES: not empty.
double median_of(std::vector<double>& values) {
  const std::size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  // The lower middle value is the largest of those before the upper one.
  const double lower =
      *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
  return lower + (upper - lower) / 2;
}

}  // namespace

MadDetector::MadDetector(MadOptions options) : options_(options) {
  if (options_.window < 1 || options_.window > kMaxWindow) {
    anomaly::bad_option("mad", "window", "a whole number from 1 to " + std::to_string(kMaxWindow),
                        options_.window);
  }
  anomaly::check_positive("mad", "threshold", options_.threshold);
  anomaly::check_warm_up("mad", options_.warm_up);
}

double MadDetector::median() const {
  std::vector<double> scratch(values_.begin(), values_.end());
  return median_of(scratch);
}

double MadDetector::mad() const {
  const double center = median();
  std::vector<double> deviations;
  deviations.reserve(values_.size());
  for (double v : values_) deviations.push_back(std::fabs(v - center));
  return median_of(deviations);
}

AnomalyScore MadDetector::score(double value) const {
  AnomalyScore out;
  out.threshold = options_.threshold;
  if (values_.empty()) return out;
  const double center = median();
  const double spread = mad();
  out.score = kConsistency * anomaly::scaled_distance(value, center, spread);
  out.lower = center - options_.threshold * spread / kConsistency;
  out.upper = center + options_.threshold * spread / kConsistency;
  return out;
}

void MadDetector::learn(double value) {
  values_.push_back(value);
  while (values_.size() > static_cast<std::size_t>(options_.window)) values_.pop_front();
}

void MadDetector::reset() {
  values_.clear();
}

void MadDetector::save_model(Bytes& out) const {
  out.clear();
  out.reserve(5 + 8 * values_.size());
  out.push_back(kModelVersion);
  anomaly::put_u32(out, static_cast<std::uint32_t>(values_.size()));
  for (double v : values_) anomaly::put_f64(out, v);
}

void MadDetector::load_model(ByteView bytes) {
  anomaly::ModelReader in("mad model", bytes);
  in.expect_version(kModelVersion);
  const std::uint32_t n = in.u32();
  if (n > kMaxWindow) {
    in.fail("it claims " + std::to_string(n) + " values, more than any window (" +
            std::to_string(kMaxWindow) + ")");
  }
  std::deque<double> loaded;
  for (std::uint32_t i = 0; i < n; ++i) {
    const double v = in.f64();
    if (!std::isfinite(v)) in.fail("value " + std::to_string(i) + " is not finite");
    loaded.push_back(v);
  }
  in.expect_end();
  // A model saved with a longer window keeps its newest values.
  while (loaded.size() > static_cast<std::size_t>(options_.window)) loaded.pop_front();
  values_ = std::move(loaded);
}

}  // namespace rivulet
