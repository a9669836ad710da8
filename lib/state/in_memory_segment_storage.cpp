// Segments in memory: one InMemoryBytesMap each, gone on close.
#include "state/in_memory_bytes_map.h"
#include "state/segments.h"

namespace rivulet::state {

namespace {

class InMemorySegmentStorage final : public SegmentStorage {
 public:
  std::vector<std::int64_t> open(StateStoreContext&, const std::string&) override { return {}; }
  std::shared_ptr<BytesMap> segment(std::int64_t) override {
    return std::make_shared<InMemoryBytesMap>();
  }
  void drop(std::int64_t) override {}  // the map goes with its last reference
  std::optional<Bytes> read_metadata(std::string_view) override { return std::nullopt; }
  void write_metadata(std::string_view, ByteView) override {}
  void flush() override {}
  void close() override {}
  bool persistent() const override { return false; }
};

}  // namespace

std::unique_ptr<SegmentStorage> make_in_memory_segment_storage() {
  return std::make_unique<InMemorySegmentStorage>();
}

}  // namespace rivulet::state
