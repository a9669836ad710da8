// The process-wide RocksDB memory budget, shared by every RocksDB store of a KafkaStreams
// instance (Kafka Streams' BoundedMemoryRocksDBConfig recipe):
//
// - one LRU block cache of the whole budget (strict capacity limit off: an insert never fails,
//   the cache evicts unpinned blocks instead), holding data blocks, index and filter blocks (high
//   priority; those of level-0 files and the top level of partitioned ones pinned);
// - a WriteBufferManager of a third of the budget that charges every memtable to that same cache,
//   so memtables and cached blocks together stay within the budget, and makes a database being
//   written to flush a memtable once all memtables pass that third (a soft limit: memtables
//   waiting for their flush still count; small memtables keep that wait short);
// - the options every store opens its database with: our defaults (rocksdb_resources.cpp), then
//   the user's RocksDB options string on top.
//
// Thread-safe: stores of every stream thread open and close databases with it concurrently, and
// metrics read memory_usage() from any thread. It must outlive every store that uses it.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace rocksdb {
class Cache;
class DB;
class WriteBufferManager;
struct DBOptions;
struct ColumnFamilyOptions;
}  // namespace rocksdb

namespace rivulet::state {

struct RocksDbResources {
 public:
  RocksDbResources();
  ~RocksDbResources();
  RocksDbResources(const RocksDbResources&) = delete;
  RocksDbResources& operator=(const RocksDbResources&) = delete;

  // Bytes in the block cache, which include the memtables charged to it, plus the memory of the
  // open databases' table readers outside the cache (small: index and filter blocks are cached).
  std::uint64_t memory_usage() const;

  // The parts, for the metrics: the block cache's usage (memtables charged to it included), of
  // which the memtables (the write buffer manager's count) and the pinned blocks, and the table
  // readers' memory outside the cache (estimate-table-readers-mem over the open databases).
  struct MemoryBreakdown {
    std::uint64_t block_cache = 0;
    std::uint64_t memtables = 0;
    std::uint64_t pinned = 0;
    std::uint64_t table_readers = 0;
  };
  MemoryBreakdown memory_breakdown() const;

  // What the stores open with (set by make_rocksdb_resources, read-only afterwards).
  std::uint64_t budget_bytes = 0;
  std::shared_ptr<rocksdb::Cache> block_cache;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffer_manager;
  std::unique_ptr<rocksdb::DBOptions> db_options;
  std::unique_ptr<rocksdb::ColumnFamilyOptions> column_family_options;

  // Called by each database as it opens and before it closes, so memory_usage() can read it.
  void attach(rocksdb::DB* db);
  void detach(rocksdb::DB* db);

 private:
  mutable std::mutex mutex_;
  std::vector<rocksdb::DB*> databases_;
};

// Creates the resources for a budget of `rocksdb_budget_bytes`, with `user_options` (a RocksDB
// options string such as "write_buffer_size=8388608;max_write_buffer_number=2", DB and column
// family options mixed; empty for none) applied on top of our defaults. The shared cache and
// write buffer manager always stay in place, whatever the string says.
// Throws ConfigException naming the option when `user_options` does not parse or names an
// unknown option or a bad value.
std::unique_ptr<RocksDbResources> make_rocksdb_resources(std::uint64_t rocksdb_budget_bytes,
                                                         const std::string& user_options);

// The options a store's database opens with: those of `resources`, or, when it is nullptr,
// modest per-database defaults: a block cache of 4 MiB of its own, memtables of 4 MiB, at most 2
// per column family (so at most 4 MiB + 8 MiB per column family written to, table readers
// aside; a window or session store writes mostly to its latest segment).
void database_options(const RocksDbResources* resources, rocksdb::DBOptions& db,
                      rocksdb::ColumnFamilyOptions& column_family);

}  // namespace rivulet::state
