// AdminService: CreateInstrument, UpdateInstrumentRules and GetAccountBalances.
#include "server/dispatch.h"
#include "server/market_feed.h"

namespace carbon::server {
namespace {

engine::InstrumentRulesInput rules_from(const google::protobuf::RepeatedPtrField<v1::ModeRules>& modes, bool gtc,
                                        const google::protobuf::RepeatedField<int>& eligible,
                                        std::int64_t position_limit) {
  engine::InstrumentRulesInput out;
  for (const v1::ModeRules& m : modes) {
    engine::ModeRulesInput rules;
    rules.mode = m.mode();
    rules.enabled = m.enabled();
    rules.min_quantity = m.min_order_quantity();
    rules.max_quantity = m.max_order_quantity();
    rules.band_bps = m.price_band_bps();
    for (const v1::TradingSession& session : m.sessions()) {
      rules.sessions.emplace_back(std::int64_t{session.start_minute()}, std::int64_t{session.end_minute()});
    }
    rules.buy_fee_bps = m.buy_fee_bps();
    rules.sell_fee_bps = m.sell_fee_bps();
    out.mode_rules.push_back(std::move(rules));
  }
  out.gtc_enabled = gtc;
  out.eligible.assign(eligible.begin(), eligible.end());
  out.position_limit = position_limit;
  return out;
}

void fill_instrument(const engine::Reply& reply, v1::Instrument& out) {
  if (!reply.instruments.empty()) instrument_to_proto(reply, 0, out);
}

}  // namespace

bool ServiceContext::knows_instrument(const std::string& code) const {
  if (feed != nullptr) return feed->knows(code);
  for (const InstrumentConfig& instrument : config.instruments) {
    if (instrument.code == code) return true;
  }
  return false;
}

grpc::ServerUnaryReactor* AdminService::GetAccountBalances(grpc::CallbackServerContext* ctx,
                                                           const v1::GetAccountBalancesRequest* request,
                                                           v1::GetAccountBalancesResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/GetAccountBalances", response,
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::GetAccountBalances{request->participant_id()}};
      },
      [](const engine::Reply& reply, v1::GetAccountBalancesResponse& out) {
        if (!reply.participants.empty()) to_proto(reply.participants.front(), *out.mutable_participant());
        fill_balances(reply, out);
      },
      request);  // a staff read: audited before it is answered (dispatch.h)
}

grpc::ServerUnaryReactor* AdminService::CreateInstrument(grpc::CallbackServerContext* ctx,
                                                         const v1::CreateInstrumentRequest* request,
                                                         v1::Instrument* response) {
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/CreateInstrument", response,
      [&](const engine::Principal&) {
        engine::CreateInstrument command;
        command.code = request->code();
        command.market = request->market();
        command.vintage_year = request->vintage_year();
        command.tick_fen = request->tick_fen();
        command.lot = request->lot();
        command.rules = rules_from(request->mode_rules(), request->gtc_enabled(),
                                   request->eligible_participant_types(), request->position_limit());
        command.reference_price_fen = request->reference_price_fen();
        return engine::CommandBody{std::move(command)};
      },
      fill_instrument, request);
}

grpc::ServerUnaryReactor* AdminService::UpdateInstrumentRules(grpc::CallbackServerContext* ctx,
                                                              const v1::UpdateInstrumentRulesRequest* request,
                                                              v1::Instrument* response) {
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/UpdateInstrumentRules", response,
      [&](const engine::Principal&) {
        engine::UpdateInstrumentRules command;
        command.instrument = request->instrument();
        command.rules = rules_from(request->mode_rules(), request->gtc_enabled(),
                                   request->eligible_participant_types(), request->position_limit());
        return engine::CommandBody{std::move(command)};
      },
      fill_instrument, request);
}

}  // namespace carbon::server
