// processing.guarantee=exactly_once_v2 on the in-memory cluster, whose transactions behave as
// Kafka's: output, changelog writes and offsets commit together; an abortable error, a crash at
// any step of the commit, or a zombie never leaves a lost or doubled record in the read_committed
// output; and a crash costs only the changelog's tail (crash-safe state).
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>

#include "eos_test_support.h"

namespace rivulet {
namespace {

using eos_test::count_topology;
using eos_test::eos_config;
using eos_test::expected_counts;
using eos_test::input_committed;
using eos_test::kApplication;
using eos_test::kInput;
using eos_test::kOutput;
using eos_test::produce;
using eos_test::read_by_key;
using kafka::FaultAction;
using kafka::FaultEvent;
using kafka::FaultPoint;
using kafka::InMemoryClientFactory;
using kafka::InMemoryCluster;
using test::unique_name;
using test::wait_until;

constexpr auto kDeadline = std::chrono::seconds(60);

class ExactlyOnce : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_->create_topic(kInput, 3);
    cluster_->create_topic(kOutput, 3);
    dir_ = std::filesystem::temp_directory_path() / unique_name("rivulet-eos");
  }
  void TearDown() override {
    cluster_->set_fault_hook({});
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // An instance named `instance` (its clients' fault-injection name) with its own state dir.
  std::unique_ptr<KafkaStreams> start(const std::string& instance, const std::string& state = "") {
    auto clients = std::make_shared<InMemoryClientFactory>(cluster_, instance);
    auto streams = std::make_unique<KafkaStreams>(
        topology_, eos_config(dir_ / (state.empty() ? instance : state)), clients);
    streams->start();
    return streams;
  }

  // Waits until the output holds `total` records' counts and the input is committed.
  void expect_exact_output(int total, int keys) {
    const auto expected = expected_counts(total, keys);
    const bool complete = wait_until(
        [&] { return input_committed(*cluster_) && read_by_key(*cluster_, kOutput) == expected; },
        kDeadline);
    EXPECT_TRUE(complete) << "read_committed output differs from the failure-free run";
    if (!complete) {
      for (const auto& [key, values] : read_by_key(*cluster_, kOutput)) {
        ADD_FAILURE() << key << ": " << fmt::format("{}", fmt::join(values, ","));
      }
    }
  }

  static bool stopped(const KafkaStreams& streams) {
    const auto state = streams.state();
    return state == KafkaStreams::State::error || state == KafkaStreams::State::not_running;
  }

  // Produces batches of 50 records over 10 keys, each committed before the next (so that every
  // batch takes at least one commit), until `streams` stops (a fault crashed it) or `limit`
  // records were produced; returns how many were.
  int produce_until_stopped(const KafkaStreams& streams, int limit) {
    int produced = 0;
    while (!stopped(streams) && produced < limit) {
      produce(cluster_, produced, produced + 50, 10);
      produced += 50;
      wait_until([&] { return stopped(streams) || input_committed(*cluster_); }, kDeadline);
    }
    return produced;
  }

  Topology topology_ = count_topology();
  std::shared_ptr<InMemoryCluster> cluster_ = std::make_shared<InMemoryCluster>();
  std::filesystem::path dir_;
};

TEST_F(ExactlyOnce, OutputChangelogAndOffsetsCommitInTransactions) {
  produce(cluster_, 0, 300, 10);
  auto streams = start("a");
  expect_exact_output(300, 10);
  // The changelog holds the same counts, written in the same transactions.
  const auto changelog = read_by_key(*cluster_, std::string(kApplication) + "-counts-changelog");
  std::size_t changes = 0;
  for (const auto& [key, values] : changelog) changes += values.size();
  EXPECT_EQ(changes, 300u);
  EXPECT_EQ(read_by_key(*cluster_, kOutput, kafka::Isolation::read_uncommitted),
            read_by_key(*cluster_, kOutput))
      << "nothing was aborted, so both readers see the same";
  const auto threads = streams->metadata_for_local_threads();
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_THAT(threads[0].transactional_id,
              ::testing::MatchesRegex(std::string(kApplication) + "-[0-9a-f]{32}-1"));
  streams->close();
  EXPECT_GT(streams->commits(), 0u);
  EXPECT_EQ(streams->transactions_aborted(), 0u);
}

TEST_F(ExactlyOnce, TheTransactionalIdStaysWithTheStateDirectory) {
  auto id_of = [&](const std::string& state) {
    auto streams = start(unique_name("i"), state);
    std::string id = streams->metadata_for_local_threads().at(0).transactional_id;
    streams->close();
    return id;
  };
  const std::string first = id_of("one");
  EXPECT_EQ(id_of("one"), first) << "a restart with the same state.dir keeps its id";
  EXPECT_NE(id_of("two"), first) << "another state.dir is another instance";
  // Two live instances on one directory never share an id.
  auto a = start("a", "shared");
  auto b = start("b", "shared");
  EXPECT_NE(a->metadata_for_local_threads().at(0).transactional_id,
            b->metadata_for_local_threads().at(0).transactional_id);
}

// Abortable errors at each step: the transaction aborts, the tasks go back to the last commit,
// and the records are processed again, once.
TEST_F(ExactlyOnce, AbortableErrorsAbortAndReprocessWithNothingLostOrDoubled) {
  std::atomic<int> produces{0};
  std::atomic<int> offsets{0};
  std::atomic<int> commits{0};
  cluster_->set_fault_hook([&](const FaultEvent& event) {
    switch (event.point) {
      case FaultPoint::produce:
        return ++produces == 120 ? FaultAction::fail : FaultAction::none;
      case FaultPoint::send_offsets:
        return ++offsets == 3 ? FaultAction::fail : FaultAction::none;
      case FaultPoint::commit_transaction:
        return ++commits == 6 ? FaultAction::fail : FaultAction::none;
      default:
        return FaultAction::none;
    }
  });
  auto streams = start("a");
  // Batch by batch, so that there are enough commits for every fault.
  for (int batch = 1; batch <= 10; ++batch) {
    produce(cluster_, (batch - 1) * 30, batch * 30, 7);
    expect_exact_output(batch * 30, 7);
  }
  EXPECT_EQ(streams->transactions_aborted(), 3u);
  EXPECT_NE(read_by_key(*cluster_, kOutput, kafka::Isolation::read_uncommitted),
            read_by_key(*cluster_, kOutput))
      << "aborted output is in the log, hidden from read_committed readers";
  streams->close();
}

struct CrashCase {
  FaultPoint point;
  FaultAction action;
  const char* name;
};

class ExactlyOnceCrash : public ExactlyOnce, public ::testing::WithParamInterface<CrashCase> {};

// The instance crashes at one step of its fourth commit (or mid-transaction after three); a new
// incarnation
// on the same state directory aborts what the crash left open, restores only the changelog past
// what its RocksDB store committed, and finishes. The read_committed output is the failure-free
// run's.
TEST_P(ExactlyOnceCrash, ARestartFinishesWithTheFailureFreeOutput) {
  const CrashCase crash = GetParam();
  std::atomic<int> commits{0};
  std::atomic<int> seen{0};
  cluster_->set_fault_hook([&](const FaultEvent& event) {
    if (event.instance != "a1") return FaultAction::none;
    const bool commit = event.point == FaultPoint::commit_transaction;
    if (event.point != crash.point) {
      if (commit) ++commits;
      return FaultAction::none;
    }
    const bool due = crash.point == FaultPoint::produce ? commits >= 3 && ++seen == 1 : ++seen == 4;
    if (commit && !due) ++commits;
    return due ? crash.action : FaultAction::none;
  });
  auto first = start("a1", "a");
  const int produced = produce_until_stopped(*first, 2'000);
  ASSERT_TRUE(wait_until([&] { return stopped(*first); }, kDeadline)) << "never crashed";
  first.reset();
  cluster_->expire_sessions("a1");
  const std::size_t changelog_before =
      eos_test::committed_records(*cluster_, std::string(kApplication) + "-counts-changelog");
  ASSERT_GT(changelog_before, 0u) << "the crash came before any commit";

  produce(cluster_, produced, produced + 100, 10);
  auto second = start("a2", "a");
  expect_exact_output(produced + 100, 10);
  // Crash-safe state: the store kept its committed state; only the tail was replayed.
  EXPECT_LT(second->records_restored(), changelog_before);
  second->close();
}

INSTANTIATE_TEST_SUITE_P(
    EveryCommitStep, ExactlyOnceCrash,
    ::testing::Values(
        CrashCase{FaultPoint::produce, FaultAction::crash_after, "MidTransaction"},
        CrashCase{FaultPoint::send_offsets, FaultAction::crash_before, "BeforeSendingOffsets"},
        CrashCase{FaultPoint::send_offsets, FaultAction::crash_after, "AfterSendingOffsets"},
        CrashCase{FaultPoint::commit_transaction, FaultAction::crash_before, "BeforeCommit"},
        CrashCase{FaultPoint::commit_transaction, FaultAction::crash_after, "AfterCommit"}),
    [](const ::testing::TestParamInfo<CrashCase>& param) { return param.param.name; });

// A zombie: instance A's session expires while it goes on processing, unaware (it skips its
// group checks); B takes its partitions. A's transactions fail at sending offsets with its stale
// membership and abort, so nothing it does after the expiry is ever committed.
TEST_F(ExactlyOnce, AZombieNeverGetsARecordIntoTheCommittedOutput) {
  std::atomic<bool> zombie{false};
  cluster_->set_fault_hook([&](const FaultEvent& event) {
    if (event.instance == "a" && event.point == FaultPoint::group_poll && zombie) {
      return FaultAction::skip;
    }
    return FaultAction::none;
  });
  produce(cluster_, 0, 200, 10);
  auto a = start("a");
  expect_exact_output(200, 10);
  zombie = true;
  cluster_->expire_sessions("a");
  auto b = start("b");
  produce(cluster_, 200, 400, 10);
  expect_exact_output(400, 10);
  EXPECT_TRUE(wait_until([&] { return a->transactions_aborted() > 0; }, kDeadline))
      << "the zombie never tried to commit";
  zombie = false;  // A notices, rejoins as a new member, and the two share the work
  produce(cluster_, 400, 500, 10);
  expect_exact_output(500, 10);
  a->close();
  b->close();
}

// A transaction left open by a crash that is never restarted times out: the cluster aborts it,
// and another instance goes on from the last commit.
TEST_F(ExactlyOnce, AnotherInstanceTakesOverOnceACrashedTransactionTimesOut) {
  std::atomic<int> commits{0};
  cluster_->set_fault_hook([&](const FaultEvent& event) {
    if (event.instance == "a" && event.point == FaultPoint::commit_transaction) {
      return ++commits == 3 ? FaultAction::crash_before : FaultAction::none;
    }
    return FaultAction::none;
  });
  auto config = eos_config(dir_ / "a");
  config.set("producer.transaction.timeout.ms", "1000");
  auto a = std::make_unique<KafkaStreams>(topology_, config,
                                          std::make_shared<InMemoryClientFactory>(cluster_, "a"));
  a->start();
  const int produced = produce_until_stopped(*a, 1'000);
  ASSERT_TRUE(wait_until([&] { return stopped(*a); }, kDeadline));
  a.reset();
  cluster_->expire_sessions("a");
  auto b = start("b");
  expect_exact_output(produced, 10);
  EXPECT_EQ(cluster_->transactions_timed_out(), 1u);
  b->close();
}

}  // namespace
}  // namespace rivulet
