// `rivulet dev-broker`: starts a DevBroker, creates the topics asked for, prints where clients
// connect, and runs until SIGINT or SIGTERM.
#include <charconv>
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <rivulet/dev_broker.h>
#include <rivulet/errors.h>

#include "commands.h"
#include "stop_signals.h"

namespace rivulet::cli {

namespace {

struct TopicSpec {
  std::string name;
  int partitions = 0;
};

// Parses "NAME:PARTITIONS" (PARTITIONS a whole number >= 1). Returns nullopt and sets `error`
// when `text` is not of that shape; the name's legality is DevBroker's to check.
std::optional<TopicSpec> parse_topic_spec(std::string_view text, std::string& error) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    error = fmt::format("'{}' is not NAME:PARTITIONS (for example orders:6)", text);
    return std::nullopt;
  }
  const std::string_view count = text.substr(colon + 1);
  int partitions = 0;
  const auto [end, status] = std::from_chars(count.data(), count.data() + count.size(), partitions);
  if (status != std::errc{} || end != count.data() + count.size() || partitions < 1) {
    error = fmt::format("'{}': the partition count must be a whole number of at least 1, got '{}'",
                        text, count);
    return std::nullopt;
  }
  return TopicSpec{std::string(text.substr(0, colon)), partitions};
}

struct DevBrokerArgs {
  DevBroker::Options broker{.brokers = 3, .port = 9092, .host = "127.0.0.1"};
  std::vector<std::string> topics;
};

int run_dev_broker(const DevBrokerArgs& args) {
  std::vector<TopicSpec> topics;
  for (const std::string& text : args.topics) {
    std::string error;
    std::optional<TopicSpec> spec = parse_topic_spec(text, error);
    if (!spec) {  // the option's validator has already rejected it; kept for safety
      std::fprintf(stderr, "rivulet dev-broker: --topic %s\n", error.c_str());
      return kExitBadUsage;
    }
    topics.push_back(std::move(*spec));
  }

  // Before any thread starts: the cluster's and the forwarder's threads inherit the mask.
  block_stop_signals();
  std::unique_ptr<DevBroker> broker;
  try {
    broker = std::make_unique<DevBroker>(args.broker);
    for (const TopicSpec& topic : topics) broker->create_topic(topic.name, topic.partitions);
  } catch (const StreamsException& error) {
    // The broker could not be set up as asked: a port in use, an illegal topic name, a topic
    // given twice with different counts.
    std::fprintf(stderr, "rivulet dev-broker: %s\n", error.what());
    return kExitBadUsage;
  }

  std::printf("rivulet dev-broker: %d broker%s, bootstrap.servers=%s\n", broker->brokers(),
              broker->brokers() == 1 ? "" : "s", broker->bootstrap_servers().c_str());
  for (const TopicSpec& topic : topics) {
    std::printf("  topic %s: %d partition%s\n", topic.name.c_str(), topic.partitions,
                topic.partitions == 1 ? "" : "s");
  }
  std::fflush(stdout);

  const int signal = wait_for_stop_signal();
  std::fprintf(stderr, "rivulet dev-broker: %s received, stopping\n",
               signal == SIGINT ? "SIGINT" : "SIGTERM");
  broker.reset();
  return kExitOk;
}

}  // namespace

Command add_dev_broker_command(CLI::App& app) {
  auto args = std::make_shared<DevBrokerArgs>();
  CLI::App* command = app.add_subcommand(
      "dev-broker",
      "Run an embedded Kafka cluster for development (librdkafka's mock cluster, in memory) "
      "until Ctrl-C");
  command->add_option("--brokers", args->broker.brokers, "brokers in the cluster")
      ->capture_default_str()
      ->check(CLI::Range(1, 32));
  command
      ->add_option("--port", args->broker.port,
                   "fixed bootstrap port on --host that forwards to the cluster; 0: none (clients "
                   "use the brokers' random ports)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  command->add_option("--host", args->broker.host, "address the fixed bootstrap port listens on")
      ->capture_default_str();
  command
      ->add_option("--topic", args->topics,
                   "topic to create, as NAME:PARTITIONS; repeat it or separate with commas")
      ->delimiter(',')
      ->type_name("NAME:PARTITIONS")
      ->check(CLI::Validator(
          [](std::string& text) {
            std::string error;
            return parse_topic_spec(text, error) ? std::string() : error;
          },
          ""));  // no name: the help shows the type name alone
  command->footer(
      "Clients on this host connect with bootstrap.servers as printed. The cluster cannot create "
      "topics through the admin API, and creates a topic that a client names before it exists "
      "with 4 partitions: create topics here with --topic.\n"
      "Exit status: 0 after SIGINT or SIGTERM, 2 for bad arguments (a port in use included), 1 "
      "for other failures.");
  return {command, [args] { return run_dev_broker(*args); }};
}

}  // namespace rivulet::cli
