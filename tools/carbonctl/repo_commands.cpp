// carbonctl commands for repos (repo register | list) and the regulator's
// disclosure report of a compliance year (regulator disclosure).

#include <CLI/CLI.hpp>
#include <charconv>
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

struct RegisterRepoArgs {
  std::uint64_t seller = 0;
  std::uint64_t buyer = 0;
  std::string instrument;
  std::int64_t quantity = 0;
  std::int64_t first_price = 0;
  std::int64_t second_price = 0;
  std::string date;
  std::string contract;
  std::string key;
};

struct ListReposArgs {
  std::uint64_t participant = 0;
  std::string status = "any";
  std::uint32_t page_size = 0;
  std::string page_token;
};

void print_repos(std::ostream& out, const google::protobuf::RepeatedPtrField<v1::Repo>& repos) {
  Table table({{"repo", Table::Align::right}, {"instrument"}, {"seller", Table::Align::right},
               {"buyer", Table::Align::right}, {"quantity", Table::Align::right}, {"first leg", Table::Align::right},
               {"buy-back", Table::Align::right}, {"second leg on"}, {"status"}, {"contract"}, {"opened at"},
               {"closed at"}});
  for (const auto& r : repos) {
    table.add_row({std::to_string(r.repo_id()), r.instrument(), std::to_string(r.seller_participant_id()),
                   std::to_string(r.buyer_participant_id()), tonnes(r.quantity()), yuan(r.first_leg_price_fen()),
                   yuan(r.second_leg_price_fen()), r.second_leg_date(), short_name(r.status()),
                   printable(r.contract_reference()), china_time(r.opened_at_unix_nanos()),
                   china_time(r.closed_at_unix_nanos())});
  }
  table.print(out);
}

int register_repo(Session& session, const RegisterRepoArgs& args) {
  v1::RegisterRepoRequest request;
  request.set_seller_participant_id(args.seller);
  request.set_buyer_participant_id(args.buyer);
  request.set_instrument(args.instrument);
  request.set_quantity(args.quantity);
  request.set_first_leg_price_fen(args.first_price);
  request.set_second_leg_price_fen(args.second_price);
  request.set_second_leg_date(args.date);
  request.set_contract_reference(args.contract);
  request.set_idempotency_key(args.key);
  v1::Repo response;
  auto stub = v1::RegistryService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->RegisterRepo(c, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
    return kExitOk;
  }
  std::cout << "repo registered, first leg settled (ledger entry " << response.first_leg_ledger_entry_id()
            << ", sequence " << response.sequence() << ")\n";
  google::protobuf::RepeatedPtrField<v1::Repo> one;
  *one.Add() = response;
  print_repos(std::cout, one);
  return kExitOk;
}

v1::RepoStatus repo_status(const std::string& name) {
  if (name == "open") return v1::REPO_STATUS_OPEN;
  if (name == "completed") return v1::REPO_STATUS_COMPLETED;
  if (name == "defaulted") return v1::REPO_STATUS_DEFAULTED;
  return v1::REPO_STATUS_UNSPECIFIED;
}

int list_repos(Session& session, const ListReposArgs& args) {
  v1::ListReposRequest request;
  request.set_participant_id(args.participant);
  request.set_status(repo_status(args.status));
  request.set_page_size(args.page_size);
  request.set_page_token(args.page_token);
  v1::ListReposResponse response;
  auto stub = v1::RegistryService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->ListRepos(c, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
    return kExitOk;
  }
  print_repos(std::cout, response.repos());
  if (!response.next_page_token().empty()) std::cout << "next page: --page-token " << response.next_page_token() << "\n";
  return kExitOk;
}

int disclosure(Session& session, int year) {
  v1::GetDisclosureReportRequest request;
  request.set_compliance_year(year);
  v1::DisclosureReport response;
  auto stub = v1::RegulatorService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->GetDisclosureReport(c, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
    return kExitOk;
  }
  std::cout << "disclosure report " << response.compliance_year() << " ("
            << (response.year_closed() ? "final: the year is closed" : "provisional: the year is not closed")
            << "), complete up to sequence " << response.as_of_sequence() << "\n\n";
  Table sectors({{"sector"}, {"cap", Table::Align::right}, {"free allocation", Table::Align::right},
                 {"verified emissions", Table::Align::right}, {"surrendered CEA", Table::Align::right},
                 {"surrendered CCER", Table::Align::right}, {"units", Table::Align::right},
                 {"compliant", Table::Align::right}, {"short", Table::Align::right},
                 {response.year_closed() ? "shortfall" : "still due", Table::Align::right}});
  for (const auto& s : response.sectors()) {
    sectors.add_row({s.sector(), tonnes(s.cap_quantity()), tonnes(s.free_allocated()), tonnes(s.verified_emissions()),
                     tonnes(s.surrendered_allowances()), tonnes(s.surrendered_ccer()), std::to_string(s.unit_count()),
                     std::to_string(s.compliant_count()), std::to_string(s.short_count()),
                     tonnes(s.total_shortfall())});
  }
  sectors.print(std::cout);
  if (response.non_compliant_units_size() > 0) {
    std::cout << "\nunits that closed the year short:\n";
    Table units({{"participant", Table::Align::right}, {"code"}, {"name"}, {"sector"},
                 {"shortfall", Table::Align::right}, {"penalty", Table::Align::right}});
    for (const auto& u : response.non_compliant_units()) {
      units.add_row({std::to_string(u.participant_id()), u.participant_code(), printable(u.participant_name()),
                     u.sector(), tonnes(u.shortfall()), yuan(u.penalty_fen())});
    }
    units.print(std::cout);
  }
  std::cout << "\ntrading in " << response.compliance_year() << ":\n";
  Table market({{"instrument"}, {"mode"}, {"trades", Table::Align::right}, {"volume", Table::Align::right},
                {"turnover", Table::Align::right}, {"average price", Table::Align::right}});
  for (const auto& m : response.market()) {
    market.add_row({m.instrument(), short_name(m.mode()), std::to_string(m.trade_count()), tonnes(m.volume()),
                    yuan(m.turnover_fen()), yuan(m.average_price_fen())});
  }
  market.print(std::cout);
  std::cout << "\nallowances in circulation  " << tonnes(response.allowances_in_circulation())
            << "\nreserve account            " << tonnes(response.reserve_balance())
            << "\nauctioned                  " << tonnes(response.auctioned_quantity())
            << "\nCCER issued                " << tonnes(response.ccer_issued())
            << "\nCCER retired               " << tonnes(response.ccer_retired()) << "\n";
  return kExitOk;
}

}  // namespace

void add_repo_commands(CLI::App& app, std::function<int(Session&)>& action) {
  std::function<int(Session&)>* out = &action;
  static RegisterRepoArgs register_args;
  static ListReposArgs list_args;
  static int disclosure_year = 0;

  CLI::App* repo = app.add_subcommand("repo", "Repos: a sale now and an agreed buy-back on a set trading day");
  repo->require_subcommand(1);
  repo->footer("Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as regulator repo list "
               "--status open");
  auto* add = repo->add_subcommand(
      "register",
      "Record a repo both parties agreed to and settle its first leg at once, delivery versus payment; end of day "
      "on the second-leg date settles the buy-back, or defaults it when the seller's cash is short "
      "(role: registry authority)");
  add_integer(add, "--seller", register_args.seller, "participant id that sells now and buys back")->required();
  add_integer(add, "--buyer", register_args.buyer, "participant id that buys now and sells back")->required();
  add->add_option("--instrument", register_args.instrument, "instrument code, e.g. CEA2024")->required();
  add_integer(add, "--quantity", register_args.quantity, "tonnes, > 0, from the seller's available units")
      ->required();
  add_integer(add, "--first-price-fen", register_args.first_price, "first-leg price, fen per tonne")->required();
  add_integer(add, "--second-price-fen", register_args.second_price, "buy-back price, fen per tonne")->required();
  add->add_option("--second-leg-date", register_args.date, "trading day of the buy-back, YYYY-MM-DD")->required();
  add->add_option("--contract", register_args.contract, "reference of the repo contract")
      ->required()
      ->check(kNonEmpty);
  add->add_option("--key", register_args.key, "idempotency key; a retry with the same key registers once")
      ->required()
      ->check(kNonEmpty);
  add->footer("Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml "
              "--as registry repo register --seller 1 --buyer 2 --instrument CEA2024 "
              "--quantity 1000 --first-price-fen 5000 --second-price-fen 5100 --second-leg-date 2026-12-01 "
              "--contract \"repo 2026-17\" --key repo-17");
  add->callback([out] { *out = [](Session& s) { return register_repo(s, register_args); }; });

  auto* list = repo->add_subcommand(
      "list", "List repos, oldest first (registry authority, regulator, auditor; a trader: those it is party to)");
  add_integer(list, "--participant", list_args.participant, "seller or buyer participant id; 0: all");
  list->add_option("--status", list_args.status, "any, open, completed or defaulted")
      ->transform(CLI::IsMember({"any", "open", "completed", "defaulted"}, CLI::ignore_case));
  add_integer(list, "--page-size", list_args.page_size, "repos per page (default 100, at most 1000)");
  list->add_option("--page-token", list_args.page_token, "token printed after the previous page");
  list->footer("Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml "
               "--as regulator repo list --status open");
  list->callback([out] { *out = [](Session& s) { return list_repos(s, list_args); }; });

  // regulator disclosure (the "regulator" command is created here if nothing else made it).
  CLI::App* regulator = nullptr;
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == "regulator") regulator = sub;
  }
  if (regulator == nullptr) {
    regulator = app.add_subcommand("regulator", "Surveillance and compliance reads (role: regulator, auditor)");
    regulator->require_subcommand(1);
  }
  auto* report = regulator->add_subcommand(
      "disclosure",
      "The disclosure report of a compliance year: caps, allocation, emissions, surrender and compliance per "
      "sector, units short, the calendar year's trading, supply, CCER (role: regulator, auditor)");
  add_integer(report, "--year", disclosure_year, "compliance year, e.g. 2025")->required();
  report->footer("Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml "
                 "--as regulator regulator disclosure --year 2025 --json");
  report->callback([out] { *out = [](Session& s) { return disclosure(s, disclosure_year); }; });
}

}  // namespace carbonctl
