// StreamsConfig internals: text helpers, librdkafka lookups, and the docs mirroring the table.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/streams_config.h>

#include "config/config_internal.h"

namespace rivulet::config_detail {
namespace {

using ::testing::ElementsAre;

TEST(ConfigTextTest, EnvNamesMapLikeConfluentImages) {
  EXPECT_EQ(env_name_to_key("NUM_STREAM_THREADS"), "num.stream.threads");
  EXPECT_EQ(env_name_to_key("CONSUMER_FETCH_MIN_BYTES"), "consumer.fetch.min.bytes");
  EXPECT_EQ(env_name_to_key("PROCESSING_GUARANTEE"), "processing.guarantee");
  EXPECT_EQ(env_name_to_key("A__B"), "a_b");
  EXPECT_EQ(env_name_to_key("A___B"), "a-b");
  EXPECT_EQ(env_name_to_key("A____B"), "a-.b");  // as Confluent: "..." first, then ".."
  EXPECT_EQ(env_name_to_key("A_____B"), "a-_b");
}

TEST(ConfigTextTest, EditDistanceCountsTranspositionsAsOneEdit) {
  EXPECT_EQ(edit_distance("", "abc"), 3U);
  EXPECT_EQ(edit_distance("abc", "abc"), 0U);
  EXPECT_EQ(edit_distance("num.stream.thread", "num.stream.threads"), 1U);
  EXPECT_EQ(edit_distance("poll.sm", "poll.ms"), 1U);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3U);
}

TEST(ConfigTextTest, ClosestMatchOnlySuggestsPlausibleTypos) {
  const std::vector<std::string> candidates{"poll.ms", "state.dir", "num.stream.threads"};
  EXPECT_EQ(closest_match("num.stream.thread", candidates), "num.stream.threads");
  EXPECT_EQ(closest_match("state.dri", candidates), "state.dir");
  EXPECT_EQ(closest_match("xyz", candidates), std::nullopt);
  EXPECT_EQ(closest_match("retention.bytes", candidates), std::nullopt);
}

TEST(ConfigTextTest, SplitListTrimsEntriesAndKeepsEmptyOnes) {
  EXPECT_THAT(split_list(" a , b,c "), ElementsAre("a", "b", "c"));
  EXPECT_THAT(split_list("a,,b"), ElementsAre("a", "", "b"));
  EXPECT_TRUE(split_list("  ").empty());
}

TEST(ConfigTextTest, SensitiveKeysAreMasked) {
  for (const char* key :
       {"sasl.password", "ssl.key.password", "ssl.keystore.password", "ssl.key.pem",
        "sasl.oauthbearer.config", "sasl.oauthbearer.client.secret", "producer.SASL.PASSWORD"}) {
    EXPECT_TRUE(is_sensitive(key)) << key;
    EXPECT_EQ(printable_value(key, "v"), "[hidden]") << key;
  }
  for (const char* key : {"sasl.username", "bootstrap.servers", "ssl.ca.location"}) {
    EXPECT_FALSE(is_sensitive(key)) << key;
    EXPECT_EQ(printable_value(key, "v"), "v") << key;
  }
}

TEST(LibrdkafkaPropertiesTest, KnowsPropertiesAndWhichClientsUseThem) {
  EXPECT_GT(librdkafka_property_names().size(), 100U);
  EXPECT_EQ(librdkafka_scope("fetch.min.bytes"), ClientScope::consumer);
  EXPECT_EQ(librdkafka_scope("linger.ms"), ClientScope::producer);
  EXPECT_EQ(librdkafka_scope("acks"), ClientScope::producer);  // a topic-level property
  EXPECT_EQ(librdkafka_scope("security.protocol"), ClientScope::any);
  EXPECT_EQ(librdkafka_scope("num.stream.threads"), std::nullopt);
  EXPECT_TRUE(is_librdkafka_property("topic.metadata.refresh.interval.ms"));
  EXPECT_FALSE(is_librdkafka_property("topic.retention.ms"));
}

TEST(LibrdkafkaPropertiesTest, CheckReportsLibrdkafkasVerdict) {
  EXPECT_EQ(check_librdkafka_property("fetch.min.bytes", "1").result, LibrdkafkaCheck::Result::ok);
  const auto unknown = check_librdkafka_property("no.such.thing", "1");
  EXPECT_EQ(unknown.result, LibrdkafkaCheck::Result::unknown);
  EXPECT_THAT(unknown.error, ::testing::HasSubstr("No such configuration property"));
  const auto invalid = check_librdkafka_property("enable.idempotence", "yes");
  EXPECT_EQ(invalid.result, LibrdkafkaCheck::Result::invalid);
  EXPECT_THAT(invalid.error, ::testing::HasSubstr("Expected bool value"));
}

// docs/configuration.md carries the table between markers; it must match the code's table.
TEST(ConfigDocsTest, DocsTableMirrorsTheDefinitions) {
  const std::filesystem::path root = RIVULET_TEST_SOURCE_DIR;
  std::ifstream file(root / "docs" / "configuration.md");
  ASSERT_TRUE(file) << "cannot open " << (root / "docs" / "configuration.md");
  std::stringstream text;
  text << file.rdbuf();
  const std::string docs = text.str();
  const std::string begin = "<!-- streams-keys:begin -->\n";
  const std::string end = "<!-- streams-keys:end -->";
  const auto from = docs.find(begin);
  const auto to = docs.find(end);
  ASSERT_NE(from, std::string::npos);
  ASSERT_NE(to, std::string::npos);
  EXPECT_EQ(docs.substr(from + begin.size(), to - from - begin.size()), markdown_table())
      << "docs/configuration.md is out of date; the table should read:\n"
      << markdown_table();
}

TEST(ConfigDocsTest, TableHasOneRowPerDefinition) {
  const std::string table = markdown_table();
  for (const auto& definition : StreamsConfig::definitions()) {
    EXPECT_NE(table.find("| `" + std::string(definition.name) + "`"), std::string::npos)
        << definition.name;
  }
}

}  // namespace
}  // namespace rivulet::config_detail
