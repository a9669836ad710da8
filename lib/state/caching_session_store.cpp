// The caching layer of session stores (Kafka Streams' CachingSessionStore).
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
using caching::kMinTime;
using caching::view;

class CachingSessionStoreImpl final
    : public caching::CachingLayer<CachingSessionStore, SessionBytesStore> {
 public:
  using CachingLayer::CachingLayer;

  std::int64_t retention_period() const override { return inner_->retention_period(); }

  void put(ByteView key, std::int64_t start, std::int64_t end,
           std::optional<ByteView> value) override {
    if (cache_ != nullptr) {
      observed_ = std::max(observed_.value_or(end), end);
      cache_->put(cache_name_, caching::session_cache_key(key, start, end), value,
                  context_->record_timestamp());
      return;
    }
    if (!listener_) {
      inner_->put(key, start, end, value);
      return;
    }
    std::optional<Bytes> old;
    if (send_old_values_) old = inner_->fetch_session(key, start, end);
    inner_->put(key, start, end, value);
    listener_(SessionCacheFlushEntry{key, Window{start, end}, value, view(old),
                                     context_->record_timestamp()});
  }

  std::optional<Bytes> fetch_session(ByteView key, std::int64_t start, std::int64_t end) override {
    if (cache_ == nullptr) return inner_->fetch_session(key, start, end);
    if (end < earliest(end)) return std::nullopt;
    if (const ThreadCache::Entry* entry =
            cache_->get(cache_name_, caching::session_cache_key(key, start, end))) {
      return entry->value;
    }
    return inner_->fetch_session(key, start, end);
  }

  std::unique_ptr<Iterator> find_sessions(ByteView key, std::int64_t earliest_end,
                                          std::int64_t latest_start, bool forward) override {
    if (cache_ == nullptr) return inner_->find_sessions(key, earliest_end, latest_start, forward);
    earliest_end = earliest(earliest_end);
    auto cached = cached_entries(caching::session_cache_key(key, kMinTime, earliest_end),
                                 caching::session_cache_key(key, kMaxTime, kMaxTime), earliest_end,
                                 latest_start);
    return std::make_unique<caching::MergedSessionIterator>(
        std::move(cached), inner_->find_sessions(key, earliest_end, latest_start, forward),
        forward);
  }

  std::unique_ptr<Iterator> find_sessions_range(std::optional<ByteView> key_from,
                                                std::optional<ByteView> key_to,
                                                std::int64_t earliest_end,
                                                std::int64_t latest_start, bool forward) override {
    if (cache_ == nullptr) {
      return inner_->find_sessions_range(key_from, key_to, earliest_end, latest_start, forward);
    }
    earliest_end = earliest(earliest_end);
    std::vector<CachedEntry<SessionBytesEntry>> cached;
    if (!key_from || !key_to || compare_bytes(*key_from, *key_to) <= 0) {
      std::optional<Bytes> lower;
      std::optional<Bytes> upper;
      if (key_from) lower = caching::session_cache_key(*key_from, kMinTime, earliest_end);
      if (key_to) upper = caching::session_cache_key(*key_to, kMaxTime, kMaxTime);
      cached = cached_entries(view(lower), view(upper), earliest_end, latest_start);
    }
    return std::make_unique<caching::MergedSessionIterator>(
        std::move(cached),
        inner_->find_sessions_range(key_from, key_to, earliest_end, latest_start, forward),
        forward);
  }

 private:
  // Sessions that ended before the retention period, measured from the latest session end
  // written here, are hidden as the store below hides them.
  std::int64_t earliest(std::int64_t end) const {
    return caching::earliest_retained(end, observed_, inner_->retention_period());
  }

  // The cache's sessions between two cache keys that end at or after `earliest_end` and start at
  // or before `latest_start`, sorted by key, then end, then start.
  std::vector<CachedEntry<SessionBytesEntry>> cached_entries(std::optional<ByteView> lower,
                                                             std::optional<ByteView> upper,
                                                             std::int64_t earliest_end,
                                                             std::int64_t latest_start) const {
    std::vector<CachedEntry<SessionBytesEntry>> out;
    for (auto& [cache_key, value] : cache_->range(cache_name_, lower, upper)) {
      caching::DecodedCacheKey decoded = caching::decode_cache_key(cache_key, 2);
      const std::int64_t end = decoded.first;
      const std::int64_t start = decoded.second;
      if (end < earliest_end || start > latest_start) continue;
      CachedEntry<SessionBytesEntry> entry;
      entry.entry.key = std::move(decoded.key);
      entry.entry.start = start;
      entry.entry.end = end;
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
      keys.push_back(caching::decode_cache_key(entry.key, 2));
      const caching::DecodedCacheKey& key = keys.back();
      // Cache keys hold the end first, then the start.
      if (read_old) old_values.push_back(inner_->fetch_session(key.key, key.second, key.first));
      inner_->put(key.key, key.second, key.first, view(entry.value));
    }
    if (!listener) return;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      listener(SessionCacheFlushEntry{
          keys[i].key, Window{keys[i].second, keys[i].first}, view(entries[i].value),
          read_old ? view(old_values[i]) : std::nullopt, entries[i].timestamp});
    }
  }

  bool enabled_;                          // false: never cache, whatever the context offers
  std::optional<std::int64_t> observed_;  // the latest session end written through the cache
};

}  // namespace

std::unique_ptr<CachingSessionStore> with_caching(std::unique_ptr<SessionBytesStore> inner,
                                                  bool enabled) {
  return std::make_unique<CachingSessionStoreImpl>(std::move(inner), enabled);
}

}  // namespace rivulet::state
