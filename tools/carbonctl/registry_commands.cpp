// carbonctl registry ...: caps, free allocation, verified emissions,
// surrender, compliance status, the year close, freezes, transfers, holdings
// and the system accounts (RegistryService). "registry issue" is in main.cpp
// and commands.cpp.

#include "registry_commands.h"

#include <memory>
#include <vector>

#include "carbon/v1/registry.grpc.pb.h"
#include "carbon/v1/regulator.grpc.pb.h"
#include "render.h"

namespace carbonctl {
namespace {

namespace v1 = carbon::v1;
using Align = Table::Align;

constexpr const char* kAs = "carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as ";

[[noreturn]] void usage_error(const std::string& message) { throw ExitError(kExitUsage, message); }

}  // namespace

std::string bps_percent(std::int64_t basis_points) {
  const bool negative = basis_points < 0;
  const std::uint64_t magnitude =
      negative ? 0 - static_cast<std::uint64_t>(basis_points) : static_cast<std::uint64_t>(basis_points);
  std::string cents = std::to_string(magnitude % 100);
  if (cents.size() < 2) cents.insert(0, "0");
  return (negative ? "-" : "") + std::to_string(magnitude / 100) + "." + cents + "%";
}

namespace {

void print_caps(std::ostream& out, const google::protobuf::RepeatedPtrField<v1::Cap>& caps) {
  if (caps.empty()) {
    out << "(no caps)\n";
    return;
  }
  Table table({{"YEAR", Align::right},
               {"SECTOR"},
               {"CAP (t)", Align::right},
               {"PAID SHARE", Align::right},
               {"FREE LIMIT (t)", Align::right},
               {"FREE ALLOCATED (t)", Align::right},
               {"ISSUED (t)", Align::right}});
  for (const v1::Cap& c : caps) {
    table.add_row({std::to_string(c.compliance_year()), c.sector(), tonnes(c.cap_quantity()), bps_percent(c.paid_share_bps()),
                   tonnes(c.free_limit()), tonnes(c.free_allocated()), tonnes(c.issued())});
  }
  table.print(out);
}

/// Millionths as a decimal without trailing zeros: 821800 -> "0.8218".
std::string millionths(std::int64_t value) {
  const std::uint64_t magnitude = value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
  std::string fraction = std::to_string(magnitude % 1'000'000);
  fraction.insert(0, 6 - fraction.size(), '0');
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  return (value < 0 ? "-" : "") + std::to_string(magnitude / 1'000'000) + (fraction.empty() ? "" : "." + fraction);
}

std::string method_of(const v1::Allocation& a) {
  if (!a.has_benchmark()) return "direct";
  const v1::BenchmarkAllocation& b = a.benchmark();
  const std::string unit = b.output_unit().empty() ? "unit" : b.output_unit();
  std::string text = tonnes(b.output()) + " " + unit + " x " + millionths(b.benchmark_micro_tonnes()) + " t/" + unit;
  for (const v1::AdjustmentFactor& f : b.factors()) text += " x " + millionths(f.factor_ppm());
  return text;
}

void print_allocations(std::ostream& out, const google::protobuf::RepeatedPtrField<v1::Allocation>& allocations) {
  if (allocations.empty()) {
    out << "(no allocations)\n";
    return;
  }
  Table table({{"ID", Align::right},
               {"YEAR", Align::right},
               {"SECTOR"},
               {"PARTICIPANT", Align::right},
               {"INSTRUMENT"},
               {"GROSS (t)", Align::right},
               {"DEDUCTED (t)", Align::right},
               {"DELIVERED (t)", Align::right},
               {"METHOD"},
               {"LEDGER", Align::right},
               {"REASON"}});
  for (const v1::Allocation& a : allocations) {
    table.add_row({std::to_string(a.allocation_id()), std::to_string(a.compliance_year()), a.sector(),
                   std::to_string(a.participant_id()), a.instrument(), tonnes(a.gross_quantity()),
                   tonnes(a.shortfall_deduction()), tonnes(a.quantity()), method_of(a), id_or_dash(a.ledger_entry_id()),
                   a.reason()});
  }
  table.print(out);
}

void print_system_accounts(std::ostream& out, const google::protobuf::RepeatedPtrField<v1::SystemAccount>& accounts) {
  Table table({{"ACCOUNT", Align::right}, {"KIND"}, {"NAME"}});
  for (const v1::SystemAccount& a : accounts) {
    table.add_row({std::to_string(a.holding_account_id()), short_name(a.kind()), a.name()});
  }
  table.print(out);
}

// ---- argument sets (owned by the callbacks that use them) -------------------

struct CapArgs {
  int year = 0;
  std::string sector, reason;
  std::int64_t cap = 0, paid_share_bps = 0;
};

struct AllocateArgs {
  int year = 0;
  std::string sector, instrument, reason, key, output_unit;
  std::uint64_t participant = 0;
  std::int64_t quantity = 0, output = 0, benchmark = 0;
  std::vector<std::string> factors;  ///< NAME=PPM
};

struct AllocationsArgs {
  int year = 0;
  std::uint64_t participant = 0;
  std::string sector;
  Paging paging;
};

struct EmissionsArgs {
  std::uint64_t participant = 0;
  int year = 0;
  std::string sector, verifier, report, reason, key;
  std::int64_t emissions = 0;
};

struct SurrenderArgs {
  std::uint64_t participant = 0;
  int year = 0;
  std::string instrument, key;
  std::int64_t quantity = 0;
};

struct TransferArgs {
  std::uint64_t from = 0, to = 0;
  std::string instrument, reason, key;
  std::int64_t quantity = 0;
};

struct FreezeArgs {
  std::uint64_t account = 0;
  std::string instrument, reason, legal_reference, key;
  std::int64_t quantity = 0;
};

struct UnfreezeArgs {
  std::uint64_t freeze_id = 0;
  std::int64_t quantity = 0;
  std::string reason, key;
};

struct FreezesArgs {
  std::uint64_t account = 0;
  std::string instrument;
  v1::FreezeStatus status = v1::FREEZE_STATUS_UNSPECIFIED;
  Paging paging;
};

v1::AdjustmentFactor factor(const std::string& text) {
  const std::size_t equals = text.rfind('=');
  v1::AdjustmentFactor f;
  std::int64_t ppm = 0;
  if (equals == std::string::npos || !parse_decimal(text.substr(equals + 1), ppm)) {
    usage_error("--factor \"" + text + "\" is not NAME=PPM (e.g. \"load factor=985000\" for 0.985)");
  }
  f.set_name(text.substr(0, equals));
  f.set_factor_ppm(ppm);
  return f;
}

std::unique_ptr<v1::RegistryService::Stub> registry_stub(Session& session) {
  return v1::RegistryService::NewStub(session.channel());
}

void add_idempotency_key(CLI::App* command, std::string& key) {
  command
      ->add_option("--key", key,
                   "idempotency key (1 to 64 printable ASCII characters); repeating a command with its key "
                   "changes nothing more")
      ->required()
      ->check(kNonEmpty);
}

void add_year(CLI::App* command, int& year, bool required) {
  auto* option = add_integer(command, "--year", year, "compliance year (the year the emissions happened), e.g. 2024");
  if (required) option->required();
}

}  // namespace

void add_paging(CLI::App* command, Paging& paging) {
  add_integer(command, "--page-size", paging.page_size, "items per page (default 100, at most 1,000)");
  command->add_option("--page-token", paging.page_token, "the next_page_token of the previous page");
  command->add_flag("--all", paging.all, "fetch every page (from --page-token on) and print them as one list");
}

void print_next_page(std::ostream& out, const std::string& next_page_token) {
  if (!next_page_token.empty()) out << "(more: repeat with --page-token " << printable(next_page_token) << ", or --all)\n";
}

void print_compliance_status(std::ostream& out, const v1::ComplianceStatus& s) {
  Details details;
  details.add("participant", std::to_string(s.participant_id()))
      .add("compliance year", std::to_string(s.compliance_year()))
      .add("sector", s.sector().empty() ? "-" : s.sector())
      .add("state", short_name(s.state()))
      .add("verified emissions", tonnes(s.verified_emissions()) + " t")
      .add("obligation", tonnes(s.obligation()) + " t")
      .add("surrendered allowances", tonnes(s.surrendered_allowances()) + " t")
      .add("surrendered CCER", tonnes(s.surrendered_ccer()) + " t (limit " + tonnes(s.ccer_limit()) + " t)")
      .add("outstanding", tonnes(s.outstanding()) + " t");
  if (s.deadline_unix_nanos() != 0) details.add("deadline", china_time(s.deadline_unix_nanos()));
  if (s.state() == v1::COMPLIANCE_STATE_SHORT) {
    details.add("penalty basis", yuan(s.penalty_basis_price_fen()) + " CNY/t")
        .add("penalty multiplier", std::to_string(s.penalty_multiplier()))
        .add("penalty", yuan(s.penalty_fen()) + " CNY")
        .add("allocation deduction", tonnes(s.allocation_deduction()) + " t");
  }
  details.print(out);
}

void print_compliance_statuses(std::ostream& out,
                               const google::protobuf::RepeatedPtrField<v1::ComplianceStatus>& statuses) {
  if (statuses.empty()) {
    out << "(no compliance statuses)\n";
    return;
  }
  Table table({{"PARTICIPANT", Align::right},
               {"YEAR", Align::right},
               {"SECTOR"},
               {"STATE"},
               {"EMISSIONS (t)", Align::right},
               {"SURRENDERED (t)", Align::right},
               {"CCER (t)", Align::right},
               {"OUTSTANDING (t)", Align::right},
               {"PENALTY (CNY)", Align::right}});
  for (const v1::ComplianceStatus& s : statuses) {
    table.add_row({std::to_string(s.participant_id()), std::to_string(s.compliance_year()), s.sector(),
                   short_name(s.state()), tonnes(s.verified_emissions()), tonnes(s.surrendered_allowances()),
                   tonnes(s.surrendered_ccer()), tonnes(s.outstanding()),
                   s.state() == v1::COMPLIANCE_STATE_SHORT ? yuan(s.penalty_fen()) : "-"});
  }
  table.print(out);
}

void print_freezes(std::ostream& out, const google::protobuf::RepeatedPtrField<v1::HoldingFreeze>& freezes) {
  if (freezes.empty()) {
    out << "(no freezes)\n";
    return;
  }
  Table table({{"FREEZE", Align::right},
               {"ACCOUNT", Align::right},
               {"INSTRUMENT"},
               {"FROZEN (t)", Align::right},
               {"REMAINING (t)", Align::right},
               {"BY"},
               {"STATUS"},
               {"PLACED"},
               {"REASON"},
               {"LEGAL REFERENCE"}});
  for (const v1::HoldingFreeze& f : freezes) {
    table.add_row({std::to_string(f.freeze_id()), std::to_string(f.holding_account_id()), f.instrument(),
                   tonnes(f.quantity()), tonnes(f.remaining_quantity()), short_name(f.placed_by_role()),
                   short_name(f.status()), china_time(f.placed_at_unix_nanos()), f.reason(),
                   f.legal_reference().empty() ? "-" : f.legal_reference()});
  }
  table.print(out);
}

void add_freeze_commands(CLI::App& parent, Action& action, bool regulator) {
  const std::string role = regulator ? "role: regulator" : "role: registry authority";
  const std::string prefix = std::string(kAs) + (regulator ? "regulator regulator " : "registry registry ");
  // The two services take the same messages; only the stub differs.
  auto call = [regulator](Session& session, auto rpc_registry, auto rpc_regulator) {
    if (regulator) {
      auto stub = v1::RegulatorService::NewStub(session.channel());
      rpc_regulator(*stub);
    } else {
      auto stub = v1::RegistryService::NewStub(session.channel());
      rpc_registry(*stub);
    }
  };

  auto freeze_args = std::make_shared<FreezeArgs>();
  auto* freeze = parent.add_subcommand(
      "freeze",
      "Freeze available units of one instrument in a holding account; they cannot be sold, surrendered or "
      "transferred until lifted" +
          std::string(regulator ? "; only a regulator lifts a regulator's freeze (" : " (") + role + ")");
  add_integer(freeze, "--account", freeze_args->account, "holding account id")->required();
  freeze->add_option("--instrument", freeze_args->instrument, "instrument code, e.g. CEA2024")->required();
  add_integer(freeze, "--quantity", freeze_args->quantity, "tonnes to freeze, > 0, from available units")->required();
  freeze->add_option("--reason", freeze_args->reason, "why (kept in the ledger)")->required()->check(kNonEmpty);
  freeze->add_option("--legal-reference", freeze_args->legal_reference, "court order or case number");
  add_idempotency_key(freeze, freeze_args->key);
  freeze->footer("Example: " + prefix +
                 "freeze --account 7 --instrument CEA2024 --quantity 30 --reason investigation "
                 "--legal-reference \"case 2026-17\" --key FRZ-2026-17");
  freeze->callback([&action, freeze_args, call] {
    action = [freeze_args, call](Session& s) {
      v1::FreezeRequest request;
      request.set_holding_account_id(freeze_args->account);
      request.set_instrument(freeze_args->instrument);
      request.set_quantity(freeze_args->quantity);
      request.set_reason(freeze_args->reason);
      request.set_legal_reference(freeze_args->legal_reference);
      request.set_idempotency_key(freeze_args->key);
      v1::FreezeResponse response;
      call(
          s,
          [&](v1::RegistryService::Stub& stub) {
            s.call([&](grpc::ClientContext* c) { return stub.Freeze(c, request, &response); });
          },
          [&](v1::RegulatorService::Stub& stub) {
            s.call([&](grpc::ClientContext* c) { return stub.Freeze(c, request, &response); });
          });
      return print_message(s, response, [&] {
        std::cout << "freeze " << response.freeze().freeze_id() << ": " << tonnes(response.freeze().quantity())
                  << " t " << printable(response.freeze().instrument()) << " frozen in holding account "
                  << response.freeze().holding_account_id() << " (ledger entry " << response.ledger_entry_id()
                  << ", sequence " << response.sequence() << ")\n";
        print_holding(std::cout, response.holding());
      });
    };
  });

  auto unfreeze_args = std::make_shared<UnfreezeArgs>();
  auto* unfreeze = parent.add_subcommand(
      "unfreeze", "Lift a freeze (this build: as a whole) and make its units available again (" + role +
                      (regulator ? "; lifts any freeze)" : "; not a regulator's freeze)"));
  add_integer(unfreeze, "id", unfreeze_args->freeze_id, "freeze id (freezes lists them)")->required();
  add_integer(unfreeze, "--quantity", unfreeze_args->quantity, "tonnes to lift; default 0: all that remains");
  unfreeze->add_option("--reason", unfreeze_args->reason, "why (kept in the ledger)")->required()->check(kNonEmpty);
  add_idempotency_key(unfreeze, unfreeze_args->key);
  unfreeze->footer("Example: " + prefix + "unfreeze 3 --reason \"investigation closed\" --key UNF-2026-17");
  unfreeze->callback([&action, unfreeze_args, call] {
    action = [unfreeze_args, call](Session& s) {
      v1::UnfreezeRequest request;
      request.set_freeze_id(unfreeze_args->freeze_id);
      request.set_quantity(unfreeze_args->quantity);
      request.set_reason(unfreeze_args->reason);
      request.set_idempotency_key(unfreeze_args->key);
      v1::UnfreezeResponse response;
      call(
          s,
          [&](v1::RegistryService::Stub& stub) {
            s.call([&](grpc::ClientContext* c) { return stub.Unfreeze(c, request, &response); });
          },
          [&](v1::RegulatorService::Stub& stub) {
            s.call([&](grpc::ClientContext* c) { return stub.Unfreeze(c, request, &response); });
          });
      return print_message(s, response, [&] {
        std::cout << "freeze " << response.freeze().freeze_id() << " " << short_name(response.freeze().status())
                  << "; " << tonnes(response.freeze().remaining_quantity()) << " t remain frozen (ledger entry "
                  << response.ledger_entry_id() << ", sequence " << response.sequence() << ")\n";
        print_holding(std::cout, response.holding());
      });
    };
  });

  auto freezes_args = std::make_shared<FreezesArgs>();
  auto* freezes = parent.add_subcommand(
      "freezes", "List freezes, oldest first (" +
                     std::string(regulator ? "roles: regulator, auditor)" : "role: registry authority)"));
  add_integer(freezes, "--account", freezes_args->account, "only this holding account");
  freezes->add_option("--instrument", freezes_args->instrument, "only this instrument");
  add_enum(freezes, "--status", freezes_args->status, "only this status");
  add_paging(freezes, freezes_args->paging);
  freezes->footer("Example: " + std::string(kAs) + (regulator ? "auditor regulator " : "registry registry ") +
                  "freezes --status active");
  freezes->callback([&action, freezes_args, call] {
    action = [freezes_args, call](Session& s) {
      v1::ListFreezesRequest request;
      request.set_holding_account_id(freezes_args->account);
      request.set_instrument(freezes_args->instrument);
      request.set_status(freezes_args->status);
      v1::ListFreezesResponse response;
      call(
          s,
          [&](v1::RegistryService::Stub& stub) {
            fetch_pages(s, request, freezes_args->paging, response,
                        [&](grpc::ClientContext* c, const v1::ListFreezesRequest& r, v1::ListFreezesResponse* out) {
                          return stub.ListFreezes(c, r, out);
                        });
          },
          [&](v1::RegulatorService::Stub& stub) {
            fetch_pages(s, request, freezes_args->paging, response,
                        [&](grpc::ClientContext* c, const v1::ListFreezesRequest& r, v1::ListFreezesResponse* out) {
                          return stub.ListFreezes(c, r, out);
                        });
          });
      return print_message(s, response, [&] {
        print_freezes(std::cout, response.freezes());
        print_next_page(std::cout, response.next_page_token());
      });
    };
  });
}

void add_registry_commands(CLI::App& registry, Action& action) {
  const std::string as_registry = std::string(kAs) + "registry registry ";

  // ---- cap set / cap list ---------------------------------------------------
  auto* cap = registry.add_subcommand("cap", "Caps: the allowances of one compliance year and sector");
  cap->require_subcommand(1);
  cap->footer("Example: " + as_registry + "cap list --year 2024");
  {
    auto args = std::make_shared<CapArgs>();
    auto* set = cap->add_subcommand(
        "set", "Set or replace the cap of a compliance year and sector, and its paid share (role: registry authority)");
    add_year(set, args->year, true);
    set->add_option("--sector", args->sector, "sector code, lowercase: power, cement, steel, aluminium, ...")
        ->required();
    add_integer(set, "--cap", args->cap, "cap in tonnes, > 0")->required();
    add_integer(set, "--paid-share-bps", args->paid_share_bps,
                "share sold by auction rather than allocated free, basis points 0-10,000 (default 0)");
    set->add_option("--reason", args->reason, "why, e.g. the allocation plan's reference")->required();
    set->footer("Example: " + as_registry +
                "cap set --year 2024 --sector power --cap 1000000 --paid-share-bps 1000 --reason \"plan 2024\"");
    set->callback([&action, args] {
      action = [args](Session& s) {
        v1::SetCapRequest request;
        request.set_compliance_year(args->year);
        request.set_sector(args->sector);
        request.set_cap_quantity(args->cap);
        request.set_paid_share_bps(args->paid_share_bps);
        request.set_reason(args->reason);
        v1::Cap response;
        auto stub = registry_stub(s);
        s.call([&](grpc::ClientContext* c) { return stub->SetCap(c, request, &response); });
        return print_message(s, response, [&] {
          print_caps(std::cout, google::protobuf::RepeatedPtrField<v1::Cap>(&response, &response + 1));
        });
      };
    });

    auto list_year = std::make_shared<int>(0);
    auto* list = cap->add_subcommand(
        "list", "List caps by year, then sector (roles: registry authority, operator, regulator, auditor)");
    add_integer(list, "--year", *list_year, "only this compliance year");
    list->footer("Example: " + std::string(kAs) + "regulator registry cap list --year 2024");
    list->callback([&action, list_year] {
      action = [list_year](Session& s) {
        v1::ListCapsRequest request;
        request.set_compliance_year(*list_year);
        v1::ListCapsResponse response;
        auto stub = registry_stub(s);
        s.call([&](grpc::ClientContext* c) { return stub->ListCaps(c, request, &response); });
        return print_message(s, response, [&] { print_caps(std::cout, response.caps()); });
      };
    });
  }

  // ---- allocate / allocations -----------------------------------------------
  {
    auto args = std::make_shared<AllocateArgs>();
    auto* allocate = registry.add_subcommand(
        "allocate",
        "Allocate free allowances to a key emitting unit: a given --quantity, or computed as --output x "
        "--benchmark x each --factor, rounded half up once; a shortfall carried from the previous year is "
        "deducted first (role: registry authority)");
    add_year(allocate, args->year, true);
    allocate->add_option("--sector", args->sector, "sector with a cap for the year, e.g. power")->required();
    add_integer(allocate, "--participant", args->participant, "the key emitting unit's participant id")->required();
    allocate->add_option("--instrument", args->instrument, "compliance instrument to deliver, e.g. CEA2024")
        ->required();
    auto* quantity = add_integer(allocate, "--quantity", args->quantity, "direct allocation: tonnes, > 0");
    auto* output = add_integer(allocate, "--output", args->output,
                               "benchmark allocation: output in the sector's unit (e.g. MWh supplied), > 0");
    auto* benchmark = add_integer(allocate, "--benchmark", args->benchmark,
                                  "benchmark allocation: intensity in millionths of a tonne CO2e per unit of output "
                                  "(0.8218 tCO2/MWh is 821800)");
    auto* unit = allocate->add_option("--output-unit", args->output_unit, "name of the output unit, e.g. MWh");
    auto* factors = allocate->add_option("--factor", args->factors,
                                         "adjustment factor NAME=PPM (1000000 = 1.0), repeatable; this build: at "
                                         "most 4, multiples of 100 ppm");
    quantity->excludes(output)->excludes(benchmark)->excludes(unit)->excludes(factors);
    output->needs(benchmark);
    benchmark->needs(output);
    unit->needs(output);
    factors->needs(output);
    allocate->add_option("--reason", args->reason, "why, e.g. the allocation plan's reference")->required();
    add_idempotency_key(allocate, args->key);
    allocate->footer("Examples:\n  " + as_registry +
                     "allocate --year 2024 --sector power --participant 3 --instrument CEA2024 --quantity 400 "
                     "--reason pre-allocation --key ALLOC-2024-3\n  " +
                     as_registry +
                     "allocate --year 2024 --sector power --participant 3 --instrument CEA2024 --output 500000 "
                     "--output-unit MWh --benchmark 821800 --factor \"load=985000\" --reason final --key "
                     "ALLOC-2024-3-F");
    allocate->callback([&action, args, quantity, output] {
      if (quantity->count() == 0 && output->count() == 0) {
        throw CLI::ValidationError("allocate", "give either --quantity, or --output with --benchmark");
      }
      const bool direct = quantity->count() > 0;
      action = [args, direct](Session& s) {
        v1::AllocateFreeRequest request;
        request.set_compliance_year(args->year);
        request.set_sector(args->sector);
        request.set_participant_id(args->participant);
        request.set_instrument(args->instrument);
        if (direct) {
          request.mutable_direct()->set_quantity(args->quantity);
        } else {
          v1::BenchmarkAllocation* b = request.mutable_benchmark();
          b->set_output(args->output);
          b->set_output_unit(args->output_unit);
          b->set_benchmark_micro_tonnes(args->benchmark);
          for (const std::string& text : args->factors) *b->add_factors() = factor(text);
        }
        request.set_reason(args->reason);
        request.set_idempotency_key(args->key);
        v1::Allocation response;
        auto stub = registry_stub(s);
        s.call([&](grpc::ClientContext* c) { return stub->AllocateFree(c, request, &response); });
        return print_message(s, response, [&] {
          std::cout << "allocated " << tonnes(response.quantity()) << " t " << printable(response.instrument())
                    << " to participant " << response.participant_id() << " (allocation " << response.allocation_id()
                    << ", ledger entry " << id_or_dash(response.ledger_entry_id()) << ")\n";
          print_allocations(std::cout, google::protobuf::RepeatedPtrField<v1::Allocation>(&response, &response + 1));
        });
      };
    });

    auto list_args = std::make_shared<AllocationsArgs>();
    auto* list = registry.add_subcommand(
        "allocations",
        "List free allocations, oldest first (roles: registry authority, regulator, auditor; a trader its own)");
    add_year(list, list_args->year, false);
    add_integer(list, "--participant", list_args->participant, "only this participant");
    list->add_option("--sector", list_args->sector, "only this sector");
    add_paging(list, list_args->paging);
    list->footer("Example: " + as_registry + "allocations --year 2024 --participant 3");
    list->callback([&action, list_args] {
      action = [list_args](Session& s) {
        v1::ListAllocationsRequest request;
        request.set_compliance_year(list_args->year);
        request.set_participant_id(list_args->participant);
        request.set_sector(list_args->sector);
        v1::ListAllocationsResponse response;
        auto stub = registry_stub(s);
        fetch_pages(s, request, list_args->paging, response,
                    [&](grpc::ClientContext* c, const v1::ListAllocationsRequest& r, v1::ListAllocationsResponse* out) {
                      return stub->ListAllocations(c, r, out);
                    });
        return print_message(s, response, [&] {
          print_allocations(std::cout, response.allocations());
          print_next_page(std::cout, response.next_page_token());
        });
      };
    });
  }

  // ---- emissions --------------------------------------------------------------
  {
    auto args = std::make_shared<EmissionsArgs>();
    auto* emissions = registry.add_subcommand(
        "emissions",
        "Record (or correct, with --reason) a key emitting unit's verified emissions for a year; they become its "
        "obligation (role: registry authority)");
    add_integer(emissions, "--participant", args->participant, "the key emitting unit's participant id")->required();
    add_year(emissions, args->year, true);
    emissions->add_option("--sector", args->sector, "sector code, e.g. power")->required();
    add_integer(emissions, "--emissions", args->emissions, "verified emissions, tonnes CO2e, >= 0")->required();
    emissions->add_option("--verifier", args->verifier, "the verification body")->required();
    emissions->add_option("--report", args->report, "reference of the verification report")->required();
    emissions->add_option("--reason", args->reason, "why; required when correcting an earlier record");
    add_idempotency_key(emissions, args->key);
    emissions->footer("Example: " + as_registry +
                      "emissions --participant 3 --year 2024 --sector power --emissions 250 --verifier CQC "
                      "--report VR-2024-001 --key EM-2024-3");
    emissions->callback([&action, args] {
      action = [args](Session& s) {
        v1::RecordVerifiedEmissionsRequest request;
        request.set_participant_id(args->participant);
        request.set_compliance_year(args->year);
        request.set_sector(args->sector);
        request.set_verified_emissions(args->emissions);
        request.set_verifier(args->verifier);
        request.set_report_reference(args->report);
        request.set_reason(args->reason);
        request.set_idempotency_key(args->key);
        v1::ComplianceStatus response;
        auto stub = registry_stub(s);
        s.call([&](grpc::ClientContext* c) { return stub->RecordVerifiedEmissions(c, request, &response); });
        return print_message(s, response, [&] { print_compliance_status(std::cout, response); });
      };
    });
  }

  // ---- surrender ----------------------------------------------------------------
  {
    auto args = std::make_shared<SurrenderArgs>();
    auto* surrender = registry.add_subcommand(
        "surrender",
        "Surrender units against a year's obligation: allowances of vintages up to the year in full, CCER up to "
        "the offset limit (5%) (role: registry authority for any unit; a trader for itself)");
    add_integer(surrender, "--participant", args->participant,
                "the key emitting unit (default 0: the trader calling)");
    add_year(surrender, args->year, true);
    surrender->add_option("--instrument", args->instrument, "a CEA vintage up to the year, or CCER")->required();
    add_integer(surrender, "--quantity", args->quantity, "tonnes, > 0, from available units")->required();
    add_idempotency_key(surrender, args->key);
    surrender->footer(
        "Example: carbonctl --token-file ~/.carbon/trader.token registry surrender --year 2024 --instrument "
        "CEA2024 --quantity 200 --key SUR-2024-1");
    surrender->callback([&action, args] {
      action = [args](Session& s) {
        v1::SurrenderRequest request;
        request.set_participant_id(args->participant);
        request.set_compliance_year(args->year);
        request.set_instrument(args->instrument);
        request.set_quantity(args->quantity);
        request.set_idempotency_key(args->key);
        v1::SurrenderResponse response;
        auto stub = registry_stub(s);
        s.call([&](grpc::ClientContext* c) { return stub->Surrender(c, request, &response); });
        return print_message(s, response, [&] {
          std::cout << "surrendered " << tonnes(args->quantity) << " t " << printable(args->instrument) << " for "
                    << args->year << " (ledger entry " << response.ledger_entry_id() << ", sequence "
                    << response.sequence() << ")\n";
          print_compliance_status(std::cout, response.status());
          std::cout << "\n";
          print_holding(std::cout, response.holding());
        });
      };
    });
  }

  // ---- compliance ---------------------------------------------------------------
  {
    auto args = std::make_shared<std::pair<std::uint64_t, int>>(0, 0);
    auto* compliance = registry.add_subcommand(
        "compliance", "Show a key emitting unit's compliance status for a year (role: registry authority for any "
                      "unit; a trader for itself; regulators use \"regulator compliance\")");
    add_integer(compliance, "--participant", args->first, "the key emitting unit (default 0: the trader calling)");
    add_year(compliance, args->second, true);
    compliance->footer("Example: " + as_registry + "compliance --participant 3 --year 2024");
    compliance->callback([&action, args] {
      action = [args](Session& s) {
        v1::GetComplianceStatusRequest request;
        request.set_participant_id(args->first);
        request.set_compliance_year(args->second);
        v1::ComplianceStatus response;
        auto stub = registry_stub(s);
        s.call([&](grpc::ClientContext* c) { return stub->GetComplianceStatus(c, request, &response); });
        return print_message(s, response, [&] { print_compliance_status(std::cout, response); });
      };
    });
  }

  // ---- close-year -----------------------------------------------------------------
  {
    auto args = std::make_shared<std::pair<int, std::int64_t>>(0, 0);
    auto* close = registry.add_subcommand(
        "close-year",
        "Close a compliance year after its deadline: every unit becomes compliant or short; short units get a "
        "penalty (shortfall x basis price x 5) and a deduction from next year's allocation. Closing a closed "
        "year shows the stored result (role: registry authority)");
    add_integer(close, "year", args->first, "compliance year")->required();
    add_integer(close, "--penalty-basis-fen", args->second,
                "penalty basis price, fen per tonne (default: the mean listed CEA close of the month before)");
    close->footer("Example: " + as_registry + "close-year 2024");
    close->callback([&action, args] {
      action = [args](Session& s) {
        v1::CloseComplianceYearRequest request;
        request.set_compliance_year(args->first);
        request.set_penalty_basis_price_fen(args->second);
        v1::CloseComplianceYearResponse response;
        auto stub = registry_stub(s);
        s.call([&](grpc::ClientContext* c) { return stub->CloseComplianceYear(c, request, &response); });
        return print_message(s, response, [&] {
          std::cout << "compliance year " << response.year().compliance_year() << " closed: "
                    << response.compliant_count() << " compliant, " << response.short_count() << " short ("
                    << tonnes(response.total_shortfall()) << " t), penalty basis "
                    << yuan(response.penalty_basis_price_fen()) << " CNY/t\n";
          if (!response.short_units().empty()) print_compliance_statuses(std::cout, response.short_units());
        });
      };
    });
  }

  // ---- freeze / unfreeze / freezes ------------------------------------------------
  add_freeze_commands(registry, action, /*regulator=*/false);

  // ---- transfer -------------------------------------------------------------------
  {
    auto args = std::make_shared<TransferArgs>();
    auto* transfer = registry.add_subcommand(
        "transfer",
        "Move available units between two holding accounts (court order, correction, reserve release) "
        "(role: registry authority)");
    add_integer(transfer, "--from", args->from, "source holding account")->required();
    add_integer(transfer, "--to", args->to, "destination holding account")->required();
    transfer->add_option("--instrument", args->instrument, "instrument code")->required();
    add_integer(transfer, "--quantity", args->quantity, "tonnes, > 0, from the source's available units")->required();
    transfer->add_option("--reason", args->reason, "why (kept in the ledger)")->required()->check(kNonEmpty);
    add_idempotency_key(transfer, args->key);
    transfer->footer("Example: " + as_registry +
                     "transfer --from 2 --to 7 --instrument CEA2024 --quantity 1000 --reason \"reserve release\" "
                     "--key TRF-2026-1");
    transfer->callback([&action, args] {
      action = [args](Session& s) {
        v1::TransferRequest request;
        request.set_from_holding_account_id(args->from);
        request.set_to_holding_account_id(args->to);
        request.set_instrument(args->instrument);
        request.set_quantity(args->quantity);
        request.set_reason(args->reason);
        request.set_idempotency_key(args->key);
        v1::TransferResponse response;
        auto stub = registry_stub(s);
        s.call([&](grpc::ClientContext* c) { return stub->Transfer(c, request, &response); });
        return print_message(s, response, [&] {
          std::cout << "transferred " << tonnes(args->quantity) << " t " << printable(args->instrument) << " from "
                    << args->from << " to " << args->to << " (ledger entry " << response.ledger_entry_id()
                    << ", sequence " << response.sequence() << ")\n";
          google::protobuf::RepeatedPtrField<v1::Holding> both;
          *both.Add() = response.from_holding();
          *both.Add() = response.to_holding();
          print_holdings(std::cout, both);
        });
      };
    });
  }

  // ---- holdings / system-accounts -------------------------------------------------
  {
    auto account = std::make_shared<std::uint64_t>(0);
    auto* holdings = registry.add_subcommand(
        "holdings",
        "Show a holding account's units per instrument and state (roles: registry authority, operator, regulator, "
        "auditor; a trader its own)");
    add_integer(holdings, "account", *account, "holding account id")->required();
    holdings->footer("Example: " + std::string(kAs) + "auditor registry holdings 4");
    holdings->callback([&action, account] {
      action = [account](Session& s) {
        v1::GetHoldingsRequest request;
        request.set_holding_account_id(*account);
        v1::GetHoldingsResponse response;
        auto stub = registry_stub(s);
        s.call([&](grpc::ClientContext* c) { return stub->GetHoldings(c, request, &response); });
        return print_message(s, response, [&] { print_holdings(std::cout, response.holdings()); });
      };
    });

    auto* system = registry.add_subcommand(
        "system-accounts",
        "List the system holding accounts: issuance, reserve, auction, surrender, cancellation (every role)");
    system->footer("Example: carbonctl --token-file ~/.carbon/trader.token registry system-accounts");
    system->callback([&action] {
      action = [](Session& s) {
        v1::ListSystemAccountsResponse response;
        auto stub = registry_stub(s);
        s.call([&](grpc::ClientContext* c) {
          return stub->ListSystemAccounts(c, v1::ListSystemAccountsRequest{}, &response);
        });
        return print_message(s, response, [&] { print_system_accounts(std::cout, response.accounts()); });
      };
    });
  }
}

}  // namespace carbonctl
