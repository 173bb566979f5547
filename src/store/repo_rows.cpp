#include "store/repo_rows.h"

#include <cstdlib>
#include <variant>

#include <nlohmann/json.hpp>

#include "store/pg.h"

namespace carbon::store {
namespace {

constexpr const char* kUpsertRepos =
    "INSERT INTO repos (repo_id, seller_participant_id, buyer_participant_id, seller_account_id, buyer_account_id,"
    " seller_cash_account_id, buyer_cash_account_id, instrument, quantity, first_leg_price_fen, second_leg_price_fen,"
    " second_leg_date, contract_reference, status, first_leg_ledger_entry_id, second_leg_ledger_entry_id,"
    " opened_at_unix_nanos, closed_at_unix_nanos, opened_sequence, updated_sequence)"
    " SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],"
    " $7::bigint[], $8::text[], $9::bigint[], $10::bigint[], $11::bigint[], $12::text[], $13::text[],"
    " $14::smallint[], $15::bigint[], $16::bigint[], $17::bigint[], $18::bigint[], $19::bigint[], $20::bigint[])"
    " ON CONFLICT (repo_id) DO UPDATE SET status = EXCLUDED.status,"
    " second_leg_ledger_entry_id = EXCLUDED.second_leg_ledger_entry_id,"
    " closed_at_unix_nanos = EXCLUDED.closed_at_unix_nanos, updated_sequence = EXCLUDED.updated_sequence";

std::int64_t i(auto v) { return static_cast<std::int64_t>(v); }

}  // namespace

void RepoRows::add(const engine::Outcome& outcome) {
  for (const engine::Event& event : outcome.events) {
    if (const auto* e = std::get_if<engine::RepoChanged>(&event)) repos_[e->repo.id] = e->repo;
  }
}

std::vector<std::pair<const char*, Columns>> RepoRows::statements() const {
  std::vector<std::pair<const char*, Columns>> out;
  if (repos_.empty()) return out;
  Columns c(20);
  for (const auto& [id, r] : repos_) {
    c.columns[0].add(r.id);
    c.columns[1].add(r.seller);
    c.columns[2].add(r.buyer);
    c.columns[3].add(r.seller_account);
    c.columns[4].add(r.buyer_account);
    c.columns[5].add(r.seller_cash_account);
    c.columns[6].add(r.buyer_cash_account);
    c.columns[7].add(r.instrument);
    c.columns[8].add(r.quantity.value);
    c.columns[9].add(r.first_leg_price.value);
    c.columns[10].add(r.second_leg_price.value);
    c.columns[11].add(r.second_leg_date);
    c.columns[12].add(r.contract_reference);
    c.columns[13].add(i(r.status));
    c.columns[14].add(r.first_leg_entry);
    c.columns[15].add(r.second_leg_entry);
    c.columns[16].add(i(r.opened_at));
    c.columns[17].add(i(r.closed_at));
    c.columns[18].add(r.opened_sequence);
    c.columns[19].add(r.sequence);
  }
  out.emplace_back(kUpsertRepos, std::move(c));
  return out;
}

std::optional<std::string> repo_event_json(const engine::Event& event) {
  const auto* e = std::get_if<engine::RepoChanged>(&event);
  if (e == nullptr) return std::nullopt;
  const engine::RepoRecord& r = e->repo;
  nlohmann::json j;  // std::map order: bytewise, as the journal's other registry payloads
  j["repo_id"] = r.id;
  j["seller_participant_id"] = r.seller;
  j["buyer_participant_id"] = r.buyer;
  j["instrument"] = r.instrument;
  j["quantity"] = r.quantity.value;
  j["first_leg_price_fen"] = r.first_leg_price.value;
  j["second_leg_price_fen"] = r.second_leg_price.value;
  j["second_leg_date"] = r.second_leg_date;
  j["contract_reference"] = r.contract_reference;
  j["status"] = static_cast<int>(r.status);
  j["first_leg_ledger_entry_id"] = r.first_leg_entry;
  j["second_leg_ledger_entry_id"] = r.second_leg_entry;
  j["closed_at_unix_nanos"] = r.closed_at;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<engine::RepoRecord> load_repos(PGconn* conn) {
  PgResult r = exec_or_throw(conn,
                             "SELECT repo_id, seller_participant_id, buyer_participant_id, seller_account_id,"
                             " buyer_account_id, seller_cash_account_id, buyer_cash_account_id, instrument, quantity,"
                             " first_leg_price_fen, second_leg_price_fen, second_leg_date, contract_reference, status,"
                             " first_leg_ledger_entry_id, second_leg_ledger_entry_id, opened_at_unix_nanos,"
                             " closed_at_unix_nanos, opened_sequence, updated_sequence FROM repos ORDER BY repo_id",
                             "read repos");
  auto i64 = [&](int row, int col) { return std::strtoll(PQgetvalue(r.get(), row, col), nullptr, 10); };
  auto u64 = [&](int row, int col) { return std::strtoull(PQgetvalue(r.get(), row, col), nullptr, 10); };
  std::vector<engine::RepoRecord> out;
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    engine::RepoRecord repo;
    repo.id = u64(row, 0);
    repo.seller = u64(row, 1);
    repo.buyer = u64(row, 2);
    repo.seller_account = u64(row, 3);
    repo.buyer_account = u64(row, 4);
    repo.seller_cash_account = u64(row, 5);
    repo.buyer_cash_account = u64(row, 6);
    repo.instrument = PQgetvalue(r.get(), row, 7);
    repo.quantity = Qty{i64(row, 8)};
    repo.first_leg_price = Price{i64(row, 9)};
    repo.second_leg_price = Price{i64(row, 10)};
    repo.second_leg_date = PQgetvalue(r.get(), row, 11);
    repo.contract_reference = PQgetvalue(r.get(), row, 12);
    repo.status = static_cast<engine::RepoStatus>(i64(row, 13));
    repo.first_leg_entry = u64(row, 14);
    repo.second_leg_entry = u64(row, 15);
    repo.opened_at = i64(row, 16);
    repo.closed_at = i64(row, 17);
    repo.opened_sequence = u64(row, 18);
    repo.sequence = u64(row, 19);
    out.push_back(std::move(repo));
  }
  return out;
}

}  // namespace carbon::store
