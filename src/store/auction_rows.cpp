#include "store/auction_rows.h"

#include "store/pg.h"

namespace carbon::store {
namespace {

constexpr const char* kUpsertAuctions =
    "INSERT INTO auctions (auction_id, instrument, status, idempotency_key, offer_order_id, updated_sequence, auction)"
    " SELECT i, n, s, k, o, q, a::jsonb FROM unnest($1::bigint[], $2::text[], $3::smallint[], $4::text[],"
    " $5::bigint[], $6::bigint[], $7::text[]) AS t(i, n, s, k, o, q, a)"
    " ON CONFLICT (auction_id) DO UPDATE SET status = EXCLUDED.status, updated_sequence = EXCLUDED.updated_sequence,"
    " auction = EXCLUDED.auction";

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

}  // namespace

nlohmann::json to_json(const engine::AuctionRecord& a) {
  std::vector<int> types;
  for (ParticipantType type : a.eligible_types) types.push_back(static_cast<int>(type));
  return {{"auction_id", a.id},
          {"instrument", a.instrument},
          {"seller_holding_account_id", a.seller_account},
          {"seller_participant_id", a.seller_participant},
          {"offered_quantity", a.offered.value},
          {"reserve_price_fen", a.reserve_price.value},
          {"pricing", static_cast<int>(a.pricing)},
          {"bid_lot", a.bid_lot.value},
          {"max_bidder_share_bps", a.max_bidder_share_bps},
          {"eligible_participant_types", types},
          {"opens_at_unix_nanos", a.opens_at},
          {"closes_at_unix_nanos", a.closes_at},
          {"status", static_cast<int>(a.status)},
          {"description", a.description},
          {"cancel_reason", a.cancel_reason},
          {"idempotency_key", a.idempotency_key},
          {"offer_order_id", a.offer_order},
          {"bid_order_ids", a.bids},
          {"clearing_price_fen", a.clearing_price.value},
          {"sold_quantity", a.sold.value},
          {"total_bid_quantity", a.total_bid.value},
          {"bid_count", a.bid_count},
          {"winning_bidder_count", a.winning_bidders},
          {"created_at_unix_nanos", a.created_at},
          {"created_sequence", a.created_sequence},
          {"sequence", a.sequence},
          {"row_sequence", a.row_sequence}};
}

engine::AuctionRecord auction_from_json(const nlohmann::json& j) {
  engine::AuctionRecord a;
  a.id = j.at("auction_id").get<std::uint64_t>();
  a.instrument = j.at("instrument").get<std::string>();
  a.seller_account = j.at("seller_holding_account_id").get<std::uint64_t>();
  a.seller_participant = j.at("seller_participant_id").get<std::uint64_t>();
  a.offered = Qty{j.at("offered_quantity").get<std::int64_t>()};
  a.reserve_price = Price{j.at("reserve_price_fen").get<std::int64_t>()};
  a.pricing = static_cast<engine::AuctionPricing>(j.at("pricing").get<int>());
  a.bid_lot = Qty{j.at("bid_lot").get<std::int64_t>()};
  a.max_bidder_share_bps = j.at("max_bidder_share_bps").get<std::int64_t>();
  for (int type : j.at("eligible_participant_types").get<std::vector<int>>()) {
    a.eligible_types.push_back(static_cast<ParticipantType>(type));
  }
  a.opens_at = j.at("opens_at_unix_nanos").get<std::int64_t>();
  a.closes_at = j.at("closes_at_unix_nanos").get<std::int64_t>();
  a.status = static_cast<engine::AuctionStatus>(j.at("status").get<int>());
  a.description = j.at("description").get<std::string>();
  a.cancel_reason = j.at("cancel_reason").get<std::string>();
  a.idempotency_key = j.at("idempotency_key").get<std::string>();
  a.offer_order = j.at("offer_order_id").get<std::uint64_t>();
  a.bids = j.at("bid_order_ids").get<std::vector<OrderId>>();
  a.clearing_price = Price{j.at("clearing_price_fen").get<std::int64_t>()};
  a.sold = Qty{j.at("sold_quantity").get<std::int64_t>()};
  a.total_bid = Qty{j.at("total_bid_quantity").get<std::int64_t>()};
  a.bid_count = j.at("bid_count").get<std::uint32_t>();
  a.winning_bidders = j.at("winning_bidder_count").get<std::uint32_t>();
  a.created_at = j.at("created_at_unix_nanos").get<std::int64_t>();
  a.created_sequence = j.at("created_sequence").get<std::uint64_t>();
  a.sequence = j.at("sequence").get<std::uint64_t>();
  a.row_sequence = j.at("row_sequence").get<std::uint64_t>();
  return a;
}

void AuctionRows::add(const engine::Event& event) {
  if (auto* e = std::get_if<engine::AuctionChanged>(&event)) latest_[e->auction.id] = &e->auction;
}

std::vector<std::pair<const char*, Columns>> AuctionRows::statements() const {
  std::vector<std::pair<const char*, Columns>> out;
  if (latest_.empty()) return out;
  Columns c(7);
  for (const auto& [id, a] : latest_) {
    c.columns[0].add(a->id);
    c.columns[1].add(a->instrument);
    c.columns[2].add(std::int64_t{static_cast<int>(a->status)});
    c.columns[3].add(a->idempotency_key);
    c.columns[4].add(a->offer_order);
    c.columns[5].add(a->row_sequence);
    c.columns[6].add(dump(to_json(*a)));
  }
  out.emplace_back(kUpsertAuctions, std::move(c));
  return out;
}

std::optional<nlohmann::json> auction_event_json(const engine::Event& event) {
  if (auto* e = std::get_if<engine::AuctionChanged>(&event)) return to_json(e->auction);
  return std::nullopt;
}

void load_auction_state(PGconn* conn, engine::RecoveredState& state) {
  PgResult r = exec_or_throw(conn, "SELECT auction FROM auctions ORDER BY auction_id", "read auctions");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    state.auctions.push_back(auction_from_json(nlohmann::json::parse(PQgetvalue(r.get(), row, 0))));
  }
}

}  // namespace carbon::store
