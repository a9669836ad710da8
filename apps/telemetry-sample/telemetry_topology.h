// The vehicle telemetry sample: types and topology, shared by the sample app and its tests.
//
//   raw.vehicle.telemetry (JSON Reading, keyed by vehicle id, event time in the JSON)
//     -> drop readings with impossible values
//     -> split: overheating engine  -> Alert -> raw.vehicle.alerts
//               speeding            -> Alert -> raw.vehicle.alerts
//               everything else     -> vehicle.telemetry.clean
//
// Records that are not valid JSON go to the dead-letter topic when the application configures
// one (errors.dead.letter.queue.topic.name), and are skipped and counted either way.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include <rivulet/rivulet.h>

namespace telemetry {

struct Reading {
  std::string vehicle_id;
  std::int64_t timestamp = 0;  // event time, ms since the epoch
  double speed_kmh = 0;
  double engine_temp_c = 0;
  double lat = 0;
  double lon = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Reading, vehicle_id, timestamp, speed_kmh, engine_temp_c, lat,
                                   lon)

struct Alert {
  std::string vehicle_id;
  std::string kind;  // "overheat" or "speeding"
  double value = 0;
  double threshold = 0;
  std::int64_t timestamp = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Alert, vehicle_id, kind, value, threshold, timestamp)

inline constexpr const char* kTelemetryTopic = "raw.vehicle.telemetry";
inline constexpr const char* kAlertsTopic = "raw.vehicle.alerts";
inline constexpr const char* kCleanTopic = "vehicle.telemetry.clean";
inline constexpr double kOverheatC = 110.0;
inline constexpr double kSpeedingKmh = 130.0;

// `on_alert`, when given, sees every alert on its way to the alerts topic (the sample prints
// them).
inline rivulet::Topology build_topology(std::function<void(const Alert&)> on_alert = {}) {
  using rivulet::Branched;
  using rivulet::Named;
  rivulet::StreamsBuilder builder;
  auto readings =
      builder
          .stream<std::string, Reading>(
              kTelemetryTopic, rivulet::Consumed<std::string, Reading>::as("telemetry-source")
                                   .with_timestamp_extractor([](const auto& record, std::int64_t) {
                                     return record.value().timestamp;
                                   }))
          .filter(
              [](const std::string&, const Reading& r) {
                return r.speed_kmh >= 0 && r.speed_kmh < 400 && r.engine_temp_c > -60;
              },
              Named::as("plausible-readings"));

  auto to_alert = [](std::string kind, double threshold, double Reading::*field) {
    return [kind = std::move(kind), threshold, field](const Reading& r) {
      return Alert{r.vehicle_id, kind, r.*field, threshold, r.timestamp};
    };
  };
  auto branches =
      readings.split(Named::as("classify-"))
          .branch([](const std::string&, const Reading& r) { return r.engine_temp_c > kOverheatC; },
                  Branched<std::string, Reading>::as("overheat"))
          .branch([](const std::string&, const Reading& r) { return r.speed_kmh > kSpeedingKmh; },
                  Branched<std::string, Reading>::as("speeding"))
          .default_branch(Branched<std::string, Reading>::as("normal"));

  branches.at("classify-overheat")
      .map_values(to_alert("overheat", kOverheatC, &Reading::engine_temp_c),
                  Named::as("overheat-alert"))
      .merge(branches.at("classify-speeding")
                 .map_values(to_alert("speeding", kSpeedingKmh, &Reading::speed_kmh),
                             Named::as("speeding-alert")),
             Named::as("all-alerts"))
      .peek(
          [on_alert = std::move(on_alert)](const std::string&, const Alert& alert) {
            if (on_alert) on_alert(alert);
          },
          Named::as("alert-listener"))
      .to(kAlertsTopic, rivulet::Produced<std::string, Alert>::as("alerts-sink"));
  branches.at("classify-normal")
      .to(kCleanTopic, rivulet::Produced<std::string, Reading>::as("clean-sink"));
  return builder.build();
}

}  // namespace telemetry
