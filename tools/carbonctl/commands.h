#pragma once
/// The subcommands. Each returns the exit code or throws ExitError; output
/// goes to stdout (tables, or JSON with --json), diagnostics to stderr.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "registry_commands.h"
#include "session.h"

namespace CLI {
class App;
}

namespace carbonctl {

struct ParticipantCreateArgs {
  std::string code;
  std::string name;
  std::string type;  ///< key-emitting-unit, institution or natural-person
};

struct CashArgs {
  std::uint64_t cash_account = 0;
  std::int64_t amount_fen = 0;
  std::string idempotency_key;
};

struct IssueArgs {
  std::string instrument;
  std::uint64_t holding_account = 0;
  std::int64_t quantity = 0;
  std::string reason;
  std::string idempotency_key;  ///< optional
};

struct PlaceOrderArgs {
  std::string instrument;
  std::string side;           ///< buy or sell
  std::string type = "limit";  ///< limit or market
  std::string time_in_force;  ///< day, ioc, fok, gtc; empty: the server's default
  bool has_price = false;
  std::int64_t price_fen = 0;
  std::int64_t quantity = 0;
  std::string client_order_id;
};

struct ListOrdersArgs {
  std::string instrument;
  bool open_only = false;
  Paging paging;
};

struct ControlsArgs {
  std::uint64_t participant_id = 0;
  std::string self_trade;  ///< cancel-incoming, cancel-resting, cancel-both; empty keeps the current one
  bool suspend = false;    ///< suspend (with reason); neither this nor resume keeps the current state
  bool resume = false;
  std::string reason;
};

struct BlockOfferArgs {
  std::string instrument;
  std::string side;  ///< buy or sell
  std::int64_t price_fen = 0;
  std::int64_t quantity = 0;
  std::uint64_t counterparty = 0;  ///< 0: open to all eligible participants
  std::string client_order_id;
};

int participant_create(Session& session, const ParticipantCreateArgs& args);
int participant_controls(Session& session, const ControlsArgs& args);
int participant_get(Session& session, std::uint64_t participant_id);
int participant_list(Session& session);

int cash_deposit(Session& session, const CashArgs& args);
int cash_withdraw(Session& session, const CashArgs& args);

int registry_issue(Session& session, const IssueArgs& args);

int order_place(Session& session, const PlaceOrderArgs& args);
int order_cancel(Session& session, std::uint64_t order_id);
int order_get(Session& session, std::uint64_t order_id);
int order_list(Session& session, const ListOrdersArgs& args);
/// The caller's execution reports after a sequence: an order session's replay (replay_after_sequence).
int reports(Session& session, std::uint64_t after_sequence);

int order_amend(Session& session, std::uint64_t order_id, std::int64_t price_fen, std::int64_t quantity);
int order_cancel_all(Session& session, const std::string& instrument, const std::string& side);

int block_offer(Session& session, const BlockOfferArgs& args);
int block_accept(Session& session, std::uint64_t offer_id, std::int64_t price_fen, std::int64_t quantity);
int block_list(Session& session, const std::string& instrument);

int market_instruments(Session& session);
/// Halts (or resumes) one instrument, or the whole market when `instrument` is empty.
int market_halt(Session& session, const std::string& instrument, const std::string& reason, bool resume);
int market_reference(Session& session, const std::string& instrument, std::int64_t price_fen, const std::string& reason);
/// Reads a year's holidays, or replaces them when `set`.
int market_calendar(Session& session, int year, const std::vector<std::string>& holidays, bool set);
int market_end_of_day(Session& session, const std::string& trading_date);
int market_bars(Session& session, const std::string& instrument, const std::string& from, const std::string& to);

int trades(Session& session, const std::string& instrument, const Paging& paging);
int balances(Session& session);
int book(Session& session, const std::string& instrument, std::uint32_t depth);

/// MarketDataService.StreamDepth: prints each snapshot of the book as it
/// comes (the first at once); stops after `count` (0: until the stream ends
/// or the user interrupts). No deadline: --timeout is for unary calls.
int watch_depth(Session& session, const std::string& instrument, std::uint32_t depth, std::uint64_t count);

/// MarketDataService.StreamTrades: prints each public trade as it comes,
/// first those of the day after `after_sequence` (if not 0); stops after `count` (0: never).
int watch_trades(Session& session, const std::string& instrument, std::uint64_t after_sequence, std::uint64_t count);

/// Adds registry pledge, release-pledge, enforce-pledge, pledges and configure-year (pledge_commands.cpp)
/// under the existing "registry" subcommand; a chosen command sets `action`.
void add_pledge_commands(CLI::App& app, std::function<int(Session&)>& action);
/// repo register | list and regulator disclosure (repo_commands.cpp); `action` is set to the chosen one.
void add_repo_commands(CLI::App& app, std::function<int(Session&)>& action);
/// statement, reconciliation and alerts (clearing_commands.cpp); `action` is set to the chosen one.
void add_clearing_commands(CLI::App& app, std::function<int(Session&)>& action);

/// Adds "auction" (create, close, cancel, list, bid, bids; auction_commands.cpp): the chosen
/// subcommand sets `action`.
void add_auction_commands(CLI::App& app, std::function<int(Session&)>& action);

/// grpc.health.v1.Health/Check; needs no token.
int health(Session& session, const std::string& service);

/// Adds "ccer" (methodologies, projects, issuance, serial blocks, retirement; ccer_commands.cpp):
/// the chosen subcommand sets `action`.
void add_ccer_commands(CLI::App& app, std::function<int(Session&)>& action);

}  // namespace carbonctl
