// The vehicle telemetry sample topology, end to end through the test driver.
#include <gtest/gtest.h>

#include <rivulet/testing/topology_test_driver.h>

#include "telemetry_topology.h"

namespace {

using telemetry::Alert;
using telemetry::Reading;

class TelemetrySampleTest : public ::testing::Test {
 protected:
  TelemetrySampleTest()
      : topology_(telemetry::build_topology()),
        driver_(topology_, rivulet::StreamsConfig{{"application.id", "telemetry-test"},
                                                  {"default.deserialization.exception.handler",
                                                   "log_and_continue"},
                                                  {"errors.dead.letter.queue.topic.name", "dlq"}}),
        readings_(driver_.create_input_topic<std::string, Reading>(telemetry::kTelemetryTopic)),
        raw_(driver_.create_input_topic<std::string, std::string>(telemetry::kTelemetryTopic)),
        alerts_(driver_.create_output_topic<std::string, Alert>(telemetry::kAlertsTopic)),
        clean_(driver_.create_output_topic<std::string, Reading>(telemetry::kCleanTopic)),
        dlq_(driver_.create_output_topic<std::string, std::string>("dlq")) {}

  static Reading reading(std::string vehicle, std::int64_t ts, double speed, double temp) {
    return Reading{std::move(vehicle), ts, speed, temp, 52.0, 4.0};
  }

  rivulet::Topology topology_;
  rivulet::testing::TopologyTestDriver driver_;
  rivulet::testing::TestInputTopic<std::string, Reading> readings_;
  rivulet::testing::TestInputTopic<std::string, std::string> raw_;
  rivulet::testing::TestOutputTopic<std::string, Alert> alerts_;
  rivulet::testing::TestOutputTopic<std::string, Reading> clean_;
  rivulet::testing::TestOutputTopic<std::string, std::string> dlq_;
};

TEST_F(TelemetrySampleTest, OverheatingEngineRaisesOneOverheatAlertStampedWithEventTime) {
  readings_.pipe_input("V-1", reading("V-1", 5'000, 80, 118.5), 1);
  auto record = alerts_.read_record();
  ASSERT_TRUE(record.value);
  EXPECT_EQ(record.value->kind, "overheat");
  EXPECT_DOUBLE_EQ(record.value->value, 118.5);
  EXPECT_EQ(*record.key, "V-1");
  EXPECT_EQ(*record.timestamp, 5'000);  // from the JSON field, not the Kafka timestamp (1)
  EXPECT_TRUE(alerts_.is_empty());
  EXPECT_TRUE(clean_.is_empty());
}

TEST_F(TelemetrySampleTest, SpeedingRaisesSpeedingAlert) {
  readings_.pipe_input("V-2", reading("V-2", 10, 150, 90));
  EXPECT_EQ(alerts_.read_value().kind, "speeding");
  EXPECT_TRUE(alerts_.is_empty());
}

TEST_F(TelemetrySampleTest, ReadingBothOverheatingAndSpeedingRaisesOnlyTheFirstBranchAlert) {
  readings_.pipe_input("V-3", reading("V-3", 10, 150, 120));
  EXPECT_EQ(alerts_.read_value().kind, "overheat");
  EXPECT_TRUE(alerts_.is_empty());
}

TEST_F(TelemetrySampleTest, NormalReadingGoesToCleanTopicUnchanged) {
  const Reading normal = reading("V-4", 10, 90, 90);
  readings_.pipe_input("V-4", normal);
  const Reading out = clean_.read_value();
  EXPECT_EQ(out.vehicle_id, normal.vehicle_id);
  EXPECT_DOUBLE_EQ(out.speed_kmh, normal.speed_kmh);
  EXPECT_TRUE(alerts_.is_empty());
}

TEST_F(TelemetrySampleTest, ImplausibleReadingIsDroppedEverywhere) {
  readings_.pipe_input("V-5", reading("V-5", 10, -3, 90));
  readings_.pipe_input("V-5", reading("V-5", 11, 500, 90));
  EXPECT_TRUE(alerts_.is_empty());
  EXPECT_TRUE(clean_.is_empty());
}

TEST_F(TelemetrySampleTest, CorruptJsonIsDeadLetteredAndLaterReadingsStillFlow) {
  raw_.pipe_input("V-6", "{\"vehicle_id\": \"V-6\", \"speed", 7);
  readings_.pipe_input("V-6", reading("V-6", 10, 90, 90));
  auto dead = dlq_.read_record();
  EXPECT_EQ(*dead.value, "{\"vehicle_id\": \"V-6\", \"speed");
  const rivulet::Header* topic = dead.headers.last_header("__streams.errors.topic");
  ASSERT_NE(topic, nullptr);
  EXPECT_EQ(rivulet::to_string(*topic->value), telemetry::kTelemetryTopic);
  EXPECT_EQ(driver_.metrics().deserialization_errors, 1u);
  EXPECT_EQ(clean_.queue_size(), 1u);
}

}  // namespace
