#pragma once
/// The gRPC services. Each RPC authenticates, authorizes, turns the request
/// into an engine command and finishes when the engine's reply has been
/// committed. RPCs not overridden here answer UNIMPLEMENTED.

#include <memory>

#include "carbon/v1/admin.grpc.pb.h"
#include "carbon/v1/market_data.grpc.pb.h"
#include "carbon/v1/registry.grpc.pb.h"
#include "carbon/v1/regulator.grpc.pb.h"
#include "carbon/v1/trading.grpc.pb.h"
#include "engine/runtime.h"
#include "server/auth.h"

namespace carbon::server {

/// What every service needs: the authenticator and the engine runtime.
struct ServiceContext {
  Authenticator& auth;
  engine::EngineRuntime& runtime;
};

class TradingService final : public v1::TradingService::CallbackService {
 public:
  explicit TradingService(ServiceContext context) : context_(context) {}
  grpc::ServerUnaryReactor* PlaceOrder(grpc::CallbackServerContext* ctx, const v1::PlaceOrderRequest* request,
                                       v1::PlaceOrderResponse* response) override;
  grpc::ServerUnaryReactor* CancelOrder(grpc::CallbackServerContext* ctx, const v1::CancelOrderRequest* request,
                                        v1::CancelOrderResponse* response) override;
  grpc::ServerUnaryReactor* GetOrder(grpc::CallbackServerContext* ctx, const v1::GetOrderRequest* request,
                                     v1::Order* response) override;
  grpc::ServerUnaryReactor* ListOrders(grpc::CallbackServerContext* ctx, const v1::ListOrdersRequest* request,
                                       v1::ListOrdersResponse* response) override;
  grpc::ServerUnaryReactor* ListTrades(grpc::CallbackServerContext* ctx, const v1::ListTradesRequest* request,
                                       v1::ListTradesResponse* response) override;
  grpc::ServerUnaryReactor* GetBalances(grpc::CallbackServerContext* ctx, const v1::GetBalancesRequest* request,
                                        v1::GetBalancesResponse* response) override;

 private:
  ServiceContext context_;
};

class MarketDataService final : public v1::MarketDataService::CallbackService {
 public:
  explicit MarketDataService(ServiceContext context) : context_(context) {}
  grpc::ServerUnaryReactor* GetBook(grpc::CallbackServerContext* ctx, const v1::GetBookRequest* request,
                                    v1::BookSnapshot* response) override;

 private:
  ServiceContext context_;
};

class AdminService final : public v1::AdminService::CallbackService {
 public:
  explicit AdminService(ServiceContext context) : context_(context) {}
  grpc::ServerUnaryReactor* CreateParticipant(grpc::CallbackServerContext* ctx,
                                              const v1::CreateParticipantRequest* request,
                                              v1::CreateParticipantResponse* response) override;
  grpc::ServerUnaryReactor* GetParticipant(grpc::CallbackServerContext* ctx, const v1::GetParticipantRequest* request,
                                           v1::Participant* response) override;
  grpc::ServerUnaryReactor* ListParticipants(grpc::CallbackServerContext* ctx,
                                             const v1::ListParticipantsRequest* request,
                                             v1::ListParticipantsResponse* response) override;
  grpc::ServerUnaryReactor* Deposit(grpc::CallbackServerContext* ctx, const v1::CashMovementRequest* request,
                                    v1::CashMovementResponse* response) override;
  grpc::ServerUnaryReactor* Withdraw(grpc::CallbackServerContext* ctx, const v1::CashMovementRequest* request,
                                     v1::CashMovementResponse* response) override;

 private:
  ServiceContext context_;
};

class RegistryService final : public v1::RegistryService::CallbackService {
 public:
  explicit RegistryService(ServiceContext context) : context_(context) {}
  grpc::ServerUnaryReactor* IssueAllowances(grpc::CallbackServerContext* ctx,
                                            const v1::IssueAllowancesRequest* request,
                                            v1::IssueAllowancesResponse* response) override;

 private:
  ServiceContext context_;
};

/// Every RegulatorService RPC still answers UNIMPLEMENTED.
class RegulatorService final : public v1::RegulatorService::CallbackService {};

}  // namespace carbon::server
