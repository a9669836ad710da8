// PartitionGroup: the input buffers of one task, one queue per assigned partition, and the choice
// of which record the task processes next (Kafka Streams' partition-group logic).
//
// The head record of every queue is deserialized ahead, so its event time is known; the task
// processes the head with the lowest event time across its partitions. While some partition has
// nothing buffered, the task waits up to `max.task.idle.ms` for it (so a join or merge does not
// run ahead of a slow partition), then goes on with what it has; -1 never waits. A queue that
// grows past `buffered.records.per.partition` asks for its partition to be paused, and for it to
// be resumed once it has drained below that.
//
// Offsets: for each partition it tracks the next offset to commit (one past the last record
// processed or skipped), and what was committed last, so a commit sends only what changed.
//
// Owned and used by one stream thread; not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "kafka/client.h"
#include "runtime/stream_task.h"

namespace rivulet::runtime {

class PartitionGroup {
 public:
  // REQUIRES: every partition is one of `task`'s input topics.
  PartitionGroup(StreamTask& task, const std::vector<kafka::TopicPartition>& partitions,
                 std::int64_t max_idle_ms, std::size_t max_buffered);

  // Appends a polled record. REQUIRES: its partition is one of this group's.
  void add(kafka::ConsumerRecord record);

  // Processes the next record if the task may (see the header comment); `now_ms` is wall-clock
  // time, for idling. Returns true when a record was processed or skipped.
  bool process_next(std::int64_t now_ms);

  std::size_t buffered() const { return buffered_; }
  // Partitions to pause (queue over the limit) and to resume (drained), since the last call.
  void take_flow_changes(std::vector<kafka::TopicPartition>& pause,
                         std::vector<kafka::TopicPartition>& resume);
  // Next offsets to commit for the partitions that made progress since `mark_committed`.
  std::map<kafka::TopicPartition, std::int64_t> offsets_to_commit() const;
  void mark_committed(const std::map<kafka::TopicPartition, std::int64_t>& offsets);
  // Next offsets to read of every partition with a known one (processed or committed), whether
  // or not it moved: under exactly-once every transaction carries them, so that a member fenced
  // by a rebalance can never commit.
  std::map<kafka::TopicPartition, std::int64_t> consumed_offsets() const;
  // Drops every buffered record (the partitions were revoked; their new owner reads them again
  // from the committed offsets).
  void clear();
  const std::vector<kafka::TopicPartition>& partitions() const { return partitions_; }

 private:
  struct Queue {
    kafka::TopicPartition partition;
    std::size_t input = 0;  // the task's input index of the topic
    std::deque<kafka::ConsumerRecord> records;
    detail::RawRecord head;                 // view of records.front() once prepared
    std::optional<std::int64_t> head_time;  // event time of the prepared head
    std::int64_t next_offset = -1;          // one past the last record processed or skipped
    std::int64_t committed_offset = -1;
    bool paused = false;
  };

  // Deserializes the head of `queue` if it is not yet; skipped records are consumed on the way.
  // Returns true when the queue has a prepared head. Sets `progressed` when it consumed any.
  bool prepare_head(Queue& queue, bool& progressed);
  static detail::RawRecord raw_view(const kafka::ConsumerRecord& record);

  StreamTask& task_;
  std::vector<kafka::TopicPartition> partitions_;
  std::deque<Queue> queues_;  // a deque: a Queue (of move-only records) is never relocated
  std::int64_t max_idle_ms_;
  std::size_t max_buffered_;
  std::size_t buffered_ = 0;
  std::optional<std::int64_t> idle_since_;  // when the task started waiting for an empty queue
};

}  // namespace rivulet::runtime
