#include "runtime/partition_group.h"

#include <algorithm>

#include <fmt/format.h>

#include <rivulet/errors.h>

namespace rivulet::runtime {

PartitionGroup::PartitionGroup(StreamTask& task,
                               const std::vector<kafka::TopicPartition>& partitions,
                               std::int64_t max_idle_ms, std::size_t max_buffered)
    : task_(task),
      partitions_(partitions),
      max_idle_ms_(max_idle_ms),
      max_buffered_(std::max<std::size_t>(1, max_buffered)) {
  for (const kafka::TopicPartition& tp : partitions) {
    Queue& queue = queues_.emplace_back();
    queue.partition = tp;
    queue.input = task.input_index(tp.topic);
  }
}

detail::RawRecord PartitionGroup::raw_view(const kafka::ConsumerRecord& record) {
  detail::RawRecord raw;
  raw.topic = record.topic;
  raw.partition = record.partition;
  raw.offset = record.offset;
  raw.timestamp = record.timestamp;
  raw.key = record.key;
  raw.value = record.value;
  raw.headers = &record.headers;
  return raw;
}

void PartitionGroup::add(kafka::ConsumerRecord record) {
  for (Queue& queue : queues_) {
    if (queue.partition.partition == record.partition && queue.partition.topic == record.topic) {
      queue.records.push_back(std::move(record));
      ++buffered_;
      return;
    }
  }
  throw StreamsException(fmt::format("task {} got a record of {}-{}, which it does not own",
                                     task_.task_id().to_string(), record.topic, record.partition));
}

bool PartitionGroup::prepare_head(Queue& queue, bool& progressed) {
  while (!queue.head_time && !queue.records.empty()) {
    queue.head = raw_view(queue.records.front());
    queue.head_time = task_.prepare(queue.input, queue.head);
    if (!queue.head_time) {  // skipped by a handler: consumed all the same
      queue.next_offset = queue.records.front().offset + 1;
      queue.records.pop_front();
      --buffered_;
      progressed = true;
    }
  }
  return queue.head_time.has_value();
}

bool PartitionGroup::process_next(std::int64_t now_ms) {
  bool progressed = false;
  Queue* next = nullptr;
  bool all_ready = true;
  for (Queue& queue : queues_) {
    if (!prepare_head(queue, progressed)) {
      all_ready = false;
      continue;
    }
    if (next == nullptr || *queue.head_time < *next->head_time) next = &queue;
  }
  if (next == nullptr) return progressed;
  if (!all_ready && max_idle_ms_ >= 0) {
    // Wait for the empty partitions, at most max.task.idle.ms since the wait began.
    if (!idle_since_) idle_since_ = now_ms;
    if (now_ms - *idle_since_ < max_idle_ms_) return progressed;
  } else {
    idle_since_.reset();
  }
  task_.process_prepared(next->input, next->head);
  next->next_offset = next->records.front().offset + 1;
  next->head_time.reset();
  next->records.pop_front();
  --buffered_;
  return true;
}

void PartitionGroup::take_flow_changes(std::vector<kafka::TopicPartition>& pause,
                                       std::vector<kafka::TopicPartition>& resume) {
  for (Queue& queue : queues_) {
    if (!queue.paused && queue.records.size() > max_buffered_) {
      queue.paused = true;
      pause.push_back(queue.partition);
    } else if (queue.paused && queue.records.size() <= max_buffered_ / 2) {
      queue.paused = false;
      resume.push_back(queue.partition);
    }
  }
}

std::map<kafka::TopicPartition, std::int64_t> PartitionGroup::offsets_to_commit() const {
  std::map<kafka::TopicPartition, std::int64_t> out;
  for (const Queue& queue : queues_) {
    if (queue.next_offset > queue.committed_offset) out[queue.partition] = queue.next_offset;
  }
  return out;
}

std::map<kafka::TopicPartition, std::int64_t> PartitionGroup::consumed_offsets() const {
  std::map<kafka::TopicPartition, std::int64_t> out;
  for (const Queue& queue : queues_) {
    const std::int64_t next = std::max(queue.next_offset, queue.committed_offset);
    if (next >= 0) out[queue.partition] = next;
  }
  return out;
}

void PartitionGroup::mark_committed(const std::map<kafka::TopicPartition, std::int64_t>& offsets) {
  for (Queue& queue : queues_) {
    auto found = offsets.find(queue.partition);
    if (found != offsets.end()) queue.committed_offset = found->second;
  }
}

void PartitionGroup::clear() {
  for (Queue& queue : queues_) {
    queue.records.clear();
    queue.head_time.reset();
    queue.paused = false;
  }
  buffered_ = 0;
  idle_since_.reset();
}

}  // namespace rivulet::runtime
