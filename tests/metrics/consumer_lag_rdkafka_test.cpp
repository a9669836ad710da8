// The consumer lag metric with librdkafka's clients on its mock cluster: the lag comes from
// librdkafka's statistics (statistics.interval.ms; consumer_lag counts from the committed
// offset), one series per assigned partition, and reaches 0 once the input is committed.
#include <chrono>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include <rivulet/rivulet.h>

#include "kafka_test_support.h"
#include "prometheus_text.h"

namespace rivulet {
namespace {

using test::PromText;

TEST(ConsumerLagFromLibrdkafka, EachAssignedPartitionHasASeriesThatReachesZero) {
  DevBroker broker(DevBroker::Options{.brokers = 1});
  const std::string in = test::unique_name("lag-in");
  const std::string out = test::unique_name("lag-out");
  broker.create_topic(in, 2);
  broker.create_topic(out, 2);
  StreamsBuilder builder;
  builder.stream<std::string, std::string>(in).to(out);
  const Topology topology = builder.build();
  StreamsConfig config =
      test::runtime_test_config(broker.bootstrap_servers(), test::unique_name("lag-app"));
  config.set("consumer.statistics.interval.ms", "200");
  KafkaStreams streams(topology, config);
  streams.start();
  ASSERT_TRUE(streams.wait_for_running(std::chrono::seconds(60)));
  {
    test::PlainProducer producer(broker.bootstrap_servers());
    for (int i = 0; i < 200; ++i) {
      producer.send(in, "key-" + std::to_string(i), "value", 1'700'000'000'000 + i);
    }
    producer.flush();
  }

  std::string last;
  const bool caught_up = test::wait_until(
      [&] {
        last = streams.prometheus_metrics();
        const PromText text(last);
        return text.sum("rivulet_records_processed_total") == 200 &&
               text.find("rivulet_consumer_lag_records").size() == 2 &&
               text.sum("rivulet_consumer_lag_records") == 0;
      },
      std::chrono::seconds(60));
  ASSERT_TRUE(caught_up) << "no lag of 0 on both partitions; last scrape:\n" << last;
  const PromText text(last);
  EXPECT_EQ(text.label_values("rivulet_consumer_lag_records", "partition"),
            (std::set<std::string>{"0", "1"}));
  EXPECT_EQ(text.label_values("rivulet_consumer_lag_records", "topic"), std::set<std::string>{in});
  EXPECT_EQ(text.sum("rivulet_records_consumed_total"), 200);
  streams.close();
}

}  // namespace
}  // namespace rivulet
