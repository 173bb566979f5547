#pragma once
/// TradingService.OrderSession: the bidirectional order session stream, and
/// the registry of open sessions that unsolicited execution reports reach.

#include <cstddef>
#include <mutex>
#include <span>
#include <unordered_map>
#include <vector>

#include "engine/runtime.h"
#include "server/auth.h"

namespace carbon::server {

/// Limits of one order session.
struct OrderSessionOptions {
  std::size_t max_batch_commands = 1'000;    ///< commands per SessionRequest; more are all refused
  std::size_t max_batches_in_flight = 256;   ///< unanswered batches before the session stops reading
  std::size_t max_commands_in_flight = 16'000; ///< unanswered commands before the session stops reading
  std::size_t max_outbound_messages = 4'096; ///< queued responses before the session ends RESOURCE_EXHAUSTED
  std::size_t max_sessions_per_participant = 32;  ///< open at once per participant; one more is refused
};

/// One open session's reactor; defined in order_session.cpp.
class OrderSessionStream;

/// Every open order session, by participant. Thread-safe.
class OrderSessions {
 public:
  /// `recovered`: the last sequence restored at start (delivered before any session opens).
  explicit OrderSessions(OrderSessionOptions options = {}, Sequence recovered = 0)
      : options_(options), delivered_(recovered) {}

  const OrderSessionOptions& options() const { return options_; }

  /// Journal writer thread, from the commit listener, after commit and
  /// before the batch's replies: queues the unsolicited execution reports of
  /// `batch` (one SessionResponse per participant, batch_id 0) on every open
  /// session of each changed order's owner. A report is queued behind the
  /// session's unanswered batches, so it never overtakes the reply that
  /// acknowledged its order. Holds the registry lock briefly; never blocks on a client.
  void deliver(std::span<const engine::CommittedOutcome> batch);

  /// Journal writer thread, from the commit listener: ends the sessions opened with API token
  /// `token_id` (revoked) with UNAUTHENTICATED, once their queued replies are sent.
  void end_token(std::uint64_t token_id);

  /// Ends every session with UNAVAILABLE once its queued replies are sent,
  /// and refuses new sessions. Call after the runtime has stopped.
  void close_all();

  /// Registers an open session: UNAVAILABLE once close_all() has run,
  /// UNAUTHENTICATED if `who`'s token was revoked since it was authenticated (end_token()
  /// would not see the session), RESOURCE_EXHAUSTED if the participant has
  /// max_sessions_per_participant open. Sets `delivered` to the last sequence
  /// delivered before it: every later commit reaches the session live.
  Status add(const engine::Principal& who, const Authenticator& auth, OrderSessionStream* session,
             Sequence& delivered);
  /// Forgets a session (from its OnDone()).
  void remove(ParticipantId participant, OrderSessionStream* session);

  /// Open sessions, for metrics (any thread).
  std::size_t open_count();

 private:
  OrderSessionOptions options_;
  Sequence delivered_;  ///< the last sequence deliver() saw (guarded by mutex_)
  std::mutex mutex_;
  std::unordered_map<ParticipantId, std::vector<OrderSessionStream*>> sessions_;
  bool closed_ = false;
};

}  // namespace carbon::server
