// KStream::split: first match wins, default branch, branch names, Branched functions/consumers.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>
#include <rivulet/testing/topology_test_driver.h>

namespace rivulet {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::TopologyTestDriver;
using KVi = KeyValue<std::string, std::int64_t>;
using Stream = KStream<std::string, std::int64_t>;
using Branch = Branched<std::string, std::int64_t>;

bool negative(const std::string&, std::int64_t v) {
  return v < 0;
}
bool small(const std::string&, std::int64_t v) {
  return v < 10;
}

std::vector<std::string> keys_of(const std::map<std::string, Stream>& branches) {
  std::vector<std::string> keys;
  for (const auto& [name, stream] : branches) keys.push_back(name);
  return keys;
}

TEST(DslSplit, RecordGoesToTheFirstMatchingBranchOnly) {
  StreamsBuilder builder;
  auto branches = builder.stream<std::string, std::int64_t>("in")
                      .split(Named::as("s-"))
                      .branch(negative, Branch::as("neg"))
                      .branch(small, Branch::as("small"))
                      .default_branch(Branch::as("rest"));
  branches.at("s-neg").to("neg");
  branches.at("s-small").to("small");
  branches.at("s-rest").to("rest");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::int64_t>("in");
  auto neg = driver.create_output_topic<std::string, std::int64_t>("neg");
  auto sm = driver.create_output_topic<std::string, std::int64_t>("small");
  auto rest = driver.create_output_topic<std::string, std::int64_t>("rest");
  in.pipe_input("a", -5);  // matches both negative and small: first branch only
  in.pipe_input("b", 3);
  in.pipe_input("c", 50);
  in.pipe_input("d", -1);
  EXPECT_THAT(neg.read_key_values_to_list(), ElementsAre(KVi{"a", -5}, KVi{"d", -1}));
  EXPECT_THAT(sm.read_key_values_to_list(), ElementsAre(KVi{"b", 3}));
  EXPECT_THAT(rest.read_key_values_to_list(), ElementsAre(KVi{"c", 50}));
}

TEST(DslSplit, NoMatchGoesToTheDefaultBranch) {
  StreamsBuilder builder;
  auto branches =
      builder.stream<std::string, std::int64_t>("in").split().branch(negative).default_branch();
  branches.at("KSTREAM-BRANCH-00000000010").to("default");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::int64_t>("in");
  auto def = driver.create_output_topic<std::string, std::int64_t>("default");
  in.pipe_input("a", -1);
  in.pipe_input("b", 1);
  EXPECT_THAT(def.read_key_values_to_list(), ElementsAre(KVi{"b", 1}));
}

TEST(DslSplit, WithNoDefaultBranchUnmatchedRecordsAreDropped) {
  StreamsBuilder builder;
  std::vector<std::int64_t> seen_by_splitter;
  auto branches =
      builder.stream<std::string, std::int64_t>("in")
          .peek([&](const std::string&, std::int64_t v) { seen_by_splitter.push_back(v); })
          .split(Named::as("s-"))
          .branch(negative, Branch::as("neg"))
          .no_default_branch();
  EXPECT_THAT(keys_of(branches), ElementsAre("s-neg"));
  branches.at("s-neg").to("neg");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::int64_t>("in");
  auto neg = driver.create_output_topic<std::string, std::int64_t>("neg");
  in.pipe_input("a", 1);
  in.pipe_input("b", -1);
  in.pipe_input("c", 2);
  EXPECT_THAT(seen_by_splitter, ElementsAre(1, -1, 2));
  EXPECT_THAT(neg.read_key_values_to_list(), ElementsAre(KVi{"b", -1}));
  EXPECT_EQ(driver.produced_topic_names(), std::set<std::string>{"neg"});
  EXPECT_EQ(driver.metrics().processing_errors, 0u);
}

TEST(DslSplit, NamedBranchesAreSplitNamePlusBranchName) {
  StreamsBuilder builder;
  auto branches = builder.stream<std::string, std::int64_t>("in")
                      .split(Named::as("route-"))
                      .branch(negative, Branch::as("negative"))
                      .branch(small, Branch::as("small"))
                      .default_branch(Branch::as("other"));
  EXPECT_THAT(keys_of(branches), ElementsAre("route-negative", "route-other", "route-small"));
  EXPECT_EQ(branches.at("route-negative").node_name(), "route-negative");
  EXPECT_EQ(branches.at("route-small").node_name(), "route-small");
  EXPECT_EQ(branches.at("route-other").node_name(), "route-other");
}

TEST(DslSplit, UnnamedBranchesUseOneBasedIndicesAndDefaultZero) {
  StreamsBuilder builder;
  auto branches = builder.stream<std::string, std::int64_t>("in")
                      .split(Named::as("s-"))
                      .branch(negative)
                      .branch(small)
                      .default_branch();
  EXPECT_THAT(keys_of(branches), ElementsAre("s-0", "s-1", "s-2"));
}

TEST(DslSplit, GeneratedSplitNameAndIndicesBurnTheBuilderCounter) {
  StreamsBuilder builder;
  auto source = builder.stream<std::string, std::int64_t>("in");  // 0
  auto branches = source
                      .split()                             // 1
                      .branch(negative)                    // burns 2
                      .branch(small, Branch::as("small"))  // burns 3
                      .default_branch();                   // burns 4
  EXPECT_THAT(keys_of(branches),
              ElementsAre("KSTREAM-BRANCH-00000000010", "KSTREAM-BRANCH-00000000011",
                          "KSTREAM-BRANCH-0000000001small"));
  auto next = source.filter([](const auto&, std::int64_t) { return true; });
  EXPECT_EQ(next.node_name(), "KSTREAM-FILTER-0000000005");
}

TEST(DslSplit, WithFunctionStoresTheFunctionsResult) {
  StreamsBuilder builder;
  auto branches =
      builder.stream<std::string, std::int64_t>("in")
          .split(Named::as("s-"))
          .branch(negative, Branch::with_function(
                                [](Stream s) -> std::optional<Stream> {
                                  return s.map_values([](std::int64_t v) { return -v; });
                                },
                                "abs"))
          .branch(small, Branch::with_function([](Stream) -> std::optional<Stream> {
                    return std::nullopt;  // a function returning nothing: not in the map
                  }))
          .no_default_branch();
  EXPECT_THAT(keys_of(branches), ElementsAre("s-abs"));
  // source 0, named split burns nothing, branch "s-abs" burns 1, its map_values is 2.
  EXPECT_EQ(branches.at("s-abs").node_name(), "KSTREAM-MAPVALUES-0000000002");
  branches.at("s-abs").to("abs");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::int64_t>("in");
  auto abs = driver.create_output_topic<std::string, std::int64_t>("abs");
  in.pipe_input("a", -7);
  in.pipe_input("b", 7);
  EXPECT_THAT(abs.read_key_values_to_list(), ElementsAre(KVi{"a", 7}));
}

TEST(DslSplit, WithConsumerHandsTheBranchOverAndLeavesItOutOfTheMap) {
  StreamsBuilder builder;
  std::vector<std::string> consumed;
  auto branches = builder.stream<std::string, std::int64_t>("in")
                      .split(Named::as("s-"))
                      .branch(negative, Branch::with_consumer([](Stream s) { s.to("neg"); }, "neg"))
                      .default_branch(Branch::with_consumer([&](Stream s) {
                        consumed.push_back(s.node_name());
                        s.to("rest");
                      }));
  EXPECT_THAT(branches, IsEmpty());
  EXPECT_THAT(consumed, ElementsAre("s-0"));
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::int64_t>("in");
  auto neg = driver.create_output_topic<std::string, std::int64_t>("neg");
  auto rest = driver.create_output_topic<std::string, std::int64_t>("rest");
  in.pipe_input("a", -1);
  in.pipe_input("b", 1);
  EXPECT_THAT(neg.read_key_values_to_list(), ElementsAre(KVi{"a", -1}));
  EXPECT_THAT(rest.read_key_values_to_list(), ElementsAre(KVi{"b", 1}));
}

TEST(DslSplit, IllegalBranchNameThrows) {
  StreamsBuilder builder;
  auto split = builder.stream<std::string, std::int64_t>("in").split(Named::as("s-"));
  EXPECT_THROW(split.branch(negative, Branch::as("has space")), TopologyException);
}

TEST(DslSplit, BranchesKeepTheRepartitionFlagOfTheSplitStream) {
  StreamsBuilder builder;
  auto rekeyed = builder.stream<std::string, std::int64_t>("in").select_key(
      [](const std::string& k, std::int64_t) { return k; });
  auto branches = rekeyed.split().branch(negative).default_branch();
  for (const auto& [name, stream] : branches) {
    EXPECT_TRUE(stream.repartition_required()) << name;
  }
}

}  // namespace
}  // namespace rivulet
