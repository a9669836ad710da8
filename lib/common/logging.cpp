#include "common/logging.h"

#include <cstdlib>

#include <spdlog/sinks/stdout_sinks.h>

namespace rivulet::common {

std::shared_ptr<spdlog::logger> make_logger(std::string name,
                                            spdlog::level::level_enum default_level) {
  auto logger = std::make_shared<spdlog::logger>(std::move(name),
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_level(default_level);
  if (const char* level = std::getenv("SPDLOG_LEVEL"); level != nullptr) {
    logger->set_level(spdlog::level::from_str(level));
  }
  return logger;
}

}  // namespace rivulet::common
