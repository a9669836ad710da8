// StreamsConfig: checking and storing settings, typed access, and per-client librdkafka maps.
#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <rivulet/errors.h>
#include <rivulet/streams_config.h>

#include "config/config_internal.h"

namespace rivulet {

using config_detail::ClientScope;
using config_detail::ConfigKeyError;
using config_detail::find_definition;
using config_detail::printable_value;

namespace {

// Longest first, so that "main.consumer." is not taken for something else.
constexpr std::array<std::string_view, 5> kClientPrefixes{"main.consumer.", "restore.consumer.",
                                                          "consumer.", "producer.", "admin."};
constexpr std::string_view kTopicPrefix = "topic.";

enum class Client { main_consumer, restore_consumer, producer, admin };

std::optional<std::string_view> client_prefix_of(std::string_view key) {
  for (auto prefix : kClientPrefixes) {
    if (key.starts_with(prefix)) return prefix;
  }
  return std::nullopt;
}

// `topic.`-prefixed keys configure internal topics, except librdkafka's own topic.* properties
// (topic.metadata.refresh.interval.ms, ...), which no Kafka topic config clashes with.
bool is_internal_topic_key(std::string_view key) {
  return key.starts_with(kTopicPrefix) && !config_detail::is_librdkafka_property(std::string(key));
}

const ConfigDefinition& definition_of(std::string_view name) {
  const ConfigDefinition* definition = find_definition(name);
  if (definition == nullptr) {
    throw ConfigException(fmt::format("internal error: no definition for '{}'", name));
  }
  return *definition;
}

std::pair<std::int64_t, std::int64_t> type_range(ConfigType type) {
  if (type == ConfigType::int32) {
    return {std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()};
  }
  return {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()};
}

// What a valid value looks like: "type int (a whole number, 32-bit), at least 1",
// "type enum, one of: none, all", ...
std::string expectation(const ConfigDefinition& definition) {
  const auto type = to_string(definition.type);
  switch (definition.type) {
    case ConfigType::string:
      return "type string";
    case ConfigType::boolean:
      return "type bool (true or false)";
    case ConfigType::list:
      return "type list (comma-separated)";
    case ConfigType::enumeration:
      return fmt::format("type enum, one of: {}", fmt::join(definition.allowed_values, ", "));
    case ConfigType::int32:
    case ConfigType::int64:
    case ConfigType::milliseconds:
      break;
  }
  std::string out = fmt::format("type {} (a whole number{})", type,
                                definition.type == ConfigType::milliseconds ? " of milliseconds"
                                : definition.type == ConfigType::int32      ? ", 32-bit"
                                                                            : ", 64-bit");
  const auto [type_min, type_max] = type_range(definition.type);
  const std::int64_t min = std::max(definition.min_value, type_min);
  const std::int64_t max = std::min(definition.max_value, type_max);
  if (min > type_min && max < type_max) {
    out += fmt::format(", between {} and {}", min, max);
  } else if (min > type_min) {
    out += fmt::format(", at least {}", min);
  } else if (max < type_max) {
    out += fmt::format(", at most {}", max);
  }
  return out;
}

[[noreturn]] void throw_invalid(std::string_view key, std::string_view value,
                                std::string_view problem) {
  throw ConfigException(fmt::format("invalid value '{}' for configuration key '{}': {}",
                                    printable_value(key, value), key, problem));
}

std::optional<std::int64_t> parse_whole_number(std::string_view text) {
  text = config_detail::trim(text);
  if (text.starts_with('+') && !text.substr(1).starts_with('-')) text.remove_prefix(1);
  std::int64_t number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return number;
}

std::optional<bool> parse_bool(std::string_view text) {
  text = config_detail::trim(text);
  if (config_detail::iequals(text, "true")) return true;
  if (config_detail::iequals(text, "false")) return false;
  return std::nullopt;
}

std::string normalize_enum(const ConfigDefinition& definition, std::string_view key,
                           std::string_view raw) {
  const std::string_view value = config_detail::trim(raw);
  for (const auto& rejected : config_detail::rejected_values()) {
    if (rejected.key == definition.name && config_detail::iequals(rejected.value, value)) {
      throw_invalid(key, raw, fmt::format("'{}' {}", rejected.value, rejected.reason));
    }
  }
  for (auto allowed : definition.allowed_values) {
    if (config_detail::iequals(allowed, value)) return std::string(allowed);
  }
  // Java class names pasted from a Kafka Streams configuration, fully qualified or not.
  for (const auto& alias : config_detail::java_class_aliases()) {
    if (alias.key != definition.name) continue;
    const auto simple_name = alias.java_class.substr(alias.java_class.rfind('.') + 1);
    if (value == alias.java_class || value == simple_name) return std::string(alias.value);
  }
  std::string problem = fmt::format("expected {}", expectation(definition));
  const bool has_java_names = std::any_of(
      config_detail::java_class_aliases().begin(), config_detail::java_class_aliases().end(),
      [&](const auto& alias) { return alias.key == definition.name; });
  if (has_java_names) {
    problem += " (or the Java class name of the matching Kafka Streams built-in)";
  }
  throw_invalid(key, raw, problem);
}

bool is_host_port(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const auto port_text = text.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  const auto port = parse_whole_number(port_text);
  return port && *port >= 0 && *port <= 65535;
}

// Checks that go beyond the type.
void check_specific(const ConfigDefinition& definition, std::string_view key, std::string_view raw,
                    const std::string& value) {
  const std::string_view name = definition.name;
  if (name == "application.id" && !config_detail::is_legal_topic_chars(value)) {
    throw_invalid(key, raw,
                  "expected a legal Kafka topic-name prefix: one or more letters, digits, '.', "
                  "'_' or '-'");
  }
  if (name == "bootstrap.servers" && value.empty()) {
    throw_invalid(key, raw, "expected type list (comma-separated) of at least one host:port");
  }
  if (name == "application.server" && !value.empty() && !is_host_port(value)) {
    throw_invalid(key, raw,
                  "expected host:port with a port between 0 (any free port) and 65535, or empty");
  }
  if (name == "errors.dead.letter.queue.topic.name" && !value.empty() &&
      (!config_detail::is_legal_topic_chars(value) || value.size() > 249 || value == "." ||
       value == "..")) {
    throw_invalid(key, raw,
                  "expected a legal Kafka topic name (up to 249 letters, digits, '.', '_' or "
                  "'-'), or empty for none");
  }
  if (name == "replication.factor" && value == "0") {
    throw_invalid(key, raw, "expected type int, -1 (the broker's default) or at least 1");
  }
  if (name == "state.dir" && value.empty()) {
    throw_invalid(key, raw, "expected a directory path, not empty");
  }
}

// The canonical text of a Streams key's value; throws ConfigException when it is not valid.
std::string normalize_streams_value(const ConfigDefinition& definition, std::string_view key,
                                    std::string_view raw) {
  std::string value;
  switch (definition.type) {
    case ConfigType::string:
      value = std::string(raw);
      break;
    case ConfigType::int32:
    case ConfigType::int64:
    case ConfigType::milliseconds: {
      const auto number = parse_whole_number(raw);
      const auto [type_min, type_max] = type_range(definition.type);
      if (!number || *number < std::max(definition.min_value, type_min) ||
          *number > std::min(definition.max_value, type_max)) {
        throw_invalid(key, raw, fmt::format("expected {}", expectation(definition)));
      }
      value = std::to_string(*number);
      break;
    }
    case ConfigType::boolean: {
      const auto flag = parse_bool(raw);
      if (!flag) throw_invalid(key, raw, fmt::format("expected {}", expectation(definition)));
      value = *flag ? "true" : "false";
      break;
    }
    case ConfigType::list: {
      const auto items = config_detail::split_list(raw);
      if (std::any_of(items.begin(), items.end(), [](const auto& item) { return item.empty(); })) {
        throw_invalid(key, raw,
                      fmt::format("expected {}, without empty entries", expectation(definition)));
      }
      value = fmt::format("{}", fmt::join(items, ","));
      break;
    }
    case ConfigType::enumeration:
      value = normalize_enum(definition, key, raw);
      break;
  }
  check_specific(definition, key, raw, value);
  return value;
}

const std::vector<std::string>& unprefixed_candidates() {
  static const std::vector<std::string> candidates = [] {
    std::vector<std::string> out;
    for (const auto& definition : StreamsConfig::definitions()) {
      out.emplace_back(definition.name);
      if (!definition.deprecated_alias.empty()) out.emplace_back(definition.deprecated_alias);
    }
    const auto names = config_detail::librdkafka_property_names();
    out.insert(out.end(), names.begin(), names.end());
    return out;
  }();
  return candidates;
}

std::string unknown_key_message(std::string_view key, std::optional<std::string_view> prefix,
                                std::string_view librdkafka_error) {
  const std::string_view property = prefix ? key.substr(prefix->size()) : key;
  const auto match =
      prefix ? config_detail::closest_match(property, config_detail::librdkafka_property_names())
             : config_detail::closest_match(key, unprefixed_candidates());
  std::string message = fmt::format("unknown configuration key '{}'", key);
  if (match) {
    message += fmt::format("; did you mean '{}{}'?", prefix.value_or(""), *match);
  } else {
    message += '.';
  }
  if (prefix) {
    message +=
        fmt::format(" '{}', after the '{}' prefix, is not a librdkafka property (librdkafka: {})",
                    property, *prefix, librdkafka_error);
  } else {
    message += fmt::format(
        " It is neither a Streams key (see docs/configuration.md) nor a librdkafka property "
        "(librdkafka: {})",
        librdkafka_error);
  }
  return message;
}

std::string_view scope_name(ClientScope scope) {
  return scope == ClientScope::consumer ? "consumer" : "producer";
}

// Throws when a client-prefixed property is one librdkafka would ignore for that client.
void check_scope(std::string_view key, std::string_view prefix, std::string_view property) {
  const auto scope = config_detail::librdkafka_scope(property);
  if (!scope || *scope == ClientScope::any) return;
  const bool for_consumer = prefix != "producer." && prefix != "admin.";
  const bool for_producer = prefix == "producer.";
  if ((*scope == ClientScope::consumer && for_consumer) ||
      (*scope == ClientScope::producer && for_producer)) {
    return;
  }
  const std::string_view client = for_consumer   ? "a consumer"
                                  : for_producer ? "a producer"
                                                 : "an admin client";
  throw ConfigKeyError(
      fmt::format("configuration key '{}': '{}' is a librdkafka {} property, which {} does not use",
                  key, property, scope_name(*scope), client));
}

bool applies_to(ClientScope scope, Client client) {
  switch (scope) {
    case ClientScope::any:
      return true;
    case ClientScope::consumer:
      return client == Client::main_consumer || client == Client::restore_consumer;
    case ClientScope::producer:
      return client == Client::producer;
  }
  return false;
}

std::string mask_in(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
    text.replace(at, secret.size(), "[hidden]");
    at += 8;
  }
  return text;
}

template <class Enum>
Enum enum_value(const ConfigDefinition& definition, const std::string& value) {
  // The enum's enumerators are declared in the order of `allowed_values`.
  const auto& allowed = definition.allowed_values;
  const auto found = std::find(allowed.begin(), allowed.end(), value);
  if (found == allowed.end()) {
    throw ConfigException(
        fmt::format("internal error: '{}' is not a value of '{}'", value, definition.name));
  }
  return static_cast<Enum>(found - allowed.begin());
}

}  // namespace

StreamsConfig::StreamsConfig(
    std::initializer_list<std::pair<std::string_view, std::string_view>> settings) {
  for (const auto& [key, value] : settings) set(key, value);
}

StreamsConfig& StreamsConfig::set(std::string_view key, std::string_view value) {
  if (key.empty()) throw ConfigKeyError("configuration key must not be empty");

  if (const ConfigDefinition* definition = find_definition(key)) {
    std::string normalized = normalize_streams_value(*definition, key, value);
    if (definition->name != key) {
      std::string warning =
          fmt::format("configuration key '{}' is deprecated (as in Kafka Streams); use '{}'", key,
                      definition->name);
      if (std::find(warnings_.begin(), warnings_.end(), warning) == warnings_.end()) {
        warnings_.push_back(std::move(warning));
      }
    }
    values_.insert_or_assign(std::string(definition->name), std::move(normalized));
    return *this;
  }

  const auto prefix = client_prefix_of(key);
  const std::string_view property = prefix ? key.substr(prefix->size()) : key;
  if (auto reason = config_detail::forbidden_key_reason(key, property)) {
    throw ConfigKeyError(*reason);
  }
  if (!prefix && is_internal_topic_key(key)) {
    if (key.size() == kTopicPrefix.size()) {
      throw ConfigKeyError("configuration key 'topic.' names no internal-topic setting");
    }
    values_.insert_or_assign(std::string(key), std::string(value));
    return *this;
  }
  if (prefix && property.empty()) {
    throw ConfigKeyError(
        fmt::format("configuration key '{}' names no librdkafka property after the prefix", key));
  }

  const auto check =
      config_detail::check_librdkafka_property(std::string(property), std::string(value));
  using Result = config_detail::LibrdkafkaCheck::Result;
  if (check.result == Result::unknown) {
    throw ConfigKeyError(unknown_key_message(key, prefix, check.error));
  }
  if (check.result == Result::invalid) {
    const std::string error =
        config_detail::is_sensitive(key) ? mask_in(check.error, value) : check.error;
    throw ConfigException(
        fmt::format("invalid value '{}' for configuration key '{}' (a librdkafka property): {}",
                    printable_value(key, value), key, error));
  }
  if (prefix) check_scope(key, *prefix, property);
  values_.insert_or_assign(std::string(key), std::string(value));
  return *this;
}

StreamsConfig& StreamsConfig::set(std::string_view key, std::int64_t value) {
  return set(key, std::string_view(std::to_string(value)));
}

StreamsConfig& StreamsConfig::set(std::string_view key, bool value) {
  return set(key, std::string_view(value ? "true" : "false"));
}

StreamsConfig& StreamsConfig::set(std::string_view key, std::chrono::milliseconds value) {
  const ConfigDefinition* definition = find_definition(key);
  if (definition != nullptr && definition->type != ConfigType::milliseconds) {
    throw ConfigException(fmt::format(
        "configuration key '{}' is of type {}, not milliseconds: it does not take a duration", key,
        rivulet::to_string(definition->type)));
  }
  return set(key, std::string_view(std::to_string(value.count())));
}

void StreamsConfig::validate() const {
  for (const auto& definition : definitions()) {
    if (definition.required && !is_set_by_user(definition.name)) {
      throw ConfigException(fmt::format("missing required configuration key '{}': {}",
                                        definition.name, definition.doc));
    }
  }
  if (exactly_once()) {
    const auto producer = producer_configs();
    if (const auto found = producer.find("enable.idempotence");
        found != producer.end() && config_detail::iequals(found->second, "false")) {
      throw ConfigException(
          "processing.guarantee=exactly_once_v2 needs an idempotent producer, but "
          "enable.idempotence is false; remove that setting");
    }
    for (const auto& consumer : {consumer_configs(), restore_consumer_configs()}) {
      if (const auto found = consumer.find("isolation.level");
          found != consumer.end() && found->second != "read_committed") {
        throw ConfigException(fmt::format(
            "processing.guarantee=exactly_once_v2 needs isolation.level=read_committed for "
            "consumers, but it is set to '{}'; remove that setting",
            found->second));
      }
    }
  }
}

void StreamsConfig::validate_for_runtime() const {
  validate();
  if (!is_set_by_user("bootstrap.servers")) {
    const auto& definition = definition_of("bootstrap.servers");
    throw ConfigException(fmt::format("missing required configuration key '{}': {}",
                                      definition.name, definition.doc));
  }
}

bool StreamsConfig::contains(std::string_view key) const {
  if (const ConfigDefinition* definition = find_definition(key)) {
    return definition->default_value.has_value() || values_.contains(definition->name);
  }
  return values_.contains(key);
}

bool StreamsConfig::is_set_by_user(std::string_view key) const {
  if (const ConfigDefinition* definition = find_definition(key)) {
    return values_.contains(definition->name);
  }
  return values_.contains(key);
}

std::string StreamsConfig::get_string(std::string_view key) const {
  if (const ConfigDefinition* definition = find_definition(key)) {
    if (const auto found = values_.find(definition->name); found != values_.end()) {
      return found->second;
    }
    if (definition->name == "commit.interval.ms" && exactly_once()) return "100";
    if (definition->default_value) return std::string(*definition->default_value);
    throw ConfigException(fmt::format("configuration key '{}' is not set and has no default: {}",
                                      definition->name, definition->doc));
  }
  if (const auto found = values_.find(key); found != values_.end()) return found->second;
  throw ConfigException(fmt::format("configuration key '{}' is not set", key));
}

std::int64_t StreamsConfig::get_long(std::string_view key) const {
  if (const ConfigDefinition* definition = find_definition(key)) {
    if (definition->type != ConfigType::int32 && definition->type != ConfigType::int64 &&
        definition->type != ConfigType::milliseconds) {
      throw ConfigException(fmt::format("configuration key '{}' is of type {}, not a number", key,
                                        rivulet::to_string(definition->type)));
    }
  }
  const std::string value = get_string(key);
  const auto number = parse_whole_number(value);
  if (!number) {
    throw ConfigException(fmt::format("value '{}' of configuration key '{}' is not a whole number",
                                      printable_value(key, value), key));
  }
  return *number;
}

bool StreamsConfig::get_bool(std::string_view key) const {
  if (const ConfigDefinition* definition = find_definition(key)) {
    if (definition->type != ConfigType::boolean) {
      throw ConfigException(fmt::format("configuration key '{}' is of type {}, not bool", key,
                                        rivulet::to_string(definition->type)));
    }
  }
  const std::string value = get_string(key);
  const auto flag = parse_bool(value);
  if (!flag) {
    throw ConfigException(fmt::format("value '{}' of configuration key '{}' is not true or false",
                                      printable_value(key, value), key));
  }
  return *flag;
}

std::string StreamsConfig::application_id() const {
  return get_string("application.id");
}

std::vector<std::string> StreamsConfig::bootstrap_servers() const {
  if (!is_set_by_user("bootstrap.servers")) return {};
  return config_detail::split_list(get_string("bootstrap.servers"));
}

std::string StreamsConfig::application_server() const {
  return get_string("application.server");
}

std::string StreamsConfig::client_id() const {
  return get_string("client.id");
}

int StreamsConfig::num_stream_threads() const {
  return static_cast<int>(get_long("num.stream.threads"));
}

ProcessingGuarantee StreamsConfig::processing_guarantee() const {
  return enum_value<ProcessingGuarantee>(definition_of("processing.guarantee"),
                                         get_string("processing.guarantee"));
}

std::chrono::milliseconds StreamsConfig::commit_interval() const {
  return std::chrono::milliseconds(get_long("commit.interval.ms"));
}

std::chrono::milliseconds StreamsConfig::poll_timeout() const {
  return std::chrono::milliseconds(get_long("poll.ms"));
}

int StreamsConfig::buffered_records_per_partition() const {
  return static_cast<int>(get_long("buffered.records.per.partition"));
}

std::chrono::milliseconds StreamsConfig::max_task_idle() const {
  return std::chrono::milliseconds(get_long("max.task.idle.ms"));
}

std::chrono::milliseconds StreamsConfig::task_timeout() const {
  return std::chrono::milliseconds(get_long("task.timeout.ms"));
}

std::chrono::milliseconds StreamsConfig::default_api_timeout() const {
  return std::chrono::milliseconds(get_long("default.api.timeout.ms"));
}

std::filesystem::path StreamsConfig::state_dir() const {
  return get_string("state.dir");
}

std::chrono::milliseconds StreamsConfig::state_cleanup_delay() const {
  return std::chrono::milliseconds(get_long("state.cleanup.delay.ms"));
}

std::int64_t StreamsConfig::statestore_cache_max_bytes() const {
  return get_long("statestore.cache.max.bytes");
}

int StreamsConfig::num_standby_replicas() const {
  return static_cast<int>(get_long("num.standby.replicas"));
}

int StreamsConfig::replication_factor() const {
  return static_cast<int>(get_long("replication.factor"));
}

DeserializationHandler StreamsConfig::deserialization_handler() const {
  constexpr std::string_view kKey = "default.deserialization.exception.handler";
  return enum_value<DeserializationHandler>(definition_of(kKey), get_string(kKey));
}

ProductionHandler StreamsConfig::production_handler() const {
  constexpr std::string_view kKey = "default.production.exception.handler";
  return enum_value<ProductionHandler>(definition_of(kKey), get_string(kKey));
}

ProcessingHandler StreamsConfig::processing_handler() const {
  constexpr std::string_view kKey = "processing.exception.handler";
  return enum_value<ProcessingHandler>(definition_of(kKey), get_string(kKey));
}

std::optional<std::string> StreamsConfig::dead_letter_queue_topic() const {
  std::string topic = get_string("errors.dead.letter.queue.topic.name");
  if (topic.empty()) return std::nullopt;
  return topic;
}

TimestampExtractorKind StreamsConfig::default_timestamp_extractor() const {
  constexpr std::string_view kKey = "default.timestamp.extractor";
  return enum_value<TimestampExtractorKind>(definition_of(kKey), get_string(kKey));
}

TopologyOptimization StreamsConfig::topology_optimization() const {
  constexpr std::string_view kKey = "topology.optimization";
  return enum_value<TopologyOptimization>(definition_of(kKey), get_string(kKey));
}

MetricsRecordingLevel StreamsConfig::metrics_recording_level() const {
  constexpr std::string_view kKey = "metrics.recording.level";
  return enum_value<MetricsRecordingLevel>(definition_of(kKey), get_string(kKey));
}

DslStoreType StreamsConfig::default_dsl_store() const {
  constexpr std::string_view kKey = "default.dsl.store";
  return enum_value<DslStoreType>(definition_of(kKey), get_string(kKey));
}

namespace {

// Builds the librdkafka settings of one client from the stored settings.
std::map<std::string, std::string> client_configs(
    const StreamsConfig& config, const std::map<std::string, std::string, std::less<>>& values,
    Client client) {
  std::map<std::string, std::string> out;
  const bool consumer = client == Client::main_consumer || client == Client::restore_consumer;
  if (config.is_set_by_user("bootstrap.servers")) {
    out["bootstrap.servers"] = config.get_string("bootstrap.servers");
  }
  std::string client_id = config.client_id();
  if (client_id.empty() && config.is_set_by_user("application.id")) {
    client_id = config.application_id();
  }
  if (!client_id.empty()) out["client.id"] = client_id;
  if (consumer) out["auto.offset.reset"] = "earliest";
  // Java's default partitioner (murmur2 of the key), so that records keyed alike land in the
  // same partition whichever client wrote them: what co-partitioning with Java apps needs.
  if (client == Client::producer) out["partitioner"] = "murmur2_random";
  if (config.exactly_once()) {
    if (consumer) out["isolation.level"] = "read_committed";
    if (client == Client::producer) {
      out["enable.idempotence"] = "true";
      // Kafka Streams' default under exactly-once: a crashed instance's open transaction stops
      // read_committed readers for at most this long.
      out["transaction.timeout.ms"] = "10000";
    }
  }

  for (const auto& [key, value] : values) {
    if (find_definition(key) != nullptr || client_prefix_of(key) || is_internal_topic_key(key)) {
      continue;
    }
    if (applies_to(config_detail::librdkafka_scope(key).value_or(ClientScope::any), client)) {
      out[key] = value;
    }
  }

  std::vector<std::string_view> prefixes;  // general first, so that the specific one wins
  switch (client) {
    case Client::main_consumer:
      prefixes = {"consumer.", "main.consumer."};
      break;
    case Client::restore_consumer:
      prefixes = {"consumer.", "restore.consumer."};
      break;
    case Client::producer:
      prefixes = {"producer."};
      break;
    case Client::admin:
      prefixes = {"admin."};
      break;
  }
  for (auto prefix : prefixes) {
    for (const auto& [key, value] : values) {
      if (client_prefix_of(key) == prefix) out[key.substr(prefix.size())] = value;
    }
  }

  if (consumer) out["enable.auto.commit"] = "false";
  // Co-partitioning relies on the range assignor (librdkafka cannot plug in Kafka Streams').
  if (client == Client::main_consumer) out["partition.assignment.strategy"] = "range";
  if (client == Client::main_consumer && config.is_set_by_user("application.id")) {
    out["group.id"] = config.application_id();
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> StreamsConfig::consumer_configs() const {
  return client_configs(*this, values_, Client::main_consumer);
}

std::map<std::string, std::string> StreamsConfig::restore_consumer_configs() const {
  return client_configs(*this, values_, Client::restore_consumer);
}

std::map<std::string, std::string> StreamsConfig::producer_configs() const {
  return client_configs(*this, values_, Client::producer);
}

std::map<std::string, std::string> StreamsConfig::admin_configs() const {
  return client_configs(*this, values_, Client::admin);
}

std::map<std::string, std::string> StreamsConfig::internal_topic_configs() const {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : values_) {
    if (is_internal_topic_key(key)) out[key.substr(kTopicPrefix.size())] = value;
  }
  return out;
}

std::string StreamsConfig::dump() const {
  std::string out = "Streams configuration:\n";
  for (const auto& definition : definitions()) {
    const std::string_view name = definition.name;
    if (!contains(name)) {
      out += fmt::format("  {} = (not set)\n", name);
    } else {
      out += fmt::format("  {} = {}{}\n", name, printable_value(name, get_string(name)),
                         is_set_by_user(name) ? "" : " (default)");
    }
  }
  std::string clients;
  std::string topics;
  for (const auto& [key, value] : values_) {
    if (find_definition(key) != nullptr) continue;
    std::string& section = is_internal_topic_key(key) ? topics : clients;
    section += fmt::format("  {} = {}\n", key, printable_value(key, value));
  }
  if (!clients.empty()) out += "librdkafka settings:\n" + clients;
  if (!topics.empty()) out += "Internal topic settings:\n" + topics;
  return out;
}

std::string StreamsConfig::to_string() const {
  std::vector<std::string> entries;
  for (const auto& [key, value] : values_) {
    entries.push_back(fmt::format("{}={}", key, printable_value(key, value)));
  }
  return fmt::format("StreamsConfig{{{}}}", fmt::join(entries, ", "));
}

}  // namespace rivulet
