// The exception handlers configured through StreamsConfig: deserialization, processing and
// production failures, fail vs continue, metrics, and the dead-letter queue.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>
#include <rivulet/testing/topology_test_driver.h>

#include "rivulet_test_helpers.h"

namespace rivulet {
namespace {

using test::header_text;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TestRecord;
using testing::TopologyTestDriver;
using Str = std::string;
using KVi = KeyValue<Str, std::int64_t>;
using KV = KeyValue<Str, Str>;

// ---------------------------------------------------------------------------------------------
// Deserialization

// "in" (string keys, int64 values) -> "out".
Topology int64_pass_through() {
  StreamsBuilder builder;
  builder.stream<Str, std::int64_t>("in").to("out");
  return builder.build();
}

// Pipes a good record, then `bad` (3 bytes, not an int64), then another good record.
struct DeserializationRun {
  TopologyTestDriver& driver;
  void pipe_good(const Str& key, std::int64_t value) {
    driver.create_input_topic<Str, std::int64_t>("in").pipe_input(key, value, 10);
  }
  void pipe_bad(const Headers& headers = {}) {
    driver.create_input_topic<Str, Str>("in").pipe_input(
        TestRecord<Str, Str>("bad-key", "abc", 11, headers));
  }
};

TEST(DeserializationHandler, LogAndFailIsTheDefaultAndNamesSourceAndOffset) {
  TopologyTestDriver driver(int64_pass_through());
  DeserializationRun run{driver};
  run.pipe_good("a", 1);
  const std::string message = test::message_of<ProcessingFailedException>([&] { run.pipe_bad(); });
  EXPECT_THAT(message, HasSubstr("source 'KSTREAM-SOURCE-0000000000'"));
  EXPECT_THAT(message, HasSubstr("in-0 offset 1"));
  EXPECT_THAT(message, HasSubstr("Int64Serde"));
  EXPECT_EQ(driver.metrics().deserialization_errors, 0u);
}

TEST(DeserializationHandler, LogAndContinueSkipsCountsAndKeepsProcessing) {
  TopologyTestDriver driver(
      int64_pass_through(),
      StreamsConfig{{"default.deserialization.exception.handler", "log_and_continue"}});
  auto out = driver.create_output_topic<Str, std::int64_t>("out");
  DeserializationRun run{driver};
  run.pipe_good("a", 1);
  EXPECT_NO_THROW(run.pipe_bad());
  run.pipe_good("b", 2);
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KVi{"a", 1}, KVi{"b", 2}));
  EXPECT_EQ(driver.metrics().deserialization_errors, 1u);
  EXPECT_EQ(driver.metrics().records_processed, 2u);
  EXPECT_EQ(driver.metrics().dead_lettered, 0u);
}

TEST(DeserializationHandler, BadKeyIsHandledLikeABadValue) {
  StreamsBuilder builder;
  builder.stream<std::int64_t, Str>("in").to("out");
  TopologyTestDriver driver(
      builder.build(),
      StreamsConfig{{"default.deserialization.exception.handler", "log_and_continue"}});
  driver.create_input_topic<Str, Str>("in").pipe_input("xyz", "v");
  driver.create_input_topic<std::int64_t, Str>("in").pipe_input(7, "w");
  auto out = driver.create_output_topic<std::int64_t, Str>("out");
  EXPECT_THAT(out.read_values_to_list(), ElementsAre("w"));
  EXPECT_EQ(driver.metrics().deserialization_errors, 1u);
}

TEST(DeserializationHandler, DeadLetterQueueGetsTheOriginalBytesAndErrorHeaders) {
  TopologyTestDriver driver(
      int64_pass_through(),
      StreamsConfig{{"default.deserialization.exception.handler", "log_and_continue"},
                    {"errors.dead.letter.queue.topic.name", "dlq"}});
  DeserializationRun run{driver};
  run.pipe_good("a", 1);
  Headers original;
  original.add("correlation-id", "c-9");
  run.pipe_bad(original);
  run.pipe_good("b", 2);

  auto dlq = driver.create_output_topic<Bytes, Bytes>("dlq");
  ASSERT_EQ(dlq.queue_size(), 1u);
  const auto record = dlq.read_record();
  EXPECT_EQ(record.key, to_bytes("bad-key"));
  EXPECT_EQ(record.value, to_bytes("abc"));
  EXPECT_EQ(record.timestamp, 11);
  EXPECT_EQ(header_text(record.headers, "correlation-id"), "c-9");
  EXPECT_EQ(record.headers.begin()->key, "correlation-id");  // original headers first, kept
  EXPECT_EQ(header_text(record.headers, "__streams.errors.exception"),
            "rivulet::SerializationException");
  EXPECT_THAT(header_text(record.headers, "__streams.errors.message").value_or(""),
              HasSubstr("Int64Serde"));
  EXPECT_EQ(header_text(record.headers, "__streams.errors.topic"), "in");
  EXPECT_EQ(header_text(record.headers, "__streams.errors.partition"), "0");
  EXPECT_EQ(header_text(record.headers, "__streams.errors.offset"), "1");
  EXPECT_EQ(driver.metrics().dead_lettered, 1u);
  EXPECT_EQ(driver.metrics().deserialization_errors, 1u);
  auto out = driver.create_output_topic<Str, std::int64_t>("out");
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KVi{"a", 1}, KVi{"b", 2}));
}

TEST(DeserializationHandler, DeadLetterQueueKeepsANullKeyNull) {
  TopologyTestDriver driver(
      int64_pass_through(),
      StreamsConfig{{"default.deserialization.exception.handler", "log_and_continue"},
                    {"errors.dead.letter.queue.topic.name", "dlq"}});
  driver.create_input_topic<Str, Str>("in").pipe_value("abc");
  const auto record = driver.create_output_topic<Bytes, Bytes>("dlq").read_record();
  EXPECT_FALSE(record.key.has_value());
  EXPECT_EQ(record.value, to_bytes("abc"));
}

// ---------------------------------------------------------------------------------------------
// Processing

// src -> thrower (throws on value "boom") -> sink "out"; src -> witness -> sink "witness-out".
Topology throwing_topology() {
  Topology topology;
  topology.add_source<Str, Str>("src", {"in"})
      .add_processor("thrower",
                     test::fn_supplier<Str, Str, Str, Str>(
                         [](ProcessorContext<Str, Str>& context, Record<Str, Str> record) {
                           if (record.value() == "boom")
                             throw std::runtime_error("cannot handle boom");
                           context.forward(std::move(record));
                         }),
                     {"src"})
      .add_processor("witness", test::forward_all_supplier<Str, Str>(), {"src"})
      .add_sink<Str, Str>("sink", "out", {"thrower"})
      .add_sink<Str, Str>("witness-sink", "witness-out", {"witness"});
  return topology;
}

TEST(ProcessingHandler, LogAndFailIsTheDefaultAndNamesProcessorAndRecord) {
  TopologyTestDriver driver(throwing_topology());
  auto in = driver.create_input_topic<Str, Str>("in");
  in.pipe_input("a", "fine");
  const std::string message =
      test::message_of<ProcessingFailedException>([&] { in.pipe_input("b", "boom"); });
  EXPECT_THAT(message, HasSubstr("processor 'thrower'"));
  EXPECT_THAT(message, HasSubstr("in-0 offset 1"));
  EXPECT_THAT(message, HasSubstr("cannot handle boom"));
  EXPECT_THAT(message, HasSubstr("task 0_0"));
}

TEST(ProcessingHandler, LogAndContinueSkipsTheRecordInThatProcessorOnly) {
  TopologyTestDriver driver(throwing_topology(),
                            StreamsConfig{{"processing.exception.handler", "log_and_continue"}});
  auto in = driver.create_input_topic<Str, Str>("in");
  auto out = driver.create_output_topic<Str, Str>("out");
  auto witness = driver.create_output_topic<Str, Str>("witness-out");
  in.pipe_input("a", "fine");
  EXPECT_NO_THROW(in.pipe_input("b", "boom"));
  in.pipe_input("c", "also fine");
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KV{"a", "fine"}, KV{"c", "also fine"}));
  // The sibling after the failing processor still received the failed record.
  EXPECT_THAT(witness.read_key_values_to_list(),
              ElementsAre(KV{"a", "fine"}, KV{"b", "boom"}, KV{"c", "also fine"}));
  EXPECT_EQ(driver.metrics().processing_errors, 1u);
  EXPECT_EQ(driver.metrics().records_processed, 3u);
}

TEST(ProcessingHandler, ThrowingDslPredicateIsHandledToo) {
  StreamsBuilder builder;
  builder.stream<Str, Str>("in")
      .filter([](const Str&, const Str& v) {
        if (v.empty()) throw std::invalid_argument("empty value");
        return true;
      })
      .to("out");
  TopologyTestDriver driver(builder.build(),
                            StreamsConfig{{"processing.exception.handler", "log_and_continue"}});
  auto in = driver.create_input_topic<Str, Str>("in");
  auto out = driver.create_output_topic<Str, Str>("out");
  in.pipe_input("a", "");
  in.pipe_input("b", "x");
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KV{"b", "x"}));
  EXPECT_EQ(driver.metrics().processing_errors, 1u);
}

TEST(ProcessingHandler, DeadLetterQueueGetsTheSourceRecord) {
  TopologyTestDriver driver(throwing_topology(),
                            StreamsConfig{{"processing.exception.handler", "log_and_continue"},
                                          {"errors.dead.letter.queue.topic.name", "dlq"}});
  auto in = driver.create_input_topic<Str, Str>("in");
  in.pipe_input("a", "fine");
  in.pipe_input(TestRecord<Str, Str>("b", "boom", 33, Headers{{"h", to_bytes("1")}}));
  auto dlq = driver.create_output_topic<Str, Str>("dlq");
  ASSERT_EQ(dlq.queue_size(), 1u);
  const auto record = dlq.read_record();
  EXPECT_EQ(record.key, "b");
  EXPECT_EQ(record.value, "boom");
  EXPECT_EQ(record.timestamp, 33);
  EXPECT_EQ(header_text(record.headers, "h"), "1");
  EXPECT_EQ(header_text(record.headers, "__streams.errors.exception"), "std::runtime_error");
  EXPECT_EQ(header_text(record.headers, "__streams.errors.message"), "cannot handle boom");
  EXPECT_EQ(header_text(record.headers, "__streams.errors.topic"), "in");
  EXPECT_EQ(header_text(record.headers, "__streams.errors.partition"), "0");
  EXPECT_EQ(header_text(record.headers, "__streams.errors.offset"), "1");
  EXPECT_EQ(driver.metrics().dead_lettered, 1u);
}

// ---------------------------------------------------------------------------------------------
// Production

// "in" -> sink "out" whose value serde throws on "poison", and sink "copy" with plain serdes.
Topology poison_sink_topology() {
  StreamsBuilder builder;
  auto stream = builder.stream<Str, Str>("in");
  stream.to("out", Produced<Str, Str>::with(StringSerde{}, test::PoisonStringSerde{}));
  stream.to("copy");
  return builder.build();
}

TEST(ProductionHandler, FailIsTheDefaultAndNamesSinkAndTopic) {
  TopologyTestDriver driver(poison_sink_topology());
  auto in = driver.create_input_topic<Str, Str>("in");
  in.pipe_input("a", "ok");
  const std::string message =
      test::message_of<ProcessingFailedException>([&] { in.pipe_input("b", "poison"); });
  EXPECT_THAT(message, HasSubstr("sink 'KSTREAM-SINK-0000000001'"));
  EXPECT_THAT(message, HasSubstr("topic 'out'"));
  EXPECT_THAT(message, HasSubstr("cannot serialize poison"));
  EXPECT_THAT(message, HasSubstr("in-0 offset 1"));
}

TEST(ProductionHandler, ContinueDropsTheOutputRecordAndCountsIt) {
  TopologyTestDriver driver(poison_sink_topology(),
                            StreamsConfig{{"default.production.exception.handler", "continue"}});
  auto in = driver.create_input_topic<Str, Str>("in");
  auto out = driver.create_output_topic<Str, Str>("out");
  auto copy = driver.create_output_topic<Str, Str>("copy");
  in.pipe_input("a", "ok");
  EXPECT_NO_THROW(in.pipe_input("b", "poison"));
  in.pipe_input("c", "fine");
  EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(KV{"a", "ok"}, KV{"c", "fine"}));
  EXPECT_THAT(copy.read_key_values_to_list(),
              ElementsAre(KV{"a", "ok"}, KV{"b", "poison"}, KV{"c", "fine"}));
  EXPECT_EQ(driver.metrics().production_errors, 1u);
  EXPECT_EQ(driver.metrics().processing_errors, 0u);
}

TEST(ProductionHandler, DeadLetterQueueGetsTheSourceRecord) {
  TopologyTestDriver driver(poison_sink_topology(),
                            StreamsConfig{{"default.production.exception.handler", "continue"},
                                          {"errors.dead.letter.queue.topic.name", "dlq"}});
  driver.create_input_topic<Str, Str>("in").pipe_input("b", "poison");
  auto dlq = driver.create_output_topic<Str, Str>("dlq");
  ASSERT_EQ(dlq.queue_size(), 1u);
  const auto record = dlq.read_record();
  EXPECT_EQ(record.key, "b");
  EXPECT_EQ(record.value, "poison");
  EXPECT_EQ(header_text(record.headers, "__streams.errors.exception"),
            "rivulet::SerializationException");
  EXPECT_EQ(header_text(record.headers, "__streams.errors.offset"), "0");
}

TEST(ProductionHandler, TopicNameExtractorThatThrowsIsAProductionError) {
  StreamsBuilder builder;
  builder.stream<Str, Str>("in").to([](const Record<Str, Str>& record) -> Str {
    if (record.key().empty()) throw std::runtime_error("no topic for an empty key");
    return "topic-" + record.key();
  });
  TopologyTestDriver driver(builder.build(),
                            StreamsConfig{{"default.production.exception.handler", "continue"}});
  auto in = driver.create_input_topic<Str, Str>("in");
  in.pipe_input("", "x");
  in.pipe_input("a", "y");
  EXPECT_EQ(driver.metrics().production_errors, 1u);
  EXPECT_EQ(driver.produced_topic_names(), std::set<Str>{"topic-a"});
}

}  // namespace
}  // namespace rivulet
