// The byte-level session stores: every test runs against the RocksDB and the in-memory store.
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

// "key[start,end]=value" for every session.
std::vector<std::string> drain(std::unique_ptr<SessionBytesStore::Iterator> it) {
  std::vector<std::string> out;
  while (it->has_next()) {
    SessionBytesEntry entry = it->next();
    out.push_back(to_string(entry.key) + "[" + std::to_string(entry.start) + "," +
                  std::to_string(entry.end) + "]=" + to_string(entry.value));
  }
  return out;
}

struct RocksDbKind {
  static constexpr bool kRocksDb = true;
  static std::unique_ptr<SessionBytesStore> make(std::string name, std::int64_t retention) {
    return state::make_rocksdb_session_store(std::move(name), retention,
                                             std::max<std::int64_t>(retention / 2, 1));
  }
};
struct InMemoryKind {
  static constexpr bool kRocksDb = false;
  static std::unique_ptr<SessionBytesStore> make(std::string name, std::int64_t retention) {
    return state::make_in_memory_session_store(std::move(name), retention);
  }
};
struct KindNames {
  template <class T>
  static std::string GetName(int) {
    return T::kRocksDb ? "RocksDb" : "InMemory";
  }
};

template <class Kind>
class SessionStoreTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (store_ && store_->is_open()) store_->close();
  }
  SessionBytesStore& open(std::int64_t retention = 1'000'000) {
    store_ = Kind::make("sessions", retention);
    store_->init(context);
    return *store_;
  }
  void put(std::string_view key, std::int64_t start, std::int64_t end) {
    store_->put(b(key), start, end, b(std::to_string(start) + "-" + std::to_string(end)));
  }
  std::vector<std::string> find(std::string_view key, std::int64_t earliest_end,
                                std::int64_t latest_start, bool forward = true) {
    return drain(store_->find_sessions(b(key), earliest_end, latest_start, forward));
  }

  TempDir dir;
  TestStoreContext context{dir.path()};
  std::unique_ptr<SessionBytesStore> store_;
};

using Kinds = ::testing::Types<RocksDbKind, InMemoryKind>;
TYPED_TEST_SUITE(SessionStoreTest, Kinds, KindNames);

TYPED_TEST(SessionStoreTest, PutFetchRemove) {
  auto& store = this->open();
  EXPECT_TRUE(this->context.registered("sessions"));
  EXPECT_EQ(store.persistent(), TypeParam::kRocksDb);
  this->put("a", 10, 20);
  EXPECT_EQ(text(store.fetch_session(b("a"), 10, 20)), "10-20");
  EXPECT_EQ(store.fetch_session(b("a"), 10, 21), std::nullopt);
  EXPECT_EQ(store.fetch_session(b("a"), 11, 20), std::nullopt);
  store.put(b("a"), 10, 20, b("new"));
  EXPECT_EQ(text(store.fetch_session(b("a"), 10, 20)), "new");
  store.remove(b("a"), 10, 20);
  EXPECT_EQ(store.fetch_session(b("a"), 10, 20), std::nullopt);
  this->put("a", 5, 5);  // a session of one record
  EXPECT_EQ(text(store.fetch_session(b("a"), 5, 5)), "5-5");
}

// find_sessions(key, earliest_end, latest_start): sessions with end >= earliest_end and
// start <= latest_start, by end then start.
TYPED_TEST(SessionStoreTest, FindSessionsBoundaries) {
  this->open();
  this->put("a", 0, 10);
  this->put("a", 20, 30);
  this->put("a", 40, 50);
  this->put("b", 20, 30);
  EXPECT_THAT(this->find("a", 10, 40),
              ElementsAre("a[0,10]=0-10", "a[20,30]=20-30", "a[40,50]=40-50"));
  EXPECT_THAT(this->find("a", 11, 39), ElementsAre("a[20,30]=20-30"));
  EXPECT_THAT(this->find("a", 30, 20), ElementsAre("a[20,30]=20-30"));  // both bounds touch
  EXPECT_THAT(this->find("a", 31, 39), IsEmpty());  // a record at 35 with gap 4 merges with none
  EXPECT_THAT(this->find("a", 51, 1000), IsEmpty());
  EXPECT_THAT(this->find("a", 0, -1), IsEmpty());
  EXPECT_THAT(this->find("a", 0, 1000, false),
              ElementsAre("a[40,50]=40-50", "a[20,30]=20-30", "a[0,10]=0-10"));
  // ... with gap 5, with both its neighbours.
  EXPECT_THAT(this->find("a", 30, 40), ElementsAre("a[20,30]=20-30", "a[40,50]=40-50"));
  EXPECT_THAT(this->find("c", 0, 1000), IsEmpty());
}

TYPED_TEST(SessionStoreTest, OrderedByEndThenStart) {
  this->open();
  this->put("a", 20, 30);
  this->put("a", 5, 30);
  this->put("a", 25, 25);
  this->put("a", 500'000, 900'000);  // another segment
  EXPECT_THAT(this->find("a", 0, 1'000'000),
              ElementsAre("a[25,25]=25-25", "a[5,30]=5-30", "a[20,30]=20-30",
                          "a[500000,900000]=500000-900000"));
  EXPECT_THAT(this->find("a", 0, 1'000'000, false),
              ElementsAre("a[500000,900000]=500000-900000", "a[20,30]=20-30", "a[5,30]=5-30",
                          "a[25,25]=25-25"));
}

TYPED_TEST(SessionStoreTest, FindSessionsRange) {
  auto& store = this->open();
  for (const char* key : {"a", "b", "c", "d"}) this->put(key, 10, 20);
  this->put("b", 100, 600'000);
  EXPECT_THAT(drain(store.find_sessions_range(b("b"), b("c"), 0, 1'000'000, true)),
              UnorderedElementsAre("b[10,20]=10-20", "b[100,600000]=100-600000", "c[10,20]=10-20"));
  auto backward = drain(store.find_sessions_range(b("b"), b("b"), 0, 1'000'000, false));
  EXPECT_THAT(backward, ElementsAre("b[100,600000]=100-600000", "b[10,20]=10-20"));
  EXPECT_THAT(drain(store.find_sessions_range(std::nullopt, b("b"), 21, 1'000'000, true)),
              ElementsAre("b[100,600000]=100-600000"));
  EXPECT_THAT(drain(store.find_sessions_range(b("c"), std::nullopt, 0, 1'000'000, true)),
              UnorderedElementsAre("c[10,20]=10-20", "d[10,20]=10-20"));
  EXPECT_THAT(drain(store.find_sessions_range(b("c"), b("b"), 0, 1'000'000, true)), IsEmpty());
  EXPECT_EQ(drain(store.find_sessions_range(std::nullopt, std::nullopt, 0, 1'000'000, true)).size(),
            5u);
}

TYPED_TEST(SessionStoreTest, VariableLengthKeysDoNotLeakIntoEachOther) {
  auto& store = this->open();
  const Bytes k{'k'};
  const Bytes k0{'k', 0, 0, 0, 0, 0, 0, 0, 0};
  store.put(k, 10, 1000, b("k"));
  store.put(k0, 0, 5, b("k0"));
  EXPECT_THAT(drain(store.find_sessions(k, 0, 2000, true)), ElementsAre("k[10,1000]=k"));
  EXPECT_EQ(drain(store.find_sessions(k0, 0, 2000, true)).size(), 1u);
  EXPECT_EQ(drain(store.find_sessions_range(k, k, 0, 2000, true)).size(), 1u);
  store.put(b("a"), 1000, 1000, b("a"));
  store.put(Bytes{'a', 0}, 1000, 1000, b("a0"));
  EXPECT_EQ(drain(store.find_sessions_range(b("a"), Bytes{'a', 0}, 0, 2000, true)).size(), 2u);
  store.put(Bytes{}, 1, 600'000, b("empty"));
  EXPECT_THAT(drain(store.find_sessions_range(std::nullopt, Bytes{0x01}, 0, 1'000'000, true)),
              ElementsAre("[1,600000]=empty"));
}

// Retention 100 by session end: once stream time (the largest end put) is T, sessions ending at
// or before T - 100 are gone.
TYPED_TEST(SessionStoreTest, RetentionExpiresOldSessions) {
  auto& store = this->open(100);
  this->put("a", 0, 20);
  this->put("a", 40, 60);
  this->put("a", 100, 110);  // stream time 110: ends up to 10 would expire
  EXPECT_EQ(this->find("a", 0, 1000).size(), 3u);
  this->put("b", 150, 160);  // stream time 160: ends up to 60 expire
  EXPECT_THAT(this->find("a", 0, 1000), ElementsAre("a[100,110]=100-110"));
  EXPECT_EQ(store.fetch_session(b("a"), 40, 60), std::nullopt);
  this->put("a", 0, 50);  // expired: dropped
  EXPECT_THAT(this->find("a", 0, 1000), ElementsAre("a[100,110]=100-110"));
  this->put("b", 500, 1000);
  EXPECT_THAT(drain(store.find_sessions_range(std::nullopt, std::nullopt, 0, 2000, true)),
              ElementsAre("b[500,1000]=500-1000"));
}

TYPED_TEST(SessionStoreTest, NegativeTimesDoNotCrash) {
  auto& store = this->open(1000);
  this->put("a", -20, -10);
  this->put("a", -5, 5);
  EXPECT_EQ(text(store.fetch_session(b("a"), -20, -10)), "-20--10");
  EXPECT_THAT(this->find("a", -100, 100),
              UnorderedElementsAre("a[-20,-10]=-20--10", "a[-5,5]=-5-5"));
}

TYPED_TEST(SessionStoreTest, RestoresChangelogRecords) {
  auto& store = this->open(100);
  auto key = [](std::string_view k, std::int64_t end, std::int64_t start) {
    Bytes out = to_bytes(k);
    for (std::int64_t v : {end, start}) {
      for (int shift = 56; shift >= 0; shift -= 8)
        out.push_back(static_cast<std::uint8_t>(v >> shift));
    }
    return out;
  };
  std::vector<LoggedChange> changes;
  changes.push_back({"sessions", key("a", 10, 0), b("expired by the batch"), 0});
  changes.push_back({"sessions", key("a", 150, 140), b("1"), 0});
  changes.push_back({"sessions", key("b", 160, 160), b("2"), 0});
  changes.push_back({"sessions", key("b", 160, 160), std::nullopt, 0});
  changes.push_back({"sessions", key("a", 150, 140), b("3"), 0});
  this->context.restore("sessions", changes, 2);
  EXPECT_THAT(drain(store.find_sessions_range(std::nullopt, std::nullopt, 0, 1000, true)),
              ElementsAre("a[140,150]=3"));
  std::vector<LoggedChange> bad{{"sessions", b("short"), b("x"), 0}};
  EXPECT_THROW(this->context.restore("sessions", bad), StreamsException);
}

}  // namespace
}  // namespace rivulet
