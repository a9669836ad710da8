// End-to-end latency and throughput on the development broker (librdkafka's mock cluster, one
// broker, in this process), under an open-loop load, for three systems under test:
//   baseline     a plain librdkafka loop: one consumer in a group and one producer, every record
//                forwarded unchanged; every 100 ms it flushes the producer, then commits
//                (synchronously) the offsets after the records forwarded: what Rivulet does
//                at-least-once with commit.interval.ms=100;
//   passthrough  Rivulet: builder.stream<std::string, std::string>(in).to(out);
//   passthrough_eos  the same under processing.guarantee=exactly_once_v2 (transactions committed
//                every 100 ms, as the others' offsets); its measurer reads read_committed, so a
//                record counts once the transaction that wrote it committed;
//   filter_map   Rivulet: filter on a field of the JSON-ish text value, then map_values that
//                parses a number and rewrites the value (every record passes the filter, so that
//                output and input rates compare directly).
// and `direct`, no system at all: the measurer reads the generator's topic, the harness's floor.
//
// Each run segment starts a fresh broker, fresh topics (4 partitions) and a fresh group /
// application id, and waits until the system under test owns its partitions
// (KafkaStreams::wait_for_running). 100 priming records then go through the whole pipeline, so
// that the clients' first metadata requests and connections are out of the way. Then a generator
// thread offers R records/s for warm-up + measured seconds: record i is due at t0 + i/R and is
// sent as soon as it is due, whatever the system under test does (open loop, no coordinated
// omission). Its value (96 bytes) carries the due time in nanoseconds (steady_clock; everything
// runs in this process) and its sequence number; keys cycle over 1000 values. A measuring
// consumer (no group, assigned to every partition of `out`) takes the time each output record
// comes out of rd_kafka_consumer_poll. Latency = that time - the due time, over the records due
// in the measured window; records missing at the end count as infinitely late. Throughput =
// output records received during the measured window / its length. CPU: the whole process's, and
// the system under test's alone (the threads it started: its own and its Kafka clients'), per
// output record.
//
// A rate is "sustained" when the output throughput is at least 95% of the offered rate and p99
// stays under --max-p99-ms (250). After the fixed load (10k records/s), the search offers 80k,
// 160k, 240k, 320k, 480k, ... records/s until a rate is not sustained, then bisects twice between
// the last rate sustained and the first one not. A segment whose backlog (records sent but not yet
// received by the measurer) exceeds 2 s of load or 100k records is stopped early: it is not
// sustained, and the mock broker would soon drop records not yet consumed (it keeps about 5 MiB per
// partition).
//
// Every consumer (Rivulet's, the baseline's, the measurer's) uses the same fetch.wait.max.ms
// (--fetch-wait-ms): the mock broker holds an empty Fetch for that long even when data arrives
// meanwhile, so the setting bounds the latency each consumer hop may add.
//
// Run: scripts/bench.sh e2e [--quick] [--seconds N]   (figures in docs/benchmarks.md)
//      build/release/benchmarks/rivulet_e2e_bench --help
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <rivulet/dev_broker.h>
#include <rivulet/rivulet.h>

#include "bench_support.h"

namespace {

using rivulet::bench::cpu_seconds;
using rivulet::bench::split;
using rivulet::bench::system_ms;

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

constexpr int kPartitions = 4;
constexpr std::int64_t kMaxBacklog = 100'000;  // records; see run_segment
constexpr double kInfinity = std::numeric_limits<double>::infinity();

using Settings = std::vector<std::pair<std::string, std::string>>;

enum class System { baseline, passthrough, filter_map, direct, passthrough_eos };

std::string_view name_of(System system) {
  switch (system) {
    case System::baseline:
      return "baseline";
    case System::passthrough:
      return "passthrough";
    case System::filter_map:
      return "filter_map";
    case System::direct:
      return "direct";
    case System::passthrough_eos:
      return "passthrough_eos";
  }
  return "?";
}

struct Options {
  double warmup_s = 5;  // the fixed-load segment
  double measure_s = 10;
  double search_warmup_s = 2;  // the segments of the search for the maximum
  double search_measure_s = 4;
  bool quick = false;        // 10k records/s only
  long fixed_rate = 10'000;  // the fixed-load segment
  std::vector<long> search_rates = {80'000, 160'000, 240'000, 320'000, 480'000, 640'000, 960'000};
  int refine = 2;                    // bisection steps after the first rate not sustained
  double max_p99_ms = 250;           // above this p99, a rate is not sustained
  int fetch_wait_ms = 10;            // fetch.wait.max.ms of every consumer
  int generator_linger_ms = 5;       // linger.ms of the generator's producer
  std::optional<int> sut_linger_ms;  // linger.ms of both systems' producers
  int keys = 1000;
  Settings extra;  // librdkafka settings for every client (--set key=value)
  std::vector<System> systems = {System::direct, System::baseline, System::passthrough,
                                 System::filter_map, System::passthrough_eos};
};

std::int64_t steady_ns() {
  return std::chrono::duration_cast<nanoseconds>(Clock::now().time_since_epoch()).count();
}

// The threads of this process.
std::set<int> thread_ids() {
  std::set<int> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    out.insert(std::atoi(entry.path().filename().c_str()));
  }
  return out;
}

// CPU time of some threads of this process (ns resolution, from schedstat); threads that ended
// count for nothing.
double threads_cpu_seconds(const std::vector<int>& tids) {
  double total = 0;
  for (int tid : tids) {
    std::FILE* file = std::fopen(fmt::format("/proc/self/task/{}/schedstat", tid).c_str(), "r");
    if (file == nullptr) continue;
    unsigned long long on_cpu_ns = 0;
    if (std::fscanf(file, "%llu", &on_cpu_ns) == 1) total += static_cast<double>(on_cpu_ns) / 1e9;
    std::fclose(file);
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// librdkafka helpers

// Creates a client from `settings`, then `extra` (which wins).
rd_kafka_t* new_client(rd_kafka_type_t type, const Settings& settings, const Settings& extra,
                       void (*dr_msg_cb)(rd_kafka_t*, const rd_kafka_message_t*, void*) = nullptr,
                       void* opaque = nullptr) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Settings all = settings;
  all.insert(all.end(), extra.begin(), extra.end());
  for (const auto& [key, value] : all) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(fmt::format("{}={}: {}", key, value, error));
    }
  }
  if (dr_msg_cb != nullptr) rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
  if (opaque != nullptr) rd_kafka_conf_set_opaque(conf, opaque);
  rd_kafka_t* rk = rd_kafka_new(type, conf, error, sizeof error);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(fmt::format("rd_kafka_new: {}", error));
  }
  if (type == RD_KAFKA_CONSUMER) rd_kafka_poll_set_consumer(rk);
  return rk;
}

// Sends one record, copying key and value; waits for room when the local queue is full. Takes
// `headers` (may be null) on success. (Through a topic handle: RD_KAFKA_V_TOPIC would look the
// topic up by name, under a lock, for every record.)
void produce(rd_kafka_t* rk, rd_kafka_topic_t* topic, const void* key, std::size_t key_len,
             const void* value, std::size_t value_len, std::int64_t timestamp,
             rd_kafka_headers_t* headers = nullptr) {
  for (;;) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
    const rd_kafka_resp_err_t err =
        headers == nullptr
            ? rd_kafka_producev(rk, RD_KAFKA_V_RKT(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_KEY(const_cast<void*>(key), key_len),
                                RD_KAFKA_V_VALUE(const_cast<void*>(value), value_len),
                                RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_END)
            : rd_kafka_producev(rk, RD_KAFKA_V_RKT(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_KEY(const_cast<void*>(key), key_len),
                                RD_KAFKA_V_VALUE(const_cast<void*>(value), value_len),
                                RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_HEADERS(headers),
                                RD_KAFKA_V_END);
#pragma GCC diagnostic pop
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      if (headers != nullptr) rd_kafka_headers_destroy(headers);
      throw std::runtime_error(
          fmt::format("produce to {}: {}", rd_kafka_topic_name(topic), rd_kafka_err2str(err)));
    }
    rd_kafka_poll(rk, 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Record values: JSON-ish text, fixed width, so that every record has the same size.
//   {"sent_ns":0001234567890123456,"seq":0000000042,"vehicle":"key-042","speed_kmh":087.5,"ok":true}
// (96 bytes; the key, "key-042", is 7).
// `sent_ns` stays the first field and `seq` the second in every system's output.

constexpr std::string_view kSentPrefix = "{\"sent_ns\":";
constexpr std::size_t kSentDigits = 19;
constexpr std::string_view kSeqPrefix = ",\"seq\":";
constexpr std::size_t kSeqDigits = 10;

// Priming records (see Generator::prime) carry sequence numbers from here on.
constexpr std::int64_t kPrimingSeq = 9'000'000'000;

struct Stamp {
  std::int64_t sent_ns = 0;
  std::int64_t seq = 0;
};

std::optional<Stamp> parse_stamp(const char* data, std::size_t size) {
  const std::size_t seq_at = kSentPrefix.size() + kSentDigits + kSeqPrefix.size();
  if (size < seq_at + kSeqDigits) return std::nullopt;
  Stamp stamp;
  const char* sent = data + kSentPrefix.size();
  if (std::from_chars(sent, sent + kSentDigits, stamp.sent_ns).ec != std::errc{}) {
    return std::nullopt;
  }
  if (std::from_chars(data + seq_at, data + seq_at + kSeqDigits, stamp.seq).ec != std::errc{}) {
    return std::nullopt;
  }
  return stamp;
}

// The filter_map topology's functions: keep "ok":true records, convert km/h to m/s.
bool is_ok(const std::string& value) {
  return value.find("\"ok\":true") != std::string::npos;
}

std::string to_meters_per_second(const std::string& value) {
  constexpr std::string_view kSpeed = "\"speed_kmh\":";
  const std::size_t vehicle = value.find(",\"vehicle\":");
  const std::size_t speed = value.find(kSpeed);
  double kmh = 0;
  if (speed != std::string::npos) {
    const char* begin = value.data() + speed + kSpeed.size();
    std::from_chars(begin, value.data() + value.size(), kmh);
  }
  // Keeps {"sent_ns":...,"seq":...,"vehicle":"..." and appends the converted speed.
  const std::size_t vehicle_end =
      vehicle == std::string::npos ? value.size() : value.find(',', vehicle + 1);
  std::string out;
  out.reserve(vehicle_end + 24);
  out.append(value, 0, vehicle_end);
  fmt::format_to(std::back_inserter(out), ",\"speed_ms\":{:.2f}}}", kmh / 3.6);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The open-loop generator: record i is due at t0 + i/rate and sent as soon as it is due.

class Generator {
 public:
  Generator(const std::string& bootstrap, std::string topic, long rate, std::int64_t total,
            const Options& options)
      : topic_(std::move(topic)), rate_(rate), total_(total), options_(options) {
    rk_ = new_client(RD_KAFKA_PRODUCER,
                     {{"bootstrap.servers", bootstrap},
                      {"client.id", "e2e-generator"},
                      {"partitioner", "murmur2_random"},
                      {"linger.ms", std::to_string(options.generator_linger_ms)},
                      {"queue.buffering.max.messages", "2000000"},
                      {"queue.buffering.max.kbytes", "1048576"}},
                     options.extra);
    rkt_ = rd_kafka_topic_new(rk_, topic_.c_str(), nullptr);
  }
  ~Generator() {
    stop();
    rd_kafka_flush(rk_, 5'000);
    rd_kafka_topic_destroy(rkt_);
    rd_kafka_destroy(rk_);
  }
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  // Sends `count` priming records (sequence numbers from kPrimingSeq), now, and waits until they
  // are delivered: connections and metadata are in place before the timed load begins.
  void prime(int count) {
    std::string value;
    for (int i = 0; i < count; ++i) {
      const std::string key = fmt::format("key-{:03}", i % options_.keys);
      format_value(value, steady_ns(), kPrimingSeq + i, key, 0);
      produce(rk_, rkt_, key.data(), key.size(), value.data(), value.size(), system_ms());
    }
    rd_kafka_flush(rk_, 30'000);
  }

  void start(Clock::time_point t0) {
    thread_ = std::thread([this, t0] {
      pthread_setname_np(pthread_self(), "e2e-generator");
      run(t0);
    });
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  bool done() const { return done_; }
  std::int64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  // How late the generator itself sent records (send time - due time): its own limit.
  double lateness_p99_ms() const { return lateness_p99_ms_; }

  // When record `i` is due, as nanoseconds after t0.
  static std::int64_t due_offset_ns(std::int64_t i, long rate) { return i * 1'000'000'000 / rate; }

 private:
  // Writes `digits` decimal digits of `number`, zero-padded, ending just before `end`.
  static void put_digits(char* end, std::size_t digits, std::uint64_t number) {
    for (std::size_t i = 0; i < digits; ++i) {
      *--end = static_cast<char>('0' + number % 10);
      number /= 10;
    }
  }

  // The value of a record, written into a fixed template (fmt::format_to cost the generator more
  // than librdkafka did at high rates). `tenth_kmh` is the speed in tenths of km/h, 0..9999.
  static void format_value(std::string& value, std::int64_t due_ns, std::int64_t seq,
                           const std::string& key, int tenth_kmh) {
    static constexpr std::string_view kTemplate =
        "{\"sent_ns\":0000000000000000000,\"seq\":0000000000,\"vehicle\":\"key-000\","
        "\"speed_kmh\":000.0,\"ok\":true}";
    constexpr std::size_t kSentEnd = kSentPrefix.size() + kSentDigits;
    constexpr std::size_t kSeqEnd = kSentEnd + kSeqPrefix.size() + kSeqDigits;
    constexpr std::size_t kKeyEnd = kSeqEnd + std::string_view(",\"vehicle\":\"key-000").size();
    constexpr std::size_t kSpeedEnd = kKeyEnd + std::string_view("\",\"speed_kmh\":000.0").size();
    value.assign(kTemplate);
    char* data = value.data();
    put_digits(data + kSentEnd, kSentDigits, static_cast<std::uint64_t>(due_ns));
    put_digits(data + kSeqEnd, kSeqDigits, static_cast<std::uint64_t>(seq));
    std::copy(key.end() - 3, key.end(), data + kKeyEnd - 3);  // keys are "key-NNN"
    put_digits(data + kSpeedEnd, 1, static_cast<std::uint64_t>(tenth_kmh % 10));
    put_digits(data + kSpeedEnd - 2, 3, static_cast<std::uint64_t>(tenth_kmh / 10));
  }

  void run(Clock::time_point t0) {
    const std::int64_t t0_ns =
        std::chrono::duration_cast<nanoseconds>(t0.time_since_epoch()).count();
    const std::int64_t t0_system_ms =
        system_ms() + std::chrono::duration_cast<milliseconds>(t0 - Clock::now()).count();
    std::vector<std::string> keys;
    for (int k = 0; k < options_.keys; ++k) keys.push_back(fmt::format("key-{:03}", k));
    std::string value;
    std::vector<std::int64_t> lateness;  // sampled: 1 record in 16
    lateness.reserve(static_cast<std::size_t>(total_ / 16 + 1));
    for (std::int64_t i = 0; i < total_ && !stop_.load(std::memory_order_relaxed); ++i) {
      const std::int64_t due_ns = t0_ns + due_offset_ns(i, rate_);
      std::int64_t now = steady_ns();
      if (now < due_ns) {
        rd_kafka_poll(rk_, 0);
        std::this_thread::sleep_until(Clock::time_point(nanoseconds(due_ns)));
        now = steady_ns();
      }
      if (i % 16 == 0) lateness.push_back(now - due_ns);
      const std::string& key = keys[static_cast<std::size_t>(i % options_.keys)];
      format_value(value, due_ns, i, key, static_cast<int>(i % 1300));
      produce(rk_, rkt_, key.data(), key.size(), value.data(), value.size(),
              t0_system_ms + (due_ns - t0_ns) / 1'000'000);
      sent_.store(i + 1, std::memory_order_relaxed);
    }
    rd_kafka_flush(rk_, 10'000);
    if (!lateness.empty()) {
      auto at = lateness.begin() + static_cast<std::ptrdiff_t>(lateness.size() * 99 / 100);
      std::nth_element(lateness.begin(), at, lateness.end());
      lateness_p99_ms_ = static_cast<double>(*at) / 1e6;
    }
    done_ = true;
  }

  std::string topic_;
  long rate_;
  std::int64_t total_;
  const Options& options_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_topic_t* rkt_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  std::atomic<std::int64_t> sent_{0};
  double lateness_p99_ms_ = 0;
};

// ---------------------------------------------------------------------------------------------
// The measuring consumer: no group, every partition of `out` from the beginning.

class Measurer {
 public:
  // Records first_seq..end_seq-1 are due in the measured window; records before are warm-up.
  // Every output value must contain `expected` (what tells the system's output from its input).
  Measurer(const std::string& bootstrap, const std::string& topic, const std::string& group,
           const Options& options, std::int64_t first_seq, std::int64_t end_seq,
           std::string expected, bool read_committed = false)
      : first_seq_(first_seq), end_seq_(end_seq), expected_(std::move(expected)) {
    rk_ = new_client(RD_KAFKA_CONSUMER,
                     {{"bootstrap.servers", bootstrap},
                      {"client.id", "e2e-measurer"},
                      {"group.id", group},
                      {"enable.auto.commit", "false"},
                      {"isolation.level", read_committed ? "read_committed" : "read_uncommitted"},
                      {"fetch.wait.max.ms", std::to_string(options.fetch_wait_ms)}},
                     options.extra);
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(kPartitions);
    for (int p = 0; p < kPartitions; ++p) {
      rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(rk_, list);
    rd_kafka_topic_partition_list_destroy(list);
    latencies_ns_.reserve(static_cast<std::size_t>(end_seq - first_seq));
    seen_.resize(static_cast<std::size_t>(end_seq));
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "e2e-measurer");
      run();
    });
  }
  ~Measurer() {
    stop();
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
  }
  Measurer(const Measurer&) = delete;
  Measurer& operator=(const Measurer&) = delete;

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Sets the measured window, in receive time (steady_ns()): output records received in it count
  // for the throughput.
  void set_window(std::int64_t start_ns, std::int64_t end_ns) {
    window_end_ns_ = end_ns;
    window_start_ns_ = start_ns;
  }
  std::int64_t received() const { return received_.load(std::memory_order_relaxed); }
  std::int64_t primed() const { return primed_.load(std::memory_order_relaxed); }
  // After stop():
  std::int64_t received_in_window() const { return received_in_window_; }
  std::vector<std::int64_t>& latencies_ns() { return latencies_ns_; }
  std::int64_t unparsable() const { return unparsable_; }
  std::int64_t duplicates() const { return duplicates_; }
  std::int64_t errors() const { return errors_; }

 private:
  void run() {
    while (!stop_.load(std::memory_order_relaxed)) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 20);
      if (m == nullptr) continue;
      const std::int64_t now = steady_ns();
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          if (errors_++ < 5) {
            std::fprintf(stderr, "measurer: %s\n", rd_kafka_message_errstr(m));
          }
        }
        rd_kafka_message_destroy(m);
        continue;
      }
      const auto stamp = m->payload == nullptr
                             ? std::nullopt
                             : parse_stamp(static_cast<const char*>(m->payload), m->len);
      if (stamp && stamp->seq >= kPrimingSeq) {
        primed_.fetch_add(1, std::memory_order_relaxed);
        rd_kafka_message_destroy(m);
        continue;
      }
      received_.fetch_add(1, std::memory_order_relaxed);
      if (now >= window_start_ns_.load(std::memory_order_relaxed) &&
          now < window_end_ns_.load(std::memory_order_relaxed)) {
        ++received_in_window_;
      }
      if (!stamp ||
          std::string_view(static_cast<const char*>(m->payload), m->len).find(expected_) ==
              std::string_view::npos) {
        ++unparsable_;
      } else if (stamp->seq < 0 || stamp->seq >= end_seq_) {
        ++unparsable_;
      } else if (seen_[static_cast<std::size_t>(stamp->seq)]) {
        ++duplicates_;
      } else {
        seen_[static_cast<std::size_t>(stamp->seq)] = true;
        if (stamp->seq >= first_seq_) latencies_ns_.push_back(now - stamp->sent_ns);
      }
      rd_kafka_message_destroy(m);
    }
  }

  std::int64_t first_seq_;
  std::int64_t end_seq_;
  std::string expected_;
  std::atomic<std::int64_t> window_start_ns_{std::numeric_limits<std::int64_t>::max()};
  std::atomic<std::int64_t> window_end_ns_{0};
  std::atomic<std::int64_t> primed_{0};
  rd_kafka_t* rk_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> received_{0};
  std::int64_t received_in_window_ = 0;
  std::int64_t unparsable_ = 0;
  std::int64_t duplicates_ = 0;
  std::vector<bool> seen_;
  std::int64_t errors_ = 0;
  std::vector<std::int64_t> latencies_ns_;
};

// ---------------------------------------------------------------------------------------------
// Systems under test

class SystemUnderTest {
 public:
  virtual ~SystemUnderTest() = default;
  // Starts, and returns once the system owns its input partitions; throws on failure.
  virtual void start() = 0;
  virtual void stop() = 0;
};

// The plain librdkafka loop, at-least-once like Rivulet: flush, then commit, every 100 ms.
class Baseline final : public SystemUnderTest {
 public:
  Baseline(const std::string& bootstrap, std::string in, std::string out, const std::string& group,
           const Options& options)
      : in_(std::move(in)), out_(std::move(out)) {
    consumer_ = new_client(RD_KAFKA_CONSUMER,
                           {{"bootstrap.servers", bootstrap},
                            {"client.id", group + "-consumer"},
                            {"group.id", group},
                            {"auto.offset.reset", "earliest"},
                            {"enable.auto.commit", "false"},
                            {"partition.assignment.strategy", "range"},
                            {"session.timeout.ms", "6000"},
                            {"heartbeat.interval.ms", "500"},
                            {"fetch.wait.max.ms", std::to_string(options.fetch_wait_ms)}},
                           options.extra);
    Settings producer = {{"bootstrap.servers", bootstrap},
                         {"client.id", group + "-producer"},
                         {"partitioner", "murmur2_random"}};
    if (options.sut_linger_ms) {
      producer.emplace_back("linger.ms", std::to_string(*options.sut_linger_ms));
    }
    producer_ =
        new_client(RD_KAFKA_PRODUCER, producer, options.extra, &Baseline::on_delivery, this);
    out_rkt_ = rd_kafka_topic_new(producer_, out_.c_str(), nullptr);
  }
  ~Baseline() override {
    stop();
    rd_kafka_topic_destroy(out_rkt_);
    rd_kafka_destroy(producer_);
    rd_kafka_destroy(consumer_);
  }

  void start() override {
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, in_.c_str(), RD_KAFKA_PARTITION_UA);
    const rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer_, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error(fmt::format("subscribe: {}", rd_kafka_err2str(err)));
    }
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "e2e-baseline");
      run();
    });
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (assigned_.load() < kPartitions) {
      if (Clock::now() > deadline) throw std::runtime_error("baseline: no assignment in 60 s");
      std::this_thread::sleep_for(milliseconds(5));
    }
  }

  void stop() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  static void on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message, void* opaque) {
    auto* self = static_cast<Baseline*>(opaque);
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++self->delivered_;
    } else {
      ++self->failed_;
    }
  }

  void commit() {
    if (!dirty_) return;
    if (rd_kafka_flush(producer_, 30'000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("baseline: flush timed out");
    }
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(kPartitions);
    for (int p = 0; p < kPartitions; ++p) {
      if (next_offset_[p] >= 0) {
        rd_kafka_topic_partition_list_add(list, in_.c_str(), p)->offset = next_offset_[p];
      }
    }
    const rd_kafka_resp_err_t err = rd_kafka_commit(consumer_, list, 0);
    rd_kafka_topic_partition_list_destroy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "baseline: commit failed: %s\n", rd_kafka_err2str(err));
    }
    dirty_ = false;
  }

  void run() {
    std::int64_t last_commit = steady_ns();
    std::int64_t since_poll = 0;
    while (!stop_.load(std::memory_order_relaxed)) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_, 100);
      if (assigned_.load(std::memory_order_relaxed) < kPartitions) {
        rd_kafka_topic_partition_list_t* assignment = nullptr;
        if (rd_kafka_assignment(consumer_, &assignment) == RD_KAFKA_RESP_ERR_NO_ERROR) {
          assigned_ = assignment->cnt;
          rd_kafka_topic_partition_list_destroy(assignment);
        }
      }
      if (m != nullptr) {
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
          // Unchanged: headers too (there are none here, but finding that out has a cost).
          rd_kafka_headers_t* headers = nullptr;
          if (rd_kafka_message_headers(m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            headers = nullptr;
          }
          produce(producer_, out_rkt_, m->key, m->key_len, m->payload, m->len,
                  rd_kafka_message_timestamp(m, nullptr),
                  headers == nullptr ? nullptr : rd_kafka_headers_copy(headers));
          if (m->partition >= 0 && m->partition < kPartitions) {
            next_offset_[m->partition] = m->offset + 1;
          }
          dirty_ = true;
        }
        rd_kafka_message_destroy(m);
      }
      if (m == nullptr || ++since_poll >= 1000) {
        rd_kafka_poll(producer_, 0);  // delivery reports
        since_poll = 0;
      }
      const std::int64_t now = steady_ns();
      if (now - last_commit >= 100'000'000) {
        last_commit = now;
        commit();
      }
    }
    commit();
    rd_kafka_consumer_close(consumer_);
  }

  std::string in_;
  std::string out_;
  rd_kafka_t* consumer_ = nullptr;
  rd_kafka_t* producer_ = nullptr;
  rd_kafka_topic_t* out_rkt_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> assigned_{0};
  std::int64_t next_offset_[kPartitions] = {-1, -1, -1, -1};
  bool dirty_ = false;
  std::uint64_t delivered_ = 0;
  std::uint64_t failed_ = 0;
};

class RivuletSystem final : public SystemUnderTest {
 public:
  RivuletSystem(System system, const std::string& bootstrap, const std::string& in,
                const std::string& out, const std::string& application_id, const Options& options) {
    rivulet::StreamsBuilder builder;
    auto stream = builder.stream<std::string, std::string>(in);
    if (system == System::filter_map) {
      stream.filter([](const std::string&, const std::string& value) { return is_ok(value); })
          .map_values([](const std::string& value) { return to_meters_per_second(value); })
          .to(out);
    } else {
      stream.to(out);
    }
    topology_ = std::make_unique<rivulet::Topology>(builder.build());
    rivulet::StreamsConfig config;
    config.set("application.id", application_id)
        .set("bootstrap.servers", bootstrap)
        .set("commit.interval.ms", 100)
        .set("default.api.timeout.ms", 20'000)
        .set("consumer.session.timeout.ms", "6000")
        .set("consumer.heartbeat.interval.ms", "500")
        .set("consumer.fetch.wait.max.ms", std::to_string(options.fetch_wait_ms));
    if (options.sut_linger_ms) {
      config.set("producer.linger.ms", std::to_string(*options.sut_linger_ms));
    }
    if (system == System::passthrough_eos) {
      config.set("processing.guarantee", "exactly_once_v2")
          .set("state.dir", (std::filesystem::temp_directory_path() / application_id).string());
    }
    for (const auto& [key, value] : options.extra) config.set(key, value);
    streams_ = std::make_unique<rivulet::KafkaStreams>(*topology_, config);
  }
  ~RivuletSystem() override { stop(); }

  void start() override {
    streams_->start();
    if (!streams_->wait_for_running(std::chrono::seconds(60))) {
      throw std::runtime_error(
          fmt::format("Rivulet did not reach RUNNING: {}", rivulet::to_string(streams_->state())));
    }
  }
  void stop() override {
    if (streams_) streams_->close(std::chrono::seconds(30));
  }

 private:
  std::unique_ptr<rivulet::Topology> topology_;
  std::unique_ptr<rivulet::KafkaStreams> streams_;
};

// ---------------------------------------------------------------------------------------------
// ---------------------------------------------------------------------------------------------
// One run segment: a system under test at one offered rate.

struct Result {
  System system = System::baseline;
  long offered = 0;
  double achieved = 0;  // output records/s over the measured window
  double p50_ms = 0;
  double p99_ms = 0;
  double p999_ms = 0;
  std::int64_t missing = 0;     // due in the window, not received by the end of the segment
  std::int64_t duplicates = 0;  // received more than once
  double generator_late_p99_ms = 0;
  double cpu_percent = 0;      // of one core, the whole process, over the measured window
  double sut_cpu_percent = 0;  // of one core, the system under test's threads (and its clients')
  double sut_us_per_record = 0;
  bool aborted = false;
  bool sustained = false;
};

double percentile_ms(std::vector<std::int64_t>& sorted, std::int64_t expected, double p) {
  if (expected <= 0) return kInfinity;
  auto rank = static_cast<std::int64_t>(std::ceil(p * static_cast<double>(expected))) - 1;
  rank = std::max<std::int64_t>(rank, 0);
  if (rank >= static_cast<std::int64_t>(sorted.size())) return kInfinity;  // a missing record
  return static_cast<double>(sorted[static_cast<std::size_t>(rank)]) / 1e6;
}

Result run_segment(System system, long rate, const Options& options, int segment, double warmup_s,
                   double measure_s) {
  Result result;
  result.system = system;
  result.offered = rate;
  auto broker = std::make_unique<rivulet::DevBroker>(rivulet::DevBroker::Options{.brokers = 1});
  const std::string bootstrap = broker->bootstrap_servers();
  const std::string base = fmt::format("e2e-{}-{}-{}-{}", name_of(system), rate, segment, getpid());
  const std::string in = base + "-in";
  const std::string out = base + "-out";
  broker->create_topic(in, kPartitions);
  broker->create_topic(out, kPartitions);

  const std::set<int> threads_before = thread_ids();
  std::unique_ptr<SystemUnderTest> sut;
  if (system == System::baseline) {
    sut = std::make_unique<Baseline>(bootstrap, in, out, base + "-group", options);
  } else if (system != System::direct) {
    sut = std::make_unique<RivuletSystem>(system, bootstrap, in, out, base + "-app", options);
  }
  if (sut) sut->start();
  // The threads the system under test started: its own and its Kafka clients'.
  std::vector<int> sut_threads;
  for (int tid : thread_ids()) {
    if (threads_before.count(tid) == 0) sut_threads.push_back(tid);
  }

  const auto warmup_records = static_cast<std::int64_t>(static_cast<double>(rate) * warmup_s);
  const auto total =
      warmup_records + static_cast<std::int64_t>(static_cast<double>(rate) * measure_s);
  Measurer measurer(bootstrap, system == System::direct ? in : out, base + "-measurer", options,
                    warmup_records, total,
                    system == System::filter_map ? "\"speed_ms\":" : "\"speed_kmh\":",
                    system == System::passthrough_eos);
  Generator generator(bootstrap, in, rate, total, options);
  // Priming: a few records through the whole pipeline first, so that the timed load does not
  // start with the clients' first metadata requests and connections.
  constexpr int kPrimingRecords = 100;
  generator.prime(kPrimingRecords);
  const auto primed_by = Clock::now() + std::chrono::seconds(30);
  while (measurer.primed() < kPrimingRecords) {
    if (Clock::now() > primed_by) throw std::runtime_error("priming records did not come through");
    std::this_thread::sleep_for(milliseconds(2));
  }
  const Clock::time_point t0 = Clock::now() + milliseconds(100);
  const std::int64_t t0_ns = std::chrono::duration_cast<nanoseconds>(t0.time_since_epoch()).count();
  struct {
    std::int64_t start_ns;
    std::int64_t end_ns;
  } window{t0_ns + Generator::due_offset_ns(warmup_records, rate),
           t0_ns + Generator::due_offset_ns(total, rate)};
  measurer.set_window(window.start_ns, window.end_ns);
  generator.start(t0);

  // Watch the backlog; stop early when the system clearly cannot keep up, before the broker drops
  // records not yet consumed (it keeps ~5 MiB per partition: ~40k of these records).
  const std::int64_t max_backlog = std::min<std::int64_t>(rate * 2, kMaxBacklog);
  struct CpuSample {
    std::int64_t at_ns = 0;
    double process = 0;
    double sut = 0;
    std::int64_t received = 0;
  };
  auto sample = [&] {
    return CpuSample{steady_ns(), cpu_seconds(), threads_cpu_seconds(sut_threads),
                     measurer.received()};
  };
  CpuSample cpu_start = sample();  // from t0 until the window starts, then from there
  bool window_started = false;
  while (!generator.done()) {
    std::this_thread::sleep_for(milliseconds(20));
    const std::int64_t now = steady_ns();
    if (!window_started && now >= window.start_ns) {
      window_started = true;
      cpu_start = sample();
    }
    if (generator.sent() - measurer.received() > max_backlog) {
      result.aborted = true;
      break;
    }
  }
  const CpuSample cpu_end = sample();
  const std::int64_t stopped_ns = cpu_end.at_ns;
  generator.stop();
  // Drain: wait for what was sent (at most 3 s; not at all after an abort).
  const auto drain_deadline =
      Clock::now() + (result.aborted ? milliseconds(0) : milliseconds(3000));
  while (measurer.received() < generator.sent() && Clock::now() < drain_deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  measurer.stop();
  if (sut) sut->stop();

  const std::int64_t sent_in_window = std::max<std::int64_t>(0, generator.sent() - warmup_records);
  std::vector<std::int64_t>& latencies = measurer.latencies_ns();
  std::sort(latencies.begin(), latencies.end());
  result.missing =
      std::max<std::int64_t>(0, sent_in_window - static_cast<std::int64_t>(latencies.size()));
  if (result.aborted) {
    // Throughput over whatever ran: every output record since t0.
    result.achieved =
        static_cast<double>(measurer.received()) / (static_cast<double>(stopped_ns - t0_ns) / 1e9);
    result.p50_ms = result.p99_ms = result.p999_ms = kInfinity;
  } else {
    result.achieved = static_cast<double>(measurer.received_in_window()) / measure_s;
    result.p50_ms = percentile_ms(latencies, sent_in_window, 0.50);
    result.p99_ms = percentile_ms(latencies, sent_in_window, 0.99);
    result.p999_ms = percentile_ms(latencies, sent_in_window, 0.999);
  }
  result.duplicates = measurer.duplicates();
  result.generator_late_p99_ms = generator.lateness_p99_ms();
  if (cpu_end.at_ns > cpu_start.at_ns) {
    const double seconds = static_cast<double>(cpu_end.at_ns - cpu_start.at_ns) / 1e9;
    result.cpu_percent = 100.0 * (cpu_end.process - cpu_start.process) / seconds;
    result.sut_cpu_percent = 100.0 * (cpu_end.sut - cpu_start.sut) / seconds;
    if (cpu_end.received > cpu_start.received) {
      result.sut_us_per_record = 1e6 * (cpu_end.sut - cpu_start.sut) /
                                 static_cast<double>(cpu_end.received - cpu_start.received);
    }
  }
  if (measurer.unparsable() > 0) {
    std::fprintf(stderr, "warning: %lld output record(s) not as expected (stamp, content)\n",
                 static_cast<long long>(measurer.unparsable()));
  }
  result.sustained = !result.aborted && result.achieved >= 0.95 * static_cast<double>(rate) &&
                     result.p99_ms <= options.max_p99_ms;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Output

std::string ms(double value) {
  if (std::isinf(value)) return "-";
  return value < 10 ? fmt::format("{:.2f}", value) : fmt::format("{:.1f}", value);
}

void print_header() {
  std::printf("%-12s %9s %10s %7s %7s %8s %7s %4s %5s %5s %6s %7s  %s\n", "system", "offered/s",
              "achieved/s", "p50 ms", "p99 ms", "p99.9 ms", "missing", "dup", "cpu%", "sut%",
              "us/rec", "gen p99", "verdict");
  std::fflush(stdout);
}

void print_row(const Result& r) {
  std::printf("%-12s %9ld %10.0f %7s %7s %8s %7lld %4lld %5.0f %5.0f %6.2f %7s  %s\n",
              std::string(name_of(r.system)).c_str(), r.offered, r.achieved, ms(r.p50_ms).c_str(),
              ms(r.p99_ms).c_str(), ms(r.p999_ms).c_str(), static_cast<long long>(r.missing),
              static_cast<long long>(r.duplicates), r.cpu_percent, r.sut_cpu_percent,
              r.sut_us_per_record, ms(r.generator_late_p99_ms).c_str(),
              r.aborted     ? "not sustained (backlog too large, stopped)"
              : r.sustained ? "sustained"
                            : "not sustained");
  std::fflush(stdout);
}

[[noreturn]] void usage(int code) {
  std::fprintf(
      code == 0 ? stdout : stderr,
      "Usage: rivulet_e2e_bench [options]\n"
      "  --quick              only the fixed load (10k records/s), no search for the maximum\n"
      "  --seconds N          measured seconds of the fixed-load segments (default 10)\n"
      "  --warmup N           warm-up seconds of the fixed-load segments, excluded (default 5)\n"
      "  --search-seconds N   measured seconds of the search's segments (default 4)\n"
      "  --search-warmup N    warm-up seconds of the search's segments (default 2)\n"
      "  --rate N             the fixed load, records/s (default 10000)\n"
      "  --rates A,B,...      rates the search steps through, up to the first not sustained\n"
      "                       (default 80000,160000,240000,320000,480000,640000,960000)\n"
      "  --refine N           bisection steps between the last sustained rate and the first\n"
      "                       one not sustained (default 2)\n"
      "  --systems a,b        among direct,baseline,passthrough,filter_map,passthrough_eos\n"
      "                       (default all); direct\n"
      "                       is no system: the measurer reads the generator's topic (the\n"
      "                       harness's own floor, one hop through the broker; never searched)\n"
      "  --fetch-wait-ms N    fetch.wait.max.ms of every consumer (default 10)\n"
      "  --generator-linger-ms N   linger.ms of the load generator (default 5)\n"
      "  --sut-linger-ms N    linger.ms of both systems' producers (default: librdkafka's, 5)\n"
      "  --max-p99-ms N       p99 above which a rate is not sustained (default 250)\n"
      "  --set KEY=VALUE      a librdkafka setting for every client, both systems' included\n"
      "Google Benchmark flags (--benchmark_*) are accepted and ignored.\n");
  std::exit(code);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (const std::size_t eq = arg.find('='); eq != std::string_view::npos) {
        return std::string(arg.substr(eq + 1));
      }
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", argv[i]);
        usage(2);
      }
      return argv[++i];
    };
    auto is = [&](std::string_view flag) {
      return arg == flag ||
             (arg.starts_with(flag) && arg.size() > flag.size() && arg[flag.size()] == '=');
    };
    if (arg.starts_with("--benchmark_")) continue;  // scripts/bench.sh may pass these
    if (arg == "--help" || arg == "-h") usage(0);
    if (arg == "--quick") {
      o.quick = true;
    } else if (is("--refine")) {
      o.refine = std::stoi(value());
    } else if (is("--seconds")) {
      o.measure_s = std::stod(value());
    } else if (is("--warmup")) {
      o.warmup_s = std::stod(value());
    } else if (is("--rate")) {
      o.fixed_rate = std::stol(value());
    } else if (is("--search-seconds")) {
      o.search_measure_s = std::stod(value());
    } else if (is("--search-warmup")) {
      o.search_warmup_s = std::stod(value());
    } else if (is("--rates")) {
      o.search_rates.clear();
      for (const std::string& r : split(value())) o.search_rates.push_back(std::stol(r));
    } else if (is("--systems")) {
      o.systems.clear();
      for (const std::string& s : split(value())) {
        if (s == "baseline") {
          o.systems.push_back(System::baseline);
        } else if (s == "passthrough") {
          o.systems.push_back(System::passthrough);
        } else if (s == "filter_map") {
          o.systems.push_back(System::filter_map);
        } else if (s == "passthrough_eos") {
          o.systems.push_back(System::passthrough_eos);
        } else if (s == "direct") {
          o.systems.push_back(System::direct);
        } else {
          std::fprintf(stderr, "unknown system '%s'\n", s.c_str());
          usage(2);
        }
      }
    } else if (is("--fetch-wait-ms")) {
      o.fetch_wait_ms = std::stoi(value());
    } else if (is("--generator-linger-ms")) {
      o.generator_linger_ms = std::stoi(value());
    } else if (is("--sut-linger-ms")) {
      o.sut_linger_ms = std::stoi(value());
    } else if (is("--set")) {
      const std::string setting = value();
      const std::size_t eq = setting.find('=');
      if (eq == std::string::npos) usage(2);
      o.extra.emplace_back(setting.substr(0, eq), setting.substr(eq + 1));
    } else if (is("--max-p99-ms")) {
      o.max_p99_ms = std::stod(value());
    } else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      usage(2);
    }
  }
  if (o.measure_s <= 0 || o.warmup_s < 0 || o.search_measure_s <= 0 || o.search_warmup_s < 0 ||
      o.fixed_rate <= 0) {
    usage(2);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  const auto started = Clock::now();
  // Rivulet logs rebalances at info; keep the table readable unless asked otherwise.
  setenv("SPDLOG_LEVEL", "warn", 0);

  std::printf(
      "End to end on the mock cluster (rivulet::DevBroker, 1 broker, %d partitions, 96-byte "
      "values, "
      "%d keys)\n"
      "warm-up + measured seconds: %g + %g at the fixed load, %g + %g in the search\n"
      "fetch.wait.max.ms=%d (every consumer), generator linger.ms=%d, systems' linger.ms=%s\n\n",
      kPartitions, options.keys, options.warmup_s, options.measure_s, options.search_warmup_s,
      options.search_measure_s, options.fetch_wait_ms, options.generator_linger_ms,
      options.sut_linger_ms ? std::to_string(*options.sut_linger_ms).c_str() : "default (5)");
  print_header();

  std::map<System, Result> at_fixed;
  std::map<System, std::optional<Result>> best;  // the highest sustained rate
  int segment = 0;
  try {
    for (System system : options.systems) {
      Result fixed = run_segment(system, options.fixed_rate, options, ++segment, options.warmup_s,
                                 options.measure_s);
      print_row(fixed);
      at_fixed[system] = fixed;
      if (fixed.sustained) best[system] = fixed;
    }
    for (System system : options.systems) {
      if (options.quick || system == System::direct || !best[system]) continue;
      std::optional<long> failed;
      for (long rate : options.search_rates) {
        if (rate <= options.fixed_rate) continue;
        Result r = run_segment(system, rate, options, ++segment, options.search_warmup_s,
                               options.search_measure_s);
        print_row(r);
        if (!r.sustained) {
          failed = rate;
          break;
        }
        best[system] = r;
      }
      for (int step = 0; failed && step < options.refine; ++step) {
        const long mid = (best[system]->offered + *failed) / 2;
        Result r = run_segment(system, mid, options, ++segment, options.search_warmup_s,
                               options.search_measure_s);
        print_row(r);
        if (r.sustained) {
          best[system] = r;
        } else {
          failed = mid;
        }
      }
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "e2e benchmark failed: %s\n", error.what());
    return 1;
  }

  std::printf("\nSummary\n");
  std::printf("%-12s %16s %11s %14s\n", "system", "max sustained/s", "achieved/s",
              fmt::format("p99 at {}", options.fixed_rate).c_str());
  for (System system : options.systems) {
    const auto& b = best[system];
    const bool searched = !options.quick && system != System::direct;
    std::printf("%-12s %16s %11s %14s\n", std::string(name_of(system)).c_str(),
                !searched ? "-"
                : b       ? std::to_string(b->offered).c_str()
                          : "none",
                !searched || !b ? "" : fmt::format("{:.0f}", b->achieved).c_str(),
                ms(at_fixed[system].p99_ms).c_str());
  }
  std::printf("\n");
  for (System system : {System::passthrough, System::filter_map}) {
    if (at_fixed.count(system) == 0) continue;
    const Result& r = at_fixed[system];
    std::printf("%s: p99 at %ld records/s %s ms (goal < 10 ms: %s)",
                std::string(name_of(system)).c_str(), options.fixed_rate, ms(r.p99_ms).c_str(),
                r.p99_ms < 10 ? "met" : "not met");
    if (at_fixed.count(System::baseline) != 0) {
      std::printf(", %.2fx the baseline's", r.p99_ms / at_fixed[System::baseline].p99_ms);
    }
    if (!options.quick && best[system] && best[System::baseline]) {
      const double ratio = static_cast<double>(best[system]->offered) /
                           static_cast<double>(best[System::baseline]->offered);
      std::printf("; max sustained rate %.0f%% of the baseline's (goal >= 85%%: %s)", 100 * ratio,
                  ratio >= 0.85 ? "met" : "not met");
    }
    std::printf("\n");
  }
  if (at_fixed.count(System::passthrough_eos) != 0 && at_fixed.count(System::passthrough) != 0) {
    const Result& eos = at_fixed[System::passthrough_eos];
    const Result& alos = at_fixed[System::passthrough];
    std::printf("exactly-once vs at-least-once passthrough at %ld records/s: p99 %s vs %s ms",
                options.fixed_rate, ms(eos.p99_ms).c_str(), ms(alos.p99_ms).c_str());
    if (!options.quick && best[System::passthrough_eos] && best[System::passthrough]) {
      const double ratio = static_cast<double>(best[System::passthrough_eos]->offered) /
                           static_cast<double>(best[System::passthrough]->offered);
      std::printf("; max sustained rate %.0f%% of at-least-once's (goal >= 85%%: %s)", 100 * ratio,
                  ratio >= 0.85 ? "met" : "not met");
    }
    std::printf("\n");
  }
  std::printf("\n%d segments in %.0f s\n", segment,
              std::chrono::duration<double>(Clock::now() - started).count());
  return 0;
}
