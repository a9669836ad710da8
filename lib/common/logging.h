// The one logging facade of the library: spdlog loggers owned by the object that logs (a driver,
// later a KafkaStreams instance), never spdlog's global registry, so that two instances in one
// process do not share or overwrite each other's loggers.
#pragma once

#include <memory>
#include <string>

#include <spdlog/logger.h>

namespace rivulet::common {

// A logger writing to standard error. The level comes from SPDLOG_LEVEL (trace, debug,
// info, warn, error, off), default `default_level`.
std::shared_ptr<spdlog::logger> make_logger(
    std::string name, spdlog::level::level_enum default_level = spdlog::level::info);

}  // namespace rivulet::common
