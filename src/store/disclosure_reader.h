#pragma once
/// The disclosure report of a compliance year (RegulatorService.GetDisclosureReport),
/// read from PostgreSQL in one read-only snapshot on the calling thread (the
/// gRPC threads); it never touches engine state.

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/types.h"

namespace carbon::store {

/// Compliance figures of one sector for the year (tonnes).
struct SectorDisclosure {
  std::string sector;
  std::int64_t cap = 0;
  std::int64_t free_allocated = 0;
  std::int64_t verified_emissions = 0;
  std::int64_t surrendered_allowances = 0;
  std::int64_t surrendered_ccer = 0;
  std::uint32_t unit_count = 0;       ///< units with recorded verified emissions
  std::uint32_t compliant_count = 0;  ///< of which nothing is still due
  std::uint32_t short_count = 0;      ///< of which short once the year is closed (0 before)
  std::int64_t total_shortfall = 0;   ///< closed: the shortfalls; before: what is still due
};

/// A unit that closed the year short.
struct NonCompliantUnit {
  ParticipantId participant = 0;
  std::string code;
  std::string name;
  std::string sector;
  std::int64_t shortfall = 0;
  std::int64_t penalty_fen = 0;
};

/// Trading of one instrument and mode over the calendar year.
struct MarketDisclosure {
  std::string instrument;
  int mode = 0;  ///< TradingMode value
  std::int64_t volume = 0;
  std::int64_t turnover_fen = 0;
  std::uint32_t trade_count = 0;
  std::int64_t average_price_fen = 0;  ///< turnover / volume rounded half up
};

/// The whole report.
struct DisclosureReport {
  int year = 0;
  bool closed = false;
  std::vector<SectorDisclosure> sectors;             ///< by sector code
  std::vector<NonCompliantUnit> non_compliant;       ///< largest shortfall first; empty before the close
  std::vector<MarketDisclosure> market;              ///< by instrument, then mode
  std::int64_t allowances_in_circulation = 0;        ///< participants' allowances, every vintage and state
  std::int64_t reserve_balance = 0;                  ///< allowances in the reserve account
  std::int64_t auctioned_quantity = 0;               ///< tonnes traded in auction mode in the calendar year
  std::int64_t ccer_issued = 0;                      ///< CCER issued in the calendar year
  std::int64_t ccer_retired = 0;                     ///< CCER retired in the calendar year
  Sequence as_of_sequence = 0;                       ///< the journal's last sequence in the snapshot
  UnixNanos as_of_at = 0;                            ///< engine-clock time of that command
};

/// [from, to) in Unix nanoseconds of the calendar year `year` in Asia/Shanghai (UTC+8, no DST).
std::pair<UnixNanos, UnixNanos> shanghai_year_bounds(int year);

/// Builds the report of compliance year `year` (2000 to 2200). NOT_FOUND when the year has no cap,
/// no configuration, no compliance record and was never closed; UNAVAILABLE database.
[[nodiscard]] Status build_disclosure_report(const std::string& conninfo, int year, DisclosureReport& out);

}  // namespace carbon::store
