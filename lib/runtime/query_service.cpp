#include "runtime/query_service.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <rivulet/errors.h>
#include <rivulet/state/query_json.h>

namespace rivulet::runtime {

namespace {

constexpr std::size_t kDefaultLimit = 100;
constexpr std::size_t kMaxLimit = 1000;
constexpr std::string_view kForwardedHeader = "x-rivulet-forwarded";
constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// A request that cannot be answered: its status and message.
struct BadRequest : std::runtime_error {
  BadRequest(int code, const std::string& message) : std::runtime_error(message), status(code) {}
  int status;
};

http::Response json_response(int status, const nlohmann::json& body) {
  http::Response response;
  response.status = status;
  response.body = body.dump();
  return response;
}

std::optional<std::int64_t> time_parameter(const http::Request& request, const std::string& name) {
  auto found = request.query.find(name);
  if (found == request.query.end()) return std::nullopt;
  std::int64_t value = 0;
  const std::string& text = found->second;
  auto [ptr, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || ptr != text.data() + text.size() || text.empty()) {
    throw BadRequest(400, fmt::format("parameter '{}' must be a time in milliseconds since the "
                                      "epoch, got '{}'",
                                      name, text));
  }
  return value;
}

std::size_t limit_parameter(const http::Request& request) {
  auto found = request.query.find("limit");
  if (found == request.query.end()) return kDefaultLimit;
  std::size_t value = 0;
  const std::string& text = found->second;
  auto [ptr, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || ptr != text.data() + text.size() || value == 0 || value > kMaxLimit) {
    throw BadRequest(
        400, fmt::format("parameter 'limit' must be between 1 and {}, got '{}'", kMaxLimit, text));
  }
  return value;
}

// base64url without padding, for paging cursors (serialized keys).
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string cursor_encode(ByteView bytes) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::uint8_t byte : bytes) {
    buffer = (buffer << 8U) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> static_cast<unsigned>(bits)) & 0x3FU]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << static_cast<unsigned>(6 - bits)) & 0x3FU]);
  return out;
}

Bytes cursor_decode(std::string_view text) {
  Bytes out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const std::size_t index = kAlphabet.find(c);
    if (index == std::string_view::npos) {
      throw BadRequest(400, "parameter 'after' is not a cursor this service gave out");
    }
    buffer = (buffer << 6U) | static_cast<std::uint32_t>(index);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((buffer >> static_cast<unsigned>(bits)) & 0xFFU));
    }
  }
  return out;
}

std::string_view kind_name(detail::QueryableKind kind) {
  switch (kind) {
    case detail::QueryableKind::key_value:
      return "key_value";
    case detail::QueryableKind::window:
      return "window";
    case detail::QueryableKind::session:
      return "session";
  }
  return "unknown";
}

nlohmann::json metadata_json(const StreamsMetadata& metadata) {
  nlohmann::json tasks = nlohmann::json::array();
  for (const TaskId& task : metadata.tasks) tasks.push_back(task.to_string());
  return nlohmann::json{{"host", metadata.host.to_string()},
                        {"tasks", std::move(tasks)},
                        {"stores", metadata.state_stores}};
}

// One entry a visit found, as bytes: rendered on the io thread, not the stream thread.
struct FoundEntry {
  Bytes key;
  std::int64_t start = 0;
  std::int64_t end = 0;
  Bytes value;
};

// What a visit collects; visits of one query never overlap, so no lock inside.
struct Found {
  std::vector<FoundEntry> entries;
  std::optional<Bytes> value;  // key-value get
  TaskId task;
};

// Appends at most `max` windows of a window store, or sessions of a session store, with keys in
// [key_from, key_to] (open when absent) and starts in [time_from, time_to] (sessions: that end at
// or after time_from and start at or before time_to), each key's by time. On the stream thread.
void collect_windows(detail::QueryableStore& store, std::optional<ByteView> key_from,
                     std::optional<ByteView> key_to, std::int64_t time_from, std::int64_t time_to,
                     std::size_t max, std::vector<FoundEntry>& out) {
  std::size_t taken = 0;
  if (WindowBytesStore* windows = store.window_bytes()) {
    auto it = windows->fetch_range(key_from, key_to, time_from, time_to, true);
    for (; taken < max && it->has_next(); ++taken) {
      WindowBytesEntry entry = it->next();
      const std::int64_t end = entry.window_start + windows->window_size();
      out.push_back(
          FoundEntry{std::move(entry.key), entry.window_start, end, std::move(entry.value)});
    }
  } else if (SessionBytesStore* sessions = store.session_bytes()) {
    auto it = sessions->find_sessions_range(key_from, key_to, time_from, time_to, true);
    for (; taken < max && it->has_next(); ++taken) {
      SessionBytesEntry entry = it->next();
      out.push_back(
          FoundEntry{std::move(entry.key), entry.start, entry.end, std::move(entry.value)});
    }
  }
}

}  // namespace

QueryService::QueryService(QueryBackend& backend, QueryServiceOptions options)
    : backend_(backend), options_(std::move(options)) {
  if (!options_.registry) return;
  const std::map<std::string, std::string> labels{{"application", options_.application_id}};
  requests_ = &prometheus::BuildCounter()
                   .Name("rivulet_http_requests_total")
                   .Help("HTTP requests answered by the instance's endpoint, by status code")
                   .Register(*options_.registry);
  duration_ = &prometheus::BuildHistogram()
                   .Name("rivulet_http_request_duration_seconds")
                   .Help("Time from a request's first byte to its response written")
                   .Register(*options_.registry)
                   .Add(labels, prometheus::Histogram::BucketBoundaries{
                                    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  auto user_hook = std::move(options_.server.on_complete);
  options_.server.on_complete = [this, user_hook](const http::Completion& completion) {
    count(completion);
    if (user_hook) user_hook(completion);
  };
}

void QueryService::count(const http::Completion& completion) {
  duration_->Observe(std::chrono::duration<double>(completion.duration).count());
  std::lock_guard lock(count_mutex_);
  prometheus::Counter*& counter = requests_by_code_[completion.status];
  if (counter == nullptr) {
    counter = &requests_->Add(
        {{"application", options_.application_id}, {"code", std::to_string(completion.status)}});
  }
  counter->Increment();
}

QueryService::~QueryService() {
  stop();
}

void QueryService::start() {
  server_ = std::make_unique<http::HttpServer>(
      options_.server, [this](http::Request request, http::Respond respond) {
        handle(std::move(request), respond);
      });
  server_->start();
  if (options_.self.port == 0) options_.self.port = server_->port();
}

void QueryService::stop() {
  if (server_) server_->stop();
}

std::uint16_t QueryService::port() const {
  return server_ ? server_->port() : 0;
}

http::ServerCounters QueryService::counters() const {
  return server_ ? server_->counters() : http::ServerCounters{};
}

void QueryService::handle(http::Request request, http::Respond respond) {
  try {
    if (request.method != "GET" && request.method != "HEAD") {
      http::Response response = http::error_response(405, "only GET and HEAD are served");
      response.headers.emplace_back("Allow", "GET, HEAD");
      respond(std::move(response));
      return;
    }
    const std::vector<std::string>& path = request.segments;
    const std::string first = path.empty() ? std::string() : path[0];
    const KafkaStreams::State state = backend_.current_state();
    const std::string state_name(to_string(state));
    if (path.size() == 1 && first == "health") {
      const bool down =
          state == KafkaStreams::State::error || state == KafkaStreams::State::pending_error;
      respond(json_response(down ? 503 : 200,
                            {{"status", down ? "down" : "alive"}, {"state", state_name}}));
    } else if (path.size() == 1 && first == "ready") {
      const bool ready = state == KafkaStreams::State::running;
      respond(json_response(ready ? 200 : 503, {{"ready", ready}, {"state", state_name}}));
    } else if (path.size() == 1 && first == "topology") {
      http::Response response;
      response.content_type = "text/plain; charset=utf-8";
      response.body = backend_.topology_text();
      respond(std::move(response));
    } else if (path.size() == 1 && first == "metrics") {
      http::Response response;
      response.content_type = std::string(kMetricsContentType);
      response.body = backend_.metrics_text();
      respond(std::move(response));
    } else if (!path.empty() && first == "stores") {
      handle_store(request, respond);
    } else {
      respond(http::error_response(
          404, fmt::format("no such endpoint: {} (see /stores, /health, /ready, /topology, "
                           "/metrics)",
                           request.path)));
    }
  } catch (const BadRequest& error) {
    respond(http::error_response(error.status, error.what()));
  }
}

void QueryService::handle_store(const http::Request& request, const http::Respond& respond) {
  const std::vector<std::string>& path = request.segments;
  if (path.size() == 1) {
    nlohmann::json stores = nlohmann::json::array();
    for (const std::string& name : backend_.store_names()) {
      detail::QueryableStore* codec = backend_.codec(name);
      nlohmann::json store{{"name", name}, {"queryable", codec != nullptr}};
      if (codec != nullptr) store["kind"] = kind_name(codec->queryable_kind());
      stores.push_back(std::move(store));
    }
    nlohmann::json instances = nlohmann::json::array();
    for (const StreamsMetadata& metadata : backend_.all_metadata()) {
      instances.push_back(metadata_json(metadata));
    }
    respond(json_response(200, {{"stores", std::move(stores)},
                                {"instances", std::move(instances)},
                                {"self", options_.self.to_string()}}));
    return;
  }
  const std::string& store = path[1];
  detail::QueryableStore* codec = backend_.codec(store);
  if (codec == nullptr) {
    const auto names = backend_.store_names();
    const bool known = std::find(names.begin(), names.end(), store) != names.end();
    throw BadRequest(404, known
                              ? fmt::format("store '{}' cannot be queried: it is not a "
                                            "key-value, window or session store of the DSL "
                                            "or of Stores",
                                            store)
                              : fmt::format("no store named '{}' (GET /stores lists them)", store));
  }
  if (path.size() == 2) {
    respond(json_response(200, {{"name", store}, {"kind", kind_name(codec->queryable_kind())}}));
  } else if (path.size() == 3 && path[2] == "keys") {
    list_keys(store, *codec, request, respond);
  } else if (path.size() == 4 && path[2] == "keys") {
    get_key(store, *codec, request, respond);
  } else if (path.size() == 4 && path[2] == "owner") {
    owner(store, *codec, request, respond);
  } else {
    throw BadRequest(404, fmt::format("no such endpoint: {} (stores answer /keys, "
                                      "/keys/<key> and /owner/<key>)",
                                      request.path));
  }
}

namespace {
Bytes read_key(const QueryBackend& backend, detail::QueryableStore& codec, const std::string& store,
               const std::string& text) {
  std::lock_guard lock(backend.codec_mutex());
  try {
    return codec.key_from_text(text);
  } catch (const std::exception& error) {
    throw BadRequest(400,
                     fmt::format("'{}' is not a key of store '{}': {}", text, store, error.what()));
  }
}

nlohmann::json render(const QueryBackend& backend, const std::function<nlohmann::json()>& build) {
  std::lock_guard lock(backend.codec_mutex());
  return build();
}

http::Response not_running(const std::string& store, const VisitOutcome& outcome) {
  http::Response response =
      outcome.restoring.empty()
          ? http::error_response(
                503, fmt::format("store '{}' has no running task on this instance now (it may "
                                 "be rebalancing); retry",
                                 store))
          : http::error_response(
                503, fmt::format("store '{}' is restoring on this instance (task {}); retry", store,
                                 outcome.restoring.front().to_string()));
  response.headers.emplace_back("Retry-After", "1");
  return response;
}
}  // namespace

void QueryService::get_key(const std::string& store, detail::QueryableStore& codec,
                           const http::Request& request, const http::Respond& respond) {
  const std::string& text = request.segments[3];
  Bytes key = read_key(backend_, codec, store, text);
  const KeyQueryMetadata where = backend_.metadata_for_serialized_key(store, key);
  if (!backend_.runs_locally(where.task)) {
    const bool forwarded = request.headers.count(std::string(kForwardedHeader)) > 0;
    if (!where.available() || where.active_host == options_.self || forwarded) {
      http::Response response = http::error_response(
          503, fmt::format("key '{}' of store '{}' is in task {}, which {}; retry", text, store,
                           where.task.to_string(),
                           where.available() && where.active_host != options_.self
                               ? "this instance does not run (it was forwarded here)"
                               : "no instance is known to run now (rebalancing?)"));
      response.headers.emplace_back("Retry-After", "1");
      respond(std::move(response));
      return;
    }
    auto redirect = request.query.find("redirect");
    if (redirect != request.query.end() && redirect->second != "false") {
      http::Response response = json_response(
          307, {{"location", where.active_host.to_string()}, {"task", where.task.to_string()}});
      response.headers.emplace_back(
          "Location", fmt::format("http://{}{}", where.active_host.to_string(), request.target));
      respond(std::move(response));
      return;
    }
    std::vector<std::pair<std::string, std::string>> headers{
        {"X-Rivulet-Forwarded", options_.self.to_string()}};
    if (auto auth = request.headers.find("authorization"); auth != request.headers.end()) {
      headers.emplace_back("Authorization", auth->second);
    }
    server_->fetch(where.active_host.host, where.active_host.port, request.target,
                   std::move(headers), options_.forward_timeout, respond);
    return;
  }
  const std::optional<std::int64_t> from = time_parameter(request, "from");
  const std::optional<std::int64_t> to = time_parameter(request, "to");
  const detail::QueryableKind kind = codec.queryable_kind();
  auto found = std::make_shared<Found>();
  found->task = where.task;
  backend_.visit_stores_async(
      store, where.task,
      [found, key, kind, from, to](TaskId, StateStore& raw) {
        auto* queryable = dynamic_cast<detail::QueryableStore*>(&raw);
        if (queryable == nullptr) return;
        const std::int64_t lo = from.value_or(std::numeric_limits<std::int64_t>::min());
        const std::int64_t hi = to.value_or(std::numeric_limits<std::int64_t>::max());
        if (kind == detail::QueryableKind::key_value) {
          found->value = queryable->key_value_bytes()->get(key);
        } else {
          collect_windows(*queryable, ByteView(key), ByteView(key), lo, hi, kMaxLimit,
                          found->entries);
        }
      },
      [this, found, key, kind, store, &codec, respond, self = options_.self](VisitOutcome outcome) {
        if (outcome.visited == 0) {
          respond(not_running(store, outcome));
          return;
        }
        try {
          if (kind == detail::QueryableKind::key_value && !found->value) {
            respond(http::error_response(
                404, fmt::format("store '{}' has no value for the key", store)));
            return;
          }
          nlohmann::json body = render(backend_, [&] {
            nlohmann::json out{{"store", store},
                               {"key", codec.key_json(key)},
                               {"task", found->task.to_string()},
                               {"host", self.to_string()}};
            if (kind == detail::QueryableKind::key_value) {
              out["value"] = codec.value_json(*found->value);
            } else {
              nlohmann::json windows = nlohmann::json::array();
              for (const FoundEntry& entry : found->entries) {
                windows.push_back({{"start", entry.start},
                                   {"end", entry.end},
                                   {"value", codec.value_json(entry.value)}});
              }
              out[kind == detail::QueryableKind::window ? "windows" : "sessions"] =
                  std::move(windows);
            }
            return out;
          });
          respond(json_response(200, body));
        } catch (const std::exception& error) {
          respond(http::error_response(
              500, fmt::format("store '{}' holds a value its serdes cannot read: {}", store,
                               error.what())));
        }
      });
}

void QueryService::list_keys(const std::string& store, detail::QueryableStore& codec,
                             const http::Request& request, const http::Respond& respond) {
  const std::size_t limit = limit_parameter(request);
  const detail::QueryableKind kind = codec.queryable_kind();
  std::optional<Bytes> from;
  std::optional<Bytes> to;
  std::optional<Bytes> after;
  if (auto p = request.query.find("from"); p != request.query.end()) {
    from = read_key(backend_, codec, store, p->second);
  }
  if (auto p = request.query.find("to"); p != request.query.end()) {
    to = read_key(backend_, codec, store, p->second);
  }
  if (auto p = request.query.find("after"); p != request.query.end()) {
    after = cursor_decode(p->second);
  }
  const std::int64_t time_from =
      time_parameter(request, "time_from").value_or(std::numeric_limits<std::int64_t>::min());
  const std::int64_t time_to =
      time_parameter(request, "time_to").value_or(std::numeric_limits<std::int64_t>::max());
  if (kind != detail::QueryableKind::key_value && after) {
    throw BadRequest(400,
                     "paging with 'after' is for key-value stores; narrow a window or "
                     "session listing with time_from and time_to");
  }
  auto found = std::make_shared<Found>();
  backend_.visit_stores_async(
      store, std::nullopt,
      [found, kind, from, to, after, limit, time_from, time_to](TaskId, StateStore& raw) {
        auto* queryable = dynamic_cast<detail::QueryableStore*>(&raw);
        if (queryable == nullptr) return;
        std::size_t taken = 0;
        if (kind == detail::QueryableKind::key_value) {
          std::optional<ByteView> lo = from ? std::optional<ByteView>(*from) : std::nullopt;
          if (after && (!lo || compare_bytes(*after, *lo) > 0)) lo = ByteView(*after);
          auto it = queryable->key_value_bytes()->range(
              lo, to ? std::optional<ByteView>(*to) : std::nullopt, true);
          while (taken <= limit && it->has_next()) {
            KeyValue<Bytes, Bytes> entry = it->next();
            if (after && compare_bytes(entry.key, *after) <= 0) continue;
            found->entries.push_back(
                FoundEntry{std::move(entry.key), 0, 0, std::move(entry.value)});
            ++taken;
          }
        } else {
          collect_windows(*queryable, from ? std::optional<ByteView>(*from) : std::nullopt,
                          to ? std::optional<ByteView>(*to) : std::nullopt, time_from, time_to,
                          limit + 1, found->entries);
        }
      },
      [this, found, kind, limit, store, &codec, respond](VisitOutcome outcome) {
        if (outcome.visited == 0) {
          respond(not_running(store, outcome));
          return;
        }
        std::vector<FoundEntry>& entries = found->entries;
        std::sort(entries.begin(), entries.end(), [](const FoundEntry& a, const FoundEntry& b) {
          const int order = compare_bytes(a.key, b.key);
          return order != 0 ? order < 0 : a.start < b.start;
        });
        const bool more = entries.size() > limit;
        if (more) entries.resize(limit);
        try {
          nlohmann::json body = render(backend_, [&] {
            nlohmann::json list = nlohmann::json::array();
            for (const FoundEntry& entry : entries) {
              nlohmann::json item{{"key", codec.key_json(entry.key)},
                                  {"value", codec.value_json(entry.value)}};
              if (kind != detail::QueryableKind::key_value) {
                item["start"] = entry.start;
                item["end"] = entry.end;
              }
              list.push_back(std::move(item));
            }
            nlohmann::json out{{"store", store},
                               {"entries", std::move(list)},
                               {"tasks", outcome.visited},
                               {"restoring_tasks", outcome.restoring.size()}};
            if (kind == detail::QueryableKind::key_value) {
              out["next"] = more ? nlohmann::json(cursor_encode(entries.back().key)) : nullptr;
            } else {
              out["truncated"] = more;
            }
            return out;
          });
          respond(json_response(200, body));
        } catch (const std::exception& error) {
          respond(http::error_response(
              500, fmt::format("store '{}' holds an entry its serdes cannot read: {}", store,
                               error.what())));
        }
      });
}

void QueryService::owner(const std::string& store, detail::QueryableStore& codec,
                         const http::Request& request, const http::Respond& respond) {
  const std::string& text = request.segments[3];
  const Bytes key = read_key(backend_, codec, store, text);
  const KeyQueryMetadata where = backend_.metadata_for_serialized_key(store, key);
  const nlohmann::json key_json = render(backend_, [&] { return codec.key_json(key); });
  respond(json_response(
      200, {{"store", store},
            {"key", key_json},
            {"partition", where.partition},
            {"task", where.task.to_string()},
            {"host", where.available() ? nlohmann::json(where.active_host.to_string()) : nullptr},
            {"local", backend_.runs_locally(where.task)}}));
}

}  // namespace rivulet::runtime
