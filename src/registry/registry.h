#pragma once
/// Who holds which units: holding accounts, their states, and every transfer
/// as a double-entry ledger entry; allocation under a cap, compliance, CCER.
///
/// Conservation: every operation moves units between accounts or between
/// states of one account, so for each instrument the sum of all holdings
/// (the issuance account negative by the supply) stays zero.
///
/// Ledger entries. Movements between accounts are entries from → to. Acts
/// that change the state of units inside one account and that a regulator
/// must be able to audit (freeze, unfreeze, pledge, pledge release) are
/// entries with from_account == to_account. Reserving for a sell order,
/// releasing that reservation and the end-of-day release of pending units
/// are mechanical and write no entry (the holdings projection carries them).
/// The reference strings the registry writes itself:
///   allocation          "allocation:<year>:<sector>[:deducted=<t>]"
///   surrender           "surrender:<year>"
///   retirement          "retirement:<id>:<beneficiary>:<purpose>" (serials in the Retirement record)
///   transfer            the caller's reference
///   correction          "corrects:<entry id>:<reason>"
///   freeze / unfreeze   "freeze:<id>:<regulator|court>:<ordered by>:<reason>"
///   pledge / release    "pledge:<id>:pledgee=<account>[:<reference>]"
///   pledge_enforcement  "pledge:<id>:enforced"
///   ccer_issuance       "ccer:<project code>:<vintage>:<first serial>-<last serial>[:<reason>]"
///   repo legs           "repo:<id>:first", "repo:<id>:second", "repo:<id>:defaulted" (the release to the buyer)
/// CCER serials are not written per movement: blocks leave an account first
/// in, first out, so replaying the chain from the issuance entries (which
/// carry the serials) reproduces every block; the chain therefore covers them.

#include <algorithm>
#include <map>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "registry/allocation.h"
#include "registry/ccer.h"
#include "registry/compliance.h"
#include "registry/ledger.h"

namespace carbon::registry {

/// The registry's own accounts. The issuance account goes negative by exactly the supply.
inline constexpr AccountId kIssuanceAccount = 1;
inline constexpr AccountId kReserveAccount = 2;
inline constexpr AccountId kAuctionAccount = 3;
inline constexpr AccountId kSurrenderAccount = 4;
inline constexpr AccountId kCancellationAccount = 5;
/// Account ids below this are system accounts.
inline constexpr AccountId kFirstParticipantAccount = 100;

/// Units of one instrument in one account, by state. All in tonnes.
struct Holding {
  Qty available;  ///< free to sell, surrender or transfer
  Qty reserved;   ///< locked by open sell orders
  Qty pending;    ///< bought today, sellable from the next trading day (T+1)
  Qty frozen;     ///< locked by a regulator or court
  Qty pledged;    ///< locked in favour of a pledgee
  Qty total() const { return available + reserved + pending + frozen + pledged; }
  bool operator==(const Holding&) const = default;
};

/// The instrument code of CCER. Every other instrument is an allowance (CEA<vintage>).
inline constexpr const char* kCcerInstrument = "CCER";

/// The registry's configuration (defaults from DESIGN.md).
struct RegistryRules {
  int ccer_offset_cap_percent = 5;  ///< CCER surrendered for a year ≤ this % of the obligation
};

/// A status plus a value that is meaningful only when the status is ok.
template <typename T>
struct [[nodiscard]] Result {
  Status status;
  T value{};
  bool is_ok() const { return status.is_ok(); }
};

using FreezeId = std::uint64_t;
using PledgeId = std::uint64_t;

/// Who ordered a freeze. A regulator's freeze is lifted only by a regulator; a court's
/// (placed through the registry authority) by a court or a regulator.
enum class FreezeAuthority : std::uint8_t { regulator = 1, court = 2 };

/// An order to freeze available units.
struct FreezeOrder {
  AccountId account = 0;
  std::string instrument;
  Qty quantity;
  FreezeAuthority authority = FreezeAuthority::regulator;
  std::string ordered_by;  ///< the person or body, e.g. "MEE enforcement bureau"
  std::string reason;
};

/// A freeze in force.
struct FreezeRecord {
  FreezeId id = 0;
  AccountId account = 0;
  std::string instrument;
  Qty quantity;
  FreezeAuthority authority = FreezeAuthority::regulator;
  std::string ordered_by;
  std::string reason;
  UnixNanos frozen_at = 0;
};

/// A pledge in force: units of `pledgor` locked in favour of `pledgee`.
struct PledgeRecord {
  PledgeId id = 0;
  AccountId pledgor = 0;
  AccountId pledgee = 0;
  std::string instrument;
  Qty quantity;            ///< still pledged
  std::string reference;   ///< e.g. the loan contract
  UnixNanos pledged_at = 0;
};

/// The outcome of one free allocation.
struct AllocationOutcome {
  Qty gross;     ///< given, or computed from the formula
  Qty deducted;  ///< earlier years' shortfall taken off
  Qty issued;    ///< gross − deducted, moved to the unit (no entry when zero)
};

/// How much of a cap is used.
struct CapUsage {
  Qty cap;
  Qty issued;
};

/// A holding with its key, as persisted.
struct HoldingRecord {
  AccountId account = 0;
  std::string instrument;
  Holding holding;
};

/// Holdings and the ledger. Not thread-safe: owned by the engine thread.
/// Every mutating call either succeeds completely or changes nothing.
class Registry {
 public:
  Registry();
  explicit Registry(RegistryRules rules);

  /// Opens a participant holding account; the id must be new.
  void open_account(AccountId account);
  bool has_account(AccountId account) const;

  /// The holding of `instrument` in `account` (all zero if none).
  Holding holding(AccountId account, const std::string& instrument) const;
  /// Every non-empty holding of an account, by instrument.
  std::vector<HoldingRecord> holdings_of(AccountId account) const;

  /// Moves `quantity` from the issuance account to `to` (available) and logs it.
  /// `to` is a participant account, the reserve or the auction account.
  /// Not for CCER (FAILED_PRECONDITION): CCER is issued as blocks by issue_ccer.
  [[nodiscard]] Status issue(const std::string& instrument, AccountId to, Qty quantity, Sequence sequence,
                             UnixNanos at, const std::string& reference);

  /// Locks units for a sell order: available → reserved.
  [[nodiscard]] Status reserve_for_sell(AccountId account, const std::string& instrument, Qty quantity);
  /// Unlocks units of a sell order that will not trade: reserved → available.
  void release_sell_reservation(AccountId account, const std::string& instrument, Qty quantity);

  /// Delivers traded units: seller reserved → buyer pending (T+1), with a ledger entry.
  /// For CCER the seller's oldest serials move to the buyer, splitting a block if needed.
  void deliver(const std::string& instrument, AccountId seller, AccountId buyer, Qty quantity, Sequence sequence,
               UnixNanos at, const std::string& reference);

  // ---- states and movements outside the order book ----------------------

  /// Moves available units of `from` to the available units of `to` (kind transfer).
  /// Both must be participant accounts, the reserve or the auction account.
  /// NOT_FOUND unknown account; INVALID_ARGUMENT non-positive or same account;
  /// FAILED_PRECONDITION not enough available units (frozen and pledged units never move).
  [[nodiscard]] Status transfer(const std::string& instrument, AccountId from, AccountId to, Qty quantity,
                                Sequence sequence, UnixNanos at, const std::string& reference);

  /// A correction: a new entry moving available units `from` → `to` (either may be the
  /// issuance account, e.g. to take back units issued in error). Allowances only.
  [[nodiscard]] Status correct(const std::string& instrument, AccountId from, AccountId to, Qty quantity,
                               std::uint64_t corrected_entry_id, const std::string& reason, Sequence sequence,
                               UnixNanos at);

  /// End of day for one account: pending → available for every instrument (T+1).
  /// Returns the holdings that changed. Writes no ledger entry.
  std::vector<HoldingRecord> release_pending(AccountId account);
  /// End of day for every account.
  std::vector<HoldingRecord> release_all_pending();

  /// Freezes available units: available → frozen, with an entry naming who and why.
  /// Frozen units cannot be sold, surrendered, pledged, transferred or retired.
  /// NOT_FOUND account; INVALID_ARGUMENT quantity or empty reason / ordered_by;
  /// FAILED_PRECONDITION fewer available units.
  Result<FreezeId> freeze(const FreezeOrder& order, Sequence sequence, UnixNanos at);
  /// Lifts a whole freeze: frozen → available. NOT_FOUND unknown freeze;
  /// PERMISSION_DENIED a regulator's freeze lifted by a court; the entry names `authority`, who lifted it;
  /// INVALID_ARGUMENT empty ordered_by.
  [[nodiscard]] Status unfreeze(FreezeId freeze, FreezeAuthority authority, const std::string& ordered_by,
                                Sequence sequence, UnixNanos at);
  /// Lifts `quantity` of a freeze (0 or all that remains lifts it whole): frozen → available;
  /// the rest stays frozen with its reason. Rejections as unfreeze(), plus INVALID_ARGUMENT a
  /// negative quantity and FAILED_PRECONDITION more than remains frozen.
  [[nodiscard]] Status unfreeze_part(FreezeId freeze, Qty quantity, FreezeAuthority authority,
                                     const std::string& ordered_by, Sequence sequence, UnixNanos at);
  /// Freezes in force on an account, oldest first.
  std::vector<FreezeRecord> freezes_of(AccountId account) const;

  /// Pledges available units to `pledgee`: available → pledged. NOT_FOUND account or
  /// pledgee; INVALID_ARGUMENT quantity or pledgee == pledgor; FAILED_PRECONDITION fewer available units.
  Result<PledgeId> pledge(AccountId pledgor, const std::string& instrument, Qty quantity, AccountId pledgee,
                          const std::string& reference, Sequence sequence, UnixNanos at);
  /// Releases part or all of a pledge (repayment): pledged → available of the pledgor.
  /// NOT_FOUND unknown pledge; INVALID_ARGUMENT non-positive; FAILED_PRECONDITION more than pledged.
  [[nodiscard]] Status release_pledge(PledgeId pledge, Qty quantity, Sequence sequence, UnixNanos at);
  /// Enforces a pledge (default): what is still pledged moves to the pledgee's available units.
  [[nodiscard]] Status enforce_pledge(PledgeId pledge, Sequence sequence, UnixNanos at);
  /// Enforces `quantity` of a pledge (0: all that remains): pledgor pledged → pledgee available,
  /// the rest stays pledged. NOT_FOUND unknown pledge; INVALID_ARGUMENT negative;
  /// FAILED_PRECONDITION more than pledged.
  [[nodiscard]] Status enforce_pledge_part(PledgeId pledge, Qty quantity, Sequence sequence, UnixNanos at);
  /// Pledges in force where `account` is the pledgor or the pledgee, oldest first.
  std::vector<PledgeRecord> pledges_of(AccountId account) const;

  /// A repo's first leg: `seller`'s available units → `buyer`'s reserved units (held there until
  /// the second leg), entry kind repo_first_leg. Both are participant accounts. NOT_FOUND account;
  /// INVALID_ARGUMENT quantity or the same account; FAILED_PRECONDITION fewer available units.
  [[nodiscard]] Status repo_first_leg(const std::string& instrument, AccountId seller, AccountId buyer, Qty quantity,
                                      std::uint64_t repo, Sequence sequence, UnixNanos at);
  /// A repo's second leg: `buyer`'s reserved units → `seller`'s available units (repo_second_leg).
  /// The units were reserved by repo_first_leg; the caller guarantees they still are.
  void repo_second_leg(const std::string& instrument, AccountId buyer, AccountId seller, Qty quantity,
                       std::uint64_t repo, Sequence sequence, UnixNanos at);
  /// A repo's default: `buyer`'s reserved units become its available units (repo_second_leg,
  /// same account).
  void repo_default(const std::string& instrument, AccountId buyer, Qty quantity, std::uint64_t repo,
                    Sequence sequence, UnixNanos at);

  // ---- cap and allocation -------------------------------------------------

  /// Sets the cap of a compliance year and sector (tonnes). INVALID_ARGUMENT negative;
  /// FAILED_PRECONDITION below what is already issued under it.
  [[nodiscard]] Status set_cap(int year, const std::string& sector, Qty cap);
  /// The cap and what is issued under it (zero cap if none set).
  CapUsage cap_usage(int year, const std::string& sector) const;

  /// Free allocation of `gross` tonnes of `instrument` (vintage `year`) to key emitting
  /// unit `unit`, less the unit's unpaid shortfall of earlier years, counted against
  /// the cap of (year, sector). NOT_FOUND unit; INVALID_ARGUMENT quantity;
  /// FAILED_PRECONDITION instrument not of vintage `year`, no cap set, or beyond the cap.
  Result<AllocationOutcome> allocate_free(int year, const std::string& sector, const std::string& instrument,
                                          AccountId unit, Qty gross, Sequence sequence, UnixNanos at);
  /// The same with gross = compute_free_allocation(formula) (rounding rule in allocation.h).
  Result<AllocationOutcome> allocate_free(int year, const std::string& sector, const std::string& instrument,
                                          AccountId unit, const AllocationFormula& formula, Sequence sequence,
                                          UnixNanos at);
  /// Issues allowances counted against the cap of (year, sector), e.g. to the auction
  /// account for paid allocation or to the reserve. Rejections as issue() and allocate_free.
  [[nodiscard]] Status issue_under_cap(int year, const std::string& sector, const std::string& instrument,
                                       AccountId to, Qty quantity, Sequence sequence, UnixNanos at,
                                       const std::string& reference);
  /// Issues `instrument` (vintage `year`) to `to` in one ledger entry, counted against
  /// several caps of the year: `shares` gives each sector's part and sums to the quantity
  /// issued (IssueAllowances, whose issuance the engine spreads over the year's sectors).
  /// Rejections as issue_under_cap for each share; nothing changes on a rejection.
  [[nodiscard]] Status issue_under_caps(int year, const std::vector<std::pair<std::string, Qty>>& shares,
                                        const std::string& instrument, AccountId to, Sequence sequence,
                                        UnixNanos at, const std::string& reference);
  /// Shortfall of closed years not yet deducted from an allocation.
  Qty deduction_owed(AccountId unit) const;
  /// The same by year, oldest first (years fully deducted are absent).
  std::vector<std::pair<int, Qty>> shortfalls_owed_of(AccountId unit) const;

  // ---- compliance -----------------------------------------------------------

  /// Records (or, before the deadline, corrects) the verified emissions of `unit`
  /// for `year`: its obligation. NOT_FOUND unit; INVALID_ARGUMENT negative;
  /// FAILED_PRECONDITION the year is closed.
  [[nodiscard]] Status record_verified_emissions(int year, AccountId unit, Qty emissions);
  /// Surrenders available units for `year`: allowances of vintages up to `year`, CCER up to
  /// the offset cap (5% of the obligation by default). Units move to the surrender account.
  /// NOT_FOUND unit; INVALID_ARGUMENT quantity or unknown instrument kind;
  /// FAILED_PRECONDITION no obligation recorded, year closed, later vintage, CCER beyond the
  /// cap, more than still due, or fewer available units.
  [[nodiscard]] Status surrender(int year, AccountId unit, const std::string& instrument, Qty quantity,
                                 Sequence sequence, UnixNanos at);
  /// Status of one unit for one year. NOT_FOUND when no obligation is recorded.
  Result<ComplianceStatus> compliance_status(int year, AccountId unit) const;
  /// Status of every unit with an obligation for `year`, by account.
  std::vector<ComplianceStatus> compliance_statuses(int year) const;
  /// The deadline passed: no more surrender or emissions for `year`; each shortfall
  /// becomes owed and is deducted from later allocations. Returns every status.
  /// FAILED_PRECONDITION when already closed.
  Result<std::vector<ComplianceStatus>> close_compliance_year(int year);
  /// Units of `year` whose usable available + pending units (allowances of vintages up to
  /// `year`, CCER up to what the cap still allows) plus open buys cover less than
  /// `share_percent` % of what they still owe. INVALID_ARGUMENT share outside 1..100.
  Result<std::vector<EarlyWarning>> early_warnings(int year, int share_percent,
                                                   std::span<const OpenBuys> open_buys) const;

  // ---- CCER -------------------------------------------------------------------

  /// Registers a methodology. INVALID_ARGUMENT empty code; ALREADY_EXISTS.
  [[nodiscard]] Status register_methodology(const Methodology& methodology);
  /// Accredits a validation and verification body. INVALID_ARGUMENT empty; ALREADY_EXISTS.
  [[nodiscard]] Status accredit_validation_body(const std::string& name);
  /// Registers a validated project (status registered). INVALID_ARGUMENT empty code;
  /// ALREADY_EXISTS code; NOT_FOUND owner account or methodology;
  /// FAILED_PRECONDITION validation body not accredited.
  Result<ProjectId> register_project(const std::string& code, AccountId owner, const std::string& methodology,
                                     const std::string& validation_body);
  /// Suspends, re-registers or closes a project. NOT_FOUND; FAILED_PRECONDITION a closed project.
  [[nodiscard]] Status set_project_status(ProjectId project, ProjectStatus status);
  /// The project, or null.
  const CcerProject* project(ProjectId project) const;
  const std::vector<CcerProject>& projects() const { return projects_; }
  const std::map<std::string, Methodology>& methodologies() const { return methodologies_; }

  /// Issues verified reductions of a registered project as one block of fresh serials
  /// to the project owner (available). NOT_FOUND project; INVALID_ARGUMENT quantity or
  /// vintage outside 2000..9999; FAILED_PRECONDITION project not registered.
  Result<CcerBlock> issue_ccer(ProjectId project, int vintage, Qty quantity, Sequence sequence, UnixNanos at,
                               const std::string& reason);
  /// The blocks an account holds, oldest first (they cover all its CCER, in any state).
  std::vector<CcerBlock> ccer_blocks_of(AccountId account) const;
  /// Cancels available CCER for offsetting or voluntary use: oldest serials → cancellation
  /// account, with a public Retirement record. NOT_FOUND account; INVALID_ARGUMENT quantity
  /// or empty beneficiary / purpose; FAILED_PRECONDITION fewer available units.
  Result<RetirementId> retire_ccer(AccountId account, Qty quantity, const std::string& beneficiary,
                                   const std::string& purpose, Sequence sequence, UnixNanos at);
  /// Every retirement, in order (public).
  const std::vector<Retirement>& retirements() const { return retirements_; }
  /// Freezes and pledges in force on every account, for the store's projection.
  std::vector<FreezeRecord> all_freezes() const;
  std::vector<PledgeRecord> all_pledges() const;
  /// Checks that the blocks of every account add up to its CCER holding; INTERNAL naming the account if not.
  [[nodiscard]] Status check_ccer_blocks() const;

  /// Sum of all balances of one instrument across every account (zero when conserved).
  Qty net_total(const std::string& instrument) const;

  /// The ledger entries appended since the last take; the caller journals them.
  std::vector<LedgerEntry> take_new_entries() { return std::exchange(new_entries_, {}); }

  /// Puts back state loaded from the database (recovery).
  void restore_holding(const HoldingRecord& record);
  void restore_ledger_tail(std::uint64_t last_entry_id, const Hash& last_hash) {
    ledger_.restore_tail(last_entry_id, last_hash);
  }
  /// Puts back an account's CCER blocks, oldest first, and advances the serial counter past them.
  void restore_ccer_blocks(AccountId account, std::vector<CcerBlock> blocks);
  /// Puts back a freeze in force (its units are already in the restored holding) and advances the ids.
  void restore_freeze(const FreezeRecord& record);
  /// Makes new freeze ids follow `last_used` (a lifted freeze's id is never handed out again).
  void restore_freeze_ids(FreezeId last_used) { next_freeze_id_ = std::max(next_freeze_id_, last_used + 1); }
  /// Puts back a pledge in force (its units are already in the restored holding) and advances the ids.
  void restore_pledge(const PledgeRecord& record);
  /// Makes new pledge ids follow `last_used` (a closed pledge's id is never handed out again).
  void restore_pledge_ids(PledgeId last_used) { next_pledge_id_ = std::max(next_pledge_id_, last_used + 1); }
  /// Puts back a cap and what is issued under it.
  void restore_cap(int year, const std::string& sector, CapUsage usage);
  /// Puts back one unit's compliance for one year (closed marks the whole year closed).
  void restore_compliance(const ComplianceStatus& status);
  /// Puts back a shortfall of `year` not yet deducted from an allocation.
  void restore_shortfall_owed(AccountId unit, int year, Qty owed);
  /// Puts back a project; ids must come back dense and in order (1, 2, ...).
  void restore_project(const CcerProject& project);
  /// Puts back a retirement; ids must come back dense and in order.
  void restore_retirement(Retirement retirement);

  const Ledger& ledger() const { return ledger_; }

 private:
  struct ObligationState {
    Qty obligation;
    Qty surrendered_allowances;
    Qty surrendered_ccer;
  };
  struct YearState {
    std::map<AccountId, ObligationState> units;
    bool closed = false;
  };
  struct Shortfall {
    AccountId unit = 0;
    int year = 0;
    bool operator<(const Shortfall& o) const { return unit != o.unit ? unit < o.unit : year < o.year; }
  };

  Holding& mutable_holding(AccountId account, const std::string& instrument);
  void append(LedgerEntry entry);
  void append_entry(const std::string& instrument, AccountId from, AccountId to, Qty quantity, TransferKind kind,
                    std::string reference, Sequence sequence, UnixNanos at);
  /// FAILED_PRECONDITION naming `action` unless `account` has `quantity` available.
  Status check_available(AccountId account, const std::string& instrument, Qty quantity, const char* action) const;
  /// Moves CCER serials with units leaving `from` (no-op for allowances).
  void move_serials(const std::string& instrument, AccountId from, AccountId to, Qty quantity,
                    std::vector<CcerBlock>* moved = nullptr);
  Status check_cap(int year, const std::string& sector, const std::string& instrument, Qty quantity) const;
  ComplianceStatus status_of(int year, AccountId unit, const ObligationState& state, bool closed) const;

  RegistryRules rules_;
  std::unordered_map<AccountId, std::map<std::string, Holding>> accounts_;
  Ledger ledger_;
  std::vector<LedgerEntry> new_entries_;

  std::map<FreezeId, FreezeRecord> freezes_;
  FreezeId next_freeze_id_ = 1;
  std::map<PledgeId, PledgeRecord> pledges_;
  PledgeId next_pledge_id_ = 1;

  std::map<std::pair<int, std::string>, CapUsage> caps_;
  std::map<int, YearState> years_;
  std::map<Shortfall, Qty> shortfalls_owed_;

  std::map<std::string, Methodology> methodologies_;
  std::set<std::string> validation_bodies_;
  std::vector<CcerProject> projects_;  // index = id - 1
  std::map<std::string, ProjectId> project_by_code_;
  std::unordered_map<AccountId, CcerBlockQueue> ccer_blocks_;
  std::uint64_t next_serial_ = 1;
  std::vector<Retirement> retirements_;
};

}  // namespace carbon::registry
