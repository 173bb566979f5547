#pragma once
/// The plain value types the engine hands to the rest of carbond: records of
/// participants, orders and trades; commands in; events and replies out.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "matching/order_book.h"
#include "registry/ledger.h"
#include "registry/registry.h"
#include "settlement/clearing.h"

namespace carbon::engine {

/// Who is calling: decided by the server from the bearer token.
struct Principal {
  Role role = Role::trader;
  ParticipantId participant = 0;  ///< set for traders
  std::string name;               ///< staff name or participant code, for the journal
};

/// A participant with its two accounts. token_hash is SHA-256 of its trader token.
struct ParticipantRecord {
  ParticipantId id = 0;
  std::string code;
  std::string name;
  ParticipantType type = ParticipantType::institution;
  AccountId holding_account = 0;
  AccountId cash_account = 0;
  registry::Hash token_hash{};
  Sequence created_sequence = 0;
};

/// An order and its current state.
struct OrderRecord {
  OrderId id = 0;
  std::string client_order_id;
  ParticipantId participant = 0;
  std::string instrument;
  Side side = Side::buy;
  OrderType type = OrderType::limit;
  TimeInForce time_in_force = TimeInForce::day;
  TradingMode mode = TradingMode::listed;
  Price price;
  Qty quantity;
  Qty filled;
  OrderStatus status = OrderStatus::open;
  Sequence sequence = 0;    ///< the command that entered it
  UnixNanos entered_at = 0;
  std::uint64_t priority = 0;  ///< time priority in the book
  settlement::BuyReservation reservation;  ///< cash still locked (buy orders)
  Sequence updated_sequence = 0;
  Qty remaining() const { return quantity - filled; }
};

/// An execution between a buy order and a sell order.
struct TradeRecord {
  TradeId id = 0;
  std::string instrument;
  TradingMode mode = TradingMode::listed;
  Price price;
  Qty quantity;
  OrderId buy_order = 0;
  OrderId sell_order = 0;
  ParticipantId buyer = 0;
  ParticipantId seller = 0;
  Side aggressor = Side::buy;
  Sequence sequence = 0;
  UnixNanos executed_at = 0;
};

/// A cash account's balances with its key.
struct CashRecord {
  AccountId account = 0;
  ParticipantId participant = 0;
  settlement::CashAccount balance;
};

/// The first result of a deposit or withdrawal, kept for its idempotency key.
struct CashMovementRecord {
  AccountId account = 0;
  bool withdrawal = false;
  Cash amount;
  std::string idempotency_key;
  Sequence sequence = 0;
  settlement::CashAccount balance_after;
};

// ---- commands --------------------------------------------------------------

struct CreateParticipant {
  std::string code;
  std::string name;
  ParticipantType type = ParticipantType::institution;
  registry::Hash token_hash{};
};
struct MoveCash {
  AccountId cash_account = 0;
  Cash amount;
  std::string idempotency_key;
  bool withdrawal = false;
};
struct IssueAllowances {
  std::string instrument;
  AccountId holding_account = 0;
  Qty quantity;
  std::string reason;
};
struct PlaceOrder {
  std::string instrument;
  Side side = Side::buy;
  OrderType type = OrderType::limit;
  TimeInForce time_in_force = TimeInForce::day;
  TradingMode mode = TradingMode::listed;
  Price price;
  Qty quantity;
  std::string client_order_id;
};
struct CancelOrder {
  OrderId order_id = 0;
};
struct GetParticipant {
  ParticipantId participant = 0;
};
struct ListParticipants {};
struct GetOrder {
  OrderId order_id = 0;
};
struct ListOrders {
  std::string instrument;  ///< empty = all
  bool open_only = false;
};
struct ListTrades {
  std::string instrument;  ///< empty = all
};
struct GetBalances {};
struct GetBook {
  std::string instrument;
  std::uint32_t depth = 10;
};

/// A request the server refused before it reached the engine (validation);
/// the engine journals the rejection and answers `status`.
struct Refused {
  std::string command;  ///< the refused command's name ("PlaceOrder")
  Status status;
};

using CommandBody = std::variant<CreateParticipant, MoveCash, IssueAllowances, PlaceOrder, CancelOrder, GetParticipant,
                                 ListParticipants, GetOrder, ListOrders, ListTrades, GetBalances, GetBook, Refused>;

/// One request to the engine.
struct Command {
  Principal principal;
  CommandBody body;
};

/// True for commands that only read state.
bool is_query(const CommandBody& body);
/// The command's name as journaled ("PlaceOrder").
const char* command_name(const CommandBody& body);

// ---- events ----------------------------------------------------------------

struct ParticipantCreated {
  ParticipantRecord participant;
};
/// A cash account after a change.
struct CashChanged {
  CashRecord cash;
};
struct CashMoved {
  CashMovementRecord movement;
};
/// A holding after a change.
struct HoldingChanged {
  registry::HoldingRecord holding;
};
struct LedgerAppended {
  registry::LedgerEntry entry;
};
/// An order after a change (accepted, filled, cancelled).
struct OrderChanged {
  OrderRecord order;
};
struct TradeExecuted {
  TradeRecord trade;
};
struct CommandRejected {
  std::string command;
  std::string principal;
  ErrorCode code = ErrorCode::ok;
  std::string message;
};

using Event = std::variant<ParticipantCreated, CashChanged, CashMoved, HoldingChanged, LedgerAppended, OrderChanged,
                           TradeExecuted, CommandRejected>;

/// The event's kind as journaled ("TradeExecuted").
const char* event_name(const Event& event);

// ---- replies ---------------------------------------------------------------

/// One side of a book snapshot.
struct BookView {
  std::string instrument;
  std::vector<matching::DepthLevel> bids;
  std::vector<matching::DepthLevel> asks;
};

/// What a command answers. Which fields are set depends on the command.
struct Reply {
  Status status;
  Sequence sequence = 0;  ///< the command's sequence, 0 for queries
  std::vector<ParticipantRecord> participants;
  std::vector<OrderRecord> orders;
  std::vector<TradeRecord> trades;
  std::optional<CashRecord> cash;
  std::vector<registry::HoldingRecord> holdings;
  std::uint64_t ledger_entry_id = 0;
  std::optional<BookView> book;
};

/// The result of one engine step: the reply and the events to journal before it is sent.
struct Outcome {
  Sequence sequence = 0;  ///< 0 when nothing was journaled (queries, idempotent repeats)
  UnixNanos at = 0;
  std::vector<Event> events;
  Reply reply;
};

/// Everything loaded from the database to rebuild the engine.
struct RecoveredState {
  Sequence last_sequence = 0;
  std::vector<ParticipantRecord> participants;
  std::vector<CashRecord> cash;
  std::vector<CashMovementRecord> cash_movements;
  std::vector<registry::HoldingRecord> holdings;
  std::vector<OrderRecord> orders;  ///< every order, open or not
  std::vector<TradeRecord> trades;
  std::uint64_t last_ledger_entry_id = 0;
  registry::Hash last_ledger_hash{};
};

}  // namespace carbon::engine
