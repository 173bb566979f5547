// Runs the rulebook: tests/scenarios/*.txt, commands in, results out, each
// line checked against the Exchange. The file format is described in
// tests/scenarios/README.md.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "engine/exchange.h"

namespace carbon::engine {
namespace {

struct Failure {
  std::string what;
};

class ScenarioRunner {
 public:
  explicit ScenarioRunner(Config config) : config_(std::move(config)), exchange_(config_) {}

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
    return exchange_.execute(Command{who, std::move(body)}, now_);
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
    } else if (verb == "issue") {
      const Outcome out = execute(Principal{Role::registry_authority, 0, "registry"},
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
      order.price = Price{number(w.at(6))};
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
    } else if (what == "book") {
      // expect book INSTRUMENT empty | expect book INSTRUMENT bid|ask PRICE QTY ORDERS (the best level)
      const matching::OrderBook* book = exchange_.book(w.at(2));
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
      const auto cash = exchange_.clearing().account(participant(w.at(2)).cash_account);
      if (cash.available.value != keyed(w.at(3), "available") || cash.reserved.value != keyed(w.at(4), "reserved") ||
          cash.unsettled.value != keyed(w.at(5), "unsettled")) {
        throw Failure{"cash is available=" + std::to_string(cash.available.value) + " reserved=" +
                      std::to_string(cash.reserved.value) + " unsettled=" + std::to_string(cash.unsettled.value)};
      }
    } else if (what == "units") {
      // expect units CODE INSTRUMENT available=N reserved=N pending=N
      const auto h = exchange_.registry().holding(participant(w.at(2)).holding_account, w.at(3));
      if (h.available.value != keyed(w.at(4), "available") || h.reserved.value != keyed(w.at(5), "reserved") ||
          h.pending.value != keyed(w.at(6), "pending")) {
        throw Failure{"units are available=" + std::to_string(h.available.value) + " reserved=" +
                      std::to_string(h.reserved.value) + " pending=" + std::to_string(h.pending.value)};
      }
    } else {
      throw Failure{"unknown expectation " + what};
    }
  }

  Config config_;
  Exchange exchange_;
  UnixNanos now_ = 1'763'949'600'000'000'000;
  std::map<std::string, ParticipantRecord> participants_;
  std::vector<OrderId> placed_;
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
    if (instrument.code == "CEA2023") instrument.tick = Price{5};
    if (instrument.code == "CEA2022") instrument.lot = Qty{10};
  }
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
