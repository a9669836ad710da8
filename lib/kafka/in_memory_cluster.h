// The broker side of an in-memory Kafka cluster, with the semantics exactly-once depends on:
// partition logs, idempotent and transactional producers with epochs and fencing, commit and
// abort markers, the last stable offset, read_committed reads, consumer groups with generations
// and the range assignor, and offset commits (plain and transactional).
//
// librdkafka's mock cluster cannot verify exactly-once (it ignores TxnOffsetCommit and shows
// aborted records to read_committed consumers). This model is what the in-memory clients (the
// exactly-once issue) will talk to. It follows the Kafka protocol's rules, not its wire format:
//   * offsets are per partition, consecutive, and shared by records and control markers;
//   * a transaction's records are invisible to read_committed readers until its commit marker;
//     the last stable offset (LSO) of a partition is the first offset of its oldest open
//     transaction, or the log end when none is open; read_committed reads stop there;
//   * InitProducerId for a transactional id aborts the id's open transaction and bumps its epoch:
//     every later call with an older epoch fails as fenced (fatal for that producer);
//   * an idempotent producer's record repeating the partition's last sequence number is a
//     duplicate: it is not appended again, and the first offset is returned; sequence numbers
//     start at 0 for each producer epoch;
//   * offsets sent to a transaction are committed with it (and dropped on abort), after checking
//     the consumer's group generation, as TxnOffsetCommit does;
//   * groups rebalance eagerly, as with Kafka's classic protocol: a member joining or leaving
//     starts a rebalance; every other member must rejoin (after revoking its partitions and
//     committing, which its current generation still allows); when the last one has, the
//     generation goes up and partitions are assigned with Kafka's RangeAssignor (per topic,
//     members sorted by id, the first ones get one more). A member that never rejoins holds the
//     rebalance up until it is removed, as a session timeout would (`leave_group`);
//   * a transaction open longer than its producer's transaction timeout is aborted, and the
//     producer's epoch bumped (fenced), as Kafka's transaction coordinator does;
// Nothing else expires: no retention, no session timeouts (tests remove members explicitly,
// `expire_sessions`).
//
// Fault injection, for tests: clients created for an instance (InMemoryClientFactory's
// `instance`) ask `fault` at each step that matters to exactly-once, and a hook the test sets
// decides: crash the instance before or after the step, fail the step (an abortable error), or
// skip it (a consumer that does not notice its group moved on: a zombie). A crashed instance's
// clients fail every later call with a fatal error and touch nothing; its group members stay
// until `expire_sessions`.
//
// Thread-safety: every method may be called from any thread; one mutex guards the whole cluster.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <rivulet/record.h>

#include "kafka/client.h"

namespace rivulet::kafka {

enum class Isolation { read_uncommitted, read_committed };

// Where a client of an instance asks the fault hook.
enum class FaultPoint {
  produce,             // a producer is about to append a record
  send_offsets,        // a transactional producer adds consumed offsets to its transaction
  commit_transaction,  // a transactional producer commits
  group_poll,          // a subscribed consumer checks its group at the start of a poll
  rebalance,           // a subscribed consumer is about to revoke or take an assignment
  restore_fetch,       // a consumer without a group (a restore consumer) fetches
};
std::string_view fault_point_name(FaultPoint point);

enum class FaultAction {
  none,
  crash_before,  // the instance crashes: the step does not happen
  crash_after,   // the step happens, then the instance crashes
  fail,          // produce, send_offsets, commit_transaction: an abortable error
  skip,          // group_poll: the consumer does not look at its group this time
};

struct FaultEvent {
  FaultPoint point;
  std::string instance;
};
using FaultHook = std::function<FaultAction(const FaultEvent&)>;

// A producer as the cluster knows it: its id and epoch.
struct ProducerIdentity {
  std::int64_t producer_id = -1;
  std::int32_t epoch = 0;
  friend bool operator==(const ProducerIdentity&, const ProducerIdentity&) = default;
};

// A consumer's place in its group, sent with transactional offsets so that a member of an older
// generation (a zombie) cannot commit.
struct GroupMetadata {
  std::string group_id;
  std::int32_t generation = -1;
  std::string member_id;
};

// A record as appended (data) and as read back.
struct LogRecord {
  std::optional<Bytes> key;
  std::optional<Bytes> value;
  std::int64_t timestamp = -1;
  Headers headers;
};

struct StoredRecord {
  enum class Control { none, commit, abort };

  std::int64_t offset = 0;
  LogRecord record;
  std::int64_t producer_id = -1;
  std::int32_t epoch = 0;
  bool transactional = false;
  Control control = Control::none;
  bool aborted = false;  // a data record of an aborted transaction
};

struct FetchResult {
  std::vector<StoredRecord> records;  // data records only, in offset order
  std::int64_t next_offset = 0;       // where the next fetch starts (past skipped markers)
  std::int64_t high_watermark = 0;    // the log end
  std::int64_t last_stable_offset = 0;
};

// What a member sees of its group when it polls.
struct GroupView {
  enum class State {
    stable,               // `partitions` are this member's in `generation`
    rejoin_needed,        // a rebalance started: revoke, commit, then rejoin_group
    awaiting_assignment,  // rejoined; other members have not yet
    unknown_member,       // not (or no longer) a member: removed, or never joined
  };
  State state = State::unknown_member;
  std::int32_t generation = 0;
  std::vector<TopicPartition> partitions;
};

class InMemoryCluster {
 public:
  InMemoryCluster() = default;
  InMemoryCluster(const InMemoryCluster&) = delete;
  InMemoryCluster& operator=(const InMemoryCluster&) = delete;

  // ---- Topics
  // Creates `name` with `partitions` partitions. Creating it again with the same count does
  // nothing; with another count throws KafkaException. REQUIRES: partitions >= 1.
  void create_topic(const std::string& name, std::int32_t partitions);
  std::optional<std::int32_t> partition_count(const std::string& topic) const;
  std::map<std::string, std::int32_t> topics() const;

  // ---- Producers
  // A new idempotent producer (no transactional id): a fresh producer id, epoch 0. With a
  // transactional id: the id's producer id with its epoch bumped, after aborting the transaction
  // the previous epoch left open (that is what fences a zombie).
  // A transaction open longer than `transaction_timeout` is aborted and the producer fenced.
  ProducerIdentity init_producer_id(
      const std::optional<std::string>& transactional_id,
      std::chrono::milliseconds transaction_timeout = std::chrono::minutes(1));

  // Appends `record` to `partition`; returns its offset. `sequence` is the producer's sequence
  // number for this partition (0, 1, 2, ...); repeating the last one is a duplicate and returns
  // the offset it got. With `transactional`, the record joins the producer's open transaction
  // (which starts with its first record). Throws KafkaException: an unknown topic or partition;
  // a fenced producer (fatal); a sequence gap (fatal).
  std::int64_t append(const TopicPartition& partition, const ProducerIdentity& producer,
                      std::int32_t sequence, LogRecord record, bool transactional);

  // Adds consumed offsets to the producer's open transaction (TxnOffsetCommit): they are
  // committed with it. Throws KafkaException: fenced (fatal); the consumer's generation or member
  // is not the group's current one (not fatal: the transaction must abort).
  void send_offsets_to_transaction(const ProducerIdentity& producer,
                                   const std::map<TopicPartition, std::int64_t>& offsets,
                                   const GroupMetadata& consumer);

  // Ends the producer's open transaction: writes a commit or abort marker to every partition it
  // wrote, and commits (or drops) its offsets. Ending with nothing open does nothing. Throws
  // KafkaException when the producer is fenced (fatal).
  void end_transaction(const ProducerIdentity& producer, bool commit);

  // ---- Reading
  // Up to `max_records` data records from `offset`, stopping at the log end (read_uncommitted)
  // or at the last stable offset (read_committed, which also skips aborted records). Throws
  // KafkaException for an unknown partition or an offset past the log end.
  FetchResult fetch(const TopicPartition& partition, std::int64_t offset, std::size_t max_records,
                    Isolation isolation);
  // The log start (always 0: nothing expires) and the end a reader of `isolation` sees.
  std::pair<std::int64_t, std::int64_t> watermarks(const TopicPartition& partition,
                                                   Isolation isolation);

  // Something changed (a record, a marker, a group change) since `seen`, the value of
  // `version()` a caller read: waits for it until `deadline`. Returns whether it did.
  std::uint64_t version() const;
  bool wait_for_change(std::uint64_t seen, std::chrono::steady_clock::time_point deadline) const;
  // Wakes every waiter of wait_for_change, as a change would (Consumer::wakeup).
  void wake();

  // ---- Groups
  // Adds a member subscribed to `topics` to `group` and starts a rebalance (which completes at
  // once when it is the only member). Returns the member id.
  // `instance`: the client's instance, for `expire_sessions`.
  std::string join_group(const std::string& group, const std::vector<std::string>& topics,
                         const std::string& instance = "");
  // The member is done revoking: when it was the last one the rebalance waited for, the
  // generation goes up and partitions are assigned. Throws KafkaException for an unknown member.
  void rejoin_group(const std::string& group, const std::string& member_id);
  // Removes the member (it left, or its session expired) and starts a rebalance among the
  // others. Unknown members are ignored.
  void leave_group(const std::string& group, const std::string& member_id);
  GroupView group_view(const std::string& group, const std::string& member_id) const;
  // Commits offsets for a member of the current generation, or for a client outside any group
  // (empty member id, generation -1) while the group has no members. Throws KafkaException (not
  // fatal) otherwise: Kafka's ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID.
  void commit_offsets(const GroupMetadata& consumer,
                      const std::map<TopicPartition, std::int64_t>& offsets);
  std::map<TopicPartition, std::int64_t> committed(
      const std::string& group, const std::vector<TopicPartition>& partitions) const;

  // ---- Fault injection
  // Replaces the hook (an empty one injects nothing). It is called without the cluster's lock
  // held, from the clients' threads.
  void set_fault_hook(FaultHook hook);
  // What the hook decides for `instance` at `point` (none for an empty instance or no hook).
  FaultAction fault(FaultPoint point, const std::string& instance);
  // From now on every client of `instance` fails and does nothing.
  void crash(const std::string& instance);
  bool crashed(const std::string& instance) const;
  // Removes every group member of `instance`, as the expiry of their sessions would.
  void expire_sessions(const std::string& instance);
  // Transactions aborted by their timeout so far.
  std::uint64_t transactions_timed_out() const;

 private:
  struct Partition {
    std::vector<StoredRecord> log;
    std::map<std::int64_t, std::int64_t> open_transactions;  // producer id -> first offset
    struct Sequence {
      std::int32_t epoch = 0;
      std::int32_t sequence = 0;
      std::int64_t offset = 0;
    };
    std::map<std::int64_t, Sequence> last_sequence;  // by producer id: its last record here
  };
  struct Transaction {
    std::set<TopicPartition> partitions;
    std::map<std::string, std::map<TopicPartition, std::int64_t>> offsets;  // by group
  };
  struct ProducerState {
    std::int32_t epoch = 0;
    std::optional<std::string> transactional_id;
    Transaction open;
    std::chrono::milliseconds timeout{60'000};
    std::optional<std::chrono::steady_clock::time_point> opened;  // the open transaction began
  };
  struct Member {
    std::vector<std::string> topics;
    std::string instance;
    bool rejoined = true;  // during a rebalance: whether it has rejoined
  };
  struct Group {
    std::int32_t generation = 0;
    bool rebalancing = false;
    std::map<std::string, Member> members;  // by member id, sorted as the range assignor wants
    std::map<std::string, std::vector<TopicPartition>> assignments;
    std::map<TopicPartition, std::int64_t> offsets;
  };

  Partition& partition_locked(const TopicPartition& partition);
  const Partition& partition_locked(const TopicPartition& partition) const;
  ProducerState& producer_locked(const ProducerIdentity& producer);
  void end_transaction_locked(std::int64_t producer_id, ProducerState& state, bool commit);
  void start_rebalance_locked(Group& group);
  void complete_rebalance_if_ready_locked(Group& group);
  void check_member_locked(const GroupMetadata& consumer) const;
  static std::int64_t last_stable_offset(const Partition& partition);
  void expire_transactions_locked();
  void changed_locked();

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::uint64_t version_ = 0;
  std::map<std::string, std::vector<Partition>, std::less<>> topics_;
  std::int64_t next_producer_id_ = 1000;
  std::map<std::int64_t, ProducerState> producers_;
  std::map<std::string, std::int64_t> transactional_ids_;  // transactional id -> producer id
  std::map<std::string, Group> groups_;
  std::uint64_t next_member_ = 1;
  std::uint64_t timed_out_ = 0;
  FaultHook fault_hook_;
  std::set<std::string> crashed_;
};

}  // namespace rivulet::kafka
