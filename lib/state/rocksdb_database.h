// One store's RocksDB database and its column families. A key-value store uses the default
// column family; a window or session store one column family per segment. Writes go through the
// write-ahead log, which stays in RocksDB's buffer until `flush_wal` hands it to the OS (the
// store's flush, at commit): a process crash loses only what was written since.
// Not thread-safe, like the store that owns it.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "state/bytes_map.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
struct ColumnFamilyOptions;
}  // namespace rocksdb

namespace rivulet::state {

struct RocksDbResources;

// A column family as a BytesMap. Owns its handle; the database must outlive it (stores release
// every column family, and their iterators every reference, before closing the database).
class RocksDbColumnFamily final : public BytesMap {
 public:
  RocksDbColumnFamily(std::string store, rocksdb::DB* db, rocksdb::ColumnFamilyHandle* handle);
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

 private:
  std::string store_;
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* handle_;
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
  // Releases the column families and closes the database. Idempotent.
  void close();

 private:
  std::string store_;
  std::filesystem::path path_;
  RocksDbResources* resources_;
  std::unique_ptr<rocksdb::ColumnFamilyOptions> column_family_options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::map<std::string, std::shared_ptr<RocksDbColumnFamily>> column_families_;
};

}  // namespace rivulet::state
