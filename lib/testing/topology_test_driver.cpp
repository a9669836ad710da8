#include <fmt/format.h>
#include <spdlog/logger.h>

#include <rivulet/testing/topology_test_driver.h>

#include "common/logging.h"
#include "runtime/stream_task.h"
#include "topology/processor_graph.h"
#include "topology/topology_impl.h"

namespace rivulet::testing {

namespace {
constexpr const char* kDefaultApplicationId = "topology-test-driver";
}

struct TopologyTestDriver::Impl final : detail::RecordCollector {
  std::string application_id;
  std::map<std::string, int> internal_topics;  // unresolved name -> partitions
  std::shared_ptr<spdlog::logger> logger;
  std::int64_t wall_clock = 0;
  std::vector<std::unique_ptr<runtime::StreamTask>> tasks;
  std::map<std::string, runtime::StreamTask*> task_by_topic;  // Kafka topic name -> task
  std::map<std::string, std::deque<ProducedRecord>> outputs;
  std::set<std::string> produced_topics;
  std::map<std::string, std::int64_t> next_offset;
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
    if (task_by_topic.count(record.topic) > 0) feedback.push_back(record);
    outputs[record.topic].push_back(std::move(record));
  }
  std::int32_t partition_count(std::string_view /*topic*/) override { return 1; }

  void process(runtime::StreamTask& task, const std::string& topic, std::optional<ByteView> key,
               std::optional<ByteView> value, std::int64_t timestamp, const Headers& headers) {
    detail::RawRecord raw;
    raw.topic = topic;
    raw.partition = 0;
    raw.offset = next_offset[topic]++;
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
  const runtime::TaskSettings settings = runtime::task_settings_from(config, impl_->application_id);
  Impl* impl = impl_.get();
  for (const detail::SubtopologyInfo& sub : graph.subtopologies()) {
    auto task = std::make_unique<runtime::StreamTask>(
        TaskId{sub.id, 0}, detail::ProcessorGraph::build(graph, sub.id, impl_->application_id),
        settings, *impl_, [impl] { return impl->wall_clock; }, impl_->logger);
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
