#pragma once
/// Numbered SQL migrations (src/store/migrations/NNNN_name.sql), compiled in
/// and applied at start, each once, in order.

#include <libpq-fe.h>

#include <string_view>
#include <vector>

namespace carbon::store {

/// One migration file.
struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

/// Every migration compiled into this binary, by version.
const std::vector<Migration>& all_migrations();

/// Applies the migrations not yet recorded in schema_migrations, each in its
/// own transaction under an advisory lock. Returns how many ran. Throws on failure.
int apply_migrations(PGconn* conn);

}  // namespace carbon::store
