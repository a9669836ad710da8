// The window stores, RocksDB and in memory: one implementation over Segments (segments.h), with
// the key layout of key_schema.h. Segment of an entry: its window start.
#include <algorithm>
#include <vector>

#include <rivulet/errors.h>

#include "state/bytes_stores.h"
#include "state/key_schema.h"
#include "state/rocksdb_database.h"
#include "state/segments.h"

namespace rivulet::state {

namespace {

using Entry = WindowBytesEntry;

class SegmentedWindowStore final : public WindowBytesStore, public RocksDbBacked {
 public:
  RocksDbDatabase* database() override { return segments_.database(); }
  SegmentedWindowStore(std::string name, std::int64_t retention_period, std::int64_t window_size,
                       bool retain_duplicates, std::int64_t segment_interval,
                       std::unique_ptr<SegmentStorage> storage)
      : name_(std::move(name)),
        retention_(retention_period),
        window_size_(window_size),
        retain_duplicates_(retain_duplicates),
        segments_(name_, retention_period, segment_interval, std::move(storage)) {
    if (window_size_ < 0) {
      throw StreamsException("Window store '" + name_ + "': window size " +
                             std::to_string(window_size_) + " ms must not be negative");
    }
  }

  const std::string& name() const override { return name_; }
  void init(StateStoreContext& context) override {
    segments_.open(context);
    sequence_ = segments_.saved_sequence();
    context.register_store(*this,
                           [this](std::span<const ChangelogRecord> batch) { restore(batch); });
  }
  void flush() override { segments_.flush(sequence_); }
  void close() override { segments_.close(sequence_); }
  bool persistent() const override { return segments_.persistent(); }
  bool is_open() const override { return segments_.is_open(); }

  std::int64_t window_size() const override { return window_size_; }
  std::int64_t retention_period() const override { return retention_; }
  bool retain_duplicates() const override { return retain_duplicates_; }

  void put(ByteView key, std::optional<ByteView> value, std::int64_t window_start) override {
    segments_.observe(window_start);
    if (!value && retain_duplicates_) return;  // nothing to delete: every put was its own entry
    BytesMap* segment = segments_.segment_for(window_start);
    if (segment == nullptr) return;  // expired
    segment->put(window_key(key, window_start, next_sequence()), value);
  }

  std::optional<Bytes> fetch(ByteView key, std::int64_t window_start) override {
    BytesMap* segment = segments_.existing_segment_for(window_start);
    if (segment == nullptr) return std::nullopt;
    if (!retain_duplicates_) return segment->get(window_key(key, window_start, 0));
    // The first of the duplicates.
    KeyBounds bounds{window_key(key, window_start, 0), window_key(key, window_start, -1), true};
    auto it = segment->range(bounds, true);
    while (it->has_next()) {
      KeyValue<Bytes, Bytes> entry = it->next();
      if (entry.key.size() == key.size() + kWindowSuffixSize) return std::move(entry.value);
    }
    return std::nullopt;
  }

  std::unique_ptr<Iterator> fetch(ByteView key, std::int64_t time_from, std::int64_t time_to,
                                  bool forward) override {
    const std::int64_t from = std::max(time_from, segments_.min_live_time());
    KeyBounds bounds;
    bounds.lower = from >= 0 ? window_key(key, from, 0) : Bytes(key.begin(), key.end());
    bounds.upper = Bytes(key.begin(), key.end());
    const Bytes suffix = max_window_suffix(from, time_to);
    bounds.upper->insert(bounds.upper->end(), suffix.begin(), suffix.end());
    Bytes wanted(key.begin(), key.end());
    return scan(from, time_to, bounds, forward,
                [wanted = std::move(wanted)](ByteView k) { return compare_bytes(k, wanted) == 0; });
  }

  std::unique_ptr<Iterator> fetch_range(std::optional<ByteView> key_from,
                                        std::optional<ByteView> key_to, std::int64_t time_from,
                                        std::int64_t time_to, bool forward) override {
    if (key_from && key_to && compare_bytes(*key_from, *key_to) > 0) {
      return std::make_unique<EmptyIterator<Entry>>();
    }
    const std::int64_t from = std::max(time_from, segments_.min_live_time());
    KeyBounds bounds;
    std::optional<Bytes> low;
    std::optional<Bytes> high;
    if (key_from) {
      low.emplace(key_from->begin(), key_from->end());
      bounds.lower = low;
    }
    if (key_to) {
      high.emplace(key_to->begin(), key_to->end());
      bounds.upper = upper_bound_for_keys_up_to(*key_to, max_window_suffix(from, time_to));
    }
    return scan(from, time_to, bounds, forward, [low, high](ByteView k) {
      return (!low || compare_bytes(k, *low) >= 0) && (!high || compare_bytes(k, *high) <= 0);
    });
  }

  std::unique_ptr<Iterator> fetch_all(std::int64_t time_from, std::int64_t time_to,
                                      bool forward) override {
    return fetch_range(std::nullopt, std::nullopt, time_from, time_to, forward);
  }

 private:
  std::int32_t next_sequence() {
    if (!retain_duplicates_) return 0;
    sequence_ = (sequence_ + 1) & 0x7fffffff;
    return sequence_;
  }

  template <class KeyFilter>
  std::unique_ptr<Iterator> scan(std::int64_t from, std::int64_t to, const KeyBounds& bounds,
                                 bool forward, KeyFilter key_filter) {
    if (from > to) return std::make_unique<EmptyIterator<Entry>>();
    auto decode = [from, to, key_filter = std::move(key_filter)](
                      KeyValue<Bytes, Bytes>& kv) -> std::optional<Entry> {
      const auto parsed = parse_window_key(kv.key);
      if (!parsed || parsed->window_start < from || parsed->window_start > to ||
          !key_filter(parsed->key)) {
        return std::nullopt;
      }
      return Entry{Bytes(parsed->key.begin(), parsed->key.end()), parsed->window_start,
                   std::move(kv.value)};
    };
    return std::make_unique<SegmentedIterator<Entry>>(segments_.segments_between(from, to, forward),
                                                      bounds, forward, std::move(decode));
  }

  // Applies changelog records, whose keys are the store's own keys.
  void restore(std::span<const ChangelogRecord> batch) {
    std::vector<std::int64_t> times;
    times.reserve(batch.size());
    for (const ChangelogRecord& record : batch) {
      const auto parsed = parse_window_key(record.key);
      if (!parsed) {
        throw StreamsException("Window store '" + name_ + "': changelog record at offset " +
                               std::to_string(record.offset) + " has a key of " +
                               std::to_string(record.key.size()) + " bytes, shorter than " +
                               std::to_string(kWindowSuffixSize));
      }
      if (retain_duplicates_) sequence_ = std::max(sequence_, parsed->sequence);
      times.push_back(parsed->window_start);
    }
    segments_.restore(batch, times);
  }

  std::string name_;
  std::int64_t retention_;
  std::int64_t window_size_;
  bool retain_duplicates_;
  Segments segments_;
  std::int32_t sequence_ = 0;
};

}  // namespace

std::unique_ptr<WindowBytesStore> make_rocksdb_window_store(std::string name,
                                                            std::int64_t retention_period,
                                                            std::int64_t window_size,
                                                            bool retain_duplicates,
                                                            std::int64_t segment_interval) {
  return std::make_unique<SegmentedWindowStore>(std::move(name), retention_period, window_size,
                                                retain_duplicates, segment_interval,
                                                make_rocksdb_segment_storage());
}

std::unique_ptr<WindowBytesStore> make_in_memory_window_store(std::string name,
                                                              std::int64_t retention_period,
                                                              std::int64_t window_size,
                                                              bool retain_duplicates) {
  // Segments cost nothing in memory: finer ones than on disk free expired windows sooner.
  const std::int64_t interval = std::max<std::int64_t>(retention_period / 8, 1);
  return std::make_unique<SegmentedWindowStore>(std::move(name), retention_period, window_size,
                                                retain_duplicates, interval,
                                                make_in_memory_segment_storage());
}

}  // namespace rivulet::state
