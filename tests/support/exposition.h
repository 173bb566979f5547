#pragma once
/// Reading a Prometheus text exposition in tests: one sample's value.

#include <cstdlib>
#include <string>

namespace carbon::testing {

/// The value of the sample `series` (name plus labels exactly as rendered), or -1 if absent.
inline double exposition_sample(const std::string& exposition, const std::string& series) {
  const std::string prefix = series + " ";
  std::size_t at = 0;
  while ((at = exposition.find(prefix, at)) != std::string::npos) {
    if (at == 0 || exposition[at - 1] == '\n') return std::strtod(exposition.c_str() + at + prefix.size(), nullptr);
    at += prefix.size();
  }
  return -1;
}

}  // namespace carbon::testing
