// The key-value store operations over a BytesMap, shared by the in-memory and RocksDB key-value
// stores; each subclass opens and closes its map. Restoration applies a changelog batch as one
// write (one RocksDB WriteBatch).
#pragma once

#include <string>

#include <rivulet/state/state_store.h>

#include "state/bytes_map.h"

namespace rivulet::state {

class MapKeyValueStore : public KeyValueBytesStore {
 public:
  explicit MapKeyValueStore(std::string name) : name_(std::move(name)) {}

  const std::string& name() const override { return name_; }
  std::optional<Bytes> get(ByteView key) override;
  void put(ByteView key, std::optional<ByteView> value) override;
  std::optional<Bytes> put_if_absent(ByteView key, ByteView value) override;
  void put_all(std::span<const KeyValue<Bytes, std::optional<Bytes>>> entries) override;
  std::optional<Bytes> remove(ByteView key) override;
  std::unique_ptr<Iterator> range(std::optional<ByteView> from, std::optional<ByteView> to,
                                  bool forward) override;
  std::unique_ptr<Iterator> prefix_scan(ByteView prefix) override;
  std::uint64_t approximate_num_entries() override;

 protected:
  // The open map; nullptr while the store is not open.
  virtual BytesMap* map() = 0;
  // Registers the store with `context`, restoring into the map.
  void register_for_restore(StateStoreContext& context);

 private:
  BytesMap& open_map();

  std::string name_;
};

}  // namespace rivulet::state
