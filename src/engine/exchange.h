#pragma once
/// The exchange's whole market state and the one function that changes it.

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/config.h"
#include "engine/records.h"
#include "matching/ladder_book.h"
#include "matching/trading_rules.h"
#include "registry/registry.h"
#include "settlement/clearing.h"

namespace carbon::engine {

/// Risk checks, matching and post-trade (registry + clearing) in one step.
/// Not thread-safe: owned by the engine thread. Deterministic: the same
/// commands at the same times give the same events and state.
class Exchange {
 public:
  /// The most price levels a listed band may span (the order book keeps 4 bytes a level a side).
  static constexpr std::int64_t kMaxBookLevels = 2'000'000;

  /// Throws std::runtime_error on a malformed configured holiday.
  explicit Exchange(const Config& config);

  /// Applies one command at time `now` and returns its events and reply.
  Outcome execute(const Command& command, UnixNanos now);

  /// For a staff call's audit record: the participant a request acts on when it names an account, an
  /// order, a pledge, an auction or a token rather than a participant (the holder of the account; a
  /// transfer's source, else its destination; a repo's seller; an order's owner while the engine holds
  /// it; a pledge's pledgor; an auction's selling participant; a token's participant). 0 when it names
  /// none, or a system account.
  ParticipantId acted_on(const CommandBody& body) const;

  /// Rebuilds the state from what the database holds. Call once, before execute().
  void restore(const RecoveredState& state);

  /// The last sequence number handed out.
  Sequence last_sequence() const { return last_sequence_; }
  /// Every participant, by id.
  std::vector<ParticipantRecord> participants() const;
  const registry::Registry& registry() const { return registry_; }
  const settlement::Clearing& clearing() const { return clearing_; }
  /// The listed order book of an instrument, or nullptr if the instrument is unknown.
  const matching::LadderBook* book(const std::string& instrument) const;
  /// The order with this id, or nullptr (also for an order closed in a trading day that has ended).
  const OrderRecord* order(OrderId id) const;
  /// How many orders the order tables (by id, by client order id, trades by order) hold before
  /// one of them grows, rehashing all it holds ([engine] expected_orders_per_day, or more after a restore).
  std::size_t orders_before_growth() const;
  /// The highest order id given so far.
  OrderId last_order_id() const { return last_order_id_; }
  /// The market state of an instrument, or nullptr if it is unknown.
  const InstrumentState* instrument_state(const std::string& instrument) const;
  const MarketState& market_state() const { return market_; }
  const FeeSchedule& fees() const { return fees_; }
  /// Every API token, revoked ones included, by id (access_commands.cpp).
  std::vector<ApiTokenRecord> api_tokens() const;
  /// The auction with this id, or nullptr (auction_commands.cpp).
  const AuctionRecord* auction(std::uint64_t id) const;
  /// Every instrument's code, in order (instrument_commands.cpp).
  std::vector<std::string> instrument_codes() const;
  /// After restore(): the instruments whose book holds a listed order outside the listed band (a config
  /// that narrowed the band, or a database from before bands were kept on resting orders). A
  /// SetReferencePrice at the reference in force cancels those orders, journaled.
  std::vector<std::string> instruments_with_orders_outside_band() const;
  /// The rules of an instrument, or nullptr if it is unknown.
  const InstrumentConfig* instrument_config(const std::string& instrument) const;

 private:
  struct Step;  // the command being applied: sequence, time, events, touched rows

  /// Running totals of one instrument in one mode on the trading day in progress.
  struct DayStats {
    Price open, high, low, last;
    Qty volume;
    Cash turnover;
    std::uint64_t trades = 0;
    void add(Price price, Qty quantity);
  };

  /// An instrument with its rules, state, book and the day's statistics.
  struct Instrument {
    InstrumentConfig config;
    matching::SessionSchedule schedule;  ///< config's sessions
    InstrumentState state;
    std::unique_ptr<matching::LadderBook> book;
    DayStats listed_day;
    DayStats block_day;
    DayStats auction_day;
    DayStats& day(TradingMode mode) {
      return mode == TradingMode::block ? block_day : mode == TradingMode::auction ? auction_day : listed_day;
    }
  };

  Status create_participant(Step& step, const Principal& who, const CreateParticipant& command);
  Status move_cash(Step& step, const MoveCash& command);
  Status issue_allowances(Step& step, const IssueAllowances& command);
  Status place_order(Step& step, const Principal& who, const PlaceOrder& command);
  Status cancel_order(Step& step, const Principal& who, const CancelOrder& command);
  Status amend_order(Step& step, const Principal& who, const AmendOrder& command);
  Status cancel_all_orders(Step& step, const Principal& who, const CancelAllOrders& command);
  Status offer_block_trade(Step& step, const Principal& who, const OfferBlockTrade& command);
  Status accept_block_trade(Step& step, const Principal& who, const AcceptBlockTrade& command);
  Status set_participant_controls(Step& step, const Principal& who, const SetParticipantControls& command);
  Status halt_trading(Step& step, const Principal& who, const HaltTrading& command);
  Status resume_trading(Step& step, const Principal& who, const ResumeTrading& command);
  Status set_reference_price(Step& step, const Principal& who, const SetReferencePrice& command);
  Status set_trading_calendar(Step& step, const Principal& who, const SetTradingCalendar& command);
  Status run_end_of_day(Step& step, const Principal& who, const RunEndOfDay& command);
  Status query(Reply& reply, const Principal& who, const CommandBody& body, UnixNanos now) const;

  // Registry commands and queries (registry_commands.cpp).
  Status set_cap(Step& step, const Principal& who, const SetCap& command);
  Status allocate_free(Step& step, const Principal& who, const AllocateFree& command);
  /// IssueAllowances' issuance counted against the caps of the instrument's vintage year
  /// (registry_commands.cpp): refuses beyond their sum, spreads the quantity over the sectors.
  Status issue_under_year_caps(Step& step, const IssueAllowances& command);
  Status record_verified_emissions(Step& step, const Principal& who, const RecordVerifiedEmissions& command);
  Status surrender(Step& step, const Principal& who, const Surrender& command);
  Status close_compliance_year(Step& step, const Principal& who, const CloseComplianceYear& command);
  Status freeze(Step& step, const Principal& who, const Freeze& command);
  Status unfreeze(Step& step, const Principal& who, const Unfreeze& command);
  Status transfer_units(Step& step, const Principal& who, const TransferUnits& command);
  // Compliance-year configuration and pledges (pledge_commands.cpp).
  Status configure_compliance_year(Step& step, const Principal& who, const ConfigureComplianceYear& command);
  Status pledge_units(Step& step, const Principal& who, const PledgeUnits& command);
  Status release_pledge(Step& step, const Principal& who, const ReleasePledge& command);
  Status enforce_pledge(Step& step, const Principal& who, const EnforcePledge& command);
  /// Answers ListPledges.
  Status pledge_query(Reply& reply, const Principal& who, const ListPledges& query) const;
  /// Puts back compliance-year configurations and pledges.
  void restore_pledges(const RecoveredState& state);
  /// The penalty basis month's daily listed CEA closes: the calendar month before `reference`'s (Asia/Shanghai).
  std::vector<Price> closes_of_month_before(UnixNanos reference, std::string& month_text) const;
  /// Emits PledgeChanged and answers with the pledge and the holdings it touched.
  void reply_pledge(Step& step, const PledgeView& view);
  /// Answers a registry query; UNIMPLEMENTED for a body that is not one.
  Status registry_query(Reply& reply, const Principal& who, const CommandBody& body) const;
  /// Puts back the registry state of `state` (caps, allocations, compliance, freezes).
  void restore_registry(const RecoveredState& state);

  // Repos (repo_commands.cpp).
  Status register_repo(Step& step, const Principal& who, const RegisterRepo& command);
  /// End of day of `date`: settles the second leg of every open repo due on or before it, or
  /// defaults it when the seller's available cash is short. After the T+1 release.
  void settle_due_repos(Step& step, const std::string& date);
  Status repo_query(Reply& reply, const Principal& who, const ListRepos& query) const;
  /// The repos with a leg today (opened, or completed, since the day opened), for the statements.
  std::vector<const RepoRecord*> repos_with_legs_today() const;
  /// Adds the day's repo legs of `participant` (from `today`) to its statement as bought and sold (by value).
  void repo_statement_legs(const ParticipantRecord& participant, const std::vector<const RepoRecord*>& today,
                           StatementRecord& st, std::map<std::string, StatementLine>& lines) const;
  void restore_repos(const RecoveredState& state);

  // API tokens (access_commands.cpp).
  /// UNAUTHENTICATED if the caller's API token was revoked or has expired by `now` (a call authenticated
  /// just before, or a revocation answered UNAVAILABLE that committed later); OK for token id 0.
  Status token_in_force(const Principal& who, UnixNanos now) const;
  /// Journals the market state with this step (a market-wide halt or resume).
  void emit_market_state(Step& step);
  Status issue_api_token(Step& step, const Principal& who, const IssueApiToken& command);
  Status revoke_api_token(Step& step, const Principal& who, const RevokeApiToken& command);
  Status access_query(Reply& reply, const Principal& who, const CommandBody& body, UnixNanos now) const;
  void restore_access(const RecoveredState& state);
  /// Journals a participant's first trader token (made by CreateParticipant) as an API token.
  void record_first_token(Step& step, const ParticipantRecord& participant);
  std::uint64_t next_api_token_id() const;
  /// The participant holding `account`, or null.
  const ParticipantRecord* holder_of(AccountId account) const;
  /// The participant a registry command names: for a trader its own (0 or its id), for staff the id given.
  Status resolve_unit(const Principal& who, ParticipantId requested, const ParticipantRecord*& out) const;
  /// The full compliance record of a unit for a year, from the registry plus what the engine keeps.
  ComplianceRecord compliance_record(int year, const ParticipantRecord& unit) const;
  void emit_compliance(Step& step, int year, const ParticipantRecord& unit);
  /// The first use of (command, target, key), or null. FAILED_PRECONDITION in `status` when the
  /// key was used with other parameters.
  const IdempotencyRecord* repeat_of_key(const char* command, std::uint64_t target, const std::string& key,
                                         const std::string& fingerprint, Status& status) const;
  void remember_key(Step& step, const char* command, std::uint64_t target, const std::string& key,
                    std::string fingerprint, std::uint64_t object_id, std::uint64_t ledger_entry_id = 0);
  /// FAILED_PRECONDITION naming the settlement hold (MarketState::settlement_hold) while the last end-of-day
  /// reconciliation failed: cash does not leave the exchange, units do not move outside trading (transfers, repos,
  /// enforcement, retirement) or come into being until it balances again.
  Status check_settlement_hold(std::string_view what) const;
  /// Emits ShortfallOwedChanged for every year of `unit` that was owed before or is owed now.
  void emit_shortfalls(Step& step, AccountId unit, const std::vector<std::pair<int, Qty>>& before);

  // CCER commands and queries (ccer_commands.cpp).
  Status register_methodology(Step& step, const Principal& who, const RegisterMethodology& command);
  Status register_ccer_project(Step& step, const Principal& who, const RegisterCcerProject& command);
  Status issue_ccer_credits(Step& step, const Principal& who, const IssueCcerCredits& command);
  Status retire_units(Step& step, const Principal& who, const RetireUnits& command);
  /// Answers a CCER query; INTERNAL for a body that is not one.
  Status ccer_query(Reply& reply, const Principal& who, const CommandBody& body) const;
  /// Puts back methodologies, projects, issuances, serial blocks and retirements.
  void restore_ccer(const RecoveredState& state);
  /// The API's view of a block held by `account`.
  SerialBlockView block_view(const registry::CcerBlock& block, AccountId account) const;

  // Instruments and staff balances (instrument_commands.cpp).
  Status create_instrument(Step& step, const Principal& who, const CreateInstrument& command);
  Status update_instrument_rules(Step& step, const Principal& who, const UpdateInstrumentRules& command);
  /// Checks `rules` and sets them in `config` over its market's configured defaults.
  Status apply_rules(const InstrumentRulesInput& rules, InstrumentConfig& config) const;
  /// Sets an instrument's rules (and its session schedule) and resizes its book to the band.
  void define_instrument(Instrument& instrument, InstrumentConfig config);
  /// Adds the instrument's state and rules to a reply.
  void reply_instrument(Reply& reply, const Instrument& instrument) const;
  Status account_balances(Reply& reply, const Principal& who, const GetAccountBalances& query) const;
  /// The participant's cash and non-zero holdings (GetBalances, GetAccountBalances).
  void fill_balances(Reply& reply, const ParticipantRecord& participant) const;
  /// An instrument's own eligible participant types (not empty).
  static Status check_eligible_types(const InstrumentConfig& config, const ParticipantRecord& participant);
  /// Puts back the instruments created or changed at run time, before their state.
  void restore_instruments(const RecoveredState& state);

  /// The rules every new order, amendment, offer and acceptance must pass at `now`.
  Status check_open_for_trading(const Instrument& instrument, const ParticipantRecord& participant, TradingMode mode,
                                UnixNanos now) const;
  Status check_eligible(const Instrument& instrument, const ParticipantRecord& participant) const;
  Status check_price(const Instrument& instrument, Price price, TradingMode mode) const;
  Status check_position_limit(const Instrument& instrument, const ParticipantRecord& participant, Qty more) const;
  /// Reserves what a new order of `side` needs: cash for a buy, units for a sell.
  Status reserve(Step& step, const ParticipantRecord& participant, OrderRecord& order, Qty quantity);
  /// Returns the idempotent reply for a reused client order id, or nothing if the id is new.
  std::optional<Status> repeat_of(Step& step, ParticipantId participant, const std::string& client_order_id,
                                  const PlaceOrder& as_order);

  /// Matches `order` (not resting) against the book with self-trade
  /// prevention, then rests its remainder (DAY, GTC) or cancels it.
  void match_and_rest(Step& step, Instrument& instrument, OrderRecord& order);
  void execute_fill(Step& step, OrderRecord& incoming, const matching::Fill& fill);
  /// Takes a resting order off the book and finishes it as `terminal`.
  void remove_resting(Step& step, OrderRecord& order, OrderStatus terminal);
  void finish_order(Step& step, OrderRecord& order, OrderStatus terminal);
  void count_open_buy(const OrderRecord& order, Qty delta);
  /// The part of an open buy's cash reservation that belongs to `quantity` of its remaining tonnes.
  Cash reserved_share(const OrderRecord& buy, Qty quantity) const;
  void rebuild_book(Instrument& instrument);
  /// Cancels the resting listed orders whose price the instrument's listed band no longer admits (a new
  /// reference price or the next day's close under a GTC order, a narrower band): every trade stays
  /// inside its day's band. Then fits the book to the band.
  /// Cancels the resting orders outside the instrument's listed band; returns how many.
  std::size_t cancel_outside_band(Step& step, Instrument& instrument);
  /// INVALID_ARGUMENT if the listed band around `reference` spans more price levels than a book holds.
  Status check_band_levels(const InstrumentConfig& config, Price reference, const std::string& what) const;
  void touch_cash(Step& step, AccountId account);
  void touch_holding(Step& step, AccountId account, const std::string& instrument);
  void flush_touched(Step& step);
  // Clearing: statements, reconciliation, surveillance alerts (clearing_commands.cpp).
  /// The conservation check of the state now.
  ReconciliationRecord reconcile(UnixNanos now) const;
  /// End of day, after T+1 release: a statement per participant, the reconciliation, and on a
  /// failed reconciliation a market-wide halt and a surveillance alert.
  void close_day_clearing(Step& step, const std::string& date);
  /// surveillance.cpp: the end of day's alerts from the day's orders and trades ([surveillance]); runs before
  /// the closes become the next references.
  void surveil_day(Step& step);
  /// surveillance.cpp: a BLOCK_PRICE_DEVIATION alert if `trade`, a block trade just made, is priced [surveillance]
  /// block_deviation_bps or more away from the reference price its band was set around.
  void alert_block_deviation(Step& step, const Instrument& instrument, const TradeRecord& trade);
  /// surveillance.cpp: a LARGE_HOLDER alert for each instrument whose total `statement` shows crossing
  /// [surveillance] large_holder_tonnes during the day (opened below, closed at or above).
  void alert_large_holdings(Step& step, const ParticipantRecord& participant, const StatementRecord& statement);
  /// Gives `alert` the next id, the step's sequence and time, journals it and keeps it.
  void raise_alert(Step& step, AlertRecord alert);
  /// The statement of `participant` for `date`, from its own rows only: `trades` its trades of the day (in
  /// sequence order), `repos` the repos with a leg today; deposits, withdrawals and transfers by its accounts.
  StatementRecord statement_of(const ParticipantRecord& participant, const std::string& date, Sequence sequence,
                               UnixNanos at, const std::vector<const TradeRecord*>& trades,
                               const std::vector<const RepoRecord*>& repos) const;
  Status clearing_query(Reply& reply, const Principal& who, const CommandBody& body, UnixNanos now) const;
  /// Notes the day's transfers other than trades (for statements).
  void note_day_transfer(const registry::LedgerEntry& entry);
  void restore_clearing(const RecoveredState& state);

  // Single-side auctions (auction_commands.cpp).
  Status create_auction(Step& step, const Principal& who, const CreateAuction& command);
  Status submit_auction_bid(Step& step, const Principal& who, const SubmitAuctionBid& command);
  Status close_auction(Step& step, const Principal& who, const CloseAuction& command);
  Status cancel_auction(Step& step, const Principal& who, const CancelAuction& command);
  /// CancelOrder of an order in mode auction: a bid while its window is open; never the seller's offer.
  Status cancel_auction_order(Step& step, const ParticipantRecord& participant, OrderRecord& order);
  Status auction_query(Reply& reply, const Principal& who, const CommandBody& body, UnixNanos now) const;
  void restore_auctions(const RecoveredState& state);
  /// Finishes an open bid: releases what it still reserves and takes it out of the open buys.
  void finish_auction_bid(Step& step, OrderRecord& bid, OrderStatus terminal);
  /// One winning bid's trade: delivery versus payment from the auction's offer.
  void fill_auction_bid(Step& step, AuctionRecord& auction, OrderRecord& offer, OrderRecord& bid, Price price,
                        Qty quantity);
  void emit_auction(Step& step, AuctionRecord& auction, bool public_change);

  /// End of day, once the day's statements are made: lets go of the orders closed in it and of its trades
  /// (auction bids, offers and trades excepted, which their auctions list and a repeated CloseAuction answers).
  /// They stay in PostgreSQL, where GetOrder finds them (Reply::order_closed_earlier); memory holds one trading
  /// day plus what is still open.
  void forget_closed_day();
  /// Indexes an order about to be added to orders_: held_order_ids_, its participant's list (none for an
  /// auction offer with no seller participant) and its client order id. A new order's id is the highest yet,
  /// so the lists stay ascending; restore() sorts them after indexing every recovered order.
  void index_new_order(const OrderRecord& order);
  /// The NOT_FOUND of an order id the engine does not hold: closed in an earlier trading day if the id was
  /// given, else unknown. Sets reply.order_closed_earlier for the former.
  Status order_not_held(OrderId id, Reply* reply = nullptr) const;

  /// The trading day in progress; set from `now` when nothing has set it yet.
  void ensure_trading_date(UnixNanos now);
  std::optional<matching::PriceBand> band(const Instrument& instrument, TradingMode mode) const;

  const ParticipantRecord* trader(const Principal& who) const;
  SelfTradePrevention self_trade_mode(ParticipantId participant) const;

  std::map<std::string, Instrument> instruments_;
  FeeSchedule fees_;
  registry::Registry registry_;
  settlement::Clearing clearing_;
  InstrumentConfig compliance_defaults_;  ///< CreateInstrument's rules for what a request leaves out
  InstrumentConfig voluntary_defaults_;
  std::map<int, std::vector<std::chrono::year_month_day>> holidays_;  ///< by year
  matching::TradingCalendar calendar_;
  MarketState market_;
  std::chrono::year_month_day trading_day_{};  ///< market_.trading_date, parsed
  bool market_dirty_ = false;  ///< market_ changed in memory and is journaled with the next event

  std::map<ParticipantId, ParticipantRecord> participants_;
  std::unordered_map<std::string, ParticipantId> participant_by_code_;
  std::unordered_map<AccountId, ParticipantId> owner_of_cash_account_;
  std::map<ParticipantId, ParticipantControls> controls_;
  /// Open orders, orders of the trading day in progress, and auction bids and offers (forget_closed_day).
  std::unordered_map<OrderId, OrderRecord> orders_;
  /// The ids of orders_, ascending: staff ListOrders pages through it, so a page costs its own length, not a
  /// pass over every order held.
  std::vector<OrderId> held_order_ids_;
  std::unordered_map<ParticipantId, std::vector<OrderId>> orders_by_participant_;  ///< each ascending (ListOrders)
  /// A (participant, client order id) key as looked up: the map's keys hash and compare equal to their views,
  /// so a lookup copies no string.
  using ClientIdView = std::pair<ParticipantId, std::string_view>;
  struct ClientIdHash {
    using is_transparent = void;
    // noexcept for the key type too, so libstdc++ keeps no hash in each node: keeping it (8 bytes a node) made
    // neither lookups nor the longest insert (a rehash) faster in a probe of 2 M keys.
    std::size_t operator()(ClientIdView key) const noexcept {
      return std::hash<std::string_view>{}(key.second) ^ (std::hash<ParticipantId>{}(key.first) * 0x9E3779B97F4A7C15ull);
    }
    std::size_t operator()(const std::pair<ParticipantId, std::string>& key) const noexcept {
      return (*this)(ClientIdView{key.first, key.second});
    }
  };
  struct ClientIdEqual {
    using is_transparent = void;
    bool operator()(ClientIdView a, ClientIdView b) const noexcept { return a == b; }
  };
  /// Looked up by every order with a client order id (its repeat check): a
  /// hash, not a tree of string keys (a tree was 1.5% of the machine at
  /// 20 k orders/s, and restore() inserts every open order's key).
  std::unordered_map<std::pair<ParticipantId, std::string>, OrderId, ClientIdHash, ClientIdEqual> order_by_client_id_;
  /// Client order ids of the orders let go by forget_closed_day, per participant: (client_id_digest, order id),
  /// sorted. A client order id stays used for good; a resubmission is refused naming its order (16 bytes an
  /// order that had one).
  std::unordered_map<ParticipantId, std::vector<std::pair<std::uint64_t, OrderId>>> closed_client_ids_;
  /// Adds (digest, order) pairs to a participant's sorted closed client ids, keeping them sorted.
  static void merge_closed_client_ids(std::vector<std::pair<std::uint64_t, OrderId>>& into,
                                      std::vector<std::pair<std::uint64_t, OrderId>> more);
  /// FAILED_PRECONDITION naming the order if `participant` used `client_order_id` for an order closed in a
  /// trading day that has ended.
  Status check_client_id_unused_earlier(ParticipantId participant, const std::string& client_order_id) const;
  std::set<OrderId> open_block_offers_;
  std::map<std::pair<ParticipantId, std::string>, Qty> open_buys_;  ///< remaining tonnes of open buy orders
  std::map<std::pair<AccountId, std::string>, Qty> allocated_;     ///< issued to a holding account
  /// The trading day's and every auction's, ascending by id and by sequence (ListTrades). A deque:
  /// appending never moves the ones before (a vector's growth would move the whole day at once).
  std::deque<TradeRecord> trades_;
  /// Positions in trades_ of each order's trades (either side), for a
  /// resubmitted order's or a cleared auction's reply without a scan of every trade.
  std::unordered_map<OrderId, std::vector<std::size_t>> trades_by_order_;
  /// Appends to trades_ and indexes the trade by its two orders.
  void record_trade(TradeRecord trade);
  /// Appends the trades of `order` to `out`, in the order they were made.
  void append_trades_of(OrderId order, std::vector<TradeRecord>& out) const;
  std::vector<DailyBar> bars_;
  std::map<std::tuple<AccountId, bool, std::string>, CashMovementRecord> cash_movements_;

  std::map<std::pair<int, std::string>, CapRecord> caps_;
  std::vector<AllocationRecord> allocations_;  ///< index = id - 1
  std::map<std::pair<int, ParticipantId>, ComplianceRecord> compliance_;  ///< extras; amounts come from registry_
  std::map<int, ComplianceYearClosed> closed_years_;
  std::map<int, ComplianceYearConfig> year_configs_;
  std::map<registry::PledgeId, PledgeView> pledges_;  ///< active and closed
  std::map<registry::FreezeId, FreezeView> freezes_;  ///< in force and lifted
  std::unordered_map<AccountId, ParticipantId> owner_of_holding_account_;
  std::map<std::tuple<std::string, std::uint64_t, std::string>, IdempotencyRecord> idempotency_;
  std::map<std::uint64_t, ApiTokenRecord> api_tokens_;
  std::map<std::uint64_t, RepoRecord> repos_;  ///< open and closed, by id
  /// Units sold on open repos, by seller and instrument: they come back at the second leg, so they count
  /// towards the seller's position limit until then (check_position_limit).
  std::map<std::pair<ParticipantId, std::string>, Qty> out_on_repo_;

  std::map<std::string, MethodologyRecord> methodologies_;  ///< by code
  std::vector<CcerProjectRecord> projects_;                 ///< index = project id - 1
  std::vector<CcerIssuanceRecord> ccer_issuances_;          ///< index = issuance id - 1
  std::vector<RetirementRecord> retirements_;               ///< index = retirement id - 1
  std::map<std::string, ReconciliationRecord> reconciliations_;  ///< by trading date
  std::vector<AlertRecord> alerts_;                              ///< index = id - 1
  SurveillanceConfig surveillance_;                              ///< surveillance alert levels
  /// Each participant's latest statement without its trades: the opening of the next one. Earlier statements
  /// are only in PostgreSQL (GetStatement reads them there).
  std::map<ParticipantId, StatementRecord> last_statement_;
  /// Tonnes received and delivered other than by trade today, by (holding account, instrument).
  std::map<std::pair<AccountId, std::string>, std::pair<Qty, Qty>> day_transfers_;

  std::map<std::uint64_t, AuctionRecord> auctions_;
  std::map<std::string, std::uint64_t> auction_by_key_;  ///< CreateAuction idempotency keys
  std::unordered_map<OrderId, std::uint64_t> auction_of_order_;  ///< bids and offers → their auction

  Sequence last_sequence_ = 0;
  ParticipantId last_participant_id_ = 0;
  AccountId last_account_id_ = registry::kFirstParticipantAccount - 1;
  OrderId last_order_id_ = 0;
  TradeId last_trade_id_ = 0;
};

}  // namespace carbon::engine
