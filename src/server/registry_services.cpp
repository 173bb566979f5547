// RegistryService and RegulatorService: the registry's RPCs mapped to engine
// commands. Paging of list RPCs is done here, over the engine's full answer
// (the lists are small: caps, allocations, statuses and freezes per year).
#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>

#include "engine/validation.h"
#include "registry/compliance.h"
#include "server/convert.h"
#include "store/ledger_reader.h"
#include "server/dispatch.h"
#include "server/paging.h"
#include "server/services.h"

namespace carbon::server {
namespace {

// ---- conversions --------------------------------------------------------------

using server::to_proto;  // the shared conversions of convert.h, next to the ones below

void to_proto(const engine::CapRecord& in, v1::Cap& out) {
  out.set_compliance_year(in.year);
  out.set_sector(in.sector);
  out.set_cap_quantity(in.cap.value);
  out.set_paid_share_bps(in.paid_share_bps);
  out.set_free_limit(in.free_limit().value);
  out.set_free_allocated(in.free_allocated.value);
  out.set_sequence(in.sequence);
  out.set_issued(in.issued.value);
}

void to_proto(const engine::AllocationRecord& in, v1::Allocation& out) {
  out.set_allocation_id(in.id);
  out.set_compliance_year(in.year);
  out.set_sector(in.sector);
  out.set_participant_id(in.participant);
  out.set_instrument(in.instrument);
  out.set_gross_quantity(in.gross.value);
  out.set_shortfall_deduction(in.deducted.value);
  out.set_quantity(in.issued.value);
  if (in.formula) {
    v1::BenchmarkAllocation& benchmark = *out.mutable_benchmark();
    benchmark.set_output(in.formula->output);
    benchmark.set_output_unit(in.output_unit);
    benchmark.set_benchmark_micro_tonnes(in.formula->benchmark_micro_tonnes);
    for (std::int64_t factor : in.formula->factors_per_10000) benchmark.add_factors()->set_factor_ppm(factor * 100);
  }
  out.set_reason(in.reason);
  out.set_ledger_entry_id(in.ledger_entry_id);
  out.set_sequence(in.sequence);
  out.set_allocated_at_unix_nanos(in.at);
}

v1::ComplianceState state_of(const engine::ComplianceRecord& in) {
  if (in.status.shortfall.is_zero()) return v1::COMPLIANCE_STATE_COMPLIANT;
  return in.status.closed ? v1::COMPLIANCE_STATE_SHORT : v1::COMPLIANCE_STATE_OUTSTANDING;
}

void to_proto(const engine::ComplianceRecord& in, v1::ComplianceStatus& out) {
  out.set_participant_id(in.participant);
  out.set_compliance_year(in.status.year);
  out.set_sector(in.sector);
  out.set_state(state_of(in));
  out.set_verified_emissions(in.status.obligation.value);
  out.set_obligation(in.status.obligation.value);
  out.set_surrendered_allowances(in.status.surrendered_allowances.value);
  out.set_surrendered_ccer(in.status.surrendered_ccer.value);
  out.set_ccer_limit(registry::ccer_offset_cap(in.status.obligation, registry::RegistryRules{}.ccer_offset_cap_percent).value);
  out.set_outstanding(in.status.shortfall.value);
  if (in.status.closed && in.status.shortfall.is_positive()) {
    out.set_penalty_basis_price_fen(in.penalty_basis.value);
    out.set_penalty_multiplier(in.penalty_multiple);
    out.set_penalty_fen(in.penalty.value);
    out.set_allocation_deduction(in.status.shortfall.value);
  }
  out.set_sequence(in.sequence);
}

void to_proto(const engine::FreezeView& in, v1::HoldingFreeze& out) {
  out.set_freeze_id(in.record.id);
  out.set_holding_account_id(in.record.account);
  out.set_instrument(in.record.instrument);
  out.set_quantity(in.record.quantity.value);
  out.set_remaining_quantity(in.remaining.value);
  out.set_reason(in.record.reason);
  out.set_legal_reference(in.legal_reference);
  out.set_placed_by_role(static_cast<v1::Role>(in.placed_by));
  out.set_status(in.active() ? v1::FREEZE_STATUS_ACTIVE : v1::FREEZE_STATUS_LIFTED);
  out.set_placed_at_unix_nanos(in.record.frozen_at);
  out.set_lifted_at_unix_nanos(in.lifted_at);
  out.set_sequence(in.sequence);
}

engine::Freeze freeze_command(const v1::FreezeRequest& r) {
  return engine::Freeze{r.holding_account_id(), r.instrument(), Qty{r.quantity()}, r.reason(), r.legal_reference(),
                        r.idempotency_key()};
}

engine::Unfreeze unfreeze_command(const v1::UnfreezeRequest& r) {
  return engine::Unfreeze{r.freeze_id(), Qty{r.quantity()}, r.reason(), r.idempotency_key()};
}

Status fill_freeze(const engine::Reply& reply, v1::HoldingFreeze& freeze, v1::Holding& holding) {
  if (!reply.freezes.empty()) to_proto(reply.freezes.front(), freeze);
  if (!reply.holdings.empty()) to_proto(reply.holdings.front(), holding);
  return Status::ok();
}

Status check_freeze_status(v1::FreezeStatus status) {
  return v1::FreezeStatus_IsValid(status) ? Status::ok() : invalid_argument("unknown freeze status");
}

std::string freeze_filters(const v1::ListFreezesRequest& r) {
  return std::to_string(r.holding_account_id()) + "|" + r.instrument() + "|" + std::to_string(r.status());
}

v1::LedgerEntryKind kind_to_wire(registry::TransferKind kind) {
  switch (kind) {
    case registry::TransferKind::issuance: return v1::LEDGER_ENTRY_KIND_ISSUANCE;
    case registry::TransferKind::allocation: return v1::LEDGER_ENTRY_KIND_ALLOCATION;
    case registry::TransferKind::ccer_issuance: return v1::LEDGER_ENTRY_KIND_CCER_ISSUANCE;
    case registry::TransferKind::trade: return v1::LEDGER_ENTRY_KIND_TRADE;
    case registry::TransferKind::surrender: return v1::LEDGER_ENTRY_KIND_SURRENDER;
    case registry::TransferKind::retirement: return v1::LEDGER_ENTRY_KIND_RETIREMENT;
    case registry::TransferKind::correction:  // a correction is a transfer whose reason names the corrected entry
    case registry::TransferKind::transfer: return v1::LEDGER_ENTRY_KIND_TRANSFER;
    case registry::TransferKind::freeze: return v1::LEDGER_ENTRY_KIND_FREEZE;
    case registry::TransferKind::unfreeze: return v1::LEDGER_ENTRY_KIND_UNFREEZE;
    case registry::TransferKind::pledge: return v1::LEDGER_ENTRY_KIND_PLEDGE;
    case registry::TransferKind::pledge_release: return v1::LEDGER_ENTRY_KIND_PLEDGE_RELEASE;
    case registry::TransferKind::pledge_enforcement: return v1::LEDGER_ENTRY_KIND_PLEDGE_ENFORCEMENT;
    case registry::TransferKind::repo_first_leg: return v1::LEDGER_ENTRY_KIND_REPO_FIRST_LEG;
    case registry::TransferKind::repo_second_leg: return v1::LEDGER_ENTRY_KIND_REPO_SECOND_LEG;
  }
  return v1::LEDGER_ENTRY_KIND_UNSPECIFIED;
}

void to_proto(const registry::LedgerEntry& in, v1::LedgerEntry& out) {
  out.set_ledger_entry_id(in.entry_id);
  out.set_kind(kind_to_wire(in.kind));
  out.set_instrument(in.instrument);
  out.set_quantity(in.quantity.value);
  out.set_from_holding_account_id(in.from_account);
  out.set_to_holding_account_id(in.to_account);
  out.set_reason(in.reference);
  out.set_sequence(in.sequence);
  out.set_recorded_at_unix_nanos(in.recorded_at);
  out.set_prev_hash(std::string(in.prev_hash.begin(), in.prev_hash.end()));
  out.set_hash(std::string(in.hash.begin(), in.hash.end()));
  const std::vector<std::uint8_t> bytes = registry::canonical_bytes(in);
  out.set_canonical_bytes(std::string(bytes.begin(), bytes.end()));
}

// Freeze, Unfreeze and ListFreezes are served alike by RegistryService and
// RegulatorService; `method` names the caller's RPC for the authorization table.
grpc::ServerUnaryReactor* freeze_call(ServiceContext& context, grpc::CallbackServerContext* ctx,
                                      std::string_view method, const v1::FreezeRequest* request,
                                      v1::FreezeResponse* response) {
  return dispatch_checked(
      context, ctx, method, response, Status::ok(),
      [&](const engine::Principal&) { return engine::CommandBody{freeze_command(*request)}; },
      [](const engine::Reply& reply, v1::FreezeResponse& out) {
        out.set_ledger_entry_id(reply.ledger_entry_id);
        out.set_sequence(reply.sequence);
        return fill_freeze(reply, *out.mutable_freeze(), *out.mutable_holding());
      },
      request);
}

grpc::ServerUnaryReactor* unfreeze_call(ServiceContext& context, grpc::CallbackServerContext* ctx,
                                        std::string_view method, const v1::UnfreezeRequest* request,
                                        v1::UnfreezeResponse* response) {
  return dispatch_checked(
      context, ctx, method, response, Status::ok(),
      [&](const engine::Principal&) { return engine::CommandBody{unfreeze_command(*request)}; },
      [](const engine::Reply& reply, v1::UnfreezeResponse& out) {
        out.set_ledger_entry_id(reply.ledger_entry_id);
        out.set_sequence(reply.sequence);
        return fill_freeze(reply, *out.mutable_freeze(), *out.mutable_holding());
      },
      request);
}

grpc::ServerUnaryReactor* list_freezes_call(ServiceContext& context, grpc::CallbackServerContext* ctx,
                                            std::string_view method, const v1::ListFreezesRequest* request,
                                            v1::ListFreezesResponse* response) {
  Page page;
  Status precheck = check_freeze_status(request->status());
  if (precheck.is_ok()) precheck = parse_page(request->page_size(), request->page_token(), freeze_filters(*request), page);
  return dispatch_checked(
      context, ctx, method, response, std::move(precheck),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::ListFreezes{request->holding_account_id(), request->instrument(),
                                                       static_cast<int>(request->status())}};
      },
      [page](const engine::Reply& reply, v1::ListFreezesResponse& out) {
        out.set_next_page_token(fill_page(reply.freezes, page, out.mutable_freezes(),
                                          [](const engine::FreezeView& f, v1::HoldingFreeze& o) { to_proto(f, o); }));
        return Status::ok();
      },
      request);
}

}  // namespace

// ---- RegistryService ---------------------------------------------------------

grpc::ServerUnaryReactor* RegistryService::SetCap(grpc::CallbackServerContext* ctx, const v1::SetCapRequest* request,
                                                  v1::Cap* response) {
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegistryService/SetCap", response, Status::ok(),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::SetCap{request->compliance_year(), request->sector(),
                                                  Qty{request->cap_quantity()}, request->paid_share_bps(),
                                                  request->reason()}};
      },
      [](const engine::Reply& reply, v1::Cap& out) {
        if (!reply.caps.empty()) to_proto(reply.caps.front(), out);
        return Status::ok();
      },
      request);
}

grpc::ServerUnaryReactor* RegistryService::ListCaps(grpc::CallbackServerContext* ctx,
                                                    const v1::ListCapsRequest* request, v1::ListCapsResponse* response) {
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegistryService/ListCaps", response, Status::ok(),
      [&](const engine::Principal&) { return engine::CommandBody{engine::ListCaps{request->compliance_year()}}; },
      [](const engine::Reply& reply, v1::ListCapsResponse& out) {
        for (const auto& cap : reply.caps) to_proto(cap, *out.add_caps());
        return Status::ok();
      },
      request);
}

grpc::ServerUnaryReactor* RegistryService::AllocateFree(grpc::CallbackServerContext* ctx,
                                                        const v1::AllocateFreeRequest* request,
                                                        v1::Allocation* response) {
  Status precheck;
  engine::AllocateFree command;
  command.year = request->compliance_year();
  command.sector = request->sector();
  command.participant = request->participant_id();
  command.instrument = request->instrument();
  command.reason = request->reason();
  command.idempotency_key = request->idempotency_key();
  if (request->has_direct()) {
    command.direct = Qty{request->direct().quantity()};
    if (!command.direct.is_positive()) precheck = invalid_argument("direct quantity must be positive");
  } else if (request->has_benchmark()) {
    const v1::BenchmarkAllocation& b = request->benchmark();
    registry::AllocationFormula formula{b.output(), b.benchmark_micro_tonnes(), {}};
    for (const v1::AdjustmentFactor& factor : b.factors()) {
      // The registry computes factors in parts per 10,000 (allocation.h): a finer factor would be rounded.
      if (factor.factor_ppm() <= 0 || factor.factor_ppm() % 100 != 0) {
        precheck = invalid_argument("factor_ppm must be positive and a multiple of 100 (parts per 10,000)");
      }
      formula.factors_per_10000.push_back(factor.factor_ppm() / 100);
    }
    command.formula = std::move(formula);
    command.output_unit = b.output_unit();
  }
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegistryService/AllocateFree", response, std::move(precheck),
      [&](const engine::Principal&) { return engine::CommandBody{std::move(command)}; },
      [](const engine::Reply& reply, v1::Allocation& out) {
        if (!reply.allocations.empty()) to_proto(reply.allocations.front(), out);
        return Status::ok();
      },
      request);
}

grpc::ServerUnaryReactor* RegistryService::ListAllocations(grpc::CallbackServerContext* ctx,
                                                           const v1::ListAllocationsRequest* request,
                                                           v1::ListAllocationsResponse* response) {
  Page page;
  Status precheck = parse_page(request->page_size(), request->page_token(),
                               std::to_string(request->compliance_year()) + "|" +
                                   std::to_string(request->participant_id()) + "|" + request->sector(),
                               page);
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegistryService/ListAllocations", response, std::move(precheck),
      [&](const engine::Principal&) {
        return engine::CommandBody{
            engine::ListAllocations{request->compliance_year(), request->participant_id(), request->sector()}};
      },
      [page](const engine::Reply& reply, v1::ListAllocationsResponse& out) {
        out.set_next_page_token(fill_page(reply.allocations, page, out.mutable_allocations(),
                                          [](const engine::AllocationRecord& a, v1::Allocation& o) { to_proto(a, o); }));
        return Status::ok();
      },
      request);
}

grpc::ServerUnaryReactor* RegistryService::RecordVerifiedEmissions(grpc::CallbackServerContext* ctx,
                                                                   const v1::RecordVerifiedEmissionsRequest* request,
                                                                   v1::ComplianceStatus* response) {
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegistryService/RecordVerifiedEmissions", response, Status::ok(),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::RecordVerifiedEmissions{
            request->participant_id(), request->compliance_year(), request->sector(),
            Qty{request->verified_emissions()}, request->verifier(), request->report_reference(), request->reason(),
            request->idempotency_key()}};
      },
      [](const engine::Reply& reply, v1::ComplianceStatus& out) {
        if (!reply.compliance.empty()) to_proto(reply.compliance.front(), out);
        return Status::ok();
      },
      request);
}

grpc::ServerUnaryReactor* RegistryService::Surrender(grpc::CallbackServerContext* ctx,
                                                     const v1::SurrenderRequest* request,
                                                     v1::SurrenderResponse* response) {
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegistryService/Surrender", response, Status::ok(),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::Surrender{request->participant_id(), request->compliance_year(),
                                                     request->instrument(), Qty{request->quantity()},
                                                     request->idempotency_key()}};
      },
      [](const engine::Reply& reply, v1::SurrenderResponse& out) {
        if (!reply.compliance.empty()) to_proto(reply.compliance.front(), *out.mutable_status());
        if (!reply.holdings.empty()) to_proto(reply.holdings.front(), *out.mutable_holding());
        out.set_ledger_entry_id(reply.ledger_entry_id);
        out.set_sequence(reply.sequence);
        return Status::ok();
      },
      request);
}

grpc::ServerUnaryReactor* RegistryService::GetComplianceStatus(grpc::CallbackServerContext* ctx,
                                                               const v1::GetComplianceStatusRequest* request,
                                                               v1::ComplianceStatus* response) {
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegistryService/GetComplianceStatus", response, Status::ok(),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::GetComplianceStatus{request->participant_id(), request->compliance_year()}};
      },
      [](const engine::Reply& reply, v1::ComplianceStatus& out) {
        if (!reply.compliance.empty()) to_proto(reply.compliance.front(), out);
        return Status::ok();
      },
      request);
}

grpc::ServerUnaryReactor* RegistryService::CloseComplianceYear(grpc::CallbackServerContext* ctx,
                                                               const v1::CloseComplianceYearRequest* request,
                                                               v1::CloseComplianceYearResponse* response) {
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegistryService/CloseComplianceYear", response, Status::ok(),
      [&](const engine::Principal&) {
        return engine::CommandBody{
            engine::CloseComplianceYear{request->compliance_year(), Price{request->penalty_basis_price_fen()}}};
      },
      [year = request->compliance_year()](const engine::Reply& reply, v1::CloseComplianceYearResponse& out) {
        v1::ComplianceYear& closed = *out.mutable_year();
        closed.set_compliance_year(year);
        closed.set_ccer_limit_bps(registry::RegistryRules{}.ccer_offset_cap_percent * 100);
        closed.set_penalty_multiplier(reply.penalty_multiple);
        if (!reply.compliance_years.empty()) {
          closed.set_deadline_unix_nanos(reply.compliance_years.front().deadline);
          closed.set_early_warning_threshold_bps(reply.compliance_years.front().early_warning_threshold_bps);
        }
        closed.set_closed(true);
        closed.set_sequence(reply.sequence);
        out.set_penalty_basis_price_fen(reply.penalty_basis.value);
        std::uint32_t compliant = 0, short_count = 0;
        std::int64_t total_shortfall = 0;
        for (const engine::ComplianceRecord& record : reply.compliance) {
          if (record.status.shortfall.is_zero()) {
            ++compliant;
            continue;
          }
          ++short_count;
          total_shortfall += record.status.shortfall.value;
          to_proto(record, *out.add_short_units());
        }
        out.set_compliant_count(compliant);
        out.set_short_count(short_count);
        out.set_total_shortfall(total_shortfall);
        out.set_sequence(reply.sequence);
        return Status::ok();
      },
      request);
}

grpc::ServerUnaryReactor* RegistryService::Freeze(grpc::CallbackServerContext* ctx, const v1::FreezeRequest* request,
    v1::FreezeResponse* response) {
  return freeze_call(context_, ctx, "carbon.v1.RegistryService/Freeze", request, response);
}

grpc::ServerUnaryReactor* RegistryService::Unfreeze(grpc::CallbackServerContext* ctx, const v1::UnfreezeRequest* request,
    v1::UnfreezeResponse* response) {
  return unfreeze_call(context_, ctx, "carbon.v1.RegistryService/Unfreeze", request, response);
}

grpc::ServerUnaryReactor* RegistryService::ListFreezes(grpc::CallbackServerContext* ctx, const v1::ListFreezesRequest* request,
    v1::ListFreezesResponse* response) {
  return list_freezes_call(context_, ctx, "carbon.v1.RegistryService/ListFreezes", request, response);
}

grpc::ServerUnaryReactor* RegistryService::Transfer(grpc::CallbackServerContext* ctx,
                                                    const v1::TransferRequest* request, v1::TransferResponse* response) {
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegistryService/Transfer", response, Status::ok(),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::TransferUnits{request->from_holding_account_id(),
                                                         request->to_holding_account_id(), request->instrument(),
                                                         Qty{request->quantity()}, request->reason(),
                                                         request->idempotency_key()}};
      },
      [](const engine::Reply& reply, v1::TransferResponse& out) {
        if (reply.holdings.size() == 2) {
          to_proto(reply.holdings[0], *out.mutable_from_holding());
          to_proto(reply.holdings[1], *out.mutable_to_holding());
        }
        out.set_ledger_entry_id(reply.ledger_entry_id);
        out.set_sequence(reply.sequence);
        return Status::ok();
      },
      request);
}

grpc::ServerUnaryReactor* RegistryService::ListSystemAccounts(grpc::CallbackServerContext* ctx,
                                                              const v1::ListSystemAccountsRequest* request,
                                                              v1::ListSystemAccountsResponse* response) {
  // Constants of the registry: answered here, without the engine.
  DirectRead read(context_, ctx, "carbon.v1.RegistryService/ListSystemAccounts", request, DirectRead::Source::constants);
  const Status& s = read.admitted();
  if (s.is_ok()) {
    const std::pair<AccountId, const char*> accounts[] = {{registry::kIssuanceAccount, "issuance"},
                                                          {registry::kReserveAccount, "reserve"},
                                                          {registry::kAuctionAccount, "auction"},
                                                          {registry::kSurrenderAccount, "surrender"},
                                                          {registry::kCancellationAccount, "cancellation"}};
    for (const auto& [id, name] : accounts) {
      v1::SystemAccount& account = *response->add_accounts();
      account.set_holding_account_id(id);
      account.set_kind(static_cast<v1::SystemAccountKind>(id));  // kinds are numbered like the accounts
      account.set_name(name);
    }
  }
  return read.finish(s);
}

grpc::ServerUnaryReactor* RegistryService::GetHoldings(grpc::CallbackServerContext* ctx,
                                                       const v1::GetHoldingsRequest* request,
                                                       v1::GetHoldingsResponse* response) {
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegistryService/GetHoldings", response, Status::ok(),
      [&](const engine::Principal&) { return engine::CommandBody{engine::GetHoldings{request->holding_account_id()}}; },
      [](const engine::Reply& reply, v1::GetHoldingsResponse& out) {
        for (const auto& holding : reply.holdings) {
          if (!holding.holding.total().is_zero()) to_proto(holding, *out.add_holdings());
        }
        return Status::ok();
      },
      request);
}

// ---- RegulatorService ----------------------------------------------------------

grpc::ServerUnaryReactor* RegulatorService::GetComplianceStatus(grpc::CallbackServerContext* ctx,
                                                                const v1::GetComplianceStatusRequest* request,
                                                                v1::ComplianceStatus* response) {
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegulatorService/GetComplianceStatus", response, Status::ok(),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::GetComplianceStatus{request->participant_id(), request->compliance_year()}};
      },
      [](const engine::Reply& reply, v1::ComplianceStatus& out) {
        if (!reply.compliance.empty()) to_proto(reply.compliance.front(), out);
        return Status::ok();
      },
      request);
}

grpc::ServerUnaryReactor* RegulatorService::ListComplianceStatuses(grpc::CallbackServerContext* ctx,
                                                                   const v1::ListComplianceStatusesRequest* request,
                                                                   v1::ListComplianceStatusesResponse* response) {
  Page page;
  Status precheck = v1::ComplianceState_IsValid(request->state()) ? Status::ok()
                                                                  : invalid_argument("unknown compliance state");
  if (precheck.is_ok()) {
    precheck = parse_page(request->page_size(), request->page_token(),
                          std::to_string(request->compliance_year()) + "|" + std::to_string(request->state()) + "|" +
                              request->sector(),
                          page);
  }
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegulatorService/ListComplianceStatuses", response, std::move(precheck),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::ListComplianceStatuses{request->compliance_year()}};
      },
      [page, state = request->state(), sector = request->sector()](const engine::Reply& reply,
                                                                     v1::ListComplianceStatusesResponse& out) {
        std::vector<engine::ComplianceRecord> matching;
        for (const engine::ComplianceRecord& record : reply.compliance) {
          if (state != v1::COMPLIANCE_STATE_UNSPECIFIED && state_of(record) != state) continue;
          if (!sector.empty() && record.sector != sector) continue;
          matching.push_back(record);
        }
        std::sort(matching.begin(), matching.end(),
                  [](const engine::ComplianceRecord& a, const engine::ComplianceRecord& b) {
                    return a.participant < b.participant;
                  });
        out.set_next_page_token(fill_page(matching, page, out.mutable_statuses(),
                                          [](const engine::ComplianceRecord& r, v1::ComplianceStatus& o) {
                                            to_proto(r, o);
                                          }));
        return Status::ok();
      },
      request);
}

grpc::ServerUnaryReactor* RegulatorService::Freeze(grpc::CallbackServerContext* ctx, const v1::FreezeRequest* request,
    v1::FreezeResponse* response) {
  return freeze_call(context_, ctx, "carbon.v1.RegulatorService/Freeze", request, response);
}

grpc::ServerUnaryReactor* RegulatorService::Unfreeze(grpc::CallbackServerContext* ctx, const v1::UnfreezeRequest* request,
    v1::UnfreezeResponse* response) {
  return unfreeze_call(context_, ctx, "carbon.v1.RegulatorService/Unfreeze", request, response);
}

grpc::ServerUnaryReactor* RegulatorService::ListFreezes(grpc::CallbackServerContext* ctx, const v1::ListFreezesRequest* request,
    v1::ListFreezesResponse* response) {
  return list_freezes_call(context_, ctx, "carbon.v1.RegulatorService/ListFreezes", request, response);
}

}  // namespace carbon::server

namespace carbon::server {

grpc::ServerUnaryReactor* RegulatorService::ListLedgerEntries(grpc::CallbackServerContext* ctx,
                                                              const v1::ListLedgerEntriesRequest* request,
                                                              v1::ListLedgerEntriesResponse* response) {
  DirectRead read(context_, ctx, "carbon.v1.RegulatorService/ListLedgerEntries", request);
  Status s = read.admitted();
  store::LedgerFilter filter;
  filter.account = request->holding_account_id();
  filter.instrument = request->instrument();
  filter.from = request->from_unix_nanos();
  filter.to = request->to_unix_nanos();
  const std::string filters = std::to_string(filter.account) + "|" + filter.instrument + "|" +
                              std::to_string(filter.from) + "|" + std::to_string(filter.to) + "|" +
                              std::to_string(request->kind());
  if (s.is_ok() && filter.from != 0 && filter.to != 0 && filter.from > filter.to) {
    s = invalid_argument("from_unix_nanos is after to_unix_nanos");
  }
  if (s.is_ok() && !v1::LedgerEntryKind_IsValid(request->kind())) s = invalid_argument("unknown ledger entry kind");
  if (s.is_ok() && !filter.instrument.empty() && !context_.knows_instrument(filter.instrument)) {
    s = not_found("unknown instrument \"" + filter.instrument + "\"");
  }
  if (s.is_ok() && request->kind() != v1::LEDGER_ENTRY_KIND_UNSPECIFIED) {
    for (int k = 1; k <= 15; ++k) {
      const auto kind = static_cast<registry::TransferKind>(k);
      if (kind_to_wire(kind) == request->kind()) filter.kinds.push_back(kind);
    }
    if (filter.kinds.empty()) filter.kinds.push_back(static_cast<registry::TransferKind>(255));  // none recorded yet
  }
  // The page token is the last entry id returned, bound to the filters.
  Page page;
  if (s.is_ok()) s = parse_page(request->page_size(), request->page_token(), filters, page);
  filter.after_entry_id = page.offset;
  filter.limit = page.size + 1;  // one more: another page follows only if it is there
  std::vector<registry::LedgerEntry> entries;
  if (s.is_ok()) s = store::list_ledger_entries(context_.ledger_conninfo, filter, entries);
  if (s.is_ok()) {
    response->set_next_page_token(fill_keyset_page(
        entries, page, response->mutable_entries(),
        [](const registry::LedgerEntry& e, v1::LedgerEntry& out) { to_proto(e, out); },
        [](const registry::LedgerEntry& e) { return e.entry_id; }));
  }
  return read.finish(std::move(s));
}

grpc::ServerUnaryReactor* RegulatorService::VerifyLedger(grpc::CallbackServerContext* ctx,
                                                         const v1::VerifyLedgerRequest* request,
                                                         v1::VerifyLedgerResponse* response) {
  DirectRead read(context_, ctx, "carbon.v1.RegulatorService/VerifyLedger", request);
  Status s = read.admitted();
  store::LedgerVerificationReport report;
  if (s.is_ok()) {
    s = store::verify_ledger(context_.ledger_conninfo, request->from_ledger_entry_id(), request->to_ledger_entry_id(),
                             request->holding_account_id(), report);
  }
  if (s.is_ok()) {
    response->set_valid(report.valid);
    response->set_entries_checked(report.entries_checked);
    response->set_first_ledger_entry_id(report.first_entry_id);
    response->set_last_ledger_entry_id(report.last_entry_id);
    response->set_last_hash(std::string(report.last_hash.begin(), report.last_hash.end()));
    response->set_first_bad_ledger_entry_id(report.first_bad_entry_id);
    response->set_failure(report.failure);
  }
  return read.finish(std::move(s));
}

}  // namespace carbon::server

namespace carbon::server {

grpc::ServerUnaryReactor* RegulatorService::ListEarlyWarnings(grpc::CallbackServerContext* ctx,
                                                              const v1::ListEarlyWarningsRequest* request,
                                                              v1::ListEarlyWarningsResponse* response) {
  Page page;
  Status precheck = parse_page(request->page_size(), request->page_token(),
                               std::to_string(request->compliance_year()) + "|" +
                                   std::to_string(request->threshold_bps()),
                               page);
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegulatorService/ListEarlyWarnings", response, std::move(precheck),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::ListEarlyWarnings{request->compliance_year(), request->threshold_bps()}};
      },
      [page](const engine::Reply& reply, v1::ListEarlyWarningsResponse& out) {
        out.set_threshold_bps(reply.threshold_bps);
        out.set_as_of_sequence(reply.sequence);
        out.set_next_page_token(fill_page(reply.early_warnings, page, out.mutable_warnings(),
                                          [](const engine::EarlyWarningRecord& w, v1::EarlyWarning& o) {
                                            o.set_participant_id(w.participant);
                                            o.set_participant_name(w.name);
                                            o.set_sector(w.sector);
                                            o.set_expected_obligation(w.obligation.value);
                                            o.set_basis(v1::OBLIGATION_BASIS_VERIFIED_EMISSIONS);
                                            o.set_surrendered(w.surrendered.value);
                                            o.set_eligible_holdings(w.eligible.value);
                                            o.set_open_buy_quantity(w.open_buys.value);
                                            o.set_coverage_bps(w.coverage_bps);
                                          }));
        return Status::ok();
      },
      request);
}

}  // namespace carbon::server
