// Segments in RocksDB: one database per store at `state_dir/rocksdb/<store>`, one column family
// "segment-<id>" per segment, dropped with DropColumnFamily; the default column family keeps the
// store's metadata. Reopening finds the segments through the column families the database has.
#include <charconv>

#include <fmt/format.h>

#include <rivulet/errors.h>

#include "state/rocksdb_database.h"
#include "state/segments.h"

namespace rivulet::state {

namespace {

constexpr std::string_view kSegmentPrefix = "segment-";

std::string segment_name(std::int64_t id) {
  return std::string(kSegmentPrefix) + std::to_string(id);
}

std::optional<std::int64_t> parse_segment_name(std::string_view name) {
  if (!name.starts_with(kSegmentPrefix)) return std::nullopt;
  name.remove_prefix(kSegmentPrefix.size());
  std::int64_t id = 0;
  const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), id);
  if (error != std::errc() || end != name.data() + name.size()) return std::nullopt;
  return id;
}

ByteView view(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

class RocksDbSegmentStorage final : public SegmentStorage {
 public:
  std::vector<std::int64_t> open(StateStoreContext& context, const std::string& store) override {
    database_ = std::make_unique<RocksDbDatabase>(store, context.state_dir() / "rocksdb" / store,
                                                  context.rocksdb_resources());
    std::vector<std::int64_t> ids;
    for (const std::string& name : database_->column_family_names()) {
      const auto id = parse_segment_name(name);
      if (!id) {
        throw StreamsException(fmt::format(
            "RocksDB store '{}' has an unexpected column family '{}': is it a window or session "
            "store?",
            store, name));
      }
      ids.push_back(*id);
    }
    return ids;
  }

  std::shared_ptr<BytesMap> segment(std::int64_t id) override {
    return database_->column_family(segment_name(id));
  }

  void drop(std::int64_t id) override { database_->drop_column_family(segment_name(id)); }

  std::optional<Bytes> read_metadata(std::string_view key) override {
    return database_->default_column_family()->get(view(key));
  }

  void write_metadata(std::string_view key, ByteView value) override {
    database_->default_column_family()->put(view(key), value);
  }

  void flush() override { database_->flush_wal(); }

  void close() override {
    if (!database_) return;
    auto database = std::move(database_);
    database->close();
  }

  bool persistent() const override { return true; }
  RocksDbDatabase* database() override { return database_.get(); }

 private:
  std::unique_ptr<RocksDbDatabase> database_;
};

}  // namespace

std::unique_ptr<SegmentStorage> make_rocksdb_segment_storage() {
  return std::make_unique<RocksDbSegmentStorage>();
}

}  // namespace rivulet::state
