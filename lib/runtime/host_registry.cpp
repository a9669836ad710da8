#include "runtime/host_registry.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include "runtime/stream_thread.h"

namespace rivulet::runtime {

namespace {
constexpr std::chrono::milliseconds kPoll{100};
constexpr std::size_t kMaxRecords = 500;

std::optional<TaskId> parse_task(std::string_view text) {
  const std::size_t split = text.find('_');
  if (split == std::string_view::npos) return std::nullopt;
  TaskId id;
  const char* begin = text.data();
  auto [p1, e1] = std::from_chars(begin, begin + split, id.subtopology);
  auto [p2, e2] = std::from_chars(begin + split + 1, begin + text.size(), id.partition);
  if (e1 != std::errc() || e2 != std::errc() || p1 != begin + split || p2 != begin + text.size()) {
    return std::nullopt;
  }
  return id;
}
}  // namespace

std::string hosts_topic(const std::string& application_id) {
  return application_id + "-rivulet-hosts";
}

HostInfo parse_host_info(const std::string& text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    throw std::invalid_argument("expected host:port, got '" + text + "'");
  }
  int port = -1;
  const char* begin = text.data() + colon + 1;
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(begin, end, port);
  if (error != std::errc() || ptr != end || port < 0 || port > 65535) {
    throw std::invalid_argument("expected a port number in '" + text + "'");
  }
  return HostInfo{text.substr(0, colon), static_cast<std::uint16_t>(port)};
}

HostRegistry::HostRegistry(
    const RuntimeContext& context, std::string instance_id, HostInfo self,
    std::function<std::vector<TaskId>()> local_tasks,
    std::function<std::set<std::string>(const std::vector<TaskId>&)> stores_of)
    : context_(context),
      instance_id_(std::move(instance_id)),
      self_(std::move(self)),
      topic_(hosts_topic(context.application_id)),
      local_tasks_(std::move(local_tasks)),
      stores_of_(std::move(stores_of)) {}

HostRegistry::~HostRegistry() {
  stop(false);
}

void HostRegistry::start() {
  auto producer_config = context_.config.producer_configs();
  producer_config["client.id"] = context_.client_id + "-hosts-producer";
  producer_config.erase("transactional.id");
  producer_ = context_.clients->producer(producer_config);
  producer_->set_delivery_listener([this](const kafka::DeliveryReport& report) {
    if (report.error) {
      context_.logger->warn("writing this instance's tasks to {} failed: {}", topic_,
                            *report.error);
    }
  });
  auto consumer_config = context_.config.restore_consumer_configs();
  consumer_config["client.id"] = context_.client_id + "-hosts-consumer";
  consumer_config["group.id"] = context_.application_id + "-hosts";  // never joined
  consumer_config["enable.auto.commit"] = "false";
  consumer_ = context_.clients->consumer(consumer_config);
  const kafka::TopicPartition partition{topic_, 0};
  const auto marks = consumer_->watermarks({partition}, context_.config.default_api_timeout());
  consumer_->assign_partitions({{partition, marks.at(partition).first}});
  thread_ = std::thread([this] { run(); });
}

void HostRegistry::stop(bool leave) {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(stop_mutex_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (consumer_) consumer_->wakeup();
  thread_.join();
  if (leave && producer_) {
    try {
      producer_->send(topic_, 0, to_bytes(instance_id_), std::nullopt,
                      std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count(),
                      {});
      producer_->flush(std::chrono::milliseconds(5'000));
    } catch (const std::exception& error) {
      context_.logger->warn("could not remove this instance from {}: {}", topic_, error.what());
    }
  }
  consumer_.reset();
  producer_.reset();
}

std::optional<HostInfo> HostRegistry::host_of(const TaskId& task) const {
  std::lock_guard lock(mutex_);
  const Entry* owner = nullptr;
  for (const auto& [id, entry] : instances_) {
    const auto& tasks = entry.metadata.tasks;
    if (std::find(tasks.begin(), tasks.end(), task) == tasks.end()) continue;
    if (owner == nullptr || entry.offset > owner->offset) owner = &entry;
  }
  if (owner == nullptr) return std::nullopt;
  return owner->metadata.host;
}

std::vector<StreamsMetadata> HostRegistry::all() const {
  std::lock_guard lock(mutex_);
  // A task claimed by several instances belongs to the latest claim only.
  std::map<TaskId, std::int64_t> latest;
  for (const auto& [id, entry] : instances_) {
    for (const TaskId& task : entry.metadata.tasks) {
      auto& offset = latest[task];
      offset = std::max(offset, entry.offset);
    }
  }
  std::vector<StreamsMetadata> out;
  for (const auto& [id, entry] : instances_) {
    StreamsMetadata metadata = entry.metadata;
    std::erase_if(metadata.tasks,
                  [&](const TaskId& task) { return latest.at(task) != entry.offset; });
    metadata.state_stores = stores_of_(metadata.tasks);
    out.push_back(std::move(metadata));
  }
  std::sort(out.begin(), out.end(),
            [](const StreamsMetadata& a, const StreamsMetadata& b) { return a.host < b.host; });
  return out;
}

void HostRegistry::run() {
  while (!stop_.load()) {
    try {
      std::vector<TaskId> tasks = local_tasks_();
      std::sort(tasks.begin(), tasks.end());
      if (!published_ || *published_ != tasks) publish(tasks);
      producer_->poll();
      for (const kafka::ConsumerRecord& record : consumer_->poll(kPoll, kMaxRecords)) {
        apply(record);
      }
    } catch (const std::exception& error) {
      // The registry only serves routing; a failure here must not stop the application.
      context_.logger->warn("the host registry on {} failed a step: {}", topic_, error.what());
      published_.reset();
      std::unique_lock lock(stop_mutex_);  // back off, and try again
      stop_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_.load(); });
    }
  }
}

void HostRegistry::publish(const std::vector<TaskId>& tasks) {
  nlohmann::json tasks_json = nlohmann::json::array();
  for (const TaskId& task : tasks) tasks_json.push_back(task.to_string());
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  const nlohmann::json value{{"server", self_.to_string()}, {"tasks", tasks_json}, {"time", now}};
  const std::string text = value.dump();
  producer_->send(topic_, 0, to_bytes(instance_id_), to_bytes(text), now, {});
  published_ = tasks;
}

void HostRegistry::apply(const kafka::ConsumerRecord& record) {
  if (!record.key) return;
  const std::string id(record.key->begin(), record.key->end());
  if (!record.value) {
    std::lock_guard lock(mutex_);
    instances_.erase(id);
    return;
  }
  Entry entry;
  entry.offset = record.offset;
  try {
    const auto json = nlohmann::json::parse(record.value->begin(), record.value->end());
    entry.metadata.host = parse_host_info(json.at("server").get<std::string>());
    for (const auto& task : json.at("tasks")) {
      if (auto parsed = parse_task(task.get<std::string>()))
        entry.metadata.tasks.push_back(*parsed);
    }
  } catch (const std::exception& error) {
    context_.logger->warn("ignoring a bad record at offset {} of {}: {}", record.offset, topic_,
                          error.what());
    return;
  }
  std::lock_guard lock(mutex_);
  instances_[id] = std::move(entry);
}

}  // namespace rivulet::runtime
