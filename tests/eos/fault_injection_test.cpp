// The fault-injection harness: an anomaly-detection application (the maximum speed per vehicle
// and 10-second window, a z-score detector on those maxima, alerts to their own topic) runs as one
// to three exactly-once instances on the in-memory cluster, while a plan chosen by a seed crashes
// them at steps of the commit protocol, in the middle of restoration or of a rebalance, fails
// their transactions, turns one into a zombie, and adds or removes an instance. Whatever happens,
// the read_committed results and alerts must equal those of one failure-free run.
//
// Each seed is one test (`EveryFault/FaultInjection.OutputEqualsTheFailureFreeRun/<seed>`); a
// failure prints the seed and its plan. RIVULET_FAULT_SEED=<n> replays one seed (as seed 0).
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>

#include "eos_test_support.h"

namespace rivulet {
namespace {

using kafka::FaultAction;
using kafka::FaultEvent;
using kafka::FaultPoint;
using kafka::InMemoryClientFactory;
using kafka::InMemoryCluster;
using test::unique_name;
using test::wait_until;

constexpr const char* kReadings = "vehicle.speed";
constexpr const char* kResults = "vehicle.speed.scores";
constexpr const char* kAlerts = "vehicle.speed.alerts";
constexpr const char* kApp = "fault-harness";
constexpr int kVehicles = 8;
constexpr int kRecords = 800;
constexpr int kBatch = 50;
constexpr auto kDeadline = std::chrono::seconds(90);

Topology detection_topology() {
  using namespace std::chrono_literals;
  StreamsBuilder builder;
  auto scores =
      builder
          .stream<std::string, std::string>(kReadings,
                                            Consumed<std::string, std::string>::as("readings"))
          .map_values([](const std::string& speed) { return std::stod(speed); }, Named::as("parse"))
          .group_by_key()
          .windowed_by(TimeWindows::of_size_and_grace(10s, 2s))
          .reduce([](double a, double b) { return std::max(a, b); }, Named::as("max-speed"))
          .to_stream()
          .map(
              [](const Windowed<std::string>& key, const std::optional<double>& max) {
                return KeyValue<std::string, double>{key.key, max.value_or(0.0)};
              },
              Named::as("by-vehicle"))
          .detect_anomalies([](double max) { return max; },
                            detectors::zscore(ZScoreOptions{.threshold = 2.5, .warm_up = 5}),
                            Named::as("speed-zscore"));
  scores.to(kResults);
  scores.filter([](const std::string&, const AnomalyResult& r) { return r.anomaly; }).to(kAlerts);
  return builder.build();
}

// Speeds around 80 km/h with a spike now and then, one reading per vehicle per second.
void produce_readings(const std::shared_ptr<InMemoryCluster>& cluster, int from, int to) {
  InMemoryClientFactory clients(cluster);
  auto producer = clients.producer({});
  for (int i = from; i < to; ++i) {
    const int vehicle = i % kVehicles;
    const double speed = (i % 97 == 13) ? 190.0 : 75.0 + (i * 7919 % 11);
    const Bytes key = to_bytes(fmt::format("v{}", vehicle));
    const Bytes value = to_bytes(fmt::format("{}", speed));
    producer->send(kReadings, std::nullopt, ByteView(key), ByteView(value),
                   1'700'000'000'000 + static_cast<std::int64_t>(i / kVehicles) * 1'000, {});
  }
  producer->flush(std::chrono::seconds(1));
}

void create_topics(InMemoryCluster& cluster) {
  cluster.create_topic(kReadings, 4);
  cluster.create_topic(kResults, 4);
  cluster.create_topic(kAlerts, 4);
}

using Output = std::map<std::string, std::vector<std::string>>;

struct Outputs {
  Output results;
  Output alerts;
};

Outputs read_outputs(InMemoryCluster& cluster) {
  return {eos_test::read_by_key(cluster, kResults), eos_test::read_by_key(cluster, kAlerts)};
}

// Whether the group committed everything in the readings and in the repartition topic between
// the two sub-topologies: the application is done with what was produced.
bool readings_committed(InMemoryCluster& cluster) {
  return eos_test::all_committed(cluster, kApp,
                                 {kReadings, std::string(kApp) + "-speed-zscore-repartition"});
}

StreamsConfig harness_config(const std::filesystem::path& dir) {
  StreamsConfig config = test::runtime_test_config("in-memory:9092", kApp);
  config.set("processing.guarantee", "exactly_once_v2")
      .set("commit.interval.ms", 30)
      .set("statestore.cache.max.bytes", 0)
      .set("state.dir", dir.string())
      .set("producer.transaction.timeout.ms", "2000");
  return config;
}

// One injected fault: at the `occurrence`-th time instance `slot`'s first incarnation reaches
// `point`, do `action`.
struct Fault {
  int slot = 0;
  FaultPoint point = FaultPoint::commit_transaction;
  FaultAction action = FaultAction::none;
  int occurrence = 1;
};

struct Plan {
  int instances = 1;
  std::vector<Fault> faults;
  int zombie_batch = -1;  // before this batch, instance 0 becomes a zombie for two batches
  int join_batch = -1;    // before this batch, one more instance joins (a rebalance)
  int leave_batch = -1;   // before this batch, the last instance leaves cleanly

  std::string describe() const {
    std::vector<std::string> parts;
    for (const Fault& f : faults) {
      static constexpr const char* kActions[] = {"none", "crash_before", "crash_after", "fail",
                                                 "skip"};
      parts.push_back(fmt::format("instance {} {} at {} #{}", f.slot,
                                  kActions[static_cast<int>(f.action)],
                                  kafka::fault_point_name(f.point), f.occurrence));
    }
    return fmt::format(
        "{} instance(s); faults [{}]; zombie before batch {}; join before {}; "
        "leave before {}",
        instances, fmt::join(parts, "; "), zombie_batch, join_batch, leave_batch);
  }
};

Plan plan_for(std::uint64_t seed) {
  std::mt19937_64 random(seed);
  auto pick = [&](int n) { return static_cast<int>(random() % static_cast<std::uint64_t>(n)); };
  Plan plan;
  plan.instances = 1 + pick(3);
  struct Kind {
    FaultPoint point;
    FaultAction action;
  };
  static const Kind kKinds[] = {
      {FaultPoint::produce, FaultAction::crash_after},
      {FaultPoint::produce, FaultAction::fail},
      {FaultPoint::send_offsets, FaultAction::crash_before},
      {FaultPoint::send_offsets, FaultAction::crash_after},
      {FaultPoint::send_offsets, FaultAction::fail},
      {FaultPoint::commit_transaction, FaultAction::crash_before},
      {FaultPoint::commit_transaction, FaultAction::crash_after},
      {FaultPoint::commit_transaction, FaultAction::fail},
      {FaultPoint::restore_fetch, FaultAction::crash_before},
      {FaultPoint::rebalance, FaultAction::crash_before},
  };
  const int faults = 1 + pick(3);
  for (int i = 0; i < faults; ++i) {
    const Kind& kind = kKinds[pick(static_cast<int>(std::size(kKinds)))];
    Fault fault;
    fault.slot = pick(plan.instances);
    fault.point = kind.point;
    fault.action = kind.action;
    fault.occurrence =
        kind.point == FaultPoint::produce ? 1 + pick(300)
        : kind.point == FaultPoint::rebalance || kind.point == FaultPoint::restore_fetch
            ? 1 + pick(2)
            : 1 + pick(8);
    plan.faults.push_back(fault);
  }
  const int batches = kRecords / kBatch;
  if (pick(2) == 0) plan.zombie_batch = 2 + pick(batches - 6);
  if (pick(3) == 0) plan.join_batch = 1 + pick(batches - 2);
  if (plan.instances > 1 && pick(3) == 0) plan.leave_batch = 1 + pick(batches - 2);
  return plan;
}

// The instances of one run, restarted (a new incarnation on the same state directory) when a
// fault crashed them.
class Harness {
 public:
  Harness(std::shared_ptr<InMemoryCluster> cluster, std::filesystem::path dir, Plan plan)
      : cluster_(std::move(cluster)), dir_(std::move(dir)), plan_(std::move(plan)) {
    cluster_->set_fault_hook([this](const FaultEvent& event) { return decide(event); });
  }
  ~Harness() {
    cluster_->set_fault_hook({});
    slots_.clear();
  }

  void start(int slot) {
    if (static_cast<int>(slots_.size()) <= slot) slots_.resize(static_cast<std::size_t>(slot) + 1);
    Slot& s = slots_[static_cast<std::size_t>(slot)];
    ++s.incarnation;
    s.tag = fmt::format("i{}#{}", slot, s.incarnation);
    s.streams =
        std::make_unique<KafkaStreams>(topology_, harness_config(dir_ / fmt::format("i{}", slot)),
                                       std::make_shared<InMemoryClientFactory>(cluster_, s.tag));
    s.streams->start();
  }

  // Restarts crashed instances (their sessions expire first, as a session timeout would).
  void restart_crashed() {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      Slot& s = slots_[i];
      if (!s.streams) continue;
      const auto state = s.streams->state();
      if (state != KafkaStreams::State::error && state != KafkaStreams::State::not_running) {
        continue;
      }
      s.streams.reset();
      cluster_->expire_sessions(s.tag);
      ++restarts_;
      start(static_cast<int>(i));
    }
  }

  void make_zombie(bool on) {
    std::lock_guard lock(mutex_);
    zombie_ = on ? slots_.at(0).tag : std::string();
    if (on) cluster_->expire_sessions(zombie_);
  }

  // The instance leaves cleanly for good.
  void stop(int slot) {
    Slot& s = slots_.at(static_cast<std::size_t>(slot));
    if (s.streams) s.streams->close();
    s.streams.reset();
  }

  bool all_running_or_stopped_cleanly() const {
    for (const Slot& s : slots_) {
      if (!s.streams) continue;
      const auto state = s.streams->state();
      if (state == KafkaStreams::State::error) return false;
    }
    return true;
  }

  int restarts() const { return restarts_; }
  std::size_t slots() const { return slots_.size(); }

 private:
  struct Slot {
    int incarnation = 0;
    std::string tag;
    std::unique_ptr<KafkaStreams> streams;
  };

  FaultAction decide(const FaultEvent& event) {
    std::lock_guard lock(mutex_);
    if (event.point == FaultPoint::group_poll) {
      return event.instance == zombie_ && !zombie_.empty() ? FaultAction::skip : FaultAction::none;
    }
    const int seen = ++seen_[{event.instance, event.point}];
    for (const Fault& fault : plan_.faults) {
      if (fault.point == event.point && event.instance == fmt::format("i{}#1", fault.slot) &&
          fault.occurrence == seen) {
        return fault.action;
      }
    }
    return FaultAction::none;
  }

  std::shared_ptr<InMemoryCluster> cluster_;
  std::filesystem::path dir_;
  Plan plan_;
  Topology topology_ = detection_topology();
  std::vector<Slot> slots_;
  std::mutex mutex_;
  std::map<std::pair<std::string, FaultPoint>, int> seen_;
  std::string zombie_;
  int restarts_ = 0;
};

// The output of one failure-free run with one instance, computed once.
const Outputs& reference_outputs() {
  static const Outputs outputs = [] {
    auto cluster = std::make_shared<InMemoryCluster>();
    create_topics(*cluster);
    const auto dir = std::filesystem::temp_directory_path() / unique_name("rivulet-reference");
    Outputs out;
    {
      Harness harness(cluster, dir, Plan{});
      produce_readings(cluster, 0, kRecords);
      harness.start(0);
      EXPECT_TRUE(wait_until([&] { return readings_committed(*cluster); }, kDeadline));
      out = read_outputs(*cluster);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    return out;
  }();
  return outputs;
}

class FaultInjection : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(FaultInjection, OutputEqualsTheFailureFreeRun) {
  std::uint64_t seed = GetParam();
  if (const char* replay = std::getenv("RIVULET_FAULT_SEED"); replay != nullptr && seed == 0) {
    seed = std::strtoull(replay, nullptr, 10);
  }
  const Plan plan = plan_for(seed);
  SCOPED_TRACE(fmt::format("seed {} (replay: RIVULET_FAULT_SEED={} --gtest_filter='*/0'): {}", seed,
                           seed, plan.describe()));
  const Outputs& expected = reference_outputs();
  std::size_t alerts = 0;
  for (const auto& [key, values] : expected.alerts) alerts += values.size();
  ASSERT_GT(alerts, 0u) << "the input raises no alert: the test would show nothing";

  auto cluster = std::make_shared<InMemoryCluster>();
  create_topics(*cluster);
  const auto dir = std::filesystem::temp_directory_path() / unique_name("rivulet-faults");
  {
    Harness harness(cluster, dir, plan);
    for (int i = 0; i < plan.instances; ++i) harness.start(i);
    const int batches = kRecords / kBatch;
    for (int batch = 0; batch < batches; ++batch) {
      if (batch == plan.zombie_batch) harness.make_zombie(true);
      if (batch == plan.zombie_batch + 2) harness.make_zombie(false);
      if (batch == plan.join_batch) harness.start(static_cast<int>(harness.slots()));
      if (batch == plan.leave_batch) harness.stop(plan.instances - 1);
      produce_readings(cluster, batch * kBatch, (batch + 1) * kBatch);
      wait_until(
          [&] {
            harness.restart_crashed();
            return readings_committed(*cluster);
          },
          std::chrono::seconds(5));
    }
    harness.make_zombie(false);
    const bool done = wait_until(
        [&] {
          harness.restart_crashed();
          return readings_committed(*cluster) && read_outputs(*cluster).results == expected.results;
        },
        kDeadline);
    EXPECT_TRUE(done) << "the input was not all committed, or the results differ";
    const Outputs actual = read_outputs(*cluster);
    EXPECT_EQ(actual.results, expected.results);
    EXPECT_EQ(actual.alerts, expected.alerts);
    RecordProperty("restarts", harness.restarts());
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

INSTANTIATE_TEST_SUITE_P(EveryFault, FaultInjection, ::testing::Range<std::uint64_t>(0, 16));

}  // namespace
}  // namespace rivulet
