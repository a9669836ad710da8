// Helpers for tests that run against librdkafka's mock cluster (rivulet::DevBroker): a plain
// librdkafka producer and a reader of whole topics, independent of Rivulet's own clients, and a
// wait-with-deadline.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>

#include <rivulet/dev_broker.h>
#include <rivulet/kafka_streams.h>
#include <rivulet/record.h>

namespace rivulet::test {

// Polls `condition` every few milliseconds until it holds (true) or `timeout` passes (false).
inline bool wait_until(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a poll interval, not a wait
  }
  return true;
}

// A value written by one thread (a handler) and read by the test.
template <class T>
class Guarded {
 public:
  void set(T value) {
    std::lock_guard lock(mutex_);
    value_ = std::move(value);
  }
  T get() const {
    std::lock_guard lock(mutex_);
    return value_;
  }

 private:
  mutable std::mutex mutex_;
  T value_{};
};

// A unique name per call, so tests sharing a broker never share a group or a topic.
inline std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

struct RawKafkaRecord {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t timestamp = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;

  std::optional<std::string> header(const std::string& name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return std::nullopt;
  }
};

// A plain librdkafka producer (murmur2 partitioner, like Java's and Rivulet's).
class PlainProducer {
 public:
  explicit PlainProducer(const std::string& bootstrap) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "partitioner", "murmur2_random", err, sizeof err);
    rd_kafka_conf_set(conf, "linger.ms", "1", err, sizeof err);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk_ == nullptr) throw std::runtime_error(err);
  }
  ~PlainProducer() {
    rd_kafka_flush(rk_, 10'000);
    rd_kafka_destroy(rk_);
  }
  PlainProducer(const PlainProducer&) = delete;
  PlainProducer& operator=(const PlainProducer&) = delete;

  void send(const std::string& topic, const std::optional<std::string>& key,
            const std::optional<std::string>& value, std::int64_t timestamp = 0,
            std::optional<std::int32_t> partition = std::nullopt) {
    void* key_ptr = key ? const_cast<char*>(key->data()) : nullptr;
    const std::size_t key_len = key ? key->size() : 0;
    void* value_ptr = value ? const_cast<char*>(value->data()) : nullptr;
    const std::size_t value_len = value ? value->size() : 0;
    const std::int32_t part = partition.value_or(RD_KAFKA_PARTITION_UA);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
    for (;;) {
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          rk_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(part),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key_ptr, key_len),
          RD_KAFKA_V_VALUE(value_ptr, value_len), RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        throw std::runtime_error(std::string("produce failed: ") + rd_kafka_err2str(err));
      }
      rd_kafka_poll(rk_, 10);
    }
#pragma GCC diagnostic pop
  }
  void flush() {
    if (rd_kafka_flush(rk_, 30'000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("flush timed out");
    }
  }

 private:
  rd_kafka_t* rk_ = nullptr;
};

// Reads every partition of one topic from the beginning, with no consumer group.
class TopicReader {
 public:
  TopicReader(const std::string& bootstrap, const std::string& topic, int partitions)
      : topic_(topic) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", "rivulet-test-reader", err, sizeof err);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (rk_ == nullptr) throw std::runtime_error(err);
    rd_kafka_poll_set_consumer(rk_);
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; ++p) {
      rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(rk_, list);
    rd_kafka_topic_partition_list_destroy(list);
  }
  ~TopicReader() {
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
  }
  TopicReader(const TopicReader&) = delete;
  TopicReader& operator=(const TopicReader&) = delete;

  // Reads until at least `count` records arrived in total or `timeout` passed; returns all read.
  const std::vector<RawKafkaRecord>& read_at_least(
      std::size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (records_.size() < count && std::chrono::steady_clock::now() < deadline) poll_once(100);
    return records_;
  }
  // Reads what arrives within `quiet` of the last record.
  const std::vector<RawKafkaRecord>& drain(std::chrono::milliseconds quiet) {
    auto until = std::chrono::steady_clock::now() + quiet;
    while (std::chrono::steady_clock::now() < until) {
      if (poll_once(50)) until = std::chrono::steady_clock::now() + quiet;
    }
    return records_;
  }
  const std::vector<RawKafkaRecord>& records() const { return records_; }

 private:
  bool poll_once(int timeout_ms) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, timeout_ms);
    if (m == nullptr) return false;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      RawKafkaRecord r;
      r.topic = rd_kafka_topic_name(m->rkt);
      r.partition = m->partition;
      r.offset = m->offset;
      r.timestamp = rd_kafka_message_timestamp(m, nullptr);
      if (m->key != nullptr) r.key.emplace(static_cast<const char*>(m->key), m->key_len);
      if (m->payload != nullptr) r.value.emplace(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* value;
        std::size_t size;
        for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
                                RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i) {
          r.headers.emplace_back(name, value == nullptr
                                           ? std::nullopt
                                           : std::optional<std::string>(std::string(
                                                 static_cast<const char*>(value), size)));
        }
      }
      records_.push_back(std::move(r));
    }
    rd_kafka_message_destroy(m);
    return true;
  }

  std::string topic_;
  rd_kafka_t* rk_ = nullptr;
  std::vector<RawKafkaRecord> records_;
};

// Settings every runtime test uses: quick group joins and commits on the mock cluster.
inline StreamsConfig runtime_test_config(const std::string& bootstrap,
                                         const std::string& application_id) {
  StreamsConfig config;
  config.set("application.id", application_id)
      .set("bootstrap.servers", bootstrap)
      .set("commit.interval.ms", 100)
      .set("default.api.timeout.ms", 20'000)
      .set("consumer.session.timeout.ms", "6000")
      .set("consumer.heartbeat.interval.ms", "500")
      .set("consumer.topic.metadata.refresh.interval.ms", "1000");
  return config;
}

}  // namespace rivulet::test
