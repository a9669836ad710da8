#include "metrics/thread_metrics.h"

#include <algorithm>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

namespace rivulet::metrics {

namespace {

// Adds what `now` has beyond `before` to `counter`; a running total never goes down, but a
// smaller value (a total that started over) adds nothing rather than subtracting.
void add_delta(prometheus::Counter& counter, std::uint64_t now, std::uint64_t before) {
  if (now > before) counter.Increment(static_cast<double>(now - before));
}

double wall_clock_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The `reason` label of each skip counter of TaskMetrics.
constexpr const char* kReasons[] = {"deserialization_error", "processing_error", "production_error",
                                    "invalid_timestamp", "dropped"};

}  // namespace

ThreadMetrics::ThreadMetrics(StreamsMetrics& streams, std::string thread,
                             std::string dead_letter_topic)
    : streams_(streams),
      families_(streams.families()),
      thread_(std::move(thread)),
      dead_letter_topic_(std::move(dead_letter_topic)),
      process_latency_(process_latency_buckets()) {
  const prometheus::Labels thread_labels = labels();
  process_latency_series_ =
      &families_.process_latency->Add(thread_labels, process_latency_buckets());
  consumed_ = &families_.records_consumed->Add(thread_labels);
  commits_ = &families_.commits->Add(thread_labels);
  aborted_ = &families_.transactions_aborted->Add(thread_labels);
  rebalances_ = &families_.rebalances->Add(thread_labels);
  rebalance_duration_ =
      &families_.rebalance_duration->Add(thread_labels, rebalance_duration_buckets());
  commit_latency_ = &families_.commit_latency->Add(thread_labels, commit_latency_buckets());
  assigned_tasks_ = &families_.assigned_tasks->Add(thread_labels);
  cache_hits_ = &families_.cache_hits->Add(thread_labels);
  cache_misses_ = &families_.cache_misses->Add(thread_labels);
  cache_hit_ratio_ = &families_.cache_hit_ratio->Add(thread_labels);
  dead_lettered_ = &families_.dead_lettered->Add(thread_labels);
  punctuations_ = &families_.punctuations->Add(thread_labels);
  for (const char* reason : kReasons) {
    skipped_[reason] = &families_.skipped->Add({{"thread", thread_}, {"reason", reason}});
  }
  if (streams_.debug()) {
    cache_evictions_ = &families_.cache_evictions->Add(thread_labels);
    cache_size_ = &families_.cache_size->Add(thread_labels);
    buffered_records_ = &families_.buffered_records->Add(thread_labels);
  }
}

ThreadMetrics::~ThreadMetrics() {
  if (removed_) return;
  for (auto& [id, series] : tasks_) release_stores(id, series);
}

// ---- Per record ----------------------------------------------------------------------------

ThreadMetrics::TopicSeries& ThreadMetrics::topic_series(std::string_view topic) {
  for (const auto& series : topics_) {
    if (series->topic == topic) return *series;
  }
  auto series = std::make_unique<TopicSeries>();
  series->topic = std::string(topic);
  series->produced =
      &families_.records_produced->Add({{"thread", thread_}, {"topic", series->topic}});
  if (!series->topic.ends_with("-changelog") && series->topic != dead_letter_topic_) {
    series->latency = &families_.end_to_end_latency->Add(
        {{"thread", thread_}, {"topic", series->topic}}, end_to_end_latency_buckets());
    series->local = std::make_unique<LocalHistogram>(end_to_end_latency_buckets());
  }
  topics_.push_back(std::move(series));
  return *topics_.back();
}

void ThreadMetrics::record_sent(std::string_view topic, std::int64_t timestamp_ms) {
  TopicSeries* series = last_topic_;
  if (series == nullptr || series->topic != topic) {
    series = &topic_series(topic);
    last_topic_ = series;
  }
  ++series->pending;
  if (series->local && timestamp_ms >= 0) {
    const double latency = wall_clock_seconds() - static_cast<double>(timestamp_ms) / 1000.0;
    series->local->observe(std::max(0.0, latency));
  }
}

// ---- Events --------------------------------------------------------------------------------

void ThreadMetrics::rebalance_started() {
  if (rebalance_start_) return;
  rebalance_start_ = std::chrono::steady_clock::now();
  rebalances_->Increment();
  force_slow_ = true;
}

void ThreadMetrics::rebalance_finished() {
  if (!rebalance_start_) return;
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - *rebalance_start_;
  rebalance_duration_->Observe(took.count());
  rebalance_start_.reset();
  force_slow_ = true;
}

void ThreadMetrics::commit_started() {
  commit_start_ = std::chrono::steady_clock::now();
}

void ThreadMetrics::commit_finished() {
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - commit_start_;
  commit_latency_->Observe(took.count());
}

// ---- Publishing ----------------------------------------------------------------------------

void ThreadMetrics::publish(const Totals& totals) {
  if (removed_) return;
  add_delta(*consumed_, totals.consumed, published_.consumed);
  add_delta(*commits_, totals.commits, published_.commits);
  add_delta(*aborted_, totals.aborted, published_.aborted);
  const TaskMetrics& now = totals.tasks;
  const TaskMetrics& before = published_.tasks;
  add_delta(*dead_lettered_, now.dead_lettered, before.dead_lettered);
  add_delta(*punctuations_, now.punctuations, before.punctuations);
  add_delta(*skipped_.at("deserialization_error"), now.deserialization_errors,
            before.deserialization_errors);
  add_delta(*skipped_.at("processing_error"), now.processing_errors, before.processing_errors);
  add_delta(*skipped_.at("production_error"), now.production_errors, before.production_errors);
  add_delta(*skipped_.at("invalid_timestamp"), now.invalid_timestamps, before.invalid_timestamps);
  add_delta(*skipped_.at("dropped"), now.dropped_records, before.dropped_records);
  assigned_tasks_->Set(static_cast<double>(totals.assigned_tasks));
  if (buffered_records_ != nullptr) {
    buffered_records_->Set(static_cast<double>(totals.buffered_records));
  }
  published_ = totals;

  process_latency_.flush_to(*process_latency_series_);
  for (const auto& series : topics_) {
    if (series->pending > 0) {
      series->produced->Increment(static_cast<double>(series->pending));
      series->pending = 0;
    }
    if (series->local) series->local->flush_to(*series->latency);
  }
}

ThreadMetrics::TaskSeries& ThreadMetrics::task_series(const TaskId& id) {
  auto found = tasks_.find(id);
  if (found != tasks_.end()) return found->second;
  TaskSeries& series = tasks_[id];
  series.processed =
      &families_.records_processed->Add({{"thread", thread_}, {"task", id.to_string()}});
  // A task that comes back to this thread continues its count.
  if (auto closed = closed_processed_.find(id); closed != closed_processed_.end()) {
    series.processed->Increment(closed->second);
    closed_processed_.erase(closed);
  }
  return series;
}

prometheus::Counter& ThreadMetrics::late_counter(const std::string& processor) {
  auto found = late_.find(processor);
  if (found != late_.end()) return *found->second;
  prometheus::Counter& counter =
      families_.late_records->Add({{"thread", thread_}, {"processor", processor}});
  late_.emplace(processor, &counter);
  return counter;
}

void ThreadMetrics::add_late(
    TaskSeries& series,
    const std::map<std::string, std::uint64_t, std::less<>>& late_by_processor) {
  for (const auto& [processor, count] : late_by_processor) {
    std::uint64_t& published = series.late_published[processor];
    add_delta(late_counter(processor), count, published);
    published = std::max(published, count);
  }
}

void ThreadMetrics::publish_task(
    const TaskId& id, std::uint64_t processed,
    const std::map<std::string, std::uint64_t, std::less<>>& late_by_processor) {
  if (removed_) return;
  TaskSeries& series = task_series(id);
  add_delta(*series.processed, processed, series.published);
  series.published = std::max(series.published, processed);
  if (!late_by_processor.empty()) add_late(series, late_by_processor);
}

void ThreadMetrics::task_closed(
    const TaskId& id, std::uint64_t processed,
    const std::map<std::string, std::uint64_t, std::less<>>& late_by_processor) {
  if (removed_) return;
  publish_task(id, processed, late_by_processor);
  auto found = tasks_.find(id);
  closed_processed_[id] = found->second.processed->Value();
  families_.records_processed->Remove(found->second.processed);
  release_stores(id, found->second);
  tasks_.erase(found);
}

void ThreadMetrics::release_stores(const TaskId& id, TaskSeries& series) {
  for (const auto& [store, held] : series.stores) streams_.release_store(id.to_string(), store);
  series.stores.clear();
}

bool ThreadMetrics::slow_due() {
  const auto now = std::chrono::steady_clock::now();
  if (!force_slow_ && last_slow_ && now - *last_slow_ < kSlowInterval) return false;
  last_slow_ = now;
  force_slow_ = false;
  return true;
}

void ThreadMetrics::publish_slow(const Slow& slow) {
  if (removed_) return;
  // Consumer lag: the assigned partitions whose lag is known, and no others.
  for (auto it = lag_.begin(); it != lag_.end();) {
    if (slow.lag.count(it->first) == 0) {
      families_.consumer_lag->Remove(it->second);
      it = lag_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [tp, lag] : slow.lag) {
    prometheus::Gauge*& gauge = lag_[tp];
    if (gauge == nullptr) {
      gauge = &families_.consumer_lag->Add(
          {{"thread", thread_}, {"topic", tp.topic}, {"partition", std::to_string(tp.partition)}});
    }
    gauge->Set(static_cast<double>(lag));
  }

  // Restoration: every store seen restoring keeps its series; 0 remaining once done.
  for (const auto& [store, restored] : slow.restored_by_store) {
    prometheus::Counter*& counter = restored_[store];
    if (counter == nullptr) {
      counter = &families_.restoration_records->Add({{"thread", thread_}, {"store", store}});
    }
    std::uint64_t& published = restored_published_[store];
    add_delta(*counter, restored, published);
    published = std::max(published, restored);
  }
  auto remaining_gauge = [&](const std::string& store) {
    prometheus::Gauge*& gauge = remaining_[store];
    if (gauge == nullptr) {
      gauge = &families_.restoration_remaining->Add({{"thread", thread_}, {"store", store}});
    }
  };
  for (const auto& [store, remaining] : slow.remaining_by_store) remaining_gauge(store);
  for (const auto& [store, restored] : slow.restored_by_store) remaining_gauge(store);
  for (const auto& [store, gauge] : remaining_) {
    const auto found = slow.remaining_by_store.find(store);
    gauge->Set(found == slow.remaining_by_store.end() ? 0.0 : static_cast<double>(found->second));
  }

  if (slow.cache) {
    const state::ThreadCache::Stats& cache = *slow.cache;
    add_delta(*cache_hits_, cache.hits, cache_published_.hits);
    add_delta(*cache_misses_, cache.misses, cache_published_.misses);
    if (cache.hits + cache.misses > 0) {
      cache_hit_ratio_->Set(static_cast<double>(cache.hits) /
                            static_cast<double>(cache.hits + cache.misses));
    }
    if (cache_evictions_ != nullptr) {
      add_delta(*cache_evictions_, cache.evictions, cache_published_.evictions);
      cache_size_->Set(static_cast<double>(cache.size_bytes));
    }
    cache_published_ = cache;
  }

  for (const auto& [id, stores] : slow.stores) {
    auto found = tasks_.find(id);
    if (found == tasks_.end()) continue;  // published by publish_task first
    TaskSeries& series = found->second;
    for (const state::StateManager::StoreStats& stats : stores) {
      if (!stats.entries && !stats.size_bytes) continue;
      auto held = series.stores.find(stats.name);
      if (held == series.stores.end()) {
        held = series.stores
                   .emplace(stats.name, streams_.acquire_store(id.to_string(), stats.name,
                                                               stats.entries.has_value(),
                                                               stats.size_bytes.has_value()))
                   .first;
      }
      const StreamsMetrics::StoreSeries& store = held->second;
      if (stats.entries && store.entries != nullptr) {
        store.entries->Set(static_cast<double>(*stats.entries));
      }
      if (stats.size_bytes && store.size_bytes != nullptr) {
        store.size_bytes->Set(static_cast<double>(*stats.size_bytes));
      }
    }
  }

  if (slow.rocksdb) streams_.set_rocksdb_memory(*slow.rocksdb);
}

void ThreadMetrics::remove() {
  if (removed_) return;
  removed_ = true;
  for (auto& [id, series] : tasks_) {
    families_.records_processed->Remove(series.processed);
    release_stores(id, series);
  }
  tasks_.clear();
  for (const auto& [tp, gauge] : lag_) families_.consumer_lag->Remove(gauge);
  lag_.clear();
  for (const auto& [store, counter] : restored_) families_.restoration_records->Remove(counter);
  for (const auto& [store, gauge] : remaining_) families_.restoration_remaining->Remove(gauge);
  for (const auto& [processor, counter] : late_) families_.late_records->Remove(counter);
  for (const auto& [reason, counter] : skipped_) families_.skipped->Remove(counter);
  for (const auto& series : topics_) {
    families_.records_produced->Remove(series->produced);
    if (series->latency != nullptr) families_.end_to_end_latency->Remove(series->latency);
  }
  topics_.clear();
  last_topic_ = nullptr;
  families_.process_latency->Remove(process_latency_series_);
  families_.records_consumed->Remove(consumed_);
  families_.commits->Remove(commits_);
  families_.transactions_aborted->Remove(aborted_);
  families_.rebalances->Remove(rebalances_);
  families_.rebalance_duration->Remove(rebalance_duration_);
  families_.commit_latency->Remove(commit_latency_);
  families_.assigned_tasks->Remove(assigned_tasks_);
  families_.cache_hits->Remove(cache_hits_);
  families_.cache_misses->Remove(cache_misses_);
  families_.cache_hit_ratio->Remove(cache_hit_ratio_);
  families_.dead_lettered->Remove(dead_lettered_);
  families_.punctuations->Remove(punctuations_);
  if (cache_evictions_ != nullptr) {
    families_.cache_evictions->Remove(cache_evictions_);
    families_.cache_size->Remove(cache_size_);
    families_.buffered_records->Remove(buffered_records_);
  }
}

}  // namespace rivulet::metrics
