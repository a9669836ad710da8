// Records as processors see them: a key, a value, a timestamp and headers.
//
// `Record<K, V>` is a plain value. Operators move records along the graph, so a linear chain of
// operators copies nothing; where a record fans out to several children, each child but the last
// gets a copy. The `with_*` methods return a new record and, called on an rvalue
// (`std::move(record).with_value(v)`), reuse the parts they keep instead of copying them.
//
// Timestamps are milliseconds since the Unix epoch, as in Kafka. Headers are ordered and may
// repeat a key, as in Kafka.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rivulet {

// Serialized bytes. `ByteView` is a non-owning view of them.
using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// Bytes holding the characters of `text` (no terminator), for tests and headers.
inline Bytes to_bytes(std::string_view text) {
  return Bytes(text.begin(), text.end());
}
inline std::string to_string(ByteView bytes) {
  return std::string(bytes.begin(), bytes.end());
}

// One Kafka record header. A header's value may be null (absent), which differs from empty.
struct Header {
  std::string key;
  std::optional<Bytes> value;

  friend bool operator==(const Header&, const Header&) = default;
};

// The ordered list of a record's headers. Copying is cheap when it is empty (the common case).
class Headers {
 public:
  Headers() = default;
  Headers(std::initializer_list<Header> headers) : headers_(headers) {}

  // Appends a header; an existing header with the same key stays.
  Headers& add(std::string key, std::optional<Bytes> value) {
    headers_.push_back(Header{std::move(key), std::move(value)});
    return *this;
  }
  Headers& add(std::string key, std::string_view value) {
    return add(std::move(key), to_bytes(value));
  }

  // Removes every header with this key.
  Headers& remove(std::string_view key) {
    std::erase_if(headers_, [&](const Header& h) { return h.key == key; });
    return *this;
  }

  // The last header with this key, or nullptr.
  const Header* last_header(std::string_view key) const {
    for (auto it = headers_.rbegin(); it != headers_.rend(); ++it) {
      if (it->key == key) return &*it;
    }
    return nullptr;
  }

  bool empty() const { return headers_.empty(); }
  std::size_t size() const { return headers_.size(); }
  auto begin() const { return headers_.begin(); }
  auto end() const { return headers_.end(); }

  friend bool operator==(const Headers&, const Headers&) = default;

 private:
  std::vector<Header> headers_;
};

// Where the record being processed came from. Absent while a punctuator runs.
struct RecordMetadata {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;

  friend bool operator==(const RecordMetadata&, const RecordMetadata&) = default;
};

// The key and value type of a processor that forwards nothing (`Processor<K, V, Void, Void>`).
struct Void {
  friend bool operator==(Void, Void) = default;
};

template <class K, class V>
class Record {
 public:
  using key_type = K;
  using value_type = V;

  // Forwards its arguments into the members, so moving a key or value in costs one move.
  template <class KArg, class VArg, class HArg = Headers>
  requires std::constructible_from<K, KArg&&> && std::constructible_from<V, VArg&&> &&
      std::constructible_from<Headers, HArg&&>
      Record(KArg&& key, VArg&& value, std::int64_t timestamp, HArg&& headers = Headers{})
      : key_(std::forward<KArg>(key)),
        value_(std::forward<VArg>(value)),
        timestamp_(timestamp),
        headers_(std::forward<HArg>(headers)) {}

  const K& key() const& { return key_; }
  K& key() & { return key_; }
  const V& value() const& { return value_; }
  V& value() & { return value_; }
  std::int64_t timestamp() const { return timestamp_; }
  const Headers& headers() const& { return headers_; }
  Headers& headers() & { return headers_; }

  template <class NK>
  Record<NK, V> with_key(NK key) const& {
    return Record<NK, V>(std::move(key), value_, timestamp_, headers_);
  }
  template <class NK>
  Record<NK, V> with_key(NK key) && {
    return Record<NK, V>(std::move(key), std::move(value_), timestamp_, std::move(headers_));
  }
  template <class NV>
  Record<K, NV> with_value(NV value) const& {
    return Record<K, NV>(key_, std::move(value), timestamp_, headers_);
  }
  template <class NV>
  Record<K, NV> with_value(NV value) && {
    return Record<K, NV>(std::move(key_), std::move(value), timestamp_, std::move(headers_));
  }
  Record with_timestamp(std::int64_t timestamp) const& {
    return Record(key_, value_, timestamp, headers_);
  }
  Record with_timestamp(std::int64_t timestamp) && {
    return Record(std::move(key_), std::move(value_), timestamp, std::move(headers_));
  }
  Record with_headers(Headers headers) const& {
    return Record(key_, value_, timestamp_, std::move(headers));
  }
  Record with_headers(Headers headers) && {
    return Record(std::move(key_), std::move(value_), timestamp_, std::move(headers));
  }

  friend bool operator==(const Record&, const Record&) = default;

 private:
  K key_;
  V value_;
  std::int64_t timestamp_;
  Headers headers_;
};

}  // namespace rivulet
