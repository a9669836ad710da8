#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include <rivulet/anomaly.h>

namespace rivulet {

DetectorParamsReader::DetectorParamsReader(std::string detector, const DetectorParams& params)
    : detector_(std::move(detector)), params_(params) {}

const double* DetectorParamsReader::find(const std::string& key) {
  read_.push_back(key);
  auto it = params_.find(key);
  if (it == params_.end()) return nullptr;
  if (!std::isfinite(it->second)) {
    throw ConfigException(
        fmt::format("anomaly detector '{}': parameter '{}' must be finite, got {}", detector_, key,
                    it->second));
  }
  return &it->second;
}

double DetectorParamsReader::number(const std::string& key, double fallback) {
  const double* value = find(key);
  return value != nullptr ? *value : fallback;
}

std::optional<double> DetectorParamsReader::optional_number(const std::string& key) {
  const double* value = find(key);
  if (value == nullptr) return std::nullopt;
  return *value;
}

std::int64_t DetectorParamsReader::integer(const std::string& key, std::int64_t fallback) {
  const double* value = find(key);
  if (value == nullptr) return fallback;
  // [-2^63, 2^63) are the doubles that convert to int64 without overflow.
  constexpr double kLimit = 9223372036854775808.0;
  if (std::trunc(*value) != *value || *value < -kLimit || *value >= kLimit) {
    throw ConfigException(
        fmt::format("anomaly detector '{}': parameter '{}' must be a whole number, got {}",
                    detector_, key, *value));
  }
  return static_cast<std::int64_t>(*value);
}

void DetectorParamsReader::finish() const {
  std::vector<std::string> unknown;
  for (const auto& [key, value] : params_) {
    if (std::find(read_.begin(), read_.end(), key) == read_.end()) unknown.push_back(key);
  }
  if (unknown.empty()) return;
  std::vector<std::string> known = read_;
  std::sort(known.begin(), known.end());
  known.erase(std::unique(known.begin(), known.end()), known.end());
  throw ConfigException(
      fmt::format("anomaly detector '{}': unknown parameter{} '{}'; it reads: {}", detector_,
                  unknown.size() > 1 ? "s" : "", fmt::join(unknown, "', '"),
                  known.empty() ? std::string("none") : fmt::format("{}", fmt::join(known, ", "))));
}

}  // namespace rivulet
