#pragma once
/// Message fragments shared by the registry's sources (internal to src/registry).

#include <string>

#include "common/types.h"

namespace carbon::registry::text {

inline std::string tonnes(Qty quantity) { return std::to_string(quantity.value) + " t"; }
inline std::string account(AccountId id) { return "holding account " + std::to_string(id); }

}  // namespace carbon::registry::text
