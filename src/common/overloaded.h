#pragma once
/// The overload set for std::visit over a variant's alternatives.

namespace carbon {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};

}  // namespace carbon
