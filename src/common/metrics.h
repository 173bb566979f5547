#pragma once
/// carbond's metrics on prometheus-cpp (Debian's prometheus-cpp-dev): a
/// registry of counter, gauge and histogram families, with collectors that
/// sample gauges (ring depths, sessions, books) and counters kept elsewhere
/// just before each scrape. The endpoint is prometheus-cpp's Exposer (its
/// pull library), given this registry as its Collectable.
///
/// Updating a counter or gauge is a lock-free atomic in prometheus-cpp;
/// observing a histogram takes that histogram's own mutex (uncontended: one
/// updating thread each, plus a scrape). Registering a metric (at start, or
/// a new label set on a rare path) takes the registry's mutex. Durations are
/// observed in seconds and metric values are doubles: these are operational
/// figures, not money or quantities, which stay integers everywhere else.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

namespace carbon::metrics {

using Labels = std::map<std::string, std::string>;
using Counter = prometheus::Counter;
using Gauge = prometheus::Gauge;
using Histogram = prometheus::Histogram;

/// Bounds 1, 2, 5, 10, 20, 50 ... from `min` up to `max` (inclusive if it is
/// on the series), each divided by 10^`scale_digits` (6: microseconds as
/// seconds).
std::vector<double> one_two_five(std::int64_t min, std::int64_t max, int scale_digits = 0);

/// Brings a counter up to a total kept elsewhere (sampled before a scrape).
/// Call it from a collector only: collectors run one scrape at a time.
void set_total(Counter& counter, std::uint64_t total);

class Registry : public prometheus::Collectable {
 public:
  /// Finds or creates the metric of that name and label set; the reference
  /// stays valid as long as the registry. A name keeps its first type (a
  /// clash throws std::invalid_argument, as does a malformed name or label).
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  /// `bounds`: the buckets' upper bounds, ascending (see one_two_five); a
  /// later call for the same name and labels returns the first histogram.
  Histogram& histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                       const Labels& labels = {});

  /// Called at the start of every Collect(), one scrape at a time: sets sampled gauges and counters.
  void add_collector(std::function<void()> collector);

  /// Runs the collectors, then collects every family (what the exposer serves).
  std::vector<prometheus::MetricFamily> Collect() const override;

  /// The text exposition format (0.0.4) of Collect().
  std::string render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  mutable std::mutex collect_mutex_;  ///< one Collect() at a time (render() and the exposer's thread)
  std::vector<std::function<void()>> collectors_;
};

}  // namespace carbon::metrics
