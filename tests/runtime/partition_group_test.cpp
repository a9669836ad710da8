// PartitionGroup: which buffered record a task processes next, idling for empty partitions,
// backpressure and the offsets it reports for commit.
#include "runtime/partition_group.h"

#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>

#include "common/logging.h"
#include "topology/processor_graph.h"
#include "topology/topology_impl.h"

namespace rivulet::runtime {
namespace {

using kafka::TopicPartition;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Records the values that reach the sink, in order.
class ListCollector final : public detail::RecordCollector {
 public:
  void send(std::string_view, std::optional<ByteView>, std::optional<ByteView> value, std::int64_t,
            const Headers&, std::optional<std::int32_t>) override {
    values.emplace_back(value->begin(), value->end());
  }
  std::int32_t partition_count(std::string_view) override { return 1; }
  std::vector<std::string> values;
};

// A task reading topics "a" and "b" (partition 0 of each) into one sink, and its group.
class GroupHarness {
 public:
  explicit GroupHarness(std::int64_t max_idle_ms, std::size_t max_buffered = 1000) {
    StreamsBuilder builder;
    builder.stream<std::string, std::string>(std::vector<std::string>{"a", "b"}).to("out");
    topology_ = builder.build();
    TaskSettings settings;
    settings.application_id = "app";
    settings.on_deserialization_error = ErrorAction::skip;
    task_ = std::make_unique<StreamTask>(
        TaskId{0, 0}, detail::ProcessorGraph::build(detail::topology_impl(topology_), 0, "app"),
        settings, collector_, [] { return std::int64_t{0}; },
        common::make_logger("partition-group-test", spdlog::level::off));
    task_->initialize();
    group_ = std::make_unique<PartitionGroup>(
        *task_, std::vector<TopicPartition>{{"a", 0}, {"b", 0}}, max_idle_ms, max_buffered);
  }

  void add(const std::string& topic, std::int64_t offset, std::int64_t timestamp,
           const std::string& value) {
    auto* bytes = new std::string(value);
    kafka::ConsumerRecord record;
    record.topic = topic == "a" ? kTopicA : kTopicB;
    record.partition = 0;
    record.offset = offset;
    record.timestamp = timestamp;
    record.value = ByteView(reinterpret_cast<const std::uint8_t*>(bytes->data()), bytes->size());
    record.owner =
        kafka::RecordOwner(bytes, [](void* text) { delete static_cast<std::string*>(text); });
    group_->add(std::move(record));
  }
  // Processes until the group stops making progress at wall-clock time `now`.
  void drain(std::int64_t now = 0) {
    while (group_->process_next(now)) {
    }
  }

  static constexpr std::string_view kTopicA = "a";
  static constexpr std::string_view kTopicB = "b";
  Topology topology_;
  ListCollector collector_;
  std::unique_ptr<StreamTask> task_;
  std::unique_ptr<PartitionGroup> group_;
};

TEST(PartitionGroup, ProcessesTheLowestTimestampAcrossPartitionsFirst) {
  GroupHarness h(0);
  h.add("a", 0, 10, "a10");
  h.add("a", 1, 30, "a30");
  h.add("b", 0, 20, "b20");
  h.add("b", 1, 40, "b40");
  h.drain();
  EXPECT_THAT(h.collector_.values, ElementsAre("a10", "b20", "a30", "b40"));
}

TEST(PartitionGroup, WaitsForAnEmptyPartitionUpToMaxTaskIdle) {
  GroupHarness h(100);
  h.add("a", 0, 10, "a10");
  EXPECT_FALSE(h.group_->process_next(1000));  // b is empty: start idling
  EXPECT_FALSE(h.group_->process_next(1099));
  EXPECT_THAT(h.collector_.values, IsEmpty());
  EXPECT_TRUE(h.group_->process_next(1100));  // waited max.task.idle.ms: go on without b
  EXPECT_THAT(h.collector_.values, ElementsAre("a10"));
}

TEST(PartitionGroup, DataArrivingWhileIdlingIsMergedInTimestampOrder) {
  GroupHarness h(100);
  h.add("a", 0, 30, "a30");
  EXPECT_FALSE(h.group_->process_next(0));
  h.add("b", 0, 20, "b20");  // the slow partition delivers an earlier record
  h.drain(50);
  EXPECT_THAT(h.collector_.values, ElementsAre("b20"));  // then waits for b again with a30
  h.drain(200);
  EXPECT_THAT(h.collector_.values, ElementsAre("b20", "a30"));
}

TEST(PartitionGroup, MinusOneNeverWaits) {
  GroupHarness h(-1);
  h.add("a", 0, 10, "a10");
  EXPECT_TRUE(h.group_->process_next(0));
  EXPECT_THAT(h.collector_.values, ElementsAre("a10"));
}

TEST(PartitionGroup, PausesAFullPartitionAndResumesItOnceDrained) {
  GroupHarness h(-1, 4);
  for (int i = 0; i < 5; ++i) h.add("a", i, i, "a" + std::to_string(i));
  std::vector<TopicPartition> pause, resume;
  h.group_->take_flow_changes(pause, resume);
  EXPECT_THAT(pause, ElementsAre(TopicPartition{"a", 0}));
  EXPECT_THAT(resume, IsEmpty());
  pause.clear();
  ASSERT_TRUE(h.group_->process_next(0));
  ASSERT_TRUE(h.group_->process_next(0));
  h.group_->take_flow_changes(pause, resume);  // 3 left: still above half the limit
  EXPECT_THAT(resume, IsEmpty());
  ASSERT_TRUE(h.group_->process_next(0));
  h.group_->take_flow_changes(pause, resume);  // 2 left
  EXPECT_THAT(pause, IsEmpty());
  EXPECT_THAT(resume, ElementsAre(TopicPartition{"a", 0}));
}

TEST(PartitionGroup, CommitsOnePastWhatWasProcessedOrSkippedAndOnlyWhatChanged) {
  GroupHarness h(-1);
  h.add("a", 7, 10, "a7");
  h.add("b", 3, 20, "b3");
  ASSERT_TRUE(h.group_->process_next(0));  // a7
  auto offsets = h.group_->offsets_to_commit();
  EXPECT_EQ(offsets, (std::map<TopicPartition, std::int64_t>{{{"a", 0}, 8}}));
  h.group_->mark_committed(offsets);
  EXPECT_TRUE(h.group_->offsets_to_commit().empty());
  h.drain();
  EXPECT_EQ(h.group_->offsets_to_commit(), (std::map<TopicPartition, std::int64_t>{{{"b", 0}, 4}}));
}

TEST(PartitionGroup, ClearDropsBufferedRecordsButKeepsProgress) {
  GroupHarness h(-1);
  h.add("a", 0, 10, "a0");
  h.add("a", 1, 20, "a1");
  ASSERT_TRUE(h.group_->process_next(0));
  h.group_->clear();
  EXPECT_EQ(h.group_->buffered(), 0u);
  EXPECT_FALSE(h.group_->process_next(0));
  EXPECT_EQ(h.group_->offsets_to_commit(), (std::map<TopicPartition, std::int64_t>{{{"a", 0}, 1}}));
}

}  // namespace
}  // namespace rivulet::runtime
