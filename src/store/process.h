#pragma once

#include <string>
#include <vector>

namespace carbon::store {

/// Outcome of a finished child process.
struct ProcessResult {
    /// Exit status of the child, or 128 + signal number if it was killed by a signal.
    int exit_code = 0;
    /// Everything the child wrote to stdout and stderr, interleaved as written.
    std::string output;
};

/// Runs argv without a shell (argv[0] searched in PATH unless it contains a '/'), as OS user
/// `run_as` when the caller is root and run_as is non-empty (cwd "/", HOME/USER/LOGNAME set
/// for that user), with stdin from /dev/null; waits for it and returns its combined
/// stdout+stderr. An unknown command yields exit_code 127. Throws std::runtime_error only
/// if argv is empty, pipe/fork/waitpid fails, or `run_as` names no existing user.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& run_as = "");

}  // namespace carbon::store
