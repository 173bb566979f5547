#pragma once
/// The metrics the engine runtime's threads update: commands by kind (engine
/// thread), commit batch size and latency, acknowledgement latency and
/// rejections by reason (journal writer thread). Made once at start from a
/// metrics::Registry; the engine thread only increments pre-registered
/// counters (an atomic each: no lock, no allocation).

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"

namespace carbon::engine {

/// Rejections by command, status code and rule. Journal writer thread only:
/// a label set not seen before is registered (the registry's lock, rare);
/// afterwards it is a lookup in a small map owned by the writer.
class RejectionCounter {
 public:
  explicit RejectionCounter(metrics::Registry& registry) : registry_(&registry) {}
  /// One refusal of a command of CommandBody index `kind`, labelled `command` when given (a Refused command:
  /// the refused request's name, from its CommandRejected event), else the kind's name.
  void count(std::size_t kind, const Status& status, std::string_view command = {});

  /// The rule a refusal names: the message's prefix before ": " when it is a
  /// short lowercase phrase ("price band", "lot rule"), else its leading
  /// lowercase words up to the first quote, digit or code ("unknown
  /// instrument"), else "other". Bounded so that identifiers in messages never
  /// become label values.
  static std::string reason_of(const std::string& message);

 private:
  metrics::Registry* registry_;
  std::map<std::tuple<std::string, ErrorCode, std::string>, metrics::Counter*> cache_;
};

struct RuntimeMetrics {
  explicit RuntimeMetrics(metrics::Registry& registry);

  std::vector<metrics::Counter*> commands;  ///< by CommandBody index
  metrics::Histogram* commit_batch_size = nullptr;
  metrics::Histogram* commit_latency = nullptr;  ///< seconds
  metrics::Histogram* ack_latency = nullptr;     ///< seconds, submit to reply, including the commit
  RejectionCounter rejections;
};

}  // namespace carbon::engine
