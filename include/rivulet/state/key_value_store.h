// KeyValueStore<K, V>: the typed key-value store a processor uses, over a byte-level store
// (RocksDB or in memory, optionally cached and logged; see state_store.h).
//
//   auto& counts = context.get_state_store<rivulet::KeyValueStore<std::string, std::int64_t>>(
//       "counts");
//   counts.put(key, counts.get(key).value_or(0) + 1);
//
// Keys are ordered by their serialized bytes, so ranges follow the serde's byte order (big-endian
// integers of the default serdes order correctly only when non-negative, as in Kafka Streams).
// A value the serde maps to null (`is_null`, e.g. an empty std::optional) deletes the key.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <rivulet/errors.h>
#include <rivulet/key_value.h>
#include <rivulet/serde.h>
#include <rivulet/state/query_json.h>
#include <rivulet/state/queryable_store.h>
#include <rivulet/state/state_store.h>

namespace rivulet {

// A cursor over typed entries; deserializes lazily. Destroy it before the store closes.
template <class K, class V>
class KeyValueIterator {
 public:
  KeyValueIterator(std::unique_ptr<KeyValueBytesStore::Iterator> inner, const AnySerde<K>* keys,
                   const AnySerde<V>* values, const std::string* topic)
      : inner_(std::move(inner)), keys_(keys), values_(values), topic_(topic) {}

  bool has_next() { return inner_->has_next(); }
  KeyValue<K, V> next() {
    KeyValue<Bytes, Bytes> raw = inner_->next();
    return KeyValue<K, V>{keys_->deserialize(*topic_, raw.key),
                          values_->deserialize(*topic_, raw.value)};
  }
  // Reads the remaining entries.
  std::vector<KeyValue<K, V>> to_vector() {
    std::vector<KeyValue<K, V>> out;
    while (has_next()) out.push_back(next());
    return out;
  }

 private:
  std::unique_ptr<KeyValueBytesStore::Iterator> inner_;
  const AnySerde<K>* keys_;
  const AnySerde<V>* values_;
  const std::string* topic_;
};

namespace detail {
// What typed stores share: the byte store below, and the serdes.
template <class Inner, class K>
class TypedStoreBase : public StateStore, public QueryableStore {
 public:
  TypedStoreBase(std::unique_ptr<Inner> inner, AnySerde<K> key_serde)
      : inner_(std::move(inner)), key_serde_(std::move(key_serde)) {}

  const std::string& name() const override { return inner_->name(); }
  void init(StateStoreContext& context) override {
    // Serdes see the changelog topic's name, as in Kafka Streams.
    topic_ = context.application_id() + "-" + inner_->name() + "-changelog";
    inner_->init(context);
  }
  void flush() override { inner_->flush(); }
  void close() override { inner_->close(); }
  bool persistent() const override { return inner_->persistent(); }
  bool is_open() const override { return inner_->is_open(); }

  // The byte-level store below the serdes (for the runtime and interactive queries).
  Inner& bytes_store() { return *inner_; }

  // QueryableStore
  Bytes key_from_text(std::string_view text) override {
    return serialize_key(QueryText<K>::parse(text));
  }
  nlohmann::json key_json(ByteView key) override {
    return query_json(key_serde_.deserialize(topic_, key), key);
  }
  QueryableKind queryable_kind() const override {
    if constexpr (std::is_same_v<Inner, KeyValueBytesStore>) {
      return QueryableKind::key_value;
    } else if constexpr (std::is_same_v<Inner, WindowBytesStore>) {
      return QueryableKind::window;
    } else {
      return QueryableKind::session;
    }
  }
  KeyValueBytesStore* key_value_bytes() override { return bytes_of<KeyValueBytesStore>(); }
  WindowBytesStore* window_bytes() override { return bytes_of<WindowBytesStore>(); }
  SessionBytesStore* session_bytes() override { return bytes_of<SessionBytesStore>(); }

 protected:
  const Bytes& key_bytes(const K& key) {
    key_buffer_.clear();
    key_serde_.serialize(topic_, key, key_buffer_);
    return key_buffer_;
  }
  Bytes serialize_key(const K& key) const {
    Bytes out;
    key_serde_.serialize(topic_, key, out);
    return out;
  }
  template <class T>
  T* bytes_of() {
    if constexpr (std::is_same_v<Inner, T>) {
      return inner_.get();
    } else {
      return nullptr;
    }
  }

  std::unique_ptr<Inner> inner_;
  AnySerde<K> key_serde_;
  std::string topic_;
  Bytes key_buffer_;
};
}  // namespace detail

template <class K, class V>
class KeyValueStore final : public detail::TypedStoreBase<KeyValueBytesStore, K> {
  using Base = detail::TypedStoreBase<KeyValueBytesStore, K>;

 public:
  using key_type = K;
  using value_type = V;

  KeyValueStore(std::unique_ptr<KeyValueBytesStore> inner, AnySerde<K> key_serde,
                AnySerde<V> value_serde)
      : Base(std::move(inner), std::move(key_serde)), value_serde_(std::move(value_serde)) {}

  std::optional<V> get(const K& key) {
    std::optional<Bytes> value = this->inner_->get(this->key_bytes(key));
    if (!value) return std::nullopt;
    return value_serde_.deserialize(this->topic_, *value);
  }
  void put(const K& key, const V& value) {
    const Bytes& k = this->key_bytes(key);
    if (value_serde_.is_null(value)) {
      this->inner_->put(k, std::nullopt);
      return;
    }
    value_buffer_.clear();
    value_serde_.serialize(this->topic_, value, value_buffer_);
    this->inner_->put(k, ByteView(value_buffer_));
  }
  // Puts only when `key` is absent; returns the value already there, if any.
  std::optional<V> put_if_absent(const K& key, const V& value) {
    value_buffer_.clear();
    value_serde_.serialize(this->topic_, value, value_buffer_);
    std::optional<Bytes> old = this->inner_->put_if_absent(this->key_bytes(key), value_buffer_);
    if (!old) return std::nullopt;
    return value_serde_.deserialize(this->topic_, *old);
  }
  void put_all(const std::vector<KeyValue<K, V>>& entries) {
    std::vector<KeyValue<Bytes, std::optional<Bytes>>> raw;
    raw.reserve(entries.size());
    for (const KeyValue<K, V>& entry : entries) {
      KeyValue<Bytes, std::optional<Bytes>> kv{this->serialize_key(entry.key), std::nullopt};
      if (!value_serde_.is_null(entry.value)) {
        kv.value.emplace();
        value_serde_.serialize(this->topic_, entry.value, *kv.value);
      }
      raw.push_back(std::move(kv));
    }
    this->inner_->put_all(raw);
  }
  // Deletes `key`; returns the value it had.
  std::optional<V> remove(const K& key) {
    std::optional<Bytes> old = this->inner_->remove(this->key_bytes(key));
    if (!old) return std::nullopt;
    return value_serde_.deserialize(this->topic_, *old);
  }
  // Entries with from <= key <= to, ascending by serialized key.
  KeyValueIterator<K, V> range(const K& from, const K& to) {
    return bounded(this->serialize_key(from), this->serialize_key(to), true);
  }
  // The same entries, descending.
  KeyValueIterator<K, V> reverse_range(const K& from, const K& to) {
    return bounded(this->serialize_key(from), this->serialize_key(to), false);
  }
  KeyValueIterator<K, V> all() { return iterator(this->inner_->all(true)); }
  KeyValueIterator<K, V> reverse_all() { return iterator(this->inner_->all(false)); }
  // Entries whose serialized key starts with the serialized `prefix` (of any type with a serde).
  template <class P>
  KeyValueIterator<K, V> prefix_scan(const P& prefix, const AnySerde<P>& prefix_serde) {
    Bytes raw;
    prefix_serde.serialize(this->topic_, prefix, raw);
    return iterator(this->inner_->prefix_scan(raw));
  }
  KeyValueIterator<K, V> prefix_scan(const K& prefix) {
    return iterator(this->inner_->prefix_scan(this->serialize_key(prefix)));
  }
  std::uint64_t approximate_num_entries() { return this->inner_->approximate_num_entries(); }

  const AnySerde<K>& key_serde() const { return this->key_serde_; }
  const AnySerde<V>& value_serde() const { return value_serde_; }

  nlohmann::json value_json(ByteView value) override {
    return query_json(value_serde_.deserialize(this->topic_, value), value);
  }

 private:
  KeyValueIterator<K, V> bounded(const Bytes& from, const Bytes& to, bool forward) {
    return iterator(this->inner_->range(ByteView(from), ByteView(to), forward));
  }
  KeyValueIterator<K, V> iterator(std::unique_ptr<KeyValueBytesStore::Iterator> inner) {
    return KeyValueIterator<K, V>(std::move(inner), &this->key_serde_, &value_serde_,
                                  &this->topic_);
  }

  AnySerde<V> value_serde_;
  Bytes value_buffer_;
};

}  // namespace rivulet
