// StreamsConfig: librdkafka pass-through, validation against librdkafka, and per-client routing.
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/errors.h>
#include <rivulet/streams_config.h>

#include "config/config_internal.h"
#include "rivulet_test_helpers.h"

namespace rivulet {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Key;
using ::testing::Not;
using ::testing::Pair;

// The message of the ConfigException that `action` throws; fails the test if it throws another
// exception or none.
template <class Action>
std::string config_error(Action&& action) {
  return rivulet::test::message_of<ConfigException>(std::forward<Action>(action));
}

StreamsConfig base_config() {
  return StreamsConfig{{"application.id", "orders"}, {"bootstrap.servers", "b1:9092,b2:9092"}};
}

TEST(ClientConfigsTest, UnknownLibrdkafkaKeyFailsWithSuggestionAndErrstr) {
  const auto message = config_error([] { StreamsConfig().set("fetch.min.byte", "1"); });
  EXPECT_THAT(message, HasSubstr("unknown configuration key 'fetch.min.byte'; did you mean "
                                 "'fetch.min.bytes'?"));
  EXPECT_THAT(message, HasSubstr("neither a Streams key"));
  EXPECT_THAT(message, HasSubstr("No such configuration property: \"fetch.min.byte\""));
}

TEST(ClientConfigsTest, JavaOnlyClientKeyIsUnknown) {
  const auto message = config_error([] { StreamsConfig().set("max.poll.records", "500"); });
  EXPECT_THAT(message, HasSubstr("unknown configuration key 'max.poll.records'"));
  EXPECT_THAT(message, HasSubstr("nor a librdkafka property"));
}

TEST(ClientConfigsTest, InvalidLibrdkafkaValueFailsWithErrstr) {
  const auto message = config_error([] { StreamsConfig().set("fetch.min.bytes", "lots"); });
  EXPECT_THAT(message, HasSubstr("invalid value 'lots' for configuration key 'fetch.min.bytes'"));
  EXPECT_THAT(message, HasSubstr("Invalid value for configuration property \"fetch.min.bytes\""));

  const auto range = config_error([] { StreamsConfig().set("linger.ms", -5); });
  EXPECT_THAT(range, HasSubstr("invalid value '-5' for configuration key 'linger.ms'"));
  EXPECT_THAT(range, HasSubstr("outside allowed range"));

  const auto enumeration = config_error([] { StreamsConfig().set("compression.type", "zip"); });
  EXPECT_THAT(enumeration, HasSubstr("Invalid value \"zip\""));
}

TEST(ClientConfigsTest, PrefixedUnknownKeySuggestsWithThePrefix) {
  const auto message = config_error([] { StreamsConfig().set("consumer.fetch.min.byte", "1"); });
  EXPECT_THAT(message, HasSubstr("unknown configuration key 'consumer.fetch.min.byte'; did you "
                                 "mean 'consumer.fetch.min.bytes'?"));
  EXPECT_THAT(message, HasSubstr("'fetch.min.byte', after the 'consumer.' prefix, is not a "
                                 "librdkafka property"));
}

TEST(ClientConfigsTest, PrefixedInvalidValueFails) {
  const auto message =
      config_error([] { StreamsConfig().set("main.consumer.session.timeout.ms", "soon"); });
  EXPECT_THAT(
      message,
      HasSubstr("invalid value 'soon' for configuration key 'main.consumer.session.timeout.ms'"));
}

TEST(ClientConfigsTest, PrefixWithoutPropertyFails) {
  EXPECT_THAT(config_error([] { StreamsConfig().set("producer.", "1"); }),
              HasSubstr("names no librdkafka property"));
}

TEST(ClientConfigsTest, PrefixedPropertyOfTheOtherClientKindIsRejected) {
  EXPECT_THAT(config_error([] { StreamsConfig().set("producer.fetch.min.bytes", "1"); }),
              HasSubstr("'fetch.min.bytes' is a librdkafka consumer property, which a producer "
                        "does not use"));
  EXPECT_THAT(config_error([] { StreamsConfig().set("restore.consumer.linger.ms", "5"); }),
              HasSubstr("'linger.ms' is a librdkafka producer property, which a consumer does "
                        "not use"));
  EXPECT_THAT(
      config_error([] { StreamsConfig().set("admin.acks", "all"); }),
      HasSubstr("'acks' is a librdkafka producer property, which an admin client does not use"));
}

TEST(ClientConfigsTest, EveryClientGetsBootstrapServersAndClientId) {
  const StreamsConfig config = base_config();
  for (const auto& client : {config.consumer_configs(), config.restore_consumer_configs(),
                             config.producer_configs(), config.admin_configs()}) {
    EXPECT_THAT(client, Contains(Pair("bootstrap.servers", "b1:9092,b2:9092")));
    EXPECT_THAT(client, Contains(Pair("client.id", "orders")));  // application.id by default
  }
  StreamsConfig named = base_config();
  named.set("client.id", "orders-eu");
  EXPECT_THAT(named.producer_configs(), Contains(Pair("client.id", "orders-eu")));
}

TEST(ClientConfigsTest, ConsumersGetRivuletsFixedSettings) {
  const StreamsConfig config = base_config();
  const auto main_consumer = config.consumer_configs();
  EXPECT_THAT(main_consumer, Contains(Pair("group.id", "orders")));
  EXPECT_THAT(main_consumer, Contains(Pair("enable.auto.commit", "false")));
  EXPECT_THAT(main_consumer, Contains(Pair("auto.offset.reset", "earliest")));
  const auto restore = config.restore_consumer_configs();
  EXPECT_THAT(restore, Not(Contains(Key("group.id"))));
  EXPECT_THAT(restore, Contains(Pair("enable.auto.commit", "false")));
  EXPECT_THAT(config.producer_configs(), Not(Contains(Key("group.id"))));
  EXPECT_THAT(config.producer_configs(), Not(Contains(Key("auto.offset.reset"))));
  EXPECT_THAT(config.admin_configs(), Not(Contains(Key("enable.auto.commit"))));
}

TEST(ClientConfigsTest, AutoOffsetResetCanBeOverridden) {
  StreamsConfig config = base_config();
  config.set("consumer.auto.offset.reset", "latest");
  EXPECT_THAT(config.consumer_configs(), Contains(Pair("auto.offset.reset", "latest")));
}

TEST(ClientConfigsTest, ExactlyOnceSetsIsolationAndIdempotence) {
  StreamsConfig config = base_config();
  EXPECT_THAT(config.consumer_configs(), Not(Contains(Key("isolation.level"))));
  EXPECT_THAT(config.producer_configs(), Not(Contains(Key("enable.idempotence"))));
  config.set("processing.guarantee", "exactly_once_v2");
  EXPECT_THAT(config.consumer_configs(), Contains(Pair("isolation.level", "read_committed")));
  EXPECT_THAT(config.restore_consumer_configs(),
              Contains(Pair("isolation.level", "read_committed")));
  EXPECT_THAT(config.producer_configs(), Contains(Pair("enable.idempotence", "true")));
}

TEST(ClientConfigsTest, UnprefixedPropertiesGoToTheClientsTheyApplyTo) {
  StreamsConfig config = base_config();
  config
      .set("security.protocol", "ssl")  // any client
      .set("fetch.min.bytes", 100)      // consumers only
      .set("linger.ms", 20)             // producer only
      .set("acks", "all");              // topic-level, producer only
  for (const auto& client : {config.consumer_configs(), config.restore_consumer_configs(),
                             config.producer_configs(), config.admin_configs()}) {
    EXPECT_THAT(client, Contains(Pair("security.protocol", "ssl")));
  }
  EXPECT_THAT(config.consumer_configs(), Contains(Pair("fetch.min.bytes", "100")));
  EXPECT_THAT(config.restore_consumer_configs(), Contains(Pair("fetch.min.bytes", "100")));
  EXPECT_THAT(config.producer_configs(), Not(Contains(Key("fetch.min.bytes"))));
  EXPECT_THAT(config.admin_configs(), Not(Contains(Key("fetch.min.bytes"))));
  EXPECT_THAT(config.producer_configs(), Contains(Pair("linger.ms", "20")));
  EXPECT_THAT(config.producer_configs(), Contains(Pair("acks", "all")));
  EXPECT_THAT(config.consumer_configs(), Not(Contains(Key("linger.ms"))));
  EXPECT_THAT(config.admin_configs(), Not(Contains(Key("acks"))));
}

TEST(ClientConfigsTest, PrefixedSettingsWinOverUnprefixedRegardlessOfOrder) {
  StreamsConfig config = base_config();
  config.set("consumer.fetch.min.bytes", 2)
      .set("fetch.min.bytes", 1)
      .set("producer.linger.ms", 7)
      .set("linger.ms", 3)
      .set("admin.socket.timeout.ms", 1000)
      .set("socket.timeout.ms", 2000);
  EXPECT_THAT(config.consumer_configs(), Contains(Pair("fetch.min.bytes", "2")));
  EXPECT_THAT(config.restore_consumer_configs(), Contains(Pair("fetch.min.bytes", "2")));
  EXPECT_THAT(config.producer_configs(), Contains(Pair("linger.ms", "7")));
  EXPECT_THAT(config.admin_configs(), Contains(Pair("socket.timeout.ms", "1000")));
  EXPECT_THAT(config.producer_configs(), Contains(Pair("socket.timeout.ms", "2000")));
}

TEST(ClientConfigsTest, MainAndRestorePrefixesWinOverConsumerPrefix) {
  StreamsConfig config = base_config();
  config.set("main.consumer.fetch.min.bytes", 3)
      .set("restore.consumer.fetch.min.bytes", 4)
      .set("consumer.fetch.min.bytes", 2)
      .set("consumer.fetch.wait.max.ms", 50);
  const auto main_consumer = config.consumer_configs();
  const auto restore = config.restore_consumer_configs();
  EXPECT_THAT(main_consumer, Contains(Pair("fetch.min.bytes", "3")));
  EXPECT_THAT(restore, Contains(Pair("fetch.min.bytes", "4")));
  EXPECT_THAT(main_consumer, Contains(Pair("fetch.wait.max.ms", "50")));
  EXPECT_THAT(restore, Contains(Pair("fetch.wait.max.ms", "50")));
  EXPECT_THAT(config.producer_configs(), Not(Contains(Key("fetch.wait.max.ms"))));
}

TEST(ClientConfigsTest, PrefixedClientIdAndBootstrapOverrideTheStreamsKeys) {
  StreamsConfig config = base_config();
  config.set("restore.consumer.client.id", "restorer")
      .set("producer.bootstrap.servers", "other:9092");
  EXPECT_THAT(config.restore_consumer_configs(), Contains(Pair("client.id", "restorer")));
  EXPECT_THAT(config.consumer_configs(), Contains(Pair("client.id", "orders")));
  EXPECT_THAT(config.producer_configs(), Contains(Pair("bootstrap.servers", "other:9092")));
}

TEST(ClientConfigsTest, ClientMapsHoldNoStreamsOrTopicKeys) {
  StreamsConfig config = base_config();
  config.set("num.stream.threads", 2).set("topic.retention.ms", "-1");
  for (const auto& client : {config.consumer_configs(), config.restore_consumer_configs(),
                             config.producer_configs(), config.admin_configs()}) {
    EXPECT_THAT(client, Not(Contains(Key("num.stream.threads"))));
    EXPECT_THAT(client, Not(Contains(Key("application.id"))));
    EXPECT_THAT(client, Not(Contains(Key("topic.retention.ms"))));
    EXPECT_THAT(client, Not(Contains(Key("retention.ms"))));
  }
}

TEST(ClientConfigsTest, TopicPrefixedKeysAreInternalTopicConfigsAndNotValidated) {
  StreamsConfig config;
  config.set("topic.retention.ms", "-1").set("topic.cleanup.policy", "compact,delete");
  config.set("topic.anything.goes", "really");  // not validated: the broker judges
  EXPECT_EQ(config.internal_topic_configs(),
            (std::map<std::string, std::string>{{"anything.goes", "really"},
                                                {"cleanup.policy", "compact,delete"},
                                                {"retention.ms", "-1"}}));
  EXPECT_THAT(config_error([] { StreamsConfig().set("topic.", "x"); }),
              HasSubstr("names no internal-topic setting"));
}

TEST(ClientConfigsTest, LibrdkafkaTopicPropertiesAreClientSettings) {
  StreamsConfig config = base_config();
  config.set("topic.metadata.refresh.interval.ms", 60000);
  EXPECT_TRUE(config.internal_topic_configs().empty());
  EXPECT_THAT(config.admin_configs(),
              Contains(Pair("topic.metadata.refresh.interval.ms", "60000")));
  EXPECT_THAT(config.consumer_configs(),
              Contains(Pair("topic.metadata.refresh.interval.ms", "60000")));
  EXPECT_THAT(config_error([] { StreamsConfig().set("topic.metadata.refresh.interval.ms", "x"); }),
              HasSubstr("invalid value 'x'"));
}

TEST(ClientConfigsTest, ClientMapsAreAcceptedByLibrdkafka) {
  // Round trip: every value the maps hold was checked, and Rivulet's own additions are valid.
  StreamsConfig config = base_config();
  config.set("processing.guarantee", "exactly_once_v2")
      .set("security.protocol", "sasl_ssl")
      .set("sasl.mechanism", "PLAIN")
      .set("consumer.fetch.min.bytes", 1);
  for (const auto& client : {config.consumer_configs(), config.restore_consumer_configs(),
                             config.producer_configs(), config.admin_configs()}) {
    for (const auto& [key, value] : client) {
      const auto check = config_detail::check_librdkafka_property(key, value);
      EXPECT_EQ(check.result, config_detail::LibrdkafkaCheck::Result::ok)
          << key << "=" << value << ": " << check.error;
    }
  }
}

}  // namespace
}  // namespace rivulet
