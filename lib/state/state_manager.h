// StateManager: the state of one task. It builds the task's stores from the topology, owns the
// task directory's lock, serves the stores as their StateStoreContext (changelog writes go to the
// task's RecordCollector), and keeps the changelog positions: what was restored, what was
// written, and the checkpoint file that records them at commit.
//
// Checkpoint file (`<task dir>/.checkpoint`, Kafka Streams' text layout): a version line "0", a
// count line, then "<changelog topic> <partition> <offset>" per persistent logged store, where
// offset is the last changelog offset the local store contains. Restoration resumes after it.
// The file is written (atomically, through a rename) at every commit, after the stores are
// flushed and the producer has delivered every changelog write, and on a clean close. After a
// crash the local store may hold writes past the checkpoint; replaying the changelog after the
// checkpoint writes them again, which leaves a key-value store as it was (at-least-once, as in
// Kafka Streams).
//
// Exactly-once (`Options::exactly_once`): RocksDB stores buffer their writes in memory until
// `checkpoint`, which the stream thread calls once the transaction committed; it writes them
// with their changelog offset in one atomic batch, so that the store on disk is always at a
// committed point and a crash costs only the changelog's tail, never a full restore (Kafka
// Streams wipes the store instead). A dirty close forgets the buffered writes. Restored batches
// are committed with their offsets as they are applied. The checkpoint file is read once at
// start (a store without a committed offset of its own, such as one written before under
// at-least-once, may use it) and then deleted; it is written again only by a clean close. A
// persistent store that neither has a committed offset nor is in the checkpoint is wiped before
// it is restored, since it may hold writes of aborted transactions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <rivulet/detail/task_context.h>
#include <rivulet/state/state_store.h>
#include <rivulet/state/stores.h>

#include "state/rocksdb_database.h"
#include "state/state_directory.h"

namespace spdlog {
class logger;
}

namespace rivulet::state {

class StateManager final : public StateStoreContext {
 public:
  struct Options {
    std::string application_id;
    TaskId task;
    std::int32_t partition = 0;                 // the changelog partition: the task's partition
    const StateDirectory* directory = nullptr;  // nullptr: no persistent state allowed
    RocksDbResources* rocksdb = nullptr;
    ThreadCache* cache = nullptr;
    std::function<std::int64_t()> record_timestamp;
    std::shared_ptr<spdlog::logger> logger;
    bool exactly_once = false;  // processing.guarantee=exactly_once_v2: see above
  };

  // One changelog partition to restore into a store.
  struct Changelog {
    std::string store;
    std::string topic;
    std::int32_t partition = 0;
    // The last offset the local store holds (from the checkpoint); nullopt: restore from the
    // start of the changelog.
    std::optional<std::int64_t> checkpointed;
  };

  StateManager(Options options, std::vector<const detail::StoreFactory*> stores,
               detail::RecordCollector& collector);
  ~StateManager() override;
  StateManager(const StateManager&) = delete;
  StateManager& operator=(const StateManager&) = delete;

  bool has_stores() const { return !factories_.empty(); }
  bool needs_directory() const;
  // Locks the task directory when a store is persistent. Returns false when another owner still
  // holds it (try again later). True at once when no directory is needed.
  bool try_lock();
  // Builds and initializes every store, then reads (and removes) the checkpoint.
  // REQUIRES: try_lock() returned true.
  void initialize();

  // The changelog partitions of logged stores, with where to resume.
  const std::vector<Changelog>& changelogs() const { return changelogs_; }
  // Applies restored changelog records to `store`. The batch must be in offset order.
  void restore(const std::string& store, std::span<const ChangelogRecord> batch);
  // Drops a persistent store's local content (its checkpoint no longer matches the changelog)
  // and creates it empty, to be restored from the changelog's start.
  void wipe(const std::string& store);

  StateStore* store(std::string_view name) const;
  std::vector<std::string> store_names() const;

  // What the metrics show of one open store. Read on the task's thread, like every store call.
  struct StoreStats {
    std::string name;
    // Approximate: key-value stores (RocksDB's estimate-num-keys, or the map's size), and the
    // column families of RocksDB window and session stores; nullopt for in-memory ones.
    std::optional<std::uint64_t> entries;
    // RocksDB stores: rocksdb.total-sst-files-size + rocksdb.cur-size-all-mem-tables, over the
    // store's column families; nullopt for in-memory stores.
    std::optional<std::uint64_t> size_bytes;
  };
  // The open stores' stats (none before `initialize` or after `close`).
  std::vector<StoreStats> store_stats() const;

  // Flushes every store (record caches first: that may forward records and log changes).
  void flush();
  // Writes the checkpoint with the current changelog positions (under exactly-once: commits the
  // stores' buffered writes with them). REQUIRES: flushed, and the collector has delivered
  // every changelog write (under exactly-once: in a transaction that committed).
  void checkpoint();
  // Closes the stores. `clean`: flush and write the checkpoint first. Releases the lock.
  void close(bool clean);

  // StateStoreContext
  const std::string& application_id() const override { return options_.application_id; }
  TaskId task_id() const override { return options_.task; }
  const std::filesystem::path& state_dir() const override;
  void register_store(StateStore& store, RestoreCallback restore) override;
  void log_change(const std::string& store, ByteView key, std::optional<ByteView> value) override;
  RocksDbResources* rocksdb_resources() override { return options_.rocksdb; }
  ThreadCache* cache() override { return options_.cache; }
  std::int64_t record_timestamp() const override { return options_.record_timestamp(); }

 private:
  struct Entry {
    const detail::StoreFactory* factory;
    std::unique_ptr<StateStore> store;
    RestoreCallback restore;
    std::string changelog;                 // Kafka topic; empty when not logged
    std::optional<std::int64_t> position;  // last changelog offset the store holds
    StateStore* registered = nullptr;      // the innermost store
    RocksDbDatabase* database = nullptr;   // exactly-once: its database, which buffers writes
  };

  Entry& entry(std::string_view store);
  std::map<std::string, std::int64_t> read_checkpoint();
  // The positions of the persistent logged stores, as the checkpoint file lists them.
  std::map<std::string, std::int64_t> committed_positions() const;
  void write_checkpoint(const std::map<std::string, std::int64_t>& offsets);
  std::filesystem::path checkpoint_file() const;
  void open_store(Entry& entry);

  Options options_;
  detail::RecordCollector& collector_;
  std::vector<const detail::StoreFactory*> factories_;
  std::vector<Entry> entries_;
  std::vector<Changelog> changelogs_;
  std::optional<TaskDirectoryLock> lock_;
  std::filesystem::path dir_;
  Entry* registering_ = nullptr;
  Headers no_headers_;
  bool initialized_ = false;
  bool closed_ = false;
};

}  // namespace rivulet::state
