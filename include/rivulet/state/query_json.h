// How interactive queries over HTTP read keys from text and show keys and values as JSON.
//
// The HTTP query endpoints (see kafka_streams.h, "Interactive queries") take a key as text from
// the URL, turn it into the store's key type with `QueryText<K>::parse`, serialize it with the
// store's own key serde, and render what they find with `QueryJson<T>::to_json`:
//
//   type                              key from text                 value as JSON
//   std::string                       the text itself              a JSON string
//   integers, float, double, bool     decimal text / true, false   a JSON number / bool
//   nlohmann-convertible types        the text parsed as JSON      nlohmann::json(value)
//   ValueAndTimestamp<V>, optional<V>  -                            {"value":..,"timestamp":..},
//   null anything else                     not queryable by key (400)   {"base64": "<serialized
//   bytes>"}
//
// Specialize `QueryJson<T>` or `QueryText<T>` for a type of your own to change either. Both are
// called on stream threads, and must be thread-safe (stateless) like serdes.
#pragma once

#include <charconv>
#include <concepts>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include <nlohmann/json.hpp>

#include <rivulet/record.h>
#include <rivulet/serdes.h>
#include <rivulet/state/value_and_timestamp.h>

namespace rivulet {

namespace detail {
// Standard base64 (RFC 4648, with padding).
std::string base64_encode(ByteView data);

template <class T>
concept JsonWritable = requires(nlohmann::json& json, const T& value) {
  nlohmann::adl_serializer<T>::to_json(json, value);
};
}  // namespace detail

// Renders a `T` as JSON for a query answer. The primary template handles every type nlohmann
// can write; other types return nullopt and the caller shows the serialized bytes in base64.
template <class T>
struct QueryJson {
  static std::optional<nlohmann::json> to_json(const T& value) {
    if constexpr (detail::JsonWritable<T>) {
      return nlohmann::json(value);
    } else {
      return std::nullopt;
    }
  }
};

template <class V>
struct QueryJson<ValueAndTimestamp<V>> {
  static std::optional<nlohmann::json> to_json(const ValueAndTimestamp<V>& value) {
    std::optional<nlohmann::json> inner = QueryJson<V>::to_json(value.value);
    if (!inner) return std::nullopt;
    return nlohmann::json{{"value", std::move(*inner)}, {"timestamp", value.timestamp}};
  }
};

template <class V>
struct QueryJson<std::optional<V>> {
  static std::optional<nlohmann::json> to_json(const std::optional<V>& value) {
    if (!value) return nlohmann::json(nullptr);
    return QueryJson<V>::to_json(*value);
  }
};

// Reads a `T` from the text of a URL segment or parameter. Throws std::invalid_argument with a
// message saying what was expected when the text is not a `T`; `supported` is false for types
// that cannot be read from text at all.
template <class T>
struct QueryText {
  static constexpr bool supported = std::same_as<T, std::string> || std::same_as<T, bool> ||
                                    std::is_arithmetic_v<T> || JsonConvertible<T>;

  static T parse(std::string_view text) {
    if constexpr (std::same_as<T, std::string>) {
      return std::string(text);
    } else if constexpr (std::same_as<T, bool>) {
      if (text == "true") return true;
      if (text == "false") return false;
      throw std::invalid_argument("expected true or false, got '" + std::string(text) + "'");
    } else if constexpr (std::is_arithmetic_v<T>) {
      T value{};
      const char* end = text.data() + text.size();
      auto [ptr, error] = std::from_chars(text.data(), end, value);
      if (error != std::errc() || ptr != end || text.empty()) {
        throw std::invalid_argument(std::string("expected ") +
                                    (std::is_integral_v<T> ? "an integer" : "a number") +
                                    " in range, got '" + std::string(text) + "'");
      }
      return value;
    } else if constexpr (JsonConvertible<T>) {
      nlohmann::json json;
      try {
        json = nlohmann::json::parse(text);
      } catch (const nlohmann::json::exception& e) {
        throw std::invalid_argument(std::string("expected a JSON key: ") + e.what());
      }
      try {
        if constexpr (std::same_as<T, nlohmann::json>) {
          return json;
        } else {
          return json.template get<T>();
        }
      } catch (const std::exception& e) {
        throw std::invalid_argument(std::string("the JSON is not a key of this store: ") +
                                    e.what());
      }
    } else {
      throw std::invalid_argument(
          "keys of this store cannot be given as text: specialize rivulet::QueryText for its key "
          "type");
    }
  }
};

// Renders a value of `T` as JSON, or its serialized bytes in base64 when `T` has no JSON form.
template <class T>
nlohmann::json query_json(const T& value, ByteView serialized) {
  std::optional<nlohmann::json> json = QueryJson<T>::to_json(value);
  if (json) return std::move(*json);
  return nlohmann::json{{"base64", detail::base64_encode(serialized)}};
}

}  // namespace rivulet
