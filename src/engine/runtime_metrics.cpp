#include "engine/runtime_metrics.h"

#include <algorithm>
#include <utility>
#include <variant>

#include "engine/records.h"

namespace carbon::engine {
namespace {

template <std::size_t... I>
std::vector<std::string> command_names(std::index_sequence<I...>) {
  std::vector<std::string> names{command_name(CommandBody{std::in_place_index<I>})...};
  // A Refused command's name is the refused request's; the kind itself is "Refused".
  names[CommandBody{std::in_place_type<Refused>}.index()] = "Refused";
  return names;
}

}  // namespace

std::string RejectionCounter::reason_of(const std::string& message) {
  constexpr std::size_t kLongest = 40;
  const auto plain = [](char c) { return (c >= 'a' && c <= 'z') || c == ' ' || c == '-' || c == '_'; };
  const auto colon = message.find(": ");
  if (colon != std::string::npos && colon > 0 && colon <= kLongest &&
      std::all_of(message.begin(), message.begin() + static_cast<std::ptrdiff_t>(colon), plain)) {
    return message.substr(0, colon);  // "price band: ..."
  }
  // Else the message's leading words, up to what names a thing (a quote, a digit, a code): "unknown instrument",
  // "holding account" (of "holding account 7 does not exist"). Whole words only, at most kLongest characters.
  std::size_t end = 0;
  while (end < message.size() && end < kLongest && plain(message[end])) ++end;
  if (end == kLongest && end < message.size() && plain(message[end])) end = message.rfind(' ', end);
  std::string lead = message.substr(0, end == std::string::npos ? 0 : end);
  while (!lead.empty() && (lead.back() == ' ' || lead.back() == '-' || lead.back() == '_')) lead.pop_back();
  return lead.empty() ? "other" : lead;
}

void RejectionCounter::count(std::size_t kind, const Status& status, std::string_view command) {
  static const std::vector<std::string> names =
      command_names(std::make_index_sequence<std::variant_size_v<CommandBody>>{});
  std::string reason = reason_of(status.message());
  auto key = std::make_tuple(command.empty() ? names.at(kind) : std::string(command), status.code(), reason);
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    metrics::Counter& counter = registry_->counter(
        "carbond_rejections_total", "Commands refused, by command, gRPC status code and the rule named",
        {{"command", std::get<0>(key)}, {"code", to_string(status.code())}, {"reason", reason}});
    it = cache_.emplace(std::move(key), &counter).first;
  }
  it->second->Increment();
}

RuntimeMetrics::RuntimeMetrics(metrics::Registry& registry) : rejections(registry) {
  for (const std::string& name : command_names(std::make_index_sequence<std::variant_size_v<CommandBody>>{})) {
    commands.push_back(&registry.counter("carbond_commands_total",
                                         "Commands applied by the engine, by kind (Refused: refused before the engine)",
                                         {{"kind", name}}));
  }
  commit_batch_size = &registry.histogram("carbond_commit_batch_commands",
                                          "Commands with events committed per journal transaction",
                                          metrics::one_two_five(1, 10'000));
  commit_latency = &registry.histogram("carbond_commit_latency_seconds",
                                       "Time of one successful journal commit (one transaction)",
                                       metrics::one_two_five(50, 5'000'000, 6));
  ack_latency = &registry.histogram("carbond_ack_latency_seconds",
                                    "From a command's submission to its reply, after its commit",
                                    metrics::one_two_five(50, 5'000'000, 6));
}

}  // namespace carbon::engine
