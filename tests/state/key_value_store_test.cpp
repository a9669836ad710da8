// The byte-level key-value stores: every test runs against the RocksDB and the in-memory store.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/errors.h>

#include "state/bytes_stores.h"
#include "test_store_context.h"

namespace rivulet {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing_support::TempDir;
using testing_support::TestStoreContext;

Bytes b(std::string_view text) {
  return to_bytes(text);
}

std::optional<std::string> text(const std::optional<Bytes>& bytes) {
  if (!bytes) return std::nullopt;
  return to_string(*bytes);
}

// "key=value" for every entry an iterator returns.
std::vector<std::string> drain(std::unique_ptr<KeyValueBytesStore::Iterator> it) {
  std::vector<std::string> out;
  while (it->has_next()) {
    KeyValue<Bytes, Bytes> entry = it->next();
    out.push_back(to_string(entry.key) + "=" + to_string(entry.value));
  }
  return out;
}

struct RocksDbKind {
  static std::unique_ptr<KeyValueBytesStore> make(std::string name) {
    return state::make_rocksdb_key_value_store(std::move(name));
  }
};
struct InMemoryKind {
  static std::unique_ptr<KeyValueBytesStore> make(std::string name) {
    return state::make_in_memory_key_value_store(std::move(name));
  }
};
struct KindNames {
  template <class T>
  static std::string GetName(int) {
    return std::is_same_v<T, RocksDbKind> ? "RocksDb" : "InMemory";
  }
};

template <class Kind>
class KeyValueStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = Kind::make("kv");
    store_->init(context);
  }
  void TearDown() override {
    if (store_->is_open()) store_->close();
  }
  void put(std::string_view key, std::string_view value) { store_->put(b(key), b(value)); }

  TempDir dir;
  TestStoreContext context{dir.path()};
  std::unique_ptr<KeyValueBytesStore> store_;
};

using Kinds = ::testing::Types<RocksDbKind, InMemoryKind>;
TYPED_TEST_SUITE(KeyValueStoreTest, Kinds, KindNames);

TYPED_TEST(KeyValueStoreTest, RegistersItselfForRestoration) {
  EXPECT_TRUE(this->context.registered("kv"));
  EXPECT_TRUE(this->store_->is_open());
  EXPECT_EQ(this->store_->persistent(), (std::is_same_v<TypeParam, RocksDbKind>));
}

TYPED_TEST(KeyValueStoreTest, GetPutDelete) {
  auto& store = *this->store_;
  EXPECT_EQ(store.get(b("a")), std::nullopt);
  this->put("a", "1");
  EXPECT_EQ(text(store.get(b("a"))), "1");
  this->put("a", "2");
  EXPECT_EQ(text(store.get(b("a"))), "2");
  store.put(b("a"), std::nullopt);
  EXPECT_EQ(store.get(b("a")), std::nullopt);
  // Empty keys and values are keys and values like others.
  store.put(Bytes{}, Bytes{});
  EXPECT_EQ(store.get(Bytes{}), Bytes{});
}

TYPED_TEST(KeyValueStoreTest, RemoveReturnsTheOldValue) {
  auto& store = *this->store_;
  this->put("a", "1");
  EXPECT_EQ(text(store.remove(b("a"))), "1");
  EXPECT_EQ(store.get(b("a")), std::nullopt);
  EXPECT_EQ(store.remove(b("a")), std::nullopt);
}

TYPED_TEST(KeyValueStoreTest, PutIfAbsentWritesOnlyWhenAbsent) {
  auto& store = *this->store_;
  EXPECT_EQ(store.put_if_absent(b("a"), b("1")), std::nullopt);
  EXPECT_EQ(text(store.put_if_absent(b("a"), b("2"))), "1");
  EXPECT_EQ(text(store.get(b("a"))), "1");
}

TYPED_TEST(KeyValueStoreTest, PutAllWritesAndDeletes) {
  auto& store = *this->store_;
  this->put("gone", "x");
  std::vector<KeyValue<Bytes, std::optional<Bytes>>> entries{
      {b("a"), b("1")}, {b("b"), b("2")}, {b("gone"), std::nullopt}, {b("a"), b("3")}};
  store.put_all(entries);
  EXPECT_THAT(drain(store.all()), ElementsAre("a=3", "b=2"));
}

TYPED_TEST(KeyValueStoreTest, KeysAreOrderedAsUnsignedBytes) {
  auto& store = *this->store_;
  store.put(Bytes{0x80}, b("high"));
  store.put(Bytes{0x01}, b("low"));
  store.put(Bytes{0x01, 0x00}, b("longer"));
  std::vector<Bytes> keys;
  auto it = store.all();
  while (it->has_next()) keys.push_back(it->next().key);
  EXPECT_THAT(keys, ElementsAre(Bytes{0x01}, Bytes{0x01, 0x00}, Bytes{0x80}));
}

TYPED_TEST(KeyValueStoreTest, RangeForwardAndReverseWithClosedAndOpenBounds) {
  auto& store = *this->store_;
  for (const char* key : {"a", "b", "c", "d", "e"}) this->put(key, std::string(key) + "v");
  EXPECT_THAT(drain(store.range(b("b"), b("d"), true)), ElementsAre("b=bv", "c=cv", "d=dv"));
  EXPECT_THAT(drain(store.range(b("b"), b("d"), false)), ElementsAre("d=dv", "c=cv", "b=bv"));
  EXPECT_THAT(drain(store.range(std::nullopt, b("b"), true)), ElementsAre("a=av", "b=bv"));
  EXPECT_THAT(drain(store.range(b("d"), std::nullopt, true)), ElementsAre("d=dv", "e=ev"));
  EXPECT_THAT(drain(store.range(b("d"), std::nullopt, false)), ElementsAre("e=ev", "d=dv"));
  EXPECT_THAT(drain(store.range(std::nullopt, b("b"), false)), ElementsAre("b=bv", "a=av"));
  // Bounds that are not keys.
  EXPECT_THAT(drain(store.range(b("bb"), b("cc"), true)), ElementsAre("c=cv"));
  EXPECT_THAT(drain(store.range(b("c"), b("c"), true)), ElementsAre("c=cv"));
  EXPECT_THAT(drain(store.all(false)), ElementsAre("e=ev", "d=dv", "c=cv", "b=bv", "a=av"));
}

TYPED_TEST(KeyValueStoreTest, RangeFromAfterToIsEmpty) {
  auto& store = *this->store_;
  this->put("a", "1");
  this->put("b", "2");
  EXPECT_THAT(drain(store.range(b("b"), b("a"), true)), IsEmpty());
  EXPECT_THAT(drain(store.range(b("b"), b("a"), false)), IsEmpty());
  EXPECT_THAT(drain(store.range(b("x"), b("z"), true)), IsEmpty());
}

TYPED_TEST(KeyValueStoreTest, RangeUpperBoundIncludesItselfButNotLongerKeys) {
  auto& store = *this->store_;
  this->put("ab", "1");
  this->put("ab\x01", "2");
  this->put("ab\x01\x00", "3");
  std::vector<Bytes> keys;
  auto it = store.range(b("ab"), b("ab\x01"), true);
  while (it->has_next()) keys.push_back(it->next().key);
  EXPECT_THAT(keys, ElementsAre(b("ab"), b("ab\x01")));
}

TYPED_TEST(KeyValueStoreTest, PrefixScan) {
  auto& store = *this->store_;
  this->put("a", "0");
  this->put("ab", "1");
  this->put("abc", "2");
  this->put("abd", "3");
  this->put("ac", "4");
  this->put("b", "5");
  EXPECT_THAT(drain(store.prefix_scan(b("ab"))), ElementsAre("ab=1", "abc=2", "abd=3"));
  EXPECT_THAT(drain(store.prefix_scan(b("a"))),
              ElementsAre("a=0", "ab=1", "abc=2", "abd=3", "ac=4"));
  EXPECT_THAT(drain(store.prefix_scan(b("abc"))), ElementsAre("abc=2"));
  EXPECT_THAT(drain(store.prefix_scan(b("x"))), IsEmpty());
  EXPECT_EQ(drain(store.prefix_scan(Bytes{})).size(), 6u);
}

TYPED_TEST(KeyValueStoreTest, PrefixScanOfMaximalBytes) {
  auto& store = *this->store_;
  store.put(Bytes{0xff}, b("1"));
  store.put(Bytes{0xff, 0xff}, b("2"));
  store.put(Bytes{0xff, 0xff, 0x00}, b("3"));
  store.put(Bytes{0xfe, 0xff}, b("x"));
  EXPECT_THAT(drain(store.prefix_scan(Bytes{0xff, 0xff})),
              ElementsAre("\xff\xff=2", std::string("\xff\xff\0=3", 5)));
  EXPECT_EQ(drain(store.prefix_scan(Bytes{0xff})).size(), 3u);
}

TYPED_TEST(KeyValueStoreTest, ApproximateNumEntries) {
  auto& store = *this->store_;
  EXPECT_EQ(store.approximate_num_entries(), 0u);
  for (int i = 0; i < 100; ++i) this->put("key-" + std::to_string(i), "v");
  if constexpr (std::is_same_v<TypeParam, InMemoryKind>) {
    EXPECT_EQ(store.approximate_num_entries(), 100u);
  } else {
    // RocksDB's estimate: exact enough for 100 fresh keys in a memtable.
    EXPECT_GE(store.approximate_num_entries(), 90u);
    EXPECT_LE(store.approximate_num_entries(), 110u);
  }
}

// A processor iterates and deletes what it visits: every key is seen once, the store ends empty.
TYPED_TEST(KeyValueStoreTest, IterationWhileDeletingVisitedKeys) {
  auto& store = *this->store_;
  for (int i = 0; i < 50; ++i) this->put("k" + std::to_string(100 + i), std::to_string(i));
  int seen = 0;
  auto it = store.all();
  while (it->has_next()) {
    KeyValue<Bytes, Bytes> entry = it->next();
    EXPECT_EQ(to_string(entry.key), "k" + std::to_string(100 + seen));
    store.remove(entry.key);
    this->put("z-added-" + std::to_string(seen), "new");  // writes meanwhile are fine too
    ++seen;
  }
  it.reset();
  EXPECT_EQ(seen, 50);
  EXPECT_THAT(drain(store.prefix_scan(b("k"))), IsEmpty());
}

TYPED_TEST(KeyValueStoreTest, KeysDeletedAheadOfTheIterator) {
  auto& store = *this->store_;
  this->put("a", "1");
  this->put("b", "2");
  this->put("c", "3");
  auto it = store.all();
  ASSERT_TRUE(it->has_next());
  EXPECT_EQ(to_string(it->next().key), "a");
  store.remove(b("b"));
  std::vector<std::string> rest;
  while (it->has_next()) rest.push_back(to_string(it->next().key));
  if constexpr (std::is_same_v<TypeParam, InMemoryKind>) {
    EXPECT_THAT(rest, ElementsAre("c"));  // keys deleted meanwhile are skipped
  } else {
    EXPECT_THAT(rest, ElementsAre("b", "c"));  // a RocksDB iterator reads its snapshot
  }
}

TYPED_TEST(KeyValueStoreTest, RestoresChangelogRecords) {
  auto& store = *this->store_;
  this->put("stale", "x");
  std::vector<testing_support::LoggedChange> changes;
  changes.push_back({"kv", b("a"), b("1"), 0});
  changes.push_back({"kv", b("b"), b("2"), 0});
  changes.push_back({"kv", b("a"), b("3"), 0});
  changes.push_back({"kv", b("stale"), std::nullopt, 0});
  this->context.restore("kv", changes, 3);
  EXPECT_THAT(drain(store.all()), ElementsAre("a=3", "b=2"));
}

TYPED_TEST(KeyValueStoreTest, ClosedStoreRefusesCalls) {
  this->store_->close();
  EXPECT_FALSE(this->store_->is_open());
  EXPECT_THROW(this->store_->get(b("a")), StreamsException);
}

}  // namespace
}  // namespace rivulet
