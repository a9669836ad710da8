// Exactly-once through the real client: librdkafka's transactional producer and read_committed
// consumers on the mock cluster. The mock cannot show what exactly-once guarantees (it ignores
// transactional offset commits and shows aborted records; the in-memory cluster's tests do
// that), but it proves the librdkafka path: transactions are initialized, begun and committed
// every commit interval without an error, and a stateful count comes out right.
#include <cstdint>
#include <filesystem>
#include <map>
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

TEST(ExactlyOnceOnLibrdkafka, TransactionsBeginAndCommitWithoutErrors) {
  DevBroker broker(DevBroker::Options{.brokers = 1});
  const std::string in = unique_name("eos-in");
  const std::string out = unique_name("eos-out");
  const std::string app = unique_name("eos-app");
  broker.create_topic(in, 4);
  broker.create_topic(out, 4);
  broker.create_topic(app + "-counts-changelog", 4);
  const auto dir = std::filesystem::temp_directory_path() / unique_name("rivulet-eos-mock");

  StreamsBuilder builder;
  builder.stream<std::string, std::string>(in)
      .group_by_key()
      .count(Materialized<std::string, std::int64_t>::as("counts"))
      .to_stream()
      .map_values(
          [](const std::optional<std::int64_t>& n) { return std::to_string(n.value_or(0)); })
      .to(out);
  const Topology topology = builder.build();
  StreamsConfig config = test::runtime_test_config(broker.bootstrap_servers(), app);
  config.set("processing.guarantee", "exactly_once_v2").set("state.dir", dir.string());

  std::map<std::string, std::string> expected;
  {
    PlainProducer producer(broker.bootstrap_servers());
    for (int i = 0; i < 400; ++i) {
      const std::string key = fmt::format("k{}", i % 8);
      producer.send(in, key, "x", 1'700'000'000'000 + i);
      expected[key] = std::to_string(i / 8 + 1);
    }
    producer.flush();
  }
  KafkaStreams streams(topology, config);
  std::atomic<bool> died{false};
  streams.set_uncaught_exception_handler([&](std::exception_ptr) {
    died = true;
    return KafkaStreams::ExceptionResponse::shutdown_client;
  });
  streams.start();
  const auto threads = streams.metadata_for_local_threads();
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_FALSE(threads[0].transactional_id.empty());

  TopicReader reader(broker.bootstrap_servers(), out, 4);
  std::map<std::string, std::string> latest;
  const bool complete = wait_until(
      [&] {
        reader.drain(std::chrono::milliseconds(200));
        for (const auto& record : reader.records()) {
          std::string& slot = latest[*record.key];
          if (std::stoll(*record.value) > (slot.empty() ? 0 : std::stoll(slot))) {
            slot = *record.value;
          }
        }
        return latest == expected;
      },
      std::chrono::seconds(60));
  EXPECT_TRUE(complete);
  // Several commit intervals (100 ms) pass with nothing to do: empty transactions are not sent.
  const std::uint64_t commits = streams.commits();
  EXPECT_GT(commits, 0u);
  EXPECT_TRUE(streams.close());
  EXPECT_FALSE(died);
  EXPECT_EQ(streams.transactions_aborted(), 0u);
  EXPECT_EQ(streams.state(), KafkaStreams::State::not_running);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace
}  // namespace rivulet
