// Crash-safe state under exactly-once: a RocksDB store that buffers its writes keeps them out of
// the database until `commit`, which writes them with their changelog offset in one batch; reads
// and iterators see them meanwhile; dropping a segment waits for the commit too.
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state/bytes_stores.h"
#include "state/rocksdb_database.h"
#include "test_store_context.h"

namespace rivulet {
namespace {

using ::testing::ElementsAre;
using testing_support::TempDir;
using testing_support::TestStoreContext;

Bytes b(std::string_view text) {
  return to_bytes(text);
}

std::optional<std::string> text(const std::optional<Bytes>& bytes) {
  if (!bytes) return std::nullopt;
  return to_string(*bytes);
}

state::RocksDbDatabase& database_of(StateStore& store) {
  auto* backed = dynamic_cast<state::RocksDbBacked*>(&store);
  EXPECT_NE(backed, nullptr);
  EXPECT_NE(backed->database(), nullptr);
  return *backed->database();
}

std::vector<std::string> entries(KeyValueBytesStore::Iterator& it) {
  std::vector<std::string> out;
  while (it.has_next()) {
    auto entry = it.next();
    out.push_back(to_string(entry.key) + "=" + to_string(entry.value));
  }
  return out;
}

// A key-value store in `dir` whose database already holds a=1, c=3, e=5 (committed).
std::unique_ptr<KeyValueBytesStore> open_with_committed_data(TestStoreContext& context) {
  auto store = state::make_rocksdb_key_value_store("kv");
  store->init(context);
  store->put(b("a"), b("1"));
  store->put(b("c"), b("3"));
  store->put(b("e"), b("5"));
  database_of(*store).buffer_writes();
  return store;
}

TEST(RocksDbBufferedWrites, BufferedWritesAreReadButReachTheDatabaseOnlyWithTheCommit) {
  TempDir dir;
  {
    TestStoreContext context(dir.path());
    auto store = open_with_committed_data(context);
    store->put(b("b"), b("2"));
    store->put(b("a"), b("10"));
    store->remove(b("c"));
    EXPECT_EQ(text(store->get(b("a"))), "10");
    EXPECT_EQ(text(store->get(b("b"))), "2");
    EXPECT_EQ(store->get(b("c")), std::nullopt);
    EXPECT_EQ(database_of(*store).buffered_writes(), 3u);
    store->close();  // no commit: an abort, or a crash
  }
  TestStoreContext context(dir.path());
  auto store = state::make_rocksdb_key_value_store("kv");
  store->init(context);
  auto all = store->all();
  EXPECT_THAT(entries(*all), ElementsAre("a=1", "c=3", "e=5"));
  EXPECT_EQ(database_of(*store).committed_offset(), std::nullopt);
  all.reset();
  store->close();
}

TEST(RocksDbBufferedWrites, TheCommitWritesTheDataWithItsChangelogOffset) {
  TempDir dir;
  {
    TestStoreContext context(dir.path());
    auto store = open_with_committed_data(context);
    store->put(b("b"), b("2"));
    store->remove(b("c"));
    database_of(*store).commit(41);
    EXPECT_EQ(database_of(*store).buffered_writes(), 0u);
    store->put(b("z"), b("26"));  // after the commit: lost with the close
    store->close();
  }
  TestStoreContext context(dir.path());
  auto store = state::make_rocksdb_key_value_store("kv");
  store->init(context);
  EXPECT_EQ(database_of(*store).committed_offset(), 41);
  auto all = store->all();
  EXPECT_THAT(entries(*all), ElementsAre("a=1", "b=2", "e=5"));
  all.reset();
  // A commit without an offset keeps the last one.
  database_of(*store).buffer_writes();
  store->put(b("f"), b("6"));
  database_of(*store).commit(std::nullopt);
  EXPECT_EQ(database_of(*store).committed_offset(), 41);
  EXPECT_EQ(text(store->get(b("f"))), "6");
  store->close();
}

TEST(RocksDbBufferedWrites, IteratorsMergeTheBufferWithTheDatabaseInBothDirections) {
  TempDir dir;
  TestStoreContext context(dir.path());
  auto store = open_with_committed_data(context);
  store->put(b("b"), b("2"));
  store->remove(b("c"));
  store->put(b("e"), b("50"));
  store->put(b("g"), b("7"));
  auto forward = store->all(true);
  EXPECT_THAT(entries(*forward), ElementsAre("a=1", "b=2", "e=50", "g=7"));
  auto backward = store->all(false);
  EXPECT_THAT(entries(*backward), ElementsAre("g=7", "e=50", "b=2", "a=1"));
  auto bounded = store->range(b("b"), b("e"), true);
  EXPECT_THAT(entries(*bounded), ElementsAre("b=2", "e=50"));
  auto prefix = store->prefix_scan(b("g"));
  EXPECT_THAT(entries(*prefix), ElementsAre("g=7"));
  auto inverted = store->range(b("e"), b("b"), true);
  EXPECT_THAT(entries(*inverted), ElementsAre());
  forward.reset();
  backward.reset();
  bounded.reset();
  prefix.reset();
  inverted.reset();
  store->close();
}

TEST(RocksDbBufferedWrites, AnIteratorSeesTheStoreAsItWasWhenCreated) {
  TempDir dir;
  TestStoreContext context(dir.path());
  auto store = open_with_committed_data(context);
  store->put(b("b"), b("2"));
  auto it = store->all();
  store->put(b("b"), b("20"));
  store->put(b("d"), b("4"));
  EXPECT_THAT(entries(*it), ElementsAre("a=1", "b=2", "c=3", "e=5"));
  it.reset();
  store->close();
}

// A segment that expires while writes are buffered is dropped only by the commit: after an abort
// the reopened store finds it as the last commit left it.
TEST(RocksDbBufferedWrites, ASegmentDroppedBeforeTheCommitComesBackAfterAnAbort) {
  TempDir dir;
  const auto path = dir.path() / "rocksdb" / "windows";
  auto families = [&] {
    std::vector<std::string> names;
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path.string(), &names).ok());
    std::sort(names.begin(), names.end());
    return names;
  };
  {
    TestStoreContext context(dir.path());
    auto store = state::make_rocksdb_window_store("windows", 100, 10, false, 50);
    store->init(context);
    database_of(*store).buffer_writes();
    store->put(b("a"), b("0"), 0);  // segment 0
    store->flush();
    database_of(*store).commit(7);
    store->put(b("a"), b("1000"), 1000);  // segment 20; segment 0 expires
    EXPECT_EQ(store->fetch(b("a"), 0), std::nullopt);
    EXPECT_THAT(families(), ::testing::Contains("segment-0"));
    store->close();  // aborted
  }
  {
    TestStoreContext context(dir.path());
    auto store = state::make_rocksdb_window_store("windows", 100, 10, false, 50);
    store->init(context);
    EXPECT_EQ(text(store->fetch(b("a"), 0)), "0");
    database_of(*store).buffer_writes();
    store->put(b("a"), b("1000"), 1000);
    store->flush();
    database_of(*store).commit(8);
    EXPECT_THAT(families(), ::testing::Not(::testing::Contains("segment-0")));
    store->close();
  }
  TestStoreContext context(dir.path());
  auto store = state::make_rocksdb_window_store("windows", 100, 10, false, 50);
  store->init(context);
  EXPECT_EQ(text(store->fetch(b("a"), 1000)), "1000");
  EXPECT_EQ(database_of(*store).committed_offset(), 8);
  store->close();
}

// What a commit wrote survives the process dying at once after it (the commit hands the WAL to
// the OS); what was buffered after it does not reach the database.
TEST(RocksDbBufferedWrites, ACommitSurvivesAProcessCrashAndLaterWritesDoNotLeak) {
  TempDir dir;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    TestStoreContext context(dir.path());
    auto store = state::make_rocksdb_key_value_store("kv");
    store->init(context);
    database_of(*store).buffer_writes();
    store->put(b("a"), b("1"));
    database_of(*store).commit(3);
    store->put(b("b"), b("2"));
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  TestStoreContext context(dir.path());
  auto store = state::make_rocksdb_key_value_store("kv");
  store->init(context);
  EXPECT_EQ(text(store->get(b("a"))), "1");
  EXPECT_EQ(store->get(b("b")), std::nullopt);
  EXPECT_EQ(database_of(*store).committed_offset(), 3);
  store->close();
}

}  // namespace
}  // namespace rivulet
