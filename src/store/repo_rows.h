#pragma once
/// The repo rows of one journal batch (latest state of each repo) and the
/// journal payload of RepoChanged. Used by the journal writer thread only.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <libpq-fe.h>

#include "engine/records.h"
#include "store/columns.h"

namespace carbon::store {

class RepoRows {
 public:
  /// Takes note of the outcome's RepoChanged events.
  void add(const engine::Outcome& outcome);
  /// (statement, array parameters) pairs for the tables with rows in this batch.
  std::vector<std::pair<const char*, Columns>> statements() const;

 private:
  std::map<std::uint64_t, engine::RepoRecord> repos_;
};

/// The journal payload of RepoChanged, or nothing for another event.
std::optional<std::string> repo_event_json(const engine::Event& event);

/// Every repo, by id (recovery). Throws std::runtime_error on a database error.
std::vector<engine::RepoRecord> load_repos(PGconn* conn);

}  // namespace carbon::store
