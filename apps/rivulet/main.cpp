// rivulet: the Rivulet command-line tool.
//
//   rivulet dev-broker [--brokers 3] [--port 9092] [--topic NAME:PARTITIONS ...]
//
// Each subcommand lives in its own <name>_command.cpp (see commands.h).
#include <cstdio>
#include <exception>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.h"

namespace {

int run(int argc, char** argv) {
  using namespace rivulet::cli;
  CLI::App app{"Rivulet: Kafka Streams-style stream processing in C++", "rivulet"};
  app.set_version_flag("--version", "rivulet " RIVULET_VERSION);
  app.require_subcommand(1);
  const std::vector<Command> commands = {
      add_dev_broker_command(app),
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int status = app.exit(error);  // prints help, the version, or the error and usage
    return status == 0 ? kExitOk : kExitBadUsage;
  }
  for (const Command& command : commands) {
    if (command.app->parsed()) return command.run();
  }
  return kExitBadUsage;  // unreachable: require_subcommand(1) made parse fail
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "rivulet: %s\n", error.what());
  } catch (...) {
    std::fprintf(stderr, "rivulet: unknown error\n");
  }
  return rivulet::cli::kExitFailure;
}
