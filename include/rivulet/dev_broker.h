// An embedded Kafka cluster for development and tests: librdkafka's mock cluster, which speaks the
// real Kafka protocol on localhost, in this process. `rivulet dev-broker` runs one from the
// command line; tests start one per test. It is not a Kafka broker to rely on for data: it keeps
// everything in memory and forgets it when destroyed.
//
// A `DevBroker` owns its cluster: the brokers listen while it lives and stop when it is destroyed.
// With a fixed port (`Options::port`), it also owns a small TCP forwarder listening on
// `host:port`, so that clients can bootstrap from a well-known address such as 127.0.0.1:9092.
// The forwarder relays each connection to the first mock broker; clients then connect directly
// to the brokers' own (random) ports that the cluster advertises in its metadata, which works
// for clients on the same host only.
//
// Limits of the mock cluster (librdkafka 2.0.2), which clients and tests must respect:
//   * it cannot serve CreateTopics (an admin client's CreateTopics times out "waiting for
//     controller"): create topics with `create_topic`;
//   * a Metadata request for an unknown topic creates it with 4 partitions, even when the client
//     sets allow.auto.create.topics=false: create topics before any client names them;
//   * it keeps only about 5 MiB (and 100,000 batches) per partition; older batches are dropped
//     and the log start offset moves on;
//   * it accepts transactions but ignores TxnOffsetCommit (offsets sent in a transaction are not
//     stored), and read_committed consumers see aborted records: exactly-once cannot be verified
//     against it;
//   * a consumer group's first assignment takes about 3 s, and each later rebalance (a member
//     joining, or leaving with close) about session.timeout.ms - 1 s; a member that vanishes
//     without leaving is noticed after its session times out;
//   * after clients have connected, destroying the cluster sometimes takes about 1 s.
//
// Thread-safety: `bootstrap_servers` and `create_topic` may be called from any thread,
// concurrently. Construction and destruction must not overlap any other call.
#pragma once

#include <memory>
#include <string>

namespace rivulet {

class DevBroker {
 public:
  struct Options {
    int brokers = 3;                 // brokers in the cluster; ids 1..brokers
    int port = 0;                    // fixed bootstrap port on `host`; 0: none
    std::string host = "127.0.0.1";  // where the fixed bootstrap port listens
  };

  // Starts a cluster of three brokers on random ports, with no fixed bootstrap port.
  DevBroker();
  // Starts the cluster, and the forwarder when `options.port != 0`. Throws StreamsException when
  // `options` are out of range (brokers < 1, port outside 0..65535), when the cluster cannot
  // start, or when `host:port` cannot be listened on (another broker may be running there).
  explicit DevBroker(Options options);
  // Stops the forwarder (closing the connections it relays) and the cluster. Clients still
  // connected lose their connections.
  ~DevBroker();

  DevBroker(const DevBroker&) = delete;
  DevBroker& operator=(const DevBroker&) = delete;
  DevBroker(DevBroker&&) = delete;
  DevBroker& operator=(DevBroker&&) = delete;

  // Returns the value for a client's `bootstrap.servers`: "host:port" when a fixed port was
  // given, else the brokers' own comma-separated addresses.
  std::string bootstrap_servers() const;

  // Returns the number of brokers in the cluster.
  int brokers() const;

  // Creates topic `name` with `partitions` partitions (replicated on every broker, up to 3).
  // Creating a topic that exists with the same partition count does nothing. Throws
  // StreamsException when `name` is not a legal topic name, when `partitions < 1`, when the topic
  // exists with another partition count (the message names both counts), or on a cluster error.
  void create_topic(const std::string& name, int partitions);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rivulet
