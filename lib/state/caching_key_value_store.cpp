// The caching layer of key-value stores (Kafka Streams' CachingKeyValueStore).
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "state/caching_internal.h"
#include "state/caching_stores.h"
#include "state/thread_cache.h"

namespace rivulet::state {

namespace {

using caching::view;

class CachingKeyValueStoreImpl final
    : public caching::CachingLayer<CachingKeyValueStore, KeyValueBytesStore> {
 public:
  using CachingLayer::CachingLayer;

  std::optional<Bytes> get(ByteView key) override {
    if (cache_ == nullptr) return inner_->get(key);
    if (const ThreadCache::Entry* entry = cache_->get(cache_name_, key)) return entry->value;
    std::optional<Bytes> value = inner_->get(key);
    if (value) cache_->put_clean(cache_name_, key, *value);
    return value;
  }

  void put(ByteView key, std::optional<ByteView> value) override {
    if (cache_ != nullptr) {
      cache_->put(cache_name_, key, value, context_->record_timestamp());
      return;
    }
    if (!listener_) {
      inner_->put(key, value);
      return;
    }
    std::optional<Bytes> old;
    if (send_old_values_) old = inner_->get(key);
    inner_->put(key, value);
    notify(key, value, view(old), context_->record_timestamp());
  }

  std::optional<Bytes> put_if_absent(ByteView key, ByteView value) override {
    if (cache_ == nullptr) {
      std::optional<Bytes> existing = inner_->put_if_absent(key, value);
      if (!existing && listener_) notify(key, value, std::nullopt, context_->record_timestamp());
      return existing;
    }
    std::optional<Bytes> existing = get(key);
    if (!existing) put(key, value);
    return existing;
  }

  void put_all(std::span<const KeyValue<Bytes, std::optional<Bytes>>> entries) override {
    if (cache_ == nullptr && !listener_) {
      inner_->put_all(entries);
      return;
    }
    for (const auto& entry : entries) put(entry.key, view(entry.value));
  }

  std::optional<Bytes> remove(ByteView key) override {
    if (cache_ == nullptr) {
      std::optional<Bytes> old = inner_->remove(key);
      if (listener_) {
        notify(key, std::nullopt, send_old_values_ ? view(old) : std::nullopt,
               context_->record_timestamp());
      }
      return old;
    }
    std::optional<Bytes> old = get(key);
    put(key, std::nullopt);
    return old;
  }

  std::unique_ptr<Iterator> range(std::optional<ByteView> from, std::optional<ByteView> to,
                                  bool forward) override {
    if (cache_ == nullptr) return inner_->range(from, to, forward);
    return std::make_unique<caching::MergedKeyValueIterator>(
        cache_->range(cache_name_, from, to), inner_->range(from, to, forward), forward);
  }

  std::unique_ptr<Iterator> prefix_scan(ByteView prefix) override {
    if (cache_ == nullptr) return inner_->prefix_scan(prefix);
    return std::make_unique<caching::MergedKeyValueIterator>(
        cache_->prefix_scan(cache_name_, prefix), inner_->prefix_scan(prefix), true);
  }

  // The store below's estimate: entries only in the cache are not counted.
  std::uint64_t approximate_num_entries() override { return inner_->approximate_num_entries(); }

 private:
  void notify(ByteView key, std::optional<ByteView> new_value, std::optional<ByteView> old_value,
              std::int64_t timestamp) {
    listener_(CacheFlushEntry{key, new_value, old_value, timestamp});
  }

  // Writes flushed entries below, then tells the listener: all writes first, so that whatever the
  // listener does (it may read this store, and evict from it) sees them below.
  void write_below(std::span<const ThreadCache::DirtyEntry> entries) override {
    const FlushListener listener = listener_;
    const bool read_old = listener && send_old_values_;
    std::vector<std::optional<Bytes>> old_values;
    if (read_old) old_values.reserve(entries.size());
    for (const ThreadCache::DirtyEntry& entry : entries) {
      if (read_old) old_values.push_back(inner_->get(entry.key));
      inner_->put(entry.key, view(entry.value));
    }
    if (!listener) return;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const ThreadCache::DirtyEntry& entry = entries[i];
      listener(CacheFlushEntry{entry.key, view(entry.value),
                               read_old ? view(old_values[i]) : std::nullopt, entry.timestamp});
    }
  }

  bool enabled_;  // false: never cache, whatever the context offers
};

}  // namespace

std::unique_ptr<CachingKeyValueStore> with_caching(std::unique_ptr<KeyValueBytesStore> inner,
                                                   bool enabled) {
  return std::make_unique<CachingKeyValueStoreImpl>(std::move(inner), enabled);
}

}  // namespace rivulet::state
