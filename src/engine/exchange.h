#pragma once
/// The exchange's whole market state and the one function that changes it.

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/config.h"
#include "engine/records.h"
#include "matching/order_book.h"
#include "registry/registry.h"
#include "settlement/clearing.h"

namespace carbon::engine {

/// Risk checks, matching and post-trade (registry + clearing) in one step.
/// Not thread-safe: owned by the engine thread. Deterministic: the same
/// commands at the same times give the same events and state.
class Exchange {
 public:
  explicit Exchange(const Config& config);

  /// Applies one command at time `now` and returns its events and reply.
  Outcome execute(const Command& command, UnixNanos now);

  /// Rebuilds the state from what the database holds. Call once, before execute().
  void restore(const RecoveredState& state);

  /// The last sequence number handed out.
  Sequence last_sequence() const { return last_sequence_; }
  /// Every participant, by id.
  std::vector<ParticipantRecord> participants() const;
  const registry::Registry& registry() const { return registry_; }
  const settlement::Clearing& clearing() const { return clearing_; }
  /// The book of an instrument, or nullptr if the instrument is unknown.
  const matching::OrderBook* book(const std::string& instrument) const;
  /// The order with this id, or nullptr.
  const OrderRecord* order(OrderId id) const;

 private:
  struct Step;  // the command being applied: sequence, time, events, touched rows

  Status create_participant(Step& step, const Principal& who, const CreateParticipant& command);
  Status move_cash(Step& step, const MoveCash& command);
  Status issue_allowances(Step& step, const IssueAllowances& command);
  Status place_order(Step& step, const Principal& who, const PlaceOrder& command);
  Status cancel_order(Step& step, const Principal& who, const CancelOrder& command);
  Status query(Reply& reply, const Principal& who, const CommandBody& body) const;

  Status check_order(const ParticipantRecord& participant, const PlaceOrder& command) const;
  void execute_fill(Step& step, OrderRecord& incoming, const matching::Fill& fill);
  void finish_order(Step& step, OrderRecord& order, OrderStatus terminal);
  void touch_cash(Step& step, AccountId account);
  void touch_holding(Step& step, AccountId account, const std::string& instrument);
  void flush_touched(Step& step);

  const ParticipantRecord* trader(const Principal& who) const;

  std::map<std::string, InstrumentConfig> instruments_;
  std::map<std::string, matching::OrderBook> books_;
  registry::Registry registry_;
  settlement::Clearing clearing_;

  std::map<ParticipantId, ParticipantRecord> participants_;
  std::unordered_map<std::string, ParticipantId> participant_by_code_;
  std::unordered_map<AccountId, ParticipantId> owner_of_cash_account_;
  std::unordered_map<OrderId, OrderRecord> orders_;
  std::unordered_map<ParticipantId, std::vector<OrderId>> orders_by_participant_;
  std::map<std::pair<ParticipantId, std::string>, OrderId> order_by_client_id_;
  std::vector<TradeRecord> trades_;
  std::map<std::tuple<AccountId, bool, std::string>, CashMovementRecord> cash_movements_;

  Sequence last_sequence_ = 0;
  ParticipantId last_participant_id_ = 0;
  AccountId last_account_id_ = registry::kFirstParticipantAccount - 1;
  OrderId last_order_id_ = 0;
  TradeId last_trade_id_ = 0;
};

}  // namespace carbon::engine
