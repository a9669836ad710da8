#include "runtime/changelog_reader.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "runtime/stream_thread.h"

namespace rivulet::runtime {

namespace {
constexpr std::size_t kRestoreBatch = 1000;
}

ChangelogReader::ChangelogReader(const RuntimeContext& context, std::string client_id)
    : context_(context), client_id_(std::move(client_id)), logger_(context.logger) {}

ChangelogReader::~ChangelogReader() {
  if (consumer_) {
    try {
      consumer_->close();
    } catch (const std::exception& error) {
      logger_->warn("{}: closing the restore consumer failed: {}", client_id_, error.what());
    }
  }
}

kafka::Consumer& ChangelogReader::consumer() {
  if (!consumer_) {
    auto config = context_.config.restore_consumer_configs();
    config["client.id"] = client_id_;
    // librdkafka assigns partitions only to a consumer with a group.id; this one never joins the
    // group (it does not subscribe) and never commits.
    config["group.id"] = context_.application_id + "-restore";
    config["enable.auto.commit"] = "false";
    consumer_ = context_.clients->consumer(config);
  }
  return *consumer_;
}

std::vector<TaskId> ChangelogReader::add(
    const std::vector<std::pair<TaskId, state::StateManager*>>& tasks) {
  std::vector<TaskId> ready;
  std::vector<kafka::TopicPartition> partitions;
  for (const auto& [id, state] : tasks) {
    for (const state::StateManager::Changelog& changelog : state->changelogs()) {
      partitions.push_back(kafka::TopicPartition{changelog.topic, changelog.partition});
    }
  }
  const auto offsets =
      partitions.empty() ? std::map<kafka::TopicPartition, std::pair<std::int64_t, std::int64_t>>{}
                         : consumer().watermarks(partitions, context_.config.default_api_timeout());
  std::map<kafka::TopicPartition, std::int64_t> assign;
  for (const auto& [id, state] : tasks) {
    for (const state::StateManager::Changelog& changelog : state->changelogs()) {
      const kafka::TopicPartition tp{changelog.topic, changelog.partition};
      const auto [low, high] = offsets.at(tp);
      std::int64_t start = low;
      if (changelog.checkpointed) {
        const std::int64_t after = *changelog.checkpointed + 1;
        if (after < low || after > high) {
          logger_->warn(
              "task {}: the checkpoint of store '{}' (offset {}) is outside its changelog {} "
              "(offsets {} to {}); wiping the store and restoring it from the start",
              id.to_string(), changelog.store, *changelog.checkpointed, tp.to_string(), low, high);
          state->wipe(changelog.store);
        } else {
          start = after;
        }
      }
      if (context_.restore_listener) {
        context_.restore_listener->on_restore_start(tp.topic, tp.partition, changelog.store, start,
                                                    high);
      }
      if (start >= high) {
        if (context_.restore_listener) {
          context_.restore_listener->on_restore_end(tp.topic, tp.partition, changelog.store, 0);
        }
        continue;
      }
      logger_->info("task {}: restoring store '{}' from {} offsets {} to {}", id.to_string(),
                    changelog.store, tp.to_string(), start, high - 1);
      Partition partition;
      partition.task = id;
      partition.state = state;
      partition.store = changelog.store;
      partition.end = high;
      partition.next = start;
      partitions_[tp] = std::move(partition);
      assign[tp] = start;
      ++remaining_[id];
    }
    if (remaining_.count(id) == 0) ready.push_back(id);
  }
  if (!assign.empty()) consumer().assign_partitions(assign);
  return ready;
}

void ChangelogReader::finish(const kafka::TopicPartition& tp, Partition& partition) {
  logger_->info("task {}: restored store '{}' ({} records from {})", partition.task.to_string(),
                partition.store, partition.restored, tp.to_string());
  if (context_.restore_listener) {
    context_.restore_listener->on_restore_end(tp.topic, tp.partition, partition.store,
                                              partition.restored);
  }
}

std::vector<TaskId> ChangelogReader::restore(std::chrono::milliseconds timeout) {
  std::vector<TaskId> completed;
  if (partitions_.empty()) return completed;
  std::vector<kafka::ConsumerRecord> records = consumer().poll(timeout, kRestoreBatch);

  // Records of one partition arrive in offset order; apply them in runs per partition.
  std::vector<ChangelogRecord> batch;
  std::size_t i = 0;
  while (i < records.size()) {
    const kafka::TopicPartition tp{std::string(records[i].topic), records[i].partition};
    auto found = partitions_.find(tp);
    batch.clear();
    for (;
         i < records.size() && records[i].topic == tp.topic && records[i].partition == tp.partition;
         ++i) {
      const kafka::ConsumerRecord& record = records[i];
      if (found == partitions_.end() || record.offset >= found->second.end) continue;
      if (!record.key) continue;  // a changelog record always has a key
      ChangelogRecord change;
      change.key = *record.key;
      change.value = record.value;
      change.offset = record.offset;
      change.timestamp = record.timestamp;
      batch.push_back(change);
    }
    if (found == partitions_.end() || batch.empty()) continue;
    Partition& partition = found->second;
    partition.state->restore(partition.store, batch);
    partition.restored += batch.size();
    partition.next = batch.back().offset + 1;
    records_restored_ += batch.size();
    restored_by_store_[partition.store] += batch.size();
    if (context_.restore_listener) {
      context_.restore_listener->on_batch_restored(tp.topic, tp.partition, partition.store,
                                                   batch.back().offset, batch.size());
    }
  }

  // A partition is done when the consumer's position reached the end offset (the position also
  // moves past offsets that hold no record, such as compacted-away ones or transaction markers).
  std::vector<kafka::TopicPartition> done;
  for (auto& [tp, partition] : partitions_) {
    std::int64_t position = partition.next;
    if (partition.next < partition.end) {
      if (std::optional<std::int64_t> p = consumer().position(tp))
        position = std::max(position, *p);
    }
    if (position < partition.end) continue;
    finish(tp, partition);
    done.push_back(tp);
    if (--remaining_[partition.task] == 0) {
      remaining_.erase(partition.task);
      completed.push_back(partition.task);
    }
  }
  for (const kafka::TopicPartition& tp : done) partitions_.erase(tp);
  consumer().unassign_partitions(done);
  return completed;
}

std::map<std::string, std::int64_t> ChangelogReader::remaining_by_store() const {
  std::map<std::string, std::int64_t> remaining;
  for (const auto& [tp, partition] : partitions_) {
    remaining[partition.store] += std::max<std::int64_t>(0, partition.end - partition.next);
  }
  return remaining;
}

void ChangelogReader::remove(TaskId id) {
  std::vector<kafka::TopicPartition> dropped;
  for (auto it = partitions_.begin(); it != partitions_.end();) {
    if (it->second.task == id) {
      dropped.push_back(it->first);
      it = partitions_.erase(it);
    } else {
      ++it;
    }
  }
  remaining_.erase(id);
  if (consumer_) consumer_->unassign_partitions(dropped);
}

}  // namespace rivulet::runtime
