// Validation of the built-in detectors' options, with errors that name the detector, the option,
// what is valid and what was given.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

#include <fmt/format.h>

#include <rivulet/errors.h>

namespace rivulet::anomaly {

template <class T>
[[noreturn]] void bad_option(std::string_view detector, std::string_view option,
                             std::string_view rule, T got) {
  throw ConfigException(
      fmt::format("anomaly detector '{}': '{}' must be {}, got {}", detector, option, rule, got));
}

inline void check_positive(std::string_view detector, std::string_view option, double value) {
  if (!std::isfinite(value) || value <= 0)
    bad_option(detector, option, "a finite number > 0", value);
}

inline void check_warm_up(std::string_view detector, std::int64_t warm_up) {
  if (warm_up < 0) bad_option(detector, "warm_up", "a whole number >= 0", warm_up);
}

// |x - center| / spread, with 0/0 = 0 and d/0 = +infinity (a spread of 0 makes any other value
// infinitely unusual).
inline double scaled_distance(double value, double center, double spread) {
  const double distance = std::fabs(value - center);
  if (spread > 0) return distance / spread;
  return distance == 0 ? 0.0 : std::numeric_limits<double>::infinity();
}

}  // namespace rivulet::anomaly
