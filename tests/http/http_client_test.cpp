// HttpServer::fetch, the client that forwards a request to another instance: against a second
// server, from inside a handler, and its failures (connection refused, timeout, stopped server).
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "http/http_server.h"
#include "kafka_test_support.h"
#include "raw_http_client.h"

namespace rivulet::http {
namespace {

using namespace std::chrono_literals;
using test::RawHttpClient;
using test::wait_until;

std::unique_ptr<HttpServer> start_server(ServerOptions options, Handler handler) {
  auto server = std::make_unique<HttpServer>(std::move(options), std::move(handler));
  server->start();
  return server;
}

// The backend: echoes what it received as JSON, with a header of its own.
std::unique_ptr<HttpServer> start_backend() {
  return start_server({}, [](Request request, Respond respond) {
    Response response;
    response.status = 203;
    response.content_type = "application/x-echo";
    response.body = nlohmann::json{{"target", request.target},
                                   {"path", request.path},
                                   {"authorization", request.headers["authorization"]},
                                   {"host", request.headers["host"]}}
                        .dump();
    response.headers.emplace_back("X-Backend", "b");
    respond(std::move(response));
  });
}

// Collects the one response a fetch delivers, and how many times `done` was called.
struct Outcome {
  std::promise<Response> promise;
  std::future<Response> future = promise.get_future();
  std::atomic<int> calls{0};

  Respond done() {
    return [this](Response response) {
      if (++calls == 1) promise.set_value(std::move(response));
    };
  }
  // The response, or a 0 status when none came within `timeout`.
  Response get(std::chrono::milliseconds timeout = 10s) {
    if (future.wait_for(timeout) != std::future_status::ready) return Response{0, "", "", {}};
    return future.get();
  }
};

std::string header(const Response& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return {};
}

TEST(HttpClientTest, FetchGetsTheResponseOfAnotherServer) {
  auto backend = start_backend();
  auto front = start_server({}, [](Request, Respond respond) { respond(Response{}); });
  Outcome outcome;
  front->fetch("127.0.0.1", backend->port(), "/stores/counts/keys/a%20b?x=1",
               {{"Authorization", "Bearer t0ken"}}, 5s, outcome.done());
  const Response response = outcome.get();
  EXPECT_EQ(response.status, 203);
  EXPECT_EQ(response.content_type, "application/x-echo");
  EXPECT_EQ(header(response, "X-Backend"), "b");
  for (const auto& [name, value] : response.headers) {
    EXPECT_NE(name, "Content-Length");  // framing is the forwarder's own business
    EXPECT_NE(name, "Connection");
  }
  const auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["target"], "/stores/counts/keys/a%20b?x=1");
  EXPECT_EQ(body["path"], "/stores/counts/keys/a b");
  EXPECT_EQ(body["authorization"], "Bearer t0ken");
  EXPECT_EQ(body["host"], "127.0.0.1:" + std::to_string(backend->port()));
  front->stop();
  EXPECT_EQ(outcome.calls.load(), 1);
}

TEST(HttpClientTest, AHandlerForwardsARequestToAnotherInstance) {
  auto backend = start_backend();
  const std::uint16_t backend_port = backend->port();
  HttpServer* front_server = nullptr;
  auto front = start_server({}, [&](Request request, Respond respond) {
    front_server->fetch("127.0.0.1", backend_port, request.target, {}, 5s, std::move(respond));
  });
  front_server = front.get();
  RawHttpClient client(front->port());
  ASSERT_TRUE(client.send_request("/forwarded/path"));
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 203);
  EXPECT_EQ(response->header("content-type"), "application/x-echo");
  EXPECT_EQ(response->header("x-backend"), "b");
  EXPECT_EQ(nlohmann::json::parse(response->body)["path"], "/forwarded/path");
}

TEST(HttpClientTest, ConnectionRefusedGives502) {
  std::uint16_t closed_port = 0;
  {
    auto gone = start_server({}, [](Request, Respond respond) { respond(Response{}); });
    closed_port = gone->port();
  }
  auto front = start_server({}, [](Request, Respond respond) { respond(Response{}); });
  Outcome outcome;
  front->fetch("127.0.0.1", closed_port, "/x", {}, 5s, outcome.done());
  const Response response = outcome.get();
  EXPECT_EQ(response.status, 502);
  const auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["status"], 502);
  EXPECT_NE(body["error"].get<std::string>().find("cannot connect to 127.0.0.1:"),
            std::string::npos)
      << body;
}

TEST(HttpClientTest, ABackendThatClosesWithoutAnsweringGives502) {
  // A bare listening socket: the test accepts the fetch's connection and closes it unanswered.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  timeval accept_timeout{5, 0};
  ::setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &accept_timeout, sizeof accept_timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);

  auto front = start_server({}, [](Request, Respond respond) { respond(Response{}); });
  Outcome outcome;
  front->fetch("127.0.0.1", ntohs(address.sin_port), "/x", {}, 5s, outcome.done());
  const int accepted = ::accept(listener, nullptr, nullptr);
  EXPECT_GE(accepted, 0);
  if (accepted >= 0) ::close(accepted);
  ::close(listener);
  const Response response = outcome.get();
  EXPECT_EQ(response.status, 502);
  EXPECT_NE(nlohmann::json::parse(response.body)["error"].get<std::string>().find(
                "no valid response from 127.0.0.1:"),
            std::string::npos)
      << response.body;
}

TEST(HttpClientTest, HttpErrorsOfTheOtherEndArePassedOnAsTheyAre) {
  auto front = start_server({}, [](Request, Respond respond) { respond(Response{}); });
  ServerOptions tiny;
  tiny.max_header_bytes = 64;  // refuses the request with 431 and closes
  auto refusing = start_server(tiny, [](Request, Respond respond) { respond(Response{}); });
  Outcome refused;
  front->fetch("127.0.0.1", refusing->port(), "/" + std::string(200, 'x'), {}, 5s, refused.done());
  EXPECT_EQ(refused.get().status, 431);

  ServerOptions full;
  full.max_connections = 1;  // answers 503 at once
  auto busy = start_server(full, [](Request, Respond respond) { respond(Response{}); });
  RawHttpClient occupying(busy->port());
  ASSERT_TRUE(occupying.send_request("/hold"));
  ASSERT_TRUE(occupying.read_response());
  Outcome rejected;
  front->fetch("127.0.0.1", busy->port(), "/x", {}, 5s, rejected.done());
  EXPECT_EQ(rejected.get().status, 503);
}

TEST(HttpClientTest, NoResponseInTimeGives504) {
  std::atomic<int> handled{0};
  auto silent_backend = start_server({}, [&](Request, Respond) { ++handled; });  // never answers
  auto front = start_server({}, [](Request, Respond respond) { respond(Response{}); });
  Outcome outcome;
  const auto sent = std::chrono::steady_clock::now();
  front->fetch("127.0.0.1", silent_backend->port(), "/slow", {}, 200ms, outcome.done());
  const Response response = outcome.get();
  EXPECT_EQ(response.status, 504);
  EXPECT_GE(std::chrono::steady_clock::now() - sent, 150ms);
  EXPECT_EQ(nlohmann::json::parse(response.body)["status"], 504);
  EXPECT_EQ(handled.load(), 1);
  front->stop();
  EXPECT_EQ(outcome.calls.load(), 1);
}

TEST(HttpClientTest, StopCompletesPendingFetchesWith503) {
  auto silent_backend = start_server({}, [](Request, Respond) {});
  auto front = start_server({}, [](Request, Respond respond) { respond(Response{}); });
  Outcome outcome;
  front->fetch("127.0.0.1", silent_backend->port(), "/slow", {}, 60s, outcome.done());
  ASSERT_TRUE(wait_until([&] { return silent_backend->counters().requests == 1; }, 5s));
  front->stop();
  const Response response = outcome.get(1s);
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(outcome.calls.load(), 1);
}

TEST(HttpClientTest, FetchOnAServerNotRunningGives503AtOnce) {
  HttpServer never_started({}, [](Request, Respond respond) { respond(Response{}); });
  Outcome outcome;
  never_started.fetch("127.0.0.1", 1, "/x", {}, 1s, outcome.done());
  EXPECT_EQ(outcome.calls.load(), 1);
  EXPECT_EQ(outcome.get(0ms).status, 503);
}

TEST(HttpClientTest, InvalidTargetsAndHeadersAreRefused) {
  auto front = start_server({}, [](Request, Respond respond) { respond(Response{}); });
  Outcome outcome;
  EXPECT_THROW(front->fetch("127.0.0.1", 1, "no-slash", {}, 1s, outcome.done()),
               std::invalid_argument);
  EXPECT_THROW(front->fetch("127.0.0.1", 1, "/a b", {}, 1s, outcome.done()), std::invalid_argument);
  EXPECT_THROW(front->fetch("127.0.0.1", 1, "/x\r\nEvil: 1", {}, 1s, outcome.done()),
               std::invalid_argument);
  EXPECT_THROW(front->fetch("127.0.0.1", 1, "/x", {{"X", "a\r\nEvil: 1"}}, 1s, outcome.done()),
               std::invalid_argument);
  EXPECT_EQ(outcome.calls.load(), 0);
}

}  // namespace
}  // namespace rivulet::http
