#include "state/rocksdb_resources.h"

#include <algorithm>
#include <unordered_map>

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_buffer_manager.h>

#include <rivulet/errors.h>

namespace rivulet::state {

namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1024} * 1024;

// Options common to every store's database, with or without a shared budget.
void common_options(rocksdb::DBOptions& db, rocksdb::ColumnFamilyOptions& column_family) {
  db.create_if_missing = true;
  db.create_missing_column_families = true;
  // RocksDB's LOG files: enough to diagnose, not a growing pile per store.
  db.keep_log_file_num = 2;
  db.max_log_file_size = 1 * kMiB;
  // The write-ahead log stays in RocksDB's buffer (up to writable_file_max_buffer_size) until the
  // store's flush at commit hands it to the OS, before the checkpoint names the offset: a write
  // syscall per commit rather than per put. A process that crashes between commits loses the
  // writes since the last one, which the changelog replays past the checkpoint.
  db.manual_wal_flush = true;
  column_family.max_write_buffer_number = 2;
}

rocksdb::BlockBasedTableOptions budget_table_options(std::shared_ptr<rocksdb::Cache> cache,
                                                     rocksdb::BlockBasedTableOptions table) {
  table.block_cache = std::move(cache);
  table.no_block_cache = false;
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  return table;
}

// Cache shards of at least 32 MiB: a shard evicts on its own, so with many small shards a few of
// them holding pinned memtable charges push the total past the capacity.
int shard_bits(std::uint64_t capacity) {
  int bits = 0;
  while (bits < 6 && (capacity >> (bits + 1)) >= 32 * kMiB) ++bits;
  return bits;
}

// Applies one `name=value` of the user's string to the column family options or else to the DB
// options; throws ConfigException when neither takes it.
void apply_user_option(const std::string& name, const std::string& value, const std::string& all,
                       rocksdb::DBOptions& db, rocksdb::ColumnFamilyOptions& column_family) {
  rocksdb::ConfigOptions config;
  config.ignore_unknown_options = false;
  config.input_strings_escaped = false;
  const std::unordered_map<std::string, std::string> one{{name, value}};
  rocksdb::ColumnFamilyOptions new_column_family;
  const rocksdb::Status cf_status =
      rocksdb::GetColumnFamilyOptionsFromMap(config, column_family, one, &new_column_family);
  if (cf_status.ok()) {
    column_family = new_column_family;
    return;
  }
  rocksdb::DBOptions new_db;
  const rocksdb::Status db_status = rocksdb::GetDBOptionsFromMap(config, db, one, &new_db);
  if (db_status.ok()) {
    db = new_db;
    return;
  }
  const bool unknown = cf_status.IsNotFound() && db_status.IsNotFound();
  const rocksdb::Status& reason = cf_status.IsNotFound() ? db_status : cf_status;
  throw ConfigException(
      "Invalid RocksDB option '" + name + "=" + value + "' in rocksdb options \"" + all +
      "\": " + (unknown ? std::string("no such DB or column family option") : reason.ToString()));
}

}  // namespace

RocksDbResources::RocksDbResources() = default;
RocksDbResources::~RocksDbResources() = default;

std::uint64_t RocksDbResources::memory_usage() const {
  std::uint64_t usage = block_cache ? block_cache->GetUsage() : 0;
  const std::lock_guard lock(mutex_);
  for (rocksdb::DB* db : databases_) {
    std::uint64_t readers = 0;
    if (db->GetAggregatedIntProperty(rocksdb::DB::Properties::kEstimateTableReadersMem, &readers)) {
      usage += readers;
    }
  }
  return usage;
}

RocksDbResources::MemoryBreakdown RocksDbResources::memory_breakdown() const {
  MemoryBreakdown memory;
  if (block_cache) {
    memory.block_cache = block_cache->GetUsage();
    memory.pinned = block_cache->GetPinnedUsage();
  }
  if (write_buffer_manager) memory.memtables = write_buffer_manager->memory_usage();
  const std::lock_guard lock(mutex_);
  for (rocksdb::DB* db : databases_) {
    std::uint64_t readers = 0;
    if (db->GetAggregatedIntProperty(rocksdb::DB::Properties::kEstimateTableReadersMem, &readers)) {
      memory.table_readers += readers;
    }
  }
  return memory;
}

void RocksDbResources::attach(rocksdb::DB* db) {
  const std::lock_guard lock(mutex_);
  databases_.push_back(db);
}

void RocksDbResources::detach(rocksdb::DB* db) {
  const std::lock_guard lock(mutex_);
  std::erase(databases_, db);
}

std::unique_ptr<RocksDbResources> make_rocksdb_resources(std::uint64_t rocksdb_budget_bytes,
                                                         const std::string& user_options) {
  auto resources = std::make_unique<RocksDbResources>();
  resources->budget_bytes = rocksdb_budget_bytes;

  rocksdb::LRUCacheOptions cache_options;
  cache_options.capacity = rocksdb_budget_bytes;
  cache_options.num_shard_bits = shard_bits(rocksdb_budget_bytes);
  cache_options.strict_capacity_limit = false;
  cache_options.high_pri_pool_ratio = 0.1;  // index and filter blocks
  resources->block_cache = rocksdb::NewLRUCache(cache_options);
  const std::uint64_t memtable_budget = rocksdb_budget_bytes / 3;
  resources->write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(memtable_budget, resources->block_cache);

  auto db = std::make_unique<rocksdb::DBOptions>();
  auto column_family = std::make_unique<rocksdb::ColumnFamilyOptions>();
  common_options(*db, *column_family);
  // Memtables of an eighth of the memtable budget (256 KiB to 16 MiB). The write buffer manager
  // only flushes the memtable of a database being written to, and memtables waiting for their
  // flush still count: small ones switch and flush on their own early, which keeps their total
  // near the memtable budget even when writes outpace the flushes. (A memtable's arena also
  // grows in blocks of write_buffer_size / 8, each charged in full.)
  column_family->write_buffer_size =
      std::clamp<std::uint64_t>(memtable_budget / 8, kMiB / 4, 16 * kMiB);
  rocksdb::BlockBasedTableOptions table;
  // Partitioned index and filters: only their top level stays pinned in the cache.
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.pin_top_level_index_and_filter = true;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  column_family->table_factory.reset(
      rocksdb::NewBlockBasedTableFactory(budget_table_options(resources->block_cache, table)));

  if (!user_options.empty()) {
    std::unordered_map<std::string, std::string> entries;
    const rocksdb::Status parsed = rocksdb::StringToMap(user_options, &entries);
    if (!parsed.ok()) {
      throw ConfigException("Invalid rocksdb options \"" + user_options +
                            "\" (expected name=value;name=value): " + parsed.ToString());
    }
    for (const auto& [name, value] : entries) {
      apply_user_option(name, value, user_options, *db, *column_family);
    }
    // Whatever the string changed in the table options, the blocks stay in the shared cache.
    if (const auto* user_table =
            column_family->table_factory->GetOptions<rocksdb::BlockBasedTableOptions>()) {
      column_family->table_factory.reset(rocksdb::NewBlockBasedTableFactory(
          budget_table_options(resources->block_cache, *user_table)));
    }
  }
  db->write_buffer_manager = resources->write_buffer_manager;
  db->create_if_missing = true;
  db->create_missing_column_families = true;
  resources->db_options = std::move(db);
  resources->column_family_options = std::move(column_family);
  return resources;
}

void database_options(const RocksDbResources* resources, rocksdb::DBOptions& db,
                      rocksdb::ColumnFamilyOptions& column_family) {
  if (resources != nullptr) {
    db = *resources->db_options;
    column_family = *resources->column_family_options;
    return;
  }
  db = rocksdb::DBOptions();
  column_family = rocksdb::ColumnFamilyOptions();
  common_options(db, column_family);
  column_family.write_buffer_size = 4 * kMiB;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(4 * kMiB);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  column_family.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
}

}  // namespace rivulet::state
