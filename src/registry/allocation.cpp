#include "registry/allocation.h"

#include <limits>

#include "registry/registry.h"
#include "registry/text.h"

namespace carbon::registry {

Status compute_free_allocation(const AllocationFormula& formula, Qty& out) {
  if (formula.output <= 0) return invalid_argument("allocation formula: output must be positive");
  if (formula.benchmark_micro_tonnes <= 0) return invalid_argument("allocation formula: benchmark must be positive");
  if (formula.factors_per_10000.size() > kMaxAdjustmentFactors) {
    return invalid_argument("allocation formula: at most " + std::to_string(kMaxAdjustmentFactors) +
                            " adjustment factors");
  }
  __int128 product = static_cast<__int128>(formula.output) * formula.benchmark_micro_tonnes;
  __int128 denominator = kBenchmarkScale;
  for (std::int64_t factor : formula.factors_per_10000) {
    if (factor <= 0) return invalid_argument("allocation formula: adjustment factors must be positive");
    if (__builtin_mul_overflow(product, static_cast<__int128>(factor), &product)) {
      return invalid_argument("allocation formula: the product overflows");
    }
    denominator *= kFactorScale;  // at most 10^6 × 10^16: fits
  }
  const __int128 rounded = (product + denominator / 2) / denominator;  // half up; all terms positive
  if (rounded > std::numeric_limits<std::int64_t>::max()) {
    return invalid_argument("allocation formula: the allocation exceeds 2^63 - 1 t");
  }
  out = Qty{static_cast<std::int64_t>(rounded)};
  return Status::ok();
}

std::optional<int> allowance_vintage(const std::string& instrument) {
  if (instrument.size() < 5 || instrument.compare(0, 3, "CEA") != 0) return std::nullopt;
  const std::string rest = instrument.substr(3);
  auto digits = [](const std::string& s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
  };
  if (rest.size() == 4 && digits(rest)) return std::stoi(rest);
  if (rest.size() == 2 && digits(rest)) return 2000 + std::stoi(rest);
  if (rest.size() == 5 && rest[2] == '-' && digits(rest.substr(0, 2)) && digits(rest.substr(3))) {
    return 2000 + std::stoi(rest.substr(3));
  }
  return std::nullopt;
}

// ---- Registry: cap and allocation -------------------------------------------

Status Registry::set_cap(int year, const std::string& sector, Qty cap) {
  if (cap.is_negative()) return invalid_argument("cap must not be negative");
  if (sector.empty()) return invalid_argument("cap: a sector is required");
  CapUsage& usage = caps_[{year, sector}];
  if (cap < usage.issued) {
    return failed_precondition("cap: " + text::tonnes(cap) + " for " + std::to_string(year) + " " + sector +
                               " is below the " + text::tonnes(usage.issued) + " already issued under it");
  }
  usage.cap = cap;
  return Status::ok();
}

CapUsage Registry::cap_usage(int year, const std::string& sector) const {
  auto found = caps_.find({year, sector});
  return found == caps_.end() ? CapUsage{} : found->second;
}

Status Registry::check_cap(int year, const std::string& sector, const std::string& instrument, Qty quantity) const {
  const std::optional<int> vintage = allowance_vintage(instrument);
  if (!vintage || *vintage != year) {
    return failed_precondition("allocation: " + instrument + " is not an allowance of vintage " +
                               std::to_string(year));
  }
  auto found = caps_.find({year, sector});
  if (found == caps_.end()) {
    return failed_precondition("cap: no cap is set for compliance year " + std::to_string(year) + " and sector " +
                               sector);
  }
  const CapUsage& usage = found->second;
  if (quantity > usage.cap - usage.issued) {
    return failed_precondition("cap: issuing " + text::tonnes(quantity) + " of " + instrument +
                               " would exceed the cap of " + text::tonnes(usage.cap) + " for " +
                               std::to_string(year) + " " + sector + " (" + text::tonnes(usage.issued) +
                               " already issued)");
  }
  return Status::ok();
}

Result<AllocationOutcome> Registry::allocate_free(int year, const std::string& sector, const std::string& instrument,
                                                  AccountId unit, Qty gross, Sequence sequence, UnixNanos at) {
  if (!gross.is_positive()) return {invalid_argument("quantity must be positive")};
  if (!has_account(unit)) return {not_found(text::account(unit) + " does not exist")};
  if (unit < kFirstParticipantAccount) {
    return {failed_precondition("allocation: free allowances go to a key emitting unit's holding account")};
  }
  // Shortfalls of earlier closed years are deducted first, oldest first.
  Qty deducted{0};
  for (auto it = shortfalls_owed_.lower_bound(Shortfall{unit, std::numeric_limits<int>::min()});
       it != shortfalls_owed_.end() && it->first.unit == unit && it->first.year < year && deducted < gross; ++it) {
    deducted += min(it->second, gross - deducted);
  }
  const Qty net = gross - deducted;
  if (Status s = check_cap(year, sector, instrument, net); !s.is_ok()) return {std::move(s)};
  if (net.is_positive()) {
    Holding& issuance = mutable_holding(kIssuanceAccount, instrument);
    std::int64_t issued_after = 0;
    if (__builtin_sub_overflow(issuance.available.value, net.value, &issued_after)) {
      return {failed_precondition("issuance: the total issued of " + instrument + " would exceed 2^63 - 1 t")};
    }
    issuance.available = Qty{issued_after};
    mutable_holding(unit, instrument).available += net;
    std::string reference = "allocation:" + std::to_string(year) + ":" + sector;
    if (deducted.is_positive()) reference += ":deducted=" + std::to_string(deducted.value);
    append_entry(instrument, kIssuanceAccount, unit, net, TransferKind::allocation, std::move(reference), sequence,
                 at);
    caps_[{year, sector}].issued += net;
  }
  // Settle the deduction against the owed shortfalls, oldest first.
  Qty left = deducted;
  for (auto it = shortfalls_owed_.lower_bound(Shortfall{unit, std::numeric_limits<int>::min()});
       left.is_positive() && it != shortfalls_owed_.end() && it->first.unit == unit;) {
    const Qty take = min(it->second, left);
    it->second -= take;
    left -= take;
    it = it->second.is_zero() ? shortfalls_owed_.erase(it) : std::next(it);
  }
  return {Status::ok(), AllocationOutcome{gross, deducted, net}};
}

Result<AllocationOutcome> Registry::allocate_free(int year, const std::string& sector, const std::string& instrument,
                                                  AccountId unit, const AllocationFormula& formula,
                                                  Sequence sequence, UnixNanos at) {
  Qty gross{0};
  if (Status s = compute_free_allocation(formula, gross); !s.is_ok()) return {std::move(s)};
  return allocate_free(year, sector, instrument, unit, gross, sequence, at);
}

Status Registry::issue_under_cap(int year, const std::string& sector, const std::string& instrument, AccountId to,
                                 Qty quantity, Sequence sequence, UnixNanos at, const std::string& reference) {
  if (!quantity.is_positive()) return invalid_argument("quantity must be positive");
  if (!has_account(to)) return not_found(text::account(to) + " does not exist");
  if (Status s = check_cap(year, sector, instrument, quantity); !s.is_ok()) return s;
  if (Status s = issue(instrument, to, quantity, sequence, at, reference); !s.is_ok()) return s;
  caps_[{year, sector}].issued += quantity;
  return Status::ok();
}

Status Registry::issue_under_caps(int year, const std::vector<std::pair<std::string, Qty>>& shares,
                                  const std::string& instrument, AccountId to, Sequence sequence, UnixNanos at,
                                  const std::string& reference) {
  if (!has_account(to)) return not_found(text::account(to) + " does not exist");
  Qty quantity{0};
  for (const auto& [sector, share] : shares) {
    if (!share.is_positive()) return invalid_argument("cap: each sector's share must be positive");
    if (Status s = check_cap(year, sector, instrument, share); !s.is_ok()) return s;
    quantity += share;
  }
  if (!quantity.is_positive()) return invalid_argument("quantity must be positive");
  if (Status s = issue(instrument, to, quantity, sequence, at, reference); !s.is_ok()) return s;
  for (const auto& [sector, share] : shares) caps_[{year, sector}].issued += share;
  return Status::ok();
}

Qty Registry::deduction_owed(AccountId unit) const {
  Qty owed{0};
  for (auto it = shortfalls_owed_.lower_bound(Shortfall{unit, std::numeric_limits<int>::min()});
       it != shortfalls_owed_.end() && it->first.unit == unit; ++it) {
    owed += it->second;
  }
  return owed;
}

}  // namespace carbon::registry
