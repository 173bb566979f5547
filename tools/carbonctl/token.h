#pragma once
/// Where carbonctl's bearer token comes from.

#include <string>

#include "session.h"

namespace carbonctl {

/// The bearer token, from the first source that is set:
///   --token, --token-file, --staff-file with --as, $CARBON_TOKEN,
///   $CARBON_TOKEN_FILE.
/// Throws ExitError(kExitNoToken) if none is set, or the one that is set
/// cannot be read or holds no usable token.
std::string resolve_token(const GlobalOptions& options);

/// The token of the [[staff]] entry named `name` in a staff-tokens.toml file
/// (as written by carbond into its data directory on first start).
std::string staff_token(const std::string& path, const std::string& name);

}  // namespace carbonctl
