#include "store/registry_rows.h"

#include <variant>

namespace carbon::store {
namespace {

template <typename T>
std::int64_t i(T v) {
  return static_cast<std::int64_t>(v);
}

std::string join_factors(const std::optional<registry::AllocationFormula>& formula) {
  std::string out;
  if (!formula) return out;
  for (std::int64_t factor : formula->factors_per_10000) {
    if (!out.empty()) out.push_back(',');
    out += std::to_string(factor);
  }
  return out;
}

constexpr const char* kUpsertCaps =
    "INSERT INTO caps (compliance_year, sector, cap_quantity, paid_share_bps, issued, free_allocated, reason,"
    " updated_sequence)"
    " SELECT * FROM unnest($1::int[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],"
    " $7::text[], $8::bigint[])"
    " ON CONFLICT (compliance_year, sector) DO UPDATE SET cap_quantity = EXCLUDED.cap_quantity,"
    " paid_share_bps = EXCLUDED.paid_share_bps, issued = EXCLUDED.issued, free_allocated = EXCLUDED.free_allocated,"
    " reason = EXCLUDED.reason, updated_sequence = EXCLUDED.updated_sequence";
constexpr const char* kInsertAllocations =
    "INSERT INTO allocations (allocation_id, compliance_year, sector, participant_id, instrument, gross_quantity,"
    " deducted_quantity, issued_quantity, benchmark, output, output_unit, benchmark_micro_tonnes, factors_per_10000,"
    " reason, ledger_entry_id, sequence, allocated_at_unix_nanos)"
    " SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::bigint[], $5::text[], $6::bigint[], $7::bigint[],"
    " $8::bigint[], $9::boolean[], $10::bigint[], $11::text[], $12::bigint[], $13::text[], $14::text[],"
    " $15::bigint[], $16::bigint[], $17::bigint[])";
constexpr const char* kUpsertCompliance =
    "INSERT INTO compliance (compliance_year, participant_id, holding_account_id, sector, verifier, report_reference,"
    " obligation, surrendered_allowances, surrendered_ccer, shortfall, closed, penalty_basis_fen, penalty_multiple,"
    " penalty_fen, updated_sequence)"
    " SELECT * FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[],"
    " $8::bigint[], $9::bigint[], $10::bigint[], $11::boolean[], $12::bigint[], $13::int[], $14::bigint[],"
    " $15::bigint[])"
    " ON CONFLICT (compliance_year, participant_id) DO UPDATE SET sector = EXCLUDED.sector,"
    " verifier = EXCLUDED.verifier, report_reference = EXCLUDED.report_reference, obligation = EXCLUDED.obligation,"
    " surrendered_allowances = EXCLUDED.surrendered_allowances, surrendered_ccer = EXCLUDED.surrendered_ccer,"
    " shortfall = EXCLUDED.shortfall, closed = EXCLUDED.closed, penalty_basis_fen = EXCLUDED.penalty_basis_fen,"
    " penalty_multiple = EXCLUDED.penalty_multiple, penalty_fen = EXCLUDED.penalty_fen,"
    " updated_sequence = EXCLUDED.updated_sequence";
constexpr const char* kInsertClosedYears =
    "INSERT INTO compliance_years_closed (compliance_year, penalty_basis_fen, penalty_multiple, closed_sequence)"
    " SELECT * FROM unnest($1::int[], $2::bigint[], $3::int[], $4::bigint[])";
constexpr const char* kUpsertShortfalls =
    "INSERT INTO shortfalls_owed (holding_account_id, compliance_year, owed, updated_sequence)"
    " SELECT * FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::bigint[])"
    " ON CONFLICT (holding_account_id, compliance_year) DO UPDATE SET owed = EXCLUDED.owed,"
    " updated_sequence = EXCLUDED.updated_sequence";
constexpr const char* kInsertKeys =
    "INSERT INTO registry_idempotency (command, target, idempotency_key, fingerprint, sequence, object_id,"
    " ledger_entry_id)"
    " SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[],"
    " $7::bigint[])";
constexpr const char* kUpsertFreezes =
    "INSERT INTO freezes (freeze_id, holding_account_id, instrument, quantity, remaining_quantity, authority,"
    " placed_by_role, ordered_by, reason, legal_reference, placed_at_unix_nanos, lifted_at_unix_nanos,"
    " updated_sequence)"
    " SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::smallint[],"
    " $7::smallint[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::bigint[], $13::bigint[])"
    " ON CONFLICT (freeze_id) DO UPDATE SET remaining_quantity = EXCLUDED.remaining_quantity,"
    " lifted_at_unix_nanos = EXCLUDED.lifted_at_unix_nanos, updated_sequence = EXCLUDED.updated_sequence";

constexpr const char* kUpsertComplianceYears =
    "INSERT INTO compliance_years (compliance_year, deadline_unix_nanos, ccer_limit_bps, penalty_multiple,"
    " early_warning_threshold_bps, updated_sequence)"
    " SELECT * FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::int[], $5::bigint[], $6::bigint[])"
    " ON CONFLICT (compliance_year) DO UPDATE SET deadline_unix_nanos = EXCLUDED.deadline_unix_nanos,"
    " ccer_limit_bps = EXCLUDED.ccer_limit_bps, penalty_multiple = EXCLUDED.penalty_multiple,"
    " early_warning_threshold_bps = EXCLUDED.early_warning_threshold_bps,"
    " updated_sequence = EXCLUDED.updated_sequence";
constexpr const char* kUpsertPledges =
    "INSERT INTO pledges (pledge_id, pledgor_account_id, pledgee_account_id, pledgor_participant_id,"
    " pledgee_participant_id, instrument, quantity, released_quantity, enforced_quantity, remaining_quantity,"
    " contract_reference, last_enforced, pledged_at_unix_nanos, closed_at_unix_nanos, updated_sequence)"
    " SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[],"
    " $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::boolean[], $13::bigint[],"
    " $14::bigint[], $15::bigint[])"
    " ON CONFLICT (pledge_id) DO UPDATE SET released_quantity = EXCLUDED.released_quantity,"
    " enforced_quantity = EXCLUDED.enforced_quantity, remaining_quantity = EXCLUDED.remaining_quantity,"
    " last_enforced = EXCLUDED.last_enforced, closed_at_unix_nanos = EXCLUDED.closed_at_unix_nanos,"
    " updated_sequence = EXCLUDED.updated_sequence";

}  // namespace

void RegistryRows::add(const engine::Event& event, Sequence seq) {
  if (auto* e = std::get_if<engine::CapChanged>(&event)) caps_[{e->cap.year, e->cap.sector}] = e->cap;
  if (auto* e = std::get_if<engine::AllocationMade>(&event)) allocations_.push_back(e->allocation);
  if (auto* e = std::get_if<engine::ComplianceChanged>(&event)) {
    compliance_[{e->compliance.status.year, e->compliance.participant}] = e->compliance;
  }
  if (auto* e = std::get_if<engine::ComplianceYearClosed>(&event)) closed_years_.push_back(*e);
  if (auto* e = std::get_if<engine::ShortfallOwedChanged>(&event)) {
    shortfalls_[{e->shortfall.unit, e->shortfall.year}] = {e->shortfall.owed, seq};
  }
  if (auto* e = std::get_if<engine::FreezeChanged>(&event)) freezes_[e->freeze.record.id] = e->freeze;
  if (auto* e = std::get_if<engine::IdempotencyKeyUsed>(&event)) keys_.push_back(e->record);
  if (auto* e = std::get_if<engine::ComplianceYearConfigured>(&event)) year_configs_[e->config.year] = e->config;
  if (auto* e = std::get_if<engine::PledgeChanged>(&event)) pledges_[e->pledge.record.id] = e->pledge;
  ccer_.add(event, seq);
}

std::vector<std::pair<const char*, Columns>> RegistryRows::statements() const {
  std::vector<std::pair<const char*, Columns>> out;
  if (!caps_.empty()) {
    Columns c(8);
    for (const auto& [key, cap] : caps_) {
      c.columns[0].add(std::int64_t{cap.year});
      c.columns[1].add(cap.sector);
      c.columns[2].add(cap.cap.value);
      c.columns[3].add(cap.paid_share_bps);
      c.columns[4].add(cap.issued.value);
      c.columns[5].add(cap.free_allocated.value);
      c.columns[6].add(cap.reason);
      c.columns[7].add(cap.sequence);
    }
    out.emplace_back(kUpsertCaps, std::move(c));
  }
  if (!allocations_.empty()) {
    Columns c(17);
    for (const engine::AllocationRecord& a : allocations_) {
      c.columns[0].add(a.id);
      c.columns[1].add(std::int64_t{a.year});
      c.columns[2].add(a.sector);
      c.columns[3].add(a.participant);
      c.columns[4].add(a.instrument);
      c.columns[5].add(a.gross.value);
      c.columns[6].add(a.deducted.value);
      c.columns[7].add(a.issued.value);
      c.columns[8].add(a.formula.has_value());
      c.columns[9].add(a.formula ? a.formula->output : std::int64_t{0});
      c.columns[10].add(a.output_unit);
      c.columns[11].add(a.formula ? a.formula->benchmark_micro_tonnes : std::int64_t{0});
      c.columns[12].add(join_factors(a.formula));
      c.columns[13].add(a.reason);
      c.columns[14].add(a.ledger_entry_id);
      c.columns[15].add(a.sequence);
      c.columns[16].add(std::int64_t{a.at});
    }
    out.emplace_back(kInsertAllocations, std::move(c));
  }
  if (!compliance_.empty()) {
    Columns c(15);
    for (const auto& [key, r] : compliance_) {
      c.columns[0].add(std::int64_t{r.status.year});
      c.columns[1].add(r.participant);
      c.columns[2].add(r.status.unit);
      c.columns[3].add(r.sector);
      c.columns[4].add(r.verifier);
      c.columns[5].add(r.report_reference);
      c.columns[6].add(r.status.obligation.value);
      c.columns[7].add(r.status.surrendered_allowances.value);
      c.columns[8].add(r.status.surrendered_ccer.value);
      c.columns[9].add(r.status.shortfall.value);
      c.columns[10].add(r.status.closed);
      c.columns[11].add(r.penalty_basis.value);
      c.columns[12].add(std::int64_t{r.penalty_multiple});
      c.columns[13].add(r.penalty.value);
      c.columns[14].add(r.sequence);
    }
    out.emplace_back(kUpsertCompliance, std::move(c));
  }
  if (!closed_years_.empty()) {
    Columns c(4);
    for (const engine::ComplianceYearClosed& y : closed_years_) {
      c.columns[0].add(std::int64_t{y.year});
      c.columns[1].add(y.penalty_basis.value);
      c.columns[2].add(std::int64_t{y.penalty_multiple});
      c.columns[3].add(y.sequence);
    }
    out.emplace_back(kInsertClosedYears, std::move(c));
  }
  if (!shortfalls_.empty()) {
    Columns c(4);
    for (const auto& [key, value] : shortfalls_) {
      c.columns[0].add(key.first);
      c.columns[1].add(std::int64_t{key.second});
      c.columns[2].add(value.first.value);
      c.columns[3].add(value.second);
    }
    out.emplace_back(kUpsertShortfalls, std::move(c));
  }
  if (!freezes_.empty()) {
    Columns c(13);
    for (const auto& [id, f] : freezes_) {
      c.columns[0].add(id);
      c.columns[1].add(f.record.account);
      c.columns[2].add(f.record.instrument);
      c.columns[3].add(f.record.quantity.value);
      c.columns[4].add(f.remaining.value);
      c.columns[5].add(i(f.record.authority));
      c.columns[6].add(i(f.placed_by));
      c.columns[7].add(f.record.ordered_by);
      c.columns[8].add(f.record.reason);
      c.columns[9].add(f.legal_reference);
      c.columns[10].add(std::int64_t{f.record.frozen_at});
      c.columns[11].add(std::int64_t{f.lifted_at});
      c.columns[12].add(f.sequence);
    }
    out.emplace_back(kUpsertFreezes, std::move(c));
  }
  if (!keys_.empty()) {
    Columns c(7);
    for (const engine::IdempotencyRecord& k : keys_) {
      c.columns[0].add(k.command);
      c.columns[1].add(k.target);
      c.columns[2].add(k.key);
      c.columns[3].add(k.fingerprint);
      c.columns[4].add(k.sequence);
      c.columns[5].add(k.object_id);
      c.columns[6].add(k.ledger_entry_id);
    }
    out.emplace_back(kInsertKeys, std::move(c));
  }
  if (!year_configs_.empty()) {
    Columns c(6);
    for (const auto& [year, y] : year_configs_) {
      c.columns[0].add(std::int64_t{y.year});
      c.columns[1].add(std::int64_t{y.deadline});
      c.columns[2].add(y.ccer_limit_bps);
      c.columns[3].add(std::int64_t{y.penalty_multiple});
      c.columns[4].add(y.early_warning_threshold_bps);
      c.columns[5].add(y.sequence);
    }
    out.emplace_back(kUpsertComplianceYears, std::move(c));
  }
  if (!pledges_.empty()) {
    Columns c(15);
    for (const auto& [id, p] : pledges_) {
      c.columns[0].add(id);
      c.columns[1].add(p.record.pledgor);
      c.columns[2].add(p.record.pledgee);
      c.columns[3].add(p.pledgor_participant);
      c.columns[4].add(p.pledgee_participant);
      c.columns[5].add(p.record.instrument);
      c.columns[6].add(p.record.quantity.value);
      c.columns[7].add(p.released.value);
      c.columns[8].add(p.enforced.value);
      c.columns[9].add(p.remaining.value);
      c.columns[10].add(p.record.reference);
      c.columns[11].add(p.last_enforced);
      c.columns[12].add(std::int64_t{p.record.pledged_at});
      c.columns[13].add(std::int64_t{p.closed_at});
      c.columns[14].add(p.sequence);
    }
    out.emplace_back(kUpsertPledges, std::move(c));
  }
  for (auto& statement : ccer_.statements()) out.push_back(std::move(statement));
  return out;
}

std::optional<nlohmann::json> registry_event_json(const engine::Event& event) {
  if (auto* e = std::get_if<engine::CapChanged>(&event)) {
    const auto& c = e->cap;
    return nlohmann::json{{"compliance_year", c.year},       {"sector", c.sector},
                          {"cap_quantity", c.cap.value},     {"paid_share_bps", c.paid_share_bps},
                          {"issued", c.issued.value},        {"free_allocated", c.free_allocated.value},
                          {"reason", c.reason}};
  }
  if (auto* e = std::get_if<engine::AllocationMade>(&event)) {
    const auto& a = e->allocation;
    nlohmann::json j{{"allocation_id", a.id},          {"compliance_year", a.year},
                     {"sector", a.sector},             {"participant_id", a.participant},
                     {"instrument", a.instrument},     {"gross_quantity", a.gross.value},
                     {"deducted_quantity", a.deducted.value}, {"issued_quantity", a.issued.value},
                     {"reason", a.reason},             {"ledger_entry_id", a.ledger_entry_id}};
    if (a.formula) {
      j["benchmark"] = {{"output", a.formula->output},
                        {"output_unit", a.output_unit},
                        {"benchmark_micro_tonnes", a.formula->benchmark_micro_tonnes},
                        {"factors_per_10000", a.formula->factors_per_10000}};
    }
    return j;
  }
  if (auto* e = std::get_if<engine::ComplianceChanged>(&event)) {
    const auto& r = e->compliance;
    return nlohmann::json{{"compliance_year", r.status.year},
                          {"participant_id", r.participant},
                          {"holding_account_id", r.status.unit},
                          {"sector", r.sector},
                          {"verifier", r.verifier},
                          {"report_reference", r.report_reference},
                          {"obligation", r.status.obligation.value},
                          {"surrendered_allowances", r.status.surrendered_allowances.value},
                          {"surrendered_ccer", r.status.surrendered_ccer.value},
                          {"shortfall", r.status.shortfall.value},
                          {"closed", r.status.closed},
                          {"penalty_basis_fen", r.penalty_basis.value},
                          {"penalty_multiple", r.penalty_multiple},
                          {"penalty_fen", r.penalty.value}};
  }
  if (auto* e = std::get_if<engine::ShortfallOwedChanged>(&event)) {
    return nlohmann::json{{"holding_account_id", e->shortfall.unit},
                          {"compliance_year", e->shortfall.year},
                          {"owed", e->shortfall.owed.value}};
  }
  if (auto* e = std::get_if<engine::ComplianceYearClosed>(&event)) {
    return nlohmann::json{{"compliance_year", e->year},
                          {"penalty_basis_fen", e->penalty_basis.value},
                          {"penalty_multiple", e->penalty_multiple}};
  }
  if (auto* e = std::get_if<engine::FreezeChanged>(&event)) {
    const auto& f = e->freeze;
    return nlohmann::json{{"freeze_id", f.record.id},
                          {"holding_account_id", f.record.account},
                          {"instrument", f.record.instrument},
                          {"quantity", f.record.quantity.value},
                          {"remaining_quantity", f.remaining.value},
                          {"authority", i(f.record.authority)},
                          {"placed_by_role", i(f.placed_by)},
                          {"ordered_by", f.record.ordered_by},
                          {"reason", f.record.reason},
                          {"legal_reference", f.legal_reference},
                          {"lifted_at_unix_nanos", f.lifted_at}};
  }
  if (auto* e = std::get_if<engine::IdempotencyKeyUsed>(&event)) {
    return nlohmann::json{{"command", e->record.command},
                          {"target", e->record.target},
                          {"idempotency_key", e->record.key},
                          {"object_id", e->record.object_id},
                          {"ledger_entry_id", e->record.ledger_entry_id}};
  }
  if (auto* e = std::get_if<engine::ComplianceYearConfigured>(&event)) {
    const auto& y = e->config;
    return nlohmann::json{{"compliance_year", y.year},
                          {"deadline_unix_nanos", y.deadline},
                          {"ccer_limit_bps", y.ccer_limit_bps},
                          {"penalty_multiple", y.penalty_multiple},
                          {"early_warning_threshold_bps", y.early_warning_threshold_bps}};
  }
  if (auto* e = std::get_if<engine::PledgeChanged>(&event)) {
    const auto& p = e->pledge;
    return nlohmann::json{{"pledge_id", p.record.id},
                          {"pledgor_account_id", p.record.pledgor},
                          {"pledgee_account_id", p.record.pledgee},
                          {"pledgor_participant_id", p.pledgor_participant},
                          {"pledgee_participant_id", p.pledgee_participant},
                          {"instrument", p.record.instrument},
                          {"quantity", p.record.quantity.value},
                          {"released_quantity", p.released.value},
                          {"enforced_quantity", p.enforced.value},
                          {"remaining_quantity", p.remaining.value},
                          {"contract_reference", p.record.reference},
                          {"last_enforced", p.last_enforced},
                          {"closed_at_unix_nanos", p.closed_at}};
  }
  return ccer_event_json(event);
}

}  // namespace carbon::store
