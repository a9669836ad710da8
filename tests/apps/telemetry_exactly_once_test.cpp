// The telemetry sample's topology under exactly-once on the in-memory cluster: readings with
// known injected anomalies (overheating engines, speeding) raise exactly one alert each, even
// when the instance crashes in the middle and a new one takes over from its state directory.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <rivulet/rivulet.h>

#include "kafka/in_memory_clients.h"
#include "kafka/in_memory_cluster.h"
#include "kafka_test_support.h"
#include "telemetry_topology.h"

namespace {

using rivulet::KafkaStreams;
using rivulet::kafka::FaultAction;
using rivulet::kafka::FaultEvent;
using rivulet::kafka::FaultPoint;
using rivulet::kafka::InMemoryClientFactory;
using rivulet::kafka::InMemoryCluster;
using rivulet::test::unique_name;
using rivulet::test::wait_until;

constexpr int kPartitions = 4;
constexpr int kVehicles = 12;
constexpr int kReadings = 2'400;  // 200 per vehicle, one per second
constexpr std::int64_t kStart = 1'700'000'000'000;

// (vehicle, event time, kind) of an alert.
using AlertId = std::tuple<std::string, std::int64_t, std::string>;

struct Injected {
  std::vector<std::pair<std::string, std::string>> records;  // key, JSON
  std::set<AlertId> anomalies;
};

// A fleet at steady speeds and temperatures, with every 37th reading overheating and every 53rd
// speeding (never both).
Injected generate() {
  Injected out;
  for (int i = 0; i < kReadings; ++i) {
    telemetry::Reading r;
    r.vehicle_id = fmt::format("V-{:03d}", i % kVehicles);
    r.timestamp = kStart + static_cast<std::int64_t>(i / kVehicles) * 1'000;
    r.speed_kmh = 80 + (i * 7 % 9);
    r.engine_temp_c = 88 + (i * 5 % 7);
    r.lat = 52.0;
    r.lon = 4.0;
    if (i % 37 == 5) {
      r.engine_temp_c = 115;
      out.anomalies.insert({r.vehicle_id, r.timestamp, "overheat"});
    } else if (i % 53 == 7) {
      r.speed_kmh = 140;
      out.anomalies.insert({r.vehicle_id, r.timestamp, "speeding"});
    }
    out.records.emplace_back(r.vehicle_id, nlohmann::json(r).dump());
  }
  return out;
}

class TelemetryExactlyOnce : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* topic : {telemetry::kTelemetryTopic, telemetry::kAlertsTopic,
                              telemetry::kCleanTopic, telemetry::kWindowsTopic}) {
      cluster_->create_topic(topic, kPartitions);
    }
    dir_ = std::filesystem::temp_directory_path() / unique_name("rivulet-telemetry-eos");
  }
  void TearDown() override {
    cluster_->set_fault_hook({});
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::unique_ptr<KafkaStreams> start(const std::string& instance) {
    rivulet::StreamsConfig config =
        rivulet::test::runtime_test_config("in-memory:9092", "telemetry-sample");
    config.set("processing.guarantee", "exactly_once_v2")
        .set("commit.interval.ms", 50)
        .set("state.dir", dir_.string());
    auto streams = std::make_unique<KafkaStreams>(
        topology_, config, std::make_shared<InMemoryClientFactory>(cluster_, instance));
    streams->start();
    return streams;
  }

  void produce(int from, int to) {
    InMemoryClientFactory clients(cluster_);
    auto producer = clients.producer({});
    for (int i = from; i < to; ++i) {
      const auto& [key, json] = injected_.records[static_cast<std::size_t>(i)];
      const rivulet::Bytes k = rivulet::to_bytes(key);
      const rivulet::Bytes v = rivulet::to_bytes(json);
      producer->send(telemetry::kTelemetryTopic, std::nullopt, rivulet::ByteView(k),
                     rivulet::ByteView(v), kStart + i, {});
    }
    producer->flush(std::chrono::seconds(1));
  }

  // The read_committed alerts of the injected kinds, counted per (vehicle, time, kind).
  std::map<AlertId, int> threshold_alerts() {
    std::map<AlertId, int> out;
    for (int p = 0; p < kPartitions; ++p) {
      const auto result = cluster_->fetch({telemetry::kAlertsTopic, p}, 0, 1'000'000,
                                          rivulet::kafka::Isolation::read_committed);
      for (const auto& stored : result.records) {
        const auto alert =
            nlohmann::json::parse(rivulet::to_string(*stored.record.value)).get<telemetry::Alert>();
        if (alert.kind == "overheat" || alert.kind == "speeding") {
          ++out[{alert.vehicle_id, alert.timestamp, alert.kind}];
        }
      }
    }
    return out;
  }

  bool every_anomaly_alerted() {
    const auto alerts = threshold_alerts();
    for (const AlertId& id : injected_.anomalies) {
      if (alerts.count(id) == 0) return false;
    }
    return true;
  }

  void expect_exactly_one_alert_per_anomaly() {
    ASSERT_TRUE(wait_until([&] { return every_anomaly_alerted(); }, std::chrono::seconds(60)))
        << "an injected anomaly raised no alert";
    for (const auto& [id, count] : threshold_alerts()) {
      EXPECT_EQ(count, 1) << std::get<0>(id) << " at " << std::get<1>(id) << ": "
                          << std::get<2>(id);
      EXPECT_EQ(injected_.anomalies.count(id), 1u)
          << "an alert for a reading that was not an anomaly: " << std::get<0>(id) << " at "
          << std::get<1>(id);
    }
  }

  Injected injected_ = generate();
  rivulet::Topology topology_ = telemetry::build_topology();
  std::shared_ptr<InMemoryCluster> cluster_ = std::make_shared<InMemoryCluster>();
  std::filesystem::path dir_;
};

TEST_F(TelemetryExactlyOnce, EveryInjectedAnomalyRaisesExactlyOneAlert) {
  ASSERT_GT(injected_.anomalies.size(), 50u);
  produce(0, kReadings);
  auto streams = start("a");
  expect_exactly_one_alert_per_anomaly();
  streams->close();
}

TEST_F(TelemetryExactlyOnce, ExactlyOneAlertPerAnomalyAcrossACrashAndRestart) {
  // The first instance crashes right after its fourth transaction commits, with alerts of the
  // next transaction already sent; the restart must neither lose nor repeat any.
  std::atomic<int> commits{0};
  cluster_->set_fault_hook([&](const FaultEvent& event) {
    if (event.instance == "first" && event.point == FaultPoint::commit_transaction) {
      return ++commits == 4 ? FaultAction::crash_after : FaultAction::none;
    }
    return FaultAction::none;
  });
  auto first = start("first");
  int produced = 0;
  auto crashed = [&] { return first->state() == KafkaStreams::State::error; };
  while (!crashed() && produced < kReadings) {
    produce(produced, produced + 120);
    produced += 120;
    wait_until(crashed, std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(wait_until(crashed, std::chrono::seconds(30))) << "the fault never fired";
  first.reset();
  cluster_->expire_sessions("first");
  if (produced < kReadings) produce(produced, kReadings);
  auto second = start("second");
  expect_exactly_one_alert_per_anomaly();
  EXPECT_GT(second->records_restored(), 0u) << "the window store came back from its changelog";
  second->close();
}

}  // namespace
