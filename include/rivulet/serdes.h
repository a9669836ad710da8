// Built-in serdes, and the `DefaultSerde<T>` choices that make most types work without naming one.
//
// This header provides:
//
//   StringSerde          std::string            UTF-8 bytes as-is (Java StringSerializer)
//   BytesSerde           Bytes                  bytes as-is (Java ByteArraySerializer)
//   Int16Serde           std::int16_t           2 bytes, big-endian (Java ShortSerializer)
//   Int32Serde           std::int32_t           4 bytes, big-endian (Java IntegerSerializer)
//   Int64Serde           std::int64_t           8 bytes, big-endian (Java LongSerializer)
//   FloatSerde           float                  IEEE-754 bits, 4 bytes big-endian (FloatSerializer)
//   DoubleSerde          double                 IEEE-754 bits, 8 bytes (DoubleSerializer)
//   OptionalSerde<S>     std::optional<T>       nullopt <-> Kafka null; a value goes through S
//   JsonSerde<T>         T (nlohmann-convertible), nlohmann::json: compact UTF-8 JSON
//
// The fixed-width encodings are byte-for-byte those of Apache Kafka's Java serializers, so Rivulet
// and Java applications can share topics. Each has a factory in namespace `rivulet::serdes`, named
// after the C++ type (the project's functions are snake_case, and `double` is a keyword):
//
//   Java Serdes.String()     serdes::string()      Java Serdes.ByteArray()  serdes::bytes()
//   Java Serdes.Short()      serdes::int16()       Java Serdes.Integer()    serdes::int32()
//   Java Serdes.Long()       serdes::int64()       Java Serdes.Float()      serdes::float32()
//   Java Serdes.Double()     serdes::float64()     (JSON)                   serdes::json<T>()
//   (nullable wrapper)       serdes::optional(inner_serde)
//
// `DefaultSerde<T>` picks: the serde above for std::string, Bytes, int16/32/64, float and double;
// `OptionalSerde` for `std::optional<U>` when U has a default serde; `JsonSerde<T>` for
// `nlohmann::json` and for every other class type that nlohmann::json converts both ways (a struct
// with `NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE`, or with ADL `to_json`/`from_json` next to it, or a
// `std::vector`/`std::map` of such). Other arithmetic types, enums and `char` have no default:
// pass a serde, or specialize `DefaultSerde`.
//
// Kafka null: only `std::optional<T>` keeps null distinct. With the plain serdes, serializing never
// produces null, and a null deserializes to `T{}` ("" for strings, 0 for numbers, empty Bytes) as
// serde.h describes. A null where a JSON object is expected is bad data: `JsonSerde` throws.
//
// Writing your own serde: any copyable type with these two const members is a serde (see serde.h
// for the optional `is_null`/`null_value`):
//
//   struct Celsius { double degrees; };
//
//   struct CelsiusSerde {
//     void serialize(std::string_view topic, const Celsius& value, rivulet::Bytes& out) const {
//       rivulet::DoubleSerde{}.serialize(topic, value.degrees, out);
//     }
//     Celsius deserialize(std::string_view topic, rivulet::ByteView data) const {
//       return Celsius{rivulet::DoubleSerde{}.deserialize(topic, data)};  // throws on bad size
//     }
//   };
//
//   // Optional: make it the default for the type (before the type's first use with Rivulet).
//   template <> struct rivulet::DefaultSerde<Celsius> { using type = CelsiusSerde; };
//
// An explicit `DefaultSerde<T>` specialization always wins over the generic JSON choice, so a type
// that has nlohmann conversions can still be given a binary format.
//
// Errors: `deserialize` throws `SerializationException` for bytes that do not decode (wrong size,
// malformed JSON, JSON of the wrong shape); the message names the topic, the serde and the cause.
//
// Thread-safety: every serde here is immutable after construction and safe for concurrent const
// use from any number of threads (as serde.h requires); none keeps a buffer or cache.
#pragma once

#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

#include <rivulet/errors.h>
#include <rivulet/record.h>
#include <rivulet/serde.h>

namespace rivulet {

namespace detail {

// "topic 'orders'", or "no topic" for a serde used outside a topic (as in a test).
inline std::string serde_topic_label(std::string_view topic) {
  if (topic.empty()) return "no topic";
  std::string text = "topic '";
  text.append(topic);
  text += '\'';
  return text;
}

[[noreturn, gnu::cold, gnu::noinline]] inline void throw_serde_size_error(
    std::string_view serde_name, std::string_view topic, std::size_t expected, std::size_t actual) {
  throw SerializationException("Size of data received by " + std::string(serde_name) + " on " +
                               serde_topic_label(topic) + " is not " + std::to_string(expected) +
                               " (got " + std::to_string(actual) + " bytes)");
}

template <class T>
concept FixedWidthSerdeValue = std::same_as<T, std::int16_t> || std::same_as<T, std::int32_t> ||
    std::same_as<T, std::int64_t> || std::same_as<T, float> || std::same_as<T, double>;

// The unsigned integer holding the bits of `T`.
template <class T>
using FixedWidthBits =
    std::conditional_t<sizeof(T) == 2, std::uint16_t,
                       std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>;

// The type a serde produces: the result of its `deserialize`.
template <class S>
using SerdeValueType = std::remove_cvref_t<decltype(std::declval<const S&>().deserialize(
    std::declval<std::string_view>(), std::declval<ByteView>()))>;

}  // namespace detail

// Fixed-width big-endian encoding of a number, byte-compatible with Kafka's Java serializers:
// integers as two's complement (ShortSerializer, IntegerSerializer, LongSerializer), float and
// double as their IEEE-754 bits (FloatSerializer, DoubleSerializer). Like Java's
// `floatToIntBits`/`doubleToLongBits`, every NaN serializes as the canonical quiet NaN
// (7FC00000 / 7FF8000000000000); other values, -0.0 and infinities included, keep their exact bits.
// `deserialize` requires exactly sizeof(T) bytes and throws SerializationException otherwise.
// Use the aliases below (`Int32Serde`, ...). Stateless; thread-safe.
template <detail::FixedWidthSerdeValue T>
class FixedWidthSerde {
 public:
  using value_type = T;

  // The serde's name in error messages, e.g. "Int64Serde".
  static constexpr std::string_view name() {
    if constexpr (std::same_as<T, std::int16_t>) {
      return "Int16Serde";
    } else if constexpr (std::same_as<T, std::int32_t>) {
      return "Int32Serde";
    } else if constexpr (std::same_as<T, std::int64_t>) {
      return "Int64Serde";
    } else if constexpr (std::same_as<T, float>) {
      return "FloatSerde";
    } else {
      return "DoubleSerde";
    }
  }

  void serialize(std::string_view /*topic*/, const T& value, Bytes& out) const {
    Bits bits = to_bits(value);
    out.resize(sizeof(T));
    for (std::size_t i = sizeof(T); i-- > 0;) {
      out[i] = static_cast<std::uint8_t>(bits & 0xFFU);
      bits = static_cast<Bits>(bits >> 8U);
    }
  }

  T deserialize(std::string_view topic, ByteView data) const {
    if (data.size() != sizeof(T)) {
      detail::throw_serde_size_error(name(), topic, sizeof(T), data.size());
    }
    Bits bits = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      bits = static_cast<Bits>((bits << 8U) | data[i]);
    }
    return std::bit_cast<T>(bits);
  }

 private:
  using Bits = detail::FixedWidthBits<T>;
  static_assert(sizeof(Bits) == sizeof(T));

  static Bits to_bits(T value) {
    if constexpr (std::is_floating_point_v<T>) {
      static_assert(std::numeric_limits<T>::is_iec559);
      if (std::isnan(value)) return std::bit_cast<Bits>(std::numeric_limits<T>::quiet_NaN());
    }
    return std::bit_cast<Bits>(value);
  }
};

using Int16Serde = FixedWidthSerde<std::int16_t>;
using Int32Serde = FixedWidthSerde<std::int32_t>;
using Int64Serde = FixedWidthSerde<std::int64_t>;
using FloatSerde = FixedWidthSerde<float>;
using DoubleSerde = FixedWidthSerde<double>;

// A std::string as its bytes, unchanged (Java's StringSerializer with UTF-8). No validation or
// re-encoding happens in either direction: invalid UTF-8 passes through as-is. A Kafka null
// deserializes to "" (use `std::optional<std::string>` to tell null from empty). Stateless;
// thread-safe.
class StringSerde {
 public:
  using value_type = std::string;

  void serialize(std::string_view /*topic*/, const std::string& value, Bytes& out) const {
    const auto* first = reinterpret_cast<const std::uint8_t*>(value.data());
    out.assign(first, first + value.size());
  }
  std::string deserialize(std::string_view /*topic*/, ByteView data) const {
    return std::string(reinterpret_cast<const char*>(data.data()), data.size());
  }
};

// Bytes as-is (Java's ByteArraySerializer). A Kafka null deserializes to empty Bytes (use
// `std::optional<Bytes>` to tell them apart). Stateless; thread-safe.
class BytesSerde {
 public:
  using value_type = Bytes;

  void serialize(std::string_view /*topic*/, const Bytes& value, Bytes& out) const {
    out.assign(value.begin(), value.end());
  }
  Bytes deserialize(std::string_view /*topic*/, ByteView data) const {
    return Bytes(data.begin(), data.end());
  }
};

// `std::optional<T>` over a serde `S` of `T`: `std::nullopt` is Kafka's null (a tombstone, a record
// without a key) in both directions, and a value goes through `S`. A value that `S` itself reports
// as null (`S::is_null`) also serializes as null, and reads back as `std::nullopt`. `serialize`
// must not be given `std::nullopt` directly (the runtime asks `is_null` first); it throws
// SerializationException if it is. `T` is deduced from `S::deserialize`. Thread-safe when `S` is.
template <class S, class T = detail::SerdeValueType<S>>
requires Serde<S, T>
class OptionalSerde {
 public:
  using value_type = std::optional<T>;

  OptionalSerde() = default;
  explicit OptionalSerde(S inner) : inner_(std::move(inner)) {}

  void serialize(std::string_view topic, const std::optional<T>& value, Bytes& out) const {
    if (!value) {
      throw SerializationException("std::nullopt on " + detail::serde_topic_label(topic) +
                                   " has no bytes: it is Kafka null (check is_null first, or use "
                                   "AnySerde::serialize_nullable)");
    }
    inner_.serialize(topic, *value, out);
  }
  std::optional<T> deserialize(std::string_view topic, ByteView data) const {
    return std::optional<T>(inner_.deserialize(topic, data));
  }
  bool is_null(const std::optional<T>& value) const {
    if (!value) return true;
    if constexpr (detail::SerdeWithIsNull<S, T>) {
      return static_cast<bool>(inner_.is_null(*value));
    } else {
      return false;
    }
  }
  std::optional<T> null_value(std::string_view /*topic*/) const { return std::nullopt; }

  // The serde used for present values.
  const S& inner() const { return inner_; }

 private:
  S inner_{};
};

// Types that nlohmann::json converts in both directions: through ADL `to_json`/`from_json` (what
// NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE defines), an `nlohmann::adl_serializer` specialization, or
// nlohmann's built-in support (strings, numbers, containers of convertible types).
template <class T>
concept JsonConvertible = std::same_as<T, nlohmann::json> ||
    requires(nlohmann::json& json, const T& value, const nlohmann::json& const_json) {
  nlohmann::adl_serializer<T>::to_json(json, value);
  { const_json.template get<T>() } -> std::same_as<T>;
};

// `T` as compact UTF-8 JSON text (no whitespace; non-ASCII characters are written as UTF-8, not
// escaped), through nlohmann::json. `T` is any JsonConvertible type, or `nlohmann::json` itself for
// raw documents. `deserialize` requires one complete JSON document (trailing bytes are an error)
// that converts to `T`; malformed JSON, wrong field types and missing fields throw
// SerializationException with nlohmann's explanation. `serialize` throws SerializationException
// for a value nlohmann cannot write (a std::string member holding invalid UTF-8). An exception
// other than nlohmann's thrown by a user's `to_json`/`from_json` is wrapped the same way (except
// SerializationException, which passes through, and std::bad_alloc).
//
// Kafka null is never produced (`is_null` is always false), and reading one throws
// SerializationException, since a null where an object is expected is bad data. To accept nulls
// use `std::optional<T>` (OptionalSerde<JsonSerde<T>>), which maps them to std::nullopt.
//
// Cost: one nlohmann::json DOM per call. See benchmarks/json_serde_bench.cpp for the measured cost
// against RapidJSON and simdjson. Stateless; thread-safe.
template <JsonConvertible T>
class JsonSerde {
 public:
  using value_type = T;

  void serialize(std::string_view topic, const T& value, Bytes& out) const {
    std::string text;
    try {
      if constexpr (std::same_as<T, nlohmann::json>) {
        text = value.dump();
      } else {
        text = nlohmann::json(value).dump();
      }
    } catch (const nlohmann::json::exception& e) {
      throw_error("cannot be written as JSON", topic, e.what());
    } catch (const SerializationException&) {
      throw;
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::exception& e) {
      throw_error("cannot be written as JSON: to_json threw", topic, e.what());
    }
    const auto* first = reinterpret_cast<const std::uint8_t*>(text.data());
    out.assign(first, first + text.size());
  }

  T deserialize(std::string_view topic, ByteView data) const {
    nlohmann::json json;
    try {
      json = nlohmann::json::parse(data.data(), data.data() + data.size());
    } catch (const nlohmann::json::exception& e) {
      throw_error("is not valid JSON", topic, e.what());
    }
    if constexpr (std::same_as<T, nlohmann::json>) {
      return json;
    } else {
      try {
        return json.template get<T>();
      } catch (const nlohmann::json::exception& e) {
        throw_error("does not match the expected type", topic, e.what());
      } catch (const SerializationException&) {
        throw;
      } catch (const std::bad_alloc&) {
        throw;
      } catch (const std::exception& e) {
        throw_error("does not match the expected type: from_json threw", topic, e.what());
      }
    }
  }

  // Always throws: Kafka null is not a JSON document.
  [[noreturn]] T null_value(std::string_view topic) const {
    throw SerializationException("null value on " + detail::serde_topic_label(topic) +
                                 " cannot be deserialized as JSON object by JsonSerde; use "
                                 "std::optional<T> (OptionalSerde) to accept nulls");
  }

 private:
  [[noreturn, gnu::cold]] static void throw_error(std::string_view problem, std::string_view topic,
                                                  const char* cause) {
    throw SerializationException("JSON data on " + detail::serde_topic_label(topic) + " " +
                                 std::string(problem) + ": " + cause);
  }
};

namespace detail {

// The class types that get JsonSerde from DefaultSerde: JSON-convertible, and not a type with an
// explicit default (std::string and Bytes are JSON-convertible too) nor std::optional.
template <class T>
inline constexpr bool kIsStdOptional = false;
template <class U>
inline constexpr bool kIsStdOptional<std::optional<U>> = true;

template <class T>
concept DefaultsToJsonSerde =
    std::is_class_v<T> && !std::same_as<T, std::string> && !std::same_as<T, Bytes> &&
    !std::same_as<T, nlohmann::json> && !kIsStdOptional<T> && JsonConvertible<T>;

}  // namespace detail

template <>
struct DefaultSerde<std::string> {
  using type = StringSerde;
};
template <>
struct DefaultSerde<Bytes> {
  using type = BytesSerde;
};
template <>
struct DefaultSerde<std::int16_t> {
  using type = Int16Serde;
};
template <>
struct DefaultSerde<std::int32_t> {
  using type = Int32Serde;
};
template <>
struct DefaultSerde<std::int64_t> {
  using type = Int64Serde;
};
template <>
struct DefaultSerde<float> {
  using type = FloatSerde;
};
template <>
struct DefaultSerde<double> {
  using type = DoubleSerde;
};
template <>
struct DefaultSerde<nlohmann::json> {
  using type = JsonSerde<nlohmann::json>;
};
template <class U>
requires HasDefaultSerde<U>
struct DefaultSerde<std::optional<U>> {
  using type = OptionalSerde<typename DefaultSerde<U>::type, U>;
};
template <class T>
requires detail::DefaultsToJsonSerde<T>
struct DefaultSerde<T> {
  using type = JsonSerde<T>;
};

// Factories for the built-in serdes, named after the C++ type (see the table at the top). They
// return the concrete serde, which converts to AnySerde<T> where one is needed.
namespace serdes {

constexpr StringSerde string() {
  return {};
}
constexpr BytesSerde bytes() {
  return {};
}
constexpr Int16Serde int16() {
  return {};
}
constexpr Int32Serde int32() {
  return {};
}
constexpr Int64Serde int64() {
  return {};
}
constexpr FloatSerde float32() {
  return {};
}
constexpr DoubleSerde float64() {
  return {};
}

template <JsonConvertible T>
constexpr JsonSerde<T> json() {
  return {};
}

// std::optional<T> over `inner`, a serde of T: std::nullopt <-> Kafka null.
template <class S>
OptionalSerde<S> optional(S inner) {
  return OptionalSerde<S>(std::move(inner));
}

}  // namespace serdes

}  // namespace rivulet
