// State stores: what every store is, the context a task gives it, and the byte-level store
// interfaces that the persistent (RocksDB) and in-memory implementations provide.
//
// Layers, as in Kafka Streams (outermost first):
//
//   KeyValueStore<K, V> / WindowStore<K, V> / SessionStore<K, V>   typed: serdes (state/*.h)
//     -> caching     merges consecutive updates of a key until commit (optional)
//     -> logging     sends every change to the store's changelog topic (optional)
//     -> bytes store RocksDB on the task's directory, or in memory
//
// Everything below the typed layer works on serialized bytes, ordered lexicographically as
// unsigned bytes: a key range is a range of serialized keys, as in Kafka Streams.
//
// A store belongs to one task and is used from that task's thread only; nothing here is
// thread-safe unless it says so.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <rivulet/key_value.h>
#include <rivulet/record.h>
#include <rivulet/task_id.h>

namespace rivulet {

namespace state {
struct RocksDbResources;  // process-wide RocksDB block cache and write buffer manager
class ThreadCache;        // the record cache shared by the tasks of one stream thread
}  // namespace state

class StateStore;

// A window of time [start, end) in milliseconds since the epoch. Session windows are inclusive
// at both ends (a session of one record has start == end), as in Kafka Streams.
struct Window {
  std::int64_t start = 0;
  std::int64_t end = 0;
  friend auto operator<=>(const Window&, const Window&) = default;
};

// A key and the window it belongs to: the key type of windowed aggregations.
template <class K>
struct Windowed {
  K key;
  Window window;
  friend auto operator<=>(const Windowed&, const Windowed&) = default;
  friend bool operator==(const Windowed&, const Windowed&) = default;
};

// One record of a store's changelog topic, as restoration hands it to the store.
struct ChangelogRecord {
  ByteView key;
  std::optional<ByteView> value;  // nullopt: a tombstone (delete)
  std::int64_t offset = 0;
  std::int64_t timestamp = 0;
};

// Applies a batch of changelog records to the store that registered it, in offset order.
using RestoreCallback = std::function<void(std::span<const ChangelogRecord> batch)>;

// What a task offers the stores it owns while they initialize and run.
class StateStoreContext {
 public:
  virtual ~StateStoreContext() = default;
  virtual const std::string& application_id() const = 0;
  virtual TaskId task_id() const = 0;
  // The task's own directory, `state.dir/<application.id>/<task>`; it exists and is locked by
  // this process for as long as the task lives here.
  virtual const std::filesystem::path& state_dir() const = 0;
  // Called once by the innermost store of each logical store from its `init`: makes the store
  // restorable. `restore` receives the changelog's records in the format the logging layer wrote.
  virtual void register_store(StateStore& store, RestoreCallback restore) = 0;
  // Called by the logging layer: appends a change of store `store` to its changelog, on the
  // task's partition, with the timestamp of the record being processed.
  virtual void log_change(const std::string& store, ByteView key,
                          std::optional<ByteView> value) = 0;
  // The process-wide RocksDB resources (shared block cache, write buffer manager, user options)
  // under the state memory budget; nullptr where none are configured (state.memory.max.bytes=0:
  // each database then gets modest defaults of its own, a 4 MiB block cache and at most two
  // 4 MiB memtables per column family).
  virtual state::RocksDbResources* rocksdb_resources() = 0;
  // The record cache of the task's thread; nullptr when caching is off (a size of 0).
  virtual state::ThreadCache* cache() = 0;
  // The timestamp of the record being processed (stream time in a punctuator): the timestamp a
  // change is logged and forwarded with.
  virtual std::int64_t record_timestamp() const = 0;
};

// A store of one task. `init` is called once before any other call, `close` once at the end;
// `flush` at every commit, before the task's offsets (and changelog positions) are committed.
class StateStore {
 public:
  virtual ~StateStore() = default;
  virtual const std::string& name() const = 0;
  virtual void init(StateStoreContext& context) = 0;
  // Makes every write so far durable in the layer below (for RocksDB: in its write-ahead log
  // or files), so that a checkpoint written after it is truthful.
  virtual void flush() = 0;
  virtual void close() = 0;
  // Whether the data survives a restart of the process (RocksDB: yes; in memory: no).
  virtual bool persistent() const = 0;
  virtual bool is_open() const = 0;
};

// A forward-only cursor over a store's entries. Iterators hold resources of the store (a RocksDB
// snapshot, for example): destroy them before the store closes.
template <class T>
class StoreIterator {
 public:
  virtual ~StoreIterator() = default;
  virtual bool has_next() = 0;
  // REQUIRES: has_next().
  virtual T next() = 0;
};

// Lexicographic order of unsigned bytes: the key order of every store.
inline int compare_bytes(ByteView a, ByteView b) {
  const std::size_t n = a.size() < b.size() ? a.size() : b.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

// ---- Byte-level stores ---------------------------------------------------------------------

// Key-value store on bytes. Changelog format: the key and value bytes as they are.
class KeyValueBytesStore : public StateStore {
 public:
  using Iterator = StoreIterator<KeyValue<Bytes, Bytes>>;

  virtual std::optional<Bytes> get(ByteView key) = 0;
  // `value` nullopt deletes the key.
  virtual void put(ByteView key, std::optional<ByteView> value) = 0;
  // Puts only when the key is absent; returns the value already there, if any.
  virtual std::optional<Bytes> put_if_absent(ByteView key, ByteView value) = 0;
  virtual void put_all(std::span<const KeyValue<Bytes, std::optional<Bytes>>> entries) = 0;
  // Deletes the key; returns its old value.
  virtual std::optional<Bytes> remove(ByteView key) = 0;
  // Entries with from <= key <= to (a missing bound is open), ascending when `forward`,
  // descending otherwise. from > to gives an empty iterator.
  virtual std::unique_ptr<Iterator> range(std::optional<ByteView> from, std::optional<ByteView> to,
                                          bool forward) = 0;
  std::unique_ptr<Iterator> all(bool forward = true) {
    return range(std::nullopt, std::nullopt, forward);
  }
  // Entries whose key starts with `prefix`, ascending.
  virtual std::unique_ptr<Iterator> prefix_scan(ByteView prefix) = 0;
  // An estimate of the number of keys (RocksDB's estimate; exact in memory).
  virtual std::uint64_t approximate_num_entries() = 0;
};

// One entry of a window store: a key, the start of its window, a value.
struct WindowBytesEntry {
  Bytes key;
  std::int64_t window_start = 0;
  Bytes value;
  friend bool operator==(const WindowBytesEntry&, const WindowBytesEntry&) = default;
};

// Window store on bytes, segmented by time: entries older than the retention period (behind the
// largest window start put so far) are not returned and their segments are dropped.
// With `retain_duplicates` (stream-stream joins), every put adds an entry, even for the same key
// and window start; without, a put replaces the entry of that key and window start.
// Changelog format: key = [key bytes][window start, 8 bytes big-endian][sequence number, 4 bytes
// big-endian, 0 unless retaining duplicates]; value = the value bytes.
class WindowBytesStore : public StateStore {
 public:
  using Iterator = StoreIterator<WindowBytesEntry>;

  virtual std::int64_t window_size() const = 0;
  virtual std::int64_t retention_period() const = 0;
  virtual bool retain_duplicates() const = 0;

  // `value` nullopt deletes (without retain_duplicates; with it, nullopt is ignored).
  virtual void put(ByteView key, std::optional<ByteView> value, std::int64_t window_start) = 0;
  virtual std::optional<Bytes> fetch(ByteView key, std::int64_t window_start) = 0;
  // Entries of `key` with time_from <= window start <= time_to, by window start.
  virtual std::unique_ptr<Iterator> fetch(ByteView key, std::int64_t time_from,
                                          std::int64_t time_to, bool forward) = 0;
  // Entries with key_from <= key <= key_to (open when absent) and time_from <= window start <=
  // time_to. Each key's entries come in window-start order (reversed when !forward); how
  // different keys interleave is unspecified, as in Kafka Streams.
  virtual std::unique_ptr<Iterator> fetch_range(std::optional<ByteView> key_from,
                                                std::optional<ByteView> key_to,
                                                std::int64_t time_from, std::int64_t time_to,
                                                bool forward) = 0;
  // Every key's entries with time_from <= window start <= time_to (order as fetch_range).
  virtual std::unique_ptr<Iterator> fetch_all(std::int64_t time_from, std::int64_t time_to,
                                              bool forward) = 0;
  std::unique_ptr<Iterator> all(bool forward = true) {
    return fetch_all(std::numeric_limits<std::int64_t>::min(),
                     std::numeric_limits<std::int64_t>::max(), forward);
  }
};

// One session: a key, its first and last record's timestamps, a value.
struct SessionBytesEntry {
  Bytes key;
  std::int64_t start = 0;
  std::int64_t end = 0;
  Bytes value;
  friend bool operator==(const SessionBytesEntry&, const SessionBytesEntry&) = default;
};

// Session store on bytes, segmented by session end, with a retention period like a window
// store's. Changelog format: key = [key bytes][end, 8 bytes big-endian][start, 8 bytes
// big-endian]; value = the value bytes.
class SessionBytesStore : public StateStore {
 public:
  using Iterator = StoreIterator<SessionBytesEntry>;

  virtual std::int64_t retention_period() const = 0;

  // `value` nullopt removes the session.
  virtual void put(ByteView key, std::int64_t start, std::int64_t end,
                   std::optional<ByteView> value) = 0;
  void remove(ByteView key, std::int64_t start, std::int64_t end) {
    put(key, start, end, std::nullopt);
  }
  virtual std::optional<Bytes> fetch_session(ByteView key, std::int64_t start,
                                             std::int64_t end) = 0;
  // Sessions of `key` that end at or after `earliest_end` and start at or before `latest_start`
  // (the sessions a record at time t with gap g may merge with: earliest_end = t - g,
  // latest_start = t + g), by end time then start time (reversed when !forward).
  virtual std::unique_ptr<Iterator> find_sessions(ByteView key, std::int64_t earliest_end,
                                                  std::int64_t latest_start, bool forward) = 0;
  // The same over a key range (open when absent); each key's sessions in the order above, the
  // interleaving of different keys unspecified.
  virtual std::unique_ptr<Iterator> find_sessions_range(std::optional<ByteView> key_from,
                                                        std::optional<ByteView> key_to,
                                                        std::int64_t earliest_end,
                                                        std::int64_t latest_start,
                                                        bool forward) = 0;
};

}  // namespace rivulet
