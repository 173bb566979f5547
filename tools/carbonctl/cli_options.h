#pragma once
/// Command-line option helpers shared by the subcommand wiring (main.cpp and
/// the <area>_commands.cpp files that add their own subcommands).

#include <CLI/CLI.hpp>
#include <charconv>
#include <string>
#include <type_traits>

namespace carbonctl {

/// Strict base-10 integer parsing. (CLI11's own conversion uses strtoll with
/// base 0, which reads "0100" as octal 64 and "-1" as a huge unsigned value,
/// and clamps overflow silently: not acceptable for money and ids.)
template <typename Int>
inline bool parse_decimal(const std::string& text, Int& out) {
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(text.data(), end, out, 10);
  return error == std::errc{} && stop == end;
}

template <typename Int>
CLI::Validator decimal() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        Int value{};
        if (parse_decimal(text, value)) return {};
        return "\"" + text + "\" is not a decimal integer" +
               (std::is_signed_v<Int> ? "" : " >= 0") + " that fits in " + std::to_string(sizeof(Int) * 8) + " bits";
      },
      "");
}

/// An option (or positional, if `name` has no leading dash) read into an
/// integer with parse_decimal.
template <typename Int>
CLI::Option* add_integer(CLI::App* app, const std::string& name, Int& target, const std::string& description) {
  return app
      ->add_option_function<std::string>(
          name, [&target](const std::string& text) { parse_decimal(text, target); }, description)
      ->check(decimal<Int>())
      ->type_name(std::is_signed_v<Int> ? "INT" : "UINT");
}

inline const CLI::Validator kNonEmpty(
    [](std::string& text) { return text.empty() ? std::string("must not be empty") : std::string(); }, "");

}  // namespace carbonctl
