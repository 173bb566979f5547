// Clearing RPCs: AdminService.GetReconciliation and
// RegulatorService.ListSurveillanceAlerts, answered by the engine after every
// earlier command has committed; TradingService.GetStatement, read from
// PostgreSQL on the gRPC thread (store::read_statement): the engine keeps only
// each participant's latest statement, the opening of its next one.
#include <algorithm>
#include <cstdio>

#include "matching/trading_rules.h"
#include "server/dispatch.h"
#include "server/paging.h"
#include "store/clearing_rows.h"

namespace carbon::server {
namespace {

using server::to_proto;  // the shared conversions of convert.h, next to the ones below


void to_proto(const engine::AlertRecord& in, v1::SurveillanceAlert& out) {
  out.set_alert_id(in.id);
  out.set_type(static_cast<v1::AlertType>(in.type));
  out.set_severity(static_cast<v1::AlertSeverity>(in.severity));
  out.set_instrument(in.instrument);
  for (ParticipantId p : in.participants) out.add_participant_ids(p);
  out.set_description(in.description);
  out.set_metric_value(in.metric_value);
  out.set_threshold_value(in.threshold_value);
  out.set_metric_unit(in.metric_unit);
  out.set_window_start_unix_nanos(in.window_start);
  out.set_window_end_unix_nanos(in.window_end);
  out.set_detected_at_unix_nanos(in.detected_at);
  out.set_sequence(in.sequence);
}

void to_proto(const engine::StatementRecord& in, v1::Statement& out) {
  out.set_participant_id(in.participant);
  out.set_trading_date(in.trading_date);
  out.set_opening_cash_fen(in.opening_cash.value);
  out.set_deposits_fen(in.deposits.value);
  out.set_withdrawals_fen(in.withdrawals.value);
  out.set_bought_value_fen(in.bought_value.value);
  out.set_sold_value_fen(in.sold_value.value);
  out.set_fees_fen(in.fees.value);
  to_proto(engine::CashRecord{in.cash_account, in.participant, in.closing_cash}, *out.mutable_closing_cash());
  for (const engine::StatementLine& l : in.lines) {
    v1::StatementInstrumentLine& line = *out.add_lines();
    line.set_instrument(l.instrument);
    line.set_opening_quantity(l.opening.value);
    line.set_bought_quantity(l.bought.value);
    line.set_sold_quantity(l.sold.value);
    line.set_received_quantity(l.received.value);
    line.set_delivered_quantity(l.delivered.value);
    to_proto(registry::HoldingRecord{in.holding_account, l.instrument, l.closing}, *line.mutable_closing_holding());
    line.set_bought_value_fen(l.bought_value.value);
    line.set_sold_value_fen(l.sold_value.value);
    line.set_fees_fen(l.fees.value);
    line.set_closing_price_fen(l.closing_price.value);
  }
  for (const engine::TradeRecord& t : in.trades) to_proto(t, *out.add_trades());
  out.set_generated_at_unix_nanos(in.generated_at);
  out.set_sequence(in.sequence);
}

}  // namespace

void to_proto(const engine::ReconciliationRecord& in, v1::ReconciliationReport& out) {
  out.set_trading_date(in.trading_date);
  out.set_as_of_sequence(in.as_of_sequence);
  v1::CashReconciliation& cash = *out.mutable_cash();
  cash.set_total_deposits_fen(in.cash.deposits.value);
  cash.set_total_withdrawals_fen(in.cash.withdrawals.value);
  cash.set_participant_balances_fen(in.cash.participant_balances.value);
  cash.set_fee_account_fen(in.cash.fee_account.value);
  cash.set_proceeds_account_fen(in.cash.proceeds_account.value);
  cash.set_difference_fen(in.cash.difference.value);
  cash.set_balanced(in.cash.balanced);
  for (const engine::UnitReconciliation& u : in.units) {
    v1::UnitReconciliation& units = *out.add_units();
    units.set_instrument(u.instrument);
    units.set_issued(u.issued.value);
    units.set_participant_holdings(u.participant_holdings.value);
    units.set_reserve_account(u.reserve_account.value);
    units.set_auction_account(u.auction_account.value);
    units.set_surrendered(u.surrendered.value);
    units.set_retired(u.retired.value);
    units.set_difference(u.difference.value);
    units.set_balanced(u.balanced);
  }
  out.set_balanced(in.balanced);
  out.set_computed_at_unix_nanos(in.computed_at);
}

grpc::ServerUnaryReactor* TradingService::GetStatement(grpc::CallbackServerContext* ctx,
                                                       const v1::GetStatementRequest* request,
                                                       v1::GetStatementResponse* response) {
  DirectRead read(context_, ctx, "carbon.v1.TradingService/GetStatement", request);
  Status s = read.admitted();
  const std::string& date = request->trading_date();
  if (s.is_ok() && !date.empty() && !matching::parse_date(date)) s = invalid_argument("trading_date must be YYYY-MM-DD");
  ParticipantId participant = request->participant_id();
  if (s.is_ok()) {
    if (read.principal().role == Role::trader) {
      if (participant != 0 && participant != read.principal().participant) {
        s = permission_denied("a trader reads only its own participant's statements");
      }
      participant = read.principal().participant;
    } else if (participant == 0) {
      s = invalid_argument("participant_id is required for a caller that is not a trader");
    }
  }
  engine::StatementRecord statement;
  if (s.is_ok()) s = store::read_statement(context_.ledger_conninfo, participant, date, statement);
  if (s.is_ok()) to_proto(statement, *response->mutable_statement());
  return read.finish(std::move(s));
}

grpc::ServerUnaryReactor* AdminService::GetReconciliation(grpc::CallbackServerContext* ctx,
                                                          const v1::GetReconciliationRequest* request,
                                                          v1::ReconciliationReport* response) {
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/GetReconciliation", response,
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::GetReconciliation{request->trading_date()}};
      },
      [](const engine::Reply& reply, v1::ReconciliationReport& out) {
        if (reply.reconciliation) to_proto(*reply.reconciliation, out);
      },
      request);
}

grpc::ServerUnaryReactor* RegulatorService::ListSurveillanceAlerts(grpc::CallbackServerContext* ctx,
                                                                   const v1::ListSurveillanceAlertsRequest* request,
                                                                   v1::ListSurveillanceAlertsResponse* response) {
  Page page;
  Status precheck = parse_page(request->page_size(), request->page_token(),
                               std::to_string(request->from_unix_nanos()) + "|" +
                                   std::to_string(request->to_unix_nanos()) + "|" + std::to_string(request->type()) +
                                   "|" + std::to_string(request->min_severity()) + "|" +
                                   std::to_string(request->participant_id()) + "|" + request->instrument(),
                               page);
  if (precheck.is_ok() && !v1::AlertType_IsValid(request->type())) precheck = invalid_argument("unknown alert type");
  if (precheck.is_ok() && !v1::AlertSeverity_IsValid(request->min_severity())) {
    precheck = invalid_argument("unknown alert severity");
  }
  return dispatch_checked(
      context_, ctx, "carbon.v1.RegulatorService/ListSurveillanceAlerts", response, std::move(precheck),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::ListSurveillanceAlerts{
            request->from_unix_nanos(), request->to_unix_nanos(), static_cast<int>(request->type()),
            static_cast<int>(request->min_severity()), request->participant_id(), request->instrument()}};
      },
      [page](const engine::Reply& reply, v1::ListSurveillanceAlertsResponse& out) {
        // Keyset pages, newest first: a token carries the last alert id returned and the next page starts below
        // it, so an alert raised between two requests does not shift the pages (by position it repeated one).
        std::vector<const engine::AlertRecord*> older;
        for (const engine::AlertRecord& alert : reply.alerts) {
          if (page.offset == 0 || alert.id < page.offset) older.push_back(&alert);
        }
        out.set_next_page_token(fill_keyset_page(
            older, page, out.mutable_alerts(), [](const auto* alert, auto& proto) { to_proto(*alert, proto); },
            [](const auto* alert) { return alert->id; }));
        return Status::ok();
      },
      request);
}

}  // namespace carbon::server
