// Runs the rulebook: tests/scenarios/*.txt, commands in, results out, each
// line checked against the Exchange. The file format is described in
// tests/scenarios/README.md.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "engine/exchange.h"
#include "registry/allocation.h"

namespace carbon::engine {
namespace {

struct Failure {
  std::string what;
};

class ScenarioRunner {
 public:
  explicit ScenarioRunner(Config config) : config_(std::move(config)), exchange_(std::in_place, config_) {}

  /// Runs one file; returns the failures, each naming its line.
  std::vector<std::string> run(const std::string& path) {
    std::ifstream in(path);
    if (!in) return {"cannot open " + path};
    std::vector<std::string> failures;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      const auto first = line.find_first_not_of(" \t");
      if (first == std::string::npos || line[first] == '#') continue;  // blank line or comment
      const std::string& text = line;
      try {
        step(text);
      } catch (const Failure& f) {
        failures.push_back(path + ":" + std::to_string(number) + ": " + line + "\n    " + f.what);
      } catch (const std::exception& e) {  // a malformed line (a missing word, not a number)
        failures.push_back(path + ":" + std::to_string(number) + ": " + line + "\n    malformed: " + e.what());
      }
    }
    return failures;
  }

 private:
  static std::vector<std::string> words(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string word;
    while (in >> word) {
      if (word.front() == '"') {  // a quoted rule text runs to its closing quote
        if (word.size() >= 2 && word.back() == '"') {
          word = word.substr(1, word.size() - 2);
        } else {
          std::string rest;
          std::getline(in, rest, '"');
          word = word.substr(1) + rest;
        }
        if (word.empty()) throw Failure{"an empty quoted phrase matches anything"};
      }
      out.push_back(word);
    }
    return out;
  }

  static std::int64_t number(const std::string& word) {
    std::size_t used = 0;
    const std::int64_t value = std::stoll(word, &used);
    if (used != word.size()) throw Failure{"not a number: " + word};
    return value;
  }

  /// "key=value" → value, for an expected key.
  static std::int64_t keyed(const std::string& word, const std::string& key) {
    if (word.rfind(key + "=", 0) != 0) throw Failure{"expected " + key + "=..., got " + word};
    return number(word.substr(key.size() + 1));
  }

  const ParticipantRecord& participant(const std::string& code) {
    auto found = participants_.find(code);
    if (found == participants_.end()) throw Failure{"unknown participant " + code};
    return found->second;
  }

  Outcome execute(const Principal& who, CommandBody body) {
    now_ += 1'000'000;
    Outcome out = exchange_->execute(Command{who, std::move(body)}, now_);
    for (const Event& event : out.events) {
      if (const auto* changed = std::get_if<OrderChanged>(&event)) orders_[changed->order.id] = changed->order;
    }
    return out;
  }

  static std::string status_name(const Outcome& outcome) { return to_string(outcome.reply.status.code()); }

  static const char* order_status(OrderStatus status) {
    switch (status) {
      case OrderStatus::open: return "open";
      case OrderStatus::partially_filled: return "partially_filled";
      case OrderStatus::filled: return "filled";
      case OrderStatus::cancelled: return "cancelled";
      case OrderStatus::expired: return "expired";
      case OrderStatus::rejected: return "rejected";
    }
    return "?";
  }

  /// After "->": STATUS [order-status] ["rule"].
  void check_result(const Outcome& outcome, const std::vector<std::string>& w, std::size_t arrow) {
    if (arrow >= w.size() || w[arrow] != "->") throw Failure{"missing '-> STATUS'"};
    const std::string expected = w.at(arrow + 1);
    if (status_name(outcome) != expected) {
      throw Failure{"expected " + expected + ", got " + status_name(outcome) + ": " + outcome.reply.status.message()};
    }
    for (std::size_t i = arrow + 2; i < w.size(); ++i) {
      if (outcome.reply.status.is_ok()) {
        const std::string got = outcome.reply.orders.empty() ? "" : order_status(outcome.reply.orders[0].status);
        if (got != w[i]) throw Failure{"expected order " + w[i] + ", got " + got};
      } else if (outcome.reply.status.message().find(w[i]) == std::string::npos) {
        throw Failure{"message \"" + outcome.reply.status.message() + "\" does not contain \"" + w[i] + "\""};
      }
    }
  }

  /// Lines of a fixed shape must have exactly that many words.
  static void expect_words(const std::vector<std::string>& w, std::size_t count) {
    if (w.size() != count) {
      throw Failure{"expected " + std::to_string(count) + " words, got " + std::to_string(w.size())};
    }
  }

  /// "#N": the N-th order placed or offered in this file.
  OrderId order_ref(const std::string& word) const {
    if (word.empty() || word[0] != '#') throw Failure{"expected #N, got " + word};
    const std::size_t n = static_cast<std::size_t>(number(word.substr(1)));
    return n >= 1 && n <= placed_.size() ? placed_[n - 1] : 999'999;
  }

  void step(const std::string& text) {
    const std::vector<std::string> w = words(text);
    const std::string& verb = w.at(0);
    if (verb == "participant" || verb == "issue") expect_words(w, verb == "issue" ? 4 : 3);
    if (verb == "deposit") expect_words(w, 3);
    const Principal op{Role::operator_, 0, "ops"};
    if (verb == "participant") {
      static const std::map<std::string, ParticipantType> types = {
          {"key_emitting_unit", ParticipantType::key_emitting_unit},
          {"institution", ParticipantType::institution},
          {"natural_person", ParticipantType::natural_person}};
      const Outcome out = execute(op, CreateParticipant{w.at(1), w.at(1), types.at(w.at(2)), {}});
      if (!out.reply.status.is_ok()) throw Failure{out.reply.status.message()};
      participants_[w.at(1)] = out.reply.participants.at(0);
    } else if (verb == "deposit") {
      const Outcome out =
          execute(op, MoveCash{participant(w.at(1)).cash_account, Cash{number(w.at(2))}, "k" + std::to_string(now_), false});
      if (!out.reply.status.is_ok()) throw Failure{out.reply.status.message()};
      deposited_ += number(w.at(2));
    } else if (verb == "issue") {
      // Issuance counts against the caps of the vintage year: the runner sets a generous one first.
      const Principal registry_authority{Role::registry_authority, 0, "registry"};
      if (const auto year = registry::allowance_vintage(w.at(2)); year && capped_years_.insert(*year).second) {
        const Outcome cap =
            execute(registry_authority, SetCap{*year, "scenario", Qty{INT64_MAX / 2}, 10'000, "scenario"});
        if (!cap.reply.status.is_ok()) throw Failure{cap.reply.status.message()};
      }
      const Outcome out = execute(registry_authority,
                                  IssueAllowances{w.at(2), participant(w.at(1)).holding_account, Qty{number(w.at(3))},
                                                  "scenario"});
      if (!out.reply.status.is_ok()) throw Failure{out.reply.status.message()};
    } else if (verb == "place") {
      // place CODE buy|sell INSTRUMENT QTY @ PRICE [day|ioc|fok|gtc] [id=X] -> STATUS ...
      const ParticipantRecord& p = participant(w.at(1));
      PlaceOrder order;
      order.side = w.at(2) == "buy" ? Side::buy : w.at(2) == "sell" ? Side::sell : static_cast<Side>(0);
      order.instrument = w.at(3);
      order.quantity = Qty{number(w.at(4))};
      if (w.at(5) != "@") throw Failure{"expected '@ PRICE'"};
      if (w.at(6) == "market") {
        order.type = OrderType::market;
        order.time_in_force = TimeInForce::ioc;
      } else {
        order.price = Price{number(w.at(6))};
      }
      std::size_t i = 7;
      for (; i < w.size() && w[i] != "->"; ++i) {
        if (w[i] == "day") order.time_in_force = TimeInForce::day;
        else if (w[i] == "ioc") order.time_in_force = TimeInForce::ioc;
        else if (w[i] == "fok") order.time_in_force = TimeInForce::fok;
        else if (w[i] == "gtc") order.time_in_force = TimeInForce::gtc;
        else if (w[i].rfind("id=", 0) == 0) order.client_order_id = w[i].substr(3);
        else throw Failure{"unknown order option " + w[i]};
      }
      const Outcome out = execute(Principal{Role::trader, p.id, p.code}, order);
      const bool repeat = !out.reply.orders.empty() &&
                          std::find(placed_.begin(), placed_.end(), out.reply.orders[0].id) != placed_.end();
      if (out.reply.status.is_ok() && !out.reply.orders.empty() && !repeat) {  // a resubmission is no new order
        placed_.push_back(out.reply.orders[0].id);
        for (const TradeRecord& t : out.reply.trades) trades_.push_back(t);
      }
      check_result(out, w, i);
    } else if (verb == "cancel") {
      // cancel CODE #N -> STATUS ...   (#N: the N-th order placed in this file)
      const ParticipantRecord& p = participant(w.at(1));
      const std::size_t n = static_cast<std::size_t>(number(w.at(2).substr(1)));
      const OrderId id = n >= 1 && n <= placed_.size() ? placed_[n - 1] : 999'999;
      check_result(execute(Principal{Role::trader, p.id, p.code}, CancelOrder{id}), w, 3);
    } else if (verb == "clock") {
      // clock YYYY-MM-DD HH:MM   (Asia/Shanghai)
      expect_words(w, 3);
      const auto date = matching::parse_date(w.at(1));
      if (!date || w.at(2).size() != 5 || w.at(2)[2] != ':') throw Failure{"expected: clock YYYY-MM-DD HH:MM"};
      const auto local = std::chrono::sys_days{*date} + std::chrono::hours{number(w.at(2).substr(0, 2))} +
                         std::chrono::minutes{number(w.at(2).substr(3, 2))};
      now_ = std::chrono::duration_cast<std::chrono::nanoseconds>((local - matching::kShanghaiOffset).time_since_epoch())
                 .count();
    } else if (verb == "amend") {
      // amend CODE #N [price=P] [qty=Q] -> STATUS [kept|requeued] ...
      const ParticipantRecord& p = participant(w.at(1));
      AmendOrder amend{order_ref(w.at(2)), Price{0}, Qty{0}};
      std::size_t i = 3;
      for (; i < w.size() && w[i] != "->"; ++i) {
        if (w[i].rfind("price=", 0) == 0) amend.new_price = Price{number(w[i].substr(6))};
        else if (w[i].rfind("qty=", 0) == 0) amend.new_quantity = Qty{number(w[i].substr(4))};
        else throw Failure{"unknown amend option " + w[i]};
      }
      const Outcome out = execute(Principal{Role::trader, p.id, p.code}, amend);
      for (const TradeRecord& t : out.reply.trades) trades_.push_back(t);
      std::vector<std::string> checked;
      for (const std::string& word : w) {
        if (word == "kept" || word == "requeued") {
          if (out.reply.priority_kept != (word == "kept")) throw Failure{"time priority was not " + word};
        } else {
          checked.push_back(word);
        }
      }
      check_result(out, checked, i);
    } else if (verb == "cancelall") {
      // cancelall CODE [INSTRUMENT] -> STATUS
      const ParticipantRecord& p = participant(w.at(1));
      CancelAllOrders command;
      std::size_t i = 2;
      if (w.at(2) != "->") command.instrument = w.at(i++);
      check_result(execute(Principal{Role::trader, p.id, p.code}, command), w, i);
    } else if (verb == "controls") {
      // controls CODE stp=cancel_incoming|cancel_resting|cancel_both | suspend REASON | unsuspend
      SetParticipantControls command;
      command.participant = participant(w.at(1)).id;
      if (w.at(2).rfind("stp=", 0) == 0) {
        static const std::map<std::string, SelfTradePrevention> modes = {
            {"cancel_incoming", SelfTradePrevention::cancel_incoming},
            {"cancel_resting", SelfTradePrevention::cancel_resting},
            {"cancel_both", SelfTradePrevention::cancel_both}};
        command.self_trade = modes.at(w.at(2).substr(4));
      } else if (w.at(2) == "suspend") {
        command.suspended = true;
        command.reason = w.at(3);
      } else if (w.at(2) == "unsuspend") {
        command.suspended = false;
      } else {
        throw Failure{"unknown control " + w.at(2)};
      }
      const Outcome out = execute(op, command);
      if (!out.reply.status.is_ok()) throw Failure{out.reply.status.message()};
    } else if (verb == "halt" || verb == "resume") {
      // halt INSTRUMENT|market REASON -> STATUS ; resume INSTRUMENT|market -> STATUS
      const std::string target = w.at(1) == "market" ? "" : w.at(1);
      if (verb == "halt") {
        check_result(execute(op, HaltTrading{target, w.at(2)}), w, 3);
      } else {
        check_result(execute(op, ResumeTrading{target}), w, 2);
      }
    } else if (verb == "reference") {
      // reference INSTRUMENT PRICE -> STATUS ...
      check_result(execute(op, SetReferencePrice{w.at(1), Price{number(w.at(2))}, "scenario"}), w, 3);
    } else if (verb == "holidays") {
      // holidays YEAR DATE... -> STATUS ...
      SetTradingCalendar command{static_cast<int>(number(w.at(1))), {}};
      std::size_t i = 2;
      for (; i < w.size() && w[i] != "->"; ++i) command.holidays.push_back(w[i]);
      check_result(execute(op, command), w, i);
    } else if (verb == "eod") {
      // eod DATE -> STATUS ...
      const Outcome out = execute(op, RunEndOfDay{w.at(1)});
      check_result(out, w, 2);
      last_eod_band_cancelled_ = out.reply.band_cancelled_orders;
    } else if (verb == "offer") {
      // offer CODE buy|sell INSTRUMENT QTY @ PRICE [to=CODE] [id=X] -> STATUS ...
      const ParticipantRecord& p = participant(w.at(1));
      OfferBlockTrade offer;
      offer.side = w.at(2) == "buy" ? Side::buy : Side::sell;
      offer.instrument = w.at(3);
      offer.quantity = Qty{number(w.at(4))};
      if (w.at(5) != "@") throw Failure{"expected '@ PRICE'"};
      offer.price = Price{number(w.at(6))};
      std::size_t i = 7;
      for (; i < w.size() && w[i] != "->"; ++i) {
        if (w[i].rfind("to=", 0) == 0) offer.counterparty = participant(w[i].substr(3)).id;
        else if (w[i].rfind("id=", 0) == 0) offer.client_order_id = w[i].substr(3);
        else throw Failure{"unknown offer option " + w[i]};
      }
      const Outcome out = execute(Principal{Role::trader, p.id, p.code}, offer);
      if (out.reply.status.is_ok() && !out.reply.orders.empty()) placed_.push_back(out.reply.orders[0].id);
      check_result(out, w, i);
    } else if (verb == "accept") {
      // accept CODE #N QTY @ PRICE -> STATUS ...
      const ParticipantRecord& p = participant(w.at(1));
      if (w.at(4) != "@") throw Failure{"expected: accept CODE #N TONNES @ PRICE"};
      const Outcome out = execute(Principal{Role::trader, p.id, p.code},
                                  AcceptBlockTrade{order_ref(w.at(2)), Price{number(w.at(5))}, Qty{number(w.at(3))}, ""});
      for (const TradeRecord& t : out.reply.trades) trades_.push_back(t);
      check_result(out, w, 6);
    } else if (verb == "fees") {
      // fees listed_buy=BPS listed_sell=BPS block_buy=BPS block_sell=BPS: the
      // file's fee schedule; only as its first command.
      expect_words(w, 5);
      if (now_ != kStart) throw Failure{"fees must come before every other command"};
      config_.fees.listed_buy_bps = static_cast<int>(keyed(w.at(1), "listed_buy"));
      config_.fees.listed_sell_bps = static_cast<int>(keyed(w.at(2), "listed_sell"));
      config_.fees.block_buy_bps = static_cast<int>(keyed(w.at(3), "block_buy"));
      config_.fees.block_sell_bps = static_cast<int>(keyed(w.at(4), "block_sell"));
      exchange_.emplace(config_);
    } else if (verb == "expect") {
      expect(w);
    } else {
      throw Failure{"unknown command " + verb};
    }
  }

  void expect(const std::vector<std::string>& w) {
    const std::string& what = w.at(1);
    static const std::map<std::string, std::size_t> sizes = {{"trades", 3}, {"trade", 8}, {"cash", 6}, {"units", 7}};
    if (auto size = sizes.find(what); size != sizes.end()) expect_words(w, size->second);
    if (what == "book") expect_words(w, w.at(3) == "empty" ? 4 : 7);
    if (what == "trades") {
      if (static_cast<std::int64_t>(trades_.size()) != number(w.at(2))) {
        throw Failure{"expected " + w.at(2) + " trades, have " + std::to_string(trades_.size())};
      }
    } else if (what == "trade") {
      // expect trade N buyer=CODE seller=CODE QTY @ PRICE
      const std::size_t n = static_cast<std::size_t>(number(w.at(2)));
      if (n < 1 || n > trades_.size()) throw Failure{"no trade " + w.at(2)};
      const TradeRecord& t = trades_[n - 1];
      if (w.at(3).rfind("buyer=", 0) != 0 || w.at(4).rfind("seller=", 0) != 0 || w.at(6) != "@") {
        throw Failure{"expected: expect trade N buyer=CODE seller=CODE TONNES @ PRICE"};
      }
      const std::string buyer = w.at(3).substr(6), seller = w.at(4).substr(7);
      if (t.buyer != participant(buyer).id || t.seller != participant(seller).id ||
          t.quantity.value != number(w.at(5)) || t.price.value != number(w.at(7))) {
        throw Failure{"trade " + w.at(2) + " is " + std::to_string(t.quantity.value) + " @ " +
                      std::to_string(t.price.value) + " buyer " + std::to_string(t.buyer) + " seller " +
                      std::to_string(t.seller)};
      }
    } else if (what == "fees") {
      // expect fees N buyer=FEN seller=FEN: the fees of the N-th trade
      expect_words(w, 5);
      const std::size_t n = static_cast<std::size_t>(number(w.at(2)));
      if (n < 1 || n > trades_.size()) throw Failure{"no trade " + w.at(2)};
      const TradeRecord& t = trades_[n - 1];
      if (t.buyer_fee.value != keyed(w.at(3), "buyer") || t.seller_fee.value != keyed(w.at(4), "seller")) {
        throw Failure{"trade " + w.at(2) + " fees are buyer=" + std::to_string(t.buyer_fee.value) +
                      " seller=" + std::to_string(t.seller_fee.value)};
      }
    } else if (what == "fee_account") {
      // expect fee_account FEN: the exchange fee account's balance
      expect_words(w, 3);
      const auto fee = exchange_->clearing().account(settlement::kFeeCashAccount);
      if (fee.total().value != number(w.at(2))) throw Failure{"fee account holds " + std::to_string(fee.total().value)};
    } else if (what == "conservation") {
      // expect conservation: all cash (fee account included) = deposits - withdrawals
      expect_words(w, 2);
      if (exchange_->clearing().total().value != deposited_) {
        throw Failure{"all cash sums to " + std::to_string(exchange_->clearing().total().value) + ", deposits to " +
                      std::to_string(deposited_)};
      }
    } else if (what == "book") {
      // expect book INSTRUMENT empty | expect book INSTRUMENT bid|ask PRICE QTY ORDERS (the best level)
      const matching::LadderBook* book = exchange_->book(w.at(2));
      if (book == nullptr) throw Failure{"unknown instrument"};
      if (w.at(3) == "empty") {
        if (book->order_count() != 0) throw Failure{std::to_string(book->order_count()) + " orders rest"};
        return;
      }
      const auto levels = book->depth(w.at(3) == "bid" ? Side::buy : Side::sell, 1);
      if (levels.empty()) throw Failure{"no " + w.at(3)};
      if (levels[0].price.value != number(w.at(4)) || levels[0].quantity.value != number(w.at(5)) ||
          levels[0].order_count != static_cast<std::uint32_t>(number(w.at(6)))) {
        throw Failure{"best " + w.at(3) + " is " + std::to_string(levels[0].price.value) + " " +
                      std::to_string(levels[0].quantity.value) + " t in " + std::to_string(levels[0].order_count)};
      }
    } else if (what == "cash") {
      // expect cash CODE available=N reserved=N unsettled=N
      const auto cash = exchange_->clearing().account(participant(w.at(2)).cash_account);
      if (cash.available.value != keyed(w.at(3), "available") || cash.reserved.value != keyed(w.at(4), "reserved") ||
          cash.unsettled.value != keyed(w.at(5), "unsettled")) {
        throw Failure{"cash is available=" + std::to_string(cash.available.value) + " reserved=" +
                      std::to_string(cash.reserved.value) + " unsettled=" + std::to_string(cash.unsettled.value)};
      }
    } else if (what == "units") {
      // expect units CODE INSTRUMENT available=N reserved=N pending=N
      const auto h = exchange_->registry().holding(participant(w.at(2)).holding_account, w.at(3));
      if (h.available.value != keyed(w.at(4), "available") || h.reserved.value != keyed(w.at(5), "reserved") ||
          h.pending.value != keyed(w.at(6), "pending")) {
        throw Failure{"units are available=" + std::to_string(h.available.value) + " reserved=" +
                      std::to_string(h.reserved.value) + " pending=" + std::to_string(h.pending.value)};
      }
    } else if (what == "order") {
      // expect order #N STATUS
      expect_words(w, 4);
      // As journaled: the engine lets go of an order closed in a trading day that has ended.
      auto found = orders_.find(order_ref(w.at(2)));
      if (found == orders_.end()) throw Failure{"no order " + w.at(2)};
      const OrderRecord* order = &found->second;
      if (const OrderRecord* held = exchange_->order(order->id); held != nullptr && held->status != order->status) {
        throw Failure{"order " + w.at(2) + " is " + order_status(held->status) + " in the engine, " +
                      order_status(order->status) + " as journaled"};
      }
      if (order_status(order->status) != w.at(3)) throw Failure{"order " + w.at(2) + " is " + order_status(order->status)};
    } else if (what == "band_cancelled") {
      // expect band_cancelled N: the last end of day's count of GTC orders outside the new band
      expect_words(w, 3);
      if (last_eod_band_cancelled_ != static_cast<std::uint64_t>(number(w.at(2)))) {
        throw Failure{"the last end of day cancelled " + std::to_string(last_eod_band_cancelled_) +
                      " orders outside the band"};
      }
    } else if (what == "reference") {
      // expect reference INSTRUMENT PRICE
      expect_words(w, 4);
      const InstrumentState* state = exchange_->instrument_state(w.at(2));
      if (state == nullptr) throw Failure{"unknown instrument"};
      if (state->reference.value != number(w.at(3))) {
        throw Failure{"reference is " + std::to_string(state->reference.value)};
      }
    } else if (what == "trading_date") {
      expect_words(w, 3);
      if (exchange_->market_state().trading_date != w.at(2)) {
        throw Failure{"trading date is " + exchange_->market_state().trading_date};
      }
    } else {
      throw Failure{"unknown expectation " + what};
    }
  }

  Config config_;
  std::optional<Exchange> exchange_;
  static constexpr UnixNanos kStart = 1'763'949'600'000'000'000;
  UnixNanos now_ = kStart;
  std::int64_t deposited_ = 0;
  std::map<std::string, ParticipantRecord> participants_;
  std::set<int> capped_years_;
  std::vector<OrderId> placed_;
  std::uint64_t last_eod_band_cancelled_ = 0;
  std::map<OrderId, OrderRecord> orders_;  ///< each order's latest OrderChanged
  std::vector<TradeRecord> trades_;
};

/// Every *.txt in the scenario directory, sorted.
std::vector<std::string> scenario_files() {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(CARBON_SCENARIO_DIR)) {
    if (entry.path().extension() == ".txt") out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class ScenarioTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScenarioTest, RunsAsWritten) {
  Config config = default_config();
  for (auto& instrument : config.instruments) {
    instrument.reference_price = Price{5'000};
    if (instrument.code == "CEA2023") instrument.tick = Price{5};
    if (instrument.code == "CEA2022") instrument.lot = Qty{10};
    if (instrument.code == "CEA2025") instrument.gtc_enabled = true;
    if (instrument.code == "CEA2021") instrument.position_limit = Qty{1'000};
    if (instrument.code == "CEA19-20") instrument.reference_price = Price{0};
  }
  config.holidays = {"2025-12-25"};
  ScenarioRunner runner(config);
  const auto failures = runner.run(std::string(CARBON_SCENARIO_DIR) + "/" + GetParam());
  for (const auto& failure : failures) ADD_FAILURE() << failure;
}

TEST(ScenarioFilesTest, TheRulebookIsNotEmpty) { EXPECT_GE(scenario_files().size(), 5u); }

INSTANTIATE_TEST_SUITE_P(Rulebook, ScenarioTest, ::testing::ValuesIn(scenario_files()),
                         [](const auto& param_info) {
                           std::string name = param_info.param;
                           name = name.substr(0, name.find('.'));
                           return name;
                         });

}  // namespace
}  // namespace carbon::engine
