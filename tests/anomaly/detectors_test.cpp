// The built-in detectors' maths against hand-computed values and independent computations
// (two-pass mean and variance, the closed form of the exponential weights, sorted medians), their
// option checks, and their model bytes: round trips and clear errors for bad blobs.
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rivulet/anomaly.h>

#include "rivulet_test_helpers.h"

namespace rivulet {
namespace {

using test::message_of;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr double kInf = std::numeric_limits<double>::infinity();

template <class D>
void learn_all(D& detector, const std::vector<double>& values) {
  for (double v : values) detector.learn(v);
}

// ---- z-score ----------------------------------------------------------------------------------

TEST(ZScoreDetector, MeanAndSampleVarianceOfAKnownSet) {
  ZScoreDetector detector({.threshold = 3.0, .warm_up = 0});
  learn_all(detector, {2, 4, 4, 4, 5, 5, 7, 9});
  EXPECT_EQ(detector.count(), 8);
  EXPECT_DOUBLE_EQ(detector.mean(), 5.0);
  // Squared deviations sum to 32; the sample variance divides by n - 1 = 7.
  EXPECT_DOUBLE_EQ(detector.variance(), 32.0 / 7.0);

  // 12 is 7 from the mean; the standard deviation is sqrt(32/7) = 2.138090: 7 / 2.138090.
  const AnomalyScore s = detector.score(12);
  EXPECT_NEAR(s.score, 3.273950, 1e-6);
  EXPECT_DOUBLE_EQ(s.threshold, 3.0);
  EXPECT_NEAR(s.lower, 5 - 3 * 2.138090, 1e-6);
  EXPECT_NEAR(s.upper, 5 + 3 * 2.138090, 1e-6);
  EXPECT_NEAR(detector.score(4).score, 1 / 2.138090, 1e-6);
  // Scoring does not learn.
  EXPECT_EQ(detector.count(), 8);
}

// Welford's running values equal a two-pass computation, also where the naive sum of squares
// would lose everything to cancellation (values near 1e9 with a spread of about 1).
TEST(ZScoreDetector, WelfordMatchesATwoPassComputation) {
  std::mt19937_64 random(42);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<double> values;
  for (int i = 0; i < 5000; ++i) values.push_back(1e9 + noise(random));

  ZScoreDetector detector({.warm_up = 0});
  learn_all(detector, values);

  double sum = 0;
  for (double v : values) sum += v - 1e9;
  const double mean = 1e9 + sum / static_cast<double>(values.size());
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  const double variance = squares / static_cast<double>(values.size() - 1);

  // Both means carry rounding errors of some ulps of 1e9 (1.2e-7 each).
  EXPECT_NEAR(detector.mean(), mean, 1e-5);
  EXPECT_NEAR(detector.variance(), variance, 1e-6 * variance);
  EXPECT_NEAR(detector.variance(), 1.0, 0.1);  // the noise's variance
}

TEST(ZScoreDetector, NoSpreadBelowTwoValues) {
  ZScoreDetector detector;
  AnomalyScore s = detector.score(7);
  EXPECT_EQ(s.score, 0);
  EXPECT_EQ(s.lower, -kInf);
  EXPECT_EQ(s.upper, kInf);
  detector.learn(3);
  s = detector.score(1000);
  EXPECT_EQ(s.score, 0);
  EXPECT_EQ(s.upper, kInf);
}

TEST(ZScoreDetector, ZeroSpreadScoresTheMeanZeroAndAnythingElseInfinite) {
  ZScoreDetector detector;
  learn_all(detector, {5, 5, 5});
  EXPECT_EQ(detector.score(5).score, 0);
  EXPECT_EQ(detector.score(5.5).score, kInf);
  EXPECT_EQ(detector.score(5).lower, 5);
  EXPECT_EQ(detector.score(5).upper, 5);
}

TEST(ZScoreDetector, ResetForgetsEverything) {
  ZScoreDetector detector;
  learn_all(detector, {1, 2, 3});
  detector.reset();
  EXPECT_EQ(detector.count(), 0);
  EXPECT_EQ(detector.mean(), 0);
  EXPECT_EQ(detector.variance(), 0);
}

// ---- EWMA ---------------------------------------------------------------------------------------

// alpha 0.5 over 10, 12, 8, by hand:
//   10: ewma 10, variance 0
//   12: d = 2,  ewma 11,  variance 0.5 * (0 + 0.5 * 4) = 1
//    8: d = -3, ewma 9.5, variance 0.5 * (1 + 0.5 * 9) = 2.75
TEST(EwmaDetector, FollowsTheRecurrenceByHand) {
  EwmaDetector detector({.alpha = 0.5, .threshold = 2.0, .warm_up = 0});
  detector.learn(10);
  EXPECT_EQ(detector.mean(), 10);
  EXPECT_EQ(detector.variance(), 0);
  EXPECT_EQ(detector.score(12).score, kInf);  // variance 0, another value
  EXPECT_EQ(detector.score(10).score, 0);

  detector.learn(12);
  EXPECT_EQ(detector.mean(), 11);
  EXPECT_EQ(detector.variance(), 1);
  AnomalyScore s = detector.score(8);  // scored before it is learned: |8 - 11| / 1
  EXPECT_EQ(s.score, 3);
  EXPECT_EQ(s.threshold, 2);
  EXPECT_EQ(s.lower, 9);
  EXPECT_EQ(s.upper, 13);

  detector.learn(8);
  EXPECT_EQ(detector.mean(), 9.5);
  EXPECT_EQ(detector.variance(), 2.75);
  s = detector.score(14);  // 4.5 / sqrt(2.75)
  EXPECT_NEAR(s.score, 2.713602, 1e-6);
  EXPECT_NEAR(s.lower, 9.5 - 2 * 1.658312, 1e-6);
  EXPECT_EQ(detector.count(), 3);
}

// The recurrence equals the closed form: weights (1 - alpha)^(n-1) for the first value and
// alpha (1 - alpha)^(n-i) for value i, summing to 1; the variance is the weighted mean of squared
// deviations from the weighted mean.
TEST(EwmaDetector, EqualsTheExponentiallyWeightedMeanAndVariance) {
  const double alpha = 0.3;
  std::mt19937_64 random(7);
  std::uniform_real_distribution<double> draw(-50, 50);
  std::vector<double> values;
  for (int i = 0; i < 60; ++i) values.push_back(draw(random));

  EwmaDetector detector({.alpha = alpha, .warm_up = 0});
  learn_all(detector, values);

  const std::size_t n = values.size();
  std::vector<double> weights(n);
  weights[0] = std::pow(1 - alpha, static_cast<double>(n - 1));
  for (std::size_t i = 1; i < n; ++i) {
    weights[i] = alpha * std::pow(1 - alpha, static_cast<double>(n - 1 - i));
  }
  double mean = 0;
  for (std::size_t i = 0; i < n; ++i) mean += weights[i] * values[i];
  double variance = 0;
  for (std::size_t i = 0; i < n; ++i)
    variance += weights[i] * (values[i] - mean) * (values[i] - mean);

  EXPECT_NEAR(detector.mean(), mean, 1e-9);
  EXPECT_NEAR(detector.variance(), variance, 1e-9 * variance);
}

TEST(EwmaDetector, NoValueYetScoresZeroWithOpenLimits) {
  EwmaDetector detector;
  const AnomalyScore s = detector.score(123);
  EXPECT_EQ(s.score, 0);
  EXPECT_EQ(s.lower, -kInf);
  EXPECT_EQ(s.upper, kInf);
}

// ---- median / MAD -------------------------------------------------------------------------------

// {1, 1, 2, 2, 4, 6, 9}: median 2; |v - 2| = {1, 1, 0, 0, 2, 4, 7}, whose median (the MAD) is 1.
TEST(MadDetector, MedianAndMadOfAnOddSet) {
  MadDetector detector({.window = 10, .threshold = 3.5, .warm_up = 0});
  learn_all(detector, {6, 1, 9, 2, 4, 1, 2});
  EXPECT_EQ(detector.median(), 2);
  EXPECT_EQ(detector.mad(), 1);
  const AnomalyScore s = detector.score(10);  // 0.6745 * 8 / 1
  EXPECT_NEAR(s.score, 5.396, 1e-12);
  EXPECT_EQ(s.threshold, 3.5);
  EXPECT_NEAR(s.lower, 2 - 3.5 / 0.6745, 1e-12);
  EXPECT_NEAR(s.upper, 2 + 3.5 / 0.6745, 1e-12);
  EXPECT_NEAR(detector.score(1).score, 0.6745, 1e-12);
}

// {1, 2, 3, 4}: median (2 + 3) / 2 = 2.5; deviations {1.5, 0.5, 0.5, 1.5}, MAD (0.5 + 1.5) / 2 = 1.
TEST(MadDetector, MedianAndMadOfAnEvenSet) {
  MadDetector detector({.window = 4, .warm_up = 0});
  learn_all(detector, {4, 1, 3, 2});
  EXPECT_EQ(detector.median(), 2.5);
  EXPECT_EQ(detector.mad(), 1);
  EXPECT_NEAR(detector.score(5).score, 0.6745 * 2.5, 1e-12);
}

TEST(MadDetector, KeepsOnlyTheLastWindowValues) {
  MadDetector detector({.window = 3, .warm_up = 0});
  learn_all(detector, {100, -100, 1, 2, 3});
  EXPECT_THAT(detector.values(), ElementsAre(1, 2, 3));
  EXPECT_EQ(detector.median(), 2);
  EXPECT_EQ(detector.mad(), 1);
}

TEST(MadDetector, ZeroMadScoresTheMedianZeroAndAnythingElseInfinite) {
  MadDetector detector({.window = 5, .warm_up = 0});
  learn_all(detector, {5, 5, 5, 7});  // median 5, deviations {0, 0, 0, 2}: MAD 0
  EXPECT_EQ(detector.mad(), 0);
  EXPECT_EQ(detector.score(5).score, 0);
  EXPECT_EQ(detector.score(6).score, kInf);
}

TEST(MadDetector, NoValueYetScoresZeroWithOpenLimits) {
  MadDetector detector;
  const AnomalyScore s = detector.score(1e6);
  EXPECT_EQ(s.score, 0);
  EXPECT_EQ(s.lower, -kInf);
  EXPECT_EQ(s.upper, kInf);
}

// ---- thresholds and ranges ----------------------------------------------------------------------

TEST(ThresholdDetector, ScoresTheDistanceOutsideTheRange) {
  ThresholdDetector detector({.min = 0.0, .max = 100.0});
  EXPECT_EQ(detector.score(50).score, 0);
  EXPECT_EQ(detector.score(0).score, 0);  // the bounds themselves are normal
  EXPECT_EQ(detector.score(100).score, 0);
  EXPECT_EQ(detector.score(-5).score, 5);
  EXPECT_EQ(detector.score(130).score, 30);
  const AnomalyScore s = detector.score(130);
  EXPECT_EQ(s.threshold, 0);
  EXPECT_EQ(s.lower, 0);
  EXPECT_EQ(s.upper, 100);
}

TEST(ThresholdDetector, ASingleBoundLeavesTheOtherSideOpen) {
  ThresholdDetector upper_only({.max = 10.0});
  EXPECT_EQ(upper_only.score(-1e9).score, 0);
  EXPECT_EQ(upper_only.score(11).score, 1);
  EXPECT_EQ(upper_only.score(0).lower, -kInf);
  ThresholdDetector lower_only({.min = -2.0});
  EXPECT_EQ(lower_only.score(1e9).score, 0);
  EXPECT_EQ(lower_only.score(-3).score, 1);
  EXPECT_EQ(lower_only.score(0).upper, kInf);
}

// ---- option checks ------------------------------------------------------------------------------

TEST(DetectorOptions, BadOptionsNameTheDetectorAndTheOption) {
  EXPECT_THAT(message_of<ConfigException>([] { MadDetector({.window = -3}); }),
              HasSubstr("anomaly detector 'mad': 'window' must be a whole number from 1 to 65536, "
                        "got -3"));
  EXPECT_THAT(message_of<ConfigException>([] { MadDetector({.window = 0}); }),
              HasSubstr("'window'"));
  EXPECT_THAT(message_of<ConfigException>([] { ZScoreDetector({.threshold = -1}); }),
              HasSubstr("anomaly detector 'zscore': 'threshold' must be a finite number > 0, "
                        "got -1"));
  EXPECT_THAT(message_of<ConfigException>([] { ZScoreDetector({.warm_up = -1}); }),
              HasSubstr("'warm_up' must be a whole number >= 0, got -1"));
  EXPECT_THAT(message_of<ConfigException>([] { EwmaDetector({.alpha = 0}); }),
              HasSubstr("anomaly detector 'ewma': 'alpha' must be in (0, 1], got 0"));
  EXPECT_THAT(message_of<ConfigException>([] { EwmaDetector({.alpha = 1.5}); }),
              HasSubstr("'alpha'"));
  EXPECT_NO_THROW(EwmaDetector({.alpha = 1}));
  EXPECT_THAT(message_of<ConfigException>([] { ThresholdDetector({}); }),
              HasSubstr("give 'min', 'max' or both"));
  EXPECT_THAT(message_of<ConfigException>([] { ThresholdDetector({.min = 5.0, .max = 1.0}); }),
              HasSubstr("'min' (5) must not be above 'max' (1)"));
  EXPECT_THAT(message_of<ConfigException>([] { ThresholdDetector({.max = kInf}); }),
              HasSubstr("'max' must be a finite number"));
}

// ---- model bytes --------------------------------------------------------------------------------

template <class D>
Bytes saved(const D& detector) {
  Bytes out{0xAA, 0xBB};  // save_model replaces what was there
  detector.save_model(out);
  return out;
}

TEST(DetectorModels, RoundTripThroughBytes) {
  ZScoreDetector z({.warm_up = 0});
  learn_all(z, {3, 1, 4, 1, 5});
  ZScoreDetector z2({.warm_up = 0});
  z2.load_model(saved(z));
  EXPECT_EQ(z2.count(), 5);
  EXPECT_EQ(z2.mean(), z.mean());
  EXPECT_EQ(z2.variance(), z.variance());
  EXPECT_EQ(saved(z).size(), 25u);
  EXPECT_EQ(saved(z)[0], 1);  // the version byte

  EwmaDetector e;
  learn_all(e, {10, 12, 8});
  EwmaDetector e2;
  e2.load_model(saved(e));
  EXPECT_EQ(e2.count(), 3);
  EXPECT_EQ(e2.mean(), e.mean());
  EXPECT_EQ(e2.variance(), e.variance());
  EXPECT_NE(e2.variance(), 0);

  MadDetector m({.window = 4});
  learn_all(m, {9, 8, 7, 6, 5});
  MadDetector m2({.window = 4});
  m2.load_model(saved(m));
  EXPECT_THAT(m2.values(), ElementsAre(8, 7, 6, 5));

  ThresholdDetector t({.max = 1.0});
  EXPECT_EQ(saved(t), Bytes{1});
  EXPECT_NO_THROW(t.load_model(saved(t)));
}

// A model saved with a longer window keeps its newest values in a shorter one.
TEST(DetectorModels, AMadModelOfALongerWindowKeepsItsNewestValues) {
  MadDetector wide({.window = 5});
  learn_all(wide, {1, 2, 3, 4, 5});
  MadDetector narrow({.window = 2});
  narrow.load_model(saved(wide));
  EXPECT_THAT(narrow.values(), ElementsAre(4, 5));
}

TEST(DetectorModels, BadBlobsFailWithAClearError) {
  ZScoreDetector z;
  Bytes good = saved(ZScoreDetector());
  Bytes other_version = good;
  other_version[0] = 7;
  EXPECT_THAT(message_of<SerializationException>([&] { z.load_model(other_version); }),
              HasSubstr("zscore model: format version 7 is not one this build reads (1)"));
  EXPECT_THAT(message_of<SerializationException>([&] { z.load_model(Bytes{}); }),
              HasSubstr("zscore model: the blob is empty"));
  Bytes truncated(good.begin(), good.begin() + 10);
  EXPECT_THAT(message_of<SerializationException>([&] { z.load_model(truncated); }),
              HasSubstr("zscore model: truncated"));
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_THAT(message_of<SerializationException>([&] { z.load_model(longer); }),
              HasSubstr("1 bytes left over"));

  EwmaDetector e;
  EXPECT_THAT(message_of<SerializationException>([&] { e.load_model(Bytes{2}); }),
              HasSubstr("ewma model: format version 2"));
  MadDetector m;
  // Claims three values but holds one.
  Bytes short_mad{1, 0, 0, 0, 3, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0};
  EXPECT_THAT(message_of<SerializationException>([&] { m.load_model(short_mad); }),
              HasSubstr("mad model: truncated"));
  ThresholdDetector t({.max = 1.0});
  EXPECT_THAT(message_of<SerializationException>([&] { t.load_model(Bytes{0}); }),
              HasSubstr("threshold model: format version 0"));
}

// A blob that decodes to impossible numbers is rejected too, not silently used.
TEST(DetectorModels, OutOfRangeNumbersAreRejected) {
  ZScoreDetector source;
  source.learn(1);
  Bytes blob = saved(source);
  blob[1] = 0x80;  // count becomes negative
  ZScoreDetector z;
  EXPECT_THAT(message_of<SerializationException>([&] { z.load_model(blob); }),
              HasSubstr("out of range"));
  // A failed load leaves the model as it was.
  EXPECT_EQ(z.count(), 0);
}

}  // namespace
}  // namespace rivulet
