// HttpServer: the embedded HTTP/1.1 server of a KafkaStreams instance (metrics, health, topology
// and interactive queries), and a small asynchronous HTTP client for forwarding a request to
// another instance. Built on Boost.Asio and Beast's request parser.
//
// Threads. `io_threads` threads run one io_context. Each connection is served on a strand, one
// request at a time: the next request is read only after the previous response was written, so
// responses go out in request order (pipelined requests wait in the read buffer). The handler is
// called on an io thread and must not block; it may answer at once or later, from any thread,
// through its `Respond`.
//
// Lifetime. A `Respond` keeps what it needs alive by itself: calling it after the connection
// closed, after a response timeout, after `stop()` or after the server was destroyed does nothing.
// Only its first call counts.
//
// Limits and statuses made by the server itself (every one with a JSON body
// {"error": "...", "status": N}):
//   400  malformed HTTP, a target that is not an absolute path, bad percent-encoding (then close)
//   401  `bearer_token` set and the request lacks it (WWW-Authenticate: Bearer)
//   408  a request not fully read within `request_timeout` of its first byte (then close)
//   413  a body longer than `max_body_bytes` (then close)
//   431  a request line and headers longer than `max_header_bytes` (then close)
//   500  the handler threw (the exception's message), or its Response was invalid
//   503  `max_connections` connections are open: a new one gets 503 with Retry-After: 1 and is
//        closed without reading its request
//   504  the handler did not respond within `response_timeout` (the connection stays open)
// Every method is passed to the handler, which answers 405 for those it does not serve; the
// server answers HEAD with the headers of the handler's response and no body.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace rivulet::http {

struct Request {
  std::string method;                          // "GET", as sent
  std::string target;                          // raw target: "/stores/counts/keys/a%20b?x=1"
  std::string path;                            // percent-decoded path: "/stores/counts/keys/a b"
  std::vector<std::string> segments;           // path split on '/', empty ones dropped, then each
                                               // decoded (so "%2F" stays inside its segment)
  std::map<std::string, std::string> query;    // decoded parameters ('+' is a space); a repeated
                                               // name keeps its last value; "a" alone gives ""
  std::map<std::string, std::string> headers;  // names lower-cased; repeated ones joined by ", "
  std::string body;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra headers (Location, WWW-Authenticate, ...). Content-Type, Content-Length, Connection and
  // Transfer-Encoding given here are ignored: the server sets them.
  std::vector<std::pair<std::string, std::string>> headers;
};

// A JSON error body {"error": message, "status": status}.
Response error_response(int status, std::string_view message);

// Decodes %XX escapes (and '+' as a space when `plus_is_space`). nullopt when a '%' is not
// followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);

// May be called from any thread; only the first call counts.
using Respond = std::function<void(Response)>;
// Called on an io thread with each request; answers through `respond`, now or later.
using Handler = std::function<void(Request, Respond)>;

// What the server did with one request, for metrics (rivulet_http_requests_total{code}).
struct Completion {
  std::string_view method;  // empty when the request could not be parsed or was never read
  std::string_view path;    // decoded path; empty then too
  int status = 0;
  // From the request's first byte (or the connection's acceptance) to its response written.
  std::chrono::nanoseconds duration{0};
};

struct ServerOptions {
  std::string host = "127.0.0.1";  // an address or a name resolved at start()
  std::uint16_t port = 0;          // 0: any free port (port() tells which)
  int io_threads = 1;
  std::size_t max_connections = 256;                     // beyond: 503 and close (see above)
  std::size_t max_header_bytes = std::size_t{8} * 1024;  // request line and headers; beyond: 431
  std::size_t max_body_bytes = std::size_t{64} * 1024;   // beyond: 413
  // A request not fully read this long after its first byte (slowloris): 408 and close. A new
  // connection must also send its first byte within it (else it is closed without a response),
  // and a client must take a response within it (else the connection is closed).
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};      // keep-alive connection idle: close
  std::chrono::milliseconds response_timeout{30'000};  // handler did not respond in time: 504
  // Non-empty: every path except `open_paths` needs "Authorization: Bearer <token>", else 401.
  std::string bearer_token;
  std::set<std::string> open_paths = {"/health", "/ready"};  // decoded paths, compared exactly
  // fetch(): a longer response body gives 502.
  std::size_t max_fetch_response_bytes = std::size_t{16} * 1024 * 1024;
  // Called on an io thread after each response was written (or failed to be); must be cheap.
  std::function<void(const Completion&)> on_complete;
};

struct ServerCounters {
  std::uint64_t connections = 0;           // accepted and served (rejected ones not included)
  std::uint64_t active_connections = 0;    // open now
  std::uint64_t rejected_connections = 0;  // over max_connections: 503
  std::uint64_t requests = 0;              // requests read completely (the server may answer)
  std::uint64_t bad_requests = 0;          // 4xx made by the server: 400, 401, 408, 413, 431
  std::uint64_t unauthorized = 0;          // 401 (also in bad_requests)
  std::uint64_t timeouts = 0;              // 408 and 504
  std::uint64_t handler_errors = 0;        // 500 for a handler that threw or answered badly
  std::uint64_t responses_2xx = 0;         // final responses sent, by status class
  std::uint64_t responses_3xx = 0;
  std::uint64_t responses_4xx = 0;
  std::uint64_t responses_5xx = 0;
};

namespace detail {
struct ServerCore;
}

class HttpServer {
 public:
  HttpServer(ServerOptions options, Handler handler);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the io threads. Throws rivulet::StreamsException naming the
  // address when it is invalid or in use, or naming the option when an option is out of range.
  // REQUIRES: called once.
  void start();
  // Closes the listener, every connection and every fetch (whose `done` gets 503), then joins the
  // io threads. Handlers still holding a Respond are not waited for. Idempotent.
  // REQUIRES: not called from a handler (an io thread).
  void stop();
  // The port listened on (the chosen one when options.port was 0); 0 before start().
  std::uint16_t port() const;
  ServerCounters counters() const;

  // GET http://host:port/target with `headers` (Host and Connection: close are added), on this
  // server's io threads, one connection per call. `done` is called exactly once, on an io thread,
  // with the response as received (Content-Type in content_type, the other end-to-end headers in
  // headers), or with an error response: 502 when the connection or the exchange failed, 504
  // when it took longer than `timeout`, 503 when the server is not running (then at once, on
  // the calling thread). Throws std::invalid_argument for a target not starting with '/' or a
  // CR or LF in the target or a header.
  void fetch(std::string host, std::uint16_t port, std::string target,
             const std::vector<std::pair<std::string, std::string>>& headers,
             std::chrono::milliseconds timeout, Respond done);

 private:
  enum class State { created, running, stopped };

  std::shared_ptr<detail::ServerCore> core_;  // shared with every Respond and connection
  std::mutex lifecycle_mutex_;
  State state_ = State::created;
  std::vector<std::thread> threads_;
};

}  // namespace rivulet::http
