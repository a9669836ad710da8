// Internal: the processor behind `KStream::detect_anomalies` and its store. Not API; the semantics
// are on the operation (kstream.h) and the detectors (anomaly.h).
//
// State: a KeyValueStore<K, AnomalyModel> holding each key's model. The processor keeps one
// detector object; per record it loads the key's model into it, scores and learns the value, and
// puts the model back, so the store is the only state: what a changelog restores (or a
// transaction rolls back) is the whole model.
#pragma once

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <rivulet/anomaly.h>
#include <rivulet/detail/ktable_processors.h>
#include <rivulet/detail/stream_processors.h>
#include <rivulet/materialized.h>
#include <rivulet/processor.h>
#include <rivulet/state/key_value_store.h>
#include <rivulet/state/stores.h>

namespace rivulet::detail {

// The number a value extractor returned, or nullopt for "no value" (an empty std::optional).
template <class T>
std::optional<double> extracted_number(T&& result) {
  using R = std::decay_t<T>;
  if constexpr (kIsStdOptional<R>) {
    if (!result) return std::nullopt;
    return static_cast<double>(*result);
  } else {
    static_assert(std::is_convertible_v<R, double>,
                  "detect_anomalies: the value extractor must return a number or a "
                  "std::optional of one");
    return static_cast<double>(result);
  }
}

template <class K, class V, class Extractor>
class AnomalyDetectionProcessor final : public DslProcessor<K, V, K, AnomalyResult> {
 public:
  AnomalyDetectionProcessor(std::string store, DetectorSupplier supplier, Extractor extractor)
      : store_name_(std::move(store)),
        supplier_(std::move(supplier)),
        extractor_(std::move(extractor)) {}

  void init(ProcessorContext<K, AnomalyResult>& context) override {
    DslProcessor<K, V, K, AnomalyResult>::init(context);
    store_ = &context.template get_state_store<KeyValueStore<K, AnomalyModel>>(store_name_);
    detector_ = supplier_.get();
    if (!detector_) {
      throw StreamsException("anomaly detector '" + supplier_.name +
                             "': its supplier returned null");
    }
  }

  void process_in_place(Record<K, V>& record) override {
    if (store_->key_serde().is_null(record.key())) {
      report_dropped(*this->context_, "null key for anomaly detection");
      return;
    }
    if (is_null_value(record.value())) {
      report_dropped(*this->context_, "null value for anomaly detection");
      return;
    }
    const std::optional<double> value =
        extracted_number(call_value_mapper(extractor_, record.key(), record.value()));
    if (!value) {
      report_dropped(*this->context_, "no value to check for anomalies");
      return;
    }
    if (!std::isfinite(*value)) {
      report_dropped(*this->context_, "non-finite value to check for anomalies");
      return;
    }
    std::optional<AnomalyModel> model = store_->get(record.key());
    AnomalyResult result = observe_anomaly(*detector_, supplier_.name, model, *value, store_name_);
    store_->put(record.key(), *model);
    this->context_->forward(std::move(record).with_value(std::move(result)));
  }

 private:
  std::string store_name_;
  DetectorSupplier supplier_;
  Extractor extractor_;
  std::unique_ptr<AnomalyDetector> detector_;
  KeyValueStore<K, AnomalyModel>* store_ = nullptr;
};

// The store of `detect_anomalies`: a key-value store of models, in memory or RocksDB as the
// Materialized or the builder's default.dsl.store says, cached and logged unless turned off.
template <class K>
StoreBuilder<KeyValueStore<K, AnomalyModel>> anomaly_model_store(
    const Materialized<K, AnomalyModel>& m, const std::string& name, bool builder_in_memory,
    AnySerde<K> keys) {
  if (m.window_supplier || m.session_supplier) {
    throw TopologyException("store '" + name +
                            "' holds anomaly models by key: materialize it with a key-value store "
                            "supplier, not a window or session store supplier");
  }
  KeyValueBytesStoreSupplier supplier = m.key_value_supplier ? *m.key_value_supplier
                                        : dsl_store_in_memory(m, builder_in_memory)
                                            ? Stores::in_memory_key_value_store(name)
                                            : Stores::persistent_key_value_store(name);
  AnySerde<AnomalyModel> models =
      m.value_serde ? *m.value_serde : AnySerde<AnomalyModel>(AnomalyModelSerde{});
  StoreBuilder<KeyValueStore<K, AnomalyModel>> builder(std::move(supplier), std::move(keys),
                                                       std::move(models));
  apply_materialized_layers(builder, m.caching, m.logging, m.log_config);
  return builder;
}

}  // namespace rivulet::detail
