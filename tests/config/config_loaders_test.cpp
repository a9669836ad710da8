// StreamsConfig loaders: YAML files and text, environment variables, and their precedence.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <rivulet/errors.h>
#include <rivulet/streams_config.h>

#include "rivulet_test_helpers.h"

namespace rivulet {
namespace {

using std::chrono::milliseconds;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::StartsWith;

// The message of the ConfigException that `action` throws; fails the test if it throws another
// exception or none.
template <class Action>
std::string config_error(Action&& action) {
  return rivulet::test::message_of<ConfigException>(std::forward<Action>(action));
}

// A YAML file in a fresh temporary directory, removed with the fixture.
class YamlFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    directory_ = std::filesystem::temp_directory_path() /
                 ("rivulet_config_test_" + std::to_string(::getpid()) + "_" + info->name());
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::filesystem::path write(std::string_view name, std::string_view text) {
    const auto path = directory_ / name;
    std::ofstream(path) << text;
    return path;
  }

  std::filesystem::path directory_;
};

TEST_F(YamlFileTest, LoadsKeysFromAFile) {
  const auto path = write("app.yaml",
                          "application.id: orders\n"
                          "bootstrap.servers: broker:9092\n"
                          "num.stream.threads: 4\n"
                          "processing.guarantee: exactly_once_v2\n"
                          "state.dir: /var/lib/rivulet\n");
  StreamsConfig config;
  config.load_yaml_file(path);
  EXPECT_EQ(config.application_id(), "orders");
  EXPECT_THAT(config.bootstrap_servers(), ::testing::ElementsAre("broker:9092"));
  EXPECT_EQ(config.num_stream_threads(), 4);
  EXPECT_EQ(config.processing_guarantee(), ProcessingGuarantee::exactly_once_v2);
  EXPECT_EQ(config.commit_interval(), milliseconds(100));
  EXPECT_EQ(config.state_dir(), std::filesystem::path("/var/lib/rivulet"));
  EXPECT_NO_THROW(config.validate_for_runtime());
}

TEST_F(YamlFileTest, NestedMappingsAreFlattenedWithDots) {
  const auto path = write("nested.yaml",
                          "application.id: orders\n"
                          "consumer:\n"
                          "  fetch.min.bytes: 1\n"
                          "  fetch:\n"
                          "    wait.max.ms: 50\n"
                          "main.consumer: {session.timeout.ms: 12000}\n"
                          "num:\n"
                          "  stream:\n"
                          "    threads: 2\n"
                          "topic:\n"
                          "  retention.ms: -1\n");
  StreamsConfig config;
  config.load_yaml_file(path);
  EXPECT_EQ(config.get_string("consumer.fetch.min.bytes"), "1");
  EXPECT_EQ(config.get_string("consumer.fetch.wait.max.ms"), "50");
  EXPECT_EQ(config.num_stream_threads(), 2);
  EXPECT_THAT(config.consumer_configs(), Contains(Pair("session.timeout.ms", "12000")));
  EXPECT_THAT(config.internal_topic_configs(), Contains(Pair("retention.ms", "-1")));
}

TEST_F(YamlFileTest, SequenceForAListKeyIsJoinedWithCommas) {
  const auto path = write("list.yaml",
                          "bootstrap.servers:\n"
                          "  - b1:9092\n"
                          "  - b2:9092\n"
                          "debug: [broker, topic]\n");
  StreamsConfig config;
  config.load_yaml_file(path);
  EXPECT_EQ(config.get_string("bootstrap.servers"), "b1:9092,b2:9092");
  EXPECT_THAT(config.bootstrap_servers(), ::testing::ElementsAre("b1:9092", "b2:9092"));
  EXPECT_EQ(config.get_string("debug"), "broker,topic");  // librdkafka CSV property
}

TEST_F(YamlFileTest, SequenceForANonListKeyFailsAtItsPosition) {
  const auto path = write("seq.yaml",
                          "application.id: orders\n"
                          "num.stream.threads: [1, 2]\n");
  const auto message = config_error([&] { StreamsConfig().load_yaml_file(path); });
  EXPECT_THAT(message, StartsWith(path.string() + ":2:21: "));
  EXPECT_THAT(message, HasSubstr("'num.stream.threads': expected type int, got a sequence"));
}

TEST_F(YamlFileTest, InvalidValueErrorCarriesFileLineAndColumnOfTheValue) {
  const auto path = write("bad.yaml",
                          "application.id: orders\n"
                          "\n"
                          "num.stream.threads:   many\n");
  const auto message = config_error([&] { StreamsConfig().load_yaml_file(path); });
  EXPECT_EQ(message, path.string() +
                         ":3:23: invalid value 'many' for configuration key 'num.stream.threads': "
                         "expected type int (a whole number, 32-bit), at least 1");
}

TEST_F(YamlFileTest, UnknownKeyErrorPointsAtTheKey) {
  const auto path = write("typo.yaml",
                          "application.id: orders\n"
                          "consumer:\n"
                          "    fetch.min.byte: 1\n");
  const auto message = config_error([&] { StreamsConfig().load_yaml_file(path); });
  EXPECT_THAT(message, StartsWith(path.string() + ":3:5: unknown configuration key "
                                                  "'consumer.fetch.min.byte'; did you mean "
                                                  "'consumer.fetch.min.bytes'?"));
}

TEST_F(YamlFileTest, SyntaxErrorReportsLineAndColumn) {
  const auto path = write("syntax.yaml",
                          "application.id: orders\n"
                          "consumer: {fetch.min.bytes: 1\n"
                          "num.stream.threads: 2\n");
  const auto message = config_error([&] { StreamsConfig().load_yaml_file(path); });
  EXPECT_THAT(message,
              ::testing::MatchesRegex(".*syntax\\.yaml:[0-9]+:[0-9]+: YAML syntax error: .+"));
}

TEST_F(YamlFileTest, MissingFileFailsNamingIt) {
  const auto path = directory_ / "absent.yaml";
  const auto message = config_error([&] { StreamsConfig().load_yaml_file(path); });
  EXPECT_THAT(message, HasSubstr("cannot open configuration file '" + path.string() + "'"));
}

TEST(YamlTextTest, SyntaxErrorReportsOneBasedLineAndColumn) {
  const auto message =
      config_error([] { StreamsConfig().load_yaml("a: 1\nb: [1, 2\n", "inline.yaml"); });
  EXPECT_THAT(message, StartsWith("inline.yaml:"));
  EXPECT_THAT(message, HasSubstr("YAML syntax error"));
}

TEST(YamlTextTest, MappingValueErrorUsesTheDefaultSourceName) {
  const auto message = config_error([] { StreamsConfig().load_yaml("poll.ms: soon\n"); });
  EXPECT_THAT(message, StartsWith("<yaml>:1:10: invalid value 'soon'"));
}

TEST(YamlTextTest, NullValueFailsAtTheKey) {
  const auto message =
      config_error([] { StreamsConfig().load_yaml("application.id: a\nclient.id:\n", "n.yaml"); });
  EXPECT_THAT(message, StartsWith("n.yaml:2:1: configuration key 'client.id' has no value"));
}

TEST(YamlTextTest, QuotedEmptyStringIsAValue) {
  StreamsConfig config;
  config.load_yaml("application.server: \"\"\n");
  EXPECT_TRUE(config.is_set_by_user("application.server"));
  EXPECT_EQ(config.application_server(), "");
}

TEST(YamlTextTest, TopLevelMustBeAMapping) {
  EXPECT_THAT(config_error([] { StreamsConfig().load_yaml("- a\n- b\n", "list.yaml"); }),
              StartsWith("list.yaml:1:1: expected a mapping of configuration keys to values"));
}

TEST(YamlTextTest, EmptyDocumentChangesNothing) {
  StreamsConfig config{{"num.stream.threads", "2"}};
  config.load_yaml("# only a comment\n");
  EXPECT_EQ(config.num_stream_threads(), 2);
}

TEST(YamlTextTest, JavaClassNamesAreNormalisedFromYaml) {
  StreamsConfig config;
  config.load_yaml(
      "default.deserialization.exception.handler: "
      "org.apache.kafka.streams.errors.LogAndContinueExceptionHandler\n");
  EXPECT_EQ(config.deserialization_handler(), DeserializationHandler::log_and_continue);
}

TEST(YamlTextTest, FailedLoadLeavesTheConfigurationUnchanged) {
  StreamsConfig config{{"num.stream.threads", "2"}};
  EXPECT_THROW(config.load_yaml("num.stream.threads: 8\npoll.ms: soon\n"), ConfigException);
  EXPECT_EQ(config.num_stream_threads(), 2);
  EXPECT_FALSE(config.is_set_by_user("poll.ms"));
}

TEST(EnvTest, LoadsPrefixedVariablesMappedLikeConfluentImages) {
  const char* const envp[] = {"RIVULET_APPLICATION_ID=orders",
                              "RIVULET_NUM_STREAM_THREADS=2",
                              "RIVULET_CONSUMER_FETCH_MIN_BYTES=10",
                              "RIVULET_DEFAULT_DSL_STORE=in_memory",
                              "PATH=/usr/bin",
                              "OTHER_NUM_STREAM_THREADS=9",
                              "NOEQUALSSIGN",
                              nullptr};
  StreamsConfig config;
  config.load_env("RIVULET_", envp);
  EXPECT_EQ(config.application_id(), "orders");
  EXPECT_EQ(config.num_stream_threads(), 2);
  EXPECT_EQ(config.get_string("consumer.fetch.min.bytes"), "10");
  EXPECT_EQ(config.default_dsl_store(), DslStoreType::in_memory);
}

TEST(EnvTest, DoubleUnderscoreIsUnderscoreAndTripleIsDash) {
  // processing.guarantee takes "exactly_once_v2"; a topic config name carries a dash via ___.
  const char* const envp[] = {"RIVULET_PROCESSING_GUARANTEE=exactly_once_v2",
                              "RIVULET_TOPIC_MY___SETTING__X=1", nullptr};
  StreamsConfig config;
  config.load_env("RIVULET_", envp);
  EXPECT_TRUE(config.exactly_once());
  EXPECT_THAT(config.internal_topic_configs(), Contains(Pair("my-setting_x", "1")));
}

TEST(EnvTest, ErrorNamesTheVariable) {
  const char* const envp[] = {"RIVULET_NUM_STREAM_THREAD=2", nullptr};
  const auto message = config_error([&] { StreamsConfig().load_env("RIVULET_", envp); });
  EXPECT_THAT(message, StartsWith("environment variable RIVULET_NUM_STREAM_THREAD: unknown "
                                  "configuration key 'num.stream.thread'; did you mean "
                                  "'num.stream.threads'?"));
}

TEST(EnvTest, BarePrefixIsAnError) {
  const char* const envp[] = {"RIVULET_=1", nullptr};
  EXPECT_THAT(config_error([&] { StreamsConfig().load_env("RIVULET_", envp); }),
              HasSubstr("no configuration key after the prefix"));
}

TEST(EnvTest, NullEnvpReadsTheProcessEnvironment) {
  ASSERT_EQ(::setenv("RIVULETCFGTEST_NUM_STANDBY_REPLICAS", "2", 1), 0);
  StreamsConfig config;
  config.load_env("RIVULETCFGTEST_");
  ::unsetenv("RIVULETCFGTEST_NUM_STANDBY_REPLICAS");
  EXPECT_EQ(config.num_standby_replicas(), 2);
}

TEST(EnvTest, FailedLoadLeavesTheConfigurationUnchanged) {
  const char* const envp[] = {"RIVULET_NUM_STREAM_THREADS=3", "RIVULET_POLL_MS=soon", nullptr};
  StreamsConfig config;
  EXPECT_THROW(config.load_env("RIVULET_", envp), ConfigException);
  EXPECT_FALSE(config.is_set_by_user("num.stream.threads"));
}

TEST(PrecedenceTest, LaterLoadsOverrideEarlierOnes) {
  const char* const envp[] = {"RIVULET_NUM_STREAM_THREADS=3", nullptr};
  StreamsConfig config;
  config.set("num.stream.threads", 1).set("poll.ms", 10).set("client.id", "code");
  config.load_yaml("num.stream.threads: 2\npoll.ms: 20\n");
  EXPECT_EQ(config.num_stream_threads(), 2);
  config.load_env("RIVULET_", envp);
  EXPECT_EQ(config.num_stream_threads(), 3);           // env after YAML
  EXPECT_EQ(config.poll_timeout(), milliseconds(20));  // YAML after code
  EXPECT_EQ(config.client_id(), "code");               // untouched by later loads
  config.set("num.stream.threads", 4);                 // code after env
  EXPECT_EQ(config.num_stream_threads(), 4);
}

TEST(PrecedenceTest, PrefixedYamlSettingBeatsUnprefixedEnvSetting) {
  // Precedence between prefixed and unprefixed keys does not depend on load order.
  const char* const envp[] = {"RIVULET_FETCH_MIN_BYTES=1", nullptr};
  StreamsConfig config;
  config.load_yaml("consumer:\n  fetch.min.bytes: 7\n");
  config.load_env("RIVULET_", envp);
  EXPECT_THAT(config.consumer_configs(), Contains(Pair("fetch.min.bytes", "7")));
}

}  // namespace
}  // namespace rivulet
