// Interactive queries: reading a running application's state stores from outside its topology,
// as Kafka Streams' `KafkaStreams::store` and `queryMetadataForKey` do.
//
//   auto counts = streams.store<rivulet::KeyValueStore<std::string, std::int64_t>>("counts");
//   std::optional<std::int64_t> n = counts.get("road-7");        // this instance's tasks only
//   rivulet::KeyQueryMetadata where = streams.metadata_for_key<std::string>("counts", "road-7");
//   // where.active_host: the instance (its application.server) whose task holds "road-7"
//
// A store of a running application belongs to a stream thread, which uses it with no lock. A
// query therefore runs ON that thread, between two records: the calling thread queues it, the
// stream thread runs it at its next record boundary (or wakes from its poll for it), and the
// caller waits for the answer. Every call is one such round trip per stream thread and returns
// values, not iterators; results are copied out, so keep ranges bounded.
//
// What a query sees: the stores of the tasks that run on this instance, cache included; under
// exactly-once also writes of the open transaction (as in Kafka Streams). Tasks still restoring
// are not queryable: a query that would need only such tasks throws InvalidStateStoreException,
// as does a query of an unknown store, of the wrong store type, of an instance that is not
// RUNNING or REBALANCING, or one made from a stream thread (a processor uses its own stores).
//
// Thread-safety: every member may be called from any thread but the instance's stream threads.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <rivulet/errors.h>
#include <rivulet/key_value.h>
#include <rivulet/state/key_value_store.h>
#include <rivulet/state/state_store.h>
#include <rivulet/state/window_store.h>
#include <rivulet/task_id.h>

namespace rivulet {

// An instance's `application.server`, host and port.
struct HostInfo {
  std::string host;
  std::uint16_t port = 0;

  bool empty() const { return host.empty(); }
  std::string to_string() const { return host + ":" + std::to_string(port); }
  friend auto operator<=>(const HostInfo&, const HostInfo&) = default;
};

// Where a key lives: the task of its partition, and the instance running that task. When no
// instance is known to run it (a rebalance in progress, or no instance has `application.server`)
// `active_host` is empty, as Kafka Streams' KeyQueryMetadata.NOT_AVAILABLE.
struct KeyQueryMetadata {
  HostInfo active_host;
  std::int32_t partition = -1;
  TaskId task;
  bool available() const { return !active_host.empty(); }
};

// One instance of the application, as the others know it (Kafka Streams' StreamsMetadata).
struct StreamsMetadata {
  HostInfo host;
  std::set<std::string> state_stores;  // stores of its tasks
  std::vector<TaskId> tasks;           // its active tasks
};

namespace detail {
// What the typed views below use of a KafkaStreams instance (it implements this).
class StoreQueries {
 public:
  virtual ~StoreQueries() = default;
  // Calls `visit` for every running local task that holds `store`, on that task's thread; calls
  // never overlap. Returns the number of tasks visited. Throws InvalidStateStoreException (see
  // the file comment) or when the threads do not answer within `timeout`.
  virtual std::size_t visit_stores(const std::string& store,
                                   const std::function<void(TaskId, StateStore&)>& visit,
                                   std::chrono::milliseconds timeout) = 0;
};

template <class Store>
Store& typed_store(StateStore& store) {
  auto* typed = dynamic_cast<Store*>(&store);
  if (typed == nullptr) {
    throw InvalidStateStoreException("store '" + store.name() +
                                     "' is not of the type the query asked for");
  }
  return *typed;
}
}  // namespace detail

// Read access to a key-value store across this instance's tasks (Kafka Streams'
// ReadOnlyKeyValueStore). Ranges and `all` give each task's entries in key order, task after
// task (keys are spread over tasks by partition, so there is no global order), as Kafka Streams'
// composite store does.
template <class K, class V>
class ReadOnlyKeyValueStore {
 public:
  ReadOnlyKeyValueStore(detail::StoreQueries& queries, std::string name,
                        std::chrono::milliseconds timeout)
      : queries_(&queries), name_(std::move(name)), timeout_(timeout) {}

  const std::string& name() const { return name_; }
  // The value of `key` in whichever local task holds it; nullopt when none does.
  std::optional<V> get(const K& key) const {
    std::optional<V> out;
    visit([&](TaskId, Store& store) {
      if (!out) out = store.get(key);
    });
    return out;
  }
  // Entries with from <= key <= to (by serialized key), at most `limit` of them.
  std::vector<KeyValue<K, V>> range(const K& from, const K& to,
                                    std::size_t limit = SIZE_MAX) const {
    return collect([&](Store& store) { return store.range(from, to); }, limit);
  }
  std::vector<KeyValue<K, V>> all(std::size_t limit = SIZE_MAX) const {
    return collect([](Store& store) { return store.all(); }, limit);
  }
  std::uint64_t approximate_num_entries() const {
    std::uint64_t total = 0;
    visit([&](TaskId, Store& store) { total += store.approximate_num_entries(); });
    return total;
  }

 private:
  using Store = KeyValueStore<K, V>;
  template <class F>
  void visit(F&& f) const {
    queries_->visit_stores(
        name_, [&](TaskId task, StateStore& store) { f(task, detail::typed_store<Store>(store)); },
        timeout_);
  }
  template <class Open>
  std::vector<KeyValue<K, V>> collect(Open open, std::size_t limit) const {
    std::vector<KeyValue<K, V>> out;
    visit([&](TaskId, Store& store) {
      auto it = open(store);
      while (out.size() < limit && it.has_next()) out.push_back(it.next());
    });
    return out;
  }

  detail::StoreQueries* queries_;
  std::string name_;
  std::chrono::milliseconds timeout_;
};

// Read access to a window store across this instance's tasks (Kafka Streams'
// ReadOnlyWindowStore).
template <class K, class V>
class ReadOnlyWindowStore {
 public:
  ReadOnlyWindowStore(detail::StoreQueries& queries, std::string name,
                      std::chrono::milliseconds timeout)
      : queries_(&queries), name_(std::move(name)), timeout_(timeout) {}

  const std::string& name() const { return name_; }
  // The value of `key` in the window starting at `window_start`.
  std::optional<V> fetch(const K& key, std::int64_t window_start) const {
    std::optional<V> out;
    visit([&](Store& store) {
      if (!out) out = store.fetch(key, window_start);
    });
    return out;
  }
  // The windows of `key` starting in [time_from, time_to], oldest first: window start -> value.
  std::vector<KeyValue<std::int64_t, V>> fetch(const K& key, std::int64_t time_from,
                                               std::int64_t time_to) const {
    std::vector<KeyValue<std::int64_t, V>> out;
    visit([&](Store& store) {
      auto found = store.fetch(key, time_from, time_to).to_vector();
      out.insert(out.end(), found.begin(), found.end());
    });
    return out;
  }
  // Every key's windows starting in [time_from, time_to], at most `limit`.
  std::vector<KeyValue<Windowed<K>, V>> fetch_all(std::int64_t time_from, std::int64_t time_to,
                                                  std::size_t limit = SIZE_MAX) const {
    std::vector<KeyValue<Windowed<K>, V>> out;
    visit([&](Store& store) {
      auto it = store.fetch_all(time_from, time_to);
      while (out.size() < limit && it.has_next()) out.push_back(it.next());
    });
    return out;
  }

 private:
  using Store = WindowStore<K, V>;
  template <class F>
  void visit(F&& f) const {
    queries_->visit_stores(
        name_, [&](TaskId, StateStore& store) { f(detail::typed_store<Store>(store)); }, timeout_);
  }

  detail::StoreQueries* queries_;
  std::string name_;
  std::chrono::milliseconds timeout_;
};

// Read access to a session store across this instance's tasks (Kafka Streams'
// ReadOnlySessionStore).
template <class K, class V>
class ReadOnlySessionStore {
 public:
  ReadOnlySessionStore(detail::StoreQueries& queries, std::string name,
                       std::chrono::milliseconds timeout)
      : queries_(&queries), name_(std::move(name)), timeout_(timeout) {}

  const std::string& name() const { return name_; }
  // Every session of `key`, by end time.
  std::vector<KeyValue<Windowed<K>, V>> fetch(const K& key) const {
    std::vector<KeyValue<Windowed<K>, V>> out;
    queries_->visit_stores(
        name_,
        [&](TaskId, StateStore& raw) {
          auto& store = detail::typed_store<SessionStore<K, V>>(raw);
          auto found = store.fetch(key).to_vector();
          out.insert(out.end(), found.begin(), found.end());
        },
        timeout_);
    return out;
  }

 private:
  detail::StoreQueries* queries_;
  std::string name_;
  std::chrono::milliseconds timeout_;
};

namespace detail {
template <class Store>
struct ReadOnlyView;
template <class K, class V>
struct ReadOnlyView<KeyValueStore<K, V>> {
  using type = ReadOnlyKeyValueStore<K, V>;
};
template <class K, class V>
struct ReadOnlyView<WindowStore<K, V>> {
  using type = ReadOnlyWindowStore<K, V>;
};
template <class K, class V>
struct ReadOnlyView<SessionStore<K, V>> {
  using type = ReadOnlySessionStore<K, V>;
};
}  // namespace detail

}  // namespace rivulet
