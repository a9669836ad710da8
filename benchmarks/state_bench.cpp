// State on the development broker (librdkafka's mock cluster, one broker, in this process): what a
// state store costs, each benchmark against a baseline measured in the same run.
//
//   windowed   Throughput of a windowed count with a RocksDB store and the record cache:
//                builder.stream<std::string, std::string>(in).group_by_key()
//                    .windowed_by(TimeWindows::of_size_and_grace(1min, 10s))
//                    .count(Materialized::as("counts"): RocksDB, caching on)
//                    .to_stream().to(out)
//              against the pass-through builder.stream<std::string, std::string>(in).to(out), at
//              each commit.interval.ms of --commit-ms (default: 30000, Rivulet's default, and
//              100); statestore.cache.max.bytes at its default (10 MiB).
//   join       Throughput of a stream-table join, KStream::join(KTable, joiner) written to `out`:
//              the table (store "vehicles": RocksDB, cached) holds one record per key (--keys);
//              against the same pass-through, at the same commit intervals.
//   restore    Restoration speed: the changelog "<application.id>-store-changelog" is preloaded
//              with N records of distinct keys by a plain librdkafka producer; a KafkaStreams app
//              with a key-value store "store" (Processor API, logging on) and an empty state.dir
//              restores it, RocksDB and in memory; against a plain librdkafka consumer reading
//              the same changelog (manual assignment of every partition from the log start)
//              until it has all N records.
//
// Throughput (windowed, join, pass-through): each run starts a fresh broker and creates `in`,
// `out` and the store's changelog with --partitions (4) partitions, then preloads N records
// (--records) into `in` before the app starts: keys cycle over --keys vehicle ids, values are
// ~100 bytes of JSON-ish telemetry, timestamps advance evenly over the last --event-span-s (300)
// seconds of wall-clock time, so that 1-minute windows roll (5 of them; each partition's
// timestamps increase, so nothing is late). The preload is checked on the broker (log start 0, N
// records): the mock keeps only ~5 MiB per partition. Then the app starts (one stream thread,
// fresh application.id and state.dir); the clock starts when it has consumed its first records
// (KafkaStreams::records_consumed() > 0, so after the group join) and stops when
// KafkaStreams::metrics().records_processed reaches N, both polled every millisecond. records/s
// = the records processed in between / the time: the rate at which input is consumed and
// processed (the windowed count writes fewer records than it reads, as the cache merges updates
// of a key, so output rates would not compare). cpu% is the whole process's (app, broker and
// harness) over that time, in % of one core. `out` counts the records in `out` after a clean
// close (the join must write N). The join's table is loaded first, by an instance of the same
// application that runs with `in` still empty and closes cleanly (committing, checkpointing the
// store); the timed instance then reopens the store and joins every reading against a table
// already in RocksDB. (Loading both topics at once makes readings race ahead of the table and
// join nothing.)
//
// Restoration: each run starts a fresh broker too. Plain read: records/s = N / the time from
// assign to the N-th record out of rd_kafka_consumer_poll; before the clock starts it asks the
// partitions' offsets, as the restore consumer does before on_restore_start. Rivulet: the time
// from the first StateRestoreListener::on_restore_start to the last on_restore_end
// (KafkaStreams::set_global_state_restore_listener); the run fails unless
// KafkaStreams::records_restored() == N and every changelog partition ended. --verbose prints
// when each partition started and ended.
//
// Every consumer, Rivulet's main and restore consumers included, uses fetch.wait.max.ms=10
// (--fetch-wait-ms), as in e2e_bench: the mock broker holds a Fetch of partitions without new data
// for that long, and librdkafka's 500 ms default stalls a consumer whose other partitions are
// paused or just assigned.
//
// Every benchmark repeats --repeats times (default 3), interleaved (one run of each, then the
// next round); the summary reports the median records/s of each and the ratio of the medians.
// Aims (issue): windowed >= 40% of the pass-through, restoration >= 50% of the plain read.
//
// Run: scripts/bench.sh state [--quick]   (about 3 minutes; --quick: N=20000, one round, ~1 min)
//      build/release/benchmarks/rivulet_state_bench --help   (--records, --partitions, ...)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <rivulet/dev_broker.h>
#include <rivulet/rivulet.h>

#include "bench_support.h"

namespace {

using rivulet::bench::cpu_seconds;
using rivulet::bench::median;
using rivulet::bench::split;
using rivulet::bench::system_ms;

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kRunTimeout = 180s;  // a run that takes longer failed

using Settings = std::vector<std::pair<std::string, std::string>>;

struct Options {
  bool quick = false;
  std::int64_t records = 100'000;  // N: 4 partitions x 25k records of ~100 bytes, ~3 MiB each
  int keys = 10'000;
  int value_bytes = 100;
  int repeats = 3;
  std::vector<std::int64_t> commit_ms = {30'000, 100};
  double event_span_s = 300;
  int fetch_wait_ms = 10;  // fetch.wait.max.ms of every consumer
  int partitions = 4;      // of every topic
  bool verbose = false;    // restoration: each partition's start and end
  bool windowed = true;
  bool join = true;
  bool restore = true;
  bool recovery = true;
  std::filesystem::path state_root;
  Settings extra;  // Rivulet settings (--set key=value), for every app
};

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// ---------------------------------------------------------------------------------------------
// Machine facts

std::string first_line_with(const char* path, std::string_view prefix) {
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    if (line.starts_with(prefix)) {
      const std::size_t colon = line.find(':');
      std::string value = colon == std::string::npos ? line : line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return "?";
}

std::string load_average() {
  std::ifstream file("/proc/loadavg");
  std::string one, five, fifteen;
  file >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

std::string filesystem_of(const std::filesystem::path& path) {
  struct statfs info {};
  if (statfs(path.c_str(), &info) != 0) return "?";
  switch (static_cast<unsigned long>(info.f_type)) {
    case 0x01021994UL:
      return "tmpfs";
    case 0xEF53UL:
      return "ext4";
    case 0x794C7630UL:
      return "overlayfs";
    case 0x58465342UL:
      return "xfs";
    case 0x9123683EUL:
      return "btrfs";
    default:
      return fmt::format("fs type {:#x}", static_cast<unsigned long>(info.f_type));
  }
}

void print_machine(const Options& o) {
  std::printf("machine: %s, %u cores, %s RAM; load average %s; librdkafka %s; %s build\n",
              first_line_with("/proc/cpuinfo", "model name").c_str(),
              std::thread::hardware_concurrency(),
              first_line_with("/proc/meminfo", "MemTotal").c_str(), load_average().c_str(),
              rd_kafka_version_str(),
#ifdef NDEBUG
              "optimized (NDEBUG)"
#else
              "DEBUG (assertions on: not a Release build, figures are not comparable)"
#endif
  );
  std::printf("state.dir under %s (%s)\n", o.state_root.c_str(),
              filesystem_of(o.state_root).c_str());
}

// ---------------------------------------------------------------------------------------------
// librdkafka helpers

rd_kafka_t* new_client(rd_kafka_type_t type, const Settings& settings,
                       void (*dr_msg_cb)(rd_kafka_t*, const rd_kafka_message_t*, void*) = nullptr,
                       void* opaque = nullptr) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [key, value] : settings) {
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

// Writes `count` records to `topic` (partitioned by key, murmur2_random as Rivulet's producers
// do), record i being make(i, key, value, timestamp), and waits until all were delivered.
void preload(
    const std::string& bootstrap, const std::string& topic, std::int64_t count,
    const std::function<void(std::int64_t, std::string&, std::string&, std::int64_t&)>& make) {
  struct Failures {
    std::atomic<std::int64_t> count{0};
  } failures;
  rd_kafka_t* rk = new_client(
      RD_KAFKA_PRODUCER,
      {{"bootstrap.servers", bootstrap},
       {"client.id", "state-bench-preload"},
       {"partitioner", "murmur2_random"},
       {"linger.ms", "20"},
       {"queue.buffering.max.messages", "1000000"},
       {"queue.buffering.max.kbytes", "1048576"}},
      [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          static_cast<Failures*>(opaque)->count.fetch_add(1, std::memory_order_relaxed);
        }
      },
      &failures);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  std::string key;
  std::string value;
  for (std::int64_t i = 0; i < count; ++i) {
    std::int64_t timestamp = 0;
    make(i, key, value, timestamp);
    for (;;) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(value.data(), value.size()),
          RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_END);
#pragma GCC diagnostic pop
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        throw std::runtime_error(fmt::format("produce to {}: {}", topic, rd_kafka_err2str(err)));
      }
      rd_kafka_poll(rk, 5);
    }
    if (i % 1024 == 0) rd_kafka_poll(rk, 0);
  }
  const rd_kafka_resp_err_t flushed = rd_kafka_flush(rk, 60'000);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR || failures.count.load() != 0) {
    throw std::runtime_error(
        fmt::format("preloading {}: {} record(s) not delivered", topic, failures.count.load()));
  }
}

struct Watermarks {
  std::int64_t low_max = 0;     // the highest log start offset among the partitions
  std::int64_t high_total = 0;  // the records written, over every partition
};

Watermarks watermarks(const std::string& bootstrap, const std::string& topic, int partitions) {
  rd_kafka_t* rk = new_client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap},
                                                  {"client.id", "state-bench-watermarks"},
                                                  {"group.id", "state-bench-watermarks"}});
  Watermarks w;
  for (int p = 0; p < partitions; ++p) {
    std::int64_t low = 0;
    std::int64_t high = 0;
    const rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &low, &high, 10'000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_destroy(rk);
      throw std::runtime_error(
          fmt::format("watermarks of {}[{}]: {}", topic, p, rd_kafka_err2str(err)));
    }
    w.low_max = std::max(w.low_max, low);
    w.high_total += high;
  }
  rd_kafka_destroy(rk);
  return w;
}

// Throws unless `topic` holds exactly `count` records from offset 0: the mock broker drops the
// oldest batches of a partition past ~5 MiB.
void check_preloaded(const std::string& bootstrap, const std::string& topic, std::int64_t count,
                     int partitions) {
  const Watermarks w = watermarks(bootstrap, topic, partitions);
  if (w.low_max != 0 || w.high_total != count) {
    throw std::runtime_error(fmt::format(
        "{} holds offsets up to {} in total with a log start at {} (expected {} from 0): the "
        "mock broker keeps ~5 MiB per partition; use fewer --records or a smaller --value-bytes",
        topic, w.high_total, w.low_max, count));
  }
}

// ---------------------------------------------------------------------------------------------
// Records

std::string vehicle_id(std::int64_t i, int keys) {
  return fmt::format("vehicle-{:05}", i % keys);
}

// Fills `value` with ~value_bytes of JSON-ish text: `fields`, then padding.
void padded_value(std::string& value, std::string_view fields, int value_bytes) {
  value.assign(fields);
  constexpr std::string_view kPad = ",\"pad\":\"";
  const auto wanted = static_cast<std::size_t>(value_bytes);
  if (value.size() + kPad.size() + 2 < wanted) {
    value.append(kPad);
    value.append(wanted - value.size() - 2, 'x');
    value.push_back('"');
  }
  value.push_back('}');
}

// A telemetry reading of vehicle i % keys, the i-th of `count`, its timestamp advancing evenly
// over [first_ms, first_ms + span_ms).
struct Readings {
  int keys;
  int value_bytes;
  std::int64_t count;
  std::int64_t first_ms;
  std::int64_t span_ms;

  void operator()(std::int64_t i, std::string& key, std::string& value,
                  std::int64_t& timestamp) const {
    key = vehicle_id(i, keys);
    timestamp = first_ms + i * span_ms / count;
    padded_value(value,
                 fmt::format(R"({{"vehicle":"{}","seq":{},"speed_kmh":{}.{},"heading":{})", key, i,
                             i % 130, i % 10, i % 360),
                 value_bytes);
  }
};

// The table's record for vehicle i: its fleet and model.
void vehicle_record(std::int64_t i, int keys, int value_bytes, std::int64_t timestamp_ms,
                    std::string& key, std::string& value, std::int64_t& timestamp) {
  key = vehicle_id(i, keys);
  timestamp = timestamp_ms;
  padded_value(value,
               fmt::format(R"({{"fleet":"fleet-{:03}","vehicle":"{}","model":"model-{:02}")",
                           i % 500, key, i % 40),
               value_bytes);
}

// The join's joiner: the reading with its vehicle's fleet appended.
std::string with_fleet(const std::string& reading, const std::string& vehicle) {
  constexpr std::string_view kFleet = "\"fleet\":\"";
  std::string out;
  out.reserve(reading.size() + 24);
  out.append(reading, 0, reading.empty() ? 0 : reading.size() - 1);  // without the closing '}'
  const std::size_t at = vehicle.find(kFleet);
  if (at != std::string::npos) {
    const std::size_t end = vehicle.find('"', at + kFleet.size());
    out.append(",");
    out.append(vehicle, at, end == std::string::npos ? std::string::npos : end + 1 - at);
  }
  out.push_back('}');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rivulet apps

rivulet::StreamsConfig app_config(const std::string& bootstrap, const std::string& application_id,
                                  std::int64_t commit_ms, const std::filesystem::path& state_dir,
                                  const Options& o) {
  rivulet::StreamsConfig config;
  config.set("application.id", application_id)
      .set("bootstrap.servers", bootstrap)
      .set("commit.interval.ms", commit_ms)
      .set("default.api.timeout.ms", 20'000)
      .set("consumer.session.timeout.ms", "6000")
      .set("consumer.heartbeat.interval.ms", "500")
      .set("state.dir", state_dir.string())
      .set("consumer.fetch.wait.max.ms", std::to_string(o.fetch_wait_ms));  // main and restore
  for (const auto& [key, value] : o.extra) config.set(key, value);
  return config;
}

// A fresh directory for one run's state, removed with it.
class ScratchDir {
 public:
  ScratchDir(const std::filesystem::path& root, const std::string& name) : path_(root / name) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

enum class Kind {
  passthrough,
  windowed,
  join,
  plain_read,
  restore_rocksdb,
  restore_in_memory,
  recover_crash_safe,
  recover_full
};

std::string_view name_of(Kind kind) {
  switch (kind) {
    case Kind::passthrough:
      return "passthrough";
    case Kind::windowed:
      return "windowed count";
    case Kind::join:
      return "stream-table join";
    case Kind::plain_read:
      return "plain read";
    case Kind::restore_rocksdb:
      return "restore RocksDB";
    case Kind::restore_in_memory:
      return "restore in-memory";
    case Kind::recover_crash_safe:
      return "EOS crash: keep";
    case Kind::recover_full:
      return "EOS crash: wipe";
  }
  return "?";
}

struct Result {
  Kind kind = Kind::passthrough;
  std::int64_t commit_ms = 0;  // 0: not an app that commits (restoration)
  int round = 0;
  std::int64_t records = 0;  // the records the time covers
  double seconds = 0;
  double rate = 0;  // records / seconds
  double cpu_percent = 0;
  std::int64_t output = -1;  // records in `out` after the close; -1: none
  std::string note;
};

// Waits until `streams` processed `target` records; returns when its first records were consumed
// (after the group join), and what it had processed and the CPU the process had used by then.
struct Timed {
  double seconds = 0;
  std::int64_t records = 0;  // processed between the two points in time
  double cpu_percent = 0;
};

Timed time_until_processed(rivulet::KafkaStreams& streams, std::uint64_t target,
                           std::string_view what) {
  std::optional<Clock::time_point> first;
  std::uint64_t processed_at_first = 0;
  double cpu_at_first = 0;
  const auto started = Clock::now();
  for (;;) {
    const auto now = Clock::now();
    if (!first) {
      if (streams.records_consumed() > 0) {
        first = now;
        cpu_at_first = cpu_seconds();
        processed_at_first = streams.metrics().records_processed;
      }
    } else {
      const std::uint64_t processed = streams.metrics().records_processed;
      if (processed >= target) {
        Timed timed;
        timed.seconds = seconds_between(*first, now);
        timed.cpu_percent = 100 * (cpu_seconds() - cpu_at_first) / timed.seconds;
        timed.records = static_cast<std::int64_t>(processed - processed_at_first);
        return timed;
      }
    }
    const auto state = streams.state();
    if (now - started > kRunTimeout || state == rivulet::KafkaStreams::State::error ||
        state == rivulet::KafkaStreams::State::not_running) {
      throw std::runtime_error(
          fmt::format("{}: {} of {} records processed ({} consumed) after {:.0f} s, state {}", what,
                      streams.metrics().records_processed, target, streams.records_consumed(),
                      seconds_between(started, now), rivulet::to_string(state)));
    }
    std::this_thread::sleep_for(1ms);
  }
}

// One throughput run: preload, start, time until every input record was processed, close.
Result run_throughput(Kind kind, std::int64_t commit_ms, int round, const Options& o, int segment) {
  Result result;
  result.kind = kind;
  result.commit_ms = commit_ms;
  result.round = round;
  rivulet::DevBroker broker(rivulet::DevBroker::Options{.brokers = 1});
  const std::string bootstrap = broker.bootstrap_servers();
  const std::string base = fmt::format("state-{}-{}-{}", segment, commit_ms, getpid());
  const std::string app = base + "-app";
  const std::string in = base + "-in";
  const std::string out = base + "-out";
  const std::string table = base + "-vehicles";
  broker.create_topic(in, o.partitions);
  broker.create_topic(out, o.partitions);
  // The changelogs, before the mock broker would auto-create them with 4 partitions.
  if (kind == Kind::windowed) broker.create_topic(app + "-counts-changelog", o.partitions);
  if (kind == Kind::join) {
    broker.create_topic(table, o.partitions);
    broker.create_topic(app + "-vehicles-changelog", o.partitions);
  }

  rivulet::StreamsBuilder builder;
  auto stream = builder.stream<std::string, std::string>(in);
  if (kind == Kind::windowed) {
    stream.group_by_key()
        .windowed_by(rivulet::TimeWindows::of_size_and_grace(1min, 10s))
        .count(rivulet::Materialized<std::string, std::int64_t>::as("counts")
                   .with_store_type(rivulet::DslStoreType::rocks_db)
                   .with_caching_enabled())
        .to_stream()
        .to(out);
  } else if (kind == Kind::join) {
    auto vehicles = builder.table<std::string, std::string>(
        table, {},
        rivulet::Materialized<std::string, std::string>::as("vehicles")
            .with_store_type(rivulet::DslStoreType::rocks_db)
            .with_caching_enabled());
    stream
        .join(vehicles, [](const std::string& reading,
                           const std::string& vehicle) { return with_fleet(reading, vehicle); })
        .to(out);
  } else {
    stream.to(out);
  }
  const rivulet::Topology topology = builder.build();
  ScratchDir state(o.state_root, base);
  const rivulet::StreamsConfig config = app_config(bootstrap, app, commit_ms, state.path(), o);

  if (kind == Kind::join) {
    // The table first, alone: a first instance loads it into its store and closes cleanly
    // (committing its offsets and checkpointing the store), so that every reading finds its
    // vehicle, and the timed instance below joins against a table already in RocksDB.
    preload(bootstrap, table, o.keys,
            [&](std::int64_t i, std::string& key, std::string& value, std::int64_t& timestamp) {
              vehicle_record(i, o.keys, o.value_bytes, system_ms() - 3'600'000, key, value,
                             timestamp);
            });
    check_preloaded(bootstrap, table, o.keys, o.partitions);
    rivulet::KafkaStreams loader(topology, config);
    loader.start();
    const Timed loaded =
        time_until_processed(loader, static_cast<std::uint64_t>(o.keys), "loading the table");
    if (!loader.close(60s)) throw std::runtime_error("loading the table: close timed out");
    result.note = fmt::format("table loaded at {:.0f}/s; ",
                              static_cast<double>(loaded.records) / loaded.seconds);
  }

  const std::int64_t now = system_ms();
  const auto span_ms = static_cast<std::int64_t>(o.event_span_s * 1000);
  preload(bootstrap, in, o.records,
          Readings{o.keys, o.value_bytes, o.records, now - span_ms, span_ms});
  check_preloaded(bootstrap, in, o.records, o.partitions);

  rivulet::KafkaStreams streams(topology, config);
  streams.start();
  const Timed timed =
      time_until_processed(streams, static_cast<std::uint64_t>(o.records), name_of(kind));
  result.seconds = timed.seconds;
  result.records = timed.records;
  result.cpu_percent = timed.cpu_percent;
  result.rate = static_cast<double>(timed.records) / timed.seconds;
  const rivulet::TaskMetrics metrics = streams.metrics();
  const std::uint64_t restored = streams.records_restored();
  if (!streams.close(60s)) result.note += "close timed out; ";
  const Watermarks output = watermarks(bootstrap, out, o.partitions);
  result.output = output.high_total;
  if (output.low_max != 0) result.note += "out overflowed the mock broker; ";
  if (restored != 0) result.note += fmt::format("{} records restored; ", restored);
  if (metrics.late_records_dropped != 0) {
    result.note += fmt::format("{} late records dropped; ", metrics.late_records_dropped);
  }
  if (metrics.dropped_records != 0) {
    result.note += fmt::format("{} records dropped; ", metrics.dropped_records);
  }
  if (kind != Kind::windowed && result.output != o.records) {
    result.note += fmt::format("expected {} output records; ", o.records);
  }
  return result;
}

// Hears every restoration of an instance: when the first began and the last ended, the process's
// CPU time at both, and (for --verbose) when each partition started and ended.
class RestoreClock final : public rivulet::StateRestoreListener {
 public:
  void on_restore_start(const std::string&, std::int32_t partition, const std::string&,
                        std::int64_t start_offset, std::int64_t end_offset) override {
    const auto now = Clock::now();
    const double cpu = cpu_seconds();
    std::lock_guard lock(mutex_);
    if (!summary_.first_start) {
      summary_.first_start = now;
      summary_.cpu_at_first_start = cpu;
    }
    ++summary_.starts;
    events_.push_back({now, partition, fmt::format("start {}..{}", start_offset, end_offset)});
  }
  void on_batch_restored(const std::string&, std::int32_t, const std::string&, std::int64_t,
                         std::uint64_t) override {
    std::lock_guard lock(mutex_);
    ++summary_.batches;
  }
  void on_restore_end(const std::string&, std::int32_t partition, const std::string&,
                      std::uint64_t total_restored) override {
    const auto now = Clock::now();
    const double cpu = cpu_seconds();
    std::lock_guard lock(mutex_);
    summary_.last_end = now;
    summary_.cpu_at_last_end = cpu;
    ++summary_.ends;
    summary_.ended += total_restored;
    events_.push_back({now, partition, fmt::format("end, {} records", total_restored)});
  }

  struct Summary {
    std::optional<Clock::time_point> first_start;
    std::optional<Clock::time_point> last_end;
    double cpu_at_first_start = 0;
    double cpu_at_last_end = 0;
    int starts = 0;
    int ends = 0;
    std::uint64_t batches = 0;
    std::uint64_t ended = 0;
  };
  Summary summary() const {
    std::lock_guard lock(mutex_);
    return summary_;
  }
  // One line per event, in ms after `from`.
  std::string timeline(Clock::time_point from) const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const Event& e : events_) {
      out += fmt::format("    {:8.1f} ms  partition {}: {}\n", 1e3 * seconds_between(from, e.at),
                         e.partition, e.what);
    }
    return out;
  }

 private:
  struct Event {
    Clock::time_point at;
    std::int32_t partition;
    std::string what;
  };
  mutable std::mutex mutex_;
  Summary summary_;
  std::vector<Event> events_;
};

using StringStore = rivulet::KeyValueStore<std::string, std::string>;

// The restoration app's only processor: keeps the latest value of each key in "store".
class LatestValue final : public rivulet::Processor<std::string, std::string> {
 public:
  void init(rivulet::ProcessorContext<rivulet::Void, rivulet::Void>& context) override {
    store_ = &context.get_state_store<StringStore>("store");
  }
  void process(rivulet::Record<std::string, std::string> record) override {
    store_->put(record.key(), record.value());
  }

 private:
  StringStore* store_ = nullptr;
};

// Preloads the changelog of store "store" of application `application_id`: N distinct keys.
void preload_changelog(const std::string& bootstrap, const std::string& changelog,
                       const Options& o) {
  const std::int64_t now = system_ms();
  preload(bootstrap, changelog, o.records,
          [&](std::int64_t i, std::string& key, std::string& value, std::int64_t& timestamp) {
            key = fmt::format("key-{:09}", i);
            timestamp = now;
            padded_value(value, fmt::format(R"({{"key":"{}","version":{})", key, i), o.value_bytes);
          });
  check_preloaded(bootstrap, changelog, o.records, o.partitions);
}

Result run_plain_read(int round, const Options& o, int segment) {
  Result result;
  result.kind = Kind::plain_read;
  result.round = round;
  rivulet::DevBroker broker(rivulet::DevBroker::Options{.brokers = 1});
  const std::string bootstrap = broker.bootstrap_servers();
  const std::string app = fmt::format("state-{}-{}-app", segment, getpid());
  const std::string changelog = app + "-store-changelog";
  broker.create_topic(changelog, o.partitions);
  preload_changelog(bootstrap, changelog, o);

  rd_kafka_t* rk =
      new_client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap},
                                     {"client.id", "state-bench-plain-read"},
                                     {"group.id", app + "-plain-read"},
                                     {"enable.auto.commit", "false"},
                                     {"fetch.wait.max.ms", std::to_string(o.fetch_wait_ms)}});
  // As Rivulet's restore consumer does before its clock starts (on_restore_start): ask the
  // partitions' offsets (which also connects the consumer), then assign from the log start.
  std::vector<std::int64_t> low(static_cast<std::size_t>(o.partitions));
  for (int p = 0; p < o.partitions; ++p) {
    std::int64_t high = 0;
    const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        rk, changelog.c_str(), p, &low[static_cast<std::size_t>(p)], &high, 10'000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_destroy(rk);
      throw std::runtime_error(fmt::format("plain read: offsets: {}", rd_kafka_err2str(err)));
    }
  }
  const double cpu_start = cpu_seconds();
  const auto start = Clock::now();
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(o.partitions);
  for (int p = 0; p < o.partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, changelog.c_str(), p)->offset =
        low[static_cast<std::size_t>(p)];
  }
  rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  std::int64_t received = 0;
  std::uint64_t bytes = 0;  // touched, so that the read is not a no-op
  std::optional<Clock::time_point> first;
  const auto deadline = start + kRunTimeout;
  while (received < o.records) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m != nullptr) {
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (!first) first = Clock::now();
        ++received;
        bytes += m->key_len + m->len;
      } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        std::fprintf(stderr, "plain read: %s\n", rd_kafka_message_errstr(m));
      }
      rd_kafka_message_destroy(m);
    }
    if (Clock::now() > deadline) {
      rd_kafka_destroy(rk);
      throw std::runtime_error(fmt::format("plain read: {} of {} records in {} s", received,
                                           o.records, kRunTimeout.count()));
    }
  }
  const auto end = Clock::now();
  result.seconds = seconds_between(start, end);
  result.cpu_percent = 100 * (cpu_seconds() - cpu_start) / result.seconds;
  result.records = received;
  result.rate = static_cast<double>(received) / result.seconds;
  result.note = fmt::format("{:.1f} MiB; first record after {:.3f} s",
                            static_cast<double>(bytes) / (1 << 20), seconds_between(start, *first));
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return result;
}

Result run_restore(Kind kind, int round, const Options& o, int segment) {
  Result result;
  result.kind = kind;
  result.round = round;
  rivulet::DevBroker broker(rivulet::DevBroker::Options{.brokers = 1});
  const std::string bootstrap = broker.bootstrap_servers();
  const std::string base = fmt::format("state-{}-{}", segment, getpid());
  const std::string in = base + "-in";
  const std::string app = base + "-app";
  const std::string changelog = app + "-store-changelog";
  broker.create_topic(in, o.partitions);
  broker.create_topic(changelog, o.partitions);
  preload_changelog(bootstrap, changelog, o);

  rivulet::Topology topology;
  topology.add_source<std::string, std::string>("source", {in});
  topology.add_processor("latest", [] { return std::make_unique<LatestValue>(); }, {"source"});
  topology.add_state_store(
      rivulet::Stores::key_value_store_builder<std::string, std::string>(
          kind == Kind::restore_rocksdb ? rivulet::Stores::persistent_key_value_store("store")
                                        : rivulet::Stores::in_memory_key_value_store("store")),
      {"latest"});
  ScratchDir state(o.state_root, base);
  rivulet::KafkaStreams streams(topology, app_config(bootstrap, app, 100, state.path(), o));
  auto clock = std::make_shared<RestoreClock>();
  streams.set_global_state_restore_listener(clock);
  streams.start();
  if (!streams.wait_for_running(kRunTimeout)) {
    throw std::runtime_error(fmt::format("{}: not RUNNING after {} s ({} records restored)",
                                         name_of(kind), kRunTimeout.count(),
                                         streams.records_restored()));
  }
  const RestoreClock::Summary heard = clock->summary();
  const std::uint64_t restored = streams.records_restored();
  if (!streams.close(60s)) result.note = "close timed out; ";
  if (!heard.first_start || !heard.last_end || heard.ends != o.partitions ||
      restored != static_cast<std::uint64_t>(o.records)) {
    throw std::runtime_error(
        fmt::format("{}: {} records restored (expected {}), {} restorations started, {} ended",
                    name_of(kind), restored, o.records, heard.starts, heard.ends));
  }
  result.records = static_cast<std::int64_t>(restored);
  result.seconds = seconds_between(*heard.first_start, *heard.last_end);
  result.rate = static_cast<double>(restored) / result.seconds;
  result.cpu_percent = 100 * (heard.cpu_at_last_end - heard.cpu_at_first_start) / result.seconds;
  result.note += fmt::format("{} batches", heard.batches);
  if (o.verbose) result.note += "\n" + clock->timeline(*heard.first_start);
  return result;
}

// Recovery after a crash under exactly-once. An exactly_once_v2 app keeps the latest value of N
// distinct keys in RocksDB, commits, and crashes (detail::close_abruptly: no commit, no close).
// Then, timed from start() to RUNNING: a restart on the same state directory, whose store is at
// its last commit (Rivulet's crash-safe state: only the changelog after it is replayed), and an
// instance on an empty directory, which restores the whole changelog: what Kafka Streams does
// after an unclean shutdown under exactly-once, since it wipes the task's state. Both start
// after the crashed member's session expired. `rate` is N / seconds for both, so their ratio is
// the speed-up; the note gives the restoration alone (first on_restore_start to last
// on_restore_end).
std::pair<Result, Result> run_recovery(int round, const Options& o, int segment) {
  rivulet::DevBroker broker(rivulet::DevBroker::Options{.brokers = 1});
  const std::string bootstrap = broker.bootstrap_servers();
  const std::string base = fmt::format("state-{}-{}", segment, getpid());
  const std::string in = base + "-in";
  const std::string app = base + "-app";
  broker.create_topic(in, o.partitions);
  broker.create_topic(app + "-store-changelog", o.partitions);
  const std::int64_t now = system_ms();
  preload(bootstrap, in, o.records,
          [&](std::int64_t i, std::string& key, std::string& value, std::int64_t& timestamp) {
            key = fmt::format("key-{:09}", i);
            timestamp = now;
            padded_value(value, fmt::format(R"({{"key":"{}","version":{})", key, i), o.value_bytes);
          });

  rivulet::Topology topology;
  topology.add_source<std::string, std::string>("source", {in});
  topology.add_processor("latest", [] { return std::make_unique<LatestValue>(); }, {"source"});
  topology.add_state_store(rivulet::Stores::key_value_store_builder<std::string, std::string>(
                               rivulet::Stores::persistent_key_value_store("store")),
                           {"latest"});
  ScratchDir kept(o.state_root, base + "-kept");
  ScratchDir wiped(o.state_root, base + "-wiped");
  auto config = [&](const std::filesystem::path& dir) {
    rivulet::StreamsConfig c = app_config(bootstrap, app, 100, dir, o);
    c.set("processing.guarantee", "exactly_once_v2");
    return c;
  };
  {
    rivulet::KafkaStreams first(topology, config(kept.path()));
    first.start();
    time_until_processed(first, static_cast<std::uint64_t>(o.records), "recovery: first run");
    const std::uint64_t commits = first.commits();
    const auto deadline = Clock::now() + 10s;
    while (first.commits() < commits + 2 && Clock::now() < deadline)
      std::this_thread::sleep_for(5ms);
    rivulet::detail::close_abruptly(first);
  }
  // The crashed member stays in the group until its session times out (6 s here); both
  // recoveries start after that, so that neither waits for it.
  std::this_thread::sleep_for(8s);
  auto recover = [&](Kind kind, const std::filesystem::path& dir) {
    Result result;
    result.kind = kind;
    result.round = round;
    const double cpu_before = cpu_seconds();
    const auto started = Clock::now();
    rivulet::KafkaStreams streams(topology, config(dir));
    auto clock = std::make_shared<RestoreClock>();
    streams.set_global_state_restore_listener(clock);
    streams.start();
    if (!streams.wait_for_running(kRunTimeout)) {
      throw std::runtime_error(
          fmt::format("{}: not RUNNING after {} s", name_of(kind), kRunTimeout.count()));
    }
    result.seconds = seconds_between(started, Clock::now());
    const RestoreClock::Summary heard = clock->summary();
    if (heard.first_start && heard.last_end) {
      result.note = fmt::format("restoration {:.3f} s; ",
                                seconds_between(*heard.first_start, *heard.last_end));
    }
    result.cpu_percent = 100 * (cpu_seconds() - cpu_before) / result.seconds;
    result.records = o.records;
    result.rate = static_cast<double>(o.records) / result.seconds;
    result.note += fmt::format("{} changelog records restored", streams.records_restored());
    if (!streams.close(60s)) result.note += "; close timed out";
    return result;
  };
  Result crash_safe = recover(Kind::recover_crash_safe, kept.path());
  Result full = recover(Kind::recover_full, wiped.path());
  return {crash_safe, full};
}

// ---------------------------------------------------------------------------------------------
// Output

void print_header() {
  std::printf("%-18s %7s %5s %8s %8s %11s %5s %8s  %s\n", "benchmark", "commit", "round", "records",
              "seconds", "records/s", "cpu%", "out", "note");
  std::fflush(stdout);
}

void print_row(const Result& r) {
  std::printf("%-18s %7s %5d %8lld %8.3f %11.0f %5.0f %8s  %s\n",
              std::string(name_of(r.kind)).c_str(),
              r.commit_ms > 0 ? std::to_string(r.commit_ms).c_str() : "-", r.round,
              static_cast<long long>(r.records), r.seconds, r.rate, r.cpu_percent,
              r.output >= 0 ? std::to_string(r.output).c_str() : "-", r.note.c_str());
  std::fflush(stdout);
}

[[noreturn]] void usage(int code) {
  std::fprintf(
      code == 0 ? stdout : stderr,
      "Usage: rivulet_state_bench [options]\n"
      "  --quick              a smoke run: --records 20000 --repeats 1\n"
      "  --records N          records preloaded per run (default 100000; the mock broker keeps\n"
      "                       ~5 MiB per partition, 4 partitions)\n"
      "  --repeats N          rounds of every benchmark; the summary takes medians (default 3)\n"
      "  --keys N             distinct vehicle ids, and the table's size (default 10000)\n"
      "  --value-bytes N      approximate value size (default 100)\n"
      "  --commit-ms A,B      commit.interval.ms of the throughput runs (default 30000,100)\n"
      "  --event-span-s S     the readings' timestamps cover the last S seconds (default 300)\n"
      "  --fetch-wait-ms N    fetch.wait.max.ms of every consumer, Rivulet's included\n"
      "                       (default 10)\n"
      "  --partitions N       partitions of every topic, changelogs included (default 4)\n"
      "  --benchmarks a,b     among windowed,join,restore,recovery (default all)\n"
      "  --verbose            print when each changelog partition's restoration started and ended\n"
      "  --state-dir DIR      where runs put their state.dir (default: the temp directory)\n"
      "  --set KEY=VALUE      a Rivulet setting for every app (e.g. statestore.cache.max.bytes)\n"
      "Google Benchmark flags (--benchmark_*) are accepted and ignored.\n");
  std::exit(code);
}

Options parse(int argc, char** argv) {
  Options o;
  std::optional<std::int64_t> records;
  std::optional<int> repeats;
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
    } else if (arg == "--verbose") {
      o.verbose = true;
    } else if (is("--records")) {
      records = std::stoll(value());
    } else if (is("--repeats")) {
      repeats = std::stoi(value());
    } else if (is("--keys")) {
      o.keys = std::stoi(value());
    } else if (is("--value-bytes")) {
      o.value_bytes = std::stoi(value());
    } else if (is("--commit-ms")) {
      o.commit_ms.clear();
      for (const std::string& c : split(value())) o.commit_ms.push_back(std::stoll(c));
    } else if (is("--event-span-s")) {
      o.event_span_s = std::stod(value());
    } else if (is("--fetch-wait-ms")) {
      o.fetch_wait_ms = std::stoi(value());
    } else if (is("--partitions")) {
      o.partitions = std::stoi(value());
    } else if (is("--benchmarks")) {
      o.windowed = o.join = o.restore = o.recovery = false;
      for (const std::string& b : split(value())) {
        if (b == "windowed") {
          o.windowed = true;
        } else if (b == "join") {
          o.join = true;
        } else if (b == "restore") {
          o.restore = true;
        } else if (b == "recovery") {
          o.recovery = true;
        } else {
          std::fprintf(stderr, "unknown benchmark '%s'\n", b.c_str());
          usage(2);
        }
      }
    } else if (is("--state-dir")) {
      o.state_root = value();
    } else if (is("--set")) {
      const std::string setting = value();
      const std::size_t eq = setting.find('=');
      if (eq == std::string::npos) usage(2);
      o.extra.emplace_back(setting.substr(0, eq), setting.substr(eq + 1));
    } else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      usage(2);
    }
  }
  if (o.quick) {
    o.records = 20'000;
    o.repeats = 1;
  }
  if (records) o.records = *records;
  if (repeats) o.repeats = *repeats;
  if (o.records <= 0 || o.repeats <= 0 || o.keys <= 0 || o.value_bytes <= 0 ||
      o.event_span_s <= 0 || o.commit_ms.empty()) {
    usage(2);
  }
  if (o.state_root.empty()) {
    o.state_root =
        std::filesystem::temp_directory_path() / fmt::format("rivulet-state-bench-{}", getpid());
  }
  return o;
}

double median_rate(const std::vector<Result>& results, Kind kind, std::int64_t commit_ms) {
  std::vector<double> rates;
  for (const Result& r : results) {
    if (r.kind == kind && r.commit_ms == commit_ms) rates.push_back(r.rate);
  }
  return median(rates);
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const auto started = Clock::now();
  setenv("SPDLOG_LEVEL", "warn", 0);  // Rivulet logs rebalances and restorations at info

  std::filesystem::create_directories(o.state_root);
  std::printf(
      "State on the mock cluster (rivulet::DevBroker, 1 broker, %d partitions): %lld records "
      "per run, ~%d-byte values, %d keys, timestamps over the last %g s; %d round(s), medians\n",
      o.partitions, static_cast<long long>(o.records), o.value_bytes, o.keys, o.event_span_s,
      o.repeats);
  std::printf(
      "fetch.wait.max.ms=%d (every consumer), one stream thread, statestore.cache.max.bytes "
      "default (10 MiB)\n",
      o.fetch_wait_ms);
  print_machine(o);
  std::printf("\n");
  print_header();

  std::vector<Result> results;
  int segment = 0;
  auto record = [&](Result r) {
    print_row(r);
    results.push_back(std::move(r));
  };
  try {
    for (int round = 1; round <= o.repeats; ++round) {
      if (o.windowed || o.join) {
        for (std::int64_t commit_ms : o.commit_ms) {
          record(run_throughput(Kind::passthrough, commit_ms, round, o, ++segment));
          if (o.windowed) record(run_throughput(Kind::windowed, commit_ms, round, o, ++segment));
          if (o.join) record(run_throughput(Kind::join, commit_ms, round, o, ++segment));
        }
      }
      if (o.restore) {
        record(run_plain_read(round, o, ++segment));
        record(run_restore(Kind::restore_rocksdb, round, o, ++segment));
        record(run_restore(Kind::restore_in_memory, round, o, ++segment));
      }
      if (o.recovery) {
        auto [crash_safe, full] = run_recovery(round, o, ++segment);
        record(std::move(crash_safe));
        record(std::move(full));
      }
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "state benchmark failed: %s\n", error.what());
    std::error_code ignored;
    std::filesystem::remove_all(o.state_root, ignored);
    return 1;
  }
  std::error_code ignored;
  std::filesystem::remove_all(o.state_root, ignored);

  std::printf("\nSummary (median records/s of %d round(s); ratio = median / baseline's median)\n",
              o.repeats);
  std::printf("%-18s %7s %11s %-12s %11s %6s  %s\n", "benchmark", "commit", "records/s", "baseline",
              "records/s", "ratio", "aim");
  auto summary_row = [&](Kind kind, std::int64_t commit_ms, Kind baseline, double aim) {
    const double rate = median_rate(results, kind, commit_ms);
    const double base = median_rate(results, baseline, commit_ms);
    const double ratio = base > 0 ? rate / base : 0;
    std::printf("%-18s %7s %11.0f %-12s %11.0f %6.2f  %s\n", std::string(name_of(kind)).c_str(),
                commit_ms > 0 ? std::to_string(commit_ms).c_str() : "-", rate,
                std::string(name_of(baseline)).c_str(), base, ratio,
                aim <= 0       ? "-"
                : ratio >= aim ? fmt::format(">= {:.0f}%: met", 100 * aim).c_str()
                               : fmt::format(">= {:.0f}%: not met", 100 * aim).c_str());
  };
  for (std::int64_t commit_ms : o.commit_ms) {
    if (o.windowed) summary_row(Kind::windowed, commit_ms, Kind::passthrough, 0.40);
    if (o.join) summary_row(Kind::join, commit_ms, Kind::passthrough, 0);
  }
  if (o.restore) {
    summary_row(Kind::restore_rocksdb, 0, Kind::plain_read, 0.50);
    summary_row(Kind::restore_in_memory, 0, Kind::plain_read, 0.50);
  }
  if (o.recovery) summary_row(Kind::recover_crash_safe, 0, Kind::recover_full, 0);
  std::printf("\nload average at the end: %s; %d runs in %.0f s\n", load_average().c_str(), segment,
              seconds_between(started, Clock::now()));
  return 0;
}
