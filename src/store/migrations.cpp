#include "store/migrations.h"

#include <spdlog/spdlog.h>

#include <string>

#include "store/pg.h"

namespace carbon::store {

int apply_migrations(PGconn* conn) {
  exec_or_throw(conn,
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                "create schema_migrations");
  int applied = 0;
  for (const Migration& migration : all_migrations()) {
    exec_or_throw(conn, "BEGIN", "begin migration");
    try {
      exec_or_throw(conn, "SELECT pg_advisory_xact_lock(7461001)", "lock migrations");
      PgResult done = exec_params_or_throw(conn, "SELECT 1 FROM schema_migrations WHERE version = $1",
                                           {std::to_string(migration.version)}, "read schema_migrations");
      if (PQntuples(done.get()) == 0) {
        exec_or_throw(conn, std::string(migration.sql),
                      ("migration " + std::string(migration.name)).c_str());
        exec_params_or_throw(conn, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                             {std::to_string(migration.version), std::string(migration.name)}, "record migration");
        spdlog::info("applied migration {}", migration.name);
        ++applied;
      }
      exec_or_throw(conn, "COMMIT", "commit migration");
    } catch (...) {
      PgResult rollback(PQexec(conn, "ROLLBACK"));
      throw;
    }
  }
  return applied;
}

}  // namespace carbon::store
