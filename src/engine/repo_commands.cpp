// Repos as the engine runs them (MARKET_RULES.md, instruments: repo;
// JR/T 0244-2022): RegisterRepo settles the first leg at once, delivery
// versus payment (seller's available units → buyer's reserved units, buyer's
// available cash → seller's unsettled proceeds); end of day on or after the
// second-leg date settles the buy-back (buyer's reserved units → seller's
// available units, seller's cash → buyer) or, when the seller's cash is short,
// defaults the repo and makes the units available to the buyer.
#include <algorithm>

#include "engine/exchange.h"
#include "engine/step.h"
#include "matching/trading_rules.h"

namespace carbon::engine {
namespace {

constexpr const char* kRepoRule = "repo rule (JR/T 0244-2022)";

std::string fields(std::initializer_list<std::string> parts) {
  std::string out;
  for (const std::string& part : parts) out += std::to_string(part.size()) + ":" + part + "|";
  return out;
}

std::string n(std::int64_t v) { return std::to_string(v); }

}  // namespace

Status Exchange::register_repo(Step& step, const Principal& who, const RegisterRepo& c) {
  if (who.role != Role::registry_authority) return permission_denied("RegisterRepo is for the registry authority");
  const std::string fingerprint =
      fields({n(static_cast<std::int64_t>(c.buyer)), c.instrument, n(c.quantity.value), n(c.first_leg_price.value),
              n(c.second_leg_price.value), c.second_leg_date, c.contract_reference});
  Status reused;
  if (const IdempotencyRecord* first = repeat_of_key("RegisterRepo", c.seller, c.idempotency_key, fingerprint, reused)) {
    if (!reused.is_ok()) return reused;
    step.reply.repos.push_back(repos_.at(first->object_id));
    step.reply.ledger_entry_id = step.reply.repos.back().first_leg_entry;
    step.reply.sequence = first->sequence;
    return Status::ok();
  }
  if (Status s = check_settlement_hold("a repo"); !s.is_ok()) return s;
  auto instrument = instruments_.find(c.instrument);
  if (instrument == instruments_.end()) return not_found("unknown instrument \"" + c.instrument + "\"");
  auto seller = participants_.find(c.seller);
  if (seller == participants_.end()) {
    return not_found("seller participant " + std::to_string(c.seller) + " does not exist");
  }
  auto buyer = participants_.find(c.buyer);
  if (buyer == participants_.end()) {
    return not_found("buyer participant " + std::to_string(c.buyer) + " does not exist");
  }
  if (const auto today = matching::shanghai_date(step.at); today > trading_day_) {
    // The first leg is delivery versus payment on the trading day in progress, and its proceeds are released by
    // that day's end of day: not on a day whose trading day has not been opened by closing the one before.
    return failed_precondition("end of day: the trading day " + market_.trading_date +
                               " has not been closed; an operator runs RunEndOfDay before " +
                               matching::format_date(today) + " can register repos");
  }
  const auto leg_date = *matching::parse_date(c.second_leg_date);
  if (c.second_leg_date <= market_.trading_date) {
    return failed_precondition(std::string(kRepoRule) + ": the second leg settles on a future trading day; " +
                               c.second_leg_date + " is not after the trading day in progress " +
                               market_.trading_date);
  }
  if (!calendar_.is_trading_day(leg_date)) {
    return failed_precondition(std::string(kRepoRule) + ": the second leg settles on a trading day; " +
                               c.second_leg_date + " is a weekend day or a holiday");
  }
  for (const ParticipantRecord* party : {&seller->second, &buyer->second}) {
    if (Status s = check_eligible(instrument->second, *party); !s.is_ok()) {
      return failed_precondition("repo: participant " + party->code + " may not hold " + c.instrument + ": " +
                                 s.message());
    }
  }
  const InstrumentConfig& config = instrument->second.config;
  for (const Price price : {c.first_leg_price, c.second_leg_price}) {
    if (price.value % config.tick.value != 0) {
      return failed_precondition("tick rule: repo price " + std::to_string(price.value) +
                                 " fen is not a multiple of the " + std::to_string(config.tick.value) +
                                 " fen tick of " + config.code);
    }
  }
  if (c.quantity.value % config.lot.value != 0) {
    return failed_precondition("lot rule: quantity " + tonnes(c.quantity) + " is not a multiple of the " +
                               tonnes(config.lot) + " lot of " + config.code);
  }
  if (Status s = check_position_limit(instrument->second, buyer->second, c.quantity); !s.is_ok()) {
    return failed_precondition("repo buyer's " + s.message());
  }
  const Cash first_value = *notional(c.first_leg_price, c.quantity);
  const AccountId buyer_cash = buyer->second.cash_account;
  const AccountId seller_cash = seller->second.cash_account;
  const Cash buyer_available = clearing_.account(buyer_cash).available;
  if (buyer_available < first_value) {
    return failed_precondition("insufficient cash: the repo first leg costs " + settlement::format_fen(first_value) +
                               ", above the buyer's available " + settlement::format_fen(buyer_available) +
                               " (delivery versus payment, no credit)");
  }
  const std::uint64_t id = repos_.empty() ? 1 : repos_.rbegin()->first + 1;
  if (Status s = registry_.repo_first_leg(c.instrument, seller->second.holding_account,
                                          buyer->second.holding_account, c.quantity, id, step.sequence, step.at);
      !s.is_ok()) {
    return s;
  }
  settlement::BuyReservation payment;
  if (Status s = clearing_.reserve_for_buy(buyer_cash, first_value, payment); !s.is_ok()) return s;  // checked above
  clearing_.pay(buyer_cash, payment, seller_cash, first_value);

  RepoRecord repo;
  repo.id = id;
  repo.seller = seller->second.id;
  repo.buyer = buyer->second.id;
  repo.seller_account = seller->second.holding_account;
  repo.buyer_account = buyer->second.holding_account;
  repo.seller_cash_account = seller_cash;
  repo.buyer_cash_account = buyer_cash;
  repo.instrument = c.instrument;
  repo.quantity = c.quantity;
  repo.first_leg_price = c.first_leg_price;
  repo.second_leg_price = c.second_leg_price;
  repo.second_leg_date = c.second_leg_date;
  repo.contract_reference = c.contract_reference;
  repo.first_leg_entry = registry_.ledger().last_entry_id();
  repo.opened_at = step.at;
  repo.opened_sequence = step.sequence;
  repo.sequence = step.sequence;
  repos_[id] = repo;
  out_on_repo_[{repo.seller, repo.instrument}] += repo.quantity;
  touch_holding(step, repo.seller_account, repo.instrument);
  touch_holding(step, repo.buyer_account, repo.instrument);
  touch_cash(step, buyer_cash);
  touch_cash(step, seller_cash);
  step.events.push_back(RepoChanged{repo});
  step.reply.repos.push_back(repo);
  step.reply.ledger_entry_id = repo.first_leg_entry;
  remember_key(step, "RegisterRepo", c.seller, c.idempotency_key, fingerprint, id);
  return Status::ok();
}

void Exchange::settle_due_repos(Step& step, const std::string& date) {
  for (auto& [id, repo] : repos_) {
    if (repo.status != RepoStatus::open || repo.second_leg_date > date) continue;
    const Cash value = *notional(repo.second_leg_price, repo.quantity);
    const settlement::CashAccount seller_cash = clearing_.account(repo.seller_cash_account);
    if (seller_cash.available + seller_cash.unsettled >= value) {
      settlement::BuyReservation payment;
      if (clearing_.reserve_for_buy(repo.seller_cash_account, value, payment).is_ok()) {
        clearing_.pay(repo.seller_cash_account, payment, repo.buyer_cash_account, value);
        registry_.repo_second_leg(repo.instrument, repo.buyer_account, repo.seller_account, repo.quantity, id,
                                  step.sequence, step.at);
        repo.status = RepoStatus::completed;
        touch_cash(step, repo.seller_cash_account);
        touch_cash(step, repo.buyer_cash_account);
        touch_holding(step, repo.seller_account, repo.instrument);
      }
    }
    if (repo.status == RepoStatus::open) {
      registry_.repo_default(repo.instrument, repo.buyer_account, repo.quantity, id, step.sequence, step.at);
      repo.status = RepoStatus::defaulted;
    }
    touch_holding(step, repo.buyer_account, repo.instrument);
    if (auto out = out_on_repo_.find({repo.seller, repo.instrument}); out != out_on_repo_.end()) {
      out->second -= repo.quantity;
      if (!out->second.is_positive()) out_on_repo_.erase(out);
    }
    repo.second_leg_entry = registry_.ledger().last_entry_id();
    repo.closed_at = step.at;
    repo.sequence = step.sequence;
    step.events.push_back(RepoChanged{repo});
  }
}

std::vector<const RepoRecord*> Exchange::repos_with_legs_today() const {
  std::vector<const RepoRecord*> today;
  for (const auto& [id, repo] : repos_) {
    if (repo.opened_sequence > market_.day_opened_sequence ||
        (repo.status == RepoStatus::completed && repo.sequence > market_.day_opened_sequence)) {
      today.push_back(&repo);
    }
  }
  return today;
}

void Exchange::repo_statement_legs(const ParticipantRecord& participant, const std::vector<const RepoRecord*>& today,
                                   StatementRecord& st, std::map<std::string, StatementLine>& lines) const {
  auto leg = [&](const RepoRecord& repo, ParticipantId buyer, ParticipantId seller, Price price) {
    const Cash value = *notional(price, repo.quantity);
    StatementLine& l = lines[repo.instrument];
    l.instrument = repo.instrument;
    if (buyer == participant.id) {
      l.bought += repo.quantity;
      l.bought_value += value;
      st.bought_value += value;
    }
    if (seller == participant.id) {
      l.sold += repo.quantity;
      l.sold_value += value;
      st.sold_value += value;
    }
  };
  for (const RepoRecord* r : today) {
    const RepoRecord& repo = *r;
    if (repo.buyer != participant.id && repo.seller != participant.id) continue;
    if (repo.opened_sequence > market_.day_opened_sequence) leg(repo, repo.buyer, repo.seller, repo.first_leg_price);
    if (repo.status == RepoStatus::completed && repo.sequence > market_.day_opened_sequence) {
      leg(repo, repo.seller, repo.buyer, repo.second_leg_price);
    }
  }
}

Status Exchange::repo_query(Reply& reply, const Principal& who, const ListRepos& q) const {
  ParticipantId participant = q.participant;
  if (who.role == Role::trader) {
    if (participant != 0 && participant != who.participant) {
      return permission_denied("participant " + std::to_string(participant) +
                               " is another participant; a trader lists only the repos it is party to");
    }
    participant = who.participant;
  } else if (who.role != Role::registry_authority && who.role != Role::regulator && who.role != Role::auditor) {
    return permission_denied("ListRepos is for the registry authority, regulators, auditors and traders");
  }
  for (const auto& [id, repo] : repos_) {
    if (participant != 0 && repo.seller != participant && repo.buyer != participant) continue;
    if (q.status != 0 && static_cast<int>(repo.status) != q.status) continue;
    reply.repos.push_back(repo);
  }
  return Status::ok();
}

void Exchange::restore_repos(const RecoveredState& state) {
  for (const RepoRecord& repo : state.repos) {
    repos_[repo.id] = repo;
    if (repo.status == RepoStatus::open) out_on_repo_[{repo.seller, repo.instrument}] += repo.quantity;
  }
}

}  // namespace carbon::engine
