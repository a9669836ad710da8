// The byte-level window stores: every test runs against the RocksDB and the in-memory store.
#include <algorithm>
#include <map>
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
using ::testing::UnorderedElementsAre;
using testing_support::LoggedChange;
using testing_support::TempDir;
using testing_support::TestStoreContext;

Bytes b(std::string_view text) {
  return to_bytes(text);
}

std::optional<std::string> text(const std::optional<Bytes>& bytes) {
  if (!bytes) return std::nullopt;
  return to_string(*bytes);
}

// "key@start=value" for every entry.
std::vector<std::string> drain(std::unique_ptr<WindowBytesStore::Iterator> it) {
  std::vector<std::string> out;
  while (it->has_next()) {
    WindowBytesEntry entry = it->next();
    out.push_back(to_string(entry.key) + "@" + std::to_string(entry.window_start) + "=" +
                  to_string(entry.value));
  }
  return out;
}

// The window starts of each key, in the order the iterator returned them.
std::map<std::string, std::vector<std::int64_t>> starts_by_key(
    std::unique_ptr<WindowBytesStore::Iterator> it) {
  std::map<std::string, std::vector<std::int64_t>> out;
  while (it->has_next()) {
    WindowBytesEntry entry = it->next();
    out[to_string(entry.key)].push_back(entry.window_start);
  }
  return out;
}

struct RocksDbKind {
  static constexpr bool kRocksDb = true;
  static std::unique_ptr<WindowBytesStore> make(std::string name, std::int64_t retention,
                                                bool duplicates) {
    return state::make_rocksdb_window_store(std::move(name), retention, 10, duplicates,
                                            std::max<std::int64_t>(retention / 2, 1));
  }
};
struct InMemoryKind {
  static constexpr bool kRocksDb = false;
  static std::unique_ptr<WindowBytesStore> make(std::string name, std::int64_t retention,
                                                bool duplicates) {
    return state::make_in_memory_window_store(std::move(name), retention, 10, duplicates);
  }
};
struct KindNames {
  template <class T>
  static std::string GetName(int) {
    return T::kRocksDb ? "RocksDb" : "InMemory";
  }
};

template <class Kind>
class WindowStoreTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (store_ && store_->is_open()) store_->close();
  }
  WindowBytesStore& open(std::int64_t retention = 1'000'000, bool duplicates = false) {
    store_ = Kind::make("windows", retention, duplicates);
    store_->init(context);
    return *store_;
  }
  void put(std::string_view key, std::int64_t start, std::string_view value) {
    store_->put(b(key), b(value), start);
  }

  TempDir dir;
  TestStoreContext context{dir.path()};
  std::unique_ptr<WindowBytesStore> store_;
};

using Kinds = ::testing::Types<RocksDbKind, InMemoryKind>;
TYPED_TEST_SUITE(WindowStoreTest, Kinds, KindNames);

TYPED_TEST(WindowStoreTest, DescribesItself) {
  auto& store = this->open(500, true);
  EXPECT_EQ(store.name(), "windows");
  EXPECT_EQ(store.retention_period(), 500);
  EXPECT_EQ(store.window_size(), 10);
  EXPECT_TRUE(store.retain_duplicates());
  EXPECT_EQ(store.persistent(), TypeParam::kRocksDb);
  EXPECT_TRUE(this->context.registered("windows"));
}

TYPED_TEST(WindowStoreTest, PutFetchOverwriteDelete) {
  auto& store = this->open();
  this->put("a", 10, "1");
  EXPECT_EQ(text(store.fetch(b("a"), 10)), "1");
  EXPECT_EQ(store.fetch(b("a"), 11), std::nullopt);
  EXPECT_EQ(store.fetch(b("b"), 10), std::nullopt);
  this->put("a", 10, "2");
  EXPECT_EQ(text(store.fetch(b("a"), 10)), "2");
  EXPECT_THAT(drain(store.all()), ElementsAre("a@10=2"));
  store.put(b("a"), std::nullopt, 10);
  EXPECT_EQ(store.fetch(b("a"), 10), std::nullopt);
  EXPECT_THAT(drain(store.all()), IsEmpty());
}

TYPED_TEST(WindowStoreTest, FetchByKeyAndTimeRange) {
  auto& store = this->open();
  for (std::int64_t t : {0, 10, 20, 30, 1000, 600'000}) {
    this->put("a", t, "a" + std::to_string(t));
  }
  this->put("b", 10, "b10");
  this->put("aa", 10, "aa10");
  EXPECT_THAT(drain(store.fetch(b("a"), 10, 30, true)),
              ElementsAre("a@10=a10", "a@20=a20", "a@30=a30"));
  EXPECT_THAT(drain(store.fetch(b("a"), 10, 30, false)),
              ElementsAre("a@30=a30", "a@20=a20", "a@10=a10"));
  EXPECT_THAT(drain(store.fetch(b("a"), 5, 15, true)), ElementsAre("a@10=a10"));
  EXPECT_THAT(drain(store.fetch(b("a"), 0, 700'000, true)),
              ElementsAre("a@0=a0", "a@10=a10", "a@20=a20", "a@30=a30", "a@1000=a1000",
                          "a@600000=a600000"));
  EXPECT_THAT(drain(store.fetch(b("a"), 0, 700'000, false)).front(), "a@600000=a600000");
  EXPECT_THAT(drain(store.fetch(b("a"), 30, 10, true)), IsEmpty());
  EXPECT_THAT(drain(store.fetch(b("zz"), 0, 700'000, true)), IsEmpty());
}

TYPED_TEST(WindowStoreTest, FetchRangeKeepsEachKeysTimeOrder) {
  auto& store = this->open();
  for (const char* key : {"a", "b", "c", "d"}) {
    for (std::int64_t t : {300'000, 0, 100, 900'000}) this->put(key, t, key);
  }
  using Starts = std::vector<std::int64_t>;
  auto forward = starts_by_key(store.fetch_range(b("b"), b("c"), 0, 900'000, true));
  EXPECT_EQ(forward.size(), 2u);
  EXPECT_EQ(forward["b"], (Starts{0, 100, 300'000, 900'000}));
  EXPECT_EQ(forward["c"], (Starts{0, 100, 300'000, 900'000}));
  auto backward = starts_by_key(store.fetch_range(b("b"), b("c"), 50, 300'000, false));
  EXPECT_EQ(backward.size(), 2u);
  EXPECT_EQ(backward["b"], (Starts{300'000, 100}));
  EXPECT_EQ(backward["c"], (Starts{300'000, 100}));
  // Open bounds.
  auto low_open = starts_by_key(store.fetch_range(std::nullopt, b("b"), 0, 100, true));
  EXPECT_EQ(low_open.size(), 2u);
  EXPECT_EQ(low_open["a"], (Starts{0, 100}));
  auto high_open = starts_by_key(store.fetch_range(b("c"), std::nullopt, 900'000, 900'000, true));
  EXPECT_EQ(high_open.size(), 2u);
  EXPECT_EQ(high_open["d"], (Starts{900'000}));
  // from > to.
  EXPECT_THAT(drain(store.fetch_range(b("c"), b("b"), 0, 900'000, true)), IsEmpty());
  EXPECT_THAT(drain(store.fetch_range(b("a"), b("d"), 200, 100, true)), IsEmpty());
}

TYPED_TEST(WindowStoreTest, FetchAll) {
  auto& store = this->open();
  this->put("b", 100, "b100");
  this->put("a", 200'000, "a200000");
  this->put("a", 100, "a100");
  EXPECT_THAT(drain(store.fetch_all(100, 100, true)),
              UnorderedElementsAre("a@100=a100", "b@100=b100"));
  EXPECT_THAT(drain(store.fetch_all(0, 1'000'000, true)),
              UnorderedElementsAre("a@100=a100", "b@100=b100", "a@200000=a200000"));
  auto backward = starts_by_key(store.fetch_all(0, 1'000'000, false));
  EXPECT_EQ(backward["a"], (std::vector<std::int64_t>{200'000, 100}));
  EXPECT_THAT(drain(store.all(false)).size(), 3u);
}

// Retention 100: once stream time (the largest window start put) is T, windows starting at or
// before T - 100 are gone, and puts into them are dropped.
TYPED_TEST(WindowStoreTest, RetentionExpiresOldWindows) {
  auto& store = this->open(100);
  this->put("a", 10, "10");
  this->put("a", 50, "50");
  this->put("a", 100, "100");  // stream time 100: 0 would be expired, 10 is not
  EXPECT_THAT(drain(store.fetch(b("a"), 0, 200, true)),
              ElementsAre("a@10=10", "a@50=50", "a@100=100"));
  this->put("b", 150, "150");  // stream time 150: 50 is the last expired start
  EXPECT_THAT(drain(store.fetch(b("a"), 0, 200, true)), ElementsAre("a@100=100"));
  EXPECT_EQ(store.fetch(b("a"), 50), std::nullopt);
  EXPECT_EQ(text(store.fetch(b("a"), 100)), "100");
  this->put("a", 40, "late");  // expired already: dropped
  this->put("a", 51, "51");    // still retained
  EXPECT_THAT(drain(store.all()), UnorderedElementsAre("a@51=51", "a@100=100", "b@150=150"));
  this->put("b", 1000, "1000");
  EXPECT_THAT(drain(store.all()), ElementsAre("b@1000=1000"));
}

TYPED_TEST(WindowStoreTest, RetainDuplicatesKeepsEveryPut) {
  auto& store = this->open(1'000'000, true);
  this->put("a", 10, "x");
  this->put("a", 10, "x");
  this->put("a", 10, "y");
  this->put("a", 20, "z");
  store.put(b("a"), std::nullopt, 10);  // ignored
  EXPECT_THAT(drain(store.fetch(b("a"), 10, 10, true)), ElementsAre("a@10=x", "a@10=x", "a@10=y"));
  EXPECT_THAT(drain(store.fetch(b("a"), 0, 20, false)),
              ElementsAre("a@20=z", "a@10=y", "a@10=x", "a@10=x"));
  EXPECT_EQ(text(store.fetch(b("a"), 10)), "x");
}

// Keys of different lengths: a segment's byte range for key K also holds the entries of keys
// that extend K, and the range of keys up to K must reach keys that are prefixes of K.
TYPED_TEST(WindowStoreTest, VariableLengthKeysDoNotLeakIntoEachOther) {
  auto& store = this->open();
  const Bytes k{'k'};
  const Bytes k0{'k', 0, 0, 0, 0, 0, 0, 0};  // k then the first bytes of a small timestamp
  store.put(k, b("k"), 1000);
  store.put(k0, b("k0"), 5);
  EXPECT_THAT(drain(store.fetch(k, 0, 2000, true)), ElementsAre("k@1000=k"));
  EXPECT_THAT(drain(store.fetch(k, 0, 2000, false)), ElementsAre("k@1000=k"));
  EXPECT_EQ(drain(store.fetch(k0, 0, 2000, true)).size(), 1u);
  EXPECT_EQ(drain(store.fetch_range(k, k, 0, 2000, true)).size(), 1u);
  // "a" < "a\0", but "a" + [start 1000] sorts after "a\0" + [start 1000].
  store.put(b("a"), b("a"), 1000);
  store.put(Bytes{'a', 0}, b("a0"), 1000);
  EXPECT_THAT(starts_by_key(store.fetch_range(b("a"), Bytes{'a', 0}, 0, 2000, true)).size(), 2u);
  EXPECT_THAT(starts_by_key(store.fetch_range(std::nullopt, Bytes{'a', 0}, 0, 2000, false)).size(),
              2u);
  EXPECT_THAT(starts_by_key(store.fetch_range(b("a"), b("a"), 0, 2000, true)).size(), 1u);
  // The empty key sorts first and may sit anywhere in a key range's bytes.
  store.put(Bytes{}, b("empty"), 600'000);
  EXPECT_THAT(drain(store.fetch_range(std::nullopt, Bytes{0x01}, 0, 1'000'000, true)),
              ElementsAre("@600000=empty"));
  EXPECT_THAT(drain(store.fetch(Bytes{}, 0, 1'000'000, true)), ElementsAre("@600000=empty"));
}

TYPED_TEST(WindowStoreTest, NegativeTimesDoNotCrash) {
  auto& store = this->open(1000);
  this->put("a", -5, "neg");
  this->put("a", 5, "pos");
  EXPECT_EQ(text(store.fetch(b("a"), -5)), "neg");
  EXPECT_THAT(drain(store.fetch(b("a"), -10, 10, true)),
              UnorderedElementsAre("a@-5=neg", "a@5=pos"));
  EXPECT_THAT(drain(store.fetch_all(-10, 10, true)).size(), 2u);
}

TYPED_TEST(WindowStoreTest, RestoresChangelogRecords) {
  auto& store = this->open(100);
  auto key = [](std::string_view k, std::int64_t start) {
    Bytes out = to_bytes(k);
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<std::uint8_t>(start >> shift));
    for (int i = 0; i < 4; ++i) out.push_back(0);
    return out;
  };
  std::vector<LoggedChange> changes;
  changes.push_back({"windows", key("a", 0), b("expired by the batch"), 0});
  changes.push_back({"windows", key("a", 150), b("1"), 0});
  changes.push_back({"windows", key("b", 160), b("2"), 0});
  changes.push_back({"windows", key("a", 150), b("3"), 0});
  changes.push_back({"windows", key("b", 160), std::nullopt, 0});
  changes.push_back({"windows", key("c", 200), b("4"), 0});
  this->context.restore("windows", changes, 4);
  EXPECT_THAT(drain(store.all()), UnorderedElementsAre("a@150=3", "c@200=4"));
  std::vector<LoggedChange> bad{{"windows", b("short"), b("x"), 0}};
  EXPECT_THROW(this->context.restore("windows", bad), StreamsException);
}

}  // namespace
}  // namespace rivulet
