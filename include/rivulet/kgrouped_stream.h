// KGroupedStream: a stream grouped by key (`KStream::group_by_key` / `group_by`), ready to be
// aggregated into a table, optionally per window:
//
//   stream.group_by_key().count()                                   // KTable<K, int64>
//   stream.group_by_key().windowed_by(TimeWindows::of_size_and_grace(5min, 1min)).count()
//                                                                   // KTable<Windowed<K>, int64>
//   stream.group_by_key().windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(5min))
//       .aggregate(init, add, merge)
//
// Semantics, as in Kafka Streams:
// - Records with a null key or a null value (std::nullopt, for optional types) are dropped and
//   counted (`TaskMetrics::dropped_records`).
// - Each input record updates its key's aggregate in a store and emits the new aggregate, with
//   the timestamp of the newest record in it. A cached store (the default) merges the updates of a
//   key between two commits. Windowed aggregations emit one update per window the record falls
//   into; records whose window closed (end + grace <= stream time) are dropped and counted as late.
// - When the key may have changed upstream (map, select_key, group_by, ...) the aggregation first
//   writes the records through a repartition topic "<application.id>-<name>-repartition", named
//   after the Grouped name, else after the aggregation's store. Records with a null key are
//   dropped before it.
//
// Callables: initializer() -> VR; aggregator(key, value, aggregate) -> VR;
// reducer(aggregate, value) -> V; session merger(key, aggregate1, aggregate2) -> VR.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include <rivulet/detail/aggregate_processors.h>
#include <rivulet/detail/builder_state.h>
#include <rivulet/detail/ktable_processors.h>
#include <rivulet/detail/source_sink_nodes.h>
#include <rivulet/detail/table_source.h>
#include <rivulet/grouped.h>
#include <rivulet/kstream.h>
#include <rivulet/ktable.h>
#include <rivulet/materialized.h>
#include <rivulet/named.h>
#include <rivulet/windowed_serdes.h>
#include <rivulet/windows.h>

namespace rivulet {

template <class K, class V>
class TimeWindowedKStream;
template <class K, class V>
class SessionWindowedKStream;

namespace detail {

// What a grouped stream knows: where its records come from and how to repartition them.
template <class K, class V>
struct GroupedSource {
  std::shared_ptr<BuilderState> state;
  std::string node;
  bool repartition_required = false;
  std::string repartition_name;  // from Grouped; empty: named after the store
  std::optional<AnySerde<K>> key_serde;
  std::optional<AnySerde<V>> value_serde;

  // The node an aggregation reads from: the grouped node, or a repartition topic's source when
  // the key may have changed. Kafka Streams' names: sink, null-key filter and source take the
  // next three indices; they are named "<topic>-sink" etc. unless the topic name is generated.
  std::string aggregation_input(const std::string& store_name) const {
    if (!repartition_required) return node;
    BuilderState& s = *state;
    const std::string prefix = repartition_name.empty() ? store_name : repartition_name;
    const std::string topic = prefix + "-repartition";
    const std::string gen_sink = s.new_name("KSTREAM-SINK-");
    const std::string gen_filter = s.new_name("KSTREAM-FILTER-");
    const std::string gen_source = s.new_name("KSTREAM-SOURCE-");
    const bool generated = repartition_name.empty() && is_generated_name(prefix);
    const std::string sink = generated ? gen_sink : topic + "-sink";
    const std::string filter = generated ? gen_filter : topic + "-filter";
    const std::string source = generated ? gen_source : topic + "-source";

    Topology& topology = s.open_topology();
    topology.add_internal_topic(topic);
    topology.add_processor(filter, [] { return std::make_unique<NullKeyFilterProcessor<K, V>>(); },
                           {node});
    Produced<K, V> produced;
    produced.key_serde = key_serde;
    produced.value_serde = value_serde;
    topology.template add_sink<K, V>(sink, topic, {filter}, std::move(produced));
    Consumed<K, V> consumed;
    consumed.key_serde = key_serde;
    consumed.value_serde = value_serde;
    topology.template add_source<K, V>(source, {topic}, std::move(consumed));
    return source;
  }

  // "KSTREAM...-0123456789": a name Kafka Streams generated.
  static bool is_generated_name(const std::string& name) {
    if (name.rfind("KSTREAM", 0) != 0 || name.size() < 11) return false;
    const std::size_t digits = name.size() - 10;
    if (name[digits - 1] != '-') return false;
    for (std::size_t i = digits; i < name.size(); ++i) {
      if (name[i] < '0' || name[i] > '9') return false;
    }
    return true;
  }

  // The names of an aggregation: its store (generated first, as Kafka Streams does) and node.
  template <class VR>
  std::pair<std::string, std::string> names(const Materialized<K, VR>& m, const Named& named,
                                            std::string_view prefix) const {
    std::string store = m.store_name;
    if (store.empty()) store = state->new_name(std::string(prefix) + "STATE-STORE-");
    return {std::move(store), state->name_or_generate(named.name(), prefix)};
  }
};

}  // namespace detail

template <class K, class V>
class KGroupedStream {
 public:
  using key_type = K;
  using value_type = V;

  // The number of records per key.
  KTable<K, std::int64_t> count(Materialized<K, std::int64_t> materialized = {}) const {
    return count(Named{}, std::move(materialized));
  }
  KTable<K, std::int64_t> count(const Named& named,
                                Materialized<K, std::int64_t> materialized = {}) const {
    if (!materialized.value_serde) materialized.value_serde = AnySerde<std::int64_t>(Int64Serde{});
    return aggregate_with<std::int64_t>(detail::CountOp{}, "KSTREAM-AGGREGATE-", named,
                                        std::move(materialized), std::nullopt);
  }

  // Per key: the first value, then reducer(aggregate, value) for each later one.
  template <class Reducer>
  KTable<K, V> reduce(Reducer reducer, Materialized<K, V> materialized = {}) const {
    return reduce(std::move(reducer), Named{}, std::move(materialized));
  }
  template <class Reducer>
  KTable<K, V> reduce(Reducer reducer, const Named& named,
                      Materialized<K, V> materialized = {}) const {
    return aggregate_with<V>(detail::ReduceOp<V, Reducer>{std::move(reducer)}, "KSTREAM-REDUCE-",
                             named, std::move(materialized), source_.value_serde);
  }

  // Per key: initializer(), then aggregator(key, value, aggregate) for each record.
  template <class Initializer, class Aggregator,
            class VR = std::decay_t<std::invoke_result_t<Initializer&>>>
  KTable<K, VR> aggregate(Initializer initializer, Aggregator aggregator,
                          Materialized<K, VR> materialized = {}) const {
    return aggregate(std::move(initializer), std::move(aggregator), Named{},
                     std::move(materialized));
  }
  template <class Initializer, class Aggregator,
            class VR = std::decay_t<std::invoke_result_t<Initializer&>>>
  KTable<K, VR> aggregate(Initializer initializer, Aggregator aggregator, const Named& named,
                          Materialized<K, VR> materialized = {}) const {
    using Op = detail::AggregateOp<VR, Initializer, Aggregator>;
    return aggregate_with<VR>(Op{std::move(initializer), std::move(aggregator)},
                              "KSTREAM-AGGREGATE-", named, std::move(materialized), std::nullopt);
  }

  // Aggregations per time window (tumbling, hopping) or sliding window.
  TimeWindowedKStream<K, V> windowed_by(const TimeWindows& windows) const;
  TimeWindowedKStream<K, V> windowed_by(const SlidingWindows& windows) const;
  // Aggregations per session.
  SessionWindowedKStream<K, V> windowed_by(const SessionWindows& windows) const;

  // Used by KStream; not for users.
  explicit KGroupedStream(detail::GroupedSource<K, V> source) : source_(std::move(source)) {}

 private:
  template <class VR, class Op>
  KTable<K, VR> aggregate_with(Op op, std::string_view prefix, const Named& named,
                               Materialized<K, VR> m,
                               std::optional<AnySerde<VR>> upstream_values) const {
    detail::BuilderState& state = *source_.state;
    auto [store, name] = source_.names(m, named, prefix);
    const std::string input = source_.aggregation_input(store);
    AnySerde<K> keys =
        detail::resolve_serde(m.key_serde ? m.key_serde : source_.key_serde, name, "key");
    AnySerde<VR> values =
        detail::resolve_serde(m.value_serde ? m.value_serde : upstream_values, name, "value");
    auto info = std::make_shared<detail::KTableInfo<K, VR>>();
    info->processor = name;
    info->store = store;
    info->store_kind = detail::TableStoreKind::key_value;
    info->queryable = !m.store_name.empty();
    std::shared_ptr<const detail::KTableInfo<K, VR>> shared = info;
    Topology& topology = state.open_topology();
    topology.add_processor(
        name,
        [op, shared]() mutable {
          return std::make_unique<detail::StreamAggregateProcessor<K, V, VR, Op>>(op, shared);
        },
        {input});
    topology.add_state_store(
        detail::timestamped_key_value_store(m, store, state.in_memory_dsl_stores, keys, values),
        {name});
    return KTable<K, VR>(source_.state, std::move(info), keys, values);
  }

  detail::GroupedSource<K, V> source_;
};

// A grouped stream aggregated per time window or sliding window (`windowed_by`). The result's key
// is the record key with its window.
template <class K, class V>
class TimeWindowedKStream {
 public:
  // When results are emitted: on every update (default) or once per window when it closes.
  TimeWindowedKStream emit_strategy(const EmitStrategy& strategy) const {
    TimeWindowedKStream copy = *this;
    copy.emit_on_close_ = strategy.type() == EmitStrategy::Type::on_window_close;
    return copy;
  }

  KTable<Windowed<K>, std::int64_t> count(Materialized<K, std::int64_t> materialized = {}) const {
    return count(Named{}, std::move(materialized));
  }
  KTable<Windowed<K>, std::int64_t> count(const Named& named,
                                          Materialized<K, std::int64_t> materialized = {}) const {
    if (!materialized.value_serde) materialized.value_serde = AnySerde<std::int64_t>(Int64Serde{});
    return aggregate_with<std::int64_t>(detail::CountOp{}, "KSTREAM-AGGREGATE-", named,
                                        std::move(materialized), std::nullopt);
  }
  template <class Reducer>
  KTable<Windowed<K>, V> reduce(Reducer reducer, Materialized<K, V> materialized = {}) const {
    return reduce(std::move(reducer), Named{}, std::move(materialized));
  }
  template <class Reducer>
  KTable<Windowed<K>, V> reduce(Reducer reducer, const Named& named,
                                Materialized<K, V> materialized = {}) const {
    return aggregate_with<V>(detail::ReduceOp<V, Reducer>{std::move(reducer)}, "KSTREAM-REDUCE-",
                             named, std::move(materialized), source_.value_serde);
  }
  template <class Initializer, class Aggregator,
            class VR = std::decay_t<std::invoke_result_t<Initializer&>>>
  KTable<Windowed<K>, VR> aggregate(Initializer initializer, Aggregator aggregator,
                                    Materialized<K, VR> materialized = {}) const {
    return aggregate(std::move(initializer), std::move(aggregator), Named{},
                     std::move(materialized));
  }
  template <class Initializer, class Aggregator,
            class VR = std::decay_t<std::invoke_result_t<Initializer&>>>
  KTable<Windowed<K>, VR> aggregate(Initializer initializer, Aggregator aggregator,
                                    const Named& named,
                                    Materialized<K, VR> materialized = {}) const {
    using Op = detail::AggregateOp<VR, Initializer, Aggregator>;
    return aggregate_with<VR>(Op{std::move(initializer), std::move(aggregator)},
                              "KSTREAM-AGGREGATE-", named, std::move(materialized), std::nullopt);
  }

  // Used by KGroupedStream; not for users.
  TimeWindowedKStream(detail::GroupedSource<K, V> source,
                      std::variant<TimeWindows, SlidingWindows> windows)
      : source_(std::move(source)), windows_(std::move(windows)) {}

 private:
  template <class VR, class Op>
  KTable<Windowed<K>, VR> aggregate_with(Op op, std::string_view prefix, const Named& named,
                                         Materialized<K, VR> m,
                                         std::optional<AnySerde<VR>> upstream_values) const {
    detail::BuilderState& state = *source_.state;
    auto [store, name] = source_.names(m, named, prefix);
    const std::string input = source_.aggregation_input(store);
    AnySerde<K> keys =
        detail::resolve_serde(m.key_serde ? m.key_serde : source_.key_serde, name, "key");
    AnySerde<VR> values =
        detail::resolve_serde(m.value_serde ? m.value_serde : upstream_values, name, "value");

    const bool sliding = std::holds_alternative<SlidingWindows>(windows_);
    // Window end - start; the store's window size (at least 1 ms, which a store needs).
    const std::int64_t span = sliding ? std::get<SlidingWindows>(windows_).time_difference_ms()
                                      : std::get<TimeWindows>(windows_).size_ms();
    const std::int64_t grace = sliding ? std::get<SlidingWindows>(windows_).grace_ms()
                                       : std::get<TimeWindows>(windows_).grace_ms();

    auto info = std::make_shared<detail::KTableInfo<Windowed<K>, VR>>();
    info->processor = name;
    info->store = store;
    info->store_kind = detail::TableStoreKind::time_window;
    info->queryable = !m.store_name.empty();
    info->window_span = span;
    info->window_close_delay = grace;
    std::shared_ptr<const detail::KTableInfo<Windowed<K>, VR>> shared = info;

    Topology& topology = state.open_topology();
    if (sliding) {
      const SlidingWindows windows = std::get<SlidingWindows>(windows_);
      const bool on_close = emit_on_close_;
      topology.add_processor(
          name,
          [op, shared, windows, on_close]() mutable {
            detail::WindowedAggregateOptions options{shared->store, shared->send_old_values,
                                                     on_close, windows.grace_ms()};
            return std::make_unique<detail::SlidingWindowAggregateProcessor<K, V, VR, Op>>(
                op, options, windows);
          },
          {input});
    } else {
      const TimeWindows windows = std::get<TimeWindows>(windows_);
      const bool on_close = emit_on_close_;
      topology.add_processor(
          name,
          [op, shared, windows, on_close]() mutable {
            detail::WindowedAggregateOptions options{shared->store, shared->send_old_values,
                                                     on_close, windows.grace_ms()};
            return std::make_unique<detail::TimeWindowAggregateProcessor<K, V, VR, Op>>(op, options,
                                                                                        windows);
          },
          {input});
    }
    // Rivulet's stores drop entries exactly at their retention (Kafka Streams' segments keep them
    // up to a segment longer); the sliding algorithm reads windows up to two time differences
    // older than the record in hand, so its store keeps that much more.
    const std::int64_t store_size = span > 0 ? span : 1;
    const std::int64_t minimum_retention = std::max(span + grace, store_size);
    const std::int64_t extra_retention = sliding ? 2 * span + 1 : 0;
    topology.add_state_store(
        detail::timestamped_window_store(m, store, state.in_memory_dsl_stores, store_size,
                                         minimum_retention, keys, values, extra_retention),
        {name});
    return KTable<Windowed<K>, VR>(source_.state, std::move(info),
                                   AnySerde<Windowed<K>>(TimeWindowedSerde<K>(keys, span)), values);
  }

  detail::GroupedSource<K, V> source_;
  std::variant<TimeWindows, SlidingWindows> windows_;
  bool emit_on_close_ = false;
};

// A grouped stream aggregated per session (`windowed_by(SessionWindows)`). The result's key is
// the record key with its session [first record's timestamp, last record's timestamp].
template <class K, class V>
class SessionWindowedKStream {
 public:
  KTable<Windowed<K>, std::int64_t> count(Materialized<K, std::int64_t> materialized = {}) const {
    return count(Named{}, std::move(materialized));
  }
  KTable<Windowed<K>, std::int64_t> count(const Named& named,
                                          Materialized<K, std::int64_t> materialized = {}) const {
    if (!materialized.value_serde) materialized.value_serde = AnySerde<std::int64_t>(Int64Serde{});
    return aggregate_with<std::int64_t>(detail::CountOp{}, "KSTREAM-AGGREGATE-", named,
                                        std::move(materialized), std::nullopt);
  }
  template <class Reducer>
  KTable<Windowed<K>, V> reduce(Reducer reducer, Materialized<K, V> materialized = {}) const {
    return reduce(std::move(reducer), Named{}, std::move(materialized));
  }
  template <class Reducer>
  KTable<Windowed<K>, V> reduce(Reducer reducer, const Named& named,
                                Materialized<K, V> materialized = {}) const {
    return aggregate_with<V>(detail::ReduceOp<V, Reducer>{std::move(reducer)}, "KSTREAM-REDUCE-",
                             named, std::move(materialized), source_.value_serde);
  }
  // initializer() -> VR; aggregator(key, value, aggregate) -> VR; merger(key, aggregate1,
  // aggregate2) -> VR combines two sessions that a record bridges.
  template <class Initializer, class Aggregator, class Merger,
            class VR = std::decay_t<std::invoke_result_t<Initializer&>>>
  KTable<Windowed<K>, VR> aggregate(Initializer initializer, Aggregator aggregator, Merger merger,
                                    Materialized<K, VR> materialized = {}) const {
    return aggregate(std::move(initializer), std::move(aggregator), std::move(merger), Named{},
                     std::move(materialized));
  }
  template <class Initializer, class Aggregator, class Merger,
            class VR = std::decay_t<std::invoke_result_t<Initializer&>>>
  KTable<Windowed<K>, VR> aggregate(Initializer initializer, Aggregator aggregator, Merger merger,
                                    const Named& named,
                                    Materialized<K, VR> materialized = {}) const {
    using Op = detail::AggregateOp<VR, Initializer, Aggregator, Merger>;
    return aggregate_with<VR>(Op{std::move(initializer), std::move(aggregator), std::move(merger)},
                              "KSTREAM-AGGREGATE-", named, std::move(materialized), std::nullopt);
  }

  // Used by KGroupedStream; not for users.
  SessionWindowedKStream(detail::GroupedSource<K, V> source, SessionWindows windows)
      : source_(std::move(source)), windows_(windows) {}

 private:
  template <class VR, class Op>
  KTable<Windowed<K>, VR> aggregate_with(Op op, std::string_view prefix, const Named& named,
                                         Materialized<K, VR> m,
                                         std::optional<AnySerde<VR>> upstream_values) const {
    detail::BuilderState& state = *source_.state;
    auto [store, name] = source_.names(m, named, prefix);
    const std::string input = source_.aggregation_input(store);
    AnySerde<K> keys =
        detail::resolve_serde(m.key_serde ? m.key_serde : source_.key_serde, name, "key");
    AnySerde<VR> values =
        detail::resolve_serde(m.value_serde ? m.value_serde : upstream_values, name, "value");
    auto info = std::make_shared<detail::KTableInfo<Windowed<K>, VR>>();
    info->processor = name;
    info->store = store;
    info->store_kind = detail::TableStoreKind::session;
    info->queryable = !m.store_name.empty();
    info->window_close_delay = windows_.inactivity_gap_ms() + windows_.grace_ms();
    std::shared_ptr<const detail::KTableInfo<Windowed<K>, VR>> shared = info;
    const SessionWindows windows = windows_;
    Topology& topology = state.open_topology();
    topology.add_processor(
        name,
        [op, shared, windows]() mutable {
          detail::SessionAggregateOptions options{shared->store, shared->send_old_values,
                                                  windows.inactivity_gap_ms(), windows.grace_ms()};
          return std::make_unique<detail::SessionWindowAggregateProcessor<K, V, VR, Op>>(op,
                                                                                         options);
        },
        {input});
    // A record merges with sessions that ended up to one gap before it: the store keeps sessions
    // one gap longer than they stay open (Rivulet's stores drop entries exactly at their
    // retention, where Kafka Streams' segments keep them up to a segment longer).
    topology.add_state_store(
        detail::dsl_session_store(m, store, state.in_memory_dsl_stores,
                                  windows_.inactivity_gap_ms() + windows_.grace_ms(), keys, values,
                                  windows_.inactivity_gap_ms() + 1),
        {name});
    return KTable<Windowed<K>, VR>(source_.state, std::move(info),
                                   AnySerde<Windowed<K>>(SessionWindowedSerde<K>(keys)), values);
  }

  detail::GroupedSource<K, V> source_;
  SessionWindows windows_;
};

template <class K, class V>
TimeWindowedKStream<K, V> KGroupedStream<K, V>::windowed_by(const TimeWindows& windows) const {
  return TimeWindowedKStream<K, V>(source_, windows);
}
template <class K, class V>
TimeWindowedKStream<K, V> KGroupedStream<K, V>::windowed_by(const SlidingWindows& windows) const {
  return TimeWindowedKStream<K, V>(source_, windows);
}
template <class K, class V>
SessionWindowedKStream<K, V> KGroupedStream<K, V>::windowed_by(
    const SessionWindows& windows) const {
  return SessionWindowedKStream<K, V>(source_, windows);
}

// ---- KStream's grouping operators (declared in kstream.h) -----------------------------------

template <class K, class V>
KGroupedStream<K, V> KStream<K, V>::group_by_key(Grouped<K, V> grouped) const {
  detail::GroupedSource<K, V> source;
  source.state = state_;
  source.node = node_;
  source.repartition_required = repartition_required_;
  source.repartition_name = grouped.name;
  source.key_serde = grouped.key_serde ? grouped.key_serde : key_serde_;
  source.value_serde = grouped.value_serde ? grouped.value_serde : value_serde_;
  return KGroupedStream<K, V>(std::move(source));
}

template <class K, class V>
template <class Selector, class KR>
KGroupedStream<KR, V> KStream<K, V>::group_by(Selector selector, Grouped<KR, V> grouped) const {
  // Kafka Streams selects the key in a node named after the Grouped name, if any.
  KStream<KR, V> keyed =
      select_key(std::move(selector), grouped.name.empty() ? Named{} : Named::as(grouped.name));
  detail::GroupedSource<KR, V> source;
  source.state = state_;
  source.node = keyed.node_name();
  source.repartition_required = true;
  source.repartition_name = grouped.name;
  source.key_serde = grouped.key_serde;
  source.value_serde = grouped.value_serde ? grouped.value_serde : value_serde_;
  return KGroupedStream<KR, V>(std::move(source));
}

template <class K, class V>
KTable<K, V> KStream<K, V>::to_table(const Named& named, Materialized<K, V> materialized) const {
  detail::BuilderState& state = *state_;
  // Kafka Streams' order: the node's name, then the store's, then the repartition topic's nodes.
  const std::string name = state.name_or_generate(named.name(), "KSTREAM-TOTABLE-");
  const std::string store = materialized.store_name.empty()
                                ? state.new_name("KSTREAM-TOTABLE-STATE-STORE-")
                                : materialized.store_name;
  std::optional<AnySerde<K>> keys = materialized.key_serde ? materialized.key_serde : key_serde_;
  std::optional<AnySerde<V>> values =
      materialized.value_serde ? materialized.value_serde : value_serde_;
  detail::GroupedSource<K, V> source;
  source.state = state_;
  source.node = node_;
  source.repartition_required = repartition_required_;
  source.key_serde = key_serde_;
  source.value_serde = value_serde_;
  const std::string input = source.aggregation_input(name);
  auto info = detail::source_table_info<K, V>(state_, name, store, materialized, keys, values);
  std::shared_ptr<const detail::KTableInfo<K, V>> shared = info;
  state.open_topology().add_processor(
      name,
      [shared] { return std::make_unique<detail::KTableSourceProcessor<K, V, K, V>>(shared); },
      {input});
  if (detail::wants_store(materialized)) info->materialize(*info);
  return KTable<K, V>(state_, std::move(info), std::move(keys), std::move(values));
}

}  // namespace rivulet
