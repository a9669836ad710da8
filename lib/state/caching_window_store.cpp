// The caching layer of window stores (Kafka Streams' CachingWindowStore).
#include <algorithm>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "state/caching_internal.h"
#include "state/caching_stores.h"
#include "state/thread_cache.h"

namespace rivulet::state {

namespace {

using caching::CachedEntry;
using caching::kMaxTime;
using caching::view;

class CachingWindowStoreImpl final
    : public caching::CachingLayer<CachingWindowStore, WindowBytesStore> {
 public:
  using CachingLayer::CachingLayer;

  std::int64_t window_size() const override { return inner_->window_size(); }
  std::int64_t retention_period() const override { return inner_->retention_period(); }
  bool retain_duplicates() const override { return inner_->retain_duplicates(); }

  void put(ByteView key, std::optional<ByteView> value, std::int64_t window_start) override {
    if (cache_ != nullptr) {
      observed_ = std::max(observed_.value_or(window_start), window_start);
      cache_->put(cache_name_, caching::window_cache_key(key, window_start), value,
                  context_->record_timestamp());
      return;
    }
    if (!listener_) {
      inner_->put(key, value, window_start);
      return;
    }
    std::optional<Bytes> old;
    if (send_old_values_ && !inner_->retain_duplicates()) old = inner_->fetch(key, window_start);
    inner_->put(key, value, window_start);
    listener_(WindowCacheFlushEntry{key, window_of(window_start), value, view(old),
                                    context_->record_timestamp()});
  }

  std::optional<Bytes> fetch(ByteView key, std::int64_t window_start) override {
    if (cache_ == nullptr) return inner_->fetch(key, window_start);
    if (window_start < earliest(window_start)) return std::nullopt;
    if (const ThreadCache::Entry* entry =
            cache_->get(cache_name_, caching::window_cache_key(key, window_start))) {
      return entry->value;
    }
    return inner_->fetch(key, window_start);
  }

  std::unique_ptr<Iterator> fetch(ByteView key, std::int64_t time_from, std::int64_t time_to,
                                  bool forward) override {
    if (cache_ == nullptr) return inner_->fetch(key, time_from, time_to, forward);
    time_from = earliest(time_from);
    auto cached = cached_entries(caching::window_cache_key(key, time_from),
                                 caching::window_cache_key(key, time_to), time_from, time_to);
    return std::make_unique<caching::MergedWindowIterator>(
        std::move(cached), inner_->fetch(key, time_from, time_to, forward), forward);
  }

  std::unique_ptr<Iterator> fetch_range(std::optional<ByteView> key_from,
                                        std::optional<ByteView> key_to, std::int64_t time_from,
                                        std::int64_t time_to, bool forward) override {
    if (cache_ == nullptr) {
      return inner_->fetch_range(key_from, key_to, time_from, time_to, forward);
    }
    time_from = earliest(time_from);
    std::vector<CachedEntry<WindowBytesEntry>> cached;
    if (!key_from || !key_to || compare_bytes(*key_from, *key_to) <= 0) {
      std::optional<Bytes> lower;
      std::optional<Bytes> upper;
      if (key_from) lower = caching::window_cache_key(*key_from, time_from);
      if (key_to) upper = caching::window_cache_key(*key_to, time_to);
      cached = cached_entries(view(lower), view(upper), time_from, time_to);
    }
    return std::make_unique<caching::MergedWindowIterator>(
        std::move(cached), inner_->fetch_range(key_from, key_to, time_from, time_to, forward),
        forward);
  }

  std::unique_ptr<Iterator> fetch_all(std::int64_t time_from, std::int64_t time_to,
                                      bool forward) override {
    if (cache_ == nullptr) return inner_->fetch_all(time_from, time_to, forward);
    time_from = earliest(time_from);
    return std::make_unique<caching::MergedWindowIterator>(
        cached_entries(std::nullopt, std::nullopt, time_from, time_to),
        inner_->fetch_all(time_from, time_to, forward), forward);
  }

 private:
  // Duplicates have no key to merge on: such stores are never cached, as in Kafka Streams.
  bool cacheable() const override { return !inner_->retain_duplicates(); }

  Window window_of(std::int64_t start) const {
    const std::int64_t size = inner_->window_size();
    return Window{start, start > kMaxTime - size ? kMaxTime : start + size};
  }

  // Windows before the retention period, measured from the latest window start written here,
  // are hidden as the store below hides them.
  std::int64_t earliest(std::int64_t time_from) const {
    return caching::earliest_retained(time_from, observed_, inner_->retention_period());
  }

  // The cache's entries between two cache keys whose window start is in [time_from, time_to],
  // sorted by key, then window start.
  std::vector<CachedEntry<WindowBytesEntry>> cached_entries(std::optional<ByteView> lower,
                                                            std::optional<ByteView> upper,
                                                            std::int64_t time_from,
                                                            std::int64_t time_to) const {
    std::vector<CachedEntry<WindowBytesEntry>> out;
    if (time_from > time_to) return out;
    for (auto& [cache_key, value] : cache_->range(cache_name_, lower, upper)) {
      caching::DecodedCacheKey decoded = caching::decode_cache_key(cache_key, 1);
      if (decoded.first < time_from || decoded.first > time_to) continue;
      CachedEntry<WindowBytesEntry> entry;
      entry.entry.key = std::move(decoded.key);
      entry.entry.window_start = decoded.first;
      entry.deleted = !value.has_value();
      if (value) entry.entry.value = std::move(*value);
      out.push_back(std::move(entry));
    }
    return out;
  }

  void write_below(std::span<const ThreadCache::DirtyEntry> entries) override {
    const FlushListener listener = listener_;
    const bool read_old = listener && send_old_values_;
    std::vector<caching::DecodedCacheKey> keys;
    std::vector<std::optional<Bytes>> old_values;
    keys.reserve(entries.size());
    if (read_old) old_values.reserve(entries.size());
    for (const ThreadCache::DirtyEntry& entry : entries) {
      keys.push_back(caching::decode_cache_key(entry.key, 1));
      const caching::DecodedCacheKey& key = keys.back();
      if (read_old) old_values.push_back(inner_->fetch(key.key, key.first));
      inner_->put(key.key, view(entry.value), key.first);
    }
    if (!listener) return;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      listener(WindowCacheFlushEntry{keys[i].key, window_of(keys[i].first), view(entries[i].value),
                                     read_old ? view(old_values[i]) : std::nullopt,
                                     entries[i].timestamp});
    }
  }

  bool enabled_;                          // false: never cache, whatever the context offers
  std::optional<std::int64_t> observed_;  // the latest window start written through the cache
};

}  // namespace

std::unique_ptr<CachingWindowStore> with_caching(std::unique_ptr<WindowBytesStore> inner,
                                                 bool enabled) {
  return std::make_unique<CachingWindowStoreImpl>(std::move(inner), enabled);
}

}  // namespace rivulet::state
