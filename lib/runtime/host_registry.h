// HostRegistry: which instance of the application runs which task, learned through Kafka.
//
// Kafka Streams carries each member's `application.server` and the task assignment in its own
// partition assignor's user data; librdkafka has no custom assignor, so Rivulet carries them in
// an internal compacted topic instead, `<application.id>-rivulet-hosts` (partition 0 only, so that
// its order is total). Every instance with an `application.server`:
//
//   - writes one record keyed by its instance id whenever its set of active tasks changes:
//     {"server": "host:port", "tasks": ["0_1", ...], "stores": [...], "time": ms};
//   - writes a tombstone for its key when it closes;
//   - reads the topic from the start for as long as it runs, keeping each instance's last record.
//
// The owner of a task is the instance whose latest record, latest in the topic, claims it: after a
// rebalance every instance that gained or lost tasks writes again, so an instance that crashed
// before writing its tombstone loses its claims to the tasks' new owners. Between a rebalance and
// the new owners' records the registry may name the previous owner; a query forwarded there
// answers "not here" (503) and the client retries.
//
// Thread-safety: the registry runs its own thread; every public member is safe from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <rivulet/interactive_queries.h>
#include <rivulet/task_id.h>

#include "kafka/client.h"

namespace rivulet::runtime {

struct RuntimeContext;

// "<application.id>-rivulet-hosts"
std::string hosts_topic(const std::string& application_id);

// "host:port" -> HostInfo; throws std::invalid_argument for anything else.
HostInfo parse_host_info(const std::string& text);

class HostRegistry {
 public:
  // `local_tasks` gives this instance's active tasks now (called on the registry's thread);
  // `stores_of` the stores of a set of tasks.
  HostRegistry(const RuntimeContext& context, std::string instance_id, HostInfo self,
               std::function<std::vector<TaskId>()> local_tasks,
               std::function<std::set<std::string>(const std::vector<TaskId>&)> stores_of);
  ~HostRegistry();  // stop(false)
  HostRegistry(const HostRegistry&) = delete;
  HostRegistry& operator=(const HostRegistry&) = delete;

  void start();
  // Stops the thread; `leave`: first writes this instance's tombstone.
  void stop(bool leave);

  const HostInfo& self() const { return self_; }
  // The instance running `task`, if one is known.
  std::optional<HostInfo> host_of(const TaskId& task) const;
  // Every instance known, this one included.
  std::vector<StreamsMetadata> all() const;

 private:
  struct Entry {
    StreamsMetadata metadata;
    std::int64_t offset = -1;  // of the record it came from
  };

  void run();
  void publish(const std::vector<TaskId>& tasks);
  void apply(const kafka::ConsumerRecord& record);

  const RuntimeContext& context_;
  const std::string instance_id_;
  const HostInfo self_;
  const std::string topic_;
  std::function<std::vector<TaskId>()> local_tasks_;
  std::function<std::set<std::string>(const std::vector<TaskId>&)> stores_of_;
  std::unique_ptr<kafka::Producer> producer_;
  std::unique_ptr<kafka::Consumer> consumer_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex stop_mutex_;  // with stop_cv_: the thread's back-off after a failed step
  std::condition_variable stop_cv_;

  mutable std::mutex mutex_;
  std::map<std::string, Entry> instances_;        // guarded by mutex_: instance id -> latest record
  std::optional<std::vector<TaskId>> published_;  // registry thread only
};

}  // namespace rivulet::runtime
