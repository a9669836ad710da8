// Internal: the byte-level store implementations and the layers that wrap them. The public
// `Stores` factory (include/rivulet/state/stores.h) builds stores from these.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <rivulet/state/state_store.h>

namespace rivulet::state {

// Kafka Streams' default segment interval: max(retention / 2, 60 s).
std::int64_t default_segment_interval(std::int64_t retention_period);

// ---- Innermost stores ---------------------------------------------------------------------
// RocksDB stores live in `context.state_dir() / "rocksdb" / name` and use the context's
// RocksDbResources when it has them. In-memory stores keep ordered maps.

std::unique_ptr<KeyValueBytesStore> make_rocksdb_key_value_store(std::string name);
std::unique_ptr<KeyValueBytesStore> make_in_memory_key_value_store(std::string name);

std::unique_ptr<WindowBytesStore> make_rocksdb_window_store(std::string name,
                                                            std::int64_t retention_period,
                                                            std::int64_t window_size,
                                                            bool retain_duplicates,
                                                            std::int64_t segment_interval);
std::unique_ptr<WindowBytesStore> make_in_memory_window_store(std::string name,
                                                              std::int64_t retention_period,
                                                              std::int64_t window_size,
                                                              bool retain_duplicates);

std::unique_ptr<SessionBytesStore> make_rocksdb_session_store(std::string name,
                                                              std::int64_t retention_period,
                                                              std::int64_t segment_interval);
std::unique_ptr<SessionBytesStore> make_in_memory_session_store(std::string name,
                                                                std::int64_t retention_period);

// ---- Logging layer ------------------------------------------------------------------------
// Passes every call to `inner` and sends each change to the changelog through
// `StateStoreContext::log_change`, in the changelog format state_store.h documents.

std::unique_ptr<KeyValueBytesStore> with_logging(std::unique_ptr<KeyValueBytesStore> inner);
std::unique_ptr<WindowBytesStore> with_logging(std::unique_ptr<WindowBytesStore> inner);
std::unique_ptr<SessionBytesStore> with_logging(std::unique_ptr<SessionBytesStore> inner);

}  // namespace rivulet::state
