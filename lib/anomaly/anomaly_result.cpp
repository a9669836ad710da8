#include <cmath>
#include <limits>
#include <stdexcept>

#include <rivulet/anomaly.h>

namespace rivulet {

namespace {

// JSON has no infinities or NaN (nlohmann would write null); scores and limits may be infinite,
// so those are written as the names JavaScript and Jackson use.
nlohmann::json number_to_json(double value) {
  if (std::isfinite(value)) return value;
  if (std::isnan(value)) return "NaN";
  return value > 0 ? "Infinity" : "-Infinity";
}

double number_from_json(const nlohmann::json& json, const char* field) {
  const nlohmann::json& value = json.at(field);
  if (value.is_number()) return value.get<double>();
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text == "Infinity") return std::numeric_limits<double>::infinity();
    if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
    if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  }
  throw std::invalid_argument(std::string("AnomalyResult field '") + field +
                              R"(' must be a number, "Infinity", "-Infinity" or "NaN", got )" +
                              value.dump());
}

}  // namespace

void to_json(nlohmann::json& json, const AnomalyResult& result) {
  json = nlohmann::json{{"detector", result.detector},
                        {"value", number_to_json(result.value)},
                        {"score", number_to_json(result.score)},
                        {"threshold", number_to_json(result.threshold)},
                        {"lower", number_to_json(result.lower)},
                        {"upper", number_to_json(result.upper)},
                        {"anomaly", result.anomaly},
                        {"observations", result.observations}};
}

void from_json(const nlohmann::json& json, AnomalyResult& result) {
  json.at("detector").get_to(result.detector);
  result.value = number_from_json(json, "value");
  result.score = number_from_json(json, "score");
  result.threshold = number_from_json(json, "threshold");
  result.lower = number_from_json(json, "lower");
  result.upper = number_from_json(json, "upper");
  json.at("anomaly").get_to(result.anomaly);
  json.at("observations").get_to(result.observations);
}

}  // namespace rivulet
