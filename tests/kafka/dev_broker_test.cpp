// DevBroker against real clients: librdkafka's C API in this process, and kcat as a separate
// program. Every wait polls for its condition with a deadline; nothing sleeps.
#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rivulet/dev_broker.h>
#include <rivulet/errors.h>

#include "process_runner.h"
#include "rivulet_test_helpers.h"

namespace rivulet {
namespace {

using test::Fd;
using test::ProcessResult;
using test::run_process;

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// librdkafka's RD_KAFKA_PARTITION_UA is a C-style cast, which the warnings reject.
constexpr std::int32_t kUnassignedPartition = -1;

// A TCP socket bound to 127.0.0.1:`port` (0: a free port), listening when `listen` is true.
// Returns the socket and the port it got; throws when binding fails.
std::pair<Fd, int> bind_local(int port, bool listen) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    throw std::runtime_error("bind() to port " + std::to_string(port) + " failed");
  }
  if (listen && ::listen(fd.get(), 4) != 0) throw std::runtime_error("listen() failed");
  socklen_t size = sizeof address;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &size);
  return {std::move(fd), ntohs(address.sin_port)};
}

// Starts a DevBroker with a fixed bootstrap port that was free a moment ago. Another process may
// take the port between the probe and the broker's bind, so a few attempts are made.
std::unique_ptr<DevBroker> start_on_free_port(int brokers, int& port) {
  for (int attempt = 1;; ++attempt) {
    port = bind_local(0, false).second;  // the probe socket closes here
    try {
      return std::make_unique<DevBroker>(DevBroker::Options{.brokers = brokers, .port = port});
    } catch (const StreamsException&) {
      if (attempt == 5) throw;
    }
  }
}

struct HandleDeleter {
  void operator()(rd_kafka_t* handle) const {
    if (rd_kafka_type(handle) == RD_KAFKA_CONSUMER) rd_kafka_consumer_close(handle);
    rd_kafka_destroy(handle);
  }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;

// A librdkafka client of `type` with `settings`; `opaque` is handed to its callbacks.
Handle new_client(rd_kafka_type_t type, const std::map<std::string, std::string>& settings,
                  void (*delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*) = nullptr,
                  void* opaque = nullptr) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::array<char, 512> error{};
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error.data(), error.size()) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(key + ": " + error.data());
    }
  }
  if (delivery != nullptr) rd_kafka_conf_set_dr_msg_cb(conf, delivery);
  rd_kafka_conf_set_opaque(conf, opaque);
  rd_kafka_t* handle = rd_kafka_new(type, conf, error.data(), error.size());
  if (handle == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("rd_kafka_new: ") + error.data());
  }
  return Handle(handle);
}

// Partition counts of every topic in the cluster (asking for all topics creates none).
std::map<std::string, int> topic_partitions(const std::string& bootstrap, int* broker_count) {
  Handle client = new_client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap}});
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t error = rd_kafka_metadata(client.get(), 1, nullptr, &metadata, 10000);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(std::string("metadata: ") + rd_kafka_err2str(error));
  }
  std::map<std::string, int> counts;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    counts[metadata->topics[i].topic] = metadata->topics[i].partition_cnt;
  }
  if (broker_count != nullptr) *broker_count = metadata->broker_cnt;
  rd_kafka_metadata_destroy(metadata);
  return counts;
}

struct Deliveries {
  int delivered = 0;
  std::vector<std::string> errors;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* deliveries = static_cast<Deliveries*>(opaque);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++deliveries->delivered;
  } else {
    deliveries->errors.emplace_back(rd_kafka_err2str(message->err));
  }
}

// Produces `records` (key, value) to `topic` through a producer bootstrapped from `bootstrap`,
// waits for every delivery report, and returns them.
Deliveries produce(const std::string& bootstrap, const std::string& topic,
                   const std::vector<std::pair<std::string, std::string>>& records) {
  Deliveries deliveries;
  Handle producer =
      new_client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap}, {"acks", "all"}},
                 on_delivery, &deliveries);
  rd_kafka_topic_t* handle = rd_kafka_topic_new(producer.get(), topic.c_str(), nullptr);
  for (const auto& [key, value] : records) {
    if (rd_kafka_produce(handle, kUnassignedPartition, RD_KAFKA_MSG_F_COPY,
                         const_cast<char*>(value.data()), value.size(), key.data(), key.size(),
                         nullptr) != 0) {
      deliveries.errors.emplace_back(rd_kafka_err2str(rd_kafka_last_error()));
    }
  }
  const rd_kafka_resp_err_t flushed = rd_kafka_flush(producer.get(), 30000);
  if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR) {
    deliveries.errors.emplace_back(std::string("flush: ") + rd_kafka_err2str(flushed));
  }
  rd_kafka_topic_destroy(handle);
  return deliveries;
}

struct Consumed {
  std::map<std::string, std::string> values;  // by key
  std::set<std::int32_t> partitions;
  std::vector<std::string> errors;
};

// Consumes `topic` as a member of a new group until `expected` distinct keys have arrived or
// `timeout` passes.
Consumed consume(const std::string& bootstrap, const std::string& topic, std::size_t expected,
                 std::chrono::milliseconds timeout) {
  Consumed consumed;
  Handle consumer = new_client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap},
                                                   {"group.id", "dev-broker-test"},
                                                   {"auto.offset.reset", "earliest"},
                                                   {"enable.auto.commit", "false"}});
  rd_kafka_poll_set_consumer(consumer.get());
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, topic.c_str(), kUnassignedPartition);
  const rd_kafka_resp_err_t subscribed = rd_kafka_subscribe(consumer.get(), topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (subscribed != RD_KAFKA_RESP_ERR_NO_ERROR) {
    consumed.errors.emplace_back(rd_kafka_err2str(subscribed));
    return consumed;
  }
  const auto deadline = Clock::now() + timeout;
  while (consumed.values.size() < expected && Clock::now() < deadline) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer.get(), 200);
    if (message == nullptr) continue;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      consumed.values[std::string(static_cast<const char*>(message->key), message->key_len)] =
          std::string(static_cast<const char*>(message->payload), message->len);
      consumed.partitions.insert(message->partition);
    } else if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      consumed.errors.emplace_back(rd_kafka_message_errstr(message));
    }
    rd_kafka_message_destroy(message);
  }
  return consumed;
}

TEST(DevBrokerTest, ProducesAndConsumesThroughTheFixedBootstrapPort) {
  int port = 0;
  std::unique_ptr<DevBroker> broker = start_on_free_port(3, port);
  const std::string bootstrap = broker->bootstrap_servers();
  // Clients are given only the forwarder's address: everything else they learn through it.
  ASSERT_EQ(bootstrap, "127.0.0.1:" + std::to_string(port));
  broker->create_topic("readings", 3);

  std::vector<std::pair<std::string, std::string>> records;
  records.reserve(1000);
  for (int i = 0; i < 1000; ++i) {
    records.emplace_back("key-" + std::to_string(i), "value-" + std::to_string(i));
  }
  const Deliveries deliveries = produce(bootstrap, "readings", records);
  EXPECT_EQ(deliveries.delivered, 1000);
  EXPECT_EQ(deliveries.errors, std::vector<std::string>{});

  const Consumed consumed = consume(bootstrap, "readings", records.size(), 60s);
  EXPECT_EQ(consumed.errors, std::vector<std::string>{});
  EXPECT_EQ(consumed.values, (std::map<std::string, std::string>(records.begin(), records.end())));
  EXPECT_EQ(consumed.partitions, (std::set<std::int32_t>{0, 1, 2}));
}

TEST(DevBrokerTest, CreatedTopicsHaveTheirPartitionCountsInMetadata) {
  DevBroker broker(DevBroker::Options{.brokers = 2});
  EXPECT_EQ(broker.brokers(), 2);
  broker.create_topic("orders", 6);
  broker.create_topic("single", 1);
  broker.create_topic("orders", 6);  // again, with the same count: nothing to do

  int broker_count = 0;
  const std::map<std::string, int> counts =
      topic_partitions(broker.bootstrap_servers(), &broker_count);
  EXPECT_EQ(counts, (std::map<std::string, int>{{"orders", 6}, {"single", 1}}));
  EXPECT_EQ(broker_count, 2);
}

TEST(DevBrokerTest, BootstrapServersListsEveryBrokerWithoutAFixedPort) {
  DevBroker broker(DevBroker::Options{.brokers = 4});
  const std::string bootstrap = broker.bootstrap_servers();
  EXPECT_EQ(std::count(bootstrap.begin(), bootstrap.end(), ','), 3) << bootstrap;
  EXPECT_EQ(bootstrap.rfind("127.0.0.1:", 0), 0u) << bootstrap;
}

TEST(DevBrokerTest, CreateTopicRejectsAnotherPartitionCountNamingBoth) {
  DevBroker broker;
  broker.create_topic("orders", 6);
  const std::string message =
      test::message_of<StreamsException>([&] { broker.create_topic("orders", 4); });
  EXPECT_NE(message.find("'orders'"), std::string::npos) << message;
  EXPECT_NE(message.find("with 6 partitions"), std::string::npos) << message;
  EXPECT_NE(message.find("with 4"), std::string::npos) << message;
  EXPECT_EQ(topic_partitions(broker.bootstrap_servers(), nullptr).at("orders"), 6);
}

// The mock creates a topic that a client asks about with 4 partitions; create_topic then sees it.
TEST(DevBrokerTest, CreateTopicSeesATopicAClientCreatedByAskingForIt) {
  DevBroker broker;
  Handle client = new_client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", broker.bootstrap_servers()},
                                                 {"allow.auto.create.topics", "false"}});
  rd_kafka_topic_t* topic = rd_kafka_topic_new(client.get(), "asked-for", nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  ASSERT_EQ(rd_kafka_metadata(client.get(), 0, topic, &metadata, 10000),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_metadata_destroy(metadata);
  rd_kafka_topic_destroy(topic);

  EXPECT_NO_THROW(broker.create_topic("asked-for", 4));
  const std::string message =
      test::message_of<StreamsException>([&] { broker.create_topic("asked-for", 2); });
  EXPECT_NE(message.find("with 4 partitions"), std::string::npos) << message;
}

TEST(DevBrokerTest, CreateTopicRejectsBadArguments) {
  DevBroker broker;
  EXPECT_NE(test::message_of<StreamsException>([&] {
              broker.create_topic("orders", 0);
            }).find("at least 1 partition"),
            std::string::npos);
  EXPECT_NE(test::message_of<StreamsException>([&] {
              broker.create_topic("bad name", 1);
            }).find("illegal topic name 'bad name'"),
            std::string::npos);
  EXPECT_THROW(broker.create_topic("", 1), StreamsException);
  EXPECT_THROW(broker.create_topic("..", 1), StreamsException);
  EXPECT_THROW(broker.create_topic(std::string(250, 'a'), 1), StreamsException);
  EXPECT_NO_THROW(broker.create_topic(std::string(249, 'a'), 1));
  EXPECT_NO_THROW(broker.create_topic("a.b_c-D9", 1));
  EXPECT_EQ(topic_partitions(broker.bootstrap_servers(), nullptr).size(), 2u);
}

TEST(DevBrokerTest, RejectsOptionsOutOfRange) {
  EXPECT_THROW(DevBroker(DevBroker::Options{.brokers = 0}), StreamsException);
  EXPECT_THROW(DevBroker(DevBroker::Options{.port = 65536}), StreamsException);
  EXPECT_THROW(DevBroker(DevBroker::Options{.port = -1}), StreamsException);
}

TEST(DevBrokerTest, APortInUseThrowsNamingThePort) {
  const auto [listener, port] = bind_local(0, true);
  const std::string message = test::message_of<StreamsException>(
      [port = port] { DevBroker broker(DevBroker::Options{.port = port}); });
  EXPECT_NE(message.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << message;
  EXPECT_NE(message.find("another broker may be running there"), std::string::npos) << message;
}

TEST(DevBrokerTest, ASecondBrokerOnTheSamePortThrows) {
  int port = 0;
  std::unique_ptr<DevBroker> first = start_on_free_port(1, port);
  EXPECT_THROW(DevBroker(DevBroker::Options{.brokers = 1, .port = port}), StreamsException);
}

TEST(DevBrokerTest, StopsWithClientsConnectedAndFreesThePort) {
  int port = 0;
  std::unique_ptr<DevBroker> broker = start_on_free_port(1, port);
  broker->create_topic("events", 1);
  Deliveries deliveries;
  Handle producer = new_client(RD_KAFKA_PRODUCER,
                               {{"bootstrap.servers", broker->bootstrap_servers()},
                                {"log_level", "0"}},  // the broker going away is expected
                               on_delivery, &deliveries);
  rd_kafka_topic_t* topic = rd_kafka_topic_new(producer.get(), "events", nullptr);
  std::string value = "v";
  ASSERT_EQ(rd_kafka_produce(topic, 0, RD_KAFKA_MSG_F_COPY, value.data(), value.size(), nullptr, 0,
                             nullptr),
            0);
  ASSERT_EQ(rd_kafka_flush(producer.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(deliveries.delivered, 1);

  const auto start = Clock::now();
  broker.reset();  // the producer is still connected, through the forwarder and directly
  EXPECT_LT(Clock::now() - start, 10s);
  // The port is free again: a new broker can listen there (the connections the forwarder closed
  // linger in TIME_WAIT, which SO_REUSEADDR allows).
  EXPECT_NO_THROW(DevBroker(DevBroker::Options{.brokers = 1, .port = port}));
  rd_kafka_topic_destroy(topic);
}

TEST(DevBrokerTest, KcatRoundTripThroughTheFixedPort) {
  ASSERT_EQ(::access("/usr/bin/kcat", X_OK), 0) << "kcat is not installed (scripts/setup.sh)";
  int port = 0;
  std::unique_ptr<DevBroker> broker = start_on_free_port(3, port);
  broker->create_topic("kcat-topic", 1);  // one partition: kcat reads back in produced order
  const std::string bootstrap = broker->bootstrap_servers();

  const ProcessResult produced =
      run_process({"kcat", "-b", bootstrap, "-P", "-t", "kcat-topic", "-K", ":"},
                  "alpha:1\nbeta:2\ngamma:3\n", 30s);
  ASSERT_FALSE(produced.timed_out) << produced.err;
  ASSERT_EQ(produced.exit_code, 0) << produced.err;

  const ProcessResult consumed = run_process(
      {"kcat", "-b", bootstrap, "-C", "-t", "kcat-topic", "-e", "-o", "beginning", "-f", "%k=%s\n"},
      "", 30s);
  ASSERT_FALSE(consumed.timed_out) << consumed.err;
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  EXPECT_EQ(consumed.out, "alpha=1\nbeta=2\ngamma=3\n") << consumed.err;

  // And what librdkafka consumed in this process is what kcat produced.
  const Consumed here = consume(bootstrap, "kcat-topic", 3, 60s);
  EXPECT_EQ(here.values,
            (std::map<std::string, std::string>{{"alpha", "1"}, {"beta", "2"}, {"gamma", "3"}}));
}

}  // namespace
}  // namespace rivulet
