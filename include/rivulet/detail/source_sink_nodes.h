// Internal: the nodes at the topic boundaries of a task, where serdes run. Not API.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <typeindex>
#include <vector>

#include <rivulet/consumed.h>
#include <rivulet/detail/processor_node.h>
#include <rivulet/detail/type_name.h>
#include <rivulet/errors.h>
#include <rivulet/produced.h>
#include <rivulet/serde.h>
#include <rivulet/serdes.h>  // the DefaultSerde specializations must be visible wherever resolve_serde is

namespace rivulet::detail {

// The serde given by the user, else the default serde of `T`; a type with neither fails when
// the topology is built, naming the node.
template <class T>
AnySerde<T> resolve_serde(const std::optional<AnySerde<T>>& given, const std::string& node,
                          const char* role) {
  if (given) return *given;
  if constexpr (HasDefaultSerde<T>) {
    return default_serde<T>();
  } else {
    throw TopologyException("node '" + node + "' needs a " + role + " serde for type " +
                            type_name(typeid(T)) + ", which has no default serde: pass one");
  }
}

// Holds one deserialized record between `deserialize` and `process_slot`. Each input queue owns
// one, so deserializing the head of a queue allocates nothing in the graph.
struct SourceSlot {
  virtual ~SourceSlot() = default;
};

class SourceNodeBase : public ProcessorNode {
 public:
  using ProcessorNode::ProcessorNode;

  virtual std::unique_ptr<SourceSlot> make_slot() const = 0;
  // Deserializes `raw` into `slot` and returns its event time, or nullopt when the record was
  // skipped by an error handler (already counted).
  virtual std::optional<std::int64_t> deserialize(const RawRecord& raw, std::int64_t partition_time,
                                                  SourceSlot& slot) = 0;
  // Sends the record held by `slot` to the children and empties the slot.
  virtual void process_slot(SourceSlot& slot) = 0;

  void process(void* /*record*/) override {
    throw std::logic_error("source node '" + name() + "' has no parents to receive from");
  }
};

template <class K, class V>
class SourceNode final : public SourceNodeBase {
 public:
  SourceNode(std::string name, AnySerde<K> key_serde, AnySerde<V> value_serde,
             TimestampExtractor<K, V> extractor)
      : SourceNodeBase(std::move(name)),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)),
        extractor_(std::move(extractor)) {}

  std::unique_ptr<SourceSlot> make_slot() const override { return std::make_unique<Slot>(); }

  std::optional<std::int64_t> deserialize(const RawRecord& raw, std::int64_t partition_time,
                                          SourceSlot& slot) override {
    auto& held = static_cast<Slot&>(slot).record;
    try {
      held.emplace(key_serde_.deserialize_nullable(raw.topic, raw.key),
                   value_serde_.deserialize_nullable(raw.topic, raw.value), raw.timestamp,
                   raw.headers != nullptr ? *raw.headers : Headers{});
    } catch (const ProcessingFailedException&) {
      throw;
    } catch (const std::exception& error) {
      held.reset();
      task_->on_deserialization_error(*this, raw, error);
      return std::nullopt;
    }
    std::int64_t timestamp = 0;
    try {
      timestamp = extractor_ ? extractor_(*held, partition_time)
                             : task_->default_timestamp(raw, partition_time);
    } catch (const ProcessingFailedException&) {
      held.reset();
      throw;
    } catch (const std::exception& error) {
      held.reset();
      task_->on_processing_error(*this, error);
      return std::nullopt;
    }
    if (timestamp < 0) {
      held.reset();
      task_->on_invalid_timestamp(*this, raw, timestamp);
      return std::nullopt;
    }
    if (timestamp != held->timestamp()) held = std::move(*held).with_timestamp(timestamp);
    return timestamp;
  }

  void process_slot(SourceSlot& slot) override {
    auto& held = static_cast<Slot&>(slot).record;
    forward_to_children(children(), *held);
    held.reset();
  }

 private:
  struct Slot final : SourceSlot {
    std::optional<Record<K, V>> record;
  };
  AnySerde<K> key_serde_;
  AnySerde<V> value_serde_;
  TimestampExtractor<K, V> extractor_;
};

template <class K, class V>
class SinkNode final : public ProcessorNode {
 public:
  // `topic` is the resolved topic name; empty when `topic_extractor` chooses per record.
  SinkNode(std::string name, std::string topic, TopicNameExtractor<K, V> topic_extractor,
           AnySerde<K> key_serde, AnySerde<V> value_serde, StreamPartitioner<K, V> partitioner)
      : ProcessorNode(std::move(name)),
        topic_(std::move(topic)),
        topic_extractor_(std::move(topic_extractor)),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)),
        partitioner_(std::move(partitioner)) {}

  void process(void* erased) override {
    auto& record = *static_cast<Record<K, V>*>(erased);
    std::string dynamic_topic;
    std::optional<std::int32_t> partition;
    bool has_key = false;
    bool has_value = false;
    try {
      if (topic_extractor_) dynamic_topic = topic_extractor_(record);
      const std::string& topic = topic_extractor_ ? dynamic_topic : topic_;
      has_key = key_serde_.serialize_nullable(topic, record.key(), key_buffer_);
      has_value = value_serde_.serialize_nullable(topic, record.value(), value_buffer_);
      if (partitioner_) {
        partition = partitioner_(topic, record.key(), record.value(),
                                 task_->collector().partition_count(topic));
      }
    } catch (const ProcessingFailedException&) {
      throw;
    } catch (const std::exception& error) {
      task_->on_production_error(*this, topic_extractor_ ? dynamic_topic : topic_, error);
      return;
    }
    const std::string& topic = topic_extractor_ ? dynamic_topic : topic_;
    task_->collector().send(topic, has_key ? std::optional<ByteView>(key_buffer_) : std::nullopt,
                            has_value ? std::optional<ByteView>(value_buffer_) : std::nullopt,
                            record.timestamp(), record.headers(), partition);
  }

 private:
  std::string topic_;
  TopicNameExtractor<K, V> topic_extractor_;
  AnySerde<K> key_serde_;
  AnySerde<V> value_serde_;
  StreamPartitioner<K, V> partitioner_;
  Bytes key_buffer_;
  Bytes value_buffer_;
};

}  // namespace rivulet::detail
