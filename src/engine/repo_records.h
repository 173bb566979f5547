#pragma once
/// Repos: the engine's record, commands and event (included by records.h).
/// A repo is a sale now plus an agreed buy-back at a set price on a set
/// trading day (MARKET_RULES.md, instruments: repo; JR/T 0244-2022).

#include <cstdint>
#include <string>

#include "common/types.h"

namespace carbon::engine {

/// Lifecycle of a repo. The values are persisted (SMALLINT) and match RepoStatus in the API.
enum class RepoStatus : std::uint8_t { open = 1, completed = 2, defaulted = 3 };

/// A repo, open or closed, as the API shows it.
struct RepoRecord {
  std::uint64_t id = 0;
  ParticipantId seller = 0;  ///< sells now, buys back on second_leg_date
  ParticipantId buyer = 0;   ///< buys now, holds the units reserved, sells back
  AccountId seller_account = 0;
  AccountId buyer_account = 0;
  AccountId seller_cash_account = 0;
  AccountId buyer_cash_account = 0;
  std::string instrument;
  Qty quantity;
  Price first_leg_price;   ///< fen per tonne
  Price second_leg_price;  ///< fen per tonne
  std::string second_leg_date;  ///< "YYYY-MM-DD", a trading day after the day of registration
  std::string contract_reference;
  RepoStatus status = RepoStatus::open;
  std::uint64_t first_leg_entry = 0;   ///< ledger entry of the first leg
  std::uint64_t second_leg_entry = 0;  ///< ledger entry of the second leg or the default's release; 0 while open
  UnixNanos opened_at = 0;
  UnixNanos closed_at = 0;  ///< 0 while open
  Sequence opened_sequence = 0;
  Sequence sequence = 0;  ///< of the last change
};

/// Records a repo and settles its first leg (RegistryService.RegisterRepo).
struct RegisterRepo {
  ParticipantId seller = 0;
  ParticipantId buyer = 0;
  std::string instrument;
  Qty quantity;
  Price first_leg_price;
  Price second_leg_price;
  std::string second_leg_date;
  std::string contract_reference;
  std::string idempotency_key;
};
/// Lists repos (RegistryService.ListRepos).
struct ListRepos {
  ParticipantId participant = 0;  ///< as seller or buyer; 0 = all (a trader: itself)
  int status = 0;                 ///< 0 any, else a RepoStatus value
};

/// A repo after a change (registered, completed, defaulted).
struct RepoChanged {
  RepoRecord repo;
};

}  // namespace carbon::engine
