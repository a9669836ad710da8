// How a sink writes a topic: serdes, partitioner and name. Used by `KStream::to` and
// `Topology::add_sink`.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <rivulet/record.h>
#include <rivulet/serde.h>

namespace rivulet {

// Chooses the partition of an output record; nullopt leaves it to the producer's partitioner
// (murmur2 of the key, as the Java client does).
template <class K, class V>
using StreamPartitioner = std::function<std::optional<std::int32_t>(
    std::string_view topic, const K& key, const V& value, std::int32_t num_partitions)>;

// Chooses the output topic per record (`KStream::to` with a dynamic topic).
template <class K, class V>
using TopicNameExtractor = std::function<std::string(const Record<K, V>& record)>;

template <class K, class V>
struct Produced {
  std::optional<AnySerde<K>> key_serde;    // default: the stream's, else DefaultSerde<K>
  std::optional<AnySerde<V>> value_serde;  // default: the stream's, else DefaultSerde<V>
  StreamPartitioner<K, V> partitioner;     // default: the producer's
  std::string name;                        // default: generated (KSTREAM-SINK-...)

  static Produced with(AnySerde<K> key, AnySerde<V> value) {
    Produced p;
    p.key_serde = std::move(key);
    p.value_serde = std::move(value);
    return p;
  }
  static Produced as(std::string name) {
    Produced p;
    p.name = std::move(name);
    return p;
  }
  Produced&& with_key_serde(AnySerde<K> serde) && {
    key_serde = std::move(serde);
    return std::move(*this);
  }
  Produced&& with_value_serde(AnySerde<V> serde) && {
    value_serde = std::move(serde);
    return std::move(*this);
  }
  Produced&& with_stream_partitioner(StreamPartitioner<K, V> p) && {
    partitioner = std::move(p);
    return std::move(*this);
  }
  Produced&& with_name(std::string n) && {
    name = std::move(n);
    return std::move(*this);
  }
};

}  // namespace rivulet
