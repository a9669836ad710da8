// InMemoryKafka: a Kafka cluster in memory, for testing applications end to end without a
// broker, with Kafka's transactional semantics (which librdkafka's mock cluster lacks): commit and
// abort markers, the last stable offset and read_committed reads, producer epochs and fencing,
// transactional offset commits checked against the consumer group's generation, and eager group
// rebalances with the range assignor. Run a whole application on it:
//
//   rivulet::testing::InMemoryKafka kafka;
//   kafka.create_topic("in", 4);
//   kafka.create_topic("out", 4);
//   rivulet::KafkaStreams app(topology, config, kafka.clients("app-1"));
//   app.start();
//   kafka.produce("in", "key", "value", 1'700'000'000'000);
//   ... kafka.read("out") ...
//
// `config` needs `bootstrap.servers` (any value; it is not used) and `application.id`. Internal
// topics (changelogs, repartition topics) are created by the application as on a real cluster.
//
// Faults, to test what exactly-once promises: the clients of an instance (`clients(instance)`)
// ask a hook at each step that matters (a produce, sending offsets to a transaction, committing
// it, a consumer's group check at each poll, a rebalance, a restore consumer's fetch). The hook
// may crash the instance before or after the step (its clients then fail every call with a fatal
// error and touch nothing, as a dead process would), fail the step (an abortable error), or make a
// consumer skip its group check (a zombie that has not noticed its session expired).
// `expire_sessions(instance)` removes the instance's group members, as a session timeout would;
// open transactions time out after the producer's `transaction.timeout.ms`.
//
// Thread-safety: every member may be called from any thread. Records read back are copies.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rivulet::kafka {
class ClientFactory;
class InMemoryCluster;
}  // namespace rivulet::kafka

namespace rivulet::testing {

class InMemoryKafka {
 public:
  struct Record {
    std::optional<std::string> key;
    std::optional<std::string> value;
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::int64_t timestamp = 0;
  };

  // The steps at which a fault can be injected, and what to do there.
  enum class FaultPoint {
    produce,
    send_offsets,
    commit_transaction,
    group_poll,
    rebalance,
    restore_fetch
  };
  enum class FaultAction { none, crash_before, crash_after, fail, skip };
  // Called from the application's threads, without the cluster's lock held.
  using FaultHook = std::function<FaultAction(FaultPoint point, const std::string& instance)>;

  InMemoryKafka();
  ~InMemoryKafka();
  InMemoryKafka(const InMemoryKafka&) = delete;
  InMemoryKafka& operator=(const InMemoryKafka&) = delete;

  // Creates `name` with `partitions` partitions (again with the same count: nothing happens;
  // another count throws StreamsException). REQUIRES: partitions >= 1.
  void create_topic(const std::string& name, std::int32_t partitions);
  // Appends one record, non-transactionally: to `partition`, or by Kafka's default partitioner
  // (murmur2 of the key; partition 0 without a key). Throws StreamsException for an unknown topic.
  void produce(const std::string& topic, const std::optional<std::string>& key,
               const std::optional<std::string>& value, std::int64_t timestamp,
               std::optional<std::int32_t> partition = std::nullopt);
  // Every record of `topic` a reader sees, partition by partition in offset order: under
  // `read_committed` (the default) only committed transactions' records, up to the last stable
  // offset; otherwise everything, aborted records included.
  std::vector<Record> read(const std::string& topic, bool read_committed = true) const;
  // The offsets `group` (an application.id) committed for `topic`'s partitions.
  std::map<std::int32_t, std::int64_t> committed(const std::string& group,
                                                 const std::string& topic) const;

  // Clients for one KafkaStreams instance; `instance` names it for faults and session expiry
  // (empty: no faults). Use a new name for each incarnation of a restarted instance.
  std::shared_ptr<kafka::ClientFactory> clients(const std::string& instance = "");

  void set_fault_hook(FaultHook hook);  // an empty hook injects nothing
  // Crashes `instance` now: its clients fail from their next call.
  void crash(const std::string& instance);
  void expire_sessions(const std::string& instance);

 private:
  std::shared_ptr<kafka::InMemoryCluster> cluster_;
};

}  // namespace rivulet::testing
