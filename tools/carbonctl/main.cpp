/// carbonctl: the command-line client of carbond.
///
/// This file only wires the command line (CLI11) to the subcommands in
/// commands.cpp and market_commands.cpp; the registry and regulator groups
/// register themselves (registry_commands.cpp, regulator_commands.cpp, with
/// the shared option helpers in cli_support.h); see session.cpp for the connection and exit codes, token.cpp
/// for where the bearer token comes from, render.cpp/format.cpp for output.

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <functional>
#include <iostream>

#include "cli_support.h"
#include "access_commands.h"
#include "commands.h"
#include "instrument_commands.h"
#include "session.h"

namespace {

using namespace carbonctl;

std::string lower_dashed(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '_') c = '-';
  }
  return text;
}

constexpr const char* kTopFooter = R"(Token (the first that is set): --token, --token-file, --staff-file with --as,
  $CARBON_TOKEN, $CARBON_TOKEN_FILE. It is sent as "authorization: Bearer <token>".
  --token shows the secret to other users of this machine (ps); prefer a file.
  "health" needs no token.

Units: cash and prices are entered in fen (0.01 CNY; prices per tonne) and shown
  in yuan with two decimals; quantities are whole tonnes (t). Times are shown in
  China Standard Time (UTC+8). --json prints the reply message as one line of
  JSON (proto field names; 64-bit integers are strings, per the proto3 mapping).

Exit codes:
  0  success
  1  the server failed otherwise (INTERNAL, UNIMPLEMENTED, ABORTED, ...);
     stderr says "error: <GRPC_CODE>: <message>", as for 3, 4 and 5
  2  usage error (bad command line)
  3  try again later: the server cannot be reached or is busy (UNAVAILABLE,
     DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED); retrying with the same --key /
     --client-order-id is safe
  4  authentication or permission: no token configured, the token / staff
     file cannot be read, UNAUTHENTICATED, PERMISSION_DENIED
  5  the server refused the request (INVALID_ARGUMENT, NOT_FOUND,
     FAILED_PRECONDITION, ALREADY_EXISTS, OUT_OF_RANGE); the message names
     the rule; nothing changed
  6  a negative finding: "regulator verify" found the ledger broken,
     "regulator verify-audit" the audit log, or "reconciliation" ran and
     is not balanced

Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator participant list)";

}  // namespace

int main(int argc, char** argv) {
  // gRPC's own logging would repeat connection errors that carbonctl
  // already reports; keep it quiet unless the user asks for it.
  ::setenv("GRPC_VERBOSITY", "NONE", /*overwrite=*/0);

  GlobalOptions global;
  std::function<int(Session&)> action;

  CLI::App app{"carbonctl: command-line client of carbond, the national carbon market daemon", "carbonctl"};
  app.fallthrough();  // global options may also follow the subcommand
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Print help for every subcommand and exit");

  app.add_option("--server", global.server, "carbond address host:port")
      ->envname("CARBON_SERVER")
      ->check(kNonEmpty)
      ->capture_default_str();
  auto* token = app.add_option("--token", global.token,
                               "bearer token (discouraged: visible to other local users; prefer --token-file or "
                               "$CARBON_TOKEN)")
                    ->check(kNonEmpty);
  auto* token_file = app.add_option("--token-file", global.token_file,
                                    "file holding the bearer token alone (default $CARBON_TOKEN_FILE)")
                         ->check(kNonEmpty)
                         ->type_name("PATH");
  auto* staff_file = app.add_option("--staff-file", global.staff_file,
                                    "carbond's staff-tokens.toml (in its data directory); use with --as")
                         ->check(kNonEmpty)
                         ->type_name("PATH");
  auto* staff_name = app.add_option("--as", global.staff_name,
                                    "name of the [[staff]] entry of --staff-file whose token to use "
                                    "(bootstrap names: operator, registry, regulator, auditor)")
                         ->check(kNonEmpty)
                         ->type_name("NAME");
  staff_file->needs(staff_name);
  staff_name->needs(staff_file);
  token->excludes(token_file);
  token->excludes(staff_file);
  token_file->excludes(staff_file);
  app.add_flag("--json", global.json, "print the reply as JSON instead of a table");
  app.add_option("--timeout", global.timeout_seconds, "deadline of each call, in seconds")
      ->check(CLI::Range(0.001, 86400.0))
      ->capture_default_str();

  // ---- participant ----------------------------------------------------------
  ParticipantCreateArgs create_args;
  std::uint64_t participant_id = 0;
  auto* participant = app.add_subcommand("participant", "Participants and their accounts (create: operator; get, list: every role)");
  participant->require_subcommand(1);
  participant->footer(
      "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator participant list");
  {
    auto* create = participant->add_subcommand(
        "create",
        "Open a participant with empty holding and cash accounts, and print its first trader token, which is "
        "shown only this once (role: operator)");
    create->add_option("--code", create_args.code, "unique short code: 1 to 32 of A-Z, 0-9, '-', '_'")
        ->required();
    create->add_option("--name", create_args.name, "legal or personal name, 1 to 200 characters")->required();
    create
        ->add_option("--type", create_args.type,
                     "legal kind: key-emitting-unit (compliance obligation), institution, natural-person (CCER only)")
        ->required()
        ->transform(CLI::IsMember({"key-emitting-unit", "institution", "natural-person"}, lower_dashed));
    create->footer(
        "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator participant create "
        "--code HN-POWER-01 --name \"Huaneng Power Plant 1\" --type key-emitting-unit");
    create->callback([&] { action = [&](Session& s) { return participant_create(s, create_args); }; });

    auto* get = participant->add_subcommand(
        "get", "Show one participant (every role; a trader sees account ids of its own participant only)");
    add_integer(get, "id", participant_id, "participant id")->required();
    get->footer("Example: carbonctl --token-file ~/.carbon/trader.token participant get 1");
    get->callback([&] { action = [&](Session& s) { return participant_get(s, participant_id); }; });

    auto* list = participant->add_subcommand(
        "list", "List all participants (every role; a trader sees account ids of its own participant only)");
    list->footer("Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as auditor participant list");
    list->callback([&] { action = [&](Session& s) { return participant_list(s); }; });
  }

  // ---- cash ----------------------------------------------------------------
  CashArgs cash_args;
  auto* cash = app.add_subcommand("cash", "Money into and out of participants' cash accounts (role: operator)");
  cash->require_subcommand(1);
  cash->footer(
      "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator cash deposit --account 101 "
      "--amount-fen 100000000 --key BANK-20250107-0001");
  for (const bool withdraw : {false, true}) {
    auto* sub = cash->add_subcommand(
        withdraw ? "withdraw" : "deposit",
        withdraw ? "Debit a cash account (paid out to the participant's bank); only available cash, not reserved "
                   "cash or today's sale proceeds (role: operator)"
                 : "Credit a cash account (funds received from the participant's bank); available at once "
                   "(role: operator)");
    add_integer(sub, "--account", cash_args.cash_account, "cash account id (participant get shows it)")->required();
    add_integer(sub, "--amount-fen", cash_args.amount_fen, "amount in fen (100 fen = 1 CNY), > 0")->required();
    sub->add_option("--key", cash_args.idempotency_key,
                    "idempotency key, e.g. the bank's transfer reference (1 to 64 printable ASCII characters); "
                    "repeating it repeats nothing")
        ->required();
    sub->footer(withdraw ? "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator cash "
                           "withdraw --account 101 --amount-fen 5000000 --key PAYOUT-20250107-0001"
                         : "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator cash "
                           "deposit --account 2 --amount-fen 100000000 --key BANK-20250107-0001");
    if (withdraw) {
      sub->callback([&] { action = [&](Session& s) { return cash_withdraw(s, cash_args); }; });
    } else {
      sub->callback([&] { action = [&](Session& s) { return cash_deposit(s, cash_args); }; });
    }
  }

  // ---- registry ------------------------------------------------------------
  IssueArgs issue_args;
  auto* registry = app.add_subcommand(
      "registry", "The registry of units: issuance, caps, free allocation, compliance, freezes, transfers, holdings");
  registry->require_subcommand(1);
  registry->footer(
      "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as registry registry issue "
      "--instrument CEA2024 --account 100 --quantity 50000 --reason \"2024 allocation\"");
  {
    auto* issue = registry->add_subcommand(
        "issue", "Issue new allowances (CEA) into a holding account (role: registry authority)");
    issue->add_option("--instrument", issue_args.instrument, "compliance instrument code, e.g. CEA2024")->required();
    add_integer(issue, "--account", issue_args.holding_account, "holding account id (participant get shows it)")
        ->required();
    add_integer(issue, "--quantity", issue_args.quantity, "tonnes to issue, > 0")->required();
    issue->add_option("--reason", issue_args.reason, "why, kept in the ledger (e.g. \"2024 paid allocation\")")
        ->required()
        ->check(kNonEmpty);
    issue->add_option("--key", issue_args.idempotency_key,
                      "idempotency key (optional): the same command with the same key issues once, so it is "
                      "safe to run again after an UNAVAILABLE");
    issue->footer(
        "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as registry registry issue "
        "--instrument CEA2024 --account 100 --quantity 50000 --reason \"2024 allocation\" --key alloc-2024-100");
    issue->callback([&] { action = [&](Session& s) { return registry_issue(s, issue_args); }; });
  }
  add_registry_commands(*registry, action);

  // ---- order ---------------------------------------------------------------
  PlaceOrderArgs place_args;
  ListOrdersArgs list_args;
  std::uint64_t order_id = 0;
  auto* order = app.add_subcommand("order", "The caller's orders in the listed order book (role: trader)");
  order->require_subcommand(1);
  order->footer(
      "Example: carbonctl --token-file ~/.carbon/trader.token order place --instrument CEA2024 --side buy "
      "--price-fen 7250 --quantity 1000");
  {
    auto* place = order->add_subcommand(
        "place", "Place an order; it matches at once against resting orders (role: trader)");
    place->add_option("--instrument", place_args.instrument, "instrument code, e.g. CEA2024")->required();
    place->add_option("--side", place_args.side, "buy or sell")
        ->required()
        ->transform(CLI::IsMember({"buy", "sell"}, CLI::ignore_case));
    auto* price = add_integer(place, "--price-fen", place_args.price_fen,
                              "limit price in fen per tonne (7250 = 72.50 CNY/t); not for market orders");
    add_integer(place, "--quantity", place_args.quantity, "whole tonnes")->required();
    place->add_option("--tif", place_args.time_in_force,
                      "time in force: day (default; market orders: ioc), ioc, fok, gtc")
        ->transform(CLI::IsMember({"day", "ioc", "fok", "gtc"}, CLI::ignore_case));
    place->add_option("--type", place_args.type, "limit or market")
        ->transform(CLI::IsMember({"limit", "market"}, CLI::ignore_case))
        ->capture_default_str();
    place->add_option("--client-order-id", place_args.client_order_id,
                      "your id for the order (up to 64 printable ASCII characters); resubmitting it places "
                      "nothing new and shows the existing order");
    place->footer(
        "Example: carbonctl --token-file ~/.carbon/trader.token order place --instrument CEA2024 --side sell "
        "--price-fen 7250 --quantity 1000 --client-order-id S-0001");
    place->callback([&, price] {
      place_args.has_price = price->count() > 0;
      action = [&](Session& s) { return order_place(s, place_args); };
    });

    auto* cancel = order->add_subcommand("cancel", "Cancel an open order and release its reservation (role: trader)");
    add_integer(cancel, "id", order_id, "order id")->required();
    cancel->footer("Example: carbonctl --token-file ~/.carbon/trader.token order cancel 42");
    cancel->callback([&] { action = [&](Session& s) { return order_cancel(s, order_id); }; });

    auto* get = order->add_subcommand("get", "Show one of the caller's orders (role: trader)");
    add_integer(get, "id", order_id, "order id")->required();
    get->footer("Example: carbonctl --token-file ~/.carbon/trader.token order get 42");
    get->callback([&] { action = [&](Session& s) { return order_get(s, order_id); }; });

    auto* list = order->add_subcommand("list", "List the caller's orders, oldest first (role: trader)");
    list->add_option("--instrument", list_args.instrument, "only this instrument");
    list->add_flag("--open-only", list_args.open_only, "only open orders (new, partially filled)");
    add_paging(list, list_args.paging);
    list->footer(
        "Lists the orders entered or changed today and those still open (GTC), a page at a time.\n"
        "Example: carbonctl --token-file ~/.carbon/trader.token order list --instrument CEA2024 --open-only --all");
    list->callback([&] { action = [&](Session& s) { return order_list(s, list_args); }; });
  }

  // ---- order amend / cancel-all (added to the order group) ------------------
  std::int64_t amend_price = 0, amend_quantity = 0;
  std::string cancel_all_instrument, cancel_all_side;
  {
    auto* amend = order->add_subcommand(
        "amend",
        "Change an open order's price and/or total quantity; a reduction keeps time priority, anything else "
        "re-queues it and may trade at once (role: trader)");
    add_integer(amend, "id", order_id, "order id")->required();
    add_integer(amend, "--price-fen", amend_price, "new limit price in fen per tonne (default: unchanged)");
    add_integer(amend, "--quantity", amend_quantity, "new total quantity in tonnes, above what has filled (default: unchanged)");
    amend->footer("Example: carbonctl --token-file ~/.carbon/trader.token order amend 42 --quantity 600");
    amend->callback([&] { action = [&](Session& s) { return order_amend(s, order_id, amend_price, amend_quantity); }; });

    auto* cancel_all = order->add_subcommand(
        "cancel-all", "Cancel every open listed order of the caller, optionally of one instrument and side (role: trader)");
    cancel_all->add_option("--instrument", cancel_all_instrument, "only this instrument");
    cancel_all->add_option("--side", cancel_all_side, "only this side: buy or sell")
        ->transform(CLI::IsMember({"buy", "sell"}, CLI::ignore_case));
    cancel_all->footer("Example: carbonctl --token-file ~/.carbon/trader.token order cancel-all --instrument CEA2024");
    cancel_all->callback(
        [&] { action = [&](Session& s) { return order_cancel_all(s, cancel_all_instrument, cancel_all_side); }; });
  }

  // ---- block ---------------------------------------------------------------
  BlockOfferArgs offer_args;
  std::uint64_t offer_id = 0;
  std::int64_t accept_price = 0, accept_quantity = 0;
  std::string block_instrument;
  auto* block = app.add_subcommand(
      "block", "Block trades: at least 100,000 t, 13:00-15:00, negotiated with a named counterparty (role: trader)");
  block->require_subcommand(1);
  block->footer("Example: carbonctl --token-file ~/.carbon/trader.token block list");
  {
    auto* offer = block->add_subcommand(
        "offer", "Offer to sell (or buy) a block at a fixed price; reserves units (or cash) at once (role: trader)");
    offer->add_option("--instrument", offer_args.instrument, "instrument code, e.g. CEA2024")->required();
    offer->add_option("--side", offer_args.side, "sell (offer units) or buy (ask for units)")
        ->required()
        ->transform(CLI::IsMember({"buy", "sell"}, CLI::ignore_case));
    add_integer(offer, "--price-fen", offer_args.price_fen, "price in fen per tonne, within ±30% of the reference")
        ->required();
    add_integer(offer, "--quantity", offer_args.quantity, "tonnes, at least 100,000")->required();
    add_integer(offer, "--to", offer_args.counterparty, "the counterparty's participant id (default: open to all)");
    offer->add_option("--client-order-id", offer_args.client_order_id, "your id for the offer");
    offer->footer(
        "Example: carbonctl --token-file ~/.carbon/trader.token block offer --instrument CEA2024 --side sell "
        "--price-fen 7300 --quantity 150000 --to 2");
    offer->callback([&] { action = [&](Session& s) { return block_offer(s, offer_args); }; });

    auto* accept = block->add_subcommand(
        "accept", "Accept a block offer whole, repeating its price and quantity; it settles at once (role: trader)");
    add_integer(accept, "id", offer_id, "offer id")->required();
    add_integer(accept, "--price-fen", accept_price, "the offer's price, as agreed")->required();
    add_integer(accept, "--quantity", accept_quantity, "the offer's quantity, as agreed")->required();
    accept->footer(
        "Example: carbonctl --token-file ~/.carbon/trader.token block accept 17 --price-fen 7300 --quantity 150000");
    accept->callback(
        [&] { action = [&](Session& s) { return block_accept(s, offer_id, accept_price, accept_quantity); }; });

    auto* list = block->add_subcommand("list", "List the block offers the caller can see today (role: trader)");
    list->add_option("--instrument", block_instrument, "only this instrument");
    list->footer("Example: carbonctl --token-file ~/.carbon/trader.token block list");
    list->callback([&] { action = [&](Session& s) { return block_list(s, block_instrument); }; });
  }

  // ---- market --------------------------------------------------------------
  std::string market_instrument, market_reason, trading_date, bars_from, bars_to;
  std::int64_t reference_price = 0;
  int calendar_year = 0;
  std::vector<std::string> holidays;
  auto* market = app.add_subcommand(
      "market", "The market's operation: instruments, halts, reference prices, calendar, end of day, daily bars");
  market->require_subcommand(1);
  market->footer("Example: carbonctl --token-file ~/.carbon/trader.token market instruments");
  {
    auto* instruments = market->add_subcommand("instruments", "List instruments with their rules and state (every role)");
    instruments->footer("Example: carbonctl --token-file ~/.carbon/trader.token market instruments");
    instruments->callback([&] { action = [&](Session& s) { return market_instruments(s); }; });

    for (const bool resume : {false, true}) {
      auto* sub = market->add_subcommand(
          resume ? "resume" : "halt",
          resume ? "Resume trading in one instrument, or clear the market-wide halt (role: operator)"
                 : "Halt trading in one instrument, or market-wide without --instrument; cancels still work "
                   "(role: operator)");
      sub->add_option("--instrument", market_instrument, "instrument code; omit for the whole market");
      auto* reason = sub->add_option("--reason", market_reason, "why, shown to traders");
      if (!resume) reason->required()->check(kNonEmpty);
      sub->footer(std::string("Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator market ") +
                  (resume ? "resume --instrument CEA2024" : "halt --instrument CEA2024 --reason \"disclosure pending\""));
      sub->callback([&, resume] {
        action = [&, resume](Session& s) { return market_halt(s, market_instrument, market_reason, resume); };
      });
    }

    auto* reference = market->add_subcommand(
        "reference", "Set an instrument's reference price, the centre of its price bands (role: operator)");
    reference->add_option("--instrument", market_instrument, "instrument code")->required();
    add_integer(reference, "--price-fen", reference_price, "fen per tonne, a multiple of the tick")->required();
    reference->add_option("--reason", market_reason, "why, kept in the journal")->required()->check(kNonEmpty);
    reference->footer(
        "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator market reference "
        "--instrument CEA2026 --price-fen 9000 --reason \"listing\"");
    reference->callback([&] {
      action = [&](Session& s) { return market_reference(s, market_instrument, reference_price, market_reason); };
    });

    auto* calendar = market->add_subcommand(
        "calendar", "Show a year's holidays, or replace them with --set (role: operator to set, every role to read)");
    add_integer(calendar, "year", calendar_year, "calendar year")->required();
    auto* set = calendar->add_option("--set", holidays, "the year's holidays, YYYY-MM-DD, replacing the current list");
    calendar->footer(
        "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator market calendar 2027 "
        "--set 2027-01-01 2027-02-17");
    calendar->callback([&, set] {
      const bool replace = set->count() > 0;
      action = [&, replace](Session& s) { return market_calendar(s, calendar_year, holidays, replace); };
    });

    auto* eod = market->add_subcommand(
        "end-of-day",
        "Close the trading day after its sessions: expire DAY orders and block offers, set closing prices, "
        "release T+1 units and cash, open the next day (role: operator)");
    eod->add_option("date", trading_date, "the trading day in progress, YYYY-MM-DD")->required();
    eod->footer(
        "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator market end-of-day 2026-11-24");
    eod->callback([&] { action = [&](Session& s) { return market_end_of_day(s, trading_date); }; });

    auto* bars = market->add_subcommand("bars", "Daily bars of an instrument, per trading mode (every role)");
    bars->add_option("instrument", market_instrument, "instrument code")->required();
    bars->add_option("--from", bars_from, "first trading day, YYYY-MM-DD");
    bars->add_option("--to", bars_to, "last trading day, YYYY-MM-DD");
    bars->footer("Example: carbonctl --token-file ~/.carbon/trader.token market bars CEA2024 --from 2026-11-01");
    bars->callback([&] { action = [&](Session& s) { return market_bars(s, market_instrument, bars_from, bars_to); }; });
  }

  // ---- participant controls (added to the participant group) -----------------
  ControlsArgs controls_args;
  {
    auto* controls = participant->add_subcommand(
        "controls", "Set a participant's self-trade prevention and trading suspension (role: operator)");
    add_integer(controls, "id", controls_args.participant_id, "participant id")->required();
    controls->add_option("--self-trade", controls_args.self_trade,
                         "cancel-incoming (the default of a new participant), cancel-resting or cancel-both; "
                         "not given: unchanged")
        ->transform(CLI::IsMember({"cancel-incoming", "cancel-resting", "cancel-both"}, CLI::ignore_case));
    auto* suspend = controls->add_flag("--suspend", controls_args.suspend,
                                       "suspend trading (new orders refused, resting listed orders and block "
                                       "offers cancelled; cancels work); needs --reason");
    auto* resume = controls->add_flag("--resume", controls_args.resume, "lift a suspension");
    suspend->excludes(resume);
    controls->add_option("--reason", controls_args.reason, "why (required with --suspend)")->needs(suspend);
    controls->footer(
        "What is not given stays as it is (the controls in force are read first).\n"
        "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator participant controls 3 "
        "--suspend --reason \"margin call\"\n"
        "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator participant controls 3 "
        "--resume");
    controls->callback([&] { action = [&](Session& s) { return participant_controls(s, controls_args); }; });
  }

  // ---- reports ----------------------------------------------------------------
  std::uint64_t reports_after = 0;
  auto* reports_cmd = app.add_subcommand(
      "reports",
      "The caller's execution reports after a sequence, as an order session replays them: entries, fills, "
      "cancels and expiries of the current and previous trading day (role: trader)");
  add_integer(reports_cmd, "--after-sequence", reports_after,
              "report changes with a greater sequence (e.g. the last sequence the terminal saw), at least 1")
      ->required()
      ->check(CLI::PositiveNumber);
  reports_cmd->footer("Example: carbonctl --token-file ~/.carbon/trader.token reports --after-sequence 1");
  reports_cmd->callback([&] { action = [&](Session& s) { return reports(s, reports_after); }; });

  // ---- trades, balances, book, health ----------------------------------------
  std::string trades_instrument;
  Paging trades_paging;
  auto* trades_cmd =
      app.add_subcommand("trades", "List the caller's trades of the trading day in progress, oldest first (role: trader)");
  trades_cmd->add_option("--instrument", trades_instrument, "only this instrument");
  add_paging(trades_cmd, trades_paging);
  trades_cmd->footer("Example: carbonctl --token-file ~/.carbon/trader.token trades --instrument CEA2024 --all");
  trades_cmd->callback([&] { action = [&](Session& s) { return trades(s, trades_instrument, trades_paging); }; });

  auto* balances_cmd = app.add_subcommand("balances", "Show the caller's cash and unit holdings (role: trader)");
  balances_cmd->footer("Example: carbonctl --token-file ~/.carbon/trader.token balances");
  balances_cmd->callback([&] { action = [&](Session& s) { return balances(s); }; });

  std::string book_instrument;
  std::uint32_t book_depth = 0;
  auto* book_cmd =
      app.add_subcommand("book", "Show the top of an instrument's listed order book, anonymous (every role)");
  book_cmd->add_option("instrument", book_instrument, "instrument code, e.g. CEA2024")->required();
  add_integer(book_cmd, "--depth", book_depth, "price levels per side (default 5, at most 50)");
  book_cmd->footer("Example: carbonctl --token-file ~/.carbon/trader.token book CEA2024 --depth 10");
  book_cmd->callback([&] { action = [&](Session& s) { return book(s, book_instrument, book_depth); }; });

  std::string watch_instrument;
  std::uint32_t watch_levels = 0;
  std::uint64_t watch_after = 0;
  std::uint64_t watch_count = 0;
  auto* watch = app.add_subcommand("watch", "Follow the market data streams as they come (every role)");
  watch->require_subcommand(1);
  watch->footer("Example: carbonctl --token-file ~/.carbon/trader.token --json watch trades --instrument CEA2024");
  auto* watch_depth_cmd = watch->add_subcommand(
      "depth", "The listed order book of an instrument, a snapshot at once and at each change (StreamDepth)");
  watch_depth_cmd->add_option("instrument", watch_instrument, "instrument code, e.g. CEA2024")->required();
  add_integer(watch_depth_cmd, "--depth", watch_levels, "price levels per side (default 5, at most 50)");
  add_integer(watch_depth_cmd, "--count", watch_count, "stop after this many snapshots (default: until interrupted)");
  watch_depth_cmd->footer("Example: carbonctl --token-file ~/.carbon/trader.token watch depth CEA2024 --depth 10");
  watch_depth_cmd->callback([&] {
    action = [&](Session& s) { return watch_depth(s, watch_instrument, watch_levels, watch_count); };
  });
  auto* watch_trades_cmd = watch->add_subcommand(
      "trades", "Public trades as they execute, without participants (StreamTrades)");
  watch_trades_cmd->add_option("--instrument", watch_instrument, "only this instrument (default: all)");
  add_integer(watch_trades_cmd, "--after-sequence", watch_after,
              "first the trading day's trades after this sequence (default 0: live only)");
  add_integer(watch_trades_cmd, "--count", watch_count, "stop after this many trades (default: until interrupted)");
  watch_trades_cmd->footer(
      "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as regulator watch trades "
      "--instrument CEA2024 --after-sequence 1");
  watch_trades_cmd->callback([&] {
    action = [&](Session& s) { return watch_trades(s, watch_instrument, watch_after, watch_count); };
  });

  std::string health_service;
  auto* health_cmd = app.add_subcommand(
      "health",
      "Ask carbond whether it is serving (grpc.health.v1 Health/Check; no token needed)");
  health_cmd->add_option("--service", health_service, "service name to ask about; default: the whole server");
  health_cmd->footer(
      "Prints SERVING (exit 0), NOT_SERVING or another state (exit 1), or UNREACHABLE (exit 3).\n"
      "Example: carbonctl --server 10.0.0.5:50051 health");
  health_cmd->callback([&] { action = [&](Session& s) { return health(s, health_service); }; });

  add_regulator_commands(app, action);
  add_pledge_commands(app, action);  // after the regulator group: it adds to it
  add_repo_commands(app, action);    // repo; regulator disclosure
  add_ccer_commands(app, action);
  add_clearing_commands(app, action);
  add_auction_commands(app, action);
  add_access_commands(app, global, action);  // token, audit, --tls-*
  add_instrument_commands(app, action);      // instrument create|rules|show, participant balances

  app.footer(kTopFooter);  // after the subcommands, which would otherwise inherit it

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  if (!action) return kExitUsage;

  Session session(global);
  try {
    return action(session);
  } catch (const ExitError& e) {
    if (*e.what() != '\0') std::cerr << "error: " << e.what() << "\n";
    return e.code();
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitServerError;
  }
}
