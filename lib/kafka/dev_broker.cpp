// DevBroker: librdkafka's mock cluster, plus a TCP forwarder on Boost.Asio for a fixed bootstrap
// address.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>
#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <rivulet/dev_broker.h>
#include <rivulet/errors.h>

namespace rivulet {

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// Kafka's rule for topic names: 1 to 249 characters of [a-zA-Z0-9._-], and neither "." nor "..".
bool is_legal_topic_name(std::string_view name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

struct RdKafkaDeleter {
  void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
  void operator()(rd_kafka_mock_cluster_t* cluster) const {
    rd_kafka_mock_cluster_destroy(cluster);
  }
  void operator()(const rd_kafka_metadata_t* metadata) const {
    rd_kafka_metadata_destroy(metadata);
  }
};
using HandlePtr = std::unique_ptr<rd_kafka_t, RdKafkaDeleter>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, RdKafkaDeleter>;
using ClusterPtr = std::unique_ptr<rd_kafka_mock_cluster_t, RdKafkaDeleter>;
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, RdKafkaDeleter>;

// Creates a producer handle from `settings` (key, value pairs). Throws StreamsException.
HandlePtr new_producer(std::initializer_list<std::pair<const char*, std::string>> settings) {
  ConfPtr conf(rd_kafka_conf_new());
  std::array<char, 512> error{};
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf.get(), key, value.c_str(), error.data(), error.size()) !=
        RD_KAFKA_CONF_OK) {
      throw StreamsException(fmt::format("DevBroker: cannot set {}: {}", key, error.data()));
    }
  }
  // On success rd_kafka_new takes the configuration; on failure it stays ours.
  HandlePtr handle(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error.data(), error.size()));
  if (!handle) {
    throw StreamsException(
        fmt::format("DevBroker: cannot create a librdkafka client: {}", error.data()));
  }
  static_cast<void>(conf.release());
  return handle;
}

// Relays one accepted connection to the target broker, byte for byte in both directions. Lives
// as long as an operation of its own is pending; runs on the forwarder's thread only.
class Relay : public std::enable_shared_from_this<Relay> {
 public:
  Relay(tcp::socket client, asio::io_context& io) : client_(std::move(client)), upstream_(io) {}

  void start(const tcp::endpoint& target) {
    upstream_.async_connect(target, [self = shared_from_this()](const error_code& error) {
      if (error) {
        self->close();
        return;
      }
      error_code ignored;
      self->client_.set_option(tcp::no_delay(true), ignored);
      self->upstream_.set_option(tcp::no_delay(true), ignored);
      self->pump(self->client_, self->upstream_, self->to_upstream_);
      self->pump(self->upstream_, self->client_, self->to_client_);
    });
  }

  // Closes both sockets; pending operations complete with an error and release the relay.
  void close() {
    error_code ignored;
    client_.close(ignored);
    upstream_.close(ignored);
  }

 private:
  using Buffer = std::array<char, std::size_t{64} * 1024>;

  // Reads from `from` and writes what arrived to `to`, until either side fails or closes; then
  // closes both, since Kafka connections have no use for half-closed sockets.
  void pump(tcp::socket& from, tcp::socket& to, Buffer& buffer) {
    from.async_read_some(asio::buffer(buffer), [self = shared_from_this(), &from, &to, &buffer](
                                                   const error_code& error, std::size_t size) {
      if (error) {
        self->close();
        return;
      }
      asio::async_write(to, asio::buffer(buffer.data(), size),
                        [self, &from, &to, &buffer](const error_code& write_error, std::size_t) {
                          if (write_error) {
                            self->close();
                            return;
                          }
                          self->pump(from, to, buffer);
                        });
    });
  }

  tcp::socket client_;
  tcp::socket upstream_;
  Buffer to_upstream_{};
  Buffer to_client_{};
};

// Listens on host:port and relays every connection to `target`, on a thread of its own.
class Forwarder {
 public:
  Forwarder(const std::string& host, int port, tcp::endpoint target)
      : acceptor_(io_), target_(std::move(target)) {
    error_code error;
    tcp::resolver resolver(io_);
    const auto endpoints = resolver.resolve(host, std::to_string(port), error);
    if (error || endpoints.empty()) {
      throw StreamsException(fmt::format("DevBroker: cannot resolve host '{}': {}", host,
                                         error ? error.message() : "no address"));
    }
    const tcp::endpoint listen_on = endpoints.begin()->endpoint();
    // SO_REUSEADDR lets a restarted broker take its port back at once (no TIME_WAIT delay);
    // on Linux it does not let two sockets listen on the same address.
    acceptor_.open(listen_on.protocol(), error);
    if (!error) acceptor_.set_option(tcp::acceptor::reuse_address(true), error);
    if (!error) acceptor_.bind(listen_on, error);
    if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
      throw StreamsException(
          fmt::format("DevBroker: cannot listen on {}:{} ({}); another broker may be running there",
                      host, port, error.message()));
    }
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }

  // Closes the listener and every relayed connection, then waits for the thread to finish.
  ~Forwarder() {
    asio::post(io_, [this] {
      error_code ignored;
      acceptor_.close(ignored);
      retry_.cancel();
      for (const auto& weak : relays_) {
        if (auto relay = weak.lock()) relay->close();
      }
    });
    thread_.join();
  }

  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

 private:
  void accept() {
    acceptor_.async_accept([this](const error_code& error, tcp::socket client) {
      if (error == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (error) {
        // Out of descriptors, say: try again a little later rather than spin.
        retry_.expires_after(std::chrono::milliseconds(100));
        retry_.async_wait([this](const error_code& timer_error) {
          if (!timer_error && acceptor_.is_open()) accept();
        });
        return;
      }
      relays_.remove_if([](const std::weak_ptr<Relay>& weak) { return weak.expired(); });
      auto relay = std::make_shared<Relay>(std::move(client), io_);
      relays_.push_back(relay);
      relay->start(target_);
      accept();
    });
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_{io_};
  tcp::endpoint target_;
  std::list<std::weak_ptr<Relay>> relays_;  // touched on the forwarder's thread only
  std::thread thread_;
};

// The address of the first broker in a "host:port,host:port" list.
tcp::endpoint first_broker(const std::string& bootstraps) {
  const std::string first = bootstraps.substr(0, bootstraps.find(','));
  const std::size_t colon = first.rfind(':');
  error_code error;
  const auto address = asio::ip::make_address(first.substr(0, colon), error);
  if (colon == std::string::npos || error) {
    throw StreamsException("DevBroker: unexpected mock broker address '" + first + "'");
  }
  return {address, static_cast<unsigned short>(std::stoi(first.substr(colon + 1)))};
}

}  // namespace

class DevBroker::Impl {
 public:
  explicit Impl(Options options) : options_(std::move(options)) {
    if (options_.brokers < 1) {
      throw StreamsException(
          fmt::format("DevBroker: brokers must be at least 1, got {}", options_.brokers));
    }
    if (options_.port < 0 || options_.port > 65535) {
      throw StreamsException(
          fmt::format("DevBroker: port must be in 0..65535, got {}", options_.port));
    }
    // The cluster needs a client handle for its bookkeeping; it has no brokers to talk to.
    // Notices (such as "no bootstrap.servers configured") are not worth printing.
    // The mock brokers' sockets take this handle's settings. With Nagle's algorithm on, a small
    // response written while the previous one is unacknowledged waits for the client's delayed
    // ACK (~40 ms) whenever the client goes quiet, as a producer does in a flush: measured, that
    // was half of the end-to-end p99 (docs/benchmarks.md).
    handle_ = new_producer({{"log_level", "4"}, {"socket.nagle.disable", "true"}});
    cluster_.reset(rd_kafka_mock_cluster_new(handle_.get(), options_.brokers));
    if (!cluster_) throw StreamsException("DevBroker: cannot start librdkafka's mock cluster");
    cluster_bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster_.get());
    if (options_.port != 0) {
      forwarder_ = std::make_unique<Forwarder>(options_.host, options_.port,
                                               first_broker(cluster_bootstraps_));
    }
  }

  ~Impl() {
    forwarder_.reset();  // first: it relays to the cluster's brokers
    cluster_.reset();    // before the handle it was created with
    handle_.reset();
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  std::string bootstrap_servers() const {
    if (options_.port == 0) return cluster_bootstraps_;
    return fmt::format("{}:{}", options_.host, options_.port);
  }

  int brokers() const { return options_.brokers; }

  void create_topic(const std::string& name, int partitions) {
    if (!is_legal_topic_name(name)) {
      throw StreamsException(fmt::format(
          "DevBroker: illegal topic name '{}' (1 to 249 characters of a-z, A-Z, 0-9, '.', '_', "
          "'-')",
          name));
    }
    if (partitions < 1) {
      throw StreamsException(fmt::format("DevBroker: topic '{}' needs at least 1 partition, got {}",
                                         name, partitions));
    }
    std::lock_guard lock(mutex_);
    const int replication = std::min(3, options_.brokers);
    const rd_kafka_resp_err_t error =
        rd_kafka_mock_topic_create(cluster_.get(), name.c_str(), partitions, replication);
    if (error == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (error != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      throw StreamsException(
          fmt::format("DevBroker: cannot create topic '{}': {}", name, rd_kafka_err2str(error)));
    }
    const int existing = partition_count(name);
    if (existing != partitions) {
      throw StreamsException(fmt::format(
          "DevBroker: topic '{}' already exists with {} partitions, cannot create it with {}", name,
          existing, partitions));
    }
  }

 private:
  // The partition count of an existing topic, from the cluster's metadata. Asks for all topics,
  // since asking the mock for one unknown topic would create it.
  int partition_count(const std::string& name) const {
    HandlePtr client = new_producer({{"bootstrap.servers", cluster_bootstraps_}});
    const rd_kafka_metadata_t* raw = nullptr;
    const rd_kafka_resp_err_t error = rd_kafka_metadata(client.get(), 1, nullptr, &raw, 10000);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw StreamsException(fmt::format("DevBroker: cannot read metadata of topic '{}': {}", name,
                                         rd_kafka_err2str(error)));
    }
    const MetadataPtr metadata(raw);
    for (int i = 0; i < metadata->topic_cnt; ++i) {
      const rd_kafka_metadata_topic_t& topic = metadata->topics[i];
      if (name == topic.topic) return topic.partition_cnt;
    }
    throw StreamsException(
        fmt::format("DevBroker: topic '{}' exists but is missing from the metadata", name));
  }

  Options options_;
  HandlePtr handle_;
  ClusterPtr cluster_;
  std::string cluster_bootstraps_;
  std::unique_ptr<Forwarder> forwarder_;
  std::mutex mutex_;  // serializes create_topic
};

DevBroker::DevBroker() : DevBroker(Options{}) {}

DevBroker::DevBroker(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}

DevBroker::~DevBroker() = default;

std::string DevBroker::bootstrap_servers() const {
  return impl_->bootstrap_servers();
}

int DevBroker::brokers() const {
  return impl_->brokers();
}

void DevBroker::create_topic(const std::string& name, int partitions) {
  impl_->create_topic(name, partitions);
}

}  // namespace rivulet
