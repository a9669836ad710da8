#include <algorithm>
#include <functional>
#include <numeric>
#include <ostream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include <rivulet/detail/type_name.h>
#include <rivulet/topology.h>

#include "topology/topology_impl.h"

namespace rivulet {

Topology::Topology() : impl_(std::make_unique<detail::TopologyImpl>()) {}
Topology::~Topology() = default;
Topology::Topology(Topology&&) noexcept = default;
Topology& Topology::operator=(Topology&&) noexcept = default;

Topology& Topology::add_node(detail::NodeFactory node) {
  impl_->add_node(std::move(node));
  return *this;
}

Topology& Topology::add_internal_topic(std::string topic, int partitions) {
  impl_->add_internal_topic(std::move(topic), partitions);
  return *this;
}

Topology& Topology::add_store_factory(detail::StoreFactory store,
                                      const std::vector<std::string>& processors) {
  impl_->add_store(std::move(store), processors);
  return *this;
}

Topology& Topology::connect_processor_and_state_stores(const std::string& processor,
                                                       const std::vector<std::string>& stores) {
  if (stores.empty()) {
    throw TopologyException(
        fmt::format("connecting processor '{}' needs at least one store", processor));
  }
  for (const std::string& store : stores) impl_->connect_store(processor, store);
  return *this;
}

TopologyDescription Topology::describe() const {
  return impl_->describe();
}

namespace detail {
TopologyImpl& topology_impl(Topology& topology) {
  return *topology.impl_;
}
const TopologyImpl& topology_impl(const Topology& topology) {
  return *topology.impl_;
}
}  // namespace detail

namespace {

const char* kind_name(detail::NodeKind kind) {
  switch (kind) {
    case detail::NodeKind::source:
      return "source";
    case detail::NodeKind::sink:
      return "sink";
    case detail::NodeKind::processor:
      break;
  }
  return "processor";
}

std::string record_types(std::type_index key, std::type_index value) {
  return fmt::format("Record<{}, {}>", detail::type_name(key), detail::type_name(value));
}

std::string bracketed(const std::vector<std::string>& names) {
  return fmt::format("[{}]", fmt::join(names, ", "));
}

std::string arrow_list(const std::vector<std::string>& names) {
  return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

namespace detail {

const NodeFactory* TopologyImpl::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &nodes_[it->second];
}

void TopologyImpl::add_node(NodeFactory node) {
  const std::string& name = node.name;
  const char* kind = kind_name(node.kind);
  if (name.empty()) throw TopologyException(fmt::format("a {} node needs a name", kind));
  if (find(name) != nullptr) {
    throw TopologyException(fmt::format("{} '{}' is already added: node names must be unique",
                                        kind_name(find(name)->kind), name));
  }
  if (node.kind == NodeKind::source) {
    if (node.source_topics.empty()) {
      throw TopologyException(fmt::format("source '{}' must read at least one topic", name));
    }
    std::set<std::string> seen;
    for (const std::string& topic : node.source_topics) {
      if (topic.empty())
        throw TopologyException(fmt::format("source '{}' names an empty topic", name));
      if (!seen.insert(topic).second) {
        throw TopologyException(fmt::format("source '{}' names topic '{}' twice", name, topic));
      }
      if (auto it = topic_to_source_.find(topic); it != topic_to_source_.end()) {
        throw TopologyException(
            fmt::format("topic '{}' is read by source '{}' already; source '{}' cannot read it too",
                        topic, it->second, name));
      }
    }
  } else {
    if (node.parents.empty()) {
      throw TopologyException(fmt::format("{} '{}' must have at least one parent", kind, name));
    }
    std::set<std::string> seen;
    for (const std::string& parent_name : node.parents) {
      if (parent_name == name) {
        throw TopologyException(fmt::format(
            "{} '{}' names itself as its parent, which would make a cycle", kind, name));
      }
      if (!seen.insert(parent_name).second) {
        throw TopologyException(
            fmt::format("{} '{}' names parent '{}' twice", kind, name, parent_name));
      }
      const NodeFactory* parent = find(parent_name);
      if (parent == nullptr) {
        throw TopologyException(fmt::format(
            "unknown parent '{}' of {} '{}': add a node before the nodes it feeds (which also "
            "rules out cycles)",
            parent_name, kind, name));
      }
      if (parent->kind == NodeKind::sink) {
        throw TopologyException(
            fmt::format("sink '{}' cannot be the parent of {} '{}': sinks have no children",
                        parent_name, kind, name));
      }
      if (parent->key_out != node.key_in || parent->value_out != node.value_in) {
        throw TopologyException(fmt::format("{} '{}' takes {} but its parent '{}' forwards {}",
                                            kind, name, record_types(node.key_in, node.value_in),
                                            parent_name,
                                            record_types(parent->key_out, parent->value_out)));
      }
    }
  }
  if (!node.create) throw TopologyException(fmt::format("{} '{}' has no factory", kind, name));
  for (const std::string& topic : node.source_topics) topic_to_source_[topic] = name;
  index_.emplace(name, nodes_.size());
  nodes_.push_back(std::move(node));
}

void TopologyImpl::add_store(StoreFactory store, const std::vector<std::string>& processors) {
  validate_store_name(store.name);
  if (stores_.count(store.name) > 0) {
    throw TopologyException(
        fmt::format("state store '{}' is already added: store names must be unique", store.name));
  }
  if (!store.build) throw TopologyException(fmt::format("store '{}' has no factory", store.name));
  const std::string name = store.name;
  stores_.emplace(name, std::move(store));
  for (const std::string& processor : processors) connect_store(processor, name);
}

void TopologyImpl::connect_store(const std::string& processor, const std::string& store) {
  if (stores_.count(store) == 0) {
    throw TopologyException(fmt::format(
        "unknown state store '{}' for processor '{}': add the store first", store, processor));
  }
  auto it = index_.find(processor);
  if (it == index_.end()) {
    throw TopologyException(fmt::format(
        "unknown processor '{}' for state store '{}': add the processor first", processor, store));
  }
  NodeFactory& node = nodes_[it->second];
  if (node.kind != NodeKind::processor) {
    throw TopologyException(fmt::format("{} '{}' cannot use state store '{}': only processors can",
                                        kind_name(node.kind), processor, store));
  }
  if (std::find(node.stores.begin(), node.stores.end(), store) == node.stores.end()) {
    node.stores.push_back(store);
  }
}

const StoreFactory* TopologyImpl::find_store(std::string_view name) const {
  auto it = stores_.find(std::string(name));
  return it == stores_.end() ? nullptr : &it->second;
}

std::string TopologyImpl::changelog_topic(std::string_view application_id, std::string_view store) {
  return fmt::format("{}-{}-changelog", application_id, store);
}

void TopologyImpl::add_internal_topic(std::string topic, int partitions) {
  if (topic.empty()) throw TopologyException("an internal topic needs a name");
  internal_topics_[std::move(topic)] = partitions;
}

bool TopologyImpl::is_internal_topic(std::string_view topic) const {
  return internal_topics_.count(std::string(topic)) > 0;
}

std::string TopologyImpl::resolve_topic(std::string_view application_id,
                                        const std::string& topic) const {
  if (!is_internal_topic(topic)) return topic;
  return fmt::format("{}-{}", application_id, topic);
}

void TopologyImpl::validate() const {
  const bool has_source = std::any_of(nodes_.begin(), nodes_.end(), [](const NodeFactory& n) {
    return n.kind == NodeKind::source;
  });
  if (!has_source)
    throw TopologyException("the topology has no source: it must read at least one topic");
  // Parents are added before children, so a cycle cannot form; check anyway, since the graph is
  // also assembled by the YAML compiler and a cycle there must never reach a task.
  enum class Mark { none, visiting, done };
  std::vector<Mark> marks(nodes_.size(), Mark::none);
  std::function<void(std::size_t)> visit = [&](std::size_t i) {
    if (marks[i] == Mark::done) return;
    if (marks[i] == Mark::visiting) {
      throw TopologyException(fmt::format("node '{}' is part of a cycle", nodes_[i].name));
    }
    marks[i] = Mark::visiting;
    for (const std::string& parent : nodes_[i].parents) visit(index_.at(parent));
    marks[i] = Mark::done;
  };
  for (std::size_t i = 0; i < nodes_.size(); ++i) visit(i);
}

std::vector<SubtopologyInfo> TopologyImpl::subtopologies() const {
  // Union-find over parent edges: each connected group of nodes is one sub-topology.
  std::vector<std::size_t> root(nodes_.size());
  std::iota(root.begin(), root.end(), 0);
  std::function<std::size_t(std::size_t)> find_root = [&](std::size_t i) {
    while (root[i] != i) i = root[i] = root[root[i]];
    return i;
  };
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    for (const std::string& parent : nodes_[i].parents) {
      root[find_root(i)] = find_root(index_.at(parent));
    }
  }
  // Processors sharing a state store belong together: one task owns each store's partition.
  std::unordered_map<std::string, std::size_t> first_user;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    for (const std::string& store : nodes_[i].stores) {
      auto [it, inserted] = first_user.try_emplace(store, i);
      if (!inserted) root[find_root(i)] = find_root(it->second);
    }
  }
  // Number the groups by sorted source node names, then sorted other names, as Kafka Streams.
  std::vector<std::size_t> order(nodes_.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const bool a_source = nodes_[a].kind == NodeKind::source;
    const bool b_source = nodes_[b].kind == NodeKind::source;
    if (a_source != b_source) return a_source;
    return nodes_[a].name < nodes_[b].name;
  });
  std::unordered_map<std::size_t, int> group_id;
  for (std::size_t i : order) group_id.try_emplace(find_root(i), static_cast<int>(group_id.size()));

  std::vector<SubtopologyInfo> result(group_id.size());
  for (std::size_t i = 0; i < result.size(); ++i) result[i].id = static_cast<int>(i);
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    SubtopologyInfo& info = result[static_cast<std::size_t>(group_id.at(find_root(i)))];
    const NodeFactory& node = nodes_[i];
    info.nodes.push_back(&node);
    info.source_topics.insert(info.source_topics.end(), node.source_topics.begin(),
                              node.source_topics.end());
    if (node.kind == NodeKind::sink && !node.sink_topic.empty()) {
      info.sink_topics.push_back(node.sink_topic);
    }
    info.stores.insert(info.stores.end(), node.stores.begin(), node.stores.end());
  }
  for (SubtopologyInfo& info : result) {
    std::sort(info.stores.begin(), info.stores.end());
    info.stores.erase(std::unique(info.stores.begin(), info.stores.end()), info.stores.end());
  }
  return result;
}

TopologyDescription TopologyImpl::describe() const {
  TopologyDescription description;
  std::unordered_map<std::string, std::vector<std::string>> successors;
  for (const NodeFactory& node : nodes_) {
    for (const std::string& parent : node.parents) successors[parent].push_back(node.name);
  }
  // Kafka Streams orders nodes by the size of the sub-graph below them (largest first), then by
  // name; successor and predecessor lists use the same order.
  std::unordered_map<std::string, std::size_t> size;
  std::function<std::size_t(const std::string&)> size_of = [&](const std::string& name) {
    if (auto it = size.find(name); it != size.end()) return it->second;
    std::size_t total = 1;
    for (const std::string& child : successors[name]) total += size_of(child);
    size[name] = total;
    return total;
  };
  auto by_size_then_name = [&](const std::string& a, const std::string& b) {
    const std::size_t sa = size_of(a);
    const std::size_t sb = size_of(b);
    return sa != sb ? sa > sb : a < b;
  };
  for (const SubtopologyInfo& info : subtopologies()) {
    TopologyDescription::Subtopology sub;
    sub.id = info.id;
    for (const NodeFactory* factory : info.nodes) {
      TopologyDescription::Node node;
      node.name = factory->name;
      node.kind = factory->kind;
      node.stores = factory->stores;
      node.topics = factory->kind == NodeKind::source ? factory->source_topics
                    : factory->sink_topic.empty()     ? std::vector<std::string>{}
                                                  : std::vector<std::string>{factory->sink_topic};
      node.predecessors = factory->parents;
      node.successors = successors[factory->name];
      std::sort(node.predecessors.begin(), node.predecessors.end(), by_size_then_name);
      std::sort(node.successors.begin(), node.successors.end(), by_size_then_name);
      sub.nodes.push_back(std::move(node));
    }
    std::sort(sub.nodes.begin(), sub.nodes.end(),
              [&](const auto& a, const auto& b) { return by_size_then_name(a.name, b.name); });
    description.subtopologies_.push_back(std::move(sub));
  }
  return description;
}

}  // namespace detail

std::string TopologyDescription::to_string() const {
  // Kafka Streams' layout, including its indentation quirk: the first sub-topology line has one
  // more leading space than the others.
  std::string out = "Topologies:\n ";
  for (const Subtopology& sub : subtopologies_) {
    out += fmt::format("  Sub-topology: {}\n", sub.id);
    for (const Node& node : sub.nodes) {
      switch (node.kind) {
        case detail::NodeKind::source:
          out += fmt::format("    Source: {} (topics: {})\n      --> {}\n", node.name,
                             bracketed(node.topics), arrow_list(node.successors));
          break;
        case detail::NodeKind::processor:
          out += fmt::format("    Processor: {} (stores: {})\n      --> {}\n      <-- {}\n",
                             node.name, bracketed(node.stores), arrow_list(node.successors),
                             arrow_list(node.predecessors));
          break;
        case detail::NodeKind::sink:
          out +=
              node.topics.empty()
                  ? fmt::format("    Sink: {} (extractor class: TopicNameExtractor)\n", node.name)
                  : fmt::format("    Sink: {} (topic: {})\n", node.name, node.topics.front());
          out += fmt::format("      <-- {}\n", arrow_list(node.predecessors));
          break;
      }
    }
    out += "\n";
  }
  return out;
}

std::ostream& operator<<(std::ostream& out, const TopologyDescription& description) {
  return out << description.to_string();
}

}  // namespace rivulet
