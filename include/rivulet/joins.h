// Joins: the options of `KStream::join` / `left_join` / `outer_join` (with another stream or with
// a table) and of `KTable::join` / `left_join` / `outer_join`.
//
// Stream-stream joins are windowed: two records of the same key join when their timestamps are
// close enough, as `JoinWindows` defines. Each side keeps its records in a window store (with
// duplicates), so the join is fault-tolerant and restores after a restart.
//
//   orders.join(payments,
//               [](const Order& o, const Payment& p) { return Paid{o, p}; },
//               rivulet::JoinWindows::of_time_difference_and_grace(5min, 30s))
//       .to("paid-orders");
//
// Joiners. A joiner is any callable `joiner(left, right)` or `joiner(key, left, right)`; its
// result is the value of the joined record. A side that may be missing is passed as a
// `std::optional`: the right side of a left join, both sides of an outer join (for a
// KStream<K, V1> joined with a KStream<K, V2>):
//
//   join:        joiner(const V1&, const V2&)
//   left_join:   joiner(const V1&, const std::optional<V2>&)
//   outer_join:  joiner(const std::optional<V1>&, const std::optional<V2>&)
//
// Stream-table and table-table joins follow the same rule (the table's value is optional in a
// left join; both are in a table-table outer join). Join semantics follow Kafka Streams 3.x,
// table by table (see each operation's comment in kstream.h and ktable.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include <rivulet/errors.h>
#include <rivulet/named.h>
#include <rivulet/serde.h>
#include <rivulet/state/stores.h>

namespace rivulet {

// The window of a stream-stream join: a record of this stream at time t joins the records of the
// other stream with the same key and a timestamp in [t - before, t + after] (both ends
// inclusive). `grace` is how long after a window ends out-of-order records are still accepted; a
// later record is dropped as late (`TaskMetrics::late_records_dropped`).
//
// The non-joined records of a left or outer join are emitted once their window closes, that is
// when the join's stream time passes t + after + grace (t + before + grace for records of the
// other stream), and only if they found no partner by then (Kafka Streams >= 3.1; older versions
// emitted them at once and again joined later).
class JoinWindows {
 public:
  // Records join when their timestamps differ by at most `difference`; no grace.
  // REQUIRES: difference >= 0 (else TopologyException).
  static JoinWindows of_time_difference_with_no_grace(std::chrono::milliseconds difference) {
    return of_time_difference_and_grace(difference, std::chrono::milliseconds(0));
  }
  // REQUIRES: difference >= 0, grace >= 0 (else TopologyException).
  static JoinWindows of_time_difference_and_grace(std::chrono::milliseconds difference,
                                                  std::chrono::milliseconds grace) {
    if (difference.count() < 0) {
      throw TopologyException("JoinWindows: the time difference must not be negative");
    }
    if (grace.count() < 0) {
      throw TopologyException("JoinWindows: the grace period must not be negative");
    }
    return JoinWindows(difference.count(), difference.count(), grace.count());
  }

  // The same window with its start moved: records of the other stream join when they are at most
  // `difference` earlier than this stream's record. `difference` may be negative.
  // REQUIRES: difference + after >= 0 (else TopologyException).
  JoinWindows before(std::chrono::milliseconds difference) const {
    return JoinWindows(difference.count(), after_, grace_);
  }
  // The same window with its end moved: records of the other stream join when they are at most
  // `difference` later than this stream's record. `difference` may be negative.
  // REQUIRES: before + difference >= 0 (else TopologyException).
  JoinWindows after(std::chrono::milliseconds difference) const {
    return JoinWindows(before_, difference.count(), grace_);
  }

  std::int64_t before_ms() const { return before_; }
  std::int64_t after_ms() const { return after_; }
  std::int64_t grace_ms() const { return grace_; }
  // before + after, Kafka Streams' JoinWindows::size.
  std::int64_t size_ms() const { return before_ + after_; }

  // The window size and retention of the join's window stores (Kafka Streams: size and size +
  // grace; a window store here needs a positive size, so a window of size 0 stores with size 1).
  std::int64_t store_window_size_ms() const { return size_ms() > 0 ? size_ms() : 1; }
  std::int64_t store_retention_ms() const {
    const std::int64_t retention = size_ms() + grace_;
    return retention > store_window_size_ms() ? retention : store_window_size_ms();
  }

 private:
  JoinWindows(std::int64_t before, std::int64_t after, std::int64_t grace)
      : before_(before), after_(after), grace_(grace) {
    if (before + after < 0) {
      throw TopologyException("JoinWindows: the window size (before + after = " +
                              std::to_string(before + after) + " ms) must not be negative");
    }
  }

  std::int64_t before_;
  std::int64_t after_;
  std::int64_t grace_;
};

// How a stream-stream join stores and names its state (Kafka Streams' StreamJoined).
//
// Names: with `name` the join's processors are "<name>-this-windowed", "<name>-other-windowed",
// "<name>-this-join" ("<name>-outer-this-join" for an outer join), "<name>-other-join"
// ("<name>-outer-other-join" for left and outer joins) and "<name>-merge", and repartition topics
// "<name>-left-repartition" / "<name>-right-repartition". Without it they are generated
// (KSTREAM-JOINTHIS-0000000004, ...). Stores: with `store_name` they are
// "<store_name>-this-join-store", "<store_name>-other-join-store" (with "outer-" before "this" or
// "other" as for the processors) and "<store_name>-outer-shared-join-store" for the non-joined
// records of left and outer joins; without it "<generated this-join name>-store", and so on, as
// in Kafka Streams.
template <class K, class V1, class V2>
struct StreamJoined {
  std::optional<AnySerde<K>> key_serde;           // default: this stream's, else DefaultSerde<K>
  std::optional<AnySerde<V1>> value_serde;        // default: this stream's, else DefaultSerde<V1>
  std::optional<AnySerde<V2>> other_value_serde;  // default: the other's, else DefaultSerde<V2>
  std::string name;        // processor and repartition topic names; default: generated
  std::string store_name;  // store (and changelog) names; default: generated
  // The window stores of each side. REQUIRES: retain_duplicates, window size and retention as
  // JoinWindows::store_window_size_ms / store_retention_ms, distinct names. Default: RocksDB.
  std::optional<WindowBytesStoreSupplier> this_store_supplier;
  std::optional<WindowBytesStoreSupplier> other_store_supplier;
  bool logging_enabled = true;                    // changelog topics for the stores
  std::map<std::string, std::string> log_config;  // extra changelog topic configs

  static StreamJoined with(AnySerde<K> key, AnySerde<V1> value, AnySerde<V2> other_value) {
    StreamJoined j;
    j.key_serde = std::move(key);
    j.value_serde = std::move(value);
    j.other_value_serde = std::move(other_value);
    return j;
  }
  static StreamJoined with(WindowBytesStoreSupplier this_supplier,
                           WindowBytesStoreSupplier other_supplier) {
    StreamJoined j;
    j.this_store_supplier = std::move(this_supplier);
    j.other_store_supplier = std::move(other_supplier);
    return j;
  }
  static StreamJoined as(std::string store_name) {
    StreamJoined j;
    j.store_name = std::move(store_name);
    return j;
  }
  StreamJoined&& with_name(std::string n) && {
    name = std::move(n);
    return std::move(*this);
  }
  StreamJoined&& with_store_name(std::string n) && {
    store_name = std::move(n);
    return std::move(*this);
  }
  StreamJoined&& with_key_serde(AnySerde<K> serde) && {
    key_serde = std::move(serde);
    return std::move(*this);
  }
  StreamJoined&& with_value_serde(AnySerde<V1> serde) && {
    value_serde = std::move(serde);
    return std::move(*this);
  }
  StreamJoined&& with_other_value_serde(AnySerde<V2> serde) && {
    other_value_serde = std::move(serde);
    return std::move(*this);
  }
  StreamJoined&& with_this_store_supplier(WindowBytesStoreSupplier supplier) && {
    this_store_supplier = std::move(supplier);
    return std::move(*this);
  }
  StreamJoined&& with_other_store_supplier(WindowBytesStoreSupplier supplier) && {
    other_store_supplier = std::move(supplier);
    return std::move(*this);
  }
  StreamJoined&& with_logging_enabled(std::map<std::string, std::string> config = {}) && {
    logging_enabled = true;
    log_config = std::move(config);
    return std::move(*this);
  }
  StreamJoined&& with_logging_disabled() && {
    logging_enabled = false;
    log_config.clear();
    return std::move(*this);
  }
};

// How a stream-table join reads and names (Kafka Streams' Joined): serdes for the stream's side
// (used when the stream must be repartitioned first) and the processor's name.
template <class K, class V, class VT>
struct Joined {
  std::optional<AnySerde<K>> key_serde;           // default: the stream's, else DefaultSerde<K>
  std::optional<AnySerde<V>> value_serde;         // default: the stream's, else DefaultSerde<V>
  std::optional<AnySerde<VT>> other_value_serde;  // the table's values (not needed to join)
  std::string name;  // the join processor's name, and "<name>-left-repartition" topic

  static Joined with(AnySerde<K> key, AnySerde<V> value, AnySerde<VT> other_value) {
    Joined j;
    j.key_serde = std::move(key);
    j.value_serde = std::move(value);
    j.other_value_serde = std::move(other_value);
    return j;
  }
  static Joined as(std::string n) {
    Joined j;
    j.name = std::move(n);
    return j;
  }
  Joined&& with_name(std::string n) && {
    name = std::move(n);
    return std::move(*this);
  }
  Joined&& with_key_serde(AnySerde<K> serde) && {
    key_serde = std::move(serde);
    return std::move(*this);
  }
  Joined&& with_value_serde(AnySerde<V> serde) && {
    value_serde = std::move(serde);
    return std::move(*this);
  }
};

}  // namespace rivulet
