// carbond's metrics registry on prometheus-cpp: families found or added by name and labels, collectors run before
// each collection, counters brought up to totals kept elsewhere, and the text exposition the endpoint serves.

#include "common/metrics.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

#include "support/exposition.h"

namespace carbon::metrics {
namespace {

using carbon::testing::exposition_sample;

TEST(Metrics, ATextExpositionWithHelpTypeAndEscapedLabels) {
  Registry registry;
  registry.counter("odd_total", "odd things", {{"v", "say \"hi\"\n"}}).Increment(3);
  const std::string text = registry.render();
  EXPECT_NE(text.find("# HELP odd_total odd things\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE odd_total counter\n"), std::string::npos) << text;
  EXPECT_EQ(exposition_sample(text, "odd_total{v=\"say \\\"hi\\\"\\n\"}"), 3) << text;
}

TEST(Metrics, HistogramBucketsInSecondsAreCumulativeWithInfSumAndCount) {
  Registry registry;
  Histogram& h = registry.histogram("lat_seconds", "latency", one_two_five(100, 10'000, 6), {{"path", "commit"}});
  for (double v : {50e-6, 100e-6, 101e-6, 5'000e-6, 20'000e-6, 30'000e-6}) h.Observe(v);
  const std::string text = registry.render();
  EXPECT_NE(text.find("# TYPE lat_seconds histogram\n"), std::string::npos) << text;
  EXPECT_EQ(exposition_sample(text, "lat_seconds_bucket{path=\"commit\",le=\"0.0001\"}"), 2) << text;
  EXPECT_EQ(exposition_sample(text, "lat_seconds_bucket{path=\"commit\",le=\"0.001\"}"), 3) << text;
  EXPECT_EQ(exposition_sample(text, "lat_seconds_bucket{path=\"commit\",le=\"0.01\"}"), 4) << text;
  EXPECT_EQ(exposition_sample(text, "lat_seconds_bucket{path=\"commit\",le=\"+Inf\"}"), 6) << text;
  EXPECT_EQ(exposition_sample(text, "lat_seconds_count{path=\"commit\"}"), 6) << text;
  EXPECT_NEAR(exposition_sample(text, "lat_seconds_sum{path=\"commit\"}"), 0.055251, 1e-9) << text;
}

TEST(Metrics, TheSameNameAndLabelsAreOneSeriesAndCollectorsRunFirst) {
  Registry registry;
  Gauge& depth = registry.gauge("z_depth", "ring depth");
  int collections = 0;
  registry.add_collector([&] {
    depth.Set(7);
    ++collections;
  });
  registry.counter("a_total", "things", {{"kind", "b"}}).Increment();
  registry.counter("a_total", "things", {{"kind", "a"}}).Increment(2);
  registry.counter("a_total", "things", {{"kind", "b"}}).Increment();
  Counter& a = registry.counter("a_total", "things", {{"kind", "a"}});
  EXPECT_EQ(&a, &registry.counter("a_total", "things", {{"kind", "a"}}));
  const std::string text = registry.render();
  EXPECT_EQ(exposition_sample(text, "a_total{kind=\"a\"}"), 2) << text;
  EXPECT_EQ(exposition_sample(text, "a_total{kind=\"b\"}"), 2) << text;
  EXPECT_EQ(exposition_sample(text, "z_depth"), 7) << text;
  EXPECT_EQ(collections, 1);
  EXPECT_EQ(registry.Collect().size(), 2u) << "two families: the exposer's view of the same registry";
  EXPECT_EQ(collections, 2);
}

TEST(Metrics, ATotalKeptElsewhereIsBroughtUpToNeverDown) {
  Registry registry;
  Counter& c = registry.counter("kept_total", "kept");
  set_total(c, 5);
  set_total(c, 12);
  EXPECT_EQ(c.Value(), 12);
  set_total(c, 3);  // a counter never goes down
  EXPECT_EQ(c.Value(), 12);
}

TEST(Metrics, ATypeClashOrABadNameIsRefused) {
  Registry registry;
  registry.counter("x", "x");
  EXPECT_THROW(registry.gauge("x", "x"), std::invalid_argument);
  EXPECT_THROW(registry.counter("bad name", "x"), std::invalid_argument);
}

TEST(Metrics, OneTwoFive) {
  EXPECT_EQ(one_two_five(1, 100), (std::vector<double>{1, 2, 5, 10, 20, 50, 100}));
  EXPECT_EQ(one_two_five(50, 600), (std::vector<double>{50, 100, 200, 500}));
  EXPECT_EQ(one_two_five(50, 500, 6), (std::vector<double>{50e-6, 100e-6, 200e-6, 500e-6}));
}

TEST(Metrics, ConcurrentUpdatesAreAllCounted) {
  Registry registry;
  Counter& c = registry.counter("c_total", "c");
  Histogram& h = registry.histogram("h", "h", {10});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) {
        c.Increment();
        h.Observe(i % 20);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(c.Value(), 40'000);
  const std::string text = registry.render();
  EXPECT_EQ(exposition_sample(text, "h_count"), 40'000) << text;
  EXPECT_EQ(exposition_sample(text, "h_bucket{le=\"10\"}"), 22'000) << text;  // 0..10 of every 20
}

}  // namespace
}  // namespace carbon::metrics
