// The caching layer of each byte store kind (Kafka Streams' CachingKeyValueStore,
// CachingWindowStore, CachingSessionStore) over the thread's ThreadCache.
//
// `with_caching(inner, enabled)` wraps a store; what it does is decided at `init`:
// - `enabled` is false or `context.cache()` is nullptr (caching off): every call goes straight to
// `inner`, and each
//   change is handed to the flush listener right after `inner` took it;
// - otherwise the store uses the named cache `ThreadCache::cache_name(task, name())`. Writes go to
//   the cache (dirty, with `context.record_timestamp()`); reads look in the cache first, then in
//   `inner` (a key-value read that finds the key below caches it, clean); iterators merge the
//   cache's entries with `inner`'s (the cache wins on equal keys, a delete pending in the cache
//   hides the entry below). The cache's dirty entries reach `inner` when the store is flushed and
//   when the cache evicts: each is written to `inner`, then handed to the flush listener with the
//   value `inner` held before (`old_value`). Consecutive writes of a key between two flushes
//   therefore reach `inner` and the listener once, with the newest value and the oldest old value.
//
// The owner (the processor that forwards a table's changes, for example) sets the listener after
// `init`; a listener sees every change that reaches `inner`, in both modes, so the owner needs one
// code path. Entries a listener receives are views valid during the call only.
//
// A window store that retains duplicates (stream-stream joins) is never cached, as in Kafka
// Streams: its layer always passes through.
//
// The owner reaches the listener through `CacheFlushSource<...>` (a `dynamic_cast` of the byte
// store works too).
//
// `flush()` flushes the named cache, then `inner`. `close()` flushes the named cache, drops it and
// closes `inner`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include <rivulet/record.h>
#include <rivulet/state/cache_flush.h>
#include <rivulet/state/state_store.h>

namespace rivulet::state {

// The listener types are public (rivulet/state/cache_flush.h): the DSL's table processors set them.
using rivulet::CacheFlushEntry;
using rivulet::CacheFlushSource;
using rivulet::SessionCacheFlushEntry;
using rivulet::WindowCacheFlushEntry;

class CachingKeyValueStore : public KeyValueBytesStore, public CacheFlushSource<CacheFlushEntry> {};
class CachingWindowStore : public WindowBytesStore,
                           public CacheFlushSource<WindowCacheFlushEntry> {};
class CachingSessionStore : public SessionBytesStore,
                            public CacheFlushSource<SessionCacheFlushEntry> {};

std::unique_ptr<CachingKeyValueStore> with_caching(std::unique_ptr<KeyValueBytesStore> inner,
                                                   bool enabled = true);
std::unique_ptr<CachingWindowStore> with_caching(std::unique_ptr<WindowBytesStore> inner,
                                                 bool enabled = true);
std::unique_ptr<CachingSessionStore> with_caching(std::unique_ptr<SessionBytesStore> inner,
                                                  bool enabled = true);

}  // namespace rivulet::state
