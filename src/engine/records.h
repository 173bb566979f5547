#pragma once
/// The plain value types the engine hands to the rest of carbond: records of
/// participants, orders and trades; commands in; events and replies out.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "engine/access_records.h"
#include "engine/auction_records.h"
#include "engine/repo_records.h"
#include "engine/instrument_records.h"
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
  std::uint64_t token_id = 0;     ///< the API token used; 0 for config staff tokens and first trader tokens
  UnixNanos expires_at = 0;       ///< the token's expiry, 0 = never (set by the server's authenticator)
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
  ParticipantId counterparty = 0;  ///< block offers: the named counterparty, 0 = open to all eligible
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
  Cash buyer_fee;   ///< paid by the buyer to the fee account, on top of price × quantity
  Cash seller_fee;  ///< deducted from the seller's proceeds, to the fee account
};

/// How self-trade prevention resolves an incoming order meeting a resting
/// order of the same participant.
enum class SelfTradePrevention : std::uint8_t {
  cancel_resting = 1,   ///< the resting order is cancelled and matching goes on
  cancel_incoming = 2,  ///< the default: the incoming order's remainder is cancelled
  cancel_both = 3,      ///< both are cancelled
};

/// A participant's trading controls, set by an operator.
struct ParticipantControls {
  ParticipantId participant = 0;
  SelfTradePrevention self_trade = SelfTradePrevention::cancel_incoming;
  bool suspended = false;
  std::string suspension_reason;
  Sequence updated_sequence = 0;
};

/// An instrument's market state: the reference price its bands are centred
/// on, the last closing price, and an operator halt.
struct InstrumentState {
  std::string instrument;
  Price reference;       ///< 0 = none yet: orders are refused until an operator sets one
  Price previous_close;  ///< the last closing price, 0 before the first end of day
  bool halted = false;
  std::string halt_reason;
  Sequence updated_sequence = 0;
};

/// The market-wide state: the trading day in progress and a market-wide halt.
struct MarketState {
  std::string trading_date;       ///< "YYYY-MM-DD"; empty until the first command that needs it
  Sequence day_opened_sequence = 0;  ///< trades after this sequence belong to trading_date
  bool halted = false;
  std::string halt_reason;
  /// Why cash and units are held (Exchange::check_settlement_hold), empty when not: set by an end of day whose
  /// reconciliation failed, cleared by one that balances or by a ResumeTrading that finds the books balanced.
  /// Journaled with the state but not kept in table market_state: a start refuses books that do not balance.
  std::string settlement_hold;
  Sequence updated_sequence = 0;
};

/// Open, high, low, close, volume and turnover of one instrument in one
/// trading mode on one trading day. For listed trading, close is the
/// official closing price (the day's volume-weighted average); for block
/// trading it is the last block trade's price.
struct DailyBar {
  std::string instrument;
  std::string trading_date;
  TradingMode mode = TradingMode::listed;
  Price open;
  Price high;
  Price low;
  Price close;
  Qty volume;
  Cash turnover;
  std::uint64_t trade_count = 0;
  Sequence sequence = 0;
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

// ---- registry records ------------------------------------------------------

/// The cap of one compliance year and sector, with its paid share and what is allocated free under it.
struct CapRecord {
  int year = 0;
  std::string sector;
  Qty cap;
  std::int64_t paid_share_bps = 0;  ///< share sold by auction rather than allocated free
  Qty issued;                       ///< everything issued under the cap (registry::CapUsage::issued)
  Qty free_allocated;               ///< issued by free allocation, net of deductions
  std::string reason;
  Sequence sequence = 0;
  /// cap × (10,000 − paid share) / 10,000, rounded down.
  Qty free_limit() const {
    return Qty{static_cast<std::int64_t>(static_cast<__int128>(cap.value) * (10'000 - paid_share_bps) / 10'000)};
  }
};

/// One free allocation made by AllocateFree.
struct AllocationRecord {
  std::uint64_t id = 0;  ///< dense from 1
  int year = 0;
  std::string sector;
  ParticipantId participant = 0;
  std::string instrument;
  Qty gross;
  Qty deducted;
  Qty issued;
  std::optional<registry::AllocationFormula> formula;  ///< factors in parts per 10,000
  std::string output_unit;
  std::string reason;
  std::uint64_t ledger_entry_id = 0;  ///< 0 when nothing was issued
  Sequence sequence = 0;
  UnixNanos at = 0;
};

/// One key emitting unit's compliance for one year, with what the registry core does not keep.
struct ComplianceRecord {
  registry::ComplianceStatus status;  ///< obligation, surrendered, shortfall, closed
  ParticipantId participant = 0;
  std::string sector;
  std::string verifier;
  std::string report_reference;
  Price penalty_basis;      ///< set when the year closed short
  int penalty_multiple = 0; ///< set when the year closed short
  Cash penalty;             ///< shortfall × basis × multiple, set when the year closed short
  Sequence sequence = 0;
};

/// A freeze, in force or lifted, as the API shows it.
struct FreezeView {
  registry::FreezeRecord record;  ///< quantity = what was frozen when placed
  Qty remaining;                  ///< zero once lifted
  Role placed_by = Role::regulator;
  std::string legal_reference;
  UnixNanos lifted_at = 0;        ///< 0 while in force
  Sequence sequence = 0;
  bool active() const { return remaining.is_positive(); }
};

/// A key emitting unit whose coverage of its obligation is below the threshold (ListEarlyWarnings).
struct EarlyWarningRecord {
  ParticipantId participant = 0;
  std::string name;
  std::string sector;
  Qty obligation;        ///< verified emissions of the year
  Qty surrendered;       ///< allowances and CCER surrendered for the year
  Qty eligible;          ///< usable units held (registry::EarlyWarning::covered less the open buys)
  Qty open_buys;         ///< open buy orders of allowances of vintages up to the year
  std::int64_t coverage_bps = 0;  ///< (surrendered + eligible + open buys) × 10,000 / obligation
};

/// The first use of an idempotency key by a registry command: a repeat with the same
/// parameters answers from it without a second effect; other parameters are refused.
struct IdempotencyRecord {
  std::string command;      ///< "AllocateFree", "Surrender", ...
  std::uint64_t target = 0; ///< participant, account or freeze the key belongs to
  std::string key;
  std::string fingerprint;  ///< the parameters of the first use
  Sequence sequence = 0;    ///< the first use's sequence
  std::uint64_t object_id = 0;  ///< allocation, freeze or ledger entry id of the first use
  std::uint64_t ledger_entry_id = 0;  ///< Freeze, Pledge: the first use's ledger entry (its object is the freeze or pledge)
};

/// A compliance year's parameters (ConfigureComplianceYear). An unconfigured year uses the defaults
/// and no deadline.
struct ComplianceYearConfig {
  int year = 0;
  UnixNanos deadline = 0;                          ///< surrender deadline; CloseComplianceYear waits for it
  std::int64_t ccer_limit_bps = 500;               ///< this build: only 500 (5%)
  int penalty_multiple = registry::kMinPenaltyMultiple;  ///< 5 to 10
  std::int64_t early_warning_threshold_bps = 0;    ///< 0 = 10,000 (anyone not fully covered)
  Sequence sequence = 0;
};

/// A pledge, active or closed, as the API shows it.
struct PledgeView {
  registry::PledgeRecord record;  ///< quantity = pledged at creation; pledgor and pledgee are holding accounts
  ParticipantId pledgor_participant = 0;
  ParticipantId pledgee_participant = 0;
  Qty released;
  Qty enforced;
  Qty remaining;
  bool last_enforced = false;  ///< the last action was an enforcement (status once closed)
  UnixNanos closed_at = 0;     ///< 0 while active
  Sequence sequence = 0;
  bool active() const { return remaining.is_positive(); }
};

/// A shortfall of a closed year not yet deducted from an allocation (owed zero: fully deducted).
struct ShortfallOwed {
  AccountId unit = 0;
  int year = 0;
  Qty owed;
};

// ---- CCER records (ccer_commands.cpp) ----------------------------------------

/// A registered methodology with what the API shows beyond the registry's code and title.
struct MethodologyRecord {
  std::string code;
  std::string name;
  std::string version;
  std::string field;
  std::string document_reference;
  UnixNanos registered_at = 0;
  Sequence sequence = 0;
};

/// A registered CCER project: the registry's project plus what the API shows.
struct CcerProjectRecord {
  registry::CcerProject project;  ///< id, code, owner holding account, methodology, validation body, status
  ParticipantId owner = 0;
  std::string name;
  std::string location;
  std::string validation_report_reference;
  std::string public_notice_reference;
  std::string crediting_start;  ///< "YYYY-MM-DD"
  std::string crediting_end;    ///< "YYYY-MM-DD", after the start
  Qty issued;                   ///< tonnes issued so far
  UnixNanos registered_at = 0;
  Sequence sequence = 0;        ///< the last change
};

/// One IssueCcerCredits: the block of fresh serials and the verification it rests on.
struct CcerIssuanceRecord {
  std::uint64_t id = 0;  ///< dense from 1
  registry::CcerBlock block;
  AccountId account = 0;  ///< the owner's holding account credited
  std::string monitoring_start;  ///< "YYYY-MM-DD"
  std::string monitoring_end;    ///< "YYYY-MM-DD"
  std::string verification_body;
  std::string verification_report_reference;
  std::uint64_t ledger_entry_id = 0;
  UnixNanos at = 0;
  Sequence sequence = 0;
};

/// A public retirement (cancellation): the registry's record plus the holder and the command.
struct RetirementRecord {
  registry::Retirement retirement;  ///< id, account, quantity, beneficiary, purpose, serial blocks, ledger entry, time
  ParticipantId participant = 0;
  std::string instrument;
  Sequence sequence = 0;
};

/// A serial block as the API shows it: with where it is held and its project's code and methodology.
struct SerialBlockView {
  registry::CcerBlock block;
  AccountId account = 0;
  std::string project_code;
  std::string methodology;
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
  std::string idempotency_key{};  ///< optional; scoped to the holding account
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
/// Changes an open listed limit order: 0 leaves a field unchanged.
struct AmendOrder {
  OrderId order_id = 0;
  Price new_price;
  Qty new_quantity;
};
/// Cancels the caller's open listed orders, optionally of one instrument and side.
struct CancelAllOrders {
  std::string instrument;  ///< empty = all
  std::optional<Side> side;
};
struct OfferBlockTrade {
  std::string instrument;
  Side side = Side::sell;
  Price price;
  Qty quantity;
  ParticipantId counterparty = 0;  ///< 0 = open to all eligible participants
  std::string client_order_id;
};
struct AcceptBlockTrade {
  OrderId offer_id = 0;
  Price expected_price;
  Qty expected_quantity;
  std::string client_order_id;
};
struct ListBlockOffers {
  std::string instrument;  ///< empty = all
  std::optional<OrderStatus> status;  ///< nothing = any
};
struct SetParticipantControls {
  ParticipantId participant = 0;
  std::optional<SelfTradePrevention> self_trade;  ///< nothing = unchanged
  std::optional<bool> suspended;                   ///< nothing = unchanged
  std::string reason;
};
/// Halts one instrument, or the whole market when instrument is empty.
struct HaltTrading {
  std::string instrument;
  std::string reason;
};
struct ResumeTrading {
  std::string instrument;
};
struct SetReferencePrice {
  std::string instrument;
  Price price;
  std::string reason;
};
struct SetTradingCalendar {
  int year = 0;
  std::vector<std::string> holidays;  ///< "YYYY-MM-DD"
};
struct GetTradingCalendar {
  int year = 0;
};
struct RunEndOfDay {
  std::string trading_date;  ///< "YYYY-MM-DD"
};
struct GetDailyBars {
  std::string instrument;
  std::string from_date;  ///< inclusive, empty = 30 calendar days before to_date
  std::string to_date;    ///< inclusive, empty = today (Asia/Shanghai)
};
struct ListInstruments {};
struct GetParticipant {
  ParticipantId participant = 0;
};
struct ListParticipants {};
struct GetOrder {
  OrderId order_id = 0;
};
/// The caller's orders (staff: everyone's) entered or changed in the trading day
/// in progress, plus those still open, by id: at most `limit` of them (0 = no limit) with an id
/// above `after_id` (a page's keyset cursor).
struct ListOrders {
  std::string instrument;  ///< empty = all
  bool open_only = false;
  OrderId after_id = 0;
  std::size_t limit = 0;
};
/// The caller's trades of the trading day in progress, by id: at most `limit`
/// (0 = no limit) with an id above `after_id`.
struct ListTrades {
  std::string instrument;  ///< empty = all
  TradeId after_id = 0;
  std::size_t limit = 0;
};
struct GetBalances {};
struct GetBook {
  std::string instrument;
  std::uint32_t depth = 10;
};

// Registry commands (RegistryService, RegulatorService).

/// Sets (or replaces) the cap of one compliance year and sector.
struct SetCap {
  int year = 0;
  std::string sector;  ///< lowercase a-z and '_'
  Qty cap;
  std::int64_t paid_share_bps = 0;
  std::string reason;
};
struct ListCaps {
  int year = 0;  ///< 0 = all
};
/// Free allocation to a key emitting unit: a given quantity or a benchmark formula.
struct AllocateFree {
  int year = 0;
  std::string sector;
  ParticipantId participant = 0;
  std::string instrument;
  Qty direct;                                          ///< > 0 when given directly
  std::optional<registry::AllocationFormula> formula;  ///< set when computed
  std::string output_unit;
  std::string reason;
  std::string idempotency_key;
};
struct ListAllocations {
  int year = 0;                   ///< 0 = all
  ParticipantId participant = 0;  ///< 0 = all (a trader: its own)
  std::string sector;             ///< empty = all
};
struct RecordVerifiedEmissions {
  ParticipantId participant = 0;
  int year = 0;
  std::string sector;
  Qty emissions;
  std::string verifier;
  std::string report_reference;
  std::string reason;  ///< required when correcting an earlier record
  std::string idempotency_key;
};
struct Surrender {
  ParticipantId participant = 0;  ///< 0 = the calling trader's own participant
  int year = 0;
  std::string instrument;
  Qty quantity;
  std::string idempotency_key;
};
struct GetComplianceStatus {
  ParticipantId participant = 0;  ///< 0 = the calling trader's own participant
  int year = 0;
};
struct ListComplianceStatuses {
  int year = 0;
};
/// Closes a compliance year after its deadline.
struct CloseComplianceYear {
  int year = 0;
  Price penalty_basis_override;  ///< 0 = computed from the daily closes of the month before the close
};
/// Freezes available units; who ordered it follows from the caller's role.
struct Freeze {
  AccountId account = 0;
  std::string instrument;
  Qty quantity;
  std::string reason;
  std::string legal_reference;
  std::string idempotency_key;
};
/// Lifts a freeze in whole (quantity 0) or in part; the rest stays frozen with its reason.
struct Unfreeze {
  registry::FreezeId freeze = 0;
  Qty quantity;
  std::string reason;
  std::string idempotency_key;
};
/// Units whose coverage is below `threshold_bps` of their obligation (0 = 10,000: anyone not fully covered).
struct ListEarlyWarnings {
  int year = 0;
  std::int64_t threshold_bps = 0;
};
struct ListFreezes {
  AccountId account = 0;   ///< 0 = all
  std::string instrument;  ///< empty = all
  int status = 0;          ///< 0 any, 1 active, 2 lifted
};
/// Moves available units between holder accounts outside the order book.
struct TransferUnits {
  AccountId from = 0;
  AccountId to = 0;
  std::string instrument;
  Qty quantity;
  std::string reason;
  std::string idempotency_key;
};
struct GetHoldings {
  AccountId account = 0;
};
/// Sets the parameters of one compliance year (0 fields take the defaults).
struct ConfigureComplianceYear {
  int year = 0;
  UnixNanos deadline = 0;
  std::int64_t ccer_limit_bps = 0;              ///< 0 = 500
  int penalty_multiple = 0;                     ///< 0 = 5
  std::int64_t early_warning_threshold_bps = 0;
};
/// Pledges available units of a holding account to a pledgee participant.
struct PledgeUnits {
  AccountId account = 0;
  std::string instrument;
  Qty quantity;
  ParticipantId pledgee = 0;
  std::string contract_reference;
  std::string idempotency_key;
};
/// Releases (repayment) or enforces (default) part or all (quantity 0) of a pledge.
struct ReleasePledge {
  registry::PledgeId pledge = 0;
  Qty quantity;
  std::string reason;
  std::string idempotency_key;
};
struct EnforcePledge {
  registry::PledgeId pledge = 0;
  Qty quantity;
  std::string reason;
  std::string idempotency_key;
};
struct ListPledges {
  ParticipantId participant = 0;  ///< as pledgor or pledgee; 0 = all (a trader: itself)
  int status = 0;                 ///< 0 any, 1 active, 2 released, 3 enforced
};

// CCER commands (RegistryService; ccer_commands.cpp).

struct RegisterMethodology {
  MethodologyRecord methodology;  ///< registered_at and sequence are set by the engine
};
struct ListMethodologies {};
struct RegisterCcerProject {
  std::string project_code;
  std::string name;
  std::string methodology;
  ParticipantId owner = 0;
  std::string location;
  std::string validation_body;
  std::string validation_report_reference;
  std::string public_notice_reference;
  std::string crediting_start;
  std::string crediting_end;
};
struct ListCcerProjects {
  std::string methodology;  ///< empty = all
  ParticipantId owner = 0;  ///< 0 = all
};
struct IssueCcerCredits {
  registry::ProjectId project = 0;
  int vintage = 0;
  Qty quantity;
  std::string monitoring_start;
  std::string monitoring_end;
  std::string verification_body;
  std::string verification_report_reference;
  std::string idempotency_key;
};
/// The serial blocks of one holding account, or (staff) of one project across every account.
struct ListSerialBlocks {
  AccountId account = 0;              ///< 0 = every account (needs project)
  registry::ProjectId project = 0;    ///< 0 = every project
};
struct RetireUnits {
  ParticipantId participant = 0;  ///< 0 = the calling trader's own participant
  std::string instrument;
  Qty quantity;
  std::string beneficiary;
  std::string purpose;
  std::string idempotency_key;
};
struct ListRetirements {
  std::string instrument;         ///< empty = all
  ParticipantId participant = 0;  ///< 0 = all
  UnixNanos from = 0;             ///< inclusive, 0 = from the first
  UnixNanos to = 0;               ///< exclusive, 0 = up to now
};

/// A request the server refused before it reached the engine (validation);
/// the engine journals the rejection and answers `status`.
struct Refused {
  std::string command;  ///< the refused command's name ("PlaceOrder")
  Status status;
};

// ---- clearing: statements, reconciliation, surveillance alerts -------------

/// Cash conservation: deposits - withdrawals = participants' cash + the fee account.
struct CashReconciliation {
  Cash deposits;
  Cash withdrawals;
  Cash participant_balances;  ///< available + reserved + unsettled of every participant's cash account
  Cash fee_account;           ///< the exchange fee account (settlement::kFeeCashAccount)
  Cash proceeds_account;      ///< system-seller auction proceeds (settlement::kAuctionProceedsCashAccount)
  Cash difference;            ///< deposits - withdrawals - all of the above; 0 when balanced
  bool balanced = true;
};

/// Unit conservation of one instrument: issued = holdings + system accounts.
struct UnitReconciliation {
  std::string instrument;
  Qty issued;                ///< minus the issuance account's balance
  Qty participant_holdings;  ///< every participant's holding account, all states
  Qty reserve_account;
  Qty auction_account;
  Qty surrendered;
  Qty retired;               ///< the cancellation account
  Qty difference;            ///< 0 when balanced
  bool balanced = true;
};

/// One conservation check, live or recorded by an end of day.
struct ReconciliationRecord {
  std::string trading_date;  ///< empty for a live check
  Sequence as_of_sequence = 0;
  CashReconciliation cash;
  std::vector<UnitReconciliation> units;  ///< by instrument code
  bool balanced = true;
  UnixNanos computed_at = 0;
  std::uint32_t statements_written = 0;  ///< end of day: the settlement statements written with it
};

/// A surveillance alert (RegulatorService.ListSurveillanceAlerts). Type and
/// severity carry the proto enum numbers (carbon.v1.AlertType, AlertSeverity).
struct AlertRecord {
  static constexpr int kSelfTradeAttempt = 3;        ///< ALERT_TYPE_SELF_TRADE_ATTEMPT
  static constexpr int kOrderToTradeRatio = 6;       ///< ALERT_TYPE_ORDER_TO_TRADE_RATIO
  static constexpr int kMarkingTheClose = 7;         ///< ALERT_TYPE_MARKING_THE_CLOSE
  static constexpr int kBlockPriceDeviation = 9;     ///< ALERT_TYPE_BLOCK_PRICE_DEVIATION
  static constexpr int kPositionLimitBreach = 10;    ///< ALERT_TYPE_POSITION_LIMIT_BREACH
  static constexpr int kLargeHolder = 11;            ///< ALERT_TYPE_LARGE_HOLDER
  static constexpr int kConcentration = 13;          ///< ALERT_TYPE_CONCENTRATION
  static constexpr int kReconciliationFailure = 14;  ///< ALERT_TYPE_RECONCILIATION_FAILURE
  static constexpr int kSeverityLow = 1;             ///< ALERT_SEVERITY_LOW
  static constexpr int kSeverityMedium = 2;          ///< ALERT_SEVERITY_MEDIUM
  static constexpr int kSeverityHigh = 3;            ///< ALERT_SEVERITY_HIGH
  std::uint64_t id = 0;
  int type = 0;
  int severity = 0;
  std::string instrument;
  std::vector<ParticipantId> participants;
  std::string description;
  std::int64_t metric_value = 0;
  std::int64_t threshold_value = 0;
  std::string metric_unit;
  UnixNanos window_start = 0;
  UnixNanos window_end = 0;
  UnixNanos detected_at = 0;
  Sequence sequence = 0;
};

/// One instrument of a settlement statement.
struct StatementLine {
  std::string instrument;
  Qty opening;                ///< total held at the start of the day
  Qty bought, sold;           ///< by trade
  Qty received, delivered;    ///< other than by trade (issuance, allocation, transfer, surrender)
  registry::Holding closing;  ///< after end of day released T+1 units
  Cash bought_value, sold_value, fees;
  Price closing_price;
};

/// A participant's settlement statement for one trading day, written by end of day.
struct StatementRecord {
  ParticipantId participant = 0;
  std::string trading_date;
  AccountId cash_account = 0;
  AccountId holding_account = 0;
  Cash opening_cash;  ///< total cash at the start of the day (the previous statement's closing total)
  Cash deposits, withdrawals, bought_value, sold_value, fees;
  settlement::CashAccount closing_cash;
  std::vector<StatementLine> lines;  ///< by instrument code
  std::vector<TradeRecord> trades;   ///< the day's trades of the participant, oldest first
  UnixNanos generated_at = 0;
  Sequence sequence = 0;
};

struct GetReconciliation {
  std::string trading_date;  ///< empty: a live check now
};
struct ListSurveillanceAlerts {
  UnixNanos from = 0;  ///< inclusive; 0 = from the beginning
  UnixNanos to = 0;    ///< exclusive; 0 = up to now
  int type = 0;        ///< 0 = all
  int min_severity = 0;
  ParticipantId participant = 0;
  std::string instrument;
};

using CommandBody =
    std::variant<CreateParticipant, MoveCash, IssueAllowances, PlaceOrder, CancelOrder, GetParticipant, ListParticipants,
                 GetOrder, ListOrders, ListTrades, GetBalances, GetBook, Refused, AmendOrder, CancelAllOrders,
                 OfferBlockTrade, AcceptBlockTrade, ListBlockOffers, SetParticipantControls, HaltTrading, ResumeTrading,
                 SetReferencePrice, SetTradingCalendar, GetTradingCalendar, RunEndOfDay, GetDailyBars, ListInstruments,
                 SetCap, ListCaps, AllocateFree, ListAllocations, RecordVerifiedEmissions, Surrender,
                 GetComplianceStatus, ListComplianceStatuses, CloseComplianceYear, Freeze, Unfreeze, ListFreezes,
                 TransferUnits, GetHoldings, ListEarlyWarnings, ConfigureComplianceYear, PledgeUnits, ReleasePledge,
                 EnforcePledge, ListPledges, RegisterMethodology, ListMethodologies,
                 RegisterCcerProject, ListCcerProjects, IssueCcerCredits, ListSerialBlocks, RetireUnits,
                 ListRetirements, GetReconciliation, ListSurveillanceAlerts, IssueApiToken,
                 RevokeApiToken, ListApiTokens, CreateAuction, CloseAuction, CancelAuction, ListAuctions,
                 SubmitAuctionBid, ListAuctionBids, RegisterRepo, ListRepos, CreateInstrument,
                 UpdateInstrumentRules, GetAccountBalances>;

/// One request to the engine.
struct Command {
  Principal principal;
  CommandBody body;
  /// Set by the server for calls that are audited (staff actions): the full
  /// method name, the peer and the request as JSON. Empty: not audited.
  std::string audit_method = {};
  std::string audit_peer = {};
  std::string audit_request = {};
  ParticipantId audit_participant = 0;  ///< the participant named in the request, if any
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

struct ParticipantControlsChanged {
  ParticipantControls controls;
};
struct InstrumentStateChanged {
  InstrumentState state;
};
struct MarketStateChanged {
  MarketState state;
};
/// The holidays of one calendar year, replaced as a whole.
struct CalendarChanged {
  int year = 0;
  std::vector<std::string> holidays;
};
struct DailyBarRecorded {
  DailyBar bar;
};

/// A cap after a change (set, or an allocation counted against it).
struct CapChanged {
  CapRecord cap;
};
struct AllocationMade {
  AllocationRecord allocation;
};
/// A unit's compliance for a year after a change (emissions, surrender, close).
struct ComplianceChanged {
  ComplianceRecord compliance;
};
/// A shortfall owed after a change (a year closed short, or an allocation deducted it).
struct ShortfallOwedChanged {
  ShortfallOwed shortfall;
};
/// A compliance year closed: the penalty basis and multiple applied to its short units.
struct ComplianceYearClosed {
  int year = 0;
  Price penalty_basis;
  int penalty_multiple = 0;
  Sequence sequence = 0;
};
struct IdempotencyKeyUsed {
  IdempotencyRecord record;
};
/// A freeze after a change (placed or lifted).
struct FreezeChanged {
  FreezeView freeze;
};
/// A compliance year's parameters after ConfigureComplianceYear.
struct ComplianceYearConfigured {
  ComplianceYearConfig config;
};
/// A pledge after a change (pledged, released, enforced).
struct PledgeChanged {
  PledgeView pledge;
};

struct MethodologyRegistered {
  MethodologyRecord methodology;
};
/// A project after a change (registered, credits issued).
struct CcerProjectChanged {
  CcerProjectRecord project;
};
struct CcerIssued {
  CcerIssuanceRecord issuance;
};
/// Every serial block an account holds after a change, oldest first (empty: none left).
struct CcerBlocksChanged {
  AccountId account = 0;
  std::vector<registry::CcerBlock> blocks;
};
struct UnitsRetired {
  RetirementRecord retirement;
};

/// The conservation check of an end of day.
struct ReconciliationRecorded {
  ReconciliationRecord report;
};
struct AlertRaised {
  AlertRecord alert;
};
struct StatementWritten {
  StatementRecord statement;
};

using Event = std::variant<ParticipantCreated, CashChanged, CashMoved, HoldingChanged, LedgerAppended, OrderChanged,
                           TradeExecuted, CommandRejected, ParticipantControlsChanged, InstrumentStateChanged,
                           MarketStateChanged, CalendarChanged, DailyBarRecorded, CapChanged, AllocationMade,
                           ComplianceChanged, ShortfallOwedChanged, ComplianceYearClosed, FreezeChanged,
                           IdempotencyKeyUsed, ComplianceYearConfigured, PledgeChanged, MethodologyRegistered,
                           CcerProjectChanged, CcerIssued, CcerBlocksChanged, UnitsRetired, ReconciliationRecorded,
                           AlertRaised, StatementWritten, ApiTokenChanged, AuctionChanged,
                           RepoChanged, InstrumentDefined>;

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
  /// A resubmitted client order id: `orders` holds the order as it stands (its trades in `trades`), and
  /// `sequence` is the first submission's; nothing new was applied.
  bool repeated = false;
  /// A staff read's audit record: the participant it acted on (Exchange::acted_on), set by the runtime.
  ParticipantId acted_on = 0;
  /// A staff command that journaled nothing (an idempotent repeat, a revocation of a revoked token, a day
  /// already closed): its audit record, which no journal batch carries. Set by the runtime; the server writes
  /// it, with the outcome, before answering.
  std::optional<AuditEntry> unjournaled_audit;
  std::vector<ParticipantRecord> participants;
  std::vector<OrderRecord> orders;
  std::vector<TradeRecord> trades;
  std::optional<CashRecord> cash;
  std::vector<registry::HoldingRecord> holdings;
  std::uint64_t ledger_entry_id = 0;
  std::optional<BookView> book;
  std::optional<ParticipantControls> controls;
  std::vector<InstrumentState> instruments;
  std::vector<InstrumentConfig> instrument_rules;  ///< the rules of each of `instruments` where the reply has them
  std::optional<MarketState> market;
  std::vector<std::string> holidays;  ///< GetTradingCalendar, SetTradingCalendar
  std::vector<DailyBar> bars;          ///< RunEndOfDay, GetDailyBars
  bool priority_kept = false;          ///< AmendOrder
  std::string closed_date;             ///< RunEndOfDay: the day closed
  std::string next_date;               ///< RunEndOfDay: the next trading day
  std::uint64_t expired_orders = 0;    ///< RunEndOfDay
  std::uint64_t band_cancelled_orders = 0;  ///< RunEndOfDay: GTC orders outside the next day's band
  /// GetOrder (NOT_FOUND): the order exists but was closed in a trading day that has ended, so the engine no
  /// longer holds it; its final state is in PostgreSQL (the server reads it there).
  bool order_closed_earlier = false;
  std::vector<CapRecord> caps;                 ///< SetCap, ListCaps
  std::vector<AllocationRecord> allocations;   ///< AllocateFree, ListAllocations
  std::vector<ComplianceRecord> compliance;    ///< RecordVerifiedEmissions, Surrender, Get/List, CloseComplianceYear
  std::vector<FreezeView> freezes;             ///< Freeze, Unfreeze, ListFreezes
  std::vector<EarlyWarningRecord> early_warnings;  ///< ListEarlyWarnings, lowest coverage first
  Price penalty_basis;                         ///< CloseComplianceYear
  int penalty_multiple = 0;                    ///< CloseComplianceYear
  std::vector<ComplianceYearConfig> compliance_years;  ///< ConfigureComplianceYear, CloseComplianceYear
  std::vector<PledgeView> pledges;             ///< Pledge, ReleasePledge, EnforcePledge, ListPledges
  std::vector<MethodologyRecord> methodologies;  ///< RegisterMethodology, ListMethodologies
  std::vector<CcerProjectRecord> projects;       ///< RegisterCcerProject, ListCcerProjects
  std::vector<CcerIssuanceRecord> issuances;     ///< IssueCcerCredits
  std::vector<SerialBlockView> serial_blocks;    ///< ListSerialBlocks, first in first
  std::vector<RetirementRecord> retirements;     ///< RetireUnits, ListRetirements (newest first);
                                                 ///< their projects are in `projects`
  std::optional<ReconciliationRecord> reconciliation;  ///< GetReconciliation, RunEndOfDay
  std::vector<AlertRecord> alerts;                     ///< ListSurveillanceAlerts, newest first
  std::uint32_t statements_written = 0;                ///< RunEndOfDay
  std::vector<ApiTokenRecord> api_tokens;      ///< IssueApiToken, RevokeApiToken, ListApiTokens
  std::vector<AuctionRecord> auctions;         ///< auction commands and queries (bids sealed for traders)
  std::vector<RepoRecord> repos;               ///< RegisterRepo, ListRepos (oldest first)
  std::int64_t threshold_bps = 0;              ///< ListEarlyWarnings: the threshold applied
};

/// The result of one engine step: the reply and the events to journal before it is sent.
struct Outcome {
  Sequence sequence = 0;  ///< 0 when nothing was journaled (queries, idempotent repeats)
  UnixNanos at = 0;
  std::vector<Event> events;
  Reply reply;
  std::optional<AuditEntry> audit;  ///< set by the runtime for audited commands that journaled events (else see
                                    ///< Reply::unjournaled_audit)
};

/// The digest by which the engine remembers a client order id of an order it no longer holds (closed in a
/// trading day that has ended): FNV-1a, 64 bits. Kept per participant, so two ids can only collide within
/// one participant's own; a collision refuses the later id as reused, it never repeats a different order.
constexpr std::uint64_t client_id_digest(std::string_view client_order_id) {
  std::uint64_t digest = 0xcbf29ce484222325ull;
  for (const char c : client_order_id) {
    digest ^= static_cast<unsigned char>(c);
    digest *= 0x100000001b3ull;
  }
  return digest;
}

/// Everything loaded from the database to rebuild the engine.
struct RecoveredState {
  Sequence last_sequence = 0;
  std::vector<ParticipantRecord> participants;
  std::vector<CashRecord> cash;
  std::vector<CashMovementRecord> cash_movements;
  std::vector<registry::HoldingRecord> holdings;
  /// The orders the engine holds: those open, those entered or changed in the trading day in progress, and
  /// every auction bid and offer. Orders closed in an earlier trading day stay only in PostgreSQL (recovery
  /// also loads a closed order that still reserves something, for check_state to refuse).
  std::vector<OrderRecord> orders;
  std::vector<TradeRecord> trades;  ///< those of the trading day in progress, and every auction's
  OrderId last_order_id = 0;        ///< the highest order id ever given (orders above are not all loaded)
  TradeId last_trade_id = 0;        ///< the highest trade id ever given
  /// (participant, client_id_digest, order id) of every client order id of the orders not loaded, which stay
  /// used.
  std::vector<std::tuple<ParticipantId, std::uint64_t, OrderId>> closed_client_ids;
  std::uint64_t last_ledger_entry_id = 0;
  registry::Hash last_ledger_hash{};
  std::vector<ParticipantControls> controls;
  std::vector<InstrumentState> instrument_states;
  std::optional<MarketState> market;
  std::vector<CalendarChanged> calendars;  ///< holidays by year
  std::vector<DailyBar> bars;
  /// Tonnes issued or allocated to each holding account per instrument (for position limits).
  std::vector<std::tuple<AccountId, std::string, Qty>> allocated;
  std::vector<CapRecord> caps;
  std::vector<AllocationRecord> allocations;  ///< by id
  std::vector<ComplianceRecord> compliance;
  std::vector<ShortfallOwed> shortfalls_owed;
  std::vector<FreezeView> freezes;  ///< in force and lifted
  std::vector<ComplianceYearClosed> closed_years;
  std::vector<IdempotencyRecord> idempotency;
  std::vector<ComplianceYearConfig> compliance_years;
  std::vector<PledgeView> pledges;  ///< active and closed
  std::vector<MethodologyRecord> methodologies;
  std::vector<CcerProjectRecord> projects;      ///< any order; restored by id
  std::vector<CcerIssuanceRecord> issuances;    ///< any order; restored by id
  std::vector<CcerBlocksChanged> ccer_blocks;   ///< per account, oldest block first
  std::vector<RetirementRecord> retirements;    ///< any order; restored by id
  std::vector<ReconciliationRecord> reconciliations;  ///< recorded by ends of day
  std::vector<AlertRecord> alerts;                    ///< by id
  /// Each participant's latest settlement statement (the last end of day's): the opening of its next one.
  std::vector<StatementRecord> statements;
  /// Ledger entries other than trades since the trading day opened: (from, to, instrument, tonnes).
  std::vector<std::tuple<AccountId, AccountId, std::string, Qty>> day_transfers;
  std::vector<ApiTokenRecord> api_tokens;  ///< by id
  std::vector<AuctionRecord> auctions;     ///< by id
  std::vector<RepoRecord> repos;           ///< open and closed, by id
  std::vector<InstrumentConfig> instrument_definitions;  ///< created or changed at run time, by code
};

}  // namespace carbon::engine
