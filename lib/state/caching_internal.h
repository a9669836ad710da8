// Internal to the caching layers: how windowed keys are laid out in the record cache, and the
// iterators that merge the cache's entries with the store below.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <rivulet/key_value.h>
#include <rivulet/record.h>
#include <rivulet/state/state_store.h>

#include "state/thread_cache.h"

namespace rivulet::state::caching {

inline std::optional<ByteView> view(const std::optional<Bytes>& bytes) {
  if (!bytes) return std::nullopt;
  return ByteView(*bytes);
}

// ---- Cache keys of windowed stores ---------------------------------------------------------
// A window store's entry is cached under [key escaped][window start]; a session's under
// [key escaped][end][start]. The key is escaped so that the byte order of cache keys is the order
// of (key, times...): each 0x00 becomes 0x00 0xFF and the key ends with 0x00 0x00. Times are
// 8 bytes big-endian with the sign bit flipped, so that they sort as signed numbers. A key's
// entries are then one contiguous, time-ordered range of the cache.

constexpr std::int64_t kMinTime = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMaxTime = std::numeric_limits<std::int64_t>::max();

void append_key(Bytes& out, ByteView key);
void append_time(Bytes& out, std::int64_t time);
Bytes window_cache_key(ByteView key, std::int64_t window_start);
Bytes session_cache_key(ByteView key, std::int64_t start, std::int64_t end);

// The parts of a cache key.
struct DecodedCacheKey {
  Bytes key;
  std::int64_t first = 0;   // window start, or session end
  std::int64_t second = 0;  // session start (session keys only)
};
// REQUIRES: `cache_key` was made by window_cache_key (times == 1) or session_cache_key (2).
DecodedCacheKey decode_cache_key(ByteView cache_key, int times);

// max(time, observed - retention + 1): the earliest time a segmented store still returns, after
// it has seen `observed`; `time` when nothing was observed.
std::int64_t earliest_retained(std::int64_t time, std::optional<std::int64_t> observed,
                               std::int64_t retention);

// ---- Key-value merge ----------------------------------------------------------------------

// Merges a copy of the cache's entries in a key range (ascending) with the store's iterator over
// the same range: strictly ordered, ascending when `forward`, descending otherwise.
class MergedKeyValueIterator final : public KeyValueBytesStore::Iterator {
 public:
  MergedKeyValueIterator(std::vector<KeyValue<Bytes, std::optional<Bytes>>> cached,
                         std::unique_ptr<KeyValueBytesStore::Iterator> inner, bool forward)
      : cached_(std::move(cached)), inner_(std::move(inner)), forward_(forward) {
    if (!forward_) std::reverse(cached_.begin(), cached_.end());
  }

  bool has_next() override {
    fill();
    return next_.has_value();
  }
  KeyValue<Bytes, Bytes> next() override {
    fill();
    KeyValue<Bytes, Bytes> out = std::move(*next_);
    next_.reset();
    return out;
  }

 private:
  void fill() {
    while (!next_) {
      if (!inner_head_ && inner_->has_next()) inner_head_ = inner_->next();
      const bool has_cached = position_ < cached_.size();
      if (!has_cached && !inner_head_) return;
      int order;  // < 0: the cached entry comes first
      if (!has_cached) {
        order = 1;
      } else if (!inner_head_) {
        order = -1;
      } else {
        order = compare_bytes(cached_[position_].key, inner_head_->key);
        if (!forward_) order = -order;
      }
      if (order > 0) {
        next_ = std::move(*inner_head_);
        inner_head_.reset();
        continue;
      }
      if (order == 0) inner_head_.reset();  // the cache holds the newer value
      auto& entry = cached_[position_++];
      if (entry.value)
        next_ = KeyValue<Bytes, Bytes>{std::move(entry.key), std::move(*entry.value)};
    }
  }

  std::vector<KeyValue<Bytes, std::optional<Bytes>>> cached_;  // in output order
  std::size_t position_ = 0;
  std::unique_ptr<KeyValueBytesStore::Iterator> inner_;
  std::optional<KeyValue<Bytes, Bytes>> inner_head_;
  std::optional<KeyValue<Bytes, Bytes>> next_;
  bool forward_;
};

// ---- Windowed merge -----------------------------------------------------------------------

// A cached window or session: the entry it stands for, or a pending delete of it.
template <class E>
struct CachedEntry {
  E entry;
  bool deleted = false;
};

// Merges cached windowed entries with the store's iterator when only each key's entries are
// ordered (by time; reversed when !forward) and keys interleave in any way, as the window and
// session store interfaces allow. Each entry from below is preceded by the cached entries of its
// key that come before it; an equal entry from the cache replaces it; cached entries left when the
// store's iterator ends follow, key by key. `TimeOf` maps an entry to its comparable time.
template <class E, class TimeOf>
class MergedWindowedIterator final : public StoreIterator<E> {
 public:
  // REQUIRES: `cached` is sorted by key, then by time ascending, and holds no two equal entries.
  MergedWindowedIterator(std::vector<CachedEntry<E>> cached,
                         std::unique_ptr<StoreIterator<E>> inner, bool forward)
      : cached_(std::move(cached)), inner_(std::move(inner)), forward_(forward) {
    std::size_t begin = 0;
    while (begin < cached_.size()) {
      std::size_t end = begin + 1;
      while (end < cached_.size() &&
             compare_bytes(cached_[end].entry.key, cached_[begin].entry.key) == 0) {
        ++end;
      }
      if (!forward_) {
        std::reverse(cached_.begin() + static_cast<std::ptrdiff_t>(begin),
                     cached_.begin() + static_cast<std::ptrdiff_t>(end));
      }
      groups_.push_back(Group{cached_[begin].entry.key, begin, end, begin});
      begin = end;
    }
  }

  bool has_next() override {
    fill();
    return !out_.empty();
  }
  E next() override {
    fill();
    E out = std::move(out_.front());
    out_.pop_front();
    return out;
  }

 private:
  struct Group {
    Bytes key;  // a copy: emitted entries are moved from
    std::size_t begin;
    std::size_t end;
    std::size_t next;  // the first entry not emitted yet
  };

  bool before(const E& a, const E& b) const {
    return forward_ ? TimeOf{}(a) < TimeOf{}(b) : TimeOf{}(b) < TimeOf{}(a);
  }

  Group* find_group(ByteView key) {
    auto it = std::lower_bound(
        groups_.begin(), groups_.end(), key,
        [](const Group& group, ByteView k) { return compare_bytes(group.key, k) < 0; });
    if (it == groups_.end() || compare_bytes(it->key, key) != 0) {
      return nullptr;
    }
    return &*it;
  }

  void emit_cached(std::size_t index) {
    if (!cached_[index].deleted) out_.push_back(std::move(cached_[index].entry));
  }

  void fill() {
    while (out_.empty()) {
      if (inner_->has_next()) {
        E entry = inner_->next();
        if (Group* group = find_group(entry.key)) {
          while (group->next < group->end && before(cached_[group->next].entry, entry)) {
            emit_cached(group->next++);
          }
          if (group->next < group->end && !before(entry, cached_[group->next].entry)) {
            emit_cached(group->next++);  // the same window: the cache holds the newer value
            continue;
          }
        }
        out_.push_back(std::move(entry));
      } else {
        if (drained_ == groups_.size()) return;
        Group& group = groups_[drained_++];
        while (group.next < group.end) emit_cached(group.next++);
      }
    }
  }

  std::vector<CachedEntry<E>> cached_;
  std::vector<Group> groups_;  // by key
  std::size_t drained_ = 0;    // groups emitted after the store's iterator ended
  std::unique_ptr<StoreIterator<E>> inner_;
  std::deque<E> out_;
  bool forward_;
};

struct WindowTime {
  std::int64_t operator()(const WindowBytesEntry& entry) const { return entry.window_start; }
};
// A key's sessions are ordered by end, then start.
struct SessionTime {
  std::pair<std::int64_t, std::int64_t> operator()(const SessionBytesEntry& entry) const {
    return {entry.end, entry.start};
  }
};

using MergedWindowIterator = MergedWindowedIterator<WindowBytesEntry, WindowTime>;
using MergedSessionIterator = MergedWindowedIterator<SessionBytesEntry, SessionTime>;

// What the three caching layers share: the store's identity comes from the inner store; at init
// the layer registers a named cache with the thread's record cache (when caching is on and the
// inner store can be cached); flush and close write that cache below, then flush or close the
// inner store; the flush listener and whether it wants old values are kept here. `Interface` is
// the layer's interface (CachingKeyValueStore, ...), `Inner` the byte store below; the subclass
// writes a batch of dirty entries below in `write_below`.
template <class Interface, class Inner>
class CachingLayer : public Interface {
 public:
  using FlushListener = typename Interface::FlushListener;

  CachingLayer(std::unique_ptr<Inner> inner, bool enabled)
      : inner_(std::move(inner)), enabled_(enabled) {}

  const std::string& name() const override { return inner_->name(); }
  bool persistent() const override { return inner_->persistent(); }
  bool is_open() const override { return inner_->is_open(); }

  void init(StateStoreContext& context) override {
    inner_->init(context);
    context_ = &context;
    cache_ = (enabled_ && cacheable()) ? context.cache() : nullptr;
    if (cache_ != nullptr) {
      cache_name_ = ThreadCache::cache_name(context.task_id(), name());
      cache_->add_named_cache(
          cache_name_,
          [this](std::span<const ThreadCache::DirtyEntry> entries) { write_below(entries); });
    }
  }

  void flush() override {
    if (cache_ != nullptr) cache_->flush(cache_name_);
    inner_->flush();
  }

  void close() override {
    std::exception_ptr failure;
    if (cache_ != nullptr) {
      try {
        cache_->flush(cache_name_);
      } catch (...) {
        failure = std::current_exception();
      }
      cache_->close(cache_name_);
    }
    inner_->close();
    if (failure) std::rethrow_exception(failure);
  }

  void set_flush_listener(FlushListener listener, bool send_old_values) override {
    listener_ = std::move(listener);
    send_old_values_ = send_old_values;
  }
  bool caching_enabled() const override { return cache_ != nullptr; }

 protected:
  // Whether the inner store can be cached at all.
  virtual bool cacheable() const { return true; }
  // Writes dirty entries (evicted or flushed) to the inner store and tells the listener.
  virtual void write_below(std::span<const ThreadCache::DirtyEntry> entries) = 0;

  std::unique_ptr<Inner> inner_;
  bool enabled_;
  StateStoreContext* context_ = nullptr;
  ThreadCache* cache_ = nullptr;  // nullptr: caching off
  std::string cache_name_;
  FlushListener listener_;
  bool send_old_values_ = true;
};

}  // namespace rivulet::state::caching
