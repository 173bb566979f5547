#pragma once
/// CCER (certified emission reductions): methodologies, projects, and the
/// serial-numbered blocks that units are issued, held, moved and retired in.

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "common/types.h"

namespace carbon::registry {

/// The registry's dense id of a CCER project, from 1.
using ProjectId = std::uint32_t;
/// The registry's dense id of a retirement (cancellation), from 1.
using RetirementId = std::uint64_t;

/// Where a project is in its lifecycle. Only a registered project gets credits issued.
enum class ProjectStatus : std::uint8_t {
  registered = 1,  ///< validated by an accredited body, publicly noticed, registered
  suspended = 2,   ///< no issuance until registered again
  closed = 3,      ///< crediting ended; no issuance, no way back
};

/// A methodology under which projects compute their reductions.
struct Methodology {
  std::string code;   ///< e.g. "CCER-14-001-V01"
  std::string title;
};

/// A registered CCER project.
struct CcerProject {
  ProjectId id = 0;
  std::string code;              ///< the public project code, unique
  AccountId owner = 0;           ///< holding account that receives the project's credits
  std::string methodology;       ///< code of a registered methodology
  std::string validation_body;   ///< an accredited validation and verification body
  ProjectStatus status = ProjectStatus::registered;
};

/// A run of CCER serial numbers [first_serial, last_serial], all of one project and vintage.
/// Serial numbers are unique across the registry, dense from 1 in order of issuance.
struct CcerBlock {
  std::uint64_t first_serial = 0;
  std::uint64_t last_serial = 0;
  ProjectId project = 0;
  std::uint16_t vintage = 0;  ///< year the reductions happened
  std::uint64_t size() const { return last_serial - first_serial + 1; }
  bool operator==(const CcerBlock&) const = default;
};

/// The blocks one account holds, oldest first. Units leave first in, first out.
using CcerBlockQueue = std::deque<CcerBlock>;

/// Moves the first `quantity` serials of `from` to the back of `to`, splitting
/// the block at the boundary (its front part moves, its rest stays first).
/// When `moved` is non-null the moved blocks are also appended there. Returns
/// the number of serials moved: less than `quantity` only if `from` runs out.
std::uint64_t move_blocks_fifo(CcerBlockQueue& from, CcerBlockQueue& to, std::uint64_t quantity,
                               std::vector<CcerBlock>* moved = nullptr);

/// The number of serials in a queue.
std::uint64_t serial_count(const CcerBlockQueue& blocks);

/// A public cancellation of CCER: who benefits and why, and exactly which serials.
struct Retirement {
  RetirementId id = 0;
  AccountId account = 0;        ///< the holder that retired them
  Qty quantity;
  std::string beneficiary;      ///< on whose behalf (e.g. the offsetting firm)
  std::string purpose;          ///< e.g. "offsetting 2024 emissions", "voluntary"
  std::vector<CcerBlock> blocks;
  std::uint64_t ledger_entry_id = 0;
  UnixNanos retired_at = 0;
};

}  // namespace carbon::registry
