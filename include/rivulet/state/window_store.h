// WindowStore<K, V>: values per key and window start, as windowed aggregations and stream-stream
// joins keep them. Entries older than the store's retention period (behind the largest window
// start written) disappear.
//
// SessionStore<K, V>: values per key and session (a window whose start and end are the first and
// last record's timestamps), as session-windowed aggregations keep them.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <rivulet/key_value.h>
#include <rivulet/state/key_value_store.h>
#include <rivulet/state/state_store.h>

namespace rivulet {

inline constexpr std::int64_t kMinTimestamp = std::numeric_limits<std::int64_t>::min();
inline constexpr std::int64_t kMaxTimestamp = std::numeric_limits<std::int64_t>::max();

// The end of a window of `size` starting at `start`, saturating instead of overflowing.
inline std::int64_t window_end(std::int64_t start, std::int64_t size) {
  return start > kMaxTimestamp - size ? kMaxTimestamp : start + size;
}

// A cursor over one key's windows: (window start, value).
template <class V>
class WindowStoreIterator {
 public:
  WindowStoreIterator(std::unique_ptr<WindowBytesStore::Iterator> inner, const AnySerde<V>* values,
                      const std::string* topic)
      : inner_(std::move(inner)), values_(values), topic_(topic) {}
  bool has_next() { return inner_->has_next(); }
  KeyValue<std::int64_t, V> next() {
    WindowBytesEntry entry = inner_->next();
    return KeyValue<std::int64_t, V>{entry.window_start,
                                     values_->deserialize(*topic_, entry.value)};
  }
  std::vector<KeyValue<std::int64_t, V>> to_vector() {
    std::vector<KeyValue<std::int64_t, V>> out;
    while (has_next()) out.push_back(next());
    return out;
  }

 private:
  std::unique_ptr<WindowBytesStore::Iterator> inner_;
  const AnySerde<V>* values_;
  const std::string* topic_;
};

// A cursor over windowed entries of several keys (or sessions).
template <class K, class V, class Entry>
class WindowedIterator {
 public:
  WindowedIterator(std::unique_ptr<StoreIterator<Entry>> inner, const AnySerde<K>* keys,
                   const AnySerde<V>* values, const std::string* topic, std::int64_t window_size)
      : inner_(std::move(inner)), keys_(keys), values_(values), topic_(topic), size_(window_size) {}
  bool has_next() { return inner_->has_next(); }
  KeyValue<Windowed<K>, V> next() {
    Entry entry = inner_->next();
    Window window;
    if constexpr (std::is_same_v<Entry, WindowBytesEntry>) {
      window = Window{entry.window_start, window_end(entry.window_start, size_)};
    } else {
      window = Window{entry.start, entry.end};
    }
    return KeyValue<Windowed<K>, V>{Windowed<K>{keys_->deserialize(*topic_, entry.key), window},
                                    values_->deserialize(*topic_, entry.value)};
  }
  std::vector<KeyValue<Windowed<K>, V>> to_vector() {
    std::vector<KeyValue<Windowed<K>, V>> out;
    while (has_next()) out.push_back(next());
    return out;
  }

 private:
  std::unique_ptr<StoreIterator<Entry>> inner_;
  const AnySerde<K>* keys_;
  const AnySerde<V>* values_;
  const std::string* topic_;
  std::int64_t size_;
};

template <class K, class V>
using WindowedKeyValueIterator = WindowedIterator<K, V, WindowBytesEntry>;
template <class K, class V>
using SessionIterator = WindowedIterator<K, V, SessionBytesEntry>;

template <class K, class V>
class WindowStore final : public detail::TypedStoreBase<WindowBytesStore, K> {
  using Base = detail::TypedStoreBase<WindowBytesStore, K>;

 public:
  using key_type = K;
  using value_type = V;

  WindowStore(std::unique_ptr<WindowBytesStore> inner, AnySerde<K> key_serde,
              AnySerde<V> value_serde)
      : Base(std::move(inner), std::move(key_serde)), value_serde_(std::move(value_serde)) {}

  std::int64_t window_size() const { return this->inner_->window_size(); }
  std::int64_t retention_period() const { return this->inner_->retention_period(); }

  // Stores `value` for `key` in the window starting at `window_start`; a null value deletes.
  void put(const K& key, const V& value, std::int64_t window_start) {
    const Bytes& k = this->key_bytes(key);
    if (value_serde_.is_null(value)) {
      this->inner_->put(k, std::nullopt, window_start);
      return;
    }
    value_buffer_.clear();
    value_serde_.serialize(this->topic_, value, value_buffer_);
    this->inner_->put(k, ByteView(value_buffer_), window_start);
  }
  std::optional<V> fetch(const K& key, std::int64_t window_start) {
    std::optional<Bytes> value = this->inner_->fetch(this->key_bytes(key), window_start);
    if (!value) return std::nullopt;
    return value_serde_.deserialize(this->topic_, *value);
  }
  // Windows of `key` starting in [time_from, time_to], oldest first.
  WindowStoreIterator<V> fetch(const K& key, std::int64_t time_from, std::int64_t time_to) {
    return key_iterator(this->inner_->fetch(this->key_bytes(key), time_from, time_to, true));
  }
  WindowStoreIterator<V> backward_fetch(const K& key, std::int64_t time_from,
                                        std::int64_t time_to) {
    return key_iterator(this->inner_->fetch(this->key_bytes(key), time_from, time_to, false));
  }
  // Windows of keys in [key_from, key_to] starting in [time_from, time_to].
  WindowedKeyValueIterator<K, V> fetch(const K& key_from, const K& key_to, std::int64_t time_from,
                                       std::int64_t time_to) {
    Bytes from = this->serialize_key(key_from);
    Bytes to = this->serialize_key(key_to);
    return windowed(
        this->inner_->fetch_range(ByteView(from), ByteView(to), time_from, time_to, true));
  }
  WindowedKeyValueIterator<K, V> backward_fetch(const K& key_from, const K& key_to,
                                                std::int64_t time_from, std::int64_t time_to) {
    Bytes from = this->serialize_key(key_from);
    Bytes to = this->serialize_key(key_to);
    return windowed(
        this->inner_->fetch_range(ByteView(from), ByteView(to), time_from, time_to, false));
  }
  WindowedKeyValueIterator<K, V> fetch_all(std::int64_t time_from, std::int64_t time_to) {
    return windowed(this->inner_->fetch_all(time_from, time_to, true));
  }
  WindowedKeyValueIterator<K, V> backward_fetch_all(std::int64_t time_from, std::int64_t time_to) {
    return windowed(this->inner_->fetch_all(time_from, time_to, false));
  }
  WindowedKeyValueIterator<K, V> all() { return windowed(this->inner_->all(true)); }
  WindowedKeyValueIterator<K, V> backward_all() { return windowed(this->inner_->all(false)); }

  const AnySerde<K>& key_serde() const { return this->key_serde_; }
  const AnySerde<V>& value_serde() const { return value_serde_; }

  nlohmann::json value_json(ByteView value) override {
    return query_json(value_serde_.deserialize(this->topic_, value), value);
  }

 private:
  WindowStoreIterator<V> key_iterator(std::unique_ptr<WindowBytesStore::Iterator> inner) {
    return WindowStoreIterator<V>(std::move(inner), &value_serde_, &this->topic_);
  }
  WindowedKeyValueIterator<K, V> windowed(std::unique_ptr<WindowBytesStore::Iterator> inner) {
    return WindowedKeyValueIterator<K, V>(std::move(inner), &this->key_serde_, &value_serde_,
                                          &this->topic_, this->inner_->window_size());
  }

  AnySerde<V> value_serde_;
  Bytes value_buffer_;
};

template <class K, class V>
class SessionStore final : public detail::TypedStoreBase<SessionBytesStore, K> {
  using Base = detail::TypedStoreBase<SessionBytesStore, K>;

 public:
  using key_type = K;
  using value_type = V;

  SessionStore(std::unique_ptr<SessionBytesStore> inner, AnySerde<K> key_serde,
               AnySerde<V> value_serde)
      : Base(std::move(inner), std::move(key_serde)), value_serde_(std::move(value_serde)) {}

  std::int64_t retention_period() const { return this->inner_->retention_period(); }

  // Stores the session; a null value removes it.
  void put(const Windowed<K>& session, const V& value) {
    const Bytes& k = this->key_bytes(session.key);
    if (value_serde_.is_null(value)) {
      this->inner_->put(k, session.window.start, session.window.end, std::nullopt);
      return;
    }
    value_buffer_.clear();
    value_serde_.serialize(this->topic_, value, value_buffer_);
    this->inner_->put(k, session.window.start, session.window.end, ByteView(value_buffer_));
  }
  void remove(const Windowed<K>& session) {
    this->inner_->remove(this->key_bytes(session.key), session.window.start, session.window.end);
  }
  std::optional<V> fetch_session(const K& key, std::int64_t start, std::int64_t end) {
    std::optional<Bytes> value = this->inner_->fetch_session(this->key_bytes(key), start, end);
    if (!value) return std::nullopt;
    return value_serde_.deserialize(this->topic_, *value);
  }
  // Sessions of `key` ending at or after `earliest_end` and starting at or before `latest_start`.
  SessionIterator<K, V> find_sessions(const K& key, std::int64_t earliest_end,
                                      std::int64_t latest_start) {
    return sessions(
        this->inner_->find_sessions(this->key_bytes(key), earliest_end, latest_start, true));
  }
  SessionIterator<K, V> backward_find_sessions(const K& key, std::int64_t earliest_end,
                                               std::int64_t latest_start) {
    return sessions(
        this->inner_->find_sessions(this->key_bytes(key), earliest_end, latest_start, false));
  }
  SessionIterator<K, V> find_sessions(const K& key_from, const K& key_to, std::int64_t earliest_end,
                                      std::int64_t latest_start) {
    Bytes from = this->serialize_key(key_from);
    Bytes to = this->serialize_key(key_to);
    return sessions(this->inner_->find_sessions_range(ByteView(from), ByteView(to), earliest_end,
                                                      latest_start, true));
  }
  // Every session of `key`.
  SessionIterator<K, V> fetch(const K& key) {
    return find_sessions(key, kMinTimestamp, kMaxTimestamp);
  }
  SessionIterator<K, V> backward_fetch(const K& key) {
    return backward_find_sessions(key, kMinTimestamp, kMaxTimestamp);
  }

  const AnySerde<K>& key_serde() const { return this->key_serde_; }
  const AnySerde<V>& value_serde() const { return value_serde_; }

  nlohmann::json value_json(ByteView value) override {
    return query_json(value_serde_.deserialize(this->topic_, value), value);
  }

 private:
  SessionIterator<K, V> sessions(std::unique_ptr<SessionBytesStore::Iterator> inner) {
    return SessionIterator<K, V>(std::move(inner), &this->key_serde_, &value_serde_, &this->topic_,
                                 0);
  }

  AnySerde<V> value_serde_;
  Bytes value_buffer_;
};

}  // namespace rivulet
