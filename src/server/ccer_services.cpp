// RegistryService's CCER RPCs mapped to engine commands: methodologies,
// projects, issuance, serial blocks, retirement. Paging of list RPCs is done
// here, over the engine's full answer.
#include <map>
#include <string>
#include <utility>

#include "server/convert.h"
#include "server/dispatch.h"
#include "server/paging.h"
#include "server/services.h"

namespace carbon::server {
namespace {

using server::to_proto;  // the shared conversions of convert.h, next to the ones below

void to_proto(const engine::MethodologyRecord& in, v1::Methodology& out) {
  out.set_code(in.code);
  out.set_name(in.name);
  out.set_version(in.version);
  out.set_field(in.field);
  out.set_document_reference(in.document_reference);
  out.set_registered_at_unix_nanos(in.registered_at);
  out.set_sequence(in.sequence);
}

void to_proto(const engine::CcerProjectRecord& in, v1::CcerProject& out) {
  out.set_project_id(in.project.id);
  out.set_project_code(in.project.code);
  out.set_name(in.name);
  out.set_methodology_code(in.project.methodology);
  out.set_owner_participant_id(in.owner);
  out.set_location(in.location);
  out.set_validation_body(in.project.validation_body);
  out.set_validation_report_reference(in.validation_report_reference);
  out.set_public_notice_reference(in.public_notice_reference);
  out.set_crediting_period_start_date(in.crediting_start);
  out.set_crediting_period_end_date(in.crediting_end);
  out.set_issued_quantity(in.issued.value);
  out.set_registered_at_unix_nanos(in.registered_at);
  out.set_sequence(in.sequence);
}

void to_proto(const engine::SerialBlockView& in, v1::SerialBlock& out) {
  out.set_project_code(in.project_code);
  out.set_vintage_year(in.block.vintage);
  out.set_methodology_code(in.methodology);
  out.set_serial_start(in.block.first_serial);
  out.set_serial_end(in.block.last_serial);
  out.set_quantity(static_cast<std::int64_t>(in.block.size()));
  out.set_holding_account_id(in.account);
  out.set_project_id(in.block.project);
}

/// The block's project code and methodology from the projects of the reply.
engine::SerialBlockView view_of(const registry::CcerBlock& block, const engine::Reply& reply) {
  engine::SerialBlockView view{block, 0, {}, {}};
  if (block.project >= 1 && block.project <= reply.projects.size()) {
    const engine::CcerProjectRecord& project = reply.projects[block.project - 1];
    view.project_code = project.project.code;
    view.methodology = project.project.methodology;
  }
  return view;
}

void to_proto(const engine::CcerIssuanceRecord& in, const engine::Reply& reply, v1::CcerIssuance& out) {
  out.set_issuance_id(in.id);
  out.set_project_id(in.block.project);
  to_proto(view_of(in.block, reply), *out.mutable_serials());
  out.set_holding_account_id(in.account);
  out.set_monitoring_period_start_date(in.monitoring_start);
  out.set_monitoring_period_end_date(in.monitoring_end);
  out.set_verification_body(in.verification_body);
  out.set_verification_report_reference(in.verification_report_reference);
  out.set_ledger_entry_id(in.ledger_entry_id);
  out.set_issued_at_unix_nanos(in.at);
  out.set_sequence(in.sequence);
}

void to_proto(const engine::RetirementRecord& in, const engine::Reply& reply, v1::Retirement& out) {
  const registry::Retirement& r = in.retirement;
  out.set_retirement_id(r.id);
  out.set_participant_id(in.participant);
  for (const engine::ParticipantRecord& p : reply.participants) {
    if (p.id == in.participant) out.set_participant_name(p.name);
  }
  out.set_instrument(in.instrument);
  out.set_quantity(r.quantity.value);
  out.set_beneficiary(r.beneficiary);
  out.set_purpose(r.purpose);
  for (const registry::CcerBlock& block : r.blocks) to_proto(view_of(block, reply), *out.add_serials());
  out.set_ledger_entry_id(r.ledger_entry_id);
  out.set_retired_at_unix_nanos(r.retired_at);
  out.set_sequence(in.sequence);
}

}  // namespace

grpc::ServerUnaryReactor* RegistryService::RegisterMethodology(grpc::CallbackServerContext* ctx,
                                                               const v1::RegisterMethodologyRequest* request,
                                                               v1::Methodology* response) {
  return dispatch(
      context_, ctx, "carbon.v1.RegistryService/RegisterMethodology", response,
      [&](const engine::Principal&) {
        engine::MethodologyRecord m;
        m.code = request->code();
        m.name = request->name();
        m.version = request->version();
        m.field = request->field();
        m.document_reference = request->document_reference();
        return engine::CommandBody{engine::RegisterMethodology{std::move(m)}};
      },
      [](const engine::Reply& reply, v1::Methodology& out) {
        if (!reply.methodologies.empty()) to_proto(reply.methodologies.front(), out);
      },
      request);
}

grpc::ServerUnaryReactor* RegistryService::ListMethodologies(grpc::CallbackServerContext* ctx,
                                                             const v1::ListMethodologiesRequest* request,
                                                             v1::ListMethodologiesResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.RegistryService/ListMethodologies", response,
      [](const engine::Principal&) { return engine::CommandBody{engine::ListMethodologies{}}; },
      [](const engine::Reply& reply, v1::ListMethodologiesResponse& out) {
        for (const auto& m : reply.methodologies) to_proto(m, *out.add_methodologies());
      },
      request);
}

grpc::ServerUnaryReactor* RegistryService::RegisterCcerProject(grpc::CallbackServerContext* ctx,
                                                               const v1::RegisterCcerProjectRequest* request,
                                                               v1::CcerProject* response) {
  return dispatch(
      context_, ctx, "carbon.v1.RegistryService/RegisterCcerProject", response,
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::RegisterCcerProject{
            request->project_code(), request->name(), request->methodology_code(), request->owner_participant_id(),
            request->location(), request->validation_body(), request->validation_report_reference(),
            request->public_notice_reference(), request->crediting_period_start_date(),
            request->crediting_period_end_date()}};
      },
      [](const engine::Reply& reply, v1::CcerProject& out) {
        if (!reply.projects.empty()) to_proto(reply.projects.front(), out);
      },
      request);
}

grpc::ServerUnaryReactor* RegistryService::ListCcerProjects(grpc::CallbackServerContext* ctx,
                                                            const v1::ListCcerProjectsRequest* request,
                                                            v1::ListCcerProjectsResponse* response) {
  Page page;
  Status precheck = parse_page(request->page_size(), request->page_token(),
                               request->methodology_code() + "|" + std::to_string(request->owner_participant_id()),
                               page);
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegistryService/ListCcerProjects", response, std::move(precheck),
      [&](const engine::Principal&) {
        return engine::CommandBody{
            engine::ListCcerProjects{request->methodology_code(), request->owner_participant_id()}};
      },
      [page](const engine::Reply& reply, v1::ListCcerProjectsResponse& out) {
        out.set_next_page_token(fill_page(reply.projects, page, out.mutable_projects(),
                                          [](const engine::CcerProjectRecord& p, v1::CcerProject& o) { to_proto(p, o); }));
        return Status::ok();
      },
      request);
}

grpc::ServerUnaryReactor* RegistryService::IssueCcerCredits(grpc::CallbackServerContext* ctx,
                                                            const v1::IssueCcerCreditsRequest* request,
                                                            v1::IssueCcerCreditsResponse* response) {
  Status precheck;
  if (request->project_id() > 0xffffffffULL) precheck = not_found("CCER project " + std::to_string(request->project_id()) + " does not exist");
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegistryService/IssueCcerCredits", response, std::move(precheck),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::IssueCcerCredits{
            static_cast<registry::ProjectId>(request->project_id()), request->vintage_year(),
            Qty{request->quantity()}, request->monitoring_period_start_date(), request->monitoring_period_end_date(),
            request->verification_body(), request->verification_report_reference(), request->idempotency_key()}};
      },
      [](const engine::Reply& reply, v1::IssueCcerCreditsResponse& out) {
        if (!reply.issuances.empty()) to_proto(reply.issuances.front(), reply, *out.mutable_issuance());
        if (!reply.holdings.empty()) to_proto(reply.holdings.front(), *out.mutable_holding());
        return Status::ok();
      },
      request);
}

grpc::ServerUnaryReactor* RegistryService::ListSerialBlocks(grpc::CallbackServerContext* ctx,
                                                            const v1::ListSerialBlocksRequest* request,
                                                            v1::ListSerialBlocksResponse* response) {
  Status precheck;
  if (request->project_id() > 0xffffffffULL) precheck = not_found("CCER project " + std::to_string(request->project_id()) + " does not exist");
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegistryService/ListSerialBlocks", response, std::move(precheck),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::ListSerialBlocks{
            request->holding_account_id(), static_cast<registry::ProjectId>(request->project_id())}};
      },
      [](const engine::Reply& reply, v1::ListSerialBlocksResponse& out) {
        for (const engine::SerialBlockView& block : reply.serial_blocks) to_proto(block, *out.add_blocks());
        return Status::ok();
      },
      request);
}

grpc::ServerUnaryReactor* RegistryService::RetireUnits(grpc::CallbackServerContext* ctx,
                                                       const v1::RetireUnitsRequest* request,
                                                       v1::RetireUnitsResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.RegistryService/RetireUnits", response,
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::RetireUnits{request->participant_id(), request->instrument(),
                                                       Qty{request->quantity()}, request->beneficiary(),
                                                       request->purpose(), request->idempotency_key()}};
      },
      [](const engine::Reply& reply, v1::RetireUnitsResponse& out) {
        if (!reply.retirements.empty()) to_proto(reply.retirements.front(), reply, *out.mutable_retirement());
        if (!reply.holdings.empty()) to_proto(reply.holdings.front(), *out.mutable_holding());
      },
      request);
}

grpc::ServerUnaryReactor* RegistryService::ListRetirements(grpc::CallbackServerContext* ctx,
                                                           const v1::ListRetirementsRequest* request,
                                                           v1::ListRetirementsResponse* response) {
  Page page;
  // "id|": the cursor is a retirement id (it used to be a position): a token of the old kind is refused.
  Status precheck = parse_page(request->page_size(), request->page_token(),
                               "id|" + request->instrument() + "|" + std::to_string(request->participant_id()) + "|" +
                                   std::to_string(request->from_unix_nanos()) + "|" +
                                   std::to_string(request->to_unix_nanos()),
                               page);
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegistryService/ListRetirements", response, std::move(precheck),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::ListRetirements{request->instrument(), request->participant_id(),
                                                           request->from_unix_nanos(), request->to_unix_nanos()}};
      },
      [page](const engine::Reply& reply, v1::ListRetirementsResponse& out) {
        // Keyset pages, newest first: a token carries the last retirement id returned and the next page starts
        // below it, so a retirement recorded between two requests does not shift the pages (by position it
        // repeated one).
        std::vector<const engine::RetirementRecord*> older;
        for (const engine::RetirementRecord& r : reply.retirements) {
          if (page.offset == 0 || r.retirement.id < page.offset) older.push_back(&r);
        }
        out.set_next_page_token(fill_keyset_page(
            older, page, out.mutable_retirements(),
            [&reply](const engine::RetirementRecord* r, v1::Retirement& o) { to_proto(*r, reply, o); },
            [](const engine::RetirementRecord* r) { return r->retirement.id; }));
        return Status::ok();
      },
      request);
}

}  // namespace carbon::server
