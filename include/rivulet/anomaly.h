// Anomaly detection on a keyed stream: detectors that keep one model per key in a state store, the
// registry that creates them by name, and the result `KStream::detect_anomalies` emits.
//
//   readings
//       .detect_anomalies([](const Reading& r) { return r.engine_temp_c; },
//                         rivulet::detectors::zscore({.threshold = 3.0, .warm_up = 20}),
//                         rivulet::Named::as("engine-temp"))
//       .filter([](const auto&, const rivulet::AnomalyResult& r) { return r.anomaly; })
//       .to("engine-temp-alerts");
//
// Each value is scored against its key's model as the model was before that value, then learned
// into it. Every value is learned, flagged or not, so a lasting shift of level becomes the new
// normal. A result is flagged when its score exceeds the detector's threshold and the model had
// learned at least `warm_up` values of the key before it.
//
// Built-in detectors (their registry names, parameters and defaults):
//   "zscore"     ZScoreDetector:    |x - mean| / sample stddev of the key's earlier values
//                                   (Welford). threshold 3, warm_up 10
//   "ewma"       EwmaDetector:      |x - ewma| / sqrt(ewm variance); control limits at
//                                   ewma +- threshold * sigma. alpha 0.3, threshold 3, warm_up 10
//   "mad"        MadDetector:       0.6745 * |x - median| / MAD over the last `window` values.
//                                   window 50, threshold 3.5, warm_up 10
//   "threshold"  ThresholdDetector: how far x lies outside [min, max] (either may be absent).
//                                   min, max (at least one), warm_up 0
//
// Your own detector derives from AnomalyDetector; register a factory for it in a DetectorRegistry
// (a plain value: copy `DetectorRegistry::with_builtins()` and add to it) or hand a
// DetectorSupplier to `detect_anomalies` directly. Nothing here is global: each topology holds the
// suppliers it was built with.
//
// Models are saved as bytes in the store (see AnomalyModel): a versioned envelope around the
// detector's own versioned bytes, so a blob of another format, another detector or a corrupt one
// fails with a SerializationException that says which, rather than being misread.
//
// Thread-safety: a detector object is used by one task at a time. Suppliers and registries are not
// changed by the topology and may be shared; their factories must be safe to call concurrently.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <rivulet/errors.h>
#include <rivulet/record.h>
#include <rivulet/serde.h>

namespace rivulet {

// A detector's parameters by name, as a registry factory receives them.
using DetectorParams = std::map<std::string, double>;

// How one value compares with a model. The value is anomalous when score > threshold; the values
// with score <= threshold are those in [lower, upper] (an infinite bound: no bound on that side).
struct AnomalyScore {
  double score = 0;
  double threshold = 0;
  double lower = -std::numeric_limits<double>::infinity();
  double upper = std::numeric_limits<double>::infinity();
};

// One key's model. `detect_anomalies` keeps one detector object per task and, for each record,
// loads the key's model into it (or resets it for a new key), scores the value, learns it and
// saves the model back to the store.
class AnomalyDetector {
 public:
  virtual ~AnomalyDetector() = default;

  // How `value` (finite) compares with the model as it is now. Must not change the model.
  virtual AnomalyScore score(double value) const = 0;
  // Adds `value` (finite) to the model.
  virtual void learn(double value) = 0;
  // Forgets every value: the model of a key not seen before.
  virtual void reset() = 0;
  // How many values of a key the model must have learned before a value may be flagged.
  virtual std::int64_t warm_up() const { return 0; }

  // The model as bytes, replacing the contents of `out`. Begin with a version byte of the format,
  // so that `load_model` can tell a model it cannot read.
  virtual void save_model(Bytes& out) const = 0;
  // Replaces the model by one `save_model` wrote. Throws SerializationException, naming the
  // detector and the problem (unknown version, wrong size), for bytes it cannot read.
  virtual void load_model(ByteView bytes) = 0;
};

// Creates a detector with an empty model per call: `detect_anomalies` calls it once per task.
struct DetectorSupplier {
  std::string name;  // written in every result and with every model; 1 to 255 bytes
  std::function<std::unique_ptr<AnomalyDetector>()> get;
};

// ---- Built-in detectors -----------------------------------------------------------------------
//
// Their constructors validate the options and throw ConfigException naming the detector, the
// parameter and what is valid.

struct ZScoreOptions {
  double threshold = 3.0;     // flag |x - mean| / stddev above this; > 0
  std::int64_t warm_up = 10;  // >= 0
};

// The z-score of a value against the mean and sample standard deviation of all the key's values
// before it, kept with Welford's online algorithm (count, mean, sum of squared deviations M2).
// Below two values there is no spread: the score is 0 and the bounds are infinite. A standard
// deviation of 0 (all values equal) scores the same value 0 and any other +infinity.
class ZScoreDetector final : public AnomalyDetector {
 public:
  explicit ZScoreDetector(ZScoreOptions options = {});

  AnomalyScore score(double value) const override;
  void learn(double value) override;
  void reset() override;
  std::int64_t warm_up() const override { return options_.warm_up; }
  // [1][count, 8 bytes][mean, 8][M2, 8], big-endian; doubles as IEEE-754 bits.
  void save_model(Bytes& out) const override;
  void load_model(ByteView bytes) override;

  std::int64_t count() const { return count_; }
  double mean() const { return mean_; }
  // M2 / (count - 1); 0 below two values.
  double variance() const;

 private:
  ZScoreOptions options_;
  std::int64_t count_ = 0;
  double mean_ = 0;
  double m2_ = 0;
};

struct EwmaOptions {
  double alpha = 0.3;         // weight of the newest value, in (0, 1]
  double threshold = 3.0;     // L: control limits at ewma +- L * sigma; > 0
  std::int64_t warm_up = 10;  // >= 0
};

// An exponentially weighted moving average and variance (Finch's incremental form). The first
// value sets the average, with variance 0; each later value x updates
//   d = x - ewma;  ewma += alpha * d;  variance = (1 - alpha) * (variance + alpha * d * d)
// and is scored, before that update, as |x - ewma| / sqrt(variance) with limits
// ewma +- threshold * sqrt(variance). No value yet: score 0, infinite limits. Variance 0 scores
// the average itself 0 and any other value +infinity.
class EwmaDetector final : public AnomalyDetector {
 public:
  explicit EwmaDetector(EwmaOptions options = {});

  AnomalyScore score(double value) const override;
  void learn(double value) override;
  void reset() override;
  std::int64_t warm_up() const override { return options_.warm_up; }
  // [1][count, 8 bytes][ewma, 8][variance, 8], big-endian.
  void save_model(Bytes& out) const override;
  void load_model(ByteView bytes) override;

  std::int64_t count() const { return count_; }
  double mean() const { return mean_; }
  double variance() const { return variance_; }

 private:
  EwmaOptions options_;
  std::int64_t count_ = 0;
  double mean_ = 0;
  double variance_ = 0;
};

struct MadOptions {
  std::int64_t window = 50;   // values kept per key, 1 to 65536 (a model is 8 bytes per value)
  double threshold = 3.5;     // flag a robust z-score above this (Iglewicz and Hoaglin); > 0
  std::int64_t warm_up = 10;  // >= 0
};

// The robust z-score 0.6745 * |x - median| / MAD against the last `window` values of the key,
// where MAD is the median of |v - median| over them (the median of an even count is the mean of
// the middle two). Limits: median +- threshold * MAD / 0.6745. No value yet: score 0, infinite
// limits; MAD 0 scores the median itself 0 and any other value +infinity.
class MadDetector final : public AnomalyDetector {
 public:
  explicit MadDetector(MadOptions options = {});

  AnomalyScore score(double value) const override;
  void learn(double value) override;
  void reset() override;
  std::int64_t warm_up() const override { return options_.warm_up; }
  // [1][n, 4 bytes][n values, 8 bytes each, oldest first], big-endian. A model of a longer
  // window loads its newest `window` values.
  void save_model(Bytes& out) const override;
  void load_model(ByteView bytes) override;

  // The values kept, oldest first.
  const std::deque<double>& values() const { return values_; }
  // Of the values kept. REQUIRES: values() not empty.
  double median() const;
  double mad() const;

 private:
  MadOptions options_;
  std::deque<double> values_;
};

// At least one of min and max; min <= max when both are given.
struct ThresholdOptions {
  std::optional<double> min = std::nullopt;  // values below are anomalous; absent: no lower bound
  std::optional<double> max = std::nullopt;  // values above are anomalous; absent: no upper bound
  std::int64_t warm_up = 0;                  // >= 0
};

// Fixed bounds: the score is how far the value lies outside [min, max] (0 inside), the threshold
// 0, the limits min and max. The model only counts values (for the warm-up); it saves as [1].
class ThresholdDetector final : public AnomalyDetector {
 public:
  explicit ThresholdDetector(ThresholdOptions options);

  AnomalyScore score(double value) const override;
  void learn(double /*value*/) override {}
  void reset() override {}
  std::int64_t warm_up() const override { return options_.warm_up; }
  void save_model(Bytes& out) const override;
  void load_model(ByteView bytes) override;

 private:
  ThresholdOptions options_;
};

// Suppliers of the built-in detectors, named as in the registry. They build one detector at once,
// so bad options throw ConfigException when the topology is built.
namespace detectors {
DetectorSupplier zscore(ZScoreOptions options = {});
DetectorSupplier ewma(EwmaOptions options = {});
DetectorSupplier mad(MadOptions options = {});
DetectorSupplier threshold(ThresholdOptions options);
}  // namespace detectors

// ---- Detectors by name -------------------------------------------------------------------------

// Reads a detector's parameters for a registry factory, with errors (ConfigException) that name
// the detector and the parameter:
//
//   DetectorParamsReader reader("spike", params);
//   SpikeOptions options{.factor = reader.number("factor", 2.0),
//                        .warm_up = reader.integer("warm_up", 5)};
//   reader.finish();  // rejects parameters nothing read ("factr"), listing the known ones
//
// REQUIRES: `params` outlives the reader.
class DetectorParamsReader {
 public:
  DetectorParamsReader(std::string detector, const DetectorParams& params);

  // A finite number; `fallback` when absent.
  double number(const std::string& key, double fallback);
  // A finite number, or nullopt when absent.
  std::optional<double> optional_number(const std::string& key);
  // A whole number that fits an int64 (20, not 20.5); `fallback` when absent.
  std::int64_t integer(const std::string& key, std::int64_t fallback);
  // Throws when a parameter was given that no call above asked for.
  void finish() const;

 private:
  const double* find(const std::string& key);

  std::string detector_;
  const DetectorParams& params_;
  std::vector<std::string> read_;
};

// Detector factories by name. A value type: copies are independent, so one application's
// additions never reach another's. Not thread-safe while being changed.
class DetectorRegistry {
 public:
  // Builds a detector from its parameters; throws ConfigException for bad ones.
  using Factory = std::function<std::unique_ptr<AnomalyDetector>(const DetectorParams&)>;

  // An empty registry.
  DetectorRegistry() = default;
  // "zscore", "ewma", "mad" and "threshold", reading the parameters listed at the top.
  static DetectorRegistry with_builtins();

  // Registers `factory` under `name`. REQUIRES: name of 1 to 255 bytes, not registered yet, and a
  // factory (ConfigException otherwise).
  DetectorRegistry& add(std::string name, Factory factory);
  bool contains(std::string_view name) const;
  // The registered names, sorted.
  std::vector<std::string> names() const;

  // A new detector `name` built from `params`. Throws ConfigException for an unknown name (listing
  // the registered ones) or bad parameters.
  std::unique_ptr<AnomalyDetector> create(const std::string& name,
                                          const DetectorParams& params = {}) const;
  // A supplier of detector `name` with `params`, for `detect_anomalies`. Creates one detector at
  // once, so an unknown name or bad parameters throw here. The supplier keeps a copy of the
  // factory: later changes to the registry do not affect it.
  DetectorSupplier detector(const std::string& name, const DetectorParams& params = {}) const;

 private:
  std::map<std::string, Factory, std::less<>> factories_;
};

// ---- What detect_anomalies emits and stores -----------------------------------------------------

// One result per record, with the record's key and timestamp. As JSON (the default serde):
//   {"detector":"zscore","value":97.5,"score":3.4,"threshold":3.0,"lower":61.2,"upper":93.3,
//    "anomaly":true,"observations":250}
// Non-finite numbers are written as the strings "Infinity", "-Infinity" and "NaN", and read back.
struct AnomalyResult {
  std::string detector;           // the supplier's name
  double value = 0;               // what the value extractor returned
  double score = 0;               // AnomalyScore of the value against the model before it
  double threshold = 0;           //
  double lower = 0;               // the normal range at that moment
  double upper = 0;               //
  bool anomaly = false;           // score > threshold and observations >= the warm-up
  std::int64_t observations = 0;  // values of the key the model had learned before this one

  friend bool operator==(const AnomalyResult&, const AnomalyResult&) = default;
};
void to_json(nlohmann::json& json, const AnomalyResult& result);
// Throws nlohmann::json::exception for a missing field or a field of the wrong type, and
// std::invalid_argument for a string where a number belongs (other than the three above).
void from_json(const nlohmann::json& json, AnomalyResult& result);

// What the store of `detect_anomalies` holds per key.
struct AnomalyModel {
  std::string detector;           // the supplier's name that wrote it
  std::int64_t observations = 0;  // values learned
  Bytes model;                    // AnomalyDetector::save_model

  friend bool operator==(const AnomalyModel&, const AnomalyModel&) = default;
};

// AnomalyModel as [version 1][name length, 1 byte][name][observations, 8 bytes big-endian][model].
// `deserialize` throws SerializationException naming the store's topic and the problem for an
// empty blob, another version, or a truncated one. Stateless; thread-safe.
class AnomalyModelSerde {
 public:
  static constexpr std::uint8_t kVersion = 1;
  void serialize(std::string_view topic, const AnomalyModel& model, Bytes& out) const;
  AnomalyModel deserialize(std::string_view topic, ByteView data) const;
};
template <>
struct DefaultSerde<AnomalyModel> {
  using type = AnomalyModelSerde;
};

namespace detail {
// Scores `value` against the key's model in `model` (nullopt: a new key) using `detector` (the
// supplier's object, named `name`), learns it, and leaves the updated model in `model`. `store`
// names the store in errors.
AnomalyResult observe_anomaly(AnomalyDetector& detector, const std::string& name,
                              std::optional<AnomalyModel>& model, double value,
                              const std::string& store);
// Throws TopologyException unless the supplier has a valid name and a function.
void validate_detector_supplier(const DetectorSupplier& supplier, const std::string& node);
}  // namespace detail

}  // namespace rivulet
