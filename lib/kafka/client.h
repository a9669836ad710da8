// The Kafka clients the runtime uses: a consumer, a producer and an admin client, as small
// interfaces. The runtime depends only on these; `lib/kafka/rdkafka_*` implements them on
// librdkafka, and an in-memory implementation (the exactly-once issue) will implement them too.
//
// Ownership: a client is owned by one stream thread (or by the KafkaStreams instance for the
// admin client) and is not thread-safe unless a method says so. Records returned by `poll` own the
// memory behind their views until they are destroyed.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <rivulet/errors.h>
#include <rivulet/record.h>

namespace rivulet::kafka {

struct TopicPartition {
  std::string topic;
  std::int32_t partition = 0;

  std::string to_string() const { return topic + "-" + std::to_string(partition); }
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
};

// A Kafka client call failed. `retriable` says whether the same call may succeed later (a broker
// that is down, a coordinator that moved); `fatal` that the client can no longer be used (a
// fenced transactional producer, for one); `abortable` that the open transaction must be aborted,
// after which the producer goes on.
class KafkaException : public StreamsException {
 public:
  explicit KafkaException(const std::string& what, bool retriable = false, bool fatal = false,
                          bool abortable = false)
      : StreamsException(what), retriable_(retriable), fatal_(fatal), abortable_(abortable) {}
  bool retriable() const { return retriable_; }
  bool fatal() const { return fatal_; }
  bool abortable() const { return abortable_; }

 private:
  bool retriable_;
  bool fatal_;
  bool abortable_;
};

// A consumer's membership of its group (group, generation, member), as a transactional producer
// sends it with the consumed offsets, so that a member fenced by a rebalance never commits. A
// producer accepts the metadata of its own implementation's consumers only.
class ConsumerGroupMetadata {
 public:
  virtual ~ConsumerGroupMetadata() = default;
};

// Keeps the memory behind a ConsumerRecord's views alive; releases it with its own function, so
// that each client owns records its way with no allocation of its own per record.
using RecordOwner = std::unique_ptr<void, void (*)(void*)>;

// One consumed record. `topic`, `key` and `value` view memory kept alive by `owner`.
struct ConsumerRecord {
  std::string_view topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t timestamp = -1;  // ms since the epoch; -1 when the record has none
  std::optional<ByteView> key;
  std::optional<ByteView> value;
  Headers headers;
  RecordOwner owner{nullptr, [](void*) {}};
};

// Called by `Consumer::poll` (on the polling thread) when the group's assignment changes. With
// the eager protocol Rivulet uses (the range assignor), every rebalance revokes all partitions
// and then assigns the new set.
class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  // Partitions this member gives up in an orderly rebalance: commit what was processed.
  virtual void on_partitions_revoked(const std::vector<TopicPartition>& partitions) = 0;
  // Partitions this member lost without a chance to commit (its session expired): do not commit.
  virtual void on_partitions_lost(const std::vector<TopicPartition>& partitions) = 0;
  virtual void on_partitions_assigned(const std::vector<TopicPartition>& partitions) = 0;
};

class Consumer {
 public:
  virtual ~Consumer() = default;

  // Joins the group, subscribed to `topics`. `listener` must outlive the consumer.
  virtual void subscribe(const std::vector<std::string>& topics, RebalanceListener& listener) = 0;
  // Waits up to `timeout` for records, and returns at most `max_records`. Rebalance callbacks
  // run inside. Records of a partition revoked during the call are not returned. Throws
  // KafkaException on a fatal consumer error.
  virtual std::vector<ConsumerRecord> poll(std::chrono::milliseconds timeout,
                                           std::size_t max_records) = 0;
  virtual std::set<TopicPartition> assignment() = 0;
  virtual void pause(const std::vector<TopicPartition>& partitions) = 0;
  virtual void resume(const std::vector<TopicPartition>& partitions) = 0;
  // Moves the fetch position of an assigned partition to `offset`.
  virtual void seek(const TopicPartition& partition, std::int64_t offset) = 0;
  // Manual assignment, for a consumer that does not subscribe (the restore consumer): adds
  // `start`'s partitions to the assignment, each read from its offset.
  virtual void assign_partitions(const std::map<TopicPartition, std::int64_t>& start) = 0;
  // Removes partitions from a manual assignment.
  virtual void unassign_partitions(const std::vector<TopicPartition>& partitions) = 0;
  // Each partition's log start and log end offsets (low and high watermarks; under
  // read_committed the end is the last stable offset), asked of the brokers in one round.
  // Throws KafkaException when they do not answer within `timeout`.
  virtual std::map<TopicPartition, std::pair<std::int64_t, std::int64_t>> watermarks(
      const std::vector<TopicPartition>& partitions, std::chrono::milliseconds timeout) = 0;
  // The offset of the next record `poll` returns for an assigned partition (past any records it
  // skipped, such as transaction markers); nullopt before the first fetch.
  virtual std::optional<std::int64_t> position(const TopicPartition& partition) = 0;
  // The latest known lag of each assigned partition, in records: from the consumer's place in
  // the partition to its end (the last stable offset under read_committed). librdkafka's comes
  // from its statistics (every `statistics.interval.ms`; it counts from the group's committed
  // offset, so it moves at each commit); the in-memory consumer's is the high watermark minus the
  // position, now. Partitions whose lag is not known yet are absent.
  virtual std::map<TopicPartition, std::int64_t> lag() = 0;
  // Commits, synchronously, the next offsets to read. Throws KafkaException on failure (for
  // example when the member is no longer part of the group's generation).
  virtual void commit(const std::map<TopicPartition, std::int64_t>& offsets) = 0;
  // The group's committed offsets of `partitions` (absent: nothing committed).
  virtual std::map<TopicPartition, std::int64_t> committed(
      const std::vector<TopicPartition>& partitions, std::chrono::milliseconds timeout) = 0;
  // This member's id in the group ("" before it joined).
  virtual std::string member_id() = 0;
  // This member's group metadata now, for Producer::send_offsets_to_transaction.
  virtual std::unique_ptr<ConsumerGroupMetadata> group_metadata() = 0;
  // Makes a `poll` waiting on another thread return at once (possibly with no records), or the
  // next one when none waits. The only member safe to call from another thread.
  virtual void wakeup() = 0;
  // Leaves the group (revoking the assignment through the listener) and releases the client.
  virtual void close() = 0;
  // Releases the client as a crashed process would: no revocation, no commit, no leaving the
  // group; the group notices when the member's session times out. For tests of failures.
  virtual void abandon() = 0;
};

// The outcome of one `Producer::send`, reported once, on the thread that calls `poll`, `send` or
// `flush`. Views are valid during the callback only.
struct DeliveryReport {
  std::string_view topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::optional<std::string_view> error;  // set when the record was not written
};
using DeliveryListener = std::function<void(const DeliveryReport&)>;

class Producer {
 public:
  virtual ~Producer() = default;

  // Receives the outcome of every record sent after this call. REQUIRES: set before sending.
  virtual void set_delivery_listener(DeliveryListener listener) = 0;
  // Queues one record. `partition` absent: the producer's partitioner (murmur2 of the key, as
  // Java's default partitioner). Blocks (serving delivery reports) while the local queue is full.
  // Throws KafkaException when the record cannot be queued at all.
  virtual void send(std::string_view topic, std::optional<std::int32_t> partition,
                    std::optional<ByteView> key, std::optional<ByteView> value,
                    std::int64_t timestamp, const Headers& headers) = 0;
  // Serves delivery reports without waiting.
  virtual void poll() = 0;
  // Waits until every queued record is delivered or failed (callbacks have run). Throws
  // KafkaException when `timeout` passes first.
  virtual void flush(std::chrono::milliseconds timeout) = 0;
  // Partitions of `topic`, from cached metadata. Throws KafkaException when the topic is unknown.
  virtual std::int32_t partition_count(std::string_view topic) = 0;

  // Transactions, for a producer configured with a `transactional.id`. Each throws
  // KafkaException: fatal when the producer is fenced (another producer took its transactional
  // id) and must be closed; abortable when the open transaction must be aborted first.
  // Registers the transactional id, fencing its previous users and aborting what they left open.
  virtual void init_transactions(std::chrono::milliseconds timeout) = 0;
  virtual void begin_transaction() = 0;
  // Adds consumed offsets (the next offsets to read) to the open transaction.
  virtual void send_offsets_to_transaction(const std::map<TopicPartition, std::int64_t>& offsets,
                                           const ConsumerGroupMetadata& group,
                                           std::chrono::milliseconds timeout) = 0;
  // Flushes the transaction's records, then commits them and its offsets atomically.
  virtual void commit_transaction(std::chrono::milliseconds timeout) = 0;
  virtual void abort_transaction(std::chrono::milliseconds timeout) = 0;
};

struct NewTopic {
  std::string name;
  std::int32_t partitions = 1;
  std::int32_t replication_factor = -1;  // -1: the broker's default
  std::map<std::string, std::string> configs;
  // Any partition count will do (the topic is used through partition 0): a broker that can only
  // auto-create topics may create it with its default count.
  bool any_partition_count = false;
};

class Admin {
 public:
  virtual ~Admin() = default;

  // Partition counts of the topics that exist among `topics` (missing ones are absent). Never
  // creates a topic. Throws KafkaException when the cluster cannot be reached within `timeout`.
  virtual std::map<std::string, std::int32_t> describe_topics(
      const std::vector<std::string>& topics, std::chrono::milliseconds timeout) = 0;
  // Creates the topics that do not exist yet; topics that exist are left as they are. Throws
  // KafkaException naming the topic when one cannot be created.
  virtual void create_topics(const std::vector<NewTopic>& topics,
                             std::chrono::milliseconds timeout) = 0;
};

// Creates clients from librdkafka-style property maps (StreamsConfig::consumer_configs() and
// friends). KafkaStreams takes one, so tests can run whole applications on another
// implementation.
class ClientFactory {
 public:
  virtual ~ClientFactory() = default;
  virtual std::unique_ptr<Consumer> consumer(const std::map<std::string, std::string>& config) = 0;
  virtual std::unique_ptr<Producer> producer(const std::map<std::string, std::string>& config) = 0;
  virtual std::unique_ptr<Admin> admin(const std::map<std::string, std::string>& config) = 0;
};

}  // namespace rivulet::kafka
