#pragma once
/// The journal writer's database side: commits a batch of engine outcomes
/// (the journal rows and the projections they change) in one transaction.

#include <string>
#include <vector>

#include "engine/runtime.h"
#include "store/pg.h"

namespace carbon::store {

/// A JournalSink on PostgreSQL. One statement per table per batch (array
/// parameters unnested server-side); projections are written once per
/// touched row per batch. Reconnects after a lost connection.
/// Not thread-safe: used by the journal writer thread only.
class PostgresJournal final : public engine::JournalSink {
 public:
  explicit PostgresJournal(std::string conninfo);

  [[nodiscard]] Status commit(const std::vector<const engine::Outcome*>& batch) override;

 private:
  Status connect_if_needed();
  /// Whether the batch starting at `sequence` is already in the journal.
  Status already_committed(Sequence sequence, bool& committed);

  /// True when the previous commit failed in a way that may have committed it after all.
  bool outcome_uncertain_ = false;
  std::string conninfo_;
  PgConn conn_;
};

/// The JSON payload journaled for an event.
std::string event_payload_json(const engine::Event& event);

}  // namespace carbon::store
