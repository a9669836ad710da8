#include "kafka/in_memory_cluster.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace rivulet::kafka {

void InMemoryCluster::create_topic(const std::string& name, std::int32_t partitions) {
  if (partitions < 1) {
    throw KafkaException(
        fmt::format("topic '{}' needs at least one partition, got {}", name, partitions));
  }
  const std::lock_guard lock(mutex_);
  auto found = topics_.find(name);
  if (found != topics_.end()) {
    if (static_cast<std::int32_t>(found->second.size()) != partitions) {
      throw KafkaException(fmt::format("topic '{}' exists with {} partitions, not {}", name,
                                       found->second.size(), partitions));
    }
    return;
  }
  topics_.emplace(name, std::vector<Partition>(static_cast<std::size_t>(partitions)));
  changed_locked();
}

std::optional<std::int32_t> InMemoryCluster::partition_count(const std::string& topic) const {
  const std::lock_guard lock(mutex_);
  auto found = topics_.find(topic);
  if (found == topics_.end()) return std::nullopt;
  return static_cast<std::int32_t>(found->second.size());
}

std::map<std::string, std::int32_t> InMemoryCluster::topics() const {
  const std::lock_guard lock(mutex_);
  std::map<std::string, std::int32_t> out;
  for (const auto& [name, partitions] : topics_) {
    out[name] = static_cast<std::int32_t>(partitions.size());
  }
  return out;
}

ProducerIdentity InMemoryCluster::init_producer_id(
    const std::optional<std::string>& transactional_id,
    std::chrono::milliseconds transaction_timeout) {
  const std::lock_guard lock(mutex_);
  expire_transactions_locked();
  if (!transactional_id) {
    const std::int64_t id = next_producer_id_++;
    producers_[id] = ProducerState{};
    return ProducerIdentity{id, 0};
  }
  auto known = transactional_ids_.find(*transactional_id);
  if (known == transactional_ids_.end()) {
    const std::int64_t id = next_producer_id_++;
    transactional_ids_[*transactional_id] = id;
    ProducerState state;
    state.transactional_id = transactional_id;
    state.timeout = transaction_timeout;
    producers_[id] = std::move(state);
    return ProducerIdentity{id, 0};
  }
  ProducerState& state = producers_.at(known->second);
  state.timeout = transaction_timeout;
  // The previous incarnation's open transaction is aborted, then every call of its epoch fails.
  end_transaction_locked(known->second, state, false);
  ++state.epoch;
  changed_locked();
  return ProducerIdentity{known->second, state.epoch};
}

std::int64_t InMemoryCluster::append(const TopicPartition& partition,
                                     const ProducerIdentity& producer, std::int32_t sequence,
                                     LogRecord record, bool transactional) {
  const std::lock_guard lock(mutex_);
  expire_transactions_locked();
  ProducerState& state = producer_locked(producer);
  if (transactional && !state.transactional_id) {
    throw KafkaException(
        fmt::format("producer {} has no transactional id: it cannot write transactionally",
                    producer.producer_id),
        false, true);
  }
  Partition& log = partition_locked(partition);
  auto last = log.last_sequence.find(producer.producer_id);
  const bool continues = last != log.last_sequence.end() && last->second.epoch == producer.epoch;
  if (continues && sequence == last->second.sequence) return last->second.offset;  // a retry
  const std::int32_t expected = continues ? last->second.sequence + 1 : 0;
  if (sequence != expected) {
    throw KafkaException(
        fmt::format("out of order sequence number for producer {} (epoch {}) on {}: {}, "
                    "expected {}",
                    producer.producer_id, producer.epoch, partition.to_string(), sequence,
                    expected),
        false, true);
  }
  const auto offset = static_cast<std::int64_t>(log.log.size());
  StoredRecord stored;
  stored.offset = offset;
  stored.record = std::move(record);
  stored.producer_id = producer.producer_id;
  stored.epoch = producer.epoch;
  stored.transactional = transactional;
  log.log.push_back(std::move(stored));
  log.last_sequence[producer.producer_id] = {producer.epoch, sequence, offset};
  if (transactional) {
    log.open_transactions.try_emplace(producer.producer_id, offset);
    state.open.partitions.insert(partition);
    if (!state.opened) state.opened = std::chrono::steady_clock::now();
  }
  changed_locked();
  return offset;
}

void InMemoryCluster::send_offsets_to_transaction(
    const ProducerIdentity& producer, const std::map<TopicPartition, std::int64_t>& offsets,
    const GroupMetadata& consumer) {
  const std::lock_guard lock(mutex_);
  expire_transactions_locked();
  ProducerState& state = producer_locked(producer);
  if (!state.transactional_id) {
    throw KafkaException(fmt::format("producer {} has no transactional id", producer.producer_id),
                         false, true);
  }
  check_member_locked(consumer);
  for (const auto& [partition, offset] : offsets) {
    state.open.offsets[consumer.group_id][partition] = offset;
  }
  if (!state.opened) state.opened = std::chrono::steady_clock::now();
}

void InMemoryCluster::end_transaction(const ProducerIdentity& producer, bool commit) {
  const std::lock_guard lock(mutex_);
  expire_transactions_locked();
  ProducerState& state = producer_locked(producer);
  end_transaction_locked(producer.producer_id, state, commit);
  changed_locked();
}

void InMemoryCluster::end_transaction_locked(std::int64_t producer_id, ProducerState& state,
                                             bool commit) {
  for (const TopicPartition& partition : state.open.partitions) {
    Partition& log = partition_locked(partition);
    const auto first = log.open_transactions.find(producer_id);
    if (first == log.open_transactions.end()) continue;
    if (!commit) {
      for (auto it = log.log.begin() + first->second; it != log.log.end(); ++it) {
        if (it->producer_id == producer_id && it->control == StoredRecord::Control::none) {
          it->aborted = true;
        }
      }
    }
    StoredRecord marker;
    marker.offset = static_cast<std::int64_t>(log.log.size());
    marker.producer_id = producer_id;
    marker.epoch = state.epoch;
    marker.transactional = true;
    marker.control = commit ? StoredRecord::Control::commit : StoredRecord::Control::abort;
    log.log.push_back(std::move(marker));
    log.open_transactions.erase(first);
  }
  if (commit) {
    for (const auto& [group_id, offsets] : state.open.offsets) {
      Group& group = groups_[group_id];
      for (const auto& [partition, offset] : offsets) group.offsets[partition] = offset;
    }
  }
  state.open = Transaction{};
  state.opened.reset();
}

void InMemoryCluster::expire_transactions_locked() {
  const auto now = std::chrono::steady_clock::now();
  for (auto& [id, state] : producers_) {
    if (!state.opened || now - *state.opened <= state.timeout) continue;
    end_transaction_locked(id, state, false);
    ++state.epoch;  // the coordinator fences the producer that let it time out
    ++timed_out_;
    changed_locked();
  }
}

FetchResult InMemoryCluster::fetch(const TopicPartition& partition, std::int64_t offset,
                                   std::size_t max_records, Isolation isolation) {
  const std::lock_guard lock(mutex_);
  expire_transactions_locked();
  const Partition& log = partition_locked(partition);
  FetchResult result;
  result.high_watermark = static_cast<std::int64_t>(log.log.size());
  result.last_stable_offset = last_stable_offset(log);
  if (offset < 0 || offset > result.high_watermark) {
    throw KafkaException(fmt::format("offset {} is out of range for {} (0 to {})", offset,
                                     partition.to_string(), result.high_watermark));
  }
  const std::int64_t end =
      isolation == Isolation::read_committed ? result.last_stable_offset : result.high_watermark;
  std::int64_t next = offset;
  for (; next < end && result.records.size() < max_records; ++next) {
    const StoredRecord& stored = log.log[static_cast<std::size_t>(next)];
    if (stored.control != StoredRecord::Control::none) continue;
    if (isolation == Isolation::read_committed && stored.aborted) continue;
    result.records.push_back(stored);
  }
  result.next_offset = next;
  return result;
}

std::pair<std::int64_t, std::int64_t> InMemoryCluster::watermarks(const TopicPartition& partition,
                                                                  Isolation isolation) {
  const std::lock_guard lock(mutex_);
  expire_transactions_locked();
  const Partition& log = partition_locked(partition);
  return {0, isolation == Isolation::read_committed ? last_stable_offset(log)
                                                    : static_cast<std::int64_t>(log.log.size())};
}

std::uint64_t InMemoryCluster::version() const {
  const std::lock_guard lock(mutex_);
  return version_;
}

void InMemoryCluster::wake() {
  std::lock_guard lock(mutex_);
  changed_locked();
}

bool InMemoryCluster::wait_for_change(std::uint64_t seen,
                                      std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_until(lock, deadline, [&] { return version_ != seen; });
}

std::string InMemoryCluster::join_group(const std::string& group_id,
                                        const std::vector<std::string>& topics,
                                        const std::string& instance) {
  const std::lock_guard lock(mutex_);
  Group& group = groups_[group_id];
  // Zero-padded, so that the ids sort in the order members joined.
  const std::string member_id = fmt::format("member-{:08}", next_member_++);
  start_rebalance_locked(group);
  group.members[member_id] = Member{topics, instance, true};
  complete_rebalance_if_ready_locked(group);
  return member_id;
}

void InMemoryCluster::rejoin_group(const std::string& group_id, const std::string& member_id) {
  const std::lock_guard lock(mutex_);
  auto group = groups_.find(group_id);
  if (group == groups_.end() || group->second.members.count(member_id) == 0) {
    throw KafkaException(fmt::format("unknown member '{}' of group '{}'", member_id, group_id));
  }
  group->second.members[member_id].rejoined = true;
  complete_rebalance_if_ready_locked(group->second);
}

void InMemoryCluster::leave_group(const std::string& group_id, const std::string& member_id) {
  const std::lock_guard lock(mutex_);
  auto group = groups_.find(group_id);
  if (group == groups_.end() || group->second.members.erase(member_id) == 0) return;
  start_rebalance_locked(group->second);
  complete_rebalance_if_ready_locked(group->second);
}

GroupView InMemoryCluster::group_view(const std::string& group_id,
                                      const std::string& member_id) const {
  const std::lock_guard lock(mutex_);
  GroupView view;
  auto group = groups_.find(group_id);
  if (group == groups_.end()) return view;
  auto member = group->second.members.find(member_id);
  if (member == group->second.members.end()) return view;
  view.generation = group->second.generation;
  if (group->second.rebalancing) {
    view.state = member->second.rejoined ? GroupView::State::awaiting_assignment
                                         : GroupView::State::rejoin_needed;
    return view;
  }
  view.state = GroupView::State::stable;
  view.partitions = group->second.assignments.at(member_id);
  return view;
}

void InMemoryCluster::commit_offsets(const GroupMetadata& consumer,
                                     const std::map<TopicPartition, std::int64_t>& offsets) {
  const std::lock_guard lock(mutex_);
  check_member_locked(consumer);
  Group& group = groups_[consumer.group_id];
  for (const auto& [partition, offset] : offsets) group.offsets[partition] = offset;
}

std::map<TopicPartition, std::int64_t> InMemoryCluster::committed(
    const std::string& group_id, const std::vector<TopicPartition>& partitions) const {
  const std::lock_guard lock(mutex_);
  std::map<TopicPartition, std::int64_t> out;
  auto group = groups_.find(group_id);
  if (group == groups_.end()) return out;
  for (const TopicPartition& partition : partitions) {
    auto found = group->second.offsets.find(partition);
    if (found != group->second.offsets.end()) out[partition] = found->second;
  }
  return out;
}

InMemoryCluster::Partition& InMemoryCluster::partition_locked(const TopicPartition& partition) {
  return const_cast<Partition&>(std::as_const(*this).partition_locked(partition));
}

const InMemoryCluster::Partition& InMemoryCluster::partition_locked(
    const TopicPartition& partition) const {
  auto topic = topics_.find(partition.topic);
  if (topic == topics_.end()) {
    throw KafkaException(fmt::format("unknown topic '{}'", partition.topic));
  }
  if (partition.partition < 0 ||
      partition.partition >= static_cast<std::int32_t>(topic->second.size())) {
    throw KafkaException(fmt::format("unknown partition {} of topic '{}' ({} partitions)",
                                     partition.partition, partition.topic, topic->second.size()));
  }
  return topic->second[static_cast<std::size_t>(partition.partition)];
}

InMemoryCluster::ProducerState& InMemoryCluster::producer_locked(const ProducerIdentity& producer) {
  auto found = producers_.find(producer.producer_id);
  if (found == producers_.end()) {
    throw KafkaException(fmt::format("unknown producer id {}", producer.producer_id), false, true);
  }
  if (producer.epoch != found->second.epoch) {
    throw KafkaException(
        fmt::format("producer {} with epoch {} is fenced: the transactional id '{}' has epoch {}",
                    producer.producer_id, producer.epoch,
                    found->second.transactional_id.value_or(""), found->second.epoch),
        false, true);
  }
  return found->second;
}

void InMemoryCluster::check_member_locked(const GroupMetadata& consumer) const {
  auto group = groups_.find(consumer.group_id);
  const bool has_members = group != groups_.end() && !group->second.members.empty();
  if (consumer.member_id.empty() && consumer.generation < 0) {
    if (!has_members) return;
    throw KafkaException(
        fmt::format("group '{}' has members: a client outside it cannot commit its offsets",
                    consumer.group_id));
  }
  if (!has_members || group->second.members.count(consumer.member_id) == 0) {
    throw KafkaException(
        fmt::format("unknown member '{}' of group '{}'", consumer.member_id, consumer.group_id));
  }
  if (group->second.rebalancing && group->second.members.at(consumer.member_id).rejoined) {
    throw KafkaException(fmt::format("group '{}' is rebalancing: member '{}' has rejoined and "
                                     "waits for its new assignment",
                                     consumer.group_id, consumer.member_id),
                         true);
  }
  if (consumer.generation != group->second.generation) {
    throw KafkaException(fmt::format("illegal generation {} for group '{}' (now {})",
                                     consumer.generation, consumer.group_id,
                                     group->second.generation));
  }
}

void InMemoryCluster::start_rebalance_locked(Group& group) {
  if (group.rebalancing) return;  // members that rejoined this rebalance stay rejoined
  group.rebalancing = true;
  for (auto& [member_id, member] : group.members) member.rejoined = false;
  changed_locked();
}

void InMemoryCluster::complete_rebalance_if_ready_locked(Group& group) {
  if (!group.rebalancing) return;
  for (const auto& [member_id, member] : group.members) {
    if (!member.rejoined) return;
  }
  group.rebalancing = false;
  ++group.generation;
  group.assignments.clear();
  for (const auto& [member_id, member] : group.members) group.assignments[member_id];
  // Kafka's RangeAssignor: per topic, the subscribed members in id order; each gets
  // partitions / members consecutive partitions, and the first (partitions % members) one more.
  std::map<std::string, std::vector<std::string>> subscribers;
  for (const auto& [member_id, member] : group.members) {
    for (const std::string& topic : member.topics) subscribers[topic].push_back(member_id);
  }
  for (const auto& [topic, members] : subscribers) {
    auto found = topics_.find(topic);
    if (found == topics_.end()) continue;
    const auto partitions = static_cast<std::int32_t>(found->second.size());
    const auto count = static_cast<std::int32_t>(members.size());
    std::int32_t next = 0;
    for (std::int32_t i = 0; i < count; ++i) {
      const std::int32_t take = partitions / count + (i < partitions % count ? 1 : 0);
      for (std::int32_t p = 0; p < take; ++p) {
        group.assignments[members[static_cast<std::size_t>(i)]].push_back(
            TopicPartition{topic, next++});
      }
    }
  }
  changed_locked();
}

std::int64_t InMemoryCluster::last_stable_offset(const Partition& partition) {
  std::int64_t stable = static_cast<std::int64_t>(partition.log.size());
  for (const auto& [producer_id, first] : partition.open_transactions) {
    stable = std::min(stable, first);
  }
  return stable;
}

void InMemoryCluster::changed_locked() {
  ++version_;
  changed_.notify_all();
}

std::string_view fault_point_name(FaultPoint point) {
  switch (point) {
    case FaultPoint::produce:
      return "produce";
    case FaultPoint::send_offsets:
      return "send_offsets";
    case FaultPoint::commit_transaction:
      return "commit_transaction";
    case FaultPoint::group_poll:
      return "group_poll";
    case FaultPoint::rebalance:
      return "rebalance";
    case FaultPoint::restore_fetch:
      return "restore_fetch";
  }
  return "unknown";
}

void InMemoryCluster::set_fault_hook(FaultHook hook) {
  const std::lock_guard lock(mutex_);
  fault_hook_ = std::move(hook);
}

FaultAction InMemoryCluster::fault(FaultPoint point, const std::string& instance) {
  if (instance.empty()) return FaultAction::none;
  FaultHook hook;
  {
    const std::lock_guard lock(mutex_);
    hook = fault_hook_;
  }
  return hook ? hook(FaultEvent{point, instance}) : FaultAction::none;
}

void InMemoryCluster::crash(const std::string& instance) {
  const std::lock_guard lock(mutex_);
  crashed_.insert(instance);
  changed_locked();
}

bool InMemoryCluster::crashed(const std::string& instance) const {
  if (instance.empty()) return false;
  const std::lock_guard lock(mutex_);
  return crashed_.count(instance) > 0;
}

void InMemoryCluster::expire_sessions(const std::string& instance) {
  const std::lock_guard lock(mutex_);
  for (auto& [id, group] : groups_) {
    bool removed = false;
    for (auto it = group.members.begin(); it != group.members.end();) {
      if (it->second.instance == instance) {
        it = group.members.erase(it);
        removed = true;
      } else {
        ++it;
      }
    }
    if (!removed) continue;
    start_rebalance_locked(group);
    complete_rebalance_if_ready_locked(group);
  }
  changed_locked();
}

std::uint64_t InMemoryCluster::transactions_timed_out() const {
  const std::lock_guard lock(mutex_);
  return timed_out_;
}

}  // namespace rivulet::kafka
