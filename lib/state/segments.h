// Time segments: what window and session stores share. A store's entries are split by time into
// segments of `segment_interval` ms (segment id = floor(time / interval)), each a BytesMap. The
// store observes stream time (the largest time put); times at or before stream time - retention
// are expired: never returned, and a segment is dropped whole once all its times are expired.
//
// Where segments live is a SegmentStorage: in memory (a map each), or RocksDB (one column family
// each, in one database per store). Not thread-safe, like the stores.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rivulet/state/state_store.h>

#include "state/bytes_map.h"

namespace rivulet::state {

class RocksDbDatabase;

class SegmentStorage {
 public:
  virtual ~SegmentStorage() = default;
  // Opens the storage of store `store`; returns the ids of the segments it holds already.
  virtual std::vector<std::int64_t> open(StateStoreContext& context, const std::string& store) = 0;
  // The segment `id`, created when missing.
  virtual std::shared_ptr<BytesMap> segment(std::int64_t id) = 0;
  // Deletes segment `id` and its data (iterators that hold it still read it).
  virtual void drop(std::int64_t id) = 0;
  // Small values a store keeps across restarts (nullopt when never written, or in memory).
  virtual std::optional<Bytes> read_metadata(std::string_view key) = 0;
  virtual void write_metadata(std::string_view key, ByteView value) = 0;
  virtual void flush() = 0;
  virtual void close() = 0;
  virtual bool persistent() const = 0;
  // The RocksDB database the segments live in; nullptr in memory.
  virtual RocksDbDatabase* database() { return nullptr; }
};

std::unique_ptr<SegmentStorage> make_in_memory_segment_storage();
// One RocksDB database at `state_dir/rocksdb/<store>`, a column family "segment-<id>" per segment.
std::unique_ptr<SegmentStorage> make_rocksdb_segment_storage();

class Segments {
 public:
  // REQUIRES: retention_period >= 0, segment_interval > 0.
  Segments(std::string store, std::int64_t retention_period, std::int64_t segment_interval,
           std::unique_ptr<SegmentStorage> storage);

  // Opens the storage with the segments it has, and the stream time and sequence number saved
  // by the last flush. Throws StreamsException when the store was written with another segment
  // interval.
  void open(StateStoreContext& context);
  // Saves stream time and `sequence` (a window store's sequence number), then flushes.
  void flush(std::int32_t sequence);
  void close(std::int32_t sequence);
  bool is_open() const { return open_; }
  bool persistent() const { return storage_->persistent(); }
  RocksDbDatabase* database() { return open_ ? storage_->database() : nullptr; }
  // The sequence number saved by the last flush (0 when none).
  std::int32_t saved_sequence() const { return saved_sequence_; }

  std::int64_t segment_id(std::int64_t time) const;
  std::int64_t observed_stream_time() const { return observed_; }
  // The earliest time not expired.
  std::int64_t min_live_time() const;
  // Moves stream time to `time` when later, dropping the segments that expire.
  void observe(std::int64_t time);
  // The segment of `time`, created when missing; nullptr when `time` is expired.
  BytesMap* segment_for(std::int64_t time);
  // The existing segment of `time`; nullptr when there is none or `time` is expired.
  BytesMap* existing_segment_for(std::int64_t time);
  // The segments that may hold times in [from, to], in time order (reversed when !forward).
  std::vector<std::shared_ptr<BytesMap>> segments_between(std::int64_t from, std::int64_t to,
                                                          bool forward) const;
  std::vector<std::shared_ptr<BytesMap>> all_segments() const;
  // Restoration: writes changelog records (whose keys are the segments' own keys) into the
  // segments of their `times`, one write per run of records of the same segment. Stream time
  // moves to the batch's latest time first, so records that would expire within it are skipped.
  // REQUIRES: times.size() == batch.size().
  void restore(std::span<const ChangelogRecord> batch, std::span<const std::int64_t> times);
  std::size_t segment_count() const { return live_.size(); }

 private:
  void save_metadata(std::int32_t sequence);
  void drop_expired();
  void require_open() const;

  std::string store_;
  std::int64_t retention_;
  std::int64_t interval_;
  std::unique_ptr<SegmentStorage> storage_;
  std::map<std::int64_t, std::shared_ptr<BytesMap>> live_;
  std::int64_t observed_ = std::numeric_limits<std::int64_t>::min();
  std::int32_t saved_sequence_ = 0;
  bool open_ = false;
};

// Iterates the entries of several segments within the same key bounds, segment after segment,
// decoding each entry and keeping those `decode` returns. Holds the segments, so a segment
// dropped meanwhile stays readable; every segment's iterator is created up front, so they all
// see the store at the same moment.
template <class Entry>
class SegmentedIterator final : public StoreIterator<Entry> {
 public:
  using Decode = std::function<std::optional<Entry>(KeyValue<Bytes, Bytes>&)>;

  SegmentedIterator(std::vector<std::shared_ptr<BytesMap>> segments, const KeyBounds& bounds,
                    bool forward, Decode decode)
      : segments_(std::move(segments)), decode_(std::move(decode)) {
    iterators_.reserve(segments_.size());
    for (const auto& segment : segments_) iterators_.push_back(segment->range(bounds, forward));
  }

  bool has_next() override {
    while (!pending_) {
      if (current_ == iterators_.size()) return false;
      if (!iterators_[current_]->has_next()) {
        iterators_[current_].reset();  // release what it holds (a RocksDB iterator) early
        ++current_;
        continue;
      }
      KeyValue<Bytes, Bytes> entry = iterators_[current_]->next();
      pending_ = decode_(entry);
    }
    return true;
  }

  Entry next() override {
    has_next();
    Entry entry = std::move(*pending_);
    pending_.reset();
    return entry;
  }

 private:
  std::vector<std::shared_ptr<BytesMap>> segments_;  // first: outlives the iterators
  std::vector<std::unique_ptr<BytesMap::Iterator>> iterators_;
  std::size_t current_ = 0;
  Decode decode_;
  std::optional<Entry> pending_;
};

}  // namespace rivulet::state
