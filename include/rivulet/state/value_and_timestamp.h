// ValueAndTimestamp<V>: a value with the timestamp of the record that last changed it, as the
// DSL's key-value and window stores keep table values (Kafka Streams' TimestampedKeyValueStore and
// TimestampedWindowStore). A table's records carry that timestamp downstream, and the aggregate
// of several records carries the largest of their timestamps.
//
// On the wire and in changelogs (Kafka Streams' layout, so tools that read Kafka Streams'
// changelogs read these): the timestamp as 8 bytes big-endian, then the value's bytes.
#pragma once

#include <concepts>
#include <cstdint>
#include <string_view>
#include <utility>

#include <rivulet/errors.h>
#include <rivulet/record.h>
#include <rivulet/serde.h>
#include <rivulet/serdes.h>

namespace rivulet {

template <class V>
struct ValueAndTimestamp {
  V value;
  std::int64_t timestamp = 0;

  friend bool operator==(const ValueAndTimestamp&, const ValueAndTimestamp&) = default;
};

// Serde of ValueAndTimestamp<V> over a serde of V. A value that the inner serde reports as null
// makes the whole entry null (a store deletes the key). Thread-safe when the inner serde is.
template <class V>
class ValueAndTimestampSerde {
 public:
  using value_type = ValueAndTimestamp<V>;

  // REQUIRES: V has a default serde.
  ValueAndTimestampSerde() : inner_(default_serde<V>()) {}
  // A template taking exactly AnySerde<V>, so that copying never considers converting a
  // ValueAndTimestampSerde to AnySerde<V> (which would recurse through the Serde concept).
  template <class S>
  requires std::same_as<S, AnySerde<V>>
  explicit ValueAndTimestampSerde(S inner) : inner_(std::move(inner)) {}

  void serialize(std::string_view topic, const ValueAndTimestamp<V>& value, Bytes& out) const {
    inner_.serialize(topic, value.value, out);
    out.insert(out.begin(), 8, 0);
    auto bits = static_cast<std::uint64_t>(value.timestamp);
    for (std::size_t i = 8; i-- > 0;) {
      out[i] = static_cast<std::uint8_t>(bits & 0xFFU);
      bits >>= 8U;
    }
  }
  ValueAndTimestamp<V> deserialize(std::string_view topic, ByteView data) const {
    if (data.size() < 8) {
      throw SerializationException("ValueAndTimestamp on " + std::string(topic) +
                                   " needs at least 8 bytes, got " + std::to_string(data.size()));
    }
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < 8; ++i) bits = (bits << 8U) | data[i];
    return ValueAndTimestamp<V>{inner_.deserialize(topic, data.subspan(8)),
                                static_cast<std::int64_t>(bits)};
  }
  bool is_null(const ValueAndTimestamp<V>& value) const { return inner_.is_null(value.value); }

  const AnySerde<V>& inner() const { return inner_; }

 private:
  AnySerde<V> inner_;
};

template <class V>
requires HasDefaultSerde<V>
struct DefaultSerde<ValueAndTimestamp<V>> {
  using type = ValueAndTimestampSerde<V>;
};

}  // namespace rivulet
