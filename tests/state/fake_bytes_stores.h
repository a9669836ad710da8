// Byte stores on ordered maps, for testing the layers above them without the real stores. They
// count the calls the layers make, and apply retention as segmented stores do (entries at or
// before `latest time - retention` are hidden). The window and session fakes return range
// queries time-major (by time, then key), as a segmented store may, so that layers cannot rely on
// key-major order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <rivulet/state/state_store.h>

namespace rivulet::testing_support {

struct BytesLess {
  bool operator()(const Bytes& a, const Bytes& b) const { return compare_bytes(a, b) < 0; }
};

// Returns the entries of a vector, in order.
template <class T>
class VectorIterator final : public StoreIterator<T> {
 public:
  explicit VectorIterator(std::vector<T> entries) : entries_(std::move(entries)) {}
  bool has_next() override { return position_ < entries_.size(); }
  T next() override { return std::move(entries_[position_++]); }

 private:
  std::vector<T> entries_;
  std::size_t position_ = 0;
};

// What a fake store was asked to do.
struct FakeStoreCalls {
  int inits = 0;
  int puts = 0;
  int reads = 0;  // point reads (get / fetch / fetch_session)
  int flushes = 0;
  int closes = 0;
};

class FakeStoreBase {
 public:
  explicit FakeStoreBase(std::string name) : name_(std::move(name)) {}
  const FakeStoreCalls& calls() const { return calls_; }

 protected:
  std::string name_;
  FakeStoreCalls calls_;
  bool open_ = false;
};

class FakeKeyValueStore final : public KeyValueBytesStore, public FakeStoreBase {
 public:
  explicit FakeKeyValueStore(std::string name) : FakeStoreBase(std::move(name)) {}

  const std::map<Bytes, Bytes, BytesLess>& data() const { return data_; }

  const std::string& name() const override { return name_; }
  void init(StateStoreContext&) override {
    ++calls_.inits;
    open_ = true;
  }
  void flush() override { ++calls_.flushes; }
  void close() override {
    ++calls_.closes;
    open_ = false;
  }
  bool persistent() const override { return false; }
  bool is_open() const override { return open_; }

  std::optional<Bytes> get(ByteView key) override {
    ++calls_.reads;
    auto it = data_.find(Bytes(key.begin(), key.end()));
    if (it == data_.end()) return std::nullopt;
    return it->second;
  }
  void put(ByteView key, std::optional<ByteView> value) override {
    ++calls_.puts;
    Bytes k(key.begin(), key.end());
    if (value) {
      data_[k] = Bytes(value->begin(), value->end());
    } else {
      data_.erase(k);
    }
  }
  std::optional<Bytes> put_if_absent(ByteView key, ByteView value) override {
    auto it = data_.find(Bytes(key.begin(), key.end()));
    if (it != data_.end()) return it->second;
    put(key, value);
    return std::nullopt;
  }
  void put_all(std::span<const KeyValue<Bytes, std::optional<Bytes>>> entries) override {
    for (const auto& entry : entries) {
      if (entry.value) {
        put(entry.key, ByteView(*entry.value));
      } else {
        put(entry.key, std::nullopt);
      }
    }
  }
  std::optional<Bytes> remove(ByteView key) override {
    auto it = data_.find(Bytes(key.begin(), key.end()));
    if (it == data_.end()) return std::nullopt;
    Bytes old = it->second;
    put(key, std::nullopt);
    return old;
  }
  std::unique_ptr<Iterator> range(std::optional<ByteView> from, std::optional<ByteView> to,
                                  bool forward) override {
    std::vector<KeyValue<Bytes, Bytes>> out;
    for (const auto& [key, value] : data_) {
      if (from && compare_bytes(key, *from) < 0) continue;
      if (to && compare_bytes(key, *to) > 0) continue;
      out.push_back({key, value});
    }
    if (!forward) std::reverse(out.begin(), out.end());
    return std::make_unique<VectorIterator<KeyValue<Bytes, Bytes>>>(std::move(out));
  }
  std::unique_ptr<Iterator> prefix_scan(ByteView prefix) override {
    std::vector<KeyValue<Bytes, Bytes>> out;
    for (const auto& [key, value] : data_) {
      if (key.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), key.begin())) {
        out.push_back({key, value});
      }
    }
    return std::make_unique<VectorIterator<KeyValue<Bytes, Bytes>>>(std::move(out));
  }
  std::uint64_t approximate_num_entries() override { return data_.size(); }

 private:
  std::map<Bytes, Bytes, BytesLess> data_;
};

class FakeWindowStore final : public WindowBytesStore, public FakeStoreBase {
 public:
  FakeWindowStore(std::string name, std::int64_t retention, std::int64_t window_size,
                  bool retain_duplicates = false)
      : FakeStoreBase(std::move(name)),
        retention_(retention),
        window_size_(window_size),
        retain_duplicates_(retain_duplicates) {}

  // (key, window start) -> value; with retain_duplicates, the last value of each.
  const std::map<std::pair<Bytes, std::int64_t>, Bytes>& data() const { return data_; }

  const std::string& name() const override { return name_; }
  void init(StateStoreContext&) override {
    ++calls_.inits;
    open_ = true;
  }
  void flush() override { ++calls_.flushes; }
  void close() override {
    ++calls_.closes;
    open_ = false;
  }
  bool persistent() const override { return false; }
  bool is_open() const override { return open_; }
  std::int64_t window_size() const override { return window_size_; }
  std::int64_t retention_period() const override { return retention_; }
  bool retain_duplicates() const override { return retain_duplicates_; }

  void put(ByteView key, std::optional<ByteView> value, std::int64_t window_start) override {
    ++calls_.puts;
    observed_ = std::max(observed_, window_start);
    std::pair<Bytes, std::int64_t> k{Bytes(key.begin(), key.end()), window_start};
    if (value) {
      data_[k] = Bytes(value->begin(), value->end());
    } else {
      data_.erase(k);
    }
  }
  std::optional<Bytes> fetch(ByteView key, std::int64_t window_start) override {
    ++calls_.reads;
    if (!retained(window_start)) return std::nullopt;
    auto it = data_.find({Bytes(key.begin(), key.end()), window_start});
    if (it == data_.end()) return std::nullopt;
    return it->second;
  }
  std::unique_ptr<Iterator> fetch(ByteView key, std::int64_t time_from, std::int64_t time_to,
                                  bool forward) override {
    return fetch_range(key, key, time_from, time_to, forward);
  }
  std::unique_ptr<Iterator> fetch_range(std::optional<ByteView> key_from,
                                        std::optional<ByteView> key_to, std::int64_t time_from,
                                        std::int64_t time_to, bool forward) override {
    std::vector<WindowBytesEntry> out;
    for (const auto& [k, value] : data_) {
      if (key_from && compare_bytes(k.first, *key_from) < 0) continue;
      if (key_to && compare_bytes(k.first, *key_to) > 0) continue;
      if (k.second < time_from || k.second > time_to || !retained(k.second)) continue;
      out.push_back(WindowBytesEntry{k.first, k.second, value});
    }
    // Time-major, as a segmented store may return them.
    std::stable_sort(out.begin(), out.end(),
                     [](const auto& a, const auto& b) { return a.window_start < b.window_start; });
    if (!forward) std::reverse(out.begin(), out.end());
    return std::make_unique<VectorIterator<WindowBytesEntry>>(std::move(out));
  }
  std::unique_ptr<Iterator> fetch_all(std::int64_t time_from, std::int64_t time_to,
                                      bool forward) override {
    return fetch_range(std::nullopt, std::nullopt, time_from, time_to, forward);
  }

 private:
  bool retained(std::int64_t window_start) const {
    return observed_ == std::numeric_limits<std::int64_t>::min() ||
           window_start > observed_ - retention_;
  }

  std::int64_t retention_;
  std::int64_t window_size_;
  bool retain_duplicates_;
  std::int64_t observed_ = std::numeric_limits<std::int64_t>::min();
  std::map<std::pair<Bytes, std::int64_t>, Bytes> data_;
};

class FakeSessionStore final : public SessionBytesStore, public FakeStoreBase {
 public:
  FakeSessionStore(std::string name, std::int64_t retention)
      : FakeStoreBase(std::move(name)), retention_(retention) {}

  // (key, end, start) -> value.
  const std::map<std::tuple<Bytes, std::int64_t, std::int64_t>, Bytes>& data() const {
    return data_;
  }

  const std::string& name() const override { return name_; }
  void init(StateStoreContext&) override {
    ++calls_.inits;
    open_ = true;
  }
  void flush() override { ++calls_.flushes; }
  void close() override {
    ++calls_.closes;
    open_ = false;
  }
  bool persistent() const override { return false; }
  bool is_open() const override { return open_; }
  std::int64_t retention_period() const override { return retention_; }

  void put(ByteView key, std::int64_t start, std::int64_t end,
           std::optional<ByteView> value) override {
    ++calls_.puts;
    observed_ = std::max(observed_, end);
    std::tuple<Bytes, std::int64_t, std::int64_t> k{Bytes(key.begin(), key.end()), end, start};
    if (value) {
      data_[k] = Bytes(value->begin(), value->end());
    } else {
      data_.erase(k);
    }
  }
  std::optional<Bytes> fetch_session(ByteView key, std::int64_t start, std::int64_t end) override {
    ++calls_.reads;
    if (!retained(end)) return std::nullopt;
    auto it = data_.find({Bytes(key.begin(), key.end()), end, start});
    if (it == data_.end()) return std::nullopt;
    return it->second;
  }
  std::unique_ptr<Iterator> find_sessions(ByteView key, std::int64_t earliest_end,
                                          std::int64_t latest_start, bool forward) override {
    return find_sessions_range(key, key, earliest_end, latest_start, forward);
  }
  std::unique_ptr<Iterator> find_sessions_range(std::optional<ByteView> key_from,
                                                std::optional<ByteView> key_to,
                                                std::int64_t earliest_end,
                                                std::int64_t latest_start, bool forward) override {
    std::vector<SessionBytesEntry> out;
    for (const auto& [k, value] : data_) {
      const auto& [key, end, start] = k;
      if (key_from && compare_bytes(key, *key_from) < 0) continue;
      if (key_to && compare_bytes(key, *key_to) > 0) continue;
      if (end < earliest_end || start > latest_start || !retained(end)) continue;
      out.push_back(SessionBytesEntry{key, start, end, value});
    }
    // End-major, as a store segmented by session end may return them.
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::pair(a.end, a.start) < std::pair(b.end, b.start);
    });
    if (!forward) std::reverse(out.begin(), out.end());
    return std::make_unique<VectorIterator<SessionBytesEntry>>(std::move(out));
  }

 private:
  bool retained(std::int64_t end) const {
    return observed_ == std::numeric_limits<std::int64_t>::min() || end > observed_ - retention_;
  }

  std::int64_t retention_;
  std::int64_t observed_ = std::numeric_limits<std::int64_t>::min();
  std::map<std::tuple<Bytes, std::int64_t, std::int64_t>, Bytes> data_;
};

}  // namespace rivulet::testing_support
