#include "server/order_session.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "engine/validation.h"
#include "server/convert.h"
#include "server/dispatch.h"
#include "server/execution_reports.h"
#include "server/order_requests.h"
#include "server/read_slots.h"
#include "server/services.h"
#include "store/market_reader.h"

namespace carbon::server {

namespace {

using Reports = google::protobuf::RepeatedPtrField<v1::ExecutionReport>;

/// One SessionRequest on its way through the engine: a slot of reports per
/// command, filled by each command's completion.
struct SessionBatch {
  std::uint64_t batch_id = 0;
  std::vector<Reports> slots;
  std::atomic<std::size_t> unfilled{0};     ///< slots still empty, plus one while commands are being submitted
  bool complete = false;                    ///< under the session's mutex
  std::vector<v1::SessionResponse> held;    ///< unsolicited reports queued behind this batch (session's mutex)
};

}  // namespace

/// The reactor of one order session. Owns itself: deleted in OnDone(), which
/// gRPC runs only after Finish() and after every reaction has returned;
/// Finish() is called only once no batch is unanswered (no completion can
/// still reach the session) and no write is in progress, and once closing
/// no new batch is accepted (a message read after that is dropped).
class OrderSessionStream final : public grpc::ServerBidiReactor<v1::SessionRequest, v1::SessionResponse> {
 public:
  /// `principal`: the caller, authenticated and admitted by the table (TradingService::OrderSession).
  OrderSessionStream(const ServiceContext& context, OrderSessions& sessions, grpc::CallbackServerContext* call,
                     engine::Principal principal)
      : context_(context), sessions_(sessions), options_(sessions.options()), principal_(std::move(principal)),
        call_(call) {
    if (Status added = sessions_.add(principal_, context_.auth, this, opened_after_); !added.is_ok()) {
      finished_ = true;
      Finish(to_grpc(added));
      return;
    }
    registered_ = true;
    Actions actions;
    {
      std::lock_guard lock(mutex_);
      actions = step_locked();
    }
    perform(actions);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Actions actions;
      {
        std::lock_guard lock(mutex_);
        reading_ = false;
        reads_done_ = true;
        close_locked(grpc::Status::OK, true);
        actions = step_locked();
      }
      perform(actions);
      return;
    }
    handle(request_);
    Actions actions;
    {
      std::lock_guard lock(mutex_);
      reading_ = false;
      actions = step_locked();
    }
    perform(actions);
  }

  void OnWriteDone(bool ok) override {
    Actions actions;
    {
      std::lock_guard lock(mutex_);
      writing_ = false;
      if (!ok) close_locked(grpc::Status(grpc::StatusCode::CANCELLED, "the stream broke"), false);
      actions = step_locked();
    }
    perform(actions);
  }

  void OnCancel() override {
    Actions actions;
    {
      std::lock_guard lock(mutex_);
      close_locked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"), false);
      actions = step_locked();
    }
    perform(actions);
  }

  void OnDone() override {
    if (registered_) sessions_.remove(principal_.participant, this);
    delete this;
  }

  /// Writer thread (under the registry lock): queues unsolicited reports; none once the token has expired.
  void push_unsolicited(v1::SessionResponse response) {
    Actions actions;
    {
      std::lock_guard lock(mutex_);
      if (closing_) return;
      if (context_.auth.expired(principal_)) {
        close_locked(grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                  "the session's bearer token has expired; reports stop here"),
                     true);
      } else if (outbound_.size() + held_ >= options_.max_outbound_messages) {
        close_locked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                  "the session's outbound buffer overflowed: the client is not reading"),
                     false);
      } else if (replaying_) {
        early_.push_back(std::move(response));  // after the replay being read
        ++held_;
      } else if (!pending_.empty()) {
        pending_.back()->held.push_back(std::move(response));
        ++held_;
      } else {
        outbound_.push_back(std::move(response));
      }
      actions = step_locked();
    }
    perform(actions);
  }

  std::uint64_t token_id() const { return principal_.token_id; }

  /// Its token was revoked (writer thread, under the registry lock): ends the
  /// session after the replies already queued, and sends no more reports.
  void close_revoked() {
    Actions actions;
    {
      std::lock_guard lock(mutex_);
      close_locked(grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                "the session's bearer token was revoked (AdminService.RevokeApiToken)"),
                   true);
      actions = step_locked();
    }
    perform(actions);
  }

  /// Shutdown: ends the session after its queued replies.
  void close_unavailable() {
    Actions actions;
    {
      std::lock_guard lock(mutex_);
      close_locked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "carbond is shutting down"), true);
      actions = step_locked();
    }
    perform(actions);
  }

  /// Any thread: one slot of `batch` is filled.
  void slot_filled(const std::shared_ptr<SessionBatch>& batch) {
    if (batch->unfilled.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    Actions actions;
    {
      std::lock_guard lock(mutex_);
      batch->complete = true;
      while (!pending_.empty() && pending_.front()->complete) {
        SessionBatch& done = *pending_.front();
        if (!closing_ || drain_) {
          v1::SessionResponse response;
          response.set_batch_id(done.batch_id);
          for (Reports& slot : done.slots) {
            for (v1::ExecutionReport& report : slot) *response.add_reports() = std::move(report);
          }
          outbound_.push_back(std::move(response));
          for (v1::SessionResponse& held : done.held) outbound_.push_back(std::move(held));
        }
        held_ -= done.held.size();
        pending_.pop_front();
      }
      actions = step_locked();
    }
    perform(actions);
  }

 private:
  /// What to do once the mutex is released; Finish comes last, as it may end the object's life.
  struct Actions {
    bool read = false;
    bool write = false;
    std::optional<grpc::Status> finish;
  };

  /// Closes the session with `status`; `drain` sends what is queued first.
  void close_locked(grpc::Status status, bool drain) {
    if (closing_ && (drain || !drain_)) return;  // an abort may still cut short a draining close
    closing_ = std::move(status);
    drain_ = drain;
    if (!drain) {
      outbound_.clear();
      for (auto& batch : pending_) batch->held.clear();
      early_.clear();
      held_ = 0;
    }
  }

  Actions step_locked() {
    Actions actions;
    if (finished_) return actions;
    if (!writing_ && !outbound_.empty() && (!closing_ || drain_)) {
      current_ = std::move(outbound_.front());
      outbound_.pop_front();
      writing_ = true;
      actions.write = true;
    }
    if (!reading_ && !reads_done_ && !closing_ && pending_.size() < options_.max_batches_in_flight &&
        outbound_.size() < options_.max_batches_in_flight && commands_in_flight_locked() < options_.max_commands_in_flight) {
      reading_ = true;
      actions.read = true;
    }
    // A read may still be outstanding: gRPC allows Finish then, and answers it OnReadDone(false).
    if (closing_ && !writing_ && pending_.empty() && (outbound_.empty() || !drain_)) {
      finished_ = true;
      actions.finish = *closing_;
    }
    return actions;
  }

  std::size_t commands_in_flight_locked() const {
    std::size_t commands = 0;
    for (const auto& batch : pending_) commands += batch->slots.size();
    return commands;
  }

  void perform(Actions& actions) {
    if (actions.read) StartRead(&request_);
    if (actions.write) StartWrite(&current_);
    if (actions.finish) Finish(std::move(*actions.finish));
  }

  /// Reacts to one client message: applies its batch, or ends the session if it is malformed.
  void handle(const v1::SessionRequest& request) {
    const bool first = first_message_;
    first_message_ = false;
    std::optional<grpc::Status> refuse;
    if (!context_.auth.still_valid(principal_, *call_)) {
      // Revoked (AdminService.RevokeApiToken) or expired since the session opened; the
      // first message too, which may come long after the session opened.
      refuse = grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                            "the session's bearer token was revoked or has expired; nothing of this batch was applied");
    } else if (request.replay_after_sequence() != 0 && !first) {
      refuse = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "replay_after_sequence is only read on a session's first message");
    } else if (request.commands().empty() && request.replay_after_sequence() == 0) {
      refuse = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "a SessionRequest must carry commands (or, on the first message, replay_after_sequence)");
    }
    if (refuse) {
      std::lock_guard lock(mutex_);
      close_locked(*refuse, true);
      return;
    }
    if (request.replay_after_sequence() != 0 && !replay(request.replay_after_sequence())) return;
    if (request.commands().empty()) return;  // a replay request alone

    const std::size_t count = static_cast<std::size_t>(request.commands_size());
    auto batch = std::make_shared<SessionBatch>();
    batch->batch_id = request.batch_id();
    batch->slots.resize(count);
    batch->unfilled.store(count + 1, std::memory_order_relaxed);
    {
      std::lock_guard lock(mutex_);
      if (closing_) return;
      pending_.push_back(batch);
    }
    const ParticipantId issuer = principal_.participant;
    if (count > options_.max_batch_commands) {
      const Status too_many{ErrorCode::invalid_argument,
                            "a batch holds " + std::to_string(count) + " commands, more than the limit of " +
                                std::to_string(options_.max_batch_commands) + "; nothing was applied"};
      for (std::size_t i = 0; i < count; ++i) {
        append_refusal(body_of(request.commands(static_cast<int>(i))), issuer, too_many, static_cast<std::uint32_t>(i),
                       batch->slots[i]);
        slot_filled(batch);
      }
    } else {
      for (std::size_t i = 0; i < count; ++i) submit(request.commands(static_cast<int>(i)), batch, static_cast<std::uint32_t>(i));
    }
    slot_filled(batch);
  }

  /// Queues the replay of the participant's reports after `after` up to
  /// the sequence the session opened after (later ones reach it live), then
  /// the end marker. Unsolicited reports that commit meanwhile wait behind
  /// it. The read blocks this gRPC thread once, on the session's first
  /// message. False if the session is closing (the read failed, or the
  /// replay does not fit in the outbound buffer).
  bool replay(Sequence after) {
    {
      std::lock_guard lock(mutex_);
      if (closing_) return false;
      replaying_ = true;
    }
    store::OrderHistory history;
    Status refused;  // no read slot free
    Status read;
    {
      const ReadSlot slot(context_.read_slots);  // held for the read only
      refused = slot.status();
      if (refused.is_ok()) read = store::read_order_history(context_.ledger_conninfo, principal_.participant, after,
                                                             opened_after_, history);
    }
    if (!refused.is_ok()) read = refused;
    const std::size_t count = read.is_ok() ? replay_report_count(history, opened_after_) : 0;
    const std::size_t messages = (count + kReplayReportsPerMessage - 1) / kReplayReportsPerMessage + 1;  // + the end
    std::vector<v1::ExecutionReport> reports;
    if (read.is_ok() && messages <= options_.max_outbound_messages) reports = replay_reports(history, opened_after_);

    std::lock_guard lock(mutex_);
    replaying_ = false;
    std::deque<v1::SessionResponse> early = std::move(early_);
    early_.clear();
    held_ -= early.size();
    if (closing_) return false;
    if (!refused.is_ok()) {
      close_locked(to_grpc(refused), false);
      return false;
    }
    if (!read.is_ok()) {
      close_locked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the replay could not read the database: " + read.message()),
                   false);
      return false;
    }
    if (outbound_.size() + early.size() + messages > options_.max_outbound_messages) {
      close_locked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                "the replay holds " + std::to_string(count) +
                                    " reports, more than the session's outbound buffer takes (" +
                                    std::to_string(options_.max_outbound_messages) + " messages of " +
                                    std::to_string(kReplayReportsPerMessage) +
                                    ", one of them the replay's end); replay from a later replay_after_sequence"),
                   false);
      return false;
    }
    for (std::size_t at = 0; at < reports.size(); at += kReplayReportsPerMessage) {
      v1::SessionResponse response;
      response.set_replay(true);
      const std::size_t end = std::min(reports.size(), at + kReplayReportsPerMessage);
      for (std::size_t i = at; i < end; ++i) *response.add_reports() = std::move(reports[i]);
      outbound_.push_back(std::move(response));
    }
    v1::SessionResponse end;
    end.set_replay(true);  // no reports: the replay is complete
    outbound_.push_back(std::move(end));
    for (v1::SessionResponse& response : early) outbound_.push_back(std::move(response));
    return true;
  }

  static engine::CommandBody body_of(const v1::SessionCommand& command) {
    switch (command.command_case()) {
      case v1::SessionCommand::kPlace: return place_order_from(command.place());
      case v1::SessionCommand::kCancel: return cancel_order_from(command.cancel());
      case v1::SessionCommand::kAmend: return amend_order_from(command.amend());
      case v1::SessionCommand::COMMAND_NOT_SET: break;
    }
    return engine::Refused{"SessionCommand", Status{ErrorCode::invalid_argument, "empty command"}};
  }

  class SlotCompletion final : public engine::Completion {
   public:
    SlotCompletion(OrderSessionStream* session, std::shared_ptr<SessionBatch> batch, std::uint32_t index,
                   engine::CommandBody command, ParticipantId issuer)
        : session_(session), batch_(std::move(batch)), index_(index), command_(std::move(command)), issuer_(issuer) {}
    void complete(engine::Reply&& reply) override {
      append_command_reports(command_, issuer_, reply, index_, batch_->slots[index_]);
      session_->slot_filled(batch_);
      delete this;
    }
    void refuse(const Status& status) {
      append_refusal(command_, issuer_, status, index_, batch_->slots[index_]);
      session_->slot_filled(batch_);
    }
    const engine::CommandBody& command() const { return command_; }

   private:
    OrderSessionStream* session_;
    std::shared_ptr<SessionBatch> batch_;
    std::uint32_t index_;
    engine::CommandBody command_;
    ParticipantId issuer_;
  };

  /// Hands one command to the engine, as the unary calls do (see dispatch() in services.cpp).
  void submit(const v1::SessionCommand& wire, const std::shared_ptr<SessionBatch>& batch, std::uint32_t index) {
    engine::CommandBody body = body_of(wire);
    if (std::holds_alternative<engine::Refused>(body)) {
      append_refusal(body, principal_.participant, std::get<engine::Refused>(body).status, index, batch->slots[index]);
      slot_filled(batch);
      return;
    }
    auto completion = std::make_unique<SlotCompletion>(this, batch, index, body, principal_.participant);
    engine::Command command{principal_, std::move(body)};
    // A malformed command still goes through the engine, which journals the refusal.
    if (Status s = engine::validate(command.body); !s.is_ok()) {
      command.body = engine::Refused{engine::command_name(command.body), std::move(s)};
    }
    if (Status s = context_.runtime.submit(std::move(command), completion.get()); !s.is_ok()) {
      completion->refuse(s);
      return;
    }
    completion.release();  // the runtime owns it until complete()
  }

  ServiceContext context_;
  OrderSessions& sessions_;
  OrderSessionOptions options_;
  engine::Principal principal_;
  grpc::CallbackServerContext* call_;  ///< for the token check on each message
  static constexpr std::size_t kReplayReportsPerMessage = 1'000;

  bool registered_ = false;
  Sequence opened_after_ = 0;  ///< commits up to this were delivered before the session registered
  bool first_message_ = true;  ///< gRPC read reactions only (one read at a time)
  v1::SessionRequest request_;

  std::mutex mutex_;  ///< guards everything below
  std::deque<std::shared_ptr<SessionBatch>> pending_;  ///< unanswered or not yet sendable, in arrival order
  std::deque<v1::SessionResponse> outbound_;
  std::size_t held_ = 0;  ///< unsolicited responses held behind pending batches or the replay
  bool replaying_ = false;  ///< the first message's replay is being read: unsolicited responses go to early_
  std::deque<v1::SessionResponse> early_;  ///< unsolicited responses that wait for the replay
  v1::SessionResponse current_;  ///< the message being written
  bool writing_ = false;
  bool reading_ = false;
  bool reads_done_ = false;
  std::optional<grpc::Status> closing_;
  bool drain_ = false;
  bool finished_ = false;
};

// ---- OrderSessions ---------------------------------------------------------

Status OrderSessions::add(const engine::Principal& who, const Authenticator& auth, OrderSessionStream* session,
                          Sequence& delivered) {
  std::lock_guard lock(mutex_);
  if (closed_) return Status{ErrorCode::unavailable, "carbond is shutting down"};
  // Under the registry lock, which end_token() takes after the authenticator has the revocation.
  if (who.token_id != 0 && auth.revoked(who.token_id)) {
    return Status{ErrorCode::unauthenticated, "the session's bearer token was revoked"};
  }
  const ParticipantId participant = who.participant;
  std::vector<OrderSessionStream*>& open = sessions_[participant];
  if (open.size() >= options_.max_sessions_per_participant) {
    const std::size_t count = open.size();
    if (open.empty()) sessions_.erase(participant);
    return Status{ErrorCode::resource_exhausted,
                  "order sessions: participant " + std::to_string(participant) + " has " + std::to_string(count) +
                      " open, the most allowed ([server] session_max_per_participant); close one first"};
  }
  open.push_back(session);
  delivered = delivered_;
  return Status::ok();
}

void OrderSessions::remove(ParticipantId participant, OrderSessionStream* session) {
  std::lock_guard lock(mutex_);
  auto found = sessions_.find(participant);
  if (found == sessions_.end()) return;
  std::erase(found->second, session);
  if (found->second.empty()) sessions_.erase(found);
}

std::size_t OrderSessions::open_count() {
  std::lock_guard lock(mutex_);
  std::size_t open = 0;
  for (const auto& [participant, sessions] : sessions_) open += sessions.size();
  return open;
}

void OrderSessions::deliver(std::span<const engine::CommittedOutcome> batch) {
  std::lock_guard lock(mutex_);
  for (const engine::CommittedOutcome& committed : batch) delivered_ = std::max(delivered_, committed.outcome->sequence);
  if (sessions_.empty()) return;
  std::map<ParticipantId, v1::SessionResponse> responses;
  for (const engine::CommittedOutcome& committed : batch) {
    if (!changes_orders(*committed.outcome)) continue;
    for_each_unsolicited_report(committed, [&](ParticipantId owner, v1::ExecutionReport&& report) {
      if (!sessions_.contains(owner)) return;
      *responses[owner].add_reports() = std::move(report);
    });
  }
  for (auto& [owner, response] : responses) {
    const std::vector<OrderSessionStream*>& open = sessions_.at(owner);
    for (std::size_t i = 0; i < open.size(); ++i) {
      open[i]->push_unsolicited(i + 1 == open.size() ? std::move(response) : response);
    }
  }
}

void OrderSessions::end_token(std::uint64_t token_id) {
  if (token_id == 0) return;
  std::lock_guard lock(mutex_);
  for (auto& [participant, open] : sessions_) {
    for (OrderSessionStream* session : open) {
      if (session->token_id() == token_id) session->close_revoked();
    }
  }
}

void OrderSessions::close_all() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  for (auto& [participant, open] : sessions_) {
    for (OrderSessionStream* session : open) session->close_unavailable();
  }
}

// ---- TradingService.OrderSession -------------------------------------------

grpc::ServerBidiReactor<v1::SessionRequest, v1::SessionResponse>* TradingService::OrderSession(
    grpc::CallbackServerContext* ctx) {
  /// A refused session; finish() is called once (at once, or by the audit writer).
  class Refused final : public grpc::ServerBidiReactor<v1::SessionRequest, v1::SessionResponse> {
   public:
    void finish(const Status& status) { Finish(to_grpc(status)); }
    void OnDone() override { delete this; }
  };
  // Only traders open sessions (the table): a staff caller's attempt is
  // refused, and answered once its audit record is written.
  StreamOpen open(context_, ctx, "carbon.v1.TradingService/OrderSession", nullptr);
  Status outcome = open.admitted();
  if (outcome.is_ok() && context_.sessions == nullptr) {
    outcome = Status{ErrorCode::unimplemented, "order sessions are not enabled"};
  }
  if (!outcome.is_ok()) {
    auto* refused = new Refused;
    if (open.audited()) {
      open.record(std::move(outcome), [refused](const Status& status) { refused->finish(status); });
    } else {
      refused->finish(outcome);
    }
    return refused;
  }
  if (open.audited()) {
    // Not reached while the table admits traders only; recorded without holding the session back.
    open.record(Status::ok(), [](const Status&) {});
  }
  return new OrderSessionStream(context_, *context_.sessions, ctx, open.principal());
}

}  // namespace carbon::server
