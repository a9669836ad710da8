// Serdes of windowed keys (`Windowed<K>`), byte-compatible with Kafka's windowed serdes, for the
// output topics of windowed aggregations:
//
//   time windows (TimeWindowedSerializer):       [key bytes][window start, 8 bytes big-endian]
//   session windows (SessionWindowedSerializer): [key bytes][end, 8 bytes BE][start, 8 bytes BE]
//
// A time-windowed key does not carry its window's end: the deserializer computes it from the
// window size it was given (default: unbounded, so the end saturates at the largest timestamp,
// as in Kafka). `KTable<Windowed<K>, V>::to_stream()` sets the right serde with the right size on
// the stream it returns, so `.to(topic)` needs none; readers of such a topic (a test's output
// topic) pass one:
//
//   auto out = driver.create_output_topic<rivulet::Windowed<std::string>, std::int64_t>(
//       "counts", rivulet::serdes::time_windowed<std::string>(5min));
//
// Stateless; thread-safe when the key serde is.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <rivulet/errors.h>
#include <rivulet/record.h>
#include <rivulet/serde.h>
#include <rivulet/serdes.h>
#include <rivulet/state/state_store.h>
#include <rivulet/state/window_store.h>

namespace rivulet {

namespace detail {
inline void append_int64(Bytes& out, std::int64_t value) {
  auto bits = static_cast<std::uint64_t>(value);
  std::uint8_t bytes[8];
  for (std::size_t i = 8; i-- > 0;) {
    bytes[i] = static_cast<std::uint8_t>(bits & 0xFFU);
    bits >>= 8U;
  }
  out.insert(out.end(), bytes, bytes + 8);
}
inline std::int64_t read_int64(ByteView data) {
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < 8; ++i) bits = (bits << 8U) | data[i];
  return static_cast<std::int64_t>(bits);
}
[[noreturn]] inline void throw_windowed_size_error(std::string_view serde, std::string_view topic,
                                                   std::size_t needed, std::size_t got) {
  throw SerializationException(std::string(serde) + " on " + std::string(topic) +
                               " needs at least " + std::to_string(needed) + " bytes, got " +
                               std::to_string(got));
}
}  // namespace detail

template <class K>
class TimeWindowedSerde {
 public:
  using value_type = Windowed<K>;

  // REQUIRES (default constructor): K has a default serde.
  TimeWindowedSerde() : inner_(default_serde<K>()) {}
  // (Templates taking exactly AnySerde<K>, so that copying never considers converting a windowed
  // serde to AnySerde<K>, which would recurse through the Serde concept.)
  template <class S>
  requires std::same_as<S, AnySerde<K>>
  explicit TimeWindowedSerde(S inner, std::int64_t window_size_ms = kMaxTimestamp)
      : inner_(std::move(inner)), window_size_(window_size_ms) {}

  void serialize(std::string_view topic, const Windowed<K>& key, Bytes& out) const {
    inner_.serialize(topic, key.key, out);
    detail::append_int64(out, key.window.start);
  }
  Windowed<K> deserialize(std::string_view topic, ByteView data) const {
    if (data.size() < 8)
      detail::throw_windowed_size_error("TimeWindowedSerde", topic, 8, data.size());
    const std::int64_t start = detail::read_int64(data.subspan(data.size() - 8));
    return Windowed<K>{inner_.deserialize(topic, data.first(data.size() - 8)),
                       Window{start, window_end(start, window_size_)}};
  }

  std::int64_t window_size_ms() const { return window_size_; }

 private:
  AnySerde<K> inner_;
  std::int64_t window_size_ = kMaxTimestamp;
};

template <class K>
class SessionWindowedSerde {
 public:
  using value_type = Windowed<K>;

  // REQUIRES (default constructor): K has a default serde.
  SessionWindowedSerde() : inner_(default_serde<K>()) {}
  template <class S>
  requires std::same_as<S, AnySerde<K>>
  explicit SessionWindowedSerde(S inner) : inner_(std::move(inner)) {}

  void serialize(std::string_view topic, const Windowed<K>& key, Bytes& out) const {
    inner_.serialize(topic, key.key, out);
    detail::append_int64(out, key.window.end);
    detail::append_int64(out, key.window.start);
  }
  Windowed<K> deserialize(std::string_view topic, ByteView data) const {
    if (data.size() < 16) {
      detail::throw_windowed_size_error("SessionWindowedSerde", topic, 16, data.size());
    }
    const std::int64_t end = detail::read_int64(data.subspan(data.size() - 16, 8));
    const std::int64_t start = detail::read_int64(data.subspan(data.size() - 8));
    return Windowed<K>{inner_.deserialize(topic, data.first(data.size() - 16)), Window{start, end}};
  }

 private:
  AnySerde<K> inner_;
};

namespace serdes {

// Time-windowed keys over `inner` (default: K's default serde), for windows of `window_size`.
template <class K>
TimeWindowedSerde<K> time_windowed(std::chrono::milliseconds window_size,
                                   AnySerde<K> inner = default_serde<K>()) {
  return TimeWindowedSerde<K>(std::move(inner), window_size.count());
}
template <class K>
SessionWindowedSerde<K> session_windowed(AnySerde<K> inner = default_serde<K>()) {
  return SessionWindowedSerde<K>(std::move(inner));
}

}  // namespace serdes

}  // namespace rivulet
