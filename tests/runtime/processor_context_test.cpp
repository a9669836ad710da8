// The Processor API at runtime: what a ProcessorContext offers while records are processed.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>
#include <rivulet/testing/topology_test_driver.h>

#include "rivulet_test_helpers.h"

namespace rivulet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TopologyTestDriver;
using Str = std::string;
using Context = ProcessorContext<Str, Str>;
using KV = KeyValue<Str, Str>;

// src -> router -> {sink-a -> out-a, sink-b -> out-b}; `route` decides what the router forwards.
Topology router_topology(std::function<void(Context&, Record<Str, Str>)> route) {
  Topology topology;
  topology.add_source<Str, Str>("src", {"in"})
      .add_processor("router", test::fn_supplier<Str, Str, Str, Str>(std::move(route)), {"src"})
      .add_sink<Str, Str>("sink-a", "out-a", {"router"})
      .add_sink<Str, Str>("sink-b", "out-b", {"router"});
  return topology;
}

TEST(ProcessorContext, ForwardSendsToEveryChild) {
  TopologyTestDriver driver(router_topology(
      [](Context& context, Record<Str, Str> record) { context.forward(std::move(record)); }));
  auto in = driver.create_input_topic<Str, Str>("in");
  auto out_a = driver.create_output_topic<Str, Str>("out-a");
  auto out_b = driver.create_output_topic<Str, Str>("out-b");
  in.pipe_input("k", "v");
  EXPECT_THAT(out_a.read_key_values_to_list(), ElementsAre(KV{"k", "v"}));
  EXPECT_THAT(out_b.read_key_values_to_list(), ElementsAre(KV{"k", "v"}));
}

TEST(ProcessorContext, ForwardOfAConstRecordSendsACopyToEveryChild) {
  TopologyTestDriver driver(router_topology([](Context& context, Record<Str, Str> record) {
    const Record<Str, Str>& same = record;
    context.forward(same);
    context.forward(same);
  }));
  auto in = driver.create_input_topic<Str, Str>("in");
  auto out_a = driver.create_output_topic<Str, Str>("out-a");
  in.pipe_input("k", "v");
  EXPECT_THAT(out_a.read_key_values_to_list(), ElementsAre(KV{"k", "v"}, KV{"k", "v"}));
}

TEST(ProcessorContext, ForwardToANamedChildSendsToThatChildOnly) {
  TopologyTestDriver driver(router_topology([](Context& context, Record<Str, Str> record) {
    const std::string target = record.key() == "a" ? "sink-a" : "sink-b";
    context.forward(std::move(record), target);
  }));
  auto in = driver.create_input_topic<Str, Str>("in");
  auto out_a = driver.create_output_topic<Str, Str>("out-a");
  auto out_b = driver.create_output_topic<Str, Str>("out-b");
  in.pipe_input("a", "1");
  in.pipe_input("b", "2");
  in.pipe_input("a", "3");
  EXPECT_THAT(out_a.read_key_values_to_list(), ElementsAre(KV{"a", "1"}, KV{"a", "3"}));
  EXPECT_THAT(out_b.read_key_values_to_list(), ElementsAre(KV{"b", "2"}));
}

TEST(ProcessorContext, ForwardToAnUnknownChildThrowsStreamsException) {
  std::string message;
  TopologyTestDriver driver(router_topology([&message](Context& context, Record<Str, Str> record) {
    message = test::message_of<StreamsException>(
        [&] { context.forward(std::move(record), "no-such-child"); });
  }));
  auto in = driver.create_input_topic<Str, Str>("in");
  in.pipe_input("k", "v");
  EXPECT_THAT(message, HasSubstr("'router'"));
  EXPECT_THAT(message, HasSubstr("'no-such-child'"));
  EXPECT_TRUE(driver.produced_topic_names().empty());
}

TEST(ProcessorContext, UnhandledForwardToAnUnknownChildFailsThroughTheProcessingHandler) {
  TopologyTestDriver driver(router_topology([](Context& context, Record<Str, Str> record) {
    context.forward(std::move(record), "no-such-child");
  }));
  auto in = driver.create_input_topic<Str, Str>("in");
  const std::string message =
      test::message_of<ProcessingFailedException>([&] { in.pipe_input("k", "v"); });
  EXPECT_THAT(message, HasSubstr("'no-such-child'"));
}

TEST(ProcessorContext, ForwardToAGrandchildByNameIsRejected) {
  Topology topology;
  std::string message;
  topology.add_source<Str, Str>("src", {"in"})
      .add_processor("first",
                     test::fn_supplier<Str, Str, Str, Str>(
                         [&message](Context& context, Record<Str, Str> record) {
                           message = test::message_of<StreamsException>(
                               [&] { context.forward(std::move(record), "sink"); });
                         }),
                     {"src"})
      .add_processor("second", test::forward_all_supplier<Str, Str>(), {"first"})
      .add_sink<Str, Str>("sink", "out", {"second"});
  TopologyTestDriver driver(topology);
  driver.create_input_topic<Str, Str>("in").pipe_input("k", "v");
  EXPECT_THAT(message, HasSubstr("'sink'"));
}

TEST(ProcessorContext, FanOutGivesEachChildItsOwnCopy) {
  // The first child moves the value out; the second must still see the original.
  Topology topology;
  std::vector<std::string> seen;
  topology.add_source<Str, Str>("src", {"in"})
      .add_processor("thief", test::fn_supplier<Str, Str>([&seen](auto&, Record<Str, Str> record) {
                       std::string stolen = std::move(record.value());
                       seen.push_back("thief:" + stolen);
                     }),
                     {"src"})
      .add_processor("witness",
                     test::fn_supplier<Str, Str>([&seen](auto&, Record<Str, Str> record) {
                       seen.push_back("witness:" + record.value());
                     }),
                     {"src"});
  TopologyTestDriver driver(topology);
  driver.create_input_topic<Str, Str>("in").pipe_input("k", "value");
  EXPECT_THAT(seen, ElementsAre("thief:value", "witness:value"));
}

TEST(ProcessorContext, RecordMetadataGivesTopicPartitionAndPerTopicOffsets) {
  std::vector<std::optional<RecordMetadata>> seen;
  Topology topology;
  topology.add_source<Str, Str>("src", {"a", "b"})
      .add_processor("p",
                     test::fn_supplier<Str, Str>(
                         [&seen](ProcessorContext<Void, Void>& context, Record<Str, Str>) {
                           seen.push_back(context.record_metadata());
                         }),
                     {"src"});
  TopologyTestDriver driver(topology);
  auto a = driver.create_input_topic<Str, Str>("a");
  auto b = driver.create_input_topic<Str, Str>("b");
  a.pipe_input("k", "1");
  a.pipe_input("k", "2");
  b.pipe_input("k", "3");
  a.pipe_input("k", "4");
  EXPECT_THAT(seen, ElementsAre(RecordMetadata{"a", 0, 0}, RecordMetadata{"a", 0, 1},
                                RecordMetadata{"b", 0, 0}, RecordMetadata{"a", 0, 2}));
}

TEST(ProcessorContext, RecordMetadataIsAbsentInAPunctuator) {
  std::vector<bool> present_in_punctuator;
  bool present_in_process = false;
  Topology topology;
  topology.add_source<Str, Str>("src", {"in"})
      .add_processor(
          "p",
          test::fn_supplier<Str, Str>(
              [&](ProcessorContext<Void, Void>& context, Record<Str, Str>) {
                present_in_process = context.record_metadata().has_value();
              },
              [&](ProcessorContext<Void, Void>& context) {
                context.schedule(
                    std::chrono::milliseconds(10), PunctuationType::stream_time,
                    [&present_in_punctuator, &context](std::int64_t) {
                      present_in_punctuator.push_back(context.record_metadata().has_value());
                    });
                context.schedule(
                    std::chrono::milliseconds(10), PunctuationType::wall_clock_time,
                    [&present_in_punctuator, &context](std::int64_t) {
                      present_in_punctuator.push_back(context.record_metadata().has_value());
                    });
              }),
          {"src"});
  TopologyTestDriver driver(topology);
  driver.create_input_topic<Str, Str>("in").pipe_input("k", "v", 5);
  driver.advance_wall_clock_time(std::chrono::milliseconds(10));
  EXPECT_TRUE(present_in_process);
  EXPECT_THAT(present_in_punctuator, ElementsAre(false, false));
}

TEST(ProcessorContext, TaskIdIsSubtopologyUnderscorePartition) {
  std::vector<std::string> ids;
  auto record_task = [&ids](ProcessorContext<Void, Void>& context, Record<Str, Str>) {
    ids.push_back(context.task_id().to_string());
  };
  Topology topology;
  topology.add_source<Str, Str>("b-src", {"b"})
      .add_processor("b-proc", test::fn_supplier<Str, Str>(record_task), {"b-src"})
      .add_source<Str, Str>("a-src", {"a"})
      .add_processor("a-proc", test::fn_supplier<Str, Str>(record_task), {"a-src"});
  TopologyTestDriver driver(topology);
  driver.create_input_topic<Str, Str>("a").pipe_input("k", "v");
  driver.create_input_topic<Str, Str>("b").pipe_input("k", "v");
  EXPECT_THAT(ids, ElementsAre("0_0", "1_0"));
  EXPECT_EQ((TaskId{3, 7}.to_string()), "3_7");
}

TEST(ProcessorContext, ApplicationIdAndProcessorNameComeFromConfigAndTopology) {
  std::string application_id;
  std::string processor_name;
  Topology topology;
  topology.add_source<Str, Str>("src", {"in"})
      .add_processor(
          "my-proc",
          test::fn_supplier<Str, Str>([](ProcessorContext<Void, Void>&, Record<Str, Str>) {},
                                      [&](ProcessorContext<Void, Void>& context) {
                                        application_id = context.application_id();
                                        processor_name = context.processor_name();
                                      }),
          {"src"});
  TopologyTestDriver driver(topology, StreamsConfig{{"application.id", "fleet-monitor"}});
  EXPECT_EQ(application_id, "fleet-monitor");
  EXPECT_EQ(processor_name, "my-proc");
}

TEST(ProcessorContext, ApplicationIdDefaultsToTheDriversId) {
  std::string application_id;
  Topology topology;
  topology.add_source<Str, Str>("src", {"in"})
      .add_processor(
          "p",
          test::fn_supplier<Str, Str>([](ProcessorContext<Void, Void>&, Record<Str, Str>) {},
                                      [&](ProcessorContext<Void, Void>& context) {
                                        application_id = context.application_id();
                                      }),
          {"src"});
  TopologyTestDriver driver(topology);
  EXPECT_EQ(application_id, "topology-test-driver");
}

TEST(ProcessorContext, SystemTimeIsTheDriversWallClock) {
  std::vector<std::int64_t> times;
  Topology topology;
  topology.add_source<Str, Str>("src", {"in"})
      .add_processor("p",
                     test::fn_supplier<Str, Str>(
                         [&times](ProcessorContext<Void, Void>& context, Record<Str, Str>) {
                           times.push_back(context.current_system_time_ms());
                         }),
                     {"src"});
  TopologyTestDriver driver(topology, {}, 5000);
  auto in = driver.create_input_topic<Str, Str>("in");
  in.pipe_input("k", "v");
  driver.advance_wall_clock_time(std::chrono::milliseconds(250));
  in.pipe_input("k", "v");
  EXPECT_THAT(times, ElementsAre(5000, 5250));
  EXPECT_EQ(driver.wall_clock_time_ms(), 5250);
}

struct Lifecycle {
  int inits = 0;
  int processed = 0;
  int closes = 0;
  std::vector<std::string> events;
};

TEST(ProcessorContext, InitBeforeFirstRecordAndCloseOnDriverDestruction) {
  auto life = std::make_shared<Lifecycle>();
  Topology topology;
  auto supplier_for = [life](const std::string& name) {
    return test::fn_supplier<Str, Str, Str, Str>(
        [life, name](Context& context, Record<Str, Str> record) {
          ++life->processed;
          life->events.push_back("process " + name);
          context.forward(std::move(record));
        },
        [life, name](Context&) {
          ++life->inits;
          life->events.push_back("init " + name);
        },
        [life, name] {
          ++life->closes;
          life->events.push_back("close " + name);
        });
  };
  topology.add_source<Str, Str>("src", {"in"})
      .add_processor("parent", supplier_for("parent"), {"src"})
      .add_processor("child", supplier_for("child"), {"parent"});
  {
    TopologyTestDriver driver(topology);
    EXPECT_EQ(life->inits, 2);
    EXPECT_EQ(life->closes, 0);
    driver.create_input_topic<Str, Str>("in").pipe_input("k", "v");
    EXPECT_EQ(life->processed, 2);
    EXPECT_EQ(life->closes, 0);
  }
  EXPECT_EQ(life->closes, 2);
  // Parents are initialized first, children closed first.
  EXPECT_THAT(life->events, ElementsAre("init parent", "init child", "process parent",
                                        "process child", "close child", "close parent"));
}

TEST(ProcessorContext, EachDriverGetsItsOwnProcessorInstances) {
  auto created = std::make_shared<int>(0);
  Topology topology;
  topology.add_source<Str, Str>("src", {"in"})
      .add_processor("p",
                     [created] {
                       ++*created;
                       return std::make_unique<test::FnProcessor<Str, Str>>(
                           [](ProcessorContext<Void, Void>&, Record<Str, Str>) {});
                     },
                     {"src"});
  TopologyTestDriver first(topology);
  TopologyTestDriver second(topology);
  EXPECT_EQ(*created, 2);
}

}  // namespace
}  // namespace rivulet
