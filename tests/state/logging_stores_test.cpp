// The logging layer: the exact changelog records each change produces (state_store.h's formats),
// and round trips: what a logged store A wrote, restored into a fresh store B, gives B A's content,
// for the RocksDB and the in-memory stores.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "state/bytes_stores.h"
#include "test_store_context.h"

namespace rivulet {
namespace {

using ::testing::ElementsAre;
using testing_support::LoggedChange;
using testing_support::TempDir;
using testing_support::TestStoreContext;

Bytes b(std::string_view text) {
  return to_bytes(text);
}

Bytes be64(std::int64_t v) {
  Bytes out;
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
  return out;
}
Bytes be32(std::int32_t v) {
  Bytes out;
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
  return out;
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

// A changelog record as (key, value) for comparisons.
using Change = std::pair<Bytes, std::optional<Bytes>>;
std::vector<Change> changes(const TestStoreContext& context, const std::string& store) {
  std::vector<Change> out;
  for (const LoggedChange& change : context.changelog()) {
    if (change.store == store) out.emplace_back(change.key, change.value);
  }
  return out;
}

TEST(LoggingKeyValueStoreTest, LogsEveryChangeAsKeyAndValue) {
  TempDir dir;
  TestStoreContext context(dir.path());
  auto store = state::with_logging(state::make_in_memory_key_value_store("kv"));
  store->init(context);
  EXPECT_TRUE(context.registered("kv"));  // the inner store registered itself
  EXPECT_EQ(store->name(), "kv");
  context.set_record_timestamp(42);
  store->put(b("a"), b("1"));
  store->put(b("a"), std::nullopt);
  EXPECT_EQ(store->put_if_absent(b("b"), b("2")), std::nullopt);
  EXPECT_TRUE(store->put_if_absent(b("b"), b("3")));  // present: no change, no record
  std::vector<KeyValue<Bytes, std::optional<Bytes>>> batch{{b("c"), b("4")},
                                                           {b("b"), std::nullopt}};
  store->put_all(batch);
  EXPECT_EQ(store->remove(b("c")), b("4"));
  EXPECT_EQ(store->remove(b("missing")), std::nullopt);  // logged anyway, as Kafka Streams does
  store->get(b("a"));
  store->all();
  EXPECT_THAT(
      changes(context, "kv"),
      ElementsAre(Change{b("a"), b("1")}, Change{b("a"), std::nullopt}, Change{b("b"), b("2")},
                  Change{b("c"), b("4")}, Change{b("b"), std::nullopt},
                  Change{b("c"), std::nullopt}, Change{b("missing"), std::nullopt}));
  EXPECT_EQ(context.changelog().front().timestamp, 42);
  store->close();
}

TEST(LoggingWindowStoreTest, LogsKeyStartAndSequenceZero) {
  TempDir dir;
  TestStoreContext context(dir.path());
  auto store = state::with_logging(state::make_in_memory_window_store("w", 1000, 10, false));
  store->init(context);
  EXPECT_TRUE(context.registered("w"));
  EXPECT_EQ(store->window_size(), 10);
  EXPECT_EQ(store->retention_period(), 1000);
  EXPECT_FALSE(store->retain_duplicates());
  store->put(b("k"), b("v"), 0x0102030405060708);
  store->put(b("k"), std::nullopt, 300);
  EXPECT_THAT(changes(context, "w"),
              ElementsAre(Change{cat({b("k"), be64(0x0102030405060708), be32(0)}), b("v")},
                          Change{cat({b("k"), be64(300), be32(0)}), std::nullopt}));
  EXPECT_EQ(changes(context, "w")[0].first, (Bytes{'k', 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0}));
  store->close();
}

TEST(LoggingWindowStoreTest, RetainingDuplicatesLogsItsOwnSequenceNumbers) {
  TempDir dir;
  TestStoreContext context(dir.path());
  auto store = state::with_logging(state::make_in_memory_window_store("w", 1000, 10, true));
  store->init(context);
  store->put(b("k"), b("x"), 5);
  store->put(b("k"), b("x"), 5);
  store->put(b("k"), std::nullopt, 5);  // ignored by the store: not logged
  store->put(b("j"), b("y"), 6);
  EXPECT_THAT(changes(context, "w"), ElementsAre(Change{cat({b("k"), be64(5), be32(1)}), b("x")},
                                                 Change{cat({b("k"), be64(5), be32(2)}), b("x")},
                                                 Change{cat({b("j"), be64(6), be32(3)}), b("y")}));
  store->close();
}

TEST(LoggingSessionStoreTest, LogsKeyEndAndStart) {
  TempDir dir;
  TestStoreContext context(dir.path());
  auto store = state::with_logging(state::make_in_memory_session_store("s", 1000));
  store->init(context);
  EXPECT_TRUE(context.registered("s"));
  EXPECT_EQ(store->retention_period(), 1000);
  store->put(b("k"), 10, 20, b("v"));
  store->remove(b("k"), 10, 20);
  EXPECT_THAT(changes(context, "s"),
              ElementsAre(Change{cat({b("k"), be64(20), be64(10)}), b("v")},
                          Change{cat({b("k"), be64(20), be64(10)}), std::nullopt}));
  store->close();
}

// ---- Round trips, for both implementations -------------------------------------------------

struct RocksDbKind {
  static constexpr bool kRocksDb = true;
  static std::unique_ptr<KeyValueBytesStore> key_value(std::string name) {
    return state::make_rocksdb_key_value_store(std::move(name));
  }
  static std::unique_ptr<WindowBytesStore> window(std::string name, bool duplicates) {
    return state::make_rocksdb_window_store(std::move(name), 10'000, 100, duplicates, 1000);
  }
  static std::unique_ptr<SessionBytesStore> session(std::string name) {
    return state::make_rocksdb_session_store(std::move(name), 10'000, 1000);
  }
};
struct InMemoryKind {
  static constexpr bool kRocksDb = false;
  static std::unique_ptr<KeyValueBytesStore> key_value(std::string name) {
    return state::make_in_memory_key_value_store(std::move(name));
  }
  static std::unique_ptr<WindowBytesStore> window(std::string name, bool duplicates) {
    return state::make_in_memory_window_store(std::move(name), 10'000, 100, duplicates);
  }
  static std::unique_ptr<SessionBytesStore> session(std::string name) {
    return state::make_in_memory_session_store(std::move(name), 10'000);
  }
};
struct KindNames {
  template <class T>
  static std::string GetName(int) {
    return T::kRocksDb ? "RocksDb" : "InMemory";
  }
};

template <class Kind>
class RoundTripTest : public ::testing::Test {
 protected:
  TempDir dir_a;
  TempDir dir_b;
  TestStoreContext context_a{dir_a.path()};
  TestStoreContext context_b{dir_b.path()};
};

using Kinds = ::testing::Types<RocksDbKind, InMemoryKind>;
TYPED_TEST_SUITE(RoundTripTest, Kinds, KindNames);

template <class Iterator>
auto contents(std::unique_ptr<Iterator> it) {
  std::vector<decltype(it->next())> out;
  while (it->has_next()) out.push_back(it->next());
  return out;
}

TYPED_TEST(RoundTripTest, KeyValue) {
  auto a = state::with_logging(TypeParam::key_value("kv"));
  a->init(this->context_a);
  for (int i = 0; i < 300; ++i) {
    a->put(b("key-" + std::to_string(i % 97)), b("value-" + std::to_string(i)));
    if (i % 7 == 0) a->remove(b("key-" + std::to_string(i % 13)));
    if (i % 11 == 0) a->put_if_absent(b("new-" + std::to_string(i % 5)), b(std::to_string(i)));
  }
  std::vector<KeyValue<Bytes, std::optional<Bytes>>> batch{{b("key-1"), std::nullopt},
                                                           {b("batch"), b("x")}};
  a->put_all(batch);
  auto restored = TypeParam::key_value("kv");
  restored->init(this->context_b);
  this->context_b.restore("kv", this->context_a.changelog(), 64);
  EXPECT_EQ(contents(restored->all()), contents(a->all()));
  EXPECT_GT(contents(a->all()).size(), 50u);
  a->close();
  restored->close();
}

TYPED_TEST(RoundTripTest, Window) {
  for (bool duplicates : {false, true}) {
    SCOPED_TRACE(duplicates ? "retaining duplicates" : "without duplicates");
    const std::string name = duplicates ? "dups" : "windows";
    auto a = state::with_logging(TypeParam::window(name, duplicates));
    a->init(this->context_a);
    for (int i = 0; i < 400; ++i) {
      const std::int64_t start = (i * 37) % 20'000;  // late records too: some expire
      a->put(b("k" + std::to_string(i % 9)), b("v" + std::to_string(i)), start);
      if (i % 10 == 0) a->put(b("k" + std::to_string(i % 9)), std::nullopt, start);
    }
    auto restored = TypeParam::window(name, duplicates);
    restored->init(this->context_b);
    this->context_b.restore(name, this->context_a.changelog(), 50);
    const auto expected = contents(a->all());
    EXPECT_EQ(contents(restored->all()), expected);
    EXPECT_GT(expected.size(), 20u);
    a->close();
    restored->close();
  }
}

TYPED_TEST(RoundTripTest, Session) {
  auto a = state::with_logging(TypeParam::session("sessions"));
  a->init(this->context_a);
  for (int i = 0; i < 300; ++i) {
    const std::int64_t end = (i * 53) % 30'000;
    a->put(b("s" + std::to_string(i % 7)), end - (i % 50), end, b("v" + std::to_string(i)));
    if (i % 9 == 0) a->remove(b("s" + std::to_string(i % 7)), end - (i % 50), end);
  }
  auto restored = TypeParam::session("sessions");
  restored->init(this->context_b);
  this->context_b.restore("sessions", this->context_a.changelog(), 40);
  const auto expected =
      contents(a->find_sessions_range(std::nullopt, std::nullopt, 0, 100'000, true));
  EXPECT_EQ(contents(restored->find_sessions_range(std::nullopt, std::nullopt, 0, 100'000, true)),
            expected);
  EXPECT_GT(expected.size(), 10u);
  a->close();
  restored->close();
}

}  // namespace
}  // namespace rivulet
