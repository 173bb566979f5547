// Book benchmarks: the tick-ladder book beside the simple reference book in
// the same run, on a workload shaped like Liquibook's own performance test
// (alternating buy and sell limit orders at random prices within 10 ticks,
// quantities 100 to 1,000, about half of them matching).

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <vector>

// Every heap allocation in this process is counted, so a benchmark can
// report allocations per operation in steady state.
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

#include "matching/ladder_book.h"
#include "matching/order_book.h"

namespace carbon::matching {
namespace {

struct Incoming {
  Side side;
  Price price;
  Qty quantity;
};

const std::vector<Incoming>& liquibook_stream() {
  static const std::vector<Incoming> stream = [] {
    std::mt19937_64 random(42);
    std::vector<Incoming> out;
    out.reserve(1 << 20);
    for (std::size_t i = 0; i < (1u << 20); ++i) {
      const Side side = i % 2 == 0 ? Side::buy : Side::sell;
      const std::int64_t price = 10'000 + static_cast<std::int64_t>(random() % 10) - (side == Side::buy ? 0 : 4);
      out.push_back(Incoming{side, Price{price}, Qty{100 + static_cast<std::int64_t>(random() % 901)}});
    }
    return out;
  }();
  return stream;
}

template <typename Book>
void insert_stream(benchmark::State& state, Book& book) {
  const auto& stream = liquibook_stream();
  std::vector<Fill> fills;
  fills.reserve(64);
  OrderId id = 0;
  std::size_t i = 0, matched = 0;
  const std::uint64_t allocations_before = g_allocations.load(std::memory_order_relaxed);
  for (auto _ : state) {
    const Incoming& in = stream[i++ & (stream.size() - 1)];
    fills.clear();
    const Qty left = book.match(in.side, in.price, in.quantity, fills);
    if (!fills.empty()) ++matched;
    if (left.is_positive()) {
      ++id;
      book.add(BookOrder{id, 1, in.side, in.price, left, id});
    }
    benchmark::DoNotOptimize(fills.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["allocs_per_op"] =
      static_cast<double>(g_allocations.load(std::memory_order_relaxed) - allocations_before) /
      static_cast<double>(state.iterations());
  state.counters["matching_share"] = static_cast<double>(matched) / static_cast<double>(state.iterations());
  state.counters["resting"] = static_cast<double>(book.order_count());
}

void BM_LadderBookLiquibookInserts(benchmark::State& state) {
  LadderBook book(Price{9'000}, Price{11'000}, Price{1}, std::size_t{1} << 16);
  insert_stream(state, book);
  state.counters["bytes_per_order_slot"] = static_cast<double>(LadderBook::bytes_per_order_slot());
}
BENCHMARK(BM_LadderBookLiquibookInserts);

void BM_ReferenceBookLiquibookInserts(benchmark::State& state) {
  OrderBook book;
  insert_stream(state, book);
}
BENCHMARK(BM_ReferenceBookLiquibookInserts);

}  // namespace
}  // namespace carbon::matching

BENCHMARK_MAIN();
