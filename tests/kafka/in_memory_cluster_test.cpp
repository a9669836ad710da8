// The in-memory cluster's broker model: the Kafka semantics exactly-once relies on (transactions,
// markers, the last stable offset, fencing, idempotent sequences, groups and offset commits).
#include "kafka/in_memory_cluster.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace rivulet::kafka {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

LogRecord text(const std::string& value) {
  LogRecord record;
  record.value = Bytes(value.begin(), value.end());
  return record;
}

std::vector<std::string> values(const FetchResult& result) {
  std::vector<std::string> out;
  for (const StoredRecord& stored : result.records) {
    out.emplace_back(stored.record.value->begin(), stored.record.value->end());
  }
  return out;
}

// The message of the KafkaException `call` throws, and whether it was fatal.
template <class Call>
std::pair<std::string, bool> failure_of(Call&& call) {
  try {
    call();
  } catch (const KafkaException& e) {
    return {e.what(), e.fatal()};
  }
  return {"(nothing thrown)", false};
}

class InMemoryClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.create_topic("in", 2);
    cluster_.create_topic("out", 1);
  }
  FetchResult read(Isolation isolation, std::int64_t from = 0) {
    return cluster_.fetch(out_, from, 100, isolation);
  }

  InMemoryCluster cluster_;
  const TopicPartition out_{"out", 0};
};

TEST_F(InMemoryClusterTest, AppendsGetConsecutiveOffsetsPerPartition) {
  const ProducerIdentity producer = cluster_.init_producer_id(std::nullopt);
  EXPECT_EQ(cluster_.append({"in", 0}, producer, 0, text("a"), false), 0);
  EXPECT_EQ(cluster_.append({"in", 1}, producer, 0, text("b"), false), 0);
  EXPECT_EQ(cluster_.append({"in", 0}, producer, 1, text("c"), false), 1);
  const FetchResult result = cluster_.fetch({"in", 0}, 0, 10, Isolation::read_committed);
  EXPECT_THAT(values(result), ElementsAre("a", "c"));
  EXPECT_EQ(result.next_offset, 2);
  EXPECT_EQ(result.high_watermark, 2);
  EXPECT_EQ(result.last_stable_offset, 2);
}

TEST_F(InMemoryClusterTest, TopicsAndPartitionsMustExist) {
  const ProducerIdentity producer = cluster_.init_producer_id(std::nullopt);
  EXPECT_THAT(failure_of([&] {
                cluster_.append({"nope", 0}, producer, 0, text("a"), false);
              }).first,
              HasSubstr("unknown topic 'nope'"));
  EXPECT_THAT(failure_of([&] {
                cluster_.fetch({"in", 2}, 0, 1, Isolation::read_committed);
              }).first,
              HasSubstr("unknown partition 2 of topic 'in' (2 partitions)"));
  EXPECT_THAT(failure_of([&] { cluster_.create_topic("in", 3); }).first,
              HasSubstr("exists with 2 partitions, not 3"));
  cluster_.create_topic("in", 2);  // the same count again: nothing happens
  EXPECT_EQ(cluster_.partition_count("in"), 2);
  EXPECT_EQ(cluster_.partition_count("nope"), std::nullopt);
}

TEST_F(InMemoryClusterTest, AnOpenTransactionIsHiddenFromReadCommittedUntilItCommits) {
  const ProducerIdentity plain = cluster_.init_producer_id(std::nullopt);
  const ProducerIdentity txn = cluster_.init_producer_id("app-thread-1");
  cluster_.append(out_, plain, 0, text("before"), false);  // offset 0
  cluster_.append(out_, txn, 0, text("t1"), true);         // offset 1: the transaction starts
  cluster_.append(out_, plain, 1, text("during"), false);  // offset 2
  cluster_.append(out_, txn, 1, text("t2"), true);         // offset 3

  // read_committed stops at the last stable offset: the first offset of the open transaction,
  // even for the non-transactional record after it.
  EXPECT_THAT(values(read(Isolation::read_committed)), ElementsAre("before"));
  EXPECT_EQ(read(Isolation::read_committed).last_stable_offset, 1);
  EXPECT_EQ(cluster_.watermarks(out_, Isolation::read_committed).second, 1);
  EXPECT_THAT(values(read(Isolation::read_uncommitted)),
              ElementsAre("before", "t1", "during", "t2"));

  cluster_.end_transaction(txn, true);  // the commit marker takes offset 4
  const FetchResult committed = read(Isolation::read_committed);
  EXPECT_THAT(values(committed), ElementsAre("before", "t1", "during", "t2"));
  EXPECT_EQ(committed.high_watermark, 5);
  EXPECT_EQ(committed.last_stable_offset, 5);
  EXPECT_EQ(committed.next_offset, 5);  // past the marker, which is never returned
}

TEST_F(InMemoryClusterTest, AbortedRecordsAreNeverSeenByReadCommitted) {
  const ProducerIdentity txn = cluster_.init_producer_id("app-thread-1");
  cluster_.append(out_, txn, 0, text("lost"), true);
  cluster_.end_transaction(txn, false);
  cluster_.append(out_, txn, 1, text("kept"), true);
  cluster_.end_transaction(txn, true);
  EXPECT_THAT(values(read(Isolation::read_committed)), ElementsAre("kept"));
  EXPECT_THAT(values(read(Isolation::read_uncommitted)), ElementsAre("lost", "kept"));
  // Offsets: lost 0, abort marker 1, kept 2, commit marker 3.
  EXPECT_EQ(read(Isolation::read_committed).records.at(0).offset, 2);
}

TEST_F(InMemoryClusterTest, ANewEpochAbortsTheOpenTransactionAndFencesTheOldProducer) {
  const ProducerIdentity zombie = cluster_.init_producer_id("app-thread-1");
  cluster_.append(out_, zombie, 0, text("zombie"), true);
  const ProducerIdentity successor = cluster_.init_producer_id("app-thread-1");
  EXPECT_EQ(successor.producer_id, zombie.producer_id);
  EXPECT_EQ(successor.epoch, zombie.epoch + 1);

  // The zombie's transaction was aborted by the new epoch, and nothing it does lands.
  const auto [append_error, append_fatal] =
      failure_of([&] { cluster_.append(out_, zombie, 1, text("late"), true); });
  EXPECT_THAT(append_error, HasSubstr("is fenced"));
  EXPECT_TRUE(append_fatal);
  EXPECT_TRUE(failure_of([&] { cluster_.end_transaction(zombie, true); }).second);
  EXPECT_TRUE(read(Isolation::read_committed).records.empty());
  EXPECT_EQ(read(Isolation::read_committed).last_stable_offset, 2);  // record + abort marker

  cluster_.append(out_, successor, 0, text("successor"), true);  // a new epoch starts at 0
  cluster_.end_transaction(successor, true);
  EXPECT_THAT(values(read(Isolation::read_committed)), ElementsAre("successor"));
}

TEST_F(InMemoryClusterTest, OffsetsSentToATransactionAreCommittedWithIt) {
  const std::string member = cluster_.join_group("app", {"in"});
  const GroupMetadata consumer{"app", cluster_.group_view("app", member).generation, member};
  const ProducerIdentity txn = cluster_.init_producer_id("app-thread-1");
  const TopicPartition in0{"in", 0};

  cluster_.append(out_, txn, 0, text("r1"), true);
  cluster_.send_offsets_to_transaction(txn, {{in0, 10}}, consumer);
  EXPECT_TRUE(cluster_.committed("app", {in0}).empty());  // not before the commit
  cluster_.end_transaction(txn, false);
  EXPECT_TRUE(cluster_.committed("app", {in0}).empty());  // and never after an abort

  cluster_.append(out_, txn, 1, text("r2"), true);
  cluster_.send_offsets_to_transaction(txn, {{in0, 10}}, consumer);
  cluster_.end_transaction(txn, true);
  EXPECT_EQ(cluster_.committed("app", {in0}).at(in0), 10);
}

TEST_F(InMemoryClusterTest, AConsumerOfAnOlderGenerationCannotCommitOffsets) {
  const std::string first = cluster_.join_group("app", {"in"});
  const GroupMetadata stale{"app", cluster_.group_view("app", first).generation, first};
  cluster_.join_group("app", {"in"});
  cluster_.rejoin_group("app", first);  // the rebalance completes: a new generation
  const ProducerIdentity txn = cluster_.init_producer_id("app-thread-1");

  const auto [error, fatal] = failure_of([&] {
    cluster_.send_offsets_to_transaction(txn, {{TopicPartition{"in", 0}, 5}}, stale);
  });
  EXPECT_THAT(error, HasSubstr("illegal generation 1 for group 'app' (now 2)"));
  EXPECT_FALSE(fatal);  // the transaction must abort; the producer is still usable
  EXPECT_THAT(failure_of([&] {
                cluster_.commit_offsets(stale, {{TopicPartition{"in", 0}, 5}});
              }).first,
              HasSubstr("illegal generation"));
  EXPECT_THAT(failure_of([&] {
                cluster_.commit_offsets({"app", 2, "member-99"}, {{TopicPartition{"in", 0}, 5}});
              }).first,
              HasSubstr("unknown member 'member-99'"));
  EXPECT_TRUE(cluster_.committed("app", {{"in", 0}}).empty());
}

TEST_F(InMemoryClusterTest, ARetriedRecordIsNotAppendedTwiceAndAGapIsFatal) {
  const ProducerIdentity producer = cluster_.init_producer_id(std::nullopt);
  EXPECT_EQ(cluster_.append(out_, producer, 0, text("a"), false), 0);
  EXPECT_EQ(cluster_.append(out_, producer, 1, text("b"), false), 1);
  EXPECT_EQ(cluster_.append(out_, producer, 1, text("b"), false), 1);  // a retry of "b"
  EXPECT_THAT(values(read(Isolation::read_uncommitted)), ElementsAre("a", "b"));
  const auto [error, fatal] =
      failure_of([&] { cluster_.append(out_, producer, 3, text("d"), false); });
  EXPECT_THAT(error, HasSubstr("out of order sequence number"));
  EXPECT_TRUE(fatal);
}

TEST_F(InMemoryClusterTest, OnlyATransactionalProducerWritesTransactionally) {
  const ProducerIdentity producer = cluster_.init_producer_id(std::nullopt);
  EXPECT_THAT(failure_of([&] { cluster_.append(out_, producer, 0, text("a"), true); }).first,
              HasSubstr("has no transactional id"));
}

TEST_F(InMemoryClusterTest, ARebalanceWaitsForEveryMemberToRejoinThenAssignsRanges) {
  cluster_.create_topic("six", 6);
  cluster_.create_topic("three", 3);
  using State = GroupView::State;
  using TP = TopicPartition;
  const std::string a = cluster_.join_group("app", {"six", "three"});
  EXPECT_EQ(cluster_.group_view("app", a).state, State::stable);  // alone: at once
  EXPECT_EQ(cluster_.group_view("app", a).generation, 1);

  const std::string b = cluster_.join_group("app", {"six", "three"});
  const std::string c = cluster_.join_group("app", {"six"});
  ASSERT_LT(a, b);
  ASSERT_LT(b, c);
  EXPECT_EQ(cluster_.group_view("app", a).state, State::rejoin_needed);
  EXPECT_EQ(cluster_.group_view("app", b).state, State::awaiting_assignment);
  // Until it rejoins, the old member may still commit in its generation (its revocation commit),
  // and nobody has partitions of the new generation yet.
  cluster_.commit_offsets({"app", 1, a}, {{TP{"six", 0}, 3}});
  EXPECT_EQ(cluster_.committed("app", {{"six", 0}}).at({"six", 0}), 3);
  EXPECT_TRUE(failure_of([&] {
                cluster_.commit_offsets({"app", 1, b}, {{TP{"six", 0}, 4}});
              }).first.find("is rebalancing") != std::string::npos);

  cluster_.rejoin_group("app", a);
  // "six": 2 each; "three" among a and b: a gets 2, b 1.
  const GroupView view_a = cluster_.group_view("app", a);
  EXPECT_EQ(view_a.state, State::stable);
  EXPECT_EQ(view_a.generation, 2);
  EXPECT_THAT(view_a.partitions,
              ElementsAre(TP{"six", 0}, TP{"six", 1}, TP{"three", 0}, TP{"three", 1}));
  EXPECT_THAT(cluster_.group_view("app", b).partitions,
              ElementsAre(TP{"six", 2}, TP{"six", 3}, TP{"three", 2}));
  EXPECT_THAT(cluster_.group_view("app", c).partitions, ElementsAre(TP{"six", 4}, TP{"six", 5}));

  // b's session expires: a and c must rejoin, then share its partitions.
  cluster_.leave_group("app", b);
  EXPECT_EQ(cluster_.group_view("app", b).state, State::unknown_member);
  EXPECT_EQ(cluster_.group_view("app", c).state, State::rejoin_needed);
  cluster_.rejoin_group("app", a);
  cluster_.rejoin_group("app", c);
  EXPECT_EQ(cluster_.group_view("app", a).generation, 3);
  EXPECT_THAT(cluster_.group_view("app", a).partitions,
              ElementsAre(TP{"six", 0}, TP{"six", 1}, TP{"six", 2}, TP{"three", 0}, TP{"three", 1},
                          TP{"three", 2}));
  EXPECT_THAT(cluster_.group_view("app", c).partitions,
              ElementsAre(TP{"six", 3}, TP{"six", 4}, TP{"six", 5}));
  EXPECT_THAT(failure_of([&] { cluster_.rejoin_group("app", b); }).first,
              HasSubstr("unknown member"));
}

TEST_F(InMemoryClusterTest, AClientOutsideTheGroupCommitsOnlyWhileTheGroupIsEmpty) {
  const GroupMetadata outside{"app", -1, ""};
  cluster_.commit_offsets(outside, {{TopicPartition{"in", 1}, 7}});
  EXPECT_EQ(cluster_.committed("app", {{"in", 1}}).at({"in", 1}), 7);
  cluster_.join_group("app", {"in"});
  EXPECT_THAT(failure_of([&] {
                cluster_.commit_offsets(outside, {{TopicPartition{"in", 1}, 8}});
              }).first,
              HasSubstr("has members"));
}

TEST_F(InMemoryClusterTest, AWaitingReaderWakesWhenARecordArrives) {
  const std::uint64_t seen = cluster_.version();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::thread writer([&] {
    const ProducerIdentity producer = cluster_.init_producer_id(std::nullopt);
    cluster_.append(out_, producer, 0, text("hello"), false);
  });
  EXPECT_TRUE(cluster_.wait_for_change(seen, deadline));
  writer.join();
  EXPECT_THAT(values(read(Isolation::read_committed)), ElementsAre("hello"));
  // Nothing changes any more: the wait ends at its deadline, saying so.
  EXPECT_FALSE(cluster_.wait_for_change(
      cluster_.version(), std::chrono::steady_clock::now() + std::chrono::milliseconds(20)));
}

}  // namespace
}  // namespace rivulet::kafka
