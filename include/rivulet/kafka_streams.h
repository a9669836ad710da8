// KafkaStreams: a topology running against Kafka. One instance is one member of the consumer
// group named by `application.id`; instances of the same application (in this process or
// others) share the input partitions, and starting or stopping one rebalances the work.
//
// An instance runs `num.stream.threads` stream threads. Each owns one consumer, one producer and
// the tasks (one per sub-topology and input partition) the group assigned to it, and processes
// them with no lock on the hot path. A task with state stores first restores them from their
// changelog topics (the instance stays REBALANCING meanwhile), then runs. Offsets are committed
// every `commit.interval.ms` and when partitions are revoked, only after everything the committed
// records produced was delivered (at-least-once). Under `processing.guarantee=exactly_once_v2`
// each thread's output, changelog writes and consumed offsets commit together in one Kafka
// transaction (every 100 ms by default), and RocksDB stores keep uncommitted writes out of the
// database until their transaction commits (see docs/architecture.md, "Exactly-once").
//
// States, as in Kafka Streams:
//   CREATED -> REBALANCING <-> RUNNING -> PENDING_SHUTDOWN -> NOT_RUNNING
//   any running state -> PENDING_ERROR -> ERROR   (a thread died and the handler said so)
//
// Thread-safety: every public member may be called from any thread. Listeners and handlers run on
// the thread that causes the change (a stream thread, or the caller of start/close); they must
// not call close(), which waits for the stream threads (as in Kafka Streams).
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rivulet/interactive_queries.h>
#include <rivulet/serde.h>
#include <rivulet/state/restore_listener.h>
#include <rivulet/streams_config.h>
#include <rivulet/task_id.h>
#include <rivulet/task_metrics.h>
#include <rivulet/topology.h>

namespace prometheus {
class Registry;
}

namespace rivulet {

namespace kafka {
class ClientFactory;
}
class KafkaStreams;
namespace detail {
// Stops every stream thread of `streams` as a crashed process would: nothing is committed or
// flushed and the group is not told, so its partitions move only when the session times out.
// For tests of failures; declared here so that it can be a friend.
void close_abruptly(KafkaStreams& streams);
}  // namespace detail

class KafkaStreams {
 public:
  enum class State {
    created,
    rebalancing,
    running,
    pending_shutdown,
    not_running,
    pending_error,
    error
  };
  using StateListener = std::function<void(State new_state, State old_state)>;

  // What to do when a stream thread dies of an exception (Kafka Streams'
  // StreamsUncaughtExceptionHandler responses).
  enum class ExceptionResponse {
    replace_thread,        // start a new thread in its place; its tasks are reassigned
    shutdown_client,       // close this instance (state NOT_RUNNING... through ERROR)
    shutdown_application,  // this instance goes to ERROR; other instances are not told (see docs)
  };
  using UncaughtExceptionHandler = std::function<ExceptionResponse(std::exception_ptr)>;

  // What one stream thread is doing, for tests and the sample's live output.
  struct ThreadMetadata {
    std::string thread_name;
    std::string state;
    std::vector<TaskId> active_tasks;
    // Under exactly_once_v2: the thread's producer's transactional.id, "<application.id>-<process
    // id>-<thread index>"; the process id is kept in state.dir, so a restarted instance reuses
    // it (and aborts what its previous run left open). Empty under at-least-once.
    std::string transactional_id;
  };

  // REQUIRES: `config` passes validate_for_runtime(); throws ConfigException otherwise. The
  // topology is validated here (TopologyException). It must outlive the instance.
  KafkaStreams(const Topology& topology, StreamsConfig config);
  // The same, with the Kafka clients made by `clients` instead of librdkafka's.
  KafkaStreams(const Topology& topology, StreamsConfig config,
               std::shared_ptr<kafka::ClientFactory> clients);
  ~KafkaStreams();  // close() with no time limit, if not closed yet
  KafkaStreams(const KafkaStreams&) = delete;
  KafkaStreams& operator=(const KafkaStreams&) = delete;

  // Checks the cluster (source topics exist, co-partitioned topics have equal partition counts),
  // creates the internal topics, and starts the stream threads. Throws StreamsException with a
  // clear message, and leaves the instance in ERROR, when a check fails or the cluster cannot be
  // reached within `default.api.timeout.ms`. REQUIRES: state CREATED.
  void start();
  // Stops the threads gracefully: each finishes the record in hand, commits, leaves the group.
  // Returns true when every thread stopped within `timeout`. Idempotent.
  bool close(std::chrono::milliseconds timeout = std::chrono::milliseconds::max());

  State state() const;
  void set_state_listener(StateListener listener);                        // REQUIRES: state CREATED
  void set_uncaught_exception_handler(UncaughtExceptionHandler handler);  // REQUIRES: CREATED
  // Told about every store restoration of this instance's threads. REQUIRES: state CREATED.
  void set_global_state_restore_listener(std::shared_ptr<StateRestoreListener> listener);

  // Waits until the instance is RUNNING (true) or `timeout` passed / it stopped (false).
  bool wait_for_running(std::chrono::milliseconds timeout) const;

  std::vector<ThreadMetadata> metadata_for_local_threads() const;
  // Counters summed over every task this instance has run, including closed ones.
  TaskMetrics metrics() const;
  // Records handed to the producer / consumed from Kafka, and offsets commits, since start.
  std::uint64_t records_consumed() const;
  std::uint64_t records_produced() const;
  std::uint64_t commits() const;
  // Exactly-once: transactions aborted after an error (the tasks went back to the last commit).
  std::uint64_t transactions_aborted() const;
  // Changelog records applied to stores by restoration, since start.
  std::uint64_t records_restored() const;

  // The instance's metrics in Prometheus' text exposition format (what /metrics serves): every
  // series of `metrics_registry()`, the application's own included. Names, types and labels:
  // docs/metrics.md. Stream threads publish their values every loop (store sizes, consumer lag
  // and the like at most once a second); a scrape reads them without stopping the threads.
  std::string prometheus_metrics() const;
  // The registry, so the application can add its own metrics to the same /metrics page (or
  // serve it with its own prometheus-cpp exposer). Owned by the instance; it lives on while the
  // returned pointer does.
  std::shared_ptr<prometheus::Registry> metrics_registry() const;

  const StreamsConfig& config() const;

  // ---- Interactive queries (interactive_queries.h) and the HTTP endpoint

  // A read-only view of store `name` over this instance's tasks. `Store` is the store's type as
  // the topology built it: KeyValueStore<K, V> gives a ReadOnlyKeyValueStore<K, V>, WindowStore
  // a ReadOnlyWindowStore, SessionStore a ReadOnlySessionStore (the DSL's aggregations keep
  // `ValueAndTimestamp<V>` values in key-value and window stores). Each call on the view throws
  // InvalidStateStoreException when the store cannot be read now, or is of another type, or the
  // stream threads do not answer within `timeout`.
  template <class Store>
  typename detail::ReadOnlyView<Store>::type store(
      const std::string& name, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return typename detail::ReadOnlyView<Store>::type(store_queries(), name, timeout);
  }

  // Which task, and which instance (its application.server), holds `key` of store `name`: the
  // key serialized with `key_serde` (the store's key serde, as the topology wrote the store's
  // input topic) and partitioned with Kafka's default partitioner (murmur2), as the sinks do.
  // Instances learn each other's tasks through the internal topic
  // "<application.id>-rivulet-hosts"; `active_host` is empty while no instance is known to run
  // the task. Throws InvalidStateStoreException for an unknown store or before start().
  template <class K>
  KeyQueryMetadata metadata_for_key(const std::string& name, const K& key,
                                    const AnySerde<K>& key_serde = default_serde<K>()) const {
    Bytes bytes;
    key_serde.serialize(config_application_id() + "-" + name + "-changelog", key, bytes);
    return metadata_for_serialized_key(name, bytes);
  }
  KeyQueryMetadata metadata_for_serialized_key(const std::string& name, ByteView key) const;
  // Every instance of the application known to this one (itself included), with its tasks and
  // stores; empty without application.server.
  std::vector<StreamsMetadata> metadata_for_all_clients() const;
  // The port of the HTTP endpoint (the one bound when application.server gave port 0); 0 when
  // there is none.
  std::uint16_t http_port() const;
  // The HTTP endpoint's counters: requests, 4xx made by the server, timeouts, by status class.
  struct HttpCounters {
    std::uint64_t requests = 0;
    std::uint64_t bad_requests = 0;
    std::uint64_t rejected_connections = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t responses_2xx = 0;
    std::uint64_t responses_4xx = 0;
    std::uint64_t responses_5xx = 0;
  };
  HttpCounters http_counters() const;

  class Impl;

 private:
  friend void detail::close_abruptly(KafkaStreams& streams);
  detail::StoreQueries& store_queries() const;
  std::string config_application_id() const;
  std::shared_ptr<Impl> impl_;
};

std::string_view to_string(KafkaStreams::State state);

}  // namespace rivulet
