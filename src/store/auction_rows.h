#pragma once
/// The auction rows of one journal batch (migration 0010), the journal
/// payload of AuctionChanged, and loading auctions back at start.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <libpq-fe.h>
#include <nlohmann/json.hpp>

#include "engine/records.h"
#include "store/columns.h"

namespace carbon::store {

/// Collects the AuctionChanged events of a batch; statements() upserts each
/// auction's latest state once. Journal writer thread only.
class AuctionRows {
 public:
  /// Takes note of `event` (other events are ignored).
  void add(const engine::Event& event);
  /// (statement, array parameters) pairs; empty when the batch changed no auction.
  std::vector<std::pair<const char*, Columns>> statements() const;

 private:
  std::map<std::uint64_t, const engine::AuctionRecord*> latest_;
};

nlohmann::json to_json(const engine::AuctionRecord& auction);
engine::AuctionRecord auction_from_json(const nlohmann::json& j);

/// The journal payload of an auction event, or nothing for any other event.
std::optional<nlohmann::json> auction_event_json(const engine::Event& event);

/// Reads every auction into `state` (inside the recovery snapshot transaction).
void load_auction_state(PGconn* conn, engine::RecoveredState& state);

}  // namespace carbon::store
