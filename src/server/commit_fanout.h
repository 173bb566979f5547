#pragma once
/// The runtime's commit listener in carbond: unsolicited execution reports to
/// the order sessions (queued at once, so they keep their place before the
/// batch's replies) and committed book changes and trades to the market feed
/// (handed to its thread).

#include <span>

#include "engine/runtime.h"
#include "server/market_feed.h"
#include "server/order_session.h"

namespace carbon::server {

/// Journal writer thread only.
class CommitFanout final : public engine::CommitListener {
 public:
  CommitFanout(OrderSessions& sessions, MarketFeed& feed) : sessions_(sessions), feed_(feed) {}
  void on_commit(std::span<const engine::CommittedOutcome> batch) noexcept override {
    sessions_.deliver(batch);
    feed_.publish(batch);
  }

 private:
  OrderSessions& sessions_;
  MarketFeed& feed_;
};

}  // namespace carbon::server
