#include "common/metrics.h"

#include <utility>

#include <prometheus/text_serializer.h>

namespace carbon::metrics {

std::vector<double> one_two_five(std::int64_t min, std::int64_t max, int scale_digits) {
  double scale = 1;
  for (int i = 0; i < scale_digits; ++i) scale *= 10;
  std::vector<double> out;
  for (std::int64_t decade = 1; decade <= max; decade *= 10) {
    for (std::int64_t step : {1, 2, 5}) {
      const std::int64_t bound = decade * step;
      if (bound >= min && bound <= max) out.push_back(static_cast<double>(bound) / scale);
    }
  }
  return out;
}

void set_total(Counter& counter, std::uint64_t total) {
  const double missing = static_cast<double>(total) - counter.Value();
  if (missing > 0) counter.Increment(missing);
}

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(*registry_).Add(labels);
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(*registry_).Add(labels);
}

Histogram& Registry::histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                               const Labels& labels) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_).Add(labels, std::move(bounds));
}

void Registry::add_collector(std::function<void()> collector) {
  std::lock_guard lock(collect_mutex_);
  collectors_.push_back(std::move(collector));
}

std::vector<prometheus::MetricFamily> Registry::Collect() const {
  std::lock_guard lock(collect_mutex_);
  for (const auto& collector : collectors_) collector();
  return registry_->Collect();
}

std::string Registry::render() const { return prometheus::TextSerializer().Serialize(Collect()); }

}  // namespace carbon::metrics
