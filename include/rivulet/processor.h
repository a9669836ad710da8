// The Processor API: user code that receives records one at a time and forwards new ones.
//
// A `Processor<KIn, VIn, KOut, VOut>` consumes records of its input types and forwards records of
// its output types through the `ProcessorContext` it receives in `init`. Each stream task creates
// its own processor instances from a supplier, so a processor's fields are private to one task and
// need no locking: `init`, `process`, punctuators and `close` of one instance run on one thread,
// one at a time. A processor that forwards nothing uses `Void` as output types.
//
//   class Doubler : public rivulet::Processor<std::string, int, std::string, int> {
//    public:
//     void init(rivulet::ProcessorContext<std::string, int>& context) override { context_ =
//     &context; } void process(rivulet::Record<std::string, int> record) override {
//       context_->forward(std::move(record).with_value(record.value() * 2));
//     }
//    private:
//     rivulet::ProcessorContext<std::string, int>* context_ = nullptr;
//   };
//
// Timestamps and headers: a forwarded record carries whatever timestamp and headers the processor
// gives it; the DSL's operators keep the input record's.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <rivulet/detail/processor_node.h>
#include <rivulet/detail/task_context.h>
#include <rivulet/detail/type_name.h>
#include <rivulet/errors.h>
#include <rivulet/punctuation.h>
#include <rivulet/record.h>
#include <rivulet/state/state_store.h>
#include <rivulet/task_id.h>

namespace rivulet {

// The processor's view of its task. Valid from `init` until `close` returns.
template <class KForward, class VForward>
class ProcessorContext {
 public:
  ProcessorContext(detail::ProcessorNode& node, detail::TaskContext& task)
      : node_(&node), task_(&task) {}

  // Sends `record` to every child of this processor.
  void forward(Record<KForward, VForward>&& record) {
    detail::forward_to_children(node_->children(), record);
  }
  void forward(const Record<KForward, VForward>& record) {
    Record<KForward, VForward> copy = record;
    detail::forward_to_children(node_->children(), copy);
  }
  // Sends `record` to the one child named `child_name`.
  // REQUIRES: `child_name` is a child of this processor (else throws StreamsException).
  void forward(Record<KForward, VForward>&& record, std::string_view child_name) {
    child(child_name).process(&record);
  }
  void forward(const Record<KForward, VForward>& record, std::string_view child_name) {
    Record<KForward, VForward> copy = record;
    child(child_name).process(&copy);
  }

  // Calls `punctuator` every `interval` (see punctuation.h for when exactly). The punctuator may
  // forward records; they go to this processor's children.
  Cancellable schedule(std::chrono::milliseconds interval, PunctuationType type,
                       Punctuator punctuator) {
    return task_->schedule(*node_, interval, type, std::move(punctuator));
  }

  // Topic, partition and offset of the input record being processed; empty in a punctuator or
  // for records that a punctuator forwarded.
  const std::optional<RecordMetadata>& record_metadata() const { return task_->record_metadata(); }
  TaskId task_id() const { return task_->task_id(); }
  const std::string& application_id() const { return task_->application_id(); }
  // The task's stream time: the largest timestamp it has processed.
  std::int64_t current_stream_time_ms() const { return task_->stream_time(); }
  std::int64_t current_system_time_ms() const { return task_->wall_clock_time(); }
  // Asks the task to commit as soon as possible (after the current record).
  void commit() { task_->request_commit(); }
  // The state store `name`, which must be connected to this processor (Topology::add_state_store
  // or connect_processor_and_state_stores) and be of type `Store` (KeyValueStore<K, V>,
  // WindowStore<K, V>, SessionStore<K, V>). Throws StreamsException otherwise. The reference is
  // valid until `close`.
  template <class Store>
  Store& get_state_store(std::string_view name) {
    StateStore& store = task_->state_store(*node_, name);
    auto* typed = dynamic_cast<Store*>(&store);
    if (typed == nullptr) {
      throw StreamsException("state store '" + std::string(name) + "' of processor '" +
                             node_->name() + "' is not a " + detail::type_name(typeid(Store)));
    }
    return *typed;
  }

  // The name of the node this processor runs as.
  const std::string& processor_name() const { return node_->name(); }

  // For the DSL's own processors, not for users: the node and the task behind this context (to
  // report dropped and late records).
  const detail::ProcessorNode& node() const { return *node_; }
  detail::TaskContext& task_context() const { return *task_; }

 private:
  detail::ProcessorNode& child(std::string_view child_name) const {
    detail::ProcessorNode* child = node_->find_child(child_name);
    if (child == nullptr) {
      throw StreamsException("processor '" + node_->name() + "' has no child named '" +
                             std::string(child_name) + "'");
    }
    return *child;
  }

  detail::ProcessorNode* node_;
  detail::TaskContext* task_;
};

template <class KIn, class VIn, class KOut = Void, class VOut = Void>
class Processor {
 public:
  using key_in = KIn;
  using value_in = VIn;
  using key_out = KOut;
  using value_out = VOut;

  virtual ~Processor() = default;
  // Called once before the first record. The context outlives the processor's use of it.
  virtual void init(ProcessorContext<KOut, VOut>& context) { (void)context; }
  virtual void process(Record<KIn, VIn> record) = 0;
  // Called once when the task closes; forward nothing from here.
  virtual void close() {}
};

// Creates one processor per task. Must return a new instance on every call.
template <class KIn, class VIn, class KOut, class VOut>
using ProcessorSupplier = std::function<std::unique_ptr<Processor<KIn, VIn, KOut, VOut>>()>;

namespace detail {

// Implemented by the DSL's own processors: processes a record owned by the caller, which the
// processor may modify or move from. Saves the move into `process`'s by-value parameter, so that
// filter, peek and split forward the very record they received, and map_values to the same type
// assigns the value in place.
template <class KIn, class VIn>
class InPlaceProcessing {
 public:
  virtual void process_in_place(Record<KIn, VIn>& record) = 0;

 protected:
  ~InPlaceProcessing() = default;
};

// Runs a user processor as a graph node.
template <class KIn, class VIn, class KOut, class VOut>
class ProcessorNodeImpl final : public ProcessorNode {
 public:
  ProcessorNodeImpl(std::string name, std::unique_ptr<Processor<KIn, VIn, KOut, VOut>> processor)
      : ProcessorNode(std::move(name)),
        processor_(std::move(processor)),
        in_place_(dynamic_cast<InPlaceProcessing<KIn, VIn>*>(processor_.get())) {}

  void init(TaskContext& task) override {
    ProcessorNode::init(task);
    context_.emplace(*this, task);
    processor_->init(*context_);
  }
  void process(void* record) override {
    try {
      auto& typed = *static_cast<Record<KIn, VIn>*>(record);
      if (in_place_ != nullptr) {
        in_place_->process_in_place(typed);
      } else {
        processor_->process(std::move(typed));
      }
    } catch (const ProcessingFailedException&) {
      throw;
    } catch (const std::exception& error) {
      task_->on_processing_error(*this, error);
    }
  }
  void close() override { processor_->close(); }

 private:
  std::unique_ptr<Processor<KIn, VIn, KOut, VOut>> processor_;
  InPlaceProcessing<KIn, VIn>* in_place_;  // processor_ itself, when it supports it
  std::optional<ProcessorContext<KOut, VOut>> context_;
};

}  // namespace detail
}  // namespace rivulet
