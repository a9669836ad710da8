#include "state/map_key_value_store.h"

#include <vector>

#include <rivulet/errors.h>

namespace rivulet::state {

BytesMap& MapKeyValueStore::open_map() {
  BytesMap* open = map();
  if (open == nullptr) throw StreamsException("State store '" + name_ + "' is not open");
  return *open;
}

void MapKeyValueStore::register_for_restore(StateStoreContext& context) {
  context.register_store(*this, [this](std::span<const ChangelogRecord> batch) {
    std::vector<BytesWrite> writes;
    writes.reserve(batch.size());
    for (const ChangelogRecord& record : batch) writes.push_back({record.key, record.value});
    open_map().write(writes);
  });
}

std::optional<Bytes> MapKeyValueStore::get(ByteView key) {
  return open_map().get(key);
}

void MapKeyValueStore::put(ByteView key, std::optional<ByteView> value) {
  open_map().put(key, value);
}

std::optional<Bytes> MapKeyValueStore::put_if_absent(ByteView key, ByteView value) {
  BytesMap& store = open_map();
  std::optional<Bytes> existing = store.get(key);
  if (!existing) store.put(key, value);
  return existing;
}

void MapKeyValueStore::put_all(std::span<const KeyValue<Bytes, std::optional<Bytes>>> entries) {
  std::vector<BytesWrite> writes;
  writes.reserve(entries.size());
  for (const auto& entry : entries) {
    writes.push_back(
        {entry.key, entry.value ? std::optional<ByteView>(*entry.value) : std::nullopt});
  }
  open_map().write(writes);
}

std::optional<Bytes> MapKeyValueStore::remove(ByteView key) {
  BytesMap& store = open_map();
  std::optional<Bytes> old = store.get(key);
  if (old) store.put(key, std::nullopt);
  return old;
}

std::unique_ptr<KeyValueBytesStore::Iterator> MapKeyValueStore::range(std::optional<ByteView> from,
                                                                      std::optional<ByteView> to,
                                                                      bool forward) {
  BytesMap& store = open_map();
  if (from && to && compare_bytes(*from, *to) > 0) {
    return std::make_unique<EmptyIterator<KeyValue<Bytes, Bytes>>>();
  }
  KeyBounds bounds;
  if (from) bounds.lower.emplace(from->begin(), from->end());
  if (to) bounds.upper.emplace(to->begin(), to->end());
  return store.range(bounds, forward);
}

std::unique_ptr<KeyValueBytesStore::Iterator> MapKeyValueStore::prefix_scan(ByteView prefix) {
  KeyBounds bounds;
  bounds.lower.emplace(prefix.begin(), prefix.end());
  bounds.upper = prefix_successor(prefix);
  bounds.upper_inclusive = false;
  return open_map().range(bounds, true);
}

std::uint64_t MapKeyValueStore::approximate_num_entries() {
  return open_map().approximate_num_entries();
}

}  // namespace rivulet::state
