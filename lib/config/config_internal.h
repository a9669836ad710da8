// Internals of StreamsConfig: the Java-name and deprecation tables that go with the definitions
// table, librdkafka property lookups, and text helpers. Private to lib/config and its tests.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <rivulet/errors.h>
#include <rivulet/streams_config.h>

namespace rivulet::config_detail {

// Thrown by StreamsConfig::set for a problem with the key itself (unknown, Java-only, reserved)
// rather than its value, so that the YAML loader can point at the key instead of the value.
class ConfigKeyError : public ConfigException {
 public:
  using ConfigException::ConfigException;
};

// --- The Streams keys (config_definitions.cpp) ---

// The definition whose name or deprecated alias is `key`, or nullptr.
const ConfigDefinition* find_definition(std::string_view key);

// A Kafka Streams Java class name (full or simple) accepted for an enumeration key.
struct JavaClassAlias {
  std::string_view key;
  std::string_view java_class;  // fully qualified
  std::string_view value;       // the canonical value it stands for
};
std::span<const JavaClassAlias> java_class_aliases();

// A value Kafka Streams accepted once and Rivulet rejects, with the reason.
struct RejectedValue {
  std::string_view key;
  std::string_view value;
  std::string_view reason;
};
std::span<const RejectedValue> rejected_values();

// Why `key` (after any client prefix) cannot be set, when it is a Java-only key or one Rivulet
// sets itself; nullopt for any other key. `full_key` is the key as the user wrote it.
std::optional<std::string> forbidden_key_reason(std::string_view full_key, std::string_view key);

// The definitions as the Markdown table docs/configuration.md contains.
std::string markdown_table();

// --- librdkafka (librdkafka_properties.cpp) ---

// Which clients a librdkafka property applies to (the C/P column of CONFIGURATION.md).
enum class ClientScope { any, consumer, producer };

struct LibrdkafkaCheck {
  enum class Result { ok, unknown, invalid };
  Result result = Result::ok;
  std::string error;  // librdkafka's errstr when not ok
};

// Sets `name` = `value` on a scratch rd_kafka_conf_t and reports what librdkafka said.
LibrdkafkaCheck check_librdkafka_property(const std::string& name, const std::string& value);
bool is_librdkafka_property(const std::string& name);
// nullopt when librdkafka does not list the property (hidden properties).
std::optional<ClientScope> librdkafka_scope(std::string_view name);
// Every property librdkafka lists (global and topic), sorted.
std::span<const std::string> librdkafka_property_names();

// --- Text helpers (config_text.cpp) ---

std::string_view trim(std::string_view text);
std::string to_lower(std::string_view text);
bool iequals(std::string_view a, std::string_view b);
std::vector<std::string> split_list(std::string_view text);  // by ',', entries trimmed
// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions).
std::size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `key` if it is close enough to be a plausible typo.
std::optional<std::string> closest_match(std::string_view key,
                                         std::span<const std::string> candidates);
// Whether a key's value must be masked when printed.
bool is_sensitive(std::string_view key);
std::string printable_value(std::string_view key, std::string_view value);
// Confluent's mapping of an environment variable name (prefix removed) to a key.
std::string env_name_to_key(std::string_view name);
// A legal Kafka topic name (or prefix): [a-zA-Z0-9._-]+.
bool is_legal_topic_chars(std::string_view name);

}  // namespace rivulet::config_detail
