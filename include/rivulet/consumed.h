// How a source reads a topic: serdes, timestamp extractor, name, and where to start without a
// committed offset. Used by `StreamsBuilder::stream` and `Topology::add_source`.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <rivulet/record.h>
#include <rivulet/serde.h>

namespace rivulet {

// Returns the event time of a record, in milliseconds. `record.timestamp()` is the timestamp
// Kafka stored with it; `partition_time` is the largest timestamp seen so far on its partition
// (-1 before the first). A negative result drops the record (counted, logged).
template <class K, class V>
using TimestampExtractor =
    std::function<std::int64_t(const Record<K, V>& record, std::int64_t partition_time)>;

// Where a source starts reading a partition that has no committed offset (`auto.offset.reset`).
enum class AutoOffsetReset { earliest, latest, none };

template <class K, class V>
struct Consumed {
  std::optional<AnySerde<K>> key_serde;          // default: DefaultSerde<K>
  std::optional<AnySerde<V>> value_serde;        // default: DefaultSerde<V>
  TimestampExtractor<K, V> timestamp_extractor;  // default: `default.timestamp.extractor`
  std::optional<AutoOffsetReset> offset_reset;   // default: the consumer's auto.offset.reset
  std::string name;                              // default: generated (KSTREAM-SOURCE-...)

  static Consumed with(AnySerde<K> key, AnySerde<V> value) {
    Consumed c;
    c.key_serde = std::move(key);
    c.value_serde = std::move(value);
    return c;
  }
  static Consumed as(std::string name) {
    Consumed c;
    c.name = std::move(name);
    return c;
  }
  Consumed&& with_key_serde(AnySerde<K> serde) && {
    key_serde = std::move(serde);
    return std::move(*this);
  }
  Consumed&& with_value_serde(AnySerde<V> serde) && {
    value_serde = std::move(serde);
    return std::move(*this);
  }
  Consumed&& with_timestamp_extractor(TimestampExtractor<K, V> extractor) && {
    timestamp_extractor = std::move(extractor);
    return std::move(*this);
  }
  Consumed&& with_offset_reset_policy(AutoOffsetReset policy) && {
    offset_reset = policy;
    return std::move(*this);
  }
  Consumed&& with_name(std::string n) && {
    name = std::move(n);
    return std::move(*this);
  }
};

}  // namespace rivulet
