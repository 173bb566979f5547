#include "server/auth.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <mutex>
#include <stdexcept>

namespace carbon::server {
namespace {

std::string key_of(const registry::Hash& hash) { return std::string(hash.begin(), hash.end()); }

struct MethodRule {
  std::string_view method;
  std::vector<Role> roles;
};

constexpr Role kTrader = Role::trader;
constexpr Role kOperator = Role::operator_;
constexpr Role kRegistry = Role::registry_authority;
constexpr Role kRegulator = Role::regulator;
constexpr Role kAuditor = Role::auditor;

// Methods not listed here are refused for every role.
const std::vector<MethodRule>& rules() {
  static const std::vector<MethodRule> table = {
      {"carbon.v1.TradingService/PlaceOrder", {kTrader}},
      {"carbon.v1.TradingService/CancelOrder", {kTrader}},
      {"carbon.v1.TradingService/GetOrder", {kTrader}},
      {"carbon.v1.TradingService/ListOrders", {kTrader}},
      {"carbon.v1.TradingService/ListTrades", {kTrader}},
      {"carbon.v1.TradingService/GetBalances", {kTrader}},
      {"carbon.v1.TradingService/AmendOrder", {kTrader}},
      {"carbon.v1.TradingService/CancelAllOrders", {kTrader}},
      {"carbon.v1.TradingService/OfferBlockTrade", {kTrader}},
      {"carbon.v1.TradingService/AcceptBlockTrade", {kTrader}},
      {"carbon.v1.TradingService/ListBlockOffers", {kTrader}},
      {"carbon.v1.TradingService/OrderSession", {kTrader}},
      {"carbon.v1.MarketDataService/StreamDepth", {kTrader, kOperator, kRegistry, kRegulator, kAuditor}},
      {"carbon.v1.MarketDataService/StreamTrades", {kTrader, kOperator, kRegistry, kRegulator, kAuditor}},
      {"carbon.v1.MarketDataService/GetDailyBars", {kTrader, kOperator, kRegistry, kRegulator, kAuditor}},
      {"carbon.v1.AdminService/SetParticipantControls", {kOperator}},
      {"carbon.v1.AdminService/ListInstruments", {kTrader, kOperator, kRegistry, kRegulator, kAuditor}},
      {"carbon.v1.AdminService/HaltTrading", {kOperator}},
      {"carbon.v1.AdminService/ResumeTrading", {kOperator}},
      {"carbon.v1.AdminService/SetReferencePrice", {kOperator}},
      {"carbon.v1.AdminService/SetTradingCalendar", {kOperator}},
      {"carbon.v1.AdminService/GetTradingCalendar", {kTrader, kOperator, kRegistry, kRegulator, kAuditor}},
      {"carbon.v1.AdminService/RunEndOfDay", {kOperator}},
      {"carbon.v1.MarketDataService/GetBook", {kTrader, kOperator, kRegistry, kRegulator, kAuditor}},
      {"carbon.v1.AdminService/CreateParticipant", {kOperator}},
      {"carbon.v1.AdminService/GetParticipant", {kTrader, kOperator, kRegistry, kRegulator, kAuditor}},
      {"carbon.v1.AdminService/ListParticipants", {kTrader, kOperator, kRegistry, kRegulator, kAuditor}},
      {"carbon.v1.AdminService/Deposit", {kOperator}},
      {"carbon.v1.AdminService/Withdraw", {kOperator}},
      {"carbon.v1.RegistryService/IssueAllowances", {kRegistry}},
      {"carbon.v1.RegistryService/SetCap", {kRegistry}},
      {"carbon.v1.RegistryService/ListCaps", {kRegistry, kOperator, kRegulator, kAuditor}},
      {"carbon.v1.RegistryService/AllocateFree", {kRegistry}},
      {"carbon.v1.RegistryService/ListAllocations", {kRegistry, kRegulator, kAuditor, kTrader}},
      {"carbon.v1.RegistryService/RecordVerifiedEmissions", {kRegistry}},
      {"carbon.v1.RegistryService/Surrender", {kRegistry, kTrader}},
      {"carbon.v1.RegistryService/GetComplianceStatus", {kRegistry, kTrader}},
      {"carbon.v1.RegistryService/CloseComplianceYear", {kRegistry}},
      {"carbon.v1.RegistryService/Freeze", {kRegistry}},
      {"carbon.v1.RegistryService/Unfreeze", {kRegistry}},
      {"carbon.v1.RegistryService/ListFreezes", {kRegistry}},
      {"carbon.v1.RegistryService/Transfer", {kRegistry}},
      {"carbon.v1.RegistryService/ListSystemAccounts", {kTrader, kOperator, kRegistry, kRegulator, kAuditor}},
      {"carbon.v1.RegistryService/GetHoldings", {kTrader, kOperator, kRegistry, kRegulator, kAuditor}},
      {"carbon.v1.RegulatorService/GetComplianceStatus", {kRegulator, kAuditor}},
      {"carbon.v1.RegulatorService/ListComplianceStatuses", {kRegulator, kAuditor}},
      {"carbon.v1.RegulatorService/Freeze", {kRegulator}},
      {"carbon.v1.RegulatorService/Unfreeze", {kRegulator}},
      {"carbon.v1.RegulatorService/ListFreezes", {kRegulator, kAuditor}},
      {"carbon.v1.RegulatorService/ListLedgerEntries", {kRegulator, kAuditor}},
      {"carbon.v1.RegulatorService/VerifyLedger", {kRegulator, kAuditor}},
      {"carbon.v1.RegulatorService/ListEarlyWarnings", {kRegulator, kAuditor}},
      // Compliance-year configuration and pledges (pledge_services.cpp); a trader lists only its own pledges.
      {"carbon.v1.RegistryService/ConfigureComplianceYear", {kRegistry}},
      {"carbon.v1.RegistryService/Pledge", {kRegistry}},
      {"carbon.v1.RegistryService/ReleasePledge", {kRegistry}},
      {"carbon.v1.RegistryService/EnforcePledge", {kRegistry}},
      {"carbon.v1.RegistryService/ListPledges", {kRegistry, kRegulator, kAuditor, kTrader}},
      {"carbon.v1.RegulatorService/QueryTrades", {kRegulator, kAuditor}},
      {"carbon.v1.RegulatorService/QueryOrders", {kRegulator, kAuditor}},
      // Access (API tokens, audit log), balances, instruments, auctions.
      // Each role keeps its own tokens (the engine's separation of duties: access_commands.cpp).
      {"carbon.v1.AdminService/IssueApiToken", {kOperator, kRegistry, kRegulator}},
      {"carbon.v1.AdminService/RevokeApiToken", {kOperator, kRegistry, kRegulator}},
      {"carbon.v1.AdminService/ListApiTokens", {kOperator, kRegistry, kRegulator}},
      {"carbon.v1.RegulatorService/QueryAuditLog", {kRegulator, kAuditor}},
      {"carbon.v1.RegulatorService/VerifyAuditLog", {kRegulator, kAuditor}},
      {"carbon.v1.AdminService/GetAccountBalances", {kOperator, kRegistry, kRegulator, kAuditor}},
      {"carbon.v1.AdminService/CreateInstrument", {kOperator}},
      {"carbon.v1.AdminService/UpdateInstrumentRules", {kOperator}},
      {"carbon.v1.AdminService/CreateAuction", {kOperator}},
      {"carbon.v1.AdminService/CloseAuction", {kOperator}},
      {"carbon.v1.AdminService/CancelAuction", {kOperator}},
      {"carbon.v1.AdminService/GetReconciliation", {kOperator, kRegulator, kAuditor}},
      {"carbon.v1.MarketDataService/ListAuctions", {kTrader, kOperator, kRegistry, kRegulator, kAuditor}},
      // CCER: the authority writes; methodologies, projects and retirements are public; a trader
      // lists the serials of its own account and retires its own units (checked in the engine).
      {"carbon.v1.RegistryService/RegisterMethodology", {kRegistry}},
      {"carbon.v1.RegistryService/ListMethodologies", {kTrader, kOperator, kRegistry, kRegulator, kAuditor}},
      {"carbon.v1.RegistryService/RegisterCcerProject", {kRegistry}},
      {"carbon.v1.RegistryService/ListCcerProjects", {kTrader, kOperator, kRegistry, kRegulator, kAuditor}},
      {"carbon.v1.RegistryService/IssueCcerCredits", {kRegistry}},
      {"carbon.v1.RegistryService/ListSerialBlocks", {kTrader, kRegistry, kRegulator, kAuditor}},
      {"carbon.v1.RegistryService/RetireUnits", {kTrader, kRegistry}},
      {"carbon.v1.RegistryService/ListRetirements", {kTrader, kOperator, kRegistry, kRegulator, kAuditor}},
      // Clearing: statements (a trader only its own, checked in clearing_services.cpp), reconciliation, alerts.
      {"carbon.v1.TradingService/GetStatement", {kTrader, kOperator, kRegulator, kAuditor}},
      {"carbon.v1.RegulatorService/ListSurveillanceAlerts", {kRegulator, kAuditor}},
      // Repos (the registry authority registers; a trader lists only repos it is party to, checked in
      // the engine) and the disclosure report. The matrix test walks every RPC of proto/carbon/v1,
      // so a method without a row fails it.
      {"carbon.v1.RegistryService/RegisterRepo", {kRegistry}},
      {"carbon.v1.RegistryService/ListRepos", {kRegistry, kRegulator, kAuditor, kTrader}},
      {"carbon.v1.RegulatorService/GetDisclosureReport", {kRegulator, kAuditor}},
      // Single-side auctions: the operator's rows and ListAuctions are in the block above; a
      // trader bids and lists only its own bids (checked in the engine).
      {"carbon.v1.TradingService/SubmitAuctionBid", {kTrader}},
      {"carbon.v1.TradingService/ListAuctionBids", {kTrader}},
  };
  return table;
}

}  // namespace

registry::Hash hash_token(std::string_view token) {
  registry::Hash out{};
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), out.data());
  return out;
}

std::string generate_token() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("the system random generator failed");
  }
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out = "cbt_";
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char byte : bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(buffer >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(buffer << (6 - bits)) & 63]);
  return out;
}

std::optional<registry::Hash> hash_from_hex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  registry::Hash out{};
  for (std::size_t i = 0; i < 32; ++i) {
    auto digit = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    const int hi = digit(hex[2 * i]);
    const int lo = digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return out;
}

void Authenticator::add_staff(const registry::Hash& token_hash, Role role, const std::string& name) {
  std::unique_lock lock(mutex_);
  by_hash_[key_of(token_hash)] = Entry{engine::Principal{role, 0, name, 0, 0}};
}

void Authenticator::add_trader(const registry::Hash& token_hash, ParticipantId participant, const std::string& code) {
  std::unique_lock lock(mutex_);
  by_hash_[key_of(token_hash)] = Entry{engine::Principal{Role::trader, participant, code, 0, 0}};
}

bool Authenticator::newest_locked(const engine::ApiTokenRecord& token) {
  Version& version = versions_[token.id];
  if (token.updated_sequence < version.sequence) return false;
  version = Version{token.updated_sequence, token.revoked()};
  return true;
}

void Authenticator::add_first_token(const engine::ApiTokenRecord& token, const std::string& code) {
  std::unique_lock lock(mutex_);
  if (!newest_locked(token) || token.revoked()) return;
  by_hash_[key_of(token.token_hash)] =
      Entry{engine::Principal{Role::trader, token.participant, code, token.id, token.expires_at}};
}

bool Authenticator::revoked(std::uint64_t token_id) const {
  std::shared_lock lock(mutex_);
  auto found = versions_.find(token_id);
  return found != versions_.end() && found->second.revoked;
}

void Authenticator::apply_token(const engine::ApiTokenRecord& token) {
  std::unique_lock lock(mutex_);
  if (!newest_locked(token)) return;
  const std::string key = key_of(token.token_hash);
  auto found = by_hash_.find(key);
  if (token.revoked()) {
    if (token.role == Role::trader) {
      by_hash_.erase(key);
    } else {  // refused from now on, but an attempt to use it is named in the audit log
      std::string name = found != by_hash_.end() ? found->second.principal.name : token.label;
      by_hash_[key] = Entry{engine::Principal{token.role, 0, std::move(name), token.id, token.expires_at}, true};
    }
    return;
  }
  // A participant's first token keeps the participant's code as its name.
  std::string name = found != by_hash_.end() ? found->second.principal.name : token.label;
  by_hash_[key] =
      Entry{engine::Principal{token.role, token.participant, std::move(name), token.id, token.expires_at}};
}

Status Authenticator::authenticate(const grpc::ServerContextBase& context, engine::Principal& principal) const {
  const auto& metadata = context.client_metadata();
  auto found = metadata.find("authorization");
  if (found == metadata.end()) {
    return Status{ErrorCode::unauthenticated, "missing \"authorization: Bearer <token>\" metadata"};
  }
  const std::string_view value(found->second.data(), found->second.size());
  constexpr std::string_view prefix = "bearer ";
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  bool has_prefix = value.size() > prefix.size();
  for (std::size_t i = 0; has_prefix && i < prefix.size(); ++i) has_prefix = lower(value[i]) == prefix[i];
  if (!has_prefix) {
    return Status{ErrorCode::unauthenticated, "authorization metadata must be \"Bearer <token>\""};
  }
  return authenticate_hash(hash_token(value.substr(prefix.size())), principal);
}

Status Authenticator::authenticate_hash(const registry::Hash& hash, engine::Principal& principal) const {
  std::shared_lock lock(mutex_);
  auto principal_found = by_hash_.find(key_of(hash));
  if (principal_found == by_hash_.end()) return Status{ErrorCode::unauthenticated, "unknown bearer token (or revoked)"};
  const Entry& entry = principal_found->second;
  const bool staff = entry.principal.role != Role::trader;
  if (entry.revoked) {
    principal = entry.principal;  // staff: refused, and named for the audit of the attempt
    return Status{ErrorCode::unauthenticated, "bearer token " + std::to_string(entry.principal.token_id) +
                                                  " was revoked"};
  }
  if (expired(entry.principal)) {
    if (staff) principal = entry.principal;
    return Status{ErrorCode::unauthenticated,
                  "bearer token " + std::to_string(entry.principal.token_id) + " expired"};
  }
  principal = entry.principal;
  return Status::ok();
}

bool Authenticator::audit_refused_attempt(const engine::Principal& principal) const {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(attempts_mutex_);
  auto [at, first] = attempts_audited_.try_emplace(principal.token_id, now);
  if (!first && now - at->second < std::chrono::minutes(1)) return false;
  at->second = now;
  return true;
}

bool Authenticator::expired(const engine::Principal& principal) const {
  return principal.expires_at != 0 && clock_ != nullptr && clock_->now() >= principal.expires_at;
}

bool Authenticator::still_valid(const engine::Principal& principal, const grpc::ServerContextBase& context) const {
  engine::Principal now;
  if (!authenticate(context, now).is_ok()) return false;
  return now.role == principal.role && now.participant == principal.participant;
}

Status authorize(Role role, std::string_view method) {
  for (const MethodRule& rule : rules()) {
    if (rule.method != method) continue;
    for (Role allowed : rule.roles) {
      if (allowed == role) return Status::ok();
    }
    return permission_denied(std::string("role ") + role_name(role) + " may not call " + std::string(method));
  }
  return permission_denied(std::string(method) + " is not open to any role yet");
}

}  // namespace carbon::server
