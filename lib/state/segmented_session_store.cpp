// The session stores, RocksDB and in memory: one implementation over Segments (segments.h), with
// the key layout of key_schema.h. Segment of a session: its end.
#include <algorithm>
#include <vector>

#include <rivulet/errors.h>

#include "state/bytes_stores.h"
#include "state/key_schema.h"
#include "state/rocksdb_database.h"
#include "state/segments.h"

namespace rivulet::state {

namespace {

using Entry = SessionBytesEntry;

class SegmentedSessionStore final : public SessionBytesStore, public RocksDbBacked {
 public:
  RocksDbDatabase* database() override { return segments_.database(); }
  SegmentedSessionStore(std::string name, std::int64_t retention_period,
                        std::int64_t segment_interval, std::unique_ptr<SegmentStorage> storage)
      : name_(std::move(name)),
        retention_(retention_period),
        segments_(name_, retention_period, segment_interval, std::move(storage)) {}

  const std::string& name() const override { return name_; }
  void init(StateStoreContext& context) override {
    segments_.open(context);
    context.register_store(*this,
                           [this](std::span<const ChangelogRecord> batch) { restore(batch); });
  }
  void flush() override { segments_.flush(0); }
  void close() override { segments_.close(0); }
  bool persistent() const override { return segments_.persistent(); }
  bool is_open() const override { return segments_.is_open(); }

  std::int64_t retention_period() const override { return retention_; }

  void put(ByteView key, std::int64_t start, std::int64_t end,
           std::optional<ByteView> value) override {
    segments_.observe(end);
    BytesMap* segment = segments_.segment_for(end);
    if (segment == nullptr) return;  // expired
    segment->put(session_key(key, end, start), value);
  }

  std::optional<Bytes> fetch_session(ByteView key, std::int64_t start, std::int64_t end) override {
    BytesMap* segment = segments_.existing_segment_for(end);
    if (segment == nullptr) return std::nullopt;
    return segment->get(session_key(key, end, start));
  }

  std::unique_ptr<Iterator> find_sessions(ByteView key, std::int64_t earliest_end,
                                          std::int64_t latest_start, bool forward) override {
    const std::int64_t from = std::max(earliest_end, segments_.min_live_time());
    KeyBounds bounds;
    bounds.lower = from >= 0 ? session_key(key, from, 0) : Bytes(key.begin(), key.end());
    bounds.upper = Bytes(key.begin(), key.end());
    const Bytes suffix = max_session_suffix(from);
    bounds.upper->insert(bounds.upper->end(), suffix.begin(), suffix.end());
    Bytes wanted(key.begin(), key.end());
    return scan(from, latest_start, bounds, forward,
                [wanted = std::move(wanted)](ByteView k) { return compare_bytes(k, wanted) == 0; });
  }

  std::unique_ptr<Iterator> find_sessions_range(std::optional<ByteView> key_from,
                                                std::optional<ByteView> key_to,
                                                std::int64_t earliest_end,
                                                std::int64_t latest_start, bool forward) override {
    if (key_from && key_to && compare_bytes(*key_from, *key_to) > 0) {
      return std::make_unique<EmptyIterator<Entry>>();
    }
    const std::int64_t from = std::max(earliest_end, segments_.min_live_time());
    KeyBounds bounds;
    std::optional<Bytes> low;
    std::optional<Bytes> high;
    if (key_from) {
      low.emplace(key_from->begin(), key_from->end());
      bounds.lower = low;
    }
    if (key_to) {
      high.emplace(key_to->begin(), key_to->end());
      bounds.upper = upper_bound_for_keys_up_to(*key_to, max_session_suffix(from));
    }
    return scan(from, latest_start, bounds, forward, [low, high](ByteView k) {
      return (!low || compare_bytes(k, *low) >= 0) && (!high || compare_bytes(k, *high) <= 0);
    });
  }

 private:
  // Sessions that end at or after `earliest_end` and start at or before `latest_start`.
  template <class KeyFilter>
  std::unique_ptr<Iterator> scan(std::int64_t earliest_end, std::int64_t latest_start,
                                 const KeyBounds& bounds, bool forward, KeyFilter key_filter) {
    auto decode = [earliest_end, latest_start, key_filter = std::move(key_filter)](
                      KeyValue<Bytes, Bytes>& kv) -> std::optional<Entry> {
      const auto parsed = parse_session_key(kv.key);
      if (!parsed || parsed->end < earliest_end || parsed->start > latest_start ||
          !key_filter(parsed->key)) {
        return std::nullopt;
      }
      return Entry{Bytes(parsed->key.begin(), parsed->key.end()), parsed->start, parsed->end,
                   std::move(kv.value)};
    };
    return std::make_unique<SegmentedIterator<Entry>>(
        segments_.segments_between(earliest_end, std::numeric_limits<std::int64_t>::max(), forward),
        bounds, forward, std::move(decode));
  }

  // Applies changelog records, whose keys are the store's own keys.
  void restore(std::span<const ChangelogRecord> batch) {
    std::vector<std::int64_t> times;
    times.reserve(batch.size());
    for (const ChangelogRecord& record : batch) {
      const auto parsed = parse_session_key(record.key);
      if (!parsed) {
        throw StreamsException("Session store '" + name_ + "': changelog record at offset " +
                               std::to_string(record.offset) + " has a key of " +
                               std::to_string(record.key.size()) + " bytes, shorter than " +
                               std::to_string(kSessionSuffixSize));
      }
      times.push_back(parsed->end);
    }
    segments_.restore(batch, times);
  }

  std::string name_;
  std::int64_t retention_;
  Segments segments_;
};

}  // namespace

std::unique_ptr<SessionBytesStore> make_rocksdb_session_store(std::string name,
                                                              std::int64_t retention_period,
                                                              std::int64_t segment_interval) {
  return std::make_unique<SegmentedSessionStore>(std::move(name), retention_period,
                                                 segment_interval, make_rocksdb_segment_storage());
}

std::unique_ptr<SessionBytesStore> make_in_memory_session_store(std::string name,
                                                                std::int64_t retention_period) {
  // Segments cost nothing in memory: finer ones than on disk free expired sessions sooner.
  const std::int64_t interval = std::max<std::int64_t>(retention_period / 8, 1);
  return std::make_unique<SegmentedSessionStore>(std::move(name), retention_period, interval,
                                                 make_in_memory_segment_storage());
}

}  // namespace rivulet::state
