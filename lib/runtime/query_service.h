// QueryService: the HTTP endpoints of a KafkaStreams instance, on the embedded HttpServer
// (http/http_server.h), started when `application.server` is set.
//
//   GET /health                      200 while the instance is not in ERROR (liveness)
//   GET /ready                       200 when RUNNING (every task restored and running), else 503
//   GET /topology                    the topology description, text/plain
//   GET /metrics                     Prometheus text format
//   GET /stores                      the queryable stores, and every known instance with its tasks
//   GET /stores/<s>/keys/<key>       key-value store: the key's value (404 when absent);
//                                    window store: its windows, ?from=&to= (ms) bound the starts;
//                                    session store: its sessions
//   GET /stores/<s>/keys             this instance's entries, ?from=&to= (keys, inclusive),
//                                    ?limit= (default 100, at most 1000), ?after=<next> to page;
//                                    window stores: windows with ?time_from=&time_to=
//   GET /stores/<s>/owner/<key>      the key's partition, task and host (KeyQueryMetadata)
//
// A key is read from text with the store's key type (state/query_json.h) and serialized with
// its key serde; values come back as JSON. A query for a key that another instance owns is
// forwarded to it (one hop: a forwarded request that finds its key elsewhere answers 503), or
// redirected with 307 when the request asks `?redirect=true`. Bad requests get a 4xx with a JSON
// message and never reach the stream threads' stores; the stores are read on their threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <rivulet/interactive_queries.h>
#include <rivulet/kafka_streams.h>
#include <rivulet/state/queryable_store.h>

#include "http/http_server.h"

namespace prometheus {
class Counter;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace rivulet::runtime {

// What one visit of the local stores found out besides what the visitor collected.
struct VisitOutcome {
  std::size_t visited = 0;        // running tasks whose store was visited
  std::vector<TaskId> restoring;  // tasks holding the store that are not running yet
};

// What the service needs of its KafkaStreams instance.
class QueryBackend {
 public:
  virtual ~QueryBackend() = default;
  virtual KafkaStreams::State current_state() const = 0;
  virtual std::string topology_text() const = 0;
  virtual std::string metrics_text() const = 0;
  // The store's key and value codec (a store built but never initialized; its serdes only), or
  // nullptr for an unknown or unqueryable store. Thread-safe to use under `codec_mutex()`.
  virtual detail::QueryableStore* codec(const std::string& store) const = 0;
  virtual std::mutex& codec_mutex() const = 0;
  virtual std::vector<std::string> store_names() const = 0;
  // Runs `visit` on the stream threads for every running local task holding `store` (only
  // `task`, when given); then `done`, on some thread, once every thread answered.
  virtual void visit_stores_async(const std::string& store, std::optional<TaskId> task,
                                  std::function<void(TaskId, StateStore&)> visit,
                                  std::function<void(VisitOutcome)> done) = 0;
  virtual KeyQueryMetadata metadata_for_serialized_key(const std::string& store,
                                                       ByteView key) const = 0;
  virtual std::vector<StreamsMetadata> all_metadata() const = 0;
  virtual bool runs_locally(const TaskId& task) const = 0;
};

struct QueryServiceOptions {
  http::ServerOptions server;
  HostInfo self;  // application.server, as other instances reach this one
  std::chrono::milliseconds forward_timeout{5'000};
  // Where rivulet_http_requests_total{code} and rivulet_http_request_duration_seconds go (none
  // when null).
  std::shared_ptr<prometheus::Registry> registry;
  std::string application_id;
};

class QueryService {
 public:
  QueryService(QueryBackend& backend, QueryServiceOptions options);
  ~QueryService();
  QueryService(const QueryService&) = delete;
  QueryService& operator=(const QueryService&) = delete;

  // Throws StreamsException when the address cannot be bound.
  void start();
  void stop();
  std::uint16_t port() const;
  // application.server, with the port bound when it gave 0. REQUIRES: start() succeeded.
  const HostInfo& self() const { return options_.self; }
  http::ServerCounters counters() const;

 private:
  void handle(http::Request request, http::Respond respond);
  void handle_store(const http::Request& request, const http::Respond& respond);
  void get_key(const std::string& store, detail::QueryableStore& codec,
               const http::Request& request, const http::Respond& respond);
  void list_keys(const std::string& store, detail::QueryableStore& codec,
                 const http::Request& request, const http::Respond& respond);
  void owner(const std::string& store, detail::QueryableStore& codec, const http::Request& request,
             const http::Respond& respond);

  void count(const http::Completion& completion);

  QueryBackend& backend_;
  QueryServiceOptions options_;
  std::unique_ptr<http::HttpServer> server_;
  prometheus::Family<prometheus::Counter>* requests_ = nullptr;
  prometheus::Histogram* duration_ = nullptr;
  std::mutex count_mutex_;
  std::map<int, prometheus::Counter*> requests_by_code_;  // guarded by count_mutex_
};

}  // namespace rivulet::runtime
