#pragma once
/// The runtime's commit listener in carbond: unsolicited execution reports to
/// the order sessions (queued at once, so they keep their place before the
/// batch's replies), committed book changes and trades to the market feed
/// (handed to its thread), and revoked API tokens to the authenticator and
/// the streams opened with them.

#include <span>

#include "engine/runtime.h"
#include "server/auth.h"
#include "server/market_feed.h"
#include "server/order_session.h"

namespace carbon::server {

/// Journal writer thread only.
class CommitFanout final : public engine::CommitListener {
 public:
  CommitFanout(Authenticator& auth, OrderSessions& sessions, MarketFeed& feed)
      : auth_(auth), sessions_(sessions), feed_(feed) {}
  void on_commit(std::span<const engine::CommittedOutcome> batch) noexcept override {
    sessions_.deliver(batch);
    feed_.publish(batch);
    // A revocation takes effect here even if its caller was answered UNAVAILABLE before it committed.
    for (const engine::CommittedOutcome& committed : batch) {
      for (const engine::Event& event : committed.outcome->events) {
        const auto* changed = std::get_if<engine::ApiTokenChanged>(&event);
        if (changed == nullptr || !changed->token.revoked()) continue;
        auth_.apply_token(changed->token);
        sessions_.end_token(changed->token.id);
        feed_.end_token(changed->token.id);
      }
    }
  }

 private:
  Authenticator& auth_;
  OrderSessions& sessions_;
  MarketFeed& feed_;
};

}  // namespace carbon::server
