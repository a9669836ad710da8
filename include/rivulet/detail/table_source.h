// Internal: what a source table (`StreamsBuilder::table`, `KStream::to_table`) knows of itself:
// its node, and how to add its store when the user named one or an operation needs its values
// (Kafka Streams materializes a source table only then). Not API.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <rivulet/detail/builder_state.h>
#include <rivulet/detail/ktable_processors.h>
#include <rivulet/detail/source_sink_nodes.h>
#include <rivulet/errors.h>
#include <rivulet/materialized.h>

namespace rivulet::detail {

// The info of a source table forwarded by `processor`; its store, once materialized, is `store`
// (a KeyValueStore<K, ValueAndTimestamp<V>> as `materialized` describes).
template <class K, class V>
std::shared_ptr<KTableInfo<K, V>> source_table_info(const std::shared_ptr<BuilderState>& state,
                                                    std::string processor, std::string store,
                                                    Materialized<K, V> materialized,
                                                    std::optional<AnySerde<K>> keys,
                                                    std::optional<AnySerde<V>> values) {
  auto info = std::make_shared<KTableInfo<K, V>>();
  info->processor = std::move(processor);
  info->queryable = !materialized.store_name.empty();
  // A weak reference: the topology the builder owns holds this info through its processors.
  info->materialize = [weak = std::weak_ptr<BuilderState>(state),
                       materialized = std::move(materialized), store = std::move(store),
                       keys = std::move(keys),
                       values = std::move(values)](KTableInfo<K, V>& table) {
    std::shared_ptr<BuilderState> owner = weak.lock();
    if (!owner) {
      throw TopologyException("the StreamsBuilder of table '" + table.processor + "' is gone");
    }
    AnySerde<K> key_serde = resolve_serde(keys, table.processor, "key");
    AnySerde<V> value_serde = resolve_serde(values, table.processor, "value");
    owner->open_topology().add_state_store(
        timestamped_key_value_store(materialized, store, owner->in_memory_dsl_stores, key_serde,
                                    value_serde),
        {table.processor});
    table.store = store;
    table.store_kind = TableStoreKind::key_value;
  };
  return info;
}

// Whether the user asked for the store (a name or a supplier): materialize at once.
template <class K, class V>
bool wants_store(const Materialized<K, V>& materialized) {
  return !materialized.store_name.empty() || materialized.key_value_supplier.has_value();
}

}  // namespace rivulet::detail
