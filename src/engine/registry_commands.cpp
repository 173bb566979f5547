// The registry's commands and queries as the engine runs them: caps and free
// allocation, verified emissions, surrender, closing a compliance year,
// freezes and transfers. The registry core (src/registry) does the unit
// arithmetic; this file adds roles, participants, instruments, the records
// the API shows and the events the store journals.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "common/overloaded.h"
#include "engine/exchange.h"
#include "engine/step.h"
#include "registry/allocation.h"
#include "matching/trading_rules.h"

namespace carbon::engine {
namespace {

std::string year_text(int year) { return std::to_string(year); }

/// The penalty multiple applied when a year closes (decree 775: 5 to 10; the API's default is 5).
constexpr int kPenaltyMultiple = registry::kMinPenaltyMultiple;

registry::FreezeAuthority authority_of(Role role) {
  return role == Role::regulator ? registry::FreezeAuthority::regulator : registry::FreezeAuthority::court;
}

}  // namespace

const ParticipantRecord* Exchange::holder_of(AccountId account) const {
  auto owner = owner_of_holding_account_.find(account);
  if (owner == owner_of_holding_account_.end()) return nullptr;
  auto found = participants_.find(owner->second);
  return found == participants_.end() ? nullptr : &found->second;
}

Status Exchange::resolve_unit(const Principal& who, ParticipantId requested, const ParticipantRecord*& out) const {
  ParticipantId id = requested;
  if (who.role == Role::trader) {
    if (requested != 0 && requested != who.participant) {
      return permission_denied("participant " + std::to_string(requested) + " is another participant");
    }
    id = who.participant;
  }
  if (id == 0) return Status{ErrorCode::invalid_argument, "participant_id is required"};
  auto found = participants_.find(id);
  if (found == participants_.end()) return not_found("participant " + std::to_string(id) + " does not exist");
  out = &found->second;
  return Status::ok();
}

ComplianceRecord Exchange::compliance_record(int year, const ParticipantRecord& unit) const {
  ComplianceRecord record;
  if (auto found = compliance_.find({year, unit.id}); found != compliance_.end()) record = found->second;
  if (auto status = registry_.compliance_status(year, unit.holding_account); status.is_ok()) {
    record.status = status.value;
  }
  record.participant = unit.id;
  return record;
}

void Exchange::emit_compliance(Step& step, int year, const ParticipantRecord& unit) {
  ComplianceRecord& kept = compliance_[{year, unit.id}];
  kept.participant = unit.id;
  kept.sequence = step.sequence;
  ComplianceRecord record = compliance_record(year, unit);
  kept.status = record.status;
  step.events.push_back(ComplianceChanged{record});
  step.reply.compliance.push_back(std::move(record));
}

void Exchange::emit_shortfalls(Step& step, AccountId unit, const std::vector<std::pair<int, Qty>>& before) {
  std::map<int, Qty> changed;
  for (const auto& [year, owed] : before) changed[year] = Qty{0};
  for (const auto& [year, owed] : registry_.shortfalls_owed_of(unit)) changed[year] = owed;
  std::map<int, Qty> previous(before.begin(), before.end());
  for (const auto& [year, owed] : changed) {
    auto was = previous.find(year);
    if (was != previous.end() && was->second == owed) continue;
    step.events.push_back(ShortfallOwedChanged{ShortfallOwed{unit, year, owed}});
  }
}

const IdempotencyRecord* Exchange::repeat_of_key(const char* command, std::uint64_t target, const std::string& key,
                                                 const std::string& fingerprint, Status& status) const {
  auto found = idempotency_.find({command, target, key});
  if (found == idempotency_.end()) return nullptr;
  if (found->second.fingerprint != fingerprint) {
    status = failed_precondition("idempotency key \"" + key + "\" reused with different parameters");
  }
  return &found->second;
}

void Exchange::remember_key(Step& step, const char* command, std::uint64_t target, const std::string& key,
                            std::string fingerprint, std::uint64_t object_id, std::uint64_t ledger_entry_id) {
  IdempotencyRecord record{command, target, key, std::move(fingerprint), step.sequence, object_id, ledger_entry_id};
  idempotency_[{record.command, target, key}] = record;
  step.events.push_back(IdempotencyKeyUsed{std::move(record)});
}

namespace {
std::string fields(std::initializer_list<std::string> parts) {
  std::string out;
  for (const std::string& part : parts) out += std::to_string(part.size()) + ":" + part + "|";
  return out;
}
std::string n(std::int64_t v) { return std::to_string(v); }
}  // namespace

// ---- caps and allocation ----------------------------------------------------

Status Exchange::set_cap(Step& step, const Principal& who, const SetCap& c) {
  if (who.role != Role::registry_authority) return permission_denied("SetCap is for the registry authority");
  if (closed_years_.contains(c.year)) {
    return failed_precondition("compliance year " + year_text(c.year) + " is closed");
  }
  CapRecord record;
  if (auto found = caps_.find({c.year, c.sector}); found != caps_.end()) record = found->second;
  record.year = c.year;
  record.sector = c.sector;
  record.cap = c.cap;
  record.paid_share_bps = c.paid_share_bps;
  if (record.free_limit() < record.free_allocated) {
    return failed_precondition("cap: the free share of " + tonnes(record.free_limit()) + " is below the " +
                               tonnes(record.free_allocated) + " already allocated free for " + year_text(c.year) +
                               " " + c.sector);
  }
  if (Status s = registry_.set_cap(c.year, c.sector, c.cap); !s.is_ok()) return s;
  record.issued = registry_.cap_usage(c.year, c.sector).issued;
  record.reason = c.reason;
  record.sequence = step.sequence;
  caps_[{c.year, c.sector}] = record;
  step.events.push_back(CapChanged{record});
  step.reply.caps.push_back(std::move(record));
  return Status::ok();
}

Status Exchange::allocate_free(Step& step, const Principal& who, const AllocateFree& c) {
  if (who.role != Role::registry_authority) return permission_denied("AllocateFree is for the registry authority");
  auto participant = participants_.find(c.participant);
  if (participant == participants_.end()) {
    return not_found("participant " + std::to_string(c.participant) + " does not exist");
  }
  const ParticipantRecord& unit = participant->second;
  std::string formula_text;
  if (c.formula) {
    formula_text = n(c.formula->output) + "x" + n(c.formula->benchmark_micro_tonnes);
    for (std::int64_t f : c.formula->factors_per_10000) formula_text += "x" + n(f);
  }
  const std::string fingerprint =
      fields({n(c.year), c.sector, c.instrument, n(c.direct.value), formula_text, c.output_unit, c.reason});
  Status reused;
  if (const IdempotencyRecord* first = repeat_of_key("AllocateFree", unit.id, c.idempotency_key, fingerprint, reused)) {
    if (!reused.is_ok()) return reused;
    step.reply.allocations.push_back(allocations_.at(first->object_id - 1));
    step.reply.ledger_entry_id = step.reply.allocations.back().ledger_entry_id;
    step.reply.sequence = first->sequence;
    return Status::ok();
  }
  if (Status s = check_settlement_hold("an allocation"); !s.is_ok()) return s;
  auto instrument = instruments_.find(c.instrument);
  if (instrument == instruments_.end()) return not_found("unknown instrument \"" + c.instrument + "\"");
  if (unit.type != ParticipantType::key_emitting_unit) {
    return failed_precondition("free allocation: participant " + unit.code + " is not a key emitting unit");
  }
  if (instrument->second.config.market != Market::compliance) {
    return failed_precondition("free allocation: " + c.instrument + " is not an allowance (CEA) instrument");
  }
  if (closed_years_.contains(c.year)) {
    return failed_precondition("compliance year " + year_text(c.year) + " is closed");
  }
  auto cap = caps_.find({c.year, c.sector});
  if (cap == caps_.end()) {
    return failed_precondition("free allocation: no cap is set for " + year_text(c.year) + " " + c.sector);
  }
  Qty gross = c.direct;
  if (c.formula) {
    if (Status s = registry::compute_free_allocation(*c.formula, gross); !s.is_ok()) return s;
  }
  // What the registry will deduct: shortfalls of earlier years still owed.
  const auto owed_before = registry_.shortfalls_owed_of(unit.holding_account);
  Qty owed;
  for (const auto& [year, quantity] : owed_before) {
    if (year < c.year) owed += quantity;
  }
  const Qty net = gross - min(gross, owed);
  if (cap->second.free_allocated + net > cap->second.free_limit()) {
    return failed_precondition("cap: free allocations for " + year_text(c.year) + " " + c.sector + " would reach " +
                               tonnes(cap->second.free_allocated + net) + ", above the free share of " +
                               tonnes(cap->second.free_limit()));
  }
  auto outcome = registry_.allocate_free(c.year, c.sector, c.instrument, unit.holding_account, gross, step.sequence,
                                         step.at);
  if (!outcome.is_ok()) return outcome.status;

  AllocationRecord record;
  record.id = allocations_.size() + 1;
  record.year = c.year;
  record.sector = c.sector;
  record.participant = unit.id;
  record.instrument = c.instrument;
  record.gross = outcome.value.gross;
  record.deducted = outcome.value.deducted;
  record.issued = outcome.value.issued;
  record.formula = c.formula;
  record.output_unit = c.output_unit;
  record.reason = c.reason;
  record.ledger_entry_id = outcome.value.issued.is_positive() ? registry_.ledger().last_entry_id() : 0;
  record.sequence = step.sequence;
  record.at = step.at;
  allocations_.push_back(record);
  allocated_[{unit.holding_account, c.instrument}] += outcome.value.issued;

  CapRecord& cap_record = cap->second;
  cap_record.free_allocated += outcome.value.issued;
  cap_record.issued = registry_.cap_usage(c.year, c.sector).issued;
  cap_record.sequence = step.sequence;
  step.events.push_back(AllocationMade{record});
  remember_key(step, "AllocateFree", unit.id, c.idempotency_key, fingerprint, record.id);
  step.events.push_back(CapChanged{cap_record});
  emit_shortfalls(step, unit.holding_account, owed_before);
  if (outcome.value.issued.is_positive()) {
    touch_holding(step, registry::kIssuanceAccount, c.instrument);
    touch_holding(step, unit.holding_account, c.instrument);
  }
  step.reply.allocations.push_back(std::move(record));
  step.reply.ledger_entry_id = step.reply.allocations.back().ledger_entry_id;
  return Status::ok();
}

namespace {
std::string tonnes_wide(__int128 q) {
  if (q >= 0 && q <= INT64_MAX) return tonnes(Qty{static_cast<std::int64_t>(q)});
  std::string digits;
  const bool negative = q < 0;
  unsigned __int128 v = negative ? static_cast<unsigned __int128>(-(q + 1)) + 1 : static_cast<unsigned __int128>(q);
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v != 0);
  return (negative ? "-" : "") + digits + " t";
}
}  // namespace

// IssueAllowances counts against the caps of the instrument's vintage year as a whole
// (issuance is not tied to a sector): the year's issued total may reach, never pass, the
// sum of its caps. So that every cap's `issued` stays truthful, the quantity is spread over
// the year's sectors in name order: first into each sector's paid share (cap less free
// share, less what was issued beyond free allocation), so free allocation keeps its room,
// then into whatever room is left.
Status Exchange::issue_under_year_caps(Step& step, const IssueAllowances& c) {
  const std::optional<int> vintage = registry::allowance_vintage(c.instrument);
  if (!vintage) {
    return failed_precondition("cap: " + c.instrument +
                               " has no vintage year (CEA<year>), so no cap can count its issuance");
  }
  const int year = *vintage;
  if (closed_years_.contains(year)) {
    return failed_precondition("compliance year close: " + year_text(year) + " is closed, so no " + c.instrument +
                               " can be issued into it (issue into an open year's vintage)");
  }
  const auto first = caps_.lower_bound({year, std::string{}});
  const auto last = caps_.lower_bound({year + 1, std::string{}});
  if (first == last) return failed_precondition("cap: no cap is set for compliance year " + year_text(year));
  __int128 total_cap = 0;
  __int128 total_issued = 0;
  for (auto it = first; it != last; ++it) {
    total_cap += it->second.cap.value;
    total_issued += it->second.issued.value;
  }
  if (total_issued + c.quantity.value > total_cap) {
    return failed_precondition("cap: issuing " + tonnes(c.quantity) + " would bring " + year_text(year) + " to " +
                               tonnes_wide(total_issued + c.quantity.value) + ", above the " +
                               tonnes_wide(total_cap) + " of its caps");
  }
  std::map<std::string, Qty> shares;
  Qty left = c.quantity;
  for (int pass = 0; pass < 2 && left.is_positive(); ++pass) {
    for (auto it = first; it != last && left.is_positive(); ++it) {
      const CapRecord& cap = it->second;
      const Qty taken = shares[cap.sector];
      Qty room = pass == 0 ? (cap.cap - cap.free_limit()) - (cap.issued - cap.free_allocated) - taken
                           : cap.cap - cap.issued - taken;
      if (!room.is_positive()) continue;
      const Qty take = min(room, left);
      shares[cap.sector] += take;
      left -= take;
    }
  }
  if (left.is_positive()) {  // the sum check above makes this unreachable unless a cap is already overrun
    return failed_precondition("cap: the caps of " + year_text(year) + " have no room left for " + tonnes(left));
  }
  std::vector<std::pair<std::string, Qty>> parts;
  for (const auto& [sector, share] : shares) {
    if (share.is_positive()) parts.emplace_back(sector, share);
  }
  if (Status s = registry_.issue_under_caps(year, parts, c.instrument, c.holding_account, step.sequence, step.at,
                                            c.reason);
      !s.is_ok()) {
    return s;
  }
  for (const auto& [sector, share] : parts) {
    CapRecord& record = caps_.at({year, sector});
    record.issued = registry_.cap_usage(year, sector).issued;
    record.sequence = step.sequence;
    step.events.push_back(CapChanged{record});
  }
  return Status::ok();
}

// ---- compliance -------------------------------------------------------------

Status Exchange::record_verified_emissions(Step& step, const Principal& who, const RecordVerifiedEmissions& c) {
  if (who.role != Role::registry_authority) {
    return permission_denied("RecordVerifiedEmissions is for the registry authority");
  }
  auto participant = participants_.find(c.participant);
  if (participant == participants_.end()) {
    return not_found("participant " + std::to_string(c.participant) + " does not exist");
  }
  const ParticipantRecord& unit = participant->second;
  const std::string fingerprint =
      fields({n(c.year), c.sector, n(c.emissions.value), c.verifier, c.report_reference, c.reason});
  Status reused;
  if (const IdempotencyRecord* first =
          repeat_of_key("RecordVerifiedEmissions", unit.id, c.idempotency_key, fingerprint, reused)) {
    if (!reused.is_ok()) return reused;
    step.reply.compliance.push_back(compliance_record(c.year, unit));
    step.reply.sequence = first->sequence;
    return Status::ok();
  }
  if (unit.type != ParticipantType::key_emitting_unit) {
    return failed_precondition("verified emissions: participant " + unit.code + " is not a key emitting unit");
  }
  if (closed_years_.contains(c.year)) {
    return failed_precondition("compliance year " + year_text(c.year) + " is closed");
  }
  const bool correction = registry_.compliance_status(c.year, unit.holding_account).is_ok();
  if (auto config = year_configs_.find(c.year);
      correction && config != year_configs_.end() && step.at >= config->second.deadline) {
    // After the deadline the unit is compliant or short, as surrender stopped: a lower figure would erase a
    // shortfall. (A first record may still come late: it can only find the unit short.)
    return failed_precondition("compliance deadline rule: the surrender deadline of " + year_text(c.year) + " (" +
                               matching::format_date(matching::shanghai_date(config->second.deadline)) +
                               " Asia/Shanghai) has passed; verified emissions recorded for " + unit.code +
                               " are no longer corrected");
  }
  if (correction && c.reason.empty()) {
    return failed_precondition("verified emissions: a correction of the " + year_text(c.year) +
                               " record needs a reason");
  }
  if (Status s = registry_.record_verified_emissions(c.year, unit.holding_account, c.emissions); !s.is_ok()) return s;
  ComplianceRecord& kept = compliance_[{c.year, unit.id}];
  kept.sector = c.sector;
  kept.verifier = c.verifier;
  kept.report_reference = c.report_reference;
  emit_compliance(step, c.year, unit);
  remember_key(step, "RecordVerifiedEmissions", unit.id, c.idempotency_key, fingerprint, 0);
  return Status::ok();
}

Status Exchange::surrender(Step& step, const Principal& who, const Surrender& c) {
  if (who.role != Role::registry_authority && who.role != Role::trader) {
    return permission_denied("Surrender is for the registry authority and for a unit's own traders");
  }
  const ParticipantRecord* unit = nullptr;
  if (Status s = resolve_unit(who, c.participant, unit); !s.is_ok()) return s;
  const std::string fingerprint = fields({n(c.year), c.instrument, n(c.quantity.value)});
  Status reused;
  if (const IdempotencyRecord* first = repeat_of_key("Surrender", unit->id, c.idempotency_key, fingerprint, reused)) {
    if (!reused.is_ok()) return reused;
    step.reply.compliance.push_back(compliance_record(c.year, *unit));
    step.reply.holdings.push_back(
        {unit->holding_account, c.instrument, registry_.holding(unit->holding_account, c.instrument)});
    step.reply.ledger_entry_id = first->object_id;
    step.reply.sequence = first->sequence;
    return Status::ok();
  }
  if (!instruments_.contains(c.instrument)) return not_found("unknown instrument \"" + c.instrument + "\"");
  // After a configured deadline a unit is compliant or short: nothing more counts for the year.
  if (const auto config = year_configs_.find(c.year);
      config != year_configs_.end() && step.at >= config->second.deadline) {
    return failed_precondition("compliance deadline rule: the surrender deadline of " + year_text(c.year) + " (" +
                               matching::format_date(matching::shanghai_date(config->second.deadline)) +
                               " Asia/Shanghai) has passed; the unit is compliant or short");
  }
  if (Status s = registry_.surrender(c.year, unit->holding_account, c.instrument, c.quantity, step.sequence, step.at);
      !s.is_ok()) {
    return s;
  }
  step.reply.ledger_entry_id = registry_.ledger().last_entry_id();
  emit_compliance(step, c.year, *unit);
  remember_key(step, "Surrender", unit->id, c.idempotency_key, fingerprint, step.reply.ledger_entry_id);
  touch_holding(step, unit->holding_account, c.instrument);
  touch_holding(step, registry::kSurrenderAccount, c.instrument);
  step.reply.holdings.push_back(
      {unit->holding_account, c.instrument, registry_.holding(unit->holding_account, c.instrument)});
  return Status::ok();
}

Status Exchange::close_compliance_year(Step& step, const Principal& who, const CloseComplianceYear& c) {
  if (who.role != Role::registry_authority) {
    return permission_denied("CloseComplianceYear is for the registry authority");
  }
  if (auto closed = closed_years_.find(c.year); closed != closed_years_.end()) {
    // Closing a closed year answers the stored result and changes nothing.
    for (const auto& [key, kept] : compliance_) {
      if (key.first != c.year) continue;
      if (auto p = participants_.find(key.second); p != participants_.end()) {
        step.reply.compliance.push_back(compliance_record(c.year, p->second));
      }
    }
    step.reply.penalty_basis = closed->second.penalty_basis;
    step.reply.penalty_multiple = closed->second.penalty_multiple;
    step.reply.sequence = closed->second.sequence;
    if (auto config = year_configs_.find(c.year); config != year_configs_.end()) {
      step.reply.compliance_years.push_back(config->second);
    }
    return Status::ok();
  }
  const std::vector<registry::ComplianceStatus> before = registry_.compliance_statuses(c.year);
  if (before.empty()) {
    return not_found("compliance year " + year_text(c.year) + " has no verified emissions recorded");
  }
  // Every unit covered that year (given a free allocation for it) owes its verified emissions: a year closed
  // without them would leave such a unit with no obligation, no shortfall and no penalty, for good.
  std::set<ParticipantId> missing;
  for (const AllocationRecord& allocation : allocations_) {
    if (allocation.year != c.year) continue;
    auto unit = participants_.find(allocation.participant);
    if (unit == participants_.end() || unit->second.type != ParticipantType::key_emitting_unit) continue;
    if (!registry_.compliance_status(c.year, unit->second.holding_account).is_ok()) missing.insert(unit->first);
  }
  if (!missing.empty()) {
    std::string codes;
    std::size_t listed = 0;
    for (const ParticipantId id : missing) {
      if (listed++ == 5) {
        codes += ", ...";
        break;
      }
      codes += (codes.empty() ? "" : ", ") + participants_.at(id).code;
    }
    return failed_precondition("compliance year " + year_text(c.year) + ": verified emissions are missing for " +
                               std::to_string(missing.size()) + " key emitting unit" +
                               (missing.size() == 1 ? "" : "s") + " allocated for the year (" + codes +
                               "); record them with RecordVerifiedEmissions before closing");
  }
  const bool any_short = std::any_of(before.begin(), before.end(),
                                     [](const registry::ComplianceStatus& s) { return s.shortfall.is_positive(); });
  // A configured year closes only after its deadline, with its multiple, and its basis month is the
  // one before the deadline's; an unconfigured year uses 5 and the month before the close.
  const auto config = year_configs_.find(c.year);
  const bool configured = config != year_configs_.end();
  const int multiple = configured ? config->second.penalty_multiple : kPenaltyMultiple;
  if (configured && step.at < config->second.deadline) {
    return failed_precondition("compliance deadline rule: the surrender deadline of " + year_text(c.year) + " (" +
                               matching::format_date(matching::shanghai_date(config->second.deadline)) +
                               " Asia/Shanghai) has not passed");
  }
  Price basis = c.penalty_basis_override;
  if (basis.is_zero() && any_short) {
    std::string month;
    const std::vector<Price> closes =
        closes_of_month_before(configured ? config->second.deadline : step.at, month);
    if (closes.empty()) {
      return failed_precondition("penalty basis (decree 775, art. 24: average price of the month before the "
                                 "deadline): no listed CEA trades closed a day in " +
                                 month + " and no penalty basis price was given");
    }
    if (Status s = registry::average_closing_price(closes, basis); !s.is_ok()) return s;
  }
  // Every penalty is computed before the registry closes the year, so a failure changes nothing.
  std::map<AccountId, Cash> penalties;
  for (const registry::ComplianceStatus& status : before) {
    if (!status.shortfall.is_positive()) continue;
    Cash penalty;
    if (Status s = registry::compute_penalty(status.shortfall, basis, multiple, penalty); !s.is_ok()) return s;
    penalties[status.unit] = penalty;
  }
  std::map<AccountId, std::vector<std::pair<int, Qty>>> owed_before;
  for (const registry::ComplianceStatus& status : before) {
    owed_before[status.unit] = registry_.shortfalls_owed_of(status.unit);
  }
  auto closed = registry_.close_compliance_year(c.year);
  if (!closed.is_ok()) return closed.status;
  for (const registry::ComplianceStatus& status : closed.value) {
    const ParticipantRecord* unit = holder_of(status.unit);
    if (unit == nullptr) continue;
    ComplianceRecord& kept = compliance_[{c.year, unit->id}];
    if (auto penalty = penalties.find(status.unit); penalty != penalties.end()) {
      kept.penalty_basis = basis;
      kept.penalty_multiple = multiple;
      kept.penalty = penalty->second;
    }
    emit_compliance(step, c.year, *unit);
    emit_shortfalls(step, status.unit, owed_before[status.unit]);
  }
  ComplianceYearClosed record{c.year, basis, multiple, step.sequence};
  closed_years_[c.year] = record;
  step.events.push_back(record);
  step.reply.penalty_basis = basis;
  step.reply.penalty_multiple = multiple;
  if (configured) step.reply.compliance_years.push_back(config->second);
  return Status::ok();
}

// ---- freezes and transfers ----------------------------------------------------

Status Exchange::freeze(Step& step, const Principal& who, const Freeze& c) {
  if (who.role != Role::registry_authority && who.role != Role::regulator) {
    return permission_denied("Freeze is for the registry authority and regulators");
  }
  const std::string fingerprint =
      fields({c.instrument, n(c.quantity.value), c.reason, c.legal_reference, n(static_cast<int>(who.role))});
  Status reused;
  if (const IdempotencyRecord* first = repeat_of_key("Freeze", c.account, c.idempotency_key, fingerprint, reused)) {
    if (!reused.is_ok()) return reused;
    const FreezeView& view = freezes_.at(first->object_id);
    step.reply.freezes.push_back(view);
    step.reply.holdings.push_back({c.account, c.instrument, registry_.holding(c.account, c.instrument)});
    step.reply.ledger_entry_id = first->ledger_entry_id;
    step.reply.sequence = first->sequence;
    return Status::ok();
  }
  if (!instruments_.contains(c.instrument)) return not_found("unknown instrument \"" + c.instrument + "\"");
  registry::FreezeOrder order{c.account, c.instrument, c.quantity, authority_of(who.role),
                              who.name.empty() ? std::string(role_name(who.role)) : who.name, c.reason};
  auto placed = registry_.freeze(order, step.sequence, step.at);
  if (!placed.is_ok()) return placed.status;
  FreezeView view;
  for (const registry::FreezeRecord& record : registry_.freezes_of(c.account)) {
    if (record.id == placed.value) view.record = record;
  }
  view.remaining = c.quantity;
  view.placed_by = who.role;
  view.legal_reference = c.legal_reference;
  view.sequence = step.sequence;
  freezes_[placed.value] = view;
  step.events.push_back(FreezeChanged{view});
  remember_key(step, "Freeze", c.account, c.idempotency_key, fingerprint, placed.value,
               registry_.ledger().last_entry_id());
  touch_holding(step, c.account, c.instrument);
  step.reply.freezes.push_back(std::move(view));
  step.reply.ledger_entry_id = registry_.ledger().last_entry_id();
  step.reply.holdings.push_back({c.account, c.instrument, registry_.holding(c.account, c.instrument)});
  return Status::ok();
}

Status Exchange::unfreeze(Step& step, const Principal& who, const Unfreeze& c) {
  if (who.role != Role::registry_authority && who.role != Role::regulator) {
    return permission_denied("Unfreeze is for the registry authority and regulators");
  }
  auto found = freezes_.find(c.freeze);
  if (found == freezes_.end()) return not_found("freeze " + std::to_string(c.freeze) + " does not exist");
  FreezeView& view = found->second;
  // A regulator lifts any freeze; the registry authority only its own.
  if (view.placed_by == Role::regulator && who.role != Role::regulator) {
    return permission_denied("freeze " + std::to_string(c.freeze) +
                             " was placed by a regulator: only a regulator may lift it");
  }
  const std::string fingerprint = fields({n(c.quantity.value), c.reason});
  Status reused;
  if (const IdempotencyRecord* first = repeat_of_key("Unfreeze", c.freeze, c.idempotency_key, fingerprint, reused)) {
    if (!reused.is_ok()) return reused;
    step.reply.freezes.push_back(view);
    step.reply.holdings.push_back({view.record.account, view.record.instrument,
                                   registry_.holding(view.record.account, view.record.instrument)});
    step.reply.ledger_entry_id = first->object_id;
    step.reply.sequence = first->sequence;
    return Status::ok();
  }
  if (!view.active()) return failed_precondition("freeze " + std::to_string(c.freeze) + " is already lifted");
  if (c.quantity > view.remaining) {
    return failed_precondition("unfreeze: " + tonnes(c.quantity) + " is above the " + tonnes(view.remaining) +
                               " still frozen");
  }
  // Partial: the rest stays frozen with its reason.
  const Qty lifted = c.quantity.is_zero() ? view.remaining : c.quantity;
  if (Status s = registry_.unfreeze_part(c.freeze, lifted, authority_of(who.role),
                                         who.name.empty() ? std::string(role_name(who.role)) : who.name,
                                         step.sequence, step.at);
      !s.is_ok()) {
    return s;
  }
  view.remaining -= lifted;
  if (view.remaining.is_zero()) view.lifted_at = step.at;
  view.sequence = step.sequence;
  step.events.push_back(FreezeChanged{view});
  remember_key(step, "Unfreeze", c.freeze, c.idempotency_key, fingerprint, registry_.ledger().last_entry_id());
  touch_holding(step, view.record.account, view.record.instrument);
  step.reply.freezes.push_back(view);
  step.reply.ledger_entry_id = registry_.ledger().last_entry_id();
  step.reply.holdings.push_back({view.record.account, view.record.instrument,
                                 registry_.holding(view.record.account, view.record.instrument)});
  return Status::ok();
}

Status Exchange::transfer_units(Step& step, const Principal& who, const TransferUnits& c) {
  if (who.role != Role::registry_authority) return permission_denied("Transfer is for the registry authority");
  const std::string fingerprint = fields({n(static_cast<std::int64_t>(c.to)), c.instrument, n(c.quantity.value), c.reason});
  Status reused;
  if (const IdempotencyRecord* first = repeat_of_key("Transfer", c.from, c.idempotency_key, fingerprint, reused)) {
    if (!reused.is_ok()) return reused;
    step.reply.holdings.push_back({c.from, c.instrument, registry_.holding(c.from, c.instrument)});
    step.reply.holdings.push_back({c.to, c.instrument, registry_.holding(c.to, c.instrument)});
    step.reply.ledger_entry_id = first->object_id;
    step.reply.sequence = first->sequence;
    return Status::ok();
  }
  if (Status s = check_settlement_hold("a transfer"); !s.is_ok()) return s;
  auto instrument = instruments_.find(c.instrument);
  if (instrument == instruments_.end()) return not_found("unknown instrument \"" + c.instrument + "\"");
  for (AccountId account : {c.from, c.to}) {
    if (!registry_.has_account(account)) {
      return not_found("holding account " + std::to_string(account) + " does not exist");
    }
  }
  if (c.from == registry::kIssuanceAccount || c.to == registry::kIssuanceAccount) {
    return failed_precondition("transfer: the issuance account is neither source nor destination of a transfer; "
                               "use IssueAllowances");
  }
  if (c.quantity.value % instrument->second.config.lot.value != 0) {
    return failed_precondition("lot rule: " + tonnes(c.quantity) + " is not a multiple of the " +
                               tonnes(instrument->second.config.lot) + " lot of " + c.instrument);
  }
  if (const ParticipantRecord* recipient = holder_of(c.to)) {
    if (Status s = check_eligible(instrument->second, *recipient); !s.is_ok()) return s;
    if (Status s = check_position_limit(instrument->second, *recipient, c.quantity); !s.is_ok()) return s;
  }
  if (Status s = registry_.transfer(c.instrument, c.from, c.to, c.quantity, step.sequence, step.at, c.reason);
      !s.is_ok()) {
    return s;
  }
  touch_holding(step, c.from, c.instrument);
  touch_holding(step, c.to, c.instrument);
  step.reply.ledger_entry_id = registry_.ledger().last_entry_id();
  remember_key(step, "Transfer", c.from, c.idempotency_key, fingerprint, step.reply.ledger_entry_id);
  step.reply.holdings.push_back({c.from, c.instrument, registry_.holding(c.from, c.instrument)});
  step.reply.holdings.push_back({c.to, c.instrument, registry_.holding(c.to, c.instrument)});
  return Status::ok();
}

// ---- queries -------------------------------------------------------------------

Status Exchange::registry_query(Reply& reply, const Principal& who, const CommandBody& body) const {
  const bool staff = who.role != Role::trader;
  return std::visit(
      Overloaded{
          [&](const ListCaps& q) -> Status {
            if (!staff) return permission_denied("ListCaps is not for traders");
            for (const auto& [key, cap] : caps_) {
              if (q.year == 0 || key.first == q.year) reply.caps.push_back(cap);
            }
            return Status::ok();
          },
          [&](const ListAllocations& q) -> Status {
            ParticipantId participant = q.participant;
            if (!staff) {
              if (participant != 0 && participant != who.participant) {
                return permission_denied("participant " + std::to_string(participant) + " is another participant");
              }
              participant = who.participant;
            }
            for (const AllocationRecord& allocation : allocations_) {
              if (q.year != 0 && allocation.year != q.year) continue;
              if (participant != 0 && allocation.participant != participant) continue;
              if (!q.sector.empty() && allocation.sector != q.sector) continue;
              reply.allocations.push_back(allocation);
            }
            return Status::ok();
          },
          [&](const GetComplianceStatus& q) -> Status {
            const ParticipantRecord* unit = nullptr;
            if (Status s = resolve_unit(who, q.participant, unit); !s.is_ok()) return s;
            if (!registry_.compliance_status(q.year, unit->holding_account).is_ok()) {
              return not_found("no verified emissions are recorded for participant " + std::to_string(unit->id) +
                               " in " + year_text(q.year));
            }
            reply.compliance.push_back(compliance_record(q.year, *unit));
            return Status::ok();
          },
          [&](const ListComplianceStatuses& q) -> Status {
            if (!staff) return permission_denied("ListComplianceStatuses is not for traders");
            const std::vector<registry::ComplianceStatus> statuses = registry_.compliance_statuses(q.year);
            if (statuses.empty() && !year_configs_.contains(q.year)) {
              return not_found("compliance year " + year_text(q.year) +
                               " is not configured and has no verified emissions recorded");
            }
            for (const registry::ComplianceStatus& status : statuses) {
              if (const ParticipantRecord* unit = holder_of(status.unit)) {
                reply.compliance.push_back(compliance_record(q.year, *unit));
              }
            }
            return Status::ok();
          },
          [&](const ListFreezes& q) -> Status {
            if (!staff) return permission_denied("ListFreezes is not for traders");
            for (const auto& [id, view] : freezes_) {
              if (q.account != 0 && view.record.account != q.account) continue;
              if (!q.instrument.empty() && view.record.instrument != q.instrument) continue;
              if (q.status == 1 && !view.active()) continue;
              if (q.status == 2 && view.active()) continue;
              reply.freezes.push_back(view);
            }
            return Status::ok();
          },
          [&](const ListEarlyWarnings& q) -> Status {
            if (!staff) return permission_denied("ListEarlyWarnings is not for traders");
            const std::vector<registry::ComplianceStatus> statuses = registry_.compliance_statuses(q.year);
            if (statuses.empty()) {
              return not_found("compliance year " + year_text(q.year) + " has no verified emissions recorded");
            }
            std::int64_t threshold = q.threshold_bps;
            if (auto config = year_configs_.find(q.year); threshold == 0 && config != year_configs_.end()) {
              threshold = config->second.early_warning_threshold_bps;
            }
            if (threshold == 0) threshold = 10'000;
            reply.threshold_bps = threshold;
            // Open buys of allowances the year accepts (CCER buys are left out: the offset cap may not take them).
            std::map<AccountId, Qty> open_by_unit;
            for (const auto& [key, quantity] : open_buys_) {
              const auto vintage = registry::allowance_vintage(key.second);
              if (!vintage || *vintage > q.year || !quantity.is_positive()) continue;
              if (auto p = participants_.find(key.first); p != participants_.end()) {
                open_by_unit[p->second.holding_account] += quantity;
              }
            }
            std::vector<registry::OpenBuys> open;
            for (const auto& [unit, quantity] : open_by_unit) open.push_back(registry::OpenBuys{unit, quantity});
            // Everyone not fully covered, then the proto's threshold on coverage of the whole obligation.
            auto warnings = registry_.early_warnings(q.year, 100, open);
            if (!warnings.is_ok()) return warnings.status;
            for (const registry::EarlyWarning& w : warnings.value) {
              const ParticipantRecord* unit = holder_of(w.unit);
              if (unit == nullptr) continue;
              const ComplianceRecord record = compliance_record(q.year, *unit);
              EarlyWarningRecord out;
              out.participant = unit->id;
              out.name = unit->name;
              out.sector = record.sector;
              out.obligation = record.status.obligation;
              out.surrendered = record.status.obligation - w.still_due;
              out.open_buys = open_by_unit[w.unit];
              out.eligible = w.covered - min(w.covered, out.open_buys);
              out.coverage_bps =
                  out.obligation.is_zero()
                      ? 10'000
                      : static_cast<std::int64_t>(static_cast<__int128>((out.surrendered + w.covered).value) * 10'000 /
                                                  out.obligation.value);
              if (out.coverage_bps < threshold) reply.early_warnings.push_back(std::move(out));
            }
            reply.sequence = last_sequence_;
            std::stable_sort(reply.early_warnings.begin(), reply.early_warnings.end(),
                             [](const EarlyWarningRecord& a, const EarlyWarningRecord& b) {
                               return a.coverage_bps < b.coverage_bps;
                             });
            return Status::ok();
          },
          [&](const GetHoldings& q) -> Status {
            if (!staff) {
              auto own = participants_.find(who.participant);
              if (own == participants_.end() || own->second.holding_account != q.account) {
                // A trader sees only its own account (common.proto: another's is PERMISSION_DENIED).
                return permission_denied("holding account " + std::to_string(q.account) + " is not the caller's");
              }
            }
            if (!registry_.has_account(q.account)) {
              return not_found("holding account " + std::to_string(q.account) + " does not exist");
            }
            reply.holdings = registry_.holdings_of(q.account);
            return Status::ok();
          },
          [&](const ListPledges& q) -> Status { return pledge_query(reply, who, q); },
          [&](const auto&) -> Status { return ccer_query(reply, who, body); },
      },
      body);
}

// ---- recovery --------------------------------------------------------------------

void Exchange::restore_registry(const RecoveredState& state) {
  for (const CapRecord& cap : state.caps) {
    caps_[{cap.year, cap.sector}] = cap;
    registry_.restore_cap(cap.year, cap.sector, registry::CapUsage{cap.cap, cap.issued});
  }
  allocations_ = state.allocations;
  std::sort(allocations_.begin(), allocations_.end(),
            [](const AllocationRecord& a, const AllocationRecord& b) { return a.id < b.id; });
  for (const ComplianceRecord& record : state.compliance) {
    compliance_[{record.status.year, record.participant}] = record;
    registry_.restore_compliance(record.status);
  }
  for (const ShortfallOwed& shortfall : state.shortfalls_owed) {
    registry_.restore_shortfall_owed(shortfall.unit, shortfall.year, shortfall.owed);
  }
  for (const ComplianceYearClosed& closed : state.closed_years) closed_years_[closed.year] = closed;
  for (const IdempotencyRecord& record : state.idempotency) {
    idempotency_[{record.command, record.target, record.key}] = record;
  }
  for (const FreezeView& view : state.freezes) {
    freezes_[view.record.id] = view;
    if (view.active()) {
      registry::FreezeRecord in_force = view.record;
      in_force.quantity = view.remaining;
      registry_.restore_freeze(in_force);
    }
    registry_.restore_freeze_ids(view.record.id);
  }
  restore_ccer(state);
}

}  // namespace carbon::engine
