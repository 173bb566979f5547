#include "registry/ccer.h"

#include <algorithm>
#include <limits>

#include "registry/registry.h"
#include "registry/text.h"

namespace carbon::registry {

std::uint64_t move_blocks_fifo(CcerBlockQueue& from, CcerBlockQueue& to, std::uint64_t quantity,
                               std::vector<CcerBlock>* moved) {
  std::uint64_t left = quantity;
  while (left > 0 && !from.empty()) {
    CcerBlock& front = from.front();
    CcerBlock part = front;
    if (front.size() <= left) {
      from.pop_front();
    } else {
      part.last_serial = front.first_serial + left - 1;
      front.first_serial = part.last_serial + 1;
    }
    left -= part.size();
    // Consecutive serials of one project and vintage join the receiver's last block.
    if (!to.empty() && to.back().project == part.project && to.back().vintage == part.vintage &&
        to.back().last_serial + 1 == part.first_serial) {
      to.back().last_serial = part.last_serial;
    } else {
      to.push_back(part);
    }
    if (moved != nullptr) moved->push_back(part);
  }
  return quantity - left;
}

std::uint64_t serial_count(const CcerBlockQueue& blocks) {
  std::uint64_t count = 0;
  for (const CcerBlock& block : blocks) count += block.size();
  return count;
}

// ---- Registry: CCER -----------------------------------------------------------

Status Registry::register_methodology(const Methodology& methodology) {
  if (methodology.code.empty()) return invalid_argument("methodology: a code is required");
  if (methodologies_.contains(methodology.code)) {
    return Status{ErrorCode::already_exists, "methodology " + methodology.code + " is already registered"};
  }
  methodologies_.emplace(methodology.code, methodology);
  return Status::ok();
}

Status Registry::accredit_validation_body(const std::string& name) {
  if (name.empty()) return invalid_argument("validation body: a name is required");
  if (!validation_bodies_.insert(name).second) {
    return Status{ErrorCode::already_exists, "validation body " + name + " is already accredited"};
  }
  return Status::ok();
}

Result<ProjectId> Registry::register_project(const std::string& code, AccountId owner, const std::string& methodology,
                                             const std::string& validation_body) {
  if (code.empty()) return {invalid_argument("CCER project: a code is required")};
  if (project_by_code_.contains(code)) {
    return {Status{ErrorCode::already_exists, "CCER project " + code + " is already registered"}};
  }
  if (!has_account(owner) || owner < kFirstParticipantAccount) {
    return {not_found("CCER project owner " + text::account(owner) + " does not exist")};
  }
  if (!methodologies_.contains(methodology)) return {not_found("methodology " + methodology + " is not registered")};
  if (!validation_bodies_.contains(validation_body)) {
    return {failed_precondition("CCER project registration: validation body " + validation_body +
                                " is not accredited; projects are registered after validation by an accredited body")};
  }
  const auto id = static_cast<ProjectId>(projects_.size() + 1);
  projects_.push_back(CcerProject{id, code, owner, methodology, validation_body, ProjectStatus::registered});
  project_by_code_.emplace(code, id);
  return {Status::ok(), id};
}

Status Registry::set_project_status(ProjectId project_id, ProjectStatus status) {
  if (project_id == 0 || project_id > projects_.size()) {
    return not_found("CCER project " + std::to_string(project_id) + " does not exist");
  }
  CcerProject& p = projects_[project_id - 1];
  if (p.status == ProjectStatus::closed && status != ProjectStatus::closed) {
    return failed_precondition("CCER project " + p.code + " is closed; a closed project cannot be reopened");
  }
  p.status = status;
  return Status::ok();
}

const CcerProject* Registry::project(ProjectId project_id) const {
  if (project_id == 0 || project_id > projects_.size()) return nullptr;
  return &projects_[project_id - 1];
}

Result<CcerBlock> Registry::issue_ccer(ProjectId project_id, int vintage, Qty quantity, Sequence sequence,
                                       UnixNanos at, const std::string& reason) {
  const CcerProject* p = project(project_id);
  if (p == nullptr) return {not_found("CCER project " + std::to_string(project_id) + " does not exist")};
  if (!quantity.is_positive()) return {invalid_argument("quantity must be positive")};
  if (vintage < 2000 || vintage > 9999) return {invalid_argument("CCER issuance: vintage must be a year")};
  if (p->status != ProjectStatus::registered) {
    return {failed_precondition("CCER issuance: project " + p->code + " is " +
                                (p->status == ProjectStatus::suspended ? "suspended" : "closed") +
                                "; only registered projects are issued credits")};
  }
  Holding& issuance = mutable_holding(kIssuanceAccount, kCcerInstrument);
  std::int64_t issued_after = 0;
  if (__builtin_sub_overflow(issuance.available.value, quantity.value, &issued_after)) {
    return {failed_precondition("issuance: the total issued of CCER would exceed 2^63 - 1 t")};
  }
  const CcerBlock block{next_serial_, next_serial_ + static_cast<std::uint64_t>(quantity.value) - 1, project_id,
                        static_cast<std::uint16_t>(vintage)};
  issuance.available = Qty{issued_after};
  mutable_holding(p->owner, kCcerInstrument).available += quantity;
  next_serial_ = block.last_serial + 1;
  CcerBlockQueue& owner_blocks = ccer_blocks_[p->owner];
  owner_blocks.push_back(block);
  std::string reference = "ccer:" + p->code + ":" + std::to_string(vintage) + ":" +
                          std::to_string(block.first_serial) + "-" + std::to_string(block.last_serial);
  if (!reason.empty()) reference += ":" + reason;
  append_entry(kCcerInstrument, kIssuanceAccount, p->owner, quantity, TransferKind::ccer_issuance,
               std::move(reference), sequence, at);
  return {Status::ok(), block};
}

std::vector<CcerBlock> Registry::ccer_blocks_of(AccountId account) const {
  auto found = ccer_blocks_.find(account);
  if (found == ccer_blocks_.end()) return {};
  return {found->second.begin(), found->second.end()};
}

Result<RetirementId> Registry::retire_ccer(AccountId account, Qty quantity, const std::string& beneficiary,
                                           const std::string& purpose, Sequence sequence, UnixNanos at) {
  if (!quantity.is_positive()) return {invalid_argument("quantity must be positive")};
  if (beneficiary.empty()) return {invalid_argument("retirement: a beneficiary is required")};
  if (purpose.empty()) return {invalid_argument("retirement: a purpose is required")};
  if (!has_account(account)) return {not_found(text::account(account) + " does not exist")};
  if (account < kFirstParticipantAccount) {
    return {failed_precondition("retirement: CCER is retired from a participant's holding account")};
  }
  if (Status s = check_available(account, kCcerInstrument, quantity, "retirement"); !s.is_ok()) {
    return {std::move(s)};
  }
  mutable_holding(account, kCcerInstrument).available -= quantity;
  mutable_holding(kCancellationAccount, kCcerInstrument).available += quantity;
  Retirement retirement;
  retirement.id = retirements_.size() + 1;
  retirement.account = account;
  retirement.quantity = quantity;
  retirement.beneficiary = beneficiary;
  retirement.purpose = purpose;
  retirement.retired_at = at;
  move_serials(kCcerInstrument, account, kCancellationAccount, quantity, &retirement.blocks);
  append_entry(kCcerInstrument, account, kCancellationAccount, quantity, TransferKind::retirement,
               "retirement:" + std::to_string(retirement.id) + ":" + beneficiary + ":" + purpose, sequence, at);
  retirement.ledger_entry_id = ledger_.last_entry_id();
  const RetirementId id = retirement.id;
  retirements_.push_back(std::move(retirement));
  return {Status::ok(), id};
}

Status Registry::check_ccer_blocks() const {
  for (const auto& [account, holdings] : accounts_) {
    if (account == kIssuanceAccount) continue;
    auto holding = holdings.find(kCcerInstrument);
    const std::int64_t held = holding == holdings.end() ? 0 : holding->second.total().value;
    auto blocks = ccer_blocks_.find(account);
    const std::uint64_t serials = blocks == ccer_blocks_.end() ? 0 : serial_count(blocks->second);
    if (held < 0 || static_cast<std::uint64_t>(held) != serials) {
      return Status{ErrorCode::internal, text::account(account) + " holds " + std::to_string(held) +
                                             " t CCER but " + std::to_string(serials) + " serials"};
    }
  }
  return Status::ok();
}

void Registry::restore_ccer_blocks(AccountId account, std::vector<CcerBlock> blocks) {
  for (const CcerBlock& block : blocks) next_serial_ = std::max(next_serial_, block.last_serial + 1);
  ccer_blocks_[account] = CcerBlockQueue(blocks.begin(), blocks.end());
}

}  // namespace carbon::registry
