// The logging layer: passes every call to the store it wraps and sends each change to the
// store's changelog (StateStoreContext::log_change) after the inner write, in the changelog
// formats of state_store.h. A change that does not happen (put_if_absent that finds a value, a
// nullopt put into a window store that retains duplicates) is not logged; a delete always is,
// as in Kafka Streams.
#include <rivulet/errors.h>

#include "state/bytes_stores.h"
#include "state/key_schema.h"

namespace rivulet::state {

namespace {

// What the three wrappers share: the inner store, its lifecycle, and the context to log to.
template <class Store>
class LoggingStore : public Store {
 public:
  explicit LoggingStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {}

  const std::string& name() const override { return inner_->name(); }
  void init(StateStoreContext& context) override {
    inner_->init(context);
    context_ = &context;
  }
  void flush() override { inner_->flush(); }
  void close() override {
    inner_->close();
    context_ = nullptr;
  }
  bool persistent() const override { return inner_->persistent(); }
  bool is_open() const override { return inner_->is_open(); }

 protected:
  void log(ByteView key, std::optional<ByteView> value) {
    if (context_ == nullptr) throw StreamsException("State store '" + name() + "' is not open");
    context_->log_change(inner_->name(), key, value);
  }

  std::unique_ptr<Store> inner_;
  Bytes key_buffer_;  // reused for changelog keys

 private:
  StateStoreContext* context_ = nullptr;
};

class LoggingKeyValueStore final : public LoggingStore<KeyValueBytesStore> {
 public:
  using LoggingStore::LoggingStore;

  std::optional<Bytes> get(ByteView key) override { return inner_->get(key); }
  void put(ByteView key, std::optional<ByteView> value) override {
    inner_->put(key, value);
    log(key, value);
  }
  std::optional<Bytes> put_if_absent(ByteView key, ByteView value) override {
    std::optional<Bytes> existing = inner_->put_if_absent(key, value);
    if (!existing) log(key, value);
    return existing;
  }
  void put_all(std::span<const KeyValue<Bytes, std::optional<Bytes>>> entries) override {
    inner_->put_all(entries);
    for (const auto& entry : entries) {
      log(entry.key, entry.value ? std::optional<ByteView>(*entry.value) : std::nullopt);
    }
  }
  std::optional<Bytes> remove(ByteView key) override {
    std::optional<Bytes> old = inner_->remove(key);
    log(key, std::nullopt);
    return old;
  }
  std::unique_ptr<Iterator> range(std::optional<ByteView> from, std::optional<ByteView> to,
                                  bool forward) override {
    return inner_->range(from, to, forward);
  }
  std::unique_ptr<Iterator> prefix_scan(ByteView prefix) override {
    return inner_->prefix_scan(prefix);
  }
  std::uint64_t approximate_num_entries() override { return inner_->approximate_num_entries(); }
};

class LoggingWindowStore final : public LoggingStore<WindowBytesStore> {
 public:
  using LoggingStore::LoggingStore;

  std::int64_t window_size() const override { return inner_->window_size(); }
  std::int64_t retention_period() const override { return inner_->retention_period(); }
  bool retain_duplicates() const override { return inner_->retain_duplicates(); }

  void put(ByteView key, std::optional<ByteView> value, std::int64_t window_start) override {
    inner_->put(key, value, window_start);
    if (!value && inner_->retain_duplicates()) return;  // ignored by the store
    // The changelog's own sequence number: the inner store does not say which one it used.
    std::int32_t sequence = 0;
    if (inner_->retain_duplicates()) {
      sequence_ = (sequence_ + 1) & 0x7fffffff;
      sequence = sequence_;
    }
    key_buffer_.assign(key.begin(), key.end());
    append_int64(key_buffer_, window_start);
    append_int32(key_buffer_, sequence);
    log(key_buffer_, value);
  }
  std::optional<Bytes> fetch(ByteView key, std::int64_t window_start) override {
    return inner_->fetch(key, window_start);
  }
  std::unique_ptr<Iterator> fetch(ByteView key, std::int64_t time_from, std::int64_t time_to,
                                  bool forward) override {
    return inner_->fetch(key, time_from, time_to, forward);
  }
  std::unique_ptr<Iterator> fetch_range(std::optional<ByteView> key_from,
                                        std::optional<ByteView> key_to, std::int64_t time_from,
                                        std::int64_t time_to, bool forward) override {
    return inner_->fetch_range(key_from, key_to, time_from, time_to, forward);
  }
  std::unique_ptr<Iterator> fetch_all(std::int64_t time_from, std::int64_t time_to,
                                      bool forward) override {
    return inner_->fetch_all(time_from, time_to, forward);
  }

 private:
  std::int32_t sequence_ = 0;
};

class LoggingSessionStore final : public LoggingStore<SessionBytesStore> {
 public:
  using LoggingStore::LoggingStore;

  std::int64_t retention_period() const override { return inner_->retention_period(); }

  void put(ByteView key, std::int64_t start, std::int64_t end,
           std::optional<ByteView> value) override {
    inner_->put(key, start, end, value);
    key_buffer_.assign(key.begin(), key.end());
    append_int64(key_buffer_, end);
    append_int64(key_buffer_, start);
    log(key_buffer_, value);
  }
  std::optional<Bytes> fetch_session(ByteView key, std::int64_t start, std::int64_t end) override {
    return inner_->fetch_session(key, start, end);
  }
  std::unique_ptr<Iterator> find_sessions(ByteView key, std::int64_t earliest_end,
                                          std::int64_t latest_start, bool forward) override {
    return inner_->find_sessions(key, earliest_end, latest_start, forward);
  }
  std::unique_ptr<Iterator> find_sessions_range(std::optional<ByteView> key_from,
                                                std::optional<ByteView> key_to,
                                                std::int64_t earliest_end,
                                                std::int64_t latest_start, bool forward) override {
    return inner_->find_sessions_range(key_from, key_to, earliest_end, latest_start, forward);
  }
};

}  // namespace

std::unique_ptr<KeyValueBytesStore> with_logging(std::unique_ptr<KeyValueBytesStore> inner) {
  return std::make_unique<LoggingKeyValueStore>(std::move(inner));
}

std::unique_ptr<WindowBytesStore> with_logging(std::unique_ptr<WindowBytesStore> inner) {
  return std::make_unique<LoggingWindowStore>(std::move(inner));
}

std::unique_ptr<SessionBytesStore> with_logging(std::unique_ptr<SessionBytesStore> inner) {
  return std::make_unique<LoggingSessionStore>(std::move(inner));
}

}  // namespace rivulet::state
