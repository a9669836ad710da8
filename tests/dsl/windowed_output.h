// Test helpers for windowed output topics: reads records whose keys are Windowed<K> through a
// windowed serde, and prints windowed keys readably.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <rivulet/state/state_store.h>
#include <rivulet/testing/topology_test_driver.h>
#include <rivulet/windowed_serdes.h>

namespace rivulet {

template <class K>
void PrintTo(const Windowed<K>& key, std::ostream* os) {
  *os << ::testing::PrintToString(key.key) << "@[" << key.window.start << "," << key.window.end
      << "]";
}

namespace test {

// An output topic with Windowed<K> keys. (The driver's own output topics need a default serde for
// their key type, and windowed keys have none: time and session windows differ.)
template <class K, class V>
class WindowedOutput {
 public:
  WindowedOutput(testing::TopologyTestDriver& driver, std::string topic, AnySerde<Windowed<K>> keys)
      : topic_(driver.create_output_topic<Bytes, V>(topic)), keys_(std::move(keys)) {}

  std::vector<testing::TestRecord<Windowed<K>, V>> read_records_to_list() {
    std::vector<testing::TestRecord<Windowed<K>, V>> out;
    for (auto& record : topic_.read_records_to_list()) {
      std::optional<Windowed<K>> key;
      if (record.key) key = keys_.deserialize(topic_.topic(), *record.key);
      out.emplace_back(std::move(key), std::move(record.value), record.timestamp);
    }
    return out;
  }
  // Values, with "<null>" for a deletion (only for V = std::string).
  std::vector<V> read_values_to_list() {
    std::vector<V> out;
    for (auto& record : topic_.read_records_to_list()) out.push_back(record.value.value_or(V{}));
    return out;
  }

 private:
  testing::TestOutputTopic<Bytes, V> topic_;
  AnySerde<Windowed<K>> keys_;
};

}  // namespace test
}  // namespace rivulet
