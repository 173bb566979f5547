#pragma once
/// A small metrics registry rendered in the Prometheus text exposition format
/// (version 0.0.4). Counters, gauges and histograms with fixed buckets are
/// plain atomics: updating one never locks or allocates, so the engine and
/// journal writer threads may do it. Registering a metric (at start, or a new
/// label set on a rare path) takes the registry's mutex; so does rendering.
///
/// No floating point: values are integers; a histogram of durations keeps
/// microseconds and renders its bounds and sum in seconds as exact decimals
/// (`scale_digits` = 6).

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace carbon::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  /// Sets the total from a counter kept elsewhere (sampled before a scrape).
  void set(std::uint64_t total) { value_.store(total, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(std::int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void add(std::int64_t d) { value_.fetch_add(d, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

/// Fixed upper bounds (inclusive, ascending, integers in the metric's unit);
/// an observation above the last lands in +Inf.
class Histogram {
 public:
  static constexpr std::size_t kMaxBuckets = 24;
  explicit Histogram(std::vector<std::int64_t> bounds);

  void observe(std::int64_t value);

  const std::vector<std::int64_t>& bounds() const { return bounds_; }
  /// Per-bucket (not cumulative) count; index bounds().size() is +Inf.
  std::uint64_t bucket(std::size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  std::int64_t sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<std::int64_t> bounds_;
  std::array<std::atomic<std::uint64_t>, kMaxBuckets + 1> counts_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::int64_t> sum_{0};
};

/// Bounds 1, 2, 5, 10, 20, 50 ... up to `max` (inclusive if it is on the series).
std::vector<std::int64_t> one_two_five(std::int64_t min, std::int64_t max);

/// Escapes a label value: backslash, double quote and newline.
std::string escape_label_value(const std::string& value);
/// Escapes HELP text: backslash and newline.
std::string escape_help(const std::string& text);
/// `value / 10^scale_digits` as an exact decimal ("0.000250", "12", "-1.5").
std::string scaled_decimal(std::int64_t value, int scale_digits);

class Registry {
 public:
  /// Finds or creates the metric of that name and label set. The reference
  /// stays valid as long as the registry. A name keeps its first type and
  /// help (a clash throws std::logic_error).
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  /// `scale_digits`: how many decimal places the bounds and sum are shifted when rendered (6: µs as seconds).
  Histogram& histogram(const std::string& name, const std::string& help, std::vector<std::int64_t> bounds,
                       int scale_digits = 0, const Labels& labels = {});

  /// Called at the start of every render(), outside the registry's lock: sets sampled gauges.
  void add_collector(std::function<void()> collector);

  /// The text exposition of every metric, families sorted by name.
  std::string render() const;

 private:
  enum class Type { counter, gauge, histogram };
  struct Family {
    Type type;
    std::string help;
    int scale_digits = 0;
    std::map<Labels, std::unique_ptr<Counter>> counters;
    std::map<Labels, std::unique_ptr<Gauge>> gauges;
    std::map<Labels, std::unique_ptr<Histogram>> histograms;
  };
  Family& family(const std::string& name, Type type, const std::string& help);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
  std::vector<std::function<void()>> collectors_;
};

}  // namespace carbon::metrics
