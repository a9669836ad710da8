// Materialized: the state store behind a KTable (an aggregation's result, a source table, a
// materialized filter or map_values): its name, kind, serdes, caching and changelog.
//
//   .count(rivulet::Materialized<std::string, std::int64_t>::as("counts-store"))
//   .aggregate(init, add, rivulet::Materialized<std::string, Stats>::as(
//                             rivulet::Stores::in_memory_key_value_store("stats"))
//                             .with_caching_disabled())
//
// A store named here (or through its supplier) is queryable: the test driver's get_*_store and
// interactive queries find it by that name, and its changelog topic is
// "<application.id>-<name>-changelog". Without a name the DSL generates one as Kafka Streams does
// ("KSTREAM-AGGREGATE-STATE-STORE-0000000001", ...), and the name may change with the topology.
//
// Defaults, as in Kafka Streams' DSL: caching on (updates of a key between two commits are merged
// before they go downstream; needs `statestore.cache.max.bytes` > 0), logging on. The kind of
// store, without a supplier: `with_store_type`, else the `default.dsl.store` of the StreamsConfig
// given to the StreamsBuilder (`StreamsBuilder(config)`), else RocksDB. (As in Kafka Streams, the
// topology is built before KafkaStreams sees its configuration, so the builder must be told.)
//
// `K` and `V` are the table's key and value types; for windowed aggregations `K` is the key
// inside the window, and the store is a window or session store.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include <rivulet/errors.h>
#include <rivulet/named.h>
#include <rivulet/serde.h>
#include <rivulet/state/stores.h>
#include <rivulet/state/value_and_timestamp.h>
#include <rivulet/streams_config.h>

namespace rivulet {

template <class K, class V>
struct Materialized {
  std::string store_name;  // empty: generated (or the supplier's)
  std::optional<KeyValueBytesStoreSupplier> key_value_supplier;
  std::optional<WindowBytesStoreSupplier> window_supplier;
  std::optional<SessionBytesStoreSupplier> session_supplier;
  std::optional<DslStoreType> store_type;  // default: the builder's default.dsl.store
  std::optional<AnySerde<K>> key_serde;    // default: the upstream's, else DefaultSerde<K>
  std::optional<AnySerde<V>> value_serde;  // default: the upstream's, else DefaultSerde<V>
  bool caching = true;
  bool logging = true;
  std::map<std::string, std::string> log_config;  // topic configs of the changelog
  // Windowed stores: how long windows are kept. Default (and minimum): window size + grace (for
  // sliding windows the time difference + grace, for sessions the gap + grace). Kafka Streams
  // rejects a shorter retention; Rivulet raises it to that minimum. Sliding and session stores
  // keep two time differences / one inactivity gap more (plus 1 ms), which their aggregation
  // reads (Kafka Streams' segments keep entries that much longer, or more).
  std::optional<std::chrono::milliseconds> retention;

  // A store named `name` (1 to 249 of [A-Za-z0-9._-]).
  static Materialized as(std::string name) {
    detail::validate_store_name(name);
    Materialized m;
    m.store_name = std::move(name);
    return m;
  }
  // The store the supplier creates, named after it.
  static Materialized as(KeyValueBytesStoreSupplier supplier) {
    Materialized m;
    m.store_name = supplier.name;
    m.key_value_supplier = std::move(supplier);
    return m;
  }
  static Materialized as(WindowBytesStoreSupplier supplier) {
    Materialized m;
    m.store_name = supplier.name;
    m.window_supplier = std::move(supplier);
    return m;
  }
  static Materialized as(SessionBytesStoreSupplier supplier) {
    Materialized m;
    m.store_name = supplier.name;
    m.session_supplier = std::move(supplier);
    return m;
  }
  // An unnamed store of the given kind.
  static Materialized as(DslStoreType type) {
    Materialized m;
    m.store_type = type;
    return m;
  }
  static Materialized with(AnySerde<K> key, AnySerde<V> value) {
    Materialized m;
    m.key_serde = std::move(key);
    m.value_serde = std::move(value);
    return m;
  }

  Materialized&& with_key_serde(AnySerde<K> serde) && {
    key_serde = std::move(serde);
    return std::move(*this);
  }
  Materialized&& with_value_serde(AnySerde<V> serde) && {
    value_serde = std::move(serde);
    return std::move(*this);
  }
  Materialized&& with_store_type(DslStoreType type) && {
    store_type = type;
    return std::move(*this);
  }
  Materialized&& with_caching_enabled() && {
    caching = true;
    return std::move(*this);
  }
  // Every update goes downstream (and to the changelog) as it happens.
  Materialized&& with_caching_disabled() && {
    caching = false;
    return std::move(*this);
  }
  Materialized&& with_logging_enabled(std::map<std::string, std::string> config = {}) && {
    logging = true;
    log_config = std::move(config);
    return std::move(*this);
  }
  // No changelog: the store is not restored when its task moves or, in memory, restarts.
  Materialized&& with_logging_disabled() && {
    logging = false;
    log_config.clear();
    return std::move(*this);
  }
  // REQUIRES: retention >= 0.
  Materialized&& with_retention(std::chrono::milliseconds r) && {
    if (r.count() < 0) {
      throw TopologyException("the retention of a materialized store must not be negative, got " +
                              std::to_string(r.count()) + " ms");
    }
    retention = r;
    return std::move(*this);
  }
};

namespace detail {

// Whether a store without a supplier is kept in memory.
template <class K, class V>
bool dsl_store_in_memory(const Materialized<K, V>& m, bool builder_default_in_memory) {
  if (m.store_type) return *m.store_type == DslStoreType::in_memory;
  return builder_default_in_memory;
}

template <class Store>
StoreBuilder<Store>& apply_materialized_layers(StoreBuilder<Store>& builder, bool caching,
                                               bool logging,
                                               const std::map<std::string, std::string>& config) {
  if (caching) {
    builder.with_caching_enabled();
  } else {
    builder.with_caching_disabled();
  }
  if (logging) {
    builder.with_logging_enabled(config);
  } else {
    builder.with_logging_disabled();
  }
  return builder;
}

// The key-value store of a table with values V: KeyValueStore<K, ValueAndTimestamp<V>>.
template <class K, class V>
StoreBuilder<KeyValueStore<K, ValueAndTimestamp<V>>> timestamped_key_value_store(
    const Materialized<K, V>& m, const std::string& name, bool builder_in_memory,
    AnySerde<K> key_serde, AnySerde<V> value_serde) {
  if (m.window_supplier || m.session_supplier) {
    throw TopologyException("store '" + name +
                            "' backs a key-value table: materialize it with a key-value store "
                            "supplier, not a window or session store supplier");
  }
  KeyValueBytesStoreSupplier supplier = m.key_value_supplier ? *m.key_value_supplier
                                        : dsl_store_in_memory(m, builder_in_memory)
                                            ? Stores::in_memory_key_value_store(name)
                                            : Stores::persistent_key_value_store(name);
  StoreBuilder<KeyValueStore<K, ValueAndTimestamp<V>>> builder(
      std::move(supplier), std::move(key_serde),
      AnySerde<ValueAndTimestamp<V>>(ValueAndTimestampSerde<V>(std::move(value_serde))));
  apply_materialized_layers(builder, m.caching, m.logging, m.log_config);
  return builder;
}

// The retention of a DSL window or session store: the given one, at least `minimum`, plus
// `extra` (what the aggregation reads beyond its open windows).
inline std::int64_t dsl_retention(std::optional<std::chrono::milliseconds> given,
                                  std::int64_t minimum, std::int64_t extra) {
  const std::int64_t kept = given && given->count() > minimum ? given->count() : minimum;
  return kept + extra;
}

// The window store of a time- or sliding-windowed aggregation with values V.
template <class K, class V>
StoreBuilder<WindowStore<K, ValueAndTimestamp<V>>> timestamped_window_store(
    const Materialized<K, V>& m, const std::string& name, bool builder_in_memory,
    std::int64_t window_size, std::int64_t minimum_retention, AnySerde<K> key_serde,
    AnySerde<V> value_serde, std::int64_t extra_retention = 0) {
  if (m.key_value_supplier || m.session_supplier) {
    throw TopologyException("store '" + name +
                            "' backs a windowed aggregation: materialize it with a window store "
                            "supplier");
  }
  const std::int64_t retention = dsl_retention(m.retention, minimum_retention, extra_retention);
  WindowBytesStoreSupplier supplier;
  if (m.window_supplier) {
    supplier = *m.window_supplier;
    if (supplier.window_size != window_size) {
      throw TopologyException("window store '" + name + "' has window size " +
                              std::to_string(supplier.window_size) + " ms; the windows need " +
                              std::to_string(window_size) + " ms");
    }
    if (supplier.retention_period < minimum_retention) {
      throw TopologyException("the retention period of window store '" + name + "' (" +
                              std::to_string(supplier.retention_period) +
                              " ms) must be no smaller than its window size plus the grace "
                              "period (" +
                              std::to_string(minimum_retention) + " ms)");
    }
    if (supplier.retain_duplicates) {
      throw TopologyException("window store '" + name +
                              "' retains duplicates, which an aggregation cannot use");
    }
  } else {
    const std::chrono::milliseconds kept(retention);
    const std::chrono::milliseconds size(window_size);
    supplier = dsl_store_in_memory(m, builder_in_memory)
                   ? Stores::in_memory_window_store(name, kept, size, false)
                   : Stores::persistent_window_store(name, kept, size, false);
  }
  StoreBuilder<WindowStore<K, ValueAndTimestamp<V>>> builder(
      std::move(supplier), std::move(key_serde),
      AnySerde<ValueAndTimestamp<V>>(ValueAndTimestampSerde<V>(std::move(value_serde))));
  apply_materialized_layers(builder, m.caching, m.logging, m.log_config);
  return builder;
}

// The session store of a session-windowed aggregation with values V.
template <class K, class V>
StoreBuilder<SessionStore<K, V>> dsl_session_store(const Materialized<K, V>& m,
                                                   const std::string& name, bool builder_in_memory,
                                                   std::int64_t minimum_retention,
                                                   AnySerde<K> key_serde, AnySerde<V> value_serde,
                                                   std::int64_t extra_retention = 0) {
  if (m.key_value_supplier || m.window_supplier) {
    throw TopologyException("store '" + name +
                            "' backs a session-windowed aggregation: materialize it with a "
                            "session store supplier");
  }
  SessionBytesStoreSupplier supplier;
  if (m.session_supplier) {
    supplier = *m.session_supplier;
    if (supplier.retention_period < minimum_retention) {
      throw TopologyException("the retention period of session store '" + name + "' (" +
                              std::to_string(supplier.retention_period) +
                              " ms) must be no smaller than the inactivity gap plus the grace "
                              "period (" +
                              std::to_string(minimum_retention) + " ms)");
    }
  } else {
    const std::chrono::milliseconds kept(
        dsl_retention(m.retention, minimum_retention, extra_retention));
    supplier = dsl_store_in_memory(m, builder_in_memory)
                   ? Stores::in_memory_session_store(name, kept)
                   : Stores::persistent_session_store(name, kept);
  }
  StoreBuilder<SessionStore<K, V>> builder(std::move(supplier), std::move(key_serde),
                                           std::move(value_serde));
  apply_materialized_layers(builder, m.caching, m.logging, m.log_config);
  return builder;
}

}  // namespace detail
}  // namespace rivulet
