#include "state/thread_cache.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace rivulet::state {

namespace {

std::uint64_t size_of(ByteView key, const std::optional<Bytes>& value) {
  return ThreadCache::entry_size(key.size(), value ? value->size() : 0);
}

bool starts_with(ByteView bytes, ByteView prefix) {
  return bytes.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), bytes.begin());
}

}  // namespace

std::string ThreadCache::cache_name(const TaskId& task, std::string_view store) {
  std::string name = task.to_string();
  name += '-';
  name += store;
  return name;
}

void ThreadCache::add_named_cache(const std::string& name, FlushListener listener) {
  auto [it, inserted] = caches_.try_emplace(name);
  if (inserted) it->second.name = name;
  it->second.listener = std::move(listener);
}

bool ThreadCache::has_named_cache(std::string_view name) const {
  return find_named_cache(name) != nullptr;
}

void ThreadCache::close(std::string_view name) {
  auto it = caches_.find(name);
  if (it == caches_.end()) return;
  stats_.size_bytes -= it->second.stats.size_bytes;
  stats_.entries -= it->second.stats.entries;
  caches_.erase(it);
}

void ThreadCache::close_task(const TaskId& task) {
  const std::string prefix = task.to_string() + "-";
  auto it = caches_.lower_bound(prefix);
  while (it != caches_.end() && it->first.starts_with(prefix)) {
    stats_.size_bytes -= it->second.stats.size_bytes;
    stats_.entries -= it->second.stats.entries;
    it = caches_.erase(it);
  }
}

ThreadCache::NamedCache& ThreadCache::named_cache(std::string_view name) {
  auto it = caches_.find(name);
  if (it == caches_.end()) {
    throw std::logic_error("record cache: no named cache '" + std::string(name) + "'");
  }
  return it->second;
}

const ThreadCache::NamedCache* ThreadCache::find_named_cache(std::string_view name) const {
  auto it = caches_.find(name);
  return it == caches_.end() ? nullptr : &it->second;
}

const ThreadCache::Entry* ThreadCache::get(std::string_view name, ByteView key) {
  auto cache_it = caches_.find(name);
  if (cache_it == caches_.end()) {
    ++stats_.misses;
    return nullptr;
  }
  NamedCache& cache = cache_it->second;
  auto it = cache.entries.find(key);
  if (it == cache.entries.end()) {
    ++stats_.misses;
    ++cache.stats.misses;
    return nullptr;
  }
  ++stats_.hits;
  ++cache.stats.hits;
  Node& node = it->second;
  cache.lru.splice(cache.lru.end(), cache.lru, node.lru);
  return &node.entry;
}

void ThreadCache::add_size(NamedCache& cache, std::int64_t delta) {
  cache.stats.size_bytes =
      static_cast<std::uint64_t>(static_cast<std::int64_t>(cache.stats.size_bytes) + delta);
  stats_.size_bytes =
      static_cast<std::uint64_t>(static_cast<std::int64_t>(stats_.size_bytes) + delta);
}

ThreadCache::Node& ThreadCache::write(NamedCache& cache, ByteView key,
                                      std::optional<ByteView> value, std::int64_t timestamp,
                                      bool dirty) {
  auto it = cache.entries.find(key);
  if (it == cache.entries.end()) {
    it = cache.entries.try_emplace(Bytes(key.begin(), key.end())).first;
    Node& node = it->second;
    node.key = &it->first;
    node.lru = cache.lru.insert(cache.lru.end(), &node);
    ++cache.stats.entries;
    ++stats_.entries;
  } else {
    if (!dirty && it->second.entry.dirty) {
      throw std::logic_error("record cache: a clean write over a dirty entry in '" + cache.name +
                             "'");
    }
    add_size(cache, -static_cast<std::int64_t>(size_of(key, it->second.entry.value)));
    cache.lru.splice(cache.lru.end(), cache.lru, it->second.lru);
  }
  Node& node = it->second;
  if (value) {
    node.entry.value.emplace(value->begin(), value->end());
  } else {
    node.entry.value.reset();
  }
  node.entry.timestamp = timestamp;
  if (dirty) {
    // Remove, then add: the dirty order is the order of the latest writes, as in Kafka Streams.
    if (node.entry.dirty) {
      cache.dirty.splice(cache.dirty.end(), cache.dirty, node.dirty_position);
    } else {
      node.dirty_position = cache.dirty.insert(cache.dirty.end(), &node);
    }
    node.entry.dirty = true;
  }
  add_size(cache, static_cast<std::int64_t>(size_of(key, node.entry.value)));
  return node;
}

void ThreadCache::put(std::string_view name, ByteView key, std::optional<ByteView> value,
                      std::int64_t timestamp) {
  write(named_cache(name), key, value, timestamp, true);
  maybe_evict(name);
}

void ThreadCache::put_clean(std::string_view name, ByteView key, ByteView value) {
  write(named_cache(name), key, value, 0, false);
  maybe_evict(name);
}

void ThreadCache::maybe_evict(std::string_view name) {
  while (stats_.size_bytes > max_bytes_) {
    // Looked up again each time: a listener may have closed the named cache.
    auto it = caches_.find(name);
    if (it == caches_.end() || it->second.entries.empty()) return;
    evict_one(it->second);
  }
}

void ThreadCache::evict_one(NamedCache& cache) {
  Node* node = cache.lru.front();
  auto it = cache.entries.find(*node->key);
  cache.lru.pop_front();
  const bool dirty = node->entry.dirty;
  if (dirty) cache.dirty.erase(node->dirty_position);
  add_size(cache, -static_cast<std::int64_t>(size_of(it->first, node->entry.value)));
  --cache.stats.entries;
  --stats_.entries;
  ++cache.stats.evictions;
  ++stats_.evictions;
  std::optional<DirtyEntry> evicted;
  if (dirty) {
    auto extracted = cache.entries.extract(it);
    evicted.emplace(DirtyEntry{std::move(extracted.key()),
                               std::move(extracted.mapped().entry.value),
                               extracted.mapped().entry.timestamp});
  } else {
    cache.entries.erase(it);
  }
  if (!evicted) return;
  // Only the evicted entry goes below, not the whole named cache as Kafka Streams' NamedCache
  // does: with a working set just over capacity, that made every eviction write every dirty
  // entry, and a windowed count ran at a fifth of the pass-through's rate (docs/benchmarks.md).
  // Per key nothing is reordered: a key has one entry.
  if (!cache.listener) {
    throw std::logic_error("record cache: no flush listener for '" + cache.name + "'");
  }
  const FlushListener listener = cache.listener;
  const DirtyEntry batch[1] = {std::move(*evicted)};
  listener(batch);
}

void ThreadCache::flush(std::string_view name) {
  auto it = caches_.find(name);
  if (it != caches_.end()) flush(it->second, std::nullopt);
}

void ThreadCache::flush(NamedCache& cache, std::optional<DirtyEntry> evicted) {
  std::vector<DirtyEntry> batch;
  batch.reserve(cache.dirty.size() + (evicted ? 1 : 0));
  if (evicted) batch.push_back(std::move(*evicted));
  for (Node* node : cache.dirty) {
    node->entry.dirty = false;
    batch.push_back(DirtyEntry{*node->key, node->entry.value, node->entry.timestamp});
  }
  // Cleared before the listener runs: it may write to this named cache again.
  cache.dirty.clear();
  if (batch.empty()) return;
  if (!cache.listener) {
    throw std::logic_error("record cache: no flush listener for '" + cache.name + "'");
  }
  ++cache.stats.flushes;
  ++stats_.flushes;
  const std::string name = cache.name;
  const FlushListener listener = cache.listener;
  listener(batch);

  // Flushed deletes are in the store below now: they need no room here. A key written again
  // meanwhile stays.
  auto it = caches_.find(name);
  if (it == caches_.end()) return;
  NamedCache& after = it->second;
  for (const DirtyEntry& entry : batch) {
    if (entry.value) continue;
    auto node_it = after.entries.find(ByteView(entry.key));
    if (node_it == after.entries.end()) continue;
    Node& node = node_it->second;
    if (node.entry.dirty || node.entry.value) continue;
    after.lru.erase(node.lru);
    add_size(after, -static_cast<std::int64_t>(size_of(node_it->first, node.entry.value)));
    --after.stats.entries;
    --stats_.entries;
    after.entries.erase(node_it);
  }
}

void ThreadCache::resize(std::uint64_t max_bytes) {
  const bool shrink = max_bytes < max_bytes_;
  max_bytes_ = max_bytes;
  if (!shrink) return;
  while (stats_.size_bytes > max_bytes_) {
    std::vector<std::string> names;
    for (const auto& [name, cache] : caches_) {
      if (!cache.entries.empty()) names.push_back(name);
    }
    if (names.empty()) return;
    for (const std::string& name : names) {
      if (stats_.size_bytes <= max_bytes_) return;
      auto it = caches_.find(name);
      if (it != caches_.end() && !it->second.entries.empty()) evict_one(it->second);
    }
  }
}

std::vector<KeyValue<Bytes, std::optional<Bytes>>> ThreadCache::range(
    std::string_view name, std::optional<ByteView> from, std::optional<ByteView> to) const {
  std::vector<KeyValue<Bytes, std::optional<Bytes>>> out;
  const NamedCache* cache = find_named_cache(name);
  if (cache == nullptr) return out;
  if (from && to && compare_bytes(*from, *to) > 0) return out;
  auto it = from ? cache->entries.lower_bound(*from) : cache->entries.begin();
  auto end = to ? cache->entries.upper_bound(*to) : cache->entries.end();
  for (; it != end; ++it) out.push_back({it->first, it->second.entry.value});
  return out;
}

std::vector<KeyValue<Bytes, std::optional<Bytes>>> ThreadCache::prefix_scan(std::string_view name,
                                                                            ByteView prefix) const {
  std::vector<KeyValue<Bytes, std::optional<Bytes>>> out;
  const NamedCache* cache = find_named_cache(name);
  if (cache == nullptr) return out;
  for (auto it = cache->entries.lower_bound(prefix);
       it != cache->entries.end() && starts_with(it->first, prefix); ++it) {
    out.push_back({it->first, it->second.entry.value});
  }
  return out;
}

ThreadCache::Stats ThreadCache::stats(std::string_view name) const {
  const NamedCache* cache = find_named_cache(name);
  return cache == nullptr ? Stats{} : cache->stats;
}

}  // namespace rivulet::state
