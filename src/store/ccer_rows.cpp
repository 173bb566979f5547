#include "store/ccer_rows.h"

#include <variant>

namespace carbon::store {
namespace {

constexpr const char* kInsertMethodologies =
    "INSERT INTO ccer_methodologies (code, name, version, field, document_reference, registered_at_unix_nanos,"
    " sequence)"
    " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[])";
constexpr const char* kUpsertProjects =
    "INSERT INTO ccer_projects (project_id, project_code, name, methodology_code, owner_participant_id,"
    " holding_account_id, location, validation_body, validation_report_reference, public_notice_reference,"
    " crediting_start_date, crediting_end_date, status, issued_quantity, registered_at_unix_nanos, updated_sequence)"
    " SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[],"
    " $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::smallint[], $14::bigint[], $15::bigint[],"
    " $16::bigint[])"
    " ON CONFLICT (project_id) DO UPDATE SET status = EXCLUDED.status, issued_quantity = EXCLUDED.issued_quantity,"
    " updated_sequence = EXCLUDED.updated_sequence";
constexpr const char* kInsertIssuances =
    "INSERT INTO ccer_issuances (issuance_id, project_id, vintage_year, serial_start, serial_end, holding_account_id,"
    " monitoring_start_date, monitoring_end_date, verification_body, verification_report_reference, ledger_entry_id,"
    " issued_at_unix_nanos, sequence)"
    " SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::bigint[], $5::bigint[], $6::bigint[],"
    " $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::bigint[], $13::bigint[])";
constexpr const char* kDeleteBlocks = "DELETE FROM ccer_blocks WHERE holding_account_id = ANY($1::bigint[])";
constexpr const char* kInsertBlocks =
    "INSERT INTO ccer_blocks (holding_account_id, position, serial_start, serial_end, project_id, vintage_year,"
    " updated_sequence)"
    " SELECT * FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::bigint[], $5::bigint[], $6::int[],"
    " $7::bigint[])";
constexpr const char* kInsertRetirements =
    "INSERT INTO retirements (retirement_id, participant_id, holding_account_id, instrument, quantity, beneficiary,"
    " purpose, ledger_entry_id, retired_at_unix_nanos, sequence)"
    " SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[],"
    " $7::text[], $8::bigint[], $9::bigint[], $10::bigint[])";
constexpr const char* kInsertRetirementBlocks =
    "INSERT INTO retirement_blocks (retirement_id, position, serial_start, serial_end, project_id, vintage_year)"
    " SELECT * FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::bigint[], $5::bigint[], $6::int[])";

nlohmann::json blocks_json(const std::vector<registry::CcerBlock>& blocks) {
  nlohmann::json out = nlohmann::json::array();
  for (const registry::CcerBlock& b : blocks) {
    out.push_back({{"serial_start", b.first_serial},
                   {"serial_end", b.last_serial},
                   {"project_id", b.project},
                   {"vintage_year", b.vintage}});
  }
  return out;
}

}  // namespace

void CcerRows::add(const engine::Event& event, Sequence seq) {
  if (auto* e = std::get_if<engine::MethodologyRegistered>(&event)) methodologies_.push_back(e->methodology);
  if (auto* e = std::get_if<engine::CcerProjectChanged>(&event)) projects_[e->project.project.id] = e->project;
  if (auto* e = std::get_if<engine::CcerIssued>(&event)) issuances_.push_back(e->issuance);
  if (auto* e = std::get_if<engine::CcerBlocksChanged>(&event)) blocks_[e->account] = {e->blocks, seq};
  if (auto* e = std::get_if<engine::UnitsRetired>(&event)) retirements_.push_back(e->retirement);
}

std::vector<std::pair<const char*, Columns>> CcerRows::statements() const {
  std::vector<std::pair<const char*, Columns>> out;
  if (!methodologies_.empty()) {
    Columns c(7);
    for (const engine::MethodologyRecord& m : methodologies_) {
      c.columns[0].add(m.code);
      c.columns[1].add(m.name);
      c.columns[2].add(m.version);
      c.columns[3].add(m.field);
      c.columns[4].add(m.document_reference);
      c.columns[5].add(std::int64_t{m.registered_at});
      c.columns[6].add(m.sequence);
    }
    out.emplace_back(kInsertMethodologies, std::move(c));
  }
  if (!projects_.empty()) {
    Columns c(16);
    for (const auto& [id, p] : projects_) {
      c.columns[0].add(id);
      c.columns[1].add(p.project.code);
      c.columns[2].add(p.name);
      c.columns[3].add(p.project.methodology);
      c.columns[4].add(p.owner);
      c.columns[5].add(p.project.owner);
      c.columns[6].add(p.location);
      c.columns[7].add(p.project.validation_body);
      c.columns[8].add(p.validation_report_reference);
      c.columns[9].add(p.public_notice_reference);
      c.columns[10].add(p.crediting_start);
      c.columns[11].add(p.crediting_end);
      c.columns[12].add(static_cast<std::int64_t>(p.project.status));
      c.columns[13].add(p.issued.value);
      c.columns[14].add(std::int64_t{p.registered_at});
      c.columns[15].add(p.sequence);
    }
    out.emplace_back(kUpsertProjects, std::move(c));
  }
  if (!issuances_.empty()) {
    Columns c(13);
    for (const engine::CcerIssuanceRecord& i : issuances_) {
      c.columns[0].add(i.id);
      c.columns[1].add(std::uint64_t{i.block.project});
      c.columns[2].add(std::int64_t{i.block.vintage});
      c.columns[3].add(i.block.first_serial);
      c.columns[4].add(i.block.last_serial);
      c.columns[5].add(i.account);
      c.columns[6].add(i.monitoring_start);
      c.columns[7].add(i.monitoring_end);
      c.columns[8].add(i.verification_body);
      c.columns[9].add(i.verification_report_reference);
      c.columns[10].add(i.ledger_entry_id);
      c.columns[11].add(std::int64_t{i.at});
      c.columns[12].add(i.sequence);
    }
    out.emplace_back(kInsertIssuances, std::move(c));
  }
  if (!blocks_.empty()) {
    Columns accounts(1);
    Columns c(7);
    for (const auto& [account, held] : blocks_) {
      accounts.columns[0].add(account);
      std::int64_t position = 0;
      for (const registry::CcerBlock& b : held.first) {
        c.columns[0].add(account);
        c.columns[1].add(position++);
        c.columns[2].add(b.first_serial);
        c.columns[3].add(b.last_serial);
        c.columns[4].add(std::uint64_t{b.project});
        c.columns[5].add(std::int64_t{b.vintage});
        c.columns[6].add(held.second);
      }
    }
    out.emplace_back(kDeleteBlocks, std::move(accounts));
    if (!c.empty()) out.emplace_back(kInsertBlocks, std::move(c));
  }
  if (!retirements_.empty()) {
    Columns c(10);
    Columns blocks(6);
    for (const engine::RetirementRecord& r : retirements_) {
      const registry::Retirement& t = r.retirement;
      c.columns[0].add(t.id);
      c.columns[1].add(r.participant);
      c.columns[2].add(t.account);
      c.columns[3].add(r.instrument);
      c.columns[4].add(t.quantity.value);
      c.columns[5].add(t.beneficiary);
      c.columns[6].add(t.purpose);
      c.columns[7].add(t.ledger_entry_id);
      c.columns[8].add(std::int64_t{t.retired_at});
      c.columns[9].add(r.sequence);
      std::int64_t position = 0;
      for (const registry::CcerBlock& b : t.blocks) {
        blocks.columns[0].add(t.id);
        blocks.columns[1].add(position++);
        blocks.columns[2].add(b.first_serial);
        blocks.columns[3].add(b.last_serial);
        blocks.columns[4].add(std::uint64_t{b.project});
        blocks.columns[5].add(std::int64_t{b.vintage});
      }
    }
    out.emplace_back(kInsertRetirements, std::move(c));
    if (!blocks.empty()) out.emplace_back(kInsertRetirementBlocks, std::move(blocks));
  }
  return out;
}

std::optional<nlohmann::json> ccer_event_json(const engine::Event& event) {
  if (auto* e = std::get_if<engine::MethodologyRegistered>(&event)) {
    const auto& m = e->methodology;
    return nlohmann::json{{"code", m.code},   {"name", m.name},
                          {"version", m.version}, {"field", m.field},
                          {"document_reference", m.document_reference}};
  }
  if (auto* e = std::get_if<engine::CcerProjectChanged>(&event)) {
    const auto& p = e->project;
    return nlohmann::json{{"project_id", p.project.id},
                          {"project_code", p.project.code},
                          {"name", p.name},
                          {"methodology_code", p.project.methodology},
                          {"owner_participant_id", p.owner},
                          {"holding_account_id", p.project.owner},
                          {"validation_body", p.project.validation_body},
                          {"validation_report_reference", p.validation_report_reference},
                          {"crediting_start_date", p.crediting_start},
                          {"crediting_end_date", p.crediting_end},
                          {"status", static_cast<int>(p.project.status)},
                          {"issued_quantity", p.issued.value}};
  }
  if (auto* e = std::get_if<engine::CcerIssued>(&event)) {
    const auto& i = e->issuance;
    return nlohmann::json{{"issuance_id", i.id},
                          {"project_id", i.block.project},
                          {"vintage_year", i.block.vintage},
                          {"serial_start", i.block.first_serial},
                          {"serial_end", i.block.last_serial},
                          {"holding_account_id", i.account},
                          {"monitoring_start_date", i.monitoring_start},
                          {"monitoring_end_date", i.monitoring_end},
                          {"verification_body", i.verification_body},
                          {"verification_report_reference", i.verification_report_reference},
                          {"ledger_entry_id", i.ledger_entry_id}};
  }
  if (auto* e = std::get_if<engine::CcerBlocksChanged>(&event)) {
    return nlohmann::json{{"holding_account_id", e->account}, {"blocks", blocks_json(e->blocks)}};
  }
  if (auto* e = std::get_if<engine::UnitsRetired>(&event)) {
    const auto& r = e->retirement;
    return nlohmann::json{{"retirement_id", r.retirement.id},
                          {"participant_id", r.participant},
                          {"holding_account_id", r.retirement.account},
                          {"instrument", r.instrument},
                          {"quantity", r.retirement.quantity.value},
                          {"beneficiary", r.retirement.beneficiary},
                          {"purpose", r.retirement.purpose},
                          {"serials", blocks_json(r.retirement.blocks)},
                          {"ledger_entry_id", r.retirement.ledger_entry_id}};
  }
  return std::nullopt;
}

}  // namespace carbon::store
