// Grouped: how `KStream::group_by_key` / `group_by` group a stream for an aggregation: the serdes
// of the repartition topic (when one is needed) and its name.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include <rivulet/named.h>
#include <rivulet/serde.h>

namespace rivulet {

template <class K, class V>
struct Grouped {
  // Names the repartition topic "<application.id>-<name>-repartition" (and, for `group_by`, the
  // key-selecting processor). Default: the topic is named after the aggregation's store.
  std::string name;
  std::optional<AnySerde<K>> key_serde;    // default: the stream's, else DefaultSerde<K>
  std::optional<AnySerde<V>> value_serde;  // default: the stream's, else DefaultSerde<V>

  static Grouped as(std::string n) {
    Named::validate(n);
    Grouped g;
    g.name = std::move(n);
    return g;
  }
  static Grouped with(AnySerde<K> key, AnySerde<V> value) {
    Grouped g;
    g.key_serde = std::move(key);
    g.value_serde = std::move(value);
    return g;
  }
  Grouped&& with_name(std::string n) && {
    Named::validate(n);
    name = std::move(n);
    return std::move(*this);
  }
  Grouped&& with_key_serde(AnySerde<K> serde) && {
    key_serde = std::move(serde);
    return std::move(*this);
  }
  Grouped&& with_value_serde(AnySerde<V> serde) && {
    value_serde = std::move(serde);
    return std::move(*this);
  }
};

}  // namespace rivulet
