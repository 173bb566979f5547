#pragma once
/// The checks a command can pass or fail without any market state: field
/// ranges, enum values, text form. The server runs them on gRPC threads
/// before a command reaches the engine; the Exchange runs them again, so it
/// never trusts its callers.

#include <string_view>

#include "engine/records.h"

namespace carbon::engine {

/// INVALID_ARGUMENT naming the first malformed field, or ok. Pure; any thread.
[[nodiscard]] Status validate(const CommandBody& body);

/// The same for the CCER commands (ccer_commands.cpp); ok for any other body.
[[nodiscard]] Status validate_ccer(const CommandBody& body);

/// The same for the auction commands (auction_commands.cpp); ok for any other body.
[[nodiscard]] Status validate_auction(const CommandBody& body);

/// Well-formed UTF-8 (no overlong forms, no surrogates) without control
/// characters: safe to journal, log and echo back.
bool is_clean_text(std::string_view text);

}  // namespace carbon::engine
