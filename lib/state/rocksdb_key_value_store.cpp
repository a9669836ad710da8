// The RocksDB key-value store: the default column family of a database at
// `state_dir/rocksdb/<name>`.
#include <rivulet/errors.h>

#include "state/bytes_stores.h"
#include "state/map_key_value_store.h"
#include "state/rocksdb_database.h"

namespace rivulet::state {

namespace {

class RocksDbKeyValueStore final : public MapKeyValueStore, public RocksDbBacked {
 public:
  using MapKeyValueStore::MapKeyValueStore;

  RocksDbDatabase* database() override { return database_.get(); }

  void init(StateStoreContext& context) override {
    if (database_) throw StreamsException("State store '" + name() + "' is already open");
    database_ = std::make_unique<RocksDbDatabase>(name(), context.state_dir() / "rocksdb" / name(),
                                                  context.rocksdb_resources());
    family_ = database_->default_column_family();
    register_for_restore(context);
  }
  void flush() override {
    if (database_) database_->flush_wal();
  }
  void close() override {
    if (!database_) return;
    family_.reset();
    auto database = std::move(database_);
    database->close();
  }
  bool persistent() const override { return true; }
  bool is_open() const override { return database_ != nullptr; }

 protected:
  BytesMap* map() override { return family_.get(); }

 private:
  std::unique_ptr<RocksDbDatabase> database_;
  std::shared_ptr<RocksDbColumnFamily> family_;  // after database_: released before it closes
};

}  // namespace

std::unique_ptr<KeyValueBytesStore> make_rocksdb_key_value_store(std::string name) {
  return std::make_unique<RocksDbKeyValueStore>(std::move(name));
}

}  // namespace rivulet::state
