#include <atomic>
#include <filesystem>

#include <fmt/format.h>
#include <spdlog/logger.h>
#include <unistd.h>

#include <rivulet/testing/topology_test_driver.h>

#include "common/logging.h"
#include "runtime/stream_task.h"
#include "state/rocksdb_resources.h"
#include "state/state_directory.h"
#include "state/thread_cache.h"
#include "topology/processor_graph.h"
#include "topology/topology_impl.h"

namespace rivulet::testing {

namespace {
constexpr const char* kDefaultApplicationId = "topology-test-driver";
}

struct TopologyTestDriver::Impl final : detail::RecordCollector {
  std::filesystem::path owned_state_dir;  // removed on destruction; empty when user-given
  std::unique_ptr<state::StateDirectory> state_directory;
  std::unique_ptr<state::RocksDbResources> rocksdb;  // under state.memory.max.bytes
  std::unique_ptr<state::ThreadCache> cache;         // statestore.cache.max.bytes; null when 0
  std::string application_id;
  std::map<std::string, int> internal_topics;  // unresolved name -> partitions
  std::shared_ptr<spdlog::logger> logger;
  std::int64_t wall_clock = 0;
  std::vector<std::unique_ptr<runtime::StreamTask>> tasks;
  std::map<std::string, runtime::StreamTask*> task_by_topic;  // Kafka topic name -> task
  std::map<std::string, std::deque<ProducedRecord>> outputs;
  std::set<std::string> produced_topics;
  std::map<std::string, std::int64_t> next_offset;      // per produced topic
  std::map<std::string, std::int64_t> consumed_offset;  // per input topic
  std::deque<ProducedRecord> feedback;  // produced records the topology itself reads

  void send(std::string_view topic, std::optional<ByteView> key, std::optional<ByteView> value,
            std::int64_t timestamp, const Headers& headers,
            std::optional<std::int32_t> partition) override {
    ProducedRecord record;
    record.topic = std::string(topic);
    if (key) record.key.emplace(key->begin(), key->end());
    if (value) record.value.emplace(value->begin(), value->end());
    record.timestamp = timestamp;
    record.headers = headers;
    record.partition = partition;
    produced_topics.insert(record.topic);
    ++next_offset[record.topic];
    if (task_by_topic.count(record.topic) > 0) feedback.push_back(record);
    outputs[record.topic].push_back(std::move(record));
  }
  std::int32_t partition_count(std::string_view /*topic*/) override { return 1; }
  std::optional<std::int64_t> written_offset(std::string_view topic,
                                             std::int32_t /*partition*/) override {
    auto it = next_offset.find(std::string(topic));
    if (it == next_offset.end() || it->second == 0) return std::nullopt;
    return it->second - 1;
  }

  // Commits as the runtime would after each record: flush the stores (caches forward). The
  // checkpoint files are written once, when the driver closes its tasks: nothing reads them
  // before, and a file write per piped record would only slow tests down.
  void commit() {
    for (auto& task : tasks) task->flush_state();
    drain_feedback();
  }

  void process(runtime::StreamTask& task, const std::string& topic, std::optional<ByteView> key,
               std::optional<ByteView> value, std::int64_t timestamp, const Headers& headers) {
    detail::RawRecord raw;
    raw.topic = topic;
    raw.partition = 0;
    raw.offset = consumed_offset[topic]++;
    raw.timestamp = timestamp;
    raw.key = key;
    raw.value = value;
    raw.headers = &headers;
    task.process(raw);
    task.maybe_punctuate_stream_time();
  }

  // Records written to topics the topology reads (repartition topics, loops through a topic) are
  // processed before the call that produced them returns, oldest first.
  void drain_feedback() {
    while (!feedback.empty()) {
      ProducedRecord record = std::move(feedback.front());
      feedback.pop_front();
      process(*task_by_topic.at(record.topic), record.topic,
              record.key ? std::optional<ByteView>(*record.key) : std::nullopt,
              record.value ? std::optional<ByteView>(*record.value) : std::nullopt,
              record.timestamp, record.headers);
    }
  }
};

TopologyTestDriver::TopologyTestDriver(const Topology& topology, const StreamsConfig& config,
                                       std::int64_t initial_wall_clock_ms)
    : impl_(std::make_unique<Impl>()) {
  const detail::TopologyImpl& graph = detail::topology_impl(topology);
  graph.validate();
  impl_->application_id =
      config.is_set_by_user("application.id") ? config.application_id() : kDefaultApplicationId;
  impl_->internal_topics = graph.internal_topics();
  impl_->logger = common::make_logger("rivulet.test-driver", spdlog::level::warn);
  impl_->wall_clock = initial_wall_clock_ms;
  if (!graph.stores().empty()) {
    std::filesystem::path root;
    if (config.is_set_by_user("state.dir")) {
      root = config.state_dir();
    } else {
      static std::atomic<int> counter{0};
      root = std::filesystem::temp_directory_path() /
             fmt::format("rivulet-driver-{}-{}", ::getpid(), counter++);
      impl_->owned_state_dir = root;
    }
    impl_->state_directory = std::make_unique<state::StateDirectory>(root, impl_->application_id);
    // The same memory set-up as an instance with one thread.
    const std::int64_t cache_bytes = config.statestore_cache_max_bytes();
    const std::int64_t budget = config.get_long("state.memory.max.bytes");
    if (budget > 0) {
      if (cache_bytes >= budget) {
        throw ConfigException(fmt::format(
            "state.memory.max.bytes ({}) must be larger than statestore.cache.max.bytes ({})",
            budget, cache_bytes));
      }
      impl_->rocksdb = state::make_rocksdb_resources(
          static_cast<std::uint64_t>(budget - cache_bytes), config.get_string("rocksdb.config"));
    }
    if (cache_bytes > 0) {
      impl_->cache = std::make_unique<state::ThreadCache>(static_cast<std::uint64_t>(cache_bytes));
    }
  }
  runtime::TaskStateOptions state;
  state.directory = impl_->state_directory.get();
  state.rocksdb = impl_->rocksdb.get();
  state.cache = impl_->cache.get();
  const runtime::TaskSettings settings = runtime::task_settings_from(config, impl_->application_id);
  Impl* impl = impl_.get();
  for (const detail::SubtopologyInfo& sub : graph.subtopologies()) {
    auto task = std::make_unique<runtime::StreamTask>(
        TaskId{sub.id, 0}, detail::ProcessorGraph::build(graph, sub.id, impl_->application_id),
        settings, *impl_, [impl] { return impl->wall_clock; }, impl_->logger, state);
    for (const std::string& topic : task->graph().source_topics()) {
      impl_->task_by_topic[topic] = task.get();
    }
    impl_->tasks.push_back(std::move(task));
  }
  for (auto& task : impl_->tasks) task->initialize();
}

TopologyTestDriver::~TopologyTestDriver() {
  for (auto& task : impl_->tasks) {
    try {
      task->close();
    } catch (const std::exception& error) {
      impl_->logger->error("closing task {} failed: {}", task->task_id().to_string(), error.what());
    }
  }
  impl_->tasks.clear();
  if (!impl_->owned_state_dir.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(impl_->owned_state_dir, ignored);
  }
}

StateStore* TopologyTestDriver::get_state_store(const std::string& name) const {
  for (const auto& task : impl_->tasks) {
    if (task->state() == nullptr) continue;
    if (StateStore* store = task->state()->store(name)) return store;
  }
  return nullptr;
}

void TopologyTestDriver::require_input_topic(const std::string& topic) const {
  if (impl_->task_by_topic.count(topic) == 0) {
    std::vector<std::string> known;
    for (const auto& [name, task] : impl_->task_by_topic) known.push_back(name);
    throw StreamsException(
        fmt::format("Unknown topic: {}; the topology reads [{}]", topic, fmt::join(known, ", ")));
  }
}

void TopologyTestDriver::pipe_raw(const std::string& topic, std::optional<ByteView> key,
                                  std::optional<ByteView> value, std::int64_t timestamp,
                                  const Headers& headers) {
  require_input_topic(topic);
  impl_->process(*impl_->task_by_topic.at(topic), topic, key, value, timestamp, headers);
  impl_->drain_feedback();
  impl_->commit();
}

std::optional<ProducedRecord> TopologyTestDriver::read_raw(const std::string& topic) {
  auto it = impl_->outputs.find(topic);
  if (it == impl_->outputs.end() || it->second.empty()) return std::nullopt;
  ProducedRecord record = std::move(it->second.front());
  it->second.pop_front();
  return record;
}

std::size_t TopologyTestDriver::queue_size(const std::string& topic) const {
  auto it = impl_->outputs.find(topic);
  return it == impl_->outputs.end() ? 0 : it->second.size();
}

void TopologyTestDriver::advance_wall_clock_time(std::chrono::milliseconds advance) {
  impl_->wall_clock += advance.count();
  for (auto& task : impl_->tasks) task->maybe_punctuate_system_time();
  impl_->drain_feedback();
  impl_->commit();
}

std::int64_t TopologyTestDriver::wall_clock_time_ms() const {
  return impl_->wall_clock;
}

TaskMetrics TopologyTestDriver::metrics() const {
  TaskMetrics total;
  for (const auto& task : impl_->tasks) total += task->metrics();
  return total;
}

std::set<std::string> TopologyTestDriver::produced_topic_names() const {
  return impl_->produced_topics;
}

const std::string& TopologyTestDriver::application_id() const {
  return impl_->application_id;
}

std::string TopologyTestDriver::internal_topic_name(const std::string& name) const {
  if (impl_->internal_topics.count(name) == 0) {
    throw StreamsException(fmt::format("'{}' is not an internal topic of the topology", name));
  }
  return fmt::format("{}-{}", impl_->application_id, name);
}

}  // namespace rivulet::testing
