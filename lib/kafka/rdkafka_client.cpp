#include "kafka/rdkafka_client.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <exception>
#include <mutex>

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include <rivulet/errors.h>

namespace rivulet::kafka {

namespace {

using Logger = std::shared_ptr<spdlog::logger>;

// What every client keeps for its callbacks: the logger and the last error librdkafka reported,
// so that a timeout can say why (e.g. "Connect to ipv4#127.0.0.1:1 failed: Connection refused").
struct ClientState {
  Logger logger;
  void* owner = nullptr;  // the client whose callbacks these are
  std::mutex mutex;
  std::string last_error;

  std::string last_error_text() {
    std::lock_guard lock(mutex);
    return last_error;
  }
};

void log_callback(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  auto* state = static_cast<ClientState*>(rd_kafka_opaque(rk));
  if (state == nullptr) return;
  // syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug
  const auto spd_level = level <= 3   ? spdlog::level::err
                         : level == 4 ? spdlog::level::warn
                         : level <= 6 ? spdlog::level::info
                                      : spdlog::level::debug;
  state->logger->log(spd_level, "librdkafka {}: {}", facility, message);
}

void error_callback(rd_kafka_t* /*rk*/, int err, const char* reason, void* opaque) {
  auto* state = static_cast<ClientState*>(opaque);
  {
    std::lock_guard lock(state->mutex);
    state->last_error = reason;
  }
  // Transport errors repeat while a broker is down; they are debug noise once reported.
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  const bool transient = code == RD_KAFKA_RESP_ERR__TRANSPORT ||
                         code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
                         code == RD_KAFKA_RESP_ERR__RESOLVE;
  state->logger->log(transient ? spdlog::level::debug : spdlog::level::warn, "kafka client: {}",
                     reason);
}

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};

// Builds a librdkafka configuration; a property librdkafka rejects throws ConfigException.
std::unique_ptr<rd_kafka_conf_t, ConfDeleter> make_conf(
    const std::map<std::string, std::string>& config, ClientState& state) {
  std::unique_ptr<rd_kafka_conf_t, ConfDeleter> conf(rd_kafka_conf_new());
  char errstr[512];
  for (const auto& [key, value] : config) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      throw ConfigException(
          fmt::format("invalid Kafka client setting {}={}: {}", key, value, errstr));
    }
  }
  rd_kafka_conf_set_opaque(conf.get(), &state);
  rd_kafka_conf_set_log_cb(conf.get(), &log_callback);
  rd_kafka_conf_set_error_cb(conf.get(), &error_callback);
  return conf;
}

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

PartitionList to_list(const std::vector<TopicPartition>& partitions) {
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const TopicPartition& tp : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  }
  return list;
}

std::vector<TopicPartition> from_list(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  if (list == nullptr) return out;
  out.reserve(static_cast<std::size_t>(list->cnt));
  for (int i = 0; i < list->cnt; ++i) {
    out.push_back(TopicPartition{list->elems[i].topic, list->elems[i].partition});
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Throws KafkaException for a failed transactional call (and destroys `error`); `what` says which.
void check_txn(rd_kafka_error_t* error, std::string_view what) {
  if (error == nullptr) return;
  const std::string message = rd_kafka_error_string(error);
  const bool retriable = rd_kafka_error_is_retriable(error) != 0;
  const bool fatal = rd_kafka_error_is_fatal(error) != 0;
  const bool abortable = rd_kafka_error_txn_requires_abort(error) != 0;
  rd_kafka_error_destroy(error);
  throw KafkaException(fmt::format("{} failed: {}", what, message), retriable, fatal, abortable);
}

// librdkafka's consumer group metadata, owned.
class RdKafkaGroupMetadata final : public ConsumerGroupMetadata {
 public:
  explicit RdKafkaGroupMetadata(rd_kafka_consumer_group_metadata_t* metadata)
      : metadata_(metadata) {}
  ~RdKafkaGroupMetadata() override { rd_kafka_consumer_group_metadata_destroy(metadata_); }
  RdKafkaGroupMetadata(const RdKafkaGroupMetadata&) = delete;
  RdKafkaGroupMetadata& operator=(const RdKafkaGroupMetadata&) = delete;
  const rd_kafka_consumer_group_metadata_t* get() const { return metadata_; }

 private:
  rd_kafka_consumer_group_metadata_t* metadata_;
};

// Throws KafkaException for a failed call; `what` says which.
void check(rd_kafka_resp_err_t err, std::string_view what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  throw KafkaException(fmt::format("{} failed: {}", what, rd_kafka_err2str(err)),
                       err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT);
}

std::string bootstrap_of(const std::map<std::string, std::string>& config) {
  auto found = config.find("bootstrap.servers");
  return found == config.end() ? std::string("(no bootstrap.servers)") : found->second;
}

using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

// Creates a client handle, which takes over `conf`; throws ConfigException naming `what`.
rd_kafka_t* new_handle(rd_kafka_type_t type, ConfPtr conf, std::string_view what) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof errstr);
  if (rk == nullptr)
    throw ConfigException(fmt::format("cannot create a Kafka {}: {}", what, errstr));
  static_cast<void>(conf.release());  // owned by rk now
  return rk;
}

// ---------------------------------------------------------------------------------------------
// Consumer

class RdKafkaConsumer final : public Consumer {
 public:
  RdKafkaConsumer(const std::map<std::string, std::string>& config, Logger logger) {
    state_.logger = std::move(logger);
    state_.owner = this;
    auto conf = make_conf(config, state_);
    rd_kafka_conf_set_rebalance_cb(conf.get(), &RdKafkaConsumer::rebalance_callback);
    rd_kafka_conf_set_stats_cb(conf.get(), &RdKafkaConsumer::stats_callback);
    rk_ = new_handle(RD_KAFKA_CONSUMER, std::move(conf), "consumer");
    rd_kafka_poll_set_consumer(rk_);
    consumer_queue_ = rd_kafka_queue_get_consumer(rk_);
  }

  RdKafkaConsumer(const RdKafkaConsumer&) = delete;
  RdKafkaConsumer& operator=(const RdKafkaConsumer&) = delete;
  ~RdKafkaConsumer() override {
    if (consumer_queue_ != nullptr) rd_kafka_queue_destroy(consumer_queue_);
    if (abandoned_) {
      rd_kafka_destroy_flags(rk_, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
      return;
    }
    if (!closed_) {
      try {
        close();
      } catch (const std::exception& error) {
        state_.logger->warn("closing the consumer failed: {}", error.what());
      }
    }
    rd_kafka_destroy(rk_);
  }

  void subscribe(const std::vector<std::string>& topics, RebalanceListener& listener) override {
    listener_ = &listener;
    PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
    for (const std::string& topic : topics) {
      rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
    }
    check(rd_kafka_subscribe(rk_, list.get()), "subscribe");
  }

  std::vector<ConsumerRecord> poll(std::chrono::milliseconds timeout,
                                   std::size_t max_records) override {
    std::vector<ConsumerRecord> out;
    std::uint64_t generation = rebalances_;
    int wait_ms = static_cast<int>(timeout.count());
    while (out.size() < max_records) {
      rd_kafka_message_t* message = rd_kafka_consumer_poll(rk_, wait_ms);
      wait_ms = 0;
      if (rebalances_ != generation) {
        // Records polled before the rebalance belong to the old assignment: the new owner of
        // their partitions reads them again from its committed offset.
        out.clear();
        generation = rebalances_;
      }
      if (listener_error_) {
        if (message != nullptr) rd_kafka_message_destroy(message);
        break;
      }
      if (message == nullptr) break;
      if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        handle_error_message(message);
        continue;
      }
      out.push_back(to_record(message));
    }
    if (listener_error_) {
      auto error = std::exchange(listener_error_, nullptr);
      std::rethrow_exception(error);
    }
    return out;
  }

  std::set<TopicPartition> assignment() override {
    rd_kafka_topic_partition_list_t* list = nullptr;
    check(rd_kafka_assignment(rk_, &list), "assignment");
    PartitionList owner(list);
    auto partitions = from_list(list);
    return {partitions.begin(), partitions.end()};
  }

  void pause(const std::vector<TopicPartition>& partitions) override {
    if (partitions.empty()) return;
    auto list = to_list(partitions);
    check(rd_kafka_pause_partitions(rk_, list.get()), "pause");
  }

  void resume(const std::vector<TopicPartition>& partitions) override {
    if (partitions.empty()) return;
    auto list = to_list(partitions);
    check(rd_kafka_resume_partitions(rk_, list.get()), "resume");
  }

  void seek(const TopicPartition& partition, std::int64_t offset) override {
    auto list = to_list({partition});
    list->elems[0].offset = offset;
    rd_kafka_error_t* error = rd_kafka_seek_partitions(rk_, list.get(), 10'000);
    if (error != nullptr) {
      std::string message = rd_kafka_error_string(error);
      rd_kafka_error_destroy(error);
      throw KafkaException(
          fmt::format("seek {} to {} failed: {}", partition.to_string(), offset, message));
    }
    check(list->elems[0].err, "seek " + partition.to_string());
  }

  // librdkafka 2.0 allows incremental assignment only with a group.id, which a restore consumer
  // has none of: the whole manual assignment is set again, each partition kept at its position.
  void assign_partitions(const std::map<TopicPartition, std::int64_t>& start) override {
    if (start.empty()) return;
    refresh_manual_positions();
    for (const auto& [tp, offset] : start) manual_[tp] = offset;
    apply_manual_assignment();
  }

  void unassign_partitions(const std::vector<TopicPartition>& partitions) override {
    if (partitions.empty()) return;
    refresh_manual_positions();
    for (const TopicPartition& tp : partitions) manual_.erase(tp);
    apply_manual_assignment();
  }

  std::map<TopicPartition, std::pair<std::int64_t, std::int64_t>> watermarks(
      const std::vector<TopicPartition>& partitions, std::chrono::milliseconds timeout) override {
    std::map<TopicPartition, std::pair<std::int64_t, std::int64_t>> out;
    if (partitions.empty()) return out;
    // ListOffsets for the earliest (-2) and the latest (-1) "timestamps": one request per
    // broker each, however many partitions.
    for (const std::int64_t which : {RD_KAFKA_OFFSET_BEGINNING, RD_KAFKA_OFFSET_END}) {
      auto list = to_list(partitions);
      for (int i = 0; i < list->cnt; ++i) list->elems[i].offset = which;
      const rd_kafka_resp_err_t err =
          rd_kafka_offsets_for_times(rk_, list.get(), static_cast<int>(timeout.count()));
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw KafkaException(
            fmt::format("reading the offsets of {} partition(s) (first {}) failed: {}",
                        partitions.size(), partitions.front().to_string(), rd_kafka_err2str(err)),
            true);
      }
      for (int i = 0; i < list->cnt; ++i) {
        const TopicPartition tp{list->elems[i].topic, list->elems[i].partition};
        check(list->elems[i].err, "reading the offsets of " + tp.to_string());
        auto& [low, high] = out[tp];
        (which == RD_KAFKA_OFFSET_BEGINNING ? low : high) = list->elems[i].offset;
      }
    }
    return out;
  }

  std::optional<std::int64_t> position(const TopicPartition& partition) override {
    auto list = to_list({partition});
    check(rd_kafka_position(rk_, list.get()), "position of " + partition.to_string());
    const std::int64_t offset = list->elems[0].offset;
    if (offset < 0) return std::nullopt;
    return offset;
  }

  std::map<TopicPartition, std::int64_t> lag() override {
    const std::set<TopicPartition> assigned = assignment();
    std::lock_guard lock(lag_mutex_);
    std::map<TopicPartition, std::int64_t> out;
    for (const auto& [tp, lag] : lag_) {
      if (assigned.count(tp) > 0) out.emplace(tp, lag);
    }
    return out;
  }

  void commit(const std::map<TopicPartition, std::int64_t>& offsets) override {
    if (offsets.empty()) return;
    PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
    for (const auto& [tp, offset] : offsets) {
      rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset =
          offset;
    }
    const rd_kafka_resp_err_t err = rd_kafka_commit(rk_, list.get(), 0);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw KafkaException(fmt::format("committing offsets failed: {}", rd_kafka_err2str(err)),
                           err != RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION &&
                               err != RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID &&
                               err != RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS);
    }
    for (int i = 0; i < list->cnt; ++i) {
      check(list->elems[i].err,
            fmt::format("committing {}-{}", list->elems[i].topic, list->elems[i].partition));
    }
  }

  std::map<TopicPartition, std::int64_t> committed(const std::vector<TopicPartition>& partitions,
                                                   std::chrono::milliseconds timeout) override {
    std::map<TopicPartition, std::int64_t> out;
    if (partitions.empty()) return out;
    auto list = to_list(partitions);
    check(rd_kafka_committed(rk_, list.get(), static_cast<int>(timeout.count())),
          "reading committed offsets");
    for (int i = 0; i < list->cnt; ++i) {
      if (list->elems[i].offset >= 0) {
        out[TopicPartition{list->elems[i].topic, list->elems[i].partition}] = list->elems[i].offset;
      }
    }
    return out;
  }

  std::string member_id() override {
    char* id = rd_kafka_memberid(rk_);
    if (id == nullptr) return {};
    std::string out(id);
    rd_kafka_mem_free(rk_, id);
    return out;
  }

  std::unique_ptr<ConsumerGroupMetadata> group_metadata() override {
    rd_kafka_consumer_group_metadata_t* metadata = rd_kafka_consumer_group_metadata(rk_);
    if (metadata == nullptr) throw KafkaException("the consumer has no group metadata");
    return std::make_unique<RdKafkaGroupMetadata>(metadata);
  }

  void abandon() override {
    listener_ = nullptr;
    abandoned_ = true;
  }

  void wakeup() override {
    if (consumer_queue_ != nullptr) rd_kafka_queue_yield(consumer_queue_);
  }

  void close() override {
    if (closed_ || abandoned_) return;
    closed_ = true;
    const rd_kafka_resp_err_t err = rd_kafka_consumer_close(rk_);
    // A consumer without a group (the restore consumer) has no group to leave.
    if (err != RD_KAFKA_RESP_ERR__UNKNOWN_GROUP) check(err, "closing the consumer");
    if (listener_error_) std::rethrow_exception(std::exchange(listener_error_, nullptr));
  }

 private:
  void refresh_manual_positions() {
    if (manual_.empty()) return;
    PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(manual_.size())));
    for (const auto& [tp, offset] : manual_) {
      rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
    }
    check(rd_kafka_position(rk_, list.get()), "reading positions");
    for (int i = 0; i < list->cnt; ++i) {
      if (list->elems[i].offset >= 0) {
        manual_[TopicPartition{list->elems[i].topic, list->elems[i].partition}] =
            list->elems[i].offset;
      }
    }
  }

  void apply_manual_assignment() {
    if (manual_.empty()) {
      check(rd_kafka_assign(rk_, nullptr), "unassigning partitions");
      return;
    }
    PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(manual_.size())));
    for (const auto& [tp, offset] : manual_) {
      rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset =
          offset;
    }
    check(rd_kafka_assign(rk_, list.get()), "assigning partitions");
  }

  static void rebalance_callback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                 rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    static_cast<RdKafkaConsumer*>(static_cast<ClientState*>(opaque)->owner)
        ->on_rebalance(rk, err, partitions);
  }

  void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                    rd_kafka_topic_partition_list_t* partitions) {
    ++rebalances_;
    const std::vector<TopicPartition> list = from_list(partitions);
    try {
      if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        check(rd_kafka_assign(rk, partitions), "assign");
        if (listener_ != nullptr) listener_->on_partitions_assigned(list);
      } else {
        const bool lost = rd_kafka_assignment_lost(rk) != 0;
        try {
          if (listener_ != nullptr) {
            if (lost) {
              listener_->on_partitions_lost(list);
            } else {
              listener_->on_partitions_revoked(list);
            }
          }
        } catch (...) {
          rd_kafka_assign(rk, nullptr);
          throw;
        }
        check(rd_kafka_assign(rk, nullptr), "unassign");
      }
    } catch (...) {
      if (!listener_error_) listener_error_ = std::current_exception();
    }
  }

  // librdkafka's statistics (every statistics.interval.ms, from the poll): each partition's
  // `consumer_lag` under topics.<topic>.partitions.<partition>. The internal partition -1 and
  // unknown lags (-1: nothing committed yet) are left out.
  static int stats_callback(rd_kafka_t* /*rk*/, char* json, std::size_t json_len, void* opaque) {
    static_cast<RdKafkaConsumer*>(static_cast<ClientState*>(opaque)->owner)
        ->on_statistics(std::string_view(json, json_len));
    return 0;  // librdkafka frees `json`
  }

  void on_statistics(std::string_view json) {
    const nlohmann::json stats = nlohmann::json::parse(json, nullptr, false);
    if (stats.is_discarded()) {
      state_.logger->debug("librdkafka statistics that are not JSON ignored");
      return;
    }
    std::map<TopicPartition, std::int64_t> lag;
    const auto topics = stats.find("topics");
    if (topics != stats.end() && topics->is_object()) {
      for (const auto& [topic, topic_stats] : topics->items()) {
        const auto partitions = topic_stats.find("partitions");
        if (partitions == topic_stats.end() || !partitions->is_object()) continue;
        for (const auto& [partition, partition_stats] : partitions->items()) {
          std::int32_t number = -1;
          const auto parsed =
              std::from_chars(partition.data(), partition.data() + partition.size(), number);
          if (parsed.ec != std::errc() || number < 0) continue;  // -1: librdkafka's own
          const auto consumer_lag = partition_stats.find("consumer_lag");
          if (consumer_lag == partition_stats.end() || !consumer_lag->is_number_integer()) {
            continue;
          }
          const auto value = consumer_lag->get<std::int64_t>();
          if (value < 0) continue;
          lag[TopicPartition{topic, number}] = value;
        }
      }
    }
    std::lock_guard lock(lag_mutex_);
    lag_ = std::move(lag);
  }

  void handle_error_message(rd_kafka_message_t* message) {
    const rd_kafka_resp_err_t err = message->err;
    std::string text = rd_kafka_message_errstr(message);
    std::string where;
    if (message->rkt != nullptr) {
      where = fmt::format(" ({}-{})", rd_kafka_topic_name(message->rkt), message->partition);
    }
    rd_kafka_message_destroy(message);
    if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
    char fatal_text[512];
    if (err == RD_KAFKA_RESP_ERR__FATAL ||
        rd_kafka_fatal_error(rk_, fatal_text, sizeof fatal_text) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw KafkaException(fmt::format("fatal consumer error: {}", text), false, true);
    }
    state_.logger->warn("consumer error{}: {}", where, text);
  }

  static ConsumerRecord to_record(rd_kafka_message_t* message) {
    ConsumerRecord record;
    record.owner = RecordOwner(
        message, [](void* m) { rd_kafka_message_destroy(static_cast<rd_kafka_message_t*>(m)); });
    record.topic = rd_kafka_topic_name(message->rkt);
    record.partition = message->partition;
    record.offset = message->offset;
    rd_kafka_timestamp_type_t type;
    record.timestamp = rd_kafka_message_timestamp(message, &type);
    if (message->key != nullptr) {
      record.key = ByteView(static_cast<const std::uint8_t*>(message->key), message->key_len);
    }
    if (message->payload != nullptr) {
      record.value = ByteView(static_cast<const std::uint8_t*>(message->payload), message->len);
    }
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        headers != nullptr) {
      const char* name;
      const void* value;
      std::size_t size;
      for (std::size_t i = 0;
           rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
           ++i) {
        if (value == nullptr) {
          record.headers.add(name, std::nullopt);
        } else {
          const auto* bytes = static_cast<const std::uint8_t*>(value);
          record.headers.add(name, Bytes(bytes, bytes + size));
        }
      }
    }
    return record;
  }

  ClientState state_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_queue_t* consumer_queue_ = nullptr;  // for wakeup()
  RebalanceListener* listener_ = nullptr;
  std::uint64_t rebalances_ = 0;
  std::exception_ptr listener_error_;
  bool closed_ = false;
  bool abandoned_ = false;
  std::map<TopicPartition, std::int64_t> manual_;  // manual assignment: partition -> position
  std::mutex lag_mutex_;  // the statistics callback may run on another thread than lag()
  std::map<TopicPartition, std::int64_t> lag_;  // from the last statistics
};

// ---------------------------------------------------------------------------------------------
// Producer

class RdKafkaProducer final : public Producer {
 public:
  RdKafkaProducer(const std::map<std::string, std::string>& config, Logger logger) {
    state_.logger = std::move(logger);
    state_.owner = this;
    auto conf = make_conf(config, state_);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &RdKafkaProducer::delivery_callback);
    rk_ = new_handle(RD_KAFKA_PRODUCER, std::move(conf), "producer");
    bootstrap_ = bootstrap_of(config);
  }

  RdKafkaProducer(const RdKafkaProducer&) = delete;
  RdKafkaProducer& operator=(const RdKafkaProducer&) = delete;
  ~RdKafkaProducer() override {
    // Whatever is still queued is given a moment to leave; the runtime flushes before it closes.
    // Reports of it go nowhere: the listener's owner may be gone.
    listener_ = nullptr;
    rd_kafka_flush(rk_, 0);
    for (auto& [name, topic] : topics_) rd_kafka_topic_destroy(topic);
    rd_kafka_destroy(rk_);
  }

  void set_delivery_listener(DeliveryListener listener) override {
    listener_ = std::move(listener);
  }

  void send(std::string_view topic, std::optional<std::int32_t> partition,
            std::optional<ByteView> key, std::optional<ByteView> value, std::int64_t timestamp,
            const Headers& headers) override {
    static const std::uint8_t kEmpty = 0;  // a non-null pointer for empty (not null) bytes
    rd_kafka_topic_t* rkt = topic_handle(topic);
    rd_kafka_headers_t* hdrs = nullptr;
    if (!headers.empty()) {
      hdrs = rd_kafka_headers_new(headers.size());
      for (const Header& h : headers) {
        rd_kafka_header_add(hdrs, h.key.data(), static_cast<ssize_t>(h.key.size()),
                            h.value ? (h.value->empty() ? &kEmpty : h.value->data()) : nullptr,
                            h.value ? static_cast<ssize_t>(h.value->size()) : 0);
      }
    }
    auto data = [&](const std::optional<ByteView>& bytes) -> void* {
      if (!bytes) return nullptr;
      return const_cast<std::uint8_t*>(bytes->empty() ? &kEmpty : bytes->data());
    };
    void* key_ptr = data(key);
    void* value_ptr = data(value);
    const std::size_t key_len = key ? key->size() : 0;
    const std::size_t value_len = value ? value->size() : 0;
    for (;;) {
      // librdkafka's RD_KAFKA_V_* macros are C: they cast the old way.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          rk_, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition.value_or(RD_KAFKA_PARTITION_UA)),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key_ptr, key_len),
          RD_KAFKA_V_VALUE(value_ptr, value_len),
          RD_KAFKA_V_TIMESTAMP(timestamp < 0 ? 0 : timestamp), RD_KAFKA_V_HEADERS(hdrs),
          RD_KAFKA_V_END);
#pragma GCC diagnostic pop
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;  // hdrs now belong to the message
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk_, 10);  // backpressure: wait for deliveries to make room
        continue;
      }
      if (hdrs != nullptr) rd_kafka_headers_destroy(hdrs);
      throw KafkaException(
          fmt::format("cannot send a record to topic '{}': {}", topic, rd_kafka_err2str(err)),
          false, err == RD_KAFKA_RESP_ERR__FATAL);
    }
  }

  void poll() override {
    rd_kafka_poll(rk_, 0);
  }

  void init_transactions(std::chrono::milliseconds timeout) override {
    check_txn(rd_kafka_init_transactions(rk_, static_cast<int>(timeout.count())),
              "init_transactions");
  }
  void begin_transaction() override {
    check_txn(rd_kafka_begin_transaction(rk_), "begin_transaction");
  }
  void send_offsets_to_transaction(const std::map<TopicPartition, std::int64_t>& offsets,
                                   const ConsumerGroupMetadata& group,
                                   std::chrono::milliseconds timeout) override {
    const auto* metadata = dynamic_cast<const RdKafkaGroupMetadata*>(&group);
    if (metadata == nullptr) {
      throw KafkaException("send_offsets_to_transaction needs a librdkafka consumer's metadata",
                           false, true);
    }
    PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
    for (const auto& [tp, offset] : offsets) {
      rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset =
          offset;
    }
    check_txn(rd_kafka_send_offsets_to_transaction(rk_, list.get(), metadata->get(),
                                                   static_cast<int>(timeout.count())),
              "send_offsets_to_transaction");
  }
  void commit_transaction(std::chrono::milliseconds timeout) override {
    check_txn(rd_kafka_commit_transaction(rk_, static_cast<int>(timeout.count())),
              "commit_transaction");
  }
  void abort_transaction(std::chrono::milliseconds timeout) override {
    check_txn(rd_kafka_abort_transaction(rk_, static_cast<int>(timeout.count())),
              "abort_transaction");
  }

  void flush(std::chrono::milliseconds timeout) override {
    const rd_kafka_resp_err_t err = rd_kafka_flush(rk_, static_cast<int>(timeout.count()));
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
      std::string why = state_.last_error_text();
      throw KafkaException(fmt::format("{} record(s) were not delivered to {} within {} ms{}{}",
                                       rd_kafka_outq_len(rk_), bootstrap_, timeout.count(),
                                       why.empty() ? "" : "; last error: ", why),
                           true);
    }
    check(err, "flush");
  }

  std::int32_t partition_count(std::string_view topic) override {
    auto found = partitions_.find(topic);
    if (found != partitions_.end()) return found->second;
    rd_kafka_topic_t* rkt = topic_handle(topic);
    const rd_kafka_metadata_t* metadata = nullptr;
    check(rd_kafka_metadata(rk_, 0, rkt, &metadata, 10'000),
          fmt::format("reading the metadata of topic '{}'", topic));
    std::int32_t count = 0;
    if (metadata->topic_cnt == 1 && metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      count = metadata->topics[0].partition_cnt;
    }
    rd_kafka_metadata_destroy(metadata);
    if (count <= 0) throw KafkaException(fmt::format("topic '{}' does not exist", topic));
    partitions_.emplace(std::string(topic), count);
    return count;
  }

 private:
  rd_kafka_topic_t* topic_handle(std::string_view topic) {
    auto found = topics_.find(topic);
    if (found != topics_.end()) return found->second;
    std::string name(topic);
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, name.c_str(), nullptr);
    if (rkt == nullptr) {
      throw KafkaException(
          fmt::format("cannot use topic '{}': {}", topic, rd_kafka_err2str(rd_kafka_last_error())));
    }
    topics_.emplace(std::move(name), rkt);
    return rkt;
  }

  static void delivery_callback(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message,
                                void* opaque) {
    auto* self = static_cast<RdKafkaProducer*>(static_cast<ClientState*>(opaque)->owner);
    if (!self->listener_) return;
    DeliveryReport report;
    report.topic = rd_kafka_topic_name(message->rkt);
    report.partition = message->partition;
    report.offset = message->offset;
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      report.error = rd_kafka_err2str(message->err);
    }
    self->listener_(report);
  }

  ClientState state_;
  rd_kafka_t* rk_ = nullptr;
  std::string bootstrap_;
  DeliveryListener listener_;
  std::map<std::string, rd_kafka_topic_t*, std::less<>> topics_;
  std::map<std::string, std::int32_t, std::less<>> partitions_;
};

// ---------------------------------------------------------------------------------------------
// Admin

class RdKafkaAdmin final : public Admin {
 public:
  RdKafkaAdmin(const std::map<std::string, std::string>& config, Logger logger) {
    state_.logger = std::move(logger);
    rk_ = new_handle(RD_KAFKA_PRODUCER, make_conf(config, state_), "admin client");
    bootstrap_ = bootstrap_of(config);
  }

  RdKafkaAdmin(const RdKafkaAdmin&) = delete;
  RdKafkaAdmin& operator=(const RdKafkaAdmin&) = delete;
  ~RdKafkaAdmin() override { rd_kafka_destroy(rk_); }

  std::map<std::string, std::int32_t> describe_topics(const std::vector<std::string>& topics,
                                                      std::chrono::milliseconds timeout) override {
    std::map<std::string, std::int32_t> out;
    const rd_kafka_metadata_t* metadata = all_metadata(timeout);
    for (int i = 0; i < metadata->topic_cnt; ++i) {
      const auto& topic = metadata->topics[i];
      if (topic.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      if (std::find(topics.begin(), topics.end(), topic.topic) != topics.end()) {
        out[topic.topic] = topic.partition_cnt;
      }
    }
    rd_kafka_metadata_destroy(metadata);
    return out;
  }

  void create_topics(const std::vector<NewTopic>& topics,
                     std::chrono::milliseconds timeout) override {
    std::vector<std::string> names;
    for (const NewTopic& t : topics) names.push_back(t.name);
    const auto existing = describe_topics(names, timeout);
    std::vector<const NewTopic*> missing;
    for (const NewTopic& t : topics) {
      if (existing.count(t.name) == 0) missing.push_back(&t);
    }
    if (missing.empty()) return;
    if (has_controller(timeout)) {
      create_with_admin_api(missing, timeout);
    } else {
      create_by_metadata_request(missing, timeout);
    }
  }

 private:
  const rd_kafka_metadata_t* all_metadata(std::chrono::milliseconds timeout) {
    const rd_kafka_metadata_t* metadata = nullptr;
    const rd_kafka_resp_err_t err =
        rd_kafka_metadata(rk_, 1, nullptr, &metadata, static_cast<int>(timeout.count()));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::string why = state_.last_error_text();
      throw KafkaException(fmt::format("cannot reach the Kafka cluster at {} within {} ms: {}{}{}",
                                       bootstrap_, timeout.count(), rd_kafka_err2str(err),
                                       why.empty() ? "" : "; last error: ", why),
                           true);
    }
    return metadata;
  }

  // librdkafka's mock cluster reports a controller id that is none of its brokers and cannot
  // serve CreateTopics; a real cluster always names one of its brokers.
  bool has_controller(std::chrono::milliseconds timeout) {
    const std::int32_t controller = rd_kafka_controllerid(rk_, static_cast<int>(timeout.count()));
    if (controller < 0) return false;
    const rd_kafka_metadata_t* metadata = all_metadata(timeout);
    bool found = false;
    for (int i = 0; i < metadata->broker_cnt; ++i) {
      found = found || metadata->brokers[i].id == controller;
    }
    rd_kafka_metadata_destroy(metadata);
    return found;
  }

  void create_with_admin_api(const std::vector<const NewTopic*>& topics,
                             std::chrono::milliseconds timeout) {
    char errstr[512];
    std::vector<rd_kafka_NewTopic_t*> requests;
    struct Cleanup {
      std::vector<rd_kafka_NewTopic_t*>& list;
      explicit Cleanup(std::vector<rd_kafka_NewTopic_t*>& topics) : list(topics) {}
      Cleanup(const Cleanup&) = delete;
      Cleanup& operator=(const Cleanup&) = delete;
      ~Cleanup() {
        for (auto* t : list) rd_kafka_NewTopic_destroy(t);
      }
    } cleanup{requests};
    for (const NewTopic* t : topics) {
      rd_kafka_NewTopic_t* request = rd_kafka_NewTopic_new(
          t->name.c_str(), t->partitions, t->replication_factor, errstr, sizeof errstr);
      if (request == nullptr) {
        throw KafkaException(fmt::format("cannot create topic '{}': {}", t->name, errstr));
      }
      requests.push_back(request);
      for (const auto& [key, value] : t->configs) {
        check(rd_kafka_NewTopic_set_config(request, key.c_str(), value.c_str()),
              fmt::format("setting {} on new topic '{}'", key, t->name));
      }
    }
    rd_kafka_queue_t* queue = rd_kafka_queue_new(rk_);
    rd_kafka_AdminOptions_t* options =
        rd_kafka_AdminOptions_new(rk_, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(options, static_cast<int>(timeout.count()), errstr,
                                              sizeof errstr);
    rd_kafka_AdminOptions_set_operation_timeout(options, static_cast<int>(timeout.count()), errstr,
                                                sizeof errstr);
    rd_kafka_CreateTopics(rk_, requests.data(), requests.size(), options, queue);
    rd_kafka_event_t* event = rd_kafka_queue_poll(queue, static_cast<int>(timeout.count()) + 1000);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_queue_destroy(queue);
    if (event == nullptr) {
      throw KafkaException(fmt::format("creating topics on {} timed out", bootstrap_), true);
    }
    std::string failure;
    if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      failure = rd_kafka_event_error_string(event);
    } else {
      std::size_t count = 0;
      const rd_kafka_topic_result_t** results =
          rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
      for (std::size_t i = 0; i < count && failure.empty(); ++i) {
        const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
          const char* message = rd_kafka_topic_result_error_string(results[i]);
          failure = fmt::format("topic '{}': {}", rd_kafka_topic_result_name(results[i]),
                                message != nullptr ? message : rd_kafka_err2str(err));
        }
      }
    }
    rd_kafka_event_destroy(event);
    if (!failure.empty()) throw KafkaException("creating internal topics failed: " + failure);
  }

  // Brokers that cannot create topics through the admin API (librdkafka's mock cluster, the
  // development broker) create a topic when its metadata is requested, with their default
  // partition count. That is only right when the count matches; otherwise say how to fix it.
  void create_by_metadata_request(const std::vector<const NewTopic*>& topics,
                                  std::chrono::milliseconds timeout) {
    for (const NewTopic* t : topics) {
      rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, t->name.c_str(), nullptr);
      const rd_kafka_metadata_t* metadata = nullptr;
      const rd_kafka_resp_err_t err =
          rd_kafka_metadata(rk_, 0, rkt, &metadata, static_cast<int>(timeout.count()));
      rd_kafka_topic_destroy(rkt);
      check(err, fmt::format("creating topic '{}'", t->name));
      std::int32_t count = 0;
      if (metadata->topic_cnt == 1) count = metadata->topics[0].partition_cnt;
      rd_kafka_metadata_destroy(metadata);
      if (count != t->partitions && !(t->any_partition_count && count > 0)) {
        throw KafkaException(fmt::format(
            "topic '{}' needs {} partition(s), but the broker at {} cannot create topics through "
            "the admin API (it is librdkafka's mock cluster, the development broker) and "
            "auto-created it with {}. Create it up front: DevBroker::create_topic, or "
            "`rivulet dev-broker --topic {}:{}`",
            t->name, t->partitions, bootstrap_, count, t->name, t->partitions));
      }
      state_.logger->info("topic '{}' auto-created by the broker with {} partition(s)", t->name,
                          count);
    }
  }

  ClientState state_;
  rd_kafka_t* rk_ = nullptr;
  std::string bootstrap_;
};

}  // namespace

RdKafkaClientFactory::RdKafkaClientFactory(std::shared_ptr<spdlog::logger> logger)
    : logger_(std::move(logger)) {}

std::unique_ptr<Consumer> RdKafkaClientFactory::consumer(
    const std::map<std::string, std::string>& config) {
  return std::make_unique<RdKafkaConsumer>(config, logger_);
}

std::unique_ptr<Producer> RdKafkaClientFactory::producer(
    const std::map<std::string, std::string>& config) {
  return std::make_unique<RdKafkaProducer>(config, logger_);
}

std::unique_ptr<Admin> RdKafkaClientFactory::admin(
    const std::map<std::string, std::string>& config) {
  return std::make_unique<RdKafkaAdmin>(config, logger_);
}

}  // namespace rivulet::kafka
