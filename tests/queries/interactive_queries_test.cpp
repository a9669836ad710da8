// Interactive queries: the C++ API (KafkaStreams::store, metadata_for_key) and the HTTP endpoints
// of running applications on the in-memory cluster, one instance and two, with real sockets.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <rivulet/errors.h>
#include <rivulet/interactive_queries.h>
#include <rivulet/rivulet.h>
#include <rivulet/testing/in_memory_kafka.h>

#include "http_test_support.h"
#include "kafka_test_support.h"

namespace {

using namespace std::chrono_literals;
using rivulet::KafkaStreams;
using rivulet::KeyValueStore;
using rivulet::ValueAndTimestamp;
using rivulet::WindowStore;
using rivulet::test::http_get;
using rivulet::test::HttpReply;
using rivulet::testing::InMemoryKafka;
using Count = ValueAndTimestamp<std::int64_t>;

constexpr std::int32_t kPartitions = 4;

template <class Condition>
bool eventually(Condition condition, std::chrono::seconds timeout = std::chrono::seconds(60)) {
  return rivulet::test::wait_until(condition, timeout);
}

// Counts per key ("counts"), per key and minute ("window-counts"), per key and session of
// activity ("sessions", 10 s gap), and per 8-byte integer key ("id-counts").
rivulet::Topology counting_topology() {
  rivulet::StreamsBuilder builder;
  auto in = builder.stream<std::string, std::string>("in");
  in.group_by_key().count(rivulet::Materialized<std::string, std::int64_t>::as("counts"));
  in.group_by_key()
      .windowed_by(rivulet::TimeWindows::of_size_with_no_grace(1min))
      .count(
          rivulet::Materialized<std::string, std::int64_t>::as("window-counts").with_retention(1h));
  in.group_by_key()
      .windowed_by(rivulet::TimeWindows::of_size_and_grace(1min, 10s))
      .count(rivulet::Materialized<std::string, std::int64_t>::as("graced-windows"));
  in.group_by_key()
      .windowed_by(rivulet::SessionWindows::of_inactivity_gap_with_no_grace(10s))
      .count(rivulet::Materialized<std::string, std::int64_t>::as("sessions").with_retention(1h));
  builder.stream<std::int64_t, std::string>("ids").group_by_key().count(
      rivulet::Materialized<std::int64_t, std::int64_t>::as("id-counts"));
  return builder.build();
}

std::string int64_key(std::int64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(value & 0xFF);
    value >>= 8;
  }
  return out;
}

class InteractiveQueriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kafka_.create_topic("in", kPartitions);
    kafka_.create_topic("ids", kPartitions);
    dir_ = std::filesystem::temp_directory_path() /
           rivulet::test::unique_name(
               "rivulet-queries-" +
               std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
  }
  void TearDown() override {
    for (auto& app : apps_) app->close(30s);
    apps_.clear();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  rivulet::StreamsConfig config(const std::string& instance) const {
    rivulet::StreamsConfig config;
    config.set("application.id", "queries")
        .set("bootstrap.servers", "in-memory")
        .set("application.server", "127.0.0.1:0")
        .set("commit.interval.ms", 100)
        .set("state.dir", (dir_ / instance).string());
    return config;
  }

  KafkaStreams& start(const std::string& instance,
                      std::optional<rivulet::StreamsConfig> custom = std::nullopt) {
    apps_.push_back(std::make_unique<KafkaStreams>(topology_, custom ? *custom : config(instance),
                                                   kafka_.clients(instance)));
    apps_.back()->start();
    return *apps_.back();
  }

  // The count of `key` an instance serves over HTTP, or -1.
  static std::int64_t served_count(const KafkaStreams& app, const std::string& key) {
    const HttpReply reply = http_get(app.http_port(), "/stores/counts/keys/" + key);
    if (reply.status != 200) return -1;
    return reply.json()["value"]["value"].get<std::int64_t>();
  }

  InMemoryKafka kafka_;
  std::filesystem::path dir_;
  rivulet::Topology topology_ = counting_topology();
  std::vector<std::unique_ptr<KafkaStreams>> apps_;
};

TEST_F(InteractiveQueriesTest, TheStoreApiReadsTheStoresOfTheRunningTasks) {
  KafkaStreams& app = start("one");
  for (int i = 0; i < 3; ++i) kafka_.produce("in", "a", "x", 60'000 + i);
  kafka_.produce("in", "b", "x", 125'000);
  kafka_.produce("in", "c", "x", 130'000);
  ASSERT_TRUE(app.wait_for_running(60s));
  auto counts = app.store<KeyValueStore<std::string, Count>>("counts");
  ASSERT_TRUE(eventually([&] {
    auto a = counts.get("a");
    auto c = counts.get("c");
    return a && a->value == 3 && c && c->value == 1;
  }));
  EXPECT_EQ(counts.get("a")->timestamp, 60'002) << "the timestamp of the last update";
  EXPECT_EQ(counts.get("missing"), std::nullopt);
  std::set<std::string> keys;
  for (const auto& entry : counts.all()) keys.insert(entry.key);
  EXPECT_EQ(keys, (std::set<std::string>{"a", "b", "c"}));
  std::set<std::string> ranged;
  for (const auto& entry : counts.range("b", "c")) ranged.insert(entry.key);
  EXPECT_EQ(ranged, (std::set<std::string>{"b", "c"}));
  EXPECT_EQ(counts.all(2).size(), 2U);
  EXPECT_TRUE(eventually([&] { return counts.approximate_num_entries() == 3U; }))
      << "RocksDB's estimate, once the cache flushed at a commit";

  auto windows = app.store<WindowStore<std::string, Count>>("window-counts");
  const auto a_windows = windows.fetch("a", 0, 200'000);
  ASSERT_EQ(a_windows.size(), 1U);
  EXPECT_EQ(a_windows[0].key, 60'000) << "the window start";
  EXPECT_EQ(a_windows[0].value.value, 3);
  EXPECT_EQ(windows
                .fetch("a", std::numeric_limits<std::int64_t>::min(),
                       std::numeric_limits<std::int64_t>::max())
                .size(),
            1U)
      << "unbounded in time";
  EXPECT_EQ(windows.fetch("b", 120'000)->value, 1);
  EXPECT_EQ(windows.fetch_all(120'000, 200'000).size(), 2U) << "b and c, both at 120000";
}

TEST_F(InteractiveQueriesTest, TheStoreApiRefusesWhatItCannotAnswer) {
  KafkaStreams app(topology_, config("one"), kafka_.clients("one"));
  auto counts = app.store<KeyValueStore<std::string, Count>>("counts");
  EXPECT_THROW(counts.get("a"), rivulet::InvalidStateStoreException) << "not started";
  app.start();
  ASSERT_TRUE(app.wait_for_running(60s));
  auto unknown = app.store<KeyValueStore<std::string, Count>>("nope");
  EXPECT_THROW(unknown.get("a"), rivulet::InvalidStateStoreException);
  auto wrong_value = app.store<KeyValueStore<std::string, std::string>>("counts");
  EXPECT_THROW(wrong_value.get("a"), rivulet::InvalidStateStoreException);
  auto wrong_kind = app.store<WindowStore<std::string, Count>>("counts");
  EXPECT_THROW(wrong_kind.fetch("a", 0), rivulet::InvalidStateStoreException);
  EXPECT_EQ(counts.get("a"), std::nullopt) << "the right type works";
  app.close(30s);
  EXPECT_THROW(counts.get("a"), rivulet::InvalidStateStoreException) << "closed";
}

TEST_F(InteractiveQueriesTest, MetadataForKeyNamesThePartitionTheProducerChose) {
  KafkaStreams& app = start("one");
  ASSERT_TRUE(app.wait_for_running(60s));
  for (int i = 0; i < 20; ++i) kafka_.produce("in", "key-" + std::to_string(i), "x", 1'000);
  for (const auto& record : kafka_.read("in")) {
    const rivulet::KeyQueryMetadata where =
        app.metadata_for_key<std::string>("counts", *record.key);
    EXPECT_EQ(where.partition, record.partition) << *record.key;
    EXPECT_EQ(where.task.partition, record.partition);
  }
  ASSERT_TRUE(
      eventually([&] { return app.metadata_for_key<std::string>("counts", "key-1").available(); }));
  EXPECT_EQ(app.metadata_for_key<std::string>("counts", "key-1").active_host.port, app.http_port());
  EXPECT_THROW(app.metadata_for_key<std::string>("nope", "k"), rivulet::InvalidStateStoreException);
}

TEST_F(InteractiveQueriesTest, HttpServesHealthReadinessTopologyAndTheStoreList) {
  KafkaStreams& app = start("one");
  ASSERT_NE(app.http_port(), 0);
  ASSERT_TRUE(app.wait_for_running(60s));
  const HttpReply health = http_get(app.http_port(), "/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.json()["status"], "alive");
  ASSERT_TRUE(eventually([&] { return http_get(app.http_port(), "/ready").status == 200; }));
  EXPECT_EQ(http_get(app.http_port(), "/ready").json()["state"], "RUNNING");
  const HttpReply topology = http_get(app.http_port(), "/topology");
  EXPECT_EQ(topology.status, 200);
  EXPECT_NE(topology.body.find("Sub-topology"), std::string::npos) << topology.body;
  EXPECT_NE(topology.body.find("counts"), std::string::npos);

  const HttpReply stores = http_get(app.http_port(), "/stores");
  ASSERT_EQ(stores.status, 200) << stores.body;
  std::map<std::string, std::string> kinds;
  const auto stores_json = stores.json();
  for (const auto& store : stores_json["stores"]) {
    kinds[store["name"]] = store.value("kind", "");
  }
  EXPECT_EQ(kinds["counts"], "key_value");
  EXPECT_EQ(kinds["window-counts"], "window");
  EXPECT_EQ(kinds["id-counts"], "key_value");
  EXPECT_EQ(kinds["sessions"], "session");
  ASSERT_TRUE(eventually([&] {
    const auto json = http_get(app.http_port(), "/stores").json();
    return json["instances"].size() == 1 && json["instances"][0]["tasks"].size() == 8;
  })) << "both sub-topologies' four tasks, learned back from the hosts topic";
  app.close(30s);
  EXPECT_EQ(http_get(app.http_port(), "/health").status, 0) << "the server stops with the app";
}

TEST_F(InteractiveQueriesTest, HttpAnswersKeysRangesPagesAndWindows) {
  KafkaStreams& app = start("one");
  const std::vector<std::string> keys{"a", "b", "c", "d", "e"};
  for (std::size_t i = 0; i < keys.size(); ++i) {
    for (std::size_t n = 0; n <= i; ++n) kafka_.produce("in", keys[i], "x", 60'000 + 1'000 * n);
  }
  kafka_.produce("ids", int64_key(42), "x", 1'000);
  ASSERT_TRUE(app.wait_for_running(60s));
  ASSERT_TRUE(eventually([&] { return served_count(app, "e") == 5; }));

  const HttpReply a = http_get(app.http_port(), "/stores/counts/keys/a");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.json()["key"], "a");
  EXPECT_EQ(a.json()["value"]["value"], 1);
  EXPECT_EQ(a.json()["value"]["timestamp"], 60'000);
  const HttpReply missing = http_get(app.http_port(), "/stores/counts/keys/zzz");
  EXPECT_EQ(missing.status, 404) << missing.body;
  EXPECT_NE(missing.json()["error"].get<std::string>().find("no value"), std::string::npos);
  ASSERT_TRUE(eventually(
      [&] { return http_get(app.http_port(), "/stores/id-counts/keys/42").status == 200; }));
  EXPECT_EQ(http_get(app.http_port(), "/stores/id-counts/keys/42").json()["key"], 42);

  // Pages of two, in key order, every key once.
  std::vector<std::string> paged;
  std::string target = "/stores/counts/keys?limit=2";
  for (int page = 0; page < 10; ++page) {
    const HttpReply reply = http_get(app.http_port(), target);
    ASSERT_EQ(reply.status, 200) << reply.body;
    const auto json = reply.json();
    EXPECT_LE(json["entries"].size(), 2U);
    for (const auto& entry : json["entries"]) paged.push_back(entry["key"]);
    if (json["next"].is_null()) break;
    target = "/stores/counts/keys?limit=2&after=" + json["next"].get<std::string>();
  }
  EXPECT_EQ(paged, keys);
  const auto ranged = http_get(app.http_port(), "/stores/counts/keys?from=b&to=d").json();
  ASSERT_EQ(ranged["entries"].size(), 3U) << ranged.dump();
  EXPECT_EQ(ranged["entries"][0]["key"], "b");
  EXPECT_EQ(ranged["entries"][2]["value"]["value"], 4);

  const HttpReply windows =
      http_get(app.http_port(), "/stores/window-counts/keys/e?from=0&to=100000");
  ASSERT_EQ(windows.status, 200) << windows.body;
  const auto json = windows.json();
  ASSERT_EQ(json["windows"].size(), 1U) << windows.body;
  EXPECT_EQ(json["windows"][0]["start"], 60'000);
  EXPECT_EQ(json["windows"][0]["end"], 120'000);
  EXPECT_EQ(json["windows"][0]["value"]["value"], 5);
  EXPECT_EQ(http_get(app.http_port(), "/stores/window-counts/keys/e").json()["windows"].size(), 1U)
      << "no time bounds: every window of the key";
  EXPECT_EQ(http_get(app.http_port(), "/stores/window-counts/keys/e?from=120000")
                .json()["windows"]
                .size(),
            0U);
  // e's five records, 1 s apart, are one session; c's three another.
  const auto sessions = http_get(app.http_port(), "/stores/sessions/keys/e").json();
  ASSERT_EQ(sessions["sessions"].size(), 1U) << sessions.dump();
  EXPECT_EQ(sessions["sessions"][0]["start"], 60'000);
  EXPECT_EQ(sessions["sessions"][0]["end"], 64'000);
  EXPECT_EQ(sessions["sessions"][0]["value"], 5);
  const auto session_list = http_get(app.http_port(), "/stores/sessions/keys?from=c&to=d").json();
  ASSERT_EQ(session_list["entries"].size(), 2U) << session_list.dump();
  EXPECT_EQ(session_list["entries"][0]["key"], "c");
  EXPECT_EQ(session_list["entries"][0]["value"], 3);
  const auto window_list =
      http_get(app.http_port(), "/stores/window-counts/keys?time_from=60000&time_to=60000&limit=2")
          .json();
  EXPECT_EQ(window_list["entries"].size(), 2U) << window_list.dump();
  EXPECT_EQ(window_list["truncated"], true);
  const auto owner = http_get(app.http_port(), "/stores/counts/owner/a").json();
  EXPECT_EQ(owner["partition"], app.metadata_for_key<std::string>("counts", "a").partition);
  EXPECT_EQ(owner["local"], true);
}

TEST_F(InteractiveQueriesTest, BadRequestsGetA4xxAndTheApplicationGoesOn) {
  KafkaStreams& app = start("one");
  kafka_.produce("in", "a", "x", 1'000);
  ASSERT_TRUE(app.wait_for_running(60s));
  ASSERT_TRUE(eventually([&] { return served_count(app, "a") == 1; }));
  const std::uint16_t port = app.http_port();
  auto status = [&](const std::string& target) { return http_get(port, target).status; };
  EXPECT_EQ(status("/stores/nope/keys/a"), 404);
  EXPECT_EQ(status("/stores/id-counts/keys/not-a-number"), 400);
  EXPECT_EQ(status("/stores/id-counts/keys/99999999999999999999"), 400) << "out of range";
  EXPECT_EQ(status("/stores/counts/keys?limit=0"), 400);
  EXPECT_EQ(status("/stores/counts/keys?limit=5000"), 400);
  EXPECT_EQ(status("/stores/counts/keys?after=%21%21"), 400);
  EXPECT_EQ(status("/stores/window-counts/keys/a?from=yesterday"), 400);
  EXPECT_EQ(status("/stores/counts/whatever/a"), 404);
  EXPECT_EQ(status("/nothing-here"), 404);
  EXPECT_EQ(status("/stores/counts/keys/%zz"), 400) << "bad percent-encoding";
  EXPECT_EQ(rivulet::test::http_request(port, "/stores", {}, "POST").status, 405);
  const HttpReply bad = http_get(port, "/stores/id-counts/keys/x");
  EXPECT_NE(bad.json()["error"].get<std::string>().find("not a key of store 'id-counts'"),
            std::string::npos)
      << bad.body;

  // Processing went on: a new record is counted.
  kafka_.produce("in", "a", "x", 2'000);
  EXPECT_TRUE(eventually([&] { return served_count(app, "a") == 2; }));
  EXPECT_EQ(app.state(), KafkaStreams::State::running);
  EXPECT_GE(app.http_counters().responses_4xx, 10U);
}

TEST_F(InteractiveQueriesTest, ABearerTokenGuardsEverythingButHealthAndReadiness) {
  rivulet::StreamsConfig secured = config("one");
  secured.set("http.auth.token", "s3cret");
  KafkaStreams& app = start("one", secured);
  ASSERT_TRUE(app.wait_for_running(60s));
  const std::uint16_t port = app.http_port();
  EXPECT_EQ(http_get(port, "/stores").status, 401);
  EXPECT_EQ(http_get(port, "/metrics").status, 401);
  EXPECT_EQ(http_get(port, "/stores", {{"Authorization", "Bearer wrong"}}).status, 401);
  EXPECT_EQ(http_get(port, "/stores", {{"Authorization", "Bearer s3cret"}}).status, 200);
  EXPECT_EQ(http_get(port, "/health").status, 200);
  EXPECT_EQ(http_get(port, "/ready").status, 200);
}

TEST_F(InteractiveQueriesTest, EitherOfTwoInstancesAnswersWithTheOwnersValue) {
  KafkaStreams& one = start("one");
  KafkaStreams& two = start("two");
  // Both run, each with half of each sub-topology's tasks, and both know where every task is.
  ASSERT_TRUE(eventually([&] {
    if (one.state() != KafkaStreams::State::running) return false;
    if (two.state() != KafkaStreams::State::running) return false;
    for (const KafkaStreams* app : {&one, &two}) {
      const auto all = app->metadata_for_all_clients();
      std::size_t tasks = 0;
      for (const auto& instance : all) tasks += instance.tasks.size();
      if (all.size() != 2 || tasks != 8) return false;
      for (const auto& instance : all) {
        if (instance.tasks.empty()) return false;
      }
    }
    return true;
  }));
  std::map<std::string, std::int64_t> expected;
  for (int i = 0; i < 24; ++i) {
    const std::string key = "road-" + std::to_string(i);
    expected[key] = i % 3 + 1;
    for (int n = 0; n <= i % 3; ++n) kafka_.produce("in", key, "car", 1'000 + n);
  }
  std::set<std::uint16_t> owners;
  for (const auto& [key, count] : expected) {
    const rivulet::KeyQueryMetadata where = one.metadata_for_key<std::string>("counts", key);
    ASSERT_TRUE(where.available()) << key;
    EXPECT_EQ(where.active_host, two.metadata_for_key<std::string>("counts", key).active_host);
    owners.insert(where.active_host.port);
    for (const KafkaStreams* app : {&one, &two}) {
      HttpReply reply;
      ASSERT_TRUE(eventually([&] {
        reply = http_get(app->http_port(), "/stores/counts/keys/" + key);
        return reply.status == 200 && reply.json()["value"]["value"] == count;
      })) << key
          << " asked of port " << app->http_port() << ": " << reply.status << " " << reply.body;
      EXPECT_EQ(reply.json()["host"], where.active_host.to_string()) << "served by the owner";
    }
    const KafkaStreams& other = where.active_host.port == one.http_port() ? two : one;
    const HttpReply redirect =
        http_get(other.http_port(), "/stores/counts/keys/" + key + "?redirect=true");
    EXPECT_EQ(redirect.status, 307);
    EXPECT_EQ(redirect.headers.at("location"), "http://" + where.active_host.to_string() +
                                                   "/stores/counts/keys/" + key + "?redirect=true");
    const HttpReply owner = http_get(other.http_port(), "/stores/counts/owner/" + key);
    EXPECT_EQ(owner.json()["host"], where.active_host.to_string());
    EXPECT_EQ(owner.json()["local"], false);
  }
  EXPECT_EQ(owners, (std::set<std::uint16_t>{one.http_port(), two.http_port()}))
      << "the keys are spread over both instances";
  // Only the owner's own value counts: the C++ API reads local tasks only.
  const std::string key = "road-4";
  const bool one_owns =
      one.metadata_for_key<std::string>("counts", key).active_host.port == one.http_port();
  auto one_counts = one.store<KeyValueStore<std::string, Count>>("counts");
  auto two_counts = two.store<KeyValueStore<std::string, Count>>("counts");
  EXPECT_EQ(one_counts.get(key).has_value(), one_owns);
  EXPECT_EQ(two_counts.get(key).has_value(), !one_owns);

  // One leaves: the other takes over every task and tells it through the hosts topic.
  two.close(30s);
  ASSERT_TRUE(eventually([&] {
    const auto all = one.metadata_for_all_clients();
    return one.state() == KafkaStreams::State::running && all.size() == 1 &&
           all[0].tasks.size() == 8;
  }));
  for (const auto& [key2, count] : expected) {
    ASSERT_TRUE(eventually([&] { return served_count(one, key2) == count; })) << key2;
  }
}

TEST_F(InteractiveQueriesTest, ACrashedInstancesClaimsGiveWayToTheNewOwners) {
  KafkaStreams& one = start("one");
  KafkaStreams& two = start("two");
  auto tasks_known = [](const KafkaStreams& app, std::size_t instances) {
    const auto all = app.metadata_for_all_clients();
    std::size_t tasks = 0;
    for (const auto& instance : all) tasks += instance.tasks.size();
    return all.size() == instances && tasks == 8;
  };
  ASSERT_TRUE(eventually([&] {
    return one.state() == KafkaStreams::State::running &&
           two.state() == KafkaStreams::State::running && tasks_known(one, 2) &&
           !two.metadata_for_all_clients().empty() && tasks_known(two, 2);
  }));
  for (int i = 0; i < 12; ++i) kafka_.produce("in", "road-" + std::to_string(i), "car", 1'000);
  const std::uint16_t two_port = two.http_port();
  // "two" dies without a word: its record in the hosts topic stays, claiming its tasks.
  kafka_.crash("two");
  rivulet::detail::close_abruptly(two);
  kafka_.expire_sessions("two");
  ASSERT_TRUE(eventually([&] {
    if (one.state() != KafkaStreams::State::running) return false;
    for (int i = 0; i < 12; ++i) {
      const std::string key = "road-" + std::to_string(i);
      if (one.metadata_for_key<std::string>("counts", key).active_host.port != one.http_port()) {
        return false;
      }
    }
    return true;
  })) << "every key's owner is the survivor, whose claims came after the crashed one's";
  for (const auto& instance : one.metadata_for_all_clients()) {
    if (instance.host.port == two_port) {
      EXPECT_TRUE(instance.tasks.empty()) << "the crashed instance keeps no task";
    }
  }
  for (int i = 0; i < 12; ++i) {
    const std::string key = "road-" + std::to_string(i);
    EXPECT_TRUE(eventually([&] { return served_count(one, key) == 1; })) << key;
  }
}

TEST_F(InteractiveQueriesTest, UnderExactlyOnceQueriesReadThroughTheUncommittedBuffer) {
  rivulet::StreamsConfig eos = config("one");
  eos.set("processing.guarantee", "exactly_once_v2");
  KafkaStreams& app = start("one", eos);
  const std::int64_t base = 1'795'405'260'000;  // a window start of 2026
  for (int i = 0; i < 3; ++i) kafka_.produce("in", "a", "x", base + i);
  ASSERT_TRUE(app.wait_for_running(60s));
  auto counts = app.store<KeyValueStore<std::string, Count>>("counts");
  ASSERT_TRUE(eventually([&] {
    auto a = counts.get("a");
    return a && a->value == 3;
  }));
  // Retention 1 h without grace, and the sample's shape: 10 s grace, retention 70 s.
  for (const char* name : {"window-counts", "graced-windows"}) {
    auto windows = app.store<WindowStore<std::string, Count>>(name);
    EXPECT_EQ(windows.fetch("a", base - 60'000, base + 60'000).size(), 1U) << name;
    EXPECT_EQ(windows
                  .fetch("a", std::numeric_limits<std::int64_t>::min(),
                         std::numeric_limits<std::int64_t>::max())
                  .size(),
              1U)
        << name << ", unbounded in time";
    const std::string target = std::string("/stores/") + name + "/keys/a";
    EXPECT_EQ(http_get(app.http_port(), target).json()["windows"].size(), 1U) << target;
  }
}

}  // namespace
