// KTable: a changelog stream read as a table: each record is the latest value of its key (an
// upsert), and a deletion (a null value) removes the key. Aggregations (`KGroupedStream::count`,
// ...) and `StreamsBuilder::table` return tables.
//
// What goes downstream: every update of a key, in order, with the timestamp of the record that
// caused it (for aggregates: the newest record they include; for sessions: the session's end).
// When the table's store is cached (the default for DSL stores), consecutive updates of a key
// between two commits are merged into one, as in Kafka Streams.
//
// Nulls: a typed KStream cannot hold Kafka's null in a plain value, so `to_stream()` returns a
// stream of `std::optional<V>` values (V itself when V is already a std::optional): a deletion is
// `std::nullopt`, which sinks write as a tombstone. Its serde is V's inside OptionalSerde, so the
// bytes of present values are V's.
//
// For operators built on tables (joins): `value_getter_supplier()` reads a table's current value
// of a key (materializing a source table on demand); `enable_sending_old_values()` makes the
// table's node forward the replaced value with each change; records between table nodes are
// `Record<K, detail::Change<V>>`. See detail/ktable_processors.h.
//
// Handles are cheap to copy and share the builder, like KStream.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <rivulet/detail/builder_state.h>
#include <rivulet/detail/join_processors.h>
#include <rivulet/detail/ktable_processors.h>
#include <rivulet/detail/source_sink_nodes.h>
#include <rivulet/joins.h>
#include <rivulet/kstream.h>
#include <rivulet/materialized.h>
#include <rivulet/named.h>
#include <rivulet/state/value_and_timestamp.h>
#include <rivulet/suppressed.h>
#include <rivulet/windowed_serdes.h>

namespace rivulet {

template <class K, class V>
class KTable {
 public:
  using key_type = K;
  using value_type = V;

  // The keys whose value matches `predicate(key, value)`; a value that does not match deletes
  // its key downstream (a tombstone is forwarded for it, as in Kafka Streams).
  template <class Predicate>
  KTable filter(Predicate predicate, const Named& named = {}) const {
    return add_filter(std::move(predicate), true, named, std::nullopt);
  }
  // The same, materialized in the store `materialized` describes (queryable when named).
  template <class Predicate>
  KTable filter(Predicate predicate, const Named& named, Materialized<K, V> materialized) const {
    return add_filter(std::move(predicate), true, named, std::move(materialized));
  }
  // The keys whose value does not match `predicate`.
  template <class Predicate>
  KTable filter_not(Predicate predicate, const Named& named = {}) const {
    return add_filter(std::move(predicate), false, named, std::nullopt);
  }
  template <class Predicate>
  KTable filter_not(Predicate predicate, const Named& named,
                    Materialized<K, V> materialized) const {
    return add_filter(std::move(predicate), false, named, std::move(materialized));
  }

  // Each value replaced by `mapper(value)` or `mapper(key, value)`; deletions stay deletions.
  template <class Mapper>
  auto map_values(Mapper mapper, const Named& named = {}) const {
    using V2 = detail::ValueMapperResult<Mapper, K, V>;
    return add_map_values<V2>(std::move(mapper), named, std::nullopt);
  }
  template <class Mapper>
  auto map_values(Mapper mapper, const Named& named,
                  Materialized<K, detail::ValueMapperResult<Mapper, K, V>> materialized) const {
    using V2 = detail::ValueMapperResult<Mapper, K, V>;
    return add_map_values<V2>(std::move(mapper), named, std::move(materialized));
  }

  // The table's changes as a stream: one record per update, with the new value, its key and
  // timestamp; a deletion becomes a record with a null (nullopt) value. Windowed tables' streams
  // carry the windowed key serde (time windows: key + start; sessions: key + end + start), so
  // `.to(topic)` writes Kafka Streams' layout.
  KStream<K, detail::Nullable<V>> to_stream(const Named& named = {}) const {
    const std::string name = state_->name_or_generate(named.name(), "KTABLE-TOSTREAM-");
    state_->open_topology().add_processor(
        name, [] { return std::make_unique<detail::KTableToStreamProcessor<K, V>>(); },
        {info_->processor});
    std::optional<AnySerde<detail::Nullable<V>>> values;
    if (value_serde_) values = detail::nullable_serde<V>(*value_serde_);
    return KStream<K, detail::Nullable<V>>(state_, name, false, key_serde_, std::move(values));
  }

  // Holds updates back and emits them later (see suppressed.h). `until_window_closes` requires a
  // windowed table that descends from a windowed aggregation.
  KTable suppress(const Suppressed& suppressed) const {
    const bool final_results = suppressed.kind() == Suppressed::Kind::until_window_closes;
    if (final_results) {
      if constexpr (!detail::kIsWindowed<K>) {
        throw TopologyException(
            "Suppressed::until_window_closes needs a windowed table (a windowed aggregation's "
            "result); this table's key is not Windowed");
      }
      if (!info_->window_close_delay) {
        throw TopologyException(
            "Suppressed::until_window_closes: window close time is only defined for windowed "
            "computations; table '" +
            info_->processor + "' does not descend from a windowed aggregation");
      }
    }
    detail::BuilderState& state = *state_;
    const std::string& given = suppressed.name();
    const std::string name = state.name_or_generate(given, "KTABLE-SUPPRESS-");
    const std::string store =
        given.empty() ? state.new_name("KTABLE-SUPPRESS-STATE-STORE-") : given + "-store";
    AnySerde<K> keys = detail::resolve_serde(key_serde_, name, "key");
    AnySerde<V> values = detail::resolve_serde(value_serde_, name, "value");

    detail::SuppressionOptions options;
    options.store = store;
    options.kind = suppressed.kind();
    options.delay = final_results ? *info_->window_close_delay : suppressed.time_to_wait().count();
    options.max_records = suppressed.buffer().max_records;
    options.max_bytes = suppressed.buffer().max_bytes;
    options.when_full = suppressed.buffer().when_full;
    // The buffer keeps the value each key had before its first buffered update (emitted as the
    // old value), so it needs the table's old values.
    detail::enable_sending_old_values(*info_);

    auto info = derived_info(name, std::nullopt);
    info->derived_getter = parent_getter();
    info->window_close_delay = info_->window_close_delay;
    state.open_topology().add_processor(
        name,
        [options, keys, values] {
          return std::make_unique<detail::KTableSuppressProcessor<K, V>>(options, keys, values);
        },
        {info_->processor});
    StoreBuilder<KeyValueStore<Bytes, Bytes>> buffer(Stores::in_memory_key_value_store(store),
                                                     AnySerde<Bytes>(BytesSerde{}),
                                                     AnySerde<Bytes>(BytesSerde{}));
    if (suppressed.buffer().logging) {
      buffer.with_logging_enabled(suppressed.buffer().log_config);
    } else {
      buffer.with_logging_disabled();
    }
    state.open_topology().add_state_store(buffer, {name});
    return KTable(state_, std::move(info), key_serde_, value_serde_);
  }

  // ---- Joins (joins.h) ----------------------------------------------------------------------
  //
  // Table-table joins by key (Kafka Streams' KTable#join / leftJoin / outerJoin): the result is a
  // table whose value for a key is `joiner(this value, other value)` while the join kind has a
  // result for the two sides' current values. Each change of either side looks up the other side
  // and forwards the change of the result, with the larger of the two timestamps; a result that
  // disappears is forwarded as a deletion (a tombstone downstream), and a change that leaves no
  // result before or after forwards nothing. Both tables must be co-partitioned; source tables
  // without a store are materialized. With `materialized` the result is kept in that store
  // (queryable when named), else computed from both sides when looked up.

  // Inner join: a result exists while both sides have a value.
  template <class VO, class Joiner>
  auto join(const KTable<K, VO>& other, Joiner joiner, const Named& named = {}) const {
    using VR = detail::JoinerResult<Joiner, K, V, VO>;
    return detail::add_table_table_join<detail::JoinKind::inner, KTable<K, VR>>(
        *this, other, std::move(joiner), named, std::optional<Materialized<K, VR>>());
  }
  template <class VO, class Joiner>
  auto join(const KTable<K, VO>& other, Joiner joiner, const Named& named,
            Materialized<K, detail::JoinerResult<Joiner, K, V, VO>> materialized) const {
    using VR = detail::JoinerResult<Joiner, K, V, VO>;
    return detail::add_table_table_join<detail::JoinKind::inner, KTable<K, VR>>(
        *this, other, std::move(joiner), named,
        std::optional<Materialized<K, VR>>(std::move(materialized)));
  }
  // Left join: a result exists while this table has a value; `joiner(value, std::nullopt)` when
  // the other has none.
  template <class VO, class Joiner>
  auto left_join(const KTable<K, VO>& other, Joiner joiner, const Named& named = {}) const {
    using VR = detail::JoinerResult<Joiner, K, V, std::optional<VO>>;
    return detail::add_table_table_join<detail::JoinKind::left, KTable<K, VR>>(
        *this, other, std::move(joiner), named, std::optional<Materialized<K, VR>>());
  }
  template <class VO, class Joiner>
  auto left_join(
      const KTable<K, VO>& other, Joiner joiner, const Named& named,
      Materialized<K, detail::JoinerResult<Joiner, K, V, std::optional<VO>>> materialized) const {
    using VR = detail::JoinerResult<Joiner, K, V, std::optional<VO>>;
    return detail::add_table_table_join<detail::JoinKind::left, KTable<K, VR>>(
        *this, other, std::move(joiner), named,
        std::optional<Materialized<K, VR>>(std::move(materialized)));
  }
  // Outer join: a result exists while either side has a value; the absent side is std::nullopt.
  template <class VO, class Joiner>
  auto outer_join(const KTable<K, VO>& other, Joiner joiner, const Named& named = {}) const {
    using VR = detail::JoinerResult<Joiner, K, std::optional<V>, std::optional<VO>>;
    return detail::add_table_table_join<detail::JoinKind::outer, KTable<K, VR>>(
        *this, other, std::move(joiner), named, std::optional<Materialized<K, VR>>());
  }
  template <class VO, class Joiner>
  auto outer_join(
      const KTable<K, VO>& other, Joiner joiner, const Named& named,
      Materialized<K, detail::JoinerResult<Joiner, K, std::optional<V>, std::optional<VO>>>
          materialized) const {
    using VR = detail::JoinerResult<Joiner, K, std::optional<V>, std::optional<VO>>;
    return detail::add_table_table_join<detail::JoinKind::outer, KTable<K, VR>>(
        *this, other, std::move(joiner), named,
        std::optional<Materialized<K, VR>>(std::move(materialized)));
  }
  // ---- end of joins ------------------------------------------------------------------------

  // The node that forwards this table's changes.
  const std::string& node_name() const { return info_->processor; }
  // The store holding this table when the user named it (Materialized::as), for interactive
  // queries and the test driver; nullopt otherwise.
  std::optional<std::string> queryable_store_name() const {
    if (!info_->queryable) return std::nullopt;
    return info_->store;
  }
  // The store holding this table, named or generated; empty when the table is not materialized.
  const std::string& store_name() const { return info_->store; }

  // For operators built on tables (joins): reads the table's current values. Materializes a
  // source table that has no store yet. The processor using the getter must be connected to
  // `store_names` and call `init(detail::store_lookup(context))` from its own init.
  detail::KTableValueGetterSupplier<K, V> value_getter_supplier() const {
    return detail::value_getter_supplier(*info_);
  }
  // For operators built on tables: this table's node (and its upstream, as needed) forwards the
  // replaced value with every change (`Change::old_value`). A source table gets a store for it.
  void enable_sending_old_values() const { detail::enable_sending_old_values(*info_); }

  const std::optional<AnySerde<K>>& key_serde() const { return key_serde_; }
  const std::optional<AnySerde<V>>& value_serde() const { return value_serde_; }

  // Used by the DSL; not for users.
  KTable(std::shared_ptr<detail::BuilderState> state,
         std::shared_ptr<detail::KTableInfo<K, V>> info, std::optional<AnySerde<K>> key_serde,
         std::optional<AnySerde<V>> value_serde)
      : state_(std::move(state)),
        info_(std::move(info)),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)) {}
  const std::shared_ptr<detail::BuilderState>& builder_state() const { return state_; }
  const std::shared_ptr<detail::KTableInfo<K, V>>& info() const { return info_; }

 private:
  template <class K2, class V2>
  friend class KTable;

  // A table derived from this one: asks this one for old values when asked.
  template <class V2 = V>
  std::shared_ptr<detail::KTableInfo<K, V2>> derived_info(
      const std::string& name, const std::optional<std::string>& store) const {
    auto info = std::make_shared<detail::KTableInfo<K, V2>>();
    info->processor = name;
    if (store) {
      info->store = *store;
      info->store_kind = detail::TableStoreKind::key_value;
    }
    info->window_close_delay = info_->window_close_delay;
    info->enable_upstream_old_values = [parent = info_] {
      detail::enable_sending_old_values(*parent);
    };
    return info;
  }

  std::function<detail::KTableValueGetterSupplier<K, V>()> parent_getter() const {
    return [parent = info_] { return detail::value_getter_supplier(*parent); };
  }

  // The store name of a materialized derived table: the given one, else generated (burning an
  // index first, as Kafka Streams does).
  template <class V2>
  static std::optional<std::string> derived_store(detail::BuilderState& state,
                                                  const std::optional<Materialized<K, V2>>& m,
                                                  std::string_view prefix) {
    if (!m) return std::nullopt;
    if (!m->store_name.empty()) return m->store_name;
    return state.new_name(std::string(prefix) + "STATE-STORE-");
  }

  template <class V2>
  void add_derived_store(const std::string& name, const std::string& store,
                         const Materialized<K, V2>& m,
                         const std::optional<AnySerde<V2>>& upstream_values) const {
    AnySerde<K> keys = detail::resolve_serde(m.key_serde ? m.key_serde : key_serde_, name, "key");
    AnySerde<V2> values =
        detail::resolve_serde(m.value_serde ? m.value_serde : upstream_values, name, "value");
    state_->open_topology().add_state_store(
        detail::timestamped_key_value_store(m, store, state_->in_memory_dsl_stores, keys, values),
        {name});
  }

  template <class Predicate>
  KTable add_filter(Predicate predicate, bool keep_when, const Named& named,
                    std::optional<Materialized<K, V>> materialized) const {
    detail::BuilderState& state = *state_;
    const std::optional<std::string> store = derived_store(state, materialized, "KTABLE-FILTER-");
    const std::string name = state.name_or_generate(named.name(), "KTABLE-FILTER-");
    auto info = derived_info(name, store);
    info->queryable = materialized && !materialized->store_name.empty();
    if (!store) {
      info->derived_getter = [parent = info_, predicate, keep_when] {
        detail::KTableValueGetterSupplier<K, V> up = detail::value_getter_supplier(*parent);
        detail::KTableValueGetterSupplier<K, V> out;
        out.store_names = up.store_names;
        out.get = [up, predicate, keep_when]() -> std::unique_ptr<detail::KTableValueGetter<K, V>> {
          return std::make_unique<detail::FilterGetter<K, V, Predicate>>(up.get(), predicate,
                                                                         keep_when);
        };
        return out;
      };
    }
    std::shared_ptr<const detail::KTableInfo<K, V>> shared = info;
    state.open_topology().add_processor(
        name,
        [shared, predicate, keep_when]() mutable {
          return std::make_unique<detail::KTableFilterProcessor<K, V, Predicate>>(shared, predicate,
                                                                                  keep_when);
        },
        {info_->processor});
    std::optional<AnySerde<K>> keys = key_serde_;
    std::optional<AnySerde<V>> values = value_serde_;
    if (store) {
      add_derived_store<V>(name, *store, *materialized, value_serde_);
      if (materialized->key_serde) keys = materialized->key_serde;
      if (materialized->value_serde) values = materialized->value_serde;
    }
    return KTable(state_, std::move(info), std::move(keys), std::move(values));
  }

  template <class V2, class Mapper>
  KTable<K, V2> add_map_values(Mapper mapper, const Named& named,
                               std::optional<Materialized<K, V2>> materialized) const {
    detail::BuilderState& state = *state_;
    const std::optional<std::string> store =
        derived_store(state, materialized, "KTABLE-MAPVALUES-");
    const std::string name = state.name_or_generate(named.name(), "KTABLE-MAPVALUES-");
    auto info = derived_info<V2>(name, store);
    info->queryable = materialized && !materialized->store_name.empty();
    if (!store) {
      info->derived_getter = [parent = info_, mapper] {
        detail::KTableValueGetterSupplier<K, V> up = detail::value_getter_supplier(*parent);
        detail::KTableValueGetterSupplier<K, V2> out;
        out.store_names = up.store_names;
        out.get = [up, mapper]() -> std::unique_ptr<detail::KTableValueGetter<K, V2>> {
          return std::make_unique<detail::MapValuesGetter<K, V, V2, Mapper>>(up.get(), mapper);
        };
        return out;
      };
    }
    std::shared_ptr<const detail::KTableInfo<K, V2>> shared = info;
    state.open_topology().add_processor(
        name,
        [shared, mapper]() mutable {
          return std::make_unique<detail::KTableMapValuesProcessor<K, V, V2, Mapper>>(shared,
                                                                                      mapper);
        },
        {info_->processor});
    std::optional<AnySerde<K>> keys = key_serde_;
    std::optional<AnySerde<V2>> values;
    if (store) {
      add_derived_store<V2>(name, *store, *materialized, std::nullopt);
      if (materialized->key_serde) keys = materialized->key_serde;
      values = materialized->value_serde;
    }
    return KTable<K, V2>(state_, std::move(info), std::move(keys), std::move(values));
  }

  std::shared_ptr<detail::BuilderState> state_;
  std::shared_ptr<detail::KTableInfo<K, V>> info_;
  std::optional<AnySerde<K>> key_serde_;
  std::optional<AnySerde<V>> value_serde_;
};

}  // namespace rivulet
