// Interoperability with an independent client: records written by kcat are processed by Rivulet,
// and kcat reads Rivulet's output back.
#include <set>
#include <string>

#include <gtest/gtest.h>

#include <rivulet/rivulet.h>

#include "kafka_test_support.h"
#include "process_runner.h"

namespace rivulet {
namespace {

using test::run_process;
using test::unique_name;
using test::wait_until;

TEST(KcatInterop, KcatProducesRivuletProcessesKcatConsumes) {
  ASSERT_EQ(::access("/usr/bin/kcat", X_OK), 0) << "kcat is not installed (scripts/setup.sh)";
  DevBroker broker(DevBroker::Options{.brokers = 1});
  const std::string bootstrap = broker.bootstrap_servers();
  const std::string in = unique_name("kcat-in");
  const std::string out = unique_name("kcat-out");
  broker.create_topic(in, 2);
  broker.create_topic(out, 2);

  const auto produced = run_process({"kcat", "-b", bootstrap, "-P", "-t", in, "-K", ":"},
                                    "alpha:one\nbeta:two\ngamma:three\n", std::chrono::seconds(30));
  ASSERT_EQ(produced.exit_code, 0) << produced.err;

  StreamsBuilder builder;
  builder.stream<std::string, std::string>(in)
      .map_values([](const std::string& v) { return "<" + v + ">"; })
      .to(out);
  Topology topology = builder.build();
  KafkaStreams streams(topology, test::runtime_test_config(bootstrap, unique_name("kcat")));
  streams.start();

  const std::set<std::string> expected{"alpha=<one>", "beta=<two>", "gamma=<three>"};
  std::set<std::string> lines;
  ASSERT_TRUE(wait_until([&] {
    const auto consumed = run_process(
        {"kcat", "-b", bootstrap, "-C", "-t", out, "-e", "-o", "beginning", "-f", "%k=%s\n"}, "",
        std::chrono::seconds(30));
    lines.clear();
    std::size_t start = 0;
    for (std::size_t end; (end = consumed.out.find('\n', start)) != std::string::npos;
         start = end + 1) {
      lines.insert(consumed.out.substr(start, end - start));
    }
    return lines == expected;
  })) << "kcat read "
      << lines.size() << " line(s)";
  EXPECT_TRUE(streams.close(std::chrono::seconds(30)));
}

}  // namespace
}  // namespace rivulet
