#pragma once
/// A fresh database in the suite's own PostgreSQL cluster (started by the
/// ctest fixture carbon_pg, found through CARBON_TEST_PG_DIR), dropped when
/// the object goes away.

#include <string>

namespace carbon::testing {

class TestDatabase {
 public:
  TestDatabase();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  /// libpq conninfo of this database.
  const std::string& conninfo() const { return conninfo_; }
  const std::string& name() const { return name_; }

  /// Runs SQL in this database and returns the first column of the first row ("" if none). Throws on error.
  std::string query(const std::string& sql) const;

 private:
  std::string admin_conninfo_;
  std::string name_;
  std::string conninfo_;
};

}  // namespace carbon::testing
