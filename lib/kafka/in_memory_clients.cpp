#include "kafka/in_memory_clients.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <utility>

#include <fmt/format.h>

namespace rivulet::kafka {

namespace {

using Clock = std::chrono::steady_clock;

std::string property(const std::map<std::string, std::string>& config, const std::string& name,
                     const std::string& fallback) {
  auto found = config.find(name);
  return found == config.end() ? fallback : found->second;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What a ConsumerRecord's views point into.
struct HeldRecord {
  std::string topic;
  StoredRecord stored;
};

ConsumerRecord to_consumer_record(const std::string& topic, std::int32_t partition,
                                  StoredRecord stored) {
  auto* held = new HeldRecord{topic, std::move(stored)};
  ConsumerRecord record;
  record.owner = RecordOwner(held, [](void* p) { delete static_cast<HeldRecord*>(p); });
  record.topic = held->topic;
  record.partition = partition;
  record.offset = held->stored.offset;
  record.timestamp = held->stored.record.timestamp;
  if (held->stored.record.key) record.key = ByteView(*held->stored.record.key);
  if (held->stored.record.value) record.value = ByteView(*held->stored.record.value);
  record.headers = held->stored.record.headers;
  return record;
}

// What every client of an instance shares: its cluster, its instance, and the fault checks.
class InstanceClient {
 protected:
  InstanceClient(std::shared_ptr<InMemoryCluster> cluster, std::string instance)
      : cluster_(std::move(cluster)), instance_(std::move(instance)) {}

  bool crashed() const { return cluster_->crashed(instance_); }
  [[noreturn]] void fail_crashed() const {
    throw KafkaException(fmt::format("instance '{}' crashed (fault injection)", instance_), false,
                         true);
  }
  void require_alive() const {
    if (crashed()) fail_crashed();
  }
  // Asks the hook at `point`: crashes the instance (before: at once, throwing; after: once
  // `step` ran), or returns the action for the caller to apply (fail, skip).
  template <class Step>
  FaultAction at(FaultPoint point, Step&& step) {
    require_alive();
    const FaultAction action = cluster_->fault(point, instance_);
    if (action == FaultAction::crash_before) {
      cluster_->crash(instance_);
      fail_crashed();
    }
    if (action == FaultAction::fail || action == FaultAction::skip) return action;
    step();
    if (action == FaultAction::crash_after) {
      cluster_->crash(instance_);
      fail_crashed();
    }
    return action;
  }

  std::shared_ptr<InMemoryCluster> cluster_;
  std::string instance_;
};

class InMemoryGroupMetadata final : public ConsumerGroupMetadata {
 public:
  explicit InMemoryGroupMetadata(GroupMetadata value) : metadata(std::move(value)) {}
  GroupMetadata metadata;
};

class InMemoryConsumer final : public Consumer, private InstanceClient {
 public:
  InMemoryConsumer(std::shared_ptr<InMemoryCluster> cluster, std::string instance,
                   const std::map<std::string, std::string>& config)
      : InstanceClient(std::move(cluster), std::move(instance)),
        group_(property(config, "group.id", "")),
        isolation_(property(config, "isolation.level", "read_uncommitted") == "read_committed"
                       ? Isolation::read_committed
                       : Isolation::read_uncommitted),
        from_earliest_(property(config, "auto.offset.reset", "latest") == "earliest" ||
                       property(config, "auto.offset.reset", "latest") == "smallest") {}

  ~InMemoryConsumer() override {
    if (!closed_ && subscribed_ && !crashed()) cluster_->leave_group(group_, member_id_);
  }

  void subscribe(const std::vector<std::string>& topics, RebalanceListener& listener) override {
    require_alive();
    if (group_.empty())
      throw KafkaException("a subscribing consumer needs a group.id", false, true);
    topics_ = topics;
    listener_ = &listener;
    subscribed_ = true;
    member_id_ = cluster_->join_group(group_, topics_, instance_);
  }

  std::vector<ConsumerRecord> poll(std::chrono::milliseconds timeout,
                                   std::size_t max_records) override {
    const auto deadline = Clock::now() + timeout;
    while (true) {
      require_alive();
      const std::uint64_t seen = cluster_->version();
      if (subscribed_) {
        if (at(FaultPoint::group_poll, [] {}) != FaultAction::skip) follow_group();
      } else if (!assigned_.empty()) {
        at(FaultPoint::restore_fetch, [] {});
      }
      std::vector<ConsumerRecord> records = fetch(max_records);
      if (!records.empty() || Clock::now() >= deadline) return records;
      if (woken_.exchange(false)) return records;
      cluster_->wait_for_change(seen, deadline);
    }
  }

  std::set<TopicPartition> assignment() override { return assigned_; }

  void pause(const std::vector<TopicPartition>& partitions) override {
    paused_.insert(partitions.begin(), partitions.end());
  }
  void resume(const std::vector<TopicPartition>& partitions) override {
    for (const TopicPartition& partition : partitions) paused_.erase(partition);
  }

  void seek(const TopicPartition& partition, std::int64_t offset) override {
    if (assigned_.count(partition) == 0) {
      throw KafkaException("cannot seek " + partition.to_string() + ": it is not assigned");
    }
    positions_[partition] = resolve(partition, offset);
    consumed_.erase(partition);
  }

  void assign_partitions(const std::map<TopicPartition, std::int64_t>& start) override {
    for (const auto& [partition, offset] : start) {
      assigned_.insert(partition);
      positions_[partition] = resolve(partition, offset);
      consumed_.erase(partition);
    }
  }

  void unassign_partitions(const std::vector<TopicPartition>& partitions) override {
    for (const TopicPartition& partition : partitions) {
      assigned_.erase(partition);
      positions_.erase(partition);
      consumed_.erase(partition);
      paused_.erase(partition);
    }
  }

  std::map<TopicPartition, std::pair<std::int64_t, std::int64_t>> watermarks(
      const std::vector<TopicPartition>& partitions, std::chrono::milliseconds) override {
    std::map<TopicPartition, std::pair<std::int64_t, std::int64_t>> out;
    for (const TopicPartition& partition : partitions) {
      out[partition] = cluster_->watermarks(partition, isolation_);
    }
    return out;
  }

  // As librdkafka's: unknown until a fetch moved past something (a record or a marker), so a
  // partition that has given nothing yet has no position.
  std::optional<std::int64_t> position(const TopicPartition& partition) override {
    auto found = consumed_.find(partition);
    if (found == consumed_.end()) return std::nullopt;
    return found->second;
  }

  std::map<TopicPartition, std::int64_t> lag() override {
    std::map<TopicPartition, std::int64_t> out;
    for (const TopicPartition& partition : assigned_) {
      const auto found = positions_.find(partition);
      const std::int64_t position = found != positions_.end() ? found->second : start_of(partition);
      const std::int64_t end = cluster_->watermarks(partition, isolation_).second;
      out[partition] = std::max<std::int64_t>(0, end - position);
    }
    return out;
  }

  void commit(const std::map<TopicPartition, std::int64_t>& offsets) override {
    require_alive();
    const GroupMetadata me = subscribed_ ? GroupMetadata{group_, generation_, member_id_}
                                         : GroupMetadata{group_, -1, ""};
    cluster_->commit_offsets(me, offsets);
  }

  std::map<TopicPartition, std::int64_t> committed(const std::vector<TopicPartition>& partitions,
                                                   std::chrono::milliseconds) override {
    return cluster_->committed(group_, partitions);
  }

  std::string member_id() override { return member_id_; }

  std::unique_ptr<ConsumerGroupMetadata> group_metadata() override {
    return std::make_unique<InMemoryGroupMetadata>(
        subscribed_ ? GroupMetadata{group_, generation_, member_id_}
                    : GroupMetadata{group_, -1, ""});
  }

  void wakeup() override {
    woken_.store(true);
    cluster_->wake();
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    if (!subscribed_ || crashed()) return;
    if (!assigned_.empty()) {
      const std::vector<TopicPartition> revoked(assigned_.begin(), assigned_.end());
      listener_->on_partitions_revoked(revoked);
      assigned_.clear();
    }
    cluster_->leave_group(group_, member_id_);
  }

  void abandon() override {
    if (closed_) return;
    closed_ = true;
    if (subscribed_ && !crashed()) cluster_->leave_group(group_, member_id_);
  }

 private:
  // Runs the eager protocol's side of this member: revoke and rejoin when a rebalance starts,
  // take the new assignment when it ends, and rejoin as a new member after losing membership.
  void follow_group() {
    const GroupView view = cluster_->group_view(group_, member_id_);
    switch (view.state) {
      case GroupView::State::unknown_member: {
        if (!assigned_.empty()) {
          const std::vector<TopicPartition> lost(assigned_.begin(), assigned_.end());
          drop_assignment();
          listener_->on_partitions_lost(lost);
        }
        member_id_ = cluster_->join_group(group_, topics_, instance_);
        return;
      }
      case GroupView::State::rejoin_needed: {
        at(FaultPoint::rebalance, [] {});
        if (!assigned_.empty()) {
          const std::vector<TopicPartition> revoked(assigned_.begin(), assigned_.end());
          listener_->on_partitions_revoked(revoked);  // commits in the old generation
          drop_assignment();
        }
        cluster_->rejoin_group(group_, member_id_);
        return;
      }
      case GroupView::State::awaiting_assignment:
        return;
      case GroupView::State::stable:
        if (view.generation == generation_) return;
        at(FaultPoint::rebalance, [] {});
        generation_ = view.generation;
        drop_assignment();
        assigned_.insert(view.partitions.begin(), view.partitions.end());
        listener_->on_partitions_assigned(view.partitions);
        return;
    }
  }

  void drop_assignment() {
    assigned_.clear();
    positions_.clear();
    consumed_.clear();
    paused_.clear();
  }

  // A start offset as the runtime gives it: an offset, or librdkafka's logical -2 (beginning) and
  // -1 (end).
  std::int64_t resolve(const TopicPartition& partition, std::int64_t offset) const {
    if (offset >= 0) return offset;
    const auto [low, high] = cluster_->watermarks(partition, isolation_);
    return offset == -2 ? low : high;
  }

  // Where a partition without a position starts: the group's committed offset, else
  // auto.offset.reset.
  std::int64_t start_of(const TopicPartition& partition) const {
    if (subscribed_) {
      const auto committed = cluster_->committed(group_, {partition});
      if (auto found = committed.find(partition); found != committed.end()) return found->second;
    }
    const auto [low, high] = cluster_->watermarks(partition, isolation_);
    return from_earliest_ ? low : high;
  }

  std::vector<ConsumerRecord> fetch(std::size_t max_records) {
    std::vector<ConsumerRecord> out;
    if (assigned_.empty()) return out;
    // Round-robin over the assigned partitions, starting after the last one served.
    std::vector<TopicPartition> order(assigned_.begin(), assigned_.end());
    std::rotate(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(next_ % order.size()),
                order.end());
    ++next_;
    for (const TopicPartition& partition : order) {
      if (out.size() >= max_records) break;
      if (paused_.count(partition) > 0) continue;
      auto position = positions_.find(partition);
      if (position == positions_.end()) {
        position = positions_.emplace(partition, start_of(partition)).first;
      }
      FetchResult result =
          cluster_->fetch(partition, position->second, max_records - out.size(), isolation_);
      if (result.next_offset != position->second) consumed_[partition] = result.next_offset;
      position->second = result.next_offset;
      for (StoredRecord& stored : result.records) {
        out.push_back(to_consumer_record(partition.topic, partition.partition, std::move(stored)));
      }
    }
    return out;
  }

  std::string group_;
  Isolation isolation_;
  bool from_earliest_;
  std::vector<std::string> topics_;
  RebalanceListener* listener_ = nullptr;
  bool subscribed_ = false;
  std::atomic<bool> woken_{false};  // wakeup() was called
  bool closed_ = false;
  std::string member_id_;
  std::int32_t generation_ = -1;
  std::set<TopicPartition> assigned_;
  std::set<TopicPartition> paused_;
  std::map<TopicPartition, std::int64_t> positions_;  // where the next fetch starts
  std::map<TopicPartition, std::int64_t> consumed_;   // position(): past what fetches returned
  std::size_t next_ = 0;
};

class InMemoryProducer final : public Producer, private InstanceClient {
 public:
  InMemoryProducer(std::shared_ptr<InMemoryCluster> cluster, std::string instance,
                   const std::map<std::string, std::string>& config)
      : InstanceClient(std::move(cluster), std::move(instance)),
        transaction_timeout_(std::stoll(property(config, "transaction.timeout.ms", "60000"))) {
    require_alive();
    if (auto id = config.find("transactional.id"); id != config.end() && !id->second.empty()) {
      transactional_id_ = id->second;
    } else {
      identity_ = cluster_->init_producer_id(std::nullopt);
    }
  }

  void set_delivery_listener(DeliveryListener listener) override {
    listener_ = std::move(listener);
  }

  void send(std::string_view topic, std::optional<std::int32_t> partition,
            std::optional<ByteView> key, std::optional<ByteView> value, std::int64_t timestamp,
            const Headers& headers) override {
    require_alive();
    serve();
    Report report;
    report.topic = std::string(topic);
    const std::optional<std::int32_t> count = cluster_->partition_count(report.topic);
    if (!count) {
      report.error = fmt::format("unknown topic '{}'", topic);
      reports_.push_back(std::move(report));
      return;
    }
    report.partition = partition.value_or(key ? murmur2_partition(*key, *count) : std::int32_t{0});
    LogRecord record;
    if (key) record.key = Bytes(key->begin(), key->end());
    if (value) record.value = Bytes(value->begin(), value->end());
    record.timestamp = timestamp >= 0 ? timestamp : now_ms();
    record.headers = headers;
    const TopicPartition target{report.topic, report.partition};
    if (transactional_id_ && !in_transaction_) {
      throw KafkaException(fmt::format("transactional producer '{}' sends outside a transaction",
                                       *transactional_id_),
                           false, true);
    }
    try {
      const FaultAction action = at(FaultPoint::produce, [&] {
        report.offset = cluster_->append(target, identity_, sequences_[target], std::move(record),
                                         in_transaction_);
      });
      if (action == FaultAction::fail) {
        throw KafkaException(fmt::format("injected error producing to {}", target.to_string()));
      }
      ++sequences_[target];
    } catch (const KafkaException& e) {
      if (crashed()) throw;
      report.error = e.what();
      if (in_transaction_) abort_required_ = true;
    }
    reports_.push_back(std::move(report));
  }

  void init_transactions(std::chrono::milliseconds) override {
    require_alive();
    if (!transactional_id_) {
      throw KafkaException("init_transactions needs a transactional.id", false, true);
    }
    identity_ = cluster_->init_producer_id(transactional_id_, transaction_timeout_);
    sequences_.clear();  // sequence numbers start again with each epoch
    in_transaction_ = false;
    abort_required_ = false;
  }

  void begin_transaction() override {
    require_alive();
    if (!transactional_id_) throw KafkaException("no transactional.id", false, true);
    if (in_transaction_) throw KafkaException("a transaction is open already", false, true);
    in_transaction_ = true;
  }

  void send_offsets_to_transaction(const std::map<TopicPartition, std::int64_t>& offsets,
                                   const ConsumerGroupMetadata& group,
                                   std::chrono::milliseconds) override {
    const auto* metadata = dynamic_cast<const InMemoryGroupMetadata*>(&group);
    if (metadata == nullptr) {
      throw KafkaException("send_offsets_to_transaction needs an in-memory consumer's metadata",
                           false, true);
    }
    if (!in_transaction_) throw KafkaException("no open transaction", false, true);
    try {
      const FaultAction action = at(FaultPoint::send_offsets, [&] {
        cluster_->send_offsets_to_transaction(identity_, offsets, metadata->metadata);
      });
      if (action == FaultAction::fail) throw KafkaException("injected error sending offsets");
    } catch (const KafkaException& e) {
      if (e.fatal()) throw;
      abort_required_ = true;
      throw KafkaException(e.what(), false, false, true);
    }
  }

  void commit_transaction(std::chrono::milliseconds) override {
    if (!in_transaction_) throw KafkaException("no open transaction", false, true);
    serve();
    if (abort_required_) {
      throw KafkaException("the transaction failed and must be aborted", false, false, true);
    }
    const FaultAction action =
        at(FaultPoint::commit_transaction, [&] { cluster_->end_transaction(identity_, true); });
    if (action == FaultAction::fail) {
      abort_required_ = true;
      throw KafkaException("injected error committing the transaction", false, false, true);
    }
    in_transaction_ = false;
  }

  void abort_transaction(std::chrono::milliseconds) override {
    require_alive();
    serve();
    cluster_->end_transaction(identity_, false);
    in_transaction_ = false;
    abort_required_ = false;
  }

  void poll() override { serve(); }
  void flush(std::chrono::milliseconds) override {
    require_alive();
    serve();
  }

  std::int32_t partition_count(std::string_view topic) override {
    const std::optional<std::int32_t> count = cluster_->partition_count(std::string(topic));
    if (!count) throw KafkaException(fmt::format("unknown topic '{}'", topic));
    return *count;
  }

 private:
  struct Report {
    std::string topic;
    std::int32_t partition = -1;
    std::int64_t offset = -1;
    std::optional<std::string> error;
  };

  void serve() {
    while (!reports_.empty()) {
      const Report report = std::move(reports_.front());
      reports_.pop_front();
      if (!listener_) continue;
      DeliveryReport delivery;
      delivery.topic = report.topic;
      delivery.partition = report.partition;
      delivery.offset = report.offset;
      if (report.error) delivery.error = *report.error;
      listener_(delivery);
    }
  }

  std::chrono::milliseconds transaction_timeout_;
  std::optional<std::string> transactional_id_;
  ProducerIdentity identity_;
  bool in_transaction_ = false;
  bool abort_required_ = false;  // a send or the offsets failed: only an abort ends it
  DeliveryListener listener_;
  std::map<TopicPartition, std::int32_t> sequences_;
  std::deque<Report> reports_;
};

class InMemoryAdmin final : public Admin {
 public:
  explicit InMemoryAdmin(std::shared_ptr<InMemoryCluster> cluster) : cluster_(std::move(cluster)) {}

  std::map<std::string, std::int32_t> describe_topics(const std::vector<std::string>& topics,
                                                      std::chrono::milliseconds) override {
    std::map<std::string, std::int32_t> out;
    for (const std::string& topic : topics) {
      if (const auto count = cluster_->partition_count(topic)) out[topic] = *count;
    }
    return out;
  }

  void create_topics(const std::vector<NewTopic>& topics, std::chrono::milliseconds) override {
    for (const NewTopic& topic : topics) {
      if (!cluster_->partition_count(topic.name)) {
        cluster_->create_topic(topic.name, topic.partitions);
      }
    }
  }

 private:
  std::shared_ptr<InMemoryCluster> cluster_;
};

}  // namespace

std::int32_t murmur2_partition(std::span<const std::uint8_t> key, std::int32_t partitions) {
  // MurmurHash2 (32-bit) with Kafka's seed, reading the key in little-endian 4-byte words.
  constexpr std::uint32_t kSeed = 0x9747b28cU;
  constexpr std::uint32_t kMultiplier = 0x5bd1e995U;
  constexpr int kShift = 24;
  const auto length = static_cast<std::uint32_t>(key.size());
  std::uint32_t hash = kSeed ^ length;
  const std::size_t words = key.size() / 4;
  for (std::size_t i = 0; i < words; ++i) {
    const std::size_t at = i * 4;
    std::uint32_t word = static_cast<std::uint32_t>(key[at]) |
                         (static_cast<std::uint32_t>(key[at + 1]) << 8) |
                         (static_cast<std::uint32_t>(key[at + 2]) << 16) |
                         (static_cast<std::uint32_t>(key[at + 3]) << 24);
    word *= kMultiplier;
    word ^= word >> kShift;
    word *= kMultiplier;
    hash *= kMultiplier;
    hash ^= word;
  }
  const std::size_t tail = words * 4;
  switch (key.size() % 4) {
    case 3:
      hash ^= static_cast<std::uint32_t>(key[tail + 2]) << 16;
      [[fallthrough]];
    case 2:
      hash ^= static_cast<std::uint32_t>(key[tail + 1]) << 8;
      [[fallthrough]];
    case 1:
      hash ^= static_cast<std::uint32_t>(key[tail]);
      hash *= kMultiplier;
      break;
    default:
      break;
  }
  hash ^= hash >> 13;
  hash *= kMultiplier;
  hash ^= hash >> 15;
  return static_cast<std::int32_t>((hash & 0x7fffffffU) % static_cast<std::uint32_t>(partitions));
}

InMemoryClientFactory::InMemoryClientFactory(std::shared_ptr<InMemoryCluster> cluster,
                                             std::string instance)
    : cluster_(std::move(cluster)), instance_(std::move(instance)) {}

std::unique_ptr<Consumer> InMemoryClientFactory::consumer(
    const std::map<std::string, std::string>& config) {
  return std::make_unique<InMemoryConsumer>(cluster_, instance_, config);
}

std::unique_ptr<Producer> InMemoryClientFactory::producer(
    const std::map<std::string, std::string>& config) {
  return std::make_unique<InMemoryProducer>(cluster_, instance_, config);
}

std::unique_ptr<Admin> InMemoryClientFactory::admin(
    const std::map<std::string, std::string>& /*config*/) {
  return std::make_unique<InMemoryAdmin>(cluster_);
}

}  // namespace rivulet::kafka
