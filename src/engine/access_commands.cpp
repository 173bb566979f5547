// API tokens as the engine keeps them: issue, revoke, list. The server makes
// the secret and hands the engine only its SHA-256; the engine numbers the
// tokens, keeps their descriptions and journals every change
// (ApiTokenChanged), so that a restart restores who may call.
#include <algorithm>

#include "common/overloaded.h"
#include "engine/exchange.h"
#include "engine/step.h"

namespace carbon::engine {
namespace {

bool known_role(Role role) {
  const auto value = static_cast<int>(role);
  return value >= static_cast<int>(Role::trader) && value <= static_cast<int>(Role::auditor);
}

/// Separation of duties: who issues, revokes and lists the tokens of a role. The exchange's operators keep their
/// traders' and their own; the registry authority keeps its own; regulators keep their own and auditors'. So no
/// operator can mint or withdraw a regulator's, the registry's or an auditor's credentials: an auditor reads the
/// audit log, which the table refuses to operators, and an operator must not be able to give itself that power.
bool stewards(Role caller, Role role) {
  switch (caller) {
    case Role::operator_:
      return role == Role::trader || role == Role::operator_;
    case Role::registry_authority:
      return role == Role::registry_authority;
    case Role::regulator:
      return role == Role::regulator || role == Role::auditor;
    default:
      return false;
  }
}

std::string stewards_of(Role role) {
  switch (role) {
    case Role::registry_authority:
      return "the registry authority";
    case Role::regulator:
      return "a regulator";
    case Role::auditor:
      return "a regulator";
    default:
      return "an operator";
  }
}

Status not_steward(const char* verb, Role role) {
  return permission_denied("API tokens of role " + std::string(role_name(role)) + " are " + verb + " by " +
                           stewards_of(role) + " (separation of duties)");
}

bool printable(const std::string& text) {
  return std::none_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

}  // namespace

std::uint64_t Exchange::next_api_token_id() const {
  return api_tokens_.empty() ? 1 : api_tokens_.rbegin()->first + 1;
}

void Exchange::record_first_token(Step& step, const ParticipantRecord& participant) {
  ApiTokenRecord token;
  token.id = next_api_token_id();
  token.role = Role::trader;
  token.participant = participant.id;
  token.label = "first trader token of " + participant.code;
  token.token_hash = participant.token_hash;
  token.issued_at = step.at;
  token.updated_sequence = step.sequence;
  api_tokens_[token.id] = token;
  step.events.push_back(ApiTokenChanged{token});
  step.reply.api_tokens.push_back(std::move(token));
}

Status Exchange::token_in_force(const Principal& who, UnixNanos now) const {
  if (who.token_id == 0) return Status::ok();  // a config staff token, or a first trader token before its id is known
  auto found = api_tokens_.find(who.token_id);
  if (found == api_tokens_.end()) {
    return Status{ErrorCode::unauthenticated, "API token " + std::to_string(who.token_id) + " does not exist"};
  }
  if (found->second.revoked()) {
    return Status{ErrorCode::unauthenticated, "API token " + std::to_string(who.token_id) + " was revoked"};
  }
  if (found->second.expires_at != 0 && now >= found->second.expires_at) {
    return Status{ErrorCode::unauthenticated, "API token " + std::to_string(who.token_id) + " has expired"};
  }
  return Status::ok();
}

Status Exchange::issue_api_token(Step& step, const Principal& who, const IssueApiToken& c) {
  if (!known_role(c.role)) return invalid_argument("role: unspecified or unknown role");
  if (!stewards(who.role, c.role)) return not_steward("issued", c.role);
  if (c.role == Role::trader && c.participant == 0) {
    return invalid_argument("participant_id: required for a ROLE_TRADER token");
  }
  if (c.role != Role::trader && c.participant != 0) {
    return invalid_argument("participant_id: must be 0 for a token of role " + std::string(role_name(c.role)));
  }
  if (c.label.empty() || c.label.size() > 100 || !printable(c.label)) {
    return invalid_argument("label: 1 to 100 printable characters");
  }
  if (c.expires_at != 0 && c.expires_at <= step.at) {
    return invalid_argument("expires_at_unix_nanos: in the past (engine clock " + std::to_string(step.at) + ")");
  }
  if (c.role == Role::trader && !participants_.contains(c.participant)) {
    return not_found("participant " + std::to_string(c.participant) + " does not exist");
  }
  ApiTokenRecord token;
  token.id = next_api_token_id();
  token.role = c.role;
  token.participant = c.participant;
  token.label = c.label;
  token.token_hash = c.token_hash;
  token.issued_at = step.at;
  token.expires_at = c.expires_at;
  token.updated_sequence = step.sequence;
  api_tokens_[token.id] = token;
  step.events.push_back(ApiTokenChanged{token});
  step.reply.api_tokens.push_back(std::move(token));
  return Status::ok();
}

Status Exchange::revoke_api_token(Step& step, const Principal& who, const RevokeApiToken& c) {
  if (c.token_id == 0) return invalid_argument("token_id: required");
  auto found = api_tokens_.find(c.token_id);
  if (found == api_tokens_.end()) return not_found("API token " + std::to_string(c.token_id) + " does not exist");
  if (!stewards(who.role, found->second.role)) return not_steward("revoked", found->second.role);
  if (who.token_id == c.token_id) {
    return failed_precondition("API token " + std::to_string(c.token_id) +
                               " is the caller's own: revoke it with another token of the same role");
  }
  ApiTokenRecord& token = found->second;
  if (!token.revoked()) {  // revoking a revoked token succeeds with no effect
    token.revoked_at = step.at;
    token.updated_sequence = step.sequence;
    step.events.push_back(ApiTokenChanged{token});
  }
  step.reply.api_tokens.push_back(token);
  return Status::ok();
}

Status Exchange::access_query(Reply& reply, const Principal& who, const CommandBody& body, UnixNanos now) const {
  if (const auto* q = std::get_if<ListApiTokens>(&body)) {
    if (who.role != Role::operator_ && who.role != Role::registry_authority && who.role != Role::regulator) {
      return permission_denied("API tokens are listed by operators, the registry authority and regulators");
    }
    for (const auto& [id, token] : api_tokens_) {
      // Each lists the tokens it keeps; a regulator, overseeing, lists them all.
      if (who.role != Role::regulator && !stewards(who.role, token.role)) continue;
      const bool expired = token.expires_at != 0 && token.expires_at <= now;
      if (!q->include_revoked && (token.revoked() || expired)) continue;
      reply.api_tokens.push_back(token);
    }
    return Status::ok();
  }
  return Status{ErrorCode::internal, "command routed as a query"};
}

void Exchange::restore_access(const RecoveredState& state) {
  for (const ApiTokenRecord& token : state.api_tokens) api_tokens_[token.id] = token;
}

std::vector<ApiTokenRecord> Exchange::api_tokens() const {
  std::vector<ApiTokenRecord> out;
  out.reserve(api_tokens_.size());
  for (const auto& [id, token] : api_tokens_) out.push_back(token);
  return out;
}

ParticipantId Exchange::acted_on(const CommandBody& body) const {
  auto holder = [this](AccountId account) -> ParticipantId {
    const ParticipantRecord* p = holder_of(account);
    return p != nullptr ? p->id : 0;
  };
  auto pledgor = [this](registry::PledgeId id) -> ParticipantId {
    auto found = pledges_.find(id);
    return found != pledges_.end() ? found->second.pledgor_participant : 0;
  };
  auto seller = [this](std::uint64_t auction) -> ParticipantId {
    auto found = auctions_.find(auction);
    return found != auctions_.end() ? found->second.seller_participant : 0;
  };
  return std::visit(
      Overloaded{
          [&](const MoveCash& c) -> ParticipantId {
            auto found = owner_of_cash_account_.find(c.cash_account);
            return found != owner_of_cash_account_.end() ? found->second : 0;
          },
          [&](const IssueAllowances& c) { return holder(c.holding_account); },
          [&](const Freeze& c) { return holder(c.account); },
          [&](const Unfreeze& c) -> ParticipantId {
            auto found = freezes_.find(c.freeze);
            return found != freezes_.end() ? holder(found->second.record.account) : 0;
          },
          [&](const GetHoldings& c) { return holder(c.account); },
          [&](const ListFreezes& c) { return holder(c.account); },
          [&](const ListSerialBlocks& c) { return holder(c.account); },
          [&](const GetOrder& c) -> ParticipantId {
            auto found = orders_.find(c.order_id);
            return found != orders_.end() ? found->second.participant : 0;
          },
          [&](const TransferUnits& c) {
            const ParticipantId from = holder(c.from);
            return from != 0 ? from : holder(c.to);
          },
          [&](const PledgeUnits& c) { return holder(c.account); },
          [&](const ReleasePledge& c) { return pledgor(c.pledge); },
          [&](const EnforcePledge& c) { return pledgor(c.pledge); },
          [&](const RegisterRepo& c) { return c.seller; },
          [&](const CreateAuction& c) { return holder(c.seller_account); },
          [&](const CloseAuction& c) { return seller(c.auction_id); },
          [&](const CancelAuction& c) { return seller(c.auction_id); },
          [&](const RevokeApiToken& c) -> ParticipantId {
            auto found = api_tokens_.find(c.token_id);
            return found != api_tokens_.end() ? found->second.participant : 0;
          },
          [](const auto&) -> ParticipantId { return 0; },
      },
      body);
}

}  // namespace carbon::engine
