// HttpServer over real sockets on 127.0.0.1: requests, keep-alive, limits, timeouts, auth, errors
// and shutdown. Waits are bounded: blocking reads time out, conditions are polled with a deadline.
#include "http/http_server.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <rivulet/errors.h>

#include "kafka_test_support.h"
#include "raw_http_client.h"

namespace rivulet::http {
namespace {

using namespace std::chrono_literals;
using test::RawHttpClient;
using test::RawResponse;
using test::wait_until;

// Answers every request with its path as a plain-text body.
void echo_path(Request request, Respond respond) {
  Response response;
  response.content_type = "text/plain";
  response.body = request.path;
  respond(std::move(response));
}

std::unique_ptr<HttpServer> start_server(ServerOptions options, Handler handler) {
  auto server = std::make_unique<HttpServer>(std::move(options), std::move(handler));
  server->start();
  return server;
}

// Responds handed over by handlers, for the test thread to answer (or not).
class PendingResponds {
 public:
  void add(Respond respond) {
    std::lock_guard lock(mutex_);
    responds_.push_back(std::move(respond));
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return responds_.size();
  }
  Respond at(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return responds_.at(i);
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Respond> responds_;
};

nlohmann::json json_body(const RawResponse& response) {
  return nlohmann::json::parse(response.body);
}

TEST(HttpServerTest, GetReturnsTheHandlersResponseWithItsHeaders) {
  auto server = start_server({}, [](Request request, Respond respond) {
    nlohmann::json body = {{"method", request.method}, {"target", request.target},
                           {"path", request.path},     {"segments", request.segments},
                           {"query", request.query},   {"x-test", request.headers["x-test"]}};
    Response response;
    response.body = body.dump();
    response.headers.emplace_back("X-Extra", "yes");
    respond(std::move(response));
  });
  ASSERT_NE(server->port(), 0);
  RawHttpClient client(server->port());
  ASSERT_TRUE(client.send_request("/hello/world?a=1", "X-Test: Yes\r\n"));
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("content-type"), "application/json");
  EXPECT_EQ(response->header("content-length"), std::to_string(response->body.size()));
  EXPECT_EQ(response->header("connection"), "keep-alive");
  EXPECT_EQ(response->header("x-extra"), "yes");
  const auto body = json_body(*response);
  EXPECT_EQ(body["method"], "GET");
  EXPECT_EQ(body["target"], "/hello/world?a=1");
  EXPECT_EQ(body["path"], "/hello/world");
  EXPECT_EQ(body["segments"], nlohmann::json::array({"hello", "world"}));
  EXPECT_EQ(body["query"]["a"], "1");
  EXPECT_EQ(body["x-test"], "Yes");
}

TEST(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto server = start_server({}, echo_path);
  RawHttpClient client(server->port());
  for (int i = 0; i < 5; ++i) {
    const std::string path = "/request/" + std::to_string(i);
    ASSERT_TRUE(client.send_request(path));
    const auto response = client.read_response();
    ASSERT_TRUE(response) << "request " << i;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, path);
    EXPECT_EQ(response->header("connection"), "keep-alive");
  }
  ASSERT_TRUE(client.send_request("/last", "Connection: close\r\n"));
  const auto last = client.read_response();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->body, "/last");
  EXPECT_EQ(last->header("connection"), "close");
  EXPECT_TRUE(client.wait_closed());
  const ServerCounters counters = server->counters();
  EXPECT_EQ(counters.connections, 1u);
  EXPECT_EQ(counters.requests, 6u);
  EXPECT_EQ(counters.responses_2xx, 6u);
}

TEST(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  PendingResponds pending;
  std::atomic<int> calls{0};
  auto server = start_server({}, [&](Request request, Respond respond) {
    ++calls;
    if (request.path == "/first") {
      pending.add(std::move(respond));  // answered by the test, after the second arrived
    } else {
      echo_path(std::move(request), std::move(respond));
    }
  });
  RawHttpClient client(server->port());
  ASSERT_TRUE(
      client.send("GET /first HTTP/1.1\r\nHost: t\r\n\r\nGET /second HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(wait_until([&] { return pending.size() == 1; }, 5s));
  EXPECT_EQ(calls.load(), 1);  // the second waits until the first is answered
  std::thread([respond = pending.at(0)] {
    Response response;
    response.body = "first";
    respond(std::move(response));
  }).join();
  const auto first = client.read_response();
  const auto second = client.read_response();
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  EXPECT_EQ(first->body, "first");
  EXPECT_EQ(second->body, "/second");
}

TEST(HttpServerTest, HandlerMayRespondLaterFromAnotherThread) {
  PendingResponds pending;
  auto server = start_server({}, [&](Request, Respond respond) { pending.add(respond); });
  RawHttpClient client(server->port());
  ASSERT_TRUE(client.send_request("/later"));
  ASSERT_TRUE(wait_until([&] { return pending.size() == 1; }, 5s));
  std::thread answering([respond = pending.at(0)] {
    Response response;
    response.status = 202;
    response.content_type = "text/plain";
    response.body = "from another thread";
    respond(std::move(response));
  });
  answering.join();
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 202);
  EXPECT_EQ(response->header("content-type"), "text/plain");
  EXPECT_EQ(response->body, "from another thread");
}

TEST(HttpServerTest, OnlyTheFirstCallOfRespondCounts) {
  auto server = start_server({}, [](Request request, Respond respond) {
    Response first;
    first.body = "one";
    respond(first);
    Response second;
    second.body = "two";
    respond(second);
    if (request.path == "/throw") throw std::runtime_error("after responding");
  });
  RawHttpClient client(server->port());
  ASSERT_TRUE(client.send_request("/throw"));
  ASSERT_TRUE(client.send_request("/again"));
  const auto first = client.read_response();
  const auto second = client.read_response();
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, "one");
  EXPECT_EQ(second->body, "one");
  EXPECT_EQ(server->counters().handler_errors, 0u);
}

TEST(HttpServerTest, BearerTokenGuardsAllButTheOpenPaths) {
  ServerOptions options;
  options.bearer_token = "s3cret";
  std::atomic<int> handled{0};
  auto server = start_server(options, [&](Request request, Respond respond) {
    ++handled;
    echo_path(std::move(request), std::move(respond));
  });
  RawHttpClient client(server->port());

  ASSERT_TRUE(client.send_request("/metrics"));
  const auto missing = client.read_response();
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 401);
  EXPECT_EQ(missing->header("www-authenticate"), R"(Bearer realm="rivulet")");
  EXPECT_EQ(json_body(*missing)["status"], 401);

  ASSERT_TRUE(client.send_request("/metrics", "Authorization: Bearer wrong\r\n"));
  const auto wrong = client.read_response();
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_NE(wrong->header("www-authenticate").find(R"(error="invalid_token")"), std::string::npos);

  ASSERT_TRUE(client.send_request("/metrics", "Authorization: Bearer s3cret\r\n"));
  const auto right = client.read_response();
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200);
  EXPECT_EQ(right->body, "/metrics");

  ASSERT_TRUE(client.send_request("/metrics", "Authorization: bearer s3cret\r\n"));
  const auto scheme_in_lower_case = client.read_response();
  ASSERT_TRUE(scheme_in_lower_case);
  EXPECT_EQ(scheme_in_lower_case->status, 200);

  for (const std::string path : {"/health", "/ready"}) {
    ASSERT_TRUE(client.send_request(path));
    const auto open = client.read_response();
    ASSERT_TRUE(open);
    EXPECT_EQ(open->status, 200) << path;
  }
  EXPECT_EQ(handled.load(), 4);
  EXPECT_EQ(server->counters().unauthorized, 2u);
}

TEST(HttpServerTest, ConnectionsBeyondTheLimitGet503AndAreClosed) {
  ServerOptions options;
  options.max_connections = 2;
  auto server = start_server(options, echo_path);
  auto first = std::make_unique<RawHttpClient>(server->port());
  RawHttpClient second(server->port());
  for (RawHttpClient* client : {first.get(), &second}) {
    ASSERT_TRUE(client->send_request("/in"));
    const auto response = client->read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }

  RawHttpClient third(server->port());
  const auto rejected = third.read_response();  // sent without waiting for a request
  ASSERT_TRUE(rejected);
  EXPECT_EQ(rejected->status, 503);
  EXPECT_EQ(rejected->header("retry-after"), "1");
  EXPECT_EQ(rejected->header("connection"), "close");
  EXPECT_EQ(json_body(*rejected)["status"], 503);
  EXPECT_TRUE(third.wait_closed());
  EXPECT_EQ(server->counters().rejected_connections, 1u);

  first.reset();  // frees a slot once the server saw the close
  ASSERT_TRUE(wait_until([&] { return server->counters().active_connections == 1; }, 5s));
  RawHttpClient fourth(server->port());
  ASSERT_TRUE(fourth.send_request("/again"));
  const auto accepted = fourth.read_response();
  ASSERT_TRUE(accepted);
  EXPECT_EQ(accepted->status, 200);
}

TEST(HttpServerTest, OversizedHeadersGet431AndClose) {
  ServerOptions options;
  options.max_header_bytes = 1024;
  std::atomic<int> handled{0};
  auto server = start_server(options, [&](Request request, Respond respond) {
    ++handled;
    echo_path(std::move(request), std::move(respond));
  });
  RawHttpClient client(server->port());
  ASSERT_TRUE(client.send_request("/big", "X-Big: " + std::string(4000, 'a') + "\r\n"));
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_EQ(json_body(*response)["status"], 431);
  EXPECT_TRUE(client.wait_closed());
  EXPECT_EQ(handled.load(), 0);
  EXPECT_EQ(server->counters().bad_requests, 1u);

  RawHttpClient small(server->port());  // just under the limit is fine
  ASSERT_TRUE(small.send_request("/small", "X-Big: " + std::string(900, 'a') + "\r\n"));
  const auto fits = small.read_response();
  ASSERT_TRUE(fits);
  EXPECT_EQ(fits->status, 200);
}

TEST(HttpServerTest, OversizedBodiesGet413AndClose) {
  ServerOptions options;
  options.max_body_bytes = 1000;
  auto server = start_server(options, [](Request request, Respond respond) {
    Response response;
    response.body = std::to_string(request.body.size());
    respond(std::move(response));
  });
  {
    // Refused on the Content-Length alone, before the body is sent.
    RawHttpClient client(server->port());
    ASSERT_TRUE(client.send_request("/upload", "Content-Length: 5000\r\n", "POST"));
    const auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 413);
    EXPECT_EQ(json_body(*response)["status"], 413);
    EXPECT_TRUE(client.wait_closed());
  }
  {
    RawHttpClient client(server->port());
    ASSERT_TRUE(
        client.send("POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "7d0\r\n" +
                    std::string(2000, 'b') + "\r\n0\r\n\r\n"));
    const auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 413);
    EXPECT_TRUE(client.wait_closed());
  }
  {
    RawHttpClient client(server->port());
    ASSERT_TRUE(client.send_request("/upload", "Content-Length: 1000\r\n", "POST") &&
                client.send(std::string(1000, 'c')));
    const auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "1000");
  }
}

TEST(HttpServerTest, ExpectContinueGets100BeforeTheBody) {
  auto server = start_server({}, [](Request request, Respond respond) {
    Response response;
    response.body = request.body;
    respond(std::move(response));
  });
  RawHttpClient client(server->port());
  ASSERT_TRUE(
      client.send_request("/upload", "Content-Length: 5\r\nExpect: 100-continue\r\n", "PUT"));
  const auto interim = client.read_response();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client.send("hello"));
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello");
}

TEST(HttpServerTest, RequestNotReadInTimeGets408AndClose) {
  ServerOptions options;
  options.request_timeout = 200ms;
  auto server = start_server(options, echo_path);
  RawHttpClient client(server->port());
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.send("GET /slow HTTP/1.1\r\nHost: t\r\n"));  // and never the blank line
  const auto response = client.read_response();
  const auto waited = std::chrono::steady_clock::now() - sent;
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 408);
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_EQ(json_body(*response)["status"], 408);
  EXPECT_GE(waited, 150ms);
  EXPECT_TRUE(client.wait_closed());
  EXPECT_EQ(server->counters().timeouts, 1u);

  // A connection that never sends anything is closed without a response.
  RawHttpClient silent(server->port());
  EXPECT_TRUE(silent.wait_closed());
  EXPECT_EQ(silent.unread(), "");
}

TEST(HttpServerTest, IdleKeepAliveConnectionIsClosed) {
  ServerOptions options;
  options.idle_timeout = 200ms;
  auto server = start_server(options, echo_path);
  RawHttpClient client(server->port());
  ASSERT_TRUE(client.send_request("/once"));
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  const auto idle_since = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.wait_closed());
  EXPECT_GE(std::chrono::steady_clock::now() - idle_since, 150ms);
  EXPECT_EQ(client.unread(), "");
  EXPECT_TRUE(wait_until([&] { return server->counters().active_connections == 0; }, 5s));
}

TEST(HttpServerTest, MalformedRequestsGet400AndClose) {
  std::atomic<int> handled{0};
  auto server = start_server({}, [&](Request request, Respond respond) {
    ++handled;
    echo_path(std::move(request), std::move(respond));
  });
  const std::vector<std::string> malformed = {
      "NOT HTTP AT ALL\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: t\r\nBad Header Line\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n",
      "GET http://elsewhere/ HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /bad%zzescape HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /truncated%2 HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /q?a=%G0 HTTP/1.1\r\nHost: t\r\n\r\n",
  };
  for (const auto& request : malformed) {
    RawHttpClient client(server->port());
    ASSERT_TRUE(client.send(request));
    const auto response = client.read_response();
    ASSERT_TRUE(response) << request;
    EXPECT_EQ(response->status, 400) << request;
    EXPECT_EQ(response->header("connection"), "close") << request;
    EXPECT_EQ(json_body(*response)["status"], 400) << request;
    EXPECT_FALSE(json_body(*response)["error"].get<std::string>().empty()) << request;
    EXPECT_TRUE(client.wait_closed()) << request;
  }
  EXPECT_EQ(handled.load(), 0);
  EXPECT_EQ(server->counters().bad_requests, malformed.size());
  RawHttpClient client(server->port());  // still serving
  ASSERT_TRUE(client.send_request("/fine"));
  const auto fine = client.read_response();
  ASSERT_TRUE(fine);
  EXPECT_EQ(fine->status, 200);
}

TEST(HttpServerTest, GarbageNeverStopsTheServer) {
  auto server = start_server({}, echo_path);
  std::string binary;
  for (int i = 0; i < 3000; ++i) binary.push_back(static_cast<char>((i * 7919) % 256));
  const std::vector<std::string> inputs = {binary, std::string(20000, '\0'), "\r\n\r\n\r\n",
                                           "GET / HTTP/9.9\r\n\r\n",
                                           "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                                           "zz\r\n"};
  for (const auto& input : inputs) {
    RawHttpClient client(server->port());
    client.send(input);
    client.wait_closed();
  }
  {
    RawHttpClient client(server->port());  // and one that hangs up mid-request
    client.send("GET /half");
  }
  RawHttpClient client(server->port());
  ASSERT_TRUE(client.send_request("/still/up"));
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "/still/up");
}

TEST(HttpServerTest, PathsAreDecodedAfterSplittingIntoSegments) {
  auto server = start_server({}, [](Request request, Respond respond) {
    Response response;
    response.body = nlohmann::json{
        {"path", request.path},
        {"segments", request.segments},
        {"query",
         request.query}}.dump();
    respond(std::move(response));
  });
  RawHttpClient client(server->port());
  ASSERT_TRUE(client.send_request("/stores/counts/keys/a%20b%2Fc?x=1&y=a%2Bb&z=c+d&flag&&x2="));
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200);
  const auto body = json_body(*response);
  EXPECT_EQ(body["path"], "/stores/counts/keys/a b/c");
  EXPECT_EQ(body["segments"], nlohmann::json::array({"stores", "counts", "keys", "a b/c"}));
  EXPECT_EQ(body["query"],
            nlohmann::json({{"x", "1"}, {"y", "a+b"}, {"z", "c d"}, {"flag", ""}, {"x2", ""}}));

  ASSERT_TRUE(client.send_request("//a///b/"));
  const auto slashes = client.read_response();
  ASSERT_TRUE(slashes);
  EXPECT_EQ(json_body(*slashes)["segments"], nlohmann::json::array({"a", "b"}));
}

TEST(HttpServerTest, PercentDecodeRejectsBadEscapes) {
  EXPECT_EQ(percent_decode("a%20b%2f%2F"), "a b//");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode(""), "");
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("%4"));
  EXPECT_FALSE(percent_decode("ab%4"));
  EXPECT_FALSE(percent_decode("%zz"));
  EXPECT_FALSE(percent_decode("%-1"));
}

TEST(HttpServerTest, ErrorResponseIsJsonWithTheStatus) {
  const Response response = error_response(404, "no store \"x\"");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(response.body),
            nlohmann::json({{"error", "no store \"x\""}, {"status", 404}}));
  // Invalid UTF-8 in a message (a client's bytes quoted) still gives valid JSON.
  EXPECT_TRUE(nlohmann::json::accept(error_response(400, "\xff").body));
}

TEST(HttpServerTest, HandlerExceptionGives500AndServerKeepsServing) {
  auto server = start_server({}, [](Request request, Respond respond) {
    if (request.path == "/throw") throw std::runtime_error("boom");
    echo_path(std::move(request), std::move(respond));
  });
  RawHttpClient client(server->port());
  ASSERT_TRUE(client.send_request("/throw"));
  const auto failed = client.read_response();
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 500);
  EXPECT_EQ(json_body(*failed), nlohmann::json({{"error", "boom"}, {"status", 500}}));
  ASSERT_TRUE(client.send_request("/fine"));  // same connection
  const auto fine = client.read_response();
  ASSERT_TRUE(fine);
  EXPECT_EQ(fine->status, 200);
  EXPECT_EQ(fine->body, "/fine");
  EXPECT_EQ(server->counters().handler_errors, 1u);
}

TEST(HttpServerTest, InvalidHandlerResponsesGive500) {
  auto server = start_server({}, [](Request request, Respond respond) {
    Response response;
    if (request.path == "/status") response.status = 42;
    if (request.path == "/header") response.headers.emplace_back("X-Evil", "a\r\nSet-Cookie: x");
    respond(std::move(response));
  });
  RawHttpClient client(server->port());
  for (const std::string path : {"/status", "/header"}) {
    ASSERT_TRUE(client.send_request(path));
    const auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 500) << path;
    EXPECT_EQ(response->header("set-cookie"), "") << path;
  }
  EXPECT_EQ(server->counters().handler_errors, 2u);
}

TEST(HttpServerTest, HandlerNotRespondingInTimeGives504) {
  ServerOptions options;
  options.response_timeout = 200ms;
  PendingResponds pending;
  auto server = start_server(options, [&](Request request, Respond respond) {
    if (request.path == "/never") {
      pending.add(std::move(respond));
    } else {
      echo_path(std::move(request), std::move(respond));
    }
  });
  RawHttpClient client(server->port());
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.send_request("/never"));
  const auto timed_out = client.read_response();
  ASSERT_TRUE(timed_out);
  EXPECT_EQ(timed_out->status, 504);
  EXPECT_EQ(json_body(*timed_out)["status"], 504);
  EXPECT_GE(std::chrono::steady_clock::now() - sent, 150ms);
  EXPECT_EQ(server->counters().timeouts, 1u);

  // The late answer goes nowhere: the next response on the connection is the next request's.
  ASSERT_EQ(pending.size(), 1u);
  Response late;
  late.body = "too late";
  pending.at(0)(late);
  ASSERT_TRUE(client.send_request("/next"));
  const auto next = client.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(next->body, "/next");
}

TEST(HttpServerTest, HeadGetsTheHeadersWithoutTheBody) {
  auto server = start_server({}, [](Request request, Respond respond) {
    Response response;
    response.content_type = "text/plain";
    response.body = request.method == "HEAD" ? "hello" : "full body";
    respond(std::move(response));
  });
  RawHttpClient client(server->port());
  ASSERT_TRUE(client.send_request("/x", {}, "HEAD"));
  const auto head = client.read_response(true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("content-length"), "5");
  ASSERT_TRUE(client.send_request("/x"));  // had a body been sent, this would read it instead
  const auto get = client.read_response();
  ASSERT_TRUE(get);
  EXPECT_EQ(get->body, "full body");
}

TEST(HttpServerTest, EveryMethodReachesTheHandler) {
  auto server = start_server({}, [](Request request, Respond respond) {
    if (request.method != "GET") {
      respond(error_response(405, "method not allowed"));
      return;
    }
    echo_path(std::move(request), std::move(respond));
  });
  RawHttpClient client(server->port());
  ASSERT_TRUE(client.send_request("/x", "Content-Length: 0\r\n", "DELETE"));
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 405);
}

TEST(HttpServerTest, OnCompleteReportsEveryResponse) {
  struct Seen {
    std::string method;
    std::string path;
    int status;
  };
  std::mutex mutex;
  std::vector<Seen> seen;
  ServerOptions options;
  options.on_complete = [&](const Completion& completion) {
    EXPECT_GE(completion.duration.count(), 0);
    std::lock_guard lock(mutex);
    seen.push_back(
        {std::string(completion.method), std::string(completion.path), completion.status});
  };
  auto server = start_server(options, [](Request request, Respond respond) {
    if (request.path == "/missing") {
      respond(error_response(404, "no such thing"));
      return;
    }
    echo_path(std::move(request), std::move(respond));
  });
  {
    RawHttpClient client(server->port());
    ASSERT_TRUE(client.send_request("/a%20b"));
    ASSERT_TRUE(client.read_response());
    ASSERT_TRUE(client.send_request("/missing"));
    ASSERT_TRUE(client.read_response());
  }
  {
    RawHttpClient client(server->port());
    ASSERT_TRUE(client.send("BAD\r\n\r\n"));
    ASSERT_TRUE(client.read_response());
  }
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(mutex);
        return seen.size() == 3;
      },
      5s));
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].path, "/a b");
  EXPECT_EQ(seen[0].status, 200);
  EXPECT_EQ(seen[1].status, 404);
  EXPECT_EQ(seen[2].method, "");
  EXPECT_EQ(seen[2].status, 400);
  const ServerCounters counters = server->counters();
  EXPECT_EQ(counters.responses_2xx, 1u);
  EXPECT_EQ(counters.responses_4xx, 2u);
}

TEST(HttpServerTest, StartFailsClearlyWhenTheAddressIsInUseOrInvalid) {
  auto first = start_server({}, echo_path);
  ServerOptions same_port;
  same_port.port = first->port();
  HttpServer second(same_port, echo_path);
  try {
    second.start();
    FAIL() << "start() on a port in use succeeded";
  } catch (const StreamsException& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("127.0.0.1:" + std::to_string(first->port())), std::string::npos)
        << message;
    EXPECT_NE(message.find("in use"), std::string::npos) << message;
  }

  ServerOptions foreign;
  foreign.host = "192.0.2.1";  // TEST-NET-1: never an address of this machine
  HttpServer third(foreign, echo_path);
  EXPECT_THROW(third.start(), StreamsException);

  ServerOptions no_threads;
  no_threads.io_threads = 0;
  HttpServer fourth(no_threads, echo_path);
  EXPECT_THROW(fourth.start(), StreamsException);
}

TEST(HttpServerTest, StopClosesOpenConnectionsAndPendingHandlersStayHarmless) {
  ServerOptions options;
  options.io_threads = 2;
  PendingResponds pending;
  auto server = start_server(options, [&](Request, Respond respond) { pending.add(respond); });
  RawHttpClient waiting(server->port());
  ASSERT_TRUE(waiting.send_request("/pending"));
  RawHttpClient waiting_too(server->port());
  ASSERT_TRUE(waiting_too.send_request("/pending"));
  RawHttpClient partial(server->port());
  ASSERT_TRUE(partial.send("GET /part"));
  RawHttpClient idle(server->port());
  ASSERT_TRUE(wait_until(
      [&] { return pending.size() == 2 && server->counters().active_connections == 4; }, 5s));

  server->stop();
  EXPECT_TRUE(waiting.wait_closed());
  EXPECT_TRUE(waiting_too.wait_closed());
  EXPECT_TRUE(partial.wait_closed());
  EXPECT_TRUE(idle.wait_closed());
  EXPECT_EQ(waiting.unread(), "");
  EXPECT_THROW(RawHttpClient{server->port()}, std::runtime_error);  // no longer listening

  Response late;
  late.body = "after stop";
  pending.at(0)(late);
  server->stop();  // idempotent
  server.reset();
  pending.at(1)(late);  // after the server is gone
}

TEST(HttpServerTest, DestructorStopsARunningServer) {
  PendingResponds pending;
  auto server = start_server({}, [&](Request, Respond respond) { pending.add(respond); });
  RawHttpClient client(server->port());
  ASSERT_TRUE(client.send_request("/pending"));
  ASSERT_TRUE(wait_until([&] { return pending.size() == 1; }, 5s));
  server.reset();
  EXPECT_TRUE(client.wait_closed());
  pending.at(0)(Response{});
}

TEST(HttpServerTest, ManyClientsOnSeveralIoThreads) {
  ServerOptions options;
  options.io_threads = 4;
  std::mutex workers_mutex;
  std::vector<std::thread> workers;  // answer every other request
  auto server = start_server(options, [&](Request request, Respond respond) {
    if (request.query.contains("later")) {
      std::lock_guard lock(workers_mutex);
      workers.emplace_back([request = std::move(request), respond = std::move(respond)]() mutable {
        echo_path(std::move(request), std::move(respond));
      });
      return;
    }
    echo_path(std::move(request), std::move(respond));
  });
  constexpr int kClients = 8;
  constexpr int kRequests = 50;
  std::atomic<int> correct{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      RawHttpClient client(server->port());
      for (int r = 0; r < kRequests; ++r) {
        const std::string path = "/c" + std::to_string(c) + "/r" + std::to_string(r);
        if (!client.send_request(path + (r % 2 == 0 ? "?later" : ""))) return;
        const auto response = client.read_response();
        if (response && response->status == 200 && response->body == path) ++correct;
      }
    });
  }
  for (auto& thread : clients) thread.join();
  server->stop();
  for (auto& thread : workers) thread.join();
  EXPECT_EQ(correct.load(), kClients * kRequests);
  EXPECT_EQ(server->counters().requests, static_cast<std::uint64_t>(kClients * kRequests));
}

}  // namespace
}  // namespace rivulet::http
