// The metrics registry and its Prometheus text exposition (format 0.0.4).

#include "common/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace carbon::metrics {
namespace {

TEST(Metrics, ScaledDecimalIsExact) {
  EXPECT_EQ(scaled_decimal(250, 6), "0.00025");
  EXPECT_EQ(scaled_decimal(1'000'000, 6), "1");
  EXPECT_EQ(scaled_decimal(1'500'000, 6), "1.5");
  EXPECT_EQ(scaled_decimal(0, 6), "0");
  EXPECT_EQ(scaled_decimal(-15, 1), "-1.5");
  EXPECT_EQ(scaled_decimal(42, 0), "42");
  EXPECT_EQ(scaled_decimal(INT64_MIN, 0), "-9223372036854775808");
}

TEST(Metrics, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(escape_help("x\\y\nz \"q\""), "x\\\\y\\nz \"q\"");
  Registry registry;
  registry.counter("odd_total", "help with \\ and\nnewline", {{"v", "say \"hi\"\n"}}).inc(3);
  EXPECT_EQ(registry.render(),
            "# HELP odd_total help with \\\\ and\\nnewline\n"
            "# TYPE odd_total counter\n"
            "odd_total{v=\"say \\\"hi\\\"\\n\"} 3\n");
}

TEST(Metrics, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry registry;
  Histogram& h = registry.histogram("lat_seconds", "latency", {100, 1'000, 10'000}, 6, {{"path", "commit"}});
  for (std::int64_t v : {50, 100, 101, 5'000, 20'000, 30'000}) h.observe(v);
  EXPECT_EQ(registry.render(),
            "# HELP lat_seconds latency\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{path=\"commit\",le=\"0.0001\"} 2\n"
            "lat_seconds_bucket{path=\"commit\",le=\"0.001\"} 3\n"
            "lat_seconds_bucket{path=\"commit\",le=\"0.01\"} 4\n"
            "lat_seconds_bucket{path=\"commit\",le=\"+Inf\"} 6\n"
            "lat_seconds_sum{path=\"commit\"} 0.055251\n"
            "lat_seconds_count{path=\"commit\"} 6\n");
}

TEST(Metrics, FamiliesSortedLabelSetsSeparateAndCollectorsRunFirst) {
  Registry registry;
  Gauge& depth = registry.gauge("z_depth", "ring depth");
  registry.add_collector([&] { depth.set(7); });
  registry.counter("a_total", "things", {{"kind", "b"}}).inc();
  registry.counter("a_total", "things", {{"kind", "a"}}).inc(2);
  registry.counter("a_total", "things", {{"kind", "b"}}).inc();
  EXPECT_EQ(registry.render(),
            "# HELP a_total things\n# TYPE a_total counter\n"
            "a_total{kind=\"a\"} 2\n"
            "a_total{kind=\"b\"} 2\n"
            "# HELP z_depth ring depth\n# TYPE z_depth gauge\n"
            "z_depth 7\n");
}

TEST(Metrics, ATypeClashAndBadBoundsAreRefused) {
  Registry registry;
  registry.counter("x", "x");
  EXPECT_THROW(registry.gauge("x", "x"), std::logic_error);
  EXPECT_THROW(Histogram({5, 5}), std::logic_error);
  EXPECT_THROW(Histogram({5, 1}), std::logic_error);
}

TEST(Metrics, OneTwoFive) {
  EXPECT_EQ(one_two_five(1, 100), (std::vector<std::int64_t>{1, 2, 5, 10, 20, 50, 100}));
  EXPECT_EQ(one_two_five(50, 600), (std::vector<std::int64_t>{50, 100, 200, 500}));
}

TEST(Metrics, ConcurrentIncrementsAreAllCounted) {
  Registry registry;
  Counter& c = registry.counter("c_total", "c");
  Histogram& h = registry.histogram("h", "h", {10});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) {
        c.inc();
        h.observe(i % 20);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(c.value(), 40'000u);
  EXPECT_EQ(h.count(), 40'000u);
  EXPECT_EQ(h.bucket(0) + h.bucket(1), 40'000u);
  EXPECT_EQ(h.bucket(0), 22'000u);  // 0..10 of every 20
}

}  // namespace
}  // namespace carbon::metrics
