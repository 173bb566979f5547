// CCER as the engine runs it: methodologies, projects, issuance of verified
// reductions as serial-numbered blocks, retirement, and the queries over
// them. The registry core (src/registry/ccer.cpp) keeps the units and their
// serials (first in, first out); this file adds roles, participants, the
// records the API shows and the events the store journals.
#include <algorithm>
#include <chrono>
#include <initializer_list>
#include <set>

#include "common/overloaded.h"
#include "engine/exchange.h"
#include "engine/step.h"
#include "engine/validation.h"
#include "matching/trading_rules.h"

namespace carbon::engine {
namespace {


Status check_text(const std::string& text, const char* field, std::size_t max, bool required) {
  if ((required && text.empty()) || text.size() > max || !is_clean_text(text)) {
    return invalid_argument(std::string(field) + (required ? " is required: 1 to " : " must be at most ") +
                            std::to_string(max) + " bytes of text without control characters");
  }
  return Status::ok();
}

Status check_key(const std::string& key) {
  if (key.empty() || key.size() > 64 || !is_clean_text(key)) {
    return invalid_argument("idempotency_key is required: 1 to 64 characters, no control characters");
  }
  return Status::ok();
}

/// INVALID_ARGUMENT unless [start, end] are two dates with start before end.
Status check_period(const std::string& start, const std::string& end, const char* period) {
  const auto first = matching::parse_date(start);
  const auto last = matching::parse_date(end);
  if (!first) return invalid_argument(std::string(period) + " start date must be a date YYYY-MM-DD");
  if (!last) return invalid_argument(std::string(period) + " end date must be a date YYYY-MM-DD");
  if (!(*first < *last)) return invalid_argument(std::string(period) + ": the start must be before the end");
  return Status::ok();
}

/// The parameters of a command, length-prefixed, for its idempotency key.
std::string fields(std::initializer_list<std::string> parts) {
  std::string out;
  for (const std::string& part : parts) out += std::to_string(part.size()) + ":" + part + "|";
  return out;
}

int year_of(const std::string& date) { return static_cast<int>(matching::parse_date(date)->year()); }

}  // namespace

Status validate_ccer(const CommandBody& body) {
  return std::visit(
      Overloaded{
          [](const RegisterMethodology& c) -> Status {
            const MethodologyRecord& m = c.methodology;
            if (Status s = check_text(m.code, "code", 64, true); !s.is_ok()) return s;
            if (Status s = check_text(m.name, "name", 300, true); !s.is_ok()) return s;
            if (Status s = check_text(m.version, "version", 32, true); !s.is_ok()) return s;
            if (Status s = check_text(m.field, "field", 100, false); !s.is_ok()) return s;
            return check_text(m.document_reference, "document_reference", 200, false);
          },
          [](const RegisterCcerProject& c) -> Status {
            if (Status s = check_text(c.project_code, "project_code", 64, true); !s.is_ok()) return s;
            if (Status s = check_text(c.name, "name", 300, true); !s.is_ok()) return s;
            if (Status s = check_text(c.methodology, "methodology_code", 64, true); !s.is_ok()) return s;
            if (c.owner == 0) return invalid_argument("owner_participant_id is required");
            if (Status s = check_text(c.location, "location", 200, false); !s.is_ok()) return s;
            if (Status s = check_text(c.validation_body, "validation_body", 200, true); !s.is_ok()) return s;
            if (Status s = check_text(c.validation_report_reference, "validation_report_reference", 200, true);
                !s.is_ok()) {
              return s;
            }
            if (Status s = check_text(c.public_notice_reference, "public_notice_reference", 200, false); !s.is_ok()) {
              return s;
            }
            return check_period(c.crediting_start, c.crediting_end, "crediting period");
          },
          [](const ListCcerProjects& c) -> Status { return check_text(c.methodology, "methodology_code", 64, false); },
          [](const IssueCcerCredits& c) -> Status {
            if (c.project == 0) return invalid_argument("project_id is required");
            if (c.vintage < 2000 || c.vintage > 2200) return invalid_argument("vintage_year must be 2000 to 2200");
            if (!c.quantity.is_positive()) return invalid_argument("quantity must be positive (whole tonnes)");
            if (Status s = check_period(c.monitoring_start, c.monitoring_end, "monitoring period"); !s.is_ok()) return s;
            if (Status s = check_text(c.verification_body, "verification_body", 200, true); !s.is_ok()) return s;
            if (Status s = check_text(c.verification_report_reference, "verification_report_reference", 200, true);
                !s.is_ok()) {
              return s;
            }
            return check_key(c.idempotency_key);
          },
          [](const ListSerialBlocks& c) -> Status {
            if (c.account == 0 && c.project == 0) return invalid_argument("holding_account_id or project_id is required");
            return Status::ok();
          },
          [](const RetireUnits& c) -> Status {
            if (Status s = check_text(c.instrument, "instrument", 32, true); !s.is_ok()) return s;
            if (!c.quantity.is_positive()) return invalid_argument("quantity must be positive (whole tonnes)");
            if (Status s = check_text(c.beneficiary, "beneficiary", 500, true); !s.is_ok()) return s;
            if (Status s = check_text(c.purpose, "purpose", 500, true); !s.is_ok()) return s;
            return check_key(c.idempotency_key);
          },
          [](const ListRetirements& c) -> Status {
            if (Status s = check_text(c.instrument, "instrument", 32, false); !s.is_ok()) return s;
            if (c.from < 0 || c.to < 0) return invalid_argument("from_unix_nanos and to_unix_nanos must not be negative");
            if (c.to != 0 && c.from > c.to) return invalid_argument("from_unix_nanos is after to_unix_nanos");
            return Status::ok();
          },
          [](const auto&) -> Status { return Status::ok(); },
      },
      body);
}

// ---- commands ------------------------------------------------------------------

Status Exchange::register_methodology(Step& step, const Principal& who, const RegisterMethodology& c) {
  if (who.role != Role::registry_authority) {
    return permission_denied("RegisterMethodology is for the registry authority");
  }
  const MethodologyRecord& m = c.methodology;
  if (methodologies_.contains(m.code)) {
    return failed_precondition("methodology " + m.code + " is already registered; a methodology code is registered once");
  }
  if (Status s = registry_.register_methodology(registry::Methodology{m.code, m.name}); !s.is_ok()) return s;
  MethodologyRecord record = m;
  record.registered_at = step.at;
  record.sequence = step.sequence;
  methodologies_[record.code] = record;
  step.events.push_back(MethodologyRegistered{record});
  step.reply.methodologies.push_back(std::move(record));
  return Status::ok();
}

Status Exchange::register_ccer_project(Step& step, const Principal& who, const RegisterCcerProject& c) {
  if (who.role != Role::registry_authority) {
    return permission_denied("RegisterCcerProject is for the registry authority");
  }
  auto owner = participants_.find(c.owner);
  if (owner == participants_.end()) return not_found("participant " + std::to_string(c.owner) + " does not exist");
  if (!methodologies_.contains(c.methodology)) return not_found("methodology " + c.methodology + " is not registered");
  for (const CcerProjectRecord& existing : projects_) {
    if (existing.project.code == c.project_code) {
      return failed_precondition("CCER project " + c.project_code +
                                 " is already registered; a project code is registered once");
    }
  }
  if (owner->second.type == ParticipantType::natural_person) {
    return failed_precondition("CCER project owner: participant " + owner->second.code +
                               " is a natural person; projects are owned by legal persons and organisations "
                               "(CCER trial measures)");
  }
  // The authority registers a project only after validation by an accredited body: its
  // registration attests the body's accreditation (there is no separate accreditation RPC).
  static_cast<void>(registry_.accredit_validation_body(c.validation_body));  // ALREADY_EXISTS is fine
  auto registered = registry_.register_project(c.project_code, owner->second.holding_account, c.methodology,
                                               c.validation_body);
  if (!registered.is_ok()) return registered.status;
  CcerProjectRecord record;
  record.project = *registry_.project(registered.value);
  record.owner = owner->second.id;
  record.name = c.name;
  record.location = c.location;
  record.validation_report_reference = c.validation_report_reference;
  record.public_notice_reference = c.public_notice_reference;
  record.crediting_start = c.crediting_start;
  record.crediting_end = c.crediting_end;
  record.registered_at = step.at;
  record.sequence = step.sequence;
  projects_.push_back(record);
  step.events.push_back(CcerProjectChanged{record});
  step.reply.projects.push_back(std::move(record));
  return Status::ok();
}

Status Exchange::issue_ccer_credits(Step& step, const Principal& who, const IssueCcerCredits& c) {
  if (who.role != Role::registry_authority) return permission_denied("IssueCcerCredits is for the registry authority");
  const std::string fingerprint =
      fields({std::to_string(c.vintage), std::to_string(c.quantity.value), c.monitoring_start, c.monitoring_end,
              c.verification_body, c.verification_report_reference});
  Status reused;
  if (const IdempotencyRecord* first =
          repeat_of_key("IssueCcerCredits", c.project, c.idempotency_key, fingerprint, reused)) {
    if (!reused.is_ok()) return reused;
    const CcerIssuanceRecord& issuance = ccer_issuances_.at(first->object_id - 1);
    step.reply.issuances.push_back(issuance);
    step.reply.holdings.push_back(
        {issuance.account, registry::kCcerInstrument, registry_.holding(issuance.account, registry::kCcerInstrument)});
    step.reply.ledger_entry_id = issuance.ledger_entry_id;
    step.reply.projects = projects_;
    step.reply.sequence = first->sequence;
    return Status::ok();
  }
  if (Status s = check_settlement_hold("an issuance"); !s.is_ok()) return s;
  if (c.project > projects_.size()) return not_found("CCER project " + std::to_string(c.project) + " does not exist");
  CcerProjectRecord& project = projects_[c.project - 1];
  const std::string& code = project.project.code;
  if (c.monitoring_start < project.crediting_start || c.monitoring_end > project.crediting_end) {
    return failed_precondition("CCER issuance: the monitoring period " + c.monitoring_start + ".." + c.monitoring_end +
                               " is outside the crediting period " + project.crediting_start + ".." +
                               project.crediting_end + " of project " + code);
  }
  // Monitoring, then verification, then issuance: a period still running has nothing verified to issue.
  if (const std::string today = matching::format_date(matching::shanghai_date(step.at)); c.monitoring_end >= today) {
    return failed_precondition("CCER issuance: the monitoring period " + c.monitoring_start + ".." + c.monitoring_end +
                               " has not ended (today is " + today +
                               ", Asia/Shanghai); credits are issued for reductions monitored and verified");
  }
  if (c.vintage < year_of(c.monitoring_start) || c.vintage > year_of(c.monitoring_end)) {
    return failed_precondition("CCER issuance: vintage " + std::to_string(c.vintage) +
                               " does not overlap the monitoring period " + c.monitoring_start + ".." +
                               c.monitoring_end);
  }
  for (const CcerIssuanceRecord& earlier : ccer_issuances_) {
    if (earlier.block.project != c.project) continue;
    if (c.monitoring_end < earlier.monitoring_start || c.monitoring_start > earlier.monitoring_end) continue;
    return failed_precondition("CCER issuance: the monitoring period " + c.monitoring_start + ".." +
                               c.monitoring_end + " overlaps issuance " + std::to_string(earlier.id) + " (" +
                               earlier.monitoring_start + ".." + earlier.monitoring_end + ") of project " + code +
                               "; reductions are issued once");
  }
  auto instrument = instruments_.find(registry::kCcerInstrument);
  if (instrument == instruments_.end()) return not_found("unknown instrument \"CCER\": it is not configured");
  const ParticipantRecord& owner = participants_.at(project.owner);
  if (Status s = check_position_limit(instrument->second, owner, c.quantity); !s.is_ok()) return s;
  auto issued = registry_.issue_ccer(c.project, c.vintage, c.quantity, step.sequence, step.at,
                                     c.verification_report_reference);
  if (!issued.is_ok()) return issued.status;

  CcerIssuanceRecord record;
  record.id = ccer_issuances_.size() + 1;
  record.block = issued.value;
  record.account = owner.holding_account;
  record.monitoring_start = c.monitoring_start;
  record.monitoring_end = c.monitoring_end;
  record.verification_body = c.verification_body;
  record.verification_report_reference = c.verification_report_reference;
  record.ledger_entry_id = registry_.ledger().last_entry_id();
  record.at = step.at;
  record.sequence = step.sequence;
  ccer_issuances_.push_back(record);
  project.issued += c.quantity;
  project.sequence = step.sequence;
  step.events.push_back(CcerIssued{record});
  step.events.push_back(CcerProjectChanged{project});
  remember_key(step, "IssueCcerCredits", c.project, c.idempotency_key, fingerprint, record.id);
  touch_holding(step, registry::kIssuanceAccount, registry::kCcerInstrument);
  touch_holding(step, owner.holding_account, registry::kCcerInstrument);
  step.reply.ledger_entry_id = record.ledger_entry_id;
  step.reply.issuances.push_back(std::move(record));
  step.reply.projects = projects_;
  step.reply.holdings.push_back(
      {owner.holding_account, registry::kCcerInstrument, registry_.holding(owner.holding_account, registry::kCcerInstrument)});
  return Status::ok();
}

Status Exchange::retire_units(Step& step, const Principal& who, const RetireUnits& c) {
  if (who.role != Role::registry_authority && who.role != Role::trader) {
    return permission_denied("RetireUnits is for the registry authority and for a holder's own traders");
  }
  const ParticipantRecord* holder = nullptr;
  if (Status s = resolve_unit(who, c.participant, holder); !s.is_ok()) return s;
  const std::string fingerprint = fields({c.instrument, std::to_string(c.quantity.value), c.beneficiary, c.purpose});
  Status reused;
  if (const IdempotencyRecord* first = repeat_of_key("RetireUnits", holder->id, c.idempotency_key, fingerprint, reused)) {
    if (!reused.is_ok()) return reused;
    step.reply.retirements.push_back(retirements_.at(first->object_id - 1));
    step.reply.participants.push_back(*holder);
    step.reply.projects = projects_;
    step.reply.holdings.push_back(
        {holder->holding_account, c.instrument, registry_.holding(holder->holding_account, c.instrument)});
    step.reply.ledger_entry_id = step.reply.retirements.back().retirement.ledger_entry_id;
    step.reply.sequence = first->sequence;
    return Status::ok();
  }
  if (Status s = check_settlement_hold("a retirement"); !s.is_ok()) return s;
  auto instrument = instruments_.find(c.instrument);
  if (instrument == instruments_.end()) return not_found("unknown instrument \"" + c.instrument + "\"");
  if (c.instrument != registry::kCcerInstrument) {
    return failed_precondition("retirement: only CCER is retired (cancelled for offsetting or voluntary use); " +
                               c.instrument + " leaves the market by Surrender");
  }
  if (c.quantity.value % instrument->second.config.lot.value != 0) {
    return failed_precondition("lot rule: " + tonnes(c.quantity) + " is not a multiple of the " +
                               tonnes(instrument->second.config.lot) + " lot of " + c.instrument);
  }
  auto retired = registry_.retire_ccer(holder->holding_account, c.quantity, c.beneficiary, c.purpose, step.sequence,
                                       step.at);
  if (!retired.is_ok()) return retired.status;
  RetirementRecord record{registry_.retirements().back(), holder->id, c.instrument, step.sequence};
  retirements_.push_back(record);
  step.events.push_back(UnitsRetired{record});
  remember_key(step, "RetireUnits", holder->id, c.idempotency_key, fingerprint, record.retirement.id);
  touch_holding(step, holder->holding_account, c.instrument);
  touch_holding(step, registry::kCancellationAccount, c.instrument);
  step.reply.ledger_entry_id = record.retirement.ledger_entry_id;
  step.reply.retirements.push_back(std::move(record));
  step.reply.participants.push_back(*holder);
  step.reply.projects = projects_;
  step.reply.holdings.push_back(
      {holder->holding_account, c.instrument, registry_.holding(holder->holding_account, c.instrument)});
  return Status::ok();
}

// ---- queries -------------------------------------------------------------------

SerialBlockView Exchange::block_view(const registry::CcerBlock& block, AccountId account) const {
  SerialBlockView view{block, account, {}, {}};
  if (block.project >= 1 && block.project <= projects_.size()) {
    view.project_code = projects_[block.project - 1].project.code;
    view.methodology = projects_[block.project - 1].project.methodology;
  }
  return view;
}

Status Exchange::ccer_query(Reply& reply, const Principal& who, const CommandBody& body) const {
  const bool staff = who.role != Role::trader;
  return std::visit(
      Overloaded{
          [&](const ListMethodologies&) -> Status {
            for (const auto& [code, methodology] : methodologies_) reply.methodologies.push_back(methodology);
            return Status::ok();
          },
          [&](const ListCcerProjects& q) -> Status {
            for (const CcerProjectRecord& project : projects_) {
              if (!q.methodology.empty() && project.project.methodology != q.methodology) continue;
              if (q.owner != 0 && project.owner != q.owner) continue;
              reply.projects.push_back(project);
            }
            return Status::ok();
          },
          [&](const ListSerialBlocks& q) -> Status {
            if (q.project != 0 && q.project > projects_.size()) {
              return not_found("CCER project " + std::to_string(q.project) + " does not exist");
            }
            std::vector<AccountId> accounts;
            if (q.account != 0) {
              if (!staff) {
                const ParticipantRecord* own = trader(who);
                if (own == nullptr || own->holding_account != q.account) {
                  return permission_denied("holding account " + std::to_string(q.account) + " is not the caller's");
                }
              }
              if (!registry_.has_account(q.account)) {
                return not_found("holding account " + std::to_string(q.account) + " does not exist");
              }
              accounts.push_back(q.account);
            } else {
              if (!staff) {
                return permission_denied("a trader lists the serial blocks of its own holding account only");
              }
              for (AccountId system = registry::kIssuanceAccount; system <= registry::kCancellationAccount; ++system) {
                accounts.push_back(system);
              }
              for (const auto& [id, participant] : participants_) accounts.push_back(participant.holding_account);
            }
            for (AccountId account : accounts) {
              for (const registry::CcerBlock& block : registry_.ccer_blocks_of(account)) {
                if (q.project != 0 && block.project != q.project) continue;
                reply.serial_blocks.push_back(block_view(block, account));
              }
            }
            return Status::ok();
          },
          [&](const ListRetirements& q) -> Status {
            std::set<ParticipantId> holders;
            for (auto it = retirements_.rbegin(); it != retirements_.rend(); ++it) {
              if (!q.instrument.empty() && it->instrument != q.instrument) continue;
              if (q.participant != 0 && it->participant != q.participant) continue;
              if (it->retirement.retired_at < q.from) continue;
              if (q.to != 0 && it->retirement.retired_at >= q.to) continue;
              reply.retirements.push_back(*it);
              holders.insert(it->participant);
            }
            for (ParticipantId id : holders) {
              if (auto found = participants_.find(id); found != participants_.end()) {
                reply.participants.push_back(found->second);
              }
            }
            reply.projects = projects_;
            return Status::ok();
          },
          [&](const auto&) -> Status { return Status{ErrorCode::internal, "command routed as a query"}; },
      },
      body);
}

// ---- recovery --------------------------------------------------------------------

void Exchange::restore_ccer(const RecoveredState& state) {
  for (const MethodologyRecord& methodology : state.methodologies) {
    methodologies_[methodology.code] = methodology;
    static_cast<void>(registry_.register_methodology(registry::Methodology{methodology.code, methodology.name}));
  }
  std::vector<CcerProjectRecord> projects = state.projects;
  std::sort(projects.begin(), projects.end(),
            [](const CcerProjectRecord& a, const CcerProjectRecord& b) { return a.project.id < b.project.id; });
  for (const CcerProjectRecord& project : projects) {
    static_cast<void>(registry_.accredit_validation_body(project.project.validation_body));
    registry_.restore_project(project.project);
    projects_.push_back(project);
  }
  ccer_issuances_ = state.issuances;
  std::sort(ccer_issuances_.begin(), ccer_issuances_.end(),
            [](const CcerIssuanceRecord& a, const CcerIssuanceRecord& b) { return a.id < b.id; });
  for (const CcerBlocksChanged& held : state.ccer_blocks) registry_.restore_ccer_blocks(held.account, held.blocks);
  retirements_ = state.retirements;
  std::sort(retirements_.begin(), retirements_.end(), [](const RetirementRecord& a, const RetirementRecord& b) {
    return a.retirement.id < b.retirement.id;
  });
  for (const RetirementRecord& retirement : retirements_) registry_.restore_retirement(retirement.retirement);
}

}  // namespace carbon::engine
