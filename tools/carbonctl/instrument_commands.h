#pragma once
/// carbonctl's instrument commands: `instrument create|rules|show` and
/// `participant balances <id>` (instrument_commands.cpp).

#include <CLI/CLI.hpp>

#include <functional>

#include "session.h"

namespace carbonctl {

/// Adds the commands to `app` (after the participant group exists); a chosen command sets `action`.
void add_instrument_commands(CLI::App& app, std::function<int(Session&)>& action);

}  // namespace carbonctl
