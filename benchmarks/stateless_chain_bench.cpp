// Cost of the processor graph on a stateless chain, against the same lambdas called by hand.
//
// Three ways to run filter -> map_values -> sink on one record:
//   HandWritten   the user's lambdas called directly: the floor no framework can beat;
//   Graph/N       a record handed to the first processor of a chain of N nodes (the graph alone:
//                 no serdes), ending in a processor that swallows it;
//   Driver        the whole TopologyTestDriver path: serialize, deserialize, process, serialize.
// The report ends with the graph's cost per node per record (slope over N against the
// hand-written chain of the same length) and the heap allocations per record inside the graph,
// counted by replacing global operator new for this binary.
//
// Run: scripts/bench.sh stateless_chain   (figures in docs/benchmarks.md)
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <new>
#include <string>

#include <benchmark/benchmark.h>

#include <rivulet/rivulet.h>
#include <rivulet/testing/topology_test_driver.h>

#include "common/logging.h"
#include "runtime/stream_task.h"
#include "topology/processor_graph.h"
#include "topology/topology_impl.h"

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

// GCC flags free() in a replaced operator delete as mismatched; the pair below is consistent.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
#pragma GCC diagnostic pop

namespace {

using Key = std::string;
using Rec = rivulet::Record<Key, std::int64_t>;

const Key kKey =
    "vehicle-0042";  // fits the small-string buffer: building records allocates nothing

// Swallows records at the end of a chain.
class Sink final : public rivulet::Processor<Key, std::int64_t> {
 public:
  void process(Rec record) override { benchmark::DoNotOptimize(record.value()); }
};

// Records nothing: the graph-only benchmarks never reach a topic.
class NullCollector final : public rivulet::detail::RecordCollector {
 public:
  void send(std::string_view, std::optional<rivulet::ByteView>, std::optional<rivulet::ByteView>,
            std::int64_t, const rivulet::Headers&, std::optional<std::int32_t>) override {}
  std::int32_t partition_count(std::string_view) override { return 1; }
};

rivulet::runtime::TaskSettings settings() {
  rivulet::runtime::TaskSettings settings;
  settings.application_id = "bench";
  return settings;
}

// A task running `topology`'s sub-topology 0, with direct access to its first processor.
struct GraphUnderTest {
  explicit GraphUnderTest(const rivulet::Topology& topology)
      : task(
            rivulet::TaskId{0, 0},
            rivulet::detail::ProcessorGraph::build(rivulet::detail::topology_impl(topology), 0,
                                                   "bench"),
            settings(), collector, [] { return std::int64_t{0}; },
            rivulet::common::make_logger("bench", spdlog::level::off)) {
    task.initialize();
    first = task.graph().nodes().front()->children().front();
  }
  NullCollector collector;
  rivulet::runtime::StreamTask task;
  rivulet::detail::ProcessorNode* first = nullptr;
};

// filter(v % 8 != 7) -> map_values(v * 3) -> N-2 more map_values(v + 1) -> swallow.
rivulet::Topology chain_topology(int nodes) {
  rivulet::StreamsBuilder builder;
  auto stream = builder.stream<Key, std::int64_t>("in").filter(
      [](const Key&, std::int64_t v) { return v % 8 != 7; });
  auto mapped = stream.map_values([](std::int64_t v) { return v * 3; });
  for (int i = 2; i < nodes; ++i) mapped = mapped.map_values([](std::int64_t v) { return v + 1; });
  mapped.process([] { return std::make_unique<Sink>(); });
  return builder.build();
}

void BM_HandWritten(benchmark::State& state) {
  const int nodes = static_cast<int>(state.range(0));
  std::int64_t i = 0;
  auto filter = [](const Key&, std::int64_t v) { return v % 8 != 7; };
  auto times3 = [](std::int64_t v) { return v * 3; };
  auto plus1 = [](std::int64_t v) { return v + 1; };
  for (auto _ : state) {
    const std::int64_t v = i++;
    Rec record(kKey, v, v);
    benchmark::DoNotOptimize(record);
    if (!filter(record.key(), record.value())) continue;
    std::int64_t mapped = times3(record.value());
    for (int n = 2; n < nodes; ++n) {
      mapped = plus1(mapped);
      benchmark::DoNotOptimize(mapped);
    }
    Rec out(std::move(record.key()), mapped, record.timestamp(), std::move(record.headers()));
    benchmark::DoNotOptimize(out.value());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Graph(benchmark::State& state) {
  const int nodes = static_cast<int>(state.range(0));
  rivulet::Topology topology = chain_topology(nodes);
  GraphUnderTest graph(topology);
  std::int64_t i = 0;
  const std::uint64_t allocations_before = g_allocations.load();
  for (auto _ : state) {
    const std::int64_t v = i++;
    Rec record(kKey, v, v);
    graph.first->process(&record);
  }
  const double allocations = static_cast<double>(g_allocations.load() - allocations_before);
  state.counters["allocs_per_record"] =
      benchmark::Counter(allocations / static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations());
}

void BM_Driver(benchmark::State& state) {
  rivulet::StreamsBuilder builder;
  builder.stream<Key, std::int64_t>("in")
      .filter([](const Key&, std::int64_t v) { return v % 8 != 7; })
      .map_values([](std::int64_t v) { return v * 3; })
      .to("out");
  rivulet::Topology topology = builder.build();
  rivulet::testing::TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<Key, std::int64_t>("in");
  std::int64_t i = 0;
  for (auto _ : state) {
    const std::int64_t v = i++;
    in.pipe_input(kKey, v, v);
    if ((i & 1023) == 0) {
      state.PauseTiming();
      while (driver.read_raw("out")) {
      }
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_HandWritten)->Arg(2)->Arg(4)->Arg(8)->Arg(16);
BENCHMARK(BM_Graph)->Arg(2)->Arg(4)->Arg(8)->Arg(16);
BENCHMARK(BM_Driver);

// Prints the ratios of each run to its hand-written baseline after the usual console table.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.iterations == 0) continue;
      ns_[run.benchmark_name()] = run.GetAdjustedCPUTime();  // CPU ns per iteration (one record)
      if (auto it = run.counters.find("allocs_per_record"); it != run.counters.end()) {
        allocs_[run.benchmark_name()] = it->second.value;
      }
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\nGraph against hand-written lambdas (CPU ns per record):\n");
    std::printf("%6s %12s %12s %8s %14s %12s\n", "nodes", "hand", "graph", "ratio", "overhead/node",
                "allocs/rec");
    double first_overhead = 0;
    double last_overhead = 0;
    int first_n = 0;
    int last_n = 0;
    for (int n : {2, 4, 8, 16}) {
      // (Built in two steps: GCC 12 warns falsely on "/" + std::to_string(n).)
      std::string suffix = "/";
      suffix += std::to_string(n);
      const double hand = ns_["BM_HandWritten" + suffix];
      const double graph = ns_["BM_Graph" + suffix];
      const double overhead = graph - hand;
      std::printf("%6d %12.1f %12.1f %8.2f %14.1f %12.2f\n", n, hand, graph, graph / hand,
                  overhead / n, allocs_["BM_Graph" + suffix]);
      if (first_n == 0) {
        first_n = n;
        first_overhead = overhead;
      }
      last_n = n;
      last_overhead = overhead;
    }
    std::printf("slope: %.1f ns per node per record (goal: < 50), driver end to end: %.1f ns\n",
                (last_overhead - first_overhead) / (last_n - first_n), ns_["BM_Driver"]);
  }

 private:
  std::map<std::string, double> ns_;
  std::map<std::string, double> allocs_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
