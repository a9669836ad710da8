// ChangelogReader: restores the stores of a stream thread's tasks from their changelog topics,
// with one restore consumer per thread (manual assignment, no group).
//
// A task whose stores are open is added with its changelog partitions; each is read from after
// its checkpointed offset (or from the log start without one) up to the log end offset at the
// time it was added. A checkpoint outside the log's range (the changelog was recreated, or
// records the store never saw were deleted) means the local store cannot be trusted: it is wiped
// and restored from the log start, as Kafka Streams does on TaskCorruptedException.
//
// `restore` does one bounded step (one poll of at most a thousand records) so that the stream
// thread keeps polling its main consumer between steps and never exceeds max.poll.interval.ms,
// however long the changelog. Owned and used by one stream thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <rivulet/state/restore_listener.h>
#include <rivulet/task_id.h>

#include "kafka/client.h"
#include "state/state_manager.h"

namespace spdlog {
class logger;
}

namespace rivulet::runtime {

struct RuntimeContext;

class ChangelogReader {
 public:
  ChangelogReader(const RuntimeContext& context, std::string client_id);
  ~ChangelogReader();
  ChangelogReader(const ChangelogReader&) = delete;
  ChangelogReader& operator=(const ChangelogReader&) = delete;

  // Registers the changelogs of tasks whose stores are open, asking the brokers for all their
  // offsets at once. Returns the tasks with nothing to read (every store up to date); `restore`
  // reports the others when they caught up.
  std::vector<TaskId> add(const std::vector<std::pair<TaskId, state::StateManager*>>& tasks);
  // Reads and applies at most one batch, waiting up to `timeout` for it. Returns the tasks whose
  // stores all caught up in this call.
  std::vector<TaskId> restore(std::chrono::milliseconds timeout);
  // Stops restoring task `id` (revoked or closed before it caught up).
  void remove(TaskId id);
  bool restoring() const { return !partitions_.empty(); }
  std::uint64_t records_restored() const { return records_restored_; }
  // For metrics, by store name (over the thread's tasks): the records restored so far, and the
  // records still to restore (a store that restores nothing now is absent).
  const std::map<std::string, std::uint64_t>& records_restored_by_store() const {
    return restored_by_store_;
  }
  std::map<std::string, std::int64_t> remaining_by_store() const;

 private:
  struct Partition {
    TaskId task;
    state::StateManager* state = nullptr;
    std::string store;
    std::int64_t end = 0;   // log end offset when added: restore up to end - 1
    std::int64_t next = 0;  // next offset to read
    std::uint64_t restored = 0;
  };

  kafka::Consumer& consumer();
  void finish(const kafka::TopicPartition& tp, Partition& partition);

  const RuntimeContext& context_;
  std::string client_id_;
  std::shared_ptr<spdlog::logger> logger_;
  std::unique_ptr<kafka::Consumer> consumer_;
  std::map<kafka::TopicPartition, Partition> partitions_;
  std::map<TaskId, int> remaining_;  // partitions still restoring, per task
  std::uint64_t records_restored_ = 0;
  std::map<std::string, std::uint64_t> restored_by_store_;
};

}  // namespace rivulet::runtime
