#include "state/in_memory_bytes_map.h"

#include <algorithm>
#include <vector>

namespace rivulet::state {

namespace {

// Walks a copy of the keys of a range, looking each value up in the live map.
class SnapshotIterator final : public BytesMap::Iterator {
 public:
  SnapshotIterator(std::shared_ptr<const InMemoryBytesMap::Map> data, std::vector<Bytes> keys)
      : data_(std::move(data)), keys_(std::move(keys)) {}

  bool has_next() override {
    while (next_ < keys_.size()) {
      current_ = data_->find(keys_[next_]);
      if (current_ != data_->end()) return true;
      ++next_;  // deleted since the iterator was created
    }
    return false;
  }

  KeyValue<Bytes, Bytes> next() override {
    has_next();
    KeyValue<Bytes, Bytes> entry{std::move(keys_[next_]), current_->second};
    ++next_;
    return entry;
  }

 private:
  std::shared_ptr<const InMemoryBytesMap::Map> data_;
  std::vector<Bytes> keys_;
  std::size_t next_ = 0;
  InMemoryBytesMap::Map::const_iterator current_;
};

}  // namespace

std::optional<Bytes> InMemoryBytesMap::get(ByteView key) {
  const auto found = data_->find(key);
  if (found == data_->end()) return std::nullopt;
  return found->second;
}

void InMemoryBytesMap::put(ByteView key, std::optional<ByteView> value) {
  const auto found = data_->find(key);
  if (!value) {
    if (found != data_->end()) data_->erase(found);
  } else if (found != data_->end()) {
    found->second.assign(value->begin(), value->end());
  } else {
    data_->emplace(Bytes(key.begin(), key.end()), Bytes(value->begin(), value->end()));
  }
}

void InMemoryBytesMap::write(std::span<const BytesWrite> writes) {
  for (const BytesWrite& w : writes) put(w.key, w.value);
}

std::unique_ptr<BytesMap::Iterator> InMemoryBytesMap::range(const KeyBounds& bounds, bool forward) {
  auto first = bounds.lower ? data_->lower_bound(ByteView(*bounds.lower)) : data_->begin();
  auto last = data_->end();
  if (bounds.upper) {
    last = bounds.upper_inclusive ? data_->upper_bound(ByteView(*bounds.upper))
                                  : data_->lower_bound(ByteView(*bounds.upper));
  }
  std::vector<Bytes> keys;
  if (first != data_->end() && (last == data_->end() || BytesLess{}(first->first, last->first))) {
    for (auto it = first; it != last; ++it) keys.push_back(it->first);
  }
  if (!forward) std::reverse(keys.begin(), keys.end());
  return std::make_unique<SnapshotIterator>(data_, std::move(keys));
}

}  // namespace rivulet::state
