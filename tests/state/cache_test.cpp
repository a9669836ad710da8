// The record cache (ThreadCache) and the caching layers of the three byte store kinds, over the
// fake stores of fake_bytes_stores.h.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fake_bytes_stores.h"
#include "state/caching_internal.h"
#include "state/caching_stores.h"
#include "state/thread_cache.h"
#include "test_store_context.h"

namespace rivulet {
namespace {

using state::ThreadCache;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing_support::FakeKeyValueStore;
using testing_support::FakeSessionStore;
using testing_support::FakeWindowStore;
using testing_support::TempDir;
using testing_support::TestStoreContext;

Bytes b(std::string_view text) {
  return to_bytes(text);
}
std::optional<std::string> text(const std::optional<Bytes>& bytes) {
  if (!bytes) return std::nullopt;
  return to_string(*bytes);
}
std::optional<std::string> text(const std::optional<ByteView>& bytes) {
  if (!bytes) return std::nullopt;
  return to_string(*bytes);
}

// The size of an entry with these key and value texts.
std::uint64_t size_of(std::string_view key, std::string_view value) {
  return ThreadCache::entry_size(key.size(), value.size());
}

// ---- ThreadCache ----------------------------------------------------------------------------

// What a named cache's listener received: "key=value" (or "key=<delete>") per entry, per flush.
struct Flushes {
  std::vector<std::vector<std::string>> batches;

  ThreadCache::FlushListener listener() {
    return [this](std::span<const ThreadCache::DirtyEntry> entries) {
      std::vector<std::string> batch;
      for (const auto& entry : entries) {
        batch.push_back(to_string(entry.key) + "=" +
                        (entry.value ? to_string(*entry.value) : "<delete>"));
      }
      batches.push_back(std::move(batch));
    };
  }
};

void put(ThreadCache& cache, const std::string& name, std::string_view key,
         std::optional<std::string_view> value, std::int64_t timestamp = 0) {
  const Bytes k = b(key);
  if (value) {
    const Bytes v = b(*value);
    cache.put(name, k, ByteView(v), timestamp);
  } else {
    cache.put(name, k, std::nullopt, timestamp);
  }
}

std::optional<std::string> cached(ThreadCache& cache, const std::string& name,
                                  std::string_view key) {
  const ThreadCache::Entry* entry = cache.get(name, b(key));
  if (entry == nullptr) return "<miss>";
  return text(entry->value);
}

TEST(ThreadCacheTest, NamesCachesByTaskAndStore) {
  EXPECT_EQ(ThreadCache::cache_name(TaskId{1, 3}, "counts"), "1_3-counts");
}

TEST(ThreadCacheTest, GetSeesPutsAndCountsHitsAndMisses) {
  ThreadCache cache(1 << 20);
  Flushes flushes;
  cache.add_named_cache("0_0-s", flushes.listener());
  put(cache, "0_0-s", "a", "1", 42);
  put(cache, "0_0-s", "d", std::nullopt);

  const ThreadCache::Entry* entry = cache.get("0_0-s", b("a"));
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(text(entry->value), "1");
  EXPECT_TRUE(entry->dirty);
  EXPECT_EQ(entry->timestamp, 42);
  EXPECT_EQ(cached(cache, "0_0-s", "d"), std::nullopt);  // a pending delete
  EXPECT_EQ(cached(cache, "0_0-s", "x"), "<miss>");
  EXPECT_EQ(cache.get("no-such-cache", b("a")), nullptr);

  EXPECT_EQ(cache.stats().hits, 2u);
  EXPECT_EQ(cache.stats().misses, 2u);
  EXPECT_EQ(cache.stats("0_0-s").hits, 2u);
  EXPECT_EQ(cache.stats("0_0-s").misses, 1u);
  EXPECT_EQ(cache.stats().entries, 2u);
  EXPECT_EQ(cache.size_bytes(), size_of("a", "1") + size_of("d", ""));
  EXPECT_THAT(flushes.batches, IsEmpty());
}

TEST(ThreadCacheTest, OverwriteAdjustsSize) {
  ThreadCache cache(1 << 20);
  Flushes flushes;
  cache.add_named_cache("c", flushes.listener());
  put(cache, "c", "key", "short");
  put(cache, "c", "key", "a longer value");
  EXPECT_EQ(cache.size_bytes(), size_of("key", "a longer value"));
  EXPECT_EQ(cache.stats().entries, 1u);
}

TEST(ThreadCacheTest, FlushSendsDirtyEntriesInOrderOfLastWriteThenMarksThemClean) {
  ThreadCache cache(1 << 20);
  Flushes flushes;
  cache.add_named_cache("c", flushes.listener());
  put(cache, "c", "b", "1");
  put(cache, "c", "a", "1");
  put(cache, "c", "c", "1");
  put(cache, "c", "b", "2");  // rewritten: moves to the end of the dirty order
  cache.flush("c");
  ASSERT_EQ(flushes.batches.size(), 1u);
  EXPECT_THAT(flushes.batches[0], ElementsAre("a=1", "c=1", "b=2"));
  EXPECT_FALSE(cache.get("c", b("a"))->dirty);

  cache.flush("c");  // nothing dirty: the listener is not called
  EXPECT_EQ(flushes.batches.size(), 1u);
  EXPECT_EQ(cache.stats().flushes, 1u);

  put(cache, "c", "a", "2");
  cache.flush("c");
  ASSERT_EQ(flushes.batches.size(), 2u);
  EXPECT_THAT(flushes.batches[1], ElementsAre("a=2"));
}

TEST(ThreadCacheTest, FlushedDeletesLeaveTheCache) {
  ThreadCache cache(1 << 20);
  Flushes flushes;
  cache.add_named_cache("c", flushes.listener());
  put(cache, "c", "gone", std::nullopt);
  put(cache, "c", "kept", "1");
  cache.flush("c");
  EXPECT_THAT(flushes.batches.at(0), ElementsAre("gone=<delete>", "kept=1"));
  EXPECT_EQ(cached(cache, "c", "gone"), "<miss>");
  EXPECT_EQ(cached(cache, "c", "kept"), "1");
  EXPECT_EQ(cache.size_bytes(), size_of("kept", "1"));
}

TEST(ThreadCacheTest, EvictionTakesTheLeastRecentlyUsedEntriesOfTheWritingCacheOnly) {
  // Room for three entries of this size.
  ThreadCache cache(3 * size_of("k1", "v"));
  Flushes first;
  Flushes second;
  cache.add_named_cache("first", first.listener());
  cache.add_named_cache("second", second.listener());
  put(cache, "second", "s1", "v");
  put(cache, "first", "k1", "v");
  put(cache, "first", "k2", "v");
  EXPECT_THAT(first.batches, IsEmpty());

  // Over capacity: "s1" is the oldest entry of all, but "first" is being written, so its least
  // recently used entry goes. Being dirty, it alone goes to the listener; the others stay dirty.
  put(cache, "first", "k3", "v");
  ASSERT_EQ(first.batches.size(), 1u);
  EXPECT_THAT(first.batches[0], ElementsAre("k1=v"));
  EXPECT_THAT(second.batches, IsEmpty());
  EXPECT_EQ(cache.stats().evictions, 1u);
  EXPECT_EQ(cache.stats("first").evictions, 1u);
  EXPECT_EQ(cache.stats("second").evictions, 0u);
  EXPECT_EQ(cached(cache, "first", "k1"), "<miss>");
  EXPECT_EQ(cached(cache, "second", "s1"), "v");
  EXPECT_TRUE(cache.get("second", b("s1"))->dirty);
  EXPECT_LE(cache.size_bytes(), cache.max_bytes());

  // The next eviction takes the next least recently used entry, "k2".
  put(cache, "first", "k4", "v");
  ASSERT_EQ(first.batches.size(), 2u);
  EXPECT_THAT(first.batches[1], ElementsAre("k2=v"));
  EXPECT_EQ(cache.stats().evictions, 2u);
  EXPECT_EQ(cached(cache, "first", "k2"), "<miss>");

  // Clean entries are evicted without a call.
  cache.flush("first");
  ASSERT_EQ(first.batches.size(), 3u);
  put(cache, "first", "k5", "v");
  EXPECT_EQ(first.batches.size(), 3u);
  EXPECT_EQ(cache.stats().evictions, 3u);
}

TEST(ThreadCacheTest, ReadsRefreshTheLruOrder) {
  ThreadCache cache(2 * size_of("k1", "v"));
  Flushes flushes;
  cache.add_named_cache("c", flushes.listener());
  put(cache, "c", "k1", "v");
  put(cache, "c", "k2", "v");
  cache.flush("c");
  ASSERT_NE(cache.get("c", b("k1")), nullptr);  // k2 is now the least recently used
  put(cache, "c", "k3", "v");
  EXPECT_EQ(cached(cache, "c", "k2"), "<miss>");
  EXPECT_EQ(cached(cache, "c", "k1"), "v");
  EXPECT_EQ(flushes.batches.size(), 1u);  // only the explicit flush: k2 was clean
}

TEST(ThreadCacheTest, AWriteLargerThanTheCacheEmptiesTheWritingCacheOnly) {
  ThreadCache cache(2 * size_of("k1", "v"));
  Flushes first;
  Flushes second;
  cache.add_named_cache("first", first.listener());
  cache.add_named_cache("second", second.listener());
  put(cache, "second", "s1", "v");
  put(cache, "first", "k1", "v");
  put(cache, "first", "big", std::string(500, 'x'));
  // k1 is evicted and handed to the listener; then big itself, still too large.
  ASSERT_EQ(first.batches.size(), 2u);
  EXPECT_THAT(first.batches[0], ElementsAre("k1=v"));
  EXPECT_THAT(first.batches[1], ElementsAre("big=" + std::string(500, 'x')));
  EXPECT_EQ(cache.stats("first").entries, 0u);
  EXPECT_EQ(cached(cache, "second", "s1"), "v");
  EXPECT_THAT(second.batches, IsEmpty());
}

TEST(ThreadCacheTest, CapacityZeroHandsEveryWriteToTheListenerAtOnce) {
  ThreadCache cache(0);
  Flushes flushes;
  cache.add_named_cache("c", flushes.listener());
  put(cache, "c", "a", "1");
  put(cache, "c", "a", "2");
  put(cache, "c", "b", std::nullopt);
  ASSERT_EQ(flushes.batches.size(), 3u);
  EXPECT_THAT(flushes.batches[0], ElementsAre("a=1"));
  EXPECT_THAT(flushes.batches[1], ElementsAre("a=2"));
  EXPECT_THAT(flushes.batches[2], ElementsAre("b=<delete>"));
  EXPECT_EQ(cache.size_bytes(), 0u);
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(ThreadCacheTest, ShrinkingEvictsFromEveryCacheInTurnAndGrowingKeepsEverything) {
  ThreadCache cache(10 * size_of("k1", "v"));
  Flushes first;
  Flushes second;
  cache.add_named_cache("first", first.listener());
  cache.add_named_cache("second", second.listener());
  for (std::string key : {"k1", "k2", "k3"}) {
    put(cache, "first", key, "v");
    put(cache, "second", key, "v");
  }
  cache.resize(20 * size_of("k1", "v"));
  EXPECT_EQ(cache.stats().evictions, 0u);

  cache.resize(4 * size_of("k1", "v"));
  EXPECT_EQ(cache.max_bytes(), 4 * size_of("k1", "v"));
  EXPECT_EQ(cache.stats().evictions, 2u);
  EXPECT_EQ(cache.size_bytes(), 4 * size_of("k1", "v"));
  EXPECT_EQ(cache.stats("first").evictions, 1u);
  EXPECT_EQ(cache.stats("second").evictions, 1u);
  EXPECT_THAT(first.batches.at(0), ElementsAre("k1=v"));
  EXPECT_THAT(second.batches.at(0), ElementsAre("k1=v"));
}

TEST(ThreadCacheTest, CloseDropsTheCacheWithoutFlushing) {
  ThreadCache cache(1 << 20);
  Flushes first;
  Flushes second;
  cache.add_named_cache("first", first.listener());
  cache.add_named_cache("second", second.listener());
  put(cache, "first", "a", "1");
  put(cache, "second", "b", "2");
  cache.close("first");
  EXPECT_FALSE(cache.has_named_cache("first"));
  EXPECT_THAT(first.batches, IsEmpty());
  EXPECT_EQ(cache.size_bytes(), size_of("b", "2"));
  EXPECT_EQ(cache.stats().entries, 1u);
  EXPECT_THROW(put(cache, "first", "a", "1"), std::logic_error);
}

TEST(ThreadCacheTest, CloseTaskDropsEveryCacheOfThatTaskOnly) {
  ThreadCache cache(1 << 20);
  Flushes flushes;
  for (const std::string name : {"1_1-a", "1_1-b", "1_10-a", "0_1-a"}) {
    cache.add_named_cache(name, flushes.listener());
    put(cache, name, "k", "v");
  }
  cache.close_task(TaskId{1, 1});
  EXPECT_FALSE(cache.has_named_cache("1_1-a"));
  EXPECT_FALSE(cache.has_named_cache("1_1-b"));
  EXPECT_TRUE(cache.has_named_cache("1_10-a"));
  EXPECT_TRUE(cache.has_named_cache("0_1-a"));
  EXPECT_EQ(cache.size_bytes(), 2 * size_of("k", "v"));
  EXPECT_THAT(flushes.batches, IsEmpty());
}

TEST(ThreadCacheTest, RangesAreCopiesInKeyOrder) {
  ThreadCache cache(1 << 20);
  Flushes flushes;
  cache.add_named_cache("c", flushes.listener());
  for (std::string key : {"b", "a", "ab", "c", "abc"}) put(cache, "c", key, key);
  put(cache, "c", "d", std::nullopt);
  auto keys = [](const std::vector<KeyValue<Bytes, std::optional<Bytes>>>& entries) {
    std::vector<std::string> out;
    for (const auto& entry : entries) out.push_back(to_string(entry.key));
    return out;
  };
  EXPECT_THAT(keys(cache.range("c", std::nullopt, std::nullopt)),
              ElementsAre("a", "ab", "abc", "b", "c", "d"));
  const Bytes from = b("ab");
  const Bytes to = b("c");
  EXPECT_THAT(keys(cache.range("c", ByteView(from), ByteView(to))),
              ElementsAre("ab", "abc", "b", "c"));
  EXPECT_THAT(keys(cache.range("c", ByteView(to), ByteView(from))), IsEmpty());
  EXPECT_THAT(keys(cache.prefix_scan("c", b("ab"))), ElementsAre("ab", "abc"));
  EXPECT_THAT(keys(cache.range("none", std::nullopt, std::nullopt)), IsEmpty());
  EXPECT_EQ(cache.stats().hits + cache.stats().misses, 0u);  // ranges are not reads
}

TEST(ThreadCacheTest, AListenerMayWriteToTheCacheItFlushes) {
  ThreadCache cache(1 << 20);
  std::vector<std::string> seen;
  cache.add_named_cache("c", [&](std::span<const ThreadCache::DirtyEntry> entries) {
    for (const auto& entry : entries) {
      seen.push_back(to_string(entry.key));
      if (to_string(entry.key) == "a") put(cache, "c", "again", "1");
      if (to_string(entry.key) == "gone") put(cache, "c", "gone", "back");
    }
  });
  put(cache, "c", "a", "1");
  put(cache, "c", "gone", std::nullopt);
  cache.flush("c");
  EXPECT_THAT(seen, ElementsAre("a", "gone"));
  // Written during the flush: dirty for the next one, and the re-written delete stays.
  EXPECT_EQ(cached(cache, "c", "gone"), "back");
  cache.flush("c");
  EXPECT_THAT(seen, ElementsAre("a", "gone", "again", "gone"));
}

TEST(ThreadCacheTest, ACleanWriteOverADirtyEntryIsRefused) {
  ThreadCache cache(1 << 20);
  Flushes flushes;
  cache.add_named_cache("c", flushes.listener());
  put(cache, "c", "a", "1");
  const Bytes v = b("2");
  EXPECT_THROW(cache.put_clean("c", b("a"), v), std::logic_error);
  cache.flush("c");
  cache.put_clean("c", b("a"), v);
  EXPECT_EQ(cached(cache, "c", "a"), "2");
  EXPECT_FALSE(cache.get("c", b("a"))->dirty);
}

// ---- Cache keys of windowed stores ------------------------------------------------------------

TEST(CacheKeyTest, WindowedCacheKeysSortByKeyThenTime) {
  using state::caching::session_cache_key;
  using state::caching::window_cache_key;
  const Bytes zero_a{0x61, 0x00};  // "a\0"
  std::vector<Bytes> ordered = {
      window_cache_key(b("a"), -5),       window_cache_key(b("a"), 0),
      window_cache_key(b("a"), 7),        window_cache_key(zero_a, -100),
      window_cache_key(b("a\x01"), -100), window_cache_key(b("b"), -1000),
  };
  for (std::size_t i = 1; i < ordered.size(); ++i) {
    EXPECT_LT(compare_bytes(ordered[i - 1], ordered[i]), 0) << i;
  }
  const auto decoded = state::caching::decode_cache_key(window_cache_key(zero_a, -100), 1);
  EXPECT_EQ(decoded.key, zero_a);
  EXPECT_EQ(decoded.first, -100);
  const auto session = state::caching::decode_cache_key(session_cache_key(b("k"), 3, 9), 2);
  EXPECT_EQ(session.key, b("k"));
  EXPECT_EQ(session.first, 9);  // the end first
  EXPECT_EQ(session.second, 3);
  EXPECT_LT(compare_bytes(session_cache_key(b("k"), 5, 8), session_cache_key(b("k"), 1, 9)), 0);
}

// ---- Key-value caching layer -----------------------------------------------------------------

struct Change {
  std::string key;
  std::optional<std::string> new_value;
  std::optional<std::string> old_value;
  std::int64_t timestamp = 0;
  friend bool operator==(const Change&, const Change&) = default;
  friend std::ostream& operator<<(std::ostream& out, const Change& change) {
    return out << change.key << ": " << change.old_value.value_or("null") << " -> "
               << change.new_value.value_or("null") << " @" << change.timestamp;
  }
};

Change change(std::string key, std::optional<std::string> new_value,
              std::optional<std::string> old_value, std::int64_t timestamp) {
  return Change{std::move(key), std::move(new_value), std::move(old_value), timestamp};
}

std::vector<std::string> drain(KeyValueBytesStore::Iterator& it) {
  std::vector<std::string> out;
  while (it.has_next()) {
    auto entry = it.next();
    out.push_back(to_string(entry.key) + "=" + to_string(entry.value));
  }
  return out;
}

class KeyValueCacheTest : public ::testing::Test {
 protected:
  explicit KeyValueCacheTest(std::uint64_t capacity = 1 << 20) : cache_(capacity) {}

  // Builds the layer over a fake store that already holds `initial`, with caching on or off.
  void open(bool cached = true,
            std::vector<std::pair<std::string, std::string>> initial = {{"a", "0"}}) {
    auto inner = std::make_unique<FakeKeyValueStore>("store");
    for (const auto& [key, value] : initial) inner->put(b(key), ByteView(b(value)));
    inner_ = inner.get();
    context_ = std::make_unique<TestStoreContext>(dir_.path(), nullptr, cached ? &cache_ : nullptr);
    store_ = state::with_caching(std::move(inner));
    store_->init(*context_);
    store_->set_flush_listener([this](const state::CacheFlushEntry& entry) {
      changes_.push_back(Change{to_string(entry.key), text(entry.new_value), text(entry.old_value),
                                entry.timestamp});
    });
    inner_puts_at_open_ = inner_->calls().puts;
  }

  void put(std::string_view key, std::optional<std::string_view> value, std::int64_t ts = 0) {
    context_->set_record_timestamp(ts);
    if (value) {
      store_->put(b(key), ByteView(b(*value)));
    } else {
      store_->put(b(key), std::nullopt);
    }
  }
  std::optional<std::string> get(std::string_view key) { return text(store_->get(b(key))); }
  std::optional<std::string> below(std::string_view key) {
    auto it = inner_->data().find(b(key));
    if (it == inner_->data().end()) return std::nullopt;
    return to_string(it->second);
  }
  int inner_puts() const { return inner_->calls().puts - inner_puts_at_open_; }

  TempDir dir_;
  ThreadCache cache_;
  std::unique_ptr<TestStoreContext> context_;
  FakeKeyValueStore* inner_ = nullptr;
  std::unique_ptr<state::CachingKeyValueStore> store_;
  std::vector<Change> changes_;
  int inner_puts_at_open_ = 0;
};

TEST_F(KeyValueCacheTest, ConsecutiveUpdatesReachTheStoreAndListenerOnceWithTheOldestOldValue) {
  open();
  EXPECT_TRUE(store_->caching_enabled());
  put("a", "1", 10);
  put("b", "1", 11);
  put("a", "2", 12);
  put("a", "3", 13);
  EXPECT_THAT(changes_, IsEmpty());
  EXPECT_EQ(inner_puts(), 0);
  EXPECT_EQ(below("a"), "0");

  store_->flush();
  // In the order of the last writes: b, then a; a's old value is what the store held.
  EXPECT_THAT(changes_, ElementsAre(change("b", "1", std::nullopt, 11), change("a", "3", "0", 13)));
  EXPECT_EQ(inner_puts(), 2);
  EXPECT_EQ(below("a"), "3");
  EXPECT_EQ(inner_->calls().flushes, 1);

  changes_.clear();
  put("a", "4", 20);
  put("a", std::nullopt, 21);
  store_->flush();
  EXPECT_THAT(changes_, ElementsAre(change("a", std::nullopt, "3", 21)));
  EXPECT_EQ(below("a"), std::nullopt);
}

TEST_F(KeyValueCacheTest, ReadsSeeCachedWritesAndPendingDeletes) {
  open(true, {{"a", "0"}, {"x", "9"}});
  put("b", "1");
  EXPECT_EQ(get("b"), "1");
  EXPECT_EQ(get("a"), "0");  // from below, then cached
  EXPECT_EQ(get("a"), "0");
  EXPECT_EQ(inner_->calls().reads, 1);
  EXPECT_EQ(get("zz"), std::nullopt);

  const auto removed = store_->remove(b("x"));
  EXPECT_EQ(text(removed), "9");
  EXPECT_EQ(get("x"), std::nullopt);
  EXPECT_EQ(below("x"), "9");  // not yet written below

  EXPECT_EQ(text(store_->put_if_absent(b("x"), b("new"))), std::nullopt);
  EXPECT_EQ(text(store_->put_if_absent(b("b"), b("other"))), "1");
  EXPECT_EQ(get("x"), "new");
  EXPECT_EQ(get("b"), "1");

  std::vector<KeyValue<Bytes, std::optional<Bytes>>> batch = {{b("m"), b("1")},
                                                              {b("a"), std::nullopt}};
  store_->put_all(batch);
  EXPECT_EQ(get("m"), "1");
  EXPECT_EQ(get("a"), std::nullopt);
  EXPECT_EQ(inner_puts(), 0);

  store_->flush();
  EXPECT_EQ(below("x"), "new");
  EXPECT_EQ(below("a"), std::nullopt);
  EXPECT_EQ(below("m"), "1");
}

TEST_F(KeyValueCacheTest, RangesMergeTheCacheWithTheStoreInBothDirections) {
  open(true, {{"a", "1"}, {"c", "3"}, {"e", "5"}, {"g", "7"}});
  put("b", "2");             // only in the cache
  put("c", "30");            // the cache wins
  put("e", std::nullopt);    // a pending delete hides e
  put("h", "8");             // after every key below
  put("0", std::nullopt);    // a delete of a key that is nowhere
  EXPECT_EQ(get("g"), "7");  // cached clean: still listed once

  auto forward = store_->all();
  EXPECT_THAT(drain(*forward), ElementsAre("a=1", "b=2", "c=30", "g=7", "h=8"));
  auto backward = store_->all(false);
  EXPECT_THAT(drain(*backward), ElementsAre("h=8", "g=7", "c=30", "b=2", "a=1"));

  const Bytes from = b("b");
  const Bytes to = b("g");
  auto bounded = store_->range(ByteView(from), ByteView(to), true);
  EXPECT_THAT(drain(*bounded), ElementsAre("b=2", "c=30", "g=7"));
  auto bounded_back = store_->range(ByteView(from), ByteView(to), false);
  EXPECT_THAT(drain(*bounded_back), ElementsAre("g=7", "c=30", "b=2"));
  auto empty = store_->range(ByteView(to), ByteView(from), true);
  EXPECT_FALSE(empty->has_next());

  store_->flush();  // the same view once everything is below
  auto after = store_->all(false);
  EXPECT_THAT(drain(*after), ElementsAre("h=8", "g=7", "c=30", "b=2", "a=1"));
}

TEST_F(KeyValueCacheTest, PrefixScanMergesTheCacheWithTheStore) {
  open(true, {{"ab", "1"}, {"abd", "2"}, {"ac", "3"}});
  put("abc", "c");
  put("abd", std::nullopt);
  put("b", "x");
  auto it = store_->prefix_scan(b("ab"));
  EXPECT_THAT(drain(*it), ElementsAre("ab=1", "abc=c"));
}

TEST_F(KeyValueCacheTest, WithoutACacheEveryWriteGoesBelowAndToTheListener) {
  open(false);
  EXPECT_FALSE(store_->caching_enabled());
  put("a", "1", 5);
  EXPECT_EQ(below("a"), "1");
  put("a", "2", 6);
  EXPECT_EQ(text(store_->remove(b("a"))), "2");
  EXPECT_EQ(text(store_->put_if_absent(b("n"), b("1"))), std::nullopt);
  EXPECT_THAT(changes_,
              ElementsAre(change("a", "1", "0", 5), change("a", "2", "1", 6),
                          change("a", std::nullopt, "2", 6), change("n", "1", std::nullopt, 6)));
  EXPECT_EQ(cache_.stats().entries, 0u);
  EXPECT_EQ(inner_puts(), 4);
}

TEST_F(KeyValueCacheTest, WithoutOldValuesTheStoreIsNotReadOnFlush) {
  open();
  store_->set_flush_listener(
      [this](const state::CacheFlushEntry& entry) {
        changes_.push_back(Change{to_string(entry.key), text(entry.new_value),
                                  text(entry.old_value), entry.timestamp});
      },
      false);
  put("a", "1", 1);
  const int reads = inner_->calls().reads;
  store_->flush();
  EXPECT_EQ(inner_->calls().reads, reads);
  EXPECT_THAT(changes_, ElementsAre(change("a", "1", std::nullopt, 1)));
}

TEST_F(KeyValueCacheTest, CloseFlushesDropsTheNamedCacheAndClosesTheStore) {
  open();
  const std::string name = ThreadCache::cache_name(context_->task_id(), "store");
  EXPECT_TRUE(cache_.has_named_cache(name));
  put("a", "1", 3);
  store_->close();
  EXPECT_THAT(changes_, ElementsAre(change("a", "1", "0", 3)));
  EXPECT_EQ(below("a"), "1");
  EXPECT_FALSE(cache_.has_named_cache(name));
  EXPECT_EQ(cache_.size_bytes(), 0u);
  EXPECT_EQ(inner_->calls().closes, 1);
  EXPECT_FALSE(store_->is_open());
}

class SmallKeyValueCacheTest : public KeyValueCacheTest {
 protected:
  // Room for two entries of one-byte keys and values.
  SmallKeyValueCacheTest() : KeyValueCacheTest(2 * size_of("k", "v")) {}
};

TEST_F(SmallKeyValueCacheTest, EvictionWritesBelowAndTellsTheListener) {
  open(true, {});
  put("a", "1", 1);
  put("b", "1", 2);
  put("a", "2", 3);  // a is now the most recently used
  EXPECT_THAT(changes_, IsEmpty());
  put("c", "1", 4);  // evicts b, which alone goes below
  EXPECT_THAT(changes_, ElementsAre(change("b", "1", std::nullopt, 2)));
  EXPECT_EQ(below("b"), "1");
  EXPECT_EQ(below("a"), std::nullopt);
  EXPECT_EQ(get("b"), "1");  // read from below and cached, which evicts the dirty a
  EXPECT_THAT(changes_,
              ElementsAre(change("b", "1", std::nullopt, 2), change("a", "2", std::nullopt, 3)));
  EXPECT_EQ(cache_.stats().evictions, 2u);
  EXPECT_EQ(get("a"), "2");
}

class ZeroKeyValueCacheTest : public KeyValueCacheTest {
 protected:
  ZeroKeyValueCacheTest() : KeyValueCacheTest(0) {}
};

TEST_F(ZeroKeyValueCacheTest, CapacityZeroWritesThrough) {
  open();
  EXPECT_TRUE(store_->caching_enabled());
  put("a", "1", 1);
  put("a", "2", 2);
  EXPECT_THAT(changes_, ElementsAre(change("a", "1", "0", 1), change("a", "2", "1", 2)));
  EXPECT_EQ(below("a"), "2");
  EXPECT_EQ(get("a"), "2");
  EXPECT_EQ(cache_.size_bytes(), 0u);
}

TEST(KeyValueCacheSharingTest, EvictionInOneStoreLeavesAnotherStoresCacheAlone) {
  TempDir dir;
  ThreadCache cache(3 * size_of("k", "v"));
  TestStoreContext context(dir.path(), nullptr, &cache);
  auto first_inner = std::make_unique<FakeKeyValueStore>("first");
  auto second_inner = std::make_unique<FakeKeyValueStore>("second");
  FakeKeyValueStore* second_below = second_inner.get();
  auto first = state::with_caching(std::move(first_inner));
  auto second = state::with_caching(std::move(second_inner));
  first->init(context);
  second->init(context);
  int first_changes = 0;
  int second_changes = 0;
  first->set_flush_listener([&](const state::CacheFlushEntry&) { ++first_changes; });
  second->set_flush_listener([&](const state::CacheFlushEntry&) { ++second_changes; });

  second->put(b("s"), ByteView(b("v")));
  for (std::string key : {"a", "b", "c", "d", "e"}) first->put(b(key), ByteView(b("v")));
  EXPECT_GT(first_changes, 0);
  EXPECT_EQ(second_changes, 0);
  EXPECT_TRUE(second_below->data().empty());
  EXPECT_EQ(text(second->get(b("s"))), "v");
  second->flush();
  EXPECT_EQ(second_changes, 1);
}

// ---- Window caching layer --------------------------------------------------------------------

struct WindowChange {
  std::string key;
  Window window;
  std::optional<std::string> new_value;
  std::optional<std::string> old_value;
  std::int64_t timestamp = 0;
  friend bool operator==(const WindowChange&, const WindowChange&) = default;
  friend std::ostream& operator<<(std::ostream& out, const WindowChange& c) {
    return out << c.key << "@[" << c.window.start << "," << c.window.end
               << "]: " << c.old_value.value_or("null") << " -> " << c.new_value.value_or("null")
               << " @" << c.timestamp;
  }
};

std::vector<std::string> drain(WindowBytesStore::Iterator& it) {
  std::vector<std::string> out;
  while (it.has_next()) {
    auto entry = it.next();
    out.push_back(to_string(entry.key) + "@" + std::to_string(entry.window_start) + "=" +
                  to_string(entry.value));
  }
  return out;
}

// The entries of one key, in the order an iterator returned them.
std::vector<std::string> of_key(const std::vector<std::string>& entries, const std::string& key) {
  std::vector<std::string> out;
  for (const auto& entry : entries) {
    if (entry.rfind(key + "@", 0) == 0) out.push_back(entry);
  }
  return out;
}

class WindowCacheTest : public ::testing::Test {
 protected:
  void open(bool cached = true, bool retain_duplicates = false) {
    auto inner = std::make_unique<FakeWindowStore>("windows", 1000, 10, retain_duplicates);
    inner_ = inner.get();
    context_ = std::make_unique<TestStoreContext>(dir_.path(), nullptr, cached ? &cache_ : nullptr);
    store_ = state::with_caching(std::move(inner));
    store_->init(*context_);
    store_->set_flush_listener([this](const state::WindowCacheFlushEntry& entry) {
      changes_.push_back(WindowChange{to_string(entry.key), entry.window, text(entry.new_value),
                                      text(entry.old_value), entry.timestamp});
    });
  }
  void put(std::string_view key, std::int64_t start, std::optional<std::string_view> value,
           std::int64_t ts = 0) {
    context_->set_record_timestamp(ts);
    if (value) {
      store_->put(b(key), ByteView(b(*value)), start);
    } else {
      store_->put(b(key), std::nullopt, start);
    }
  }
  // Writes straight into the store below.
  void put_below(std::string_view key, std::int64_t start, std::string_view value) {
    inner_->put(b(key), ByteView(b(value)), start);
  }

  TempDir dir_;
  ThreadCache cache_{1 << 20};
  std::unique_ptr<TestStoreContext> context_;
  FakeWindowStore* inner_ = nullptr;
  std::unique_ptr<state::CachingWindowStore> store_;
  std::vector<WindowChange> changes_;
};

TEST_F(WindowCacheTest, ConsecutiveUpdatesOfAWindowAreMerged) {
  open();
  put_below("k", 0, "old");
  put("k", 0, "1", 1);
  put("k", 10, "a", 2);
  put("k", 0, "2", 3);
  EXPECT_EQ(text(store_->fetch(b("k"), 0)), "2");
  EXPECT_EQ(inner_->calls().puts, 1);
  store_->flush();
  EXPECT_THAT(changes_, ElementsAre(WindowChange{"k", {10, 20}, "a", std::nullopt, 2},
                                    WindowChange{"k", {0, 10}, "2", "old", 3}));
  EXPECT_EQ(inner_->calls().puts, 3);
  EXPECT_EQ(inner_->calls().flushes, 1);
}

TEST_F(WindowCacheTest, FetchOfOneKeyMergesInBothDirections) {
  open();
  put_below("k", 0, "b0");
  put_below("k", 20, "b20");
  put_below("k", 40, "b40");
  put_below("other", 10, "x");
  put("k", 10, "c10");
  put("k", 20, "c20");
  put("k", 40, std::nullopt);
  put("k", 50, "c50");
  put("k\x01", 30, "not k");

  auto forward = store_->fetch(b("k"), 0, 100, true);
  EXPECT_THAT(drain(*forward), ElementsAre("k@0=b0", "k@10=c10", "k@20=c20", "k@50=c50"));
  auto backward = store_->fetch(b("k"), 0, 100, false);
  EXPECT_THAT(drain(*backward), ElementsAre("k@50=c50", "k@20=c20", "k@10=c10", "k@0=b0"));
  auto bounded = store_->fetch(b("k"), 10, 40, true);
  EXPECT_THAT(drain(*bounded), ElementsAre("k@10=c10", "k@20=c20"));
  EXPECT_EQ(store_->fetch(b("k"), 40), std::nullopt);
  EXPECT_EQ(text(store_->fetch(b("k"), 0)), "b0");
}

TEST_F(WindowCacheTest, FetchRangeKeepsEachKeysOrderWhateverTheInterleaving) {
  open();
  put_below("a", 0, "b");
  put_below("a", 20, "b");
  put_below("b", 10, "b");
  put_below("c", 0, "b");
  put("a", 10, "c");
  put("a", 20, "c");
  put("b", 10, std::nullopt);
  put("b", 30, "c");
  put("d", 5, "c");

  for (bool forward : {true, false}) {
    SCOPED_TRACE(forward ? "forward" : "backward");
    auto all = store_->fetch_all(0, 100, forward);
    const auto entries = drain(*all);
    EXPECT_EQ(entries.size(), 6u);
    auto in_order = [forward](std::vector<std::string> v) {
      if (!forward) std::reverse(v.begin(), v.end());
      return v;
    };
    EXPECT_EQ(of_key(entries, "a"), in_order({"a@0=b", "a@10=c", "a@20=c"}));
    EXPECT_EQ(of_key(entries, "b"), in_order({"b@30=c"}));
    EXPECT_EQ(of_key(entries, "c"), in_order({"c@0=b"}));
    EXPECT_EQ(of_key(entries, "d"), in_order({"d@5=c"}));

    const Bytes from = b("b");
    const Bytes to = b("c");
    auto range = store_->fetch_range(ByteView(from), ByteView(to), 0, 20, forward);
    EXPECT_THAT(drain(*range), ElementsAre("c@0=b"));
    auto open_from = store_->fetch_range(std::nullopt, ByteView(from), 10, 20, forward);
    EXPECT_EQ(drain(*open_from), in_order({"a@10=c", "a@20=c"}));
  }
}

TEST_F(WindowCacheTest, WindowsPastRetentionAreHidden) {
  open();
  put("k", 0, "early");
  put("k", 1000, "late");  // retention 1000: window 0 is expired now
  EXPECT_EQ(store_->fetch(b("k"), 0), std::nullopt);
  auto all = store_->fetch(b("k"), 0, 2000, true);
  EXPECT_THAT(drain(*all), ElementsAre("k@1000=late"));
}

TEST_F(WindowCacheTest, WithoutACacheWritesGoBelowAtOnce) {
  open(false);
  EXPECT_FALSE(store_->caching_enabled());
  put("k", 0, "1", 7);
  EXPECT_EQ(inner_->calls().puts, 1);
  EXPECT_THAT(changes_, ElementsAre(WindowChange{"k", {0, 10}, "1", std::nullopt, 7}));
}

TEST_F(WindowCacheTest, StoresRetainingDuplicatesAreNotCached) {
  open(true, true);
  EXPECT_FALSE(store_->caching_enabled());
  put("k", 0, "1");
  put("k", 0, "2");
  EXPECT_EQ(inner_->calls().puts, 2);
  EXPECT_EQ(cache_.stats().entries, 0u);
}

// ---- Session caching layer -------------------------------------------------------------------

struct SessionChange {
  std::string key;
  Window session;
  std::optional<std::string> new_value;
  std::optional<std::string> old_value;
  friend bool operator==(const SessionChange&, const SessionChange&) = default;
  friend std::ostream& operator<<(std::ostream& out, const SessionChange& c) {
    return out << c.key << "@[" << c.session.start << "," << c.session.end
               << "]: " << c.old_value.value_or("null") << " -> " << c.new_value.value_or("null");
  }
};

std::vector<std::string> drain(SessionBytesStore::Iterator& it) {
  std::vector<std::string> out;
  while (it.has_next()) {
    auto entry = it.next();
    out.push_back(to_string(entry.key) + "@" + std::to_string(entry.start) + "-" +
                  std::to_string(entry.end) + "=" + to_string(entry.value));
  }
  return out;
}

class SessionCacheTest : public ::testing::Test {
 protected:
  void open(bool cached = true) {
    auto inner = std::make_unique<FakeSessionStore>("sessions", 1000);
    inner_ = inner.get();
    context_ = std::make_unique<TestStoreContext>(dir_.path(), nullptr, cached ? &cache_ : nullptr);
    store_ = state::with_caching(std::move(inner));
    store_->init(*context_);
    store_->set_flush_listener([this](const state::SessionCacheFlushEntry& entry) {
      changes_.push_back(SessionChange{to_string(entry.key), entry.window, text(entry.new_value),
                                       text(entry.old_value)});
    });
  }
  void put(std::string_view key, std::int64_t start, std::int64_t end,
           std::optional<std::string_view> value) {
    if (value) {
      store_->put(b(key), start, end, ByteView(b(*value)));
    } else {
      store_->put(b(key), start, end, std::nullopt);
    }
  }
  void put_below(std::string_view key, std::int64_t start, std::int64_t end,
                 std::string_view value) {
    inner_->put(b(key), start, end, ByteView(b(value)));
  }

  TempDir dir_;
  ThreadCache cache_{1 << 20};
  std::unique_ptr<TestStoreContext> context_;
  FakeSessionStore* inner_ = nullptr;
  std::unique_ptr<state::CachingSessionStore> store_;
  std::vector<SessionChange> changes_;
};

TEST_F(SessionCacheTest, ConsecutiveUpdatesOfASessionAreMerged) {
  open();
  put_below("k", 0, 5, "old");
  put("k", 0, 5, "1");
  put("k", 0, 5, "2");
  put("k", 0, 5, std::nullopt);  // merged into a longer session
  put("k", 0, 9, "3");
  EXPECT_EQ(store_->fetch_session(b("k"), 0, 5), std::nullopt);
  EXPECT_EQ(text(store_->fetch_session(b("k"), 0, 9)), "3");
  store_->flush();
  EXPECT_THAT(changes_, ElementsAre(SessionChange{"k", {0, 5}, std::nullopt, "old"},
                                    SessionChange{"k", {0, 9}, "3", std::nullopt}));
  EXPECT_TRUE(inner_->data().count({b("k"), 9, 0}) == 1);
  EXPECT_TRUE(inner_->data().count({b("k"), 5, 0}) == 0);
}

TEST_F(SessionCacheTest, FindSessionsMergesByEndThenStartInBothDirections) {
  open();
  put_below("k", 0, 10, "b");
  put_below("k", 20, 30, "b");
  put_below("k", 50, 60, "b");
  put("k", 5, 10, "c");   // same end as a session below, later start
  put("k", 20, 30, "c");  // replaces
  put("k", 50, 60, std::nullopt);
  put("k", 70, 80, "c");
  put("kk", 0, 10, "other key");

  auto forward = store_->find_sessions(b("k"), 0, 100, true);
  EXPECT_THAT(drain(*forward), ElementsAre("k@0-10=b", "k@5-10=c", "k@20-30=c", "k@70-80=c"));
  auto backward = store_->find_sessions(b("k"), 0, 100, false);
  EXPECT_THAT(drain(*backward), ElementsAre("k@70-80=c", "k@20-30=c", "k@5-10=c", "k@0-10=b"));
  // Sessions a record at 25 with a gap of 5 may merge with: end >= 20, start <= 30.
  auto candidates = store_->find_sessions(b("k"), 20, 30, true);
  EXPECT_THAT(drain(*candidates), ElementsAre("k@20-30=c"));

  auto range = store_->find_sessions_range(std::nullopt, std::nullopt, 0, 100, true);
  const auto entries = drain(*range);
  EXPECT_EQ(entries.size(), 5u);
  EXPECT_EQ(of_key(entries, "kk"), std::vector<std::string>{"kk@0-10=other key"});
}

TEST_F(SessionCacheTest, WithoutACacheWritesGoBelowAtOnce) {
  open(false);
  put("k", 0, 5, "1");
  EXPECT_EQ(inner_->calls().puts, 1);
  EXPECT_THAT(changes_, ElementsAre(SessionChange{"k", {0, 5}, "1", std::nullopt}));
}

}  // namespace
}  // namespace rivulet
