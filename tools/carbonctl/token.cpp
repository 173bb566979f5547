#include "token.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <toml.hpp>

namespace carbonctl {
namespace {

[[noreturn]] void no_token(const std::string& message) { throw ExitError(kExitNoToken, message); }

std::string trim(std::string_view text) {
  constexpr std::string_view blanks = " \t\r\n\f\v";
  const std::size_t first = text.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  const std::size_t last = text.find_last_not_of(blanks);
  return std::string(text.substr(first, last - first + 1));
}

/// Warns (once per file) when a secret file is readable by group or others.
void warn_if_exposed(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && (info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    std::cerr << "warning: " << path << " is accessible by other users; restrict it with: chmod 600 " << path
              << "\n";
  }
}

/// Checks that the token can travel as a gRPC metadata value and returns it.
std::string checked(std::string token, const std::string& source) {
  if (token.empty()) no_token(source + " is empty");
  for (char c : token) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7F) {
      no_token(source + " holds characters a bearer token cannot contain (blanks, control or non-ASCII characters)");
    }
  }
  return token;
}

std::string token_from_file(const std::string& path, const std::string& source) {
  std::ifstream in(path, std::ios::binary);
  if (!in) no_token("cannot read the token file " + path + " (" + source + ")");
  std::ostringstream content;
  content << in.rdbuf();
  warn_if_exposed(path);
  return checked(trim(content.str()), "the token file " + path);
}

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string{} : std::string(value);
}

}  // namespace

std::string staff_token(const std::string& path, const std::string& name) {
  std::ifstream probe(path);
  if (!probe) no_token("cannot read the staff file " + path);
  probe.close();
  warn_if_exposed(path);
  std::string names;
  try {
    const toml::value root = toml::parse(path);
    if (!root.contains("staff")) no_token(path + " has no [[staff]] entries");
    for (const toml::value& entry : toml::find<toml::array>(root, "staff")) {
      const std::string entry_name = toml::find_or<std::string>(entry, "name", "");
      if (entry_name != name) {
        names += (names.empty() ? "" : ", ") + entry_name;
        continue;
      }
      if (!entry.contains("token")) {
        no_token("the [[staff]] entry \"" + name + "\" in " + path +
                 " has no token (a config file holds only token_sha256; use the bootstrap staff-tokens.toml or "
                 "--token-file)");
      }
      return checked(trim(toml::find<std::string>(entry, "token")), "the token of \"" + name + "\" in " + path);
    }
  } catch (const ExitError&) {
    throw;
  } catch (const std::exception& e) {
    no_token("cannot parse the staff file " + path + ": " + e.what());
  }
  no_token("no [[staff]] entry named \"" + name + "\" in " + path + (names.empty() ? "" : " (it has: " + names + ")"));
}

std::string resolve_token(const GlobalOptions& options) {
  if (!options.token.empty()) return checked(trim(options.token), "the token given with --token");
  if (!options.token_file.empty()) return token_from_file(options.token_file, "--token-file");
  if (!options.staff_file.empty()) return staff_token(options.staff_file, options.staff_name);
  if (const std::string value = env("CARBON_TOKEN"); !value.empty()) {
    return checked(trim(value), "$CARBON_TOKEN");
  }
  if (const std::string path = env("CARBON_TOKEN_FILE"); !path.empty()) {
    return token_from_file(path, "$CARBON_TOKEN_FILE");
  }
  no_token(
      "no token configured: give --token-file PATH, --staff-file PATH --as NAME, or set CARBON_TOKEN or "
      "CARBON_TOKEN_FILE");
}

}  // namespace carbonctl
