// A key and a value, as map and flat_map return them and test topics read them.
#pragma once

#include <utility>

namespace rivulet {

template <class K, class V>
struct KeyValue {
  K key;
  V value;

  static KeyValue pair(K k, V v) { return KeyValue{std::move(k), std::move(v)}; }
  friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

template <class K, class V>
KeyValue(K, V) -> KeyValue<K, V>;

}  // namespace rivulet
