#include "store/ccer_recovery.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>

#include "store/pg.h"

namespace carbon::store {
namespace {

std::int64_t i64(const PGresult* r, int row, int col) { return std::strtoll(PQgetvalue(r, row, col), nullptr, 10); }
std::uint64_t u64(const PGresult* r, int row, int col) { return std::strtoull(PQgetvalue(r, row, col), nullptr, 10); }
std::string text(const PGresult* r, int row, int col) { return PQgetvalue(r, row, col); }

/// Columns serial_start, serial_end, project_id, vintage_year from `col`.
registry::CcerBlock block(const PGresult* r, int row, int col) {
  return registry::CcerBlock{u64(r, row, col), u64(r, row, col + 1), static_cast<registry::ProjectId>(u64(r, row, col + 2)),
                             static_cast<std::uint16_t>(i64(r, row, col + 3))};
}

}  // namespace

void load_ccer_state(PGconn* conn, engine::RecoveredState& state) {
  PgResult r = exec_or_throw(conn,
                             "SELECT code, name, version, field, document_reference, registered_at_unix_nanos, sequence"
                             " FROM ccer_methodologies ORDER BY code",
                             "read CCER methodologies");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    state.methodologies.push_back(engine::MethodologyRecord{text(r.get(), row, 0), text(r.get(), row, 1),
                                                            text(r.get(), row, 2), text(r.get(), row, 3),
                                                            text(r.get(), row, 4), i64(r.get(), row, 5),
                                                            u64(r.get(), row, 6)});
  }

  r = exec_or_throw(conn,
                    "SELECT project_id, project_code, name, methodology_code, owner_participant_id, holding_account_id,"
                    " location, validation_body, validation_report_reference, public_notice_reference,"
                    " crediting_start_date, crediting_end_date, status, issued_quantity, registered_at_unix_nanos,"
                    " updated_sequence FROM ccer_projects ORDER BY project_id",
                    "read CCER projects");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    engine::CcerProjectRecord p;
    p.project.id = static_cast<registry::ProjectId>(u64(r.get(), row, 0));
    p.project.code = text(r.get(), row, 1);
    p.name = text(r.get(), row, 2);
    p.project.methodology = text(r.get(), row, 3);
    p.owner = u64(r.get(), row, 4);
    p.project.owner = u64(r.get(), row, 5);
    p.location = text(r.get(), row, 6);
    p.project.validation_body = text(r.get(), row, 7);
    p.validation_report_reference = text(r.get(), row, 8);
    p.public_notice_reference = text(r.get(), row, 9);
    p.crediting_start = text(r.get(), row, 10);
    p.crediting_end = text(r.get(), row, 11);
    p.project.status = static_cast<registry::ProjectStatus>(i64(r.get(), row, 12));
    p.issued = Qty{i64(r.get(), row, 13)};
    p.registered_at = i64(r.get(), row, 14);
    p.sequence = u64(r.get(), row, 15);
    state.projects.push_back(std::move(p));
  }

  r = exec_or_throw(conn,
                    "SELECT issuance_id, serial_start, serial_end, project_id, vintage_year, holding_account_id,"
                    " monitoring_start_date, monitoring_end_date, verification_body, verification_report_reference,"
                    " ledger_entry_id, issued_at_unix_nanos, sequence FROM ccer_issuances ORDER BY issuance_id",
                    "read CCER issuances");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    engine::CcerIssuanceRecord i;
    i.id = u64(r.get(), row, 0);
    i.block = block(r.get(), row, 1);
    i.account = u64(r.get(), row, 5);
    i.monitoring_start = text(r.get(), row, 6);
    i.monitoring_end = text(r.get(), row, 7);
    i.verification_body = text(r.get(), row, 8);
    i.verification_report_reference = text(r.get(), row, 9);
    i.ledger_entry_id = u64(r.get(), row, 10);
    i.at = i64(r.get(), row, 11);
    i.sequence = u64(r.get(), row, 12);
    state.issuances.push_back(std::move(i));
  }

  r = exec_or_throw(conn,
                    "SELECT holding_account_id, serial_start, serial_end, project_id, vintage_year FROM ccer_blocks"
                    " ORDER BY holding_account_id, position",
                    "read CCER serial blocks");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    const AccountId account = u64(r.get(), row, 0);
    if (state.ccer_blocks.empty() || state.ccer_blocks.back().account != account) {
      state.ccer_blocks.push_back(engine::CcerBlocksChanged{account, {}});
    }
    state.ccer_blocks.back().blocks.push_back(block(r.get(), row, 1));
  }

  r = exec_or_throw(conn,
                    "SELECT retirement_id, participant_id, holding_account_id, instrument, quantity, beneficiary,"
                    " purpose, ledger_entry_id, retired_at_unix_nanos, sequence FROM retirements"
                    " ORDER BY retirement_id",
                    "read retirements");
  std::map<std::uint64_t, std::size_t> index;
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    engine::RetirementRecord t;
    t.retirement.id = u64(r.get(), row, 0);
    t.participant = u64(r.get(), row, 1);
    t.retirement.account = u64(r.get(), row, 2);
    t.instrument = text(r.get(), row, 3);
    t.retirement.quantity = Qty{i64(r.get(), row, 4)};
    t.retirement.beneficiary = text(r.get(), row, 5);
    t.retirement.purpose = text(r.get(), row, 6);
    t.retirement.ledger_entry_id = u64(r.get(), row, 7);
    t.retirement.retired_at = i64(r.get(), row, 8);
    t.sequence = u64(r.get(), row, 9);
    index[t.retirement.id] = state.retirements.size();
    state.retirements.push_back(std::move(t));
  }
  r = exec_or_throw(conn,
                    "SELECT retirement_id, serial_start, serial_end, project_id, vintage_year FROM retirement_blocks"
                    " ORDER BY retirement_id, position",
                    "read retired serial blocks");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    auto found = index.find(u64(r.get(), row, 0));
    if (found == index.end()) throw std::runtime_error("retired serials of an unknown retirement");
    state.retirements[found->second].retirement.blocks.push_back(block(r.get(), row, 1));
  }
}

void check_ccer_state(const engine::RecoveredState& state) {
  std::map<AccountId, std::int64_t> held;
  for (const auto& h : state.holdings) {
    if (h.instrument == registry::kCcerInstrument && h.account != registry::kIssuanceAccount) {
      held[h.account] = h.holding.total().value;
    }
  }
  std::map<AccountId, std::int64_t> serials;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  for (const engine::CcerBlocksChanged& account : state.ccer_blocks) {
    for (const registry::CcerBlock& b : account.blocks) {
      serials[account.account] += static_cast<std::int64_t>(b.size());
      ranges.emplace_back(b.first_serial, b.last_serial);
    }
  }
  for (const auto& [account, tonnes] : held) {
    if (serials[account] != tonnes) {
      throw std::runtime_error("CCER serials disagree with holdings: account " + std::to_string(account) + " holds " +
                               std::to_string(tonnes) + " t CCER but " + std::to_string(serials[account]) +
                               " serials");
    }
  }
  for (const auto& [account, count] : serials) {
    if (!held.contains(account) && count != 0) {
      throw std::runtime_error("CCER serials disagree with holdings: account " + std::to_string(account) +
                               " holds no CCER but " + std::to_string(count) + " serials");
    }
  }
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t k = 1; k < ranges.size(); ++k) {
    if (ranges[k].first <= ranges[k - 1].second) {
      throw std::runtime_error("CCER serial " + std::to_string(ranges[k].first) + " is held twice");
    }
  }
}

}  // namespace carbon::store
