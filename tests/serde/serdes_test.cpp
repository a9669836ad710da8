// The primitive serdes: Java-compatible byte layouts, round trips and size errors.
#include <bit>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

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

template <class S, class T>
std::string serialized_hex(const S& serde, const T& value) {
  Bytes out;
  serde.serialize("t", value, out);
  return hex(out);
}

template <class S, class T>
T round_trip(const S& serde, const T& value) {
  Bytes out;
  serde.serialize("t", value, out);
  return serde.deserialize("t", out);
}

// --- Int16Serde (Java ShortSerializer) ---

TEST(Int16SerdeTest, WritesJavaShortBytes) {
  EXPECT_EQ(serialized_hex(Int16Serde{}, std::int16_t{42}), "00 2A");
  EXPECT_EQ(serialized_hex(Int16Serde{}, std::int16_t{-2}), "FF FE");
  EXPECT_EQ(serialized_hex(Int16Serde{}, std::numeric_limits<std::int16_t>::min()), "80 00");
  EXPECT_EQ(serialized_hex(Int16Serde{}, std::numeric_limits<std::int16_t>::max()), "7F FF");
}

TEST(Int16SerdeTest, RoundTripsEdgeValues) {
  for (std::int16_t value :
       {std::int16_t{0}, std::int16_t{1}, std::int16_t{-1}, std::int16_t{255}, std::int16_t{256},
        std::numeric_limits<std::int16_t>::min(), std::numeric_limits<std::int16_t>::max()}) {
    EXPECT_EQ(round_trip(Int16Serde{}, value), value);
  }
}

// --- Int32Serde (Java IntegerSerializer) ---

TEST(Int32SerdeTest, Writes42AsBigEndian) {
  EXPECT_EQ(serialized_hex(Int32Serde{}, 42), "00 00 00 2A");
}

TEST(Int32SerdeTest, WritesMinusOneAsAllOnes) {
  EXPECT_EQ(serialized_hex(Int32Serde{}, -1), "FF FF FF FF");
}

TEST(Int32SerdeTest, WritesExtremesAsTwosComplement) {
  EXPECT_EQ(serialized_hex(Int32Serde{}, std::numeric_limits<std::int32_t>::min()), "80 00 00 00");
  EXPECT_EQ(serialized_hex(Int32Serde{}, std::numeric_limits<std::int32_t>::max()), "7F FF FF FF");
  EXPECT_EQ(serialized_hex(Int32Serde{}, 0x01020304), "01 02 03 04");
}

TEST(Int32SerdeTest, ReadsJavaIntegerBytes) {
  EXPECT_EQ(Int32Serde{}.deserialize("t", from_hex("00 00 00 2A")), 42);
  EXPECT_EQ(Int32Serde{}.deserialize("t", from_hex("FF FF FF FE")), -2);
  EXPECT_EQ(Int32Serde{}.deserialize("t", from_hex("80 00 00 00")),
            std::numeric_limits<std::int32_t>::min());
}

TEST(Int32SerdeTest, RoundTripsEdgeValues) {
  for (std::int32_t value :
       {0, 1, -1, 127, 128, -128, 65'536, -1'000'000'007, std::numeric_limits<std::int32_t>::min(),
        std::numeric_limits<std::int32_t>::max()}) {
    EXPECT_EQ(round_trip(Int32Serde{}, value), value);
  }
}

TEST(Int32SerdeTest, SerializeReplacesPreviousBufferContents) {
  Bytes out = to_bytes("previous contents, longer than four bytes");
  Int32Serde{}.serialize("t", 42, out);
  EXPECT_EQ(hex(out), "00 00 00 2A");
}

// --- Int64Serde (Java LongSerializer) ---

TEST(Int64SerdeTest, WritesOneAsBigEndian) {
  EXPECT_EQ(serialized_hex(Int64Serde{}, std::int64_t{1}), "00 00 00 00 00 00 00 01");
}

TEST(Int64SerdeTest, WritesMinAndMinusOne) {
  EXPECT_EQ(serialized_hex(Int64Serde{}, std::numeric_limits<std::int64_t>::min()),
            "80 00 00 00 00 00 00 00");
  EXPECT_EQ(serialized_hex(Int64Serde{}, std::int64_t{-1}), "FF FF FF FF FF FF FF FF");
  EXPECT_EQ(serialized_hex(Int64Serde{}, std::int64_t{0x0102030405060708}),
            "01 02 03 04 05 06 07 08");
  // A typical Kafka timestamp, 2024-06-10T16:00:00.123Z.
  EXPECT_EQ(serialized_hex(Int64Serde{}, std::int64_t{1'718'035'200'123}),
            "00 00 01 90 02 E0 B8 7B");
}

TEST(Int64SerdeTest, RoundTripsEdgeValues) {
  for (std::int64_t value :
       {std::int64_t{0}, std::int64_t{1}, std::int64_t{-1}, std::int64_t{1'718'035'200'123},
        std::int64_t{-4'294'967'296}, std::numeric_limits<std::int64_t>::min(),
        std::numeric_limits<std::int64_t>::max()}) {
    EXPECT_EQ(round_trip(Int64Serde{}, value), value);
  }
}

// --- DoubleSerde (Java DoubleSerializer: doubleToLongBits, big-endian) ---

TEST(DoubleSerdeTest, WritesOneAsIeeeBits) {
  EXPECT_EQ(serialized_hex(DoubleSerde{}, 1.0), "3F F0 00 00 00 00 00 00");
}

TEST(DoubleSerdeTest, WritesNegativeTwoAndAHalf) {
  EXPECT_EQ(serialized_hex(DoubleSerde{}, -2.5), "C0 04 00 00 00 00 00 00");
}

TEST(DoubleSerdeTest, WritesSignedZeroAndInfinities) {
  EXPECT_EQ(serialized_hex(DoubleSerde{}, 0.0), "00 00 00 00 00 00 00 00");
  EXPECT_EQ(serialized_hex(DoubleSerde{}, -0.0), "80 00 00 00 00 00 00 00");
  EXPECT_EQ(serialized_hex(DoubleSerde{}, std::numeric_limits<double>::infinity()),
            "7F F0 00 00 00 00 00 00");
  EXPECT_EQ(serialized_hex(DoubleSerde{}, -std::numeric_limits<double>::infinity()),
            "FF F0 00 00 00 00 00 00");
}

TEST(DoubleSerdeTest, WritesEveryNanAsJavaCanonicalNan) {
  const double quiet = std::numeric_limits<double>::quiet_NaN();
  const double negative = -quiet;
  const double with_payload = std::bit_cast<double>(std::uint64_t{0x7FF0'0000'0000'0001});
  const double negative_with_payload = std::bit_cast<double>(std::uint64_t{0xFFF8'0000'DEAD'BEEF});
  for (double nan : {quiet, negative, with_payload, negative_with_payload}) {
    EXPECT_EQ(serialized_hex(DoubleSerde{}, nan), "7F F8 00 00 00 00 00 00");
  }
}

TEST(DoubleSerdeTest, ReadsJavaDoubleBytes) {
  EXPECT_EQ(DoubleSerde{}.deserialize("t", from_hex("3F F0 00 00 00 00 00 00")), 1.0);
  EXPECT_EQ(DoubleSerde{}.deserialize("t", from_hex("C0 04 00 00 00 00 00 00")), -2.5);
  EXPECT_EQ(DoubleSerde{}.deserialize("t", from_hex("3F B9 99 99 99 99 99 9A")), 0.1);
}

TEST(DoubleSerdeTest, RoundTripsExactBits) {
  for (double value :
       {0.0, -0.0, 0.1, -2.5, 1e300, -1e-300, std::numeric_limits<double>::denorm_min(),
        std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest(),
        std::numeric_limits<double>::infinity()}) {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(round_trip(DoubleSerde{}, value)),
              std::bit_cast<std::uint64_t>(value))
        << value;
  }
}

TEST(DoubleSerdeTest, NanRoundTripsAsNan) {
  const double value = round_trip(DoubleSerde{}, std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(std::bit_cast<std::uint64_t>(value), std::uint64_t{0x7FF8'0000'0000'0000});
}

// --- FloatSerde (Java FloatSerializer: floatToIntBits, big-endian) ---

TEST(FloatSerdeTest, WritesJavaFloatBytes) {
  EXPECT_EQ(serialized_hex(FloatSerde{}, 1.0F), "3F 80 00 00");
  EXPECT_EQ(serialized_hex(FloatSerde{}, -2.5F), "C0 20 00 00");
  EXPECT_EQ(serialized_hex(FloatSerde{}, -0.0F), "80 00 00 00");
}

TEST(FloatSerdeTest, WritesEveryNanAsJavaCanonicalNan) {
  const float with_payload = std::bit_cast<float>(std::uint32_t{0xFF80'0001});
  for (float nan : {std::numeric_limits<float>::quiet_NaN(),
                    -std::numeric_limits<float>::quiet_NaN(), with_payload}) {
    EXPECT_EQ(serialized_hex(FloatSerde{}, nan), "7F C0 00 00");
  }
}

TEST(FloatSerdeTest, RoundTripsExactBits) {
  for (float value : {0.0F, -0.0F, 0.1F, 3.4e38F, std::numeric_limits<float>::denorm_min(),
                      -std::numeric_limits<float>::infinity()}) {
    EXPECT_EQ(std::bit_cast<std::uint32_t>(round_trip(FloatSerde{}, value)),
              std::bit_cast<std::uint32_t>(value))
        << value;
  }
}

// --- Wrong-size data ---

TEST(FixedWidthSerdeTest, WrongSizeErrorNamesSerdeTopicExpectedAndActualSize) {
  const Bytes three = from_hex("01 02 03");
  const std::string message =
      serialization_error([&] { Int64Serde{}.deserialize("clicks", three); });
  EXPECT_EQ(message,
            "Size of data received by Int64Serde on topic 'clicks' is not 8 (got 3 bytes)");
}

TEST(FixedWidthSerdeTest, EveryFixedWidthSerdeRejectsShortAndLongData) {
  const Bytes empty;
  const Bytes nine = from_hex("00 00 00 00 00 00 00 00 00");
  EXPECT_THAT(serialization_error([&] { Int16Serde{}.deserialize("t", empty); }),
              HasSubstr("Int16Serde on topic 't' is not 2 (got 0 bytes)"));
  EXPECT_THAT(serialization_error([&] { Int32Serde{}.deserialize("t", nine); }),
              HasSubstr("Int32Serde on topic 't' is not 4 (got 9 bytes)"));
  EXPECT_THAT(serialization_error([&] { Int64Serde{}.deserialize("t", nine); }),
              HasSubstr("Int64Serde on topic 't' is not 8 (got 9 bytes)"));
  EXPECT_THAT(serialization_error([&] { FloatSerde{}.deserialize("t", empty); }),
              HasSubstr("FloatSerde on topic 't' is not 4 (got 0 bytes)"));
  EXPECT_THAT(serialization_error([&] { DoubleSerde{}.deserialize("t", from_hex("3F F0")); }),
              HasSubstr("DoubleSerde on topic 't' is not 8 (got 2 bytes)"));
}

TEST(FixedWidthSerdeTest, WrongSizeErrorWithoutTopicSaysNoTopic) {
  EXPECT_EQ(serialization_error([] { Int32Serde{}.deserialize("", from_hex("01")); }),
            "Size of data received by Int32Serde on no topic is not 4 (got 1 bytes)");
}

TEST(FixedWidthSerdeTest, WrongSizeErrorIsAStreamsException) {
  EXPECT_THROW(Int32Serde{}.deserialize("t", from_hex("01")), StreamsException);
}

// --- StringSerde (Java StringSerializer, UTF-8) ---

TEST(StringSerdeTest, WritesUtf8BytesAsIs) {
  EXPECT_EQ(serialized_hex(StringSerde{}, std::string("h\xC3\xA9llo")), "68 C3 A9 6C 6C 6F");
  EXPECT_EQ(serialized_hex(StringSerde{}, std::string("\u20AC")), "E2 82 AC");
}

TEST(StringSerdeTest, RoundTripsEmptyEmbeddedNulAndNonAscii) {
  EXPECT_EQ(round_trip(StringSerde{}, std::string()), "");
  EXPECT_EQ(round_trip(StringSerde{}, std::string("a\0b", 3)), std::string("a\0b", 3));
  EXPECT_EQ(round_trip(StringSerde{}, std::string("h\xC3\xA9llo \xF0\x9F\x9A\x97")),
            "h\xC3\xA9llo \xF0\x9F\x9A\x97");
}

TEST(StringSerdeTest, PassesInvalidUtf8ThroughUnchanged) {
  const Bytes invalid = from_hex("FF FE C3 28");
  const std::string text = StringSerde{}.deserialize("t", invalid);
  ASSERT_EQ(text.size(), 4U);
  Bytes out;
  StringSerde{}.serialize("t", text, out);
  EXPECT_EQ(out, invalid);
}

TEST(StringSerdeTest, SerializeReplacesPreviousBufferContents) {
  Bytes out = to_bytes("a much longer previous value");
  StringSerde{}.serialize("t", "ab", out);
  EXPECT_EQ(out, to_bytes("ab"));
}

// --- BytesSerde (Java ByteArraySerializer) ---

TEST(BytesSerdeTest, RoundTripsEveryByteValueAndEmpty) {
  Bytes all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<std::uint8_t>(i));
  EXPECT_EQ(round_trip(BytesSerde{}, all), all);
  EXPECT_EQ(round_trip(BytesSerde{}, Bytes{}), Bytes{});
}

TEST(BytesSerdeTest, SerializeCopiesBytesAsIsReplacingBuffer) {
  Bytes out = from_hex("AA BB CC DD EE");
  BytesSerde{}.serialize("t", from_hex("00 FF 10"), out);
  EXPECT_EQ(hex(out), "00 FF 10");
}

// --- Factories ---

TEST(SerdesFactoryTest, FactoriesProduceTheJavaCompatibleSerdes) {
  EXPECT_EQ(serialized_hex(serdes::int16(), std::int16_t{42}), "00 2A");
  EXPECT_EQ(serialized_hex(serdes::int32(), 42), "00 00 00 2A");
  EXPECT_EQ(serialized_hex(serdes::int64(), std::int64_t{1}), "00 00 00 00 00 00 00 01");
  EXPECT_EQ(serialized_hex(serdes::float32(), 1.0F), "3F 80 00 00");
  EXPECT_EQ(serialized_hex(serdes::float64(), 1.0), "3F F0 00 00 00 00 00 00");
  EXPECT_EQ(serialized_hex(serdes::string(), std::string("ok")), "6F 6B");
  EXPECT_EQ(serialized_hex(serdes::bytes(), from_hex("01 02")), "01 02");
}

TEST(SerdesFactoryTest, FactoriesConvertToAnySerde) {
  const AnySerde<std::int64_t> serde = serdes::int64();
  Bytes out;
  serde.serialize("t", 7, out);
  EXPECT_EQ(hex(out), "00 00 00 00 00 00 00 07");
  EXPECT_EQ(serde.deserialize("t", out), 7);
}

TEST(SerdesFactoryTest, PlainSerdesMapKafkaNullToDefaultValue) {
  const AnySerde<std::int32_t> ints = serdes::int32();
  const AnySerde<std::string> strings = serdes::string();
  EXPECT_FALSE(ints.is_null(0));
  EXPECT_EQ(ints.deserialize_nullable("t", std::nullopt), 0);
  EXPECT_EQ(strings.deserialize_nullable("t", std::nullopt), "");
}

static_assert(Serde<StringSerde, std::string>);
static_assert(Serde<BytesSerde, Bytes>);
static_assert(Serde<Int16Serde, std::int16_t>);
static_assert(Serde<Int32Serde, std::int32_t>);
static_assert(Serde<Int64Serde, std::int64_t>);
static_assert(Serde<FloatSerde, float>);
static_assert(Serde<DoubleSerde, double>);
static_assert(!Serde<Int32Serde, std::int64_t>);
static_assert(std::is_same_v<decltype(serdes::string()), StringSerde>);
static_assert(std::is_same_v<decltype(serdes::bytes()), BytesSerde>);
static_assert(std::is_same_v<decltype(serdes::int16()), Int16Serde>);
static_assert(std::is_same_v<decltype(serdes::int32()), Int32Serde>);
static_assert(std::is_same_v<decltype(serdes::int64()), Int64Serde>);
static_assert(std::is_same_v<decltype(serdes::float32()), FloatSerde>);
static_assert(std::is_same_v<decltype(serdes::float64()), DoubleSerde>);
static_assert(Int64Serde::name() == "Int64Serde");

}  // namespace
}  // namespace rivulet
