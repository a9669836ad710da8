#include "runtime/stream_thread.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include <rivulet/errors.h>

#include "metrics/thread_metrics.h"
#include "state/rocksdb_resources.h"
#include "state/thread_cache.h"
#include "topology/processor_graph.h"
#include "topology/topology_impl.h"

namespace rivulet::runtime {

namespace {
constexpr std::size_t kMaxPollRecords = 1000;
// Records processed between two polls at most, so that rebalances, punctuation and commits are
// served in time under a steady load.
constexpr std::size_t kProcessBudget = 2000;
// Records a task processes before the thread turns to the next task.
constexpr std::size_t kRecordsPerTaskTurn = 100;
// Longest wait of a restoration step for changelog records.
constexpr std::chrono::milliseconds kRestorePoll{20};
// How often a task that waits for its directory's lock says so.
constexpr std::int64_t kLockWarningIntervalMs = 10'000;
thread_local bool t_stream_thread = false;
}  // namespace

std::string_view to_string(ThreadState state) {
  switch (state) {
    case ThreadState::created:
      return "CREATED";
    case ThreadState::starting:
      return "STARTING";
    case ThreadState::partitions_revoked:
      return "PARTITIONS_REVOKED";
    case ThreadState::partitions_assigned:
      return "PARTITIONS_ASSIGNED";
    case ThreadState::running:
      return "RUNNING";
    case ThreadState::pending_shutdown:
      return "PENDING_SHUTDOWN";
    case ThreadState::dead:
      return "DEAD";
  }
  return "UNKNOWN";
}

StreamThread::StreamThread(const RuntimeContext& context, int index, Callbacks callbacks)
    : context_(context),
      index_(index),
      name_(fmt::format("{}-StreamThread-{}", context.client_id, index)),
      callbacks_(std::move(callbacks)),
      logger_(context.logger),
      eos_(context.config.exactly_once()),
      transactional_id_(
          eos_ ? fmt::format("{}-{}-{}", context.application_id, context.process_id, index)
               : std::string()) {
  commit_interval_ms_ = context.config.commit_interval().count();
  poll_ms_ = context.config.poll_timeout().count();
  api_timeout_ms_ = context.config.default_api_timeout().count();
  if (context.metrics) {
    thread_metrics_ = std::make_unique<metrics::ThreadMetrics>(
        *context.metrics, name_, context.task_settings.dead_letter_topic);
  }
}

StreamThread::~StreamThread() {
  if (thread_.joinable()) {
    request_shutdown();
    thread_.join();
  }
}

void StreamThread::start() {
  state_ = ThreadState::starting;  // no callback: the owner starts threads under its own lock
  thread_ = std::thread([this] { run(); });
}

void StreamThread::request_shutdown() {
  shutdown_requested_ = true;
}

void StreamThread::request_abort() {
  abort_requested_ = true;
  shutdown_requested_ = true;
}

void StreamThread::join() {
  if (thread_.joinable()) thread_.join();
}

void StreamThread::set_state(ThreadState state) {
  const ThreadState old = state_.exchange(state);
  if (old == state) return;
  logger_->debug("{}: {} -> {}", name_, to_string(old), to_string(state));
  if (state == ThreadState::running && thread_metrics_) thread_metrics_->rebalance_finished();
  if (callbacks_.on_state) callbacks_.on_state(*this, state);
}

std::int64_t StreamThread::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<TaskId> StreamThread::active_tasks() const {
  std::lock_guard lock(snapshot_mutex_);
  return active_snapshot_;
}

TaskMetrics StreamThread::metrics() const {
  std::lock_guard lock(snapshot_mutex_);
  return metrics_snapshot_;
}

void StreamThread::publish_metrics() {
  TaskMetrics total = closed_metrics_;
  std::vector<TaskId> active;
  for (const auto& [id, task] : tasks_) {
    total += task->task->metrics();
    active.push_back(id);
  }
  if (changelog_reader_) {
    restored_.store(changelog_reader_->records_restored(), std::memory_order_relaxed);
  }
  for (const auto& [id, task] : suspended_) total += task->task->metrics();
  if (collector_) {
    total.production_errors += collector_->skipped();
    produced_.store(collector_->sent(), std::memory_order_relaxed);
  }
  if (thread_metrics_) publish_prometheus_metrics(total);
  std::lock_guard lock(snapshot_mutex_);
  metrics_snapshot_ = total;
  active_snapshot_ = std::move(active);
}

bool StreamThread::on_stream_thread() {
  return t_stream_thread;
}

void StreamThread::submit_query(StoreQuery query) {
  {
    std::lock_guard lock(query_mutex_);
    if (!queries_closed_) {
      queries_.push_back(std::move(query));
      queries_pending_.store(true, std::memory_order_release);
      if (wake_target_ != nullptr) wake_target_->wakeup();
      return;
    }
  }
  query(nullptr);
}

void StreamThread::run_queries() {
  std::vector<StoreQuery> queries;
  {
    std::lock_guard lock(query_mutex_);
    queries.swap(queries_);
    queries_pending_.store(false, std::memory_order_release);
  }
  QueryView view;
  for (auto& [id, task] : tasks_) {
    if (task->phase == Phase::running) {
      view.running.emplace_back(id, task->task.get());
    } else {
      view.restoring.push_back(id);
    }
  }
  for (StoreQuery& query : queries) {
    try {
      query(&view);
    } catch (const std::exception& error) {
      // A query reports its own errors to its caller; one that escapes must not stop the thread.
      logger_->warn("{}: a store query failed: {}", name_, error.what());
    }
  }
}

void StreamThread::stop_queries() {
  std::vector<StoreQuery> queries;
  {
    std::lock_guard lock(query_mutex_);
    queries_closed_ = true;
    wake_target_ = nullptr;
    queries.swap(queries_);
    queries_pending_.store(false, std::memory_order_release);
  }
  for (StoreQuery& query : queries) query(nullptr);
}

void StreamThread::remove_metrics() {
  if (thread_metrics_) thread_metrics_->remove();
}

void StreamThread::publish_prometheus_metrics(const TaskMetrics& total) {
  metrics::ThreadMetrics::Totals totals;
  totals.consumed = consumed_.load(std::memory_order_relaxed);
  totals.commits = commits_.load(std::memory_order_relaxed);
  totals.aborted = aborts_.load(std::memory_order_relaxed);
  totals.tasks = total;
  totals.assigned_tasks = tasks_.size();
  for (const auto* tasks : {&tasks_, &suspended_}) {
    for (const auto& [id, task] : *tasks) {
      totals.buffered_records += task->group->buffered();
      thread_metrics_->publish_task(id, task->task->metrics().records_processed,
                                    task->task->late_records_by_processor());
    }
  }
  thread_metrics_->publish(totals);
  if (!thread_metrics_->slow_due()) return;

  // Read here, on the thread that owns the consumer, the stores and the cache.
  metrics::ThreadMetrics::Slow slow;
  if (consumer_) {
    try {
      for (auto& [tp, lag] : consumer_->lag()) {
        if (task_of_partition_.count(tp) > 0) slow.lag.emplace(tp, lag);
      }
    } catch (const std::exception& error) {
      logger_->debug("{}: reading the consumer lag failed: {}", name_, error.what());
    }
  }
  if (changelog_reader_) {
    slow.restored_by_store = changelog_reader_->records_restored_by_store();
    slow.remaining_by_store = changelog_reader_->remaining_by_store();
  }
  if (cache_) slow.cache = cache_->stats();
  for (const auto* tasks : {&tasks_, &suspended_}) {
    for (const auto& [id, task] : *tasks) {
      if (const state::StateManager* state = task->task->state()) {
        slow.stores[id] = state->store_stats();
      }
    }
  }
  if (context_.rocksdb) {
    const state::RocksDbResources::MemoryBreakdown memory = context_.rocksdb->memory_breakdown();
    slow.rocksdb = metrics::StreamsMetrics::RocksDbMemory{memory.block_cache, memory.memtables,
                                                          memory.table_readers, memory.pinned};
  }
  thread_metrics_->publish_slow(slow);
}

void StreamThread::run() {
  t_stream_thread = true;
  std::exception_ptr error;
  try {
    create_producer();
    auto consumer_config = context_.config.consumer_configs();
    consumer_config["client.id"] = name_ + "-consumer";
    // librdkafka's statistics give the consumer lag metric; the user's setting wins.
    consumer_config.try_emplace("statistics.interval.ms", "5000");
    consumer_ = context_.clients->consumer(consumer_config);
    {
      std::lock_guard lock(query_mutex_);
      wake_target_ = consumer_.get();
    }
    if (context_.cache_bytes_per_thread > 0) {
      cache_ = std::make_unique<state::ThreadCache>(context_.cache_bytes_per_thread);
    }
    changelog_reader_ = std::make_unique<ChangelogReader>(context_, name_ + "-restore-consumer");
    consumer_->subscribe(context_.source_topics, *this);
    if (thread_metrics_) thread_metrics_->rebalance_started();  // joining the group is one
    last_commit_ms_ = now_ms();
    run_loop();
  } catch (...) {
    error = std::current_exception();
  }
  stop_queries();

  if (abort_requested_) {
    // A simulated crash: nothing is committed, the group is not told.
    dirty_ = true;
    close_all_tasks(!dirty_);
    if (consumer_) consumer_->abandon();
  } else {
    if (error) dirty_ = true;
    try {
      if (!error) commit_all();
    } catch (...) {
      error = std::current_exception();
      dirty_ = true;
    }
    try {
      // Leaving the group revokes the partitions through the listener, which commits (unless
      // dirty) and suspends the tasks; then they are closed.
      if (consumer_) consumer_->close();
    } catch (const std::exception& close_error) {
      logger_->warn("{}: leaving the group failed: {}", name_, close_error.what());
    }
    close_all_tasks(!dirty_);
    try {
      if (collector_ && !error) collector_->flush(std::chrono::milliseconds(api_timeout_ms_));
    } catch (const std::exception& flush_error) {
      logger_->warn("{}: flushing the producer failed: {}", name_, flush_error.what());
    }
  }
  if (thread_metrics_) thread_metrics_->force_slow();  // the last values: no tasks, no lag
  publish_metrics();
  changelog_reader_.reset();
  consumer_.reset();
  producer_.reset();  // before the collector: its last delivery reports go there
  collector_.reset();
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      logger_->error("{} died: {}", name_, e.what());
    } catch (...) {
      logger_->error("{} died of an unknown exception", name_);
    }
  }
  set_state(ThreadState::dead);
  if (error && callbacks_.on_death) callbacks_.on_death(*this, error);
}

void StreamThread::create_producer() {
  // The old producer first: its last delivery reports go to the old collector.
  producer_.reset();
  collector_.reset();
  auto producer_config = context_.config.producer_configs();
  producer_config["client.id"] = name_ + "-producer";
  if (eos_) producer_config["transactional.id"] = transactional_id_;
  producer_ = context_.clients->producer(producer_config);
  collector_ = std::make_unique<KafkaRecordCollector>(
      *producer_, context_.task_settings.on_production_error, logger_, eos_, thread_metrics_.get());
  if (eos_) {
    producer_->init_transactions(std::chrono::milliseconds(api_timeout_ms_));
    begin_transaction();
  }
}

void StreamThread::begin_transaction() {
  producer_->begin_transaction();
  sent_at_begin_ = collector_->sent();
}

void StreamThread::recover_from_transaction_error(const kafka::KafkaException& error,
                                                  bool revoking) {
  aborts_.fetch_add(1, std::memory_order_relaxed);
  logger_->warn(
      "{}: the transaction failed ({}); aborting it and going back to the last commit: tasks "
      "restore their committed state and read their partitions from the committed offsets",
      name_, error.what());
  std::map<TaskId, std::vector<kafka::TopicPartition>> active;
  for (const auto& [id, task] : tasks_) active[id] = task->group->partitions();
  // Tasks first: they must not write anything more (a dirty close drops their caches and the
  // writes their stores buffered); the collector they use may be replaced below.
  close_all_tasks(false);
  bool replace = error.fatal();
  if (!replace) {
    try {
      producer_->abort_transaction(std::chrono::milliseconds(api_timeout_ms_));
    } catch (const kafka::KafkaException& abort_error) {
      if (!abort_error.fatal()) throw;
      replace = true;
    }
  }
  if (replace) {
    logger_->warn("{}: the producer was fenced; creating a new one for transactional.id '{}'",
                  name_, transactional_id_);
    create_producer();
  } else {
    begin_transaction();
  }
  if (revoking) return;
  std::vector<kafka::TopicPartition> partitions;
  for (const auto& [id, parts] : active) {
    tasks_[id] = create_task(id, parts);
    for (const kafka::TopicPartition& tp : parts) {
      task_of_partition_[tp] = tasks_[id].get();
      partitions.push_back(tp);
    }
  }
  if (partitions.empty()) return;
  consumer_->pause(partitions);
  // Read again from the last committed offsets, or from where auto.offset.reset says when the
  // group has none.
  const auto committed =
      consumer_->committed(partitions, std::chrono::milliseconds(api_timeout_ms_));
  std::vector<kafka::TopicPartition> uncommitted;
  for (const kafka::TopicPartition& tp : partitions) {
    if (auto found = committed.find(tp); found != committed.end()) {
      consumer_->seek(tp, found->second);
    } else {
      uncommitted.push_back(tp);
    }
  }
  if (!uncommitted.empty()) {
    const bool latest = context_.config.consumer_configs()["auto.offset.reset"] == "latest";
    for (const auto& [tp, marks] :
         consumer_->watermarks(uncommitted, std::chrono::milliseconds(api_timeout_ms_))) {
      consumer_->seek(tp, latest ? marks.second : marks.first);
    }
  }
  set_state(ThreadState::partitions_assigned);
  publish_metrics();
}

void StreamThread::run_loop() {
  std::vector<kafka::ConsumerRecord> records;
  while (!shutdown_requested_.load(std::memory_order_relaxed)) {
    try {
      run_once(records);
    } catch (const kafka::KafkaException& error) {
      if (!eos_ || !(error.abortable() || error.fatal())) throw;
      records.clear();
      recover_from_transaction_error(error, false);
    }
  }
  if (!abort_requested_) set_state(ThreadState::pending_shutdown);
}

void StreamThread::run_once(std::vector<kafka::ConsumerRecord>& records) {
  serve_queries();
  bool busy = any_task_pending();
  for (const auto& [id, task] : tasks_) {
    busy = busy || (task->phase == Phase::running && task->group->buffered() > 0);
  }
  records = consumer_->poll(std::chrono::milliseconds(busy ? 0 : poll_ms_), kMaxPollRecords);
  if (shutdown_requested_.load(std::memory_order_relaxed)) return;
  consumed_.fetch_add(records.size(), std::memory_order_relaxed);
  route(records);
  if (any_task_pending()) {
    initialize_tasks();
    restore_step(kRestorePoll);
    if (!any_task_pending() && state_.load() == ThreadState::partitions_assigned) {
      publish_metrics();  // what restoration did is visible once the instance is RUNNING
      set_state(ThreadState::running);
    }
  }
  process(kProcessBudget);
  apply_flow_control();
  const std::int64_t now = now_ms();
  for (auto& [id, task] : tasks_) {
    if (task->phase == Phase::running) task->task->maybe_punctuate_system_time();
  }
  collector_->poll();
  maybe_commit(now);
  publish_metrics();
  serve_queries();
}

void StreamThread::route(std::vector<kafka::ConsumerRecord>& records) {
  kafka::TopicPartition key;
  for (kafka::ConsumerRecord& record : records) {
    key.topic.assign(record.topic);
    key.partition = record.partition;
    auto found = task_of_partition_.find(key);
    if (found == task_of_partition_.end()) continue;  // revoked meanwhile: its new owner reads it
    found->second->group->add(std::move(record));
  }
  records.clear();
}

void StreamThread::apply_flow_control() {
  std::vector<kafka::TopicPartition> pause;
  std::vector<kafka::TopicPartition> resume;
  for (auto& [id, task] : tasks_) {
    if (task->phase == Phase::running) task->group->take_flow_changes(pause, resume);
  }
  consumer_->pause(pause);
  consumer_->resume(resume);
}

std::size_t StreamThread::process(std::size_t budget) {
  std::size_t done = 0;
  const std::int64_t now = now_ms();
  bool progressed = true;
  while (progressed && done < budget && !shutdown_requested_.load(std::memory_order_relaxed)) {
    progressed = false;
    for (auto& [id, task] : tasks_) {
      if (task->phase != Phase::running) continue;
      for (std::size_t n = 0; n < kRecordsPerTaskTurn && task->group->process_next(now); ++n) {
        task->task->maybe_punctuate_stream_time();
        ++done;
        progressed = true;
      }
      if (task->task->commit_requested()) {
        task->task->clear_commit_request();
        try_commit("requested");
      }
      serve_queries();
    }
  }
  return done;
}

void StreamThread::maybe_commit(std::int64_t now) {
  if (now - last_commit_ms_ < commit_interval_ms_) return;
  last_commit_ms_ = now;
  try_commit("periodic");
}

void StreamThread::try_commit(std::string_view why) {
  try {
    commit_all();
  } catch (const kafka::KafkaException& error) {
    // Under exactly-once the loop (or the revocation) goes back to the last commit.
    if (eos_ || error.fatal()) throw;
    // The group is rebalancing or moved on without this member: the revocation that follows
    // commits again, or the partitions' new owners reprocess from the last committed offsets
    // (at-least-once). Either way the thread goes on.
    logger_->warn("{}: {} commit failed, offsets stay uncommitted for now: {}", name_, why,
                  error.what());
  }
}

bool StreamThread::commit_all() {
  if (thread_metrics_) thread_metrics_->commit_started();
  // Stores first: flushing the record caches forwards their merged updates (more output) and
  // writes the changelogs.
  for (auto& [id, task] : tasks_) {
    if (task->phase == Phase::running) task->task->flush_state();
  }
  std::map<kafka::TopicPartition, std::int64_t> offsets;
  for (const auto& [id, task] : tasks_) {
    if (task->phase == Phase::running) offsets.merge(task->group->offsets_to_commit());
  }
  if (eos_) return commit_transaction(!offsets.empty());
  if (offsets.empty()) return false;
  // Outputs next: an offset is committed only once what its record produced is in Kafka.
  collector_->flush(std::chrono::milliseconds(api_timeout_ms_));
  consumer_->commit(offsets);
  // Every changelog write so far is delivered: the checkpoint can say so.
  committed(offsets);
  return true;
}

void StreamThread::committed(const std::map<kafka::TopicPartition, std::int64_t>& offsets) {
  for (auto& [id, task] : tasks_) {
    if (task->phase != Phase::running) continue;
    task->group->mark_committed(offsets);
    task->task->checkpoint_state();
  }
  commits_.fetch_add(1, std::memory_order_relaxed);
  if (thread_metrics_) thread_metrics_->commit_finished();
}

bool StreamThread::commit_transaction(bool progressed) {
  if (!progressed && collector_->sent() == sent_at_begin_) return false;
  // Every running task's offsets, moved or not: a zombie's stale generation fails here.
  std::map<kafka::TopicPartition, std::int64_t> offsets;
  for (const auto& [id, task] : tasks_) {
    if (task->phase == Phase::running) offsets.merge(task->group->consumed_offsets());
  }
  const std::chrono::milliseconds timeout(api_timeout_ms_);
  collector_->flush(timeout);
  if (!offsets.empty()) {
    producer_->send_offsets_to_transaction(offsets, *consumer_->group_metadata(), timeout);
  }
  producer_->commit_transaction(timeout);
  // The transaction committed: the stores write what they buffered, with its changelog offsets.
  committed(offsets);
  begin_transaction();
  return true;
}

bool StreamThread::any_task_pending() const {
  for (const auto& [id, task] : tasks_) {
    if (task->phase != Phase::running) return true;
  }
  return false;
}

void StreamThread::initialize_tasks() {
  const std::int64_t now = now_ms();
  std::vector<std::pair<TaskId, state::StateManager*>> opened;
  for (auto& [id, task] : tasks_) {
    if (task->phase != Phase::created) continue;
    if (!task->task->initialize_state()) {
      if (now - last_lock_warning_ms_ >= kLockWarningIntervalMs) {
        last_lock_warning_ms_ = now;
        logger_->info(
            "{}: task {} waits for its state directory, still locked by its previous "
            "owner",
            name_, id.to_string());
      }
      continue;
    }
    if (state::StateManager* state = task->task->state()) {
      opened.emplace_back(id, state);
      task->phase = Phase::restoring;
    } else {
      start_running(*task);
    }
  }
  // Every store that could open is open: restoration starts for all of them at once.
  if (opened.empty()) return;
  for (const TaskId& id : changelog_reader_->add(opened)) start_running(*tasks_.at(id));
}

void StreamThread::restore_step(std::chrono::milliseconds timeout) {
  if (!changelog_reader_->restoring()) return;
  for (const TaskId& id : changelog_reader_->restore(timeout)) {
    auto found = tasks_.find(id);
    if (found != tasks_.end()) start_running(*found->second);
  }
}

void StreamThread::start_running(Task& task) {
  task.task->initialize();
  task.phase = Phase::running;
  consumer_->resume(task.group->partitions());
  logger_->debug("{}: task {} is running", name_, task.id.to_string());
}

std::unique_ptr<StreamThread::Task> StreamThread::create_task(
    TaskId id, const std::vector<kafka::TopicPartition>& partitions) {
  auto task = std::make_unique<Task>();
  task->id = id;
  TaskStateOptions state;
  state.directory = context_.state_directory.get();
  state.rocksdb = context_.rocksdb.get();
  state.cache = cache_.get();
  state.exactly_once = eos_;
  task->task = std::make_unique<StreamTask>(
      id,
      detail::ProcessorGraph::build(*context_.topology, id.subtopology, context_.application_id),
      context_.task_settings, *collector_, [this] { return now_ms(); }, logger_, state);
  if (thread_metrics_) task->task->set_process_latency(&thread_metrics_->process_latency());
  task->group = std::make_unique<PartitionGroup>(
      *task->task, partitions, context_.config.max_task_idle().count(),
      static_cast<std::size_t>(context_.config.buffered_records_per_partition()));
  return task;
}

void StreamThread::close_task(Task& task, bool clean) {
  if (changelog_reader_ && task.phase == Phase::restoring) changelog_reader_->remove(task.id);
  try {
    // A dirty close (an error, a crash, lost partitions) writes no checkpoint: the stores may
    // hold changes that the committed offsets do not cover.
    task.task->close(clean);
  } catch (const std::exception& error) {
    logger_->warn("{}: closing task {} failed: {}", name_, task.id.to_string(), error.what());
  }
  closed_metrics_ += task.task->metrics();
  if (thread_metrics_) {
    thread_metrics_->task_closed(task.id, task.task->metrics().records_processed,
                                 task.task->late_records_by_processor());
  }
}

void StreamThread::close_all_tasks(bool clean) {
  for (auto& [id, task] : tasks_) close_task(*task, clean);
  for (auto& [id, task] : suspended_) close_task(*task, clean);
  tasks_.clear();
  suspended_.clear();
  task_of_partition_.clear();
}

void StreamThread::on_partitions_revoked(const std::vector<kafka::TopicPartition>& partitions) {
  if (thread_metrics_) thread_metrics_->rebalance_started();
  set_state(ThreadState::partitions_revoked);
  logger_->info("{}: {} partition(s) revoked", name_, partitions.size());
  if (!dirty_) {
    try {
      try_commit("revocation");
    } catch (const kafka::KafkaException& error) {
      if (!eos_ || !(error.abortable() || error.fatal())) throw;
      // The tasks go anyway: closed without committing, their new owners start from the last
      // commit.
      recover_from_transaction_error(error, true);
    }
  }
  for (auto& [id, task] : tasks_) {
    if (task->phase != Phase::running) {
      // Not running yet: close it (a restoring task keeps what it restored, in its checkpoint).
      close_task(*task, !dirty_);
      continue;
    }
    task->group->clear();
    suspended_[id] = std::move(task);
  }
  tasks_.clear();
  task_of_partition_.clear();
  publish_metrics();
}

void StreamThread::on_partitions_lost(const std::vector<kafka::TopicPartition>& partitions) {
  if (thread_metrics_) thread_metrics_->rebalance_started();
  set_state(ThreadState::partitions_revoked);
  logger_->warn("{}: {} partition(s) lost; closing their tasks without committing", name_,
                partitions.size());
  close_all_tasks(false);
  if (eos_ && !dirty_) {
    // The open transaction holds what the lost tasks produced: it must never commit.
    try {
      producer_->abort_transaction(std::chrono::milliseconds(api_timeout_ms_));
      begin_transaction();
    } catch (const kafka::KafkaException& error) {
      if (!error.fatal()) throw;
      create_producer();
    }
    aborts_.fetch_add(1, std::memory_order_relaxed);
  }
  publish_metrics();
}

void StreamThread::on_partitions_assigned(const std::vector<kafka::TopicPartition>& partitions) {
  if (thread_metrics_) thread_metrics_->rebalance_started();
  set_state(ThreadState::partitions_assigned);
  std::map<TaskId, std::vector<kafka::TopicPartition>> wanted;
  for (const kafka::TopicPartition& tp : partitions) {
    auto sub = context_.subtopology_of_topic.find(tp.topic);
    if (sub == context_.subtopology_of_topic.end()) continue;
    wanted[TaskId{sub->second, tp.partition}].push_back(tp);
  }
  for (auto& [id, parts] : wanted) {
    auto kept = suspended_.find(id);
    if (kept != suspended_.end() && kept->second->group->partitions() == parts) {
      tasks_[id] = std::move(kept->second);
      suspended_.erase(kept);
    } else {
      tasks_[id] = create_task(id, parts);
      // Paused until its stores are restored.
      consumer_->pause(parts);
    }
    for (const kafka::TopicPartition& tp : parts) task_of_partition_[tp] = tasks_[id].get();
  }
  for (auto& [id, task] : suspended_) close_task(*task, !dirty_);
  suspended_.clear();
  std::vector<std::string> names;
  for (const auto& [id, task] : tasks_) names.push_back(id.to_string());
  logger_->info("{}: assigned {} partition(s), tasks [{}]", name_, partitions.size(),
                fmt::join(names, ", "));
  publish_metrics();
  // Running once every task restored its state (the loop sets it when they have).
  if (!any_task_pending()) set_state(ThreadState::running);
}

}  // namespace rivulet::runtime
