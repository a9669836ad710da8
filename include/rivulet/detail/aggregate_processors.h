// Internal: the processors of the DSL's aggregations (Kafka Streams' KStreamAggregate,
// KStreamReduce, KStreamWindowAggregate, KStreamSlidingWindowAggregate,
// KStreamSessionWindowAggregate). Not API.
//
// Each keeps its aggregates in a store (values with the timestamp of the newest record they
// include) and forwards `Record<key, Change<aggregate>>` through the table forwarding of
// ktable_processors.h. A record with a null key or value is dropped and counted; a record whose
// windows are all closed is dropped and counted as late.
//
// The aggregation itself is an "op" (count, reduce or aggregate):
//   std::optional<VR> initial();                                 // nullopt: none (reduce)
//   VR add(const K&, const V&, std::optional<VR> current);      // current: from initial() or store
//   std::optional<VR> merge(const K&, std::optional<VR> a, const VR& b);  // sessions
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <rivulet/detail/ktable_processors.h>
#include <rivulet/detail/stream_processors.h>
#include <rivulet/processor.h>
#include <rivulet/state/key_value_store.h>
#include <rivulet/state/value_and_timestamp.h>
#include <rivulet/state/window_store.h>
#include <rivulet/windows.h>

namespace rivulet::detail {

// ---- Aggregation ops ----------------------------------------------------------------------

struct CountOp {
  std::optional<std::int64_t> initial() const { return std::int64_t{0}; }
  template <class K, class V>
  std::int64_t add(const K&, const V&, std::optional<std::int64_t> current) const {
    return current.value_or(0) + 1;
  }
  template <class K>
  std::optional<std::int64_t> merge(const K&, std::optional<std::int64_t> a,
                                    const std::int64_t& b) const {
    return a.value_or(0) + b;
  }
};

// reduce: the first value as it is, then reducer(aggregate, value).
template <class V, class Reducer>
struct ReduceOp {
  Reducer reducer;
  std::optional<V> initial() const { return std::nullopt; }
  template <class K>
  V add(const K&, const V& value, std::optional<V> current) {
    if (!current) return value;
    return V(reducer(std::as_const(*current), value));
  }
  template <class K>
  std::optional<V> merge(const K&, std::optional<V> a, const V& b) {
    if (!a) return b;
    return V(reducer(std::as_const(*a), b));
  }
};

// aggregate: initializer(), then aggregator(key, value, aggregate); sessions merge with
// merger(key, aggregate, other).
template <class VR, class Initializer, class Aggregator, class Merger = std::nullptr_t>
struct AggregateOp {
  Initializer initializer;
  Aggregator aggregator;
  Merger merger = nullptr;
  std::optional<VR> initial() { return VR(initializer()); }
  template <class K, class V>
  VR add(const K& key, const V& value, std::optional<VR> current) {
    return VR(aggregator(key, value, std::as_const(*current)));
  }
  template <class K>
  std::optional<VR> merge(const K& key, std::optional<VR> a, const VR& b) {
    if constexpr (std::is_same_v<Merger, std::nullptr_t>) {
      (void)key;
      (void)b;
      return a;
    } else {
      return VR(merger(key, std::as_const(*a), b));
    }
  }
};

template <class K, class V>
bool null_key_or_value(const Record<K, V>& record) {
  return is_null_value(record.key()) || is_null_value(record.value());
}

// ---- Non-windowed ---------------------------------------------------------------------------

template <class K, class V, class VR, class Op>
class StreamAggregateProcessor final : public DslProcessor<K, V, K, Change<VR>> {
  using Base = DslProcessor<K, V, K, Change<VR>>;

 public:
  StreamAggregateProcessor(Op op, std::shared_ptr<const KTableInfo<K, VR>> info)
      : op_(std::move(op)), store_name_(info->store), send_old_(info->send_old_values) {}

  void init(ProcessorContext<K, Change<VR>>& context) override {
    Base::init(context);
    store_ =
        &context.template get_state_store<KeyValueStore<K, ValueAndTimestamp<VR>>>(store_name_);
    via_listener_ = forward_through_cache(*store_, context, send_old_);
  }

  void process_in_place(Record<K, V>& record) override {
    if (null_key_or_value(record)) {
      report_dropped(*this->context_, "null key or value for an aggregation");
      return;
    }
    std::optional<ValueAndTimestamp<VR>> old = store_->get(record.key());
    std::int64_t timestamp = record.timestamp();
    std::optional<VR> current;
    if (old) {
      timestamp = std::max(timestamp, old->timestamp);
      current = old->value;
    } else {
      current = op_.initial();
    }
    ValueAndTimestamp<VR> result{op_.add(record.key(), record.value(), std::move(current)),
                                 timestamp};
    store_->put(record.key(), result);
    if (via_listener_) return;
    Change<VR> change{std::move(result.value), std::nullopt};
    if (send_old_ && old) change.old_value = std::move(old->value);
    this->context_->forward(Record<K, Change<VR>>(std::move(record.key()), std::move(change),
                                                  timestamp, std::move(record.headers())));
  }

 private:
  Op op_;
  std::string store_name_;
  bool send_old_;
  KeyValueStore<K, ValueAndTimestamp<VR>>* store_ = nullptr;
  bool via_listener_ = false;
};

// ---- Windowed: shared by time and sliding windows --------------------------------------------

struct WindowedAggregateOptions {
  std::string store;
  bool send_old_values = false;
  bool emit_on_close = false;
  std::int64_t grace = 0;
};

template <class K, class V, class VR, class Op>
class WindowedAggregateBase : public DslProcessor<K, V, Windowed<K>, Change<VR>> {
  using Base = DslProcessor<K, V, Windowed<K>, Change<VR>>;

 public:
  WindowedAggregateBase(Op op, WindowedAggregateOptions options, std::int64_t window_span)
      : op_(std::move(op)), options_(std::move(options)), span_(window_span) {}

  void init(ProcessorContext<Windowed<K>, Change<VR>>& context) override {
    Base::init(context);
    store_ =
        &context.template get_state_store<WindowStore<K, ValueAndTimestamp<VR>>>(options_.store);
    // Final results are emitted from the store when windows close, never from the cache.
    if (!options_.emit_on_close) {
      via_listener_ = forward_through_cache(*store_, context, options_.send_old_values, span_);
    }
  }

 protected:
  // Stores the new aggregate of `key` in `window` and forwards it (on window updates).
  void put_and_forward(const K& key, const Window& window, ValueAndTimestamp<VR> value,
                       std::optional<VR> old_value, const Headers& headers) {
    store_->put(key, value, window.start);
    if (options_.emit_on_close || via_listener_) return;
    Change<VR> change{std::move(value.value), std::nullopt};
    if (options_.send_old_values) change.old_value = std::move(old_value);
    this->context_->forward(Record<Windowed<K>, Change<VR>>(
        Windowed<K>{key, window}, std::move(change), value.timestamp, headers));
  }

  // With emit-on-window-close: forwards every window that closed since the last call, once, with
  // the timestamp of its aggregate. `last_start` is the start of the newest closed window.
  void emit_closed(std::int64_t last_start, const Headers& headers) {
    if (!options_.emit_on_close) return;
    if (emitted_up_to_ && last_start <= *emitted_up_to_) return;
    const std::int64_t from = emitted_up_to_ ? *emitted_up_to_ + 1 : kMinTimestamp;
    std::vector<KeyValue<Windowed<K>, ValueAndTimestamp<VR>>> closed =
        store_->fetch_all(from, last_start).to_vector();
    std::stable_sort(closed.begin(), closed.end(), [](const auto& a, const auto& b) {
      return a.key.window.start < b.key.window.start;
    });
    for (auto& entry : closed) {
      const Window window{entry.key.window.start, window_end(entry.key.window.start, span_)};
      this->context_->forward(Record<Windowed<K>, Change<VR>>(
          Windowed<K>{std::move(entry.key.key), window},
          Change<VR>{std::move(entry.value.value), std::nullopt}, entry.value.timestamp, headers));
    }
    emitted_up_to_ = last_start;
  }

  Op op_;
  WindowedAggregateOptions options_;
  std::int64_t span_;  // window end - window start
  WindowStore<K, ValueAndTimestamp<VR>>* store_ = nullptr;
  bool via_listener_ = false;
  std::int64_t observed_ =
      kMinTimestamp;  // the largest timestamp seen: this operator's stream time
  std::optional<std::int64_t> emitted_up_to_;  // window starts emitted on close, up to here
};

// Tumbling and hopping windows [start, start + size).
template <class K, class V, class VR, class Op>
class TimeWindowAggregateProcessor final : public WindowedAggregateBase<K, V, VR, Op> {
  using Base = WindowedAggregateBase<K, V, VR, Op>;

 public:
  TimeWindowAggregateProcessor(Op op, WindowedAggregateOptions options, TimeWindows windows)
      : Base(std::move(op), std::move(options), windows.size_ms()), windows_(windows) {}

  void process_in_place(Record<K, V>& record) override {
    if (null_key_or_value(record)) {
      report_dropped(*this->context_, "null key or value for a windowed aggregation");
      return;
    }
    const std::int64_t timestamp = record.timestamp();
    this->observed_ = std::max(this->observed_, timestamp);
    const std::int64_t close_time = this->observed_ - windows_.grace_ms();
    // Windows with end <= close time are closed: their starts are at most close time - size.
    // Emitted before this record's writes, which may move the store's retention past them.
    this->emit_closed(close_time - windows_.size_ms(), record.headers());
    for (const Window& window : windows_.windows_for(timestamp)) {
      if (window.end <= close_time) {
        report_late(*this->context_, timestamp, window.end + windows_.grace_ms());
        continue;
      }
      std::optional<ValueAndTimestamp<VR>> old = this->store_->fetch(record.key(), window.start);
      std::optional<VR> current;
      std::int64_t new_timestamp = timestamp;
      if (old) {
        current = old->value;
        new_timestamp = std::max(timestamp, old->timestamp);
      } else {
        current = this->op_.initial();
      }
      ValueAndTimestamp<VR> value{this->op_.add(record.key(), record.value(), std::move(current)),
                                  new_timestamp};
      this->put_and_forward(record.key(), window, std::move(value),
                            old ? std::optional<VR>(std::move(old->value)) : std::nullopt,
                            record.headers());
    }
  }

 private:
  TimeWindows windows_;
};

// Sliding windows [start, start + time difference], both ends inclusive: Kafka Streams' algorithm
// (KIP-450). Every record has a left window ending at it and, once a later record falls within the
// time difference, a right window starting just after it; windows are created only when they hold
// records, so each distinct set of records is aggregated in exactly one window.
template <class K, class V, class VR, class Op>
class SlidingWindowAggregateProcessor final : public WindowedAggregateBase<K, V, VR, Op> {
  using Base = WindowedAggregateBase<K, V, VR, Op>;
  // An aggregate as the algorithm handles it: nullopt value means "the initializer's".
  struct Agg {
    std::optional<VR> value;
    std::int64_t timestamp = 0;
  };

 public:
  SlidingWindowAggregateProcessor(Op op, WindowedAggregateOptions options, SlidingWindows windows)
      : Base(std::move(op), std::move(options), windows.time_difference_ms()),
        diff_(windows.time_difference_ms()),
        grace_(windows.grace_ms()) {}

  void process_in_place(Record<K, V>& record) override {
    if (null_key_or_value(record)) {
      report_dropped(*this->context_, "null key or value for a windowed aggregation");
      return;
    }
    const std::int64_t t = record.timestamp();
    this->observed_ = std::max(this->observed_, t);
    const std::int64_t close_time = this->observed_ - grace_;
    // Windows with end < close time are closed: their starts are at most close time - diff - 1.
    this->emit_closed(close_time - diff_ - 1, record.headers());
    if (t + 1 + diff_ <= close_time) {
      report_late(*this->context_, t, t + 1 + diff_ + grace_);
      return;
    }
    if (t < diff_) {
      process_early(record, close_time);
    } else {
      process_in_order(record, close_time);
    }
  }

 private:
  using Entries = std::vector<KeyValue<std::int64_t, ValueAndTimestamp<VR>>>;

  static Agg agg_of(const ValueAndTimestamp<VR>& stored) {
    return Agg{stored.value, stored.timestamp};
  }

  void process_in_order(Record<K, V>& record, std::int64_t close_time) {
    const std::int64_t t = record.timestamp();
    std::set<std::int64_t> starts;
    std::optional<Agg> left_agg;
    std::optional<Agg> right_agg;
    bool left_created = false;
    bool right_created = false;
    std::optional<std::int64_t> previous;
    Entries entries =
        this->store_->fetch(record.key(), std::max<std::int64_t>(0, t - 2 * diff_), t + 1)
            .to_vector();
    for (const auto& entry : entries) {
      const std::int64_t start = entry.key;
      starts.insert(start);
      const std::int64_t end = start + diff_;
      const std::int64_t max_timestamp = entry.value.timestamp;
      if (end < t) {
        left_agg = agg_of(entry.value);
        previous = max_timestamp;
      } else if (end == t) {
        left_created = true;
        if (max_timestamp < t) previous = max_timestamp;
        update(record, Window{start, end}, agg_of(entry.value), close_time);
      } else if (start <= t) {
        right_agg = agg_of(entry.value);
        update(record, Window{start, end}, agg_of(entry.value), close_time);
      } else if (start == t + 1) {
        right_created = true;
      } else {
        throw StreamsException(
            "sliding window aggregation found an unexpected window starting at " +
            std::to_string(start) + " for a record at " + std::to_string(t));
      }
    }
    if (previous) {
      const std::int64_t previous_right = *previous + 1;
      if (starts.count(previous_right) == 0 && previous_right + diff_ >= t) {
        update(record, Window{previous_right, previous_right + diff_}, Agg{this->op_.initial(), t},
               close_time);
      }
    }
    if (!left_created) {
      Agg value = (previous && t - diff_ <= *previous && left_agg) ? Agg{left_agg->value, t}
                                                                   : Agg{this->op_.initial(), t};
      update(record, Window{t - diff_, t}, std::move(value), close_time);
    }
    if (!right_created && right_agg && right_agg->timestamp > t) {
      create_right_window(record, *right_agg);
    }
  }

  // Records before the time difference would have windows starting before 0: they share the
  // window [0, diff], as in Kafka Streams.
  void process_early(Record<K, V>& record, std::int64_t close_time) {
    const std::int64_t t = record.timestamp();
    std::optional<KeyValue<std::int64_t, Agg>> combined;
    std::optional<Agg> right_agg;
    bool right_created = false;
    std::set<std::int64_t> starts;
    std::optional<std::int64_t> previous;
    Entries entries = this->store_->fetch(record.key(), 0, t + 1).to_vector();
    for (const auto& entry : entries) {
      const std::int64_t start = entry.key;
      starts.insert(start);
      const std::int64_t max_timestamp = entry.value.timestamp;
      if (start == 0) {
        combined = KeyValue<std::int64_t, Agg>{start, agg_of(entry.value)};
        if (max_timestamp < t) previous = max_timestamp;
      } else if (start <= t) {
        right_agg = agg_of(entry.value);
        update(record, Window{start, start + diff_}, agg_of(entry.value), close_time);
      } else if (start == t + 1) {
        right_created = true;
      } else {
        throw StreamsException(
            "sliding window aggregation found an unexpected window starting at " +
            std::to_string(start) + " for a record at " + std::to_string(t));
      }
    }
    if (!right_agg && combined && combined->value.timestamp > t) right_agg = combined->value;
    if (!right_created && right_agg && right_agg->timestamp > t) {
      create_right_window(record, *right_agg);
    }
    if (previous && starts.count(*previous + 1) == 0) {
      update(record, Window{*previous + 1, *previous + 1 + diff_}, Agg{this->op_.initial(), t},
             close_time);
    }
    if (!combined) {
      update(record, Window{0, diff_}, Agg{this->op_.initial(), t}, close_time);
    } else {
      update(record, Window{0, diff_}, combined->value, close_time);
    }
  }

  // The right window of the record in hand holds the records after it: `right` as it is.
  void create_right_window(Record<K, V>& record, const Agg& right) {
    const std::int64_t start = record.timestamp() + 1;
    this->put_and_forward(record.key(), Window{start, start + diff_},
                          ValueAndTimestamp<VR>{*right.value, right.timestamp}, std::nullopt,
                          record.headers());
  }

  void update(Record<K, V>& record, const Window& window, Agg current, std::int64_t close_time) {
    if (window.end < close_time) {
      report_late(*this->context_, record.timestamp(), window.end + grace_);
      return;
    }
    std::optional<VR> old = current.value;
    const std::int64_t timestamp = std::max(record.timestamp(), current.timestamp);
    ValueAndTimestamp<VR> value{
        this->op_.add(record.key(), record.value(), std::move(current.value)), timestamp};
    this->put_and_forward(record.key(), window, std::move(value), std::move(old), record.headers());
  }

  std::int64_t diff_;
  std::int64_t grace_;
};

// ---- Sessions -------------------------------------------------------------------------------

struct SessionAggregateOptions {
  std::string store;
  bool send_old_values = false;
  std::int64_t gap = 0;
  std::int64_t grace = 0;
};

// A record joins every session of its key within the inactivity gap: they merge into one (the
// merged-away sessions are deleted and forwarded as deletions), and the record is added to it.
template <class K, class V, class VR, class Op>
class SessionWindowAggregateProcessor final : public DslProcessor<K, V, Windowed<K>, Change<VR>> {
  using Base = DslProcessor<K, V, Windowed<K>, Change<VR>>;

 public:
  SessionWindowAggregateProcessor(Op op, SessionAggregateOptions options)
      : op_(std::move(op)), options_(std::move(options)) {}

  void init(ProcessorContext<Windowed<K>, Change<VR>>& context) override {
    Base::init(context);
    store_ = &context.template get_state_store<SessionStore<K, VR>>(options_.store);
    via_listener_ = forward_through_cache(*store_, context, options_.send_old_values);
  }

  void process_in_place(Record<K, V>& record) override {
    if (null_key_or_value(record)) {
      report_dropped(*this->context_, "null key or value for a session aggregation");
      return;
    }
    const std::int64_t t = record.timestamp();
    observed_ = std::max(observed_, t);
    const std::int64_t close_time = observed_ - options_.grace - options_.gap;
    std::vector<KeyValue<Windowed<K>, VR>> sessions =
        store_->find_sessions(record.key(), t - options_.gap, t + options_.gap).to_vector();
    const Window single{t, t};
    Window merged = single;
    std::optional<VR> aggregate = op_.initial();
    for (const auto& session : sessions) {
      aggregate = op_.merge(record.key(), std::move(aggregate), session.value);
      merged = Window{std::min(merged.start, session.key.window.start),
                      std::max(merged.end, session.key.window.end)};
    }
    if (merged.end < close_time) {
      report_late(*this->context_, t, merged.end + options_.gap + options_.grace);
      return;
    }
    if (merged != single) {
      for (auto& session : sessions) {
        store_->remove(session.key);
        forward(std::move(session.key), std::nullopt, std::move(session.value), record.headers());
      }
    }
    VR result = op_.add(record.key(), record.value(), std::move(aggregate));
    Windowed<K> key{record.key(), merged};
    store_->put(key, result);
    forward(std::move(key), std::move(result), std::nullopt, record.headers());
  }

 private:
  void forward(Windowed<K> key, std::optional<VR> new_value, std::optional<VR> old_value,
               const Headers& headers) {
    if (via_listener_) return;
    const std::int64_t timestamp = key.window.end;
    Change<VR> change{std::move(new_value), std::nullopt};
    if (options_.send_old_values) change.old_value = std::move(old_value);
    this->context_->forward(
        Record<Windowed<K>, Change<VR>>(std::move(key), std::move(change), timestamp, headers));
  }

  Op op_;
  SessionAggregateOptions options_;
  SessionStore<K, VR>* store_ = nullptr;
  bool via_listener_ = false;
  std::int64_t observed_ = kMinTimestamp;
};

// The filter in front of an aggregation's repartition topic: records with a null key cannot be
// partitioned by key and are dropped (and counted).
template <class K, class V>
class NullKeyFilterProcessor final : public DslProcessor<K, V, K, V> {
 public:
  void process_in_place(Record<K, V>& record) override {
    if (is_null_value(record.key())) {
      report_dropped(*this->context_, "null key before a repartition topic");
      return;
    }
    this->context_->forward(std::move(record));
  }
};

}  // namespace rivulet::detail
