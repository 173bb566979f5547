// Book benchmarks: the tick-ladder book beside the simple reference book in
// the same run, on a workload shaped like Liquibook's own performance test
// (alternating buy and sell limit orders at random prices within 10 ticks,
// quantities 100 to 1,000, about half of them matching) and on the
// exchange-core mix with a risk check (bench/matching_workloads.h). The
// latency figures at fixed offered loads come from bench/matching_load.cpp.

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>
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

#include "matching_workloads.h"

namespace carbon::bench {
namespace {

using matching::LadderBook;
using matching::OrderBook;

template <typename Book>
void insert_stream(benchmark::State& state, Book& book) {
  const auto& stream = liquibook_stream();
  std::vector<matching::Fill> fills;
  fills.reserve(64);
  OrderId id = 0;
  std::size_t i = 0, matched = 0;
  const std::uint64_t allocations_before = g_allocations.load(std::memory_order_relaxed);
  for (auto _ : state) {
    matched += liquibook_insert(book, stream[i++ & (stream.size() - 1)], id, fills) ? 1 : 0;
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

/// The exchange-core mix with its risk check (see matching_workloads.h), after a warm-up to the steady book size.
template <typename Book>
void exchange_core_mix(benchmark::State& state, Book& book) {
  ExchangeCoreMix<Book> mix(book, 1);
  for (int i = 0; i < 1'000'000; ++i) mix.step();
  const std::uint64_t allocations_before = g_allocations.load(std::memory_order_relaxed);
  for (auto _ : state) mix.step();
  state.SetItemsProcessed(state.iterations());
  state.counters["allocs_per_op"] =
      static_cast<double>(g_allocations.load(std::memory_order_relaxed) - allocations_before) /
      static_cast<double>(state.iterations());
  state.counters["resting"] = static_cast<double>(book.order_count());
  if (!mix.conserved()) state.SkipWithError("cash or holdings not conserved");
}

void BM_LadderBookExchangeCoreMix(benchmark::State& state) {
  LadderBook book(Price{ExchangeCoreMix<LadderBook>::kLowest}, Price{ExchangeCoreMix<LadderBook>::kHighest},
                  Price{1}, 1'280);
  exchange_core_mix(state, book);
  state.counters["bytes_per_resting_order"] =
      static_cast<double>(book.memory_bytes()) / static_cast<double>(book.order_count());
}
BENCHMARK(BM_LadderBookExchangeCoreMix);

void BM_ReferenceBookExchangeCoreMix(benchmark::State& state) {
  OrderBook book;
  exchange_core_mix(state, book);
}
BENCHMARK(BM_ReferenceBookExchangeCoreMix);

}  // namespace
}  // namespace carbon::bench

BENCHMARK_MAIN();
