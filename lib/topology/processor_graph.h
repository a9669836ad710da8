// The nodes of one sub-topology, instantiated for one task and wired parent to child.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rivulet/detail/processor_node.h>
#include <rivulet/detail/source_sink_nodes.h>
#include <rivulet/state/stores.h>

namespace rivulet::detail {

class TopologyImpl;

class ProcessorGraph {
 public:
  // Builds the nodes of sub-topology `subtopology`, resolving internal topic names with
  // `application_id`. Throws TopologyException when a node cannot be built (a missing serde).
  static std::unique_ptr<ProcessorGraph> build(const TopologyImpl& topology, int subtopology,
                                               const std::string& application_id);

  // The source reading `topic` (its Kafka name), or nullptr.
  SourceNodeBase* source_for(std::string_view topic) const;
  // Kafka names of the topics this graph reads, in source order.
  const std::vector<std::string>& source_topics() const { return source_topics_; }
  const std::vector<std::unique_ptr<ProcessorNode>>& nodes() const { return nodes_; }

  // The stores of this sub-topology, and whether `node` may use `store`.
  const std::vector<const StoreFactory*>& stores() const { return stores_; }
  bool connected(const ProcessorNode& node, std::string_view store) const;

  // Initializes nodes parents first, so a processor's children are ready when it starts.
  void init(TaskContext& task);
  // Closes every node, children first, and keeps the first exception to rethrow at the end.
  void close();

 private:
  std::vector<std::unique_ptr<ProcessorNode>> nodes_;  // parents before children
  std::vector<std::string> source_topics_;
  std::vector<SourceNodeBase*> sources_by_topic_;  // parallel to source_topics_
  // Copies: a graph must not depend on its Topology outliving it (the test driver is often given
  // a temporary one).
  std::vector<StoreFactory> store_factories_;
  std::vector<const StoreFactory*> stores_;                                // into store_factories_
  std::vector<std::pair<const ProcessorNode*, std::string>> connections_;  // node, store
};

}  // namespace rivulet::detail
