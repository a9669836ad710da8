#include <cmath>

#include <fmt/format.h>

#include <rivulet/anomaly.h>

#include "anomaly/model_codec.h"
#include "anomaly/option_checks.h"

namespace rivulet {

namespace {
constexpr std::uint8_t kModelVersion = 1;
}

ThresholdDetector::ThresholdDetector(ThresholdOptions options) : options_(options) {
  if (!options_.min && !options_.max) {
    throw ConfigException(
        "anomaly detector 'threshold': give 'min', 'max' or both (a value outside is anomalous)");
  }
  if (options_.min && !std::isfinite(*options_.min)) {
    anomaly::bad_option("threshold", "min", "a finite number", *options_.min);
  }
  if (options_.max && !std::isfinite(*options_.max)) {
    anomaly::bad_option("threshold", "max", "a finite number", *options_.max);
  }
  if (options_.min && options_.max && *options_.min > *options_.max) {
    throw ConfigException(
        fmt::format("anomaly detector 'threshold': 'min' ({}) must not be above "
                    "'max' ({})",
                    *options_.min, *options_.max));
  }
  anomaly::check_warm_up("threshold", options_.warm_up);
}

AnomalyScore ThresholdDetector::score(double value) const {
  AnomalyScore out;
  out.threshold = 0;
  if (options_.min) {
    out.lower = *options_.min;
    if (value < *options_.min) out.score = *options_.min - value;
  }
  if (options_.max) {
    out.upper = *options_.max;
    if (value > *options_.max) out.score = value - *options_.max;
  }
  return out;
}

void ThresholdDetector::save_model(Bytes& out) const {
  out.assign(1, kModelVersion);
}

void ThresholdDetector::load_model(ByteView bytes) {
  anomaly::ModelReader in("threshold model", bytes);
  in.expect_version(kModelVersion);
  in.expect_end();
}

}  // namespace rivulet
