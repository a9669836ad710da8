// KafkaStreams::prometheus_metrics() on the in-memory cluster: whole applications run, records
// go in, and the exported text must say what happened (counts equal to what was sent, tasks and
// stores equal to the partitions and keys, lag per assigned partition, skips by reason, late
// records by processor, series that go away with their task or thread).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <rivulet/rivulet.h>
#include <rivulet/testing/in_memory_kafka.h>

#include "kafka_test_support.h"
#include "prometheus_text.h"

namespace rivulet {
namespace {

using test::PromText;
using testing::InMemoryKafka;

constexpr auto kTimeout = std::chrono::seconds(60);

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Big-endian 8 bytes, as the Int64 serde writes them.
std::string int64_bytes(std::int64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

Topology count_topology() {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .count(Materialized<std::string, std::int64_t>::as("counts"))
      .to_stream()
      .to("out");
  return builder.build();
}

Topology pass_through_topology() {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in").to("out");
  return builder.build();
}

class PrometheusMetrics : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("rivulet-metrics-" + std::to_string(::getpid()) + "-" + info->name());
    std::filesystem::remove_all(dir_);
    kafka_.create_topic("in", 4);
    kafka_.create_topic("out", 4);
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  StreamsConfig config(const std::string& state = "a") const {
    StreamsConfig config;
    config.set("application.id", "metrics-app")
        .set("bootstrap.servers", "in-memory")
        .set("commit.interval.ms", 50)
        .set("state.dir", (dir_ / state).string());
    return config;
  }

  static PromText scrape(const KafkaStreams& streams) {
    return PromText(streams.prometheus_metrics());
  }
  // Waits until `condition` holds for a fresh scrape; fails the test with the last text if not.
  template <class Condition>
  static PromText wait_for(const KafkaStreams& streams, Condition condition,
                           const std::string& what) {
    std::string last;
    const bool met = test::wait_until(
        [&] {
          last = streams.prometheus_metrics();
          return condition(PromText(last));
        },
        kTimeout);
    if (!met) ADD_FAILURE() << "never: " << what << "\nlast scrape:\n" << last;
    return PromText(last);
  }

  InMemoryKafka kafka_;
  std::filesystem::path dir_;
};

TEST_F(PrometheusMetrics, CountsRecordsTasksStoresAndLatenciesOfARunningAggregation) {
  const Topology topology = count_topology();
  KafkaStreams streams(topology, config(), kafka_.clients("a"));
  streams.start();
  ASSERT_TRUE(streams.wait_for_running(kTimeout));

  constexpr int kKeys = 50;  // each once: a RocksDB store then holds exactly one entry per key
  for (int i = 0; i < kKeys; ++i) {
    kafka_.produce("in", "key-" + std::to_string(i), "v", now_ms() - 100);
  }
  const std::string changelog = "metrics-app-counts-changelog";
  PromText text = wait_for(
      streams,
      [&](const PromText& t) {
        return t.sum("rivulet_records_processed_total") == kKeys &&
               t.sum("rivulet_store_entries") == kKeys &&
               t.sum("rivulet_records_produced_total", {{"topic", "out"}}) == kKeys &&
               t.sum("rivulet_records_produced_total", {{"topic", changelog}}) == kKeys;
      },
      "every record processed, stored and its count produced");

  const auto threads = streams.metadata_for_local_threads();
  ASSERT_EQ(threads.size(), 1u);
  const std::string thread = threads[0].thread_name;
  EXPECT_EQ(text.label_values("rivulet_records_consumed_total", "thread"),
            std::set<std::string>{thread});

  // Counts equal what went in and what came out.
  EXPECT_EQ(text.sum("rivulet_records_consumed_total"), kKeys);
  EXPECT_EQ(text.label_values("rivulet_records_processed_total", "task"),
            (std::set<std::string>{"0_0", "0_1", "0_2", "0_3"}));
  EXPECT_EQ(kafka_.read("out").size(), static_cast<std::size_t>(kKeys));
  EXPECT_EQ(kafka_.read(changelog).size(), static_cast<std::size_t>(kKeys));
  EXPECT_EQ(text.sum("rivulet_records_produced_total"),
            static_cast<double>(streams.records_produced()));
  EXPECT_EQ(text.sum("rivulet_records_consumed_total"),
            static_cast<double>(streams.records_consumed()));

  // Latencies were observed, per record and per sink topic; changelogs have none.
  EXPECT_GT(text.sum("rivulet_process_latency_seconds_count"), 0);
  EXPECT_LE(text.sum("rivulet_process_latency_seconds_count"), kKeys);
  EXPECT_GT(text.sum("rivulet_end_to_end_latency_seconds_count", {{"topic", "out"}}), 0);
  EXPECT_GE(text.sum("rivulet_end_to_end_latency_seconds_sum", {{"topic", "out"}}) /
                text.sum("rivulet_end_to_end_latency_seconds_count", {{"topic", "out"}}),
            0.099)
      << "every count was sent at least 100 ms after its record's timestamp";
  EXPECT_FALSE(text.has("rivulet_end_to_end_latency_seconds_count", {{"topic", changelog}}));
  EXPECT_GT(text.sum("rivulet_commits_total"), 0);
  EXPECT_GT(text.sum("rivulet_commit_latency_seconds_count"), 0);
  EXPECT_GE(text.sum("rivulet_rebalances_total"), 1);
  EXPECT_GE(text.sum("rivulet_rebalance_duration_seconds_count"), 1);

  // One task per partition; the store's entries are the distinct keys, over its four tasks.
  EXPECT_EQ(text.sum("rivulet_assigned_tasks"), 4);
  EXPECT_EQ(text.label_values("rivulet_store_entries", "task"),
            (std::set<std::string>{"0_0", "0_1", "0_2", "0_3"}));
  EXPECT_EQ(text.label_values("rivulet_store_entries", "store"), std::set<std::string>{"counts"});
  EXPECT_GT(text.sum("rivulet_store_size_bytes"), 0);
  for (const char* kind : {"block_cache", "memtables", "table_readers", "pinned"}) {
    EXPECT_TRUE(text.has("rivulet_rocksdb_memory_bytes", {{"kind", kind}})) << kind;
  }
  EXPECT_GT(text.sum("rivulet_rocksdb_memory_bytes", {{"kind", "block_cache"}}), 0);

  // The instance.
  EXPECT_EQ(text.sum("rivulet_instance_state", {{"state", "RUNNING"}}), 1);
  EXPECT_EQ(text.sum("rivulet_instance_state"), 1) << "exactly one state is current";
  EXPECT_EQ(text.find("rivulet_instance_state").size(), 7u);
  EXPECT_EQ(text.sum("rivulet_alive_stream_threads"), 1);
  EXPECT_EQ(text.find("rivulet_info").size(), 1u);
  EXPECT_FALSE(text.has("rivulet_cache_evictions_total")) << "DEBUG only";

  // The same keys again: the record cache now has them.
  for (int i = 0; i < kKeys; ++i) {
    kafka_.produce("in", "key-" + std::to_string(i), "v", now_ms());
  }
  text = wait_for(
      streams,
      [&](const PromText& t) {
        return t.sum("rivulet_records_processed_total") == 2 * kKeys &&
               t.sum("rivulet_cache_hits_total") >= kKeys;
      },
      "the second round processed, hitting the cache");
  EXPECT_EQ(text.sum("rivulet_records_consumed_total"), 2 * kKeys);
  const double ratio = text.sum("rivulet_cache_hit_ratio");
  EXPECT_GT(ratio, 0.0);
  EXPECT_LE(ratio, 1.0);
  EXPECT_GT(text.sum("rivulet_cache_misses_total"), 0);
  EXPECT_NEAR(ratio,
              text.sum("rivulet_cache_hits_total") /
                  (text.sum("rivulet_cache_hits_total") + text.sum("rivulet_cache_misses_total")),
              1e-9);

  streams.close();
  text = scrape(streams);
  EXPECT_EQ(text.sum("rivulet_instance_state", {{"state", "NOT_RUNNING"}}), 1);
  EXPECT_EQ(text.sum("rivulet_alive_stream_threads"), 0);
  EXPECT_EQ(text.sum("rivulet_assigned_tasks"), 0);
  EXPECT_FALSE(text.has("rivulet_store_entries")) << "the closed tasks' stores are gone";
  EXPECT_FALSE(text.has("rivulet_records_processed_total")) << "and their task series";
  EXPECT_EQ(text.sum("rivulet_records_consumed_total"), 2 * kKeys) << "thread counters stay";
}

TEST_F(PrometheusMetrics, ConsumerLagIsPerAssignedPartitionAndFallsToZero) {
  constexpr int kPerPartition = 500;
  for (int p = 0; p < 4; ++p) {
    for (int i = 0; i < kPerPartition; ++i) kafka_.produce("in", "k", "v", now_ms(), p);
  }
  const Topology topology = pass_through_topology();
  KafkaStreams streams(topology, config(), kafka_.clients("a"));
  streams.start();
  // The backlog shows first (the lag is published when the partitions are assigned), then the
  // thread catches up.
  PromText text = wait_for(
      streams,
      [](const PromText& t) {
        return t.find("rivulet_consumer_lag_records").size() == 4 &&
               t.sum("rivulet_consumer_lag_records") > 0;
      },
      "a lag for each of the four partitions, with the backlog");
  EXPECT_EQ(text.label_values("rivulet_consumer_lag_records", "partition"),
            (std::set<std::string>{"0", "1", "2", "3"}));
  EXPECT_EQ(text.label_values("rivulet_consumer_lag_records", "topic"),
            std::set<std::string>{"in"});
  EXPECT_LE(text.sum("rivulet_consumer_lag_records"), 4 * kPerPartition);

  text = wait_for(
      streams,
      [](const PromText& t) {
        return t.find("rivulet_consumer_lag_records").size() == 4 &&
               t.sum("rivulet_consumer_lag_records") == 0 &&
               t.sum("rivulet_records_processed_total") == 4 * kPerPartition;
      },
      "caught up: lag 0 on every partition");

  streams.close();
  EXPECT_FALSE(scrape(streams).has("rivulet_consumer_lag_records"))
      << "no partition is assigned any more";
}

TEST_F(PrometheusMetrics, LateRecordsAreCountedWithTheProcessorThatDroppedThem) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .group_by_key()
      .windowed_by(
          TimeWindows::of_size_and_grace(std::chrono::seconds(10), std::chrono::seconds(0)))
      .count(Materialized<std::string, std::int64_t>::as("windowed-counts"))
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  KafkaStreams streams(topology, config(), kafka_.clients("a"));
  streams.start();
  ASSERT_TRUE(streams.wait_for_running(kTimeout));
  kafka_.produce("in", "a", "x", 100'000);
  kafka_.produce("in", "a", "x", 1'000);  // its window [0, 10 s) closed at stream time 10 s

  const PromText text = wait_for(
      streams,
      [](const PromText& t) {
        return t.sum("rivulet_records_processed_total") == 2 &&
               t.sum("rivulet_late_records_dropped_total") == 1;
      },
      "one late record");
  const auto late = text.find("rivulet_late_records_dropped_total");
  ASSERT_EQ(late.size(), 1u);
  const std::string processor = late[0].labels.at("processor");
  EXPECT_FALSE(processor.empty());
  EXPECT_NE(topology.describe().to_string().find(processor), std::string::npos)
      << processor << " is not a node of\n"
      << topology.describe().to_string();
  EXPECT_EQ(streams.metrics().late_records_dropped, 1u);
}

TEST_F(PrometheusMetrics, SkippedRecordsAreCountedByReasonAndDeadLettered) {
  kafka_.create_topic("dlq", 1);
  StreamsBuilder builder;
  builder.stream<std::string, std::int64_t>("in").to("out");
  const Topology topology = builder.build();
  StreamsConfig cfg = config();
  cfg.set("default.deserialization.exception.handler", "log_and_continue")
      .set("errors.dead.letter.queue.topic.name", "dlq");
  KafkaStreams streams(topology, cfg, kafka_.clients("a"));
  streams.start();
  ASSERT_TRUE(streams.wait_for_running(kTimeout));
  kafka_.produce("in", "good", int64_bytes(42), now_ms());
  kafka_.produce("in", "bad", "abc", now_ms());  // 3 bytes: not an Int64

  const PromText text = wait_for(
      streams,
      [](const PromText& t) {
        return t.sum("rivulet_records_processed_total") == 1 &&
               t.sum("rivulet_skipped_records_total", {{"reason", "deserialization_error"}}) == 1 &&
               t.sum("rivulet_records_produced_total", {{"topic", "dlq"}}) == 1;
      },
      "the bad record skipped and dead-lettered");
  EXPECT_EQ(text.label_values("rivulet_skipped_records_total", "reason"),
            (std::set<std::string>{"deserialization_error", "processing_error", "production_error",
                                   "invalid_timestamp", "dropped"}));
  EXPECT_EQ(text.sum("rivulet_skipped_records_total"), 1);
  EXPECT_EQ(text.sum("rivulet_dead_lettered_records_total"), 1);
  EXPECT_EQ(text.sum("rivulet_records_produced_total", {{"topic", "out"}}), 1);
  EXPECT_FALSE(text.has("rivulet_end_to_end_latency_seconds_count", {{"topic", "dlq"}}))
      << "dead letters are no sink's output";
  EXPECT_EQ(kafka_.read("dlq").size(), 1u);
}

TEST_F(PrometheusMetrics, TheTextIsValidExpositionFormatAndIncludesTheApplicationsOwnMetrics) {
  const Topology topology = count_topology();
  KafkaStreams streams(topology, config(), kafka_.clients("a"));
  auto& mine = prometheus::BuildCounter()
                   .Name("my_app_widgets_total")
                   .Help("Widgets the application made.")
                   .Register(*streams.metrics_registry())
                   .Add({});
  mine.Increment(3);
  streams.start();
  ASSERT_TRUE(streams.wait_for_running(kTimeout));
  for (int i = 0; i < 20; ++i) kafka_.produce("in", "k" + std::to_string(i % 7), "v", now_ms());
  const std::string text_bytes = [&] {
    std::string last;
    test::wait_until(
        [&] {
          last = streams.prometheus_metrics();
          const PromText t(last);
          return t.sum("rivulet_records_processed_total") == 20 && t.has("rivulet_store_entries");
        },
        kTimeout);
    return last;
  }();
  PromText text(text_bytes);  // throws (and fails the test) on any malformed line

  EXPECT_EQ(text.sum("my_app_widgets_total"), 3);
  // Every sample belongs to a family with a # TYPE (checked by the reader) and a # HELP; every
  // Rivulet sample carries the application label.
  for (const auto& [family, type] : text.types()) {
    EXPECT_NE(text_bytes.find("# HELP " + family + " "), std::string::npos) << family;
    if (family.starts_with("rivulet_")) {
      EXPECT_TRUE(type != "counter" || family.ends_with("_total")) << family;
    }
  }
  for (const test::PromSample& sample : text.samples()) {
    if (!sample.name.starts_with("rivulet_")) continue;
    EXPECT_EQ(sample.labels.count("application"), 1u) << sample.name;
    if (sample.labels.count("application") > 0) {
      EXPECT_EQ(sample.labels.at("application"), "metrics-app");
    }
  }
  // Histograms: cumulative buckets ending in +Inf, which equals _count.
  for (const auto& [family, type] : text.types()) {
    if (type != "histogram") continue;
    for (const test::PromSample& count : text.find(family + "_count")) {
      std::map<std::string, std::string> labels = count.labels;
      double previous = 0;
      double inf = -1;
      for (const test::PromSample& bucket : text.find(family + "_bucket", labels)) {
        EXPECT_GE(bucket.value, previous) << family;
        previous = bucket.value;
        if (bucket.labels.at("le") == "+Inf") inf = bucket.value;
      }
      EXPECT_EQ(inf, count.value) << family;
    }
  }

  // Prometheus' own linter, when the prometheus package is installed.
  if (std::filesystem::exists("/usr/bin/promtool")) {
    const std::filesystem::path file = dir_ / "metrics.txt";
    std::filesystem::create_directories(dir_);
    std::ofstream(file) << text_bytes;
    const std::string command =
        "/usr/bin/promtool check metrics < " + file.string() + " > " + file.string() + ".out 2>&1";
    const int status = std::system(command.c_str());
    std::ifstream out(file.string() + ".out");
    const std::string report((std::istreambuf_iterator<char>(out)),
                             std::istreambuf_iterator<char>());
    EXPECT_EQ(status, 0) << report;
  }
}

TEST_F(PrometheusMetrics, AReplacedThreadsSeriesGoAwayAndTheNewThreadCountsFromZero) {
  std::atomic<bool> thrown{false};
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .map_values([&](const std::string& v) {
        if (v == "boom" && !thrown.exchange(true)) throw std::runtime_error("boom");
        return v;
      })
      .to("out");
  const Topology topology = builder.build();
  KafkaStreams streams(topology, config(), kafka_.clients("a"));
  streams.set_uncaught_exception_handler(
      [](std::exception_ptr) { return KafkaStreams::ExceptionResponse::replace_thread; });
  streams.start();
  ASSERT_TRUE(streams.wait_for_running(kTimeout));
  for (int i = 0; i < 10; ++i) kafka_.produce("in", "k", "v", now_ms());
  PromText text = wait_for(
      streams, [](const PromText& t) { return t.sum("rivulet_records_processed_total") == 10; },
      "the first ten records");
  const std::string first = *text.label_values("rivulet_records_consumed_total", "thread").begin();

  kafka_.produce("in", "k", "boom", now_ms());
  text = wait_for(
      streams,
      [&](const PromText& t) {
        const auto names = t.label_values("rivulet_records_consumed_total", "thread");
        return thrown && names.size() == 1 && names.count(first) == 0 &&
               t.sum("rivulet_records_produced_total", {{"topic", "out"}}) >= 1 &&
               t.sum("rivulet_alive_stream_threads") == 1 && t.sum("rivulet_assigned_tasks") == 4;
      },
      "a new thread in place of the dead one, running the tasks");
  const auto threads = streams.metadata_for_local_threads();
  ASSERT_EQ(threads.size(), 1u);
  const std::string second = threads[0].thread_name;
  EXPECT_NE(second, first);
  for (const test::PromSample& sample : text.samples()) {
    if (auto found = sample.labels.find("thread"); found != sample.labels.end()) {
      EXPECT_EQ(found->second, second) << sample.name << ": the dead thread's series stay gone";
    }
  }
  // The new thread read again what was not committed (the boom record at least), and its
  // counters only go up from there.
  const double consumed = text.sum("rivulet_records_consumed_total");
  EXPECT_GE(consumed, 1);
  EXPECT_LE(consumed, 11);
  kafka_.produce("in", "k", "after", now_ms());
  text = wait_for(
      streams,
      [&](const PromText& t) { return t.sum("rivulet_records_consumed_total") == consumed + 1; },
      "one more record on the new thread");
  EXPECT_GE(streams.records_consumed(), 12u) << "the instance's total keeps the dead thread's";
}

TEST_F(PrometheusMetrics, TaskAndStoreSeriesFollowTheTasksAcrossARebalance) {
  const Topology topology = count_topology();
  KafkaStreams a(topology, config("a"), kafka_.clients("a"));
  a.start();
  ASSERT_TRUE(a.wait_for_running(kTimeout));
  for (int i = 0; i < 40; ++i) kafka_.produce("in", "key-" + std::to_string(i), "v", now_ms());
  wait_for(
      a,
      [](const PromText& t) { return t.label_values("rivulet_store_entries", "task").size() == 4; },
      "store series for the four tasks");

  KafkaStreams b(topology, config("b"), kafka_.clients("b"));
  b.start();
  auto tasks_of = [](const KafkaStreams& streams) {
    std::set<std::string> out;
    for (const auto& thread : streams.metadata_for_local_threads()) {
      for (const TaskId& id : thread.active_tasks) out.insert(id.to_string());
    }
    return out;
  };
  auto settled = [&](const KafkaStreams& instance) {
    return [&tasks_of, streams = &instance](const PromText& t) {
      const std::set<std::string> tasks = tasks_of(*streams);
      return streams->state() == KafkaStreams::State::running && tasks.size() == 2 &&
             t.sum("rivulet_assigned_tasks") == 2 &&
             t.label_values("rivulet_store_entries", "task") == tasks &&
             t.label_values("rivulet_records_processed_total", "task") == tasks;
    };
  };
  const PromText text_a = wait_for(a, settled(a), "instance a's series follow its two tasks");
  const PromText text_b = wait_for(b, settled(b), "instance b's series follow its two tasks");
  EXPECT_GE(text_a.sum("rivulet_rebalances_total"), 2) << "its join, then b's";
  EXPECT_GE(text_a.sum("rivulet_rebalance_duration_seconds_count"), 2);
  std::set<std::string> all = text_a.label_values("rivulet_store_entries", "task");
  for (const std::string& task : text_b.label_values("rivulet_store_entries", "task")) {
    EXPECT_TRUE(all.insert(task).second) << task << " is reported by both instances";
  }
  EXPECT_EQ(all.size(), 4u);
}

TEST_F(PrometheusMetrics, RestorationCountsTheChangelogRecordsPerStore) {
  const Topology topology = count_topology();
  {
    KafkaStreams first(topology, config("first"), kafka_.clients("first"));
    first.start();
    ASSERT_TRUE(first.wait_for_running(kTimeout));
    for (int i = 0; i < 30; ++i) kafka_.produce("in", "key-" + std::to_string(i), "v", now_ms());
    wait_for(
        first, [](const PromText& t) { return t.sum("rivulet_store_entries") == 30; },
        "thirty keys stored");
    first.close();
  }
  const std::size_t changelog = kafka_.read("metrics-app-counts-changelog").size();
  ASSERT_GE(changelog, 30u);

  // A new state directory: everything comes back from the changelog.
  KafkaStreams second(topology, config("second"), kafka_.clients("second"));
  second.start();
  ASSERT_TRUE(second.wait_for_running(kTimeout));
  const PromText text = wait_for(
      second,
      [&](const PromText& t) {
        return t.sum("rivulet_restoration_records_total", {{"store", "counts"}}) ==
                   static_cast<double>(changelog) &&
               t.has("rivulet_restoration_remaining_records", {{"store", "counts"}});
      },
      "the whole changelog restored");
  EXPECT_EQ(text.sum("rivulet_restoration_remaining_records", {{"store", "counts"}}), 0);
  EXPECT_EQ(second.records_restored(), changelog);
  EXPECT_EQ(text.sum("rivulet_store_entries"), 30);
}

TEST_F(PrometheusMetrics, DebugRecordingAddsTheCacheAndBufferSeries) {
  const Topology topology = count_topology();
  StreamsConfig cfg = config();
  cfg.set("metrics.recording.level", "DEBUG");
  KafkaStreams streams(topology, cfg, kafka_.clients("a"));
  streams.start();
  ASSERT_TRUE(streams.wait_for_running(kTimeout));
  kafka_.produce("in", "k", "v", now_ms());
  const PromText text = wait_for(
      streams,
      [](const PromText& t) {
        return t.sum("rivulet_records_processed_total") == 1 &&
               t.sum("rivulet_cache_size_bytes") > 0;
      },
      "the record in the cache");
  EXPECT_TRUE(text.has("rivulet_cache_evictions_total"));
  EXPECT_TRUE(text.has("rivulet_buffered_records"));
}

TEST_F(PrometheusMetrics, AbortedTransactionsAreCounted) {
  std::atomic<int> commits{0};
  kafka_.set_fault_hook([&](InMemoryKafka::FaultPoint point, const std::string&) {
    if (point == InMemoryKafka::FaultPoint::commit_transaction && ++commits == 2) {
      return InMemoryKafka::FaultAction::fail;
    }
    return InMemoryKafka::FaultAction::none;
  });
  const Topology topology = pass_through_topology();
  StreamsConfig cfg = config();
  cfg.set("processing.guarantee", "exactly_once_v2");
  KafkaStreams streams(topology, cfg, kafka_.clients("a"));
  streams.start();
  ASSERT_TRUE(streams.wait_for_running(kTimeout));
  int sent = 0;
  const PromText text = wait_for(
      streams,
      [&](const PromText& t) {
        kafka_.produce("in", "k", "v", now_ms());  // keep transactions coming
        ++sent;
        return t.sum("rivulet_transactions_aborted_total") == 1 && commits >= 3;
      },
      "one aborted transaction");
  EXPECT_EQ(streams.transactions_aborted(), 1u);
  EXPECT_GT(text.sum("rivulet_commits_total"), 0);
  EXPECT_GT(sent, 0);
}

}  // namespace
}  // namespace rivulet
