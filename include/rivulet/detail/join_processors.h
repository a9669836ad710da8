// Internal: the processors behind the DSL's joins, and how a join is laid out in the topology.
// Not API; the semantics are documented on the operations (kstream.h, ktable.h, joins.h).
//
// Stream-stream join (Kafka Streams' KStreamImplJoin): each side's records go through a
// "windowed" node that stores them in that side's window store (retaining duplicates), then
// through a join node that looks up the other side's store and forwards joined records; a merge
// node unites both sides' results. Left and outer joins also keep the records that found no
// partner yet in a shared key-value store, keyed by time, and emit them (with the missing side
// absent) once their window has closed. The join's own stream time (the largest timestamp either
// side has seen, as Kafka Streams' shared TimeTracker) decides when windows close and which
// records are late; it is shared by the four nodes of one join in one task.
//
// Stream-table join: the stream's records look up the table's current value (its value getter);
// table updates produce nothing. Table-table join: each side's changes look up the other side and
// forward a Change of the joined value (Kafka Streams' KTableKTable{Inner,Left,Right,Outer}Join).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <rivulet/detail/builder_state.h>
#include <rivulet/detail/ktable_processors.h>
#include <rivulet/detail/source_sink_nodes.h>
#include <rivulet/detail/stream_processors.h>
#include <rivulet/errors.h>
#include <rivulet/joins.h>
#include <rivulet/materialized.h>
#include <rivulet/named.h>
#include <rivulet/processor.h>
#include <rivulet/serdes.h>
#include <rivulet/state/key_value_store.h>
#include <rivulet/state/stores.h>
#include <rivulet/state/window_store.h>

namespace rivulet::detail {

enum class JoinKind { inner, left, outer };

// ---- Joiners --------------------------------------------------------------------------------

// Calls `joiner(left, right)`, or `joiner(key, left, right)` when that is its signature.
template <class J, class K, class L, class R>
decltype(auto) call_joiner(J& joiner, const K& key, const L& left, const R& right) {
  if constexpr (std::is_invocable_v<J&, const L&, const R&>) {
    (void)key;
    return joiner(left, right);
  } else {
    static_assert(std::is_invocable_v<J&, const K&, const L&, const R&>,
                  "a joiner must be callable as joiner(left, right) or joiner(key, left, right), "
                  "with std::optional for a side that may be missing (see joins.h)");
    return joiner(key, left, right);
  }
}
template <class J, class K, class L, class R>
using JoinerResult =
    std::decay_t<decltype(call_joiner(std::declval<J&>(), std::declval<const K&>(),
                                      std::declval<const L&>(), std::declval<const R&>()))>;

// The argument types a joiner receives for a join of V1 with V2.
template <JoinKind kind, class V1>
using LeftArg = std::conditional_t<kind == JoinKind::outer, std::optional<V1>, V1>;
template <JoinKind kind, class V2>
using RightArg = std::conditional_t<kind == JoinKind::inner, V2, std::optional<V2>>;

// `value` as a joiner argument of type Arg: the value itself when Arg is its type (no copy), else
// wrapped in the std::optional that Arg is.
template <class Arg, class T>
decltype(auto) as_join_arg(const T& value) {
  if constexpr (std::is_same_v<Arg, T>) {
    return (value);
  } else {
    return Arg(value);
  }
}

// ---- Time arithmetic that saturates instead of overflowing ---------------------------------

inline std::int64_t time_plus(std::int64_t t, std::int64_t d) {
  if (d > 0 && t > kMaxTimestamp - d) return kMaxTimestamp;
  if (d < 0 && t < kMinTimestamp - d) return kMinTimestamp;
  return t + d;
}
inline std::int64_t time_minus(std::int64_t t, std::int64_t d) {
  if (d == kMinTimestamp) return time_plus(time_plus(t, kMaxTimestamp), 1);
  return time_plus(t, -d);
}

// ---- Stream-stream join ---------------------------------------------------------------------

// The join's stream time in one task, shared by its nodes.
struct StreamJoinTime {
  std::int64_t stream_time = kMinTimestamp;
  // No non-joined record older than this is waiting (kMinTimestamp: unknown, look).
  std::int64_t oldest_unjoined = kMinTimestamp;
};

// Hands the nodes of one join in one task the same StreamJoinTime. Shared by the suppliers of the
// join's nodes; tasks of several threads ask, hence the lock (taken once per node, at init).
class StreamJoinTimes {
 public:
  std::shared_ptr<StreamJoinTime> for_task(TaskId task) {
    const std::lock_guard<std::mutex> lock(mutex_);
    std::erase_if(times_, [](const auto& entry) { return entry.second.expired(); });
    std::weak_ptr<StreamJoinTime>& slot = times_[task];
    std::shared_ptr<StreamJoinTime> time = slot.lock();
    if (!time) {
      time = std::make_shared<StreamJoinTime>();
      slot = time;
    }
    return time;
  }

 private:
  std::mutex mutex_;
  std::map<TaskId, std::weak_ptr<StreamJoinTime>> times_;
};

// What the nodes of one stream-stream join share.
struct StreamJoinSpec {
  std::int64_t before = 0;
  std::int64_t after = 0;
  std::int64_t grace = 0;
  std::string this_store;
  std::string other_store;
  std::string outer_store;   // empty for inner joins
  bool left_outer = false;   // non-joined left records are emitted (left and outer joins)
  bool right_outer = false;  // non-joined right records are emitted (outer joins)
  std::shared_ptr<StreamJoinTimes> times = std::make_shared<StreamJoinTimes>();

  // How long after its own timestamp a record's window closes (left side: after + grace; right
  // side: before + grace).
  std::int64_t close_delay(bool left_side) const { return (left_side ? after : before) + grace; }
  // The shortest close delay of a record that may wait in the outer store.
  std::int64_t soonest_close_delay() const {
    if (left_outer && right_outer) return std::min(close_delay(true), close_delay(false));
    return close_delay(left_outer);
  }
};

// The store of records that have not joined yet (left and outer joins), a KeyValueStore<Bytes,
// Bytes>:
//   key   = [timestamp, 8 bytes, order-preserving][side: 0 right, 1 left][key bytes]
//   value = ([length, 4 bytes big-endian][value bytes])+   every such record of that key, side
//                                                          and timestamp
// Ordered by time, so emitting closed windows reads from the start and stops early; records of
// the right side come before the left's at equal timestamps, as in Kafka Streams.
namespace outer_codec {
inline void put_u32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
inline void put_u64(Bytes& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
// A timestamp as 8 bytes whose unsigned byte order is numeric order (sign bit flipped).
inline void put_time(Bytes& out, std::int64_t time) {
  put_u64(out, static_cast<std::uint64_t>(time) ^ (std::uint64_t{1} << 63U));
}
inline std::int64_t get_time(ByteView in) {
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < 8; ++i) bits = (bits << 8U) | in[i];
  return static_cast<std::int64_t>(bits ^ (std::uint64_t{1} << 63U));
}
inline Bytes key(std::int64_t timestamp, bool left_side, const Bytes& key_bytes) {
  Bytes out;
  out.reserve(9 + key_bytes.size());
  put_time(out, timestamp);
  out.push_back(left_side ? 1 : 0);
  out.insert(out.end(), key_bytes.begin(), key_bytes.end());
  return out;
}
inline std::int64_t timestamp(ByteView key) {
  if (key.size() < 9) throw SerializationException("corrupt outer join store key");
  return get_time(key);
}
inline bool left_side(ByteView key) {
  return key[8] != 0;
}
inline ByteView key_bytes(ByteView key) {
  return key.subspan(9);
}
inline void append_value(Bytes& list, const Bytes& value) {
  put_u32(list, static_cast<std::uint32_t>(value.size()));
  list.insert(list.end(), value.begin(), value.end());
}
inline std::vector<ByteView> values(ByteView list) {
  std::vector<ByteView> out;
  std::size_t at = 0;
  while (at < list.size()) {
    if (at + 4 > list.size()) throw SerializationException("corrupt outer join store value");
    std::uint32_t size = 0;
    for (std::size_t i = 0; i < 4; ++i) size = (size << 8U) | list[at + i];
    at += 4;
    if (at + size > list.size()) throw SerializationException("corrupt outer join store value");
    out.push_back(list.subspan(at, size));
    at += size;
  }
  return out;
}
}  // namespace outer_codec

// The "windowed" node of one side: drops records with a null key or value (Kafka Streams' join
// cannot use them) and late records, stores the rest in this side's window store, and passes them
// on to the side's join node.
template <class K, class V>
class StreamJoinWindowProcessor final : public DslProcessor<K, V, K, V> {
 public:
  StreamJoinWindowProcessor(std::shared_ptr<const StreamJoinSpec> spec, bool left_side)
      : spec_(std::move(spec)), left_side_(left_side) {}

  void init(ProcessorContext<K, V>& context) override {
    DslProcessor<K, V, K, V>::init(context);
    store_ = &context.template get_state_store<WindowStore<K, V>>(spec_->this_store);
    time_ = spec_->times->for_task(context.task_id());
  }

  void process_in_place(Record<K, V>& record) override {
    if (store_->key_serde().is_null(record.key()) ||
        store_->value_serde().is_null(record.value())) {
      report_dropped(*this->context_, "null key or value in a stream-stream join");
      return;
    }
    const std::int64_t t = record.timestamp();
    time_->stream_time = std::max(time_->stream_time, t);
    const std::int64_t closes = time_plus(t, spec_->close_delay(left_side_));
    if (closes < time_->stream_time) {
      report_late(*this->context_, t, time_plus(closes, 1));
      return;
    }
    store_->put(record.key(), record.value(), t);
    this->context_->forward(std::move(record));
  }

 private:
  std::shared_ptr<const StreamJoinSpec> spec_;
  bool left_side_;
  WindowStore<K, V>* store_ = nullptr;
  std::shared_ptr<StreamJoinTime> time_;
};

// The join node of one side. V1 and V2 are the left and right value types; this node receives
// the records of the left side when kThisIsLeft, else of the right side.
template <class K, class V1, class V2, class VR, class Joiner, JoinKind kind, bool kThisIsLeft>
class StreamStreamJoinProcessor final
    : public DslProcessor<K, std::conditional_t<kThisIsLeft, V1, V2>, K, VR> {
  using VThis = std::conditional_t<kThisIsLeft, V1, V2>;
  using VOther = std::conditional_t<kThisIsLeft, V2, V1>;
  using Base = DslProcessor<K, VThis, K, VR>;
  // Whether this side's records that find no partner are emitted (with the other side absent).
  static constexpr bool kThisOuter =
      kThisIsLeft ? kind != JoinKind::inner : kind == JoinKind::outer;
  static constexpr bool kOtherOuter =
      kThisIsLeft ? kind == JoinKind::outer : kind != JoinKind::inner;

 public:
  StreamStreamJoinProcessor(std::shared_ptr<const StreamJoinSpec> spec, Joiner joiner,
                            AnySerde<K> key_serde, AnySerde<V1> left_serde,
                            AnySerde<V2> right_serde)
      : spec_(std::move(spec)),
        joiner_(std::move(joiner)),
        key_serde_(std::move(key_serde)),
        left_serde_(std::move(left_serde)),
        right_serde_(std::move(right_serde)) {}

  void init(ProcessorContext<K, VR>& context) override {
    Base::init(context);
    other_ = &context.template get_state_store<WindowStore<K, VOther>>(spec_->other_store);
    if (!spec_->outer_store.empty()) {
      outer_ = &context.template get_state_store<KeyValueStore<Bytes, Bytes>>(spec_->outer_store);
      topic_ = dsl_changelog_topic(context.application_id(), spec_->outer_store);
    }
    time_ = spec_->times->for_task(context.task_id());
  }

  void process_in_place(Record<K, VThis>& record) override {
    const std::int64_t t = record.timestamp();
    if (outer_ != nullptr && t == time_->stream_time) emit_closed_windows();

    // The other side's records this one joins: left record at t joins right records in
    // [t - before, t + after]; a right record at t joins left records in [t - after, t + before].
    const std::int64_t from = time_minus(t, kThisIsLeft ? spec_->before : spec_->after);
    const std::int64_t to = time_plus(t, kThisIsLeft ? spec_->after : spec_->before);
    WindowStoreIterator<VOther> partners = other_->fetch(record.key(), from, to);
    bool joined = false;
    std::optional<Bytes> key_bytes;
    std::optional<std::int64_t>
        released;  // partners come in time order; duplicates share one entry
    while (partners.has_next()) {
      KeyValue<std::int64_t, VOther> partner = partners.next();
      joined = true;
      if constexpr (kOtherOuter) {
        if (released != partner.key) {
          // The partner has joined now: it no longer waits to be emitted alone. (Read first: a
          // delete is logged even when there is nothing to delete.)
          released = partner.key;
          if (!key_bytes) key_bytes = serialize_key(record.key());
          const Bytes entry = outer_codec::key(partner.key, !kThisIsLeft, *key_bytes);
          if (outer_->get(entry)) outer_->remove(entry);
        }
      }
      VR value = join_pair(record.key(), record.value(), partner.value);
      this->context_->forward(Record<K, VR>(record.key(), std::move(value),
                                            std::max(t, partner.key), record.headers()));
    }
    if constexpr (kThisOuter) {
      if (!joined) remember_unjoined(record, key_bytes);
    }
  }

 private:
  VR join_pair(const K& key, const VThis& mine, const VOther& theirs) {
    if constexpr (kThisIsLeft) {
      return VR(call_joiner(joiner_, key, as_join_arg<LeftArg<kind, V1>>(mine),
                            as_join_arg<RightArg<kind, V2>>(theirs)));
    } else {
      return VR(call_joiner(joiner_, key, as_join_arg<LeftArg<kind, V1>>(theirs),
                            as_join_arg<RightArg<kind, V2>>(mine)));
    }
  }

  Bytes serialize_key(const K& key) {
    Bytes out;
    key_serde_.serialize(topic_, key, out);
    return out;
  }

  void remember_unjoined(const Record<K, VThis>& record, std::optional<Bytes>& key_bytes) {
    if (!key_bytes) key_bytes = serialize_key(record.key());
    const Bytes entry = outer_codec::key(record.timestamp(), kThisIsLeft, *key_bytes);
    Bytes list = outer_->get(entry).value_or(Bytes{});
    Bytes value;
    if constexpr (kThisIsLeft) {
      left_serde_.serialize(topic_, record.value(), value);
    } else {
      right_serde_.serialize(topic_, record.value(), value);
    }
    outer_codec::append_value(list, value);
    outer_->put(entry, list);
    time_->oldest_unjoined = std::min(time_->oldest_unjoined, record.timestamp());
  }

  // Emits, oldest first, the waiting records whose window has closed (stream time has passed
  // their timestamp + after (left) or + before (right) + grace), with the other side absent.
  void emit_closed_windows() {
    const std::int64_t now = time_->stream_time;
    const std::int64_t soonest = spec_->soonest_close_delay();
    if (time_plus(time_->oldest_unjoined, soonest) >= now) return;

    struct Closed {
      Bytes entry;
      std::int64_t timestamp;
      bool left_side;
      Bytes values;
    };
    std::vector<Closed> closed;
    std::int64_t oldest_left = kMaxTimestamp;
    {
      KeyValueIterator<Bytes, Bytes> it = outer_->all();
      while (it.has_next()) {
        KeyValue<Bytes, Bytes> kv = it.next();
        const std::int64_t ts = outer_codec::timestamp(kv.key);
        if (time_plus(ts, soonest) >= now) {
          oldest_left = std::min(oldest_left, ts);
          break;  // nothing later can have closed
        }
        const bool left_side = outer_codec::left_side(kv.key);
        if (time_plus(ts, spec_->close_delay(left_side)) >= now) {
          oldest_left = std::min(oldest_left, ts);
          continue;  // this side's window is still open; the other side's may not be
        }
        closed.push_back(Closed{std::move(kv.key), ts, left_side, std::move(kv.value)});
      }
    }
    time_->oldest_unjoined = oldest_left;
    for (Closed& c : closed) {
      outer_->remove(c.entry);
      K key = key_serde_.deserialize(topic_, outer_codec::key_bytes(c.entry));
      for (ByteView bytes : outer_codec::values(c.values)) {
        this->context_->forward(
            Record<K, VR>(key, unjoined_value(key, c.left_side, bytes), c.timestamp));
      }
    }
  }

  VR unjoined_value(const K& key, bool left_side, ByteView bytes) {
    if (left_side) {
      if constexpr (kind != JoinKind::inner) {
        return VR(call_joiner(joiner_, key,
                              LeftArg<kind, V1>(left_serde_.deserialize(topic_, bytes)),
                              RightArg<kind, V2>(std::nullopt)));
      }
    } else {
      if constexpr (kind == JoinKind::outer) {
        return VR(call_joiner(joiner_, key, LeftArg<kind, V1>(std::nullopt),
                              RightArg<kind, V2>(right_serde_.deserialize(topic_, bytes))));
      }
    }
    throw StreamsException("outer join store '" + spec_->outer_store +
                           "' holds a record of a side this join does not emit alone");
  }

  std::shared_ptr<const StreamJoinSpec> spec_;
  Joiner joiner_;
  AnySerde<K> key_serde_;
  AnySerde<V1> left_serde_;
  AnySerde<V2> right_serde_;
  WindowStore<K, VOther>* other_ = nullptr;
  KeyValueStore<Bytes, Bytes>* outer_ = nullptr;
  std::string topic_;
  std::shared_ptr<StreamJoinTime> time_;
};

// Adds a repartition for a join: "<base>-repartition", written and read back with the stream's
// (or the join's) serdes, burning Kafka Streams' three indices. Returns the source's name.
template <class K, class V>
std::string repartition_for_join(BuilderState& state, const std::string& parent,
                                 const std::string& base, const std::optional<AnySerde<K>>& keys,
                                 const std::optional<AnySerde<V>>& values) {
  const std::string topic = base + "-repartition";
  const std::string gen_sink = state.new_name("KSTREAM-SINK-");
  state.new_name("KSTREAM-FILTER-");
  const std::string gen_source = state.new_name("KSTREAM-SOURCE-");
  // Generated base names keep the generated node names, as in Kafka Streams.
  const bool generated =
      base.rfind("KSTREAM", 0) == 0 && base.size() > 11 && base[base.size() - 11] == '-' &&
      std::all_of(base.end() - 10, base.end(), [](char c) { return c >= '0' && c <= '9'; });
  const std::string sink = generated ? gen_sink : topic + "-sink";
  const std::string source = generated ? gen_source : topic + "-source";
  Topology& topology = state.open_topology();
  topology.add_internal_topic(topic, -1);
  Produced<K, V> produced;
  produced.key_serde = keys;
  produced.value_serde = values;
  topology.template add_sink<K, V>(sink, topic, {parent}, std::move(produced));
  Consumed<K, V> consumed;
  consumed.key_serde = keys;
  consumed.value_serde = values;
  topology.template add_source<K, V>(source, {topic}, std::move(consumed));
  return source;
}

// The window store of one side of a stream-stream join.
template <class K, class V>
StoreBuilder<WindowStore<K, V>> join_window_store(
    const std::optional<WindowBytesStoreSupplier>& given, const std::string& name,
    const JoinWindows& windows, bool in_memory, bool logging,
    const std::map<std::string, std::string>& config, AnySerde<K> keys, AnySerde<V> values) {
  const std::chrono::milliseconds retention(windows.store_retention_ms());
  const std::chrono::milliseconds size(windows.store_window_size_ms());
  WindowBytesStoreSupplier supplier;
  if (given) {
    supplier = *given;
    if (!supplier.retain_duplicates) {
      throw TopologyException("stream-stream join store '" + supplier.name +
                              "' must retain duplicates (retain_duplicates = true)");
    }
    if (supplier.window_size != size.count() || supplier.retention_period != retention.count()) {
      throw TopologyException("stream-stream join store '" + supplier.name + "': window size " +
                              std::to_string(supplier.window_size) + " ms and retention " +
                              std::to_string(supplier.retention_period) +
                              " ms must match the JoinWindows (" + std::to_string(size.count()) +
                              " ms and " + std::to_string(retention.count()) + " ms)");
    }
  } else {
    supplier = in_memory ? Stores::in_memory_window_store(name, retention, size, true)
                         : Stores::persistent_window_store(name, retention, size, true);
  }
  StoreBuilder<WindowStore<K, V>> builder(std::move(supplier), std::move(keys), std::move(values));
  if (logging) {
    builder.with_logging_enabled(config);
  } else {
    builder.with_logging_disabled();
  }
  return builder;
}

// The names of a stream-stream join's nodes and stores (Kafka Streams' KStreamImplJoin scheme).
struct StreamJoinNames {
  std::string this_windowed, other_windowed, join_this, join_other, merge;
  std::string this_store, other_store, outer_store;
};

inline StreamJoinNames stream_join_names(
    BuilderState& state, JoinKind kind, const std::string& name, const std::string& store_name,
    const std::optional<WindowBytesStoreSupplier>& this_supplier,
    const std::optional<WindowBytesStoreSupplier>& other_supplier) {
  const bool left_outer = kind != JoinKind::inner;
  const bool right_outer = kind == JoinKind::outer;
  const std::string this_suffix = right_outer ? "-outer-this-join" : "-this-join";
  const std::string other_suffix = left_outer ? "-outer-other-join" : "-other-join";
  StreamJoinNames n;
  const bool named = !name.empty();
  n.this_windowed = named ? name + "-this-windowed" : state.new_name("KSTREAM-WINDOWED-");
  n.other_windowed = named ? name + "-other-windowed" : state.new_name("KSTREAM-WINDOWED-");
  const std::string this_generated =
      state.new_name(right_outer ? "KSTREAM-OUTERTHIS-" : "KSTREAM-JOINTHIS-");
  const std::string other_generated =
      state.new_name(left_outer ? "KSTREAM-OUTEROTHER-" : "KSTREAM-JOINOTHER-");
  n.join_this = named ? name + this_suffix : this_generated;
  n.join_other = named ? name + other_suffix : other_generated;
  n.merge = named ? name + "-merge" : state.new_name("KSTREAM-MERGE-");

  if (this_supplier && other_supplier && this_supplier->name == other_supplier->name) {
    throw TopologyException("stream-stream join: both sides' store suppliers are named '" +
                            this_supplier->name + "'; the stores need distinct names");
  }
  const bool given_store = !store_name.empty();
  n.this_store = this_supplier ? this_supplier->name
                 : given_store ? store_name + this_suffix + "-store"
                               : this_generated + "-store";
  n.other_store = other_supplier ? other_supplier->name
                  : given_store  ? store_name + other_suffix + "-store"
                                 : other_generated + "-store";
  if (left_outer) {
    const std::string shared_suffix = this_supplier ? "-left-shared-join" : "-outer-shared-join";
    const std::string prefix = right_outer ? "KSTREAM-OUTERTHIS-" : "KSTREAM-JOINTHIS-";
    n.outer_store =
        (this_supplier ? this_supplier->name + shared_suffix
         : given_store ? store_name + shared_suffix
                       : "KSTREAM-OUTERSHARED-" + this_generated.substr(prefix.size())) +
        "-store";
  }
  return n;
}

// Adds the nodes and stores of a stream-stream join of the streams whose output nodes are
// `this_node` and `other_node` (both keyed alike, co-partitioned). Returns the merge node's name.
template <JoinKind kind, class K, class V1, class V2, class VR, class Joiner>
std::string add_stream_stream_join(BuilderState& state, const std::string& this_node,
                                   const std::string& other_node, Joiner joiner,
                                   const JoinWindows& windows,
                                   const StreamJoined<K, V1, V2>& joined, AnySerde<K> keys,
                                   AnySerde<V1> left_values, AnySerde<V2> right_values) {
  const StreamJoinNames n =
      stream_join_names(state, kind, joined.name, joined.store_name, joined.this_store_supplier,
                        joined.other_store_supplier);
  auto spec = std::make_shared<StreamJoinSpec>();
  spec->before = windows.before_ms();
  spec->after = windows.after_ms();
  spec->grace = windows.grace_ms();
  spec->this_store = n.this_store;
  spec->other_store = n.other_store;
  spec->outer_store = n.outer_store;
  spec->left_outer = kind != JoinKind::inner;
  spec->right_outer = kind == JoinKind::outer;
  // The other side's nodes see the stores the other way round.
  auto mirrored = std::make_shared<StreamJoinSpec>(*spec);
  std::swap(mirrored->this_store, mirrored->other_store);
  std::shared_ptr<const StreamJoinSpec> this_spec = spec;
  std::shared_ptr<const StreamJoinSpec> other_spec = mirrored;

  Topology& topology = state.open_topology();
  topology.add_processor(
      n.this_windowed,
      [this_spec] { return std::make_unique<StreamJoinWindowProcessor<K, V1>>(this_spec, true); },
      {this_node});
  topology.add_processor(n.other_windowed,
                         [other_spec] {
                           return std::make_unique<StreamJoinWindowProcessor<K, V2>>(other_spec,
                                                                                     false);
                         },
                         {other_node});
  topology.add_processor(
      n.join_this,
      [this_spec, joiner, keys, left_values, right_values] {
        return std::make_unique<StreamStreamJoinProcessor<K, V1, V2, VR, Joiner, kind, true>>(
            this_spec, joiner, keys, left_values, right_values);
      },
      {n.this_windowed});
  topology.add_processor(
      n.join_other,
      [other_spec, joiner, keys, left_values, right_values] {
        return std::make_unique<StreamStreamJoinProcessor<K, V1, V2, VR, Joiner, kind, false>>(
            other_spec, joiner, keys, left_values, right_values);
      },
      {n.other_windowed});
  topology.add_processor(n.merge, [] { return std::make_unique<PassThroughProcessor<K, VR>>(); },
                         {n.join_this, n.join_other});

  // Persistent unless the given supplier (or default.dsl.store) keeps the store in memory.
  const bool in_memory = joined.this_store_supplier ? !joined.this_store_supplier->persistent
                                                    : state.in_memory_dsl_stores;
  const bool other_in_memory = joined.other_store_supplier
                                   ? !joined.other_store_supplier->persistent
                                   : state.in_memory_dsl_stores;
  topology.add_state_store(
      join_window_store<K, V1>(joined.this_store_supplier, n.this_store, windows, in_memory,
                               joined.logging_enabled, joined.log_config, keys, left_values),
      {n.this_windowed, n.join_other});
  topology.add_state_store(
      join_window_store<K, V2>(joined.other_store_supplier, n.other_store, windows, other_in_memory,
                               joined.logging_enabled, joined.log_config, keys, right_values),
      {n.other_windowed, n.join_this});
  if (!n.outer_store.empty()) {
    StoreBuilder<KeyValueStore<Bytes, Bytes>> outer(
        in_memory ? Stores::in_memory_key_value_store(n.outer_store)
                  : Stores::persistent_key_value_store(n.outer_store),
        AnySerde<Bytes>(BytesSerde{}), AnySerde<Bytes>(BytesSerde{}));
    if (joined.logging_enabled) {
      outer.with_logging_enabled(joined.log_config);
    } else {
      outer.with_logging_disabled();
    }
    topology.add_state_store(outer, {n.join_this, n.join_other});
  }
  return n.merge;
}

// ---- Stream-table join ----------------------------------------------------------------------

// Joins each stream record with the table's current value of its key; table updates produce
// nothing. Records with a null key or value are dropped (counted).
template <class K, class V, class VT, class VR, class Joiner, JoinKind kind>
class StreamTableJoinProcessor final : public DslProcessor<K, V, K, VR> {
 public:
  // The serdes, when known, tell which keys and values are Kafka's null (else only an empty
  // std::optional is).
  StreamTableJoinProcessor(KTableValueGetterSupplier<K, VT> getter, Joiner joiner,
                           std::optional<AnySerde<K>> keys, std::optional<AnySerde<V>> values)
      : getter_(getter.get()),
        joiner_(std::move(joiner)),
        keys_(std::move(keys)),
        values_(std::move(values)) {}

  void init(ProcessorContext<K, VR>& context) override {
    DslProcessor<K, V, K, VR>::init(context);
    getter_->init(store_lookup(context));
  }

  void process_in_place(Record<K, V>& record) override {
    const bool null_key = keys_ ? keys_->is_null(record.key()) : is_null_value(record.key());
    const bool null_value =
        values_ ? values_->is_null(record.value()) : is_null_value(record.value());
    if (null_key || null_value) {
      report_dropped(*this->context_, "null key or value in a stream-table join");
      return;
    }
    std::optional<ValueAndTimestamp<VT>> current = getter_->get(record.key());
    if constexpr (kind == JoinKind::inner) {
      if (!current) return;
      VR value(call_joiner(joiner_, record.key(), record.value(), current->value));
      this->context_->forward(std::move(record).with_value(std::move(value)));
    } else {
      std::optional<VT> table_value;
      if (current) table_value = std::move(current->value);
      VR value(call_joiner(joiner_, record.key(), record.value(), table_value));
      this->context_->forward(std::move(record).with_value(std::move(value)));
    }
  }

 private:
  std::unique_ptr<KTableValueGetter<K, VT>> getter_;
  Joiner joiner_;
  std::optional<AnySerde<K>> keys_;
  std::optional<AnySerde<V>> values_;
};

// ---- Table-table join -----------------------------------------------------------------------

// The join node of one side of a table-table join: a change of this side looks up the other
// side's current value and forwards the change of the joined value (Kafka Streams'
// KTableKTable{Inner,Left,Right,Outer}Join processors, whose semantics table it reproduces):
//   - when the joined value exists before or after the change, a Change of it is forwarded; a
//     joined value that disappears is forwarded as a deletion (tombstone);
//   - when it exists neither before nor after, nothing is forwarded (for the inner join: whenever
//     the other side has no value, as in Kafka Streams);
//   - the result's timestamp is the larger of the change's and the other value's.
// Old joined values are computed from the change's old value, so a side whose absence still
// produces results (the left of a left join, both of an outer join) must send old values.
template <class K, class V1, class V2, class VR, class Joiner, JoinKind kind, bool kThisIsLeft>
class TableTableJoinProcessor final
    : public DslProcessor<K, Change<std::conditional_t<kThisIsLeft, V1, V2>>, K, Change<VR>> {
  using VThis = std::conditional_t<kThisIsLeft, V1, V2>;
  using VOther = std::conditional_t<kThisIsLeft, V2, V1>;
  using Base = DslProcessor<K, Change<VThis>, K, Change<VR>>;

 public:
  TableTableJoinProcessor(KTableValueGetterSupplier<K, VOther> other, Joiner joiner,
                          std::shared_ptr<const KTableInfo<K, VR>> result)
      : other_(other.get()), joiner_(std::move(joiner)), result_(std::move(result)) {}

  void init(ProcessorContext<K, Change<VR>>& context) override {
    Base::init(context);
    other_->init(store_lookup(context));
    send_old_ = result_->send_old_values;
  }

  void process_in_place(Record<K, Change<VThis>>& record) override {
    if (is_null_value(record.key())) {
      report_dropped(*this->context_, "null key in a table-table join");
      return;
    }
    std::optional<ValueAndTimestamp<VOther>> other = other_->get(record.key());
    std::optional<VOther> other_value;
    std::int64_t timestamp = record.timestamp();
    if (other) {
      other_value = std::move(other->value);
      timestamp = std::max(timestamp, other->timestamp);
    }
    const Change<VThis>& change = record.value();
    if (!forwards(change, other_value.has_value())) return;
    Change<VR> out;
    out.new_value = joined(record.key(), change.new_value, other_value);
    if (send_old_) out.old_value = joined(record.key(), change.old_value, other_value);
    this->context_->forward(Record<K, Change<VR>>(record.key(), std::move(out), timestamp,
                                                  std::move(record.headers())));
  }

 private:
  static constexpr bool left_present_needed() { return kind != JoinKind::outer; }
  static constexpr bool right_present_needed() { return kind == JoinKind::inner; }

  // Whether the change of this side forwards anything (Kafka Streams' rules per join kind): when
  // the other side is absent, nothing if the result needs it, else only if this side had or has a
  // value; when the other side is present, always.
  static bool forwards(const Change<VThis>& change, bool other_present) {
    constexpr bool other_needed = kThisIsLeft ? right_present_needed() : left_present_needed();
    if (other_present) return true;
    if (other_needed) return false;
    return change.new_value.has_value() || change.old_value.has_value();
  }

  // The joined value for this side's value `mine` and the other's `theirs`, or nullopt when the
  // join kind has no result for that pair.
  std::optional<VR> joined(const K& key, const std::optional<VThis>& mine,
                           const std::optional<VOther>& theirs) {
    const std::optional<V1>* left;
    const std::optional<V2>* right;
    if constexpr (kThisIsLeft) {
      left = &mine;
      right = &theirs;
    } else {
      left = &theirs;
      right = &mine;
    }
    if (left_present_needed() && !*left) return std::nullopt;
    if (right_present_needed() && !*right) return std::nullopt;
    if (!*left && !*right) return std::nullopt;
    return VR(call_joiner(joiner_, key, left_arg(*left), right_arg(*right)));
  }
  static LeftArg<kind, V1> left_arg(const std::optional<V1>& v) {
    if constexpr (kind == JoinKind::outer) {
      return v;
    } else {
      return *v;
    }
  }
  static RightArg<kind, V2> right_arg(const std::optional<V2>& v) {
    if constexpr (kind == JoinKind::inner) {
      return *v;
    } else {
      return v;
    }
  }

  std::unique_ptr<KTableValueGetter<K, VOther>> other_;
  Joiner joiner_;
  std::shared_ptr<const KTableInfo<K, VR>> result_;
  bool send_old_ = false;
};

// The merge node of a table-table join: forwards both sides' changes, storing them first when
// the result is materialized.
template <class K, class VR>
class TableJoinMergeProcessor final : public TableProcessor<K, Change<VR>, K, VR> {
  using Base = TableProcessor<K, Change<VR>, K, VR>;

 public:
  using Base::Base;
  void process_in_place(Record<K, Change<VR>>& record) override { this->update(std::move(record)); }
};

// Reads the current joined value of a key from both sides' getters (an unmaterialized join
// result's value getter).
template <class K, class V1, class V2, class VR, class Joiner, JoinKind kind>
class TableTableJoinGetter final : public KTableValueGetter<K, VR> {
 public:
  TableTableJoinGetter(std::unique_ptr<KTableValueGetter<K, V1>> left,
                       std::unique_ptr<KTableValueGetter<K, V2>> right, Joiner joiner)
      : left_(std::move(left)), right_(std::move(right)), joiner_(std::move(joiner)) {}
  void init(const StoreLookup& stores) override {
    left_->init(stores);
    right_->init(stores);
  }
  std::optional<ValueAndTimestamp<VR>> get(const K& key) override {
    std::optional<ValueAndTimestamp<V1>> left = left_->get(key);
    std::optional<ValueAndTimestamp<V2>> right = right_->get(key);
    if (kind != JoinKind::outer && !left) return std::nullopt;
    if (kind == JoinKind::inner && !right) return std::nullopt;
    if (!left && !right) return std::nullopt;
    const std::int64_t timestamp =
        std::max(left ? left->timestamp : kMinTimestamp, right ? right->timestamp : kMinTimestamp);
    std::optional<V1> l;
    std::optional<V2> r;
    if (left) l = std::move(left->value);
    if (right) r = std::move(right->value);
    LeftArg<kind, V1> left_arg = [&]() -> LeftArg<kind, V1> {
      if constexpr (kind == JoinKind::outer) {
        return std::move(l);
      } else {
        return std::move(*l);
      }
    }();
    RightArg<kind, V2> right_arg = [&]() -> RightArg<kind, V2> {
      if constexpr (kind == JoinKind::inner) {
        return std::move(*r);
      } else {
        return std::move(r);
      }
    }();
    return ValueAndTimestamp<VR>{VR(call_joiner(joiner_, key, left_arg, right_arg)), timestamp};
  }

 private:
  std::unique_ptr<KTableValueGetter<K, V1>> left_;
  std::unique_ptr<KTableValueGetter<K, V2>> right_;
  Joiner joiner_;
};

// Adds a table-table join of `left` and `right` (KTable<K, V1> and KTable<K, V2> of one builder)
// and returns the joined table, a `Result` (KTable<K, VR>). Kafka Streams' layout and names:
// KTABLE-JOINTHIS-, KTABLE-JOINOTHER- (or "<name>-join-this", "<name>-join-other") and
// KTABLE-MERGE- (or "<name>"); a materialized result's store defaults to
// KTABLE-MERGE-STATE-STORE-.
template <JoinKind kind, class Result, class Left, class Right, class Joiner, class VR>
Result add_table_table_join(const Left& left, const Right& right, Joiner joiner, const Named& named,
                            const std::optional<Materialized<typename Left::key_type, VR>>& m) {
  using K = typename Left::key_type;
  using V1 = typename Left::value_type;
  using V2 = typename Right::value_type;
  if (left.builder_state() != right.builder_state()) {
    throw TopologyException("table '" + left.node_name() + "' cannot join table '" +
                            right.node_name() + "' of another StreamsBuilder");
  }
  BuilderState& state = *left.builder_state();
  std::optional<std::string> store;
  if (m)
    store = m->store_name.empty() ? state.new_name("KTABLE-MERGE-STATE-STORE-") : m->store_name;
  const std::string merge = state.name_or_generate(named.name(), "KTABLE-MERGE-");
  const std::string join_this =
      named.empty() ? state.new_name("KTABLE-JOINTHIS-") : named.name() + "-join-this";
  const std::string join_other =
      named.empty() ? state.new_name("KTABLE-JOINOTHER-") : named.name() + "-join-other";

  // A side whose absence still yields results needs its old values to tell a deletion of a
  // result from nothing at all.
  if constexpr (kind != JoinKind::inner) enable_sending_old_values(*left.info());
  if constexpr (kind == JoinKind::outer) enable_sending_old_values(*right.info());

  auto info = std::make_shared<KTableInfo<K, VR>>();
  info->processor = merge;
  if (store) {
    info->store = *store;
    info->store_kind = TableStoreKind::key_value;
  }
  info->queryable = m && !m->store_name.empty();
  info->enable_upstream_old_values = [l = left.info(), r = right.info()] {
    enable_sending_old_values(*l);
    enable_sending_old_values(*r);
  };
  if (!store) {
    info->derived_getter = [l = left.info(), r = right.info(), joiner] {
      KTableValueGetterSupplier<K, V1> lg = value_getter_supplier(*l);
      KTableValueGetterSupplier<K, V2> rg = value_getter_supplier(*r);
      KTableValueGetterSupplier<K, VR> out;
      out.store_names = lg.store_names;
      out.store_names.insert(out.store_names.end(), rg.store_names.begin(), rg.store_names.end());
      out.get = [lg, rg, joiner]() -> std::unique_ptr<KTableValueGetter<K, VR>> {
        return std::make_unique<TableTableJoinGetter<K, V1, V2, VR, Joiner, kind>>(
            lg.get(), rg.get(), joiner);
      };
      return out;
    };
  }

  KTableValueGetterSupplier<K, V1> left_getter = left.value_getter_supplier();
  KTableValueGetterSupplier<K, V2> right_getter = right.value_getter_supplier();
  std::shared_ptr<const KTableInfo<K, VR>> shared = info;
  Topology& topology = state.open_topology();
  topology.add_processor(
      join_this,
      [right_getter, joiner, shared] {
        return std::make_unique<TableTableJoinProcessor<K, V1, V2, VR, Joiner, kind, true>>(
            right_getter, joiner, shared);
      },
      {left.node_name()});
  if (!right_getter.store_names.empty()) {
    topology.connect_processor_and_state_stores(join_this, right_getter.store_names);
  }
  topology.add_processor(
      join_other,
      [left_getter, joiner, shared] {
        return std::make_unique<TableTableJoinProcessor<K, V1, V2, VR, Joiner, kind, false>>(
            left_getter, joiner, shared);
      },
      {right.node_name()});
  if (!left_getter.store_names.empty()) {
    topology.connect_processor_and_state_stores(join_other, left_getter.store_names);
  }
  topology.add_processor(
      merge, [shared] { return std::make_unique<TableJoinMergeProcessor<K, VR>>(shared); },
      {join_this, join_other});

  std::optional<AnySerde<K>> keys = left.key_serde();
  std::optional<AnySerde<VR>> values;
  if (store) {
    if (m->key_serde) keys = m->key_serde;
    values = m->value_serde;
    topology.add_state_store(timestamped_key_value_store(*m, *store, state.in_memory_dsl_stores,
                                                         resolve_serde(keys, merge, "key"),
                                                         resolve_serde(values, merge, "value")),
                             {merge});
  }
  return Result(left.builder_state(), std::move(info), std::move(keys), std::move(values));
}

}  // namespace rivulet::detail
