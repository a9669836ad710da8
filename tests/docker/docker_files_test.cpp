// docker/: no Docker engine runs on the development and CI machines, so the compose stack is
// checked by parsing its files: they must agree with each other (the compose file mounts files
// that exist, Prometheus scrapes the telemetry service on its application.server port, Grafana's
// provisioning finds the datasource and the dashboard), and the dashboard may only use metrics
// that a running KafkaStreams instance really exports.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <rivulet/rivulet.h>
#include <rivulet/testing/in_memory_kafka.h>

#include "kafka_test_support.h"
#include "prometheus_text.h"

#ifdef RIVULET_HAVE_TELEMETRY_TOPOLOGY
#include "telemetry_topology.h"
#endif

namespace rivulet {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kDocker = fs::path(RIVULET_TEST_SOURCE_DIR) / "docker";

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

YAML::Node compose() {
  return YAML::LoadFile((kDocker / "compose.yaml").string());
}

// A compose service's volumes as container path -> host path (relative to docker/).
std::map<std::string, std::string> volumes_of(const YAML::Node& service) {
  std::map<std::string, std::string> out;
  for (const YAML::Node& volume : service["volumes"]) {
    const std::string text = volume.as<std::string>();
    const auto first = text.find(':');
    const auto second = text.find(':', first + 1);
    out[text.substr(first + 1,
                    second == std::string::npos ? std::string::npos : second - first - 1)] =
        text.substr(0, first);
  }
  return out;
}

// "host:port" of a URL such as http://prometheus:9090.
std::string host_port_of(const std::string& url) {
  const auto scheme = url.find("://");
  std::string rest = scheme == std::string::npos ? url : url.substr(scheme + 3);
  return rest.substr(0, rest.find('/'));
}

// The telemetry replicas' --http argument: ":8080" makes each advertise its own host name (which
// Docker's DNS resolves to the replica) and listen on every address.
std::string application_server_of_telemetry() {
  const YAML::Node telemetry = compose()["services"]["telemetry"];
  std::vector<std::string> command;
  for (const YAML::Node& arg : telemetry["command"]) command.push_back(arg.as<std::string>());
  const auto http = std::find(command.begin(), command.end(), "--http");
  if (http == command.end() || http + 1 == command.end()) return "";
  return *(http + 1);
}

TEST(DockerFiles, ComposeRunsKafkaTwoTelemetryReplicasPrometheusAndGrafana) {
  const YAML::Node services = compose()["services"];
  for (const char* name : {"kafka", "telemetry", "prometheus", "grafana"}) {
    ASSERT_TRUE(services[name]) << "no service " << name;
  }
  const YAML::Node kafka = services["kafka"];
  EXPECT_EQ(kafka["image"].as<std::string>().rfind("apache/kafka:", 0), 0u);
  EXPECT_NE(kafka["environment"]["KAFKA_PROCESS_ROLES"].as<std::string>().find("controller"),
            std::string::npos)
      << "a single KRaft broker is its own controller";
  const std::string advertised =
      kafka["environment"]["KAFKA_ADVERTISED_LISTENERS"].as<std::string>();

  const YAML::Node telemetry = services["telemetry"];
  EXPECT_EQ(telemetry["deploy"]["replicas"].as<int>(), 2);
  EXPECT_TRUE(fs::exists(kDocker / telemetry["build"]["context"].as<std::string>() /
                         telemetry["build"]["dockerfile"].as<std::string>()));
  EXPECT_TRUE(fs::equivalent(kDocker / telemetry["build"]["context"].as<std::string>(),
                             fs::path(RIVULET_TEST_SOURCE_DIR)))
      << "the build context is the repository";
  std::vector<std::string> command;
  for (const YAML::Node& arg : telemetry["command"]) command.push_back(arg.as<std::string>());
  const auto bootstrap = std::find(command.begin(), command.end(), "--bootstrap");
  ASSERT_NE(bootstrap, command.end());
  ASSERT_NE(bootstrap + 1, command.end());
  EXPECT_NE(advertised.find("//" + *(bootstrap + 1)), std::string::npos)
      << "the replicas bootstrap from the broker's advertised listener " << advertised;
  EXPECT_EQ(application_server_of_telemetry(), ":8080");
  bool exposed = false;
  for (const YAML::Node& port : telemetry["expose"]) exposed |= port.as<std::string>() == "8080";
  EXPECT_TRUE(exposed);

  // Every file a service mounts exists.
  for (const auto& service : services) {
    if (!service.second["volumes"]) continue;
    for (const auto& [container, host] : volumes_of(service.second)) {
      EXPECT_TRUE(fs::exists(kDocker / host))
          << service.first.as<std::string>() << " mounts " << host << ", which does not exist";
    }
  }

#ifdef RIVULET_HAVE_TELEMETRY_TOPOLOGY
  // The topics the sample reads and writes are created before the replicas start.
  const std::string init = services["kafka-init"]["command"][0].as<std::string>();
  for (const char* topic : {telemetry::kTelemetryTopic, telemetry::kAlertsTopic,
                            telemetry::kCleanTopic, telemetry::kWindowsTopic}) {
    EXPECT_NE(init.find(std::string(" ") + topic + " "), std::string::npos) << topic;
  }
#endif
}

TEST(DockerFiles, TheDockerfileBuildsTheSampleWithTheProjectScriptsOnBookworm) {
  const std::string dockerfile = read_file(kDocker / "Dockerfile");
  EXPECT_NE(dockerfile.find("FROM debian:bookworm"), std::string::npos);
  EXPECT_NE(dockerfile.find("scripts/setup.sh"), std::string::npos);
  EXPECT_NE(dockerfile.find("scripts/build.sh"), std::string::npos);
  EXPECT_NE(dockerfile.find("EXPOSE 8080"), std::string::npos);
  EXPECT_NE(dockerfile.find("rivulet-telemetry-sample"), std::string::npos);
  EXPECT_TRUE(fs::exists(fs::path(RIVULET_TEST_SOURCE_DIR) / "scripts" / "setup.sh"));
  EXPECT_TRUE(fs::exists(fs::path(RIVULET_TEST_SOURCE_DIR) / "scripts" / "build.sh"));
}

TEST(DockerFiles, PrometheusScrapesEveryTelemetryReplicaOnItsApplicationServerPort) {
  const YAML::Node services = compose()["services"];
  const fs::path config_file = kDocker / "prometheus" / "prometheus.yml";
  const YAML::Node config = YAML::LoadFile(config_file.string());
  const std::string server = application_server_of_telemetry();
  const int port = std::stoi(server.substr(server.rfind(':') + 1));

  bool scraped = false;
  for (const YAML::Node& job : config["scrape_configs"]) {
    const std::string path =
        job["metrics_path"] ? job["metrics_path"].as<std::string>() : "/metrics";
    for (const YAML::Node& sd : job["dns_sd_configs"]) {
      for (const YAML::Node& name : sd["names"]) {
        EXPECT_TRUE(services[name.as<std::string>()]) << name.as<std::string>() << " is no service";
        if (name.as<std::string>() == "telemetry" && sd["port"].as<int>() == port &&
            path == "/metrics") {
          scraped = true;
        }
      }
    }
  }
  EXPECT_TRUE(scraped) << "no job scrapes telemetry:" << port << "/metrics";

  // The compose file mounts this file where Prometheus reads its configuration.
  const YAML::Node prometheus = services["prometheus"];
  std::string config_path = "/etc/prometheus/prometheus.yml";  // the image's default
  for (const YAML::Node& arg : prometheus["command"]) {
    const std::string text = arg.as<std::string>();
    if (text.rfind("--config.file=", 0) == 0) config_path = text.substr(14);
  }
  const auto volumes = volumes_of(prometheus);
  ASSERT_EQ(volumes.count(config_path), 1u);
  EXPECT_TRUE(fs::equivalent(kDocker / volumes.at(config_path), config_file));

  if (fs::exists("/usr/bin/promtool")) {
    const std::string command =
        "/usr/bin/promtool check config " + config_file.string() + " > /dev/null 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
  }
}

TEST(DockerFiles, GrafanaProvisionsThePrometheusDatasourceAndTheDashboard) {
  const YAML::Node services = compose()["services"];
  const auto volumes = volumes_of(services["grafana"]);
  ASSERT_EQ(volumes.count("/etc/grafana/provisioning"), 1u);
  const fs::path provisioning = kDocker / volumes.at("/etc/grafana/provisioning");

  const YAML::Node datasources =
      YAML::LoadFile((provisioning / "datasources" / "prometheus.yaml").string())["datasources"];
  ASSERT_EQ(datasources.size(), 1u);
  const YAML::Node datasource = datasources[0];
  EXPECT_EQ(datasource["type"].as<std::string>(), "prometheus");
  const std::string uid = datasource["uid"].as<std::string>();
  const std::string host_port = host_port_of(datasource["url"].as<std::string>());
  EXPECT_EQ(host_port.substr(0, host_port.find(':')), "prometheus");
  EXPECT_TRUE(services[host_port.substr(0, host_port.find(':'))]);
  bool published = false;
  for (const YAML::Node& port : services["prometheus"]["ports"]) {
    const std::string text = port.as<std::string>();
    published |= text.substr(text.rfind(':') + 1) == host_port.substr(host_port.find(':') + 1);
  }
  EXPECT_TRUE(published) << "Prometheus listens on " << host_port;

  const YAML::Node providers =
      YAML::LoadFile((provisioning / "dashboards" / "rivulet.yaml").string())["providers"];
  ASSERT_EQ(providers.size(), 1u);
  const std::string dashboards_path = providers[0]["options"]["path"].as<std::string>();
  ASSERT_EQ(volumes.count(dashboards_path), 1u)
      << "the provider reads " << dashboards_path << ", which Grafana's service does not mount";
  const fs::path dashboard_file = kDocker / volumes.at(dashboards_path) / "rivulet.json";
  ASSERT_TRUE(fs::exists(dashboard_file));

  const json dashboard = json::parse(read_file(dashboard_file));
  EXPECT_FALSE(dashboard.at("uid").get<std::string>().empty());
  EXPECT_FALSE(dashboard.at("title").get<std::string>().empty());
  int with_queries = 0;
  for (const json& panel : dashboard.at("panels")) {
    if (panel.at("type") == "row") continue;
    EXPECT_EQ(panel.at("datasource").at("uid"), uid) << panel.at("title");
    for (const json& target : panel.at("targets")) {
      EXPECT_EQ(target.at("datasource").at("uid"), uid) << panel.at("title");
      EXPECT_FALSE(target.at("expr").get<std::string>().empty());
    }
    ++with_queries;
  }
  EXPECT_GE(with_queries, 10);
}

// Every PromQL expression of the dashboard (panels and template variables).
std::vector<std::string> dashboard_expressions() {
  const json dashboard =
      json::parse(read_file(kDocker / "grafana" / "dashboards" / "rivulet.json"));
  std::vector<std::string> out;
  for (const json& panel : dashboard.at("panels")) {
    if (!panel.contains("targets")) continue;
    for (const json& target : panel.at("targets")) out.push_back(target.at("expr"));
  }
  for (const json& variable : dashboard.at("templating").at("list")) {
    if (variable.contains("definition")) out.push_back(variable.at("definition"));
  }
  return out;
}

std::set<std::string> metric_names_in(const std::vector<std::string>& expressions) {
  std::set<std::string> names;
  const std::regex metric("rivulet_[a-zA-Z0-9_]+");
  for (const std::string& expression : expressions) {
    for (auto it = std::sregex_iterator(expression.begin(), expression.end(), metric);
         it != std::sregex_iterator(); ++it) {
      names.insert(it->str());
    }
  }
  return names;
}

TEST(DockerFiles, TheDashboardShowsWhatTheBriefAsksFor) {
  const std::set<std::string> used = metric_names_in(dashboard_expressions());
  for (const char* name :
       {"rivulet_records_consumed_total", "rivulet_records_processed_total",
        "rivulet_records_produced_total", "rivulet_process_latency_seconds_bucket",
        "rivulet_end_to_end_latency_seconds_bucket", "rivulet_consumer_lag_records",
        "rivulet_commit_latency_seconds_bucket", "rivulet_transactions_aborted_total",
        "rivulet_rebalances_total", "rivulet_assigned_tasks", "rivulet_store_size_bytes",
        "rivulet_store_entries", "rivulet_rocksdb_memory_bytes", "rivulet_cache_hit_ratio",
        "rivulet_late_records_dropped_total", "rivulet_dead_lettered_records_total",
        "rivulet_skipped_records_total", "rivulet_instance_state"}) {
    EXPECT_EQ(used.count(name), 1u) << name << " is on no panel";
  }
  const std::string all = [] {
    std::string text;
    for (const std::string& e : dashboard_expressions()) text += e + "\n";
    return text;
  }();
  EXPECT_NE(
      all.find("histogram_quantile(0.99, sum by (le) (rate(rivulet_process_latency_seconds_bucket"),
      std::string::npos);
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

TEST(DockerFiles, EveryMetricTheDashboardUsesIsExportedByARunningInstance) {
  const fs::path dir =
      fs::temp_directory_path() / ("rivulet-docker-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  testing::InMemoryKafka kafka;
  kafka.create_topic("in", 2);
  kafka.create_topic("out", 2);
  kafka.create_topic("dlq", 1);
  StreamsBuilder builder;
  builder.stream<std::string, std::int64_t>("in")
      .group_by_key()
      .windowed_by(
          TimeWindows::of_size_and_grace(std::chrono::seconds(10), std::chrono::seconds(0)))
      .count(Materialized<std::string, std::int64_t>::as("counts"))
      .to_stream()
      .to("out");
  const Topology topology = builder.build();
  auto config = [&](const std::string& state) {
    StreamsConfig c;
    c.set("application.id", "dashboard-check")
        .set("bootstrap.servers", "in-memory")
        .set("commit.interval.ms", 50)
        .set("state.dir", (dir / state).string())
        .set("default.deserialization.exception.handler", "log_and_continue")
        .set("errors.dead.letter.queue.topic.name", "dlq");
    return c;
  };
  const std::int64_t base = 1'700'000'000'000;
  {
    // A first instance leaves state in the changelog for the second to restore.
    KafkaStreams first(topology, config("first"), kafka.clients("first"));
    first.start();
    ASSERT_TRUE(first.wait_for_running(std::chrono::seconds(60)));
    for (int i = 0; i < 20; ++i) kafka.produce("in", "k" + std::to_string(i), int64_bytes(i), base);
    ASSERT_TRUE(test::wait_until([&] { return first.metrics().records_processed == 20; }));
    first.close();
  }
  KafkaStreams streams(topology, config("second"), kafka.clients("second"));
  streams.start();
  ASSERT_TRUE(streams.wait_for_running(std::chrono::seconds(60)));
  kafka.produce("in", "k0", int64_bytes(1), base + 60'000);
  kafka.produce("in", "k0", int64_bytes(2), base + 1'000);  // late: its window closed
  kafka.produce("in", "k1", "bad", base + 60'000);          // not an Int64: skipped, dead-lettered

  const std::set<std::string> used = metric_names_in(dashboard_expressions());
  std::string last;
  std::set<std::string> missing;
  test::wait_until(
      [&] {
        last = streams.prometheus_metrics();
        const test::PromText text(last);
        missing.clear();
        for (const std::string& name : used) {
          std::string family = name;
          for (const char* suffix : {"_bucket", "_sum", "_count"}) {
            const std::string s(suffix);
            if (name.ends_with(s)) {
              const std::string base_name = name.substr(0, name.size() - s.size());
              auto type = text.types().find(base_name);
              if (type != text.types().end() && type->second == "histogram") family = base_name;
            }
          }
          if (text.types().count(family) == 0 || text.find(name).empty()) missing.insert(name);
        }
        return missing.empty();
      },
      std::chrono::seconds(60));
  for (const std::string& name : missing) {
    ADD_FAILURE() << name << " is on the dashboard but not exported";
  }
  if (!missing.empty()) std::cerr << "last scrape:\n" << last;
  streams.close();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace rivulet
