// Internal: the processor behind `KStream::drop_duplicates`. Not API; the semantics are on the
// operation (kstream.h).
//
// State: a WindowStore<Id, Bytes> (with a changelog, so it restores after a restart or a move)
// holding, for every record forwarded, its id at its timestamp, with the record's position (topic,
// partition, offset) as the value. Retention is twice the window: a record at t looks back to
// t - window, and records are accepted until stream time passes t + window.
//
// Position: when a task fails after forwarding a record but before committing its offset, the
// record is processed again and finds its own entry (restored from the changelog); it is forwarded
// again rather than taken for a duplicate of itself, since its first output may not have reached
// Kafka (at-least-once). Two records read from the same input record (flat_map) share a position,
// so a duplicate among them is not detected.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <rivulet/detail/join_processors.h>
#include <rivulet/detail/ktable_processors.h>
#include <rivulet/detail/stream_processors.h>
#include <rivulet/processor.h>
#include <rivulet/serdes.h>
#include <rivulet/state/stores.h>
#include <rivulet/state/window_store.h>

namespace rivulet::detail {

// The default id of `drop_duplicates`: the record's key.
struct KeyAsId {
  template <class K, class V>
  const K& operator()(const K& key, const V& /*value*/) const {
    return key;
  }
};

template <class K, class V, class Id, class IdExtractor>
class DeduplicationProcessor final : public DslProcessor<K, V, K, V> {
 public:
  DeduplicationProcessor(std::string store, std::int64_t window, IdExtractor extractor)
      : store_name_(std::move(store)), window_(window), extractor_(std::move(extractor)) {}

  void init(ProcessorContext<K, V>& context) override {
    DslProcessor<K, V, K, V>::init(context);
    store_ = &context.template get_state_store<WindowStore<Id, Bytes>>(store_name_);
  }

  void process_in_place(Record<K, V>& record) override {
    // A reference when the extractor returns one (the key), so the key is not copied.
    decltype(auto) id = extractor_(record.key(), record.value());
    check(id, record);
  }

 private:
  void check(const Id& id, Record<K, V>& record) {
    if (store_->key_serde().is_null(id)) {
      this->context_->forward(std::move(record));  // no id: nothing to deduplicate on
      return;
    }
    const std::int64_t t = record.timestamp();
    const Bytes position = current_position();
    WindowStoreIterator<Bytes> seen =
        store_->fetch(id, time_minus(t, window_), time_plus(t, window_));
    bool duplicate = false;
    while (seen.has_next()) {
      KeyValue<std::int64_t, Bytes> entry = seen.next();
      if (position.size() > 1 && entry.value == position) {
        // This very record, processed again after a failure: forward it again.
        this->context_->forward(std::move(record));
        return;
      }
      duplicate = true;
    }
    if (duplicate) {
      report_dropped(*this->context_, "duplicate");
      return;
    }
    store_->put(id, position, t);
    this->context_->forward(std::move(record));
  }

  // [1][partition, 4 bytes][offset, 8 bytes][topic] for a record read from a topic, else [0]
  // (never empty: an empty value would read as a deletion).
  Bytes current_position() const {
    const std::optional<RecordMetadata>& metadata = this->context_->record_metadata();
    Bytes out;
    if (!metadata) {
      out.push_back(0);
      return out;
    }
    out.reserve(13 + metadata->topic.size());
    out.push_back(1);
    outer_codec::put_u32(out, static_cast<std::uint32_t>(metadata->partition));
    outer_codec::put_u64(out, static_cast<std::uint64_t>(metadata->offset));
    out.insert(out.end(), metadata->topic.begin(), metadata->topic.end());
    return out;
  }

  std::string store_name_;
  std::int64_t window_;
  IdExtractor extractor_;
  WindowStore<Id, Bytes>* store_ = nullptr;
};

// The store of `drop_duplicates`: ids at their record's timestamp, kept for twice the window.
template <class Id>
StoreBuilder<WindowStore<Id, Bytes>> deduplication_store(const std::string& name,
                                                         std::int64_t window, bool in_memory,
                                                         AnySerde<Id> ids) {
  const std::chrono::milliseconds size(window);
  const std::chrono::milliseconds retention(time_plus(window, window));
  WindowBytesStoreSupplier supplier = in_memory
                                          ? Stores::in_memory_window_store(name, retention, size)
                                          : Stores::persistent_window_store(name, retention, size);
  return StoreBuilder<WindowStore<Id, Bytes>>(std::move(supplier), std::move(ids),
                                              AnySerde<Bytes>(BytesSerde{}));
}

}  // namespace rivulet::detail
