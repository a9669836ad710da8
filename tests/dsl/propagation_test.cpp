// Keys, values, timestamps and headers: every DSL operator keeps the input record's timestamp and
// headers, and a Processor API processor can replace them.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/rivulet.h>
#include <rivulet/testing/topology_test_driver.h>

#include "rivulet_test_helpers.h"

namespace rivulet {
namespace {

using ::testing::ElementsAre;
using testing::TestRecord;
using testing::TopologyTestDriver;
using SRecord = TestRecord<std::string, std::string>;
using Stream = KStream<std::string, std::string>;

Headers trace_headers() {
  Headers headers;
  headers.add("trace-id", "t-1").add("origin", "sensor").add("trace-id", "t-2");
  return headers;
}

// Builds "in" -> build(stream) -> "out", pipes one record with timestamp 1234 and the trace headers
// and returns every record that reached "out".
template <class BuildFn>
std::vector<SRecord> run_one(BuildFn build) {
  StreamsBuilder builder;
  build(builder.stream<std::string, std::string>("in")).to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_input(SRecord("k", "v", 1234, trace_headers()));
  return out.read_records_to_list();
}

TEST(DslPropagation, FilterKeepsTimestampAndHeaders) {
  auto records =
      run_one([](Stream s) { return s.filter([](const auto&, const auto&) { return true; }); });
  EXPECT_THAT(records, ElementsAre(SRecord("k", "v", 1234, trace_headers())));
}

TEST(DslPropagation, FilterNotKeepsTimestampAndHeaders) {
  auto records = run_one(
      [](Stream s) { return s.filter_not([](const auto&, const auto&) { return false; }); });
  EXPECT_THAT(records, ElementsAre(SRecord("k", "v", 1234, trace_headers())));
}

TEST(DslPropagation, MapKeepsTimestampAndHeaders) {
  auto records = run_one([](Stream s) {
    return s.map([](const std::string& k, const std::string& v) { return std::make_pair(v, k); });
  });
  EXPECT_THAT(records, ElementsAre(SRecord("v", "k", 1234, trace_headers())));
}

TEST(DslPropagation, MapValuesKeepsTimestampAndHeaders) {
  auto records =
      run_one([](Stream s) { return s.map_values([](const std::string& v) { return v + "!"; }); });
  EXPECT_THAT(records, ElementsAre(SRecord("k", "v!", 1234, trace_headers())));
}

TEST(DslPropagation, FlatMapGivesEveryOutputTheTimestampAndHeaders) {
  auto records = run_one([](Stream s) {
    return s.flat_map([](const std::string& k, const std::string& v) {
      return std::vector<std::pair<std::string, std::string>>{
          {k + "1", v}, {k + "2", v}, {k + "3", v}};
    });
  });
  EXPECT_THAT(records, ElementsAre(SRecord("k1", "v", 1234, trace_headers()),
                                   SRecord("k2", "v", 1234, trace_headers()),
                                   SRecord("k3", "v", 1234, trace_headers())));
}

TEST(DslPropagation, FlatMapValuesGivesEveryOutputTheTimestampAndHeaders) {
  auto records = run_one([](Stream s) {
    return s.flat_map_values([](const std::string& v) {
      return std::vector<std::string>{v + "a", v + "b"};
    });
  });
  EXPECT_THAT(records, ElementsAre(SRecord("k", "va", 1234, trace_headers()),
                                   SRecord("k", "vb", 1234, trace_headers())));
}

TEST(DslPropagation, SelectKeyKeepsTimestampAndHeaders) {
  auto records = run_one([](Stream s) {
    return s.select_key([](const std::string&, const std::string& v) { return "new-" + v; });
  });
  EXPECT_THAT(records, ElementsAre(SRecord("new-v", "v", 1234, trace_headers())));
}

TEST(DslPropagation, PeekKeepsTimestampAndHeaders) {
  auto records = run_one([](Stream s) { return s.peek([](const auto&, const auto&) {}); });
  EXPECT_THAT(records, ElementsAre(SRecord("k", "v", 1234, trace_headers())));
}

TEST(DslPropagation, MergeKeepsTimestampAndHeadersOfEachInput) {
  StreamsBuilder builder;
  auto left = builder.stream<std::string, std::string>("left");
  auto right = builder.stream<std::string, std::string>("right");
  left.merge(right).to("out");
  TopologyTestDriver driver(builder.build());
  auto in_left = driver.create_input_topic<std::string, std::string>("left");
  auto in_right = driver.create_input_topic<std::string, std::string>("right");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  Headers right_headers;
  right_headers.add("side", "right");
  in_left.pipe_input(SRecord("l", "1", 10, trace_headers()));
  in_right.pipe_input(SRecord("r", "2", 5, right_headers));
  EXPECT_THAT(out.read_records_to_list(), ElementsAre(SRecord("l", "1", 10, trace_headers()),
                                                      SRecord("r", "2", 5, right_headers)));
}

TEST(DslPropagation, BranchKeepsTimestampAndHeaders) {
  StreamsBuilder builder;
  auto branches = builder.stream<std::string, std::string>("in")
                      .split(Named::as("s-"))
                      .branch([](const auto& k, const auto&) { return k == "a"; })
                      .default_branch();
  branches.at("s-1").to("one");
  branches.at("s-0").to("zero");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto one = driver.create_output_topic<std::string, std::string>("one");
  auto zero = driver.create_output_topic<std::string, std::string>("zero");
  in.pipe_input(SRecord("a", "1", 77, trace_headers()));
  in.pipe_input(SRecord("b", "2", 88, trace_headers()));
  EXPECT_THAT(one.read_records_to_list(), ElementsAre(SRecord("a", "1", 77, trace_headers())));
  EXPECT_THAT(zero.read_records_to_list(), ElementsAre(SRecord("b", "2", 88, trace_headers())));
}

TEST(DslPropagation, RepartitionKeepsTimestampAndHeaders) {
  auto records = run_one([](Stream s) { return s.repartition(); });
  EXPECT_THAT(records, ElementsAre(SRecord("k", "v", 1234, trace_headers())));
}

TEST(DslPropagation, ProcessorCanReplaceTimestampAndHeaders) {
  auto records = run_one([](Stream s) {
    return s.process(test::fn_supplier<std::string, std::string, std::string, std::string>(
        [](ProcessorContext<std::string, std::string>& context,
           Record<std::string, std::string> record) {
          Headers headers = record.headers();
          headers.remove("origin").add("stage", "enriched");
          const std::int64_t later = record.timestamp() + 1000;
          context.forward(std::move(record).with_timestamp(later).with_headers(headers));
        }));
  });
  Headers expected;
  expected.add("trace-id", "t-1").add("trace-id", "t-2").add("stage", "enriched");
  EXPECT_THAT(records, ElementsAre(SRecord("k", "v", 2234, expected)));
}

TEST(DslPropagation, ProcessorChangesArriveAtDownstreamOperators) {
  std::vector<std::int64_t> timestamps_seen;
  std::vector<Headers> headers_seen;
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .process(test::fn_supplier<std::string, std::string, std::string,
                                 std::string>([](ProcessorContext<std::string, std::string>&
                                                     context,
                                                 Record<std::string, std::string> record) {
        context.forward(record.with_timestamp(5).with_headers(Headers{{"only", to_bytes("this")}}));
      }))
      .process(test::fn_supplier<std::string, std::string>(
          [&](ProcessorContext<Void, Void>&, Record<std::string, std::string> record) {
            timestamps_seen.push_back(record.timestamp());
            headers_seen.push_back(record.headers());
          }));
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::string>("in");
  in.pipe_input(SRecord("k", "v", 1234, trace_headers()));
  EXPECT_THAT(timestamps_seen, ElementsAre(5));
  EXPECT_THAT(headers_seen, ElementsAre(Headers{{"only", to_bytes("this")}}));
}

TEST(DslPropagation, NullHeaderValueStaysNullAndDistinctFromEmpty) {
  Headers headers;
  headers.add("null", std::nullopt).add("empty", "");
  StreamsBuilder builder;
  builder.stream<std::string, std::string>("in")
      .map_values([](const std::string& v) { return v; })
      .to("out");
  TopologyTestDriver driver(builder.build());
  auto in = driver.create_input_topic<std::string, std::string>("in");
  auto out = driver.create_output_topic<std::string, std::string>("out");
  in.pipe_input(SRecord("k", "v", 1, headers));
  const auto record = out.read_record();
  ASSERT_EQ(record.headers.size(), 2u);
  EXPECT_FALSE(record.headers.last_header("null")->value.has_value());
  ASSERT_TRUE(record.headers.last_header("empty")->value.has_value());
  EXPECT_TRUE(record.headers.last_header("empty")->value->empty());
}

}  // namespace
}  // namespace rivulet
