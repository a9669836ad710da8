// BytesMap in memory: a std::map of byte strings. Iterators copy the keys of their range when
// created (as Kafka Streams' in-memory store does) and look each value up when they reach it, so
// a processor may modify the map while iterating: keys deleted meanwhile are skipped, keys added
// meanwhile are not seen. An iterator shares the map's data, so it stays valid even after the map
// is destroyed (a segment dropped while being iterated).
#pragma once

#include <cstring>
#include <map>
#include <memory>

#include "state/bytes_map.h"

namespace rivulet::state {

// Unsigned lexicographic order, comparable across Bytes and ByteView.
struct BytesLess {
  using is_transparent = void;
  bool operator()(ByteView a, ByteView b) const {
    const std::size_t n = a.size() < b.size() ? a.size() : b.size();
    const int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
    return c != 0 ? c < 0 : a.size() < b.size();
  }
};

class InMemoryBytesMap final : public BytesMap {
 public:
  using Map = std::map<Bytes, Bytes, BytesLess>;

  InMemoryBytesMap() : data_(std::make_shared<Map>()) {}

  std::optional<Bytes> get(ByteView key) override;
  void put(ByteView key, std::optional<ByteView> value) override;
  void write(std::span<const BytesWrite> writes) override;
  std::unique_ptr<Iterator> range(const KeyBounds& bounds, bool forward) override;
  std::uint64_t approximate_num_entries() override { return data_->size(); }
  void clear() { data_->clear(); }

 private:
  std::shared_ptr<Map> data_;
};

}  // namespace rivulet::state
