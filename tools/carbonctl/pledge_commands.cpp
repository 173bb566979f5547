// carbonctl commands for pledges and the configuration of a compliance year
// (registry pledge | release-pledge | enforce-pledge | pledges | configure-year)
// and the regulator's market queries (regulator trades | orders).

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <tuple>
#include <functional>
#include <iostream>
#include <type_traits>

#include "carbon/v1/registry.grpc.pb.h"
#include "carbon/v1/regulator.grpc.pb.h"
#include "cli_support.h"
#include "commands.h"
#include "format.h"
#include "render.h"

namespace carbonctl {
namespace {

namespace v1 = carbon::v1;

struct PledgeArgs {
  std::uint64_t account = 0;
  std::string instrument;
  std::int64_t quantity = 0;
  std::uint64_t pledgee = 0;
  std::string contract;
  std::string key;
};

struct PledgeActionArgs {
  std::uint64_t pledge_id = 0;
  std::int64_t quantity = 0;
  std::string reason;
  std::string key;
};

struct ListPledgesArgs {
  std::uint64_t participant = 0;
  std::string status = "any";
  std::uint32_t page_size = 0;
  std::string page_token;
};

struct ConfigureYearArgs {
  int year = 0;
  std::string deadline;  ///< RFC 3339, e.g. 2025-12-31T24:00 is written 2026-01-01T00:00:00+08:00
  int multiplier = 0;
  std::int64_t early_warning_bps = 0;
};

void print_pledges(std::ostream& out, const google::protobuf::RepeatedPtrField<v1::UnitPledge>& pledges) {
  Table table({{"pledge", Table::Align::right}, {"instrument"}, {"pledgor", Table::Align::right},
               {"pledgee", Table::Align::right}, {"pledged", Table::Align::right}, {"released", Table::Align::right},
               {"enforced", Table::Align::right}, {"remaining", Table::Align::right}, {"status"}, {"contract"},
               {"pledged at"}});
  for (const auto& p : pledges) {
    table.add_row({std::to_string(p.pledge_id()), p.instrument(), std::to_string(p.pledgor_participant_id()),
                   std::to_string(p.pledgee_participant_id()), tonnes(p.quantity()), tonnes(p.released_quantity()),
                   tonnes(p.enforced_quantity()), tonnes(p.remaining_quantity()), short_name(p.status()),
                   printable(p.contract_reference()), china_time(p.pledged_at_unix_nanos())});
  }
  table.print(out);
}

/// Parses "2026-01-01T00:00:00+08:00" (or Z) to Unix nanoseconds; throws ExitError(usage) otherwise.
std::int64_t parse_rfc3339(const std::string& text) {
  std::tm tm{};
  int offset_minutes = 0;
  char sign = 0;
  int oh = 0, om = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &sign, &oh, &om) >= 7 &&
      (sign == 'Z' || sign == '+' || sign == '-')) {
    if (sign != 'Z') offset_minutes = (sign == '-' ? -1 : 1) * (oh * 60 + om);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const std::time_t utc = timegm(&tm);
    return (static_cast<std::int64_t>(utc) - offset_minutes * 60) * 1'000'000'000;
  }
  throw ExitError(kExitUsage, "--deadline: \"" + text + "\" is not RFC 3339 (e.g. 2026-01-01T00:00:00+08:00)");
}

v1::PledgeStatus pledge_status(const std::string& name) {
  if (name == "active") return v1::PLEDGE_STATUS_ACTIVE;
  if (name == "released") return v1::PLEDGE_STATUS_RELEASED;
  if (name == "enforced") return v1::PLEDGE_STATUS_ENFORCED;
  return v1::PLEDGE_STATUS_UNSPECIFIED;
}

int print_pledge_response(Session& session, const v1::PledgeResponse& response, const char* verb) {
  if (session.json()) {
    print_json(std::cout, response);
    return kExitOk;
  }
  std::cout << verb << " (ledger entry " << response.ledger_entry_id() << ", sequence " << response.sequence()
            << ")\n";
  google::protobuf::RepeatedPtrField<v1::UnitPledge> one;
  *one.Add() = response.pledge();
  print_pledges(std::cout, one);
  print_holding(std::cout, response.holding());
  return kExitOk;
}

int pledge(Session& session, const PledgeArgs& args) {
  v1::PledgeRequest request;
  request.set_holding_account_id(args.account);
  request.set_instrument(args.instrument);
  request.set_quantity(args.quantity);
  request.set_pledgee_participant_id(args.pledgee);
  request.set_contract_reference(args.contract);
  request.set_idempotency_key(args.key);
  v1::PledgeResponse response;
  auto stub = v1::RegistryService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->Pledge(c, request, &response); });
  return print_pledge_response(session, response, "pledged");
}

int release_pledge(Session& session, const PledgeActionArgs& args) {
  v1::ReleasePledgeRequest request;
  request.set_pledge_id(args.pledge_id);
  request.set_quantity(args.quantity);
  request.set_reason(args.reason);
  request.set_idempotency_key(args.key);
  v1::PledgeResponse response;
  auto stub = v1::RegistryService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->ReleasePledge(c, request, &response); });
  return print_pledge_response(session, response, "released");
}

int enforce_pledge(Session& session, const PledgeActionArgs& args) {
  v1::EnforcePledgeRequest request;
  request.set_pledge_id(args.pledge_id);
  request.set_quantity(args.quantity);
  request.set_reason(args.reason);
  request.set_idempotency_key(args.key);
  v1::EnforcePledgeResponse response;
  auto stub = v1::RegistryService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->EnforcePledge(c, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
    return kExitOk;
  }
  std::cout << "enforced (ledger entry " << response.ledger_entry_id() << ", sequence " << response.sequence()
            << ")\n";
  google::protobuf::RepeatedPtrField<v1::UnitPledge> one;
  *one.Add() = response.pledge();
  print_pledges(std::cout, one);
  std::cout << "pledgor:\n";
  print_holding(std::cout, response.pledgor_holding());
  std::cout << "pledgee:\n";
  print_holding(std::cout, response.pledgee_holding());
  return kExitOk;
}

int list_pledges(Session& session, const ListPledgesArgs& args) {
  v1::ListPledgesRequest request;
  request.set_participant_id(args.participant);
  request.set_status(pledge_status(args.status));
  request.set_page_size(args.page_size);
  request.set_page_token(args.page_token);
  v1::ListPledgesResponse response;
  auto stub = v1::RegistryService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->ListPledges(c, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
    return kExitOk;
  }
  print_pledges(std::cout, response.pledges());
  if (!response.next_page_token().empty()) std::cout << "next page: --page-token " << response.next_page_token() << "\n";
  return kExitOk;
}

int configure_year(Session& session, const ConfigureYearArgs& args) {
  v1::ConfigureComplianceYearRequest request;
  request.set_compliance_year(args.year);
  request.set_deadline_unix_nanos(parse_rfc3339(args.deadline));
  request.set_penalty_multiplier(args.multiplier);
  request.set_early_warning_threshold_bps(args.early_warning_bps);
  v1::ComplianceYear response;
  auto stub = v1::RegistryService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->ConfigureComplianceYear(c, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
    return kExitOk;
  }
  Table table({{"year", Table::Align::right}, {"deadline"}, {"penalty multiple", Table::Align::right},
               {"CCER limit", Table::Align::right}, {"early warning", Table::Align::right}, {"closed"}});
  table.add_row({std::to_string(response.compliance_year()), china_time(response.deadline_unix_nanos()),
                 std::to_string(response.penalty_multiplier()) + "x",
                 std::to_string(response.ccer_limit_bps()) + " bps",
                 response.early_warning_threshold_bps() == 0
                     ? std::string("default")
                     : std::to_string(response.early_warning_threshold_bps()) + " bps",
                 response.closed() ? "yes" : "no"});
  table.print(std::cout);
  return kExitOk;
}

struct MarketQueryArgs {
  std::string instrument;
  std::uint64_t participant = 0;
  std::string filter;  ///< trades: mode; orders: status
  std::string from;
  std::string to;
  std::uint32_t page_size = 0;
  std::string page_token;
};

std::int64_t optional_time(const std::string& text) { return text.empty() ? 0 : parse_rfc3339(text); }

int regulator_trades(Session& session, const MarketQueryArgs& args) {
  v1::QueryTradesRequest request;
  request.set_instrument(args.instrument);
  request.set_participant_id(args.participant);
  request.set_mode(args.filter == "listed" ? v1::TRADING_MODE_LISTED
                   : args.filter == "block" ? v1::TRADING_MODE_BLOCK
                                            : v1::TRADING_MODE_UNSPECIFIED);
  request.set_from_unix_nanos(optional_time(args.from));
  request.set_to_unix_nanos(optional_time(args.to));
  request.set_page_size(args.page_size);
  request.set_page_token(args.page_token);
  v1::QueryTradesResponse response;
  auto stub = v1::RegulatorService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->QueryTrades(c, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
    return kExitOk;
  }
  Table table({{"trade", Table::Align::right}, {"instrument"}, {"mode"}, {"price", Table::Align::right},
               {"quantity", Table::Align::right}, {"buyer", Table::Align::right}, {"seller", Table::Align::right},
               {"executed at"}});
  for (const auto& t : response.trades()) {
    table.add_row({std::to_string(t.trade_id()), t.instrument(), short_name(t.mode()), yuan(t.price_fen()),
                   tonnes(t.quantity()), std::to_string(t.buyer_participant_id()),
                   std::to_string(t.seller_participant_id()), china_time(t.executed_at_unix_nanos())});
  }
  table.print(std::cout);
  if (!response.next_page_token().empty()) std::cout << "next page: --page-token " << response.next_page_token() << "\n";
  return kExitOk;
}

int regulator_orders(Session& session, const MarketQueryArgs& args) {
  v1::QueryOrdersRequest request;
  request.set_instrument(args.instrument);
  request.set_participant_id(args.participant);
  const std::pair<const char*, v1::OrderStatus> statuses[] = {
      {"new", v1::ORDER_STATUS_NEW},           {"partially-filled", v1::ORDER_STATUS_PARTIALLY_FILLED},
      {"filled", v1::ORDER_STATUS_FILLED},     {"cancelled", v1::ORDER_STATUS_CANCELLED},
      {"expired", v1::ORDER_STATUS_EXPIRED},   {"rejected", v1::ORDER_STATUS_REJECTED}};
  for (const auto& [name, status] : statuses) {
    if (args.filter == name) request.set_status(status);
  }
  request.set_from_unix_nanos(optional_time(args.from));
  request.set_to_unix_nanos(optional_time(args.to));
  request.set_page_size(args.page_size);
  request.set_page_token(args.page_token);
  v1::QueryOrdersResponse response;
  auto stub = v1::RegulatorService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->QueryOrders(c, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
    return kExitOk;
  }
  Table table({{"order", Table::Align::right}, {"participant", Table::Align::right}, {"instrument"}, {"side"},
               {"price", Table::Align::right}, {"quantity", Table::Align::right}, {"filled", Table::Align::right},
               {"status"}, {"entered at"}});
  for (const auto& o : response.orders()) {
    table.add_row({std::to_string(o.order_id()), std::to_string(o.participant_id()), o.instrument(),
                   short_name(o.side()), yuan(o.price_fen()), tonnes(o.quantity()), tonnes(o.filled_quantity()),
                   short_name(o.status()), china_time(o.entered_at_unix_nanos())});
  }
  table.print(std::cout);
  if (!response.next_page_token().empty()) std::cout << "next page: --page-token " << response.next_page_token() << "\n";
  return kExitOk;
}

}  // namespace

void add_pledge_commands(CLI::App& app, std::function<int(Session&)>& action) {
  CLI::App* registry = app.get_subcommand("registry");
  std::function<int(Session&)>* out = &action;
  static PledgeArgs pledge_args;
  static PledgeActionArgs release_args, enforce_args;
  static ListPledgesArgs list_args;
  static ConfigureYearArgs year_args;

  auto* add = registry->add_subcommand(
      "pledge", "Pledge available units to a pledgee, e.g. a bank's loan collateral (role: registry authority)");
  add_integer(add, "--account", pledge_args.account, "the pledgor's holding account id")->required();
  add->add_option("--instrument", pledge_args.instrument, "instrument code, e.g. CEA2024")->required();
  add_integer(add, "--quantity", pledge_args.quantity, "tonnes to pledge, > 0, from available units")->required();
  add_integer(add, "--pledgee", pledge_args.pledgee, "the pledgee's participant id")->required();
  add->add_option("--contract", pledge_args.contract, "reference of the loan or pledge contract")
      ->required()
      ->check(kNonEmpty);
  add->add_option("--key", pledge_args.key, "idempotency key; a retry with the same key pledges once")
      ->required()
      ->check(kNonEmpty);
  add->footer("Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml "
              "--as registry registry pledge --account 100 --instrument CEA2024 --quantity 5000 "
              "--pledgee 3 --contract \"loan 2026-88\" --key plg-1");
  add->callback([out] { *out = [](Session& s) { return pledge(s, pledge_args); }; });

  for (auto [name, args, help, example] :
       {std::tuple{"release-pledge", &release_args,
                   "Release part or all of a pledge (the loan was repaid): the units become available again "
                   "(role: registry authority)",
                   "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml "
                   "--as registry registry release-pledge --pledge 1 --quantity 2000 --reason "
                   "\"repaid in part\" --key rel-1"},
        std::tuple{"enforce-pledge", &enforce_args,
                   "Enforce part or all of a pledge (default): the units move to the pledgee's account "
                   "(role: registry authority)",
                   "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml "
                   "--as registry registry enforce-pledge --pledge 1 --reason \"default notice 7\" "
                   "--key enf-1"}}) {
    auto* sub = registry->add_subcommand(name, help);
    add_integer(sub, "--pledge", args->pledge_id, "pledge id")->required();
    add_integer(sub, "--quantity", args->quantity, "tonnes; 0 or absent: all that remains");
    sub->add_option("--reason", args->reason, "why")->required()->check(kNonEmpty);
    sub->add_option("--key", args->key, "idempotency key")->required()->check(kNonEmpty);
    sub->footer(example);
    const bool release = std::string(name) == "release-pledge";
    sub->callback([out, release] {
      *out = release ? std::function<int(Session&)>([](Session& s) { return release_pledge(s, release_args); })
                       : std::function<int(Session&)>([](Session& s) { return enforce_pledge(s, enforce_args); });
    });
  }

  auto* list = registry->add_subcommand(
      "pledges", "List pledges, oldest first (registry authority, regulator, auditor; a trader: its own)");
  add_integer(list, "--participant", list_args.participant, "pledgor or pledgee participant id; 0: all");
  list->add_option("--status", list_args.status, "any, active, released or enforced")
      ->transform(CLI::IsMember({"any", "active", "released", "enforced"}, CLI::ignore_case));
  add_integer(list, "--page-size", list_args.page_size, "pledges per page (default 100, at most 1000)");
  list->add_option("--page-token", list_args.page_token, "token printed after the previous page");
  list->footer("Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml "
               "--as registry registry pledges --status active");
  list->callback([out] { *out = [](Session& s) { return list_pledges(s, list_args); }; });

  auto* year = registry->add_subcommand(
      "configure-year",
      "Set a compliance year's surrender deadline, penalty multiple (5 to 10) and early-warning threshold "
      "(role: registry authority)");
  add_integer(year, "--year", year_args.year, "compliance year, e.g. 2024")->required();
  year->add_option("--deadline", year_args.deadline,
                   "surrender deadline, RFC 3339; 31 December 24:00 is 2026-01-01T00:00:00+08:00. The penalty "
                   "basis is the mean daily close of the calendar month before the deadline's")
      ->required();
  add_integer(year, "--penalty-multiple", year_args.multiplier, "5 to 10 (default 5)");
  add_integer(year, "--early-warning-bps", year_args.early_warning_bps,
                 "coverage threshold of early warnings in bps (default: 10,000)");
  year->footer("Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml "
               "--as registry registry configure-year --year 2025 "
               "--deadline 2026-01-01T00:00:00+08:00 --penalty-multiple 7");
  year->callback([out] { *out = [](Session& s) { return configure_year(s, year_args); }; });

  // regulator trades | orders (the "regulator" command is created here if nothing else made it).
  CLI::App* regulator = nullptr;
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == "regulator") regulator = sub;
  }
  if (regulator == nullptr) {
    regulator = app.add_subcommand("regulator", "Surveillance and compliance reads (role: regulator, auditor)");
    regulator->require_subcommand(1);
  }
  static MarketQueryArgs trade_args, order_args;
  for (auto [name, args, help, filter_help, example] :
       {std::tuple{"trades", &trade_args, "Trades with both parties named, oldest first (role: regulator, auditor)",
                   "mode: listed or block; absent: all",
                   "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml "
                   "--as regulator regulator trades --instrument CEA2024 --participant 3 "
                   "--from 2026-11-24T00:00:00+08:00 --page-size 50"},
        std::tuple{"orders", &order_args,
                   "Orders of any participant in their latest state, oldest first (role: regulator, auditor)",
                   "status: new, partially-filled, filled, cancelled, expired or rejected; absent: all",
                   "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml "
                   "--as regulator regulator orders --participant 3 --status cancelled"}}) {
    auto* sub = regulator->add_subcommand(name, help);
    sub->add_option("--instrument", args->instrument, "instrument code; absent: all");
    add_integer(sub, "--participant", args->participant, "participant id; absent: all");
    sub->add_option(std::string(name) == "trades" ? "--mode" : "--status", args->filter, filter_help);
    sub->add_option("--from", args->from, "earliest time, inclusive, RFC 3339");
    sub->add_option("--to", args->to, "latest time, exclusive, RFC 3339");
    add_integer(sub, "--page-size", args->page_size, "rows per page (default 100, at most 1000)");
    sub->add_option("--page-token", args->page_token, "token printed after the previous page");
    sub->footer(example);
    const bool trades = std::string(name) == "trades";
    sub->callback([out, trades] {
      *out = trades ? std::function<int(Session&)>([](Session& s) { return regulator_trades(s, trade_args); })
                    : std::function<int(Session&)>([](Session& s) { return regulator_orders(s, order_args); });
    });
  }
}

}  // namespace carbonctl
