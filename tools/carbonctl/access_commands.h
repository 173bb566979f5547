#pragma once
/// carbonctl's access commands: `token issue|revoke|list` (operator) and
/// `audit` (regulator, auditor), plus the global TLS options
/// (--tls-ca, --tls-cert, --tls-key).

#include <CLI/CLI.hpp>

#include <functional>

#include "session.h"

namespace carbonctl {

/// Adds the commands and options to `app`; a chosen command sets `action`.
void add_access_commands(CLI::App& app, GlobalOptions& global, std::function<int(Session&)>& action);

}  // namespace carbonctl
