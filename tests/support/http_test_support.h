// A blocking HTTP/1.1 GET for tests of the HTTP endpoints (Boost.Beast), with a deadline on the
// whole exchange.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace rivulet::test {

struct HttpReply {
  int status = 0;  // 0: no answer (connection refused, reset, timed out)
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string error;                           // why there was no answer

  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

inline HttpReply http_request(std::uint16_t port, const std::string& target,
                              std::vector<std::pair<std::string, std::string>> headers = {},
                              const std::string& method = "GET",
                              std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  HttpReply reply;
  try {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(timeout);
    stream.connect(
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    http::request<http::string_body> request(http::string_to_verb(method), target, 11);
    request.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) request.set(name, value);
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    reply.status = static_cast<int>(response.result_int());
    reply.body = response.body();
    for (const auto& field : response) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      reply.headers[name] = std::string(field.value());
    }
    beast::error_code ignored;
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  } catch (const std::exception& error) {
    reply.status = 0;
    reply.error = error.what();
  }
  return reply;
}

inline HttpReply http_get(std::uint16_t port, const std::string& target,
                          std::vector<std::pair<std::string, std::string>> headers = {}) {
  return http_request(port, target, std::move(headers));
}

}  // namespace rivulet::test
