// KStream::detect_anomalies through the TopologyTestDriver: results per record, the warm-up, keys
// kept apart, the models living in the store (and surviving a restart over the same state
// directory), a user's detector by name, store naming and kinds, and clear errors for a model of
// another detector or a corrupt one.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <rivulet/rivulet.h>
#include <rivulet/testing/topology_test_driver.h>

#include "rivulet_test_helpers.h"

namespace rivulet {
namespace {

using test::message_of;

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TopologyTestDriver;

constexpr double kInf = std::numeric_limits<double>::infinity();

const auto kIdentity = [](double v) { return v; };

// readings (key: sensor, value: a temperature) -> detect_anomalies -> "results"
Topology detect(const DetectorSupplier& detector, const std::string& name = "temps",
                const StreamsConfig& config = {},
                Materialized<std::string, AnomalyModel> materialized = {}) {
  StreamsBuilder builder(config);
  builder.stream<std::string, double>("readings")
      .detect_anomalies(kIdentity, detector, Named::as(name), std::move(materialized))
      .to("results");
  return builder.build();
}

struct Pipe {
  testing::TestInputTopic<std::string, double> in;
  testing::TestOutputTopic<std::string, AnomalyResult> out;
  explicit Pipe(TopologyTestDriver& driver)
      : in(driver.create_input_topic<std::string, double>("readings")),
        out(driver.create_output_topic<std::string, AnomalyResult>("results")) {}

  AnomalyResult send(const std::string& key, double value, std::int64_t timestamp = 0) {
    in.pipe_input(key, value, timestamp);
    EXPECT_EQ(out.queue_size(), 1u);
    return out.read_value();
  }
};

// A state directory of the test's own, removed at the end.
struct StateDir {
  std::filesystem::path path;
  explicit StateDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() /
             ("rivulet-anomaly-" + name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
  }
  ~StateDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  StateDir(const StateDir&) = delete;
  StateDir& operator=(const StateDir&) = delete;
  StreamsConfig config() const {
    StreamsConfig config;
    config.set("state.dir", path.string());
    return config;
  }
};

TEST(DetectAnomalies, ScoresEachValueAgainstTheModelOfTheValuesBeforeIt) {
  const Topology topology = detect(detectors::zscore({.threshold = 3.0, .warm_up = 0}));
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, double>("readings");
  auto out = driver.create_output_topic<std::string, AnomalyResult>("results");
  for (double v : {2, 4, 4, 4, 5, 5, 7, 9}) in.pipe_input("s-1", v, 100);
  in.pipe_input("s-1", 12, 250);

  std::vector<testing::TestRecord<std::string, AnomalyResult>> records = out.read_records_to_list();
  ASSERT_EQ(records.size(), 9u);
  // The first two have no spread to compare with.
  EXPECT_EQ(records[0].value->score, 0);
  EXPECT_EQ(records[0].value->observations, 0);
  EXPECT_EQ(records[1].value->score, 0);
  EXPECT_EQ(records[1].value->upper, kInf);
  // The third: mean 3, sample standard deviation sqrt(2); |4 - 3| / sqrt(2).
  EXPECT_NEAR(records[2].value->score, 1 / std::sqrt(2.0), 1e-12);
  EXPECT_FALSE(records[2].value->anomaly);

  // 12 against {2, 4, 4, 4, 5, 5, 7, 9}: mean 5, sample variance 32/7.
  const testing::TestRecord<std::string, AnomalyResult>& last = records.back();
  EXPECT_EQ(last.key, "s-1");
  EXPECT_EQ(last.timestamp, 250);
  const AnomalyResult& r = *last.value;
  EXPECT_EQ(r.detector, "zscore");
  EXPECT_EQ(r.value, 12);
  EXPECT_NEAR(r.score, 3.273950, 1e-6);
  EXPECT_EQ(r.threshold, 3);
  EXPECT_NEAR(r.lower, 5 - 3 * std::sqrt(32.0 / 7.0), 1e-12);
  EXPECT_NEAR(r.upper, 5 + 3 * std::sqrt(32.0 / 7.0), 1e-12);
  EXPECT_TRUE(r.anomaly);
  EXPECT_EQ(r.observations, 8);
}

// After 10, 12, 11 (mean 11, standard deviation 1) the value 50 scores 39: flagged when the
// warm-up is 3 values, not when it is 4.
TEST(DetectAnomalies, FlagsNothingUntilTheModelSawTheWarmUpCount) {
  for (const std::int64_t warm_up : {3, 4}) {
    const Topology topology = detect(detectors::zscore({.threshold = 3.0, .warm_up = warm_up}));
    TopologyTestDriver driver(topology);
    Pipe pipe(driver);
    pipe.send("s", 10);
    pipe.send("s", 12);
    EXPECT_FALSE(pipe.send("s", 11).anomaly);
    const AnomalyResult r = pipe.send("s", 50);
    EXPECT_EQ(r.score, 39);
    EXPECT_EQ(r.observations, 3);
    EXPECT_EQ(r.anomaly, warm_up == 3) << "warm_up " << warm_up;
  }
}

// A fixed range needs no model, but its warm-up still holds flags back.
TEST(DetectAnomalies, TheWarmUpHoldsBackEvenAThreshold) {
  const Topology topology = detect(detectors::threshold({.max = 100.0, .warm_up = 2}));
  TopologyTestDriver driver(topology);
  Pipe pipe(driver);
  std::vector<bool> flags;
  std::vector<double> scores;
  for (int i = 0; i < 3; ++i) {
    const AnomalyResult r = pipe.send("s", 500);
    flags.push_back(r.anomaly);
    scores.push_back(r.score);
  }
  EXPECT_THAT(flags, ElementsAre(false, false, true));
  EXPECT_THAT(scores, ElementsAre(400, 400, 400));
  EXPECT_FALSE(pipe.send("s", 100).anomaly);  // the bound itself is normal
}

// Each key has its own model: the values of one never move another's mean or count.
TEST(DetectAnomalies, KeysHaveTheirOwnModels) {
  const Topology topology = detect(detectors::zscore({.threshold = 3.0, .warm_up = 3}));
  TopologyTestDriver driver(topology);
  Pipe pipe(driver);
  pipe.send("a", 10);
  pipe.send("b", 1000);
  pipe.send("a", 12);
  pipe.send("b", 1010);
  pipe.send("a", 11);
  pipe.send("b", 990);

  const AnomalyResult a = pipe.send("a", 50);  // a: mean 11, stddev 1
  EXPECT_EQ(a.observations, 3);
  EXPECT_EQ(a.score, 39);
  EXPECT_TRUE(a.anomaly);
  const AnomalyResult b = pipe.send("b", 1000);  // b: mean 1000, stddev 10
  EXPECT_EQ(b.observations, 3);
  EXPECT_EQ(b.score, 0);
  EXPECT_EQ(b.lower, 970);
  EXPECT_EQ(b.upper, 1030);
  EXPECT_FALSE(b.anomaly);
  const AnomalyResult c = pipe.send("c", 10);  // a new key starts from nothing
  EXPECT_EQ(c.observations, 0);

  auto* store = driver.get_key_value_store<std::string, AnomalyModel>("temps-store");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->get("a").value_or(AnomalyModel{}).observations, 4);
  EXPECT_EQ(store->get("b").value_or(AnomalyModel{}).observations, 4);
  EXPECT_EQ(store->get("c").value_or(AnomalyModel{}).observations, 1);
}

// The model is in the store, as the detector's bytes, and goes to the store's changelog.
TEST(DetectAnomalies, TheModelLivesInTheStoreAndItsChangelog) {
  const Topology topology = detect(detectors::zscore());
  TopologyTestDriver driver(topology);
  Pipe pipe(driver);
  for (double v : {10, 12, 11}) pipe.send("s", v);

  auto* store = driver.get_key_value_store<std::string, AnomalyModel>("temps-store");
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->persistent());  // RocksDB by default
  const std::optional<AnomalyModel> model = store->get("s");
  ASSERT_TRUE(model);
  EXPECT_EQ(model->detector, "zscore");
  EXPECT_EQ(model->observations, 3);
  ZScoreDetector loaded;
  loaded.load_model(model->model);
  EXPECT_EQ(loaded.count(), 3);
  EXPECT_EQ(loaded.mean(), 11);
  EXPECT_EQ(loaded.variance(), 1);

  const std::string changelog = driver.application_id() + "-temps-store-changelog";
  EXPECT_THAT(driver.produced_topic_names(), Contains(changelog));
  auto logged = driver.create_output_topic<std::string, AnomalyModel>(changelog);
  const std::map<std::string, AnomalyModel> latest = logged.read_key_values_to_map();
  ASSERT_EQ(latest.count("s"), 1u);
  EXPECT_EQ(latest.at("s"), *model);
}

// A driver closed and another opened over the same state directory: the second continues the
// models the first left in RocksDB. An in-memory store, which nothing restores in the driver,
// starts over, which shows that the first case reads the store.
TEST(DetectAnomalies, TheModelSurvivesARestartOverTheSameStateDirectory) {
  const StateDir dir("restart");
  const Topology topology = detect(detectors::zscore({.threshold = 3.0, .warm_up = 3}));
  {
    TopologyTestDriver first(topology, dir.config());
    Pipe pipe(first);
    for (double v : {10, 12, 11}) pipe.send("s", v);
  }
  {
    TopologyTestDriver second(topology, dir.config());
    Pipe pipe(second);
    const AnomalyResult r = pipe.send("s", 50);
    EXPECT_EQ(r.observations, 3);
    EXPECT_EQ(r.score, 39);
    EXPECT_TRUE(r.anomaly);
  }

  const StateDir memory_dir("restart-in-memory");
  const Topology in_memory =
      detect(detectors::zscore({.threshold = 3.0, .warm_up = 3}), "temps", {},
             Materialized<std::string, AnomalyModel>::as(DslStoreType::in_memory));
  {
    TopologyTestDriver first(in_memory, memory_dir.config());
    Pipe pipe(first);
    for (double v : {10, 12, 11}) pipe.send("s", v);
  }
  TopologyTestDriver second(in_memory, memory_dir.config());
  Pipe pipe(second);
  const AnomalyResult r = pipe.send("s", 50);
  EXPECT_EQ(r.observations, 0);
  EXPECT_FALSE(r.anomaly);
}

// The same store read by an operator now running another detector fails, naming both.
TEST(DetectAnomalies, AModelOfAnotherDetectorFailsClearly) {
  const StateDir dir("other-detector");
  const Topology zscore = detect(detectors::zscore());
  {
    TopologyTestDriver first(zscore, dir.config());
    Pipe(first).send("s", 10);
  }
  const Topology ewma = detect(detectors::ewma());
  TopologyTestDriver second(ewma, dir.config());
  auto in = second.create_input_topic<std::string, double>("readings");
  EXPECT_THAT(message_of<ProcessingFailedException>([&] { in.pipe_input("s", 11); }),
              HasSubstr("store 'temps-store' holds a model of anomaly detector 'zscore' for this "
                        "key, but this operator runs 'ewma'"));
}

TEST(DetectAnomalies, ACorruptModelFailsClearly) {
  const Topology topology = detect(detectors::zscore());
  TopologyTestDriver driver(topology);
  Pipe pipe(driver);
  pipe.send("s", 10);
  auto* store = driver.get_key_value_store<std::string, AnomalyModel>("temps-store");
  ASSERT_NE(store, nullptr);
  const Bytes key{'s'};

  // Not a model of any version this build reads.
  const Bytes garbage{7, 1, 2, 3};
  store->bytes_store().put(key, ByteView(garbage));
  EXPECT_THAT(message_of<ProcessingFailedException>([&] { pipe.in.pipe_input("s", 11); }),
              HasSubstr("anomaly model on topic 'topology-test-driver-temps-store-changelog': "
                        "format version 7 is not one this build reads (1)"));

  // A good envelope around a detector model that is cut short.
  AnomalyModel cut{"zscore", 1, Bytes{1, 0, 0}};
  store->put("s", cut);
  EXPECT_THAT(message_of<ProcessingFailedException>([&] { pipe.in.pipe_input("s", 11); }),
              HasSubstr("store 'temps-store': zscore model: truncated"));
}

// With log_and_continue, a corrupt model skips its record (counted) and leaves other keys alone.
TEST(DetectAnomalies, ACorruptModelSkipsItsRecordUnderLogAndContinue) {
  StreamsConfig config;
  config.set("processing.exception.handler", "log_and_continue");
  const Topology topology = detect(detectors::zscore(), "temps", config);
  TopologyTestDriver driver(topology, config);
  Pipe pipe(driver);
  pipe.send("s", 10);
  auto* store = driver.get_key_value_store<std::string, AnomalyModel>("temps-store");
  ASSERT_NE(store, nullptr);
  const Bytes garbage{9};
  store->bytes_store().put(Bytes{'s'}, ByteView(garbage));
  pipe.in.pipe_input("s", 11);
  EXPECT_TRUE(pipe.out.is_empty());
  EXPECT_EQ(driver.metrics().processing_errors, 1u);
  EXPECT_EQ(pipe.send("t", 1).observations, 0);
}

// ---- a user's detector, registered by name ----------------------------------------------------

// Flags a jump of more than `max_jump` from the previous value of the key.
class JumpDetector final : public AnomalyDetector {
 public:
  explicit JumpDetector(double max_jump) : max_jump_(max_jump) {}
  AnomalyScore score(double value) const override {
    AnomalyScore s;
    s.threshold = max_jump_;
    if (previous_) s.score = std::fabs(value - *previous_);
    return s;
  }
  void learn(double value) override { previous_ = value; }
  void reset() override { previous_.reset(); }
  std::int64_t warm_up() const override { return 1; }
  // [version 1][the previous value, 8 bytes, when there is one]
  void save_model(Bytes& out) const override {
    out.assign(1, 1);
    if (!previous_) return;
    Bytes number;
    DoubleSerde().serialize("", *previous_, number);
    out.insert(out.end(), number.begin(), number.end());
  }
  void load_model(ByteView bytes) override {
    if (bytes.empty() || bytes[0] != 1) throw SerializationException("jump model: unknown version");
    previous_.reset();
    if (bytes.size() == 9) previous_ = DoubleSerde().deserialize("", bytes.subspan(1));
  }

 private:
  double max_jump_;
  std::optional<double> previous_;
};

TEST(DetectAnomalies, RunsAUsersDetectorRegisteredByName) {
  DetectorRegistry registry = DetectorRegistry::with_builtins();
  registry.add("jump", [](const DetectorParams& params) {
    DetectorParamsReader reader("jump", params);
    const double max_jump = reader.number("max_jump", 10);
    reader.finish();
    return std::make_unique<JumpDetector>(max_jump);
  });
  const Topology topology = detect(registry.detector("jump", {{"max_jump", 5}}), "jumps");
  TopologyTestDriver driver(topology);
  Pipe pipe(driver);
  std::vector<bool> flags;
  for (double v : {10, 12, 20, 19, 30}) flags.push_back(pipe.send("s", v).anomaly);
  EXPECT_THAT(flags, ElementsAre(false, false, true, false, true));

  auto* store = driver.get_key_value_store<std::string, AnomalyModel>("jumps-store");
  ASSERT_NE(store, nullptr);
  const std::optional<AnomalyModel> model = store->get("s");
  ASSERT_TRUE(model);
  EXPECT_EQ(model->detector, "jump");
  EXPECT_EQ(model->observations, 5);
  EXPECT_EQ(model->model, (Bytes{1, 0x40, 0x3E, 0, 0, 0, 0, 0, 0}));  // 30.0
}

// ---- names and stores
// ----------------------------------------------------------------------------

TEST(DetectAnomalies, GeneratedNamesAndTheStoreKinds) {
  StreamsBuilder builder;
  builder.stream<std::string, double>("readings")
      .detect_anomalies(kIdentity, detectors::mad())
      .to("results");
  const Topology generated = builder.build();
  EXPECT_THAT(generated.describe().to_string(), HasSubstr("KSTREAM-ANOMALIES-0000000001"));
  {
    TopologyTestDriver driver(generated);
    StateStore* store = driver.get_state_store("KSTREAM-ANOMALIES-0000000001-store");
    ASSERT_NE(store, nullptr);
    EXPECT_TRUE(store->persistent());
  }

  StreamsConfig in_memory;
  in_memory.set("default.dsl.store", "in_memory");
  const Topology in_memory_topology = detect(detectors::mad(), "temps", in_memory);
  {
    TopologyTestDriver driver(in_memory_topology);
    StateStore* store = driver.get_state_store("temps-store");
    ASSERT_NE(store, nullptr);
    EXPECT_FALSE(store->persistent());
  }
  // Materialized names the store; its kind overrides the builder's default.
  const Topology materialized =
      detect(detectors::mad(), "temps", in_memory,
             Materialized<std::string, AnomalyModel>::as("models").with_store_type(
                 DslStoreType::rocks_db));
  {
    TopologyTestDriver driver(materialized);
    EXPECT_EQ(driver.get_state_store("temps-store"), nullptr);
    StateStore* store = driver.get_state_store("models");
    ASSERT_NE(store, nullptr);
    EXPECT_TRUE(store->persistent());
  }
}

TEST(DetectAnomalies, AMaterializedAloneNamesTheStore) {
  StreamsBuilder builder;
  builder.stream<std::string, double>("readings")
      .detect_anomalies(kIdentity, detectors::ewma({.warm_up = 0}),
                        Materialized<std::string, AnomalyModel>::as("ewma-models"))
      .to("results");
  const Topology topology = builder.build();
  EXPECT_THAT(topology.describe().to_string(), HasSubstr("KSTREAM-ANOMALIES-0000000001"));
  TopologyTestDriver driver(topology);
  Pipe(driver).send("s", 4);
  auto* store = driver.get_key_value_store<std::string, AnomalyModel>("ewma-models");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->get("s").value_or(AnomalyModel{}).detector, "ewma");
}

TEST(DetectAnomalies, WithoutLoggingThereIsNoChangelog) {
  const Topology topology =
      detect(detectors::zscore(), "temps", {},
             Materialized<std::string, AnomalyModel>::as("models").with_logging_disabled());
  TopologyTestDriver driver(topology);
  Pipe(driver).send("s", 1);
  EXPECT_THAT(driver.produced_topic_names(),
              Not(Contains(driver.application_id() + "-models-changelog")));
  EXPECT_THAT(driver.produced_topic_names(), Contains("results"));
}

// Records of a key must meet in one task: a stream whose key changed is repartitioned.
TEST(DetectAnomalies, RepartitionsWhenTheKeyChanged) {
  StreamsBuilder builder;
  builder.stream<std::string, double>("readings")
      .select_key([](const std::string& key, double) { return key.substr(0, 1); })
      .detect_anomalies(kIdentity, detectors::zscore({.warm_up = 0}), Named::as("by-site"))
      .to("results");
  const Topology topology = builder.build();
  EXPECT_THAT(topology.describe().to_string(), HasSubstr("by-site-repartition"));
  TopologyTestDriver driver(topology);
  Pipe pipe(driver);
  pipe.in.pipe_input("a-1", 10);
  pipe.in.pipe_input("a-2", 12);
  pipe.in.pipe_input("a-3", 11);
  const std::vector<KeyValue<std::string, AnomalyResult>> results =
      pipe.out.read_key_values_to_list();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[2].key, "a");
  EXPECT_EQ(results[2].value.observations, 2);  // one model for the new key "a"
}

// A record without a key, without a value or with a non-finite number is dropped, counted, and
// leaves the model alone.
TEST(DetectAnomalies, DropsRecordsWithoutAKeyOrAUsableNumber) {
  StreamsBuilder builder;
  builder.stream<std::optional<std::string>, std::optional<double>>("readings")
      .detect_anomalies([](const std::optional<double>& v) { return v; }, detectors::zscore(),
                        Named::as("temps"))
      .to("results");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  auto in =
      driver.create_input_topic<std::optional<std::string>, std::optional<double>>("readings");
  auto out = driver.create_output_topic<std::optional<std::string>, AnomalyResult>("results");
  in.pipe_input(std::string("s"), 1.0);
  in.pipe_input(std::nullopt, 2.0);               // no key
  in.pipe_input(std::string("s"), std::nullopt);  // no value
  in.pipe_input(std::string("s"), std::nan(""));  // not a number
  in.pipe_input(std::string("s"), kInf);          // not finite
  in.pipe_input(std::string("s"), 3.0);
  const std::vector<AnomalyResult> results = out.read_values_to_list();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1].value, 3);
  EXPECT_EQ(results[1].observations, 1);
  EXPECT_EQ(driver.metrics().dropped_records, 4u);
}

// The extractor may take the key too, and return std::nullopt to skip a record.
TEST(DetectAnomalies, TheExtractorMayReadTheKeyAndSkipRecords) {
  StreamsBuilder builder;
  builder.stream<std::string, double>("readings")
      .detect_anomalies(
          [](const std::string& key, double v) -> std::optional<double> {
            if (key == "ignored") return std::nullopt;
            return v * 2;
          },
          detectors::threshold({.max = 10.0}))
      .to("results");
  const Topology topology = builder.build();
  TopologyTestDriver driver(topology);
  Pipe pipe(driver);
  pipe.in.pipe_input("ignored", 100);
  EXPECT_TRUE(pipe.out.is_empty());
  const AnomalyResult r = pipe.send("s", 6);
  EXPECT_EQ(r.value, 12);
  EXPECT_EQ(r.score, 2);
  EXPECT_TRUE(r.anomaly);
  EXPECT_EQ(driver.metrics().dropped_records, 1u);
}

// Results are JSON on the output topic, ready for other consumers.
TEST(DetectAnomalies, ResultsAreWrittenAsJson) {
  const Topology topology = detect(detectors::ewma({.warm_up = 0}));
  TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, double>("readings");
  auto out = driver.create_output_topic<std::string, std::string>("results");
  in.pipe_input("s", 10);
  in.pipe_input("s", 11);
  EXPECT_EQ(out.read_value(),
            R"({"anomaly":false,"detector":"ewma","lower":"-Infinity","observations":0,)"
            R"("score":0.0,"threshold":3.0,"upper":"Infinity","value":10.0})");
  // The second value against variance 0: infinitely far, and flagged.
  EXPECT_EQ(out.read_value(), R"({"anomaly":true,"detector":"ewma","lower":10.0,"observations":1,)"
                              R"("score":"Infinity","threshold":3.0,"upper":10.0,"value":11.0})");
}

TEST(DetectAnomalies, RejectsASupplierWithoutANameOrFunction) {
  StreamsBuilder builder;
  auto stream = builder.stream<std::string, double>("readings");
  DetectorSupplier nameless = detectors::zscore();
  nameless.name.clear();
  EXPECT_THAT(message_of<TopologyException>(
                  [&] { stream.detect_anomalies(kIdentity, nameless, Named::as("x")); }),
              HasSubstr("detect_anomalies 'x': the detector name must have 1 to 255 bytes"));
  DetectorSupplier empty{"mine", nullptr};
  EXPECT_THAT(message_of<TopologyException>(
                  [&] { stream.detect_anomalies(kIdentity, empty, Named::as("y")); }),
              HasSubstr("detector 'mine' has no supplier function"));
}

}  // namespace
}  // namespace rivulet
