// The in-memory key-value store: an InMemoryBytesMap; its data is lost on close.
#include <rivulet/errors.h>

#include "state/bytes_stores.h"
#include "state/in_memory_bytes_map.h"
#include "state/map_key_value_store.h"

namespace rivulet::state {

namespace {

class InMemoryKeyValueStore final : public MapKeyValueStore {
 public:
  using MapKeyValueStore::MapKeyValueStore;

  void init(StateStoreContext& context) override {
    if (open_) throw StreamsException("State store '" + name() + "' is already open");
    open_ = true;
    register_for_restore(context);
  }
  void flush() override {}
  void close() override {
    map_.clear();
    open_ = false;
  }
  bool persistent() const override { return false; }
  bool is_open() const override { return open_; }

 protected:
  BytesMap* map() override { return open_ ? &map_ : nullptr; }

 private:
  InMemoryBytesMap map_;
  bool open_ = false;
};

}  // namespace

std::unique_ptr<KeyValueBytesStore> make_in_memory_key_value_store(std::string name) {
  return std::make_unique<InMemoryKeyValueStore>(std::move(name));
}

}  // namespace rivulet::state
