#include "common/metrics.h"

#include <algorithm>
#include <stdexcept>

namespace carbon::metrics {

Histogram::Histogram(std::vector<std::int64_t> bounds) : bounds_(std::move(bounds)) {
  if (bounds_.size() > kMaxBuckets) throw std::logic_error("histogram: too many buckets");
  if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
      std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end()) {
    throw std::logic_error("histogram: bounds must be strictly ascending");
  }
}

void Histogram::observe(std::int64_t value) {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  counts_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::int64_t> one_two_five(std::int64_t min, std::int64_t max) {
  std::vector<std::int64_t> out;
  for (std::int64_t decade = 1; decade <= max; decade *= 10) {
    for (std::int64_t step : {1, 2, 5}) {
      const std::int64_t bound = decade * step;
      if (bound >= min && bound <= max) out.push_back(bound);
    }
  }
  return out;
}

std::string escape_label_value(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string scaled_decimal(std::int64_t value, int scale_digits) {
  const bool negative = value < 0;
  // Magnitude as unsigned so that INT64_MIN is fine.
  std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
  std::string digits = std::to_string(magnitude);
  std::string out;
  if (scale_digits <= 0) {
    out = digits;
  } else {
    const auto scale = static_cast<std::size_t>(scale_digits);
    if (digits.size() <= scale) digits.insert(0, scale - digits.size() + 1, '0');
    std::string integral = digits.substr(0, digits.size() - scale);
    std::string fraction = digits.substr(digits.size() - scale);
    while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    out = fraction.empty() ? integral : integral + "." + fraction;
  }
  return negative && magnitude != 0 ? "-" + out : out;
}

Registry::Family& Registry::family(const std::string& name, Type type, const std::string& help) {
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.type = type;
    it->second.help = help;
  } else if (it->second.type != type) {
    throw std::logic_error("metric " + name + " registered with two types");
  }
  return it->second;
}

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = family(name, Type::counter, help).counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = family(name, Type::gauge, help).gauges[labels];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help, std::vector<std::int64_t> bounds,
                               int scale_digits, const Labels& labels) {
  std::lock_guard lock(mutex_);
  Family& f = family(name, Type::histogram, help);
  f.scale_digits = scale_digits;
  auto& slot = f.histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>(std::move(bounds));
  return *slot;
}

void Registry::add_collector(std::function<void()> collector) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collector));
}

namespace {

std::string label_text(const Labels& labels, const char* extra_name = nullptr, const std::string& extra_value = {}) {
  if (labels.empty() && extra_name == nullptr) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out += ',';
    first = false;
    out += name + "=\"" + escape_label_value(value) + "\"";
  }
  if (extra_name != nullptr) {
    if (!first) out += ',';
    out += std::string(extra_name) + "=\"" + escape_label_value(extra_value) + "\"";
  }
  return out + "}";
}

}  // namespace

std::string Registry::render() const {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard lock(mutex_);
    collectors = collectors_;
  }
  for (const auto& collect : collectors) collect();
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + escape_help(f.help) + "\n";
    switch (f.type) {
      case Type::counter:
        out += "# TYPE " + name + " counter\n";
        for (const auto& [labels, c] : f.counters) out += name + label_text(labels) + " " + std::to_string(c->value()) + "\n";
        break;
      case Type::gauge:
        out += "# TYPE " + name + " gauge\n";
        for (const auto& [labels, g] : f.gauges) out += name + label_text(labels) + " " + std::to_string(g->value()) + "\n";
        break;
      case Type::histogram:
        out += "# TYPE " + name + " histogram\n";
        for (const auto& [labels, h] : f.histograms) {
          // Read the buckets first; count is then their total, so the +Inf bucket equals _count exactly.
          std::uint64_t cumulative = 0;
          for (std::size_t i = 0; i < h->bounds().size(); ++i) {
            cumulative += h->bucket(i);
            out += name + "_bucket" + label_text(labels, "le", scaled_decimal(h->bounds()[i], f.scale_digits)) + " " +
                   std::to_string(cumulative) + "\n";
          }
          cumulative += h->bucket(h->bounds().size());
          out += name + "_bucket" + label_text(labels, "le", "+Inf") + " " + std::to_string(cumulative) + "\n";
          out += name + "_sum" + label_text(labels) + " " + scaled_decimal(h->sum(), f.scale_digits) + "\n";
          out += name + "_count" + label_text(labels) + " " + std::to_string(cumulative) + "\n";
        }
        break;
    }
  }
  return out;
}

}  // namespace carbon::metrics
