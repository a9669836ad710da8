// The vehicle telemetry sample: types and topology, shared by the sample app and its tests.
//
//   raw.vehicle.telemetry (JSON Reading, keyed by vehicle id, event time in the JSON)
//     -> drop readings with impossible values
//     -> split: overheating engine  -> Alert -> raw.vehicle.alerts       (thresholds on readings)
//               speeding            -> Alert -> raw.vehicle.alerts
//               everything else     -> vehicle.telemetry.clean
//     -> per vehicle, 1-minute windows with 10 s grace: readings, mean speed, hottest engine
//          -> WindowSummary -> vehicle.telemetry.windows                  (the results)
//          -> z-score of the window's mean speed against the vehicle's earlier windows
//               -> anomalies -> Alert "window-speed" -> raw.vehicle.alerts
//
// Every update of a window is a result (and is scored); with the record cache on, updates of a
// window merge until the commit. The window store, the detector's per-vehicle model and the
// repartition topic between them are all in the application's transactions under exactly-once.
// Records that are not valid JSON go to the dead-letter topic when the application configures
// one (errors.dead.letter.queue.topic.name), and are skipped and counted either way.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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

// The summary of one vehicle's window of readings.
struct WindowSummary {
  std::string vehicle_id;
  std::int64_t window_start = 0;
  std::int64_t window_end = 0;
  std::int64_t readings = 0;
  double mean_speed_kmh = 0;
  double max_engine_temp_c = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(WindowSummary, vehicle_id, window_start, window_end, readings,
                                   mean_speed_kmh, max_engine_temp_c)

// Turns the window detector's flagged results into alerts stamped with the result's time (the
// latest reading of the window).
class WindowAlerts final
    : public rivulet::Processor<std::string, rivulet::AnomalyResult, std::string, Alert> {
 public:
  void init(rivulet::ProcessorContext<std::string, Alert>& context) override {
    context_ = &context;
  }
  void process(rivulet::Record<std::string, rivulet::AnomalyResult> record) override {
    const rivulet::AnomalyResult& result = record.value();
    if (!result.anomaly) return;
    Alert alert{record.key(), "window-speed", result.value, result.threshold, record.timestamp()};
    context_->forward(
        rivulet::Record<std::string, Alert>(record.key(), std::move(alert), record.timestamp()));
  }

 private:
  rivulet::ProcessorContext<std::string, Alert>* context_ = nullptr;
};

inline constexpr const char* kTelemetryTopic = "raw.vehicle.telemetry";
inline constexpr const char* kAlertsTopic = "raw.vehicle.alerts";
inline constexpr const char* kCleanTopic = "vehicle.telemetry.clean";
inline constexpr const char* kWindowsTopic = "vehicle.telemetry.windows";
// Internal topics of the application "telemetry-sample" (the development broker cannot create
// topics on request, so the sample creates them first).
inline constexpr const char* kInternalTopics[] = {
    "telemetry-sample-vehicle-windows-changelog",
    "telemetry-sample-window-speed-store-changelog",
    "telemetry-sample-window-speed-repartition",
};
// The window detector: a mean speed more than 3 standard deviations from the vehicle's earlier
// windows, once it has seen 5.
inline constexpr double kWindowZScore = 3.0;
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
          [on_alert](const std::string&, const Alert& alert) {
            if (on_alert) on_alert(alert);
          },
          Named::as("alert-listener"))
      .to(kAlertsTopic, rivulet::Produced<std::string, Alert>::as("alerts-sink"));
  branches.at("classify-normal")
      .to(kCleanTopic, rivulet::Produced<std::string, Reading>::as("clean-sink"));

  using namespace std::chrono_literals;
  auto summaries =
      readings.group_by_key()
          .windowed_by(rivulet::TimeWindows::of_size_and_grace(1min, 10s))
          .aggregate([] { return WindowSummary{}; },
                     [](const std::string& vehicle, const Reading& r, WindowSummary summary) {
                       summary.vehicle_id = vehicle;
                       summary.mean_speed_kmh += (r.speed_kmh - summary.mean_speed_kmh) /
                                                 static_cast<double>(summary.readings + 1);
                       summary.max_engine_temp_c =
                           summary.readings == 0
                               ? r.engine_temp_c
                               : std::max(summary.max_engine_temp_c, r.engine_temp_c);
                       ++summary.readings;
                       return summary;
                     },
                     Named::as("vehicle-windows"),
                     rivulet::Materialized<std::string, WindowSummary>::as("vehicle-windows"))
          .to_stream(Named::as("window-updates"))
          .map(
              [](const rivulet::Windowed<std::string>& key,
                 const std::optional<WindowSummary>& value) {
                WindowSummary summary = value.value_or(WindowSummary{});
                summary.vehicle_id = key.key;
                summary.window_start = key.window.start;
                summary.window_end = key.window.end;
                return rivulet::KeyValue<std::string, WindowSummary>{key.key, summary};
              },
              Named::as("window-summary"));
  summaries.to(kWindowsTopic,
               rivulet::Produced<std::string, WindowSummary>::as("window-results-sink"));
  summaries
      .detect_anomalies([](const WindowSummary& w) { return w.mean_speed_kmh; },
                        rivulet::detectors::zscore(
                            rivulet::ZScoreOptions{.threshold = kWindowZScore, .warm_up = 5}),
                        Named::as("window-speed"))
      .process([] { return std::make_unique<WindowAlerts>(); }, Named::as("window-alerts"))
      .peek(
          [on_alert](const std::string&, const Alert& alert) {
            if (on_alert) on_alert(alert);
          },
          Named::as("window-alert-listener"))
      .to(kAlertsTopic, rivulet::Produced<std::string, Alert>::as("window-alerts-sink"));
  return builder.build();
}

}  // namespace telemetry
