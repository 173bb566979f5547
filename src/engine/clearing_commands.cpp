// Clearing at end of day and its queries: settlement statements per
// participant, the conservation check (reconciliation) with its market-wide
// halt and surveillance alert when it fails, and the reads of all three.
#include <algorithm>
#include <iterator>
#include <set>
#include <unordered_map>

#include "common/overloaded.h"
#include "engine/exchange.h"
#include "engine/step.h"
#include "matching/trading_rules.h"

namespace carbon::engine {
namespace {

bool is_date(const std::string& text) { return text.empty() || matching::parse_date(text).has_value(); }

}  // namespace

void Exchange::note_day_transfer(const registry::LedgerEntry& entry) {
  if (entry.kind == registry::TransferKind::trade || entry.kind == registry::TransferKind::repo_first_leg ||
      entry.kind == registry::TransferKind::repo_second_leg || entry.from_account == entry.to_account) {
    return;  // trades and repo legs are bought and sold, not received and delivered
  }
  day_transfers_[{entry.to_account, entry.instrument}].first += entry.quantity;
  day_transfers_[{entry.from_account, entry.instrument}].second += entry.quantity;
}

Status Exchange::check_settlement_hold(std::string_view what) const {
  if (market_.settlement_hold.empty()) return Status::ok();
  return failed_precondition("settlement hold: " + std::string(what) + " is refused while " +
                             market_.settlement_hold);
}

ReconciliationRecord Exchange::reconcile(UnixNanos now) const {
  ReconciliationRecord report;
  report.as_of_sequence = last_sequence_;
  report.computed_at = now;
  CashReconciliation& cash = report.cash;
  for (const auto& [key, movement] : cash_movements_) {
    (movement.withdrawal ? cash.withdrawals : cash.deposits) += movement.amount;
  }
  for (const auto& [id, participant] : participants_) {
    cash.participant_balances += clearing_.account(participant.cash_account).total();
  }
  cash.fee_account = clearing_.account(settlement::kFeeCashAccount).total();
  cash.proceeds_account = clearing_.account(settlement::kAuctionProceedsCashAccount).total();
  cash.difference = cash.deposits - cash.withdrawals - cash.participant_balances - cash.fee_account -
                    cash.proceeds_account;
  cash.balanced = cash.difference.is_zero();
  report.balanced = cash.balanced;
  for (const auto& [code, instrument] : instruments_) {
    UnitReconciliation units;
    units.instrument = code;
    units.issued = Qty{0} - registry_.holding(registry::kIssuanceAccount, code).total();
    for (const auto& [id, participant] : participants_) {
      units.participant_holdings += registry_.holding(participant.holding_account, code).total();
    }
    units.reserve_account = registry_.holding(registry::kReserveAccount, code).total();
    units.auction_account = registry_.holding(registry::kAuctionAccount, code).total();
    units.surrendered = registry_.holding(registry::kSurrenderAccount, code).total();
    units.retired = registry_.holding(registry::kCancellationAccount, code).total();
    units.difference = units.issued - units.participant_holdings - units.reserve_account - units.auction_account -
                       units.surrendered - units.retired;
    units.balanced = units.difference.is_zero();
    report.balanced = report.balanced && units.balanced;
    report.units.push_back(std::move(units));
  }
  return report;
}

StatementRecord Exchange::statement_of(const ParticipantRecord& participant, const std::string& date,
                                       Sequence sequence, UnixNanos at, const std::vector<const TradeRecord*>& trades,
                                       const std::vector<const RepoRecord*>& repos) const {
  StatementRecord st;
  st.participant = participant.id;
  st.trading_date = date;
  st.cash_account = participant.cash_account;
  st.holding_account = participant.holding_account;
  st.generated_at = at;
  st.sequence = sequence;
  const StatementRecord* previous = nullptr;
  if (auto found = last_statement_.find(participant.id); found != last_statement_.end()) previous = &found->second;
  if (previous != nullptr) st.opening_cash = previous->closing_cash.total();
  // The movements are keyed by account first: this account's only.
  for (auto it = cash_movements_.lower_bound({participant.cash_account, false, std::string()});
       it != cash_movements_.end() && std::get<0>(it->first) == participant.cash_account; ++it) {
    const CashMovementRecord& movement = it->second;
    if (movement.sequence <= market_.day_opened_sequence) continue;
    (movement.withdrawal ? st.withdrawals : st.deposits) += movement.amount;
  }
  st.closing_cash = clearing_.account(participant.cash_account);

  std::map<std::string, StatementLine> lines;
  auto line = [&](const std::string& code) -> StatementLine& {
    StatementLine& l = lines[code];
    l.instrument = code;
    return l;
  };
  if (previous != nullptr) {
    for (const StatementLine& old : previous->lines) line(old.instrument).opening = old.closing.total();
  }
  st.trades.reserve(trades.size());
  for (const TradeRecord* t : trades) st.trades.push_back(*t);
  for (const TradeRecord& t : st.trades) {
    const Cash value = *notional(t.price, t.quantity);
    StatementLine& l = line(t.instrument);
    if (t.buyer == participant.id) {
      l.bought += t.quantity;
      l.bought_value += value;
      l.fees += t.buyer_fee;
      st.bought_value += value;
      st.fees += t.buyer_fee;
    }
    if (t.seller == participant.id) {
      l.sold += t.quantity;
      l.sold_value += value;
      l.fees += t.seller_fee;
      st.sold_value += value;
      st.fees += t.seller_fee;
    }
  }
  repo_statement_legs(participant, repos, st, lines);
  // Keyed by account first: this account's only.
  for (auto it = day_transfers_.lower_bound({participant.holding_account, std::string()});
       it != day_transfers_.end() && it->first.first == participant.holding_account; ++it) {
    const auto& [key, moved] = *it;
    StatementLine& l = line(key.second);
    l.received += moved.first;
    l.delivered += moved.second;
  }
  for (const registry::HoldingRecord& holding : registry_.holdings_of(participant.holding_account)) {
    if (!holding.holding.total().is_zero()) line(holding.instrument);
  }
  for (auto& [code, l] : lines) {
    l.closing = registry_.holding(participant.holding_account, code);
    if (l.opening.is_zero() && l.bought.is_zero() && l.sold.is_zero() && l.received.is_zero() &&
        l.delivered.is_zero() && l.closing.total().is_zero()) {
      continue;  // nothing held or moved
    }
    if (auto found = instruments_.find(code); found != instruments_.end()) {
      l.closing_price = found->second.state.previous_close;
    }
    st.lines.push_back(std::move(l));
  }
  return st;
}

void Exchange::close_day_clearing(Step& step, const std::string& date) {
  // The day's trades by participant, in one pass (each statement then reads only its own).
  std::unordered_map<ParticipantId, std::vector<const TradeRecord*>> day_trades;
  auto first_today = trades_.end();
  while (first_today != trades_.begin() && std::prev(first_today)->sequence > market_.day_opened_sequence) {
    --first_today;
  }
  for (auto it = first_today; it != trades_.end(); ++it) {
    day_trades[it->buyer].push_back(&*it);
    if (it->seller != it->buyer) day_trades[it->seller].push_back(&*it);
  }
  const std::vector<const TradeRecord*> none;
  const std::vector<const RepoRecord*> repos = repos_with_legs_today();
  for (const auto& [id, participant] : participants_) {
    const auto own = day_trades.find(id);
    StatementRecord st =
        statement_of(participant, date, step.sequence, step.at, own == day_trades.end() ? none : own->second, repos);
    alert_large_holdings(step, participant, st);  // surveillance.cpp
    step.events.push_back(StatementWritten{st});
    st.trades.clear();  // the opening of the next statement needs only the closing figures
    last_statement_.insert_or_assign(id, std::move(st));
    ++step.reply.statements_written;
  }
  day_transfers_.clear();

  ReconciliationRecord report = reconcile(step.at);
  report.trading_date = date;
  report.as_of_sequence = step.sequence;
  report.statements_written = step.reply.statements_written;
  step.events.push_back(ReconciliationRecorded{report});
  if (report.balanced && !market_.settlement_hold.empty()) {
    market_.settlement_hold.clear();
    market_dirty_ = true;
  }
  if (!report.balanced) {
    std::string what;
    std::int64_t metric = 0;
    if (!report.cash.balanced) {
      what = "cash: deposits minus withdrawals differ from all balances by " + std::to_string(report.cash.difference.value) +
             " fen";
      metric = report.cash.difference.value;
    }
    std::string instrument;
    for (const UnitReconciliation& units : report.units) {
      if (units.balanced) continue;
      if (!what.empty()) what += "; ";
      what += units.instrument + ": issued differs from holdings plus system accounts by " +
              std::to_string(units.difference.value) + " t";
      if (metric == 0) metric = units.difference.value;
      if (instrument.empty()) instrument = units.instrument;
    }
    market_.halted = true;
    market_.halt_reason = "reconciliation failed at the end of day " + date + " (" + what +
                          "); trading is halted until an operator resumes it";
    market_.settlement_hold = "the end-of-day reconciliation of " + date + " fails (" + what +
                       "); the hold ends when a reconciliation balances (the next end of day, or ResumeTrading)";
    market_dirty_ = true;
    AlertRecord alert;
    alert.type = AlertRecord::kReconciliationFailure;
    alert.severity = AlertRecord::kSeverityHigh;
    alert.instrument = report.cash.balanced ? instrument : "";
    alert.description = "end-of-day reconciliation of " + date + " failed: " + what;
    alert.metric_value = metric;
    alert.threshold_value = 0;
    alert.metric_unit = report.cash.balanced ? "tonnes" : "fen";
    alert.window_start = 0;
    alert.window_end = step.at;
    raise_alert(step, std::move(alert));
  }
  step.reply.reconciliation = report;
  reconciliations_[date] = std::move(report);
}

Status Exchange::clearing_query(Reply& reply, const Principal& who, const CommandBody& body, UnixNanos now) const {
  const bool staff = who.role != Role::trader;
  return std::visit(
      Overloaded{
          [&](const GetReconciliation& q) -> Status {
            if (!staff) return permission_denied("GetReconciliation is for operators, regulators and auditors");
            if (!is_date(q.trading_date)) return invalid_argument("trading_date must be YYYY-MM-DD");
            if (q.trading_date.empty()) {
              reply.reconciliation = reconcile(now);
              return Status::ok();
            }
            auto found = reconciliations_.find(q.trading_date);
            if (found == reconciliations_.end()) {
              return not_found("no end of day has been recorded for " + q.trading_date);
            }
            reply.reconciliation = found->second;
            return Status::ok();
          },
          [&](const ListSurveillanceAlerts& q) -> Status {
            if (!staff) return permission_denied("ListSurveillanceAlerts is for regulators and auditors");
            if (q.to != 0 && q.from > q.to) return invalid_argument("from_unix_nanos is after to_unix_nanos");
            for (auto it = alerts_.rbegin(); it != alerts_.rend(); ++it) {
              const AlertRecord& a = *it;
              if (a.detected_at < q.from || (q.to != 0 && a.detected_at >= q.to)) continue;
              if (q.type != 0 && a.type != q.type) continue;
              if (q.min_severity != 0 && a.severity < q.min_severity) continue;
              if (!q.instrument.empty() && a.instrument != q.instrument) continue;
              if (q.participant != 0 &&
                  std::find(a.participants.begin(), a.participants.end(), q.participant) == a.participants.end()) {
                continue;
              }
              reply.alerts.push_back(a);
            }
            return Status::ok();
          },
          [&](const auto&) -> Status { return Status{ErrorCode::unimplemented, "not a clearing query"}; },
      },
      body);
}

void Exchange::restore_clearing(const RecoveredState& state) {
  for (const ReconciliationRecord& report : state.reconciliations) reconciliations_[report.trading_date] = report;
  alerts_ = state.alerts;
  std::sort(alerts_.begin(), alerts_.end(), [](const AlertRecord& a, const AlertRecord& b) { return a.id < b.id; });
  for (const StatementRecord& st : state.statements) {
    auto [it, inserted] = last_statement_.try_emplace(st.participant, st);
    if (!inserted && it->second.trading_date < st.trading_date) it->second = st;
    it->second.trades.clear();
  }
  for (const auto& [from, to, instrument, quantity] : state.day_transfers) {
    day_transfers_[{to, instrument}].first += quantity;
    day_transfers_[{from, instrument}].second += quantity;
  }
}

}  // namespace carbon::engine
