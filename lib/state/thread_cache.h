// The record cache of one stream thread (Kafka Streams' ThreadCache, `statestore.cache.max.bytes`
// divided among the threads), shared by the caching layers of all the thread's stores.
//
// The cache holds one *named cache* per cached store of a task (`cache_name(task, store)`). An
// entry maps serialized key bytes to a value (nullopt: a delete not yet written below), a dirty
// flag and the timestamp of the record that wrote it. Each named cache keeps its entries in LRU
// order and its dirty keys in the order they were last written (Kafka Streams' dirty-key set:
// writing a dirty key again moves it to the end).
//
// Capacity is in bytes, counted as `entry_size(key, value)` per entry. When a write takes the
// total over capacity, least-recently-used entries *of the named cache being written* are evicted
// until the total fits or that named cache is empty; so a task's writes never make another task
// flush, as in Kafka Streams. Evicting a dirty entry hands that entry alone to the listener
// (Kafka Streams' NamedCache flushes the whole named cache then: measured far slower when the
// working set is just over capacity, docs/benchmarks.md).
//
// A flush hands the dirty entries to the named cache's flush listener (copies: the listener may
// write to the cache again) and marks them clean; deletes that were flushed then leave the cache.
//
// Used from its stream thread only: nothing here is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <rivulet/key_value.h>
#include <rivulet/record.h>
#include <rivulet/state/state_store.h>
#include <rivulet/task_id.h>

namespace rivulet::state {

class ThreadCache {
 public:
  // Bytes an entry costs besides its key and value: its map node, LRU and dirty-list links and
  // allocator headers with libstdc++ on 64-bit (about 176 bytes clean, 208 dirty).
  static constexpr std::uint64_t kEntryOverhead = 192;
  static constexpr std::uint64_t entry_size(std::size_t key_size, std::size_t value_size) {
    return key_size + value_size + kEntryOverhead;
  }

  // A cached entry as `get` shows it.
  struct Entry {
    std::optional<Bytes> value;  // nullopt: a delete not yet flushed
    bool dirty = false;
    std::int64_t timestamp = 0;  // of the record that wrote it (0 for entries read through)
  };

  // One entry a flush hands to the listener.
  struct DirtyEntry {
    Bytes key;
    std::optional<Bytes> value;  // nullopt: delete
    std::int64_t timestamp = 0;
  };
  // Receives the dirty entries of one flush (or eviction), in dirty order. It may use the cache,
  // the same named cache included.
  using FlushListener = std::function<void(std::span<const DirtyEntry> entries)>;

  // Counters, for metrics. `size_bytes` and `entries` are current values, the others totals.
  struct Stats {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t evictions = 0;
    std::uint64_t flushes = 0;  // flushes that handed at least one entry to a listener
    std::uint64_t size_bytes = 0;
    std::uint64_t entries = 0;
  };

  explicit ThreadCache(std::uint64_t max_bytes) : max_bytes_(max_bytes) {}
  ~ThreadCache() = default;
  ThreadCache(const ThreadCache&) = delete;
  ThreadCache& operator=(const ThreadCache&) = delete;

  // "<task>-<store>", as Kafka Streams names them.
  static std::string cache_name(const TaskId& task, std::string_view store);

  // Creates the named cache with its flush listener, or replaces the listener of an existing one.
  void add_named_cache(const std::string& name, FlushListener listener);
  bool has_named_cache(std::string_view name) const;
  // Drops the named cache and its entries without flushing them.
  void close(std::string_view name);
  // Drops every named cache of `task` without flushing: for a task closed without a commit, before
  // its stores are closed (their close then has nothing left to flush).
  void close_task(const TaskId& task);

  // The entry of `key`, or nullptr (a miss; also when the named cache does not exist). A hit
  // makes the entry the most recently used. The pointer is valid until the next call that
  // changes the cache.
  const Entry* get(std::string_view name, ByteView key);

  // Writes a dirty entry (`value` nullopt: a delete), then evicts as the header says.
  // REQUIRES: the named cache exists.
  void put(std::string_view name, ByteView key, std::optional<ByteView> value,
           std::int64_t timestamp);
  // Writes a clean entry: a value read from the store below, cached for the next read.
  // REQUIRES: the named cache exists and holds no dirty entry for `key`.
  void put_clean(std::string_view name, ByteView key, ByteView value);

  // Copies of the entries with from <= key <= to (a missing bound is open), ascending; empty when
  // from > to. Neither counts as a read nor changes the LRU order.
  std::vector<KeyValue<Bytes, std::optional<Bytes>>> range(std::string_view name,
                                                           std::optional<ByteView> from,
                                                           std::optional<ByteView> to) const;
  // Copies of the entries whose key starts with `prefix`, ascending.
  std::vector<KeyValue<Bytes, std::optional<Bytes>>> prefix_scan(std::string_view name,
                                                                 ByteView prefix) const;

  // Hands the named cache's dirty entries to its listener and marks them clean. Nothing when the
  // named cache does not exist or has no dirty entry.
  void flush(std::string_view name);

  // Changes the capacity. Shrinking evicts at once, taking one entry from each named cache in
  // turn (Kafka Streams' resize), which may flush any named cache.
  void resize(std::uint64_t max_bytes);

  std::uint64_t max_bytes() const { return max_bytes_; }
  std::uint64_t size_bytes() const { return stats_.size_bytes; }
  const Stats& stats() const { return stats_; }
  // The counters of one named cache (all zero when it does not exist).
  Stats stats(std::string_view name) const;

 private:
  struct BytesLess {
    using is_transparent = void;
    bool operator()(ByteView a, ByteView b) const { return compare_bytes(a, b) < 0; }
  };
  struct Node;
  using NodeList = std::list<Node*>;
  struct Node {
    const Bytes* key = nullptr;  // the map's own key
    Entry entry;
    NodeList::iterator lru;
    NodeList::iterator dirty_position;  // valid while entry.dirty
  };
  struct NamedCache {
    std::string name;
    FlushListener listener;
    std::map<Bytes, Node, BytesLess> entries;
    NodeList lru;    // least recently used first
    NodeList dirty;  // in dirty order
    Stats stats;
  };
  using Caches = std::map<std::string, NamedCache, std::less<>>;

  NamedCache& named_cache(std::string_view name);
  const NamedCache* find_named_cache(std::string_view name) const;
  Node& write(NamedCache& cache, ByteView key, std::optional<ByteView> value,
              std::int64_t timestamp, bool dirty);
  void add_size(NamedCache& cache, std::int64_t delta);
  void maybe_evict(std::string_view name);
  void evict_one(NamedCache& cache);
  void flush(NamedCache& cache, std::optional<DirtyEntry> evicted);

  std::uint64_t max_bytes_;
  Caches caches_;
  Stats stats_;
};

}  // namespace rivulet::state
