#include <algorithm>
#include <condition_variable>
#include <future>
#include <mutex>
#include <random>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include <rivulet/errors.h>
#include <rivulet/kafka_streams.h>

#include "common/logging.h"
#include "kafka/in_memory_clients.h"
#include "kafka/rdkafka_client.h"
#include "metrics/streams_metrics.h"
#include "runtime/host_registry.h"
#include "runtime/internal_topics.h"
#include "runtime/query_service.h"
#include "runtime/stream_thread.h"
#include "state/rocksdb_resources.h"
#include "state/state_directory.h"
#include "topology/topology_impl.h"

namespace rivulet {

std::string_view to_string(KafkaStreams::State state) {
  switch (state) {
    case KafkaStreams::State::created:
      return "CREATED";
    case KafkaStreams::State::rebalancing:
      return "REBALANCING";
    case KafkaStreams::State::running:
      return "RUNNING";
    case KafkaStreams::State::pending_shutdown:
      return "PENDING_SHUTDOWN";
    case KafkaStreams::State::not_running:
      return "NOT_RUNNING";
    case KafkaStreams::State::pending_error:
      return "PENDING_ERROR";
    case KafkaStreams::State::error:
      return "ERROR";
  }
  return "UNKNOWN";
}

namespace {
// A random id for this instance in the hosts topic, when exactly-once gives it none.
std::string random_instance_id() {
  std::random_device device;
  std::mt19937_64 random(device());
  return fmt::format("{:016x}", random());
}
}  // namespace

class KafkaStreams::Impl final : public detail::StoreQueries, private runtime::QueryBackend {
 public:
  using State = KafkaStreams::State;

  Impl(const Topology& topology, StreamsConfig config,
       std::shared_ptr<kafka::ClientFactory> clients) {
    config.validate_for_runtime();
    const detail::TopologyImpl& graph = detail::topology_impl(topology);
    graph.validate();
    topology_text_ = topology.describe().to_string();
    set_up_queries(graph);
    context_.topology = &graph;
    context_.application_id = config.application_id();
    context_.client_id = config.client_id().empty() ? context_.application_id : config.client_id();
    context_.task_settings = runtime::task_settings_from(config, context_.application_id);
    context_.logger = common::make_logger("rivulet." + context_.client_id);
    context_.metrics = std::make_shared<metrics::StreamsMetrics>(context_.application_id,
                                                                 config.metrics_recording_level());
    context_.clients = clients ? std::move(clients)
                               : std::make_shared<kafka::RdKafkaClientFactory>(context_.logger);
    for (const detail::SubtopologyInfo& sub : graph.subtopologies()) {
      for (const std::string& topic : sub.source_topics) {
        const std::string name = graph.resolve_topic(context_.application_id, topic);
        context_.source_topics.push_back(name);
        context_.subtopology_of_topic[name] = sub.id;
      }
    }
    for (const std::string& warning : config.warnings()) context_.logger->warn("{}", warning);
    set_up_state(config, graph);
    if (config.exactly_once()) {
      process_id_ = std::make_unique<state::ProcessId>(config.state_dir(), context_.application_id);
      context_.process_id = process_id_->id();
      if (!process_id_->persisted()) {
        context_.logger->warn(
            "another live instance uses state.dir {} for application '{}': this one takes the "
            "fresh process id {}, so a crash of it will leave its open transactions to time out",
            config.state_dir().string(), context_.application_id, context_.process_id);
      }
    }
    instance_id_ = context_.process_id.empty() ? random_instance_id() : context_.process_id;
    context_.config = std::move(config);
  }

  // Which sub-topology holds each store, and a codec (a store never initialized) per store.
  void set_up_queries(const detail::TopologyImpl& graph) {
    for (const detail::SubtopologyInfo& sub : graph.subtopologies()) {
      for (const std::string& store : sub.stores) store_subtopology_[store] = sub.id;
    }
    for (const auto& [name, factory] : graph.stores()) {
      std::unique_ptr<StateStore> store = factory.build();
      if (dynamic_cast<detail::QueryableStore*>(store.get()) != nullptr) {
        codecs_[name] = std::move(store);
      }
    }
  }

  // The state directory, the memory budget's RocksDB part and each thread's record cache.
  void set_up_state(const StreamsConfig& config, const detail::TopologyImpl& graph) {
    const std::int64_t cache_bytes = config.statestore_cache_max_bytes();
    const std::int64_t budget = config.get_long("state.memory.max.bytes");
    const std::string rocksdb_options = config.get_string("rocksdb.config");
    if (budget > 0 && cache_bytes >= budget) {
      throw ConfigException(fmt::format(
          "state.memory.max.bytes ({}) must be larger than statestore.cache.max.bytes ({}): the "
          "record caches come out of the state memory budget, and RocksDB gets the rest",
          budget, cache_bytes));
    }
    if (budget == 0 && !rocksdb_options.empty()) {
      throw ConfigException(
          "rocksdb.config needs a state memory budget (state.memory.max.bytes > 0): the options "
          "apply through the shared RocksDB resources");
    }
    context_.cache_bytes_per_thread =
        static_cast<std::uint64_t>(cache_bytes / std::max(1, config.num_stream_threads()));
    if (graph.stores().empty()) return;
    context_.state_directory =
        std::make_shared<state::StateDirectory>(config.state_dir(), context_.application_id);
    if (budget > 0) {
      context_.rocksdb = state::make_rocksdb_resources(
          static_cast<std::uint64_t>(budget - cache_bytes), rocksdb_options);
    }
  }

  ~Impl() { close(std::chrono::milliseconds::max()); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void start() {
    {
      std::lock_guard lock(mutex_);
      if (state_ != State::created) {
        throw StreamsException(fmt::format(
            "KafkaStreams::start() called in state {}; an instance starts once, from CREATED",
            to_string(state_)));
      }
    }
    try {
      const std::map<std::string, std::int32_t> counts = runtime::prepare_topics(context_);
      for (const detail::SubtopologyInfo& sub : context_.topology->subtopologies()) {
        std::int32_t tasks = 0;
        for (const std::string& topic : sub.source_topics) {
          auto found =
              counts.find(context_.topology->resolve_topic(context_.application_id, topic));
          if (found != counts.end()) tasks = std::max(tasks, found->second);
        }
        tasks_of_subtopology_[sub.id] = tasks;
      }
      start_query_service();
    } catch (const std::exception& error) {
      context_.logger->error("start-up failed: {}", error.what());
      stop_query_service(false);
      set_state(State::pending_error);
      set_state(State::error);
      throw;
    }
    set_state(State::rebalancing);
    std::lock_guard lock(mutex_);
    const int threads = context_.config.num_stream_threads();
    for (int i = 1; i <= threads; ++i) start_thread_locked();
  }

  // With application.server: the HTTP endpoints, then the host registry (which tells the others
  // the port bound, when application.server gave 0).
  void start_query_service() {
    const std::string server = context_.config.application_server();
    if (server.empty()) return;
    runtime::QueryServiceOptions options;
    options.self = runtime::parse_host_info(server);
    options.server.host = context_.config.get_string("http.bind.address");
    if (options.server.host.empty()) options.server.host = options.self.host;
    options.server.port = options.self.port;
    options.server.io_threads = static_cast<int>(context_.config.get_long("http.threads"));
    options.server.max_connections =
        static_cast<std::size_t>(context_.config.get_long("http.max.connections"));
    options.server.request_timeout =
        std::chrono::milliseconds(context_.config.get_long("http.request.timeout.ms"));
    options.server.bearer_token = context_.config.get_string("http.auth.token");
    options.registry = context_.metrics->registry();
    options.application_id = context_.application_id;
    runtime::QueryBackend& backend = *this;
    service_ = std::make_unique<runtime::QueryService>(backend, std::move(options));
    service_->start();
    registry_ = std::make_unique<runtime::HostRegistry>(
        context_, instance_id_, service_->self(), [this] { return local_tasks(); },
        [this](const std::vector<TaskId>& tasks) { return stores_of(tasks); });
    registry_->start();
    context_.logger->info("serving queries, health and metrics on http://{}",
                          service_->self().to_string());
  }

  void stop_query_service(bool leave) {
    if (service_) service_->stop();
    if (registry_) registry_->stop(leave);
  }

  bool close(std::chrono::milliseconds timeout) {
    const auto deadline = timeout == std::chrono::milliseconds::max()
                              ? std::chrono::steady_clock::time_point::max()
                              : std::chrono::steady_clock::now() + timeout;
    {
      std::unique_lock lock(mutex_);
      if (state_ == State::created) {
        set_state_locked(State::pending_shutdown);
        set_state_locked(State::not_running);
        return true;
      }
      if (state_ == State::running || state_ == State::rebalancing) {
        set_state_locked(State::pending_shutdown);
      }
      for (auto& thread : threads_) thread->request_shutdown();
      const bool stopped =
          cv_.wait_until(lock, deadline, [&] { return live_threads_locked() == 0; });
      if (!stopped) return false;
    }
    join_threads();
    stop_query_service(true);
    std::lock_guard lock(mutex_);
    if (state_ == State::pending_shutdown) set_state_locked(State::not_running);
    if (state_ == State::pending_error) set_state_locked(State::error);
    return true;
  }

  // Stops every thread as a crashed process would (no commit, no leaving the group). For tests.
  void close_abruptly() {
    {
      std::unique_lock lock(mutex_);
      if (state_ == State::created) return;
      if (state_ == State::running || state_ == State::rebalancing) {
        set_state_locked(State::pending_shutdown);
      }
      for (auto& thread : threads_) thread->request_abort();
      cv_.wait(lock, [&] { return live_threads_locked() == 0; });
    }
    join_threads();
    stop_query_service(false);  // a crash leaves its claims for the new owners to replace
    std::lock_guard lock(mutex_);
    if (state_ == State::pending_shutdown) set_state_locked(State::not_running);
  }

  State state() const {
    std::lock_guard lock(mutex_);
    return state_;
  }

  void set_state_listener(StateListener listener) {
    std::lock_guard lock(mutex_);
    require_created("set_state_listener");
    listener_ = std::move(listener);
  }

  void set_uncaught_exception_handler(UncaughtExceptionHandler handler) {
    std::lock_guard lock(mutex_);
    require_created("set_uncaught_exception_handler");
    handler_ = std::move(handler);
  }

  void set_global_state_restore_listener(std::shared_ptr<StateRestoreListener> listener) {
    std::lock_guard lock(mutex_);
    require_created("set_global_state_restore_listener");
    context_.restore_listener = std::move(listener);
  }

  bool wait_for_running(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] {
      return state_ == State::running || state_ == State::error || state_ == State::not_running;
    });
    return state_ == State::running;
  }

  std::vector<ThreadMetadata> metadata_for_local_threads() const {
    std::lock_guard lock(mutex_);
    std::vector<ThreadMetadata> out;
    for (const auto& thread : threads_) {
      if (thread->state() == runtime::ThreadState::dead) continue;
      out.push_back(ThreadMetadata{thread->name(), std::string(runtime::to_string(thread->state())),
                                   thread->active_tasks(), thread->transactional_id()});
    }
    return out;
  }

  TaskMetrics metrics() const { return sum(&Retired::metrics, &runtime::StreamThread::metrics); }
  std::uint64_t records_consumed() const {
    return sum(&Retired::consumed, &runtime::StreamThread::records_consumed);
  }
  std::uint64_t records_produced() const {
    return sum(&Retired::produced, &runtime::StreamThread::records_produced);
  }
  std::uint64_t commits() const { return sum(&Retired::commits, &runtime::StreamThread::commits); }
  std::uint64_t transactions_aborted() const {
    return sum(&Retired::aborted, &runtime::StreamThread::transactions_aborted);
  }
  std::uint64_t records_restored() const {
    return sum(&Retired::restored, &runtime::StreamThread::records_restored);
  }

  const StreamsConfig& config() const { return context_.config; }
  const metrics::StreamsMetrics& prometheus() const { return *context_.metrics; }

  // ---- Interactive queries

  std::size_t visit_stores(const std::string& store,
                           const std::function<void(TaskId, StateStore&)>& visit,
                           std::chrono::milliseconds timeout) override {
    if (runtime::StreamThread::on_stream_thread()) {
      throw InvalidStateStoreException(fmt::format(
          "store '{}' cannot be queried from a stream thread: a processor reads its own stores "
          "through its context",
          store));
    }
    if (store_subtopology_.count(store) == 0) {
      throw InvalidStateStoreException(fmt::format("the topology has no store named '{}'", store));
    }
    const State now = this->state();
    if (now != State::running && now != State::rebalancing) {
      throw InvalidStateStoreException(
          fmt::format("store '{}' cannot be queried while the instance is {}: wait for RUNNING",
                      store, to_string(now)));
    }
    // The visitor may throw (a store of another type): the first error is passed on. It refers
    // to the caller's frame, so after a timeout it must not run any more: it runs under
    // `mutex`, and `cancelled` stops it.
    struct Shared {
      std::mutex mutex;
      bool cancelled = false;
      std::exception_ptr error;
      std::promise<runtime::VisitOutcome> done;
    };
    auto shared = std::make_shared<Shared>();
    std::future<runtime::VisitOutcome> result = shared->done.get_future();
    visit_stores_async(
        store, std::nullopt,
        [shared, &visit](TaskId task, StateStore& raw) {
          std::lock_guard lock(shared->mutex);
          if (shared->cancelled || shared->error) return;
          try {
            visit(task, raw);
          } catch (...) {
            shared->error = std::current_exception();
          }
        },
        [shared](runtime::VisitOutcome outcome) { shared->done.set_value(std::move(outcome)); });
    if (result.wait_for(timeout) != std::future_status::ready) {
      std::lock_guard lock(shared->mutex);
      shared->cancelled = true;
      throw InvalidStateStoreException(
          fmt::format("querying store '{}' took longer than {} ms", store, timeout.count()));
    }
    runtime::VisitOutcome outcome = result.get();
    if (shared->error) std::rethrow_exception(shared->error);
    if (outcome.visited == 0 && !outcome.restoring.empty()) {
      throw InvalidStateStoreException(
          fmt::format("store '{}' is restoring on this instance (task {}); retry", store,
                      outcome.restoring.front().to_string()));
    }
    return outcome.visited;
  }

  KeyQueryMetadata metadata_for_key(const std::string& store, ByteView key) const {
    auto sub = store_subtopology_.find(store);
    if (sub == store_subtopology_.end()) {
      throw InvalidStateStoreException(fmt::format("the topology has no store named '{}'", store));
    }
    KeyQueryMetadata out;
    auto tasks = tasks_of_subtopology_.find(sub->second);
    if (tasks == tasks_of_subtopology_.end() || tasks->second <= 0) {
      throw InvalidStateStoreException(
          fmt::format("where store '{}' keeps a key is known once the instance started", store));
    }
    out.partition = kafka::murmur2_partition(key, tasks->second);
    out.task = TaskId{sub->second, out.partition};
    if (registry_) {
      if (runs_locally(out.task)) {
        out.active_host = registry_->self();
      } else if (auto host = registry_->host_of(out.task)) {
        out.active_host = *host;
      }
    }
    return out;
  }

  std::vector<StreamsMetadata> metadata_for_all_clients() const {
    if (!registry_) return {};
    return registry_->all();
  }

  std::uint16_t http_port() const { return service_ ? service_->port() : 0; }

  HttpCounters http_counters() const {
    HttpCounters out;
    if (!service_) return out;
    const http::ServerCounters c = service_->counters();
    out.requests = c.requests;
    out.bad_requests = c.bad_requests;
    out.rejected_connections = c.rejected_connections;
    out.timeouts = c.timeouts;
    out.responses_2xx = c.responses_2xx;
    out.responses_4xx = c.responses_4xx;
    out.responses_5xx = c.responses_5xx;
    return out;
  }

 private:
  // ---- QueryBackend (the HTTP endpoints)
  State current_state() const override { return state(); }
  std::string topology_text() const override { return topology_text_; }
  std::string metrics_text() const override { return context_.metrics->serialize(); }
  detail::QueryableStore* codec(const std::string& store) const override {
    auto found = codecs_.find(store);
    return found == codecs_.end() ? nullptr
                                  : dynamic_cast<detail::QueryableStore*>(found->second.get());
  }
  std::mutex& codec_mutex() const override { return codec_mutex_; }
  std::vector<std::string> store_names() const override {
    std::vector<std::string> names;
    for (const auto& [name, sub] : store_subtopology_) names.push_back(name);
    return names;
  }
  KeyQueryMetadata metadata_for_serialized_key(const std::string& store,
                                               ByteView key) const override {
    return metadata_for_key(store, key);
  }
  std::vector<StreamsMetadata> all_metadata() const override { return metadata_for_all_clients(); }
  bool runs_locally(const TaskId& task) const override {
    const std::vector<TaskId> tasks = local_tasks();
    return std::find(tasks.begin(), tasks.end(), task) != tasks.end();
  }

  void visit_stores_async(const std::string& store, std::optional<TaskId> task,
                          std::function<void(TaskId, StateStore&)> visit,
                          std::function<void(runtime::VisitOutcome)> done) override {
    struct Pending {
      std::mutex mutex;
      std::size_t remaining = 0;
      runtime::VisitOutcome outcome;
      std::function<void(TaskId, StateStore&)> visit;
      std::function<void(runtime::VisitOutcome)> done;
    };
    auto pending = std::make_shared<Pending>();
    pending->visit = std::move(visit);
    pending->done = std::move(done);
    const int subtopology = store_subtopology_.at(store);
    std::vector<runtime::StreamThread*> threads;
    {
      std::lock_guard lock(mutex_);
      for (const auto& thread : threads_) {
        if (thread->state() != runtime::ThreadState::dead) threads.push_back(thread.get());
      }
    }
    pending->remaining = threads.size();
    if (threads.empty()) {
      pending->done(runtime::VisitOutcome{});
      return;
    }
    for (runtime::StreamThread* thread : threads) {
      thread->submit_query([pending, store, task, subtopology](const runtime::QueryView* view) {
        std::unique_lock lock(pending->mutex);
        if (view != nullptr) {
          for (const auto& [id, running] : view->running) {
            if (id.subtopology != subtopology || (task && id != *task)) continue;
            state::StateManager* state = running->state();
            StateStore* found = state == nullptr ? nullptr : state->store(store);
            if (found == nullptr) continue;
            pending->visit(id, *found);
            ++pending->outcome.visited;
          }
          for (const TaskId& id : view->restoring) {
            if (id.subtopology == subtopology && (!task || id == *task)) {
              pending->outcome.restoring.push_back(id);
            }
          }
        }
        if (--pending->remaining > 0) return;
        runtime::VisitOutcome outcome = std::move(pending->outcome);
        lock.unlock();
        pending->done(std::move(outcome));
      });
    }
  }

  std::vector<TaskId> local_tasks() const {
    std::vector<TaskId> tasks;
    std::lock_guard lock(mutex_);
    for (const auto& thread : threads_) {
      if (thread->state() == runtime::ThreadState::dead) continue;
      for (const TaskId& id : thread->active_tasks()) tasks.push_back(id);
    }
    return tasks;
  }

  std::set<std::string> stores_of(const std::vector<TaskId>& tasks) const {
    std::set<std::string> out;
    for (const auto& [name, sub] : store_subtopology_) {
      for (const TaskId& task : tasks) {
        if (task.subtopology == sub) out.insert(name);
      }
    }
    return out;
  }

  struct Retired {  // what replaced threads did
    TaskMetrics metrics;
    std::uint64_t consumed = 0;
    std::uint64_t produced = 0;
    std::uint64_t commits = 0;
    std::uint64_t restored = 0;
    std::uint64_t aborted = 0;
  };

  // A counter over the live threads plus what replaced threads did.
  template <class T, class Getter>
  T sum(T Retired::*retired, Getter live) const {
    std::lock_guard lock(mutex_);
    T total = retired_.*retired;
    for (const auto& thread : threads_) total += ((*thread).*live)();
    return total;
  }

  void require_created(std::string_view what) const {
    if (state_ != State::created) {
      throw StreamsException(
          fmt::format("KafkaStreams::{} may only be called in state CREATED", what));
    }
  }

  std::size_t live_threads_locked() const {
    return static_cast<std::size_t>(std::count_if(
        threads_.begin(), threads_.end(),
        [](const auto& thread) { return thread->state() != runtime::ThreadState::dead; }));
  }

  void start_thread_locked() {
    runtime::StreamThread::Callbacks callbacks;
    callbacks.on_state = [this](runtime::StreamThread&, runtime::ThreadState) {
      std::lock_guard lock(mutex_);
      on_thread_state_locked();
      context_.metrics->set_alive_threads(live_threads_locked());
    };
    callbacks.on_death = [this](runtime::StreamThread& thread, std::exception_ptr error) {
      on_thread_death(thread, std::move(error));
    };
    auto thread =
        std::make_unique<runtime::StreamThread>(context_, ++thread_counter_, std::move(callbacks));
    runtime::StreamThread& ref = *thread;
    threads_.push_back(std::move(thread));
    ref.start();
    context_.metrics->set_alive_threads(live_threads_locked());
  }

  // The instance's state follows its threads: REBALANCING while any live thread is between a
  // revocation and the next assignment, RUNNING once all of them run.
  void on_thread_state_locked() {
    if (state_ != State::running && state_ != State::rebalancing) {
      if (live_threads_locked() == 0) cv_.notify_all();
      return;
    }
    bool all_running = true;
    std::size_t live = 0;
    for (const auto& thread : threads_) {
      const runtime::ThreadState s = thread->state();
      if (s == runtime::ThreadState::dead) continue;
      ++live;
      all_running = all_running && s == runtime::ThreadState::running;
    }
    if (live == 0) {
      cv_.notify_all();
      return;
    }
    set_state_locked(all_running ? State::running : State::rebalancing);
  }

  void on_thread_death(runtime::StreamThread& thread, std::exception_ptr error) {
    ExceptionResponse response = ExceptionResponse::shutdown_client;
    UncaughtExceptionHandler handler;
    {
      std::lock_guard lock(mutex_);
      handler = handler_;
    }
    if (handler) {
      try {
        response = handler(std::move(error));
      } catch (const std::exception& e) {
        context_.logger->error("the uncaught exception handler threw: {}", e.what());
      }
    }
    std::lock_guard lock(mutex_);
    if (state_ != State::running && state_ != State::rebalancing) {
      cv_.notify_all();
      return;
    }
    switch (response) {
      case ExceptionResponse::replace_thread:
        context_.logger->warn("replacing {} after its error", thread.name());
        retire_locked(thread);
        start_thread_locked();
        on_thread_state_locked();
        return;
      case ExceptionResponse::shutdown_application:
        context_.logger->error(
            "SHUTDOWN_APPLICATION: shutting down this instance; other instances are not told "
            "(librdkafka cannot carry Kafka Streams' shutdown request through the group)");
        [[fallthrough]];
      case ExceptionResponse::shutdown_client:
        set_state_locked(State::pending_error);
        for (auto& other : threads_) other->request_shutdown();
        // The last thread to stop wakes close(); the owner calls close() to reach ERROR. Until
        // then the instance is PENDING_ERROR; a watcher thread finishes it.
        if (!watcher_.joinable()) {
          watcher_ = std::thread([this] {
            {
              std::unique_lock wait_lock(mutex_);
              cv_.wait(wait_lock, [&] { return live_threads_locked() == 0; });
            }
            std::lock_guard done_lock(mutex_);
            if (state_ == State::pending_error) set_state_locked(State::error);
          });
        }
        cv_.notify_all();
        return;
    }
  }

  // Moves a dead thread's counters to the retired totals, and the thread out of `threads_`; it
  // is joined when the instance closes (it is still returning from this very call).
  void retire_locked(runtime::StreamThread& thread) {
    retired_.metrics += thread.metrics();
    retired_.consumed += thread.records_consumed();
    retired_.produced += thread.records_produced();
    retired_.commits += thread.commits();
    retired_.restored += thread.records_restored();
    retired_.aborted += thread.transactions_aborted();
    thread.remove_metrics();  // its replacement has a name of its own
    auto found = std::find_if(threads_.begin(), threads_.end(),
                              [&](const auto& t) { return t.get() == &thread; });
    retired_threads_.push_back(std::move(*found));
    threads_.erase(found);
  }

  void join_threads() {
    std::vector<runtime::StreamThread*> threads;
    {
      std::lock_guard lock(mutex_);
      for (auto& thread : threads_) threads.push_back(thread.get());
      for (auto& thread : retired_threads_) threads.push_back(thread.get());
    }
    for (auto* thread : threads) thread->join();
    if (watcher_.joinable()) watcher_.join();
  }

  void set_state(State state) {
    std::lock_guard lock(mutex_);
    set_state_locked(state);
  }

  void set_state_locked(State state) {
    if (state_ == state) return;
    const State old = state_;
    state_ = state;
    context_.metrics->set_state(to_string(state));
    context_.logger->info("state {} -> {}", to_string(old), to_string(state));
    if (listener_) {
      try {
        listener_(state, old);
      } catch (const std::exception& error) {
        context_.logger->error("the state listener threw: {}", error.what());
      }
    }
    cv_.notify_all();
  }

  std::unique_ptr<state::ProcessId> process_id_;  // exactly-once only
  runtime::RuntimeContext context_;
  std::string instance_id_;  // in the hosts topic: the process id under exactly-once
  std::string topology_text_;
  std::map<std::string, int> store_subtopology_;
  std::map<int, std::int32_t> tasks_of_subtopology_;  // set by start()
  std::map<std::string, std::unique_ptr<StateStore>> codecs_;
  mutable std::mutex codec_mutex_;
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  State state_ = State::created;
  StateListener listener_;
  UncaughtExceptionHandler handler_;
  std::vector<std::unique_ptr<runtime::StreamThread>> threads_;
  std::vector<std::unique_ptr<runtime::StreamThread>> retired_threads_;
  Retired retired_;
  int thread_counter_ = 0;
  std::thread watcher_;
  // Declared last, destroyed first; both are stopped by close() before.
  std::unique_ptr<runtime::HostRegistry> registry_;
  std::unique_ptr<runtime::QueryService> service_;
};

KafkaStreams::KafkaStreams(const Topology& topology, StreamsConfig config)
    : KafkaStreams(topology, std::move(config), nullptr) {}

KafkaStreams::KafkaStreams(const Topology& topology, StreamsConfig config,
                           std::shared_ptr<kafka::ClientFactory> clients)
    : impl_(std::make_shared<Impl>(topology, std::move(config), std::move(clients))) {}

KafkaStreams::~KafkaStreams() = default;

void KafkaStreams::start() {
  impl_->start();
}
bool KafkaStreams::close(std::chrono::milliseconds timeout) {
  return impl_->close(timeout);
}
KafkaStreams::State KafkaStreams::state() const {
  return impl_->state();
}
void KafkaStreams::set_state_listener(StateListener listener) {
  impl_->set_state_listener(std::move(listener));
}
void KafkaStreams::set_uncaught_exception_handler(UncaughtExceptionHandler handler) {
  impl_->set_uncaught_exception_handler(std::move(handler));
}
void KafkaStreams::set_global_state_restore_listener(
    std::shared_ptr<StateRestoreListener> listener) {
  impl_->set_global_state_restore_listener(std::move(listener));
}
std::uint64_t KafkaStreams::records_restored() const {
  return impl_->records_restored();
}
bool KafkaStreams::wait_for_running(std::chrono::milliseconds timeout) const {
  return impl_->wait_for_running(timeout);
}
std::vector<KafkaStreams::ThreadMetadata> KafkaStreams::metadata_for_local_threads() const {
  return impl_->metadata_for_local_threads();
}
std::uint64_t KafkaStreams::transactions_aborted() const {
  return impl_->transactions_aborted();
}
TaskMetrics KafkaStreams::metrics() const {
  return impl_->metrics();
}
std::uint64_t KafkaStreams::records_consumed() const {
  return impl_->records_consumed();
}
std::uint64_t KafkaStreams::records_produced() const {
  return impl_->records_produced();
}
std::uint64_t KafkaStreams::commits() const {
  return impl_->commits();
}
const StreamsConfig& KafkaStreams::config() const {
  return impl_->config();
}
std::string KafkaStreams::prometheus_metrics() const {
  return impl_->prometheus().serialize();
}
std::shared_ptr<prometheus::Registry> KafkaStreams::metrics_registry() const {
  return impl_->prometheus().registry();
}

detail::StoreQueries& KafkaStreams::store_queries() const {
  return *impl_;
}
std::string KafkaStreams::config_application_id() const {
  return impl_->config().application_id();
}
KeyQueryMetadata KafkaStreams::metadata_for_serialized_key(const std::string& name,
                                                           ByteView key) const {
  return impl_->metadata_for_key(name, key);
}
std::vector<StreamsMetadata> KafkaStreams::metadata_for_all_clients() const {
  return impl_->metadata_for_all_clients();
}
std::uint16_t KafkaStreams::http_port() const {
  return impl_->http_port();
}
KafkaStreams::HttpCounters KafkaStreams::http_counters() const {
  return impl_->http_counters();
}

void detail::close_abruptly(KafkaStreams& streams) {
  streams.impl_->close_abruptly();
}

}  // namespace rivulet
