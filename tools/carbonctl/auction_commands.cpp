// carbonctl commands for single-side auctions: auction create, close, cancel
// (operator), list (every role), bid and bids (trader). Wired from main.cpp
// with add_auction_commands().

#include <CLI/CLI.hpp>

#include <cctype>
#include <functional>
#include <iostream>
#include <memory>

#include "carbon/v1/admin.grpc.pb.h"
#include "carbon/v1/market_data.grpc.pb.h"
#include "carbon/v1/trading.grpc.pb.h"
#include "cli_support.h"
#include "commands.h"
#include "format.h"
#include "render.h"

namespace carbonctl {
namespace {

namespace v1 = carbon::v1;

std::int64_t time_option(const std::string& text, const char* option) {
  std::int64_t nanos = 0;
  if (!parse_china_time(text, nanos)) {
    throw ExitError(kExitUsage, std::string(option) + ": \"" + text +
                                    "\" is not a China Standard Time YYYY-MM-DDTHH:MM[:SS]");
  }
  return nanos;
}

void print_auctions(std::ostream& out, const google::protobuf::RepeatedPtrField<v1::Auction>& auctions) {
  Table table({{"auction", Table::Align::right}, {"instrument"}, {"status"}, {"pricing"},
               {"offered", Table::Align::right}, {"reserve", Table::Align::right}, {"lot", Table::Align::right},
               {"opens (CST)"}, {"closes (CST)"}, {"price", Table::Align::right}, {"sold", Table::Align::right},
               {"bids", Table::Align::right}, {"description"}});
  for (const auto& a : auctions) {
    const bool cleared = a.status() == v1::AUCTION_STATUS_CLEARED;
    table.add_row({std::to_string(a.auction_id()), a.instrument(), short_name(a.status()), short_name(a.pricing()),
                   tonnes(a.offered_quantity()), yuan(a.reserve_price_fen()), tonnes(a.bid_lot()),
                   china_time(a.opens_at_unix_nanos()), china_time(a.closes_at_unix_nanos()),
                   cleared ? yuan(a.clearing_price_fen()) : "-", cleared ? tonnes(a.sold_quantity()) : "-",
                   cleared ? std::to_string(a.bid_count()) : "sealed", a.description()});
  }
  if (table.empty()) {
    out << "no auctions\n";
  } else {
    table.print(out);
  }
}

void print_auction(std::ostream& out, const v1::Auction& a) {
  Details details;
  details.add("auction", std::to_string(a.auction_id()))
      .add("instrument", a.instrument())
      .add("status", short_name(a.status()))
      .add("seller account", std::to_string(a.seller_holding_account_id()) +
                                 (a.seller_participant_id() == 0
                                      ? " (system)"
                                      : " (participant " + std::to_string(a.seller_participant_id()) + ")"))
      .add("offered", tonnes(a.offered_quantity()) + " t in lots of " + tonnes(a.bid_lot()) + " t")
      .add("reserve price", yuan(a.reserve_price_fen()))
      .add("pricing", short_name(a.pricing()))
      .add("per-bidder limit",
           a.max_bidder_share_bps() == 0 ? "none" : std::to_string(a.max_bidder_share_bps()) + " bps of the offer")
      .add("window (CST)", china_time(a.opens_at_unix_nanos()) + " to " + china_time(a.closes_at_unix_nanos()))
      .add("offer order", std::to_string(a.offer_order_id()))
      .add("description", a.description());
  if (a.status() == v1::AUCTION_STATUS_CLEARED) {
    details.add("clearing price", yuan(a.clearing_price_fen()))
        .add("sold", tonnes(a.sold_quantity()) + " t")
        .add("bid", tonnes(a.total_bid_quantity()) + " t in " + std::to_string(a.bid_count()) + " bids")
        .add("winning bidders", std::to_string(a.winning_bidder_count()));
  }
  details.add("sequence", std::to_string(a.sequence())).print(out);
}

}  // namespace

void add_auction_commands(CLI::App& app, std::function<int(Session&)>& action) {
  // Shared by the callbacks, which run after parsing; kept alive for the program's life.
  struct Args {
    std::string instrument;
    std::uint64_t seller = 0;
    std::int64_t quantity = 0;
    std::int64_t price_fen = 0;
    std::string pricing = "uniform";
    std::int64_t bid_lot = 1;
    std::int64_t share_bps = 0;
    std::string opens, closes;
    std::string description;
    std::string key;
    std::uint64_t auction = 0;
    std::string reason;
    std::string status;
    std::string client_order_id;
  };
  static Args args;

  auto* group = app.add_subcommand("auction", "Single-side auctions: sealed bids, one clearing (see the subcommands)");
  group->require_subcommand(1);
  group->footer("Example: carbonctl auction list --status open");

  auto* create = group->add_subcommand(
      "create", "Schedule an auction and reserve the offered units in the seller's account (operator)");
  create->add_option("--instrument", args.instrument, "instrument code, e.g. CEA2024")->required();
  add_integer(create, "--seller-account", args.seller,
           "holding account the units come from: a participant's, the reserve (2) or the auction account (3)")
      ->required();
  add_integer(create, "--quantity", args.quantity, "tonnes offered, a multiple of --bid-lot")->required();
  add_integer(create, "--reserve-price-fen", args.price_fen, "reserve (floor) price in fen per tonne")->required();
  create->add_option("--pricing", args.pricing, "uniform (default: all pay the lowest accepted bid) or pay-as-bid");
  add_integer(create, "--bid-lot", args.bid_lot, "bid quantities are multiples of this many tonnes (default 1)");
  add_integer(create, "--max-bidder-share-bps", args.share_bps,
                     "most one bidder may bid for, basis points of the offer (default 0: no limit)");
  create->add_option("--opens", args.opens, "window opens, China Standard Time YYYY-MM-DDTHH:MM")->required();
  create->add_option("--closes", args.closes, "window closes (exclusive), YYYY-MM-DDTHH:MM")->required();
  create->add_option("--description", args.description, "shown to bidders");
  create->add_option("--key", args.key, "idempotency key (a repeat answers the same auction)")->required();
  create->footer(
      "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator auction create \\\n"
      "           --instrument CEA2024 --seller-account 3 --quantity 100000 --reserve-price-fen 9000 \\\n"
      "           --bid-lot 1000 --max-bidder-share-bps 2500 --opens 2026-11-24T09:30 --closes 2026-11-24T11:30 \\\n"
      "           --description \"2024 paid allocation, lot 1\" --key auction-2024-1");
  create->callback([&action] {
    action = [](Session& session) {
      v1::CreateAuctionRequest request;
      request.set_instrument(args.instrument);
      request.set_seller_holding_account_id(args.seller);
      request.set_offered_quantity(args.quantity);
      request.set_reserve_price_fen(args.price_fen);
      if (args.pricing == "uniform") {
        request.set_pricing(v1::AUCTION_PRICING_UNIFORM);
      } else if (args.pricing == "pay-as-bid") {
        request.set_pricing(v1::AUCTION_PRICING_PAY_AS_BID);
      } else {
        throw ExitError(kExitUsage, "--pricing: \"" + args.pricing + "\" is not uniform or pay-as-bid");
      }
      request.set_bid_lot(args.bid_lot);
      request.set_max_bidder_share_bps(args.share_bps);
      request.set_opens_at_unix_nanos(time_option(args.opens, "--opens"));
      request.set_closes_at_unix_nanos(time_option(args.closes, "--closes"));
      request.set_description(args.description);
      request.set_idempotency_key(args.key);
      v1::Auction response;
      auto stub = v1::AdminService::NewStub(session.channel());
      session.call([&](grpc::ClientContext* c) { return stub->CreateAuction(c, request, &response); });
      return print_message(session, response, [&] { print_auction(std::cout, response); });
    };
  });

  auto* close = group->add_subcommand(
      "close", "Clear an auction whose window has ended: fills the winners, releases the rest (operator)");
  add_integer(close, "--auction", args.auction, "auction id")->required();
  close->footer("Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator auction close "
                "--auction 1");
  close->callback([&action] {
    action = [](Session& session) {
      v1::CloseAuctionRequest request;
      request.set_auction_id(args.auction);
      v1::CloseAuctionResponse response;
      auto stub = v1::AdminService::NewStub(session.channel());
      session.call([&](grpc::ClientContext* c) { return stub->CloseAuction(c, request, &response); });
      return print_message(session, response, [&] {
        print_auction(std::cout, response.auction());
        if (response.trades_size() > 0) {
          std::cout << "\n";
          print_trades(std::cout, response.trades());
        }
      });
    };
  });

  auto* cancel = group->add_subcommand(
      "cancel", "Cancel an auction not yet cleared: every bid's cash and the seller's units are released (operator)");
  add_integer(cancel, "--auction", args.auction, "auction id")->required();
  cancel->add_option("--reason", args.reason, "why; shown to bidders")->required();
  cancel->footer("Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator auction cancel "
                 "--auction 1 --reason \"market disruption\"");
  cancel->callback([&action] {
    action = [](Session& session) {
      v1::CancelAuctionRequest request;
      request.set_auction_id(args.auction);
      request.set_reason(args.reason);
      v1::Auction response;
      auto stub = v1::AdminService::NewStub(session.channel());
      session.call([&](grpc::ClientContext* c) { return stub->CancelAuction(c, request, &response); });
      return print_message(session, response, [&] { print_auction(std::cout, response); });
    };
  });

  auto* list = group->add_subcommand("list", "Auctions, newest first; bid totals only after clearing (every role)");
  list->add_option("--instrument", args.instrument, "only this instrument");
  list->add_option("--status", args.status, "scheduled, open, bidding-ended, cleared or cancelled");
  list->footer("Example: carbonctl auction list --status open");
  list->callback([&action] {
    action = [](Session& session) {
      v1::ListAuctionsRequest request;
      request.set_instrument(args.instrument);
      if (!args.status.empty()) {
        std::string name = "AUCTION_STATUS_";
        for (char ch : args.status) name.push_back(ch == '-' ? '_' : static_cast<char>(std::toupper(ch)));
        v1::AuctionStatus status{};
        if (!v1::AuctionStatus_Parse(name, &status)) {
          throw ExitError(kExitUsage, "--status: unknown auction status \"" + args.status + "\"");
        }
        request.set_status(status);
      }
      v1::ListAuctionsResponse response;
      auto stub = v1::MarketDataService::NewStub(session.channel());
      session.call([&](grpc::ClientContext* c) { return stub->ListAuctions(c, request, &response); });
      return print_message(session, response, [&] { print_auctions(std::cout, response.auctions()); });
    };
  });

  auto* bid = group->add_subcommand(
      "bid", "Submit a sealed bid; it reserves price x quantity + fee until the auction clears (trader)");
  add_integer(bid, "--auction", args.auction, "auction id")->required();
  add_integer(bid, "--price-fen", args.price_fen, "bid price in fen per tonne, at least the reserve price")->required();
  add_integer(bid, "--quantity", args.quantity, "tonnes, a multiple of the auction's bid lot")->required();
  bid->add_option("--client-order-id", args.client_order_id, "makes a resubmission idempotent");
  bid->footer("Example: CARBON_TOKEN=<trader token> carbonctl auction bid --auction 1 --price-fen 9500 --quantity 5000\n"
              "Cancel a bid while bidding is open with: carbonctl order cancel --order <order id>");
  bid->callback([&action] {
    action = [](Session& session) {
      v1::SubmitAuctionBidRequest request;
      request.set_auction_id(args.auction);
      request.set_price_fen(args.price_fen);
      request.set_quantity(args.quantity);
      request.set_client_order_id(args.client_order_id);
      v1::SubmitAuctionBidResponse response;
      auto stub = v1::TradingService::NewStub(session.channel());
      session.call([&](grpc::ClientContext* c) { return stub->SubmitAuctionBid(c, request, &response); });
      return print_message(session, response, [&] {
        std::cout << "auction " << response.bid().auction_id() << "\n";
        print_order(std::cout, response.bid().order());
      });
    };
  });

  auto* bids = group->add_subcommand("bids", "The caller's own bids, newest auction first (trader)");
  add_integer(bids, "--auction", args.auction, "only this auction");
  bids->footer("Example: CARBON_TOKEN=<trader token> carbonctl auction bids --auction 1");
  bids->callback([&action] {
    action = [](Session& session) {
      v1::ListAuctionBidsRequest request;
      request.set_auction_id(args.auction);
      v1::ListAuctionBidsResponse response;
      auto stub = v1::TradingService::NewStub(session.channel());
      session.call([&](grpc::ClientContext* c) { return stub->ListAuctionBids(c, request, &response); });
      return print_message(session, response, [&] {
        Table table({{"auction", Table::Align::right}, {"order", Table::Align::right}, {"price", Table::Align::right},
                     {"quantity", Table::Align::right}, {"filled", Table::Align::right}, {"status"}, {"entered (CST)"}});
        for (const auto& b : response.bids()) {
          const auto& o = b.order();
          table.add_row({std::to_string(b.auction_id()), std::to_string(o.order_id()), yuan(o.price_fen()),
                         tonnes(o.quantity()), tonnes(o.filled_quantity()), short_name(o.status()),
                         china_time(o.entered_at_unix_nanos())});
        }
        if (table.empty()) {
          std::cout << "no bids\n";
        } else {
          table.print(std::cout);
        }
      });
    };
  });
}

}  // namespace carbonctl
