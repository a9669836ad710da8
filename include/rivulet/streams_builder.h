// StreamsBuilder: the entry point of the DSL. Read topics as streams, chain operators, then
// `build()` the Topology to run with KafkaStreams or the TopologyTestDriver.
//
//   rivulet::StreamsBuilder builder;
//   builder.stream<std::string, Reading>("raw.vehicle.telemetry")
//       .filter([](const auto&, const Reading& r) { return r.speed >= 0; })
//       .to("vehicle.valid");
//   rivulet::Topology topology = builder.build();
//
// Not thread-safe. The streams it returns share its state and must not be used after `build()`.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include <rivulet/consumed.h>
#include <rivulet/detail/builder_state.h>
#include <rivulet/kstream.h>
#include <rivulet/named.h>
#include <rivulet/topology.h>

namespace rivulet {

class StreamsBuilder {
 public:
  StreamsBuilder() : state_(std::make_shared<detail::BuilderState>()) {}

  // A stream of the records of `topic`, deserialized with `consumed`'s serdes (default: by type).
  template <class K, class V>
  KStream<K, V> stream(const std::string& topic, Consumed<K, V> consumed = {}) {
    return stream<K, V>(std::vector<std::string>{topic}, std::move(consumed));
  }
  // One stream of the records of several topics (all with the same types).
  template <class K, class V>
  KStream<K, V> stream(std::initializer_list<std::string> topics, Consumed<K, V> consumed = {}) {
    return stream<K, V>(std::vector<std::string>(topics), std::move(consumed));
  }
  template <class K, class V>
  KStream<K, V> stream(std::vector<std::string> topics, Consumed<K, V> consumed = {}) {
    if (!consumed.name.empty()) Named::validate(consumed.name);
    const std::string name = state_->name_or_generate(consumed.name, "KSTREAM-SOURCE-");
    std::optional<AnySerde<K>> key_serde = consumed.key_serde;
    std::optional<AnySerde<V>> value_serde = consumed.value_serde;
    state_->open_topology().template add_source<K, V>(name, std::move(topics), std::move(consumed));
    return KStream<K, V>(state_, name, false, std::move(key_serde), std::move(value_serde));
  }

  // The topology built so far. The builder and its streams cannot be changed afterwards.
  Topology build() {
    state_->open_topology();
    state_->built = true;
    return std::move(state_->topology);
  }

 private:
  std::shared_ptr<detail::BuilderState> state_;
};

}  // namespace rivulet
