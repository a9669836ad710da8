#include "state/segments.h"

#include <algorithm>

#include <rivulet/errors.h>

#include "state/bytes_stores.h"
#include "state/key_schema.h"

namespace rivulet::state {

namespace {

constexpr std::int64_t kNoTime = std::numeric_limits<std::int64_t>::min();
constexpr std::string_view kStreamTimeKey = "rivulet.observed-stream-time";
constexpr std::string_view kIntervalKey = "rivulet.segment-interval";
constexpr std::string_view kSequenceKey = "rivulet.sequence-number";

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if (a % b != 0 && (a < 0) != (b < 0)) --q;
  return q;
}

std::int64_t saturating_sub(std::int64_t a, std::int64_t b) {
  std::int64_t result = 0;
  if (__builtin_sub_overflow(a, b, &result)) return kNoTime;
  return result;
}

Bytes int64_bytes(std::int64_t value) {
  Bytes out;
  append_int64(out, value);
  return out;
}

}  // namespace

std::int64_t default_segment_interval(std::int64_t retention_period) {
  return std::max<std::int64_t>(retention_period / 2, 60'000);
}

Segments::Segments(std::string store, std::int64_t retention_period, std::int64_t segment_interval,
                   std::unique_ptr<SegmentStorage> storage)
    : store_(std::move(store)),
      retention_(retention_period),
      interval_(segment_interval),
      storage_(std::move(storage)) {
  if (retention_ < 0) {
    throw StreamsException("State store '" + store_ + "': retention period " +
                           std::to_string(retention_) + " ms must not be negative");
  }
  if (interval_ <= 0) {
    throw StreamsException("State store '" + store_ + "': segment interval " +
                           std::to_string(interval_) + " ms must be positive");
  }
}

void Segments::open(StateStoreContext& context) {
  if (open_) throw StreamsException("State store '" + store_ + "' is already open");
  const std::vector<std::int64_t> existing = storage_->open(context, store_);
  open_ = true;
  try {
    if (auto interval = storage_->read_metadata(kIntervalKey); interval && interval->size() == 8) {
      if (read_int64(*interval) != interval_) {
        throw StreamsException(
            "State store '" + store_ + "' was written with a segment interval of " +
            std::to_string(read_int64(*interval)) + " ms, not " + std::to_string(interval_) +
            " ms: delete its directory to rebuild it from the changelog");
      }
    } else {
      storage_->write_metadata(kIntervalKey, int64_bytes(interval_));
    }
    if (auto time = storage_->read_metadata(kStreamTimeKey); time && time->size() == 8) {
      observed_ = read_int64(*time);
    }
    if (auto sequence = storage_->read_metadata(kSequenceKey); sequence && sequence->size() == 4) {
      saved_sequence_ = read_int32(*sequence);
    }
    for (std::int64_t id : existing) live_.emplace(id, storage_->segment(id));
    drop_expired();
  } catch (...) {
    live_.clear();
    storage_->close();
    open_ = false;
    throw;
  }
}

void Segments::save_metadata(std::int32_t sequence) {
  if (!storage_->persistent()) return;
  if (observed_ != kNoTime) storage_->write_metadata(kStreamTimeKey, int64_bytes(observed_));
  Bytes bytes;
  append_int32(bytes, sequence);
  storage_->write_metadata(kSequenceKey, bytes);
  saved_sequence_ = sequence;
}

void Segments::flush(std::int32_t sequence) {
  if (!open_) return;
  save_metadata(sequence);
  storage_->flush();
}

void Segments::close(std::int32_t sequence) {
  if (!open_) return;
  open_ = false;
  live_.clear();
  try {
    save_metadata(sequence);
  } catch (...) {
    storage_->close();
    throw;
  }
  storage_->close();
  observed_ = kNoTime;
}

void Segments::require_open() const {
  if (!open_) throw StreamsException("State store '" + store_ + "' is not open");
}

std::int64_t Segments::segment_id(std::int64_t time) const {
  return floor_div(time, interval_);
}

std::int64_t Segments::min_live_time() const {
  if (observed_ == kNoTime) return kNoTime;
  const std::int64_t last_expired = saturating_sub(observed_, retention_);
  return last_expired == kNoTime ? kNoTime : last_expired + 1;
}

void Segments::observe(std::int64_t time) {
  require_open();
  if (time <= observed_) return;
  observed_ = time;
  drop_expired();
}

void Segments::drop_expired() {
  if (observed_ == kNoTime) return;
  const std::int64_t last_expired = saturating_sub(observed_, retention_);
  if (last_expired == kNoTime) return;
  // The segment of the last expired time may still hold live times; those before it cannot.
  const std::int64_t first_live = segment_id(last_expired);
  while (!live_.empty() && live_.begin()->first < first_live) {
    const std::int64_t id = live_.begin()->first;
    live_.erase(live_.begin());
    storage_->drop(id);
  }
}

BytesMap* Segments::segment_for(std::int64_t time) {
  require_open();
  if (time < min_live_time()) return nullptr;
  const std::int64_t id = segment_id(time);
  auto found = live_.find(id);
  if (found == live_.end()) found = live_.emplace(id, storage_->segment(id)).first;
  return found->second.get();
}

BytesMap* Segments::existing_segment_for(std::int64_t time) {
  require_open();
  if (time < min_live_time()) return nullptr;
  const auto found = live_.find(segment_id(time));
  return found == live_.end() ? nullptr : found->second.get();
}

std::vector<std::shared_ptr<BytesMap>> Segments::segments_between(std::int64_t from,
                                                                  std::int64_t to,
                                                                  bool forward) const {
  require_open();
  std::vector<std::shared_ptr<BytesMap>> result;
  if (from > to) return result;
  for (auto it = live_.lower_bound(segment_id(from));
       it != live_.end() && it->first <= segment_id(to); ++it) {
    result.push_back(it->second);
  }
  if (!forward) std::reverse(result.begin(), result.end());
  return result;
}

void Segments::restore(std::span<const ChangelogRecord> batch,
                       std::span<const std::int64_t> times) {
  if (batch.empty()) return;
  observe(*std::max_element(times.begin(), times.end()));
  std::vector<BytesWrite> writes;
  BytesMap* pending = nullptr;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    BytesMap* segment = segment_for(times[i]);
    if (segment == nullptr) continue;  // expired
    if (segment != pending && !writes.empty()) {
      pending->write(writes);
      writes.clear();
    }
    pending = segment;
    writes.push_back({batch[i].key, batch[i].value});
  }
  if (!writes.empty()) pending->write(writes);
}

std::vector<std::shared_ptr<BytesMap>> Segments::all_segments() const {
  require_open();
  std::vector<std::shared_ptr<BytesMap>> result;
  for (const auto& [id, segment] : live_) result.push_back(segment);
  return result;
}

}  // namespace rivulet::state
