// Registry benchmarks, each beside a ceiling measured in the same run:
//  - a trade delivery as the engine calls it (reserve the seller's units,
//    deliver them with a hash-chained ledger entry, take the new entries),
//    for an allowance and for CCER where every delivery splits a block;
//    ceiling: one raw SHA-256 of the same bytes via OpenSSL, through its
//    fastest interface (the low-level SHA256_Init/Update/Final, deprecated
//    in OpenSSL 3 but still the shortest path to the SHA-NI code) and, for
//    comparison, through the one-shot SHA256() the ledger used before.
//  - verifying a chain of 10 million entries built in memory; ceiling: raw
//    SHA-256 (low-level) of the same 10 million prev_hash || canonical bytes.

// The ceilings call OpenSSL's low-level SHA-256 on purpose.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <benchmark/benchmark.h>
#include <openssl/sha.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "registry/registry.h"

namespace carbon::registry {
namespace {

constexpr AccountId kSeller = 100;
constexpr AccountId kBuyer = 101;
constexpr std::int64_t kDelivery = 7;        // t per trade: never a multiple of the block size
constexpr std::uint64_t kBlockSize = 10;     // t per CCER block
constexpr std::uint64_t kBlocks = 1'000'000; // blocks the seller starts with

// A seller holding kBlocks CCER blocks of kBlockSize t, alternating between
// two projects so that blocks never join up on the buyer's side.
void stock_seller(Registry& registry, const std::string& instrument) {
  registry.open_account(kSeller);
  registry.open_account(kBuyer);
  const auto total = static_cast<std::int64_t>(kBlocks * kBlockSize);
  registry.restore_holding({kIssuanceAccount, instrument, Holding{Qty{-total}, {}, {}, {}, {}}});
  registry.restore_holding({kSeller, instrument, Holding{Qty{total}, {}, {}, {}, {}}});
  if (instrument != kCcerInstrument) return;
  std::vector<CcerBlock> blocks;
  blocks.reserve(kBlocks);
  for (std::uint64_t i = 0; i < kBlocks; ++i) {
    blocks.push_back(CcerBlock{i * kBlockSize + 1, (i + 1) * kBlockSize, static_cast<ProjectId>(1 + i % 2), 2023});
  }
  registry.restore_ccer_blocks(kSeller, std::move(blocks));
}

void deliver_trades(benchmark::State& state, const std::string& instrument) {
  auto registry = std::make_unique<Registry>();
  stock_seller(*registry, instrument);
  std::uint64_t trade_id = 0;
  std::size_t entries = 0;
  for (auto _ : state) {
    if (registry->holding(kSeller, instrument).available.value < kDelivery) {
      state.PauseTiming();
      registry = std::make_unique<Registry>();
      stock_seller(*registry, instrument);
      state.ResumeTiming();
    }
    ++trade_id;
    if (!registry->reserve_for_sell(kSeller, instrument, Qty{kDelivery}).is_ok()) state.SkipWithError("reserve");
    registry->deliver(instrument, kSeller, kBuyer, Qty{kDelivery}, trade_id, 0, "trade:" + std::to_string(trade_id));
    entries += registry->take_new_entries().size();
  }
  benchmark::DoNotOptimize(entries);
  state.counters["deliveries/s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                      benchmark::Counter::kIsRate);
}

void BM_DeliverAllowance(benchmark::State& state) { deliver_trades(state, "CEA2024"); }
BENCHMARK(BM_DeliverAllowance);

void BM_DeliverCcerSplittingBlocks(benchmark::State& state) { deliver_trades(state, kCcerInstrument); }
BENCHMARK(BM_DeliverCcerSplittingBlocks);

LedgerEntry trade_entry(std::uint64_t id) {
  LedgerEntry e;
  e.sequence = id;
  e.recorded_at = 1'764'000'000'000'000'000 + static_cast<UnixNanos>(id);
  e.instrument = "CEA2024";
  e.from_account = kSeller + id % 50;
  e.to_account = kBuyer + id % 37;
  e.quantity = Qty{static_cast<std::int64_t>(1 + id % 1000)};
  e.kind = TransferKind::trade;
  e.reference = "trade:" + std::to_string(id);
  return e;
}

void sha256_low_level(const std::uint8_t* data, std::size_t size, Hash& out) {
  SHA256_CTX context;
  SHA256_Init(&context);
  SHA256_Update(&context, data, size);
  SHA256_Final(out.data(), &context);
}

std::vector<std::uint8_t> one_entry_bytes() {
  LedgerEntry e = trade_entry(1'234'567);
  e.entry_id = 1'234'567;
  const std::vector<std::uint8_t> body = canonical_bytes(e);
  std::vector<std::uint8_t> bytes(32 + body.size(), 0);
  std::memcpy(bytes.data() + 32, body.data(), body.size());
  return bytes;
}

// Ceiling of one delivery's hash: SHA-256 of prev_hash || canonical bytes, pre-encoded.
void BM_Sha256OfOneEntryCeiling(benchmark::State& state) {
  const std::vector<std::uint8_t> bytes = one_entry_bytes();
  Hash out{};
  for (auto _ : state) {
    sha256_low_level(bytes.data(), bytes.size(), out);
    benchmark::DoNotOptimize(out);
  }
  state.counters["bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(BM_Sha256OfOneEntryCeiling);

// The same bytes through OpenSSL 3's one-shot SHA256(), which fetches the algorithm per call.
void BM_Sha256OneShotOfOneEntry(benchmark::State& state) {
  const std::vector<std::uint8_t> bytes = one_entry_bytes();
  Hash out{};
  for (auto _ : state) {
    SHA256(bytes.data(), bytes.size(), out.data());
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_Sha256OneShotOfOneEntry);

// The ledger's own hash of one entry (encode + SHA-256), for the split between the two.
void BM_ChainHashOfOneEntry(benchmark::State& state) {
  LedgerEntry e = trade_entry(1'234'567);
  e.entry_id = 1'234'567;
  const Hash prev{};
  for (auto _ : state) {
    Hash out = chain_hash(prev, e);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_ChainHashOfOneEntry);

constexpr std::size_t kChainLength = 10'000'000;

const std::vector<LedgerEntry>& ten_million_entries() {
  static const std::vector<LedgerEntry> entries = [] {
    std::vector<LedgerEntry> out;
    out.reserve(kChainLength);
    Ledger ledger;
    for (std::size_t i = 1; i <= kChainLength; ++i) out.push_back(ledger.append(trade_entry(i)));
    return out;
  }();
  return entries;
}

void BM_VerifyChain10M(benchmark::State& state) {
  const std::vector<LedgerEntry>& entries = ten_million_entries();
  for (auto _ : state) {
    const ChainVerification result = verify_chain(entries, Hash{}, 1);
    if (!result.ok()) state.SkipWithError("the chain does not verify");
    benchmark::DoNotOptimize(result);
  }
  state.counters["entries/s"] = benchmark::Counter(static_cast<double>(state.iterations() * entries.size()),
                                                   benchmark::Counter::kIsRate);
  state.counters["ns/entry"] = benchmark::Counter(static_cast<double>(state.iterations() * entries.size()),
                                                  benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_VerifyChain10M)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

// Ceiling: the same 10 million prev_hash || canonical bytes, pre-encoded back to back, hashed one by one.
void BM_Sha256Of10MEntriesCeiling(benchmark::State& state) {
  std::vector<std::uint8_t> bytes;
  std::vector<std::size_t> ends;
  {
    const std::vector<LedgerEntry>& entries = ten_million_entries();
    ends.reserve(entries.size());
    bytes.reserve(entries.size() * 112);
    for (const LedgerEntry& e : entries) {
      bytes.insert(bytes.end(), e.prev_hash.begin(), e.prev_hash.end());
      const std::vector<std::uint8_t> body = canonical_bytes(e);
      bytes.insert(bytes.end(), body.begin(), body.end());
      ends.push_back(bytes.size());
    }
  }
  for (auto _ : state) {
    Hash out{};
    std::size_t begin = 0;
    for (std::size_t end : ends) {
      sha256_low_level(bytes.data() + begin, end - begin, out);
      begin = end;
    }
    benchmark::DoNotOptimize(out);
  }
  state.counters["ns/entry"] = benchmark::Counter(static_cast<double>(state.iterations() * ends.size()),
                                                  benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Sha256Of10MEntriesCeiling)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

}  // namespace
}  // namespace carbon::registry

BENCHMARK_MAIN();
