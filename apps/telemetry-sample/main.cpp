// rivulet-telemetry-sample: the vehicle telemetry topology running on Kafka.
//
// The first copy started on a machine starts the embedded development broker (librdkafka's mock
// cluster) with a bootstrap port on 127.0.0.1 (9092 by default), creates the topics, and runs a
// generator that writes JSON readings (with a few anomalies and a few corrupt records) into
// raw.vehicle.telemetry at a fixed rate. Every copy runs the topology as one instance of the
// application `telemetry-sample`: a copy started while the first runs finds the port taken, joins
// that broker and the same consumer group, and takes over half of the partitions. Each copy
// prints the alerts it raises and a throughput line every second. The application runs with
// processing.guarantee=exactly_once_v2 (see telemetry_topology.h for what it computes).
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <rivulet/dev_broker.h>
#include <rivulet/kafka_streams.h>

#include "telemetry_topology.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;

constexpr const char* kDeadLetterTopic = "raw.vehicle.telemetry.dlq";
constexpr int kPartitions = 6;

struct Options {
  double seconds = 10;
  int rate = 2000;  // records per second
  int vehicles = 50;
  int port = 9092;
  int threads = 1;
  std::string bootstrap;             // join this cluster instead of starting or finding a broker
  std::string http = "127.0.0.1:0";  // application.server; port 0: any free port
  bool generate = true;
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

// Writes generated readings to the telemetry topic at a fixed rate with a plain librdkafka
// producer, as a device gateway would, on its own thread.
class Feeder {
 public:
  Feeder(const std::string& bootstrap, const Options& options)
      : generator_(options.vehicles, options.seed), rate_(options.rate) {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof error);
    rd_kafka_conf_set(conf, "partitioner", "murmur2_random", error, sizeof error);
    rd_kafka_conf_set(conf, "linger.ms", "5", error, sizeof error);
    producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (producer_ == nullptr) throw std::runtime_error(error);
    topic_ = rd_kafka_topic_new(producer_, telemetry::kTelemetryTopic, nullptr);
    thread_ = std::thread([this] { run(); });
  }
  ~Feeder() {
    stop_ = true;
    thread_.join();
    rd_kafka_flush(producer_, 5000);
    rd_kafka_topic_destroy(topic_);
    rd_kafka_destroy(producer_);
  }
  Feeder(const Feeder&) = delete;
  Feeder& operator=(const Feeder&) = delete;

  std::uint64_t sent() const { return sent_.load(); }

 private:
  void run() {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const auto interval = std::chrono::nanoseconds(1'000'000'000LL / std::max(1, rate_));
    std::string key;
    for (std::uint64_t n = 0; !stop_; ++n) {
      std::this_thread::sleep_until(start + interval * n);
      const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count();
      std::string value = generator_.next(now_ms, key);
      if (rd_kafka_produce(topic_, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, value.data(),
                           value.size(), key.data(), key.size(), nullptr) == 0) {
        ++sent_;
      }
      rd_kafka_poll(producer_, 0);
    }
  }

  Generator generator_;
  int rate_;
  rd_kafka_t* producer_ = nullptr;
  rd_kafka_topic_t* topic_ = nullptr;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> sent_{0};
  std::thread thread_;
};

std::string task_list(const rivulet::KafkaStreams& streams) {
  std::vector<std::string> ids;
  for (const auto& thread : streams.metadata_for_local_threads()) {
    for (const rivulet::TaskId& id : thread.active_tasks) ids.push_back(id.to_string());
  }
  return fmt::format("{}", fmt::join(ids, ","));
}

// "--http :8080" advertises this machine's host name (a container's, in docker/compose.yaml).
std::string advertised_http(const std::string& http) {
  if (http.empty() || http.front() != ':') return http;
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0) return "localhost" + http;
  return std::string(name.data()) + http;
}

int run(const Options& options) {
  // Where the cluster is: given, or the broker this copy starts, or the one another copy started.
  std::unique_ptr<rivulet::DevBroker> broker;
  std::string bootstrap = options.bootstrap;
  bool owner = false;
  if (bootstrap.empty()) {
    try {
      broker = std::make_unique<rivulet::DevBroker>(
          rivulet::DevBroker::Options{.brokers = 3, .port = options.port});
      owner = true;
      for (const char* topic :
           {telemetry::kTelemetryTopic, telemetry::kAlertsTopic, telemetry::kCleanTopic,
            telemetry::kWindowsTopic, kDeadLetterTopic}) {
        broker->create_topic(topic, kPartitions);
      }
      for (const char* topic : telemetry::kInternalTopics) broker->create_topic(topic, kPartitions);
      std::printf(
          "started the development broker: bootstrap.servers=%s (%d partitions per topic)\n",
          broker->bootstrap_servers().c_str(), kPartitions);
    } catch (const rivulet::StreamsException& error) {
      std::printf("port %d is taken (%s): joining the broker there as another instance\n",
                  options.port, error.what());
    }
    bootstrap = broker ? broker->bootstrap_servers() : fmt::format("127.0.0.1:{}", options.port);
  }

  std::mutex print_mutex;
  std::atomic<std::uint64_t> alerts{0};
  rivulet::Topology topology = telemetry::build_topology([&](const telemetry::Alert& alert) {
    ++alerts;
    std::lock_guard lock(print_mutex);
    std::printf("ALERT %-12s vehicle=%s value=%.1f threshold=%.1f\n", alert.kind.c_str(),
                alert.vehicle_id.c_str(), alert.value, alert.threshold);
  });
  if (options.describe) std::printf("%s", topology.describe().to_string().c_str());

  rivulet::StreamsConfig config;
  config.set("application.id", "telemetry-sample")
      .set("bootstrap.servers", bootstrap)
      .set("num.stream.threads", options.threads)
      // Alerts are neither lost nor doubled: output, window state and offsets commit together,
      // every 100 ms (alerts reach read_committed readers within that).
      .set("processing.guarantee", "exactly_once_v2")
      .set("default.api.timeout.ms", 10'000)
      .set("default.deserialization.exception.handler", "log_and_continue")
      .set("errors.dead.letter.queue.topic.name", kDeadLetterTopic)
      .set("consumer.session.timeout.ms", "6000")
      .set("consumer.heartbeat.interval.ms", "500")
      .set("consumer.fetch.wait.max.ms", "50")
      // Interactive queries, /metrics, /health and /ready.
      .set("application.server", advertised_http(options.http));
  if (!options.http.empty() && options.http.front() == ':') {
    config.set("http.bind.address", "0.0.0.0");
  }
  rivulet::KafkaStreams streams(topology, config);
  streams.set_state_listener([&](auto now, auto before) {
    std::lock_guard lock(print_mutex);
    std::printf("state %s -> %s\n", std::string(rivulet::to_string(before)).c_str(),
                std::string(rivulet::to_string(now)).c_str());
  });
  streams.start();
  if (!options.http.empty()) {
    const std::string host = options.http.substr(0, options.http.rfind(':'));
    std::lock_guard lock(print_mutex);
    std::printf(
        "HTTP on http://%s:%u: /ready, /metrics, /topology, /stores, and a vehicle's windows at "
        "/stores/vehicle-windows/keys/V-007\n",
        host.c_str(), static_cast<unsigned>(streams.http_port()));
  }
  std::optional<Feeder> feeder;
  if (owner && options.generate) feeder.emplace(bootstrap, options);

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto end = options.seconds > 0 ? start + std::chrono::duration_cast<Clock::duration>(
                                                     std::chrono::duration<double>(options.seconds))
                                       : Clock::time_point::max();
  auto next_report = start + std::chrono::seconds(1);
  std::uint64_t last_processed = 0;
  while (g_stop == 0 && streams.state() != rivulet::KafkaStreams::State::error &&
         Clock::now() < end) {
    std::this_thread::sleep_until(std::min(next_report, end));
    if (Clock::now() < next_report) continue;
    const rivulet::TaskMetrics m = streams.metrics();
    std::lock_guard lock(print_mutex);
    std::printf(
        "[%5.1fs] %s | generated %llu | processed %llu/s (total %llu) | alerts %llu | "
        "corrupt dead-lettered %llu | tasks [%s]\n",
        std::chrono::duration<double>(Clock::now() - start).count(),
        std::string(rivulet::to_string(streams.state())).c_str(),
        static_cast<unsigned long long>(feeder ? feeder->sent() : 0),
        static_cast<unsigned long long>(m.records_processed - last_processed),
        static_cast<unsigned long long>(m.records_processed),
        static_cast<unsigned long long>(alerts.load()),
        static_cast<unsigned long long>(m.dead_lettered), task_list(streams).c_str());
    std::fflush(stdout);
    last_processed = m.records_processed;
    next_report += std::chrono::seconds(1);
  }
  feeder.reset();
  const bool failed = streams.state() == rivulet::KafkaStreams::State::error;
  streams.close(std::chrono::seconds(30));
  const rivulet::TaskMetrics m = streams.metrics();
  std::printf(
      "done: %llu records processed, %llu alerts, %llu corrupt dead-lettered, %llu commits\n",
      static_cast<unsigned long long>(m.records_processed),
      static_cast<unsigned long long>(alerts.load()),
      static_cast<unsigned long long>(m.dead_lettered),
      static_cast<unsigned long long>(streams.commits()));
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Vehicle telemetry alerts on Kafka (Rivulet sample). The first copy starts a development "
      "broker and a generator; run a second copy in another terminal to share the partitions."};
  Options options;
  app.add_option("--seconds", options.seconds, "how long to run; 0 runs until Ctrl-C")
      ->capture_default_str();
  app.add_option("--rate", options.rate, "generated readings per second")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--vehicles", options.vehicles, "vehicles in the fleet")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--port", options.port, "bootstrap port of the development broker")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  app.add_option("--bootstrap", options.bootstrap,
                 "use this Kafka cluster instead of a development broker (topics must exist)");
  app.add_option("--http", options.http,
                 "host:port of the HTTP endpoint (queries, metrics); port 0 picks a free one, "
                 "':port' advertises this host's name and listens on every address, an empty "
                 "value turns it off")
      ->capture_default_str();
  app.add_option("--threads", options.threads, "stream threads")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--seed", options.seed, "random seed")->capture_default_str();
  app.add_flag("!--no-generate", options.generate, "do not run the generator");
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
