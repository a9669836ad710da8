// Repartition topics on the real client path: created at start-up with the partition count the
// topology needs, written by one sub-topology and read by the next.
#include <map>
#include <set>
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>

#include "kafka_test_support.h"
#include "rivulet_test_helpers.h"

namespace rivulet {
namespace {

using test::PlainProducer;
using test::TopicReader;
using test::unique_name;
using test::wait_until;
using ::testing::HasSubstr;

// Re-keys "user:action" records by action, through a repartition topic named "by-action".
Topology rekey_topology(const std::string& in, const std::string& out) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>(in)
      .select_key(
          [](const std::string&, const std::string& v) { return v.substr(v.find(':') + 1); })
      .repartition(Repartitioned<std::string, std::string>::as("by-action"))
      .map_values([](const std::string& v) { return v + "!"; })
      .to(out);
  return builder.build();
}

TEST(Repartition, RecordsReachTheNextSubTopologyThroughTheCreatedTopicKeyedAnew) {
  DevBroker broker(DevBroker::Options{.brokers = 1});
  const std::string in = unique_name("rekey-in");
  const std::string out = unique_name("rekey-out");
  const std::string app = unique_name("rekey");
  // The mock cluster creates topics it is asked about with 4 partitions; the topology needs as
  // many as its input has, so 4 works without creating the repartition topic up front.
  broker.create_topic(in, 4);
  broker.create_topic(out, 4);
  {
    PlainProducer producer(broker.bootstrap_servers());
    for (int i = 0; i < 200; ++i) {
      producer.send(in, fmt::format("user-{}", i % 13),
                    fmt::format("user-{}:{}", i % 13, i % 2 == 0 ? "click" : "view"));
    }
    producer.flush();
  }
  Topology topology = rekey_topology(in, out);
  KafkaStreams streams(topology, test::runtime_test_config(broker.bootstrap_servers(), app));
  streams.start();

  TopicReader reader(broker.bootstrap_servers(), out, 4);
  const auto& records = reader.read_at_least(200);
  ASSERT_GE(records.size(), 200u);
  std::map<std::string, std::set<std::int32_t>> partitions_of_key;
  for (const auto& r : records) {
    ASSERT_TRUE(r.key == "click" || r.key == "view") << *r.key;
    EXPECT_EQ(r.value->substr(r.value->find(':') + 1), *r.key + "!");
    partitions_of_key[*r.key].insert(r.partition);
  }
  for (const auto& [key, partitions] : partitions_of_key) {
    EXPECT_EQ(partitions.size(), 1u) << key << " was spread over several partitions";
  }
  TopicReader repartitioned(broker.bootstrap_servers(), app + "-by-action-repartition", 4);
  EXPECT_GE(repartitioned.read_at_least(200).size(), 200u);
  EXPECT_TRUE(streams.close(std::chrono::seconds(30)));
}

TEST(Repartition, ABrokerThatCannotCreateTheRightCountFailsStartSayingHowToFixIt) {
  DevBroker broker(DevBroker::Options{.brokers = 1});
  const std::string in = unique_name("rekey6-in");
  const std::string app = unique_name("rekey6");
  broker.create_topic(in, 6);  // the repartition topic needs 6; the mock would make 4
  Topology topology = rekey_topology(in, "out");
  KafkaStreams streams(topology, test::runtime_test_config(broker.bootstrap_servers(), app));
  const std::string message = test::message_of<StreamsException>([&] { streams.start(); });
  EXPECT_THAT(message, HasSubstr(fmt::format("topic '{}-by-action-repartition' needs 6", app)));
  EXPECT_THAT(message, HasSubstr("DevBroker::create_topic"));

  // Created up front with the right count, the same topology starts.
  const std::string app2 = unique_name("rekey6b");
  broker.create_topic(app2 + "-by-action-repartition", 6);
  KafkaStreams fixed(topology, test::runtime_test_config(broker.bootstrap_servers(), app2));
  fixed.start();
  EXPECT_TRUE(fixed.wait_for_running(std::chrono::seconds(60)));
  EXPECT_TRUE(fixed.close(std::chrono::seconds(30)));
}

// A stream re-keyed before a join with a table is repartitioned to the table's partition count,
// as Kafka Streams' co-partitioning does, not to the count of the stream's own input.
TEST(Repartition, AJoinRepartitionTopicTakesThePartitionCountOfTheTable) {
  DevBroker broker(DevBroker::Options{.brokers = 1});
  const std::string clicks = unique_name("clicks");
  const std::string pages = unique_name("pages");
  const std::string out = unique_name("reads");
  const std::string app = unique_name("copartition");
  broker.create_topic(clicks, 2);  // keyed by user
  broker.create_topic(pages, 4);   // keyed by page: the table
  broker.create_topic(out, 4);
  {
    PlainProducer producer(broker.bootstrap_servers());
    for (int p = 0; p < 10; ++p) {
      producer.send(pages, fmt::format("page-{}", p), fmt::format("Title {}", p), 1'000);
    }
    for (int i = 0; i < 100; ++i) {
      producer.send(clicks, fmt::format("user-{}", i), fmt::format("page-{}", i % 10), 2'000 + i);
    }
    producer.flush();
  }
  StreamsBuilder builder;
  const KTable<std::string, std::string> titles = builder.table<std::string, std::string>(pages);
  builder.stream<std::string, std::string>(clicks)
      .select_key([](const std::string&, const std::string& page) { return page; })
      .join(
          titles,
          [](const std::string& page, const std::string& title) { return page + " is " + title; },
          Joined<std::string, std::string, std::string>::as("clicks-pages"))
      .to(out);
  const Topology topology = builder.build();
  // Before the repartition topic took the table's count, start-up wanted 2 partitions for it.
  KafkaStreams streams(topology, test::runtime_test_config(broker.bootstrap_servers(), app));
  streams.start();
  ASSERT_TRUE(streams.wait_for_running(std::chrono::seconds(60)));

  TopicReader reader(broker.bootstrap_servers(), out, 4);
  const auto& records = reader.read_at_least(100);
  ASSERT_EQ(records.size(), 100u);
  for (const auto& record : records) {
    const std::string page = *record.key;
    EXPECT_EQ(*record.value, page + " is Title " + page.substr(5)) << page;
  }
  TopicReader repartitioned(broker.bootstrap_servers(), app + "-clicks-pages-left-repartition", 4);
  std::set<std::int32_t> partitions;
  for (const auto& record : repartitioned.read_at_least(100)) partitions.insert(record.partition);
  EXPECT_GT(*partitions.rbegin(), 1);  // partitions 2 and 3 exist and are used
  EXPECT_TRUE(streams.close(std::chrono::seconds(30)));
}

}  // namespace
}  // namespace rivulet
