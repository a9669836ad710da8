// Internal: the processors behind the DSL's stateless operators. Not API.
//
// Each is templated on the user's function type, so the call is direct (no std::function), and
// moves the input record into its output where the operator keeps parts of it: key, value,
// timestamp and headers propagate as Kafka Streams documents (every operator here keeps the input
// timestamp and headers).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <rivulet/key_value.h>
#include <rivulet/processor.h>

namespace rivulet::detail {

// Calls a "value mapper" that takes the value, or the key and the value.
template <class F, class K, class V>
decltype(auto) call_value_mapper(F& f, const K& key, const V& value) {
  if constexpr (std::is_invocable_v<F&, const V&>) {
    (void)key;
    return f(value);
  } else {
    return f(key, value);
  }
}
template <class F, class K, class V>
using ValueMapperResult = std::decay_t<decltype(call_value_mapper(
    std::declval<F&>(), std::declval<const K&>(), std::declval<const V&>()))>;

template <class T>
decltype(auto) pair_key(T&& kv) {
  if constexpr (requires { kv.key; }) {
    return std::forward<T>(kv).key;
  } else {
    return std::forward<T>(kv).first;
  }
}
template <class T>
decltype(auto) pair_value(T&& kv) {
  if constexpr (requires { kv.value; }) {
    return std::forward<T>(kv).value;
  } else {
    return std::forward<T>(kv).second;
  }
}

// Base of the DSL's processors: keeps the context, and processes records in place (see
// InPlaceProcessing), so an operator moves a record only when it changes its type.
template <class KIn, class VIn, class KOut, class VOut>
class DslProcessor : public Processor<KIn, VIn, KOut, VOut>, public InPlaceProcessing<KIn, VIn> {
 public:
  void init(ProcessorContext<KOut, VOut>& context) override { context_ = &context; }
  void process(Record<KIn, VIn> record) final { this->process_in_place(record); }

 protected:
  ProcessorContext<KOut, VOut>* context_ = nullptr;
};

template <class K, class V>
class PassThroughProcessor final : public DslProcessor<K, V, K, V> {
 public:
  void process_in_place(Record<K, V>& record) override {
    this->context_->forward(std::move(record));
  }
};

template <class K, class V, class Predicate>
class FilterProcessor final : public DslProcessor<K, V, K, V> {
 public:
  FilterProcessor(Predicate predicate, bool keep_when)
      : predicate_(std::move(predicate)), keep_(keep_when) {}
  void process_in_place(Record<K, V>& record) override {
    if (static_cast<bool>(predicate_(record.key(), record.value())) == keep_) {
      this->context_->forward(std::move(record));
    }
  }

 private:
  Predicate predicate_;
  bool keep_;
};

template <class K, class V, class K2, class V2, class Mapper>
class MapProcessor final : public DslProcessor<K, V, K2, V2> {
 public:
  explicit MapProcessor(Mapper mapper) : mapper_(std::move(mapper)) {}
  void process_in_place(Record<K, V>& record) override {
    auto kv = mapper_(record.key(), record.value());
    this->context_->forward(Record<K2, V2>(pair_key(std::move(kv)), pair_value(std::move(kv)),
                                           record.timestamp(), std::move(record.headers())));
  }

 private:
  Mapper mapper_;
};

template <class K, class V, class V2, class Mapper>
class MapValuesProcessor final : public DslProcessor<K, V, K, V2> {
 public:
  explicit MapValuesProcessor(Mapper mapper) : mapper_(std::move(mapper)) {}
  void process_in_place(Record<K, V>& record) override {
    V2 value = call_value_mapper(mapper_, record.key(), record.value());
    if constexpr (std::is_same_v<V, V2>) {
      record.value() = std::move(value);
      this->context_->forward(std::move(record));
    } else {
      this->context_->forward(std::move(record).with_value(std::move(value)));
    }
  }

 private:
  Mapper mapper_;
};

template <class K, class V, class K2, class Mapper>
class SelectKeyProcessor final : public DslProcessor<K, V, K2, V> {
 public:
  explicit SelectKeyProcessor(Mapper mapper) : mapper_(std::move(mapper)) {}
  void process_in_place(Record<K, V>& record) override {
    K2 key = mapper_(record.key(), record.value());
    if constexpr (std::is_same_v<K, K2>) {
      record.key() = std::move(key);
      this->context_->forward(std::move(record));
    } else {
      this->context_->forward(std::move(record).with_key(std::move(key)));
    }
  }

 private:
  Mapper mapper_;
};

template <class K, class V, class K2, class V2, class Mapper>
class FlatMapProcessor final : public DslProcessor<K, V, K2, V2> {
 public:
  explicit FlatMapProcessor(Mapper mapper) : mapper_(std::move(mapper)) {}
  void process_in_place(Record<K, V>& record) override {
    for (auto&& kv : mapper_(record.key(), record.value())) {
      this->context_->forward(Record<K2, V2>(pair_key(std::move(kv)), pair_value(std::move(kv)),
                                             record.timestamp(), record.headers()));
    }
  }

 private:
  Mapper mapper_;
};

template <class K, class V, class V2, class Mapper>
class FlatMapValuesProcessor final : public DslProcessor<K, V, K, V2> {
 public:
  explicit FlatMapValuesProcessor(Mapper mapper) : mapper_(std::move(mapper)) {}
  void process_in_place(Record<K, V>& record) override {
    for (auto&& value : call_value_mapper(mapper_, record.key(), record.value())) {
      this->context_->forward(
          Record<K, V2>(record.key(), V2(std::move(value)), record.timestamp(), record.headers()));
    }
  }

 private:
  Mapper mapper_;
};

template <class K, class V, class Action>
class PeekProcessor final : public DslProcessor<K, V, K, V> {
 public:
  explicit PeekProcessor(Action action) : action_(std::move(action)) {}
  void process_in_place(Record<K, V>& record) override {
    action_(record.key(), record.value());
    this->context_->forward(std::move(record));
  }

 private:
  Action action_;
};

template <class K, class V, class Action>
class ForeachProcessor final : public DslProcessor<K, V, Void, Void> {
 public:
  explicit ForeachProcessor(Action action) : action_(std::move(action)) {}
  void process_in_place(Record<K, V>& record) override { action_(record.key(), record.value()); }

 private:
  Action action_;
};

// The branches of a split: predicates in order, each with the name of its child node; the
// default branch (if any) has no predicate. Filled while the user adds branches, so it is shared.
template <class K, class V>
struct BranchTable {
  std::vector<std::function<bool(const K&, const V&)>> predicates;
  std::vector<std::string> children;  // parallel to predicates
  std::string default_child;          // empty: records matching no predicate are dropped
};

template <class K, class V>
class BranchProcessor final : public DslProcessor<K, V, K, V> {
 public:
  explicit BranchProcessor(std::shared_ptr<const BranchTable<K, V>> table)
      : table_(std::move(table)) {}
  void process_in_place(Record<K, V>& record) override {
    const auto& table = *table_;
    for (std::size_t i = 0; i < table.predicates.size(); ++i) {
      if (table.predicates[i](record.key(), record.value())) {
        this->context_->forward(std::move(record), table.children[i]);
        return;
      }
    }
    if (!table.default_child.empty())
      this->context_->forward(std::move(record), table.default_child);
  }

 private:
  std::shared_ptr<const BranchTable<K, V>> table_;
};

}  // namespace rivulet::detail
