// The shipped programs as a user runs them: the telemetry sample (the README's main job) and the
// rivulet command.
#include <regex>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kafka_test_support.h"
#include "process_runner.h"

namespace rivulet {
namespace {

using test::free_tcp_port;
using test::ProcessResult;
using test::run_process;
using ::testing::HasSubstr;

const std::string kSample = RIVULET_BUILD_DIR "/apps/telemetry-sample/rivulet-telemetry-sample";
const std::string kRivulet = RIVULET_BUILD_DIR "/apps/rivulet/rivulet";

// The task lists of the throughput lines, e.g. "0_3,0_4,0_5".
std::vector<std::string> task_lists(const std::string& out) {
  std::vector<std::string> lists;
  const std::regex line(R"(\| tasks \[([0-9_,]*)\])");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), line); it != std::sregex_iterator();
       ++it) {
    lists.push_back((*it)[1]);
  }
  return lists;
}

TEST(TelemetrySample, FirstCopyRunsTheBrokerAndASecondCopyTakesHalfThePartitions) {
  const std::string port = std::to_string(free_tcp_port());
  ProcessResult first;
  std::thread first_copy([&] {
    first = run_process({kSample, "--port", port, "--seconds", "30", "--rate", "500"}, "",
                        std::chrono::seconds(90));
  });
  // The second copy starts once the first listens; it finds the port taken and joins.
  ASSERT_TRUE(test::wait_until(
      [&] {
        const auto probe = run_process(
            {"kcat", "-b", "127.0.0.1:" + port, "-L", "-t", "raw.vehicle.telemetry", "-m", "2"}, "",
            std::chrono::seconds(5));
        return probe.exit_code == 0 && probe.out.find("6 partitions") != std::string::npos;
      },
      std::chrono::seconds(30)));
  const ProcessResult second = run_process(
      {kSample, "--port", port, "--seconds", "14", "--no-describe"}, "", std::chrono::seconds(60));
  first_copy.join();

  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("started the development broker"));
  EXPECT_THAT(first.out, HasSubstr("Sub-topology: 0"));  // the description comes first
  EXPECT_THAT(first.out, HasSubstr("ALERT "));
  EXPECT_THAT(first.out, HasSubstr("state REBALANCING -> RUNNING"));
  const std::regex done(R"(done: ([0-9]+) records processed)");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(first.out, match, done)) << first.out;
  EXPECT_GT(std::stoll(match[1]), 0);

  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_THAT(second.out, HasSubstr("joining the broker there as another instance"));
  // Two sub-topologies of six partitions each: twelve tasks, six per copy while both run (three
  // of each sub-topology, as the range assignor splits every topic).
  const std::string half = R"(0_[0-9],0_[0-9],0_[0-9],1_[0-9],1_[0-9],1_[0-9])";
  const auto second_lists = task_lists(second.out);
  EXPECT_THAT(second_lists, ::testing::Contains(::testing::MatchesRegex(half))) << second.out;
  const auto first_lists = task_lists(first.out);
  EXPECT_THAT(first_lists, ::testing::Contains("0_0,0_1,0_2,0_3,0_4,0_5,1_0,1_1,1_2,1_3,1_4,1_5"));
  EXPECT_THAT(first_lists, ::testing::Contains(::testing::MatchesRegex(half)));
}

TEST(RivuletCommand, DevBrokerRejectsABadTopicSpecWithExitTwo) {
  const ProcessResult result = run_process(
      {kRivulet, "dev-broker", "--port", "0", "--topic", "orders"}, "", std::chrono::seconds(30));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("orders"));
}

TEST(RivuletCommand, DevBrokerServesKcatUntilTerminated) {
  const std::string port = std::to_string(free_tcp_port());
  ProcessResult broker;
  std::thread running([&] {
    broker = run_process(
        {kRivulet, "dev-broker", "--brokers", "1", "--port", port, "--topic", "greetings:2"}, "",
        std::chrono::seconds(60));
  });
  const std::string bootstrap = "127.0.0.1:" + port;
  ProcessResult listed;
  ASSERT_TRUE(test::wait_until(
      [&] {
        listed = run_process({"kcat", "-b", bootstrap, "-L", "-t", "greetings"}, "",
                             std::chrono::seconds(5));
        return listed.exit_code == 0;
      },
      std::chrono::seconds(30)));
  EXPECT_THAT(listed.out, HasSubstr("2 partitions"));
  // Stop it as a user would (Ctrl-C); it exits 0.
  ASSERT_EQ(run_process({"pkill", "-INT", "-f", "dev-broker --brokers 1 --port " + port}, "",
                        std::chrono::seconds(5))
                .exit_code,
            0);
  running.join();
  EXPECT_EQ(broker.exit_code, 0) << broker.err;
  EXPECT_THAT(broker.out, HasSubstr("bootstrap.servers=127.0.0.1:" + port));
}

}  // namespace
}  // namespace rivulet
