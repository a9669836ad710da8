// QueryableStore: what the HTTP query endpoints need of a typed store (KeyValueStore,
// WindowStore, SessionStore) without knowing its key and value types: the byte-level store
// below it, a key read from text and serialized with the store's key serde, and keys and values
// rendered as JSON (state/query_json.h). Used on the store's stream thread only.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include <rivulet/record.h>
#include <rivulet/state/state_store.h>

namespace rivulet::detail {

enum class QueryableKind { key_value, window, session };

class QueryableStore {
 public:
  virtual ~QueryableStore() = default;
  virtual QueryableKind queryable_kind() const = 0;
  // The key `text` means, serialized with the store's key serde. Throws std::invalid_argument
  // (or SerializationException) when the text is not a key of the store's type.
  virtual Bytes key_from_text(std::string_view text) = 0;
  // A serialized key or value of the store, as JSON. Throws SerializationException when the
  // bytes do not deserialize.
  virtual nlohmann::json key_json(ByteView key) = 0;
  virtual nlohmann::json value_json(ByteView value) = 0;
  // The byte-level store of the matching kind, nullptr for the others.
  virtual KeyValueBytesStore* key_value_bytes() { return nullptr; }
  virtual WindowBytesStore* window_bytes() { return nullptr; }
  virtual SessionBytesStore* session_bytes() { return nullptr; }
};

}  // namespace rivulet::detail
