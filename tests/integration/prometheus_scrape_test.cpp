// The real Prometheus server (Debian's `prometheus`) scrapes a running application's /metrics:
// an application on the development broker (real librdkafka) counts records, Prometheus scrapes
// it every second, and its query API must show Rivulet's metrics with the values the application
// has: records processed, tasks, the instance state, latency histograms, consumer lag from
// librdkafka's statistics.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>

#include "http_test_support.h"
#include "kafka_test_support.h"
#include "process_runner.h"

namespace rivulet {
namespace {

using namespace std::chrono_literals;
using test::unique_name;
using test::wait_until;

constexpr const char* kPrometheus = "/usr/bin/prometheus";

// A program running in the background until destroyed (SIGTERM, then SIGKILL after 10 s).
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::filesystem::path& log) {
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (::posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~BackgroundProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    if (!wait_until([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, 10s)) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  bool started() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

std::string url_encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// The samples of an instant query through Prometheus' HTTP API; empty when it has none (yet).
std::vector<nlohmann::json> query(std::uint16_t port, const std::string& expression) {
  const test::HttpReply reply =
      test::http_get(port, "/api/v1/query?query=" + url_encode(expression));
  if (reply.status != 200) return {};
  const nlohmann::json json = reply.json();
  if (json.is_discarded() || json.value("status", "") != "success") return {};
  return json["data"]["result"].get<std::vector<nlohmann::json>>();
}

// The value of a query that gives one sample.
std::optional<double> scalar(std::uint16_t port, const std::string& expression) {
  const auto samples = query(port, expression);
  if (samples.size() != 1) return std::nullopt;
  return std::stod(samples[0]["value"][1].get<std::string>());
}

TEST(PrometheusScrape, ThePrometheusServerScrapesTheApplicationsMetrics) {
  if (!std::filesystem::exists(kPrometheus)) {
    GTEST_SKIP() << kPrometheus << " is not installed (scripts/setup.sh installs it)";
  }
  DevBroker broker(DevBroker::Options{.brokers = 1});
  const std::string in = unique_name("scrape-in");
  const std::string app = unique_name("scrape-app");
  broker.create_topic(in, 4);
  const auto dir = std::filesystem::temp_directory_path() / unique_name("rivulet-scrape");
  std::filesystem::create_directories(dir);

  StreamsBuilder builder;
  builder.stream<std::string, std::string>(in).group_by_key().count(
      Materialized<std::string, std::int64_t>::as("counts"));
  const Topology topology = builder.build();
  StreamsConfig config = test::runtime_test_config(broker.bootstrap_servers(), app);
  config.set("state.dir", (dir / "state").string())
      .set("application.server", "127.0.0.1:0")
      .set("consumer.statistics.interval.ms", "500");
  KafkaStreams streams(topology, config);
  streams.start();
  ASSERT_NE(streams.http_port(), 0);

  constexpr int kRecords = 500;
  {
    test::PlainProducer producer(broker.bootstrap_servers());
    for (int i = 0; i < kRecords; ++i) {
      producer.send(in, fmt::format("k{}", i % 20), "x", 1'700'000'000'000 + i);
    }
    producer.flush();
  }
  ASSERT_TRUE(wait_until([&] { return streams.metrics().records_processed == kRecords; }, 90s))
      << streams.metrics().records_processed << " of " << kRecords << " processed";

  const std::uint16_t prometheus_port = static_cast<std::uint16_t>(test::free_tcp_port());
  {
    std::ofstream yaml(dir / "prometheus.yml");
    yaml << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
         << "scrape_configs:\n  - job_name: rivulet\n    static_configs:\n"
         << "      - targets: ['127.0.0.1:" << streams.http_port() << "']\n";
  }
  BackgroundProcess prometheus({kPrometheus, "--config.file=" + (dir / "prometheus.yml").string(),
                                "--storage.tsdb.path=" + (dir / "tsdb").string(),
                                fmt::format("--web.listen-address=127.0.0.1:{}", prometheus_port)},
                               dir / "prometheus.log");
  ASSERT_TRUE(prometheus.started());
  auto log = [&] {
    std::ifstream file(dir / "prometheus.log");
    return std::string(std::istreambuf_iterator<char>(file), {});
  };

  // Scraped, and up.
  ASSERT_TRUE(
      wait_until([&] { return scalar(prometheus_port, "up{job=\"rivulet\"}") == 1.0; }, 60s))
      << "Prometheus did not scrape the application; its log:\n"
      << log();
  const std::string where = fmt::format("{{application=\"{}\"}}", app);
  EXPECT_TRUE(wait_until(
      [&] {
        return scalar(prometheus_port, "sum(rivulet_records_processed_total" + where + ")") ==
               kRecords;
      },
      30s))
      << "records processed as Prometheus saw them";
  EXPECT_GE(scalar(prometheus_port, "sum(rivulet_records_consumed_total" + where + ")").value_or(0),
            kRecords);
  EXPECT_EQ(scalar(prometheus_port, "sum(rivulet_assigned_tasks" + where + ")"), 4.0);
  EXPECT_EQ(
      scalar(prometheus_port,
             fmt::format("rivulet_instance_state{{application=\"{}\",state=\"RUNNING\"}}", app)),
      1.0);
  EXPECT_GT(scalar(prometheus_port, "sum(rivulet_process_latency_seconds_count" + where + ")")
                .value_or(0),
            0.0);
  const std::optional<double> p99 =
      scalar(prometheus_port,
             "histogram_quantile(0.99, sum by (le) (rivulet_process_latency_seconds_bucket" +
                 where + "))");
  ASSERT_TRUE(p99.has_value());
  EXPECT_GT(*p99, 0.0);
  EXPECT_LT(*p99, 1.0) << "a per-record latency under a second";
  EXPECT_EQ(scalar(prometheus_port, "sum(rivulet_store_entries" + where + ")"), 20.0)
      << "the 20 keys";
  // Consumer lag per partition from librdkafka's statistics: every partition read to its end.
  EXPECT_TRUE(wait_until(
      [&] {
        const auto lag = query(prometheus_port, "rivulet_consumer_lag_records" + where);
        if (lag.size() != 4) return false;
        for (const auto& sample : lag) {
          if (sample["value"][1].get<std::string>() != "0") return false;
        }
        return true;
      },
      30s))
      << "lag series of the 4 partitions, at 0";
  streams.close(30s);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace
}  // namespace rivulet
