// Internal: what KTables are made of. Not API, but the contract operators built on tables (joins)
// rely on:
//
// - A KTable node forwards `Record<K, Change<V>>`: the new value of a key (nullopt: deleted) and,
//   when the table was asked to (`KTableInfo::send_old_values`), the value it replaced.
// - A table's current value of a key is read through a value getter (Kafka Streams'
//   KTableValueGetter): from the table's own store when it is materialized, else computed from its
//   parent's getter (filter, map_values). A processor that uses a getter must be connected to the
//   getter supplier's `store_names` and call `init` with its context's stores.
// - Processors that own a table store forward through the store's cache flush listener when the
//   store has a caching layer (merged updates per key between commits), else after each write.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <rivulet/detail/stream_processors.h>
#include <rivulet/detail/type_name.h>
#include <rivulet/errors.h>
#include <rivulet/processor.h>
#include <rivulet/serdes.h>
#include <rivulet/state/cache_flush.h>
#include <rivulet/state/key_value_store.h>
#include <rivulet/state/value_and_timestamp.h>
#include <rivulet/state/window_store.h>
#include <rivulet/suppressed.h>

namespace rivulet::detail {

// ---- Values that may be null --------------------------------------------------------------

// A change of one key of a table.
template <class V>
struct Change {
  std::optional<V> new_value;  // nullopt: the key was deleted (or filtered out)
  std::optional<V> old_value;  // nullopt: none, or the table does not send old values

  friend bool operator==(const Change&, const Change&) = default;
};

// T itself when it is a std::optional, else std::optional<T>: the type of a value that may be
// Kafka's null (a table's record stream carries deletions as nullopt values).
template <class T>
struct NullableOf {
  using type = std::optional<T>;
};
template <class T>
struct NullableOf<std::optional<T>> {
  using type = std::optional<T>;
};
template <class T>
using Nullable = typename NullableOf<T>::type;

template <class T>
bool is_null_value(const T& value) {
  if constexpr (kIsStdOptional<T>) {
    return !value.has_value();
  } else {
    (void)value;
    return false;
  }
}
// A present value as a Nullable<T>.
template <class T>
Nullable<T> to_nullable(T value) {
  if constexpr (kIsStdOptional<T>) {
    return value;
  } else {
    return Nullable<T>(std::move(value));
  }
}
// REQUIRES: !is_null_value(value).
template <class T>
T from_nullable(Nullable<T>&& value) {
  if constexpr (kIsStdOptional<T>) {
    return std::move(value);
  } else {
    return std::move(*value);
  }
}
// std::optional<T> over a type-erased serde of T: nullopt is Kafka's null.
template <class T>
class NullableSerde {
 public:
  // Two parameters, so that the copy constructor's overload resolution never considers
  // converting a NullableSerde to AnySerde<T> (which would recurse through the serde concepts).
  NullableSerde(std::in_place_t, AnySerde<T> inner) : inner_(std::move(inner)) {}
  void serialize(std::string_view topic, const std::optional<T>& value, Bytes& out) const {
    if (!value) throw SerializationException("std::nullopt has no bytes: it is Kafka null");
    inner_.serialize(topic, *value, out);
  }
  std::optional<T> deserialize(std::string_view topic, ByteView data) const {
    return std::optional<T>(inner_.deserialize(topic, data));
  }
  bool is_null(const std::optional<T>& value) const { return !value || inner_.is_null(*value); }
  std::optional<T> null_value(std::string_view /*topic*/) const { return std::nullopt; }

 private:
  AnySerde<T> inner_;
};

template <class T>
AnySerde<Nullable<T>> nullable_serde(AnySerde<T> serde) {
  if constexpr (kIsStdOptional<T>) {
    return serde;
  } else {
    return AnySerde<Nullable<T>>(NullableSerde<T>(std::in_place, std::move(serde)));
  }
}

template <class T>
inline constexpr bool kIsWindowed = false;
template <class T>
inline constexpr bool kIsWindowed<Windowed<T>> = true;

template <class Store>
Store& checked_store(StateStore& store, const std::string& name) {
  auto* typed = dynamic_cast<Store*>(&store);
  if (typed == nullptr) {
    throw StreamsException("state store '" + name + "' is not a " + type_name(typeid(Store)));
  }
  return *typed;
}

inline std::string dsl_changelog_topic(const std::string& application_id,
                                       const std::string& store) {
  return application_id + "-" + store + "-changelog";
}

template <class KOut, class VOut>
void report_dropped(ProcessorContext<KOut, VOut>& context, std::string_view reason) {
  context.task_context().on_dropped_record(context.node(), reason);
}
template <class KOut, class VOut>
void report_late(ProcessorContext<KOut, VOut>& context, std::int64_t timestamp,
                 std::int64_t window_close) {
  context.task_context().on_late_record(context.node(), timestamp, window_close);
}

// ---- Value getters ------------------------------------------------------------------------

// How a getter finds the stores of the processor that uses it.
using StoreLookup = std::function<StateStore&(const std::string& name)>;

template <class KOut, class VOut>
StoreLookup store_lookup(ProcessorContext<KOut, VOut>& context) {
  return [&context](const std::string& name) -> StateStore& {
    return context.template get_state_store<StateStore>(name);
  };
}

// Reads a table's current value of a key. One instance per processor (per task).
template <class K, class V>
class KTableValueGetter {
 public:
  virtual ~KTableValueGetter() = default;
  // Called from the using processor's `init`.
  virtual void init(const StoreLookup& stores) = 0;
  // The value and the timestamp of the record that set it; nullopt when the key has none.
  virtual std::optional<ValueAndTimestamp<V>> get(const K& key) = 0;
};

template <class K, class V>
struct KTableValueGetterSupplier {
  std::vector<std::string> store_names;  // connect the using processor to these
  std::function<std::unique_ptr<KTableValueGetter<K, V>>()> get;
};

template <class K, class V>
class KeyValueStoreGetter final : public KTableValueGetter<K, V> {
 public:
  explicit KeyValueStoreGetter(std::string store) : name_(std::move(store)) {}
  void init(const StoreLookup& stores) override {
    store_ = &checked_store<KeyValueStore<K, ValueAndTimestamp<V>>>(stores(name_), name_);
  }
  std::optional<ValueAndTimestamp<V>> get(const K& key) override { return store_->get(key); }

 private:
  std::string name_;
  KeyValueStore<K, ValueAndTimestamp<V>>* store_ = nullptr;
};

template <class K, class V>
class WindowStoreGetter final : public KTableValueGetter<Windowed<K>, V> {
 public:
  explicit WindowStoreGetter(std::string store) : name_(std::move(store)) {}
  void init(const StoreLookup& stores) override {
    store_ = &checked_store<WindowStore<K, ValueAndTimestamp<V>>>(stores(name_), name_);
  }
  std::optional<ValueAndTimestamp<V>> get(const Windowed<K>& key) override {
    return store_->fetch(key.key, key.window.start);
  }

 private:
  std::string name_;
  WindowStore<K, ValueAndTimestamp<V>>* store_ = nullptr;
};

template <class K, class V>
class SessionStoreGetter final : public KTableValueGetter<Windowed<K>, V> {
 public:
  explicit SessionStoreGetter(std::string store) : name_(std::move(store)) {}
  void init(const StoreLookup& stores) override {
    store_ = &checked_store<SessionStore<K, V>>(stores(name_), name_);
  }
  std::optional<ValueAndTimestamp<V>> get(const Windowed<K>& key) override {
    std::optional<V> value = store_->fetch_session(key.key, key.window.start, key.window.end);
    if (!value) return std::nullopt;
    return ValueAndTimestamp<V>{std::move(*value), key.window.end};
  }

 private:
  std::string name_;
  SessionStore<K, V>* store_ = nullptr;
};

template <class K, class V, class Predicate>
class FilterGetter final : public KTableValueGetter<K, V> {
 public:
  FilterGetter(std::unique_ptr<KTableValueGetter<K, V>> parent, Predicate predicate, bool keep_when)
      : parent_(std::move(parent)), predicate_(std::move(predicate)), keep_(keep_when) {}
  void init(const StoreLookup& stores) override { parent_->init(stores); }
  std::optional<ValueAndTimestamp<V>> get(const K& key) override {
    std::optional<ValueAndTimestamp<V>> value = parent_->get(key);
    if (value && static_cast<bool>(predicate_(key, value->value)) != keep_) return std::nullopt;
    return value;
  }

 private:
  std::unique_ptr<KTableValueGetter<K, V>> parent_;
  Predicate predicate_;
  bool keep_;
};

template <class K, class V, class V2, class Mapper>
class MapValuesGetter final : public KTableValueGetter<K, V2> {
 public:
  MapValuesGetter(std::unique_ptr<KTableValueGetter<K, V>> parent, Mapper mapper)
      : parent_(std::move(parent)), mapper_(std::move(mapper)) {}
  void init(const StoreLookup& stores) override { parent_->init(stores); }
  std::optional<ValueAndTimestamp<V2>> get(const K& key) override {
    std::optional<ValueAndTimestamp<V>> value = parent_->get(key);
    if (!value) return std::nullopt;
    return ValueAndTimestamp<V2>{V2(call_value_mapper(mapper_, key, value->value)),
                                 value->timestamp};
  }

 private:
  std::unique_ptr<KTableValueGetter<K, V>> parent_;
  Mapper mapper_;
};

// ---- What the DSL knows of a table ---------------------------------------------------------

enum class TableStoreKind { none, key_value, time_window, session };

// Shared by a KTable handle and the processors of its node; processors read it when tasks are
// built, after the topology is complete, so later calls (a join materializing a source table,
// asking for old values) take effect.
template <class K, class V>
struct KTableInfo {
  std::string processor;  // the node that forwards Record<K, Change<V>>
  std::string store;      // its store; empty while not materialized
  TableStoreKind store_kind = TableStoreKind::none;
  bool queryable = false;        // the user named the store
  std::int64_t window_span = 0;  // windowed tables: window end - window start
  bool send_old_values = false;
  // Windowed tables: how long after a window's end it closes (grace; gap + grace for sessions).
  std::optional<std::int64_t> window_close_delay;
  // Source tables: adds the store on demand (joins, old values). Sets `store`.
  std::function<void(KTableInfo&)> materialize;
  // Derived tables: asks the parent for old values.
  std::function<void()> enable_upstream_old_values;
  // Derived tables without a store: a getter computed from the parent's.
  std::function<KTableValueGetterSupplier<K, V>()> derived_getter;
};

template <class K, class V>
void enable_sending_old_values(KTableInfo<K, V>& info) {
  if (info.send_old_values) return;
  info.send_old_values = true;
  if (info.store.empty() && info.materialize) info.materialize(info);
  if (info.enable_upstream_old_values) info.enable_upstream_old_values();
}

template <class K, class V>
KTableValueGetterSupplier<K, V> value_getter_supplier(KTableInfo<K, V>& info) {
  if (info.store.empty() && info.materialize) info.materialize(info);
  if (info.store.empty()) {
    if (!info.derived_getter) {
      throw TopologyException("table '" + info.processor + "' has no value getter");
    }
    return info.derived_getter();
  }
  KTableValueGetterSupplier<K, V> supplier;
  supplier.store_names = {info.store};
  const std::string store = info.store;
  if constexpr (kIsWindowed<K>) {
    using KI = decltype(std::declval<K>().key);
    if (info.store_kind == TableStoreKind::session) {
      supplier.get = [store] { return std::make_unique<SessionStoreGetter<KI, V>>(store); };
    } else {
      supplier.get = [store] { return std::make_unique<WindowStoreGetter<KI, V>>(store); };
    }
  } else {
    supplier.get = [store] { return std::make_unique<KeyValueStoreGetter<K, V>>(store); };
  }
  return supplier;
}

// ---- Forwarding a table store's changes -----------------------------------------------------

// Sets the store's cache flush listener to forward each change that reaches the store below the
// cache; returns false (and forwards nothing) when the store has no caching layer, so the owner
// forwards after each write instead.
template <class K, class V>
bool forward_through_cache(KeyValueStore<K, ValueAndTimestamp<V>>& store,
                           ProcessorContext<K, Change<V>>& context, bool send_old_values) {
  auto* source = dynamic_cast<CacheFlushSource<CacheFlushEntry>*>(&store.bytes_store());
  if (source == nullptr) return false;
  source->set_flush_listener(
      [&store, &context, send_old_values,
       topic = dsl_changelog_topic(context.application_id(), store.name())](
          const CacheFlushEntry& change) {
        Change<V> value;
        std::int64_t timestamp = change.timestamp;
        if (change.new_value) {
          ValueAndTimestamp<V> current = store.value_serde().deserialize(topic, *change.new_value);
          timestamp = current.timestamp;
          value.new_value = std::move(current.value);
        }
        if (send_old_values && change.old_value) {
          value.old_value = store.value_serde().deserialize(topic, *change.old_value).value;
        }
        context.forward(Record<K, Change<V>>(store.key_serde().deserialize(topic, change.key),
                                             std::move(value), timestamp));
      },
      send_old_values);
  return true;
}

template <class K, class V>
bool forward_through_cache(WindowStore<K, ValueAndTimestamp<V>>& store,
                           ProcessorContext<Windowed<K>, Change<V>>& context, bool send_old_values,
                           std::int64_t window_span) {
  auto* source = dynamic_cast<CacheFlushSource<WindowCacheFlushEntry>*>(&store.bytes_store());
  if (source == nullptr) return false;
  source->set_flush_listener(
      [&store, &context, send_old_values, window_span,
       topic = dsl_changelog_topic(context.application_id(), store.name())](
          const WindowCacheFlushEntry& change) {
        Change<V> value;
        std::int64_t timestamp = change.timestamp;
        if (change.new_value) {
          ValueAndTimestamp<V> current = store.value_serde().deserialize(topic, *change.new_value);
          timestamp = current.timestamp;
          value.new_value = std::move(current.value);
        }
        if (send_old_values && change.old_value) {
          value.old_value = store.value_serde().deserialize(topic, *change.old_value).value;
        }
        const Window window{change.window.start, window_end(change.window.start, window_span)};
        context.forward(Record<Windowed<K>, Change<V>>(
            Windowed<K>{store.key_serde().deserialize(topic, change.key), window}, std::move(value),
            timestamp));
      },
      send_old_values);
  return true;
}

// Session changes go downstream with the session's end as their timestamp, as in Kafka Streams.
template <class K, class V>
bool forward_through_cache(SessionStore<K, V>& store,
                           ProcessorContext<Windowed<K>, Change<V>>& context,
                           bool send_old_values) {
  auto* source = dynamic_cast<CacheFlushSource<SessionCacheFlushEntry>*>(&store.bytes_store());
  if (source == nullptr) return false;
  source->set_flush_listener(
      [&store, &context, send_old_values,
       topic = dsl_changelog_topic(context.application_id(), store.name())](
          const SessionCacheFlushEntry& change) {
        Change<V> value;
        if (change.new_value) {
          value.new_value = store.value_serde().deserialize(topic, *change.new_value);
        }
        if (send_old_values && change.old_value) {
          value.old_value = store.value_serde().deserialize(topic, *change.old_value);
        }
        context.forward(Record<Windowed<K>, Change<V>>(
            Windowed<K>{store.key_serde().deserialize(topic, change.key), change.window},
            std::move(value), change.window.end));
      },
      send_old_values);
  return true;
}

// Writes a table value (or deletes the key) in a table's key-value store.
template <class K, class V>
void put_table_value(KeyValueStore<K, ValueAndTimestamp<V>>& store, const K& key,
                     const std::optional<V>& value, std::int64_t timestamp) {
  if (value) {
    store.put(key, ValueAndTimestamp<V>{*value, timestamp});
  } else {
    store.remove(key);
  }
}

// ---- Table processors ---------------------------------------------------------------------

// Base of processors that may own a table store: finds it at init and decides how to forward.
template <class KIn, class VIn, class K, class V>
class TableProcessor : public DslProcessor<KIn, VIn, K, Change<V>> {
 public:
  explicit TableProcessor(std::shared_ptr<const KTableInfo<K, V>> info)
      : send_old_(info->send_old_values), store_name_(info->store) {}
  void init(ProcessorContext<K, Change<V>>& context) override {
    DslProcessor<KIn, VIn, K, Change<V>>::init(context);
    if (!store_name_.empty()) {
      store_ =
          &context.template get_state_store<KeyValueStore<K, ValueAndTimestamp<V>>>(store_name_);
      via_listener_ = forward_through_cache(*store_, context, send_old_);
    }
  }

 protected:
  // Stores the new value (when materialized) and forwards the change, unless the store's
  // listener does.
  void update(Record<K, Change<V>>&& record) {
    if (store_ != nullptr) {
      put_table_value(*store_, record.key(), record.value().new_value, record.timestamp());
      if (via_listener_) return;
    }
    if (!send_old_) record.value().old_value.reset();
    this->context_->forward(std::move(record));
  }

  bool send_old_;
  std::string store_name_;
  KeyValueStore<K, ValueAndTimestamp<V>>* store_ = nullptr;
  bool via_listener_ = false;
};

// The table of a topic (`StreamsBuilder::table`, which reads nullable keys and values) or of a
// stream (`KStream::to_table`): a record upserts its key, a null value deletes it, a null key is
// dropped.
template <class K, class V, class KIn = Nullable<K>, class VIn = Nullable<V>>
class KTableSourceProcessor final : public TableProcessor<KIn, VIn, K, V> {
  using Base = TableProcessor<KIn, VIn, K, V>;

 public:
  using Base::Base;
  void process_in_place(Record<KIn, VIn>& record) override {
    if (is_null_value(record.key())) {
      report_dropped(*this->context_, "null key for a table");
      return;
    }
    K key = take<K>(std::move(record.key()));
    Change<V> change;
    if (!is_null_value(record.value())) change.new_value = take<V>(std::move(record.value()));
    if (this->store_ != nullptr && this->send_old_ && !this->via_listener_) {
      if (std::optional<ValueAndTimestamp<V>> old = this->store_->get(key)) {
        change.old_value = std::move(old->value);
      }
    }
    this->update(Record<K, Change<V>>(std::move(key), std::move(change), record.timestamp(),
                                      std::move(record.headers())));
  }

 private:
  template <class T, class In>
  static T take(In&& in) {
    if constexpr (std::is_same_v<std::decay_t<In>, T>) {
      return std::forward<In>(in);
    } else {
      return from_nullable<T>(std::forward<In>(in));
    }
  }
};

// filter / filter_not: a filtered-out value becomes a deletion, as in Kafka Streams (with old
// values on, a change whose old and new values are both filtered out is not forwarded).
template <class K, class V, class Predicate>
class KTableFilterProcessor final : public TableProcessor<K, Change<V>, K, V> {
  using Base = TableProcessor<K, Change<V>, K, V>;

 public:
  KTableFilterProcessor(std::shared_ptr<const KTableInfo<K, V>> info, Predicate predicate,
                        bool keep_when)
      : Base(std::move(info)), predicate_(std::move(predicate)), keep_(keep_when) {}
  void process_in_place(Record<K, Change<V>>& record) override {
    Change<V>& change = record.value();
    apply(record.key(), change.new_value);
    if (this->send_old_) {
      apply(record.key(), change.old_value);
      if (!change.new_value && !change.old_value) return;
    } else {
      change.old_value.reset();
    }
    this->update(std::move(record));
  }

 private:
  void apply(const K& key, std::optional<V>& value) {
    if (value && static_cast<bool>(predicate_(key, *value)) != keep_) value.reset();
  }
  Predicate predicate_;
  bool keep_;
};

template <class K, class V, class V2, class Mapper>
class KTableMapValuesProcessor final : public TableProcessor<K, Change<V>, K, V2> {
  using Base = TableProcessor<K, Change<V>, K, V2>;

 public:
  KTableMapValuesProcessor(std::shared_ptr<const KTableInfo<K, V2>> info, Mapper mapper)
      : Base(std::move(info)), mapper_(std::move(mapper)) {}
  void process_in_place(Record<K, Change<V>>& record) override {
    Change<V2> change;
    const Change<V>& in = record.value();
    if (in.new_value)
      change.new_value.emplace(call_value_mapper(mapper_, record.key(), *in.new_value));
    if (this->send_old_ && in.old_value) {
      change.old_value.emplace(call_value_mapper(mapper_, record.key(), *in.old_value));
    }
    this->update(std::move(record).with_value(std::move(change)));
  }

 private:
  Mapper mapper_;
};

// to_stream: each change becomes a record with the new value; a deletion a null value.
template <class K, class V>
class KTableToStreamProcessor final : public DslProcessor<K, Change<V>, K, Nullable<V>> {
 public:
  void process_in_place(Record<K, Change<V>>& record) override {
    Nullable<V> value;
    if (record.value().new_value) value = to_nullable<V>(std::move(*record.value().new_value));
    this->context_->forward(std::move(record).with_value(std::move(value)));
  }
};

// ---- Suppression --------------------------------------------------------------------------

// The buffer of a suppression, in a KeyValueStore<Bytes, Bytes> (in memory, with a changelog):
//   [0x00][buffer time, 8 bytes, order-preserving][key bytes] -> [record timestamp, 8 bytes]
//                                                               [new value][prior value]
//   [0x01][key bytes] -> [buffer time, 8 bytes]   (where a key's entry is)
// where each value is [present, 1 byte][length, 4 bytes BE][bytes]. The buffer time is the window
// end (final results) or the timestamp of the first buffered update of the key (time limit); a
// later update of a key keeps its place, as in Kafka Streams.
struct SuppressionOptions {
  std::string store;
  Suppressed::Kind kind = Suppressed::Kind::until_time_limit;
  std::int64_t delay = 0;  // emit once buffer time <= stream time - delay
  std::optional<std::size_t> max_records;
  std::optional<std::size_t> max_bytes;
  BufferConfig::WhenFull when_full = BufferConfig::WhenFull::shut_down;
};

namespace suppress_codec {
inline void put_u64(Bytes& out, std::uint64_t bits) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(bits >> shift));
}
inline std::uint64_t get_u64(ByteView in, std::size_t at) {
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < 8; ++i) bits = (bits << 8U) | in[at + i];
  return bits;
}
// Flips the sign bit so that unsigned byte order is numeric order.
inline std::uint64_t ordered(std::int64_t time) {
  return static_cast<std::uint64_t>(time) ^ (std::uint64_t{1} << 63U);
}
inline std::int64_t from_ordered(std::uint64_t bits) {
  return static_cast<std::int64_t>(bits ^ (std::uint64_t{1} << 63U));
}
inline void put_part(Bytes& out, const std::optional<Bytes>& part) {
  out.push_back(part ? 1 : 0);
  const std::uint32_t size = part ? static_cast<std::uint32_t>(part->size()) : 0;
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(size >> shift));
  if (part) out.insert(out.end(), part->begin(), part->end());
}
inline std::optional<Bytes> get_part(ByteView in, std::size_t& at) {
  if (at + 5 > in.size()) throw SerializationException("corrupt suppression buffer entry");
  const bool present = in[at] != 0;
  std::uint32_t size = 0;
  for (std::size_t i = 1; i <= 4; ++i) size = (size << 8U) | in[at + i];
  at += 5;
  if (at + size > in.size()) throw SerializationException("corrupt suppression buffer entry");
  std::optional<Bytes> part;
  if (present)
    part.emplace(in.begin() + static_cast<std::ptrdiff_t>(at),
                 in.begin() + static_cast<std::ptrdiff_t>(at + size));
  at += size;
  return part;
}
}  // namespace suppress_codec

template <class K, class V>
class KTableSuppressProcessor final : public DslProcessor<K, Change<V>, K, Change<V>> {
 public:
  KTableSuppressProcessor(SuppressionOptions options, AnySerde<K> key_serde,
                          AnySerde<V> value_serde)
      : options_(std::move(options)),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)) {}

  void init(ProcessorContext<K, Change<V>>& context) override {
    DslProcessor<K, Change<V>, K, Change<V>>::init(context);
    store_ = &context.template get_state_store<KeyValueStore<Bytes, Bytes>>(options_.store);
    topic_ = dsl_changelog_topic(context.application_id(), options_.store);
  }

  void process_in_place(Record<K, Change<V>>& record) override {
    observed_ = std::max(observed_, record.timestamp());
    buffer(record);
    evict_expired();
    enforce_capacity();
  }

 private:
  struct Entry {
    Bytes store_key;
    std::int64_t timestamp = 0;
    std::optional<Bytes> new_value;
    std::optional<Bytes> prior_value;
    std::size_t size = 0;  // of the stored key and value
  };

  void count_buffer() {
    if (counted_) return;
    counted_ = true;
    KeyValueIterator<Bytes, Bytes> it = store_->prefix_scan(Bytes{0x00});
    while (it.has_next()) {
      KeyValue<Bytes, Bytes> kv = it.next();
      ++records_;
      bytes_ += kv.key.size() + kv.value.size();
    }
  }

  std::optional<Bytes> serialize_value(const std::optional<V>& value) {
    if (!value || value_serde_.is_null(*value)) return std::nullopt;
    Bytes out;
    value_serde_.serialize(topic_, *value, out);
    return out;
  }

  static Bytes entry_key(std::int64_t time, const Bytes& key) {
    Bytes out;
    out.reserve(9 + key.size());
    out.push_back(0x00);
    suppress_codec::put_u64(out, suppress_codec::ordered(time));
    out.insert(out.end(), key.begin(), key.end());
    return out;
  }
  static Bytes index_key(const Bytes& key) {
    Bytes out;
    out.reserve(1 + key.size());
    out.push_back(0x01);
    out.insert(out.end(), key.begin(), key.end());
    return out;
  }
  static Entry decode(Bytes store_key, ByteView value) {
    if (value.size() < 8) throw SerializationException("corrupt suppression buffer entry");
    Entry entry;
    entry.size = store_key.size() + value.size();
    entry.store_key = std::move(store_key);
    entry.timestamp = static_cast<std::int64_t>(suppress_codec::get_u64(value, 0));
    std::size_t at = 8;
    entry.new_value = suppress_codec::get_part(value, at);
    entry.prior_value = suppress_codec::get_part(value, at);
    return entry;
  }

  void buffer(Record<K, Change<V>>& record) {
    count_buffer();
    Bytes key;
    key_serde_.serialize(topic_, record.key(), key);
    std::int64_t time = record.timestamp();
    if constexpr (kIsWindowed<K>) {
      if (options_.kind == Suppressed::Kind::until_window_closes) time = record.key().window.end;
    }
    std::optional<Bytes> prior;
    const Bytes index = index_key(key);
    if (std::optional<Bytes> existing = store_->get(index)) {
      time = suppress_codec::from_ordered(suppress_codec::get_u64(*existing, 0));
      Bytes old_key = entry_key(time, key);
      if (std::optional<Bytes> old = store_->get(old_key)) {
        prior = decode(old_key, *old).prior_value;
        --records_;
        bytes_ -= std::min(bytes_, old_key.size() + old->size());
      }
    } else {
      prior = serialize_value(record.value().old_value);
      Bytes where;
      suppress_codec::put_u64(where, suppress_codec::ordered(time));
      store_->put(index, where);
    }
    Bytes value;
    suppress_codec::put_u64(value, static_cast<std::uint64_t>(record.timestamp()));
    suppress_codec::put_part(value, serialize_value(record.value().new_value));
    suppress_codec::put_part(value, prior);
    Bytes where = entry_key(time, key);
    ++records_;
    bytes_ += where.size() + value.size();
    store_->put(where, value);
  }

  // Entries in buffer-time order, up to `limit` of them, or only those whose buffer time is at
  // or before `until`.
  std::vector<Entry> oldest(std::optional<std::int64_t> until, std::size_t limit) {
    std::vector<Entry> out;
    KeyValueIterator<Bytes, Bytes> it = store_->prefix_scan(Bytes{0x00});
    while (out.size() < limit && it.has_next()) {
      KeyValue<Bytes, Bytes> kv = it.next();
      const std::int64_t time = suppress_codec::from_ordered(suppress_codec::get_u64(kv.key, 1));
      if (until && time > *until) break;
      out.push_back(decode(std::move(kv.key), kv.value));
    }
    return out;
  }

  void emit(Entry& entry) {
    const ByteView key_bytes = ByteView(entry.store_key).subspan(9);
    store_->remove(Bytes(entry.store_key));
    store_->remove(index_key(Bytes(key_bytes.begin(), key_bytes.end())));
    --records_;
    bytes_ -= std::min(bytes_, entry.size);
    // Final results never emit a window that ended as a deletion.
    if (!entry.new_value && options_.kind == Suppressed::Kind::until_window_closes) return;
    Change<V> change;
    if (entry.new_value) change.new_value = value_serde_.deserialize(topic_, *entry.new_value);
    if (entry.prior_value) change.old_value = value_serde_.deserialize(topic_, *entry.prior_value);
    this->context_->forward(Record<K, Change<V>>(key_serde_.deserialize(topic_, key_bytes),
                                                 std::move(change), entry.timestamp));
  }

  void evict_expired() {
    if (records_ == 0) return;
    const std::int64_t expiry = observed_ - options_.delay;
    for (Entry& entry : oldest(expiry, static_cast<std::size_t>(-1))) emit(entry);
  }

  bool over_capacity() const {
    return (options_.max_records && records_ > *options_.max_records) ||
           (options_.max_bytes && bytes_ > *options_.max_bytes);
  }

  void enforce_capacity() {
    if (!over_capacity()) return;
    if (options_.when_full == BufferConfig::WhenFull::shut_down) {
      throw ProcessingFailedException("suppression buffer '" + options_.store +
                                      "' exceeded its capacity (" + std::to_string(records_) +
                                      " records, " + std::to_string(bytes_) +
                                      " bytes) and is configured to shut down when full");
    }
    while (over_capacity() && records_ > 0) {
      std::vector<Entry> first = oldest(std::nullopt, 1);
      if (first.empty()) break;
      emit(first.front());
    }
  }

  SuppressionOptions options_;
  AnySerde<K> key_serde_;
  AnySerde<V> value_serde_;
  KeyValueStore<Bytes, Bytes>* store_ = nullptr;
  std::string topic_;
  std::int64_t observed_ = kMinTimestamp;
  bool counted_ = false;
  std::size_t records_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace rivulet::detail
