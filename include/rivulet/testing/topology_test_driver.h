// TopologyTestDriver: runs a Topology in-process, without Kafka, for unit tests.
//
// Like Kafka Streams' driver: create input topics, pipe records into them, and read what the
// topology wrote from output topics. Records cross the topic boundaries as bytes, through the
// serdes, exactly as they would cross Kafka, so a serde bug shows in a driver test. Each
// sub-topology runs as one real StreamTask (partition 0); records written to repartition topics,
// or to any topic the topology also reads, are processed at once, before `pipe_input` returns.
//
// State: stores live in a fresh directory under the system's temp directory (or under
// `state.dir` when the configuration sets it), removed when the driver is destroyed. After every
// piped record the driver commits, as Kafka Streams' driver does: record caches flush, so their
// merged updates reach the output topics before `pipe_input` returns. Changelog records appear
// as output topics "<application.id>-<store>-changelog".
//
// Time: every piped record advances its task's stream time and fires stream-time punctuators.
// Wall-clock time is simulated and moves only with `advance_wall_clock_time`, which fires
// wall-clock punctuators.
//
// Errors follow the configured handlers (`default.deserialization.exception.handler`, ...): a
// handler that chooses to fail makes `pipe_input` throw ProcessingFailedException; skipped
// records are counted in `metrics()`.
//
// Not thread-safe: use a driver from one thread. Topics and the driver must outlive nothing:
// test topics hold a reference to their driver and must not be used after it is destroyed.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <rivulet/errors.h>
#include <rivulet/key_value.h>
#include <rivulet/record.h>
#include <rivulet/serde.h>
#include <rivulet/serdes.h>
#include <rivulet/state/key_value_store.h>
#include <rivulet/state/window_store.h>
#include <rivulet/streams_config.h>
#include <rivulet/task_metrics.h>
#include <rivulet/topology.h>

namespace rivulet::testing {

// A record read from or piped into a test topic. Key and value are optional because Kafka records
// may carry null for either; `timestamp` is optional on input (the topic's clock is used).
template <class K, class V>
struct TestRecord {
  std::optional<K> key;
  std::optional<V> value;
  std::optional<std::int64_t> timestamp;
  Headers headers;

  TestRecord() = default;
  TestRecord(std::optional<K> k, std::optional<V> v, std::optional<std::int64_t> ts = std::nullopt,
             Headers h = {})
      : key(std::move(k)), value(std::move(v)), timestamp(ts), headers(std::move(h)) {}

  friend bool operator==(const TestRecord&, const TestRecord&) = default;
};

// A record as the topology wrote it, still serialized.
struct ProducedRecord {
  std::string topic;
  std::optional<Bytes> key;
  std::optional<Bytes> value;
  std::int64_t timestamp = 0;
  Headers headers;
  std::optional<std::int32_t> partition;
};

template <class K, class V>
class TestInputTopic;
template <class K, class V>
class TestOutputTopic;

class TopologyTestDriver {
 public:
  // Builds one task per sub-topology and initializes its processors. `application.id` defaults
  // to "topology-test-driver"; `bootstrap.servers` is not needed. Wall-clock time starts at
  // `initial_wall_clock_ms`. Throws TopologyException or ConfigException on a bad topology or
  // configuration.
  explicit TopologyTestDriver(const Topology& topology, const StreamsConfig& config = {},
                              std::int64_t initial_wall_clock_ms = 0);
  ~TopologyTestDriver();
  TopologyTestDriver(const TopologyTestDriver&) = delete;
  TopologyTestDriver& operator=(const TopologyTestDriver&) = delete;

  // An input topic writing through `key_serde`/`value_serde` (default: by type). Records piped
  // without a timestamp get `start_timestamp_ms`, which then advances by `auto_advance`.
  // REQUIRES: the topology reads `topic` (else StreamsException "Unknown topic").
  template <class K, class V>
  TestInputTopic<K, V> create_input_topic(std::string topic,
                                          std::optional<AnySerde<K>> key_serde = std::nullopt,
                                          std::optional<AnySerde<V>> value_serde = std::nullopt,
                                          std::int64_t start_timestamp_ms = 0,
                                          std::chrono::milliseconds auto_advance = {}) {
    require_input_topic(topic);
    return TestInputTopic<K, V>(*this, std::move(topic), serde_or_default(std::move(key_serde)),
                                serde_or_default(std::move(value_serde)), start_timestamp_ms,
                                auto_advance);
  }

  // An output topic reading through `key_serde`/`value_serde` (default: by type).
  template <class K, class V>
  TestOutputTopic<K, V> create_output_topic(std::string topic,
                                            std::optional<AnySerde<K>> key_serde = std::nullopt,
                                            std::optional<AnySerde<V>> value_serde = std::nullopt) {
    return TestOutputTopic<K, V>(*this, std::move(topic), serde_or_default(std::move(key_serde)),
                                 serde_or_default(std::move(value_serde)));
  }

  // Advances simulated wall-clock time and fires the wall-clock punctuators that are due.
  void advance_wall_clock_time(std::chrono::milliseconds advance);
  std::int64_t wall_clock_time_ms() const;

  // The state store `name` of the topology, or nullptr when it has none by that name.
  StateStore* get_state_store(const std::string& name) const;
  // The store `name` when it is a KeyValueStore<K, V> (WindowStore, SessionStore), else nullptr.
  template <class K, class V>
  KeyValueStore<K, V>* get_key_value_store(const std::string& name) const {
    return dynamic_cast<KeyValueStore<K, V>*>(get_state_store(name));
  }
  template <class K, class V>
  WindowStore<K, V>* get_window_store(const std::string& name) const {
    return dynamic_cast<WindowStore<K, V>*>(get_state_store(name));
  }
  template <class K, class V>
  SessionStore<K, V>* get_session_store(const std::string& name) const {
    return dynamic_cast<SessionStore<K, V>*>(get_state_store(name));
  }

  // Counters summed over all tasks.
  TaskMetrics metrics() const;
  // Every topic the topology has written to so far (internal topics by their Kafka name).
  std::set<std::string> produced_topic_names() const;
  // The application id in use, and the Kafka name of an internal topic of the topology.
  const std::string& application_id() const;
  std::string internal_topic_name(const std::string& name) const;

  // Low-level access that the test topics use: pipe serialized bytes, read what was produced.
  void pipe_raw(const std::string& topic, std::optional<ByteView> key,
                std::optional<ByteView> value, std::int64_t timestamp, const Headers& headers);
  std::optional<ProducedRecord> read_raw(const std::string& topic);
  std::size_t queue_size(const std::string& topic) const;

 private:
  void require_input_topic(const std::string& topic) const;
  // The given serde, else the type's default; a type without one (Windowed<K>, ...) must be given
  // a serde, which is checked only when none was.
  template <class T>
  static AnySerde<T> serde_or_default(std::optional<AnySerde<T>> given) {
    if (given) return std::move(*given);
    if constexpr (HasDefaultSerde<T>) {
      return default_serde<T>();
    } else {
      throw StreamsException("a test topic of a type without a default serde needs a serde");
    }
  }

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

template <class K, class V>
class TestInputTopic {
 public:
  void pipe_input(const TestRecord<K, V>& record) {
    std::optional<Bytes> key;
    std::optional<Bytes> value;
    if (record.key && !key_serde_.is_null(*record.key)) {
      key.emplace();
      key_serde_.serialize(topic_, *record.key, *key);
    }
    if (record.value && !value_serde_.is_null(*record.value)) {
      value.emplace();
      value_serde_.serialize(topic_, *record.value, *value);
    }
    std::int64_t timestamp = record.timestamp ? *record.timestamp : next_timestamp();
    driver_->pipe_raw(topic_, key ? std::optional<ByteView>(*key) : std::nullopt,
                      value ? std::optional<ByteView>(*value) : std::nullopt, timestamp,
                      record.headers);
  }
  void pipe_input(K key, V value) {
    pipe_input(TestRecord<K, V>(std::move(key), std::move(value)));
  }
  void pipe_input(K key, V value, std::int64_t timestamp_ms) {
    pipe_input(TestRecord<K, V>(std::move(key), std::move(value), timestamp_ms));
  }
  // A record with a null key.
  void pipe_value(V value) { pipe_input(TestRecord<K, V>(std::nullopt, std::move(value))); }
  void pipe_value(V value, std::int64_t timestamp_ms) {
    pipe_input(TestRecord<K, V>(std::nullopt, std::move(value), timestamp_ms));
  }
  void pipe_record_list(const std::vector<TestRecord<K, V>>& records) {
    for (const auto& record : records) pipe_input(record);
  }
  void pipe_key_value_list(const std::vector<KeyValue<K, V>>& records) {
    for (const auto& kv : records) pipe_input(kv.key, kv.value);
  }
  void pipe_value_list(const std::vector<V>& values) {
    for (const auto& value : values) pipe_value(value);
  }
  // Moves this topic's clock for records piped without a timestamp.
  void advance_time(std::chrono::milliseconds advance) { current_time_ += advance.count(); }
  const std::string& topic() const { return topic_; }

 private:
  friend class TopologyTestDriver;
  TestInputTopic(TopologyTestDriver& driver, std::string topic, AnySerde<K> key_serde,
                 AnySerde<V> value_serde, std::int64_t start, std::chrono::milliseconds advance)
      : driver_(&driver),
        topic_(std::move(topic)),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)),
        current_time_(start),
        auto_advance_(advance.count()) {}
  std::int64_t next_timestamp() {
    const std::int64_t now = current_time_;
    current_time_ += auto_advance_;
    return now;
  }

  TopologyTestDriver* driver_;
  std::string topic_;
  AnySerde<K> key_serde_;
  AnySerde<V> value_serde_;
  std::int64_t current_time_;
  std::int64_t auto_advance_;
};

template <class K, class V>
class TestOutputTopic {
 public:
  // Reads the oldest unread record. REQUIRES: !is_empty() (else StreamsException "Empty topic").
  TestRecord<K, V> read_record() {
    std::optional<ProducedRecord> raw = driver_->read_raw(topic_);
    if (!raw) throw StreamsException("Empty topic: " + topic_);
    TestRecord<K, V> record;
    if (raw->key) record.key = key_serde_.deserialize(topic_, *raw->key);
    if (raw->value) record.value = value_serde_.deserialize(topic_, *raw->value);
    record.timestamp = raw->timestamp;
    record.headers = std::move(raw->headers);
    return record;
  }
  // Key and value of the oldest unread record; a null maps through the serde's null value.
  KeyValue<K, V> read_key_value() {
    TestRecord<K, V> record = read_record();
    return KeyValue<K, V>{
        record.key ? std::move(*record.key) : key_serde_.null_value(topic_),
        record.value ? std::move(*record.value) : value_serde_.null_value(topic_)};
  }
  V read_value() { return std::move(read_key_value().value); }

  std::vector<TestRecord<K, V>> read_records_to_list() {
    std::vector<TestRecord<K, V>> out;
    while (!is_empty()) out.push_back(read_record());
    return out;
  }
  std::vector<KeyValue<K, V>> read_key_values_to_list() {
    std::vector<KeyValue<K, V>> out;
    while (!is_empty()) out.push_back(read_key_value());
    return out;
  }
  std::vector<V> read_values_to_list() {
    std::vector<V> out;
    while (!is_empty()) out.push_back(read_value());
    return out;
  }
  // The latest value per key; a null value (tombstone) removes the key.
  std::map<K, V> read_key_values_to_map() {
    std::map<K, V> out;
    while (!is_empty()) {
      TestRecord<K, V> record = read_record();
      K key = record.key ? std::move(*record.key) : key_serde_.null_value(topic_);
      if (record.value) {
        out.insert_or_assign(std::move(key), std::move(*record.value));
      } else {
        out.erase(key);
      }
    }
    return out;
  }
  bool is_empty() const { return driver_->queue_size(topic_) == 0; }
  std::size_t queue_size() const { return driver_->queue_size(topic_); }
  const std::string& topic() const { return topic_; }

 private:
  friend class TopologyTestDriver;
  TestOutputTopic(TopologyTestDriver& driver, std::string topic, AnySerde<K> key_serde,
                  AnySerde<V> value_serde)
      : driver_(&driver),
        topic_(std::move(topic)),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)) {}

  TopologyTestDriver* driver_;
  std::string topic_;
  AnySerde<K> key_serde_;
  AnySerde<V> value_serde_;
};

}  // namespace rivulet::testing
