// The Kafka clients on librdkafka (its C API: the rebalance callback, pausing, seeking and the
// consumer group metadata the exactly-once path needs are direct there, and consumed messages can
// be handed on without copying their payloads).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "kafka/client.h"

namespace spdlog {
class logger;
}

namespace rivulet::kafka {

// librdkafka's own log lines and client errors go to `logger`.
class RdKafkaClientFactory final : public ClientFactory {
 public:
  explicit RdKafkaClientFactory(std::shared_ptr<spdlog::logger> logger);
  std::unique_ptr<Consumer> consumer(const std::map<std::string, std::string>& config) override;
  std::unique_ptr<Producer> producer(const std::map<std::string, std::string>& config) override;
  std::unique_ptr<Admin> admin(const std::map<std::string, std::string>& config) override;

 private:
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace rivulet::kafka
