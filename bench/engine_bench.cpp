// Engine-step benchmarks: one thread, no I/O. The ceilings beside them are
// measured in the same run: the bare order-book match (what any engine must
// do) and one SHA-256 ledger hash (what every trade must pay).

#include <benchmark/benchmark.h>

#include "common/mpsc_ring.h"
#include "engine/exchange.h"
#include "matching/order_book.h"
#include "registry/ledger.h"

namespace carbon {
namespace {

using engine::Command;
using engine::Principal;

/// An exchange with one seller holding plenty of units and one funded buyer.
struct Market {
  static Config bench_config() {
    Config config = default_config();
    for (auto& instrument : config.instruments) {
      instrument.reference_price = Price{5'000};
      instrument.position_limit = Qty{INT64_MAX / 4};  // the buyer accumulates units over millions of iterations
    }
    return config;
  }
  Config config = bench_config();
  engine::Exchange exchange{config};
  Principal seller, buyer;
  UnixNanos now = 1'763'951'400'000'000'000;  // Monday 2025-11-24 10:30 Asia/Shanghai: in session

  Market() {
    Principal op{Role::operator_, 0, "ops"};
    auto s = exchange.execute(Command{op, engine::CreateParticipant{"S", "S", ParticipantType::key_emitting_unit, {1}}}, now)
                 .reply.participants.at(0);
    auto b = exchange.execute(Command{op, engine::CreateParticipant{"B", "B", ParticipantType::institution, {2}}}, now)
                 .reply.participants.at(0);
    (void)exchange.execute(Command{op, engine::MoveCash{b.cash_account, Cash{INT64_MAX / 4}, "d", false}}, now);
    // Issuance counts against the caps of the vintage year.
    (void)exchange.execute(Command{Principal{Role::registry_authority, 0, "r"},
                                   engine::SetCap{2024, "bench", Qty{INT64_MAX / 2}, 10'000, "bench"}},
                           now);
    (void)exchange.execute(
        Command{Principal{Role::registry_authority, 0, "r"},
                engine::IssueAllowances{"CEA2024", s.holding_account, Qty{INT64_MAX / 4}, "a"}},
        now);
    seller = Principal{Role::trader, s.id, "S"};
    buyer = Principal{Role::trader, b.id, "B"};
  }
  engine::Outcome place(const Principal& who, Side side, std::int64_t price, std::int64_t qty) {
    return exchange.execute(Command{who, engine::PlaceOrder{"CEA2024", side, OrderType::limit, TimeInForce::day,
                                                           TradingMode::listed, Price{price}, Qty{qty}, ""}},
                            ++now);
  }
};

// A resting sell then a buy that crosses it: two commands, one trade with
// delivery versus payment and one hash-chained ledger entry.
void BM_ExchangeRestThenCross(benchmark::State& state) {
  Market market;
  for (auto _ : state) {
    const auto sell = market.place(market.seller, Side::sell, 5'000, 10);
    const auto buy = market.place(market.buyer, Side::buy, 5'000, 10);
    if (!sell.reply.status.is_ok() || buy.reply.trades.size() != 1) {
      state.SkipWithError("an order was refused or did not trade: the benchmark would measure rejections");
      break;
    }
    benchmark::DoNotOptimize(buy);
  }
  state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(BM_ExchangeRestThenCross);

// A buy that rests and is cancelled: reservation, book insert, release.
void BM_ExchangePlaceThenCancel(benchmark::State& state) {
  Market market;
  for (auto _ : state) {
    const auto placed = market.place(market.buyer, Side::buy, 4'600, 10);
    if (!placed.reply.status.is_ok()) {
      state.SkipWithError("the buy was refused: the benchmark would measure rejections");
      break;
    }
    benchmark::DoNotOptimize(market.exchange.execute(
        Command{market.buyer, engine::CancelOrder{placed.reply.orders[0].id}}, ++market.now));
  }
  state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(BM_ExchangePlaceThenCancel);

// Ceiling: the same rest-then-cross on the bare order book, no risk, no settlement.
void BM_CeilingBookRestThenCross(benchmark::State& state) {
  matching::OrderBook book;
  std::vector<matching::Fill> fills;
  OrderId id = 0;
  for (auto _ : state) {
    book.add(matching::BookOrder{++id, 1, Side::sell, Price{5'000}, Qty{10}, id});
    fills.clear();
    benchmark::DoNotOptimize(book.match(Side::buy, Price{5'000}, Qty{10}, fills));
  }
  state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(BM_CeilingBookRestThenCross);

// Ceiling: one ledger hash (SHA-256 over the previous hash and the entry).
void BM_CeilingLedgerHash(benchmark::State& state) {
  registry::LedgerEntry entry;
  entry.instrument = "CEA2024";
  entry.reference = "trade:123456";
  entry.quantity = Qty{10};
  registry::Hash prev{};
  for (auto _ : state) {
    prev = registry::chain_hash(prev, entry);
    benchmark::DoNotOptimize(prev);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CeilingLedgerHash);

// The intake ring: one push and one pop on the same thread.
void BM_MpscRingPushPop(benchmark::State& state) {
  MpscRing<std::uint64_t> ring(1024);
  std::uint64_t v = 0;
  for (auto _ : state) {
    std::uint64_t x = ++v;
    benchmark::DoNotOptimize(ring.try_push(x));
    benchmark::DoNotOptimize(ring.try_pop());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MpscRingPushPop);

}  // namespace
}  // namespace carbon

BENCHMARK_MAIN();
