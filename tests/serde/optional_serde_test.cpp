// OptionalSerde: std::nullopt is Kafka null; present values go through the inner serde.
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/serdes.h>

#include "serde_test_util.h"

namespace rivulet {
namespace {

using ::rivulet::testing::from_hex;
using ::rivulet::testing::hex;
using ::rivulet::testing::serialization_error;
using ::testing::HasSubstr;

TEST(OptionalSerdeTest, NulloptSerializesAsNullAndLeavesBufferAlone) {
  const AnySerde<std::optional<std::int32_t>> serde = OptionalSerde<Int32Serde>{};
  Bytes out = from_hex("AA BB");
  EXPECT_TRUE(serde.is_null(std::nullopt));
  EXPECT_FALSE(serde.serialize_nullable("t", std::nullopt, out));
  EXPECT_EQ(hex(out), "AA BB");
}

TEST(OptionalSerdeTest, PresentValueSerializesThroughInnerSerde) {
  const AnySerde<std::optional<std::int32_t>> serde = OptionalSerde<Int32Serde>{};
  Bytes out;
  EXPECT_FALSE(serde.is_null(42));
  EXPECT_TRUE(serde.serialize_nullable("t", 42, out));
  EXPECT_EQ(hex(out), "00 00 00 2A");
}

TEST(OptionalSerdeTest, NullDeserializesToNullopt) {
  const AnySerde<std::optional<std::int64_t>> serde = OptionalSerde<Int64Serde>{};
  EXPECT_EQ(serde.deserialize_nullable("t", std::nullopt), std::nullopt);
  EXPECT_EQ(serde.null_value("t"), std::nullopt);
}

TEST(OptionalSerdeTest, BytesDeserializeToPresentValue) {
  const AnySerde<std::optional<std::int64_t>> serde = OptionalSerde<Int64Serde>{};
  const Bytes data = from_hex("00 00 00 00 00 00 00 01");
  EXPECT_EQ(serde.deserialize_nullable("t", ByteView(data)), std::optional<std::int64_t>(1));
}

TEST(OptionalSerdeTest, EmptyStringStaysDistinctFromNull) {
  const AnySerde<std::optional<std::string>> serde = OptionalSerde<StringSerde>{};
  Bytes out = from_hex("01");
  ASSERT_TRUE(serde.serialize_nullable("t", std::string(), out));
  EXPECT_TRUE(out.empty());
  const Bytes empty;
  EXPECT_EQ(serde.deserialize_nullable("t", ByteView(empty)), std::optional<std::string>(""));
  EXPECT_EQ(serde.deserialize_nullable("t", std::nullopt), std::nullopt);
}

TEST(OptionalSerdeTest, SerializingNulloptDirectlyThrows) {
  Bytes out;
  EXPECT_THAT(serialization_error([&] { OptionalSerde<Int32Serde>{}.serialize("t", {}, out); }),
              HasSubstr("std::nullopt on topic 't' has no bytes"));
}

TEST(OptionalSerdeTest, InnerSizeErrorPropagates) {
  EXPECT_THAT(
      serialization_error([] { OptionalSerde<Int32Serde>{}.deserialize("ids", from_hex("01")); }),
      HasSubstr("Int32Serde on topic 'ids' is not 4 (got 1 bytes)"));
}

// An inner serde with its own null: negative numbers are null.
struct NegativeIsNullSerde {
  void serialize(std::string_view topic, const std::int32_t& value, Bytes& out) const {
    Int32Serde{}.serialize(topic, value, out);
  }
  std::int32_t deserialize(std::string_view topic, ByteView data) const {
    return Int32Serde{}.deserialize(topic, data);
  }
  bool is_null(const std::int32_t& value) const { return value < 0; }
};

TEST(OptionalSerdeTest, ValueTheInnerSerdeCallsNullIsNull) {
  const OptionalSerde<NegativeIsNullSerde> serde;
  EXPECT_TRUE(serde.is_null(-5));
  EXPECT_FALSE(serde.is_null(5));
  EXPECT_TRUE(serde.is_null(std::nullopt));
}

TEST(OptionalSerdeTest, WrapsAnySerde) {
  const AnySerde<std::string> inner = serdes::string();
  const auto serde = serdes::optional(inner);
  static_assert(std::is_same_v<decltype(serde)::value_type, std::optional<std::string>>);
  Bytes out;
  serde.serialize("t", std::optional<std::string>("x"), out);
  EXPECT_EQ(out, to_bytes("x"));
  EXPECT_EQ(serde.deserialize("t", out), std::optional<std::string>("x"));
}

TEST(OptionalSerdeTest, FactoryDeducesValueTypeFromInnerSerde) {
  const auto serde = serdes::optional(serdes::int64());
  static_assert(std::is_same_v<std::remove_const_t<decltype(serde)>, OptionalSerde<Int64Serde>>);
  static_assert(Serde<OptionalSerde<Int64Serde>, std::optional<std::int64_t>>);
  EXPECT_EQ(serde.inner().name(), "Int64Serde");
}

TEST(OptionalSerdeTest, DefaultSerdeOfOptionalDoubleMapsNullAndValues) {
  const AnySerde<std::optional<double>> serde = default_serde<std::optional<double>>();
  Bytes out;
  ASSERT_TRUE(serde.serialize_nullable("t", -2.5, out));
  EXPECT_EQ(hex(out), "C0 04 00 00 00 00 00 00");
  EXPECT_EQ(serde.deserialize_nullable("t", ByteView(out)), std::optional<double>(-2.5));
  EXPECT_EQ(serde.deserialize_nullable("t", std::nullopt), std::nullopt);
}

}  // namespace
}  // namespace rivulet
