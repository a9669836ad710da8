// Internal: how a Topology describes one node before any task exists. Not API.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <typeindex>
#include <vector>

#include <rivulet/detail/processor_node.h>

namespace rivulet::detail {

enum class NodeKind { source, processor, sink };

// What a node factory may ask when it builds a node for one task.
struct NodeBuildContext {
  // The name of `topic` in Kafka: internal topics are prefixed with the application id.
  std::function<std::string(const std::string& topic)> resolve_topic;
};

struct NodeFactory {
  std::string name;
  NodeKind kind = NodeKind::processor;
  std::vector<std::string> parents;
  std::vector<std::string> source_topics;  // sources: unresolved topic names
  std::string sink_topic;                  // sinks: unresolved; empty with a topic extractor
  std::vector<std::string> stores;         // processors: connected state stores
  // Record types in and out; typeid(void) where a node has none (sources in, sinks out).
  std::type_index key_in = typeid(void);
  std::type_index value_in = typeid(void);
  std::type_index key_out = typeid(void);
  std::type_index value_out = typeid(void);
  std::function<std::unique_ptr<ProcessorNode>(const NodeBuildContext&)> create;
};

}  // namespace rivulet::detail
