#pragma once
/// Runs the real carbond binary (the one built beside the tests, or $CARBOND_BINARY) as a child process for
/// end-to-end tests: start, wait until it serves, stop with a signal.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace carbon::testing {

class DaemonProcess {
 public:
  /// `args` are carbond's flags; --ready-file is added here.
  DaemonProcess(std::vector<std::string> args, std::filesystem::path work_dir);
  ~DaemonProcess();

  /// Starts carbond and waits (up to 90 s) until it serves; throws with its log if it exits first.
  void start();
  /// Sends `signal` and waits (up to 60 s) for the exit; returns the exit code (128+signal if killed).
  int stop(int signal = 15);
  /// host:port carbond bound.
  const std::string& address() const { return address_; }
  /// Everything carbond logged so far.
  std::string log() const;
  bool running() const { return pid_ > 0; }
  /// The exit code of the last exit seen by start() or stop() (128+signal if killed; -1 if none yet).
  int exit_code() const { return exit_code_; }

 private:
  std::vector<std::string> args_;
  std::filesystem::path work_dir_;
  std::filesystem::path log_path_;
  std::filesystem::path ready_path_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::string address_;
};

/// A new directory under /tmp that an unprivileged PostgreSQL user can reach (mode 0755).
std::filesystem::path make_world_traversable_temp_dir(const std::string& prefix);

}  // namespace carbon::testing
