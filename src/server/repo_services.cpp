// RegistryService.RegisterRepo and ListRepos mapped to engine commands
// (src/engine/repo_commands.cpp); ListRepos pages over the engine's full
// answer ("<offset>.<filter hash>"). RegulatorService.GetDisclosureReport
// reads PostgreSQL on the gRPC thread over a read-only connection of its own
// (src/store/disclosure_reader.cpp), never engine state.
#include <string>

#include "server/auth.h"
#include "server/convert.h"
#include "server/dispatch.h"
#include "server/paging.h"
#include "server/services.h"
#include "store/disclosure_reader.h"

namespace carbon::server {
namespace {

void to_proto(const engine::RepoRecord& in, v1::Repo& out) {
  out.set_repo_id(in.id);
  out.set_seller_participant_id(in.seller);
  out.set_buyer_participant_id(in.buyer);
  out.set_instrument(in.instrument);
  out.set_quantity(in.quantity.value);
  out.set_first_leg_price_fen(in.first_leg_price.value);
  out.set_second_leg_price_fen(in.second_leg_price.value);
  out.set_second_leg_date(in.second_leg_date);
  out.set_contract_reference(in.contract_reference);
  out.set_status(static_cast<v1::RepoStatus>(in.status));
  out.set_first_leg_ledger_entry_id(in.first_leg_entry);
  out.set_second_leg_ledger_entry_id(in.second_leg_entry);
  out.set_opened_at_unix_nanos(in.opened_at);
  out.set_closed_at_unix_nanos(in.closed_at);
  out.set_sequence(in.sequence);
}

}  // namespace

grpc::ServerUnaryReactor* RegistryService::RegisterRepo(grpc::CallbackServerContext* ctx,
                                                        const v1::RegisterRepoRequest* request, v1::Repo* response) {
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegistryService/RegisterRepo", response, Status::ok(),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::RegisterRepo{
            request->seller_participant_id(), request->buyer_participant_id(), request->instrument(),
            Qty{request->quantity()}, Price{request->first_leg_price_fen()}, Price{request->second_leg_price_fen()},
            request->second_leg_date(), request->contract_reference(), request->idempotency_key()}};
      },
      [](const engine::Reply& reply, v1::Repo& out) {
        if (!reply.repos.empty()) to_proto(reply.repos.front(), out);
        return Status::ok();
      },
      request);
}

grpc::ServerUnaryReactor* RegistryService::ListRepos(grpc::CallbackServerContext* ctx,
                                                     const v1::ListReposRequest* request,
                                                     v1::ListReposResponse* response) {
  Page page;
  Status precheck =
      v1::RepoStatus_IsValid(request->status()) ? Status::ok() : invalid_argument("unknown repo status");
  if (precheck.is_ok()) {
    precheck = parse_page(request->page_size(), request->page_token(),
                          std::to_string(request->participant_id()) + "|" + std::to_string(request->status()), page);
  }
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegistryService/ListRepos", response, std::move(precheck),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::ListRepos{request->participant_id(), static_cast<int>(request->status())}};
      },
      [page](const engine::Reply& reply, v1::ListReposResponse& out) {
        out.set_next_page_token(fill_page(reply.repos, page, out.mutable_repos(),
                                          [](const auto& repo, v1::Repo& row) { to_proto(repo, row); }));
        return Status::ok();
      },
      request);
}

grpc::ServerUnaryReactor* RegulatorService::GetDisclosureReport(grpc::CallbackServerContext* ctx,
                                                                const v1::GetDisclosureReportRequest* request,
                                                                v1::DisclosureReport* response) {
  DirectRead read(context_, ctx, "carbon.v1.RegulatorService/GetDisclosureReport", request);  // audited for staff
  Status s = read.admitted();
  if (s.is_ok() && request->compliance_year() == 0) s = invalid_argument("compliance_year is required");
  if (s.is_ok() && (request->compliance_year() < 2000 || request->compliance_year() > 2200)) {
    s = invalid_argument("compliance_year must be 2000 to 2200");
  }
  store::DisclosureReport report;
  if (s.is_ok()) s = store::build_disclosure_report(context_.ledger_conninfo, request->compliance_year(), report);
  if (s.is_ok()) {
    response->set_compliance_year(report.year);
    response->set_year_closed(report.closed);
    for (const store::SectorDisclosure& in : report.sectors) {
      v1::SectorDisclosure& out = *response->add_sectors();
      out.set_sector(in.sector);
      out.set_cap_quantity(in.cap);
      out.set_free_allocated(in.free_allocated);
      out.set_verified_emissions(in.verified_emissions);
      out.set_surrendered_allowances(in.surrendered_allowances);
      out.set_surrendered_ccer(in.surrendered_ccer);
      out.set_unit_count(in.unit_count);
      out.set_compliant_count(in.compliant_count);
      out.set_short_count(in.short_count);
      out.set_total_shortfall(in.total_shortfall);
    }
    for (const store::NonCompliantUnit& in : report.non_compliant) {
      v1::NonCompliantUnit& out = *response->add_non_compliant_units();
      out.set_participant_id(in.participant);
      out.set_participant_code(in.code);
      out.set_participant_name(in.name);
      out.set_sector(in.sector);
      out.set_shortfall(in.shortfall);
      out.set_penalty_fen(in.penalty_fen);
    }
    for (const store::MarketDisclosure& in : report.market) {
      v1::MarketDisclosure& out = *response->add_market();
      out.set_instrument(in.instrument);
      out.set_mode(static_cast<v1::TradingMode>(in.mode));
      out.set_volume(in.volume);
      out.set_turnover_fen(in.turnover_fen);
      out.set_trade_count(in.trade_count);
      out.set_average_price_fen(in.average_price_fen);
    }
    response->set_allowances_in_circulation(report.allowances_in_circulation);
    response->set_reserve_balance(report.reserve_balance);
    response->set_auctioned_quantity(report.auctioned_quantity);
    response->set_ccer_issued(report.ccer_issued);
    response->set_ccer_retired(report.ccer_retired);
    response->set_generated_at_unix_nanos(report.as_of_at);
    response->set_as_of_sequence(report.as_of_sequence);
  }
  return read.finish(std::move(s));
}

}  // namespace carbon::server
