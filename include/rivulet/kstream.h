// KStream: an unbounded stream of key-value records, and the DSL's stateless operators on it.
//
// Every operator adds a node to the builder's topology and returns a new stream (or nothing, for
// terminal operators); the stream objects are cheap handles that may be copied and used more than
// once, so one stream can feed several operators. Unless said otherwise an operator keeps each
// record's timestamp and headers. Each can be named with `Named::as(...)`; without a name it gets
// Kafka Streams' generated name ("KSTREAM-FILTER-0000000001", ...).
//
// Operators that may change the key (`map`, `flat_map`, `select_key`, `process`) mark the stream
// as needing a repartition before a key-based stateful operation, as Kafka Streams does.
//
// Serdes: a stream remembers the serdes its records were read with (from `Consumed`) for as long
// as an operator keeps the type; `to` and `repartition` use them unless given others.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <rivulet/anomaly.h>
#include <rivulet/detail/anomaly_processor.h>
#include <rivulet/detail/builder_state.h>
#include <rivulet/detail/dedup_processor.h>
#include <rivulet/detail/join_processors.h>
#include <rivulet/detail/stream_processors.h>
#include <rivulet/grouped.h>
#include <rivulet/joins.h>
#include <rivulet/key_value.h>
#include <rivulet/materialized.h>
#include <rivulet/named.h>
#include <rivulet/processor.h>
#include <rivulet/produced.h>
#include <rivulet/repartitioned.h>

namespace rivulet {

template <class K, class V>
class KStream;
template <class K, class V>
class BranchedKStream;
template <class K, class V>
class KGroupedStream;
template <class K, class V>
class KTable;
template <class K, class V>
class KTable;  // joins with a table (ktable.h)

// How one branch of `split` is named and what is done with it.
template <class K, class V>
struct Branched {
  std::string name;  // appended to the split's name; default: the branch's 1-based position
  std::function<std::optional<KStream<K, V>>(KStream<K, V>)> chain;  // its result is returned
  std::function<void(KStream<K, V>)> consumer;                       // the branch is not returned

  static Branched as(std::string n) {
    Branched b;
    b.name = std::move(n);
    return b;
  }
  // Applies `f` to the branch; the map returned by the split holds f's result.
  static Branched with_function(std::function<std::optional<KStream<K, V>>(KStream<K, V>)> f,
                                std::string n = {}) {
    Branched b;
    b.chain = std::move(f);
    b.name = std::move(n);
    return b;
  }
  // Hands the branch to `f`; the map returned by the split does not hold it.
  static Branched with_consumer(std::function<void(KStream<K, V>)> f, std::string n = {}) {
    Branched b;
    b.consumer = std::move(f);
    b.name = std::move(n);
    return b;
  }
};

template <class K, class V>
class KStream {
 public:
  using key_type = K;
  using value_type = V;

  // The records for which `predicate(key, value)` is true.
  template <class Predicate>
  KStream filter(Predicate predicate, const Named& named = {}) const {
    return add_filter(std::move(predicate), true, named);
  }
  // The records for which `predicate(key, value)` is false.
  template <class Predicate>
  KStream filter_not(Predicate predicate, const Named& named = {}) const {
    return add_filter(std::move(predicate), false, named);
  }

  // One record per input record with the key and value `mapper(key, value)` returns (a
  // KeyValue<K2, V2> or std::pair<K2, V2>). Marks the stream for repartitioning.
  template <class Mapper>
  auto map(Mapper mapper, const Named& named = {}) const {
    using Result = std::decay_t<std::invoke_result_t<Mapper&, const K&, const V&>>;
    using K2 = std::decay_t<decltype(detail::pair_key(std::declval<Result>()))>;
    using V2 = std::decay_t<decltype(detail::pair_value(std::declval<Result>()))>;
    return add_processor<K2, V2>(
        named, "KSTREAM-MAP-",
        [mapper]() mutable {
          return std::make_unique<detail::MapProcessor<K, V, K2, V2, Mapper>>(mapper);
        },
        true, std::nullopt, std::nullopt);
  }

  // The same key with the value `mapper(value)` or `mapper(key, value)` returns.
  template <class Mapper>
  auto map_values(Mapper mapper, const Named& named = {}) const {
    using V2 = detail::ValueMapperResult<Mapper, K, V>;
    return add_processor<K, V2>(
        named, "KSTREAM-MAPVALUES-",
        [mapper]() mutable {
          return std::make_unique<detail::MapValuesProcessor<K, V, V2, Mapper>>(mapper);
        },
        repartition_required_, key_serde_, std::nullopt);
  }

  // Zero or more records per input record: `mapper(key, value)` returns a range of KeyValue
  // (or std::pair). Marks the stream for repartitioning.
  template <class Mapper>
  auto flat_map(Mapper mapper, const Named& named = {}) const {
    using Range = std::decay_t<std::invoke_result_t<Mapper&, const K&, const V&>>;
    using Element = std::decay_t<decltype(*std::begin(std::declval<Range&>()))>;
    using K2 = std::decay_t<decltype(detail::pair_key(std::declval<Element>()))>;
    using V2 = std::decay_t<decltype(detail::pair_value(std::declval<Element>()))>;
    return add_processor<K2, V2>(
        named, "KSTREAM-FLATMAP-",
        [mapper]() mutable {
          return std::make_unique<detail::FlatMapProcessor<K, V, K2, V2, Mapper>>(mapper);
        },
        true, std::nullopt, std::nullopt);
  }

  // Zero or more records per input record, with the input's key: `mapper(value)` or
  // `mapper(key, value)` returns a range of values.
  template <class Mapper>
  auto flat_map_values(Mapper mapper, const Named& named = {}) const {
    using Range = detail::ValueMapperResult<Mapper, K, V>;
    using V2 = std::decay_t<decltype(*std::begin(std::declval<Range&>()))>;
    return add_processor<K, V2>(
        named, "KSTREAM-FLATMAPVALUES-",
        [mapper]() mutable {
          return std::make_unique<detail::FlatMapValuesProcessor<K, V, V2, Mapper>>(mapper);
        },
        repartition_required_, key_serde_, std::nullopt);
  }

  // The same value with the key `mapper(key, value)` returns. Marks the stream for
  // repartitioning.
  template <class Mapper>
  auto select_key(Mapper mapper, const Named& named = {}) const {
    using K2 = std::decay_t<std::invoke_result_t<Mapper&, const K&, const V&>>;
    return add_processor<K2, V>(
        named, "KSTREAM-KEY-SELECT-",
        [mapper]() mutable {
          return std::make_unique<detail::SelectKeyProcessor<K, V, K2, Mapper>>(mapper);
        },
        true, std::nullopt, value_serde_);
  }

  // Calls `action(key, value)` for each record and passes the record on unchanged.
  template <class Action>
  KStream peek(Action action, const Named& named = {}) const {
    return add_processor<K, V>(
        named, "KSTREAM-PEEK-",
        [action]() mutable {
          return std::make_unique<detail::PeekProcessor<K, V, Action>>(action);
        },
        repartition_required_, key_serde_, value_serde_);
  }

  // Calls `action(key, value)` for each record. Terminal.
  template <class Action>
  void foreach (Action action, const Named& named = {}) const {
    const std::string name = state_->name_or_generate(named.name(), "KSTREAM-FOREACH-");
    state_->open_topology().add_processor(
        name,
        [action]() mutable {
          return std::make_unique<detail::ForeachProcessor<K, V, Action>>(action);
        },
        {node_});
  }

  // Routes each record to the first branch whose predicate it matches (see BranchedKStream).
  BranchedKStream<K, V> split(const Named& named = {}) const;

  // The records of this stream and `other`, interleaved as they arrive. The result has no serdes:
  // `to` and `repartition` after a merge use the defaults unless given others.
  KStream merge(const KStream& other, const Named& named = {}) const {
    const std::string name = state_->name_or_generate(named.name(), "KSTREAM-MERGE-");
    state_->open_topology().add_processor(
        name, [] { return std::make_unique<detail::PassThroughProcessor<K, V>>(); },
        {node_, other.node_});
    // Like Kafka Streams, drop both inputs' serdes: the two may differ, and neither is known to
    // fit the records of the other.
    return KStream(state_, name, repartition_required_ || other.repartition_required_, std::nullopt,
                   std::nullopt);
  }

  // Writes every record to `topic`. Terminal.
  void to(const std::string& topic, Produced<K, V> produced = {}) const {
    if (!produced.name.empty()) Named::validate(produced.name);
    const std::string name = state_->name_or_generate(produced.name, "KSTREAM-SINK-");
    fill_serdes(produced.key_serde, produced.value_serde);
    state_->open_topology().template add_sink<K, V>(name, topic, {node_}, std::move(produced));
  }
  // Writes each record to the topic `extractor(record)` returns. Terminal.
  void to(TopicNameExtractor<K, V> extractor, Produced<K, V> produced = {}) const {
    if (!produced.name.empty()) Named::validate(produced.name);
    const std::string name = state_->name_or_generate(produced.name, "KSTREAM-SINK-");
    fill_serdes(produced.key_serde, produced.value_serde);
    state_->open_topology().template add_sink<K, V>(name, std::move(extractor), {node_},
                                                    std::move(produced));
  }

  // Runs a Processor API processor on each record; its forwarded records form the new stream.
  // `supplier` returns a new std::unique_ptr<P> per call, P deriving from
  // Processor<K, V, KOut, VOut>. Marks the stream for repartitioning.
  template <class Supplier>
  auto process(Supplier supplier, const Named& named = {}) const {
    using P = typename std::invoke_result_t<Supplier&>::element_type;
    using Base = detail::ProcessorBaseOf<P>;
    static_assert(
        std::is_same_v<typename Base::key_in, K> && std::is_same_v<typename Base::value_in, V>,
        "the processor's input types must be the stream's key and value types");
    using KOut = typename Base::key_out;
    using VOut = typename Base::value_out;
    return add_processor<KOut, VOut>(named, "KSTREAM-PROCESSOR-", std::move(supplier), true,
                                     std::nullopt, std::nullopt);
  }

  // Writes the stream through an internal topic "<application.id>-<name>-repartition" and reads
  // it back, so records are partitioned by their current key. Starts a new sub-topology.
  KStream repartition(Repartitioned<K, V> repartitioned = {}) const {
    if (!repartitioned.name.empty()) Named::validate(repartitioned.name);
    detail::BuilderState& state = *state_;
    const std::string base = state.name_or_generate(repartitioned.name, "KSTREAM-REPARTITION-");
    const std::string topic = base + "-repartition";
    // Kafka Streams always burns three indices here, named or not, to keep later names stable.
    const std::string gen_sink = state.new_name("KSTREAM-SINK-");
    state.new_name("KSTREAM-FILTER-");
    const std::string gen_source = state.new_name("KSTREAM-SOURCE-");
    const bool generated = repartitioned.name.empty();
    const std::string sink = generated ? gen_sink : topic + "-sink";
    const std::string source = generated ? gen_source : topic + "-source";

    fill_serdes(repartitioned.key_serde, repartitioned.value_serde);
    Topology& topology = state.open_topology();
    topology.add_internal_topic(topic, repartitioned.number_of_partitions.value_or(-1));
    Produced<K, V> produced;
    produced.key_serde = repartitioned.key_serde;
    produced.value_serde = repartitioned.value_serde;
    produced.partitioner = repartitioned.partitioner;
    topology.template add_sink<K, V>(sink, topic, {node_}, std::move(produced));
    Consumed<K, V> consumed;
    consumed.key_serde = repartitioned.key_serde;
    consumed.value_serde = repartitioned.value_serde;
    topology.template add_source<K, V>(source, {topic}, std::move(consumed));
    return KStream(state_, source, false, repartitioned.key_serde, repartitioned.value_serde);
  }

  // Groups the records by their key for an aggregation (see kgrouped_stream.h). When the key may
  // have changed upstream, the aggregation repartitions first.
  KGroupedStream<K, V> group_by_key(Grouped<K, V> grouped = {}) const;
  // Groups the records by the key `selector(key, value)` returns (the value is kept); the
  // aggregation repartitions by the new key first. Defined in kgrouped_stream.h.
  template <class Selector,
            class KR = std::decay_t<std::invoke_result_t<Selector&, const K&, const V&>>>
  KGroupedStream<KR, V> group_by(Selector selector, Grouped<KR, V> grouped = {}) const;

  // ---- Joins and deduplication (joins.h) ---------------------------------------------------
  //
  // Joins need both inputs partitioned alike by key (co-partitioned): a stream marked for
  // repartitioning is repartitioned first, through "<name>-left-repartition" (this stream) or
  // "<name>-right-repartition" (the other) when the join is named, else
  // "<upstream node>-repartition". Semantics follow Kafka Streams 3.x (see joins.h for joiners).

  // Windowed inner join with `other`: for each record of either stream, one record per record of
  // the other stream with the same key and a timestamp within the window (a record of this
  // stream at t joins those in [t - before, t + after]), with the value `joiner(this value, other
  // value)`, the key, the larger of the two timestamps and the arriving record's headers. Emits
  // as records arrive. Records with a null key or value are dropped (counted); records whose
  // window has closed (stream time past t + after + grace, t + before + grace for `other`) are
  // dropped as late.
  template <class V2, class Joiner>
  auto join(const KStream<K, V2>& other, Joiner joiner, const JoinWindows& windows,
            StreamJoined<K, V, V2> joined = {}) const {
    return stream_join<detail::JoinKind::inner>(other, std::move(joiner), windows,
                                                std::move(joined));
  }
  // Windowed left join: as `join`; in addition, a record of this stream that joined nothing by
  // the time its window closes (stream time past t + after + grace) is emitted then, once, as
  // `joiner(value, std::nullopt)` with its own timestamp and key. Not on arrival: that is Kafka
  // Streams' behaviour since 3.1, which avoids emitting (A, null) before A joins.
  template <class V2, class Joiner>
  auto left_join(const KStream<K, V2>& other, Joiner joiner, const JoinWindows& windows,
                 StreamJoined<K, V, V2> joined = {}) const {
    return stream_join<detail::JoinKind::left>(other, std::move(joiner), windows,
                                               std::move(joined));
  }
  // Windowed outer join: as `left_join`, and records of `other` that joined nothing are emitted
  // as `joiner(std::nullopt, value)` once stream time passes t + before + grace.
  template <class V2, class Joiner>
  auto outer_join(const KStream<K, V2>& other, Joiner joiner, const JoinWindows& windows,
                  StreamJoined<K, V, V2> joined = {}) const {
    return stream_join<detail::JoinKind::outer>(other, std::move(joiner), windows,
                                                std::move(joined));
  }

  // Stream-table inner join: each record of this stream whose key the table holds becomes one
  // record with the value `joiner(value, table value)` and the record's key, timestamp and
  // headers; other records are dropped. A record joins the table's value at the moment it is
  // processed; table updates emit nothing. Records with a null key or value are dropped
  // (counted). The table's source is materialized if it was not.
  template <class VT, class Joiner>
  auto join(const KTable<K, VT>& table, Joiner joiner, Joined<K, V, VT> joined = {}) const {
    return table_join<detail::JoinKind::inner>(table, std::move(joiner), std::move(joined));
  }
  // Stream-table left join: as `join`, and a record whose key the table lacks is emitted as
  // `joiner(value, std::nullopt)`.
  template <class VT, class Joiner>
  auto left_join(const KTable<K, VT>& table, Joiner joiner, Joined<K, V, VT> joined = {}) const {
    return table_join<detail::JoinKind::left>(table, std::move(joiner), std::move(joined));
  }

  // Drops records whose id was seen within `window` of event time (Kafka Streams has no such
  // operator; this follows KIP-655's deduplication). The id is the key, or
  // `id_extractor(key, value)`.
  //   - A record at time t is a duplicate when a record with the same id was forwarded with a
  //     timestamp in [t - window, t + window], both ends included; out-of-order records compare
  //     the same way. A duplicate is dropped and counted (TaskMetrics::dropped_records, reason
  //     "duplicate"); every other record is forwarded unchanged.
  //   - Only forwarded records count: dropped duplicates do not extend the window, so an id
  //     passes again once its last forwarded record is more than `window` away.
  //   - A record without an id (a null key or id) is forwarded.
  //   - State: a window store "<name>-store" with a changelog (so it survives restarts and task
  //     moves), keeping ids for 2 * window behind the newest; a record older than that passes if
  //     its earlier copy is gone. A record processed again after a failure (the same topic,
  //     partition and offset) is forwarded again, as at-least-once requires.
  //   - Records with equal ids must reach the same task: repartitions first when the key may
  //     have changed ("<name>-repartition"; the name defaults to KSTREAM-DEDUPLICATE-...).
  // REQUIRES: window > 0 (else TopologyException).
  KStream drop_duplicates(std::chrono::milliseconds window, const Named& named = {}) const {
    return add_deduplication<K>(detail::KeyAsId{}, window, named, key_serde_);
  }
  template <class IdExtractor>
  KStream drop_duplicates(IdExtractor id_extractor, std::chrono::milliseconds window,
                          const Named& named = {}) const {
    using Id = std::decay_t<std::invoke_result_t<IdExtractor&, const K&, const V&>>;
    return add_deduplication<Id>(std::move(id_extractor), window, named, std::nullopt);
  }
  // ---- end of joins and deduplication ------------------------------------------------------

  // Anomaly detection (anomaly.h): one AnomalyResult per record, with the record's key, timestamp
  // and headers; filter on `anomaly` for the alerts.
  //   - The value checked is `extractor(value)` or `extractor(key, value)`: a number, or a
  //     std::optional of one. A record with a null key or value, an empty result or a non-finite
  //     number is dropped and counted (TaskMetrics::dropped_records) without touching the model.
  //   - Per key, the value is scored against the model of the key's values before it, then
  //     learned; the result is flagged when its score exceeds the threshold and the model had
  //     learned at least the detector's warm-up count of values.
  //   - State: a key-value store of AnomalyModel, "<name>-store" unless `materialized` names one
  //     (the name defaults to KSTREAM-ANOMALIES-...), RocksDB or in memory as `materialized` or
  //     the builder's default.dsl.store says, with a changelog and caching unless turned off.
  //   - Records of a key must reach one task: repartitions first when the key may have changed
  //     ("<name>-repartition").
  // REQUIRES: a supplier with a name and a function (else TopologyException).
  template <class Extractor>
  KStream<K, AnomalyResult> detect_anomalies(
      Extractor extractor, const DetectorSupplier& detector, const Named& named = {},
      Materialized<K, AnomalyModel> materialized = {}) const {
    detail::BuilderState& state = *state_;
    const std::string name = state.name_or_generate(named.name(), "KSTREAM-ANOMALIES-");
    detail::validate_detector_supplier(detector, name);
    const std::string store =
        materialized.store_name.empty() ? name + "-store" : materialized.store_name;
    std::optional<AnySerde<K>> keys = materialized.key_serde ? materialized.key_serde : key_serde_;
    const std::string input = join_input(name, keys, value_serde_);
    Topology& topology = state.open_topology();
    topology.add_processor(
        name,
        [store, detector, extractor] {
          return std::make_unique<detail::AnomalyDetectionProcessor<K, V, Extractor>>(
              store, detector, extractor);
        },
        {input});
    topology.add_state_store(
        detail::anomaly_model_store<K>(materialized, store, state.in_memory_dsl_stores,
                                       detail::resolve_serde(keys, name, "key")),
        {name});
    return KStream<K, AnomalyResult>(state_, name, false, keys, std::nullopt);
  }
  template <class Extractor>
  KStream<K, AnomalyResult> detect_anomalies(Extractor extractor, const DetectorSupplier& detector,
                                             Materialized<K, AnomalyModel> materialized) const {
    return detect_anomalies(std::move(extractor), detector, Named{}, std::move(materialized));
  }

  // The stream read as a table (see ktable.h): each record upserts its key; a null value
  // (std::nullopt, for an optional V) deletes it; a record with a null key is dropped. The table
  // gets a store when `materialized` names one or an operation needs to look its values up.
  // Repartitions first when the key may have changed. Defined in ktable.h.
  KTable<K, V> to_table(const Named& named = {}, Materialized<K, V> materialized = {}) const;

  // The name of the node whose output this stream is.
  const std::string& node_name() const { return node_; }
  // Whether a key-based stateful operation on this stream needs a repartition first.
  bool repartition_required() const { return repartition_required_; }

  // Used by StreamsBuilder; not for users.
  KStream(std::shared_ptr<detail::BuilderState> state, std::string node, bool repartition_required,
          std::optional<AnySerde<K>> key_serde, std::optional<AnySerde<V>> value_serde)
      : state_(std::move(state)),
        node_(std::move(node)),
        repartition_required_(repartition_required),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)) {}

 private:
  template <class K2, class V2>
  friend class KStream;
  friend class BranchedKStream<K, V>;

  // ---- Joins and deduplication: helpers ------------------------------------------------------

  // This stream's node, behind a repartition through "<topic_base>-repartition" when its key may
  // have changed.
  std::string join_input(const std::string& topic_base, const std::optional<AnySerde<K>>& keys,
                         const std::optional<AnySerde<V>>& values) const {
    if (!repartition_required_) return node_;
    return detail::repartition_for_join<K, V>(*state_, node_, topic_base, keys ? keys : key_serde_,
                                              values ? values : value_serde_);
  }

  template <detail::JoinKind kind, class V2, class Joiner>
  auto stream_join(const KStream<K, V2>& other, Joiner joiner, const JoinWindows& windows,
                   StreamJoined<K, V, V2> joined) const {
    using VR =
        detail::JoinerResult<Joiner, K, detail::LeftArg<kind, V>, detail::RightArg<kind, V2>>;
    if (!joined.name.empty()) Named::validate(joined.name);
    if (!joined.store_name.empty()) Named::validate(joined.store_name);
    std::optional<AnySerde<K>> keys = joined.key_serde ? joined.key_serde : key_serde_;
    std::optional<AnySerde<V>> values = joined.value_serde ? joined.value_serde : value_serde_;
    std::optional<AnySerde<V2>> other_values =
        joined.other_value_serde ? joined.other_value_serde : other.value_serde_;
    const std::string left =
        join_input(joined.name.empty() ? node_ : joined.name + "-left", keys, values);
    const std::string right =
        other.join_input(joined.name.empty() ? other.node_ : joined.name + "-right",
                         joined.key_serde ? joined.key_serde : other.key_serde_, other_values);
    const std::string merge = detail::add_stream_stream_join<kind, K, V, V2, VR>(
        *state_, left, right, std::move(joiner), windows, joined,
        detail::resolve_serde(keys, node_, "key"), detail::resolve_serde(values, node_, "value"),
        detail::resolve_serde(other_values, other.node_, "value"));
    return KStream<K, VR>(state_, merge, false, keys, std::nullopt);
  }

  template <detail::JoinKind kind, class VT, class Joiner>
  auto table_join(const KTable<K, VT>& table, Joiner joiner, Joined<K, V, VT> joined) const {
    using TableArg = std::conditional_t<kind == detail::JoinKind::inner, VT, std::optional<VT>>;
    using VR = detail::JoinerResult<Joiner, K, V, TableArg>;
    if (!joined.name.empty()) Named::validate(joined.name);
    std::optional<AnySerde<K>> keys = joined.key_serde ? joined.key_serde : key_serde_;
    std::optional<AnySerde<V>> values = joined.value_serde ? joined.value_serde : value_serde_;
    const std::string input =
        join_input(joined.name.empty() ? node_ : joined.name + "-left", keys, values);
    const std::string name = state_->name_or_generate(
        joined.name, kind == detail::JoinKind::inner ? "KSTREAM-JOIN-" : "KSTREAM-LEFTJOIN-");
    detail::KTableValueGetterSupplier<K, VT> getter = table.value_getter_supplier();
    Topology& topology = state_->open_topology();
    topology.add_processor(
        name,
        [getter, joiner, keys, values] {
          return std::make_unique<detail::StreamTableJoinProcessor<K, V, VT, VR, Joiner, kind>>(
              getter, joiner, keys, values);
        },
        {input});
    if (!getter.store_names.empty()) {
      topology.connect_processor_and_state_stores(name, getter.store_names);
    }
    return KStream<K, VR>(state_, name, false, keys, std::nullopt);
  }

  template <class Id, class IdExtractor>
  KStream add_deduplication(IdExtractor extractor, std::chrono::milliseconds window,
                            const Named& named, const std::optional<AnySerde<Id>>& ids) const {
    if (window.count() <= 0) {
      throw TopologyException("drop_duplicates: the window must be positive, got " +
                              std::to_string(window.count()) + " ms");
    }
    detail::BuilderState& state = *state_;
    const std::string name = state.name_or_generate(named.name(), "KSTREAM-DEDUPLICATE-");
    const std::string input = join_input(name, key_serde_, value_serde_);
    const std::int64_t span = window.count();
    Topology& topology = state.open_topology();
    topology.add_processor(
        name,
        [store = name + "-store", span, extractor] {
          return std::make_unique<detail::DeduplicationProcessor<K, V, Id, IdExtractor>>(
              store, span, extractor);
        },
        {input});
    topology.add_state_store(
        detail::deduplication_store<Id>(name + "-store", span, state.in_memory_dsl_stores,
                                        detail::resolve_serde(ids, name, "id")),
        {name});
    return KStream(state_, name, false, key_serde_, value_serde_);
  }
  // ---- end of joins and deduplication helpers -------------------------------------------------

  template <class Predicate>
  KStream add_filter(Predicate predicate, bool keep_when, const Named& named) const {
    return add_processor<K, V>(
        named, "KSTREAM-FILTER-",
        [predicate, keep_when]() mutable {
          return std::make_unique<detail::FilterProcessor<K, V, Predicate>>(predicate, keep_when);
        },
        repartition_required_, key_serde_, value_serde_);
  }

  template <class K2, class V2, class Supplier>
  KStream<K2, V2> add_processor(const Named& named, std::string_view prefix, Supplier supplier,
                                bool repartition_required, std::optional<AnySerde<K2>> key_serde,
                                std::optional<AnySerde<V2>> value_serde) const {
    const std::string name = state_->name_or_generate(named.name(), prefix);
    state_->open_topology().add_processor(name, std::move(supplier), {node_});
    return KStream<K2, V2>(state_, name, repartition_required, std::move(key_serde),
                           std::move(value_serde));
  }

  void fill_serdes(std::optional<AnySerde<K>>& key, std::optional<AnySerde<V>>& value) const {
    if (!key) key = key_serde_;
    if (!value) value = value_serde_;
  }

  std::shared_ptr<detail::BuilderState> state_;
  std::string node_;
  bool repartition_required_ = false;
  std::optional<AnySerde<K>> key_serde_;
  std::optional<AnySerde<V>> value_serde_;
};

// The result of `KStream::split`: add branches in order, then finish with `default_branch` or
// `no_default_branch`, which return the branches by name ("<split name><branch name>").
// A record goes to the first branch whose predicate it matches, and only that one; with no match
// it goes to the default branch, or is dropped.
template <class K, class V>
class BranchedKStream {
 public:
  template <class Predicate>
  BranchedKStream& branch(Predicate predicate, Branched<K, V> branched = {}) {
    table_->predicates.emplace_back(std::move(predicate));
    table_->children.push_back(add_branch(std::move(branched), table_->predicates.size()));
    return *this;
  }
  std::map<std::string, KStream<K, V>> default_branch(Branched<K, V> branched = {}) {
    table_->default_child = add_branch(std::move(branched), 0);
    return std::move(outputs_);
  }
  std::map<std::string, KStream<K, V>> no_default_branch() { return std::move(outputs_); }

  // Used by KStream::split; not for users.
  BranchedKStream(const KStream<K, V>& source, const Named& named)
      : source_(source), table_(std::make_shared<detail::BranchTable<K, V>>()) {
    splitter_ = source.state_->name_or_generate(named.name(), "KSTREAM-BRANCH-");
    std::shared_ptr<const detail::BranchTable<K, V>> table = table_;
    source.state_->open_topology().add_processor(
        splitter_, [table] { return std::make_unique<detail::BranchProcessor<K, V>>(table); },
        {source.node_});
  }

 private:
  std::string add_branch(Branched<K, V> branched, std::size_t index) {
    if (!branched.name.empty()) Named::validate(branched.name);
    const std::string child =
        splitter_ + (branched.name.empty() ? std::to_string(index) : branched.name);
    auto& state = *source_.state_;
    state.new_name(child);  // Kafka Streams burns an index per branch
    state.open_topology().add_processor(
        child, [] { return std::make_unique<detail::PassThroughProcessor<K, V>>(); }, {splitter_});
    KStream<K, V> stream(source_.state_, child, source_.repartition_required_, source_.key_serde_,
                         source_.value_serde_);
    if (branched.chain) {
      if (std::optional<KStream<K, V>> result = branched.chain(stream)) {
        outputs_.insert_or_assign(child, std::move(*result));
      }
    } else if (branched.consumer) {
      branched.consumer(stream);
    } else {
      outputs_.insert_or_assign(child, stream);
    }
    return child;
  }

  KStream<K, V> source_;
  std::shared_ptr<detail::BranchTable<K, V>> table_;
  std::string splitter_;
  std::map<std::string, KStream<K, V>> outputs_;
};

template <class K, class V>
BranchedKStream<K, V> KStream<K, V>::split(const Named& named) const {
  return BranchedKStream<K, V>(*this, named);
}

}  // namespace rivulet

// The grouping operators are defined with KGroupedStream.
#include <rivulet/kgrouped_stream.h>  // NOLINT(misc-header-include-cycle): completes KStream
