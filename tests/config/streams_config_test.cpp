// StreamsConfig: Streams keys, defaults, typed and generic access, and every error path.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/errors.h>
#include <rivulet/streams_config.h>

#include "config/config_internal.h"
#include "rivulet_test_helpers.h"

namespace rivulet {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;

// The message of the ConfigException that `action` throws; fails the test if it throws another
// exception or none.
template <class Action>
std::string config_error(Action&& action) {
  return rivulet::test::message_of<ConfigException>(std::forward<Action>(action));
}

TEST(StreamsConfigTest, DefaultsMatchKafkaStreams) {
  const StreamsConfig config;
  EXPECT_TRUE(config.bootstrap_servers().empty());
  EXPECT_EQ(config.application_server(), "");
  EXPECT_EQ(config.client_id(), "");
  EXPECT_EQ(config.num_stream_threads(), 1);
  EXPECT_EQ(config.processing_guarantee(), ProcessingGuarantee::at_least_once);
  EXPECT_FALSE(config.exactly_once());
  EXPECT_EQ(config.commit_interval(), milliseconds(30000));
  EXPECT_EQ(config.poll_timeout(), milliseconds(100));
  EXPECT_EQ(config.buffered_records_per_partition(), 1000);
  EXPECT_EQ(config.max_task_idle(), milliseconds(0));
  EXPECT_EQ(config.task_timeout(), milliseconds(300000));
  EXPECT_EQ(config.state_dir(), std::filesystem::path("/tmp/rivulet"));
  EXPECT_EQ(config.state_cleanup_delay(), milliseconds(600000));
  EXPECT_EQ(config.statestore_cache_max_bytes(), 10485760);
  EXPECT_EQ(config.num_standby_replicas(), 0);
  EXPECT_EQ(config.replication_factor(), -1);
  EXPECT_EQ(config.deserialization_handler(), DeserializationHandler::log_and_fail);
  EXPECT_EQ(config.production_handler(), ProductionHandler::fail);
  EXPECT_EQ(config.processing_handler(), ProcessingHandler::log_and_fail);
  EXPECT_EQ(config.dead_letter_queue_topic(), std::nullopt);
  EXPECT_EQ(config.default_timestamp_extractor(), TimestampExtractorKind::record);
  EXPECT_EQ(config.topology_optimization(), TopologyOptimization::none);
  EXPECT_EQ(config.metrics_recording_level(), MetricsRecordingLevel::info);
  EXPECT_EQ(config.default_dsl_store(), DslStoreType::rocks_db);
}

TEST(StreamsConfigTest, DefinitionsListTheRequiredKeysWithTypesAndDefaults) {
  const auto definitions = StreamsConfig::definitions();
  const auto find = [&](std::string_view name) -> const ConfigDefinition* {
    const auto found =
        std::find_if(definitions.begin(), definitions.end(),
                     [&](const auto& definition) { return definition.name == name; });
    return found == definitions.end() ? nullptr : &*found;
  };
  for (std::string_view name : {"application.id",
                                "bootstrap.servers",
                                "application.server",
                                "client.id",
                                "num.stream.threads",
                                "processing.guarantee",
                                "commit.interval.ms",
                                "poll.ms",
                                "buffered.records.per.partition",
                                "max.task.idle.ms",
                                "task.timeout.ms",
                                "state.dir",
                                "state.cleanup.delay.ms",
                                "statestore.cache.max.bytes",
                                "num.standby.replicas",
                                "replication.factor",
                                "default.deserialization.exception.handler",
                                "default.production.exception.handler",
                                "processing.exception.handler",
                                "errors.dead.letter.queue.topic.name",
                                "default.timestamp.extractor",
                                "topology.optimization",
                                "metrics.recording.level",
                                "default.dsl.store"}) {
    const ConfigDefinition* definition = find(name);
    ASSERT_NE(definition, nullptr) << name;
    EXPECT_FALSE(definition->doc.empty()) << name;
  }
  EXPECT_TRUE(find("application.id")->required);
  EXPECT_FALSE(find("application.id")->default_value.has_value());
  EXPECT_EQ(find("bootstrap.servers")->type, ConfigType::list);
  EXPECT_FALSE(find("bootstrap.servers")->default_value.has_value());
  EXPECT_EQ(find("num.stream.threads")->type, ConfigType::int32);
  EXPECT_EQ(find("num.stream.threads")->min_value, 1);
  EXPECT_EQ(find("commit.interval.ms")->type, ConfigType::milliseconds);
  EXPECT_EQ(find("commit.interval.ms")->default_value, "30000");
  EXPECT_EQ(find("statestore.cache.max.bytes")->type, ConfigType::int64);
  EXPECT_EQ(find("statestore.cache.max.bytes")->deprecated_alias, "cache.max.bytes.buffering");
  EXPECT_EQ(find("processing.guarantee")->type, ConfigType::enumeration);
  EXPECT_THAT(std::vector<std::string_view>(find("processing.guarantee")->allowed_values.begin(),
                                            find("processing.guarantee")->allowed_values.end()),
              ::testing::ElementsAre("at_least_once", "exactly_once_v2"));
  EXPECT_EQ(find("default.key.serde"), nullptr);
}

TEST(StreamsConfigTest, EveryEnumValueMapsToTheMatchingEnumerator) {
  StreamsConfig config;
  config.set("processing.guarantee", "exactly_once_v2");
  EXPECT_EQ(config.processing_guarantee(), ProcessingGuarantee::exactly_once_v2);
  config.set("default.deserialization.exception.handler", "log_and_continue");
  EXPECT_EQ(config.deserialization_handler(), DeserializationHandler::log_and_continue);
  config.set("default.production.exception.handler", "continue");
  EXPECT_EQ(config.production_handler(), ProductionHandler::continue_processing);
  config.set("processing.exception.handler", "log_and_continue");
  EXPECT_EQ(config.processing_handler(), ProcessingHandler::log_and_continue);
  config.set("default.timestamp.extractor", "log_and_skip_on_invalid_timestamp");
  EXPECT_EQ(config.default_timestamp_extractor(),
            TimestampExtractorKind::log_and_skip_on_invalid_timestamp);
  config.set("default.timestamp.extractor", "use_previous_on_invalid_timestamp");
  EXPECT_EQ(config.default_timestamp_extractor(),
            TimestampExtractorKind::use_previous_on_invalid_timestamp);
  config.set("default.timestamp.extractor", "wall_clock");
  EXPECT_EQ(config.default_timestamp_extractor(), TimestampExtractorKind::wall_clock);
  config.set("topology.optimization", "all");
  EXPECT_EQ(config.topology_optimization(), TopologyOptimization::all);
  config.set("metrics.recording.level", "DEBUG");
  EXPECT_EQ(config.metrics_recording_level(), MetricsRecordingLevel::debug);
  config.set("metrics.recording.level", "TRACE");
  EXPECT_EQ(config.metrics_recording_level(), MetricsRecordingLevel::trace);
  config.set("default.dsl.store", "in_memory");
  EXPECT_EQ(config.default_dsl_store(), DslStoreType::in_memory);
}

TEST(StreamsConfigTest, CommitIntervalDefaultsTo100UnderExactlyOnce) {
  StreamsConfig config;
  config.set("processing.guarantee", "exactly_once_v2");
  EXPECT_EQ(config.commit_interval(), milliseconds(100));
  EXPECT_EQ(config.get_string("commit.interval.ms"), "100");
  EXPECT_FALSE(config.is_set_by_user("commit.interval.ms"));
}

TEST(StreamsConfigTest, ExplicitCommitIntervalWinsUnderExactlyOnceInEitherOrder) {
  StreamsConfig before;
  before.set("commit.interval.ms", 5000).set("processing.guarantee", "exactly_once_v2");
  EXPECT_EQ(before.commit_interval(), milliseconds(5000));

  StreamsConfig after;
  after.set("processing.guarantee", "exactly_once_v2")
      .set("commit.interval.ms", milliseconds(30000));
  EXPECT_EQ(after.commit_interval(), milliseconds(30000));
}

TEST(StreamsConfigTest, SetOverloadsStoreTheirValues) {
  StreamsConfig config;
  config
      .set("num.stream.threads", 4)                              // int
      .set("statestore.cache.max.bytes", std::int64_t{1} << 40)  // int64
      .set("poll.ms", milliseconds(250))                         // duration
      .set("task.timeout.ms", std::chrono::seconds(2))           // converts to ms
      .set("application.id", "orders")                           // const char*
      .set("state.dir", std::string("/var/lib/rivulet"))         // std::string
      .set("enable.idempotence", true)                           // bool
      .set("client.id", std::string_view("orders-client"));      // string_view
  EXPECT_EQ(config.num_stream_threads(), 4);
  EXPECT_EQ(config.statestore_cache_max_bytes(), std::int64_t{1} << 40);
  EXPECT_EQ(config.poll_timeout(), milliseconds(250));
  EXPECT_EQ(config.task_timeout(), milliseconds(2000));
  EXPECT_EQ(config.application_id(), "orders");
  EXPECT_EQ(config.state_dir(), std::filesystem::path("/var/lib/rivulet"));
  EXPECT_EQ(config.get_string("enable.idempotence"), "true");
  EXPECT_TRUE(config.get_bool("enable.idempotence"));
  EXPECT_EQ(config.client_id(), "orders-client");
}

TEST(StreamsConfigTest, InitializerListConstructorSetsEachPairInOrder) {
  const StreamsConfig config{{"application.id", "app"},
                             {"bootstrap.servers", "broker:9092"},
                             {"num.stream.threads", "2"},
                             {"num.stream.threads", "3"}};
  EXPECT_EQ(config.application_id(), "app");
  EXPECT_THAT(config.bootstrap_servers(), ::testing::ElementsAre("broker:9092"));
  EXPECT_EQ(config.num_stream_threads(), 3);
}

TEST(StreamsConfigTest, InitializerListConstructorThrowsOnABadPair) {
  const auto message = config_error([] {
    StreamsConfig config{{"application.id", "app"}, {"poll.ms", "soon"}};
  });
  EXPECT_THAT(message, HasSubstr("'poll.ms'"));
}

TEST(StreamsConfigTest, LaterSetOverridesEarlier) {
  StreamsConfig config;
  config.set("num.stream.threads", 2);
  config.set("num.stream.threads", "5");
  EXPECT_EQ(config.num_stream_threads(), 5);
}

TEST(StreamsConfigTest, NumbersAreTrimmedAndNormalised) {
  StreamsConfig config;
  config.set("num.stream.threads", " +7 ");
  EXPECT_EQ(config.get_string("num.stream.threads"), "7");
  EXPECT_THROW(config.set("max.task.idle.ms", "+-1"), ConfigException);
  EXPECT_THROW(config.set("num.stream.threads", "7.0"), ConfigException);
}

TEST(StreamsConfigTest, UnknownKeySuggestsTheClosestKey) {
  const auto message = config_error([] { StreamsConfig().set("num.stream.thread", "2"); });
  EXPECT_THAT(message, HasSubstr("unknown configuration key 'num.stream.thread'; did you mean "
                                 "'num.stream.threads'?"));
  EXPECT_THAT(message, HasSubstr("neither a Streams key"));
  EXPECT_THAT(message, HasSubstr("nor a librdkafka property"));
  EXPECT_THAT(message, HasSubstr("No such configuration property"));  // librdkafka's errstr
}

TEST(StreamsConfigTest, UnknownKeySuggestsATransposedKey) {
  const auto message = config_error([] { StreamsConfig().set("commit.intervla.ms", "2"); });
  EXPECT_THAT(message, HasSubstr("did you mean 'commit.interval.ms'?"));
}

TEST(StreamsConfigTest, UnknownKeySuggestsTheDeprecatedAliasSpelling) {
  const auto message = config_error([] { StreamsConfig().set("cache.max.byte.buffering", "1"); });
  EXPECT_THAT(message, HasSubstr("did you mean 'cache.max.bytes.buffering'?"));
}

TEST(StreamsConfigTest, UnknownKeyFarFromEveryKeyHasNoSuggestion) {
  const auto message = config_error([] { StreamsConfig().set("completely.made.up", "1"); });
  EXPECT_THAT(message, HasSubstr("unknown configuration key 'completely.made.up'. It is neither "
                                 "a Streams key"));
  EXPECT_THAT(message, Not(HasSubstr("did you mean")));
}

TEST(StreamsConfigTest, EmptyKeyIsRejected) {
  EXPECT_THAT(config_error([] { StreamsConfig().set("", "1"); }), HasSubstr("must not be empty"));
}

TEST(StreamsConfigTest, NonNumericIntNamesKeyValueAndType) {
  const auto message = config_error([] { StreamsConfig().set("num.stream.threads", "two"); });
  EXPECT_THAT(message, HasSubstr("invalid value 'two' for configuration key 'num.stream.threads'"));
  EXPECT_THAT(message, HasSubstr("expected type int"));
}

TEST(StreamsConfigTest, NonNumericMillisecondsNamesType) {
  const auto message = config_error([] { StreamsConfig().set("commit.interval.ms", "30s"); });
  EXPECT_THAT(message, HasSubstr("invalid value '30s' for configuration key 'commit.interval.ms'"));
  EXPECT_THAT(message, HasSubstr("expected type milliseconds"));
}

TEST(StreamsConfigTest, OutOfRangeIntNamesTheBound) {
  const auto message = config_error([] { StreamsConfig().set("num.stream.threads", 0); });
  EXPECT_THAT(message, HasSubstr("invalid value '0' for configuration key 'num.stream.threads'"));
  EXPECT_THAT(message, HasSubstr("expected type int"));
  EXPECT_THAT(message, HasSubstr("at least 1"));
}

TEST(StreamsConfigTest, IntBeyond32BitsIsOutOfRange) {
  const auto message =
      config_error([] { StreamsConfig().set("num.standby.replicas", "3000000000"); });
  EXPECT_THAT(message, HasSubstr("'3000000000'"));
  EXPECT_THAT(message, HasSubstr("expected type int (a whole number, 32-bit)"));
}

TEST(StreamsConfigTest, LongBeyond64BitsIsRejected) {
  const auto message = config_error(
      [] { StreamsConfig().set("statestore.cache.max.bytes", "99999999999999999999"); });
  EXPECT_THAT(message, HasSubstr("expected type long"));
}

TEST(StreamsConfigTest, MaxTaskIdleAcceptsMinusOneButNotLess) {
  StreamsConfig config;
  config.set("max.task.idle.ms", -1);
  EXPECT_EQ(config.max_task_idle(), milliseconds(-1));
  EXPECT_THAT(config_error([&] { config.set("max.task.idle.ms", -2); }), HasSubstr("at least -1"));
}

TEST(StreamsConfigTest, ReplicationFactorAcceptsMinusOneAndPositiveButNotZero) {
  StreamsConfig config;
  config.set("replication.factor", 3);
  EXPECT_EQ(config.replication_factor(), 3);
  config.set("replication.factor", -1);
  EXPECT_EQ(config.replication_factor(), -1);
  const auto message = config_error([&] { config.set("replication.factor", 0); });
  EXPECT_THAT(message, HasSubstr("invalid value '0' for configuration key 'replication.factor'"));
  EXPECT_THAT(message, HasSubstr("-1 (the broker's default) or at least 1"));
}

TEST(StreamsConfigTest, BadEnumValueListsAcceptedValues) {
  const auto message = config_error([] { StreamsConfig().set("topology.optimization", "some"); });
  EXPECT_THAT(message,
              HasSubstr("invalid value 'some' for configuration key 'topology.optimization'"));
  EXPECT_THAT(message, HasSubstr("expected type enum, one of: none, all"));

  const auto handler = config_error(
      [] { StreamsConfig().set("default.deserialization.exception.handler", "ignore"); });
  EXPECT_THAT(handler, HasSubstr("one of: log_and_fail, log_and_continue"));
  EXPECT_THAT(handler, HasSubstr("Java class name"));
}

TEST(StreamsConfigTest, EnumValuesAreCaseInsensitiveAndStoredCanonically) {
  StreamsConfig config;
  config.set("processing.guarantee", "EXACTLY_ONCE_V2");
  config.set("metrics.recording.level", "debug");
  config.set("default.dsl.store", "ROCKSDB");
  EXPECT_EQ(config.get_string("processing.guarantee"), "exactly_once_v2");
  EXPECT_EQ(config.get_string("metrics.recording.level"), "DEBUG");
  EXPECT_EQ(config.get_string("default.dsl.store"), "rocksDB");
}

TEST(StreamsConfigTest, JavaClassNamesAreNormalised) {
  StreamsConfig config;
  config.set("default.deserialization.exception.handler",
             "org.apache.kafka.streams.errors.LogAndContinueExceptionHandler");
  EXPECT_EQ(config.get_string("default.deserialization.exception.handler"), "log_and_continue");
  EXPECT_EQ(config.deserialization_handler(), DeserializationHandler::log_and_continue);
  config.set("default.deserialization.exception.handler", "LogAndFailExceptionHandler");
  EXPECT_EQ(config.deserialization_handler(), DeserializationHandler::log_and_fail);

  config.set("default.production.exception.handler",
             "org.apache.kafka.streams.errors.DefaultProductionExceptionHandler");
  EXPECT_EQ(config.get_string("default.production.exception.handler"), "fail");

  config.set("processing.exception.handler",
             "org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler");
  EXPECT_EQ(config.processing_handler(), ProcessingHandler::log_and_continue);

  const std::vector<std::pair<std::string, std::string>> extractors{
      {"org.apache.kafka.streams.processor.WallclockTimestampExtractor", "wall_clock"},
      {"org.apache.kafka.streams.processor.FailOnInvalidTimestamp", "record"},
      {"LogAndSkipOnInvalidTimestamp", "log_and_skip_on_invalid_timestamp"},
      {"org.apache.kafka.streams.processor.UsePartitionTimeOnInvalidTimestamp",
       "use_previous_on_invalid_timestamp"},
      {"UsePreviousTimeOnInvalidTimestamp", "use_previous_on_invalid_timestamp"},
  };
  for (const auto& [java_class, value] : extractors) {
    config.set("default.timestamp.extractor", java_class);
    EXPECT_EQ(config.get_string("default.timestamp.extractor"), value) << java_class;
  }
}

TEST(StreamsConfigTest, JavaClassNameOfAnotherKeyIsRejected) {
  const auto message = config_error([] {
    StreamsConfig().set("processing.exception.handler",
                        "org.apache.kafka.streams.processor.WallclockTimestampExtractor");
  });
  EXPECT_THAT(message, HasSubstr("one of: log_and_fail, log_and_continue"));
}

TEST(StreamsConfigTest, DeprecatedExactlyOnceValuesAreRejectedWithAdvice) {
  for (const char* value : {"exactly_once", "exactly_once_beta"}) {
    const auto message = config_error([&] { StreamsConfig().set("processing.guarantee", value); });
    EXPECT_THAT(message, HasSubstr(std::string("invalid value '") + value +
                                   "' for configuration key 'processing.guarantee'"));
    EXPECT_THAT(message, HasSubstr("deprecated in Kafka Streams"));
    EXPECT_THAT(message, HasSubstr("use 'exactly_once_v2'"));
  }
}

TEST(StreamsConfigTest, JavaSerdeKeysAreRejectedWithExplanation) {
  for (const char* key : {"default.key.serde", "default.value.serde"}) {
    const auto message = config_error([&] {
      StreamsConfig().set(key, "org.apache.kafka.common.serialization.Serdes$StringSerde");
    });
    EXPECT_THAT(message, HasSubstr(std::string("'") + key + "'"));
    EXPECT_THAT(message, HasSubstr("no meaning in Rivulet"));
    EXPECT_THAT(message, HasSubstr("chooses serdes by type"));
    EXPECT_THAT(message, HasSubstr("Consumed"));
    EXPECT_THAT(message, HasSubstr("Produced"));
  }
}

TEST(StreamsConfigTest, JavaClientSerializerKeysAreRejectedWithExplanation) {
  const auto message = config_error([] {
    StreamsConfig().set("consumer.key.deserializer",
                        "org.apache.kafka.common.serialization.StringDeserializer");
  });
  EXPECT_THAT(message, HasSubstr("'consumer.key.deserializer'"));
  EXPECT_THAT(message, HasSubstr("serdes are chosen by type"));
}

TEST(StreamsConfigTest, KeysRivuletSetsItselfAreRejected) {
  EXPECT_THAT(config_error([] { StreamsConfig().set("group.id", "g"); }),
              HasSubstr("'group.id' cannot be set: Rivulet uses application.id"));
  EXPECT_THAT(config_error([] { StreamsConfig().set("consumer.enable.auto.commit", "true"); }),
              HasSubstr("'consumer.enable.auto.commit' cannot be set"));
  EXPECT_THAT(config_error([] { StreamsConfig().set("producer.transactional.id", "t"); }),
              HasSubstr("'producer.transactional.id' cannot be set"));
}

TEST(StreamsConfigTest, ApplicationIdMustBeALegalTopicPrefix) {
  StreamsConfig config;
  config.set("application.id", "Orders-v1.2_eu");
  EXPECT_EQ(config.application_id(), "Orders-v1.2_eu");
  for (const char* bad : {"my app", "orders/v1", ""}) {
    const auto message = config_error([&] { config.set("application.id", bad); });
    EXPECT_THAT(message, HasSubstr(std::string("invalid value '") + bad +
                                   "' for configuration key 'application.id'"));
    EXPECT_THAT(message, HasSubstr("letters, digits, '.', '_' or '-'"));
  }
  EXPECT_EQ(config.application_id(), "Orders-v1.2_eu");
}

TEST(StreamsConfigTest, ApplicationServerMustBeHostPortOrEmpty) {
  StreamsConfig config;
  config.set("application.server", "host-1.example.com:8080");
  EXPECT_EQ(config.application_server(), "host-1.example.com:8080");
  config.set("application.server", "");
  EXPECT_EQ(config.application_server(), "");
  config.set("application.server", "127.0.0.1:0");  // any free port
  EXPECT_EQ(config.application_server(), "127.0.0.1:0");
  for (const char* bad : {"host", "host:", ":8080", "host:70000", "host:80x", "host:-1"}) {
    EXPECT_THAT(config_error([&] { config.set("application.server", bad); }),
                HasSubstr("expected host:port"))
        << bad;
  }
}

TEST(StreamsConfigTest, DeadLetterQueueTopicIsOptionalAndMustBeLegal) {
  StreamsConfig config;
  EXPECT_EQ(config.dead_letter_queue_topic(), std::nullopt);
  config.set("errors.dead.letter.queue.topic.name", "orders-dlq");
  EXPECT_EQ(config.dead_letter_queue_topic(), "orders-dlq");
  EXPECT_THAT(config_error([&] { config.set("errors.dead.letter.queue.topic.name", "bad topic"); }),
              HasSubstr("expected a legal Kafka topic name"));
  EXPECT_THAT(config_error([&] { config.set("errors.dead.letter.queue.topic.name", ".."); }),
              HasSubstr("expected a legal Kafka topic name"));
}

TEST(StreamsConfigTest, StateDirMustNotBeEmpty) {
  EXPECT_THAT(config_error([] { StreamsConfig().set("state.dir", ""); }),
              HasSubstr("invalid value '' for configuration key 'state.dir'"));
}

TEST(StreamsConfigTest, BootstrapServersAreTrimmedAndSplit) {
  StreamsConfig config;
  config.set("bootstrap.servers", " a:9092 , b:9093,c ");
  EXPECT_EQ(config.get_string("bootstrap.servers"), "a:9092,b:9093,c");
  EXPECT_THAT(config.bootstrap_servers(), ::testing::ElementsAre("a:9092", "b:9093", "c"));
}

TEST(StreamsConfigTest, BootstrapServersRejectEmptyListsAndEntries) {
  EXPECT_THAT(config_error([] { StreamsConfig().set("bootstrap.servers", "a:1,,b:2"); }),
              HasSubstr("without empty entries"));
  EXPECT_THAT(config_error([] { StreamsConfig().set("bootstrap.servers", " "); }),
              HasSubstr("at least one host:port"));
}

TEST(StreamsConfigTest, DeprecatedCacheAliasSetsTheNewKeyAndWarns) {
  StreamsConfig config;
  config.set("cache.max.bytes.buffering", 1024);
  EXPECT_EQ(config.statestore_cache_max_bytes(), 1024);
  EXPECT_TRUE(config.is_set_by_user("statestore.cache.max.bytes"));
  EXPECT_TRUE(config.is_set_by_user("cache.max.bytes.buffering"));
  EXPECT_EQ(config.get_long("cache.max.bytes.buffering"), 1024);
  ASSERT_EQ(config.warnings().size(), 1U);
  EXPECT_THAT(config.warnings()[0], HasSubstr("'cache.max.bytes.buffering' is deprecated"));
  EXPECT_THAT(config.warnings()[0], HasSubstr("'statestore.cache.max.bytes'"));
  config.set("cache.max.bytes.buffering", 512);  // warned once
  EXPECT_EQ(config.warnings().size(), 1U);
  config.set("statestore.cache.max.bytes", 2048);  // the later setting wins
  EXPECT_EQ(config.statestore_cache_max_bytes(), 2048);
  EXPECT_EQ(config.warnings().size(), 1U);
}

TEST(StreamsConfigTest, DurationOnANonDurationKeyIsRejected) {
  const auto message =
      config_error([] { StreamsConfig().set("num.stream.threads", milliseconds(5)); });
  EXPECT_THAT(message, HasSubstr("'num.stream.threads' is of type int, not milliseconds"));
}

TEST(StreamsConfigTest, BoolOnANumericKeyIsAWrongType) {
  const auto message = config_error([] { StreamsConfig().set("num.stream.threads", true); });
  EXPECT_THAT(message,
              HasSubstr("invalid value 'true' for configuration key 'num.stream.threads'"));
}

TEST(StreamsConfigTest, FailedSetLeavesThePreviousValue) {
  StreamsConfig config;
  config.set("num.stream.threads", 3);
  EXPECT_THROW(config.set("num.stream.threads", "x"), ConfigException);
  EXPECT_EQ(config.num_stream_threads(), 3);
}

TEST(StreamsConfigTest, ValidateRequiresApplicationId) {
  const auto message = config_error([] { StreamsConfig().validate(); });
  EXPECT_THAT(message, HasSubstr("missing required configuration key 'application.id'"));
}

TEST(StreamsConfigTest, ValidateDoesNotRequireBootstrapServers) {
  const StreamsConfig config{{"application.id", "app"}};
  EXPECT_NO_THROW(config.validate());
}

TEST(StreamsConfigTest, ValidateForRuntimeRequiresBootstrapServers) {
  const StreamsConfig config{{"application.id", "app"}};
  const auto message = config_error([&] { config.validate_for_runtime(); });
  EXPECT_THAT(message, HasSubstr("missing required configuration key 'bootstrap.servers'"));
  const StreamsConfig complete{{"application.id", "app"}, {"bootstrap.servers", "b:9092"}};
  EXPECT_NO_THROW(complete.validate_for_runtime());
}

TEST(StreamsConfigTest, ValidateRejectsExactlyOnceWithoutIdempotence) {
  const StreamsConfig config{{"application.id", "app"},
                             {"processing.guarantee", "exactly_once_v2"},
                             {"producer.enable.idempotence", "false"}};
  EXPECT_THAT(config_error([&] { config.validate(); }),
              HasSubstr("exactly_once_v2 needs an idempotent producer"));
}

TEST(StreamsConfigTest, ValidateRejectsExactlyOnceWithReadUncommitted) {
  const StreamsConfig config{{"application.id", "app"},
                             {"processing.guarantee", "exactly_once_v2"},
                             {"isolation.level", "read_uncommitted"}};
  EXPECT_THAT(config_error([&] { config.validate(); }),
              HasSubstr("needs isolation.level=read_committed"));
}

TEST(StreamsConfigTest, GenericGettersReturnEffectiveValues) {
  StreamsConfig config;
  config.set("num.stream.threads", 2).set("fetch.min.bytes", 10).set("enable.idempotence", false);
  EXPECT_EQ(config.get_string("poll.ms"), "100");  // default
  EXPECT_EQ(config.get_long("poll.ms"), 100);
  EXPECT_EQ(config.get_long("num.stream.threads"), 2);
  EXPECT_EQ(config.get_string("processing.guarantee"), "at_least_once");
  EXPECT_EQ(config.get_long("fetch.min.bytes"), 10);  // librdkafka property, as set
  EXPECT_FALSE(config.get_bool("enable.idempotence"));
}

TEST(StreamsConfigTest, ContainsAndIsSetByUserDistinguishDefaults) {
  StreamsConfig config;
  EXPECT_TRUE(config.contains("poll.ms"));
  EXPECT_FALSE(config.is_set_by_user("poll.ms"));
  EXPECT_FALSE(config.contains("application.id"));  // no default
  EXPECT_FALSE(config.contains("bootstrap.servers"));
  EXPECT_FALSE(config.contains("fetch.min.bytes"));
  config.set("poll.ms", 50).set("fetch.min.bytes", 1).set("application.id", "a");
  EXPECT_TRUE(config.is_set_by_user("poll.ms"));
  EXPECT_TRUE(config.contains("fetch.min.bytes"));
  EXPECT_TRUE(config.is_set_by_user("fetch.min.bytes"));
  EXPECT_TRUE(config.contains("application.id"));
}

TEST(StreamsConfigTest, GenericGettersThrowForMissingOrMistypedValues) {
  StreamsConfig config;
  config.set("client.id", "c").set("debug", "broker");
  EXPECT_THAT(config_error([&] { (void)config.application_id(); }),
              HasSubstr("'application.id' is not set and has no default"));
  EXPECT_THAT(config_error([&] { (void)config.get_string("fetch.min.bytes"); }),
              HasSubstr("'fetch.min.bytes' is not set"));
  EXPECT_THAT(config_error([&] { (void)config.get_long("processing.guarantee"); }),
              HasSubstr("'processing.guarantee' is of type enum, not a number"));
  EXPECT_THAT(config_error([&] { (void)config.get_bool("num.stream.threads"); }),
              HasSubstr("'num.stream.threads' is of type int, not bool"));
  EXPECT_THAT(config_error([&] { (void)config.get_long("debug"); }),
              HasSubstr("value 'broker' of configuration key 'debug' is not a whole number"));
  EXPECT_THAT(config_error([&] { (void)config.get_bool("debug"); }),
              HasSubstr("is not true or false"));
}

TEST(StreamsConfigTest, CopiesAreIndependent) {
  StreamsConfig original{{"num.stream.threads", "2"}};
  StreamsConfig copy = original;
  copy.set("num.stream.threads", 4);
  EXPECT_EQ(original.num_stream_threads(), 2);
  EXPECT_EQ(copy.num_stream_threads(), 4);
}

TEST(StreamsConfigTest, DumpListsEffectiveValuesAndMarksDefaults) {
  StreamsConfig config{
      {"application.id", "app"}, {"fetch.min.bytes", "5"}, {"topic.retention.ms", "1000"}};
  const std::string dump = config.dump();
  EXPECT_THAT(dump, HasSubstr("  application.id = app\n"));
  EXPECT_THAT(dump, HasSubstr("  bootstrap.servers = (not set)\n"));
  EXPECT_THAT(dump, HasSubstr("  num.stream.threads = 1 (default)\n"));
  EXPECT_THAT(dump, HasSubstr("librdkafka settings:\n  fetch.min.bytes = 5\n"));
  EXPECT_THAT(dump, HasSubstr("Internal topic settings:\n  topic.retention.ms = 1000\n"));
  for (const auto& definition : StreamsConfig::definitions()) {
    EXPECT_THAT(dump, HasSubstr("  " + std::string(definition.name) + " = "));
  }
}

TEST(StreamsConfigTest, DumpAndToStringMaskSensitiveValues) {
  StreamsConfig config;
  config.set("application.id", "app")
      .set("sasl.password", "hunter2")
      .set("ssl.key.password", "keypass")
      .set("sasl.oauthbearer.config", "principal=admin")
      .set("topic.my.secret", "s3cr3t")
      .set("producer.ssl.keystore.password", "storepass")
      .set("sasl.username", "alice");
  for (const std::string& text : {config.dump(), config.to_string()}) {
    for (const char* secret : {"hunter2", "keypass", "principal=admin", "s3cr3t", "storepass"}) {
      EXPECT_THAT(text, Not(HasSubstr(secret)));
    }
    EXPECT_THAT(text, HasSubstr("sasl.password"));
    EXPECT_THAT(text, HasSubstr("[hidden]"));
    EXPECT_THAT(text, HasSubstr("alice"));  // not sensitive
  }
  EXPECT_THAT(config.to_string(), HasSubstr("StreamsConfig{application.id=app, "));
  EXPECT_THAT(config.to_string(), HasSubstr("sasl.password=[hidden]"));
}

TEST(StreamsConfigTest, UnknownKeyErrorDoesNotEchoTheValue) {
  const auto message =
      config_error([] { StreamsConfig().set("consumer.sasl.pasword", "topsecret"); });
  EXPECT_THAT(message, HasSubstr("did you mean 'consumer.sasl.password'?"));
  EXPECT_THAT(message, Not(HasSubstr("topsecret")));
}

}  // namespace
}  // namespace rivulet
