// An ordered map of bytes (unsigned lexicographic order): the storage under a key-value store and
// under each segment of a window or session store. Two implementations: in memory
// (in_memory_bytes_map.h) and one RocksDB column family (rocksdb_database.h). Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include <rivulet/state/state_store.h>

namespace rivulet::state {

// One write of a batch; a value of nullopt deletes the key.
struct BytesWrite {
  ByteView key;
  std::optional<ByteView> value;
};

// A key range; a missing bound is open. The lower bound is inclusive.
struct KeyBounds {
  std::optional<Bytes> lower;
  std::optional<Bytes> upper;
  bool upper_inclusive = true;
};

class BytesMap {
 public:
  using Iterator = StoreIterator<KeyValue<Bytes, Bytes>>;

  virtual ~BytesMap() = default;
  virtual std::optional<Bytes> get(ByteView key) = 0;
  // `value` nullopt deletes the key.
  virtual void put(ByteView key, std::optional<ByteView> value) = 0;
  // Applies `writes` in order, atomically where the storage can (RocksDB: one WriteBatch).
  virtual void write(std::span<const BytesWrite> writes) = 0;
  // The entries within `bounds`, ascending when `forward`. The iterator sees the map as it was
  // when created, except that keys deleted meanwhile may be skipped (in memory) and a value
  // changed meanwhile may be returned changed (in memory).
  virtual std::unique_ptr<Iterator> range(const KeyBounds& bounds, bool forward) = 0;
  virtual std::uint64_t approximate_num_entries() = 0;
};

// The smallest key greater than every key that starts with `prefix`; nullopt when there is none
// (an empty prefix, or one of 0xff bytes only).
inline std::optional<Bytes> prefix_successor(ByteView prefix) {
  Bytes next(prefix.begin(), prefix.end());
  while (!next.empty()) {
    if (next.back() != 0xff) {
      ++next.back();
      return next;
    }
    next.pop_back();
  }
  return std::nullopt;
}

// An iterator with nothing in it.
template <class T>
class EmptyIterator final : public StoreIterator<T> {
 public:
  bool has_next() override { return false; }
  T next() override { return T{}; }
};

}  // namespace rivulet::state
