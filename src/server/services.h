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

namespace carbon::store {
class AuditWriter;
}  // namespace carbon::store

namespace carbon::server {

class OrderSessions;
class MarketFeed;
class ReadSlots;
class ReadPool;

/// What every service needs: the authenticator and the engine runtime; the
/// streams also need the open order sessions and the market feed.
struct ServiceContext {
  Authenticator& auth;
  engine::EngineRuntime& runtime;
  const Config& config;
  OrderSessions* sessions = nullptr;  ///< nullptr: OrderSession answers UNIMPLEMENTED
  MarketFeed* feed = nullptr;         ///< nullptr: StreamDepth and StreamTrades answer UNIMPLEMENTED
  /// libpq conninfo of the database, for the reads made on gRPC threads (store/ledger_reader.h, ...).
  std::string ledger_conninfo = {};
  /// The bound on those reads at once ([server] max_database_reads); nullptr: unbounded.
  ReadSlots* read_slots = nullptr;
  /// The threads for the reads a reply asks for after the engine has answered (GetOrder of an order
  /// closed in an earlier trading day). Required by TradingService.
  ReadPool* read_pool = nullptr;
  /// Writes the audit records of staff reads before they are answered
  /// (server/audit.h); nullptr: staff reads are not audited.
  store::AuditWriter* audit_writer = nullptr;
  /// The engine's clock, for the time of an audited read; nullptr: the system clock.
  const Clock* clock = nullptr;
  /// Whether an instrument exists: configured, or created at run time and committed
  /// (the market feed learns of it before the creator's reply; instrument_services.cpp).
  bool knows_instrument(const std::string& code) const;
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
  grpc::ServerUnaryReactor* AmendOrder(grpc::CallbackServerContext* ctx, const v1::AmendOrderRequest* request,
                                       v1::AmendOrderResponse* response) override;
  grpc::ServerUnaryReactor* CancelAllOrders(grpc::CallbackServerContext* ctx,
                                            const v1::CancelAllOrdersRequest* request,
                                            v1::CancelAllOrdersResponse* response) override;
  grpc::ServerUnaryReactor* OfferBlockTrade(grpc::CallbackServerContext* ctx,
                                            const v1::OfferBlockTradeRequest* request,
                                            v1::OfferBlockTradeResponse* response) override;
  grpc::ServerUnaryReactor* AcceptBlockTrade(grpc::CallbackServerContext* ctx,
                                             const v1::AcceptBlockTradeRequest* request,
                                             v1::AcceptBlockTradeResponse* response) override;
  grpc::ServerUnaryReactor* ListBlockOffers(grpc::CallbackServerContext* ctx,
                                            const v1::ListBlockOffersRequest* request,
                                            v1::ListBlockOffersResponse* response) override;
  /// Defined in order_session.cpp.
  grpc::ServerBidiReactor<v1::SessionRequest, v1::SessionResponse>* OrderSession(
      grpc::CallbackServerContext* ctx) override;
  /// Defined in clearing_services.cpp.
  grpc::ServerUnaryReactor* GetStatement(grpc::CallbackServerContext* ctx, const v1::GetStatementRequest* request,
                                         v1::GetStatementResponse* response) override;
  // Single-side auctions (auction_services.cpp).
  grpc::ServerUnaryReactor* SubmitAuctionBid(grpc::CallbackServerContext* ctx,
                                             const v1::SubmitAuctionBidRequest* request,
                                             v1::SubmitAuctionBidResponse* response) override;
  grpc::ServerUnaryReactor* ListAuctionBids(grpc::CallbackServerContext* ctx,
                                            const v1::ListAuctionBidsRequest* request,
                                            v1::ListAuctionBidsResponse* response) override;

 private:
  ServiceContext context_;
};

class MarketDataService final : public v1::MarketDataService::CallbackService {
 public:
  explicit MarketDataService(ServiceContext context) : context_(context) {}
  grpc::ServerUnaryReactor* GetBook(grpc::CallbackServerContext* ctx, const v1::GetBookRequest* request,
                                    v1::BookSnapshot* response) override;
  grpc::ServerUnaryReactor* GetDailyBars(grpc::CallbackServerContext* ctx, const v1::GetDailyBarsRequest* request,
                                         v1::GetDailyBarsResponse* response) override;
  /// Defined in market_feed.cpp.
  grpc::ServerWriteReactor<v1::BookSnapshot>* StreamDepth(grpc::CallbackServerContext* ctx,
                                                          const v1::StreamDepthRequest* request) override;
  /// Defined in market_feed.cpp.
  grpc::ServerWriteReactor<v1::PublicTrade>* StreamTrades(grpc::CallbackServerContext* ctx,
                                                          const v1::StreamTradesRequest* request) override;
  /// Defined in auction_services.cpp.
  grpc::ServerUnaryReactor* ListAuctions(grpc::CallbackServerContext* ctx, const v1::ListAuctionsRequest* request,
                                         v1::ListAuctionsResponse* response) override;

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
  grpc::ServerUnaryReactor* SetParticipantControls(grpc::CallbackServerContext* ctx,
                                                   const v1::SetParticipantControlsRequest* request,
                                                   v1::ParticipantControls* response) override;
  grpc::ServerUnaryReactor* ListInstruments(grpc::CallbackServerContext* ctx,
                                            const v1::ListInstrumentsRequest* request,
                                            v1::ListInstrumentsResponse* response) override;
  grpc::ServerUnaryReactor* HaltTrading(grpc::CallbackServerContext* ctx, const v1::HaltTradingRequest* request,
                                        v1::HaltTradingResponse* response) override;
  grpc::ServerUnaryReactor* ResumeTrading(grpc::CallbackServerContext* ctx, const v1::ResumeTradingRequest* request,
                                          v1::HaltTradingResponse* response) override;
  grpc::ServerUnaryReactor* SetReferencePrice(grpc::CallbackServerContext* ctx,
                                              const v1::SetReferencePriceRequest* request,
                                              v1::Instrument* response) override;
  grpc::ServerUnaryReactor* SetTradingCalendar(grpc::CallbackServerContext* ctx,
                                               const v1::SetTradingCalendarRequest* request,
                                               v1::TradingCalendar* response) override;
  grpc::ServerUnaryReactor* GetTradingCalendar(grpc::CallbackServerContext* ctx,
                                               const v1::GetTradingCalendarRequest* request,
                                               v1::TradingCalendar* response) override;
  grpc::ServerUnaryReactor* RunEndOfDay(grpc::CallbackServerContext* ctx, const v1::RunEndOfDayRequest* request,
                                        v1::RunEndOfDayResponse* response) override;
  /// Defined in clearing_services.cpp.
  grpc::ServerUnaryReactor* GetReconciliation(grpc::CallbackServerContext* ctx,
                                              const v1::GetReconciliationRequest* request,
                                              v1::ReconciliationReport* response) override;
  // API tokens (access_services.cpp).
  grpc::ServerUnaryReactor* IssueApiToken(grpc::CallbackServerContext* ctx, const v1::IssueApiTokenRequest* request,
                                          v1::IssueApiTokenResponse* response) override;
  grpc::ServerUnaryReactor* RevokeApiToken(grpc::CallbackServerContext* ctx, const v1::RevokeApiTokenRequest* request,
                                           v1::RevokeApiTokenResponse* response) override;
  grpc::ServerUnaryReactor* ListApiTokens(grpc::CallbackServerContext* ctx, const v1::ListApiTokensRequest* request,
                                          v1::ListApiTokensResponse* response) override;
  // Single-side auctions (auction_services.cpp).
  grpc::ServerUnaryReactor* CreateAuction(grpc::CallbackServerContext* ctx, const v1::CreateAuctionRequest* request,
                                          v1::Auction* response) override;
  grpc::ServerUnaryReactor* CloseAuction(grpc::CallbackServerContext* ctx, const v1::CloseAuctionRequest* request,
                                         v1::CloseAuctionResponse* response) override;
  grpc::ServerUnaryReactor* CancelAuction(grpc::CallbackServerContext* ctx, const v1::CancelAuctionRequest* request,
                                          v1::Auction* response) override;
  // Instruments and staff balances (instrument_services.cpp).
  grpc::ServerUnaryReactor* GetAccountBalances(grpc::CallbackServerContext* ctx,
                                               const v1::GetAccountBalancesRequest* request,
                                               v1::GetAccountBalancesResponse* response) override;
  grpc::ServerUnaryReactor* CreateInstrument(grpc::CallbackServerContext* ctx,
                                             const v1::CreateInstrumentRequest* request,
                                             v1::Instrument* response) override;
  grpc::ServerUnaryReactor* UpdateInstrumentRules(grpc::CallbackServerContext* ctx,
                                                  const v1::UpdateInstrumentRulesRequest* request,
                                                  v1::Instrument* response) override;

 private:
  ServiceContext context_;
};

class RegistryService final : public v1::RegistryService::CallbackService {
 public:
  explicit RegistryService(ServiceContext context) : context_(context) {}
  grpc::ServerUnaryReactor* IssueAllowances(grpc::CallbackServerContext* ctx,
                                            const v1::IssueAllowancesRequest* request,
                                            v1::IssueAllowancesResponse* response) override;
  // Defined in registry_services.cpp.
  grpc::ServerUnaryReactor* SetCap(grpc::CallbackServerContext* ctx, const v1::SetCapRequest* request,
                                v1::Cap* response) override;
  grpc::ServerUnaryReactor* ListCaps(grpc::CallbackServerContext* ctx, const v1::ListCapsRequest* request,
                                v1::ListCapsResponse* response) override;
  grpc::ServerUnaryReactor* AllocateFree(grpc::CallbackServerContext* ctx, const v1::AllocateFreeRequest* request,
                                v1::Allocation* response) override;
  grpc::ServerUnaryReactor* ListAllocations(grpc::CallbackServerContext* ctx, const v1::ListAllocationsRequest* request,
                                v1::ListAllocationsResponse* response) override;
  grpc::ServerUnaryReactor* RecordVerifiedEmissions(grpc::CallbackServerContext* ctx, const v1::RecordVerifiedEmissionsRequest* request,
                                v1::ComplianceStatus* response) override;
  grpc::ServerUnaryReactor* Surrender(grpc::CallbackServerContext* ctx, const v1::SurrenderRequest* request,
                                v1::SurrenderResponse* response) override;
  grpc::ServerUnaryReactor* GetComplianceStatus(grpc::CallbackServerContext* ctx, const v1::GetComplianceStatusRequest* request,
                                v1::ComplianceStatus* response) override;
  grpc::ServerUnaryReactor* CloseComplianceYear(grpc::CallbackServerContext* ctx, const v1::CloseComplianceYearRequest* request,
                                v1::CloseComplianceYearResponse* response) override;
  grpc::ServerUnaryReactor* Freeze(grpc::CallbackServerContext* ctx, const v1::FreezeRequest* request,
                                v1::FreezeResponse* response) override;
  grpc::ServerUnaryReactor* Unfreeze(grpc::CallbackServerContext* ctx, const v1::UnfreezeRequest* request,
                                v1::UnfreezeResponse* response) override;
  grpc::ServerUnaryReactor* ListFreezes(grpc::CallbackServerContext* ctx, const v1::ListFreezesRequest* request,
                                v1::ListFreezesResponse* response) override;
  grpc::ServerUnaryReactor* Transfer(grpc::CallbackServerContext* ctx, const v1::TransferRequest* request,
                                v1::TransferResponse* response) override;
  grpc::ServerUnaryReactor* ListSystemAccounts(grpc::CallbackServerContext* ctx, const v1::ListSystemAccountsRequest* request,
                                v1::ListSystemAccountsResponse* response) override;
  grpc::ServerUnaryReactor* GetHoldings(grpc::CallbackServerContext* ctx, const v1::GetHoldingsRequest* request,
                                v1::GetHoldingsResponse* response) override;
  // Compliance-year configuration and pledges (pledge_services.cpp).
  grpc::ServerUnaryReactor* ConfigureComplianceYear(grpc::CallbackServerContext* ctx,
                                                    const v1::ConfigureComplianceYearRequest* request,
                                                    v1::ComplianceYear* response) override;
  grpc::ServerUnaryReactor* Pledge(grpc::CallbackServerContext* ctx, const v1::PledgeRequest* request,
                                   v1::PledgeResponse* response) override;
  grpc::ServerUnaryReactor* ReleasePledge(grpc::CallbackServerContext* ctx, const v1::ReleasePledgeRequest* request,
                                          v1::PledgeResponse* response) override;
  grpc::ServerUnaryReactor* EnforcePledge(grpc::CallbackServerContext* ctx, const v1::EnforcePledgeRequest* request,
                                          v1::EnforcePledgeResponse* response) override;
  grpc::ServerUnaryReactor* ListPledges(grpc::CallbackServerContext* ctx, const v1::ListPledgesRequest* request,
                                        v1::ListPledgesResponse* response) override;
  // CCER, defined in ccer_services.cpp.
  grpc::ServerUnaryReactor* RegisterMethodology(grpc::CallbackServerContext* ctx,
                                                const v1::RegisterMethodologyRequest* request,
                                                v1::Methodology* response) override;
  grpc::ServerUnaryReactor* ListMethodologies(grpc::CallbackServerContext* ctx,
                                              const v1::ListMethodologiesRequest* request,
                                              v1::ListMethodologiesResponse* response) override;
  grpc::ServerUnaryReactor* RegisterCcerProject(grpc::CallbackServerContext* ctx,
                                                const v1::RegisterCcerProjectRequest* request,
                                                v1::CcerProject* response) override;
  grpc::ServerUnaryReactor* ListCcerProjects(grpc::CallbackServerContext* ctx,
                                             const v1::ListCcerProjectsRequest* request,
                                             v1::ListCcerProjectsResponse* response) override;
  grpc::ServerUnaryReactor* IssueCcerCredits(grpc::CallbackServerContext* ctx,
                                             const v1::IssueCcerCreditsRequest* request,
                                             v1::IssueCcerCreditsResponse* response) override;
  grpc::ServerUnaryReactor* ListSerialBlocks(grpc::CallbackServerContext* ctx,
                                             const v1::ListSerialBlocksRequest* request,
                                             v1::ListSerialBlocksResponse* response) override;
  grpc::ServerUnaryReactor* RetireUnits(grpc::CallbackServerContext* ctx, const v1::RetireUnitsRequest* request,
                                        v1::RetireUnitsResponse* response) override;
  grpc::ServerUnaryReactor* ListRetirements(grpc::CallbackServerContext* ctx,
                                            const v1::ListRetirementsRequest* request,
                                            v1::ListRetirementsResponse* response) override;
  // Repos, defined in repo_services.cpp.
  grpc::ServerUnaryReactor* RegisterRepo(grpc::CallbackServerContext* ctx, const v1::RegisterRepoRequest* request,
                                         v1::Repo* response) override;
  grpc::ServerUnaryReactor* ListRepos(grpc::CallbackServerContext* ctx, const v1::ListReposRequest* request,
                                      v1::ListReposResponse* response) override;

 private:
  ServiceContext context_;
};

/// The regulator's view of the registry (registry_services.cpp). RPCs not
/// overridden here answer UNIMPLEMENTED.
class RegulatorService final : public v1::RegulatorService::CallbackService {
 public:
  explicit RegulatorService(ServiceContext context) : context_(context) {}
  /// Read from PostgreSQL on the gRPC thread over a read-only connection of their own (no engine state).
  grpc::ServerUnaryReactor* ListLedgerEntries(grpc::CallbackServerContext* ctx,
                                              const v1::ListLedgerEntriesRequest* request,
                                              v1::ListLedgerEntriesResponse* response) override;
  grpc::ServerUnaryReactor* VerifyLedger(grpc::CallbackServerContext* ctx, const v1::VerifyLedgerRequest* request,
                                         v1::VerifyLedgerResponse* response) override;
  grpc::ServerUnaryReactor* ListEarlyWarnings(grpc::CallbackServerContext* ctx,
                                              const v1::ListEarlyWarningsRequest* request,
                                              v1::ListEarlyWarningsResponse* response) override;
  grpc::ServerUnaryReactor* GetComplianceStatus(grpc::CallbackServerContext* ctx, const v1::GetComplianceStatusRequest* request,
                                v1::ComplianceStatus* response) override;
  grpc::ServerUnaryReactor* ListComplianceStatuses(grpc::CallbackServerContext* ctx, const v1::ListComplianceStatusesRequest* request,
                                v1::ListComplianceStatusesResponse* response) override;
  grpc::ServerUnaryReactor* Freeze(grpc::CallbackServerContext* ctx, const v1::FreezeRequest* request,
                                v1::FreezeResponse* response) override;
  grpc::ServerUnaryReactor* Unfreeze(grpc::CallbackServerContext* ctx, const v1::UnfreezeRequest* request,
                                v1::UnfreezeResponse* response) override;
  grpc::ServerUnaryReactor* ListFreezes(grpc::CallbackServerContext* ctx, const v1::ListFreezesRequest* request,
                                v1::ListFreezesResponse* response) override;
  /// Read from PostgreSQL on the gRPC thread (market_query_services.cpp, store/market_reader.cpp).
  grpc::ServerUnaryReactor* QueryTrades(grpc::CallbackServerContext* ctx, const v1::QueryTradesRequest* request,
                                        v1::QueryTradesResponse* response) override;
  grpc::ServerUnaryReactor* QueryOrders(grpc::CallbackServerContext* ctx, const v1::QueryOrdersRequest* request,
                                        v1::QueryOrdersResponse* response) override;
  /// Defined in clearing_services.cpp.
  grpc::ServerUnaryReactor* ListSurveillanceAlerts(grpc::CallbackServerContext* ctx,
                                                   const v1::ListSurveillanceAlertsRequest* request,
                                                   v1::ListSurveillanceAlertsResponse* response) override;
  /// The audit log, read from PostgreSQL on the gRPC thread (access_services.cpp).
  grpc::ServerUnaryReactor* QueryAuditLog(grpc::CallbackServerContext* ctx, const v1::QueryAuditLogRequest* request,
                                          v1::QueryAuditLogResponse* response) override;
  grpc::ServerUnaryReactor* VerifyAuditLog(grpc::CallbackServerContext* ctx, const v1::VerifyAuditLogRequest* request,
                                           v1::VerifyAuditLogResponse* response) override;
  /// The disclosure report, read from PostgreSQL on the gRPC thread (repo_services.cpp, store/disclosure_reader.cpp).
  grpc::ServerUnaryReactor* GetDisclosureReport(grpc::CallbackServerContext* ctx,
                                                const v1::GetDisclosureReportRequest* request,
                                                v1::DisclosureReport* response) override;

 private:
  ServiceContext context_;
};

}  // namespace carbon::server
