// Recovery: putting back registry state loaded from the database. No checks
// beyond the asserts: the database held what this process wrote.
#include <algorithm>
#include <cassert>

#include "registry/registry.h"

namespace carbon::registry {

void Registry::restore_freeze(const FreezeRecord& record) {
  freezes_[record.id] = record;
  next_freeze_id_ = std::max(next_freeze_id_, record.id + 1);
}

void Registry::restore_pledge(const PledgeRecord& record) {
  pledges_[record.id] = record;
  next_pledge_id_ = std::max(next_pledge_id_, record.id + 1);
}

void Registry::restore_cap(int year, const std::string& sector, CapUsage usage) { caps_[{year, sector}] = usage; }

void Registry::restore_compliance(const ComplianceStatus& status) {
  YearState& year = years_[status.year];
  year.units[status.unit] = ObligationState{status.obligation, status.surrendered_allowances, status.surrendered_ccer};
  year.closed = year.closed || status.closed;
}

void Registry::restore_shortfall_owed(AccountId unit, int year, Qty owed) {
  if (owed.is_positive()) shortfalls_owed_[Shortfall{unit, year}] = owed;
}

void Registry::restore_project(const CcerProject& project) {
  assert(project.id == projects_.size() + 1);
  projects_.push_back(project);
  project_by_code_[project.code] = project.id;
}

void Registry::restore_retirement(Retirement retirement) {
  assert(retirement.id == retirements_.size() + 1);
  retirements_.push_back(std::move(retirement));
}

std::vector<std::pair<int, Qty>> Registry::shortfalls_owed_of(AccountId unit) const {
  std::vector<std::pair<int, Qty>> out;
  for (const auto& [key, owed] : shortfalls_owed_) {
    if (key.unit == unit) out.emplace_back(key.year, owed);
  }
  return out;
}

std::vector<FreezeRecord> Registry::all_freezes() const {
  std::vector<FreezeRecord> out;
  out.reserve(freezes_.size());
  for (const auto& [id, record] : freezes_) out.push_back(record);
  return out;
}

std::vector<PledgeRecord> Registry::all_pledges() const {
  std::vector<PledgeRecord> out;
  out.reserve(pledges_.size());
  for (const auto& [id, record] : pledges_) out.push_back(record);
  return out;
}

}  // namespace carbon::registry
