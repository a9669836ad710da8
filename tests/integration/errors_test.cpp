// Bad records and bad configurations on the real client path.
#include <chrono>
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

class Errors : public ::testing::Test {
 protected:
  // Makes `streams` shut down when a thread dies, and returns where the error's message goes.
  static std::shared_ptr<test::Guarded<std::string>> report_deaths(KafkaStreams& streams) {
    auto reported = std::make_shared<test::Guarded<std::string>>();
    streams.set_uncaught_exception_handler([reported](std::exception_ptr error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        reported->set(e.what());
      }
      return KafkaStreams::ExceptionResponse::shutdown_client;
    });
    return reported;
  }

  DevBroker broker_{DevBroker::Options{.brokers = 1}};
};

TEST_F(Errors, PoisonPillGoesToTheDeadLetterTopicWithItsOriginAndProcessingGoesOn) {
  const std::string in = unique_name("pill-in");
  const std::string out = unique_name("pill-out");
  const std::string dlq = unique_name("pill-dlq");
  broker_.create_topic(in, 1);
  broker_.create_topic(out, 1);
  broker_.create_topic(dlq, 1);
  auto as_long = [](char n) { return std::string("\0\0\0\0\0\0\0", 7) + n; };  // big-endian
  {
    PlainProducer producer(broker_.bootstrap_servers());
    producer.send(in, "a", as_long(1));
    producer.send(in, "pill", "not a number");  // the long deserializer wants 8 bytes
    producer.send(in, "b", as_long(7));
    producer.flush();
  }

  StreamsBuilder builder;
  builder.stream<std::string, std::int64_t>(in)
      .map_values([](std::int64_t v) { return std::to_string(v * 6); })
      .to(out);
  Topology topology = builder.build();
  StreamsConfig config =
      test::runtime_test_config(broker_.bootstrap_servers(), unique_name("pill"));
  config.set("default.deserialization.exception.handler", "log_and_continue")
      .set("errors.dead.letter.queue.topic.name", dlq);
  KafkaStreams streams(topology, config);
  streams.start();

  TopicReader outputs(broker_.bootstrap_servers(), out, 1);
  const auto& produced = outputs.read_at_least(2);
  ASSERT_EQ(produced.size(), 2u);
  EXPECT_EQ(produced[0].value, "6");
  EXPECT_EQ(produced[1].key, "b");  // the record after the pill was processed
  EXPECT_EQ(produced[1].value, "42");

  TopicReader dead(broker_.bootstrap_servers(), dlq, 1);
  const auto& letters = dead.read_at_least(1);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].key, "pill");
  EXPECT_EQ(letters[0].value, "not a number");  // the original bytes
  EXPECT_EQ(letters[0].header("__streams.errors.topic"), in);
  EXPECT_EQ(letters[0].header("__streams.errors.partition"), "0");
  EXPECT_EQ(letters[0].header("__streams.errors.offset"), "1");
  ASSERT_TRUE(letters[0].header("__streams.errors.message").has_value());
  EXPECT_EQ(streams.state(), KafkaStreams::State::running);
  ASSERT_TRUE(wait_until([&] { return streams.metrics().records_processed == 2; }));
  EXPECT_EQ(streams.metrics().deserialization_errors, 1u);
  EXPECT_EQ(streams.metrics().dead_lettered, 1u);
  EXPECT_TRUE(streams.close(std::chrono::seconds(30)));
}

TEST_F(Errors, ProcessingFailureUnderLogAndFailShutsTheClientDownInError) {
  const std::string in = unique_name("fail-in");
  broker_.create_topic(in, 1);
  {
    PlainProducer producer(broker_.bootstrap_servers());
    producer.send(in, "k", "boom");
    producer.flush();
  }
  StreamsBuilder builder;
  builder.stream<std::string, std::string>(in).foreach (
      [](const std::string&, const std::string& v) {
        if (v == "boom") throw std::runtime_error("cannot handle boom");
      });
  Topology topology = builder.build();
  KafkaStreams streams(topology,
                       test::runtime_test_config(broker_.bootstrap_servers(), unique_name("fail")));
  auto reported = report_deaths(streams);
  streams.start();
  ASSERT_TRUE(wait_until([&] { return streams.state() == KafkaStreams::State::error; }));
  EXPECT_THAT(reported->get(), HasSubstr("cannot handle boom"));
  EXPECT_THAT(reported->get(), HasSubstr("processing.exception.handler is log_and_fail"));
}

TEST_F(Errors, ReplacedThreadTakesOverAndTheRecordIsRetried) {
  const std::string in = unique_name("replace-in");
  const std::string out = unique_name("replace-out");
  broker_.create_topic(in, 2);
  broker_.create_topic(out, 2);
  {
    PlainProducer producer(broker_.bootstrap_servers());
    for (int i = 0; i < 10; ++i) producer.send(in, fmt::format("k{}", i), fmt::format("v{}", i));
    producer.flush();
  }
  std::atomic<int> failures_left{1};
  StreamsBuilder builder;
  builder.stream<std::string, std::string>(in)
      .peek([&](const std::string&, const std::string& v) {
        if (v == "v5" && failures_left.fetch_sub(1) > 0) {
          throw std::runtime_error("transient failure");
        }
      })
      .to(out);
  Topology topology = builder.build();
  KafkaStreams streams(
      topology, test::runtime_test_config(broker_.bootstrap_servers(), unique_name("replace")));
  std::atomic<int> handled{0};
  streams.set_uncaught_exception_handler([&](std::exception_ptr) {
    ++handled;
    return KafkaStreams::ExceptionResponse::replace_thread;
  });
  streams.start();
  TopicReader reader(broker_.bootstrap_servers(), out, 2);
  std::set<std::string> values;
  ASSERT_TRUE(wait_until([&] {
    for (const auto& r : reader.drain(std::chrono::milliseconds(100))) values.insert(*r.value);
    return values.size() == 10;
  })) << values.size();
  EXPECT_EQ(handled.load(), 1);
  EXPECT_TRUE(streams.wait_for_running(std::chrono::seconds(60)));
  const auto threads = streams.metadata_for_local_threads();
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_THAT(threads[0].thread_name, HasSubstr("StreamThread-2"));
  EXPECT_TRUE(streams.close(std::chrono::seconds(30)));
}

// A record the producer rejects (larger than message.max.bytes) under each production handler.
class ProductionErrors : public Errors {
 protected:
  Topology topology_for(const std::string& in, const std::string& out) {
    StreamsBuilder builder;
    builder.stream<std::string, std::string>(in).to(out);
    return builder.build();
  }
  void produce(const std::string& in) {
    PlainProducer producer(broker_.bootstrap_servers());
    producer.send(in, "small", "ok");
    producer.send(in, "huge", std::string(5000, 'x'));
    producer.send(in, "after", "ok too");
    producer.flush();
  }
};

TEST_F(ProductionErrors, ContinueSkipsTheRecordCountsItAndGoesOn) {
  const std::string in = unique_name("big-in");
  const std::string out = unique_name("big-out");
  broker_.create_topic(in, 1);
  broker_.create_topic(out, 1);
  produce(in);
  Topology topology = topology_for(in, out);
  StreamsConfig config = test::runtime_test_config(broker_.bootstrap_servers(), unique_name("big"));
  config.set("producer.message.max.bytes", "2000")
      .set("default.production.exception.handler", "continue");
  KafkaStreams streams(topology, config);
  streams.start();
  TopicReader reader(broker_.bootstrap_servers(), out, 1);
  const auto& records = reader.read_at_least(2);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].key, "small");
  EXPECT_EQ(records[1].key, "after");
  ASSERT_TRUE(wait_until([&] { return streams.metrics().production_errors == 1; }));
  EXPECT_EQ(streams.state(), KafkaStreams::State::running);
  EXPECT_TRUE(streams.close(std::chrono::seconds(30)));
}

TEST_F(ProductionErrors, FailStopsTheThreadNamingTheHandler) {
  const std::string in = unique_name("big-fail-in");
  const std::string out = unique_name("big-fail-out");
  broker_.create_topic(in, 1);
  broker_.create_topic(out, 1);
  produce(in);
  Topology topology = topology_for(in, out);
  StreamsConfig config =
      test::runtime_test_config(broker_.bootstrap_servers(), unique_name("big-fail"));
  config.set("producer.message.max.bytes", "2000");
  KafkaStreams streams(topology, config);
  auto reported = report_deaths(streams);
  streams.start();
  ASSERT_TRUE(wait_until([&] { return streams.state() == KafkaStreams::State::error; }));
  EXPECT_THAT(reported->get(), HasSubstr("default.production.exception.handler is fail"));
}

TEST_F(Errors, MissingSourceTopicFailsStartWithItsName) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("no-such-topic").to("whatever");
  Topology topology = builder.build();
  KafkaStreams streams(topology,
                       test::runtime_test_config(broker_.bootstrap_servers(), unique_name("miss")));
  const std::string message = test::message_of<StreamsException>([&] { streams.start(); });
  EXPECT_THAT(message, HasSubstr("missing source topic(s) no-such-topic"));
  EXPECT_EQ(streams.state(), KafkaStreams::State::error);
}

TEST_F(Errors, UnreachableBrokerFailsStartWithinTheApiTimeout) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in").to("out");
  Topology topology = builder.build();
  StreamsConfig config = test::runtime_test_config("127.0.0.1:1", unique_name("unreachable"));
  config.set("default.api.timeout.ms", 2000);
  KafkaStreams streams(topology, config);
  const auto started = std::chrono::steady_clock::now();
  const std::string message = test::message_of<StreamsException>([&] { streams.start(); });
  // A bound on a failure, not a speed measurement: it must not hang.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
  EXPECT_THAT(message, HasSubstr("cannot reach the Kafka cluster at 127.0.0.1:1 within 2000 ms"));
  EXPECT_EQ(streams.state(), KafkaStreams::State::error);
}

TEST_F(Errors, MismatchedPartitionCountsFailStartNamingBothTopics) {
  const std::string a = unique_name("copart-a");
  const std::string b = unique_name("copart-b");
  broker_.create_topic(a, 4);
  broker_.create_topic(b, 6);
  StreamsBuilder builder;
  builder.stream<std::string, std::string>(std::vector<std::string>{a, b}).to("out");
  Topology topology = builder.build();
  KafkaStreams streams(topology,
                       test::runtime_test_config(broker_.bootstrap_servers(), unique_name("cp")));
  const std::string message = test::message_of<StreamsException>([&] { streams.start(); });
  EXPECT_THAT(message, HasSubstr(fmt::format("'{}' (4 partitions), '{}' (6 partitions)", a, b)));
  EXPECT_THAT(message, HasSubstr("co-partitioned"));
}

TEST_F(Errors, ConfigWithoutBootstrapServersIsRejectedAtConstruction) {
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in").to("out");
  Topology topology = builder.build();
  StreamsConfig config;
  config.set("application.id", "no-bootstrap");
  const std::string message =
      test::message_of<ConfigException>([&] { KafkaStreams streams(topology, config); });
  EXPECT_THAT(message, HasSubstr("bootstrap.servers"));
}

}  // namespace
}  // namespace rivulet
