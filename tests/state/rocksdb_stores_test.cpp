// What only the RocksDB stores do: persistence across close and reopen, exclusive opening,
// segments as column families, and the shared resources and their options string.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rivulet/errors.h>

#include "state/bytes_stores.h"
#include "state/rocksdb_resources.h"
#include "test_store_context.h"

namespace rivulet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using testing_support::TempDir;
using testing_support::TestStoreContext;

Bytes b(std::string_view text) {
  return to_bytes(text);
}

std::optional<std::string> text(const std::optional<Bytes>& bytes) {
  if (!bytes) return std::nullopt;
  return to_string(*bytes);
}

// The column families of the database at `path`, read from its files.
std::vector<std::string> column_families(const std::filesystem::path& path) {
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path.string(), &names).ok());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> window_entries(WindowBytesStore& store) {
  std::vector<std::string> out;
  auto it = store.all();
  while (it->has_next()) {
    WindowBytesEntry entry = it->next();
    out.push_back(to_string(entry.key) + "@" + std::to_string(entry.window_start) + "=" +
                  to_string(entry.value));
  }
  return out;
}

TEST(RocksDbKeyValueStoreTest, LivesInStateDirRocksdbName) {
  TempDir dir;
  TestStoreContext context(dir.path());
  auto store = state::make_rocksdb_key_value_store("counts");
  store->init(context);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "rocksdb" / "counts" / "CURRENT"));
  store->close();
  EXPECT_FALSE(store->is_open());
}

TEST(RocksDbKeyValueStoreTest, DataSurvivesCloseAndReopen) {
  TempDir dir;
  {
    TestStoreContext context(dir.path());
    auto store = state::make_rocksdb_key_value_store("kv");
    store->init(context);
    store->put(b("a"), b("1"));
    store->put(b("b"), b("2"));
    store->remove(b("b"));
    store->flush();
    store->close();
  }
  TestStoreContext context(dir.path());
  auto store = state::make_rocksdb_key_value_store("kv");
  store->init(context);
  EXPECT_EQ(text(store->get(b("a"))), "1");
  EXPECT_EQ(store->get(b("b")), std::nullopt);
  store->close();
}

// The WAL holds what was written up to the last flush (the commit, which then checkpoints): a
// process that dies after it without close (a crash) keeps those writes. The child process
// writes, flushes, writes again and exits at once, running no destructor; what it wrote after the
// flush may be lost, as the changelog past the checkpoint replays it.
TEST(RocksDbKeyValueStoreTest, FlushedWritesSurviveAProcessCrash) {
  TempDir dir;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    TestStoreContext context(dir.path());
    auto store = state::make_rocksdb_key_value_store("kv");
    store->init(context);
    store->put(b("a"), b("1"));
    std::vector<KeyValue<Bytes, std::optional<Bytes>>> batch{{b("b"), b("2")}};
    store->put_all(batch);
    store->flush();
    store->put(b("c"), b("3"));
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  TestStoreContext context(dir.path());
  auto store = state::make_rocksdb_key_value_store("kv");
  store->init(context);
  EXPECT_EQ(text(store->get(b("a"))), "1");
  EXPECT_EQ(text(store->get(b("b"))), "2");
  store->close();
}

TEST(RocksDbKeyValueStoreTest, OpeningTheSameDirectoryTwiceFailsClearly) {
  TempDir dir;
  TestStoreContext context(dir.path());
  auto first = state::make_rocksdb_key_value_store("kv");
  first->init(context);
  auto second = state::make_rocksdb_key_value_store("kv");
  try {
    second->init(context);
    FAIL() << "the second open succeeded";
  } catch (const StreamsException& e) {
    EXPECT_THAT(e.what(), HasSubstr("'kv'"));
    EXPECT_THAT(e.what(), HasSubstr((dir.path() / "rocksdb" / "kv").string()));
    EXPECT_THAT(e.what(), HasSubstr("open already"));
  }
  EXPECT_FALSE(second->is_open());
  first->put(b("a"), b("1"));  // the first is unaffected
  EXPECT_EQ(text(first->get(b("a"))), "1");
  first->close();
  second->init(context);  // free again
  EXPECT_EQ(text(second->get(b("a"))), "1");
  second->close();
}

TEST(RocksDbWindowStoreTest, SegmentsAreColumnFamiliesDroppedWhenExpired) {
  TempDir dir;
  TestStoreContext context(dir.path());
  const auto path = dir.path() / "rocksdb" / "windows";
  auto store = state::make_rocksdb_window_store("windows", 100, 10, false, 50);
  store->init(context);
  store->put(b("a"), b("0"), 0);      // segment 0
  store->put(b("a"), b("60"), 60);    // segment 1
  store->put(b("a"), b("120"), 120);  // segment 2; stream time 120: segment 0 still holds 20
  EXPECT_THAT(column_families(path), ElementsAre("default", "segment-0", "segment-1", "segment-2"));
  store->put(b("a"), b("160"), 160);  // last expired time 60: segment 0 goes, 1 stays
  EXPECT_THAT(column_families(path), ElementsAre("default", "segment-1", "segment-2", "segment-3"));
  EXPECT_THAT(window_entries(*store), ElementsAre("a@120=120", "a@160=160"));
  store->put(b("a"), b("1000"), 1000);
  EXPECT_THAT(column_families(path), ElementsAre("default", "segment-20"));
  store->close();
}

TEST(RocksDbWindowStoreTest, DataSegmentsAndStreamTimeSurviveReopen) {
  TempDir dir;
  const auto path = dir.path() / "rocksdb" / "windows";
  {
    TestStoreContext context(dir.path());
    auto store = state::make_rocksdb_window_store("windows", 100, 10, true, 50);
    store->init(context);
    store->put(b("a"), b("x"), 40);
    store->put(b("a"), b("y"), 40);
    store->put(b("b"), b("z"), 130);  // stream time 130: 40 is still live
    store->close();
  }
  TestStoreContext context(dir.path());
  auto store = state::make_rocksdb_window_store("windows", 100, 10, true, 50);
  store->init(context);
  EXPECT_THAT(column_families(path), ElementsAre("default", "segment-0", "segment-2"));
  EXPECT_THAT(window_entries(*store), UnorderedElementsAre("a@40=x", "a@40=y", "b@130=z"));
  // The sequence numbers go on where they stopped: a new duplicate overwrites none.
  store->put(b("a"), b("w"), 40);
  EXPECT_THAT(window_entries(*store),
              UnorderedElementsAre("a@40=x", "a@40=y", "a@40=w", "b@130=z"));
  // Stream time came back too: this put expires 40 at once.
  store->put(b("b"), b("late"), 141);
  EXPECT_THAT(window_entries(*store), UnorderedElementsAre("b@130=z", "b@141=late"));
  store->close();
}

TEST(RocksDbWindowStoreTest, AnotherSegmentIntervalIsRefused) {
  TempDir dir;
  TestStoreContext context(dir.path());
  auto store = state::make_rocksdb_window_store("windows", 100, 10, false, 50);
  store->init(context);
  store->close();
  auto other = state::make_rocksdb_window_store("windows", 100, 10, false, 60);
  EXPECT_THROW(other->init(context), StreamsException);
  EXPECT_FALSE(other->is_open());
  store->init(context);  // the database was released
  store->close();
}

TEST(RocksDbWindowStoreTest, OpeningTheSameDirectoryTwiceFailsClearly) {
  TempDir dir;
  TestStoreContext context(dir.path());
  auto first = state::make_rocksdb_window_store("windows", 100, 10, false, 50);
  first->init(context);
  auto second = state::make_rocksdb_window_store("windows", 100, 10, false, 50);
  EXPECT_THROW(second->init(context), StreamsException);
  first->close();
}

TEST(RocksDbSessionStoreTest, DataAndSegmentsSurviveReopen) {
  TempDir dir;
  {
    TestStoreContext context(dir.path());
    auto store = state::make_rocksdb_session_store("sessions", 1000, 100);
    store->init(context);
    store->put(b("a"), 0, 10, b("1"));
    store->put(b("a"), 300, 350, b("2"));
    store->flush();
    store->close();
  }
  TestStoreContext context(dir.path());
  auto store = state::make_rocksdb_session_store("sessions", 1000, 100);
  store->init(context);
  EXPECT_THAT(column_families(dir.path() / "rocksdb" / "sessions"),
              ElementsAre("default", "segment-0", "segment-3"));
  EXPECT_EQ(text(store->fetch_session(b("a"), 0, 10)), "1");
  EXPECT_EQ(text(store->fetch_session(b("a"), 300, 350)), "2");
  store->put(b("b"), 1200, 1200, b("3"));  // drops the segment of end 10
  EXPECT_THAT(column_families(dir.path() / "rocksdb" / "sessions"),
              ElementsAre("default", "segment-12", "segment-3"));
  store->close();
}

// A segment dropped while an iterator reads it stays readable until the iterator is destroyed.
TEST(RocksDbWindowStoreTest, IteratorOutlivesTheDropOfItsSegment) {
  TempDir dir;
  TestStoreContext context(dir.path());
  auto store = state::make_rocksdb_window_store("windows", 100, 10, false, 50);
  store->init(context);
  store->put(b("a"), b("0"), 0);
  store->put(b("b"), b("1"), 1);
  auto it = store->all();
  ASSERT_TRUE(it->has_next());
  EXPECT_EQ(to_string(it->next().key), "a");
  store->put(b("c"), b("late"), 1000);  // drops segment 0
  ASSERT_TRUE(it->has_next());
  EXPECT_EQ(to_string(it->next().key), "b");
  EXPECT_FALSE(it->has_next());
  it.reset();
  store->close();
}

TEST(RocksDbResourcesTest, StoresUseTheSharedCache) {
  TempDir dir;
  auto resources = state::make_rocksdb_resources(16 << 20, "");
  EXPECT_EQ(resources->budget_bytes, 16u << 20);
  TestStoreContext context(dir.path(), resources.get());
  auto store = state::make_rocksdb_key_value_store("kv");
  store->init(context);
  const std::uint64_t before = resources->memory_usage();
  for (int i = 0; i < 1000; ++i) store->put(b("key-" + std::to_string(i)), Bytes(1000, 7));
  // The memtable is charged to the shared cache through the write buffer manager.
  EXPECT_GT(resources->memory_usage(), before);
  store->close();
}

TEST(RocksDbResourcesTest, AppliesTheUserOptionsString) {
  auto resources = state::make_rocksdb_resources(
      64 << 20, "write_buffer_size=8388608;max_write_buffer_number=3;max_background_jobs=3");
  EXPECT_EQ(resources->column_family_options->write_buffer_size, 8388608u);
  EXPECT_EQ(resources->column_family_options->max_write_buffer_number, 3);
  EXPECT_EQ(resources->db_options->max_background_jobs, 3);
  EXPECT_EQ(resources->db_options->write_buffer_manager, resources->write_buffer_manager);
  TempDir dir;
  TestStoreContext context(dir.path(), resources.get());
  auto store = state::make_rocksdb_key_value_store("kv");
  store->init(context);
  store->put(b("a"), b("1"));
  EXPECT_EQ(text(store->get(b("a"))), "1");
  store->close();
}

TEST(RocksDbResourcesTest, TableOptionsFromTheStringKeepTheSharedCache) {
  auto resources =
      state::make_rocksdb_resources(64 << 20, "block_based_table_factory={block_size=16384}");
  const auto* table = resources->column_family_options->table_factory
                          ->GetOptions<rocksdb::BlockBasedTableOptions>();
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->block_size, 16384u);
  EXPECT_EQ(table->block_cache, resources->block_cache);
  EXPECT_TRUE(table->cache_index_and_filter_blocks);
}

TEST(RocksDbResourcesTest, InvalidOptionsNameTheOption) {
  try {
    state::make_rocksdb_resources(64 << 20, "write_buffer_size=1024;no_such_option=3");
    FAIL() << "accepted an unknown option";
  } catch (const ConfigException& e) {
    EXPECT_THAT(e.what(), HasSubstr("no_such_option=3"));
  }
  try {
    state::make_rocksdb_resources(64 << 20, "max_write_buffer_number=lots");
    FAIL() << "accepted a bad value";
  } catch (const ConfigException& e) {
    EXPECT_THAT(e.what(), HasSubstr("max_write_buffer_number=lots"));
  }
  EXPECT_THROW(state::make_rocksdb_resources(64 << 20, "no equals sign"), ConfigException);
}

}  // namespace
}  // namespace rivulet
