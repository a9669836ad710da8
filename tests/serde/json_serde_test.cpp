// JsonSerde: compact UTF-8 JSON through nlohmann::json, and its error messages.
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <rivulet/serdes.h>

#include "serde_test_util.h"

namespace rivulet::json_test {

struct Telemetry {
  std::string vehicle_id;
  std::int64_t timestamp = 0;
  double speed = 0;
  double engine_temp = 0;
  double lat = 0;
  double lon = 0;
  std::int32_t rpm = 0;
  std::string status;

  friend bool operator==(const Telemetry&, const Telemetry&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Telemetry, vehicle_id, timestamp, speed, engine_temp, lat, lon,
                                   rpm, status)

struct Point {
  std::int32_t x = 0;
  std::string label;

  friend bool operator==(const Point&, const Point&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Point, x, label)

// A type whose from_json validates and throws a non-nlohmann exception.
struct Percent {
  int value = 0;
};
inline void to_json(nlohmann::json& json, const Percent& percent) {
  json = percent.value;
}
inline void from_json(const nlohmann::json& json, Percent& percent) {
  percent.value = json.get<int>();
  if (percent.value < 0 || percent.value > 100) throw std::invalid_argument("percent out of range");
}

namespace {

using ::rivulet::testing::serialization_error;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

Telemetry sample() {
  return Telemetry{"VH-004211", 1'718'035'200'123, 87.35, 92.4,
                   48.137154,   11.576124,         2450,  "DRIVING"};
}

TEST(JsonSerdeTest, StructRoundTripsExactly) {
  const JsonSerde<Telemetry> serde;
  Bytes out;
  serde.serialize("telemetry", sample(), out);
  EXPECT_EQ(serde.deserialize("telemetry", out), sample());
}

TEST(JsonSerdeTest, WritesCompactJson) {
  Bytes out;
  JsonSerde<Point>{}.serialize("t", Point{1, "a"}, out);
  EXPECT_EQ(to_string(out), R"({"label":"a","x":1})");
}

TEST(JsonSerdeTest, WritesNonAsciiAsUtf8NotEscapes) {
  Bytes out;
  JsonSerde<Point>{}.serialize("t", Point{0, "h\xC3\xA9"}, out);
  EXPECT_EQ(to_string(out), "{\"label\":\"h\xC3\xA9\",\"x\":0}");
}

TEST(JsonSerdeTest, ReadsFieldsInAnyOrderWithWhitespace) {
  const Bytes data = to_bytes(" {\n \"x\" : 7 , \"label\" : \"b\\u00e9\" } ");
  EXPECT_EQ(JsonSerde<Point>{}.deserialize("t", data), (Point{7, "b\xC3\xA9"}));
}

TEST(JsonSerdeTest, SerializeReplacesPreviousBufferContents) {
  Bytes out = to_bytes("a previous value that is much longer than the new JSON document");
  JsonSerde<Point>{}.serialize("t", Point{1, "a"}, out);
  EXPECT_EQ(to_string(out), R"({"label":"a","x":1})");
}

TEST(JsonSerdeTest, MalformedJsonErrorNamesTopicAndParseError) {
  const std::string message = serialization_error(
      [] { JsonSerde<Telemetry>{}.deserialize("telemetry", to_bytes(R"({"vehicle_id": )")); });
  EXPECT_THAT(message, AllOf(StartsWith("JSON data on topic 'telemetry' is not valid JSON: "),
                             HasSubstr("[json.exception.parse_error.101]")));
}

TEST(JsonSerdeTest, TrailingBytesAreMalformed) {
  EXPECT_THAT(serialization_error(
                  [] { JsonSerde<Point>{}.deserialize("t", to_bytes(R"({"x":1,"label":""} x)")); }),
              HasSubstr("is not valid JSON"));
}

TEST(JsonSerdeTest, EmptyDataIsMalformed) {
  EXPECT_THAT(serialization_error([] { JsonSerde<Point>{}.deserialize("t", Bytes{}); }),
              HasSubstr("JSON data on topic 't' is not valid JSON"));
}

TEST(JsonSerdeTest, WrongFieldTypeErrorNamesTopicAndTypeError) {
  const std::string message = serialization_error(
      [] { JsonSerde<Point>{}.deserialize("points", to_bytes(R"({"x":"one","label":"a"})")); });
  EXPECT_THAT(message,
              AllOf(StartsWith("JSON data on topic 'points' does not match the expected type: "),
                    HasSubstr("type must be number, but is string")));
}

TEST(JsonSerdeTest, MissingFieldErrorNamesTheField) {
  const std::string message = serialization_error(
      [] { JsonSerde<Telemetry>{}.deserialize("telemetry", to_bytes(R"({"vehicle_id":"v"})")); });
  EXPECT_THAT(message, AllOf(HasSubstr("topic 'telemetry' does not match the expected type"),
                             HasSubstr("key 'timestamp' not found")));
}

TEST(JsonSerdeTest, NonObjectDocumentForStructIsATypeError) {
  EXPECT_THAT(serialization_error([] { JsonSerde<Point>{}.deserialize("t", to_bytes("[1,2]")); }),
              HasSubstr("does not match the expected type"));
}

TEST(JsonSerdeTest, UserFromJsonExceptionIsWrapped) {
  const JsonSerde<Percent> serde;
  EXPECT_EQ(serde.deserialize("t", to_bytes("42")).value, 42);
  EXPECT_THAT(serialization_error([&] { serde.deserialize("pct", to_bytes("142")); }),
              AllOf(HasSubstr("topic 'pct'"), HasSubstr("from_json threw: percent out of range")));
}

TEST(JsonSerdeTest, KafkaNullIsAnError) {
  const AnySerde<Telemetry> serde = JsonSerde<Telemetry>{};
  EXPECT_EQ(serialization_error([&] { serde.deserialize_nullable("telemetry", std::nullopt); }),
            "null value on topic 'telemetry' cannot be deserialized as JSON object by JsonSerde; "
            "use std::optional<T> (OptionalSerde) to accept nulls");
}

TEST(JsonSerdeTest, NeverSerializesAsNull) {
  const AnySerde<Telemetry> serde = JsonSerde<Telemetry>{};
  Bytes out;
  EXPECT_FALSE(serde.is_null(Telemetry{}));
  EXPECT_TRUE(serde.serialize_nullable("t", Telemetry{}, out));
  EXPECT_FALSE(out.empty());
}

TEST(JsonSerdeTest, InvalidUtf8InStringMemberFailsToSerialize) {
  Bytes out;
  EXPECT_THAT(serialization_error([&] {
                JsonSerde<Point>{}.serialize("t", Point{0, "bad \xFF byte"}, out);
              }),
              AllOf(StartsWith("JSON data on topic 't' cannot be written as JSON: "),
                    HasSubstr("invalid UTF-8")));
}

TEST(JsonSerdeTest, OptionalStructMapsNullToNullopt) {
  const AnySerde<std::optional<Telemetry>> serde = default_serde<std::optional<Telemetry>>();
  Bytes out;
  EXPECT_FALSE(serde.serialize_nullable("t", std::nullopt, out));
  EXPECT_EQ(serde.deserialize_nullable("t", std::nullopt), std::nullopt);
  ASSERT_TRUE(serde.serialize_nullable("t", sample(), out));
  EXPECT_EQ(serde.deserialize_nullable("t", ByteView(out)), std::optional<Telemetry>(sample()));
}

TEST(JsonSerdeTest, RawJsonDocumentRoundTrips) {
  const JsonSerde<nlohmann::json> serde;
  const nlohmann::json document = {{"a", {1, 2.5, "x", nullptr, true}}, {"b", {{"c", -3}}}};
  Bytes out;
  serde.serialize("t", document, out);
  EXPECT_EQ(to_string(out), R"({"a":[1,2.5,"x",null,true],"b":{"c":-3}})");
  EXPECT_EQ(serde.deserialize("t", out), document);
}

TEST(JsonSerdeTest, RawJsonAcceptsAnyValueIncludingJsonNullLiteral) {
  const JsonSerde<nlohmann::json> serde;
  EXPECT_TRUE(serde.deserialize("t", to_bytes("null")).is_null());
  EXPECT_EQ(serde.deserialize("t", to_bytes("[1,2]")), nlohmann::json({1, 2}));
  EXPECT_THAT(serialization_error([&] { serde.deserialize("t", to_bytes("{")); }),
              HasSubstr("is not valid JSON"));
}

TEST(JsonSerdeTest, RawJsonKafkaNullIsAnError) {
  EXPECT_THAT(serialization_error([] { JsonSerde<nlohmann::json>{}.null_value("docs"); }),
              HasSubstr("null value on topic 'docs' cannot be deserialized as JSON object"));
}

TEST(JsonSerdeTest, ContainersOfStructsRoundTrip) {
  const JsonSerde<std::vector<Point>> serde;
  const std::vector<Point> points = {{1, "a"}, {2, "b"}};
  Bytes out;
  serde.serialize("t", points, out);
  EXPECT_EQ(to_string(out), R"([{"label":"a","x":1},{"label":"b","x":2}])");
  EXPECT_EQ(serde.deserialize("t", out), points);
}

TEST(JsonSerdeTest, FactoryMakesJsonSerde) {
  const AnySerde<Point> serde = serdes::json<Point>();
  Bytes out;
  serde.serialize("t", Point{3, "c"}, out);
  EXPECT_EQ(to_string(out), R"({"label":"c","x":3})");
  EXPECT_EQ(serde.deserialize("t", out), (Point{3, "c"}));
}

static_assert(JsonConvertible<Telemetry>);
static_assert(JsonConvertible<Percent>);
static_assert(JsonConvertible<nlohmann::json>);
static_assert(JsonConvertible<std::vector<Point>>);
static_assert(JsonConvertible<std::map<std::string, Point>>);
static_assert(Serde<JsonSerde<Telemetry>, Telemetry>);
static_assert(Serde<JsonSerde<nlohmann::json>, nlohmann::json>);
static_assert(std::is_same_v<decltype(serdes::json<Point>()), JsonSerde<Point>>);

}  // namespace
}  // namespace rivulet::json_test
