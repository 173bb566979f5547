#pragma once
/// Workloads shared by the matching benchmarks (matching_bench.cpp, Google
/// Benchmark; matching_load.cpp, the standalone load runner). Single thread,
/// no I/O; every operation allocates nothing once the book and the vectors
/// are sized.

#include <cstdint>
#include <vector>

#include "common/types.h"
#include "matching/ladder_book.h"
#include "matching/order_book.h"

namespace carbon::bench {

/// A small seeded generator (xorshift64*): a few cycles per draw.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  std::uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }
  /// Uniform in [0, n), n < 2^32.
  std::uint32_t below(std::uint32_t n) {
    return static_cast<std::uint32_t>(((next() >> 32) * static_cast<std::uint64_t>(n)) >> 32);
  }

 private:
  std::uint64_t state_;
};

/// What an ExchangeCoreMix run did.
struct MixCounts {
  std::uint64_t gtc = 0, aggressive_gtc = 0, ioc = 0, cancel = 0, amend = 0;
  std::uint64_t rejected = 0;  ///< refused by the risk check
  std::uint64_t fills = 0;
  std::uint64_t self_trade_stops = 0;
};

/// The exchange-core benchmark mix on one instrument, with a per-account risk
/// check: about 9% GTC limit places, 3% IOC, 6% cancels and 82% price
/// amends (moves), about 1,000 resting orders over a few hundred levels,
/// 1,000 accounts. The risk check holds cash for buys (price x quantity) and
/// holdings for sells, and settles every fill, in integers. When the book is
/// above its target size the GTC places cross the spread (as exchange-core's
/// generator does) so that the book stays near the target.
template <typename Book>
class ExchangeCoreMix {
 public:
  static constexpr std::int64_t kCentre = 10'000;  ///< fen: 100 CNY
  static constexpr std::int64_t kLowest = 9'000;   ///< the ±10% band at 1 fen
  static constexpr std::int64_t kHighest = 11'000;
  static constexpr std::int64_t kSpread = 750;     ///< passive places land up to this many ticks from the centre
  static constexpr std::size_t kAccounts = 1'000;
  static constexpr std::size_t kTargetOrders = 1'000;
  static constexpr std::int64_t kStartCash = 1'000'000'000'000;  ///< fen per account
  static constexpr std::int64_t kStartHolding = 1'000'000'000;   ///< t per account

  ExchangeCoreMix(Book& book, std::uint64_t seed) : book_(book), rng_(seed), accounts_(kAccounts + 1) {
    for (Account& a : accounts_) a = Account{kStartCash, kStartHolding};
    live_.reserve(1 << 16);
    fills_.reserve(1 << 10);
    self_trade_cancelled_.reserve(1 << 10);
  }

  /// One operation of the mix.
  void step() {
    const std::uint32_t roll = rng_.below(100);
    if (roll < 9 || live_.empty()) {
      place_gtc();
    } else if (roll < 12) {
      place_ioc();
    } else if (roll < 18) {
      cancel_one();
    } else {
      amend_one();
    }
  }

  const MixCounts& counts() const { return counts_; }

  /// Cash and holdings are conserved: free plus held in the book equals what the accounts started with.
  bool conserved() const {
    std::int64_t cash = 0, holding = 0;
    for (std::size_t i = 1; i < accounts_.size(); ++i) {
      cash += accounts_[i].cash;
      holding += accounts_[i].holding;
    }
    book_.for_each([&](const matching::BookOrder& o) {
      if (o.side == Side::buy) cash += o.price.value * o.remaining.value; else holding += o.remaining.value;
    });
    return cash == kStartCash * static_cast<std::int64_t>(kAccounts) &&
           holding == kStartHolding * static_cast<std::int64_t>(kAccounts);
  }

 private:
  struct Account {
    std::int64_t cash = 0;     ///< fen free to spend
    std::int64_t holding = 0;  ///< t free to sell
  };

  Side any_side() { return (rng_.next() & 1) != 0 ? Side::buy : Side::sell; }
  ParticipantId any_account() { return 1 + rng_.below(kAccounts); }
  Qty any_quantity() { return Qty{1 + static_cast<std::int64_t>(rng_.below(100))}; }
  static std::int64_t clamp_price(std::int64_t p) { return p < kLowest ? kLowest : (p > kHighest ? kHighest : p); }

  /// The risk check of a new order: holds cash for a buy, holdings for a sell.
  bool hold(ParticipantId owner, Side side, Price price, Qty quantity) {
    Account& a = accounts_[owner];
    if (side == Side::buy) {
      const std::int64_t need = price.value * quantity.value;
      if (a.cash < need) return false;
      a.cash -= need;
    } else {
      if (a.holding < quantity.value) return false;
      a.holding -= quantity.value;
    }
    return true;
  }

  void release(ParticipantId owner, Side side, Price price, Qty quantity) {
    Account& a = accounts_[owner];
    if (side == Side::buy) a.cash += price.value * quantity.value; else a.holding += quantity.value;
  }

  /// Settles the fills of an incoming order of `owner` limited at `limit`; returns the quantity filled.
  Qty settle(ParticipantId owner, Side side, Price limit) {
    Qty filled{0};
    for (const matching::Fill& f : fills_) {
      filled += f.quantity;
      const std::int64_t paid = f.price.value * f.quantity.value;
      if (side == Side::buy) {
        accounts_[owner].holding += f.quantity.value;
        accounts_[owner].cash += (limit.value - f.price.value) * f.quantity.value;  // held at the limit
        accounts_[f.resting_owner].cash += paid;
      } else {
        accounts_[owner].cash += paid;
        accounts_[f.resting_owner].holding += f.quantity.value;
      }
    }
    counts_.fills += fills_.size();
    return filled;
  }

  /// Matches an incoming order, settles it and rests its remainder if `rest`.
  void place(Side side, Price price, Qty quantity, bool rest) {
    const ParticipantId owner = any_account();
    if (!hold(owner, side, price, quantity)) {
      ++counts_.rejected;
      return;
    }
    fills_.clear();
    bool stopped = false;
    const Qty left = book_.match(side, price, quantity, fills_, owner, &stopped);
    settle(owner, side, price);
    counts_.self_trade_stops += stopped ? 1 : 0;
    if (left.is_zero()) return;
    if (rest && !stopped) {
      const OrderId id = ++last_id_;
      book_.add(matching::BookOrder{id, owner, side, price, left, ++sequence_});
      live_.push_back(id);
    } else {
      release(owner, side, price, left);
    }
  }

  void place_gtc() {
    ++counts_.gtc;
    const Side side = any_side();
    const auto opposite_best = side == Side::buy ? book_.best_ask() : book_.best_bid();
    if (book_.order_count() >= kTargetOrders && opposite_best) {
      ++counts_.aggressive_gtc;
      const std::int64_t through = rng_.below(3);
      const std::int64_t best = opposite_best->value;
      const Price price{clamp_price(side == Side::buy ? best + through : best - through)};
      place(side, price, Qty{50 + static_cast<std::int64_t>(rng_.below(250))}, true);
      return;
    }
    const std::int64_t distance = 1 + rng_.below(kSpread);
    place(side, Price{side == Side::buy ? kCentre - distance : kCentre + distance}, any_quantity(), true);
  }

  void place_ioc() {
    ++counts_.ioc;
    const Side side = any_side();
    const auto opposite_best = side == Side::buy ? book_.best_ask() : book_.best_bid();
    const std::int64_t base = opposite_best ? opposite_best->value : kCentre;
    const std::int64_t through = rng_.below(5);
    place(side, Price{clamp_price(side == Side::buy ? base + through : base - through)}, any_quantity(), false);
  }

  /// A random resting order (dropping ids that have since filled), or nullptr if none.
  const matching::BookOrder* pick(OrderId& id) {
    while (!live_.empty()) {
      const std::size_t at = rng_.below(static_cast<std::uint32_t>(live_.size()));
      id = live_[at];
      if (const matching::BookOrder* order = book_.find(id)) return order;
      live_[at] = live_.back();
      live_.pop_back();
    }
    return nullptr;
  }

  void cancel_one() {
    ++counts_.cancel;
    OrderId id = 0;
    const matching::BookOrder* order = pick(id);
    if (order == nullptr) return;
    const matching::BookOrder copy = *order;
    book_.cancel(id);
    release(copy.owner, copy.side, copy.price, copy.remaining);
  }

  void amend_one() {
    ++counts_.amend;
    OrderId id = 0;
    const matching::BookOrder* order = pick(id);
    if (order == nullptr) return;
    const matching::BookOrder old = *order;
    const std::int64_t step = 1 + rng_.below(10);
    const Price price{clamp_price((rng_.next() & 1) != 0 ? old.price.value + step : old.price.value - step)};
    if (price == old.price) return;
    // Risk: a buy moved up holds the difference first; moved down, it is released after.
    const std::int64_t more_cash = old.side == Side::buy ? (price.value - old.price.value) * old.remaining.value : 0;
    Account& owner = accounts_[old.owner];
    if (more_cash > 0) {
      if (owner.cash < more_cash) {
        ++counts_.rejected;
        return;
      }
      owner.cash -= more_cash;
    }
    fills_.clear();
    self_trade_cancelled_.clear();
    const matching::AmendResult result = book_.amend(id, price, old.remaining, ++sequence_, fills_,
                                                     matching::SelfTradePrevention::cancel_incoming,
                                                     self_trade_cancelled_);
    if (more_cash < 0) owner.cash -= more_cash;
    const Qty filled = settle(old.owner, old.side, price);
    if (result.status == matching::AmendStatus::self_trade_cancelled) {
      ++counts_.self_trade_stops;
      release(old.owner, old.side, price, old.remaining - filled);
    }
  }

  Book& book_;
  Rng rng_;
  std::vector<Account> accounts_;  ///< by participant id, 1..kAccounts
  std::vector<OrderId> live_;      ///< ids placed and perhaps still resting
  std::vector<matching::Fill> fills_;
  std::vector<OrderId> self_trade_cancelled_;
  OrderId last_id_ = 0;
  std::uint64_t sequence_ = 0;
  MixCounts counts_;
};

/// One incoming order of the Liquibook-shaped workload.
struct LiquibookOrder {
  Side side;
  Price price;
  Qty quantity;
};

/// Liquibook's performance test shape: alternating buy and sell limit
/// orders at random prices within 10 ticks, 100 to 1,000 t, about half of
/// them matching. 2^20 orders, replayed cyclically.
inline const std::vector<LiquibookOrder>& liquibook_stream() {
  static const std::vector<LiquibookOrder> stream = [] {
    Rng random(42);
    std::vector<LiquibookOrder> out;
    out.reserve(1 << 20);
    for (std::size_t i = 0; i < (1u << 20); ++i) {
      const Side side = i % 2 == 0 ? Side::buy : Side::sell;
      const std::int64_t price = 10'000 + static_cast<std::int64_t>(random.below(10)) - (side == Side::buy ? 0 : 4);
      out.push_back(LiquibookOrder{side, Price{price}, Qty{100 + static_cast<std::int64_t>(random.below(901))}});
    }
    return out;
  }();
  return stream;
}

/// Inserts one order of the Liquibook stream: match, then rest the remainder.
/// Returns whether it traded.
template <typename Book>
bool liquibook_insert(Book& book, const LiquibookOrder& in, OrderId& last_id, std::vector<matching::Fill>& fills) {
  fills.clear();
  const Qty left = book.match(in.side, in.price, in.quantity, fills);
  if (left.is_positive()) {
    ++last_id;
    book.add(matching::BookOrder{last_id, 1, in.side, in.price, left, last_id});
  }
  return !fills.empty();
}

}  // namespace carbon::bench
