// carbonctl regulator ...: the ledger and its verification, compliance
// statuses, early warnings and freezes (RegulatorService).

#include <memory>

#include "carbon/v1/regulator.grpc.pb.h"
#include "registry_commands.h"
#include "render.h"

namespace carbonctl {
namespace {

namespace v1 = carbon::v1;
using Align = Table::Align;

constexpr const char* kAsRegulator = "carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as regulator ";
constexpr const char* kAsAuditor = "carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as auditor ";

std::unique_ptr<v1::RegulatorService::Stub> regulator_stub(Session& session) {
  return v1::RegulatorService::NewStub(session.channel());
}

/// An option taking a China Standard Time, stored as Unix nanoseconds.
CLI::Option* add_time(CLI::App* command, const std::string& name, std::int64_t& target,
                      const std::string& description) {
  return command
      ->add_option_function<std::string>(
          name, [&target](const std::string& text) { parse_china_time(text, target); },
          description + ", China Standard Time: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            std::int64_t ignored = 0;
            return parse_china_time(text, ignored) ? std::string()
                                                   : "\"" + text + "\" is not YYYY-MM-DD[THH:MM[:SS]]";
          },
          ""))
      ->type_name("TIME");
}

std::string account_side(std::uint64_t account, v1::HoldingState state) {
  return std::to_string(account) + (state == v1::HOLDING_STATE_UNSPECIFIED ? "" : " " + short_name(state));
}

void print_entries(std::ostream& out, const google::protobuf::RepeatedPtrField<v1::LedgerEntry>& entries,
                   bool hashes) {
  if (entries.empty()) {
    out << "(no ledger entries)\n";
    return;
  }
  std::vector<Table::Column> columns = {{"ENTRY", Align::right},
                                        {"RECORDED"},
                                        {"KIND"},
                                        {"INSTRUMENT"},
                                        {"QUANTITY (t)", Align::right},
                                        {"FROM"},
                                        {"TO"},
                                        {"REF", Align::right},
                                        {"REASON"}};
  if (hashes) columns.push_back({"HASH"});
  Table table(std::move(columns));
  for (const v1::LedgerEntry& e : entries) {
    std::vector<std::string> row = {std::to_string(e.ledger_entry_id()),
                                    china_time(e.recorded_at_unix_nanos()),
                                    short_name(e.kind()),
                                    e.instrument(),
                                    tonnes(e.quantity()),
                                    account_side(e.from_holding_account_id(), e.from_state()),
                                    account_side(e.to_holding_account_id(), e.to_state()),
                                    id_or_dash(e.reference_id()),
                                    e.reason().empty() ? "-" : e.reason()};
    if (hashes) row.push_back(hex(e.hash()));
    table.add_row(std::move(row));
  }
  table.print(out);
}

void print_warnings(std::ostream& out, const v1::ListEarlyWarningsResponse& response) {
  out << "coverage below " << bps_percent(response.threshold_bps()) << " of the expected obligation (as of sequence "
      << response.as_of_sequence() << ")\n";
  if (response.warnings().empty()) {
    out << "(no early warnings)\n";
    return;
  }
  Table table({{"PARTICIPANT", Align::right},
               {"NAME"},
               {"SECTOR"},
               {"EXPECTED (t)", Align::right},
               {"BASIS"},
               {"SURRENDERED (t)", Align::right},
               {"ELIGIBLE HELD (t)", Align::right},
               {"OPEN BUYS (t)", Align::right},
               {"COVERAGE", Align::right}});
  for (const v1::EarlyWarning& w : response.warnings()) {
    table.add_row({std::to_string(w.participant_id()), w.participant_name(), w.sector(),
                   tonnes(w.expected_obligation()), short_name(w.basis()), tonnes(w.surrendered()),
                   tonnes(w.eligible_holdings()), tonnes(w.open_buy_quantity()), bps_percent(w.coverage_bps())});
  }
  table.print(out);
}

struct LedgerArgs {
  std::uint64_t account = 0;
  std::string instrument;
  std::int64_t from = 0, to = 0;
  v1::LedgerEntryKind kind = v1::LEDGER_ENTRY_KIND_UNSPECIFIED;
  bool hashes = false;
  Paging paging;
};

struct VerifyArgs {
  std::uint64_t from = 0, to = 0, account = 0;
};

struct ComplianceArgs {
  int year = 0;
  std::uint64_t participant = 0;
  v1::ComplianceState state = v1::COMPLIANCE_STATE_UNSPECIFIED;
  std::string sector;
  Paging paging;
};

struct WarningsArgs {
  int year = 0;
  std::int64_t threshold_bps = 0;
  Paging paging;
};

}  // namespace

void add_regulator_commands(CLI::App& app, Action& action) {
  auto* regulator = app.add_subcommand(
      "regulator",
      "Supervision: the ledger and its verification, the audit log's verification, compliance, early warnings, "
      "freezes (roles: regulator; "
      "auditor except freeze and unfreeze)");
  regulator->require_subcommand(1);
  regulator->footer(std::string("Example: ") + kAsAuditor + "regulator verify");

  // ---- ledger -------------------------------------------------------------------
  {
    auto args = std::make_shared<LedgerArgs>();
    auto* ledger = regulator->add_subcommand(
        "ledger", "List hash-chained ledger entries, oldest first, read from PostgreSQL (roles: regulator, auditor)");
    add_integer(ledger, "--account", args->account, "only entries from or to this holding account");
    ledger->add_option("--instrument", args->instrument, "only this instrument");
    add_time(ledger, "--from", args->from, "recorded at or after");
    add_time(ledger, "--to", args->to, "recorded before");
    add_enum(ledger, "--kind", args->kind, "only this kind");
    ledger->add_flag("--hashes", args->hashes, "add each entry's SHA-256 hash (hex) to the table");
    add_paging(ledger, args->paging);
    ledger->footer(std::string("Example: ") + kAsAuditor +
                   "regulator ledger --account 7 --kind freeze --from 2026-12-01 --to 2027-01-01");
    ledger->callback([&action, args] {
      action = [args](Session& s) {
        v1::ListLedgerEntriesRequest request;
        request.set_holding_account_id(args->account);
        request.set_instrument(args->instrument);
        request.set_from_unix_nanos(args->from);
        request.set_to_unix_nanos(args->to);
        request.set_kind(args->kind);
        v1::ListLedgerEntriesResponse response;
        auto stub = regulator_stub(s);
        fetch_pages(s, request, args->paging, response,
                    [&](grpc::ClientContext* c, const v1::ListLedgerEntriesRequest& r,
                        v1::ListLedgerEntriesResponse* out) { return stub->ListLedgerEntries(c, r, out); });
        return print_message(s, response, [&] {
          print_entries(std::cout, response.entries(), args->hashes);
          print_next_page(std::cout, response.next_page_token());
        });
      };
    });
  }

  // ---- verify -------------------------------------------------------------------
  {
    auto args = std::make_shared<VerifyArgs>();
    auto* verify = regulator->add_subcommand(
        "verify",
        "Verify the ledger's hash chain (whole or a range) and, with --account, replay that account's balances "
        "against its holdings. Exit 0 if valid, 6 if the chain or the replay is broken (roles: regulator, "
        "auditor)");
    add_integer(verify, "--from-entry", args->from, "first entry to check (default: the first)");
    add_integer(verify, "--to-entry", args->to, "last entry to check (default: the last)");
    add_integer(verify, "--account", args->account, "also replay this holding account's balances");
    verify->footer(std::string("Example: ") + kAsAuditor + "regulator verify --account 7");
    verify->callback([&action, args] {
      action = [args](Session& s) {
        v1::VerifyLedgerRequest request;
        request.set_from_ledger_entry_id(args->from);
        request.set_to_ledger_entry_id(args->to);
        request.set_holding_account_id(args->account);
        v1::VerifyLedgerResponse response;
        auto stub = regulator_stub(s);
        s.call([&](grpc::ClientContext* c) { return stub->VerifyLedger(c, request, &response); });
        print_message(s, response, [&] {
          Details details;
          details.add("valid", response.valid() ? "yes" : "NO")
              .add("entries checked", std::to_string(response.entries_checked()))
              .add("range", std::to_string(response.first_ledger_entry_id()) + " - " +
                                std::to_string(response.last_ledger_entry_id()))
              .add("last hash", response.last_hash().empty() ? "-" : hex(response.last_hash()));
          if (!response.valid()) {
            details.add("first bad entry", id_or_dash(response.first_bad_ledger_entry_id()))
                .add("failure", response.failure());
          }
          details.print(std::cout);
        });
        if (!response.valid()) std::cerr << "error: the ledger does not verify: " << printable(response.failure()) << "\n";
        return response.valid() ? kExitOk : kExitInvalid;
      };
    });
  }

  // ---- verify-audit -------------------------------------------------------------
  {
    auto args = std::make_shared<VerifyArgs>();
    auto* verify = regulator->add_subcommand(
        "verify-audit",
        "Verify the audit log's hash chain (whole or a range of audit ids): every record links to the one "
        "before it and its hash is recomputed. Keep the last hash printed to detect later rewriting. Exit 0 if "
        "valid, 6 if the chain is broken (roles: regulator, auditor)");
    add_integer(verify, "--from-id", args->from, "first audit id to check (default: the first)");
    add_integer(verify, "--to-id", args->to, "last audit id to check (default: the last)");
    verify->footer(std::string("Examples:\n  ") + kAsAuditor + "regulator verify-audit\n  " + kAsAuditor +
                   "regulator verify-audit --from-id 1000 --to-id 2000");
    verify->callback([&action, args] {
      action = [args](Session& s) {
        v1::VerifyAuditLogRequest request;
        request.set_from_audit_id(args->from);
        request.set_to_audit_id(args->to);
        v1::VerifyAuditLogResponse response;
        auto stub = regulator_stub(s);
        s.call([&](grpc::ClientContext* c) { return stub->VerifyAuditLog(c, request, &response); });
        print_message(s, response, [&] {
          Details details;
          details.add("valid", response.valid() ? "yes" : "NO")
              .add("records checked", std::to_string(response.records_checked()))
              .add("range", std::to_string(response.first_audit_id()) + " - " +
                                std::to_string(response.last_audit_id()))
              .add("last hash", response.last_hash().empty() ? "-" : hex(response.last_hash()));
          if (!response.valid()) {
            details.add("first bad record", id_or_dash(response.first_bad_audit_id()))
                .add("failure", response.failure());
          }
          details.print(std::cout);
        });
        if (!response.valid()) {
          std::cerr << "error: the audit log does not verify: " << printable(response.failure()) << "\n";
        }
        return response.valid() ? kExitOk : kExitInvalid;
      };
    });
  }

  // ---- compliance -----------------------------------------------------------------
  {
    auto args = std::make_shared<ComplianceArgs>();
    auto* compliance = regulator->add_subcommand(
        "compliance",
        "One key emitting unit's compliance status for a year (--participant), or every unit's, by participant "
        "(roles: regulator, auditor)");
    add_integer(compliance, "--year", args->year, "compliance year, e.g. 2024")->required();
    auto* participant = add_integer(compliance, "--participant", args->participant, "only this unit (one status)");
    auto* state = add_enum(compliance, "--state", args->state, "list: only this state");
    auto* sector = compliance->add_option("--sector", args->sector, "list: only this sector");
    state->excludes(participant);
    sector->excludes(participant);
    add_paging(compliance, args->paging);
    compliance->footer(std::string("Examples:\n  ") + kAsAuditor +
                       "regulator compliance --year 2024 --state short\n  " + kAsAuditor +
                       "regulator compliance --year 2024 --participant 3");
    compliance->callback([&action, args, participant] {
      const bool one = participant->count() > 0;
      action = [args, one](Session& s) {
        auto stub = regulator_stub(s);
        if (one) {
          v1::GetComplianceStatusRequest request;
          request.set_participant_id(args->participant);
          request.set_compliance_year(args->year);
          v1::ComplianceStatus response;
          s.call([&](grpc::ClientContext* c) { return stub->GetComplianceStatus(c, request, &response); });
          return print_message(s, response, [&] { print_compliance_status(std::cout, response); });
        }
        v1::ListComplianceStatusesRequest request;
        request.set_compliance_year(args->year);
        request.set_state(args->state);
        request.set_sector(args->sector);
        v1::ListComplianceStatusesResponse response;
        fetch_pages(s, request, args->paging, response,
                    [&](grpc::ClientContext* c, const v1::ListComplianceStatusesRequest& r,
                        v1::ListComplianceStatusesResponse* out) { return stub->ListComplianceStatuses(c, r, out); });
        return print_message(s, response, [&] {
          print_compliance_statuses(std::cout, response.statuses());
          print_next_page(std::cout, response.next_page_token());
        });
      };
    });
  }

  // ---- warnings -------------------------------------------------------------------
  {
    auto args = std::make_shared<WarningsArgs>();
    auto* warnings = regulator->add_subcommand(
        "warnings",
        "Early warnings: key emitting units whose coverage (surrendered + eligible holdings + open buys) is below "
        "a share of their expected obligation, worst first (roles: regulator, auditor)");
    add_integer(warnings, "--year", args->year, "compliance year, e.g. 2024")->required();
    add_integer(warnings, "--threshold-bps", args->threshold_bps,
                "coverage threshold in basis points, 0-10,000 (default: the year's, 10,000 in this build)");
    add_paging(warnings, args->paging);
    warnings->footer(std::string("Example: ") + kAsRegulator + "regulator warnings --year 2024 --threshold-bps 8000");
    warnings->callback([&action, args] {
      action = [args](Session& s) {
        v1::ListEarlyWarningsRequest request;
        request.set_compliance_year(args->year);
        request.set_threshold_bps(args->threshold_bps);
        v1::ListEarlyWarningsResponse response;
        auto stub = regulator_stub(s);
        fetch_pages(s, request, args->paging, response,
                    [&](grpc::ClientContext* c, const v1::ListEarlyWarningsRequest& r,
                        v1::ListEarlyWarningsResponse* out) { return stub->ListEarlyWarnings(c, r, out); });
        return print_message(s, response, [&] {
          print_warnings(std::cout, response);
          print_next_page(std::cout, response.next_page_token());
        });
      };
    });
  }

  // ---- freeze / unfreeze / freezes --------------------------------------------------
  add_freeze_commands(*regulator, action, /*regulator=*/true);
}

}  // namespace carbonctl
