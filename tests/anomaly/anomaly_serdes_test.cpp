// What detect_anomalies writes: AnomalyResult as JSON (its default serde), infinities included,
// and AnomalyModel, the store's value, through AnomalyModelSerde with its version byte.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/anomaly.h>
#include <rivulet/serdes.h>

#include "rivulet_test_helpers.h"

namespace rivulet {
namespace {

using test::message_of;

using ::testing::HasSubstr;

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string text_of(const Bytes& bytes) {
  return {bytes.begin(), bytes.end()};
}
Bytes bytes_of(const std::string& text) {
  return {text.begin(), text.end()};
}

AnomalyResult sample_result() {
  AnomalyResult r;
  r.detector = "zscore";
  r.value = 97.5;
  r.score = 3.25;
  r.threshold = 3;
  r.lower = 61.25;
  r.upper = 93.5;
  r.anomaly = true;
  r.observations = 250;
  return r;
}

TEST(AnomalyResultJson, IsTheDefaultSerdeAndWritesEveryField) {
  const AnySerde<AnomalyResult> serde = default_serde<AnomalyResult>();
  Bytes out;
  serde.serialize("alerts", sample_result(), out);
  EXPECT_EQ(text_of(out), R"({"anomaly":true,"detector":"zscore","lower":61.25,"observations":250,)"
                          R"("score":3.25,"threshold":3.0,"upper":93.5,"value":97.5})");
  EXPECT_EQ(serde.deserialize("alerts", out), sample_result());
}

TEST(AnomalyResultJson, NonFiniteNumbersRoundTripAsNames) {
  AnomalyResult r = sample_result();
  r.score = kInf;
  r.lower = -kInf;
  r.upper = kInf;
  r.threshold = std::numeric_limits<double>::quiet_NaN();
  const AnySerde<AnomalyResult> serde = default_serde<AnomalyResult>();
  Bytes out;
  serde.serialize("alerts", r, out);
  EXPECT_THAT(text_of(out), HasSubstr(R"("score":"Infinity")"));
  EXPECT_THAT(text_of(out), HasSubstr(R"("lower":"-Infinity")"));
  EXPECT_THAT(text_of(out), HasSubstr(R"("threshold":"NaN")"));
  const AnomalyResult back = serde.deserialize("alerts", out);
  EXPECT_EQ(back.score, kInf);
  EXPECT_EQ(back.lower, -kInf);
  EXPECT_EQ(back.upper, kInf);
  EXPECT_TRUE(std::isnan(back.threshold));
}

TEST(AnomalyResultJson, BadDocumentsFailNamingTheField) {
  const AnySerde<AnomalyResult> serde = default_serde<AnomalyResult>();
  EXPECT_THAT(message_of<SerializationException>([&] {
                serde.deserialize("alerts", bytes_of(R"({"detector":"z","value":1,"score":"big",)"
                                                     R"("threshold":1,"lower":0,"upper":2,)"
                                                     R"("anomaly":false,"observations":1})"));
              }),
              HasSubstr("field 'score' must be a number"));
  EXPECT_THAT(message_of<SerializationException>(
                  [&] { serde.deserialize("alerts", bytes_of(R"({"detector":"z"})")); }),
              HasSubstr("topic 'alerts'"));
}

TEST(AnomalyModelSerde, RoundTripsWithItsLayout) {
  AnomalyModel model;
  model.detector = "mad";
  model.observations = 258;
  model.model = Bytes{1, 2, 3};
  const AnySerde<AnomalyModel> serde = default_serde<AnomalyModel>();
  Bytes out;
  serde.serialize("s", model, out);
  EXPECT_EQ(out, (Bytes{1, 3, 'm', 'a', 'd', 0, 0, 0, 0, 0, 0, 1, 2, 1, 2, 3}));
  EXPECT_EQ(serde.deserialize("s", out), model);
}

TEST(AnomalyModelSerde, CorruptBlobsFailWithAClearError) {
  const AnomalyModelSerde serde;
  const std::string topic = "app-x-store-changelog";
  EXPECT_THAT(message_of<SerializationException>([&] { serde.deserialize(topic, Bytes{}); }),
              HasSubstr("anomaly model on topic 'app-x-store-changelog': the blob is empty"));
  EXPECT_THAT(message_of<SerializationException>([&] {
                serde.deserialize(topic, Bytes{2, 1, 'z', 0, 0, 0, 0, 0, 0, 0, 0});
              }),
              HasSubstr("format version 2 is not one this build reads (1)"));
  EXPECT_THAT(message_of<SerializationException>([&] {
                serde.deserialize(topic, Bytes{1, 9, 'z'});
              }),
              HasSubstr("truncated"));
  EXPECT_THAT(message_of<SerializationException>([&] {
                serde.deserialize(topic, Bytes{1, 0});
              }),
              HasSubstr("the detector name is empty"));
  EXPECT_THAT(message_of<SerializationException>([&] {
                serde.deserialize(topic, Bytes{1, 1, 'z', 0xFF, 0, 0, 0, 0, 0, 0, 0});
              }),
              HasSubstr("is negative"));
  AnomalyModel nameless;
  Bytes out;
  EXPECT_THROW(serde.serialize(topic, nameless, out), SerializationException);
}

}  // namespace
}  // namespace rivulet
