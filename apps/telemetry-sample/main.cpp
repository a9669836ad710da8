// rivulet-telemetry-sample: the vehicle telemetry topology on generated readings.
//
// Until the Kafka runtime lands, the topology runs in-process through the TopologyTestDriver:
// the generator writes JSON readings (with a few anomalies and a few corrupt records) into the
// input topic at a fixed rate, and the app prints every alert as it is raised and a throughput
// line every second.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <random>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <rivulet/testing/topology_test_driver.h>

#include "telemetry_topology.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;

struct Options {
  double seconds = 10;
  int rate = 2000;  // records per second
  int vehicles = 50;
  bool describe = true;
  unsigned seed = 42;
};

// Readings of a fleet driving normally, with rare overheating engines, speeding and corrupt
// messages, in event-time order.
class Generator {
 public:
  Generator(int vehicles, unsigned seed) : vehicles_(vehicles), random_(seed) {}

  // Returns the JSON text of the next reading, or a corrupt message about once in 2000.
  std::string next(std::int64_t now_ms, std::string& key) {
    const int vehicle = std::uniform_int_distribution<int>(0, vehicles_ - 1)(random_);
    key = fmt::format("V-{:03d}", vehicle);
    const double roll = unit_(random_);
    if (roll < 0.0005) return "{\"vehicle_id\": \"" + key + "\", \"speed_kmh\": ";  // truncated
    telemetry::Reading r;
    r.vehicle_id = key;
    r.timestamp = now_ms;
    r.speed_kmh = std::normal_distribution<double>(85, 15)(random_);
    r.engine_temp_c = std::normal_distribution<double>(90, 5)(random_);
    if (roll > 0.999) r.engine_temp_c = 112 + 10 * unit_(random_);
    if (roll > 0.998 && roll <= 0.999) r.speed_kmh = 131 + 40 * unit_(random_);
    r.lat = 52.0 + vehicle * 0.01;
    r.lon = 4.0 + vehicle * 0.01;
    return nlohmann::json(r).dump();
  }

 private:
  int vehicles_;
  std::mt19937 random_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
};

int run(const Options& options) {
  rivulet::Topology topology = telemetry::build_topology();
  if (options.describe) std::printf("%s", topology.describe().to_string().c_str());

  rivulet::StreamsConfig config;
  config.set("application.id", "telemetry-sample")
      .set("default.deserialization.exception.handler", "log_and_continue")
      .set("errors.dead.letter.queue.topic.name", "raw.vehicle.telemetry.dlq");
  rivulet::testing::TopologyTestDriver driver(topology, config);
  // The generator writes raw JSON text, so that corrupt messages reach the topology as bytes.
  auto input = driver.create_input_topic<std::string, std::string>(telemetry::kTelemetryTopic);
  auto alerts = driver.create_output_topic<std::string, telemetry::Alert>(telemetry::kAlertsTopic);
  auto clean = driver.create_output_topic<std::string, telemetry::Reading>(telemetry::kCleanTopic);
  auto dead = driver.create_output_topic<std::string, std::string>("raw.vehicle.telemetry.dlq");

  Generator generator(options.vehicles, options.seed);
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto wall_start = std::chrono::system_clock::now();
  const auto interval = std::chrono::nanoseconds(1'000'000'000LL / std::max(1, options.rate));
  std::uint64_t sent = 0, alert_count = 0, clean_count = 0, last_report_sent = 0;
  auto next_report = start + std::chrono::seconds(1);
  std::string key;
  while (g_stop == 0 && (options.seconds <= 0 ||
                         Clock::now() - start < std::chrono::duration<double>(options.seconds))) {
    const auto due = start + interval * sent;
    if (Clock::now() < due) std::this_thread::sleep_until(due);
    const auto event_time = wall_start + (Clock::now() - start);
    const std::int64_t now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(event_time.time_since_epoch())
            .count();
    std::string value = generator.next(now_ms, key);
    input.pipe_input(key, value, now_ms);
    ++sent;
    while (!alerts.is_empty()) {
      const telemetry::Alert alert = alerts.read_value();
      ++alert_count;
      std::printf("ALERT %-8s vehicle=%s value=%.1f threshold=%.0f\n", alert.kind.c_str(),
                  alert.vehicle_id.c_str(), alert.value, alert.threshold);
    }
    clean_count += clean.queue_size();
    while (!clean.is_empty()) clean.read_record();
    if (Clock::now() >= next_report) {
      const rivulet::TaskMetrics m = driver.metrics();
      std::printf(
          "[%5.1fs] %llu records/s | processed %llu | clean %llu | alerts %llu | "
          "corrupt skipped %llu (dead-lettered %llu)\n",
          std::chrono::duration<double>(Clock::now() - start).count(),
          static_cast<unsigned long long>(sent - last_report_sent),
          static_cast<unsigned long long>(m.records_processed),
          static_cast<unsigned long long>(clean_count),
          static_cast<unsigned long long>(alert_count),
          static_cast<unsigned long long>(m.deserialization_errors),
          static_cast<unsigned long long>(dead.queue_size()));
      std::fflush(stdout);
      last_report_sent = sent;
      next_report += std::chrono::seconds(1);
    }
  }
  const rivulet::TaskMetrics m = driver.metrics();
  std::printf(
      "done: %llu records in, %llu processed, %llu clean, %llu alerts, %llu corrupt "
      "dead-lettered\n",
      static_cast<unsigned long long>(sent), static_cast<unsigned long long>(m.records_processed),
      static_cast<unsigned long long>(clean_count), static_cast<unsigned long long>(alert_count),
      static_cast<unsigned long long>(dead.queue_size()));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Vehicle telemetry alerts on generated readings (Rivulet sample)"};
  Options options;
  app.add_option("--seconds", options.seconds, "how long to run; 0 runs until Ctrl-C")
      ->capture_default_str();
  app.add_option("--rate", options.rate, "readings per second")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--vehicles", options.vehicles, "vehicles in the fleet")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--seed", options.seed, "random seed")->capture_default_str();
  app.add_flag("!--no-describe", options.describe, "do not print the topology first");
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGINT, [](int) { g_stop = 1; });
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  try {
    return run(options);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
}
