// The node table behind Topology, and the analysis the runtime needs from it: sub-topologies,
// source topics, internal topics, and the description.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <rivulet/detail/node_factory.h>
#include <rivulet/state/stores.h>
#include <rivulet/topology.h>

namespace rivulet::detail {

struct SubtopologyInfo {
  int id = 0;
  std::vector<const NodeFactory*> nodes;   // insertion order: parents before children
  std::vector<std::string> source_topics;  // unresolved names
  std::vector<std::string> sink_topics;    // unresolved names of fixed sink topics
  std::vector<std::string> stores;         // state stores its processors use, sorted
};

class TopologyImpl {
 public:
  void add_node(NodeFactory node);
  void add_internal_topic(std::string topic, int partitions);
  // Registers a state store; connects it to `processors` (which may also be connected later).
  void add_store(StoreFactory store, const std::vector<std::string>& processors);
  void connect_store(const std::string& processor, const std::string& store);
  const StoreFactory* find_store(std::string_view name) const;
  const std::map<std::string, StoreFactory>& stores() const { return stores_; }
  // The Kafka name of a store's changelog: "<application_id>-<store>-changelog".
  static std::string changelog_topic(std::string_view application_id, std::string_view store);

  const std::vector<NodeFactory>& nodes() const { return nodes_; }
  const NodeFactory* find(std::string_view name) const;
  bool is_internal_topic(std::string_view topic) const;
  const std::map<std::string, int>& internal_topics() const { return internal_topics_; }
  // The Kafka name of `topic`: "<application_id>-<topic>" for internal topics.
  std::string resolve_topic(std::string_view application_id, const std::string& topic) const;

  // Throws TopologyException when the topology cannot run (no source, a cycle).
  void validate() const;
  // Sub-topologies numbered as Kafka Streams numbers them (by sorted source node names).
  std::vector<SubtopologyInfo> subtopologies() const;
  TopologyDescription describe() const;

 private:
  std::vector<NodeFactory> nodes_;
  std::unordered_map<std::string, std::size_t> index_;
  std::unordered_map<std::string, std::string> topic_to_source_;
  std::map<std::string, int> internal_topics_;
  std::map<std::string, StoreFactory> stores_;
};

}  // namespace rivulet::detail
