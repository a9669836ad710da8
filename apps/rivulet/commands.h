// The subcommands of `rivulet`. Each `add_*_command` registers one subcommand, with its options,
// on the top-level app. To add a subcommand, write `<name>_command.cpp` with its
// `add_<name>_command`, declare it here and list it in main.cpp.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace rivulet::cli {

// Exit statuses of every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;   // a failure while running
inline constexpr int kExitBadUsage = 2;  // bad arguments, or a setup they asked for is impossible

// A registered subcommand: `app` is its CLI11 subcommand; `run`, called once the command line has
// been parsed into its options, runs it and returns its exit status (printing its own errors).
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

// `rivulet dev-broker`: an embedded development Kafka cluster until SIGINT or SIGTERM.
Command add_dev_broker_command(CLI::App& app);

}  // namespace rivulet::cli
