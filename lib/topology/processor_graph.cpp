#include "topology/processor_graph.h"

#include <exception>
#include <unordered_map>

#include <fmt/format.h>

#include <rivulet/errors.h>

#include "topology/topology_impl.h"

namespace rivulet::detail {

std::unique_ptr<ProcessorGraph> ProcessorGraph::build(const TopologyImpl& topology, int subtopology,
                                                      const std::string& application_id) {
  const std::vector<SubtopologyInfo> subtopologies = topology.subtopologies();
  if (subtopology < 0 || static_cast<std::size_t>(subtopology) >= subtopologies.size()) {
    throw StreamsException(fmt::format("no sub-topology {}", subtopology));
  }
  NodeBuildContext context;
  context.resolve_topic = [&](const std::string& topic) {
    return topology.resolve_topic(application_id, topic);
  };
  auto graph = std::unique_ptr<ProcessorGraph>(new ProcessorGraph());
  std::unordered_map<std::string, ProcessorNode*> by_name;
  const SubtopologyInfo& info = subtopologies[static_cast<std::size_t>(subtopology)];
  graph->store_factories_.reserve(info.stores.size());
  for (const std::string& store : info.stores) {
    graph->store_factories_.push_back(*topology.find_store(store));
  }
  for (const StoreFactory& store : graph->store_factories_) graph->stores_.push_back(&store);
  for (const NodeFactory* factory : info.nodes) {
    std::unique_ptr<ProcessorNode> node = factory->create(context);
    for (const std::string& store : factory->stores)
      graph->connections_.emplace_back(node.get(), store);
    for (const std::string& parent : factory->parents) by_name.at(parent)->add_child(node.get());
    if (factory->kind == NodeKind::source) {
      auto* source = static_cast<SourceNodeBase*>(node.get());
      for (const std::string& topic : factory->source_topics) {
        graph->source_topics_.push_back(context.resolve_topic(topic));
        graph->sources_by_topic_.push_back(source);
      }
    }
    by_name[factory->name] = node.get();
    graph->nodes_.push_back(std::move(node));
  }
  return graph;
}

SourceNodeBase* ProcessorGraph::source_for(std::string_view topic) const {
  for (std::size_t i = 0; i < source_topics_.size(); ++i) {
    if (source_topics_[i] == topic) return sources_by_topic_[i];
  }
  return nullptr;
}

bool ProcessorGraph::connected(const ProcessorNode& node, std::string_view store) const {
  for (const auto& [user, name] : connections_) {
    if (user == &node && name == store) return true;
  }
  return false;
}

void ProcessorGraph::init(TaskContext& task) {
  for (auto& node : nodes_) node->init(task);
}

void ProcessorGraph::close() {
  std::exception_ptr first;
  for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
    try {
      (*it)->close();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

}  // namespace rivulet::detail
