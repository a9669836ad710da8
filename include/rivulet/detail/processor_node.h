// Internal: the runtime graph of one task. Not API.
//
// Nodes pass records by pointer to a `Record<K, V>` that the receiver may move from, so the graph
// itself never copies or allocates for a linear chain. The topology checks at build time that a
// child's input types equal its parent's output types; the casts below rely on that check.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <rivulet/detail/task_context.h>
#include <rivulet/record.h>

namespace rivulet::detail {

class ProcessorNode {
 public:
  explicit ProcessorNode(std::string name) : name_(std::move(name)) {}
  virtual ~ProcessorNode() = default;
  ProcessorNode(const ProcessorNode&) = delete;
  ProcessorNode& operator=(const ProcessorNode&) = delete;

  const std::string& name() const { return name_; }
  const std::vector<ProcessorNode*>& children() const { return children_; }
  void add_child(ProcessorNode* child) { children_.push_back(child); }
  ProcessorNode* find_child(std::string_view name) const {
    for (ProcessorNode* child : children_) {
      if (child->name() == name) return child;
    }
    return nullptr;
  }

  virtual void init(TaskContext& task) { task_ = &task; }
  virtual void close() {}
  // REQUIRES: `record` points to a Record of this node's input types; the node may move from it.
  virtual void process(void* record) = 0;

 protected:
  TaskContext* task_ = nullptr;

 private:
  std::string name_;
  std::vector<ProcessorNode*> children_;
};

// Sends `record` to every child: copies for all but the last, which receives the original.
template <class K, class V>
void forward_to_children(const std::vector<ProcessorNode*>& children, Record<K, V>& record) {
  const std::size_t n = children.size();
  if (n == 0) return;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    Record<K, V> copy = record;
    children[i]->process(&copy);
  }
  children[n - 1]->process(&record);
}

}  // namespace rivulet::detail
