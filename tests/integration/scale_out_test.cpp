// Instances of one application share the partitions as one consumer group: instances join and
// leave, and every input record is processed at least once throughout.
#include <map>
#include <memory>
#include <set>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>

#include "kafka_test_support.h"

namespace rivulet {
namespace {

using test::PlainProducer;
using test::TopicReader;
using test::unique_name;
using test::wait_until;

constexpr int kPartitions = 6;

std::size_t task_count(const KafkaStreams& streams) {
  std::size_t n = 0;
  for (const auto& thread : streams.metadata_for_local_threads()) n += thread.active_tasks.size();
  return n;
}

std::set<TaskId> tasks_of(const KafkaStreams& streams) {
  std::set<TaskId> out;
  for (const auto& thread : streams.metadata_for_local_threads()) {
    out.insert(thread.active_tasks.begin(), thread.active_tasks.end());
  }
  return out;
}

TEST(ScaleOut, InstancesJoinAndOneCrashesAndEveryRecordIsProcessedAtLeastOnce) {
  DevBroker broker(DevBroker::Options{.brokers = 3});
  const std::string in = unique_name("scale-in");
  const std::string out = unique_name("scale-out");
  broker.create_topic(in, kPartitions);
  broker.create_topic(out, kPartitions);
  const std::string app = unique_name("scale-app");

  StreamsBuilder builder;
  builder.stream<std::string, std::string>(in).to(out);
  Topology topology = builder.build();
  auto make_instance = [&] {
    return std::make_unique<KafkaStreams>(
        topology, test::runtime_test_config(broker.bootstrap_servers(), app));
  };

  PlainProducer producer(broker.bootstrap_servers());
  int next = 0;
  auto produce_batch = [&](int n) {
    for (int i = 0; i < n; ++i, ++next) {
      producer.send(in, fmt::format("k{}", next % 97), fmt::format("v{}", next));
    }
    producer.flush();
  };

  produce_batch(1000);
  auto first = make_instance();
  first->start();
  ASSERT_TRUE(first->wait_for_running(std::chrono::seconds(60)));
  ASSERT_TRUE(wait_until([&] { return task_count(*first) == kPartitions; }));

  auto second = make_instance();
  second->start();
  ASSERT_TRUE(wait_until([&] {
    return task_count(*first) == kPartitions / 2 && task_count(*second) == kPartitions / 2;
  })) << "first has "
      << task_count(*first) << ", second " << task_count(*second);
  produce_batch(1000);

  auto third = make_instance();
  third->start();
  ASSERT_TRUE(wait_until([&] {
    return task_count(*first) == 2 && task_count(*second) == 2 && task_count(*third) == 2;
  })) << task_count(*first)
      << "/" << task_count(*second) << "/" << task_count(*third);
  // The three hold disjoint tasks covering every partition.
  std::set<TaskId> all;
  for (const auto* instance : {first.get(), second.get(), third.get()}) {
    for (const TaskId& id : tasks_of(*instance)) EXPECT_TRUE(all.insert(id).second);
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kPartitions));
  produce_batch(1000);

  // The third dies: no commit, no goodbye. Its partitions move once its session expires.
  detail::close_abruptly(*third);
  produce_batch(1000);
  ASSERT_TRUE(wait_until(
      [&] {
        return task_count(*first) == kPartitions / 2 && task_count(*second) == kPartitions / 2;
      },
      std::chrono::seconds(90)))
      << task_count(*first) << "/" << task_count(*second);
  std::set<TaskId> survivors = tasks_of(*first);
  for (const TaskId& id : tasks_of(*second)) EXPECT_TRUE(survivors.insert(id).second);
  EXPECT_EQ(survivors.size(), static_cast<std::size_t>(kPartitions));

  TopicReader reader(broker.bootstrap_servers(), out, kPartitions);
  std::set<std::string> seen;
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& record : reader.drain(std::chrono::milliseconds(100)))
          seen.insert(*record.value);
        return seen.size() == static_cast<std::size_t>(next);
      },
      std::chrono::seconds(60)))
      << "saw " << seen.size() << " of " << next;
  for (int i = 0; i < next; ++i) EXPECT_EQ(seen.count(fmt::format("v{}", i)), 1u) << i;

  EXPECT_TRUE(first->close(std::chrono::seconds(30)));
  EXPECT_TRUE(second->close(std::chrono::seconds(30)));
}

}  // namespace
}  // namespace rivulet
