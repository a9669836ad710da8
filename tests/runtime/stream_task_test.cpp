// StreamTask on its own, without the driver: a real processor graph, a collector that records what
// sinks send, and a clock the test controls.
#include "runtime/stream_task.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>

#include "common/logging.h"
#include "rivulet_test_helpers.h"
#include "topology/processor_graph.h"
#include "topology/topology_impl.h"

namespace rivulet::runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Str = std::string;

struct Sent {
  std::string topic;
  std::optional<Bytes> key;
  std::optional<Bytes> value;
  std::int64_t timestamp = 0;
  Headers headers;
  std::optional<std::int32_t> partition;
};

class FakeCollector final : public detail::RecordCollector {
 public:
  void send(std::string_view topic, std::optional<ByteView> key, std::optional<ByteView> value,
            std::int64_t timestamp, const Headers& headers,
            std::optional<std::int32_t> partition) override {
    Sent sent;
    sent.topic = std::string(topic);
    if (key) sent.key.emplace(key->begin(), key->end());
    if (value) sent.value.emplace(value->begin(), value->end());
    sent.timestamp = timestamp;
    sent.headers = headers;
    sent.partition = partition;
    records.push_back(std::move(sent));
  }
  std::int32_t partition_count(std::string_view topic) override {
    partition_count_asked.emplace_back(topic);
    return 6;
  }
  std::vector<Sent> records;
  std::vector<std::string> partition_count_asked;
};

// Owns a topology, and one task of one of its sub-topologies.
class TaskHarness {
 public:
  explicit TaskHarness(Topology topology, TaskSettings settings = {}, int subtopology = 0)
      : topology_(std::move(topology)) {
    if (settings.application_id.empty()) settings.application_id = "app";
    task_ = std::make_unique<StreamTask>(
        TaskId{subtopology, 0},
        detail::ProcessorGraph::build(detail::topology_impl(topology_), subtopology,
                                      settings.application_id),
        settings, collector_, [this] { return now_; },
        common::make_logger("stream-task-test", spdlog::level::off));
    task_->initialize();
  }

  // Processes a record of string key and value bytes.
  bool process(const std::string& topic, const std::string& key, const std::string& value,
               std::int64_t timestamp) {
    const Bytes key_bytes = to_bytes(key);
    const Bytes value_bytes = to_bytes(value);
    detail::RawRecord raw;
    raw.topic = topic;
    raw.offset = offset_++;
    raw.timestamp = timestamp;
    raw.key = ByteView(key_bytes);
    raw.value = ByteView(value_bytes);
    raw.headers = &headers_;
    return task_->process(raw);
  }

  StreamTask& task() { return *task_; }
  FakeCollector& collector() { return collector_; }
  std::int64_t now_ = 0;

 private:
  Topology topology_;
  FakeCollector collector_;
  Headers headers_;
  std::int64_t offset_ = 0;
  std::unique_ptr<StreamTask> task_;
};

Topology pass_through(const Str& from = "in", const Str& to = "out") {
  Topology topology;
  topology.add_source<Str, Str>("src", {from}).add_sink<Str, Str>("sink", to, {"src"});
  return topology;
}

TEST(StreamTask, ProcessSendsTheSerializedRecordToTheCollector) {
  TaskHarness harness(pass_through());
  EXPECT_TRUE(harness.process("in", "k", "v", 42));
  ASSERT_EQ(harness.collector().records.size(), 1u);
  const Sent& sent = harness.collector().records[0];
  EXPECT_EQ(sent.topic, "out");
  EXPECT_EQ(sent.key, to_bytes("k"));
  EXPECT_EQ(sent.value, to_bytes("v"));
  EXPECT_EQ(sent.timestamp, 42);
  EXPECT_FALSE(sent.partition.has_value());
  EXPECT_EQ(harness.task().metrics().records_processed, 1u);
}

TEST(StreamTask, ProcessReturnsFalseForARecordSkippedByAHandler) {
  Topology topology;
  topology.add_source<Str, std::int64_t>("src", {"in"});
  TaskSettings settings;
  settings.on_deserialization_error = ErrorAction::skip;
  TaskHarness harness(std::move(topology), settings);
  EXPECT_FALSE(harness.process("in", "k", "abc", 1));
  EXPECT_EQ(harness.task().metrics().deserialization_errors, 1u);
  EXPECT_EQ(harness.task().metrics().records_processed, 0u);
  EXPECT_EQ(harness.task().stream_time(), -1);  // a skipped record does not advance time
}

TEST(StreamTask, UnknownTopicIsRejectedNamingTaskAndTopic) {
  TaskHarness harness(pass_through());
  const std::string message =
      test::message_of<StreamsException>([&] { harness.process("elsewhere", "k", "v", 1); });
  EXPECT_THAT(message, HasSubstr("task 0_0"));
  EXPECT_THAT(message, HasSubstr("'elsewhere'"));
}

TEST(StreamTask, StreamTimeStartsUnknownAndIsTheMaximum) {
  TaskHarness harness(pass_through());
  EXPECT_EQ(harness.task().stream_time(), -1);
  harness.process("in", "k", "v", 30);
  harness.process("in", "k", "v", 10);
  EXPECT_EQ(harness.task().stream_time(), 30);
}

TEST(StreamTask, MaybePunctuateReturnsHowManyFired) {
  Topology topology;
  int stream_calls = 0;
  int wall_calls = 0;
  topology.add_source<Str, Str>("src", {"in"})
      .add_processor(
          "p",
          test::fn_supplier<Str, Str>(
              [](ProcessorContext<Void, Void>&, Record<Str, Str>) {},
              [&](ProcessorContext<Void, Void>& context) {
                context.schedule(std::chrono::milliseconds(10), PunctuationType::stream_time,
                                 [&](std::int64_t) { ++stream_calls; });
                context.schedule(std::chrono::milliseconds(10), PunctuationType::stream_time,
                                 [&](std::int64_t) { ++stream_calls; });
                context.schedule(std::chrono::milliseconds(10), PunctuationType::wall_clock_time,
                                 [&](std::int64_t) { ++wall_calls; });
              }),
          {"src"});
  TaskHarness harness(std::move(topology));
  EXPECT_EQ(harness.task().maybe_punctuate_stream_time(), 0);  // no data yet
  harness.process("in", "k", "v", 0);
  EXPECT_EQ(harness.task().maybe_punctuate_stream_time(), 2);
  EXPECT_EQ(harness.task().maybe_punctuate_stream_time(), 0);  // nothing new is due
  EXPECT_EQ(harness.task().maybe_punctuate_system_time(), 0);
  harness.now_ = 10;
  EXPECT_EQ(harness.task().maybe_punctuate_system_time(), 1);
  EXPECT_EQ(stream_calls, 2);
  EXPECT_EQ(wall_calls, 1);
  EXPECT_EQ(harness.task().metrics().punctuations, 3u);
}

TEST(StreamTask, ProcessorCanRequestACommit) {
  Topology topology;
  topology.add_source<Str, Str>("src", {"in"})
      .add_processor("p",
                     test::fn_supplier<Str, Str>(
                         [](ProcessorContext<Void, Void>& context, Record<Str, Str> record) {
                           if (record.value() == "commit") context.commit();
                         }),
                     {"src"});
  TaskHarness harness(std::move(topology));
  harness.process("in", "k", "v", 0);
  EXPECT_FALSE(harness.task().commit_requested());
  harness.process("in", "k", "commit", 0);
  EXPECT_TRUE(harness.task().commit_requested());
  harness.task().clear_commit_request();
  EXPECT_FALSE(harness.task().commit_requested());
}

TEST(StreamTask, CloseClosesProcessorsOnceAndTheDestructorDoesNotCloseAgain) {
  int closes = 0;
  {
    Topology topology;
    topology.add_source<Str, Str>("src", {"in"})
        .add_processor(
            "p",
            test::fn_supplier<Str, Str>([](ProcessorContext<Void, Void>&, Record<Str, Str>) {}, {},
                                        [&closes] { ++closes; }),
            {"src"});
    TaskHarness harness(std::move(topology));
    harness.task().close();
    harness.task().close();
    EXPECT_EQ(closes, 1);
  }
  EXPECT_EQ(closes, 1);
}

TEST(StreamTask, DestructorClosesAnOpenTask) {
  int closes = 0;
  {
    Topology topology;
    topology.add_source<Str, Str>("src", {"in"})
        .add_processor(
            "p",
            test::fn_supplier<Str, Str>([](ProcessorContext<Void, Void>&, Record<Str, Str>) {}, {},
                                        [&closes] { ++closes; }),
            {"src"});
    TaskHarness harness(std::move(topology));
  }
  EXPECT_EQ(closes, 1);
}

TEST(StreamTask, StreamPartitionerChoosesThePartitionGivenThePartitionCount) {
  Topology topology;
  Produced<Str, Str> produced;
  produced.partitioner = [](std::string_view, const Str& key, const Str&,
                            std::int32_t partitions) -> std::optional<std::int32_t> {
    return static_cast<std::int32_t>(key.size()) % partitions;
  };
  topology.add_source<Str, Str>("src", {"in"}).add_sink<Str, Str>("sink", "out", {"src"}, produced);
  TaskHarness harness(std::move(topology));
  harness.process("in", "abcdefgh", "v", 0);
  ASSERT_EQ(harness.collector().records.size(), 1u);
  EXPECT_EQ(harness.collector().records[0].partition, 2);  // 8 % 6
  EXPECT_THAT(harness.collector().partition_count_asked, ElementsAre("out"));
}

TEST(StreamTask, InternalTopicsAreResolvedWithTheApplicationId) {
  Topology topology;
  topology.add_internal_topic("x-repartition");
  topology.add_source<Str, Str>("src", {"in"}).add_sink<Str, Str>("sink", "x-repartition", {"src"});
  topology.add_source<Str, Str>("src2", {"x-repartition"})
      .add_sink<Str, Str>("sink2", "out", {"src2"});
  TaskSettings settings;
  settings.application_id = "billing";
  TaskHarness first(std::move(topology), settings, 0);
  first.process("in", "k", "v", 0);
  ASSERT_EQ(first.collector().records.size(), 1u);
  EXPECT_EQ(first.collector().records[0].topic, "billing-x-repartition");
}

TEST(StreamTask, SecondSubTopologyReadsTheResolvedInternalTopic) {
  Topology topology;
  topology.add_internal_topic("x-repartition");
  topology.add_source<Str, Str>("src", {"in"}).add_sink<Str, Str>("sink", "x-repartition", {"src"});
  topology.add_source<Str, Str>("src2", {"x-repartition"})
      .add_sink<Str, Str>("sink2", "out", {"src2"});
  TaskSettings settings;
  settings.application_id = "billing";
  TaskHarness second(std::move(topology), settings, 1);
  EXPECT_THAT(second.task().graph().source_topics(), ElementsAre("billing-x-repartition"));
  EXPECT_EQ(second.task().task_id().to_string(), "1_0");
  EXPECT_TRUE(second.process("billing-x-repartition", "k", "v", 0));
  EXPECT_EQ(second.collector().records.at(0).topic, "out");
}

}  // namespace
}  // namespace rivulet::runtime
