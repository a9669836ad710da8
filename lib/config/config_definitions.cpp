// The table of Streams keys. docs/configuration.md mirrors it (a test keeps the two in sync).
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "config/config_internal.h"

namespace rivulet {

std::string_view to_string(ConfigType type) {
  switch (type) {
    case ConfigType::string:
      return "string";
    case ConfigType::int32:
      return "int";
    case ConfigType::int64:
      return "long";
    case ConfigType::boolean:
      return "bool";
    case ConfigType::list:
      return "list";
    case ConfigType::enumeration:
      return "enum";
    case ConfigType::milliseconds:
      return "milliseconds";
  }
  return "unknown";
}

namespace config_detail {
namespace {

constexpr std::int64_t kIntMax = std::numeric_limits<std::int32_t>::max();

constexpr std::array<std::string_view, 2> kGuarantees{"at_least_once", "exactly_once_v2"};
constexpr std::array<std::string_view, 2> kLogAndFailOrContinue{"log_and_fail", "log_and_continue"};
constexpr std::array<std::string_view, 2> kFailOrContinue{"fail", "continue"};
constexpr std::array<std::string_view, 4> kTimestampExtractors{
    "record", "log_and_skip_on_invalid_timestamp", "use_previous_on_invalid_timestamp",
    "wall_clock"};
constexpr std::array<std::string_view, 2> kOptimizations{"none", "all"};
constexpr std::array<std::string_view, 3> kRecordingLevels{"INFO", "DEBUG", "TRACE"};
constexpr std::array<std::string_view, 2> kDslStores{"rocksDB", "in_memory"};

// THE table. Keep docs/configuration.md in step (ConfigDocsTest prints the expected table).
// The allowed values of an enumeration are in the order of the matching C++ enum's enumerators.
// Entries name only the fields that differ from ConfigDefinition's defaults.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
constexpr std::array kDefinitions{
    ConfigDefinition{
        .name = "application.id",
        .type = ConfigType::string,
        .default_value = std::nullopt,
        .required = true,
        .doc = "Identifies the application: the consumer group id, and the prefix of internal "
               "topic names and of the state directory. Only letters, digits, '.', '_' and '-'.",
    },
    ConfigDefinition{
        .name = "bootstrap.servers",
        .type = ConfigType::list,
        .default_value = std::nullopt,
        .doc = "Brokers to connect to first, as host:port pairs. Required to run against a "
               "cluster (validate_for_runtime()); the test driver does without.",
    },
    ConfigDefinition{
        .name = "application.server",
        .type = ConfigType::string,
        .default_value = "",
        .doc = "host:port of this instance's HTTP endpoint (interactive queries, /metrics, "
               "/health, /ready, /topology), as the other instances reach it; empty for none. "
               "Port 0 binds any free port (for tests; other instances cannot reach it).",
    },
    ConfigDefinition{
        .name = "http.bind.address",
        .type = ConfigType::string,
        .default_value = "",
        .doc = "Address the HTTP endpoint listens on; empty uses the host of application.server "
               "(set 0.0.0.0 in a container whose application.server names the container).",
    },
    ConfigDefinition{
        .name = "http.threads",
        .type = ConfigType::int32,
        .default_value = "1",
        .min_value = 1,
        .max_value = 64,
        .doc = "I/O threads of the HTTP endpoint. Store reads run on the stream threads.",
    },
    ConfigDefinition{
        .name = "http.max.connections",
        .type = ConfigType::int32,
        .default_value = "256",
        .min_value = 1,
        .doc = "Open HTTP connections at most; a connection beyond gets 503 and is closed.",
    },
    ConfigDefinition{
        .name = "http.request.timeout.ms",
        .type = ConfigType::milliseconds,
        .default_value = "10000",
        .min_value = 1,
        .doc = "Time a client has to send a whole request once it started (else 408 and the "
               "connection is closed), and to take a response.",
    },
    ConfigDefinition{
        .name = "http.auth.token",
        .type = ConfigType::string,
        .default_value = "",
        .doc = "When set, every HTTP request except /health and /ready needs the header "
               "'Authorization: Bearer <token>' (else 401). Instances forward it to each other.",
    },
    ConfigDefinition{
        .name = "client.id",
        .type = ConfigType::string,
        .default_value = "",
        .doc = "Prefix of the client.id of every client Rivulet creates; empty uses "
               "application.id.",
    },
    ConfigDefinition{
        .name = "num.stream.threads",
        .type = ConfigType::int32,
        .default_value = "1",
        .min_value = 1,
        .max_value = kIntMax,
        .doc = "Number of stream threads that process tasks.",
    },
    ConfigDefinition{
        .name = "processing.guarantee",
        .type = ConfigType::enumeration,
        .default_value = "at_least_once",
        .allowed_values = kGuarantees,
        .doc = "at_least_once, or exactly_once_v2 (transactions; brokers 2.5 or newer). The "
               "deprecated exactly_once and exactly_once_beta are rejected.",
    },
    ConfigDefinition{
        .name = "commit.interval.ms",
        .type = ConfigType::milliseconds,
        .default_value = "30000",
        .min_value = 0,
        .doc = "How often to commit offsets and flush state stores. Defaults to 100 under "
               "exactly_once_v2 when not set.",
    },
    ConfigDefinition{
        .name = "poll.ms",
        .type = ConfigType::milliseconds,
        .default_value = "100",
        .min_value = 0,
        .doc = "Longest time a stream thread blocks waiting for records.",
    },
    ConfigDefinition{
        .name = "buffered.records.per.partition",
        .type = ConfigType::int32,
        .default_value = "1000",
        .min_value = 1,
        .max_value = kIntMax,
        .doc = "Records buffered per input partition before the partition is paused.",
    },
    ConfigDefinition{
        .name = "max.task.idle.ms",
        .type = ConfigType::milliseconds,
        .default_value = "0",
        .min_value = -1,
        .doc = "How long a task waits for data on an empty input partition before processing "
               "its other inputs out of timestamp order; 0 and -1 never wait (Rivulet does not "
               "yet check the empty partition's lag on the broker, as Kafka Streams does for 0).",
    },
    ConfigDefinition{
        .name = "task.timeout.ms",
        .type = ConfigType::milliseconds,
        .default_value = "300000",
        .min_value = 0,
        .doc = "How long a task may keep failing with timeouts (e.g. an unavailable broker) "
               "before the error is fatal; 0 fails at the first one.",
    },
    ConfigDefinition{
        .name = "default.api.timeout.ms",
        .type = ConfigType::milliseconds,
        .default_value = "60000",
        .min_value = 1,
        .doc = "How long start-up checks, topic creation, commits and flushes may wait for the "
               "cluster before they fail with an error naming the cluster.",
    },
    ConfigDefinition{
        .name = "state.dir",
        .type = ConfigType::string,
        .default_value = "/tmp/rivulet",
        .doc = "Directory for local state; each application gets a subdirectory named after "
               "application.id.",
    },
    ConfigDefinition{
        .name = "state.cleanup.delay.ms",
        .type = ConfigType::milliseconds,
        .default_value = "600000",
        .min_value = 0,
        .doc = "How long the state of a task that moved to another instance is kept before it "
               "is deleted.",
    },
    ConfigDefinition{
        .name = "statestore.cache.max.bytes",
        .type = ConfigType::int64,
        .default_value = "10485760",
        .min_value = 0,
        .deprecated_alias = "cache.max.bytes.buffering",
        .doc = "Bytes of record cache shared by all threads; 0 disables caching, so every update "
               "is forwarded downstream.",
    },
    ConfigDefinition{
        .name = "state.memory.max.bytes",
        .type = ConfigType::int64,
        .default_value = "268435456",
        .min_value = 0,
        .doc = "One memory budget for all local state of the process: the record caches "
               "(statestore.cache.max.bytes, taken from the budget) and RocksDB's block cache and "
               "memtables (the rest, shared by every store). 0 lifts the bound: each RocksDB store "
               "then uses its own default cache.",
    },
    ConfigDefinition{
        .name = "rocksdb.config",
        .type = ConfigType::string,
        .default_value = "",
        .doc = "RocksDB options applied to every persistent store, as a RocksDB options string "
               "(\"write_buffer_size=8388608;max_write_buffer_number=2\").",
    },
    ConfigDefinition{
        .name = "num.standby.replicas",
        .type = ConfigType::int32,
        .default_value = "0",
        .min_value = 0,
        .max_value = kIntMax,
        .doc = "Number of standby replicas kept for each stateful task.",
    },
    ConfigDefinition{
        .name = "replication.factor",
        .type = ConfigType::int32,
        .default_value = "-1",
        .min_value = -1,
        .max_value = kIntMax,
        .doc = "Replication factor of the internal topics Rivulet creates; -1 uses the broker's "
               "default.replication.factor (0 is rejected).",
    },
    ConfigDefinition{
        .name = "default.deserialization.exception.handler",
        .type = ConfigType::enumeration,
        .default_value = "log_and_fail",
        .allowed_values = kLogAndFailOrContinue,
        .doc = "A record that does not deserialize: log_and_fail stops processing, "
               "log_and_continue logs and skips it.",
    },
    ConfigDefinition{
        .name = "default.production.exception.handler",
        .type = ConfigType::enumeration,
        .default_value = "fail",
        .allowed_values = kFailOrContinue,
        .doc = "A record that cannot be produced: fail stops processing, continue drops it.",
    },
    ConfigDefinition{
        .name = "processing.exception.handler",
        .type = ConfigType::enumeration,
        .default_value = "log_and_fail",
        .allowed_values = kLogAndFailOrContinue,
        .doc = "A processor throws on a record: log_and_fail stops processing, log_and_continue "
               "logs and skips the record.",
    },
    ConfigDefinition{
        .name = "errors.dead.letter.queue.topic.name",
        .type = ConfigType::string,
        .default_value = "",
        .doc = "Topic that the exception handlers send the records they skip to; empty for none.",
    },
    ConfigDefinition{
        .name = "errors.dead.letter.queue.late.records",
        .type = ConfigType::boolean,
        .default_value = "false",
        .doc = "Whether records that arrive after their window closed (past the grace period) "
               "also go to the dead-letter topic; they are dropped and counted either way.",
    },
    ConfigDefinition{
        .name = "default.timestamp.extractor",
        .type = ConfigType::enumeration,
        .default_value = "record",
        .allowed_values = kTimestampExtractors,
        .doc = "Where stream time comes from: the record's timestamp (a negative one fails), "
               "the same but skipping or replacing invalid ones, or the wall clock.",
    },
    ConfigDefinition{
        .name = "topology.optimization",
        .type = ConfigType::enumeration,
        .default_value = "none",
        .allowed_values = kOptimizations,
        .doc = "Whether the DSL rewrites the topology (reusing source topics as changelogs, "
               "merging repartition topics).",
    },
    ConfigDefinition{
        .name = "metrics.recording.level",
        .type = ConfigType::enumeration,
        .default_value = "INFO",
        .allowed_values = kRecordingLevels,
        .doc = "Finest level of metrics recorded.",
    },
    ConfigDefinition{
        .name = "default.dsl.store",
        .type = ConfigType::enumeration,
        .default_value = "rocksDB",
        .allowed_values = kDslStores,
        .doc = "Store type the DSL uses when an operator does not say.",
    },
};
#pragma GCC diagnostic pop

constexpr std::array kJavaClassAliases{
    JavaClassAlias{"default.deserialization.exception.handler",
                   "org.apache.kafka.streams.errors.LogAndFailExceptionHandler", "log_and_fail"},
    JavaClassAlias{"default.deserialization.exception.handler",
                   "org.apache.kafka.streams.errors.LogAndContinueExceptionHandler",
                   "log_and_continue"},
    JavaClassAlias{"default.production.exception.handler",
                   "org.apache.kafka.streams.errors.DefaultProductionExceptionHandler", "fail"},
    JavaClassAlias{"processing.exception.handler",
                   "org.apache.kafka.streams.errors.LogAndFailProcessingExceptionHandler",
                   "log_and_fail"},
    JavaClassAlias{"processing.exception.handler",
                   "org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler",
                   "log_and_continue"},
    JavaClassAlias{"default.timestamp.extractor",
                   "org.apache.kafka.streams.processor.FailOnInvalidTimestamp", "record"},
    JavaClassAlias{"default.timestamp.extractor",
                   "org.apache.kafka.streams.processor.LogAndSkipOnInvalidTimestamp",
                   "log_and_skip_on_invalid_timestamp"},
    JavaClassAlias{"default.timestamp.extractor",
                   "org.apache.kafka.streams.processor.UsePartitionTimeOnInvalidTimestamp",
                   "use_previous_on_invalid_timestamp"},
    JavaClassAlias{"default.timestamp.extractor",
                   "org.apache.kafka.streams.processor.UsePreviousTimeOnInvalidTimestamp",
                   "use_previous_on_invalid_timestamp"},
    JavaClassAlias{"default.timestamp.extractor",
                   "org.apache.kafka.streams.processor.WallclockTimestampExtractor", "wall_clock"},
};

constexpr std::string_view kDeprecatedEos =
    "is deprecated in Kafka Streams (removed in 4.0) and not supported by Rivulet; use "
    "'exactly_once_v2'";

constexpr std::array kRejectedValues{
    RejectedValue{"processing.guarantee", "exactly_once", kDeprecatedEos},
    RejectedValue{"processing.guarantee", "exactly_once_beta", kDeprecatedEos},
};

// Java Kafka Streams keys that have no meaning in Rivulet.
constexpr std::array<std::string_view, 5> kSerdeKeys{
    "default.key.serde", "default.value.serde", "default.windowed.key.serde.inner",
    "default.windowed.value.serde.inner", "windowed.inner.class.serde"};
constexpr std::array<std::string_view, 4> kJavaClientSerdeKeys{
    "key.serializer", "value.serializer", "key.deserializer", "value.deserializer"};

std::string markdown_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

const ConfigDefinition* find_definition(std::string_view key) {
  for (const auto& definition : kDefinitions) {
    if (definition.name == key ||
        (!definition.deprecated_alias.empty() && definition.deprecated_alias == key)) {
      return &definition;
    }
  }
  return nullptr;
}

std::span<const JavaClassAlias> java_class_aliases() {
  return kJavaClassAliases;
}

std::span<const RejectedValue> rejected_values() {
  return kRejectedValues;
}

std::optional<std::string> forbidden_key_reason(std::string_view full_key, std::string_view key) {
  for (auto serde_key : kSerdeKeys) {
    if (key == serde_key) {
      return fmt::format(
          "'{}' is a Java Kafka Streams setting with no meaning in Rivulet: Rivulet chooses "
          "serdes by type (DefaultSerde<T>), or takes them explicitly from Consumed, Produced, "
          "Grouped and Materialized",
          full_key);
    }
  }
  for (auto serde_key : kJavaClientSerdeKeys) {
    if (key == serde_key) {
      return fmt::format(
          "'{}' is a Java Kafka client setting with no meaning in Rivulet: Rivulet's clients "
          "exchange bytes, and serdes are chosen by type (DefaultSerde<T>) or taken from "
          "Consumed and Produced",
          full_key);
    }
  }
  if (key == "group.id") {
    return fmt::format("'{}' cannot be set: Rivulet uses application.id as the consumer group id",
                       full_key);
  }
  if (key == "enable.auto.commit") {
    return fmt::format(
        "'{}' cannot be set: Rivulet commits offsets itself, every commit.interval.ms", full_key);
  }
  if (key == "transactional.id") {
    return fmt::format(
        "'{}' cannot be set: under exactly_once_v2 Rivulet gives each stream thread's producer "
        "its own transactional.id",
        full_key);
  }
  return std::nullopt;
}

std::string markdown_table() {
  std::string out =
      "| Key | Type | Default | Valid values | Description |\n"
      "|-----|------|---------|--------------|-------------|\n";
  for (const auto& definition : kDefinitions) {
    std::string name = fmt::format("`{}`", definition.name);
    if (!definition.deprecated_alias.empty()) {
      name += fmt::format(" (deprecated alias: `{}`)", definition.deprecated_alias);
    }
    std::string default_text;
    if (!definition.default_value) {
      default_text = definition.required ? "required" : "none";
    } else if (definition.default_value->empty()) {
      default_text = "\"\"";
    } else {
      default_text = fmt::format("`{}`", *definition.default_value);
    }
    std::string valid;
    if (definition.type == ConfigType::enumeration) {
      valid = fmt::format("`{}`", fmt::join(definition.allowed_values, "`, `"));
    } else if (definition.min_value != std::numeric_limits<std::int64_t>::min()) {
      valid = fmt::format(">= {}", definition.min_value);
    }
    out += fmt::format("| {} | {} | {} | {} | {} |\n", name, to_string(definition.type),
                       default_text, valid, markdown_escape(definition.doc));
  }
  return out;
}

}  // namespace config_detail

std::span<const ConfigDefinition> StreamsConfig::definitions() {
  return config_detail::kDefinitions;
}

}  // namespace rivulet
