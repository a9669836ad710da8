// Punctuation: stream-time punctuators driven by data, wall-clock ones driven by the driver's
// simulated clock, cancellation, and punctuators that forward records.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>
#include <rivulet/testing/topology_test_driver.h>

#include "rivulet_test_helpers.h"

namespace rivulet {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::TopologyTestDriver;
using Str = std::string;

// A topology whose one processor runs `init` (where punctuators get scheduled) and ignores records.
Topology scheduling_topology(std::function<void(ProcessorContext<Str, Str>&)> init) {
  Topology topology;
  topology.add_source<Str, Str>("src", {"in"})
      .add_processor("p",
                     test::fn_supplier<Str, Str, Str, Str>(
                         [](ProcessorContext<Str, Str>&, Record<Str, Str>) {}, std::move(init)),
                     {"src"})
      .add_sink<Str, Str>("sink", "out", {"p"});
  return topology;
}

TEST(StreamTimePunctuation, DoesNotFireBeforeAnyData) {
  std::vector<std::int64_t> fired;
  TopologyTestDriver driver(scheduling_topology([&](ProcessorContext<Str, Str>& context) {
    context.schedule(milliseconds(10), PunctuationType::stream_time,
                     [&](std::int64_t t) { fired.push_back(t); });
  }));
  driver.advance_wall_clock_time(milliseconds(1000));
  EXPECT_THAT(fired, IsEmpty());
  EXPECT_EQ(driver.metrics().punctuations, 0u);
}

TEST(StreamTimePunctuation, IsAlignedToZeroAndFiresAsSoonAsDataArrives) {
  std::vector<std::int64_t> fired;
  TopologyTestDriver driver(scheduling_topology([&](ProcessorContext<Str, Str>& context) {
    context.schedule(milliseconds(10), PunctuationType::stream_time,
                     [&](std::int64_t t) { fired.push_back(t); });
  }));
  auto in = driver.create_input_topic<Str, Str>("in");
  in.pipe_input("k", "v", 3);  // first schedule time is 0: fires at once with stream time 3
  EXPECT_THAT(fired, ElementsAre(3));
  in.pipe_input("k", "v", 9);  // next is 10
  EXPECT_THAT(fired, ElementsAre(3));
  in.pipe_input("k", "v", 10);
  EXPECT_THAT(fired, ElementsAre(3, 10));
  in.pipe_input("k", "v", 19);
  in.pipe_input("k", "v", 20);
  EXPECT_THAT(fired, ElementsAre(3, 10, 20));
  EXPECT_EQ(driver.metrics().punctuations, 3u);
}

TEST(StreamTimePunctuation, FiresOncePerAdvanceWhenIntervalsAreSkipped) {
  std::vector<std::int64_t> fired;
  TopologyTestDriver driver(scheduling_topology([&](ProcessorContext<Str, Str>& context) {
    context.schedule(milliseconds(10), PunctuationType::stream_time,
                     [&](std::int64_t t) { fired.push_back(t); });
  }));
  auto in = driver.create_input_topic<Str, Str>("in");
  in.pipe_input("k", "v", 0);
  in.pipe_input("k", "v", 47);  // skips 10, 20, 30, 40: one punctuation with the stream time
  EXPECT_THAT(fired, ElementsAre(0, 47));
  in.pipe_input("k", "v", 49);  // the next one is at 50, not 47 + 10
  EXPECT_THAT(fired, ElementsAre(0, 47));
  in.pipe_input("k", "v", 50);
  EXPECT_THAT(fired, ElementsAre(0, 47, 50));
}

TEST(StreamTimePunctuation, OutOfOrderRecordsDoNotFireIt) {
  std::vector<std::int64_t> fired;
  TopologyTestDriver driver(scheduling_topology([&](ProcessorContext<Str, Str>& context) {
    context.schedule(milliseconds(10), PunctuationType::stream_time,
                     [&](std::int64_t t) { fired.push_back(t); });
  }));
  auto in = driver.create_input_topic<Str, Str>("in");
  in.pipe_input("k", "v", 25);
  in.pipe_input("k", "v", 5);
  in.pipe_input("k", "v", 29);
  EXPECT_THAT(fired, ElementsAre(25));
  in.pipe_input("k", "v", 30);
  EXPECT_THAT(fired, ElementsAre(25, 30));
}

TEST(StreamTimePunctuation, IsNotFiredByWallClockTime) {
  std::vector<std::int64_t> fired;
  TopologyTestDriver driver(scheduling_topology([&](ProcessorContext<Str, Str>& context) {
    context.schedule(milliseconds(10), PunctuationType::stream_time,
                     [&](std::int64_t t) { fired.push_back(t); });
  }));
  driver.create_input_topic<Str, Str>("in").pipe_input("k", "v", 0);
  driver.advance_wall_clock_time(milliseconds(100));
  EXPECT_THAT(fired, ElementsAre(0));
}

TEST(StreamTimePunctuation, CancelStopsFurtherPunctuations) {
  std::vector<std::int64_t> fired;
  auto handle = std::make_shared<Cancellable>();
  TopologyTestDriver driver(scheduling_topology([&](ProcessorContext<Str, Str>& context) {
    *handle = context.schedule(milliseconds(10), PunctuationType::stream_time,
                               [&](std::int64_t t) { fired.push_back(t); });
  }));
  auto in = driver.create_input_topic<Str, Str>("in");
  in.pipe_input("k", "v", 0);
  in.pipe_input("k", "v", 10);
  handle->cancel();
  in.pipe_input("k", "v", 20);
  in.pipe_input("k", "v", 30);
  EXPECT_THAT(fired, ElementsAre(0, 10));
}

TEST(StreamTimePunctuation, PunctuatorCanCancelItself) {
  std::vector<std::int64_t> fired;
  auto handle = std::make_shared<Cancellable>();
  TopologyTestDriver driver(scheduling_topology([&](ProcessorContext<Str, Str>& context) {
    *handle = context.schedule(milliseconds(10), PunctuationType::stream_time, [&](std::int64_t t) {
      fired.push_back(t);
      if (t >= 10) handle->cancel();
    });
  }));
  auto in = driver.create_input_topic<Str, Str>("in");
  for (std::int64_t t : {0, 10, 20, 30}) in.pipe_input("k", "v", t);
  EXPECT_THAT(fired, ElementsAre(0, 10));
}

TEST(StreamTimePunctuation, DroppingTheHandleDoesNotCancel) {
  std::vector<std::int64_t> fired;
  TopologyTestDriver driver(scheduling_topology([&](ProcessorContext<Str, Str>& context) {
    (void)context.schedule(milliseconds(10), PunctuationType::stream_time,
                           [&](std::int64_t t) { fired.push_back(t); });
  }));
  auto in = driver.create_input_topic<Str, Str>("in");
  in.pipe_input("k", "v", 0);
  in.pipe_input("k", "v", 10);
  EXPECT_THAT(fired, ElementsAre(0, 10));
}

TEST(StreamTimePunctuation, IntervalBelowOneMillisecondIsRejected) {
  const std::string message = test::message_of<StreamsException>([] {
    TopologyTestDriver driver(scheduling_topology([](ProcessorContext<Str, Str>& context) {
      context.schedule(milliseconds(0), PunctuationType::stream_time, [](std::int64_t) {});
    }));
  });
  EXPECT_THAT(message, HasSubstr("'p'"));
  EXPECT_THAT(message, HasSubstr("at least 1 ms"));
}

TEST(WallClockPunctuation, FirstFiresOneIntervalAfterScheduling) {
  std::vector<std::int64_t> fired;
  TopologyTestDriver driver(scheduling_topology([&](ProcessorContext<Str, Str>& context) {
                              context.schedule(milliseconds(100), PunctuationType::wall_clock_time,
                                               [&](std::int64_t t) { fired.push_back(t); });
                            }),
                            {}, 1000);
  driver.advance_wall_clock_time(milliseconds(99));
  EXPECT_THAT(fired, IsEmpty());
  driver.advance_wall_clock_time(milliseconds(1));
  EXPECT_THAT(fired, ElementsAre(1100));
  driver.advance_wall_clock_time(milliseconds(100));
  EXPECT_THAT(fired, ElementsAre(1100, 1200));
}

TEST(WallClockPunctuation, SkippedIntervalsFireOnce) {
  std::vector<std::int64_t> fired;
  TopologyTestDriver driver(scheduling_topology([&](ProcessorContext<Str, Str>& context) {
                              context.schedule(milliseconds(100), PunctuationType::wall_clock_time,
                                               [&](std::int64_t t) { fired.push_back(t); });
                            }),
                            {}, 1000);
  driver.advance_wall_clock_time(milliseconds(450));  // 1100..1400 due: one call, at 1450
  EXPECT_THAT(fired, ElementsAre(1450));
  driver.advance_wall_clock_time(milliseconds(49));  // next is 1500
  EXPECT_THAT(fired, ElementsAre(1450));
  driver.advance_wall_clock_time(milliseconds(1));
  EXPECT_THAT(fired, ElementsAre(1450, 1500));
}

TEST(WallClockPunctuation, IsNotFiredByData) {
  std::vector<std::int64_t> fired;
  TopologyTestDriver driver(scheduling_topology([&](ProcessorContext<Str, Str>& context) {
    context.schedule(milliseconds(10), PunctuationType::wall_clock_time,
                     [&](std::int64_t t) { fired.push_back(t); });
  }));
  auto in = driver.create_input_topic<Str, Str>("in");
  in.pipe_input("k", "v", 0);
  in.pipe_input("k", "v", 1000);
  EXPECT_THAT(fired, IsEmpty());
}

TEST(WallClockPunctuation, CancelStopsIt) {
  std::vector<std::int64_t> fired;
  auto handle = std::make_shared<Cancellable>();
  TopologyTestDriver driver(scheduling_topology([&](ProcessorContext<Str, Str>& context) {
    *handle = context.schedule(milliseconds(10), PunctuationType::wall_clock_time,
                               [&](std::int64_t t) { fired.push_back(t); });
  }));
  driver.advance_wall_clock_time(milliseconds(10));
  handle->cancel();
  driver.advance_wall_clock_time(milliseconds(10));
  EXPECT_THAT(fired, ElementsAre(10));
}

TEST(WallClockPunctuation, ScheduledDuringProcessingStartsFromTheCurrentWallClock) {
  std::vector<std::int64_t> fired;
  Topology topology;
  topology.add_source<Str, Str>("src", {"in"})
      .add_processor(
          "p",
          test::fn_supplier<Str, Str>([&](ProcessorContext<Void, Void>& context, Record<Str, Str>) {
            context.schedule(milliseconds(30), PunctuationType::wall_clock_time,
                             [&](std::int64_t t) { fired.push_back(t); });
          }),
          {"src"});
  TopologyTestDriver driver(topology, {}, 0);
  driver.advance_wall_clock_time(milliseconds(20));
  driver.create_input_topic<Str, Str>("in").pipe_input("k", "v");  // scheduled at 20
  driver.advance_wall_clock_time(milliseconds(29));
  EXPECT_THAT(fired, IsEmpty());
  driver.advance_wall_clock_time(milliseconds(1));
  EXPECT_THAT(fired, ElementsAre(50));
}

TEST(Punctuation, PunctuatorForwardsRecordsDownstream) {
  auto count = std::make_shared<int>(0);
  TopologyTestDriver driver(scheduling_topology([count](ProcessorContext<Str, Str>& context) {
    context.schedule(
        milliseconds(100), PunctuationType::wall_clock_time, [count, &context](std::int64_t now) {
          ++*count;
          Headers headers;
          headers.add("source", "punctuator");
          context.forward(Record<Str, Str>("tick", std::to_string(*count), now, headers));
        });
  }));
  auto out = driver.create_output_topic<Str, Str>("out");
  driver.advance_wall_clock_time(milliseconds(100));
  driver.advance_wall_clock_time(milliseconds(100));
  Headers headers;
  headers.add("source", "punctuator");
  EXPECT_THAT(out.read_records_to_list(),
              ElementsAre(testing::TestRecord<Str, Str>("tick", "1", 100, headers),
                          testing::TestRecord<Str, Str>("tick", "2", 200, headers)));
}

TEST(Punctuation, StreamTimePunctuatorForwardsRecordsDownstream) {
  TopologyTestDriver driver(scheduling_topology([](ProcessorContext<Str, Str>& context) {
    context.schedule(milliseconds(10), PunctuationType::stream_time, [&context](std::int64_t now) {
      context.forward(Record<Str, Str>("window", "closed", now));
    });
  }));
  auto in = driver.create_input_topic<Str, Str>("in");
  auto out = driver.create_output_topic<Str, Str>("out");
  in.pipe_input("k", "v", 10);
  EXPECT_THAT(out.read_records_to_list(),
              ElementsAre(testing::TestRecord<Str, Str>("window", "closed", 10)));
}

TEST(Punctuation, SeveralSchedulesOfOneProcessorAllFire) {
  std::vector<std::string> fired;
  TopologyTestDriver driver(scheduling_topology([&](ProcessorContext<Str, Str>& context) {
    context.schedule(milliseconds(10), PunctuationType::wall_clock_time,
                     [&](std::int64_t t) { fired.push_back("ten@" + std::to_string(t)); });
    context.schedule(milliseconds(5), PunctuationType::wall_clock_time,
                     [&](std::int64_t t) { fired.push_back("five@" + std::to_string(t)); });
  }));
  driver.advance_wall_clock_time(milliseconds(5));
  driver.advance_wall_clock_time(milliseconds(5));
  // At 10 both are due at the same time: they fire in the order they were scheduled.
  EXPECT_THAT(fired, ElementsAre("five@5", "ten@10", "five@10"));
}

TEST(Punctuation, PunctuatorThatThrowsGoesToTheProcessingHandler) {
  auto build = [] {
    return scheduling_topology([](ProcessorContext<Str, Str>& context) {
      context.schedule(milliseconds(10), PunctuationType::wall_clock_time,
                       [](std::int64_t) { throw std::runtime_error("punctuator broke"); });
    });
  };
  {
    TopologyTestDriver driver(build());
    const std::string message = test::message_of<ProcessingFailedException>(
        [&] { driver.advance_wall_clock_time(milliseconds(10)); });
    EXPECT_THAT(message, HasSubstr("'p'"));
    EXPECT_THAT(message, HasSubstr("in a punctuation"));
    EXPECT_THAT(message, HasSubstr("punctuator broke"));
  }
  {
    TopologyTestDriver driver(build(),
                              StreamsConfig{{"processing.exception.handler", "log_and_continue"}});
    driver.advance_wall_clock_time(milliseconds(10));
    driver.advance_wall_clock_time(milliseconds(10));
    EXPECT_EQ(driver.metrics().processing_errors, 2u);
    EXPECT_EQ(driver.metrics().punctuations, 2u);
  }
}

}  // namespace
}  // namespace rivulet
