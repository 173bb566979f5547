// carbonctl ccer ...: CCER methodologies and projects, issuance of
// serial-numbered credits, the serial blocks an account holds, retirement
// and the public list of retirements (RegistryService).

#include <iostream>
#include <memory>

#include "carbon/v1/registry.grpc.pb.h"
#include "cli_support.h"
#include "commands.h"
#include "format.h"
#include "render.h"

namespace carbonctl {
namespace {

namespace v1 = carbon::v1;

constexpr const char* kAsRegistry = "carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as registry ";

struct CcerArgs {
  v1::RegisterMethodologyRequest methodology;
  v1::RegisterCcerProjectRequest project;
  v1::ListCcerProjectsRequest projects;
  v1::IssueCcerCreditsRequest issue;
  v1::ListSerialBlocksRequest blocks;
  v1::RetireUnitsRequest retire;
  v1::ListRetirementsRequest retirements;
  // Integers parsed by add_integer, copied into the requests once parsed.
  std::uint64_t project_owner = 0, list_owner = 0, issue_project = 0, blocks_account = 0, blocks_project = 0,
                retire_participant = 0, retirements_participant = 0;
  std::int32_t vintage = 0;
  std::int64_t issue_quantity = 0, retire_quantity = 0, retirements_from = 0, retirements_to = 0;
};

std::string serials(const v1::SerialBlock& b) {
  return std::to_string(b.serial_start()) + "-" + std::to_string(b.serial_end());
}

void print_blocks(std::ostream& out, const google::protobuf::RepeatedPtrField<v1::SerialBlock>& blocks,
                  bool with_account) {
  std::vector<Table::Column> columns{{"serials"}, {"quantity", Table::Align::right}, {"project"},
                                     {"vintage", Table::Align::right}, {"methodology"}};
  if (with_account) columns.insert(columns.begin(), {"account", Table::Align::right});
  Table table(std::move(columns));
  for (const auto& b : blocks) {
    std::vector<std::string> row{serials(b), tonnes(b.quantity()), b.project_code(), std::to_string(b.vintage_year()),
                                 b.methodology_code()};
    if (with_account) row.insert(row.begin(), std::to_string(b.holding_account_id()));
    table.add_row(std::move(row));
  }
  table.print(out);
}

void print_projects(std::ostream& out, const google::protobuf::RepeatedPtrField<v1::CcerProject>& projects) {
  Table table({{"id", Table::Align::right}, {"code"}, {"name"}, {"methodology"}, {"owner", Table::Align::right},
               {"crediting period"}, {"issued", Table::Align::right}});
  for (const auto& p : projects) {
    table.add_row({std::to_string(p.project_id()), p.project_code(), p.name(), p.methodology_code(),
                   std::to_string(p.owner_participant_id()),
                   p.crediting_period_start_date() + ".." + p.crediting_period_end_date(), tonnes(p.issued_quantity())});
  }
  table.print(out);
}

void print_retirements(std::ostream& out, const google::protobuf::RepeatedPtrField<v1::Retirement>& list) {
  Table table({{"id", Table::Align::right}, {"retired at"}, {"holder"}, {"instrument"},
               {"quantity", Table::Align::right}, {"beneficiary"}, {"purpose"}, {"serials"}});
  for (const auto& r : list) {
    std::string ranges;
    for (const auto& b : r.serials()) ranges += (ranges.empty() ? "" : ",") + serials(b);
    table.add_row({std::to_string(r.retirement_id()), china_time(r.retired_at_unix_nanos()),
                   std::to_string(r.participant_id()) + " " + r.participant_name(), r.instrument(),
                   tonnes(r.quantity()), r.beneficiary(), r.purpose(), ranges});
  }
  table.print(out);
}

/// Prints `message` as JSON with --json, else runs `table`.
std::unique_ptr<v1::RegistryService::Stub> stub(Session& session) {
  return v1::RegistryService::NewStub(session.channel());
}

}  // namespace

void add_ccer_commands(CLI::App& app, std::function<int(Session&)>& action) {
  auto args = std::make_shared<CcerArgs>();
  auto* ccer = app.add_subcommand(
      "ccer", "CCER: methodologies, projects, issuance of serial-numbered credits, serial blocks, retirement");
  ccer->require_subcommand(1);
  ccer->footer(std::string("Example: ") + kAsRegistry + "ccer blocks --account 100");

  // ---- methodology ----
  auto* methodology = ccer->add_subcommand("methodology", "CCER methodologies (register: registry authority)");
  methodology->require_subcommand(1);
  methodology->footer("Example: carbonctl ccer methodology list");
  {
    auto& m = args->methodology;
    auto* reg = methodology->add_subcommand("register", "Register a methodology (role: registry authority)");
    reg->add_option_function<std::string>("--code", [&m](const std::string& v) { m.set_code(v); },
                                          "official code, e.g. CCER-14-001-V01")->required();
    reg->add_option_function<std::string>("--name", [&m](const std::string& v) { m.set_name(v); }, "title")
        ->required();
    reg->add_option_function<std::string>("--version", [&m](const std::string& v) { m.set_version(v); },
                                          "version, e.g. V01")->required();
    reg->add_option_function<std::string>("--field", [&m](const std::string& v) { m.set_field(v); },
                                          "field it applies to, e.g. forestry");
    reg->add_option_function<std::string>("--document", [&m](const std::string& v) { m.set_document_reference(v); },
                                          "reference of the publishing document");
    reg->footer(std::string("Example: ") + kAsRegistry +
                "ccer methodology register --code CCER-14-001-V01 --name \"Afforestation carbon sink\" --version V01 "
                "--field forestry");
    reg->callback([&action, args] {
      action = [args](Session& s) {
        v1::Methodology response;
        auto registry = stub(s);
        s.call([&](grpc::ClientContext* c) { return registry->RegisterMethodology(c, args->methodology, &response); });
        return print_message(s, response, [&] {
          std::cout << "registered methodology " << printable(response.code()) << " (" << printable(response.name())
                    << ", " << printable(response.version()) << ")\n";
        });
      };
    });
    auto* list = methodology->add_subcommand("list", "List methodologies (every role)");
    list->footer("Example: carbonctl --token-file ~/.carbon/trader.token ccer methodology list");
    list->callback([&action] {
      action = [](Session& s) {
        v1::ListMethodologiesResponse response;
        auto registry = stub(s);
        s.call([&](grpc::ClientContext* c) { return registry->ListMethodologies(c, {}, &response); });
        return print_message(s, response, [&] {
          Table table({{"code"}, {"name"}, {"version"}, {"field"}, {"registered"}});
          for (const auto& row : response.methodologies()) {
            table.add_row({row.code(), row.name(), row.version(), row.field(), china_time(row.registered_at_unix_nanos())});
          }
          table.print(std::cout);
        });
      };
    });
  }

  // ---- project ----
  auto* project = ccer->add_subcommand("project", "CCER projects (register: registry authority; list: every role)");
  project->require_subcommand(1);
  project->footer("Example: carbonctl ccer project list");
  {
    auto& p = args->project;
    auto* reg = project->add_subcommand(
        "register", "Register a project validated by an accredited body; its credits go to the owner's holding "
                    "account (role: registry authority)");
    auto text = [reg](const std::string& name, auto setter, const std::string& help) {
      return reg->add_option_function<std::string>(name, setter, help);
    };
    text("--code", [&p](const std::string& v) { p.set_project_code(v); }, "official project code, unique")->required();
    text("--name", [&p](const std::string& v) { p.set_name(v); }, "project name")->required();
    text("--methodology", [&p](const std::string& v) { p.set_methodology_code(v); }, "methodology code")->required();
    add_integer(reg, "--owner", args->project_owner, "owner participant id (not a natural person)")->required();
    text("--location", [&p](const std::string& v) { p.set_location(v); }, "province, city");
    text("--validation-body", [&p](const std::string& v) { p.set_validation_body(v); }, "accredited validation body")
        ->required();
    text("--validation-report", [&p](const std::string& v) { p.set_validation_report_reference(v); },
         "reference of the validation report")->required();
    text("--public-notice", [&p](const std::string& v) { p.set_public_notice_reference(v); },
         "reference of the public notice");
    text("--crediting-start", [&p](const std::string& v) { p.set_crediting_period_start_date(v); },
         "first day of the crediting period, YYYY-MM-DD")->required();
    text("--crediting-end", [&p](const std::string& v) { p.set_crediting_period_end_date(v); },
         "last day of the crediting period, YYYY-MM-DD")->required();
    reg->footer(std::string("Example: ") + kAsRegistry +
                "ccer project register --code P-2026-0001 --name \"Hilltop forest\" --methodology CCER-14-001-V01 "
                "--owner 3 --validation-body CQC --validation-report VAL-17 --crediting-start 2024-01-01 "
                "--crediting-end 2033-12-31");
    reg->callback([&action, args] {
      args->project.set_owner_participant_id(args->project_owner);
      action = [args](Session& s) {
        v1::CcerProject response;
        auto registry = stub(s);
        s.call([&](grpc::ClientContext* c) { return registry->RegisterCcerProject(c, args->project, &response); });
        return print_message(s, response, [&] {
          google::protobuf::RepeatedPtrField<v1::CcerProject> one;
          *one.Add() = response;
          print_projects(std::cout, one);
        });
      };
    });

    auto* list = project->add_subcommand("list", "List projects by id (every role)");
    auto& q = args->projects;
    list->add_option_function<std::string>("--methodology", [&q](const std::string& v) { q.set_methodology_code(v); },
                                           "only this methodology");
    add_integer(list, "--owner", args->list_owner, "only this owner participant");
    list->footer("Example: carbonctl --token-file ~/.carbon/trader.token ccer project list --methodology "
                 "CCER-14-001-V01");
    list->callback([&action, args] {
      args->projects.set_owner_participant_id(args->list_owner);
      action = [args](Session& s) {
        v1::ListCcerProjectsResponse all;
        auto registry = stub(s);
        v1::ListCcerProjectsRequest request = args->projects;
        do {  // every page
          v1::ListCcerProjectsResponse page;
          s.call([&](grpc::ClientContext* c) { return registry->ListCcerProjects(c, request, &page); });
          all.mutable_projects()->MergeFrom(page.projects());
          request.set_page_token(page.next_page_token());
        } while (!request.page_token().empty());
        return print_message(s, all, [&] { print_projects(std::cout, all.projects()); });
      };
    });
  }

  // ---- issue ----
  {
    auto& r = args->issue;
    auto* issue = ccer->add_subcommand(
        "issue", "Issue verified reductions of a registered project as one block of new serials to its owner "
                 "(role: registry authority)");
    add_integer(issue, "--project", args->issue_project, "project id")->required();
    add_integer(issue, "--vintage", args->vintage, "year the reductions happened")->required();
    add_integer(issue, "--quantity", args->issue_quantity, "verified reductions in tonnes, > 0")->required();
    issue->add_option_function<std::string>("--monitoring-start",
                                            [&r](const std::string& v) { r.set_monitoring_period_start_date(v); },
                                            "first day of the monitoring period, YYYY-MM-DD")->required();
    issue->add_option_function<std::string>("--monitoring-end",
                                            [&r](const std::string& v) { r.set_monitoring_period_end_date(v); },
                                            "last day of the monitoring period, YYYY-MM-DD")->required();
    issue->add_option_function<std::string>("--verifier", [&r](const std::string& v) { r.set_verification_body(v); },
                                            "accredited verification body")->required();
    issue->add_option_function<std::string>("--report",
                                            [&r](const std::string& v) { r.set_verification_report_reference(v); },
                                            "reference of the verification report")->required();
    issue->add_option_function<std::string>("--key", [&r](const std::string& v) { r.set_idempotency_key(v); },
                                            "idempotency key; repeating it issues nothing more")->required();
    issue->footer(std::string("Example: ") + kAsRegistry +
                  "ccer issue --project 1 --vintage 2024 --quantity 1000 --monitoring-start 2024-01-01 "
                  "--monitoring-end 2024-12-31 --verifier CEC --report VER-2025-03 --key ISS-P1-2024");
    issue->callback([&action, args] {
      args->issue.set_project_id(args->issue_project);
      args->issue.set_vintage_year(args->vintage);
      args->issue.set_quantity(args->issue_quantity);
      action = [args](Session& s) {
        v1::IssueCcerCreditsResponse response;
        auto registry = stub(s);
        s.call([&](grpc::ClientContext* c) { return registry->IssueCcerCredits(c, args->issue, &response); });
        return print_message(s, response, [&] {
          const auto& i = response.issuance();
          Details()
              .add("issuance", std::to_string(i.issuance_id()))
              .add("project", std::to_string(i.project_id()) + " " + printable(i.serials().project_code()))
              .add("serials", serials(i.serials()))
              .add("quantity", tonnes(i.serials().quantity()))
              .add("vintage", std::to_string(i.serials().vintage_year()))
              .add("holding account", std::to_string(i.holding_account_id()))
              .add("ledger entry", std::to_string(i.ledger_entry_id()))
              .print(std::cout);
        });
      };
    });
  }

  // ---- blocks ----
  {
    auto* blocks = ccer->add_subcommand(
        "blocks", "The serial blocks an account holds, first in first (the order they are delivered and retired "
                  "in); or a project's blocks in every account (staff; a trader: its own account)");
    add_integer(blocks, "--account", args->blocks_account, "holding account id");
    add_integer(blocks, "--project", args->blocks_project, "only this project (alone: in every account)");
    blocks->footer("Example: carbonctl --token-file ~/.carbon/trader.token ccer blocks --account 100");
    blocks->callback([&action, args] {
      args->blocks.set_holding_account_id(args->blocks_account);
      args->blocks.set_project_id(args->blocks_project);
      action = [args](Session& s) {
        v1::ListSerialBlocksResponse response;
        auto registry = stub(s);
        s.call([&](grpc::ClientContext* c) { return registry->ListSerialBlocks(c, args->blocks, &response); });
        return print_message(s, response,
                     [&] { print_blocks(std::cout, response.blocks(), args->blocks.holding_account_id() == 0); });
      };
    });
  }

  // ---- retire ----
  {
    auto& r = args->retire;
    r.set_instrument("CCER");
    auto* retire = ccer->add_subcommand(
        "retire", "Retire (cancel) available CCER for offsetting or voluntary use, oldest serials first; public "
                  "(role: trader for itself, registry authority for any participant)");
    add_integer(retire, "--participant", args->retire_participant, "the holder (staff only; a trader retires its own)");
    retire->add_option_function<std::string>("--instrument", [&r](const std::string& v) { r.set_instrument(v); },
                                             "what to retire: CCER (the default) or a CEA vintage, e.g. CEA2024");
    add_integer(retire, "--quantity", args->retire_quantity, "tonnes, > 0")->required();
    retire->add_option_function<std::string>("--beneficiary", [&r](const std::string& v) { r.set_beneficiary(v); },
                                             "on whose behalf")->required();
    retire->add_option_function<std::string>("--purpose", [&r](const std::string& v) { r.set_purpose(v); },
                                             "what for, e.g. \"offset of 2025 scope 1 emissions\"")->required();
    retire->add_option_function<std::string>("--key", [&r](const std::string& v) { r.set_idempotency_key(v); },
                                             "idempotency key; repeating it retires nothing more")->required();
    retire->footer("Example: carbonctl --token-file ~/.carbon/trader.token ccer retire --quantity 100 "
                   "--beneficiary \"Shanghai Marathon 2026\" --purpose \"event offset\" --key RET-2026-001");
    retire->callback([&action, args] {
      args->retire.set_participant_id(args->retire_participant);
      args->retire.set_quantity(args->retire_quantity);
      action = [args](Session& s) {
        v1::RetireUnitsResponse response;
        auto registry = stub(s);
        s.call([&](grpc::ClientContext* c) { return registry->RetireUnits(c, args->retire, &response); });
        return print_message(s, response, [&] {
          google::protobuf::RepeatedPtrField<v1::Retirement> one;
          *one.Add() = response.retirement();
          print_retirements(std::cout, one);
          print_holding(std::cout, response.holding());
        });
      };
    });
  }

  // ---- retirements ----
  {
    auto* retirements = ccer->add_subcommand("retirements", "The public list of retirements, newest first (every role)");
    add_integer(retirements, "--participant", args->retirements_participant, "only this holder");
    retirements->add_option_function<std::string>(
        "--instrument", [args](const std::string& v) { args->retirements.set_instrument(v); },
        "only this instrument, e.g. CCER or CEA2024");
    add_integer(retirements, "--from-unix-nanos", args->retirements_from, "retired at or after (0: from the first)");
    add_integer(retirements, "--to-unix-nanos", args->retirements_to, "retired before (0: up to now)");
    retirements->footer("Example: carbonctl --token-file ~/.carbon/trader.token ccer retirements");
    retirements->callback([&action, args] {
      args->retirements.set_participant_id(args->retirements_participant);
      args->retirements.set_from_unix_nanos(args->retirements_from);
      args->retirements.set_to_unix_nanos(args->retirements_to);
      action = [args](Session& s) {
        v1::ListRetirementsResponse all;
        auto registry = stub(s);
        v1::ListRetirementsRequest request = args->retirements;
        do {  // every page
          v1::ListRetirementsResponse page;
          s.call([&](grpc::ClientContext* c) { return registry->ListRetirements(c, request, &page); });
          all.mutable_retirements()->MergeFrom(page.retirements());
          request.set_page_token(page.next_page_token());
        } while (!request.page_token().empty());
        return print_message(s, all, [&] { print_retirements(std::cout, all.retirements()); });
      };
    });
  }
}

}  // namespace carbonctl
