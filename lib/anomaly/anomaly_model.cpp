#include <fmt/format.h>

#include <rivulet/anomaly.h>
#include <rivulet/serdes.h>

#include "anomaly/model_codec.h"

namespace rivulet {

void AnomalyModelSerde::serialize(std::string_view topic, const AnomalyModel& model,
                                  Bytes& out) const {
  if (model.detector.empty() || model.detector.size() > 255) {
    throw SerializationException(
        fmt::format("anomaly model on {}: the detector name must have 1 to 255 bytes, got {}",
                    detail::serde_topic_label(topic), model.detector.size()));
  }
  out.clear();
  out.reserve(10 + model.detector.size() + model.model.size());
  out.push_back(kVersion);
  out.push_back(static_cast<std::uint8_t>(model.detector.size()));
  out.insert(out.end(), model.detector.begin(), model.detector.end());
  anomaly::put_i64(out, model.observations);
  out.insert(out.end(), model.model.begin(), model.model.end());
}

AnomalyModel AnomalyModelSerde::deserialize(std::string_view topic, ByteView data) const {
  anomaly::ModelReader in("anomaly model on " + detail::serde_topic_label(topic), data);
  in.expect_version(kVersion);
  AnomalyModel model;
  const std::uint8_t name_size = in.u8();
  if (name_size == 0) in.fail("the detector name is empty");
  const ByteView name = in.take(name_size);
  model.detector.assign(name.begin(), name.end());
  model.observations = in.i64();
  if (model.observations < 0) {
    in.fail(fmt::format("the observation count {} is negative", model.observations));
  }
  const ByteView rest = in.rest();
  model.model.assign(rest.begin(), rest.end());
  return model;
}

namespace detail {

AnomalyResult observe_anomaly(AnomalyDetector& detector, const std::string& name,
                              std::optional<AnomalyModel>& model, double value,
                              const std::string& store) {
  if (model) {
    if (model->detector != name) {
      throw SerializationException(fmt::format(
          "store '{}' holds a model of anomaly detector '{}' for this key, but this operator runs "
          "'{}': give the operator (or its store) a new name, or reset the application's state",
          store, model->detector, name));
    }
    try {
      detector.load_model(model->model);
    } catch (const SerializationException& error) {
      throw SerializationException(fmt::format("store '{}': {}", store, error.what()));
    }
  } else {
    detector.reset();
    model.emplace();
    model->detector = name;
  }
  const AnomalyScore score = detector.score(value);
  AnomalyResult result;
  result.detector = name;
  result.value = value;
  result.score = score.score;
  result.threshold = score.threshold;
  result.lower = score.lower;
  result.upper = score.upper;
  result.observations = model->observations;
  result.anomaly = model->observations >= detector.warm_up() && score.score > score.threshold;
  detector.learn(value);
  ++model->observations;
  detector.save_model(model->model);
  return result;
}

void validate_detector_supplier(const DetectorSupplier& supplier, const std::string& node) {
  if (supplier.name.empty() || supplier.name.size() > 255) {
    throw TopologyException(
        fmt::format("detect_anomalies '{}': the detector name must have 1 to 255 bytes, got '{}'",
                    node, supplier.name));
  }
  if (!supplier.get) {
    throw TopologyException(fmt::format(
        "detect_anomalies '{}': detector '{}' has no supplier function", node, supplier.name));
  }
}

}  // namespace detail
}  // namespace rivulet
