// StreamsBuilder: the entry point of the DSL. Read topics as streams, chain operators, then
// `build()` the Topology to run with KafkaStreams or the TopologyTestDriver.
//
//   rivulet::StreamsBuilder builder;
//   builder.stream<std::string, Reading>("raw.vehicle.telemetry")
//       .filter([](const auto&, const Reading& r) { return r.speed >= 0; })
//       .to("vehicle.valid");
//   rivulet::Topology topology = builder.build();
//
// Not thread-safe. The streams it returns share its state and must not be used after `build()`.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include <rivulet/consumed.h>
#include <rivulet/detail/builder_state.h>
#include <rivulet/detail/table_source.h>
#include <rivulet/kstream.h>
#include <rivulet/ktable.h>
#include <rivulet/materialized.h>
#include <rivulet/named.h>
#include <rivulet/streams_config.h>
#include <rivulet/topology.h>

namespace rivulet {

class StreamsBuilder {
 public:
  StreamsBuilder() : state_(std::make_shared<detail::BuilderState>()) {}
  // A builder whose DSL stores follow `config`'s `default.dsl.store` (rocksDB or in_memory) when
  // an operation's Materialized names no store type or supplier. (The default builder uses
  // RocksDB, as Kafka Streams does.)
  explicit StreamsBuilder(const StreamsConfig& config) : StreamsBuilder() {
    state_->in_memory_dsl_stores = config.default_dsl_store() == DslStoreType::in_memory;
  }

  // A stream of the records of `topic`, deserialized with `consumed`'s serdes (default: by type).
  template <class K, class V>
  KStream<K, V> stream(const std::string& topic, Consumed<K, V> consumed = {}) {
    return stream<K, V>(std::vector<std::string>{topic}, std::move(consumed));
  }
  // One stream of the records of several topics (all with the same types).
  template <class K, class V>
  KStream<K, V> stream(std::initializer_list<std::string> topics, Consumed<K, V> consumed = {}) {
    return stream<K, V>(std::vector<std::string>(topics), std::move(consumed));
  }
  template <class K, class V>
  KStream<K, V> stream(std::vector<std::string> topics, Consumed<K, V> consumed = {}) {
    if (!consumed.name.empty()) Named::validate(consumed.name);
    const std::string name = state_->name_or_generate(consumed.name, "KSTREAM-SOURCE-");
    std::optional<AnySerde<K>> key_serde = consumed.key_serde;
    std::optional<AnySerde<V>> value_serde = consumed.value_serde;
    state_->open_topology().template add_source<K, V>(name, std::move(topics), std::move(consumed));
    return KStream<K, V>(state_, name, false, std::move(key_serde), std::move(value_serde));
  }

  // The table of `topic`'s records: each record upserts its key, a record with a null value
  // deletes it, a record with a null key is dropped (and counted). Forwards every change. The
  // table gets a store when `materialized` names one (queryable under that name), or when an
  // operation needs to look its values up (a join); without a name the store is called
  // "<topic>-STATE-STORE-<index>", as in Kafka Streams.
  template <class K, class V>
  KTable<K, V> table(const std::string& topic, Consumed<K, V> consumed = {},
                     Materialized<K, V> materialized = {}) {
    if (!consumed.name.empty()) Named::validate(consumed.name);
    detail::BuilderState& state = *state_;
    const bool named_store = !materialized.store_name.empty();
    const std::string store =
        named_store ? materialized.store_name : state.new_name(topic + "-STATE-STORE-");
    const std::string source = state.name_or_generate(consumed.name, "KSTREAM-SOURCE-");
    const std::string name =
        consumed.name.empty() ? state.new_name("KTABLE-SOURCE-") : consumed.name + "-table-source";
    std::optional<AnySerde<K>> keys =
        materialized.key_serde ? materialized.key_serde : consumed.key_serde;
    std::optional<AnySerde<V>> values =
        materialized.value_serde ? materialized.value_serde : consumed.value_serde;

    using NK = detail::Nullable<K>;
    using NV = detail::Nullable<V>;
    Consumed<NK, NV> nullable;
    if (consumed.key_serde) nullable.key_serde = detail::nullable_serde<K>(*consumed.key_serde);
    if (consumed.value_serde) {
      nullable.value_serde = detail::nullable_serde<V>(*consumed.value_serde);
    }
    nullable.timestamp_extractor = table_timestamp_extractor(consumed.timestamp_extractor, source);
    nullable.offset_reset = consumed.offset_reset;
    Topology& topology = state.open_topology();
    topology.template add_source<NK, NV>(source, {topic}, std::move(nullable));

    auto info = detail::source_table_info<K, V>(state_, name, store, materialized, keys, values);
    std::shared_ptr<const detail::KTableInfo<K, V>> shared = info;
    topology.add_processor(
        name, [shared] { return std::make_unique<detail::KTableSourceProcessor<K, V>>(shared); },
        {source});
    if (detail::wants_store(materialized)) info->materialize(*info);
    return KTable<K, V>(state_, std::move(info), std::move(keys), std::move(values));
  }

  // The topology built so far. The builder and its streams cannot be changed afterwards.
  Topology build() {
    state_->open_topology();
    state_->built = true;
    return std::move(state_->topology);
  }

 private:
  // A table's source reads nullable keys and values (to tell deletions and null keys apart); the
  // user's extractor sees the record as its own types.
  template <class K, class V>
  static TimestampExtractor<detail::Nullable<K>, detail::Nullable<V>> table_timestamp_extractor(
      TimestampExtractor<K, V> extractor, const std::string& source) {
    using NK = detail::Nullable<K>;
    using NV = detail::Nullable<V>;
    if (!extractor) return {};
    if constexpr (std::is_same_v<NK, K> && std::is_same_v<NV, V>) {
      return extractor;
    } else if constexpr (std::is_default_constructible_v<K> && std::is_default_constructible_v<V>) {
      return [extractor](const Record<NK, NV>& record, std::int64_t partition_time) {
        K key = record.key() ? detail::from_nullable<K>(NK(record.key())) : K{};
        V value = record.value() ? detail::from_nullable<V>(NV(record.value())) : V{};
        return extractor(
            Record<K, V>(std::move(key), std::move(value), record.timestamp(), record.headers()),
            partition_time);
      };
    } else {
      throw TopologyException("table source '" + source +
                              "': a timestamp extractor needs default-constructible key and "
                              "value types (or std::optional ones)");
    }
  }

  std::shared_ptr<detail::BuilderState> state_;
};

}  // namespace rivulet
