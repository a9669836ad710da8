// DetectorRegistry: the built-ins by name with their parameters, a user's detector registered by
// name, registries that are independent values, and parameter errors that say what is wrong.
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/anomaly.h>

#include "rivulet_test_helpers.h"

namespace rivulet {
namespace {

using test::message_of;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A user's detector: flags a jump of more than `max_jump` from the previous value.
class JumpDetector final : public AnomalyDetector {
 public:
  JumpDetector(double max_jump, std::int64_t warm_up) : max_jump_(max_jump), warm_up_(warm_up) {}

  AnomalyScore score(double value) const override {
    AnomalyScore s;
    s.threshold = max_jump_;
    if (previous_) {
      s.score = std::fabs(value - *previous_);
      s.lower = *previous_ - max_jump_;
      s.upper = *previous_ + max_jump_;
    }
    return s;
  }
  void learn(double value) override { previous_ = value; }
  void reset() override { previous_.reset(); }
  std::int64_t warm_up() const override { return warm_up_; }
  void save_model(Bytes& out) const override {
    out.assign(1, 1);
    if (previous_) out.push_back(static_cast<std::uint8_t>(*previous_));
  }
  void load_model(ByteView bytes) override {
    if (bytes.empty() || bytes[0] != 1) throw SerializationException("jump model: bad version");
    previous_.reset();
    if (bytes.size() > 1) previous_ = bytes[1];
  }

 private:
  double max_jump_;
  std::int64_t warm_up_;
  std::optional<double> previous_;
};

std::unique_ptr<AnomalyDetector> jump_from(const DetectorParams& params) {
  DetectorParamsReader reader("jump", params);
  const double max_jump = reader.number("max_jump", 10);
  const std::int64_t warm_up = reader.integer("warm_up", 1);
  reader.finish();
  if (max_jump <= 0) throw ConfigException("anomaly detector 'jump': 'max_jump' must be > 0");
  return std::make_unique<JumpDetector>(max_jump, warm_up);
}

TEST(DetectorRegistry, HasTheBuiltInsByName) {
  const DetectorRegistry registry = DetectorRegistry::with_builtins();
  EXPECT_THAT(registry.names(), ElementsAre("ewma", "mad", "threshold", "zscore"));
  EXPECT_TRUE(registry.contains("zscore"));
  EXPECT_FALSE(registry.contains("jump"));
  EXPECT_TRUE(DetectorRegistry().names().empty());
}

// Parameters by name reach the built-in detectors: the same values, scored the same way, as
// detectors built from options.
TEST(DetectorRegistry, BuildsBuiltInsFromParameters) {
  const DetectorRegistry registry = DetectorRegistry::with_builtins();

  std::unique_ptr<AnomalyDetector> z = registry.create("zscore", {{"threshold", 2.5}});
  for (double v : {2, 4, 4, 4, 5, 5, 7, 9}) z->learn(v);
  EXPECT_EQ(z->score(12).threshold, 2.5);
  EXPECT_NEAR(z->score(12).score, 3.273950, 1e-6);
  EXPECT_EQ(z->warm_up(), 10);  // the default

  std::unique_ptr<AnomalyDetector> e =
      registry.create("ewma", {{"alpha", 0.5}, {"threshold", 2}, {"warm_up", 4}});
  for (double v : {10, 12, 8}) e->learn(v);
  EXPECT_NEAR(e->score(14).score, 4.5 / std::sqrt(2.75), 1e-12);
  EXPECT_EQ(e->warm_up(), 4);

  std::unique_ptr<AnomalyDetector> m = registry.create("mad", {{"window", 3}});
  for (double v : {100, 1, 2, 3}) m->learn(v);  // 100 fell out of the window
  EXPECT_NEAR(m->score(4).score, 0.6745 * 2, 1e-12);
  EXPECT_EQ(m->score(4).threshold, 3.5);

  std::unique_ptr<AnomalyDetector> t = registry.create("threshold", {{"min", -1}, {"max", 1}});
  EXPECT_EQ(t->score(3).score, 2);
  EXPECT_EQ(t->score(-4).score, 3);
  EXPECT_EQ(t->warm_up(), 0);
}

TEST(DetectorRegistry, AUsersDetectorIsRegisteredAndCreatedByName) {
  DetectorRegistry registry = DetectorRegistry::with_builtins();
  registry.add("jump", jump_from);
  EXPECT_THAT(registry.names(), ElementsAre("ewma", "jump", "mad", "threshold", "zscore"));

  const DetectorSupplier supplier = registry.detector("jump", {{"max_jump", 5}});
  EXPECT_EQ(supplier.name, "jump");
  std::unique_ptr<AnomalyDetector> a = supplier.get();
  std::unique_ptr<AnomalyDetector> b = supplier.get();
  ASSERT_NE(a, nullptr);
  EXPECT_NE(a.get(), b.get());  // one per call
  a->learn(10);
  EXPECT_EQ(a->score(17).score, 7);
  EXPECT_EQ(a->score(17).threshold, 5);
  EXPECT_EQ(b->score(17).score, 0);  // b's model is its own
}

// A registry is a value: what one copy registers, another does not see, and a supplier keeps the
// factory it was made with.
TEST(DetectorRegistry, CopiesAreIndependent) {
  const DetectorRegistry base = DetectorRegistry::with_builtins();
  DetectorRegistry mine = base;
  mine.add("jump", jump_from);
  EXPECT_TRUE(mine.contains("jump"));
  EXPECT_FALSE(base.contains("jump"));
  EXPECT_FALSE(DetectorRegistry::with_builtins().contains("jump"));

  DetectorRegistry other;
  other.add("jump", [](const DetectorParams&) { return std::make_unique<JumpDetector>(1, 0); });
  EXPECT_EQ(mine.create("jump")->score(0).threshold, 10);
  EXPECT_EQ(other.create("jump")->score(0).threshold, 1);

  DetectorSupplier kept = mine.detector("jump");
  mine = DetectorRegistry();
  EXPECT_EQ(kept.get()->score(0).threshold, 10);
}

TEST(DetectorRegistry, AnUnknownNameListsTheRegisteredOnes) {
  const DetectorRegistry registry = DetectorRegistry::with_builtins();
  EXPECT_THAT(message_of<ConfigException>([&] { registry.create("zcore"); }),
              HasSubstr("unknown anomaly detector 'zcore'; registered: ewma, mad, threshold, "
                        "zscore"));
  EXPECT_THAT(message_of<ConfigException>([&] { registry.detector("jump"); }),
              HasSubstr("unknown anomaly detector 'jump'"));
  EXPECT_THAT(message_of<ConfigException>([] { DetectorRegistry().create("zscore"); }),
              HasSubstr("registered: none"));
}

// Bad parameters fail when the supplier is made (so when the topology is built), naming the
// detector and the parameter.
TEST(DetectorRegistry, BadParametersFailWithClearErrors) {
  const DetectorRegistry registry = DetectorRegistry::with_builtins();
  EXPECT_THAT(message_of<ConfigException>([&] {
                registry.detector("mad", {{"window", -5}});
              }),
              HasSubstr("anomaly detector 'mad': 'window' must be a whole number from 1 to 65536, "
                        "got -5"));
  EXPECT_THAT(message_of<ConfigException>([&] {
                registry.detector("mad", {{"window", 2.5}});
              }),
              HasSubstr("anomaly detector 'mad': parameter 'window' must be a whole number, got "
                        "2.5"));
  EXPECT_THAT(
      message_of<ConfigException>([&] {
        registry.detector("zscore", {{"thresold", 3}});
      }),
      HasSubstr("anomaly detector 'zscore': unknown parameter 'thresold'; it reads: threshold, "
                "warm_up"));
  EXPECT_THAT(message_of<ConfigException>([&] {
                registry.detector("ewma", {{"alpha", 2}});
              }),
              HasSubstr("'alpha' must be in (0, 1], got 2"));
  EXPECT_THAT(message_of<ConfigException>([&] {
                registry.detector("zscore", {{"warm_up", -1}});
              }),
              HasSubstr("'warm_up' must be a whole number >= 0, got -1"));
  EXPECT_THAT(message_of<ConfigException>([&] {
                registry.detector("zscore", {{"threshold", std::nan("")}});
              }),
              HasSubstr("parameter 'threshold' must be finite"));
  EXPECT_THAT(message_of<ConfigException>([&] { registry.detector("threshold"); }),
              HasSubstr("give 'min', 'max' or both"));
  EXPECT_THAT(message_of<ConfigException>([&] {
                registry.detector("threshold", {{"max", 1}, {"a", 1}, {"b", 2}});
              }),
              HasSubstr("unknown parameters 'a', 'b'; it reads: max, min, warm_up"));
}

TEST(DetectorRegistry, RejectsBadRegistrations) {
  DetectorRegistry registry = DetectorRegistry::with_builtins();
  EXPECT_THAT(message_of<ConfigException>([&] { registry.add("zscore", jump_from); }),
              HasSubstr("anomaly detector 'zscore' is already registered"));
  EXPECT_THAT(message_of<ConfigException>([&] { registry.add("", jump_from); }),
              HasSubstr("a name has 1 to 255"));
  EXPECT_THAT(message_of<ConfigException>([&] { registry.add(std::string(256, 'x'), jump_from); }),
              HasSubstr("has 256 bytes"));
  EXPECT_THAT(message_of<ConfigException>([&] { registry.add("none", nullptr); }),
              HasSubstr("'none' was given no factory"));
  registry.add("null", [](const DetectorParams&) { return std::unique_ptr<AnomalyDetector>(); });
  EXPECT_THAT(message_of<ConfigException>([&] { registry.detector("null"); }),
              HasSubstr("the factory of anomaly detector 'null' returned null"));
}

TEST(Detectors, BuiltInSuppliersAreNamedAndValidateAtOnce) {
  EXPECT_EQ(detectors::zscore().name, "zscore");
  EXPECT_EQ(detectors::ewma().name, "ewma");
  EXPECT_EQ(detectors::mad().name, "mad");
  EXPECT_EQ(detectors::threshold({.max = 1.0}).name, "threshold");
  EXPECT_THROW(detectors::mad({.window = -1}), ConfigException);
  EXPECT_THROW(detectors::threshold({}), ConfigException);
  std::unique_ptr<AnomalyDetector> d = detectors::zscore({.threshold = 4, .warm_up = 2}).get();
  EXPECT_EQ(d->warm_up(), 2);
  EXPECT_EQ(d->score(0).threshold, 4);
}

}  // namespace
}  // namespace rivulet
