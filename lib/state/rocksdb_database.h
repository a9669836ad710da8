// One store's RocksDB database and its column families. A key-value store uses the default
// column family; a window or session store one column family per segment. Writes go through the
// write-ahead log, which stays in RocksDB's buffer until `flush_wal` hands it to the OS (the
// store's flush, at commit): a process crash loses only what was written since.
//
// Exactly-once (crash-safe state): after `buffer_writes`, writes stay in memory, per column
// family, where reads and iterators see them, and segments dropped meanwhile stay in RocksDB.
// `commit` then writes them, with the changelog offset they reach, in one atomic WriteBatch
// (and drops the segments), so the database on disk is always at a committed point: after a
// crash, restoration replays only the changelog after that offset. `discard` (an aborted
// transaction, a dirty close) forgets them. The offset lives in a column family of its own,
// "rivulet-committed", which `column_family_names` does not list.
// Not thread-safe, like the store that owns it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "state/bytes_map.h"
#include "state/in_memory_bytes_map.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class WriteBatch;
struct ColumnFamilyOptions;
}  // namespace rocksdb

namespace rivulet::state {

struct RocksDbResources;

// A column family as a BytesMap. Owns its handle; the database must outlive it (stores release
// every column family, and their iterators every reference, before closing the database).
class RocksDbColumnFamily final : public BytesMap {
 public:
  // `buffering` belongs to the database: while true, writes wait in this column family's buffer.
  RocksDbColumnFamily(std::string store, rocksdb::DB* db, rocksdb::ColumnFamilyHandle* handle,
                      const bool* buffering);
  ~RocksDbColumnFamily() override;
  RocksDbColumnFamily(const RocksDbColumnFamily&) = delete;
  RocksDbColumnFamily& operator=(const RocksDbColumnFamily&) = delete;

  std::optional<Bytes> get(ByteView key) override;
  void put(ByteView key, std::optional<ByteView> value) override;
  void write(std::span<const BytesWrite> writes) override;
  // A RocksDB iterator: a consistent view of the column family as it was when created.
  std::unique_ptr<Iterator> range(const KeyBounds& bounds, bool forward) override;
  // RocksDB's "rocksdb.estimate-num-keys".
  std::uint64_t approximate_num_entries() override;

  rocksdb::ColumnFamilyHandle* handle() const { return handle_; }
  // The buffered writes: added to `batch`, or forgotten.
  void append_buffered(rocksdb::WriteBatch& batch) const;
  void clear_buffered() { buffered_.clear(); }
  std::size_t buffered() const { return buffered_.size(); }

 private:
  std::string store_;
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* handle_;
  const bool* buffering_;
  std::map<Bytes, std::optional<Bytes>, BytesLess> buffered_;  // nullopt: a delete
};

class RocksDbDatabase {
 public:
  // Opens (creating when missing) the database of store `store` at `path`, with every column
  // family it has, using `resources` (nullptr: per-database defaults, see database_options).
  // Throws StreamsException naming the store and the path when RocksDB cannot open it, for
  // example because another process or store has it open.
  RocksDbDatabase(std::string store, std::filesystem::path path, RocksDbResources* resources);
  ~RocksDbDatabase();
  RocksDbDatabase(const RocksDbDatabase&) = delete;
  RocksDbDatabase& operator=(const RocksDbDatabase&) = delete;

  // The names of the column families other than the default one.
  std::vector<std::string> column_family_names() const;
  std::shared_ptr<RocksDbColumnFamily> default_column_family();
  // The column family `name`, created when missing.
  std::shared_ptr<RocksDbColumnFamily> column_family(const std::string& name);
  // Drops the column family `name` and its data (RocksDB deletes its files once the last
  // reference to it is released).
  void drop_column_family(const std::string& name);
  // Writes the WAL's buffer to the OS (no fsync): what a crash of the process needs.
  void flush_wal();

  // Exactly-once: keeps writes (and segment drops) in memory from now on, until `commit`.
  void buffer_writes() { buffering_ = true; }
  // The changelog offset stored by the last commit that gave one; nullopt when none did.
  std::optional<std::int64_t> committed_offset();
  // Writes the buffered writes and `changelog_offset` (when given) atomically, drops the
  // segments dropped meanwhile, and hands the WAL to the OS.
  void commit(std::optional<std::int64_t> changelog_offset);
  // Forgets the buffered writes and drops.
  void discard();
  // Writes waiting for `commit`.
  std::size_t buffered_writes() const;
  // An integer property of RocksDB's (such as "rocksdb.estimate-num-keys"), summed over the
  // store's column families (Rivulet's own "rivulet-committed" aside); 0 when closed.
  std::uint64_t int_property(const std::string& property) const;
  // Releases the column families and closes the database. Idempotent.
  void close();

 private:
  std::string store_;
  std::filesystem::path path_;
  RocksDbResources* resources_;
  std::unique_ptr<rocksdb::ColumnFamilyOptions> column_family_options_;
  std::unique_ptr<rocksdb::DB> db_;
  bool buffering_ = false;
  std::map<std::string, std::shared_ptr<RocksDbColumnFamily>> column_families_;
  std::map<std::string, std::shared_ptr<RocksDbColumnFamily>> pending_drops_;
};

// Implemented by the innermost stores kept in RocksDB, so that the task's state manager can
// buffer their writes under exactly-once.
class RocksDbBacked {
 public:
  virtual ~RocksDbBacked() = default;
  // The store's open database; nullptr when closed or not in RocksDB.
  virtual RocksDbDatabase* database() = 0;
};

}  // namespace rivulet::state
