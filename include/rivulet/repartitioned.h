// Repartitioned: how `KStream::repartition` writes its internal topic.
#pragma once

#include <optional>
#include <string>

#include <rivulet/produced.h>
#include <rivulet/serde.h>

namespace rivulet {

template <class K, class V>
struct Repartitioned {
  std::string name;                         // topic "<application.id>-<name>-repartition"
  std::optional<int> number_of_partitions;  // default: as many as the upstream sub-topology
  std::optional<AnySerde<K>> key_serde;     // default: the stream's, else DefaultSerde<K>
  std::optional<AnySerde<V>> value_serde;   // default: the stream's, else DefaultSerde<V>
  StreamPartitioner<K, V> partitioner;      // default: the producer's (murmur2 of the key)

  static Repartitioned as(std::string n) {
    Repartitioned r;
    r.name = std::move(n);
    return r;
  }
  static Repartitioned with(AnySerde<K> key, AnySerde<V> value) {
    Repartitioned r;
    r.key_serde = std::move(key);
    r.value_serde = std::move(value);
    return r;
  }
  Repartitioned&& with_number_of_partitions(int n) && {
    number_of_partitions = n;
    return std::move(*this);
  }
  Repartitioned&& with_name(std::string n) && {
    name = std::move(n);
    return std::move(*this);
  }
  Repartitioned&& with_stream_partitioner(StreamPartitioner<K, V> p) && {
    partitioner = std::move(p);
    return std::move(*this);
  }
};

}  // namespace rivulet
