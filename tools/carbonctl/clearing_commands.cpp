// carbonctl commands for clearing: settlement statements, reconciliation and
// surveillance alerts. Wired from main.cpp with add_clearing_commands().

#include <CLI/CLI.hpp>

#include <cctype>
#include <functional>
#include <iostream>
#include <memory>

#include "carbon/v1/admin.grpc.pb.h"
#include "carbon/v1/regulator.grpc.pb.h"
#include "carbon/v1/trading.grpc.pb.h"
#include "cli_support.h"
#include "commands.h"
#include "format.h"
#include "render.h"

namespace carbonctl {
namespace {

namespace v1 = carbon::v1;

/// `reconciliation` found a difference (the reply is still printed).
constexpr int kExitNotBalanced = kExitInvalid;  // a negative finding, as regulator verify

void print_statement(std::ostream& out, const v1::Statement& s) {
  out << "statement of participant " << s.participant_id() << " for " << s.trading_date() << " (sequence "
      << s.sequence() << ", written " << china_time(s.generated_at_unix_nanos()) << " CST)\n\n";
  const auto& c = s.closing_cash();
  Details()
      .add("opening cash", yuan(s.opening_cash_fen()))
      .add("deposits", yuan(s.deposits_fen()))
      .add("withdrawals", yuan(s.withdrawals_fen()))
      .add("bought", yuan(s.bought_value_fen()))
      .add("sold", yuan(s.sold_value_fen()))
      .add("fees", yuan(s.fees_fen()))
      .add("closing cash", yuan(c.available_fen() + c.reserved_fen() + c.unsettled_fen()) + " (available " +
                               yuan(c.available_fen()) + ", reserved " + yuan(c.reserved_fen()) + ", unsettled " +
                               yuan(c.unsettled_fen()) + ")")
      .print(out);
  if (s.lines_size() > 0) {
    out << "\n";
    Table table({{"instrument"}, {"opening", Table::Align::right}, {"bought", Table::Align::right},
                 {"sold", Table::Align::right}, {"received", Table::Align::right}, {"delivered", Table::Align::right},
                 {"closing", Table::Align::right}, {"fees", Table::Align::right}, {"close", Table::Align::right}});
    for (const auto& l : s.lines()) {
      const auto& h = l.closing_holding();
      table.add_row({l.instrument(), tonnes(l.opening_quantity()), tonnes(l.bought_quantity()),
                     tonnes(l.sold_quantity()), tonnes(l.received_quantity()), tonnes(l.delivered_quantity()),
                     tonnes(h.available() + h.reserved() + h.pending() + h.frozen() + h.pledged()), yuan(l.fees_fen()),
                     yuan(l.closing_price_fen())});
    }
    table.print(out);
  }
  if (s.trades_size() > 0) {
    out << "\n";
    Table table({{"trade", Table::Align::right}, {"instrument"}, {"mode"}, {"side"}, {"price", Table::Align::right},
                 {"quantity", Table::Align::right}, {"fee", Table::Align::right}});
    for (const auto& t : s.trades()) {
      const bool bought = t.buyer_participant_id() == s.participant_id();
      table.add_row({std::to_string(t.trade_id()), t.instrument(), short_name(t.mode()), bought ? "buy" : "sell",
                     yuan(t.price_fen()), tonnes(t.quantity()), yuan(bought ? t.buyer_fee_fen() : t.seller_fee_fen())});
    }
    table.print(out);
  }
}

void print_reconciliation(std::ostream& out, const v1::ReconciliationReport& r) {
  out << (r.trading_date().empty() ? std::string("live check") : "end of day " + r.trading_date()) << " as of sequence "
      << r.as_of_sequence() << ": " << (r.balanced() ? "BALANCED" : "NOT BALANCED") << "\n\n";
  const auto& c = r.cash();
  Details()
      .add("deposits", yuan(c.total_deposits_fen()))
      .add("withdrawals", yuan(c.total_withdrawals_fen()))
      .add("participants' cash", yuan(c.participant_balances_fen()))
      .add("fee account", yuan(c.fee_account_fen()))
      .add("proceeds account", yuan(c.proceeds_account_fen()))
      .add("cash difference", yuan(c.difference_fen()) + (c.balanced() ? "" : "  <- NOT BALANCED"))
      .print(out);
  out << "\n";
  Table table({{"instrument"}, {"issued", Table::Align::right}, {"holdings", Table::Align::right},
               {"reserve", Table::Align::right}, {"auction", Table::Align::right},
               {"surrendered", Table::Align::right}, {"retired", Table::Align::right},
               {"difference", Table::Align::right}, {"state"}});
  for (const auto& u : r.units()) {
    table.add_row({u.instrument(), tonnes(u.issued()), tonnes(u.participant_holdings()), tonnes(u.reserve_account()),
                   tonnes(u.auction_account()), tonnes(u.surrendered()), tonnes(u.retired()), tonnes(u.difference()),
                   u.balanced() ? "balanced" : "NOT BALANCED"});
  }
  table.print(out);
}

}  // namespace

void add_clearing_commands(CLI::App& app, std::function<int(Session&)>& action) {
  // Shared by the callbacks, which run after parsing; kept alive for the program's life.
  struct Args {
    std::string date;
    std::uint64_t participant = 0;
    std::string type;
    std::uint32_t limit = 0;
    std::string severity;
    std::uint64_t alert_participant = 0;
    std::string instrument;
    std::int64_t from = 0, to = 0;
    std::string page_token;
  };
  static Args args;

  auto* statement = app.add_subcommand(
      "statement",
      "A settlement statement written by end of day: opening cash, deposits, withdrawals, trades with their fees, "
      "closing cash and units per instrument (trader: its own; operator, regulator, auditor: --participant)");
  statement->add_option("--date", args.date, "trading day, YYYY-MM-DD; default: the last day closed");
  add_integer(statement, "--participant", args.participant, "participant id (staff only; a trader reads its own)");
  statement->footer(
      "Example: carbonctl --token-file ~/.carbon/trader.token statement --date 2026-11-24\n"
      "         carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as auditor statement --participant 2");
  statement->callback([&action] {
    action = [](Session& session) {
      v1::GetStatementRequest request;
      request.set_trading_date(args.date);
      request.set_participant_id(args.participant);
      v1::GetStatementResponse response;
      auto stub = v1::TradingService::NewStub(session.channel());
      session.call([&](grpc::ClientContext* c) { return stub->GetStatement(c, request, &response); });
      return print_message(session, response, [&] { print_statement(std::cout, response.statement()); });
    };
  });

  auto* reconciliation = app.add_subcommand(
      "reconciliation",
      "Conservation check: deposits - withdrawals = all cash (fee account included), and per instrument issued = "
      "holdings + reserve + auction + surrendered + retired; live, or as recorded by an end of day "
      "(operator, regulator, auditor). Exit 6 when not balanced.");
  reconciliation->add_option("--date", args.date, "a closed trading day, YYYY-MM-DD; default: a live check now");
  reconciliation->footer(
      "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator reconciliation\n"
      "         carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as auditor reconciliation --date 2026-11-24");
  reconciliation->callback([&action] {
    action = [](Session& session) {
      v1::GetReconciliationRequest request;
      request.set_trading_date(args.date);
      v1::ReconciliationReport response;
      auto stub = v1::AdminService::NewStub(session.channel());
      session.call([&](grpc::ClientContext* c) { return stub->GetReconciliation(c, request, &response); });
      print_message(session, response, [&] { print_reconciliation(std::cout, response); });
      return response.balanced() ? kExitOk : kExitNotBalanced;
    };
  });

  auto* alerts = app.add_subcommand(
      "alerts", "Surveillance alerts, newest first, e.g. a failed reconciliation (regulator, auditor)");
  alerts->add_option("--type", args.type, "only this type, e.g. reconciliation-failure");
  alerts->add_option("--min-severity", args.severity, "low, medium or high")
      ->check(CLI::IsMember({"low", "medium", "high"}));
  add_integer(alerts, "--participant", args.alert_participant, "only alerts involving this participant id");
  alerts->add_option("--instrument", args.instrument, "only alerts on this instrument");
  add_integer(alerts, "--from-unix-nanos", args.from, "detected at or after (0: from the beginning)");
  add_integer(alerts, "--to-unix-nanos", args.to, "detected before (0: up to now)");
  add_integer(alerts, "--limit", args.limit, "at most this many per page (default 100, at most 1000)");
  alerts->add_option("--page-token", args.page_token, "the next page, as the previous page printed it");
  alerts->footer("Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as regulator alerts "
                 "--min-severity high --instrument CEA2024");
  alerts->callback([&action] {
    action = [](Session& session) {
      v1::ListSurveillanceAlertsRequest request;
      if (!args.type.empty()) {
        std::string name = "ALERT_TYPE_";
        for (char ch : args.type) name.push_back(ch == '-' ? '_' : static_cast<char>(std::toupper(ch)));
        v1::AlertType type{};
        if (!v1::AlertType_Parse(name, &type)) throw ExitError(kExitUsage, "unknown alert type \"" + args.type + "\"");
        request.set_type(type);
      }
      if (args.severity == "low") request.set_min_severity(v1::ALERT_SEVERITY_LOW);
      if (args.severity == "medium") request.set_min_severity(v1::ALERT_SEVERITY_MEDIUM);
      if (args.severity == "high") request.set_min_severity(v1::ALERT_SEVERITY_HIGH);
      request.set_participant_id(args.alert_participant);
      request.set_instrument(args.instrument);
      request.set_from_unix_nanos(args.from);
      request.set_to_unix_nanos(args.to);
      request.set_page_size(args.limit);
      request.set_page_token(args.page_token);
      v1::ListSurveillanceAlertsResponse response;
      auto stub = v1::RegulatorService::NewStub(session.channel());
      session.call([&](grpc::ClientContext* c) { return stub->ListSurveillanceAlerts(c, request, &response); });
      return print_message(session, response, [&] {
        Table table({{"alert", Table::Align::right}, {"detected (CST)"}, {"type"}, {"severity"}, {"instrument"},
                     {"description"}});
        for (const auto& a : response.alerts()) {
          table.add_row({std::to_string(a.alert_id()), china_time(a.detected_at_unix_nanos()), short_name(a.type()),
                         short_name(a.severity()), a.instrument().empty() ? "-" : a.instrument(), a.description()});
        }
        if (table.empty()) {
          std::cout << "no alerts\n";
        } else {
          table.print(std::cout);
        }
        if (!response.next_page_token().empty()) {
          std::cout << "next page: --page-token " << response.next_page_token() << "\n";
        }
      });
    };
  });
}

}  // namespace carbonctl
