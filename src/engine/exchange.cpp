#include "common/overloaded.h"
#include "engine/exchange.h"

#include "engine/step.h"
#include "engine/validation.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <stdexcept>
#include <tuple>

namespace carbon::engine {
namespace {

std::string fen(Price p) { return std::to_string(p.value) + " fen"; }

/// Basis points as a percentage without rounding: 1000 → "10%", 1050 → "10.5%", 5 → "0.05%".
std::string percent_of_bps(int bps) {
  std::string out = std::to_string(bps / 100);
  if (const int rest = bps % 100; rest != 0) {
    out += rest % 10 == 0 ? "." + std::to_string(rest / 10) : (rest < 10 ? ".0" : ".") + std::to_string(rest);
  }
  return out + "%";
}

bool same_order(const OrderRecord& existing, const PlaceOrder& command) {
  return existing.instrument == command.instrument && existing.side == command.side &&
         existing.type == command.type && existing.time_in_force == command.time_in_force &&
         existing.mode == command.mode && (existing.type == OrderType::market || existing.price == command.price) &&
         existing.quantity == command.quantity;
}

matching::SelfTradePrevention book_self_trade_mode(SelfTradePrevention mode) {
  switch (mode) {
    case SelfTradePrevention::cancel_resting: return matching::SelfTradePrevention::cancel_resting;
    case SelfTradePrevention::cancel_both: return matching::SelfTradePrevention::cancel_both;
    case SelfTradePrevention::cancel_incoming: break;
  }
  return matching::SelfTradePrevention::cancel_incoming;
}

Status check_lot(const InstrumentConfig& config, Qty quantity) {
  if (quantity.value % config.lot.value == 0) return Status::ok();
  return failed_precondition("lot rule: quantity " + tonnes(quantity) + " is not a multiple of the " +
                             tonnes(config.lot) + " lot of " + config.code);
}

/// The lot and the listed size limit of a listed order's quantity.
Status check_listed_quantity(const InstrumentConfig& config, Qty quantity) {
  if (Status s = check_lot(config, quantity); !s.is_ok()) return s;
  if (quantity < config.listed_min_quantity) {
    return failed_precondition("listed order size: " + tonnes(quantity) + " is below the listed minimum of " +
                               tonnes(config.listed_min_quantity) + " for " + config.code);
  }
  if (config.listed_max_quantity.is_zero() || quantity <= config.listed_max_quantity) return Status::ok();
  return failed_precondition("listed order size: " + tonnes(quantity) + " exceeds the listed maximum of " +
                             tonnes(config.listed_max_quantity) + "; larger quantities trade as block trades");
}

std::string mode_name(TradingMode mode) { return mode == TradingMode::block ? "block" : "listed"; }

}  // namespace

bool is_query(const CommandBody& body) {
  return std::holds_alternative<GetParticipant>(body) || std::holds_alternative<ListParticipants>(body) ||
         std::holds_alternative<GetOrder>(body) || std::holds_alternative<ListOrders>(body) ||
         std::holds_alternative<ListTrades>(body) || std::holds_alternative<GetBalances>(body) ||
         std::holds_alternative<GetBook>(body) || std::holds_alternative<ListBlockOffers>(body) ||
         std::holds_alternative<GetTradingCalendar>(body) || std::holds_alternative<GetDailyBars>(body) ||
         std::holds_alternative<ListInstruments>(body) || std::holds_alternative<ListCaps>(body) ||
         std::holds_alternative<ListAllocations>(body) || std::holds_alternative<GetComplianceStatus>(body) ||
         std::holds_alternative<ListComplianceStatuses>(body) || std::holds_alternative<ListFreezes>(body) ||
         std::holds_alternative<GetHoldings>(body) || std::holds_alternative<ListEarlyWarnings>(body) ||
         std::holds_alternative<ListPledges>(body) ||
         std::holds_alternative<ListMethodologies>(body) || std::holds_alternative<ListCcerProjects>(body) ||
         std::holds_alternative<ListSerialBlocks>(body) || std::holds_alternative<ListRetirements>(body) ||
         std::holds_alternative<GetReconciliation>(body) || std::holds_alternative<ListSurveillanceAlerts>(body) ||
         std::holds_alternative<ListApiTokens>(body) ||
         std::holds_alternative<ListAuctions>(body) || std::holds_alternative<ListAuctionBids>(body) ||
         std::holds_alternative<ListRepos>(body) || std::holds_alternative<GetAccountBalances>(body);
}

const char* command_name(const CommandBody& body) {
  static constexpr const char* names[] = {
      "CreateParticipant", "MoveCash",         "IssueAllowances",     "PlaceOrder",       "CancelOrder",
      "GetParticipant",    "ListParticipants", "GetOrder",            "ListOrders",       "ListTrades",
      "GetBalances",       "GetBook",          "Refused",             "AmendOrder",       "CancelAllOrders",
      "OfferBlockTrade",   "AcceptBlockTrade", "ListBlockOffers",     "SetParticipantControls",
      "HaltTrading",       "ResumeTrading",    "SetReferencePrice",   "SetTradingCalendar",
      "GetTradingCalendar", "RunEndOfDay",     "GetDailyBars",        "ListInstruments",
      "SetCap",            "ListCaps",         "AllocateFree",        "ListAllocations",  "RecordVerifiedEmissions",
      "Surrender",         "GetComplianceStatus", "ListComplianceStatuses", "CloseComplianceYear", "Freeze",
      "Unfreeze",          "ListFreezes",      "Transfer",            "GetHoldings",      "ListEarlyWarnings",
      "ConfigureComplianceYear", "Pledge",     "ReleasePledge",       "EnforcePledge",    "ListPledges",
      "RegisterMethodology", "ListMethodologies", "RegisterCcerProject", "ListCcerProjects", "IssueCcerCredits",
      "ListSerialBlocks",  "RetireUnits",      "ListRetirements",     "GetReconciliation", "ListSurveillanceAlerts",
      "IssueApiToken",     "RevokeApiToken",   "ListApiTokens",
      "CreateAuction",     "CloseAuction",     "CancelAuction",       "ListAuctions",     "SubmitAuctionBid",
      "ListAuctionBids",   "RegisterRepo",     "ListRepos",           "CreateInstrument", "UpdateInstrumentRules",
      "GetAccountBalances"};
  static_assert(std::size(names) == std::variant_size_v<CommandBody>);
  if (const auto* refused = std::get_if<Refused>(&body)) return refused->command.c_str();
  return names[body.index()];
}

const char* event_name(const Event& event) {
  static constexpr const char* names[] = {"ParticipantCreated",         "CashChanged",           "CashMoved",
                                          "HoldingChanged",             "LedgerAppended",        "OrderChanged",
                                          "TradeExecuted",              "CommandRejected",       "ParticipantControlsChanged",
                                          "InstrumentStateChanged",     "MarketStateChanged",    "CalendarChanged",
                                          "DailyBarRecorded",           "CapChanged",            "AllocationMade",
                                          "ComplianceChanged",          "ShortfallOwedChanged",  "ComplianceYearClosed",
                                          "FreezeChanged",              "IdempotencyKeyUsed",    "ComplianceYearConfigured",
                                          "PledgeChanged",              "MethodologyRegistered",
                                          "CcerProjectChanged",         "CcerIssued",            "CcerBlocksChanged",
                                          "UnitsRetired",               "ReconciliationRecorded", "AlertRaised",
                                          "StatementWritten",           "ApiTokenChanged",       "AuctionChanged",
                                          "RepoChanged",                "InstrumentDefined"};
  static_assert(std::size(names) == std::variant_size_v<Event>);
  return names[event.index()];
}

void Exchange::DayStats::add(Price price, Qty quantity) {
  if (trades == 0) open = high = low = price;
  high = std::max(high, price);
  low = std::min(low, price);
  last = price;
  volume += quantity;
  turnover += *notional(price, quantity);
  ++trades;
}

Exchange::Exchange(const Config& config)
    : fees_(config.fees),
      clearing_(config.proceeds_withdrawable_same_day),
      compliance_defaults_(config.compliance_defaults),
      voluntary_defaults_(config.voluntary_defaults) {
  surveillance_ = config.surveillance;
  // Sized for a day's orders up front: a hash table that grows rehashes every element at once,
  // and the engine answers nothing meanwhile (journal_bench prints the slowest single orders).
  orders_.reserve(config.expected_orders_per_day);
  order_by_client_id_.reserve(config.expected_orders_per_day);
  trades_by_order_.reserve(config.expected_orders_per_day);
  clearing_.open_account(settlement::kFeeCashAccount);
  clearing_.open_account(settlement::kAuctionProceedsCashAccount);
  compliance_defaults_.fees = voluntary_defaults_.fees = config.fees;
  for (const InstrumentConfig& config_instrument : config.instruments) {
    Instrument& instrument = instruments_[config_instrument.code];
    instrument.state.instrument = config_instrument.code;
    instrument.state.reference = config_instrument.reference_price;
    if (Status s = check_band_levels(config_instrument, config_instrument.reference_price,
                                     "instruments." + config_instrument.code + ".reference_price_fen");
        !s.is_ok()) {
      throw std::runtime_error(s.message());
    }
    InstrumentConfig rules = config_instrument;
    rules.fees = config.fees;  // [fees] applies to every configured instrument
    define_instrument(instrument, std::move(rules));
  }
  for (const std::string& text : config.holidays) {
    const auto date = matching::parse_date(text);
    if (!date) throw std::runtime_error("market.holidays: \"" + text + "\" is not a date YYYY-MM-DD");
    holidays_[static_cast<int>(date->year())].push_back(*date);
  }
  std::vector<std::chrono::year_month_day> all;
  for (const auto& [year, days] : holidays_) all.insert(all.end(), days.begin(), days.end());
  calendar_ = matching::TradingCalendar(std::move(all));
}

Outcome Exchange::execute(const Command& command, UnixNanos now) {
  Outcome out;
  out.at = now;
  if (is_query(command.body)) {
    // A fresh exchange's first trading date is set by its first command, which journals it: a query answers
    // with the date a command would open now, and leaves it unset (else a query on a Friday evening would fix
    // Friday in memory only, and Monday's first order would be refused or not depending on a restart).
    const bool date_unset = market_.trading_date.empty();
    const bool was_dirty = market_dirty_;
    ensure_trading_date(now);
    out.reply.status = token_in_force(command.principal, now);
    if (out.reply.status.is_ok()) out.reply.status = validate(command.body);
    if (out.reply.status.is_ok()) out.reply.status = query(out.reply, command.principal, command.body, now);
    if (date_unset) {
      market_.trading_date.clear();
      trading_day_ = {};
      market_dirty_ = was_dirty;
    }
    return out;
  }
  ensure_trading_date(now);
  Step step{last_sequence_ + 1, now, out.events, out.reply, {}, {}};
  const Principal& who = command.principal;
  Status status = token_in_force(who, now);
  if (status.is_ok()) status = validate(command.body);
  if (status.is_ok()) status = std::visit(
      Overloaded{
          [&](const CreateParticipant& c) { return create_participant(step, who, c); },
          [&](const MoveCash& c) {
            return who.role == Role::operator_ ? move_cash(step, c)
                                               : permission_denied("deposits and withdrawals are for operators");
          },
          [&](const IssueAllowances& c) {
            return who.role == Role::registry_authority
                       ? issue_allowances(step, c)
                       : permission_denied("IssueAllowances is for the registry authority");
          },
          [&](const PlaceOrder& c) { return place_order(step, who, c); },
          [&](const CancelOrder& c) { return cancel_order(step, who, c); },
          [&](const AmendOrder& c) { return amend_order(step, who, c); },
          [&](const CancelAllOrders& c) { return cancel_all_orders(step, who, c); },
          [&](const OfferBlockTrade& c) { return offer_block_trade(step, who, c); },
          [&](const AcceptBlockTrade& c) { return accept_block_trade(step, who, c); },
          [&](const SetParticipantControls& c) { return set_participant_controls(step, who, c); },
          [&](const HaltTrading& c) { return halt_trading(step, who, c); },
          [&](const ResumeTrading& c) { return resume_trading(step, who, c); },
          [&](const SetReferencePrice& c) { return set_reference_price(step, who, c); },
          [&](const SetTradingCalendar& c) { return set_trading_calendar(step, who, c); },
          [&](const RunEndOfDay& c) { return run_end_of_day(step, who, c); },
          [&](const SetCap& c) { return set_cap(step, who, c); },
          [&](const AllocateFree& c) { return allocate_free(step, who, c); },
          [&](const RecordVerifiedEmissions& c) { return record_verified_emissions(step, who, c); },
          [&](const Surrender& c) { return surrender(step, who, c); },
          [&](const CloseComplianceYear& c) { return close_compliance_year(step, who, c); },
          [&](const Freeze& c) { return freeze(step, who, c); },
          [&](const Unfreeze& c) { return unfreeze(step, who, c); },
          [&](const TransferUnits& c) { return transfer_units(step, who, c); },
          [&](const ConfigureComplianceYear& c) { return configure_compliance_year(step, who, c); },
          [&](const PledgeUnits& c) { return pledge_units(step, who, c); },
          [&](const ReleasePledge& c) { return release_pledge(step, who, c); },
          [&](const EnforcePledge& c) { return enforce_pledge(step, who, c); },
          [&](const RegisterMethodology& c) { return register_methodology(step, who, c); },
          [&](const RegisterCcerProject& c) { return register_ccer_project(step, who, c); },
          [&](const IssueCcerCredits& c) { return issue_ccer_credits(step, who, c); },
          [&](const RetireUnits& c) { return retire_units(step, who, c); },
          [&](const IssueApiToken& c) { return issue_api_token(step, who, c); },
          [&](const RevokeApiToken& c) { return revoke_api_token(step, who, c); },
          [&](const CreateAuction& c) { return create_auction(step, who, c); },
          [&](const SubmitAuctionBid& c) { return submit_auction_bid(step, who, c); },
          [&](const CloseAuction& c) { return close_auction(step, who, c); },
          [&](const CancelAuction& c) { return cancel_auction(step, who, c); },
          [&](const RegisterRepo& c) { return register_repo(step, who, c); },
          [&](const CreateInstrument& c) { return create_instrument(step, who, c); },
          [&](const UpdateInstrumentRules& c) { return update_instrument_rules(step, who, c); },
          [&](const auto&) { return Status{ErrorCode::internal, "query routed as a command"}; },
      },
      command.body);
  if (status.is_ok()) {
    flush_touched(step);
  } else {
    assert(out.events.empty() && step.touched_cash.empty() && step.touched_holdings.empty());
    out.reply = Reply{};
    out.events.push_back(CommandRejected{command_name(command.body), who.name, status.code(), status.message()});
  }
  out.reply.status = std::move(status);
  if (!out.events.empty()) {
    if (market_dirty_) {
      market_.updated_sequence = step.sequence;
      out.events.push_back(MarketStateChanged{market_});
      market_dirty_ = false;
    }
    last_sequence_ = step.sequence;
    out.sequence = step.sequence;
    out.reply.sequence = step.sequence;
  }
  return out;
}

void Exchange::ensure_trading_date(UnixNanos now) {
  if (!market_.trading_date.empty()) return;
  auto date = matching::shanghai_date(now);
  if (!calendar_.is_trading_day(date)) date = calendar_.next_trading_day(date);
  market_.trading_date = matching::format_date(date);
  trading_day_ = date;
  market_dirty_ = true;
}

const ParticipantRecord* Exchange::trader(const Principal& who) const {
  if (who.role != Role::trader) return nullptr;
  auto found = participants_.find(who.participant);
  return found == participants_.end() ? nullptr : &found->second;
}

SelfTradePrevention Exchange::self_trade_mode(ParticipantId participant) const {
  auto found = controls_.find(participant);
  return found == controls_.end() ? SelfTradePrevention::cancel_incoming : found->second.self_trade;
}

void Exchange::touch_cash(Step& step, AccountId account) {
  if (std::find(step.touched_cash.begin(), step.touched_cash.end(), account) == step.touched_cash.end()) {
    step.touched_cash.push_back(account);
  }
}

void Exchange::touch_holding(Step& step, AccountId account, const std::string& instrument) {
  auto key = std::make_pair(account, instrument);
  if (std::find(step.touched_holdings.begin(), step.touched_holdings.end(), key) == step.touched_holdings.end()) {
    step.touched_holdings.push_back(std::move(key));
  }
}

void Exchange::flush_touched(Step& step) {
  for (registry::LedgerEntry& entry : registry_.take_new_entries()) {
    note_day_transfer(entry);
    step.events.push_back(LedgerAppended{std::move(entry)});
  }
  for (AccountId account : step.touched_cash) {
    step.events.push_back(CashChanged{CashRecord{account, owner_of_cash_account_[account], clearing_.account(account)}});
  }
  for (const auto& [account, instrument] : step.touched_holdings) {
    step.events.push_back(HoldingChanged{registry::HoldingRecord{account, instrument, registry_.holding(account, instrument)}});
    if (instrument == registry::kCcerInstrument) {
      step.events.push_back(CcerBlocksChanged{account, registry_.ccer_blocks_of(account)});
    }
  }
}

std::optional<matching::PriceBand> Exchange::band(const Instrument& instrument, TradingMode mode) const {
  return matching::price_band(instrument.state.reference,
                              mode == TradingMode::block ? instrument.config.block_band_bps
                                                         : instrument.config.listed_band_bps,
                              instrument.config.tick);
}

void Exchange::rebuild_book(Instrument& instrument) {
  // The ladder spans the listed band and every resting order (a GTC order
  // may rest outside a band that moved since it was placed).
  const Price tick = instrument.config.tick;
  auto listed = band(instrument, TradingMode::listed);
  Price low = listed ? listed->low : tick;
  Price high = listed ? listed->high : tick;
  std::vector<matching::BookOrder> resting;
  if (instrument.book) {
    instrument.book->for_each([&](const matching::BookOrder& order) { resting.push_back(order); });
  }
  for (const matching::BookOrder& order : resting) {
    low = std::min(low, order.price);
    high = std::max(high, order.price);
  }
  if (instrument.book && instrument.book->lowest() == low && instrument.book->highest() == high) return;
  auto book = std::make_unique<matching::LadderBook>(low, high, tick, std::max<std::size_t>(1024, resting.size() * 2));
  std::sort(resting.begin(), resting.end(),
            [](const matching::BookOrder& a, const matching::BookOrder& b) { return a.priority < b.priority; });
  for (const matching::BookOrder& order : resting) book->add(order);
  instrument.book = std::move(book);
}

std::vector<std::string> Exchange::instruments_with_orders_outside_band() const {
  std::vector<std::string> out;
  for (const auto& [code, instrument] : instruments_) {
    const auto listed = band(instrument, TradingMode::listed);
    if (!instrument.book || !listed) continue;
    bool outside = false;
    instrument.book->for_each([&](const matching::BookOrder& order) { outside |= !listed->contains(order.price); });
    if (outside) out.push_back(code);
  }
  return out;
}

std::size_t Exchange::cancel_outside_band(Step& step, Instrument& instrument) {
  const auto listed = band(instrument, TradingMode::listed);
  if (!instrument.book || !listed) return 0;
  std::vector<OrderId> outside;
  instrument.book->for_each([&](const matching::BookOrder& order) {
    if (!listed->contains(order.price)) outside.push_back(order.id);
  });
  std::sort(outside.begin(), outside.end());
  for (OrderId id : outside) {
    OrderRecord& order = orders_.at(id);
    remove_resting(step, order, OrderStatus::cancelled);
    step.events.push_back(OrderChanged{order});
  }
  rebuild_book(instrument);
  return outside.size();
}

Status Exchange::check_band_levels(const InstrumentConfig& config, Price reference, const std::string& what) const {
  const auto listed = matching::price_band(reference, config.listed_band_bps, config.tick);
  if (!listed) return Status::ok();
  const std::int64_t levels = (listed->high.value - listed->low.value) / config.tick.value + 1;
  if (levels > kMaxBookLevels) {
    return invalid_argument(what + ": the listed band " + std::to_string(listed->low.value) + "-" +
                            std::to_string(listed->high.value) + " fen around " + fen(reference) + " spans " +
                            std::to_string(levels) + " price levels of " + fen(config.tick) +
                            ", more than the " + std::to_string(kMaxBookLevels) + " an order book holds");
  }
  return Status::ok();
}

// ---- participants and cash -------------------------------------------------

Status Exchange::create_participant(Step& step, const Principal& who, const CreateParticipant& c) {
  if (who.role != Role::operator_) return permission_denied("CreateParticipant is for operators");
  if (participant_by_code_.contains(c.code)) {
    return failed_precondition("participant code \"" + c.code + "\" is already registered");
  }
  ParticipantRecord participant;
  participant.id = ++last_participant_id_;
  participant.code = c.code;
  participant.name = c.name;
  participant.type = c.type;
  participant.holding_account = ++last_account_id_;
  participant.cash_account = ++last_account_id_;
  participant.token_hash = c.token_hash;
  participant.created_sequence = step.sequence;
  registry_.open_account(participant.holding_account);
  clearing_.open_account(participant.cash_account);
  owner_of_cash_account_[participant.cash_account] = participant.id;
  owner_of_holding_account_[participant.holding_account] = participant.id;
  participant_by_code_[participant.code] = participant.id;
  participants_[participant.id] = participant;
  step.events.push_back(ParticipantCreated{participant});
  record_first_token(step, participant);
  touch_cash(step, participant.cash_account);
  step.reply.participants.push_back(std::move(participant));
  return Status::ok();
}

Status Exchange::move_cash(Step& step, const MoveCash& c) {
  if (!clearing_.has_account(c.cash_account)) {
    return not_found("cash account " + std::to_string(c.cash_account) + " does not exist");
  }
  auto key = std::make_tuple(c.cash_account, c.withdrawal, c.idempotency_key);
  if (auto found = cash_movements_.find(key); found != cash_movements_.end()) {
    if (found->second.amount != c.amount) {
      return failed_precondition("idempotency key \"" + c.idempotency_key +
                                 "\" was already used for a movement of a different amount");
    }
    step.reply.cash = CashRecord{c.cash_account, owner_of_cash_account_[c.cash_account], found->second.balance_after};
    step.reply.sequence = found->second.sequence;
    return Status::ok();
  }
  if (c.withdrawal) {
    if (Status s = check_settlement_hold("a withdrawal"); !s.is_ok()) return s;
  }
  Status status = c.withdrawal ? clearing_.withdraw(c.cash_account, c.amount) : clearing_.deposit(c.cash_account, c.amount);
  if (!status.is_ok()) return status;
  CashMovementRecord movement{c.cash_account, c.withdrawal, c.amount, c.idempotency_key, step.sequence,
                              clearing_.account(c.cash_account)};
  cash_movements_.emplace(std::move(key), movement);
  step.events.push_back(CashMoved{movement});
  touch_cash(step, c.cash_account);
  step.reply.cash = CashRecord{c.cash_account, owner_of_cash_account_[c.cash_account], movement.balance_after};
  return Status::ok();
}

Status Exchange::issue_allowances(Step& step, const IssueAllowances& c) {
  // With a key, a retry (its first answer lost, e.g. UNAVAILABLE) answers the first issuance and issues nothing.
  const std::string fingerprint = std::to_string(c.instrument.size()) + ":" + c.instrument + "|" +
                                  std::to_string(c.quantity.value) + "|" + std::to_string(c.reason.size()) + ":" +
                                  c.reason + "|";
  if (!c.idempotency_key.empty()) {
    Status reused;
    if (const IdempotencyRecord* first =
            repeat_of_key("IssueAllowances", c.holding_account, c.idempotency_key, fingerprint, reused)) {
      if (!reused.is_ok()) return reused;
      step.reply.ledger_entry_id = first->object_id;
      step.reply.sequence = first->sequence;
      step.reply.holdings.push_back(
          {c.holding_account, c.instrument, registry_.holding(c.holding_account, c.instrument)});
      return Status::ok();
    }
  }
  if (Status s = check_settlement_hold("an issuance"); !s.is_ok()) return s;
  auto instrument = instruments_.find(c.instrument);
  if (instrument == instruments_.end()) return not_found("unknown instrument \"" + c.instrument + "\"");
  if (instrument->second.config.market != Market::compliance) {
    return failed_precondition("allowance issuance: " + c.instrument +
                               " is not an allowance (CEA) instrument; CCER is issued with IssueCcerCredits");
  }
  if (!registry_.has_account(c.holding_account)) {
    return not_found("holding account " + std::to_string(c.holding_account) + " does not exist");
  }
  if (c.quantity.value % instrument->second.config.lot.value != 0) {
    return failed_precondition("lot rule: " + tonnes(c.quantity) + " is not a multiple of the " +
                               tonnes(instrument->second.config.lot) + " lot of " + c.instrument);
  }
  // A participant recipient may hold the instrument, within its position limit (as for a transfer). A key
  // emitting unit's limit is its allocation plus the instrument's, and what it is issued counts as allocation.
  if (const ParticipantRecord* recipient = holder_of(c.holding_account)) {
    if (Status s = check_eligible(instrument->second, *recipient); !s.is_ok()) return s;
    if (recipient->type != ParticipantType::key_emitting_unit) {
      if (Status s = check_position_limit(instrument->second, *recipient, c.quantity); !s.is_ok()) return s;
    }
  }
  if (Status s = issue_under_year_caps(step, c); !s.is_ok()) return s;
  allocated_[{c.holding_account, c.instrument}] += c.quantity;
  touch_holding(step, registry::kIssuanceAccount, c.instrument);
  touch_holding(step, c.holding_account, c.instrument);
  step.reply.ledger_entry_id = registry_.ledger().last_entry_id();
  step.reply.holdings.push_back({c.holding_account, c.instrument, registry_.holding(c.holding_account, c.instrument)});
  if (!c.idempotency_key.empty()) {
    remember_key(step, "IssueAllowances", c.holding_account, c.idempotency_key, fingerprint,
                 registry_.ledger().last_entry_id());
  }
  return Status::ok();
}

Status Exchange::set_participant_controls(Step& step, const Principal& who, const SetParticipantControls& c) {
  if (who.role != Role::operator_) return permission_denied("SetParticipantControls is for operators");
  if (!participants_.contains(c.participant)) {
    return not_found("participant " + std::to_string(c.participant) + " does not exist");
  }
  ParticipantControls& controls = controls_[c.participant];
  controls.participant = c.participant;
  if (c.self_trade) controls.self_trade = *c.self_trade;
  if (c.suspended) {
    controls.suspended = *c.suspended;
    controls.suspension_reason = *c.suspended ? c.reason : "";
  }
  controls.updated_sequence = step.sequence;
  step.events.push_back(ParticipantControlsChanged{controls});
  step.reply.controls = controls;
  if (controls.suspended) {
    // A suspended participant's resting listed orders and block offers are cancelled, their reservations
    // released (its order sessions get CANCELLED reports), rather than left to fill against others. Auction bids
    // and offers stay: an auction's are withdrawn by its own rules (CancelOrder in the window, CancelAuction).
    if (auto mine = orders_by_participant_.find(c.participant); mine != orders_by_participant_.end()) {
      for (OrderId id : mine->second) {
        OrderRecord& order = orders_.at(id);
        if (!is_open(order.status) || order.mode == TradingMode::auction) continue;
        remove_resting(step, order, OrderStatus::cancelled);
        step.events.push_back(OrderChanged{order});
        step.reply.orders.push_back(order);
      }
    }
  }
  return Status::ok();
}

// ---- market state ----------------------------------------------------------

void Exchange::emit_market_state(Step& step) {
  // Journaled by this command itself: a command with no other event is answered without a commit, so a change
  // left to market_dirty_ (which rides on the next command's events) would be acknowledged before it is durable.
  market_.updated_sequence = step.sequence;
  step.events.push_back(MarketStateChanged{market_});
  market_dirty_ = false;
}

Status Exchange::halt_trading(Step& step, const Principal& who, const HaltTrading& c) {
  if (who.role != Role::operator_) return permission_denied("HaltTrading is for operators");
  if (c.instrument.empty()) {
    market_.halted = true;
    market_.halt_reason = c.reason;
    emit_market_state(step);
    step.reply.market = market_;
    return Status::ok();
  }
  auto found = instruments_.find(c.instrument);
  if (found == instruments_.end()) return not_found("unknown instrument \"" + c.instrument + "\"");
  InstrumentState& state = found->second.state;
  state.halted = true;
  state.halt_reason = c.reason;
  state.updated_sequence = step.sequence;
  step.events.push_back(InstrumentStateChanged{state});
  reply_instrument(step.reply, found->second);
  return Status::ok();
}

Status Exchange::resume_trading(Step& step, const Principal& who, const ResumeTrading& c) {
  if (who.role != Role::operator_) return permission_denied("ResumeTrading is for operators");
  if (c.instrument.empty()) {
    // Trading resumes on the operator's word; cash and units stay held unless the books balance now.
    bool changed = false;
    if (!market_.settlement_hold.empty() && reconcile(step.at).balanced) {
      market_.settlement_hold.clear();
      changed = true;
    }
    if (market_.halted) {
      market_.halted = false;
      market_.halt_reason.clear();
      changed = true;
    }
    if (changed) emit_market_state(step);
    step.reply.market = market_;
    return Status::ok();
  }
  auto found = instruments_.find(c.instrument);
  if (found == instruments_.end()) return not_found("unknown instrument \"" + c.instrument + "\"");
  InstrumentState& state = found->second.state;
  if (state.halted) {
    state.halted = false;
    state.halt_reason.clear();
    state.updated_sequence = step.sequence;
    step.events.push_back(InstrumentStateChanged{state});
  }
  reply_instrument(step.reply, found->second);
  return Status::ok();
}

Status Exchange::set_reference_price(Step& step, const Principal& who, const SetReferencePrice& c) {
  if (who.role != Role::operator_) return permission_denied("SetReferencePrice is for operators");
  auto found = instruments_.find(c.instrument);
  if (found == instruments_.end()) return not_found("unknown instrument \"" + c.instrument + "\"");
  Instrument& instrument = found->second;
  if (c.price.value % instrument.config.tick.value != 0) {
    return failed_precondition("tick rule: reference price " + fen(c.price) + " is not a multiple of the " +
                               fen(instrument.config.tick) + " tick of " + c.instrument);
  }
  if (Status s = check_band_levels(instrument.config, c.price, "reference price"); !s.is_ok()) return s;
  instrument.state.reference = c.price;
  instrument.state.updated_sequence = step.sequence;
  cancel_outside_band(step, instrument);
  step.events.push_back(InstrumentStateChanged{instrument.state});
  reply_instrument(step.reply, instrument);
  return Status::ok();
}

Status Exchange::set_trading_calendar(Step& step, const Principal& who, const SetTradingCalendar& c) {
  if (who.role != Role::operator_) return permission_denied("SetTradingCalendar is for operators");
  std::vector<std::chrono::year_month_day> days;
  for (const std::string& text : c.holidays) days.push_back(*matching::parse_date(text));
  std::sort(days.begin(), days.end());
  const std::vector<std::chrono::year_month_day>& before = holidays_[c.year];
  std::vector<std::chrono::year_month_day> changed;
  std::set_symmetric_difference(before.begin(), before.end(), days.begin(), days.end(), std::back_inserter(changed));
  const auto today = *matching::parse_date(market_.trading_date);
  for (const auto& day : changed) {
    if (day <= today) {
      return failed_precondition("trading calendar: " + matching::format_date(day) +
                                 " is on or before the trading day in progress (" + market_.trading_date +
                                 "); only later days can change");
    }
  }
  holidays_[c.year] = days;
  std::vector<std::chrono::year_month_day> all;
  for (const auto& [year, list] : holidays_) all.insert(all.end(), list.begin(), list.end());
  calendar_ = matching::TradingCalendar(std::move(all));
  CalendarChanged event{c.year, {}};
  for (const auto& day : days) event.holidays.push_back(matching::format_date(day));
  step.reply.holidays = event.holidays;
  step.events.push_back(std::move(event));
  return Status::ok();
}

// ---- order rules -----------------------------------------------------------

Status Exchange::check_eligible(const Instrument& instrument, const ParticipantRecord& participant) const {
  if (!instrument.config.eligible.empty()) return check_eligible_types(instrument.config, participant);
  if (participant.type == ParticipantType::natural_person && instrument.config.market == Market::compliance) {
    return failed_precondition("eligibility: natural persons may trade CCER only, not " + instrument.config.code);
  }
  return Status::ok();
}

Status Exchange::check_open_for_trading(const Instrument& instrument, const ParticipantRecord& participant,
                                        TradingMode mode, UnixNanos now) const {
  if (market_.halted) return failed_precondition("market halted: " + market_.halt_reason);
  if (instrument.state.halted) {
    return failed_precondition("instrument halted: " + instrument.config.code + ": " + instrument.state.halt_reason);
  }
  if (auto controls = controls_.find(participant.id); controls != controls_.end() && controls->second.suspended) {
    return failed_precondition("participant suspended: " + participant.code + ": " +
                               controls->second.suspension_reason);
  }
  if (mode == TradingMode::listed && !instrument.config.listed_enabled) {
    return failed_precondition("mode not enabled: listed trading is not enabled for " + instrument.config.code);
  }
  if (Status s = matching::check_session(calendar_, instrument.schedule, mode, now); !s.is_ok()) return s;
  if (const auto today = matching::shanghai_date(now); today != trading_day_) {
    return failed_precondition("end of day: the trading day " + market_.trading_date +
                               " has not been closed; an operator runs RunEndOfDay before " +
                               matching::format_date(today) + " can trade");
  }
  return check_eligible(instrument, participant);
}

Status Exchange::check_price(const Instrument& instrument, Price price, TradingMode mode) const {
  const InstrumentConfig& config = instrument.config;
  if (price.value % config.tick.value != 0) {
    return failed_precondition("tick rule: price_fen " + std::to_string(price.value) + " is not a multiple of the " +
                               std::to_string(config.tick.value) + " fen tick of " + config.code);
  }
  auto range = band(instrument, mode);
  if (!range) {
    return failed_precondition("price band: " + config.code +
                               " has no reference price yet; an operator sets one with SetReferencePrice");
  }
  if (!range->contains(price)) {
    const int bps = mode == TradingMode::block ? config.block_band_bps : config.listed_band_bps;
    return failed_precondition("price band: " + fen(price) + " is outside the " + mode_name(mode) + " band " +
                               std::to_string(range->low.value) + "-" + std::to_string(range->high.value) + " fen (±" +
                               percent_of_bps(bps) + " of the reference price " +
                               fen(instrument.state.reference) + ")");
  }
  return Status::ok();
}

Status Exchange::check_position_limit(const Instrument& instrument, const ParticipantRecord& participant,
                                      Qty more) const {
  Qty limit = instrument.config.position_limit;
  if (participant.type == ParticipantType::key_emitting_unit) {
    if (auto a = allocated_.find({participant.holding_account, instrument.config.code}); a != allocated_.end()) {
      constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
      limit = a->second.value > kMax - limit.value ? Qty{kMax} : limit + a->second;  // saturating
    }
  }
  // In 128 bits: a huge `more` (an auction bid, a CCER issuance) must not wrap to a small position.
  const Qty held = registry_.holding(participant.holding_account, instrument.config.code).total();
  __int128 wide = static_cast<__int128>(held.value) + more.value;
  if (auto open = open_buys_.find({participant.id, instrument.config.code}); open != open_buys_.end()) {
    wide += open->second.value;
  }
  Qty repo_out;  // sold on open repos: back at their second legs
  if (!out_on_repo_.empty()) {
    if (auto out = out_on_repo_.find({participant.id, instrument.config.code}); out != out_on_repo_.end()) {
      repo_out = out->second;
      wide += repo_out.value;
    }
  }
  if (wide > limit.value) {
    const Qty position{wide > std::numeric_limits<std::int64_t>::max() ? std::numeric_limits<std::int64_t>::max()
                                                                        : static_cast<std::int64_t>(wide)};
    return failed_precondition("position limit: holdings plus open buys" +
                               (repo_out.is_positive() ? " plus " + tonnes(repo_out) + " out on repo" : std::string()) +
                               " would reach " + tonnes(position) + " of " + instrument.config.code +
                               ", above the limit of " + tonnes(limit) +
                               (participant.type == ParticipantType::key_emitting_unit ? " (allocation plus "
                                                                                         : " (") +
                               tonnes(instrument.config.position_limit) + ")");
  }
  return Status::ok();
}

Status Exchange::reserve(Step& step, const ParticipantRecord& participant, OrderRecord& order, Qty quantity) {
  if (order.side == Side::buy) {
    const auto amount = settlement::buy_reservation(order.price, quantity,
                                                    instruments_.at(order.instrument).config.fees.buy_bps(order.mode));
    if (!amount) return invalid_argument("price_fen x quantity plus the buyer's fee overflows a 64-bit amount of fen");
    if (Status s = clearing_.reserve_for_buy(participant.cash_account, *amount, order.reservation); !s.is_ok()) {
      return s;
    }
    touch_cash(step, participant.cash_account);
  } else {
    if (Status s = registry_.reserve_for_sell(participant.holding_account, order.instrument, quantity); !s.is_ok()) {
      return s;
    }
    touch_holding(step, participant.holding_account, order.instrument);
  }
  return Status::ok();
}

Cash Exchange::reserved_share(const OrderRecord& buy, Qty quantity) const {
  // A buy reserves the same amount per tonne (price plus fee rounded up), so
  // the share of `quantity` tonnes is exact.
  assert(buy.side == Side::buy && buy.remaining().is_positive() && quantity <= buy.remaining());
  const __int128 share = static_cast<__int128>(buy.reservation.total.value) * quantity.value / buy.remaining().value;
  return Cash{static_cast<std::int64_t>(share)};
}

void Exchange::count_open_buy(const OrderRecord& order, Qty delta) {
  if (order.side != Side::buy || delta.is_zero()) return;
  auto key = std::make_pair(order.participant, order.instrument);
  Qty& open = open_buys_[key];  // kept at zero rather than erased: no allocation per order in steady state
  open += delta;
  assert(!open.is_negative());
}

std::optional<Status> Exchange::repeat_of(Step& step, ParticipantId participant, const std::string& client_order_id,
                                          const PlaceOrder& as_order) {
  if (client_order_id.empty()) return std::nullopt;
  auto found = order_by_client_id_.find(ClientIdView{participant, client_order_id});
  if (found == order_by_client_id_.end()) {
    if (Status s = check_client_id_unused_earlier(participant, client_order_id); !s.is_ok()) return s;
    return std::nullopt;
  }
  const OrderRecord& existing = orders_.at(found->second);
  if (!same_order(existing, as_order)) {
    return failed_precondition("client_order_id \"" + client_order_id +
                               "\" was already used for a different order; a resubmission must repeat it exactly");
  }
  step.reply.orders.push_back(existing);
  append_trades_of(existing.id, step.reply.trades);
  step.reply.sequence = existing.sequence;
  step.reply.repeated = true;
  return Status::ok();
}

// ---- orders ----------------------------------------------------------------

namespace {

/// An attempted self-trade (MARKET_RULES, surveillance): nothing traded, but regulators see who crosses its own
/// orders. One alert per participant, instrument and day (Asia/Shanghai), at the first attempt: per attempt, an
/// algorithm that keeps crossing itself would flood the list, and each alert is a statement in its commit.
void raise_self_trade_alert(std::vector<AlertRecord>& alerts, const std::string& code, std::vector<Event>& events,
                            Sequence sequence, UnixNanos at, const OrderRecord& order, SelfTradePrevention stp,
                            const std::string& stopped, const std::string& against, Qty prevented) {
  const auto today = matching::shanghai_date(at);
  for (auto it = alerts.rbegin(); it != alerts.rend() && matching::shanghai_date(it->detected_at) == today; ++it) {
    if (it->type == AlertRecord::kSelfTradeAttempt && it->instrument == order.instrument &&
        it->participants.size() == 1 && it->participants[0] == order.participant) {
      return;  // alerted already today
    }
  }
  static constexpr const char* kModes[] = {"", "cancel the resting order", "cancel the incoming order",
                                           "cancel both"};
  AlertRecord alert;
  alert.id = alerts.size() + 1;
  alert.type = AlertRecord::kSelfTradeAttempt;
  alert.severity = AlertRecord::kSeverityLow;
  alert.instrument = order.instrument;
  alert.participants = {order.participant};
  alert.description = "self-trade prevention (" + std::string(kModes[static_cast<int>(stp)]) + ") stopped " +
                      stopped + " of " + code + " at " + std::to_string(order.price.value) + " fen against " +
                      against + ", " + tonnes(prevented) + " still to trade (its first attempt in " +
                      order.instrument + " today: later ones today are not alerted again)";
  alert.metric_value = prevented.value;
  alert.metric_unit = "tonnes";
  alert.window_start = at;
  alert.window_end = at;
  alert.detected_at = at;
  alert.sequence = sequence;
  events.push_back(AlertRaised{alert});
  alerts.push_back(std::move(alert));
}

}  // namespace

Status Exchange::place_order(Step& step, const Principal& who, const PlaceOrder& c) {
  const ParticipantRecord* participant = trader(who);
  if (participant == nullptr) return permission_denied("PlaceOrder is for traders of a participant");
  if (auto repeat = repeat_of(step, participant->id, c.client_order_id, c)) return *repeat;

  auto found = instruments_.find(c.instrument);
  if (found == instruments_.end()) return not_found("unknown instrument \"" + c.instrument + "\"");
  Instrument& instrument = found->second;
  const InstrumentConfig& config = instrument.config;
  if (Status s = check_open_for_trading(instrument, *participant, TradingMode::listed, step.at); !s.is_ok()) return s;
  if (c.time_in_force == TimeInForce::gtc && !config.gtc_enabled) {
    return failed_precondition("order validity: GTC orders are not enabled for " + c.instrument);
  }
  Price price = c.price;
  if (c.type == OrderType::market) {
    auto range = band(instrument, TradingMode::listed);
    if (!range) {
      return failed_precondition("price band: " + config.code +
                                 " has no reference price yet; an operator sets one with SetReferencePrice");
    }
    price = c.side == Side::buy ? range->high : range->low;  // a market order is an IOC limited at the band edge
  } else if (Status s = check_price(instrument, price, TradingMode::listed); !s.is_ok()) {
    return s;
  }
  if (Status s = check_listed_quantity(config, c.quantity); !s.is_ok()) return s;
  if (c.side == Side::buy) {
    if (Status s = check_position_limit(instrument, *participant, c.quantity); !s.is_ok()) return s;
  }

  OrderRecord order;
  order.client_order_id = c.client_order_id;
  order.participant = participant->id;
  order.instrument = c.instrument;
  order.side = c.side;
  order.type = c.type;
  order.time_in_force = c.time_in_force;
  order.mode = TradingMode::listed;
  order.price = price;
  order.quantity = c.quantity;
  if (c.side == Side::buy && !notional(price, c.quantity)) {
    return invalid_argument("price_fen x quantity overflows a 64-bit amount of fen");
  }
  if (Status s = reserve(step, *participant, order, c.quantity); !s.is_ok()) return s;
  order.id = ++last_order_id_;
  order.sequence = step.sequence;
  order.entered_at = step.at;
  order.priority = step.sequence;
  order.updated_sequence = step.sequence;

  // Fill or kill counts only what matching with this participant's self-trade prevention would fill.
  const SelfTradePrevention stp = self_trade_mode(participant->id);
  const Qty fillable = c.time_in_force == TimeInForce::fok
                           ? instrument.book->executable_quantity(c.side, price, c.quantity, participant->id,
                                                                  book_self_trade_mode(stp))
                           : c.quantity;
  if (fillable < c.quantity) {
    finish_order(step, order, OrderStatus::cancelled);
    // Killed with its own resting orders in the way (counting them, more would fill): a self-trade attempt,
    // alerted as one that reached the book is.
    if (instrument.book->executable_quantity(c.side, price, c.quantity) > fillable) {
      raise_self_trade_alert(alerts_, participant->code, step.events, step.sequence, step.at, order, stp,
                             "fill-or-kill order " + std::to_string(order.id), "its own resting orders",
                             order.quantity);
    }
  } else {
    match_and_rest(step, instrument, order);
  }
  index_new_order(order);
  step.events.push_back(OrderChanged{order});
  step.reply.orders.push_back(order);
  orders_.emplace(order.id, std::move(order));
  return Status::ok();
}

void Exchange::match_and_rest(Step& step, Instrument& instrument, OrderRecord& order) {
  matching::LadderBook& book = *instrument.book;
  const SelfTradePrevention stp = self_trade_mode(order.participant);
  std::vector<matching::Fill> fills;
  bool cancel_incoming = false;
  OrderId prevented_against = 0;  ///< the first own resting order self-trade prevention stopped this order at
  Qty prevented;                  ///< what the order still wanted then
  for (;;) {
    fills.clear();
    bool self_trade = false;
    book.match(order.side, order.price, order.remaining(), fills, order.participant, &self_trade);
    for (const matching::Fill& fill : fills) execute_fill(step, order, fill);
    if (!self_trade || order.remaining().is_zero()) break;
    if (prevented_against == 0) {
      prevented_against = book.front(opposite(order.side))->id;
      prevented = order.remaining();
    }
    if (stp == SelfTradePrevention::cancel_incoming) {
      cancel_incoming = true;
      break;
    }
    // Cancel the participant's own resting order that stopped the match.
    const matching::BookOrder* own = book.front(opposite(order.side));
    assert(own != nullptr && own->owner == order.participant);
    OrderRecord& resting = orders_.at(own->id);
    remove_resting(step, resting, OrderStatus::cancelled);
    step.events.push_back(OrderChanged{resting});
    if (stp == SelfTradePrevention::cancel_both) {
      cancel_incoming = true;
      break;
    }
  }
  const bool rests = order.time_in_force == TimeInForce::day || order.time_in_force == TimeInForce::gtc;
  if (order.remaining().is_zero()) {
    order.status = OrderStatus::filled;
  } else if (rests && !cancel_incoming && order.type == OrderType::limit) {
    order.status = order.filled.is_zero() ? OrderStatus::open : OrderStatus::partially_filled;
    book.add(matching::BookOrder{order.id, order.participant, order.side, order.price, order.remaining(), order.priority});
    count_open_buy(order, order.remaining());
  } else {
    finish_order(step, order, OrderStatus::cancelled);
  }
  if (prevented_against != 0) {
    raise_self_trade_alert(alerts_, participants_.at(order.participant).code, step.events, step.sequence, step.at,
                           order, stp, "order " + std::to_string(order.id),
                           "its own resting order " + std::to_string(prevented_against), prevented);
  }
}

void Exchange::execute_fill(Step& step, OrderRecord& incoming, const matching::Fill& fill) {
  OrderRecord& resting = orders_.at(fill.resting_id);
  OrderRecord& buy = incoming.side == Side::buy ? incoming : resting;
  OrderRecord& sell = incoming.side == Side::buy ? resting : incoming;
  const ParticipantRecord& buyer = participants_.at(buy.participant);
  const ParticipantRecord& seller = participants_.at(sell.participant);

  TradeRecord trade;
  trade.id = ++last_trade_id_;
  trade.instrument = incoming.instrument;
  trade.mode = incoming.mode;
  trade.price = fill.price;
  trade.quantity = fill.quantity;
  trade.buy_order = buy.id;
  trade.sell_order = sell.id;
  trade.buyer = buyer.id;
  trade.seller = seller.id;
  trade.aggressor = incoming.side;
  trade.sequence = step.sequence;
  trade.executed_at = step.at;

  // Delivery versus payment with fees: both legs in this one step. The buy
  // reserved quantity × (its price + per-tonne fee rounded up); what this fill
  // does not take of the filled tonnes' share is released now.
  const Cash value = *notional(fill.price, fill.quantity);
  const Cash share = reserved_share(buy, fill.quantity);
  // The fee is never more than the reservation holds for these tonnes: a rise
  // of the buyer's fee is refused while buys are open (UpdateInstrumentRules),
  // and so is a start whose config raised it under one (restore). A guard.
  const FeeSchedule& fees = instruments_.at(trade.instrument).config.fees;
  trade.buyer_fee = min(settlement::trade_fee(value, fees.buy_bps(trade.mode)), share - value);
  trade.seller_fee = settlement::trade_fee(value, fees.sell_bps(trade.mode));
  clearing_.pay_with_fees(buyer.cash_account, buy.reservation, seller.cash_account, value, trade.buyer_fee,
                          trade.seller_fee);
  if (const Cash excess = share - value - trade.buyer_fee; excess.is_positive()) {
    clearing_.release(buyer.cash_account, buy.reservation, excess);
  }
  if (trade.buyer_fee.is_positive() || trade.seller_fee.is_positive()) touch_cash(step, settlement::kFeeCashAccount);
  registry_.deliver(trade.instrument, seller.holding_account, buyer.holding_account, fill.quantity, step.sequence,
                    step.at, "trade:" + std::to_string(trade.id));

  incoming.filled += fill.quantity;
  resting.filled += fill.quantity;
  resting.status = resting.remaining().is_zero() ? OrderStatus::filled : OrderStatus::partially_filled;
  resting.updated_sequence = step.sequence;
  assert(resting.remaining() == fill.resting_remaining);
  count_open_buy(resting, -fill.quantity);

  instruments_.at(trade.instrument).day(trade.mode).add(trade.price, trade.quantity);

  touch_cash(step, buyer.cash_account);
  touch_cash(step, seller.cash_account);
  touch_holding(step, seller.holding_account, trade.instrument);
  touch_holding(step, buyer.holding_account, trade.instrument);
  step.events.push_back(TradeExecuted{trade});
  step.events.push_back(OrderChanged{resting});
  step.reply.trades.push_back(trade);
  record_trade(std::move(trade));
}

void Exchange::record_trade(TradeRecord trade) {
  trades_by_order_[trade.buy_order].push_back(trades_.size());
  if (trade.sell_order != trade.buy_order) trades_by_order_[trade.sell_order].push_back(trades_.size());
  trades_.push_back(std::move(trade));
}

void Exchange::append_trades_of(OrderId order, std::vector<TradeRecord>& out) const {
  if (auto found = trades_by_order_.find(order); found != trades_by_order_.end()) {
    for (std::size_t at : found->second) out.push_back(trades_[at]);
  }
}

void Exchange::finish_order(Step& step, OrderRecord& order, OrderStatus terminal) {
  const ParticipantRecord& owner = participants_.at(order.participant);
  if (order.side == Side::buy) {
    if (order.reservation.total.is_positive()) {
      clearing_.release(owner.cash_account, order.reservation, order.reservation.total);
      touch_cash(step, owner.cash_account);
    }
  } else if (order.remaining().is_positive()) {
    registry_.release_sell_reservation(owner.holding_account, order.instrument, order.remaining());
    touch_holding(step, owner.holding_account, order.instrument);
  }
  order.status = terminal;
  order.updated_sequence = step.sequence;
}

void Exchange::remove_resting(Step& step, OrderRecord& order, OrderStatus terminal) {
  if (order.mode == TradingMode::block) {
    open_block_offers_.erase(order.id);
  } else {
    const bool removed = instruments_.at(order.instrument).book->cancel(order.id);
    assert(removed);
    (void)removed;
  }
  count_open_buy(order, -order.remaining());
  finish_order(step, order, terminal);
}

Status Exchange::cancel_order(Step& step, const Principal& who, const CancelOrder& c) {
  const ParticipantRecord* participant = trader(who);
  if (participant == nullptr) return permission_denied("CancelOrder is for traders of a participant");
  auto found = orders_.find(c.order_id);
  if (found == orders_.end()) return order_not_held(c.order_id);
  OrderRecord& order = found->second;
  if (order.participant != participant->id) {
    return permission_denied("order " + std::to_string(c.order_id) + " belongs to another participant");
  }
  if (!is_open(order.status)) {
    return failed_precondition("order " + std::to_string(c.order_id) + " is no longer open");
  }
  if (order.mode == TradingMode::auction) return cancel_auction_order(step, *participant, order);
  remove_resting(step, order, OrderStatus::cancelled);
  step.events.push_back(OrderChanged{order});
  step.reply.orders.push_back(order);
  return Status::ok();
}

Status Exchange::cancel_all_orders(Step& step, const Principal& who, const CancelAllOrders& c) {
  const ParticipantRecord* participant = trader(who);
  if (participant == nullptr) return permission_denied("CancelAllOrders is for traders of a participant");
  if (!c.instrument.empty() && !instruments_.contains(c.instrument)) {
    return not_found("unknown instrument \"" + c.instrument + "\"");
  }
  auto mine = orders_by_participant_.find(participant->id);
  if (mine == orders_by_participant_.end()) return Status::ok();
  for (OrderId id : mine->second) {
    OrderRecord& order = orders_.at(id);
    if (!is_open(order.status) || order.mode != TradingMode::listed) continue;
    if (!c.instrument.empty() && order.instrument != c.instrument) continue;
    if (c.side && order.side != *c.side) continue;
    remove_resting(step, order, OrderStatus::cancelled);
    step.events.push_back(OrderChanged{order});
    step.reply.orders.push_back(order);
  }
  return Status::ok();
}

Status Exchange::amend_order(Step& step, const Principal& who, const AmendOrder& c) {
  const ParticipantRecord* participant = trader(who);
  if (participant == nullptr) return permission_denied("AmendOrder is for traders of a participant");
  auto found = orders_.find(c.order_id);
  if (found == orders_.end()) return order_not_held(c.order_id);
  if (found->second.participant != participant->id) {
    return permission_denied("order " + std::to_string(c.order_id) + " belongs to another participant");
  }
  OrderRecord& order = found->second;
  if (!is_open(order.status)) return failed_precondition("amend: order " + std::to_string(c.order_id) + " is no longer open");
  if (order.mode != TradingMode::listed || order.type != OrderType::limit) {
    return failed_precondition("amend: only open listed limit orders can be amended; cancel a block offer instead");
  }
  Instrument& instrument = instruments_.at(order.instrument);
  const InstrumentConfig& config = instrument.config;
  const Price new_price = c.new_price.is_zero() ? order.price : c.new_price;
  const Qty new_quantity = c.new_quantity.is_zero() ? order.quantity : c.new_quantity;
  if (new_price == order.price && new_quantity == order.quantity) {
    return failed_precondition("amend: the new price and quantity equal the order's; nothing to change");
  }
  if (new_quantity <= order.filled) {
    return failed_precondition("amend: the new quantity " + tonnes(new_quantity) + " must exceed the filled " +
                               tonnes(order.filled));
  }
  // Reducing the quantity only is a partial cancel, which a halt, a suspension or the hours do not stop.
  const bool reduce_only = new_price == order.price && new_quantity < order.quantity;
  if (!reduce_only) {
    if (Status s = check_open_for_trading(instrument, *participant, TradingMode::listed, step.at); !s.is_ok()) return s;
  }
  if (new_price != order.price) {
    if (Status s = check_price(instrument, new_price, TradingMode::listed); !s.is_ok()) return s;
  }
  if (Status s = check_listed_quantity(config, new_quantity); !s.is_ok()) return s;
  const Qty old_remaining = order.remaining();
  const Qty new_remaining = new_quantity - order.filled;
  if (order.side == Side::buy && new_remaining > old_remaining) {
    if (Status s = check_position_limit(instrument, *participant, new_remaining - old_remaining); !s.is_ok()) return s;
  }

  if (new_price == order.price && new_quantity < order.quantity) {
    // Reducing the quantity only: the order keeps its place in the queue.
    const bool reduced = instrument.book->reduce(order.id, new_remaining);
    assert(reduced);
    (void)reduced;
    if (order.side == Side::buy) {
      clearing_.release(participant->cash_account, order.reservation,
                        reserved_share(order, old_remaining - new_remaining));
      touch_cash(step, participant->cash_account);
    } else {
      registry_.release_sell_reservation(participant->holding_account, order.instrument, old_remaining - new_remaining);
      touch_holding(step, participant->holding_account, order.instrument);
    }
    count_open_buy(order, new_remaining - old_remaining);
    order.quantity = new_quantity;
    order.updated_sequence = step.sequence;
    step.reply.priority_kept = true;
    step.events.push_back(OrderChanged{order});
    step.reply.orders.push_back(order);
    return Status::ok();
  }

  // Any other change loses time priority: adjust the reservation first (the
  // only step that can fail), then re-enter the order as new.
  if (order.side == Side::buy) {
    const auto needed = settlement::buy_reservation(new_price, new_remaining, config.fees.buy_bps(order.mode));
    if (!needed) {
      return invalid_argument("new_price_fen x new_quantity plus the buyer's fee overflows a 64-bit amount of fen");
    }
    if (*needed > order.reservation.total) {
      if (Status s = clearing_.reserve_for_buy(participant->cash_account, *needed - order.reservation.total,
                                               order.reservation);
          !s.is_ok()) {
        if (s.code() != ErrorCode::failed_precondition) return s;
        const settlement::CashAccount cash = clearing_.account(participant->cash_account);
        return failed_precondition(
            "insufficient funds: the amended buy needs " + settlement::format_fen(*needed) +
            " (new price x new quantity plus the buyer's fee), " +
            settlement::format_fen(*needed - order.reservation.total) + " more than the order holds, and " +
            settlement::format_fen(cash.available + cash.unsettled) +
            " is usable (pre-trade check: full pre-funding, no credit)");
      }
    } else if (*needed < order.reservation.total) {
      clearing_.release(participant->cash_account, order.reservation, order.reservation.total - *needed);
    }
    touch_cash(step, participant->cash_account);
  } else if (new_remaining > old_remaining) {
    if (Status s = registry_.reserve_for_sell(participant->holding_account, order.instrument, new_remaining - old_remaining);
        !s.is_ok()) {
      return s;
    }
    touch_holding(step, participant->holding_account, order.instrument);
  } else if (new_remaining < old_remaining) {
    registry_.release_sell_reservation(participant->holding_account, order.instrument, old_remaining - new_remaining);
    touch_holding(step, participant->holding_account, order.instrument);
  }
  const bool removed = instrument.book->cancel(order.id);
  assert(removed);
  (void)removed;
  count_open_buy(order, -old_remaining);
  order.price = new_price;
  order.quantity = new_quantity;
  order.priority = step.sequence;
  order.updated_sequence = step.sequence;
  match_and_rest(step, instrument, order);
  step.events.push_back(OrderChanged{order});
  step.reply.orders.push_back(order);
  return Status::ok();
}

// ---- block trades ----------------------------------------------------------

Status Exchange::offer_block_trade(Step& step, const Principal& who, const OfferBlockTrade& c) {
  const ParticipantRecord* participant = trader(who);
  if (participant == nullptr) return permission_denied("OfferBlockTrade is for traders of a participant");
  const PlaceOrder as_order{c.instrument, c.side, OrderType::limit, TimeInForce::day, TradingMode::block,
                            c.price,      c.quantity, c.client_order_id};
  if (auto repeat = repeat_of(step, participant->id, c.client_order_id, as_order)) {
    if (repeat->is_ok() && step.reply.orders.back().counterparty != c.counterparty) {
      // The same terms to another counterparty is another offer: not answered as the first.
      step.reply = Reply{};
      return failed_precondition("client_order_id \"" + c.client_order_id +
                                 "\" was already used for a different order (an offer to another counterparty); a "
                                 "resubmission must repeat it exactly");
    }
    return *repeat;
  }
  auto found = instruments_.find(c.instrument);
  if (found == instruments_.end()) return not_found("unknown instrument \"" + c.instrument + "\"");
  Instrument& instrument = found->second;
  const InstrumentConfig& config = instrument.config;
  if (c.counterparty != 0) {
    auto counterparty = participants_.find(c.counterparty);
    if (counterparty == participants_.end()) {
      return not_found("counterparty participant " + std::to_string(c.counterparty) + " does not exist");
    }
    if (c.counterparty == participant->id) {
      return failed_precondition("block trade: the counterparty must be another participant");
    }
    if (check_eligible(instrument, counterparty->second).is_ok() == false) {
      return failed_precondition("eligibility: the counterparty " + counterparty->second.code +
                                 (counterparty->second.type == ParticipantType::natural_person
                                      ? " is a natural person and"
                                      : "") +
                                 " may not trade " + c.instrument);
    }
  }
  if (!config.block_enabled) {
    return failed_precondition("mode not enabled: block trades are not enabled for " + c.instrument);
  }
  if (Status s = check_open_for_trading(instrument, *participant, TradingMode::block, step.at); !s.is_ok()) return s;
  if (c.quantity < config.block_min_quantity) {
    return failed_precondition("block size: " + tonnes(c.quantity) + " is below the block minimum of " +
                               tonnes(config.block_min_quantity) + "; smaller quantities trade on the listed book");
  }
  if (config.block_max_quantity.is_positive() && c.quantity > config.block_max_quantity) {
    return failed_precondition("block size: " + tonnes(c.quantity) + " exceeds the block maximum of " +
                               tonnes(config.block_max_quantity) + " for " + c.instrument);
  }
  if (Status s = check_lot(config, c.quantity); !s.is_ok()) return s;
  if (Status s = check_price(instrument, c.price, TradingMode::block); !s.is_ok()) return s;
  if (c.side == Side::buy) {
    if (Status s = check_position_limit(instrument, *participant, c.quantity); !s.is_ok()) return s;
  }
  OrderRecord order;
  order.client_order_id = c.client_order_id;
  order.participant = participant->id;
  order.instrument = c.instrument;
  order.side = c.side;
  order.mode = TradingMode::block;
  order.price = c.price;
  order.quantity = c.quantity;
  order.counterparty = c.counterparty;
  if (Status s = reserve(step, *participant, order, c.quantity); !s.is_ok()) return s;
  order.id = ++last_order_id_;
  order.sequence = step.sequence;
  order.entered_at = step.at;
  order.priority = step.sequence;
  order.updated_sequence = step.sequence;
  order.status = OrderStatus::open;
  count_open_buy(order, order.quantity);
  open_block_offers_.insert(order.id);
  index_new_order(order);
  step.events.push_back(OrderChanged{order});
  step.reply.orders.push_back(order);
  orders_.emplace(order.id, std::move(order));
  return Status::ok();
}

Status Exchange::accept_block_trade(Step& step, const Principal& who, const AcceptBlockTrade& c) {
  const ParticipantRecord* participant = trader(who);
  if (participant == nullptr) return permission_denied("AcceptBlockTrade is for traders of a participant");
  if (auto used = c.client_order_id.empty() ? order_by_client_id_.end()
                                              : order_by_client_id_.find(ClientIdView{participant->id, c.client_order_id});
      used != order_by_client_id_.end()) {
    // A resubmitted acceptance (its answer lost, as UNAVAILABLE invites): the first result when it accepted
    // this offer at these terms, which are no longer open by then; any other use of the id is refused.
    const OrderRecord& existing = orders_.at(used->second);
    const auto offer = orders_.find(c.offer_id);
    bool accepted_this_offer = false;
    if (offer != orders_.end() && existing.mode == TradingMode::block && existing.time_in_force == TimeInForce::ioc &&
        existing.counterparty == offer->second.participant && existing.price == c.expected_price &&
        existing.quantity == c.expected_quantity) {
      std::vector<TradeRecord> trades;
      append_trades_of(existing.id, trades);
      accepted_this_offer = std::any_of(trades.begin(), trades.end(), [&](const TradeRecord& t) {
        return t.buy_order == c.offer_id || t.sell_order == c.offer_id;
      });
      if (accepted_this_offer) {
        step.reply.orders.push_back(offer->second);
        step.reply.orders.push_back(existing);
        step.reply.trades = std::move(trades);
        step.reply.sequence = existing.sequence;
        step.reply.repeated = true;
        return Status::ok();
      }
    }
    return failed_precondition("client_order_id \"" + c.client_order_id + "\" was already used (order " +
                               std::to_string(existing.id) +
                               "); a resubmission must repeat the acceptance of the same offer at the same terms");
  }
  // An id used by an order closed in a day that has ended (a resubmitted acceptance after end of day, whose offer
  // is gone too): named as such, before the offer's absence would hide it.
  if (Status s = check_client_id_unused_earlier(participant->id, c.client_order_id); !s.is_ok()) return s;
  auto found = orders_.find(c.offer_id);
  if (found == orders_.end() && c.offer_id <= last_order_id_) return order_not_held(c.offer_id);
  if (found == orders_.end() || found->second.mode != TradingMode::block ||
      (found->second.counterparty != 0 && found->second.counterparty != participant->id &&
       found->second.participant != participant->id)) {
    return not_found("block offer " + std::to_string(c.offer_id) + " does not exist or is not addressed to " +
                     participant->code);
  }
  OrderRecord& offer = found->second;
  if (offer.participant == participant->id) return failed_precondition("block trade: the offerer cannot accept its own offer");
  if (!is_open(offer.status)) {
    return failed_precondition("block trade: offer " + std::to_string(c.offer_id) + " is no longer open");
  }
  if (c.expected_price != offer.price || c.expected_quantity != offer.quantity) {
    return failed_precondition("block trade: the offer is " + tonnes(offer.quantity) + " at " + fen(offer.price) +
                               ", not " + tonnes(c.expected_quantity) + " at " + fen(c.expected_price) +
                               "; acceptance is all or nothing at the offered terms");
  }
  Instrument& instrument = instruments_.at(offer.instrument);
  if (!instrument.config.block_enabled) {  // disabled since the offer (UpdateInstrumentRules)
    return failed_precondition("mode not enabled: block trades are not enabled for " + offer.instrument);
  }
  if (Status s = check_open_for_trading(instrument, *participant, TradingMode::block, step.at); !s.is_ok()) return s;
  // The band may have moved since the offer (a new reference price); the offerer may have been suspended.
  if (Status s = check_price(instrument, offer.price, TradingMode::block); !s.is_ok()) return s;
  if (auto controls = controls_.find(offer.participant); controls != controls_.end() && controls->second.suspended) {
    return failed_precondition("participant suspended: the offerer " + participants_.at(offer.participant).code +
                               ": " + controls->second.suspension_reason);
  }
  OrderRecord order;
  order.client_order_id = c.client_order_id;
  order.participant = participant->id;
  order.instrument = offer.instrument;
  order.side = opposite(offer.side);
  order.mode = TradingMode::block;
  order.time_in_force = TimeInForce::ioc;  // an acceptance executes at once, all or nothing
  order.price = offer.price;
  order.quantity = offer.quantity;
  order.counterparty = offer.participant;
  if (order.side == Side::buy) {
    if (Status s = check_position_limit(instrument, *participant, order.quantity); !s.is_ok()) return s;
  }
  if (Status s = reserve(step, *participant, order, order.quantity); !s.is_ok()) return s;
  order.id = ++last_order_id_;
  order.sequence = step.sequence;
  order.entered_at = step.at;
  order.priority = step.sequence;
  open_block_offers_.erase(offer.id);
  execute_fill(step, order, matching::Fill{offer.id, offer.participant, offer.price, offer.quantity, Qty{0}});
  order.status = OrderStatus::filled;
  order.updated_sequence = step.sequence;
  index_new_order(order);
  step.events.push_back(OrderChanged{order});
  step.reply.orders.push_back(offer);
  step.reply.orders.push_back(order);
  orders_.emplace(order.id, std::move(order));
  alert_block_deviation(step, instrument, trades_.back());  // surveillance.cpp
  return Status::ok();
}

// ---- end of day ------------------------------------------------------------

Status Exchange::run_end_of_day(Step& step, const Principal& who, const RunEndOfDay& c) {
  if (who.role != Role::operator_) return permission_denied("RunEndOfDay is for operators");
  if (c.trading_date < market_.trading_date) {
    // A day already closed: its stored result, nothing changes. Every end of day records its reconciliation;
    // an earlier date without one (a weekend, a holiday, a day before the first) was never closed.
    auto found = reconciliations_.find(c.trading_date);
    if (found == reconciliations_.end()) {
      return failed_precondition("end of day: " + c.trading_date + " is not a trading day that was closed; the "
                                 "trading day in progress is " + market_.trading_date);
    }
    for (const DailyBar& bar : bars_) {
      if (bar.trading_date == c.trading_date) step.reply.bars.push_back(bar);
    }
    step.reply.reconciliation = found->second;
    step.reply.statements_written = found->second.statements_written;
    step.reply.closed_date = c.trading_date;
    return Status::ok();
  }
  if (c.trading_date != market_.trading_date) {
    return failed_precondition("end of day: the trading day in progress is " + market_.trading_date + ", not " +
                               c.trading_date);
  }
  const auto today = matching::shanghai_date(step.at);
  const auto day = *matching::parse_date(market_.trading_date);
  int last_close = 0;
  for (const auto& [code, instrument] : instruments_) {
    for (const auto* windows : {&instrument.schedule.listed, &instrument.schedule.block}) {
      for (const auto& w : *windows) last_close = std::max(last_close, w.close_minute);
    }
  }
  if (today < day || (today == day && matching::shanghai_minute_of_day(step.at) < last_close)) {
    return failed_precondition("end of day: the sessions of " + market_.trading_date + " end at " +
                               std::to_string(last_close / 60) + ":" + (last_close % 60 < 10 ? "0" : "") +
                               std::to_string(last_close % 60) + " Asia/Shanghai; end of day runs after them");
  }

  // Expire DAY orders and every block offer; GTC orders stay.
  std::vector<OrderId> expiring;
  for (auto& [id, order] : orders_) {
    // Auction bids and offers live until their auction is cleared or cancelled.
    if (is_open(order.status) && order.mode != TradingMode::auction &&
        (order.mode == TradingMode::block || order.time_in_force == TimeInForce::day)) {
      expiring.push_back(id);
    }
  }
  std::sort(expiring.begin(), expiring.end());
  for (OrderId id : expiring) {
    OrderRecord& order = orders_.at(id);
    remove_resting(step, order, OrderStatus::expired);
    step.events.push_back(OrderChanged{order});
  }
  step.reply.expired_orders = expiring.size();
  surveil_day(step);  // surveillance.cpp: the day's orders and trades, against the closes the day traded around

  // Bars and closing prices; the close is the next reference price.
  for (auto& [code, instrument] : instruments_) {
    for (const TradingMode mode : {TradingMode::listed, TradingMode::block, TradingMode::auction}) {
      const DayStats& stats = instrument.day(mode);
      if (stats.trades == 0) continue;
      DailyBar bar{code,           market_.trading_date, mode,          stats.open,   stats.high, stats.low,
                   stats.last,     stats.volume,         stats.turnover, stats.trades, step.sequence};
      if (mode == TradingMode::listed) bar.close = vwap_to_tick(stats.turnover, stats.volume, instrument.config.tick);
      step.events.push_back(DailyBarRecorded{bar});
      step.reply.bars.push_back(bar);
      bars_.push_back(std::move(bar));
    }
    InstrumentState& state = instrument.state;
    // The close becomes the reference, unless its band would span more levels than a book holds (a close
    // driven up by limit-up days on a wide band): then the reference stays, and trading goes on around it.
    // A day without listed trades keeps the reference it had: the previous close, or an operator's
    // correction of it that day (SetReferencePrice), which the old close must not undo. (So a close kept out
    // for its band is not tried again before a day with listed trades; an operator may set it meanwhile.)
    if (instrument.listed_day.trades > 0) {
      state.previous_close =
          vwap_to_tick(instrument.listed_day.turnover, instrument.listed_day.volume, instrument.config.tick);
      if (check_band_levels(instrument.config, state.previous_close, "").is_ok()) state.reference = state.previous_close;
    }
    state.updated_sequence = step.sequence;
    step.events.push_back(InstrumentStateChanged{state});
    step.reply.instruments.push_back(state);
    step.reply.band_cancelled_orders += cancel_outside_band(step, instrument);  // GTC orders the new band refuses
    instrument.listed_day = DayStats{};
    instrument.block_day = DayStats{};
    instrument.auction_day = DayStats{};
  }

  // T+1: units bought today and proceeds of today's sales become available.
  for (const registry::HoldingRecord& released : registry_.release_all_pending()) {
    touch_holding(step, released.account, released.instrument);
  }
  settle_due_repos(step, market_.trading_date);  // repo_commands.cpp; before the proceeds settle, so its cash does too
  for (AccountId account : clearing_.settle_all_unsettled()) touch_cash(step, account);
  // The proceeds an open buy (a GTC order, an auction bid) holds settle with the
  // rest: what is released from it from tomorrow on is withdrawable.
  std::vector<OrderId> holding_proceeds;
  for (const auto& [id, order] : orders_) {
    if (is_open(order.status) && order.reservation.from_unsettled.is_positive()) holding_proceeds.push_back(id);
  }
  std::sort(holding_proceeds.begin(), holding_proceeds.end());
  for (OrderId id : holding_proceeds) {
    OrderRecord& order = orders_.at(id);
    order.reservation.from_unsettled = Cash{0};
    order.updated_sequence = step.sequence;
    step.events.push_back(OrderChanged{order});
  }
  close_day_clearing(step, market_.trading_date);
  forget_closed_day();

  step.reply.closed_date = market_.trading_date;
  trading_day_ = calendar_.next_trading_day(day);
  market_.trading_date = matching::format_date(trading_day_);
  market_.day_opened_sequence = step.sequence;
  market_dirty_ = true;
  step.reply.next_date = market_.trading_date;
  return Status::ok();
}

void Exchange::forget_closed_day() {
  std::unordered_map<ParticipantId, std::vector<std::pair<std::uint64_t, OrderId>>> let_go;
  for (auto it = orders_.begin(); it != orders_.end();) {
    const OrderRecord& order = it->second;
    if (is_open(order.status) || order.mode == TradingMode::auction) {
      ++it;
      continue;
    }
    if (!order.client_order_id.empty()) {
      if (auto key = order_by_client_id_.find(ClientIdView{order.participant, order.client_order_id});
          key != order_by_client_id_.end()) {
        order_by_client_id_.erase(key);
      }
      let_go[order.participant].emplace_back(client_id_digest(order.client_order_id), order.id);
    }
    it = orders_.erase(it);
  }
  for (auto& [participant, pairs] : let_go) merge_closed_client_ids(closed_client_ids_[participant], std::move(pairs));
  // The maps keep the day's peak of buckets (8 bytes each): given back, the next day would grow them again
  // through every doubling, each a rehash of the whole map on the engine thread while orders wait.
  std::erase_if(held_order_ids_, [&](OrderId id) { return !orders_.contains(id); });
  for (auto it = orders_by_participant_.begin(); it != orders_by_participant_.end();) {
    std::erase_if(it->second, [&](OrderId id) { return !orders_.contains(id); });
    it = it->second.empty() ? orders_by_participant_.erase(it) : std::next(it);
  }
  // The day's trades go, but an auction's: a repeated CloseAuction answers them (they are few).
  std::vector<TradeRecord> kept;
  for (TradeRecord& trade : trades_) {
    if (trade.mode == TradingMode::auction) kept.push_back(std::move(trade));
  }
  trades_ = {};
  trades_by_order_.clear();  // keeps its buckets, as orders_ does
  for (TradeRecord& trade : kept) record_trade(std::move(trade));
}

void Exchange::index_new_order(const OrderRecord& order) {
  held_order_ids_.push_back(order.id);
  if (order.participant != 0) orders_by_participant_[order.participant].push_back(order.id);
  if (!order.client_order_id.empty()) order_by_client_id_[{order.participant, order.client_order_id}] = order.id;
}

void Exchange::merge_closed_client_ids(std::vector<std::pair<std::uint64_t, OrderId>>& into,
                                       std::vector<std::pair<std::uint64_t, OrderId>> more) {
  std::sort(more.begin(), more.end());
  const auto middle = static_cast<std::ptrdiff_t>(into.size());
  into.insert(into.end(), more.begin(), more.end());
  std::inplace_merge(into.begin(), into.begin() + middle, into.end());
}

Status Exchange::check_client_id_unused_earlier(ParticipantId participant, const std::string& client_order_id) const {
  if (client_order_id.empty()) return Status::ok();
  auto found = closed_client_ids_.find(participant);
  if (found == closed_client_ids_.end()) return Status::ok();
  const std::uint64_t digest = client_id_digest(client_order_id);
  auto used = std::lower_bound(found->second.begin(), found->second.end(), std::make_pair(digest, OrderId{0}));
  if (used == found->second.end() || used->first != digest) return Status::ok();
  return failed_precondition("client_order_id \"" + client_order_id + "\" was already used, by order " +
                             std::to_string(used->second) +
                             ", closed in a trading day that has ended; a client order id is used once (GetOrder "
                             "reads that order)");
}

Status Exchange::order_not_held(OrderId id, Reply* reply) const {
  if (id == 0 || id > last_order_id_) return not_found("order " + std::to_string(id) + " does not exist");
  if (reply != nullptr) reply->order_closed_earlier = true;
  return not_found("order " + std::to_string(id) +
                   " is not open: it was closed in a trading day that has ended (GetOrder reads its final state)");
}

// ---- queries ---------------------------------------------------------------

Status Exchange::query(Reply& reply, const Principal& who, const CommandBody& body, UnixNanos now) const {
  const ParticipantRecord* own = trader(who);
  const bool is_staff = who.role != Role::trader;
  if (!is_staff && own == nullptr) return permission_denied("the caller's participant does not exist");
  auto visible = [&](ParticipantId owner) { return is_staff || owner == own->id; };
  // A trader sees other participants' names and codes (to name a counterparty), not their accounts.
  auto public_view = [&](ParticipantRecord participant) {
    if (!visible(participant.id)) participant.holding_account = participant.cash_account = 0;
    participant.token_hash = {};
    return participant;
  };
  return std::visit(
      Overloaded{
          [&](const GetParticipant& q) -> Status {
            auto found = participants_.find(q.participant);
            if (found == participants_.end()) {
              return not_found("participant " + std::to_string(q.participant) + " does not exist");
            }
            reply.participants.push_back(public_view(found->second));
            if (visible(q.participant)) {  // the defaults until an operator sets them
              ParticipantControls defaults;
              defaults.participant = q.participant;
              auto controls = controls_.find(q.participant);
              reply.controls = controls != controls_.end() ? controls->second : defaults;
            }
            return Status::ok();
          },
          [&](const ListParticipants&) -> Status {
            for (const auto& [id, participant] : participants_) reply.participants.push_back(public_view(participant));
            return Status::ok();
          },
          [&](const GetOrder& q) -> Status {
            auto found = orders_.find(q.order_id);
            if (found == orders_.end()) return order_not_held(q.order_id, &reply);
            if (!visible(found->second.participant)) {
              return permission_denied("order " + std::to_string(q.order_id) + " belongs to another participant");
            }
            reply.orders.push_back(found->second);
            return Status::ok();
          },
          [&](const ListOrders& q) -> Status {
            if (!q.instrument.empty() && !instruments_.contains(q.instrument)) {
              return not_found("unknown instrument \"" + q.instrument + "\"");
            }
            // Open, or entered or changed since the day opened (an order closed by the end of day belongs to
            // the day that ended).
            auto wanted = [&](const OrderRecord& order) {
              return order.id > q.after_id && (q.instrument.empty() || order.instrument == q.instrument) &&
                     (is_open(order.status) || (!q.open_only && order.updated_sequence > market_.day_opened_sequence));
            };
            const std::size_t limit = q.limit == 0 ? std::numeric_limits<std::size_t>::max() : q.limit;
            // Staff page through every order held, a trader through its own; both ascending (ids are handed
            // out in order), so a page starts at its cursor and stops when full.
            const std::vector<OrderId>* ids = &held_order_ids_;
            if (!is_staff) {
              auto mine = orders_by_participant_.find(own->id);
              if (mine == orders_by_participant_.end()) return Status::ok();
              ids = &mine->second;
            }
            for (auto id = std::upper_bound(ids->begin(), ids->end(), q.after_id);
                 id != ids->end() && reply.orders.size() < limit; ++id) {
              if (const OrderRecord& order = orders_.at(*id); wanted(order)) reply.orders.push_back(order);
            }
            return Status::ok();
          },
          [&](const ListTrades& q) -> Status {
            if (!q.instrument.empty() && !instruments_.contains(q.instrument)) {
              return not_found("unknown instrument \"" + q.instrument + "\"");
            }
            // The trading day in progress (earlier days are in the statements). trades_ is in id and sequence
            // order: start at the later of the day's first trade and the page's cursor.
            const auto day = std::partition_point(trades_.begin(), trades_.end(), [&](const TradeRecord& t) {
              return t.sequence <= market_.day_opened_sequence;
            });
            const auto cursor = std::partition_point(day, trades_.end(), [&](const TradeRecord& t) {
              return t.id <= q.after_id;
            });
            const std::size_t limit = q.limit == 0 ? std::numeric_limits<std::size_t>::max() : q.limit;
            for (auto trade = cursor; trade != trades_.end() && reply.trades.size() < limit; ++trade) {
              if (!q.instrument.empty() && trade->instrument != q.instrument) continue;
              if (is_staff || trade->buyer == own->id || trade->seller == own->id) reply.trades.push_back(*trade);
            }
            return Status::ok();
          },
          [&](const GetBalances&) -> Status {
            if (own == nullptr) return permission_denied("GetBalances is for traders of a participant");
            fill_balances(reply, *own);
            return Status::ok();
          },
          [&](const GetAccountBalances& q) -> Status { return account_balances(reply, who, q); },
          [&](const GetBook& q) -> Status {
            auto found = instruments_.find(q.instrument);
            if (found == instruments_.end()) return not_found("unknown instrument \"" + q.instrument + "\"");
            const std::size_t depth = q.depth == 0 ? 5 : std::min<std::size_t>(q.depth, 50);
            const matching::LadderBook& book = *found->second.book;
            reply.book = BookView{q.instrument, book.depth(Side::buy, depth), book.depth(Side::sell, depth)};
            reply.instruments.push_back(found->second.state);
            reply.sequence = last_sequence_;
            return Status::ok();
          },
          [&](const ListBlockOffers& q) -> Status {
            if (!q.instrument.empty() && !instruments_.contains(q.instrument)) {
              return not_found("unknown instrument \"" + q.instrument + "\"");
            }
            for (const auto& [id, order] : orders_) {
              if (order.mode != TradingMode::block || order.sequence <= market_.day_opened_sequence) continue;
              if (!q.instrument.empty() && order.instrument != q.instrument) continue;
              if (q.status && order.status != *q.status) continue;
              if (order.time_in_force == TimeInForce::ioc) continue;  // an acceptance, not an offer
              if (!is_staff && order.participant != own->id && order.counterparty != 0 && order.counterparty != own->id) {
                continue;
              }
              reply.orders.push_back(order);
              if (!is_staff && order.participant != own->id) reply.orders.back().client_order_id.clear();
            }
            std::sort(reply.orders.begin(), reply.orders.end(),
                      [](const OrderRecord& a, const OrderRecord& b) { return a.id < b.id; });
            return Status::ok();
          },
          [&](const GetTradingCalendar& q) -> Status {
            if (auto found = holidays_.find(q.year); found != holidays_.end()) {
              for (const auto& day : found->second) reply.holidays.push_back(matching::format_date(day));
            }
            return Status::ok();
          },
          [&](const GetDailyBars& q) -> Status {
            if (!instruments_.contains(q.instrument)) return not_found("unknown instrument \"" + q.instrument + "\"");
            // market_data.proto: no end is today (Asia/Shanghai), no start is 30 calendar days before the end.
            const std::chrono::year_month_day to =
                q.to_date.empty() ? matching::shanghai_date(now) : *matching::parse_date(q.to_date);
            const std::string to_date = matching::format_date(to);
            const std::chrono::year_month_day month_before{std::chrono::sys_days{to} - std::chrono::days{30}};
            const std::string from_date = q.from_date.empty() ? matching::format_date(month_before) : q.from_date;
            for (const DailyBar& bar : bars_) {
              if (bar.instrument != q.instrument) continue;
              if (bar.trading_date < from_date || bar.trading_date > to_date) continue;
              reply.bars.push_back(bar);
            }
            return Status::ok();
          },
          [&](const ListInstruments&) -> Status {
            for (const auto& [code, instrument] : instruments_) reply_instrument(reply, instrument);
            reply.market = market_;
            return Status::ok();
          },
          [&](const GetReconciliation&) -> Status { return clearing_query(reply, who, body, now); },
          [&](const ListSurveillanceAlerts&) -> Status { return clearing_query(reply, who, body, now); },
          [&](const ListApiTokens&) -> Status { return access_query(reply, who, body, now); },
          [&](const ListAuctions&) -> Status { return auction_query(reply, who, body, now); },
          [&](const ListAuctionBids&) -> Status { return auction_query(reply, who, body, now); },
          [&](const ListRepos& q) -> Status { return repo_query(reply, who, q); },
          [&](const auto&) -> Status { return registry_query(reply, who, body); },
      },
      body);
}

// ---- inspection and recovery -----------------------------------------------

std::vector<ParticipantRecord> Exchange::participants() const {
  std::vector<ParticipantRecord> out;
  out.reserve(participants_.size());
  for (const auto& [id, participant] : participants_) out.push_back(participant);
  return out;
}

std::size_t Exchange::orders_before_growth() const {
  // At the default maximum load factor (1, never changed here) a table grows once it holds more
  // elements than buckets.
  return std::min({orders_.bucket_count(), order_by_client_id_.bucket_count(), trades_by_order_.bucket_count()});
}

const matching::LadderBook* Exchange::book(const std::string& instrument) const {
  auto found = instruments_.find(instrument);
  return found == instruments_.end() ? nullptr : found->second.book.get();
}

const OrderRecord* Exchange::order(OrderId id) const {
  auto found = orders_.find(id);
  return found == orders_.end() ? nullptr : &found->second;
}

const InstrumentState* Exchange::instrument_state(const std::string& instrument) const {
  auto found = instruments_.find(instrument);
  return found == instruments_.end() ? nullptr : &found->second.state;
}

void Exchange::restore(const RecoveredState& state) {
  last_sequence_ = state.last_sequence;
  for (const ParticipantRecord& participant : state.participants) {
    participants_[participant.id] = participant;
    participant_by_code_[participant.code] = participant.id;
    owner_of_cash_account_[participant.cash_account] = participant.id;
    owner_of_holding_account_[participant.holding_account] = participant.id;
    registry_.open_account(participant.holding_account);
    clearing_.open_account(participant.cash_account);
    last_participant_id_ = std::max(last_participant_id_, participant.id);
    last_account_id_ = std::max({last_account_id_, participant.holding_account, participant.cash_account});
  }
  for (const ParticipantControls& controls : state.controls) controls_[controls.participant] = controls;
  for (const CashRecord& cash : state.cash) clearing_.restore_account(cash.account, cash.balance);
  for (const registry::HoldingRecord& holding : state.holdings) registry_.restore_holding(holding);
  registry_.restore_ledger_tail(state.last_ledger_entry_id, state.last_ledger_hash);
  for (const auto& [account, instrument, quantity] : state.allocated) allocated_[{account, instrument}] = quantity;
  restore_registry(state);
  restore_pledges(state);
  restore_repos(state);
  restore_clearing(state);
  restore_access(state);
  restore_auctions(state);
  for (const CashMovementRecord& movement : state.cash_movements) {
    cash_movements_[{movement.account, movement.withdrawal, movement.idempotency_key}] = movement;
  }
  if (state.market) {
    market_ = *state.market;
    if (auto day = matching::parse_date(market_.trading_date)) trading_day_ = *day;
  }
  for (const CalendarChanged& calendar : state.calendars) {
    std::vector<std::chrono::year_month_day>& days = holidays_[calendar.year];
    days.clear();
    for (const std::string& text : calendar.holidays) {
      if (auto date = matching::parse_date(text)) days.push_back(*date);
    }
  }
  std::vector<std::chrono::year_month_day> all;
  for (const auto& [year, days] : holidays_) all.insert(all.end(), days.begin(), days.end());
  calendar_ = matching::TradingCalendar(std::move(all));
  restore_instruments(state);
  for (const InstrumentState& saved : state.instrument_states) {
    if (auto found = instruments_.find(saved.instrument); found != instruments_.end()) {
      found->second.state = saved;
      rebuild_book(found->second);
    }
  }
  bars_ = state.bars;

  std::vector<const OrderRecord*> open;
  // Grown if the state needs more than the constructor reserved, never shrunk: with libstdc++
  // reserve() also rebuilds a table for fewer buckets than it has.
  const std::size_t restored_orders = orders_.size() + state.orders.size();
  if (restored_orders > orders_before_growth()) {
    orders_.reserve(restored_orders);
    order_by_client_id_.reserve(restored_orders);
  }
  held_order_ids_.reserve(held_order_ids_.size() + state.orders.size());
  for (const OrderRecord& order : state.orders) {
    orders_[order.id] = order;
    index_new_order(order);
    last_order_id_ = std::max(last_order_id_, order.id);
    if (is_open(order.status)) open.push_back(&order);
  }
  std::sort(held_order_ids_.begin(), held_order_ids_.end());
  for (auto& [participant, ids] : orders_by_participant_) std::sort(ids.begin(), ids.end());
  std::sort(open.begin(), open.end(), [](const OrderRecord* a, const OrderRecord* b) { return a->priority < b->priority; });
  // An open buy's cash was reserved at the buyer's fee of its mode then; a fill charges the fee in force. A
  // config that raised that fee since (an instrument of the config, not defined at run time, where
  // UpdateInstrumentRules refuses such a rise) would leave the fill's fee uncovered: refuse to start.
  for (const OrderRecord* order : open) {
    if (order->side != Side::buy) continue;
    const int bps = instruments_.at(order->instrument).config.fees.buy_bps(order->mode);
    const std::optional<Cash> needed = settlement::buy_reservation(order->price, order->remaining(), bps);
    if (needed && order->reservation.total < *needed) {
      throw std::runtime_error("fees: open buy order " + std::to_string(order->id) + " of " + order->instrument +
                               " holds " + settlement::format_fen(order->reservation.total) + " for its " +
                               std::to_string(order->remaining().value) + " t left, less than the " +
                               settlement::format_fen(*needed) + " the buyer's fee of " + std::to_string(bps) +
                               " bps now configured needs: the config raised that fee while the order was open. "
                               "Start with the earlier fee, cancel the open buys, then raise it");
    }
  }
  std::map<std::string, std::vector<matching::BookOrder>> resting;
  for (const OrderRecord* order : open) {
    count_open_buy(*order, order->remaining());
    if (order->mode == TradingMode::block) {
      open_block_offers_.insert(order->id);
      continue;
    }
    if (order->mode == TradingMode::auction) continue;  // bids and offers of an auction are not on a book
    resting[order->instrument].push_back(
        matching::BookOrder{order->id, order->participant, order->side, order->price, order->remaining(), order->priority});
  }
  for (auto& [code, orders] : resting) {
    Instrument& instrument = instruments_.at(code);
    // Size the ladder for every resting order first, then add them in priority order.
    auto listed = band(instrument, TradingMode::listed);
    Price low = listed ? listed->low : instrument.config.tick;
    Price high = listed ? listed->high : instrument.config.tick;
    for (const auto& order : orders) {
      low = std::min(low, order.price);
      high = std::max(high, order.price);
    }
    instrument.book = std::make_unique<matching::LadderBook>(low, high, instrument.config.tick,
                                                             std::max<std::size_t>(1024, orders.size() * 2));
    for (const auto& order : orders) instrument.book->add(order);
  }
  {
    std::unordered_map<ParticipantId, std::vector<std::pair<std::uint64_t, OrderId>>> loaded;
    for (const auto& [participant, digest, order] : state.closed_client_ids) loaded[participant].emplace_back(digest, order);
    for (auto& [participant, pairs] : loaded) merge_closed_client_ids(closed_client_ids_[participant], std::move(pairs));
  }
  last_order_id_ = std::max(last_order_id_, state.last_order_id);
  last_trade_id_ = std::max(last_trade_id_, state.last_trade_id);
  trades_.clear();
  trades_by_order_.clear();
  for (const TradeRecord& trade : state.trades) record_trade(trade);
  for (const TradeRecord& trade : trades_) {
    last_trade_id_ = std::max(last_trade_id_, trade.id);
    if (trade.sequence > market_.day_opened_sequence) {
      instruments_.at(trade.instrument).day(trade.mode).add(trade.price, trade.quantity);
    }
  }
}

}  // namespace carbon::engine
