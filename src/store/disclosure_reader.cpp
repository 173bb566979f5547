#include "store/disclosure_reader.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>

#include "store/pg.h"

namespace carbon::store {
namespace {

std::int64_t i64(const PGresult* r, int row, int col) { return std::strtoll(PQgetvalue(r, row, col), nullptr, 10); }

}  // namespace

std::pair<UnixNanos, UnixNanos> shanghai_year_bounds(int year) {
  using namespace std::chrono;
  constexpr std::int64_t kOffsetSeconds = 8 * 3600;
  auto start = [&](int y) {
    const sys_days day{std::chrono::year{y} / January / 1};
    return (static_cast<std::int64_t>(day.time_since_epoch().count()) * 86'400 - kOffsetSeconds) * 1'000'000'000;
  };
  return {start(year), start(year + 1)};
}

Status build_disclosure_report(const std::string& conninfo, int year, DisclosureReport& out) {
  PgConn conn;
  if (Status s = open_read_snapshot(conninfo, conn); !s.is_ok()) return s;
  PGconn* c = conn.get();
  const std::string y = std::to_string(year);
  PgResult r;

  if (Status s = read_query(c,
                            "SELECT EXISTS (SELECT 1 FROM caps WHERE compliance_year = $1)"
                            " OR EXISTS (SELECT 1 FROM compliance_years WHERE compliance_year = $1)"
                            " OR EXISTS (SELECT 1 FROM compliance WHERE compliance_year = $1)"
                            " OR EXISTS (SELECT 1 FROM compliance_years_closed WHERE compliance_year = $1),"
                            " EXISTS (SELECT 1 FROM compliance_years_closed WHERE compliance_year = $1)",
                            {y}, r);
      !s.is_ok()) {
    return s;
  }
  if (PQgetvalue(r.get(), 0, 0)[0] != 't') {
    return not_found("compliance year " + y + " is not configured: it has no cap, no configuration and no compliance "
                     "record");
  }
  out = DisclosureReport{};
  out.year = year;
  out.closed = PQgetvalue(r.get(), 0, 1)[0] == 't';

  std::map<std::string, SectorDisclosure> sectors;
  if (Status s = read_query(c, "SELECT sector, cap_quantity, free_allocated FROM caps WHERE compliance_year = $1", {y}, r);
      !s.is_ok()) {
    return s;
  }
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    SectorDisclosure& d = sectors[PQgetvalue(r.get(), row, 0)];
    d.cap = i64(r.get(), row, 1);
    d.free_allocated = i64(r.get(), row, 2);
  }
  if (Status s = read_query(c,
                            "SELECT sector, SUM(obligation)::bigint, SUM(surrendered_allowances)::bigint,"
                            " SUM(surrendered_ccer)::bigint, COUNT(*), COUNT(*) FILTER (WHERE shortfall = 0),"
                            " COUNT(*) FILTER (WHERE closed AND shortfall > 0), SUM(shortfall)::bigint"
                            " FROM compliance WHERE compliance_year = $1 GROUP BY sector",
                            {y}, r);
      !s.is_ok()) {
    return s;
  }
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    SectorDisclosure& d = sectors[PQgetvalue(r.get(), row, 0)];
    d.verified_emissions = i64(r.get(), row, 1);
    d.surrendered_allowances = i64(r.get(), row, 2);
    d.surrendered_ccer = i64(r.get(), row, 3);
    d.unit_count = static_cast<std::uint32_t>(i64(r.get(), row, 4));
    d.compliant_count = static_cast<std::uint32_t>(i64(r.get(), row, 5));
    d.short_count = static_cast<std::uint32_t>(i64(r.get(), row, 6));
    d.total_shortfall = i64(r.get(), row, 7);
  }
  for (auto& [sector, d] : sectors) {
    d.sector = sector;
    out.sectors.push_back(d);
  }

  if (Status s = read_query(c,
                            "SELECT c.participant_id, p.code, p.name, c.sector, c.shortfall, c.penalty_fen"
                            " FROM compliance c JOIN participants p USING (participant_id)"
                            " WHERE c.compliance_year = $1 AND c.closed AND c.shortfall > 0"
                            " ORDER BY c.shortfall DESC, c.participant_id",
                            {y}, r);
      !s.is_ok()) {
    return s;
  }
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    out.non_compliant.push_back(NonCompliantUnit{static_cast<ParticipantId>(i64(r.get(), row, 0)),
                                                 PQgetvalue(r.get(), row, 1), PQgetvalue(r.get(), row, 2),
                                                 PQgetvalue(r.get(), row, 3), i64(r.get(), row, 4),
                                                 i64(r.get(), row, 5)});
  }

  const auto [from, to] = shanghai_year_bounds(year);
  const std::vector<std::string> bounds{std::to_string(from), std::to_string(to)};
  if (Status s = read_query(c,
                            "SELECT instrument, mode, SUM(quantity)::bigint,"
                            " SUM(price_fen::numeric * quantity)::bigint, COUNT(*) FROM trades"
                            " WHERE executed_at_unix_nanos >= $1 AND executed_at_unix_nanos < $2"
                            " GROUP BY instrument, mode ORDER BY instrument, mode",
                            bounds, r);
      !s.is_ok()) {
    return s;
  }
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    MarketDisclosure m;
    m.instrument = PQgetvalue(r.get(), row, 0);
    m.mode = static_cast<int>(i64(r.get(), row, 1));
    m.volume = i64(r.get(), row, 2);
    m.turnover_fen = i64(r.get(), row, 3);
    m.trade_count = static_cast<std::uint32_t>(i64(r.get(), row, 4));
    if (m.volume > 0) {
      const __int128 twice = 2 * static_cast<__int128>(m.turnover_fen) + m.volume;
      m.average_price_fen = static_cast<std::int64_t>(twice / (2 * static_cast<__int128>(m.volume)));
    }
    if (m.mode == static_cast<int>(TradingMode::auction)) out.auctioned_quantity += m.volume;
    out.market.push_back(std::move(m));
  }

  if (Status s = read_query(c,
                            "SELECT COALESCE(SUM(available + reserved + pending + frozen + pledged)"
                            " FILTER (WHERE holding_account_id >= 100), 0)::bigint,"
                            " COALESCE(SUM(available + reserved + pending + frozen + pledged)"
                            " FILTER (WHERE holding_account_id = 2), 0)::bigint"
                            " FROM holdings WHERE instrument <> 'CCER'",
                            {}, r);
      !s.is_ok()) {
    return s;
  }
  out.allowances_in_circulation = i64(r.get(), 0, 0);
  out.reserve_balance = i64(r.get(), 0, 1);

  // Ledger kinds (registry/ledger.h): 13 CCER issuance, 5 retirement.
  if (Status s = read_query(c,
                            "SELECT COALESCE(SUM(quantity) FILTER (WHERE kind = 13), 0)::bigint,"
                            " COALESCE(SUM(quantity) FILTER (WHERE kind = 5 AND instrument = 'CCER'), 0)::bigint"
                            " FROM ledger_entries WHERE recorded_at_unix_nanos >= $1 AND recorded_at_unix_nanos < $2",
                            bounds, r);
      !s.is_ok()) {
    return s;
  }
  out.ccer_issued = i64(r.get(), 0, 0);
  out.ccer_retired = i64(r.get(), 0, 1);

  if (Status s = read_query(c, "SELECT sequence, recorded_at_unix_nanos FROM journal_commands ORDER BY sequence DESC LIMIT 1", {}, r);
      !s.is_ok()) {
    return s;
  }
  if (PQntuples(r.get()) == 1) {
    out.as_of_sequence = static_cast<Sequence>(i64(r.get(), 0, 0));
    out.as_of_at = i64(r.get(), 0, 1);
  }
  return Status::ok();
}

}  // namespace carbon::store
