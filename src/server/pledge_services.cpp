// RegistryService: compliance-year configuration and pledges mapped to engine
// commands (src/engine/pledge_commands.cpp). ListPledges pages over the
// engine's full answer, with the page token of registry_services.cpp
// ("<offset>.<filter hash>").
#include <algorithm>
#include <cstdio>
#include <string>

#include "engine/validation.h"
#include "server/convert.h"
#include "server/dispatch.h"
#include "server/paging.h"
#include "server/services.h"

namespace carbon::server {
namespace {

using server::to_proto;  // the shared conversions of convert.h, next to the ones below

void to_proto(const engine::ComplianceYearConfig& in, bool closed, v1::ComplianceYear& out) {
  out.set_compliance_year(in.year);
  out.set_deadline_unix_nanos(in.deadline);
  out.set_ccer_limit_bps(in.ccer_limit_bps);
  out.set_penalty_multiplier(in.penalty_multiple);
  out.set_early_warning_threshold_bps(in.early_warning_threshold_bps);
  out.set_closed(closed);
  out.set_sequence(in.sequence);
}

void to_proto(const engine::PledgeView& in, v1::UnitPledge& out) {
  out.set_pledge_id(in.record.id);
  out.set_holding_account_id(in.record.pledgor);
  out.set_pledgor_participant_id(in.pledgor_participant);
  out.set_pledgee_participant_id(in.pledgee_participant);
  out.set_instrument(in.record.instrument);
  out.set_quantity(in.record.quantity.value);
  out.set_released_quantity(in.released.value);
  out.set_enforced_quantity(in.enforced.value);
  out.set_remaining_quantity(in.remaining.value);
  out.set_contract_reference(in.record.reference);
  out.set_status(in.active()          ? v1::PLEDGE_STATUS_ACTIVE
                 : in.last_enforced   ? v1::PLEDGE_STATUS_ENFORCED
                                      : v1::PLEDGE_STATUS_RELEASED);
  out.set_pledged_at_unix_nanos(in.record.pledged_at);
  out.set_closed_at_unix_nanos(in.closed_at);
  out.set_sequence(in.sequence);
}

Status fill_pledge(const engine::Reply& reply, v1::PledgeResponse& out) {
  if (!reply.pledges.empty()) to_proto(reply.pledges.front(), *out.mutable_pledge());
  if (!reply.holdings.empty()) to_proto(reply.holdings.front(), *out.mutable_holding());
  out.set_ledger_entry_id(reply.ledger_entry_id);
  out.set_sequence(reply.sequence);
  return Status::ok();
}

}  // namespace

grpc::ServerUnaryReactor* RegistryService::ConfigureComplianceYear(grpc::CallbackServerContext* ctx,
                                                                   const v1::ConfigureComplianceYearRequest* request,
                                                                   v1::ComplianceYear* response) {
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegistryService/ConfigureComplianceYear", response, Status::ok(),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::ConfigureComplianceYear{
            request->compliance_year(), request->deadline_unix_nanos(), request->ccer_limit_bps(),
            request->penalty_multiplier(), request->early_warning_threshold_bps()}};
      },
      [](const engine::Reply& reply, v1::ComplianceYear& out) {
        if (!reply.compliance_years.empty()) to_proto(reply.compliance_years.front(), false, out);
        return Status::ok();
      },
      request);
}

grpc::ServerUnaryReactor* RegistryService::Pledge(grpc::CallbackServerContext* ctx, const v1::PledgeRequest* request,
                                                  v1::PledgeResponse* response) {
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegistryService/Pledge", response, Status::ok(),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::PledgeUnits{request->holding_account_id(), request->instrument(),
                                                       Qty{request->quantity()}, request->pledgee_participant_id(),
                                                       request->contract_reference(), request->idempotency_key()}};
      },
      fill_pledge,
      request);
}

grpc::ServerUnaryReactor* RegistryService::ReleasePledge(grpc::CallbackServerContext* ctx,
                                                         const v1::ReleasePledgeRequest* request,
                                                         v1::PledgeResponse* response) {
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegistryService/ReleasePledge", response, Status::ok(),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::ReleasePledge{request->pledge_id(), Qty{request->quantity()},
                                                         request->reason(), request->idempotency_key()}};
      },
      fill_pledge,
      request);
}

grpc::ServerUnaryReactor* RegistryService::EnforcePledge(grpc::CallbackServerContext* ctx,
                                                         const v1::EnforcePledgeRequest* request,
                                                         v1::EnforcePledgeResponse* response) {
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegistryService/EnforcePledge", response, Status::ok(),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::EnforcePledge{request->pledge_id(), Qty{request->quantity()},
                                                         request->reason(), request->idempotency_key()}};
      },
      [](const engine::Reply& reply, v1::EnforcePledgeResponse& out) {
        if (!reply.pledges.empty()) to_proto(reply.pledges.front(), *out.mutable_pledge());
        if (reply.holdings.size() > 0) to_proto(reply.holdings[0], *out.mutable_pledgor_holding());
        if (reply.holdings.size() > 1) to_proto(reply.holdings[1], *out.mutable_pledgee_holding());
        out.set_ledger_entry_id(reply.ledger_entry_id);
        out.set_sequence(reply.sequence);
        return Status::ok();
      },
      request);
}

grpc::ServerUnaryReactor* RegistryService::ListPledges(grpc::CallbackServerContext* ctx,
                                                       const v1::ListPledgesRequest* request,
                                                       v1::ListPledgesResponse* response) {
  Page page;
  Status precheck = v1::PledgeStatus_IsValid(request->status()) ? Status::ok()
                                                                 : invalid_argument("unknown pledge status");
  if (precheck.is_ok()) {
    precheck = parse_page(request->page_size(), request->page_token(),
                          std::to_string(request->participant_id()) + "|" + std::to_string(request->status()), page);
  }
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegistryService/ListPledges", response, std::move(precheck),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::ListPledges{request->participant_id(), static_cast<int>(request->status())}};
      },
      [page](const engine::Reply& reply, v1::ListPledgesResponse& out) {
        out.set_next_page_token(fill_page(reply.pledges, page, out.mutable_pledges(),
                                          [](const auto& pledge, v1::UnitPledge& row) { to_proto(pledge, row); }));
        return Status::ok();
      },
      request);
}

}  // namespace carbon::server
