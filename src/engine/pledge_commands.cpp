// Compliance-year configuration (deadline, penalty multiple, early-warning
// threshold) and pledges as the engine runs them. The registry core
// (src/registry) moves the units; this file adds roles, participants, the
// records the API shows, idempotency and the events the store journals.
#include <cstdio>

#include "engine/exchange.h"
#include "engine/step.h"
#include "matching/trading_rules.h"

namespace carbon::engine {
namespace {

std::string fields(std::initializer_list<std::string> parts) {
  std::string out;
  for (const std::string& part : parts) out += std::to_string(part.size()) + ":" + part + "|";
  return out;
}

std::string n(std::int64_t v) { return std::to_string(v); }

std::string closed_as(const PledgeView& view) { return view.last_enforced ? "enforced" : "released"; }

/// A pledge, and a part of one released or enforced, moves whole lots, as a transfer does: enforcement
/// delivers the units to the pledgee, who must be able to sell them. 0 (the whole pledge) always passes.
Status check_pledge_lot(const char* what, Qty quantity, const InstrumentConfig& config) {
  if (quantity.value % config.lot.value == 0) return Status::ok();
  return failed_precondition(std::string("lot rule: ") + what + " of " + tonnes(quantity) +
                             " is not a multiple of the " + tonnes(config.lot) + " lot of " + config.code);
}

}  // namespace

// ---- compliance-year configuration --------------------------------------------

std::vector<Price> Exchange::closes_of_month_before(UnixNanos reference, std::string& month_text) const {
  const auto day = matching::shanghai_date(reference);
  const std::chrono::year_month month = std::chrono::year_month{day.year(), day.month()} - std::chrono::months{1};
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%04d-%02u-", static_cast<int>(month.year()),
                static_cast<unsigned>(month.month()));
  month_text.assign(prefix, 7);
  std::vector<Price> closes;
  for (const DailyBar& bar : bars_) {
    if (bar.mode != TradingMode::listed || bar.trade_count == 0 || !bar.trading_date.starts_with(prefix)) continue;
    auto instrument = instruments_.find(bar.instrument);
    if (instrument == instruments_.end() || instrument->second.config.market != Market::compliance) continue;
    closes.push_back(bar.close);
  }
  return closes;
}

Status Exchange::configure_compliance_year(Step& step, const Principal& who, const ConfigureComplianceYear& c) {
  if (who.role != Role::registry_authority) {
    return permission_denied("ConfigureComplianceYear is for the registry authority");
  }
  if (closed_years_.contains(c.year)) {
    return failed_precondition("compliance year " + std::to_string(c.year) + " is closed");
  }
  if (auto configured = year_configs_.find(c.year);
      configured != year_configs_.end() && step.at >= configured->second.deadline) {
    // Moving a passed deadline would reopen surrender (and corrections) for units already found short.
    return failed_precondition("compliance deadline rule: the surrender deadline of " + std::to_string(c.year) +
                               " (" + matching::format_date(matching::shanghai_date(configured->second.deadline)) +
                               " Asia/Shanghai) has passed; the year is no longer configured, only closed");
  }
  if (c.deadline <= step.at) {
    return failed_precondition("compliance deadline rule: the deadline " +
                               matching::format_date(matching::shanghai_date(c.deadline)) +
                               " is in the past; a deadline is set or moved only into the future");
  }
  if (c.ccer_limit_bps != 0 && c.ccer_limit_bps != 500) {
    return failed_precondition("CCER offset rule (trial measures 2021, art. 29): this build applies 5% (500 bps) to "
                               "every year; ccer_limit_bps must be 0 or 500");
  }
  ComplianceYearConfig config;
  config.year = c.year;
  config.deadline = c.deadline;
  config.ccer_limit_bps = 500;
  config.penalty_multiple = c.penalty_multiple == 0 ? registry::kMinPenaltyMultiple : c.penalty_multiple;
  config.early_warning_threshold_bps = c.early_warning_threshold_bps;
  config.sequence = step.sequence;
  year_configs_[c.year] = config;
  step.events.push_back(ComplianceYearConfigured{config});
  step.reply.compliance_years.push_back(std::move(config));
  return Status::ok();
}

// ---- pledges ---------------------------------------------------------------------

void Exchange::reply_pledge(Step& step, const PledgeView& view) {
  step.events.push_back(PledgeChanged{view});
  touch_holding(step, view.record.pledgor, view.record.instrument);
  step.reply.pledges.push_back(view);
  step.reply.holdings.push_back(
      {view.record.pledgor, view.record.instrument, registry_.holding(view.record.pledgor, view.record.instrument)});
  step.reply.holdings.push_back(
      {view.record.pledgee, view.record.instrument, registry_.holding(view.record.pledgee, view.record.instrument)});
  step.reply.ledger_entry_id = registry_.ledger().last_entry_id();
}

Status Exchange::pledge_units(Step& step, const Principal& who, const PledgeUnits& c) {
  if (who.role != Role::registry_authority) return permission_denied("Pledge is for the registry authority");
  const std::string fingerprint = fields({c.instrument, n(c.quantity.value), n(static_cast<std::int64_t>(c.pledgee)),
                                          c.contract_reference});
  Status reused;
  if (const IdempotencyRecord* first = repeat_of_key("Pledge", c.account, c.idempotency_key, fingerprint, reused)) {
    if (!reused.is_ok()) return reused;
    const PledgeView& view = pledges_.at(first->object_id);
    step.reply.pledges.push_back(view);
    step.reply.holdings.push_back({c.account, c.instrument, registry_.holding(c.account, c.instrument)});
    step.reply.holdings.push_back(
        {view.record.pledgee, view.record.instrument, registry_.holding(view.record.pledgee, view.record.instrument)});
    step.reply.ledger_entry_id = first->ledger_entry_id;
    step.reply.sequence = first->sequence;
    return Status::ok();
  }
  auto instrument = instruments_.find(c.instrument);
  if (instrument == instruments_.end()) return not_found("unknown instrument \"" + c.instrument + "\"");
  if (!registry_.has_account(c.account)) {
    return not_found("holding account " + std::to_string(c.account) + " does not exist");
  }
  if (Status s = check_pledge_lot("pledge", c.quantity, instrument->second.config); !s.is_ok()) return s;
  const ParticipantRecord* pledgor = holder_of(c.account);
  if (pledgor == nullptr) {
    return failed_precondition("pledge: holding account " + std::to_string(c.account) +
                               " is a system account; only a participant's units are pledged");
  }
  auto pledgee = participants_.find(c.pledgee);
  if (pledgee == participants_.end()) {
    return not_found("pledgee participant " + std::to_string(c.pledgee) + " does not exist");
  }
  if (pledgee->second.id == pledgor->id) return failed_precondition("pledge: the pledgee is the pledgor");
  if (Status s = check_eligible(instrument->second, pledgee->second); !s.is_ok()) {
    return failed_precondition("pledge: the pledgee may not hold " + c.instrument + ": " + s.message());
  }
  auto placed = registry_.pledge(c.account, c.instrument, c.quantity, pledgee->second.holding_account,
                                 c.contract_reference, step.sequence, step.at);
  if (!placed.is_ok()) return placed.status;
  PledgeView view;
  view.record = registry::PledgeRecord{placed.value, c.account, pledgee->second.holding_account, c.instrument,
                                       c.quantity, c.contract_reference, step.at};
  view.pledgor_participant = pledgor->id;
  view.pledgee_participant = pledgee->second.id;
  view.remaining = c.quantity;
  view.sequence = step.sequence;
  pledges_[view.record.id] = view;
  reply_pledge(step, view);
  remember_key(step, "Pledge", c.account, c.idempotency_key, fingerprint, view.record.id,
               registry_.ledger().last_entry_id());
  return Status::ok();
}

Status Exchange::release_pledge(Step& step, const Principal& who, const ReleasePledge& c) {
  if (who.role != Role::registry_authority) return permission_denied("ReleasePledge is for the registry authority");
  auto found = pledges_.find(c.pledge);
  if (found == pledges_.end()) return not_found("pledge " + std::to_string(c.pledge) + " does not exist");
  PledgeView& view = found->second;
  const std::string fingerprint = fields({n(c.quantity.value), c.reason});
  Status reused;
  if (const IdempotencyRecord* first = repeat_of_key("ReleasePledge", c.pledge, c.idempotency_key, fingerprint, reused)) {
    if (!reused.is_ok()) return reused;
    step.reply.pledges.push_back(view);
    step.reply.holdings.push_back({view.record.pledgor, view.record.instrument,
                                   registry_.holding(view.record.pledgor, view.record.instrument)});
    step.reply.holdings.push_back({view.record.pledgee, view.record.instrument,
                                   registry_.holding(view.record.pledgee, view.record.instrument)});
    step.reply.ledger_entry_id = first->object_id;
    step.reply.sequence = first->sequence;
    return Status::ok();
  }
  if (!view.active()) {
    return failed_precondition("pledge " + std::to_string(c.pledge) + " is no longer active (" + closed_as(view) + ")");
  }
  if (c.quantity > view.remaining) {
    return failed_precondition("pledge release: " + tonnes(c.quantity) + " is above the " + tonnes(view.remaining) +
                               " still pledged under pledge " + std::to_string(c.pledge));
  }
  if (auto instrument = instruments_.find(view.record.instrument); instrument != instruments_.end()) {
    if (Status s = check_pledge_lot("pledge release", c.quantity, instrument->second.config); !s.is_ok()) return s;
  }
  const Qty released = c.quantity.is_zero() ? view.remaining : c.quantity;
  if (Status s = registry_.release_pledge(c.pledge, released, step.sequence, step.at); !s.is_ok()) return s;
  view.released += released;
  view.remaining -= released;
  view.last_enforced = false;
  if (view.remaining.is_zero()) view.closed_at = step.at;
  view.sequence = step.sequence;
  reply_pledge(step, view);
  remember_key(step, "ReleasePledge", c.pledge, c.idempotency_key, fingerprint, registry_.ledger().last_entry_id());
  return Status::ok();
}

Status Exchange::enforce_pledge(Step& step, const Principal& who, const EnforcePledge& c) {
  if (who.role != Role::registry_authority) return permission_denied("EnforcePledge is for the registry authority");
  auto found = pledges_.find(c.pledge);
  if (found == pledges_.end()) return not_found("pledge " + std::to_string(c.pledge) + " does not exist");
  PledgeView& view = found->second;
  const std::string fingerprint = fields({n(c.quantity.value), c.reason});
  Status reused;
  if (const IdempotencyRecord* first = repeat_of_key("EnforcePledge", c.pledge, c.idempotency_key, fingerprint, reused)) {
    if (!reused.is_ok()) return reused;
    step.reply.pledges.push_back(view);
    step.reply.holdings.push_back({view.record.pledgor, view.record.instrument,
                                   registry_.holding(view.record.pledgor, view.record.instrument)});
    step.reply.holdings.push_back({view.record.pledgee, view.record.instrument,
                                   registry_.holding(view.record.pledgee, view.record.instrument)});
    step.reply.ledger_entry_id = first->object_id;
    step.reply.sequence = first->sequence;
    return Status::ok();
  }
  if (Status s = check_settlement_hold("a pledge enforcement"); !s.is_ok()) return s;
  if (!view.active()) {
    return failed_precondition("pledge " + std::to_string(c.pledge) + " is no longer active (" + closed_as(view) + ")");
  }
  if (c.quantity > view.remaining) {
    return failed_precondition("pledge enforcement: " + tonnes(c.quantity) + " is above the " +
                               tonnes(view.remaining) + " still pledged under pledge " + std::to_string(c.pledge));
  }
  if (auto instrument = instruments_.find(view.record.instrument); instrument != instruments_.end()) {
    if (Status s = check_pledge_lot("pledge enforcement", c.quantity, instrument->second.config); !s.is_ok()) {
      return s;
    }
  }
  const Qty enforced = c.quantity.is_zero() ? view.remaining : c.quantity;
  // Enforcement is a creditor's remedy, so the pledgee's position limit does not stop it (registry.proto); a
  // breach it causes is raised to the regulators as a surveillance alert.
  const ParticipantRecord* pledgee = holder_of(view.record.pledgee);
  auto instrument = instruments_.find(view.record.instrument);
  Status breach;
  if (pledgee != nullptr && instrument != instruments_.end()) {
    breach = check_position_limit(instrument->second, *pledgee, enforced);
  }
  if (Status s = registry_.enforce_pledge_part(c.pledge, enforced, step.sequence, step.at); !s.is_ok()) return s;
  view.enforced += enforced;
  view.remaining -= enforced;
  view.last_enforced = true;
  if (view.remaining.is_zero()) view.closed_at = step.at;
  view.sequence = step.sequence;
  touch_holding(step, view.record.pledgee, view.record.instrument);
  if (!breach.is_ok()) {
    AlertRecord alert;
    alert.type = AlertRecord::kPositionLimitBreach;
    alert.severity = AlertRecord::kSeverityHigh;
    alert.instrument = view.record.instrument;
    alert.participants = {pledgee->id};
    alert.description = "pledge " + std::to_string(c.pledge) + " enforced: " + breach.message();
    alert.metric_value = registry_.holding(view.record.pledgee, view.record.instrument).total().value;
    alert.threshold_value = instrument->second.config.position_limit.value;
    alert.metric_unit = "tonnes";
    alert.window_end = step.at;
    raise_alert(step, std::move(alert));
  }
  reply_pledge(step, view);
  remember_key(step, "EnforcePledge", c.pledge, c.idempotency_key, fingerprint, registry_.ledger().last_entry_id());
  return Status::ok();
}

Status Exchange::pledge_query(Reply& reply, const Principal& who, const ListPledges& q) const {
  ParticipantId participant = q.participant;
  if (who.role == Role::trader) {
    if (participant != 0 && participant != who.participant) {
      return permission_denied("participant " + std::to_string(participant) + " is another participant");
    }
    participant = who.participant;
  } else if (who.role != Role::registry_authority && who.role != Role::regulator && who.role != Role::auditor) {
    return permission_denied("ListPledges is for the registry authority, regulators, auditors and traders");
  }
  for (const auto& [id, view] : pledges_) {
    if (participant != 0 && view.pledgor_participant != participant && view.pledgee_participant != participant) {
      continue;
    }
    if (q.status == 1 && !view.active()) continue;
    if (q.status == 2 && (view.active() || view.last_enforced)) continue;
    if (q.status == 3 && (view.active() || !view.last_enforced)) continue;
    reply.pledges.push_back(view);
  }
  return Status::ok();
}

void Exchange::restore_pledges(const RecoveredState& state) {
  for (const ComplianceYearConfig& config : state.compliance_years) year_configs_[config.year] = config;
  for (const PledgeView& view : state.pledges) {
    pledges_[view.record.id] = view;
    if (view.active()) {
      registry::PledgeRecord in_force = view.record;
      in_force.quantity = view.remaining;
      registry_.restore_pledge(in_force);
    }
    registry_.restore_pledge_ids(view.record.id);
  }
}

}  // namespace carbon::engine
