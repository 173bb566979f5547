// The matching load runner: the exchange-core mix (bench/matching_workloads.h)
// on the LadderBook with its risk check, one thread, no I/O, run
//   1. unpaced, for the maximum sustainable throughput;
//   2. at fixed offered loads (default 1 M and 5 M operations/s) on a fixed
//      schedule: operation i is due at start + i / rate, and its latency is
//      its completion time minus that intended start, so time spent behind
//      schedule counts (no coordinated omission); pacing busy-waits on the
//      steady clock;
// beside a ceiling measured in the same run: the same loop, clock, pacing and
// histogram with the random draws of an operation but no book and no risk
// check. Also the Liquibook-shaped insert workload, heap allocations per
// operation (a replaced global operator new counts them) and bytes per
// resting order.
//
// Usage: matching_load [operations per phase, default 5000000] [rates in ops/s, default 1000000,5000000]

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

// GCC 12 pairs these replacements with the library's new and warns
// (-Wmismatched-new-delete); they are a matched malloc/free pair.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

#include "matching_workloads.h"

namespace carbon::bench {
namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Log-linear latency histogram in ns: exact below 64, then 64 buckets per
/// power of two (at most 1.6% above the true value).
class Histogram {
 public:
  void record(std::int64_t ns) {
    const auto v = static_cast<std::uint64_t>(ns < 0 ? 0 : ns);
    ++counts_[bucket(v)];
    ++total_;
    max_ = std::max(max_, v);
  }
  std::uint64_t total() const { return total_; }
  std::uint64_t max() const { return max_; }
  /// The smallest bucket bound at or above the `q` quantile.
  std::uint64_t quantile(double q) const {
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_) + 0.999999);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank && counts_[i] != 0) return std::min(upper(i), max_);
    }
    return max_;
  }

 private:
  static std::size_t bucket(std::uint64_t v) {
    if (v < 64) return v;
    const int e = std::bit_width(v) - 1;  // >= 6
    return 64 + static_cast<std::size_t>(e - 6) * 64 + ((v >> (e - 6)) & 63);
  }
  static std::uint64_t upper(std::size_t i) {
    if (i < 64) return i;
    const std::size_t e = (i - 64) / 64 + 6, mantissa = (i - 64) % 64;
    return ((64 + mantissa + 1) << (e - 6)) - 1;
  }
  std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(64 + 58 * 64, 0);
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
};

struct PhaseResult {
  double seconds = 0;
  double ops_per_second = 0;
  Histogram latency;
  std::uint64_t allocations = 0;  ///< heap allocations during the phase
  std::uint64_t late_ops = 0;  ///< started after their intended time
};

/// Runs `operations` calls of `op`; rate 0 = as fast as possible (latency =
/// service time), otherwise on the fixed schedule described above.
template <typename Op>
PhaseResult run_phase(Op&& op, std::uint64_t operations, std::uint64_t rate) {
  PhaseResult r;
  const std::uint64_t allocations_before = g_allocations.load(std::memory_order_relaxed);
  const std::int64_t start = now_ns();
  std::int64_t now = start;
  for (std::uint64_t i = 0; i < operations; ++i) {
    std::int64_t intended = now;
    if (rate != 0) {
      intended = start + static_cast<std::int64_t>(i * 1'000'000'000ull / rate);
      if (now < intended) {
        do now = now_ns(); while (now < intended);
      } else {
        ++r.late_ops;
      }
    }
    op();
    now = now_ns();
    r.latency.record(now - intended);
  }
  r.seconds = static_cast<double>(now - start) / 1e9;
  r.ops_per_second = static_cast<double>(operations) / r.seconds;
  r.allocations = g_allocations.load(std::memory_order_relaxed) - allocations_before;
  return r;
}

void print_phase(const char* what, std::uint64_t rate, const PhaseResult& r) {
  const std::string offered = rate == 0 ? std::string("unpaced") : std::to_string(rate / 1'000'000) + "M/s";
  std::printf("%-30s %-8s %8.2f M ops/s  p50 %6" PRIu64 " ns  p99 %6" PRIu64 " ns  p99.9 %7" PRIu64
              " ns  max %8" PRIu64 " ns  late %5.1f%%  heap allocations %" PRIu64 "\n",
              what, offered.c_str(), r.ops_per_second / 1e6, r.latency.quantile(0.50), r.latency.quantile(0.99),
              r.latency.quantile(0.999), r.latency.max(),
              100.0 * static_cast<double>(r.late_ops) / static_cast<double>(r.latency.total()), r.allocations);
}

/// Summary of the book's shape, sampled outside timed phases.
void print_book(const matching::LadderBook& book) {
  const std::size_t levels = book.depth(Side::buy, 1u << 20).size() + book.depth(Side::sell, 1u << 20).size();
  std::printf("book: %zu resting orders on %zu levels; %zu bytes held = %.1f bytes per resting order "
              "(node + index slots %zu bytes per order slot)\n",
              book.order_count(), levels, book.memory_bytes(),
              static_cast<double>(book.memory_bytes()) /
                  static_cast<double>(std::max<std::size_t>(1, book.order_count())),
              matching::LadderBook::bytes_per_order_slot());
}

}  // namespace
}  // namespace carbon::bench

int main(int argc, char** argv) {
  using namespace carbon;
  using namespace carbon::bench;
  const std::uint64_t operations = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 5'000'000;
  std::vector<std::uint64_t> rates;
  for (std::string list = argc > 2 ? argv[2] : "1000000,5000000"; !list.empty();) {
    const std::size_t comma = list.find(',');
    rates.push_back(std::strtoull(list.substr(0, comma).c_str(), nullptr, 10));
    list = comma == std::string::npos ? "" : list.substr(comma + 1);
  }

  // The ceiling: the loop, the clock, the pacing, the histogram and an operation's random draws, no book.
  Rng ceiling_rng(7);
  std::uint64_t sink = 0;
  auto ceiling_op = [&] {
    sink += ceiling_rng.below(100) + ceiling_rng.below(1'000) + ceiling_rng.below(10);
    asm volatile("" : "+r"(sink));
  };

  matching::LadderBook book(Price{ExchangeCoreMix<matching::LadderBook>::kLowest},
                            Price{ExchangeCoreMix<matching::LadderBook>::kHighest}, Price{1}, 1'280);
  ExchangeCoreMix<matching::LadderBook> mix(book, 1);
  auto mix_op = [&] { mix.step(); };

  std::printf("exchange-core mix: %" PRIu64 " operations per phase\n", operations);
  run_phase(mix_op, 2'000'000, 0);  // warm-up: the book reaches its steady size
  print_book(book);
  print_phase("ceiling (no book)", 0, run_phase(ceiling_op, operations, 0));
  print_phase("exchange-core mix + risk", 0, run_phase(mix_op, operations, 0));
  for (std::uint64_t rate : rates) {
    print_phase("ceiling (no book)", rate, run_phase(ceiling_op, operations, rate));
    print_phase("exchange-core mix + risk", rate, run_phase(mix_op, operations, rate));
  }
  print_book(book);
  const MixCounts& c = mix.counts();
  const double all = static_cast<double>(c.gtc + c.ioc + c.cancel + c.amend);
  std::printf("mix: %.1f%% GTC (%.1f%% of them crossing to hold the book size), %.1f%% IOC, %.1f%% cancel, "
              "%.1f%% amend; %.3f fills per op; %" PRIu64 " risk rejections, %" PRIu64 " self-trade stops\n",
              100.0 * static_cast<double>(c.gtc) / all,
              100.0 * static_cast<double>(c.aggressive_gtc) / static_cast<double>(std::max<std::uint64_t>(1, c.gtc)),
              100.0 * static_cast<double>(c.ioc) / all, 100.0 * static_cast<double>(c.cancel) / all,
              100.0 * static_cast<double>(c.amend) / all, static_cast<double>(c.fills) / all, c.rejected,
              c.self_trade_stops);
  const bool conserved = mix.conserved();
  std::printf("cash and holdings conserved: %s\n", conserved ? "yes" : "NO");

  // The Liquibook-shaped workload, unpaced: inserts per second.
  matching::LadderBook liquibook(Price{9'000}, Price{11'000}, Price{1}, std::size_t{1} << 16);
  const auto& stream = liquibook_stream();
  std::vector<matching::Fill> fills;
  fills.reserve(1 << 10);
  OrderId last_id = 0;
  std::size_t next = 0, traded = 0;
  auto insert_op = [&] {
    traded += liquibook_insert(liquibook, stream[next++ & (stream.size() - 1)], last_id, fills) ? 1 : 0;
  };
  run_phase(insert_op, 1'000'000, 0);
  traded = 0;
  const PhaseResult inserts = run_phase(insert_op, operations, 0);
  print_phase("liquibook-shaped inserts", 0, inserts);
  std::printf("liquibook-shaped: %.1f%% of inserts traded; %zu resting at the end\n",
              100.0 * static_cast<double>(traded) / static_cast<double>(operations), liquibook.order_count());

  // Growth: a book that opens small and fills up. Every add is timed, so the
  // slowest one is the longest any command waits behind the book's growth;
  // the ceiling is the same adds into a book sized for them all up front.
  auto slowest_adds = [](std::size_t capacity, std::size_t orders) {
    matching::LadderBook growing(Price{1'000}, Price{200'000}, Price{1}, capacity);
    std::int64_t slowest = 0;
    std::size_t at = 0;
    for (std::size_t i = 1; i <= orders; ++i) {
      const bool buy = (i & 1) != 0;
      const auto offset = static_cast<std::int64_t>(i % 500);
      const matching::BookOrder order{i * 7 + 3, i % 100 + 1, buy ? Side::buy : Side::sell,
                                      Price{buy ? 50'000 - offset : 60'000 + offset}, Qty{10}, i};
      const std::int64_t start = now_ns();
      growing.add(order);
      if (const std::int64_t took = now_ns() - start; took > slowest) {
        slowest = took;
        at = i;
      }
    }
    std::printf("  sized for %8zu: slowest add %8.1f us (order #%zu)\n", capacity, static_cast<double>(slowest) / 1e3,
                at);
  };
  constexpr std::size_t kGrowthOrders = 600'000;
  std::printf("growth: %zu resting orders added to one book, every add timed\n", kGrowthOrders);
  slowest_adds(kGrowthOrders, kGrowthOrders);
  slowest_adds(1'024, kGrowthOrders);
  std::printf("(sink %" PRIu64 ")\n", sink & 1);
  return conserved ? 0 : 1;
}
