// Consumers, producers and admin clients on an InMemoryCluster: the `lib/kafka/` interfaces
// without a network, so that whole applications run in one process, deterministically, on a
// cluster whose transactions behave as Kafka's (which librdkafka's mock cluster's do not).
//
// They read the librdkafka-style properties the runtime gives every client: `group.id`,
// `isolation.level` (read_uncommitted by default, as librdkafka), `auto.offset.reset`
// (`latest` by default, as librdkafka; the runtime sets `earliest`), and `transactional.id`
// (a transactional producer sends only inside transactions). Other properties are ignored.
// Differences from librdkafka that tests may see:
//   * a send is appended at once; its delivery report waits for `poll`, `send` or `flush`;
//   * a record without a partition or key goes to partition 0 (librdkafka picks one at random);
//   * `abandon` removes the member from its group at once, as if its session had expired.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "kafka/client.h"
#include "kafka/in_memory_cluster.h"

namespace rivulet::kafka {

// Kafka's default partitioner for keyed records: murmur2 of the key bytes, made positive, modulo
// the partition count (Java's `Utils.toPositive(Utils.murmur2(key)) % partitions`, which
// librdkafka's `murmur2_random` partitioner matches).
std::int32_t murmur2_partition(std::span<const std::uint8_t> key, std::int32_t partitions);

class InMemoryClientFactory final : public ClientFactory {
 public:
  // `instance` names the clients' instance for fault injection and `expire_sessions` (see
  // in_memory_cluster.h); empty: no faults.
  explicit InMemoryClientFactory(std::shared_ptr<InMemoryCluster> cluster,
                                 std::string instance = "");

  std::unique_ptr<Consumer> consumer(const std::map<std::string, std::string>& config) override;
  std::unique_ptr<Producer> producer(const std::map<std::string, std::string>& config) override;
  std::unique_ptr<Admin> admin(const std::map<std::string, std::string>& config) override;

  const std::shared_ptr<InMemoryCluster>& cluster() const { return cluster_; }

 private:
  std::shared_ptr<InMemoryCluster> cluster_;
  std::string instance_;
};

}  // namespace rivulet::kafka
