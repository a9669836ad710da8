// DefaultSerde: which serde each type gets, that explicit specializations win, and that a
// user-defined serde works through AnySerde and DefaultSerde.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <rivulet/serdes.h>

#include "serde_test_util.h"

namespace rivulet::default_test {

// JSON-convertible: gets JsonSerde by default.
struct Order {
  std::string id;
  std::int64_t cents = 0;

  friend bool operator==(const Order&, const Order&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Order, id, cents)

// Not JSON-convertible and no specialization: has no default serde.
struct Opaque {
  int value = 0;
};

enum class Color { kRed, kGreen };

// A user-defined type with a user-defined binary serde (the example in serdes.h).
struct Celsius {
  double degrees = 0;

  friend bool operator==(const Celsius&, const Celsius&) = default;
};

struct CelsiusSerde {
  void serialize(std::string_view topic, const Celsius& value, Bytes& out) const {
    DoubleSerde{}.serialize(topic, value.degrees, out);
  }
  Celsius deserialize(std::string_view topic, ByteView data) const {
    return Celsius{DoubleSerde{}.deserialize(topic, data)};
  }
};

// JSON-convertible, yet given an explicit binary default that must win over JSON.
struct Reading {
  std::int32_t value = 0;

  friend bool operator==(const Reading&, const Reading&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Reading, value)

struct ReadingSerde {
  void serialize(std::string_view topic, const Reading& reading, Bytes& out) const {
    Int32Serde{}.serialize(topic, reading.value, out);
  }
  Reading deserialize(std::string_view topic, ByteView data) const {
    return Reading{Int32Serde{}.deserialize(topic, data)};
  }
};

}  // namespace rivulet::default_test

template <>
struct rivulet::DefaultSerde<rivulet::default_test::Celsius> {
  using type = rivulet::default_test::CelsiusSerde;
};
template <>
struct rivulet::DefaultSerde<rivulet::default_test::Reading> {
  using type = rivulet::default_test::ReadingSerde;
};

namespace rivulet::default_test {
namespace {

using ::rivulet::testing::hex;

template <class T>
using DefaultOf = typename DefaultSerde<T>::type;

// Built-in mappings.
static_assert(std::is_same_v<DefaultOf<std::string>, StringSerde>);
static_assert(std::is_same_v<DefaultOf<Bytes>, BytesSerde>);
static_assert(std::is_same_v<DefaultOf<std::int16_t>, Int16Serde>);
static_assert(std::is_same_v<DefaultOf<std::int32_t>, Int32Serde>);
static_assert(std::is_same_v<DefaultOf<std::int64_t>, Int64Serde>);
static_assert(std::is_same_v<DefaultOf<float>, FloatSerde>);
static_assert(std::is_same_v<DefaultOf<double>, DoubleSerde>);
static_assert(std::is_same_v<DefaultOf<nlohmann::json>, JsonSerde<nlohmann::json>>);

// std::optional of anything with a default.
static_assert(std::is_same_v<DefaultOf<std::optional<std::string>>, OptionalSerde<StringSerde>>);
static_assert(std::is_same_v<DefaultOf<std::optional<Bytes>>, OptionalSerde<BytesSerde>>);
static_assert(std::is_same_v<DefaultOf<std::optional<std::int32_t>>, OptionalSerde<Int32Serde>>);
static_assert(std::is_same_v<DefaultOf<std::optional<std::int64_t>>, OptionalSerde<Int64Serde>>);
static_assert(std::is_same_v<DefaultOf<std::optional<double>>, OptionalSerde<DoubleSerde>>);
static_assert(std::is_same_v<DefaultOf<std::optional<Order>>, OptionalSerde<JsonSerde<Order>>>);
static_assert(std::is_same_v<DefaultOf<std::optional<nlohmann::json>>,
                             OptionalSerde<JsonSerde<nlohmann::json>>>);
static_assert(std::is_same_v<DefaultOf<std::optional<Celsius>>, OptionalSerde<CelsiusSerde>>);
static_assert(std::is_same_v<DefaultOf<std::optional<std::optional<std::int32_t>>>,
                             OptionalSerde<OptionalSerde<Int32Serde>>>);

// Every other JSON-convertible class type gets JSON.
static_assert(std::is_same_v<DefaultOf<Order>, JsonSerde<Order>>);
static_assert(std::is_same_v<DefaultOf<std::vector<Order>>, JsonSerde<std::vector<Order>>>);
static_assert(std::is_same_v<DefaultOf<std::map<std::string, std::int64_t>>,
                             JsonSerde<std::map<std::string, std::int64_t>>>);

// Explicit specializations win, including over JSON for a JSON-convertible type.
static_assert(std::is_same_v<DefaultOf<Celsius>, CelsiusSerde>);
static_assert(JsonConvertible<Reading>);
static_assert(std::is_same_v<DefaultOf<Reading>, ReadingSerde>);

// No default: not convertible, optional of such, and non-class or other arithmetic types.
static_assert(!HasDefaultSerde<Opaque>);
static_assert(!HasDefaultSerde<std::optional<Opaque>>);
static_assert(!HasDefaultSerde<std::vector<Opaque>>);
static_assert(!HasDefaultSerde<Color>);
static_assert(!HasDefaultSerde<bool>);
static_assert(!HasDefaultSerde<char>);
static_assert(!HasDefaultSerde<std::uint32_t>);
static_assert(!HasDefaultSerde<std::uint64_t>);
static_assert(!HasDefaultSerde<long double>);

// The user-defined serde satisfies the concept.
static_assert(Serde<CelsiusSerde, Celsius>);
static_assert(!Serde<CelsiusSerde, double>);

template <class T>
T round_trip_default(const T& value) {
  const AnySerde<T> serde = default_serde<T>();
  Bytes out;
  serde.serialize("t", value, out);
  return serde.deserialize("t", out);
}

TEST(DefaultSerdeTest, EveryBuiltInDefaultRoundTrips) {
  EXPECT_EQ(round_trip_default(std::string("h\xC3\xA9llo")), "h\xC3\xA9llo");
  EXPECT_EQ(round_trip_default(Bytes{0, 1, 255}), (Bytes{0, 1, 255}));
  EXPECT_EQ(round_trip_default(std::int16_t{-300}), -300);
  EXPECT_EQ(round_trip_default(std::int32_t{42}), 42);
  EXPECT_EQ(round_trip_default(std::int64_t{-1}), -1);
  EXPECT_EQ(round_trip_default(1.5F), 1.5F);
  EXPECT_EQ(round_trip_default(-2.5), -2.5);
  EXPECT_EQ(round_trip_default(nlohmann::json{{"k", 1}}), (nlohmann::json{{"k", 1}}));
  EXPECT_EQ(round_trip_default(Order{"o-1", 1999}), (Order{"o-1", 1999}));
  EXPECT_EQ(round_trip_default(std::vector<Order>{{"a", 1}}), (std::vector<Order>{{"a", 1}}));
}

TEST(DefaultSerdeTest, DefaultInt32WritesJavaBytes) {
  Bytes out;
  default_serde<std::int32_t>().serialize("t", 42, out);
  EXPECT_EQ(hex(out), "00 00 00 2A");
}

TEST(DefaultSerdeTest, DefaultForStructWritesJson) {
  Bytes out;
  default_serde<Order>().serialize("t", Order{"o-1", 5}, out);
  EXPECT_EQ(to_string(out), R"({"cents":5,"id":"o-1"})");
}

TEST(DefaultSerdeTest, UserDefinedSerdeWorksThroughAnySerde) {
  const AnySerde<Celsius> serde = CelsiusSerde{};
  Bytes out;
  serde.serialize("temps", Celsius{-2.5}, out);
  EXPECT_EQ(hex(out), "C0 04 00 00 00 00 00 00");
  EXPECT_EQ(serde.deserialize("temps", out), Celsius{-2.5});
  EXPECT_FALSE(serde.is_null(Celsius{}));
  EXPECT_EQ(serde.deserialize_nullable("temps", std::nullopt), Celsius{});
}

TEST(DefaultSerdeTest, UserSpecializationIsTheDefault) {
  const AnySerde<Celsius> serde = default_serde<Celsius>();
  Bytes out;
  serde.serialize("temps", Celsius{1.0}, out);
  EXPECT_EQ(hex(out), "3F F0 00 00 00 00 00 00");
  EXPECT_EQ(serde.deserialize("temps", out), Celsius{1.0});
}

TEST(DefaultSerdeTest, ExplicitSpecializationBeatsJsonAtRuntime) {
  Bytes out;
  default_serde<Reading>().serialize("t", Reading{42}, out);
  EXPECT_EQ(hex(out), "00 00 00 2A");
}

TEST(DefaultSerdeTest, OptionalOfUserTypeUsesUserSerdeAndNull) {
  const AnySerde<std::optional<Celsius>> serde = default_serde<std::optional<Celsius>>();
  Bytes out;
  EXPECT_FALSE(serde.serialize_nullable("t", std::nullopt, out));
  ASSERT_TRUE(serde.serialize_nullable("t", Celsius{1.0}, out));
  EXPECT_EQ(hex(out), "3F F0 00 00 00 00 00 00");
  EXPECT_EQ(serde.deserialize_nullable("t", std::nullopt), std::nullopt);
}

}  // namespace
}  // namespace rivulet::default_test
