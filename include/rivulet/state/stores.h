// Stores: the factory of state stores, and StoreBuilder, which adds serdes, caching and logging
// to a byte-level store and is what `Topology::add_state_store` takes.
//
//   topology.add_state_store(
//       rivulet::Stores::key_value_store_builder<std::string, std::int64_t>(
//           rivulet::Stores::persistent_key_value_store("counts")),
//       {"counter"});
//
// Defaults, as in Kafka Streams: logging on (a compacted changelog topic
// "<application.id>-<store>-changelog"; windowed stores add `delete` with a retention of the
// store's retention plus one day), caching off for builders (the DSL turns it on).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <typeindex>
#include <utility>

#include <rivulet/errors.h>
#include <rivulet/serde.h>
#include <rivulet/serdes.h>
#include <rivulet/state/key_value_store.h>
#include <rivulet/state/state_store.h>
#include <rivulet/state/window_store.h>

namespace rivulet {

enum class StoreKind { key_value, window, session };

// Creates the byte-level store of one task. Each call must return a new store.
struct KeyValueBytesStoreSupplier {
  std::string name;
  bool persistent = true;
  std::function<std::unique_ptr<KeyValueBytesStore>()> get;
};
struct WindowBytesStoreSupplier {
  std::string name;
  bool persistent = true;
  std::int64_t retention_period = 0;
  std::int64_t window_size = 0;
  bool retain_duplicates = false;
  std::function<std::unique_ptr<WindowBytesStore>()> get;
};
struct SessionBytesStoreSupplier {
  std::string name;
  bool persistent = true;
  std::int64_t retention_period = 0;
  std::function<std::unique_ptr<SessionBytesStore>()> get;
};

namespace detail {
// Adds the optional layers above a byte store: logging, then caching on top (lib/state).
std::unique_ptr<KeyValueBytesStore> wrap_store(std::unique_ptr<KeyValueBytesStore> store,
                                               bool caching, bool logging);
std::unique_ptr<WindowBytesStore> wrap_store(std::unique_ptr<WindowBytesStore> store, bool caching,
                                             bool logging);
std::unique_ptr<SessionBytesStore> wrap_store(std::unique_ptr<SessionBytesStore> store,
                                              bool caching, bool logging);
void validate_store_name(const std::string& name);

// What a topology keeps of a store: enough to create it per task and to create its changelog.
struct StoreFactory {
  std::string name;
  StoreKind kind = StoreKind::key_value;
  bool logging = true;
  bool persistent = true;
  std::int64_t retention_period = 0;  // windowed stores
  std::map<std::string, std::string> log_config;
  std::type_index store_type = typeid(void);  // KeyValueStore<K, V>, ...
  std::function<std::unique_ptr<StateStore>()> build;
};
}  // namespace detail

// Builds one store of type `Store` (KeyValueStore<K, V>, WindowStore<K, V> or SessionStore<K, V>).
template <class Store>
class StoreBuilder {
 public:
  using BytesSupplier = std::conditional_t<
      std::is_same_v<Store, KeyValueStore<typename Store::key_type, typename Store::value_type>>,
      KeyValueBytesStoreSupplier,
      std::conditional_t<
          std::is_same_v<Store, WindowStore<typename Store::key_type, typename Store::value_type>>,
          WindowBytesStoreSupplier, SessionBytesStoreSupplier>>;
  using K = typename Store::key_type;
  using V = typename Store::value_type;

  StoreBuilder(BytesSupplier supplier, AnySerde<K> key_serde, AnySerde<V> value_serde)
      : supplier_(std::move(supplier)),
        key_serde_(std::move(key_serde)),
        value_serde_(std::move(value_serde)) {
    detail::validate_store_name(supplier_.name);
    if (!supplier_.get) {
      throw TopologyException("store '" + supplier_.name + "' has no supplier function");
    }
  }

  StoreBuilder& with_caching_enabled() {
    caching_ = true;
    return *this;
  }
  StoreBuilder& with_caching_disabled() {
    caching_ = false;
    return *this;
  }
  // Turns the changelog on; `config` adds topic configs to it (e.g. "min.insync.replicas").
  StoreBuilder& with_logging_enabled(std::map<std::string, std::string> config = {}) {
    logging_ = true;
    log_config_ = std::move(config);
    return *this;
  }
  // No changelog: the store is not restored when its task moves (or, in memory, restarts).
  StoreBuilder& with_logging_disabled() {
    logging_ = false;
    log_config_.clear();
    return *this;
  }

  const std::string& name() const { return supplier_.name; }
  bool logging_enabled() const { return logging_; }
  bool caching_enabled() const { return caching_; }
  const std::map<std::string, std::string>& log_config() const { return log_config_; }

  // A new store, not yet initialized.
  std::unique_ptr<Store> build() const {
    return std::make_unique<Store>(detail::wrap_store(supplier_.get(), caching_, logging_),
                                   key_serde_, value_serde_);
  }

  // For Topology::add_state_store.
  detail::StoreFactory factory() const {
    detail::StoreFactory f;
    f.name = supplier_.name;
    f.logging = logging_;
    f.persistent = supplier_.persistent;
    f.log_config = log_config_;
    f.store_type = typeid(Store);
    if constexpr (std::is_same_v<BytesSupplier, KeyValueBytesStoreSupplier>) {
      f.kind = StoreKind::key_value;
    } else {
      f.kind = std::is_same_v<BytesSupplier, WindowBytesStoreSupplier> ? StoreKind::window
                                                                       : StoreKind::session;
      f.retention_period = supplier_.retention_period;
    }
    f.build = [builder = *this]() -> std::unique_ptr<StateStore> { return builder.build(); };
    return f;
  }

 private:
  BytesSupplier supplier_;
  AnySerde<K> key_serde_;
  AnySerde<V> value_serde_;
  bool caching_ = false;
  bool logging_ = true;
  std::map<std::string, std::string> log_config_;
};

class Stores {
 public:
  // A RocksDB store in the task's directory.
  static KeyValueBytesStoreSupplier persistent_key_value_store(const std::string& name);
  static KeyValueBytesStoreSupplier in_memory_key_value_store(const std::string& name);

  // Windows of `window_size` kept for `retention` (which must be at least the window size)
  // behind the newest window. `retain_duplicates`: keep every put (for stream-stream joins).
  static WindowBytesStoreSupplier persistent_window_store(const std::string& name,
                                                          std::chrono::milliseconds retention,
                                                          std::chrono::milliseconds window_size,
                                                          bool retain_duplicates = false);
  static WindowBytesStoreSupplier in_memory_window_store(const std::string& name,
                                                         std::chrono::milliseconds retention,
                                                         std::chrono::milliseconds window_size,
                                                         bool retain_duplicates = false);
  static SessionBytesStoreSupplier persistent_session_store(const std::string& name,
                                                            std::chrono::milliseconds retention);
  static SessionBytesStoreSupplier in_memory_session_store(const std::string& name,
                                                           std::chrono::milliseconds retention);

  // Builders; serdes default by type.
  template <class K, class V>
  static StoreBuilder<KeyValueStore<K, V>> key_value_store_builder(
      KeyValueBytesStoreSupplier supplier, std::optional<AnySerde<K>> key_serde = std::nullopt,
      std::optional<AnySerde<V>> value_serde = std::nullopt) {
    return StoreBuilder<KeyValueStore<K, V>>(std::move(supplier), serde_or_default(key_serde),
                                             serde_or_default(value_serde));
  }
  template <class K, class V>
  static StoreBuilder<WindowStore<K, V>> window_store_builder(
      WindowBytesStoreSupplier supplier, std::optional<AnySerde<K>> key_serde = std::nullopt,
      std::optional<AnySerde<V>> value_serde = std::nullopt) {
    return StoreBuilder<WindowStore<K, V>>(std::move(supplier), serde_or_default(key_serde),
                                           serde_or_default(value_serde));
  }
  template <class K, class V>
  static StoreBuilder<SessionStore<K, V>> session_store_builder(
      SessionBytesStoreSupplier supplier, std::optional<AnySerde<K>> key_serde = std::nullopt,
      std::optional<AnySerde<V>> value_serde = std::nullopt) {
    return StoreBuilder<SessionStore<K, V>>(std::move(supplier), serde_or_default(key_serde),
                                            serde_or_default(value_serde));
  }

 private:
  template <class T>
  static AnySerde<T> serde_or_default(const std::optional<AnySerde<T>>& given) {
    if (given) return *given;
    return default_serde<T>();
  }
};

}  // namespace rivulet
