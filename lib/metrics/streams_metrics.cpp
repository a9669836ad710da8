#include "metrics/streams_metrics.h"

#include <sstream>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#ifndef RIVULET_VERSION
#define RIVULET_VERSION "unknown"
#endif

namespace rivulet::metrics {

namespace {

// `count` bounds from `first`, each `factor` times the previous one, rounded to 3 significant
// digits so that the `le` labels read well.
std::vector<double> exponential(double first, double factor, int count) {
  std::vector<double> bounds;
  double bound = first;
  for (int i = 0; i < count; ++i) {
    bounds.push_back(bound);
    bound *= factor;
  }
  return bounds;
}

}  // namespace

std::vector<double> process_latency_buckets() {
  // 10, 25, 50, 100, 250, 500 us, 1, 2.5, 5, 10, 25, 50, 100, 250, 500 ms, 1 s.
  return {10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3,   2.5e-3,
          5e-3,  10e-3, 25e-3, 50e-3,  100e-3, 250e-3, 500e-3, 1.0};
}

std::vector<double> end_to_end_latency_buckets() {
  return {1e-3,   2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3,
          500e-3, 1.0,    2.5,  5.0,   10.0,  30.0,  60.0};
}

std::vector<double> commit_latency_buckets() {
  return {1e-3,   2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3,
          500e-3, 1.0,    2.5,  5.0,   10.0,  30.0,  60.0};
}

std::vector<double> rebalance_duration_buckets() {
  return exponential(0.01, 2.0, 16);  // 10 ms .. about 5.5 min
}

const std::vector<std::string>& instance_states() {
  static const std::vector<std::string> states{
      "CREATED",     "REBALANCING",   "RUNNING", "PENDING_SHUTDOWN",
      "NOT_RUNNING", "PENDING_ERROR", "ERROR"};
  return states;
}

StreamsMetrics::StreamsMetrics(std::string application_id, MetricsRecordingLevel level)
    : application_id_(std::move(application_id)),
      debug_(level != MetricsRecordingLevel::info),
      registry_(std::make_shared<prometheus::Registry>()) {
  const prometheus::Labels constant{{"application", application_id_}};
  auto counter = [&](const std::string& name, const std::string& help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Labels(constant).Register(*registry_);
  };
  auto gauge = [&](const std::string& name, const std::string& help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Labels(constant).Register(*registry_);
  };
  auto histogram = [&](const std::string& name, const std::string& help) {
    return &prometheus::BuildHistogram().Name(name).Help(help).Labels(constant).Register(
        *registry_);
  };
  Families& f = families_;
  f.records_consumed =
      counter("rivulet_records_consumed_total", "Records the thread's consumer returned.");
  f.records_processed = counter("rivulet_records_processed_total",
                                "Input records processed through the task's sub-topology.");
  f.records_produced = counter("rivulet_records_produced_total",
                               "Records handed to the producer (output, changelog, repartition "
                               "and dead-letter topics).");
  f.process_latency = histogram("rivulet_process_latency_seconds",
                                "Time to process one record through its sub-topology.");
  f.end_to_end_latency = histogram(
      "rivulet_end_to_end_latency_seconds",
      "Wall-clock time when a record is sent minus its timestamp, per topic (not changelogs).");
  f.commit_latency =
      histogram("rivulet_commit_latency_seconds", "Time of a commit (or a transaction's commit).");
  f.commits = counter("rivulet_commits_total", "Offset commits (or committed transactions).");
  f.transactions_aborted = counter("rivulet_transactions_aborted_total",
                                   "Exactly-once: transactions aborted after an error.");
  f.rebalances = counter("rivulet_rebalances_total", "Rebalances the thread took part in.");
  f.rebalance_duration = histogram(
      "rivulet_rebalance_duration_seconds",
      "From a rebalance's first callback (or the thread's join) until the thread runs again.");
  f.assigned_tasks = gauge("rivulet_assigned_tasks", "Active tasks of the thread.");
  f.consumer_lag =
      gauge("rivulet_consumer_lag_records", "Records behind the end of an assigned partition.");
  f.restoration_records =
      counter("rivulet_restoration_records_total", "Changelog records restored into the store.");
  f.restoration_remaining =
      gauge("rivulet_restoration_remaining_records",
            "Changelog records still to restore, over the thread's restoring tasks.");
  f.store_entries = gauge("rivulet_store_entries", "Approximate number of entries of a store.");
  f.store_size = gauge("rivulet_store_size_bytes",
                       "RocksDB store: SST files plus memtables (total-sst-files-size + "
                       "cur-size-all-mem-tables).");
  f.rocksdb_memory = gauge("rivulet_rocksdb_memory_bytes",
                           "Memory of the instance's RocksDB stores under its memory budget.");
  f.cache_hits = counter("rivulet_cache_hits_total", "Record cache reads that found the key.");
  f.cache_misses =
      counter("rivulet_cache_misses_total", "Record cache reads that did not find the key.");
  f.cache_hit_ratio =
      gauge("rivulet_cache_hit_ratio", "Record cache hits over reads since the thread started.");
  f.late_records = counter("rivulet_late_records_dropped_total",
                           "Records dropped because their window had closed (past grace).");
  f.dead_lettered =
      counter("rivulet_dead_lettered_records_total", "Records sent to the dead-letter topic.");
  f.skipped = counter("rivulet_skipped_records_total", "Records skipped, by reason.");
  f.punctuations = counter("rivulet_punctuations_total", "Punctuator calls.");
  f.instance_state =
      gauge("rivulet_instance_state", "1 for the instance's current state, 0 for the others.");
  f.alive_threads = gauge("rivulet_alive_stream_threads", "Stream threads that are alive.");
  f.info = gauge("rivulet_info", "Always 1; the labels describe the library.");
  if (debug_) {
    f.cache_evictions =
        counter("rivulet_cache_evictions_total", "Record cache entries evicted (DEBUG).");
    f.cache_size = gauge("rivulet_cache_size_bytes", "Bytes in the record cache (DEBUG).");
    f.buffered_records = gauge("rivulet_buffered_records",
                               "Records polled but not processed yet, over the tasks (DEBUG).");
  }

  for (const std::string& state : instance_states()) {
    state_gauges_[state] = &f.instance_state->Add({{"state", state}});
  }
  set_state("CREATED");
  alive_threads_ = &f.alive_threads->Add({});
  f.info->Add({{"version", RIVULET_VERSION}}).Set(1);
}

StreamsMetrics::~StreamsMetrics() = default;

std::string StreamsMetrics::serialize() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

void StreamsMetrics::set_state(std::string_view state) {
  for (const auto& [name, gauge] : state_gauges_) gauge->Set(name == state ? 1 : 0);
}

void StreamsMetrics::set_alive_threads(std::size_t threads) {
  alive_threads_->Set(static_cast<double>(threads));
}

void StreamsMetrics::set_rocksdb_memory(const RocksDbMemory& memory) {
  const std::pair<const char*, std::uint64_t> kinds[] = {{"block_cache", memory.block_cache},
                                                         {"memtables", memory.memtables},
                                                         {"table_readers", memory.table_readers},
                                                         {"pinned", memory.pinned}};
  std::lock_guard lock(mutex_);
  for (const auto& [kind, bytes] : kinds) {
    auto found = rocksdb_memory_.find(kind);
    if (found == rocksdb_memory_.end()) {
      found = rocksdb_memory_.emplace(kind, &families_.rocksdb_memory->Add({{"kind", kind}})).first;
    }
    found->second->Set(static_cast<double>(bytes));
  }
}

StreamsMetrics::StoreSeries StreamsMetrics::acquire_store(const std::string& task,
                                                          const std::string& store, bool entries,
                                                          bool size_bytes) {
  std::lock_guard lock(mutex_);
  SharedStore& shared = stores_[{task, store}];
  ++shared.holders;
  const prometheus::Labels labels{{"task", task}, {"store", store}};
  if (entries && shared.series.entries == nullptr) {
    shared.series.entries = &families_.store_entries->Add(labels);
  }
  if (size_bytes && shared.series.size_bytes == nullptr) {
    shared.series.size_bytes = &families_.store_size->Add(labels);
  }
  return shared.series;
}

void StreamsMetrics::release_store(const std::string& task, const std::string& store) {
  std::lock_guard lock(mutex_);
  auto found = stores_.find({task, store});
  if (found == stores_.end() || --found->second.holders > 0) return;
  if (found->second.series.entries != nullptr) {
    families_.store_entries->Remove(found->second.series.entries);
  }
  if (found->second.series.size_bytes != nullptr) {
    families_.store_size->Remove(found->second.series.size_bytes);
  }
  stores_.erase(found);
}

}  // namespace rivulet::metrics
