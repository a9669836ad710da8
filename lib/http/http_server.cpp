#include "http/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <exception>
#include <iterator>
#include <limits>
#include <list>
#include <stdexcept>

#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include <rivulet/errors.h>

#include "common/logging.h"

namespace rivulet::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kReadChunk = std::size_t{16} * 1024;
// How long a connection the server closes keeps reading (and dropping) what the client still
// sends, so that the kernel does not answer it with a reset that would destroy the response.
constexpr std::chrono::milliseconds kLingerTime{1'000};
constexpr std::uint32_t kFetchHeaderLimit = 64 * 1024;

std::string to_string(beast::string_view view) {
  return {view.data(), view.size()};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_token_char);
}

bool has_line_break(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Headers the server (or the fetch client) sets itself, or that describe one hop only.
bool is_framing_header(std::string_view name) {
  for (std::string_view framing :
       {"content-type", "content-length", "connection", "transfer-encoding", "keep-alive",
        "upgrade", "te", "trailer", "proxy-connection"}) {
    if (iequals(name, framing)) return true;
  }
  return false;
}

// "Bearer <token>", the scheme in any case. Compares the token in time independent of where it
// differs, so that its prefix cannot be guessed by timing.
bool carries_bearer_token(std::string_view authorization, std::string_view token) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() < kScheme.size() ||
      !iequals(authorization.substr(0, kScheme.size()), kScheme)) {
    return false;
  }
  std::string_view given = authorization.substr(kScheme.size());
  given.remove_prefix(std::min(given.find_first_not_of(' '), given.size()));
  if (given.size() != token.size()) return false;
  unsigned char difference = 0;
  for (std::size_t i = 0; i < token.size(); ++i) {
    difference |= static_cast<unsigned char>(given[i] ^ token[i]);
  }
  return difference == 0;
}

std::string_view reason_phrase(int status) {
  const beast::string_view reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  if (reason.empty() || reason.front() == '<') return "Unknown";
  return {reason.data(), reason.size()};
}

// Fills path, segments and query from request.target. Returns an error message, or "".
std::string_view parse_target(Request& request) {
  const std::string_view target = request.target;
  if (target.empty() || target.front() != '/') return "request target must be an absolute path";
  const std::size_t mark = target.find('?');
  const std::string_view raw_path = target.substr(0, mark);
  const std::string_view raw_query =
      mark == std::string_view::npos ? std::string_view() : target.substr(mark + 1);

  auto path = percent_decode(raw_path);
  if (!path) return "bad percent-encoding in the request path";
  request.path = std::move(*path);
  for (std::size_t begin = 0; begin < raw_path.size();) {
    const std::size_t end = std::min(raw_path.find('/', begin), raw_path.size());
    if (end > begin) {
      auto segment = percent_decode(raw_path.substr(begin, end - begin));
      if (!segment) return "bad percent-encoding in the request path";
      request.segments.push_back(std::move(*segment));
    }
    begin = end + 1;
  }
  for (std::size_t begin = 0; begin < raw_query.size();) {
    const std::size_t end = std::min(raw_query.find('&', begin), raw_query.size());
    const std::string_view pair = raw_query.substr(begin, end - begin);
    begin = end + 1;
    if (pair.empty()) continue;
    const std::size_t equals = pair.find('=');
    auto name = percent_decode(pair.substr(0, equals), true);
    auto value = percent_decode(
        equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1), true);
    if (!name || !value) return "bad percent-encoding in the query string";
    request.query.insert_or_assign(std::move(*name), std::move(*value));
  }
  return {};
}

// Why a response from the handler cannot be sent, or "".
std::string invalid_response(const Response& response) {
  if (response.status < 200 || response.status > 599) {
    return fmt::format("the handler answered with status {}, which is not a final status",
                       response.status);
  }
  if (has_line_break(response.content_type)) {
    return "the handler's content type contains a line break";
  }
  for (const auto& [name, value] : response.headers) {
    if (!is_token(name) || has_line_break(value)) {
      return fmt::format("the handler's header '{}' is not a valid header", name);
    }
  }
  return {};
}

}  // namespace

Response error_response(int status, std::string_view message) {
  Response response;
  response.status = status;
  const nlohmann::json body = {{"error", message}, {"status", status}};
  // Messages may quote what a client sent; invalid UTF-8 must not make dump() throw.
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

namespace detail {

// A connection or a fetch that stop() must close.
class Closable {
 public:
  virtual ~Closable() = default;
  // Closes it on its own strand; callable from any thread.
  virtual void shut_down() = 0;
};

using Registry = std::list<std::weak_ptr<Closable>>;

// What the server, its connections and every Respond share. Owned by the HttpServer and by each
// Respond (so that a late Respond can still post to the io_context); connections and fetches
// refer to it plainly, since they live only inside the io_context's queues.
struct ServerCore : std::enable_shared_from_this<ServerCore> {
  ServerCore(ServerOptions server_options, Handler request_handler)
      : options(std::move(server_options)),
        handler(std::move(request_handler)),
        logger(common::make_logger("rivulet.http")),
        io(std::max(options.io_threads, 1)) {}

  ~ServerCore() {
    error_code ignored;
    acceptor.close(ignored);
  }

  ServerCore(const ServerCore&) = delete;
  ServerCore& operator=(const ServerCore&) = delete;

  void listen();
  void accept();
  void on_accepted(tcp::socket socket);
  // Adds `closable` to those stop() closes. False when the server is not running.
  bool enroll(const std::shared_ptr<Closable>& closable, Registry::iterator& entry);
  void withdraw(Registry::iterator entry);
  void shut_down_all();

  const ServerOptions options;
  const Handler handler;
  const std::shared_ptr<spdlog::logger> logger;

  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> active_connections{0};
  std::atomic<std::uint64_t> rejecting_connections{0};  // answering 503, not yet closed
  std::atomic<std::uint64_t> rejected_connections{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> bad_requests{0};
  std::atomic<std::uint64_t> unauthorized{0};
  std::atomic<std::uint64_t> timeouts{0};
  std::atomic<std::uint64_t> handler_errors{0};
  std::array<std::atomic<std::uint64_t>, 4> responses_by_class{};  // 2xx .. 5xx
  std::atomic<std::uint16_t> port{0};

  std::mutex registry_mutex;
  bool running = false;  // guarded by registry_mutex, like the two below
  bool stopping = false;
  Registry registry;

  // Declared after everything the handlers in its queues may touch, so destroyed before it.
  asio::io_context io;
  tcp::acceptor acceptor{asio::make_strand(io)};
  asio::steady_timer accept_retry{acceptor.get_executor()};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
};

}  // namespace detail

namespace {

using detail::Closable;
using detail::Registry;
using detail::ServerCore;

class Connection;

// Shared by the copies of one request's Respond.
struct RespondState {
  RespondState(std::shared_ptr<ServerCore> server_core, asio::any_io_executor strand,
               std::weak_ptr<Connection> target, std::uint64_t request)
      : core(std::move(server_core)),
        executor(std::move(strand)),
        connection(std::move(target)),
        sequence(request) {}

  std::shared_ptr<ServerCore> core;  // first: outlives `executor`, which needs its io_context
  asio::any_io_executor executor;
  std::weak_ptr<Connection> connection;
  std::uint64_t sequence;
  std::atomic<bool> answered{false};
};

// One accepted connection: reads a request, hands it to the handler, writes the response, and
// again while the connection is kept alive. Everything runs on its strand; it lives as long as
// one of its operations is pending.
class Connection final : public Closable, public std::enable_shared_from_this<Connection> {
 public:
  Connection(ServerCore& core, tcp::socket socket, bool reject)
      : core_(core),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        reject_(reject),
        request_start_(Clock::now()) {
    ++(reject_ ? core_.rejecting_connections : core_.active_connections);
  }

  Registry::iterator& entry() { return entry_; }
  asio::any_io_executor executor() { return socket_.get_executor(); }

  void start() {
    if (closed_) return;
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    if (reject_) {
      ++core_.rejected_connections;
      Response response = error_response(
          503, fmt::format("too many connections (at most {})", core_.options.max_connections));
      response.headers.emplace_back("Retry-After", "1");
      send(std::move(response), true);
      return;
    }
    ++core_.connections;
    begin_request();
  }

  void shut_down() override {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close(); });
  }

  // A handler's response to request `sequence`; dropped when that request is no longer waiting.
  void deliver(std::uint64_t sequence, Response response) {
    if (closed_ || phase_ != Phase::handling || sequence != sequence_) return;
    if (const std::string problem = invalid_response(response); !problem.empty()) {
      ++core_.handler_errors;
      core_.logger->warn("HTTP {} {}: {}", method_, path_, problem);
      response = error_response(500, problem);
    }
    send(std::move(response), !keep_alive_);
  }

  // Closes the socket at once; pending operations complete with an error and release it.
  void close() {
    if (closed_) return;
    closed_ = true;
    phase_ = Phase::closed;
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    timer_.cancel();
    --(reject_ ? core_.rejecting_connections : core_.active_connections);
    if (enrolled_) core_.withdraw(entry_);
    enrolled_ = false;
  }

  void set_enrolled() { enrolled_ = true; }

 private:
  // What the connection waits for; one operation (a read or a write) is pending at a time.
  enum class Phase { reading, continuing, handling, writing, lingering, closed };

  void begin_request() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
        core_.options.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(core_.options.max_body_bytes);
    parser_->eager(true);
    request_started_ = buffer_.size() > 0;  // a pipelined request already arrived
    if (request_started_) request_start_ = Clock::now();
    request_deadline_armed_ = false;
    continue_sent_ = false;
    method_.clear();
    path_.clear();
    if (request_started_) {
      parse();
    } else {
      read_more();
    }
  }

  void read_more() {
    phase_ = Phase::reading;
    if (!request_started_) {
      // A new connection must start its request promptly; a kept-alive one may idle longer.
      arm(Clock::now() +
          (served_ == 0 ? core_.options.request_timeout : core_.options.idle_timeout));
    } else if (!request_deadline_armed_) {
      request_deadline_armed_ = true;
      arm(request_start_ + core_.options.request_timeout);
    }
    socket_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = shared_from_this()](const error_code& error, std::size_t n) {
                              self->on_read(error, n);
                            });
  }

  void on_read(const error_code& error, std::size_t size) {
    if (phase_ != Phase::reading) return;  // cancelled for a 408, or closed
    if (error) {
      close();  // end of stream, reset, or the connection was closed
      return;
    }
    buffer_.commit(size);
    if (!request_started_) {
      request_started_ = true;
      request_start_ = Clock::now();
    }
    parse();
  }

  void parse() {
    error_code error;
    while (!parser_->is_done() && buffer_.size() > 0) {
      const std::size_t used = parser_->put(buffer_.data(), error);
      buffer_.consume(used);
      if (error == bhttp::error::need_more) {
        error = {};
        break;
      }
      if (error || used == 0) break;
    }
    if (error == bhttp::error::header_limit) {
      refuse(431,
             fmt::format("request headers longer than {} bytes", core_.options.max_header_bytes));
    } else if (error == bhttp::error::body_limit) {
      refuse(413, fmt::format("request body longer than {} bytes", core_.options.max_body_bytes));
    } else if (error) {
      refuse(400, "malformed HTTP request: " + error.message());
    } else if (parser_->is_done()) {
      on_request();
    } else if (parser_->is_header_done() && !continue_sent_ && expects_continue()) {
      send_continue();
    } else {
      read_more();
    }
  }

  bool expects_continue() const {
    const auto& message = parser_->get();
    const auto expect = message[bhttp::field::expect];
    return message.version() >= 11 && iequals({expect.data(), expect.size()}, "100-continue");
  }

  void send_continue() {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    continue_sent_ = true;
    phase_ = Phase::continuing;
    asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this()](const error_code& error, std::size_t) {
                        if (self->phase_ != Phase::continuing) return;
                        if (error) {
                          self->close();
                        } else {
                          self->read_more();
                        }
                      });
  }

  // Answers a request the server will not pass on, and closes the connection after.
  void refuse(int status, std::string_view message) {
    ++core_.bad_requests;
    if (parser_ && parser_->is_header_done()) {
      method_ = to_string(parser_->get().method_string());
    }
    core_.logger->debug("HTTP {}: {}", status, message);
    send(error_response(status, message), true);
  }

  void on_request() {
    ++core_.requests;
    auto& message = parser_->get();
    Request request;
    request.method = to_string(message.method_string());
    request.target = to_string(message.target());
    method_ = request.method;
    keep_alive_ = message.keep_alive();
    head_request_ = message.method() == bhttp::verb::head;
    if (const std::string_view problem = parse_target(request); !problem.empty()) {
      refuse(400, problem);
      return;
    }
    path_ = request.path;
    for (const auto& field : message) {
      auto [it, inserted] = request.headers.try_emplace(lower(to_string(field.name_string())),
                                                        to_string(field.value()));
      if (!inserted) {
        it->second += ", ";
        it->second.append(field.value().data(), field.value().size());
      }
    }
    request.body = std::move(message.body());

    if (!core_.options.bearer_token.empty() && !core_.options.open_paths.contains(request.path)) {
      const auto authorization = request.headers.find("authorization");
      const bool missing = authorization == request.headers.end();
      if (missing || !carries_bearer_token(authorization->second, core_.options.bearer_token)) {
        ++core_.bad_requests;
        ++core_.unauthorized;
        Response response =
            error_response(401, missing ? "a bearer token is required" : "invalid bearer token");
        response.headers.emplace_back("WWW-Authenticate",
                                      missing ? R"(Bearer realm="rivulet")"
                                              : R"(Bearer realm="rivulet", error="invalid_token")");
        send(std::move(response), !keep_alive_);
        return;
      }
    }

    ++sequence_;
    phase_ = Phase::handling;
    arm(Clock::now() + core_.options.response_timeout);
    auto state = std::make_shared<RespondState>(core_.shared_from_this(), socket_.get_executor(),
                                                weak_from_this(), sequence_);
    Respond respond = [state](Response response) {
      if (state->answered.exchange(true)) return;
      asio::post(state->executor, [connection = state->connection, sequence = state->sequence,
                                   response = std::move(response)]() mutable {
        if (auto target = connection.lock()) target->deliver(sequence, std::move(response));
      });
    };
    std::string failure;
    try {
      core_.handler(std::move(request), std::move(respond));
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "unknown exception";
    }
    if (!failure.empty() && !state->answered.exchange(true)) {
      ++core_.handler_errors;
      core_.logger->warn("HTTP {} {}: the handler threw: {}", method_, path_, failure);
      send(error_response(500, failure), !keep_alive_);
    }
  }

  void send(Response response, bool close_after) {
    phase_ = Phase::writing;
    status_ = response.status;
    close_after_write_ = close_after;
    head_.clear();
    auto out = std::back_inserter(head_);
    fmt::format_to(out, "HTTP/1.1 {} {}\r\n", response.status, reason_phrase(response.status));
    const bool has_body = response.status != 204 && response.status != 304;
    if (has_body) {
      if (!response.content_type.empty()) {
        fmt::format_to(out, "Content-Type: {}\r\n", response.content_type);
      }
      fmt::format_to(out, "Content-Length: {}\r\n", response.body.size());
    }
    head_ += close_after ? "Connection: close\r\n" : "Connection: keep-alive\r\n";
    for (const auto& [name, value] : response.headers) {
      if (!is_framing_header(name)) fmt::format_to(out, "{}: {}\r\n", name, value);
    }
    head_ += "\r\n";
    if (has_body && !head_request_) {
      body_ = std::move(response.body);
    } else {
      body_.clear();
    }
    arm(Clock::now() + core_.options.request_timeout);
    const std::array<asio::const_buffer, 2> buffers = {asio::buffer(head_), asio::buffer(body_)};
    asio::async_write(socket_, buffers,
                      [self = shared_from_this()](const error_code& error, std::size_t) {
                        self->on_written(error);
                      });
  }

  void on_written(const error_code& error) {
    if (phase_ != Phase::writing) return;  // closed meanwhile
    complete();
    if (error) {
      close();
      return;
    }
    ++served_;
    if (close_after_write_) {
      linger();
    } else {
      begin_request();
    }
  }

  void complete() {
    if (status_ >= 200 && status_ <= 599) ++core_.responses_by_class[status_ / 100 - 2];
    if (!core_.options.on_complete) return;
    try {
      core_.options.on_complete(Completion{method_, path_, status_, Clock::now() - request_start_});
    } catch (const std::exception& e) {
      core_.logger->warn("HTTP on_complete threw: {}", e.what());
    } catch (...) {
      core_.logger->warn("HTTP on_complete threw");
    }
  }

  // Closes our side for writing, then drops what the client still sends until it closes too.
  void linger() {
    phase_ = Phase::lingering;
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    arm(Clock::now() + std::min(core_.options.request_timeout, kLingerTime));
    drain();
  }

  void drain() {
    buffer_.clear();
    socket_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = shared_from_this()](const error_code& error, std::size_t) {
                              if (self->phase_ != Phase::lingering) return;
                              if (error) {
                                self->close();
                              } else {
                                self->drain();
                              }
                            });
  }

  void arm(Clock::time_point deadline) {
    timer_.expires_at(deadline);
    timer_.async_wait([self = shared_from_this()](const error_code& error) {
      if (error || self->closed_) return;
      if (self->timer_.expiry() > Clock::now()) return;  // re-armed after this wait completed
      self->on_deadline();
    });
  }

  void on_deadline() {
    switch (phase_) {
      case Phase::reading:
        if (!request_started_) {
          close();  // idle: nothing to answer
          return;
        }
        ++core_.timeouts;
        ++core_.bad_requests;
        {
          error_code ignored;
          socket_.cancel(ignored);  // the pending read; its completion sees the new phase
        }
        if (parser_->is_header_done()) method_ = to_string(parser_->get().method_string());
        send(error_response(408, fmt::format("request not received within {} ms",
                                             core_.options.request_timeout.count())),
             true);
        return;
      case Phase::handling:
        ++core_.timeouts;
        core_.logger->warn("HTTP {} {}: no response within {} ms", method_, path_,
                           core_.options.response_timeout.count());
        send(error_response(504, fmt::format("no response within {} ms",
                                             core_.options.response_timeout.count())),
             !keep_alive_);
        return;
      case Phase::continuing:
      case Phase::writing:  // the client does not take its response
      case Phase::lingering:
        close();
        return;
      case Phase::closed:
        return;
    }
  }

  ServerCore& core_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  const bool reject_;
  Registry::iterator entry_;
  bool enrolled_ = false;
  bool closed_ = false;
  Phase phase_ = Phase::reading;

  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool request_started_ = false;  // a byte of the current request arrived
  bool request_deadline_armed_ = false;
  bool continue_sent_ = false;
  Clock::time_point request_start_;
  std::uint64_t served_ = 0;    // responses written
  std::uint64_t sequence_ = 0;  // of the request given to the handler last
  bool keep_alive_ = true;
  bool head_request_ = false;
  std::string method_;  // of the current request, for logs and on_complete
  std::string path_;

  int status_ = 0;
  bool close_after_write_ = false;
  std::string head_;  // status line and headers being written; reused
  std::string body_;
};

// One fetch(): connect, send a GET, read the response, call `done` once.
class Fetch final : public Closable, public std::enable_shared_from_this<Fetch> {
 public:
  Fetch(ServerCore& core, std::string host, std::uint16_t port, std::string request,
        std::chrono::milliseconds timeout, Respond done)
      : core_(core),
        socket_(asio::make_strand(core.io)),
        resolver_(socket_.get_executor()),
        timer_(socket_.get_executor()),
        host_(std::move(host)),
        port_(port),
        request_(std::move(request)),
        timeout_(timeout),
        done_(std::move(done)) {
    parser_.header_limit(kFetchHeaderLimit);
    parser_.body_limit(core.options.max_fetch_response_bytes);
  }

  Registry::iterator& entry() { return entry_; }
  void set_enrolled() { enrolled_ = true; }
  asio::any_io_executor executor() { return socket_.get_executor(); }

  void start() {
    if (finished_) return;
    timer_.expires_after(timeout_);
    timer_.async_wait([self = shared_from_this()](const error_code& error) {
      if (error) return;
      self->finish(
          error_response(504, fmt::format("no response from {}:{} within {} ms", self->host_,
                                          self->port_, self->timeout_.count())));
    });
    error_code error;
    const auto address = asio::ip::make_address(host_, error);
    if (!error) {
      connect(std::array<tcp::endpoint, 1>{tcp::endpoint(address, port_)});
      return;
    }
    resolver_.async_resolve(host_, std::to_string(port_),
                            [self = shared_from_this()](const error_code& resolve_error,
                                                        const tcp::resolver::results_type& found) {
                              if (self->finished_) return;
                              if (resolve_error) {
                                self->fail("cannot resolve", resolve_error);
                                return;
                              }
                              self->connect(found);
                            });
  }

  // Completes a fetch that was never started, on the calling thread.
  void abandon(Response response) { finish(std::move(response)); }

  void shut_down() override {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      self->finish(error_response(503, "the HTTP server stopped"));
    });
  }

 private:
  template <class Endpoints>
  void connect(const Endpoints& endpoints) {
    asio::async_connect(socket_, endpoints,
                        [self = shared_from_this()](const error_code& error, const tcp::endpoint&) {
                          if (self->finished_) return;
                          if (error) {
                            self->fail("cannot connect to", error);
                            return;
                          }
                          self->write();
                        });
  }

  void write() {
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    asio::async_write(socket_, asio::buffer(request_),
                      [self = shared_from_this()](const error_code& error, std::size_t) {
                        if (self->finished_) return;
                        if (error) {
                          self->fail("cannot send the request to", error);
                          return;
                        }
                        self->read();
                      });
  }

  void read() {
    bhttp::async_read(socket_, buffer_, parser_,
                      [self = shared_from_this()](const error_code& error, std::size_t) {
                        if (self->finished_) return;
                        if (error) {
                          self->fail("no valid response from", error);
                          return;
                        }
                        self->finish(self->response());
                      });
  }

  Response response() {
    auto& message = parser_.get();
    Response out;
    out.status = static_cast<int>(message.result_int());
    out.content_type = to_string(message[bhttp::field::content_type]);
    out.body = std::move(message.body());
    for (const auto& field : message) {
      const auto name = field.name_string();
      if (is_framing_header({name.data(), name.size()})) continue;
      out.headers.emplace_back(to_string(name), to_string(field.value()));
    }
    return out;
  }

  void fail(std::string_view what, const error_code& error) {
    finish(error_response(502, fmt::format("{} {}:{}: {}", what, host_, port_, error.message())));
  }

  void finish(Response response) {
    if (finished_) return;
    finished_ = true;
    error_code ignored;
    timer_.cancel();
    resolver_.cancel();
    socket_.close(ignored);
    if (enrolled_) core_.withdraw(entry_);
    enrolled_ = false;
    Respond done = std::move(done_);
    try {
      done(std::move(response));
    } catch (const std::exception& e) {
      core_.logger->warn("HTTP fetch: the completion threw: {}", e.what());
    } catch (...) {
      core_.logger->warn("HTTP fetch: the completion threw");
    }
  }

  ServerCore& core_;
  tcp::socket socket_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;
  std::string host_;
  std::uint16_t port_;
  std::string request_;
  std::chrono::milliseconds timeout_;
  Respond done_;
  beast::flat_buffer buffer_;
  bhttp::response_parser<bhttp::string_body> parser_;
  Registry::iterator entry_;
  bool enrolled_ = false;
  bool finished_ = false;
};

}  // namespace

namespace detail {

void ServerCore::listen() {
  error_code error;
  tcp::endpoint endpoint;
  const auto address = asio::ip::make_address(options.host, error);
  if (!error) {
    endpoint = tcp::endpoint(address, options.port);
  } else {
    tcp::resolver resolver(io);
    const auto found = resolver.resolve(options.host, std::to_string(options.port), error);
    if (error || found.empty()) {
      throw StreamsException(fmt::format("HTTP server: cannot resolve host '{}': {}", options.host,
                                         error ? error.message() : "no address"));
    }
    endpoint = found.begin()->endpoint();
  }
  // SO_REUSEADDR lets a restarted instance take its port back at once (no TIME_WAIT delay); on
  // Linux it does not let two sockets listen on the same address.
  acceptor.open(endpoint.protocol(), error);
  if (!error) acceptor.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) acceptor.bind(endpoint, error);
  if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    error_code ignored;
    acceptor.close(ignored);
    throw StreamsException(fmt::format("HTTP server: cannot listen on {}:{}: {}", options.host,
                                       options.port, error.message()));
  }
  port = acceptor.local_endpoint().port();
}

void ServerCore::accept() {
  acceptor.async_accept(asio::make_strand(io), [this](const error_code& error, tcp::socket socket) {
    if (error == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (error) {
      // Out of descriptors, say: try again a little later rather than spin.
      logger->warn("HTTP server: accept failed: {}", error.message());
      accept_retry.expires_after(std::chrono::milliseconds(100));
      accept_retry.async_wait([this](const error_code& timer_error) {
        if (!timer_error && acceptor.is_open()) accept();
      });
      return;
    }
    on_accepted(std::move(socket));
    accept();
  });
}

void ServerCore::on_accepted(tcp::socket socket) {
  const bool reject = active_connections.load() >= options.max_connections;
  if (reject && rejecting_connections.load() >= options.max_connections) {
    // Even the 503s are backed up: drop this one without a word.
    ++rejected_connections;
    error_code ignored;
    socket.close(ignored);
    return;
  }
  auto connection = std::make_shared<Connection>(*this, std::move(socket), reject);
  if (!enroll(connection, connection->entry())) {
    connection->close();
    return;
  }
  connection->set_enrolled();
  asio::post(connection->executor(), [connection] { connection->start(); });
}

bool ServerCore::enroll(const std::shared_ptr<Closable>& closable, Registry::iterator& entry) {
  std::lock_guard lock(registry_mutex);
  if (!running || stopping) return false;
  entry = registry.insert(registry.end(), closable);
  return true;
}

void ServerCore::withdraw(Registry::iterator entry) {
  std::lock_guard lock(registry_mutex);
  registry.erase(entry);
}

void ServerCore::shut_down_all() {
  std::vector<std::shared_ptr<Closable>> open;
  {
    std::lock_guard lock(registry_mutex);
    stopping = true;
    for (const auto& weak : registry) {
      if (auto closable = weak.lock()) open.push_back(std::move(closable));
    }
  }
  asio::post(acceptor.get_executor(), [this] {
    error_code ignored;
    acceptor.close(ignored);
    accept_retry.cancel();
  });
  for (const auto& closable : open) closable->shut_down();
  work.reset();
}

}  // namespace detail

HttpServer::HttpServer(ServerOptions options, Handler handler) {
  if (!handler) throw StreamsException("HTTP server: a handler is required");
  core_ = std::make_shared<detail::ServerCore>(std::move(options), std::move(handler));
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::start() {
  std::lock_guard lock(lifecycle_mutex_);
  if (state_ != State::created) {
    throw StreamsException("HTTP server: start() may be called only once");
  }
  const ServerOptions& options = core_->options;
  const auto require = [](bool valid, std::string_view what) {
    if (!valid) throw StreamsException(fmt::format("HTTP server: {}", what));
  };
  require(options.io_threads >= 1,
          fmt::format("io_threads must be at least 1, got {}", options.io_threads));
  require(options.max_connections >= 1, "max_connections must be at least 1");
  require(options.max_header_bytes >= 64, "max_header_bytes must be at least 64");
  require(options.request_timeout.count() > 0, "request_timeout must be positive");
  require(options.idle_timeout.count() > 0, "idle_timeout must be positive");
  require(options.response_timeout.count() > 0, "response_timeout must be positive");

  core_->listen();
  {
    std::lock_guard registry_lock(core_->registry_mutex);
    core_->running = true;
  }
  core_->work.emplace(core_->io.get_executor());
  asio::dispatch(core_->acceptor.get_executor(), [core = core_.get()] { core->accept(); });
  for (int i = 0; i < options.io_threads; ++i) {
    threads_.emplace_back([core = core_.get()] {
      for (;;) {
        try {
          core->io.run();
          return;
        } catch (const std::exception& e) {
          core->logger->error("HTTP server: an io thread caught: {}", e.what());
        } catch (...) {
          core->logger->error("HTTP server: an io thread caught an unknown exception");
        }
      }
    });
  }
  state_ = State::running;
}

void HttpServer::stop() {
  std::lock_guard lock(lifecycle_mutex_);
  const bool was_running = state_ == State::running;
  state_ = State::stopped;
  if (!was_running) return;
  core_->shut_down_all();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

std::uint16_t HttpServer::port() const {
  return core_->port.load();
}

ServerCounters HttpServer::counters() const {
  const detail::ServerCore& core = *core_;
  ServerCounters out;
  out.connections = core.connections.load();
  out.active_connections = core.active_connections.load();
  out.rejected_connections = core.rejected_connections.load();
  out.requests = core.requests.load();
  out.bad_requests = core.bad_requests.load();
  out.unauthorized = core.unauthorized.load();
  out.timeouts = core.timeouts.load();
  out.handler_errors = core.handler_errors.load();
  out.responses_2xx = core.responses_by_class[0].load();
  out.responses_3xx = core.responses_by_class[1].load();
  out.responses_4xx = core.responses_by_class[2].load();
  out.responses_5xx = core.responses_by_class[3].load();
  return out;
}

void HttpServer::fetch(std::string host, std::uint16_t port, std::string target,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       std::chrono::milliseconds timeout, Respond done) {
  if (target.empty() || target.front() != '/' ||
      target.find_first_of(std::string_view(" \r\n\0", 4)) != std::string::npos) {
    throw std::invalid_argument(
        "HTTP fetch: the target must be an absolute path without spaces "
        "or line breaks, got '" +
        target + "'");
  }
  std::string request =
      fmt::format("GET {} HTTP/1.1\r\nHost: {}:{}\r\nConnection: close\r\n", target,
                  host.find(':') == std::string::npos ? host : "[" + host + "]", port);
  for (const auto& [name, value] : headers) {
    if (!is_token(name) || has_line_break(value)) {
      throw std::invalid_argument("HTTP fetch: invalid header '" + name + "'");
    }
    if (iequals(name, "host") || is_framing_header(name)) continue;
    fmt::format_to(std::back_inserter(request), "{}: {}\r\n", name, value);
  }
  request += "\r\n";

  auto fetch = std::make_shared<Fetch>(*core_, std::move(host), port, std::move(request), timeout,
                                       std::move(done));
  if (!core_->enroll(fetch, fetch->entry())) {
    fetch->abandon(error_response(503, "the HTTP server is not running"));
    return;
  }
  fetch->set_enrolled();
  asio::post(fetch->executor(), [fetch] { fetch->start(); });
}

}  // namespace rivulet::http
