#include <chrono>

#include <rivulet/errors.h>
#include <rivulet/testing/in_memory_kafka.h>

#include "kafka/in_memory_clients.h"
#include "kafka/in_memory_cluster.h"

namespace rivulet::testing {

namespace {

Bytes bytes_of(const std::string& text) {
  return Bytes(text.begin(), text.end());
}

std::string text_of(const Bytes& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

InMemoryKafka::FaultPoint public_point(kafka::FaultPoint point) {
  switch (point) {
    case kafka::FaultPoint::produce:
      return InMemoryKafka::FaultPoint::produce;
    case kafka::FaultPoint::send_offsets:
      return InMemoryKafka::FaultPoint::send_offsets;
    case kafka::FaultPoint::commit_transaction:
      return InMemoryKafka::FaultPoint::commit_transaction;
    case kafka::FaultPoint::group_poll:
      return InMemoryKafka::FaultPoint::group_poll;
    case kafka::FaultPoint::rebalance:
      return InMemoryKafka::FaultPoint::rebalance;
    case kafka::FaultPoint::restore_fetch:
      return InMemoryKafka::FaultPoint::restore_fetch;
  }
  return InMemoryKafka::FaultPoint::produce;
}

kafka::FaultAction internal_action(InMemoryKafka::FaultAction action) {
  switch (action) {
    case InMemoryKafka::FaultAction::none:
      return kafka::FaultAction::none;
    case InMemoryKafka::FaultAction::crash_before:
      return kafka::FaultAction::crash_before;
    case InMemoryKafka::FaultAction::crash_after:
      return kafka::FaultAction::crash_after;
    case InMemoryKafka::FaultAction::fail:
      return kafka::FaultAction::fail;
    case InMemoryKafka::FaultAction::skip:
      return kafka::FaultAction::skip;
  }
  return kafka::FaultAction::none;
}

}  // namespace

InMemoryKafka::InMemoryKafka() : cluster_(std::make_shared<kafka::InMemoryCluster>()) {}

InMemoryKafka::~InMemoryKafka() {
  cluster_->set_fault_hook({});
}

void InMemoryKafka::create_topic(const std::string& name, std::int32_t partitions) {
  cluster_->create_topic(name, partitions);
}

void InMemoryKafka::produce(const std::string& topic, const std::optional<std::string>& key,
                            const std::optional<std::string>& value, std::int64_t timestamp,
                            std::optional<std::int32_t> partition) {
  kafka::InMemoryClientFactory clients(cluster_);
  auto producer = clients.producer({});
  std::optional<Bytes> k;
  std::optional<Bytes> v;
  if (key) k = bytes_of(*key);
  if (value) v = bytes_of(*value);
  std::optional<std::string> error;
  producer->set_delivery_listener([&](const kafka::DeliveryReport& report) {
    if (report.error) error = std::string(*report.error);
  });
  producer->send(topic, partition, k ? std::optional<ByteView>(*k) : std::nullopt,
                 v ? std::optional<ByteView>(*v) : std::nullopt, timestamp, {});
  producer->flush(std::chrono::seconds(1));
  if (error) throw StreamsException("InMemoryKafka::produce: " + *error);
}

std::vector<InMemoryKafka::Record> InMemoryKafka::read(const std::string& topic,
                                                       bool read_committed) const {
  const auto partitions = cluster_->partition_count(topic);
  if (!partitions) throw StreamsException("InMemoryKafka::read: unknown topic '" + topic + "'");
  std::vector<Record> out;
  for (std::int32_t p = 0; p < *partitions; ++p) {
    const auto result = cluster_->fetch(
        kafka::TopicPartition{topic, p}, 0, static_cast<std::size_t>(-1),
        read_committed ? kafka::Isolation::read_committed : kafka::Isolation::read_uncommitted);
    for (const kafka::StoredRecord& stored : result.records) {
      Record record;
      if (stored.record.key) record.key = text_of(*stored.record.key);
      if (stored.record.value) record.value = text_of(*stored.record.value);
      record.partition = p;
      record.offset = stored.offset;
      record.timestamp = stored.record.timestamp;
      out.push_back(std::move(record));
    }
  }
  return out;
}

std::map<std::int32_t, std::int64_t> InMemoryKafka::committed(const std::string& group,
                                                              const std::string& topic) const {
  std::vector<kafka::TopicPartition> partitions;
  for (std::int32_t p = 0; p < cluster_->partition_count(topic).value_or(0); ++p) {
    partitions.push_back({topic, p});
  }
  std::map<std::int32_t, std::int64_t> out;
  for (const auto& [tp, offset] : cluster_->committed(group, partitions)) {
    out[tp.partition] = offset;
  }
  return out;
}

std::shared_ptr<kafka::ClientFactory> InMemoryKafka::clients(const std::string& instance) {
  return std::make_shared<kafka::InMemoryClientFactory>(cluster_, instance);
}

void InMemoryKafka::set_fault_hook(FaultHook hook) {
  if (!hook) {
    cluster_->set_fault_hook({});
    return;
  }
  cluster_->set_fault_hook([hook = std::move(hook)](const kafka::FaultEvent& event) {
    return internal_action(hook(public_point(event.point), event.instance));
  });
}

void InMemoryKafka::crash(const std::string& instance) {
  cluster_->crash(instance);
}

void InMemoryKafka::expire_sessions(const std::string& instance) {
  cluster_->expire_sessions(instance);
}

}  // namespace rivulet::testing
