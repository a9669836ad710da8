#include <fmt/format.h>

#include <rivulet/anomaly.h>

namespace rivulet {

namespace {

constexpr std::size_t kMaxNameBytes = 255;  // the model envelope stores the length in one byte

template <class Detector, class Options>
DetectorSupplier builtin_supplier(std::string name, Options options) {
  Detector check(options);  // throws now, while the topology is built, for bad options
  (void)check;
  return DetectorSupplier{std::move(name),
                          [options] { return std::make_unique<Detector>(options); }};
}

std::unique_ptr<AnomalyDetector> zscore_from(const DetectorParams& params) {
  DetectorParamsReader reader("zscore", params);
  const ZScoreOptions defaults;
  ZScoreOptions options{.threshold = reader.number("threshold", defaults.threshold),
                        .warm_up = reader.integer("warm_up", defaults.warm_up)};
  reader.finish();
  return std::make_unique<ZScoreDetector>(options);
}

std::unique_ptr<AnomalyDetector> ewma_from(const DetectorParams& params) {
  DetectorParamsReader reader("ewma", params);
  const EwmaOptions defaults;
  EwmaOptions options{.alpha = reader.number("alpha", defaults.alpha),
                      .threshold = reader.number("threshold", defaults.threshold),
                      .warm_up = reader.integer("warm_up", defaults.warm_up)};
  reader.finish();
  return std::make_unique<EwmaDetector>(options);
}

std::unique_ptr<AnomalyDetector> mad_from(const DetectorParams& params) {
  DetectorParamsReader reader("mad", params);
  const MadOptions defaults;
  MadOptions options{.window = reader.integer("window", defaults.window),
                     .threshold = reader.number("threshold", defaults.threshold),
                     .warm_up = reader.integer("warm_up", defaults.warm_up)};
  reader.finish();
  return std::make_unique<MadDetector>(options);
}

std::unique_ptr<AnomalyDetector> threshold_from(const DetectorParams& params) {
  DetectorParamsReader reader("threshold", params);
  const ThresholdOptions defaults;
  ThresholdOptions options{.min = reader.optional_number("min"),
                           .max = reader.optional_number("max"),
                           .warm_up = reader.integer("warm_up", defaults.warm_up)};
  reader.finish();
  return std::make_unique<ThresholdDetector>(options);
}

}  // namespace

namespace detectors {
DetectorSupplier zscore(ZScoreOptions options) {
  return builtin_supplier<ZScoreDetector>("zscore", options);
}
DetectorSupplier ewma(EwmaOptions options) {
  return builtin_supplier<EwmaDetector>("ewma", options);
}
DetectorSupplier mad(MadOptions options) {
  return builtin_supplier<MadDetector>("mad", options);
}
DetectorSupplier threshold(ThresholdOptions options) {
  return builtin_supplier<ThresholdDetector>("threshold", options);
}
}  // namespace detectors

DetectorRegistry DetectorRegistry::with_builtins() {
  DetectorRegistry registry;
  registry.add("zscore", zscore_from);
  registry.add("ewma", ewma_from);
  registry.add("mad", mad_from);
  registry.add("threshold", threshold_from);
  return registry;
}

DetectorRegistry& DetectorRegistry::add(std::string name, Factory factory) {
  if (name.empty() || name.size() > kMaxNameBytes) {
    throw ConfigException(fmt::format("anomaly detector name '{}' has {} bytes; a name has 1 to {}",
                                      name, name.size(), kMaxNameBytes));
  }
  if (!factory) {
    throw ConfigException(fmt::format("anomaly detector '{}' was given no factory", name));
  }
  if (factories_.count(name) > 0) {
    throw ConfigException(fmt::format(
        "anomaly detector '{}' is already registered; register yours under another name", name));
  }
  factories_.emplace(std::move(name), std::move(factory));
  return *this;
}

bool DetectorRegistry::contains(std::string_view name) const {
  return factories_.find(name) != factories_.end();
}

std::vector<std::string> DetectorRegistry::names() const {
  std::vector<std::string> out;
  out.reserve(factories_.size());
  for (const auto& [name, factory] : factories_) out.push_back(name);
  return out;
}

std::unique_ptr<AnomalyDetector> DetectorRegistry::create(const std::string& name,
                                                          const DetectorParams& params) const {
  auto it = factories_.find(name);
  if (it == factories_.end()) {
    const std::vector<std::string> known = names();
    throw ConfigException(fmt::format(
        "unknown anomaly detector '{}'; registered: {}", name,
        known.empty() ? std::string("none") : fmt::format("{}", fmt::join(known, ", "))));
  }
  std::unique_ptr<AnomalyDetector> detector = it->second(params);
  if (!detector) {
    throw ConfigException(fmt::format("the factory of anomaly detector '{}' returned null", name));
  }
  return detector;
}

DetectorSupplier DetectorRegistry::detector(const std::string& name,
                                            const DetectorParams& params) const {
  create(name, params);  // throws now for an unknown name or bad parameters
  Factory factory = factories_.find(name)->second;
  return DetectorSupplier{name, [factory = std::move(factory), params] { return factory(params); }};
}

}  // namespace rivulet
