// What a store's caching layer tells its owner: each change as it leaves the record cache for the
// store below (at commit, or when the cache evicts). The DSL's table processors forward these
// merged changes downstream instead of every update (Kafka Streams' cache flush listeners).
//
// A caching layer is a byte store that also implements CacheFlushSource; the owner finds it with
// `dynamic_cast` on the typed store's `bytes_store()`. A listener sees every change that reaches
// the store below, whether caching is on or off (off: right after each write), so the owner has
// one code path. Entries are views, valid during the call only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include <rivulet/record.h>
#include <rivulet/state/state_store.h>

namespace rivulet {

// One change of a key-value store.
struct CacheFlushEntry {
  ByteView key;
  std::optional<ByteView> new_value;  // nullopt: deleted
  std::optional<ByteView> old_value;  // what the store below held (nullopt: nothing, or not read)
  std::int64_t timestamp = 0;         // of the last record that wrote the key
};

// One change of a window store: `window` is [start, start + window size).
struct WindowCacheFlushEntry {
  ByteView key;
  Window window;
  std::optional<ByteView> new_value;
  std::optional<ByteView> old_value;
  std::int64_t timestamp = 0;
};

// One change of a session store: `window` is the session, [start, end] inclusive.
struct SessionCacheFlushEntry {
  ByteView key;
  Window window;
  std::optional<ByteView> new_value;
  std::optional<ByteView> old_value;
  std::int64_t timestamp = 0;
};

template <class Entry>
class CacheFlushSource {
 public:
  using FlushListener = std::function<void(const Entry& change)>;
  virtual ~CacheFlushSource() = default;
  // Sets (or, with an empty function, removes) the listener. With `send_old_values` false the
  // layer does not read the store below for old values and `old_value` is always nullopt.
  virtual void set_flush_listener(FlushListener listener, bool send_old_values = true) = 0;
  // Whether writes are cached. REQUIRES: init() was called.
  virtual bool caching_enabled() const = 0;
};

}  // namespace rivulet
