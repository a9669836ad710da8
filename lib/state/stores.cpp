// The public Stores factory and the layering of StoreBuilder::build.
#include <fmt/format.h>

#include <rivulet/named.h>
#include <rivulet/state/stores.h>

#include "state/bytes_stores.h"
#include "state/caching_stores.h"

namespace rivulet {

namespace {

std::int64_t checked_retention(const std::string& name, std::chrono::milliseconds retention,
                               std::chrono::milliseconds window_size) {
  if (retention.count() < 0) {
    throw TopologyException(
        fmt::format("store '{}': the retention period must not be negative", name));
  }
  if (window_size.count() <= 0) {
    throw TopologyException(fmt::format("store '{}': the window size must be positive", name));
  }
  if (retention < window_size) {
    throw TopologyException(fmt::format(
        "store '{}': the retention period ({} ms) must be at least the window size ({} ms)", name,
        retention.count(), window_size.count()));
  }
  return retention.count();
}

}  // namespace

namespace detail {

void validate_store_name(const std::string& name) {
  try {
    Named::validate(name);
  } catch (const TopologyException& error) {
    throw TopologyException(fmt::format("state store name: {}", error.what()));
  }
}

template <class Store>
std::unique_ptr<Store> wrap(std::unique_ptr<Store> store, bool caching, bool logging) {
  if (!store) throw StreamsException("a store supplier returned null");
  if (logging) store = state::with_logging(std::move(store));
  // Always a caching layer, passing through when caching is off: the DSL's table processors
  // forward from its flush listener, which sees every change either way.
  return state::with_caching(std::move(store), caching);
}

std::unique_ptr<KeyValueBytesStore> wrap_store(std::unique_ptr<KeyValueBytesStore> store,
                                               bool caching, bool logging) {
  return wrap(std::move(store), caching, logging);
}
std::unique_ptr<WindowBytesStore> wrap_store(std::unique_ptr<WindowBytesStore> store, bool caching,
                                             bool logging) {
  return wrap(std::move(store), caching, logging);
}
std::unique_ptr<SessionBytesStore> wrap_store(std::unique_ptr<SessionBytesStore> store,
                                              bool caching, bool logging) {
  return wrap(std::move(store), caching, logging);
}

}  // namespace detail

KeyValueBytesStoreSupplier Stores::persistent_key_value_store(const std::string& name) {
  detail::validate_store_name(name);
  return KeyValueBytesStoreSupplier{name, true,
                                    [name] { return state::make_rocksdb_key_value_store(name); }};
}

KeyValueBytesStoreSupplier Stores::in_memory_key_value_store(const std::string& name) {
  detail::validate_store_name(name);
  return KeyValueBytesStoreSupplier{name, false,
                                    [name] { return state::make_in_memory_key_value_store(name); }};
}

WindowBytesStoreSupplier Stores::persistent_window_store(const std::string& name,
                                                         std::chrono::milliseconds retention,
                                                         std::chrono::milliseconds window_size,
                                                         bool retain_duplicates) {
  detail::validate_store_name(name);
  const std::int64_t kept = checked_retention(name, retention, window_size);
  const std::int64_t size = window_size.count();
  return WindowBytesStoreSupplier{name, true, kept, size, retain_duplicates, [=] {
                                    return state::make_rocksdb_window_store(
                                        name, kept, size, retain_duplicates,
                                        state::default_segment_interval(kept));
                                  }};
}

WindowBytesStoreSupplier Stores::in_memory_window_store(const std::string& name,
                                                        std::chrono::milliseconds retention,
                                                        std::chrono::milliseconds window_size,
                                                        bool retain_duplicates) {
  detail::validate_store_name(name);
  const std::int64_t kept = checked_retention(name, retention, window_size);
  const std::int64_t size = window_size.count();
  return WindowBytesStoreSupplier{name, false, kept, size, retain_duplicates, [=] {
                                    return state::make_in_memory_window_store(name, kept, size,
                                                                              retain_duplicates);
                                  }};
}

SessionBytesStoreSupplier Stores::persistent_session_store(const std::string& name,
                                                           std::chrono::milliseconds retention) {
  detail::validate_store_name(name);
  if (retention.count() < 0) {
    throw TopologyException(
        fmt::format("store '{}': the retention period must not be negative", name));
  }
  const std::int64_t kept = retention.count();
  return SessionBytesStoreSupplier{name, true, kept, [=] {
                                     return state::make_rocksdb_session_store(
                                         name, kept, state::default_segment_interval(kept));
                                   }};
}

SessionBytesStoreSupplier Stores::in_memory_session_store(const std::string& name,
                                                          std::chrono::milliseconds retention) {
  detail::validate_store_name(name);
  if (retention.count() < 0) {
    throw TopologyException(
        fmt::format("store '{}': the retention period must not be negative", name));
  }
  const std::int64_t kept = retention.count();
  return SessionBytesStoreSupplier{name, false, kept,
                                   [=] { return state::make_in_memory_session_store(name, kept); }};
}

}  // namespace rivulet
