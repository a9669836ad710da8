// A Topology is the graph of an application: sources that read topics, processors, and sinks that
// write topics, each node named. It is a description only; tasks instantiate it.
//
// The graph splits into sub-topologies: groups of nodes connected by edges (a repartition topic
// is written by a sink in one sub-topology and read by a source in another). Each sub-topology
// runs as one task per partition of its source topics.
//
// Nodes must be added after their parents, so the graph is acyclic by construction; every add
// validates its arguments and throws TopologyException naming the offending node. Processor input
// types must equal the output types of every parent; a mismatch names both nodes and both types.
//
// Not thread-safe while being built. Once handed to a driver or to KafkaStreams it must not
// change.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <type_traits>
#include <typeindex>
#include <vector>

#include <rivulet/consumed.h>
#include <rivulet/detail/node_factory.h>
#include <rivulet/detail/source_sink_nodes.h>
#include <rivulet/processor.h>
#include <rivulet/produced.h>
#include <rivulet/state/stores.h>

namespace rivulet {

class Topology;
namespace detail {
class TopologyImpl;
}

// The structure of a topology, as `Topology::describe()` returns it. `to_string()` prints it in
// the layout of Kafka Streams' TopologyDescription, which tools that visualise topologies read.
class TopologyDescription {
 public:
  struct Node {
    std::string name;
    detail::NodeKind kind = detail::NodeKind::processor;
    std::vector<std::string> topics;  // sources: topics read; sinks: the topic written (if fixed)
    std::vector<std::string> stores;  // processors: connected stores
    std::vector<std::string> predecessors;
    std::vector<std::string> successors;
  };
  struct Subtopology {
    int id = 0;
    std::vector<Node> nodes;  // in Kafka Streams' order: larger downstream sub-graph first
  };

  const std::vector<Subtopology>& subtopologies() const& { return subtopologies_; }
  // On a temporary (`topology.describe().subtopologies()`), a copy, so a range-for over it does
  // not read freed memory.
  std::vector<Subtopology> subtopologies() && { return std::move(subtopologies_); }
  std::string to_string() const;

 private:
  friend class detail::TopologyImpl;
  std::vector<Subtopology> subtopologies_;
};

std::ostream& operator<<(std::ostream& out, const TopologyDescription& description);

namespace detail {
class TopologyImpl;
TopologyImpl& topology_impl(Topology& topology);
const TopologyImpl& topology_impl(const Topology& topology);

// The Processor<...> base a user processor type derives from.
template <class KI, class VI, class KO, class VO>
Processor<KI, VI, KO, VO>* processor_base(Processor<KI, VI, KO, VO>*);
template <class P>
using ProcessorBaseOf = std::remove_pointer_t<decltype(processor_base(std::declval<P*>()))>;
}  // namespace detail

class Topology {
 public:
  Topology();
  ~Topology();
  Topology(Topology&&) noexcept;
  Topology& operator=(Topology&&) noexcept;

  // Adds a source named `name` reading `topics`, producing records of type <K, V>.
  // REQUIRES: a unique name; at least one topic, none read by another source.
  template <class K, class V>
  Topology& add_source(std::string name, std::vector<std::string> topics,
                       Consumed<K, V> consumed = {}) {
    detail::NodeFactory node;
    node.name = std::move(name);
    node.kind = detail::NodeKind::source;
    node.source_topics = std::move(topics);
    node.key_out = typeid(K);
    node.value_out = typeid(V);
    node.create = [name = node.name, consumed = std::move(consumed)](
                      const detail::NodeBuildContext&) -> std::unique_ptr<detail::ProcessorNode> {
      return std::make_unique<detail::SourceNode<K, V>>(
          name, detail::resolve_serde(consumed.key_serde, name, "key"),
          detail::resolve_serde(consumed.value_serde, name, "value"), consumed.timestamp_extractor);
    };
    return add_node(std::move(node));
  }

  // Adds a processor named `name` fed by `parents`. `supplier` returns a new
  // `std::unique_ptr<P>` on each call, where P derives from Processor<KIn, VIn, KOut, VOut>.
  // REQUIRES: a unique name; parents already added, none of them a sink, forwarding <KIn, VIn>.
  template <class Supplier>
  Topology& add_processor(std::string name, Supplier supplier, std::vector<std::string> parents) {
    using P = typename std::invoke_result_t<Supplier&>::element_type;
    using Base = detail::ProcessorBaseOf<P>;
    using KIn = typename Base::key_in;
    using VIn = typename Base::value_in;
    using KOut = typename Base::key_out;
    using VOut = typename Base::value_out;
    detail::NodeFactory node;
    node.name = std::move(name);
    node.kind = detail::NodeKind::processor;
    node.parents = std::move(parents);
    node.key_in = typeid(KIn);
    node.value_in = typeid(VIn);
    node.key_out = typeid(KOut);
    node.value_out = typeid(VOut);
    node.create =
        [name = node.name, supplier = std::move(supplier)](
            const detail::NodeBuildContext&) mutable -> std::unique_ptr<detail::ProcessorNode> {
      std::unique_ptr<Processor<KIn, VIn, KOut, VOut>> processor = supplier();
      if (!processor) {
        throw TopologyException("the supplier of processor '" + name + "' returned null");
      }
      return std::make_unique<detail::ProcessorNodeImpl<KIn, VIn, KOut, VOut>>(
          name, std::move(processor));
    };
    return add_node(std::move(node));
  }

  // Adds a sink named `name` writing the records of `parents` to `topic`.
  // REQUIRES: a unique name; a non-empty topic; parents already added, forwarding <K, V>.
  template <class K, class V>
  Topology& add_sink(std::string name, std::string topic, std::vector<std::string> parents,
                     Produced<K, V> produced = {}) {
    if (topic.empty()) throw TopologyException("sink '" + name + "' has no topic");
    return add_sink_node<K, V>(std::move(name), std::move(topic), {}, std::move(parents),
                               std::move(produced));
  }

  // Adds a sink that chooses the topic of each record with `extractor`.
  template <class K, class V>
  Topology& add_sink(std::string name, TopicNameExtractor<K, V> extractor,
                     std::vector<std::string> parents, Produced<K, V> produced = {}) {
    if (!extractor) throw TopologyException("sink '" + name + "' has an empty topic extractor");
    return add_sink_node<K, V>(std::move(name), {}, std::move(extractor), std::move(parents),
                               std::move(produced));
  }

  // Adds a state store built by `builder` (see state/stores.h) and connects it to `processors`,
  // which must exist already. Processors that share a store run in the same task, so they join
  // one sub-topology.
  template <class Store>
  Topology& add_state_store(const StoreBuilder<Store>& builder,
                            const std::vector<std::string>& processors = {}) {
    return add_store_factory(builder.factory(), processors);
  }
  // Lets `processor` use `stores` (already added) through ProcessorContext::get_state_store.
  Topology& connect_processor_and_state_stores(const std::string& processor,
                                               const std::vector<std::string>& stores);

  // Declares `topic` as internal (a repartition topic): in Kafka it is named
  // "<application.id>-<topic>" and created by the application.
  Topology& add_internal_topic(std::string topic, int partitions = -1);

  TopologyDescription describe() const;

 private:
  friend detail::TopologyImpl& detail::topology_impl(Topology&);
  friend const detail::TopologyImpl& detail::topology_impl(const Topology&);

  template <class K, class V>
  Topology& add_sink_node(std::string name, std::string topic, TopicNameExtractor<K, V> extractor,
                          std::vector<std::string> parents, Produced<K, V> produced) {
    detail::NodeFactory node;
    node.name = std::move(name);
    node.kind = detail::NodeKind::sink;
    node.parents = std::move(parents);
    node.sink_topic = topic;
    node.key_in = typeid(K);
    node.value_in = typeid(V);
    const bool dynamic = static_cast<bool>(extractor);
    node.create =
        [name = node.name, topic = std::move(topic), extractor = std::move(extractor),
         produced = std::move(produced), dynamic](
            const detail::NodeBuildContext& context) -> std::unique_ptr<detail::ProcessorNode> {
      return std::make_unique<detail::SinkNode<K, V>>(
          name, dynamic ? std::string() : context.resolve_topic(topic), extractor,
          detail::resolve_serde(produced.key_serde, name, "key"),
          detail::resolve_serde(produced.value_serde, name, "value"), produced.partitioner);
    };
    return add_node(std::move(node));
  }

  Topology& add_node(detail::NodeFactory node);
  Topology& add_store_factory(detail::StoreFactory store,
                              const std::vector<std::string>& processors);

  std::unique_ptr<detail::TopologyImpl> impl_;
};

}  // namespace rivulet
