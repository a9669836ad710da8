// The configuration of a Rivulet application: Kafka Streams' keys and defaults, plus librdkafka
// settings for the clients Rivulet creates.
//
// A `StreamsConfig` is a value: it owns its settings, copies deeply and moves cheaply. Settings
// come from code (`set`, the initializer-list constructor), from YAML (`load_yaml`,
// `load_yaml_file`) and from environment variables (`load_env`); a later setting of a key
// replaces an earlier one, whichever way it came. Every key and value is checked when it is set,
// so a typo fails at the line that made it, with a `ConfigException` that names the key (and the
// file position or environment variable it came from) and, for an unknown key, suggests the
// closest known one.
//
// Keys are of three kinds:
//   * Streams keys (`application.id`, `num.stream.threads`, ...; see `definitions()` and
//     docs/configuration.md), typed, with Kafka Streams' defaults;
//   * librdkafka properties, checked against librdkafka itself. Unprefixed ones go to every
//     client they apply to; `consumer.`, `producer.`, `admin.`, `main.consumer.` and
//     `restore.consumer.` prefixes target one client and win over the unprefixed setting
//     (`main.consumer.`/`restore.consumer.` also win over `consumer.`);
//   * `topic.`-prefixed settings for the internal topics Rivulet creates (changelogs,
//     repartition topics), kept as given and handed to the broker when the topics are created.
//
// Thread-safety: a `StreamsConfig` is immutable once built, and any number of threads may read
// it concurrently through its const members. The mutating members (`set`, `load_*`) are not
// synchronized: build the configuration on one thread before sharing it.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rivulet {

// `processing.guarantee`.
enum class ProcessingGuarantee { at_least_once, exactly_once_v2 };

// `default.deserialization.exception.handler`: what to do with a record that does not deserialize.
enum class DeserializationHandler { log_and_fail, log_and_continue };

// `default.production.exception.handler`: what to do when a record cannot be produced.
// `continue_processing` is Kafka Streams' CONTINUE (drop the record and go on).
enum class ProductionHandler { fail, continue_processing };

// `processing.exception.handler`: what to do when a processor throws on a record.
enum class ProcessingHandler { log_and_fail, log_and_continue };

// `default.timestamp.extractor`: where a record's stream time comes from.
enum class TimestampExtractorKind {
  record,                             // the record's timestamp; a negative one fails the task
  log_and_skip_on_invalid_timestamp,  // the record's timestamp; drop records with a negative one
  use_previous_on_invalid_timestamp,  // the record's, or the partition's time when it is negative
  wall_clock,                         // the local wall-clock time when the record is processed
};

// `topology.optimization`.
enum class TopologyOptimization { none, all };

// `metrics.recording.level`.
enum class MetricsRecordingLevel { info, debug, trace };

// `default.dsl.store`.
enum class DslStoreType { rocks_db, in_memory };

// The type of a Streams key's value.
enum class ConfigType {
  string,
  int32,         // "int": a 32-bit integer
  int64,         // "long": a 64-bit integer
  boolean,       // "bool": true or false
  list,          // comma-separated strings (a YAML sequence is joined with commas)
  enumeration,   // "enum": one of `allowed_values`
  milliseconds,  // a 64-bit whole number of milliseconds
};

// The name used for `type` in messages and in docs/configuration.md ("int", "enum", ...).
std::string_view to_string(ConfigType type);

// One Streams key: what `definitions()` lists and docs/configuration.md mirrors.
struct ConfigDefinition {
  std::string_view name;
  ConfigType type = ConfigType::string;
  // The default as text; nullopt when the key has none and must be set.
  std::optional<std::string_view> default_value;
  // Whether `validate()` requires the key (`validate_for_runtime()` also requires
  // `bootstrap.servers`).
  bool required = false;
  // Inclusive bounds for int32, int64 and milliseconds keys.
  std::int64_t min_value = INT64_MIN;
  std::int64_t max_value = INT64_MAX;
  // The accepted values of an enumeration, in their canonical spelling.
  std::span<const std::string_view> allowed_values;
  // A deprecated name still accepted for this key ("" if none).
  std::string_view deprecated_alias;
  std::string_view doc;
};

namespace detail {
// The integer types `StreamsConfig::set` takes through its template overload.
template <class T>
concept ConfigInteger = std::integral<T> && !std::same_as<T, bool> && !std::same_as<T, char> &&
                        !std::same_as<T, std::int64_t>;
}  // namespace detail

class StreamsConfig {
 public:
  StreamsConfig() = default;
  // Sets each pair in order, as `set(key, value)` does.
  StreamsConfig(std::initializer_list<std::pair<std::string_view, std::string_view>> settings);

  // The Streams keys Rivulet knows, in the order docs/configuration.md lists them.
  static std::span<const ConfigDefinition> definitions();

  // Sets one key, checking key and value; throws ConfigException. Returns *this for chaining.
  StreamsConfig& set(std::string_view key, std::string_view value);
  StreamsConfig& set(std::string_view key, const char* value) {
    return set(key, std::string_view(value));
  }
  StreamsConfig& set(std::string_view key, const std::string& value) {
    return set(key, std::string_view(value));
  }
  StreamsConfig& set(std::string_view key, std::int64_t value);
  template <detail::ConfigInteger T>
  StreamsConfig& set(std::string_view key, T value) {
    return set(key, static_cast<std::int64_t>(value));
  }
  StreamsConfig& set(std::string_view key, bool value);
  // For milliseconds keys (and librdkafka properties); other Streams keys reject a duration.
  StreamsConfig& set(std::string_view key, std::chrono::milliseconds value);

  // Loads a YAML mapping of key -> scalar. Nested mappings are flattened with dots
  // (`consumer: {fetch.min.bytes: 1}` sets `consumer.fetch.min.bytes`); a sequence is allowed for
  // list keys and is joined with commas. Errors are prefixed with "<source>:<line>:<column>: ".
  // A load that fails changes nothing.
  StreamsConfig& load_yaml(std::string_view yaml_text, std::string_view source_name = "<yaml>");
  StreamsConfig& load_yaml_file(const std::filesystem::path& path);

  // Loads every `<prefix>NAME=value` variable of `envp` (a null-terminated array of "NAME=value"
  // strings; nullptr reads the process environment), in name order. NAME maps to a key as in
  // Confluent's images: lowercased, '_' -> '.', '__' -> '_', '___' -> '-'
  // (RIVULET_NUM_STREAM_THREADS -> num.stream.threads). Errors name the variable, and a load
  // that fails changes nothing.
  StreamsConfig& load_env(std::string_view prefix = "RIVULET_", const char* const* envp = nullptr);

  // Throws ConfigException naming the first missing required key (application.id) or an
  // inconsistent combination (e.g. exactly_once_v2 with enable.idempotence=false).
  void validate() const;
  // validate(), and also requires bootstrap.servers: what running against a cluster needs.
  void validate_for_runtime() const;

  // Generic access. For a Streams key the value is the effective one (the default when not set,
  // canonical spelling for enums); for any other key it is the value as set. get_* throw
  // ConfigException when the key has no value or the value is not of the requested type.
  bool contains(std::string_view key) const;
  bool is_set_by_user(std::string_view key) const;
  std::string get_string(std::string_view key) const;
  std::int64_t get_long(std::string_view key) const;
  bool get_bool(std::string_view key) const;

  // Typed getters for the Streams keys.
  std::string application_id() const;                  // throws ConfigException when not set
  std::vector<std::string> bootstrap_servers() const;  // empty when not set
  std::string application_server() const;
  std::string client_id() const;
  int num_stream_threads() const;
  ProcessingGuarantee processing_guarantee() const;
  bool exactly_once() const {
    return processing_guarantee() == ProcessingGuarantee::exactly_once_v2;
  }
  std::chrono::milliseconds commit_interval() const;  // 100 ms under exactly_once_v2 by default
  std::chrono::milliseconds poll_timeout() const;     // poll.ms
  int buffered_records_per_partition() const;
  std::chrono::milliseconds max_task_idle() const;  // -1 ms: never wait for empty partitions
  std::chrono::milliseconds task_timeout() const;
  std::chrono::milliseconds default_api_timeout() const;
  std::filesystem::path state_dir() const;
  std::chrono::milliseconds state_cleanup_delay() const;
  std::int64_t statestore_cache_max_bytes() const;
  int num_standby_replicas() const;
  int replication_factor() const;  // -1: the broker's default
  DeserializationHandler deserialization_handler() const;
  ProductionHandler production_handler() const;
  ProcessingHandler processing_handler() const;
  std::optional<std::string> dead_letter_queue_topic() const;  // nullopt when not configured
  TimestampExtractorKind default_timestamp_extractor() const;
  TopologyOptimization topology_optimization() const;
  MetricsRecordingLevel metrics_recording_level() const;
  DslStoreType default_dsl_store() const;

  // librdkafka settings for each client Rivulet creates: bootstrap.servers, client.id (client.id,
  // or application.id when client.id is empty; the runtime appends thread suffixes), the
  // unprefixed properties that apply to that kind of client, then the prefixed ones. The main
  // consumer also gets group.id = application.id and enable.auto.commit=false; consumers get
  // auto.offset.reset=earliest unless set (Kafka Streams' default); under exactly_once_v2
  // consumers get isolation.level=read_committed and the producer enable.idempotence=true.
  std::map<std::string, std::string> consumer_configs() const;  // the main consumer
  std::map<std::string, std::string> restore_consumer_configs() const;
  std::map<std::string, std::string> producer_configs() const;
  std::map<std::string, std::string> admin_configs() const;
  // `topic.` settings for internal topics, with the prefix removed (e.g. "retention.ms").
  std::map<std::string, std::string> internal_topic_configs() const;

  // Deprecation notices collected while setting keys (e.g. cache.max.bytes.buffering), for the
  // runtime to log at startup.
  const std::vector<std::string>& warnings() const { return warnings_; }

  // Every Streams key's effective value (marked when defaulted), then every other key set, one
  // per line. Values of sensitive keys (password, secret, sasl.oauthbearer.config, ssl.key) are
  // masked.
  std::string dump() const;
  // One line with the keys set by the user: "StreamsConfig{application.id=app, ...}", masked.
  std::string to_string() const;

 private:
  // Key as stored (canonical name for Streams keys, the key as given otherwise) -> value
  // (normalised for Streams keys).
  std::map<std::string, std::string, std::less<>> values_;
  std::vector<std::string> warnings_;
};

}  // namespace rivulet
