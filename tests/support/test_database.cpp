#include "support/test_database.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace carbon::testing {
namespace {

std::string read_admin_conninfo() {
  const char* dir = std::getenv("CARBON_TEST_PG_DIR");
  if (dir == nullptr) throw std::runtime_error("CARBON_TEST_PG_DIR is not set: run this test through ctest");
  std::ifstream in(std::string(dir) + "/conninfo");
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().empty()) throw std::runtime_error(std::string("no conninfo in ") + dir + ": fixture not started?");
  return text.str();
}

std::string with_dbname(std::string conninfo, const std::string& name) {
  const auto at = conninfo.find("dbname=");
  if (at == std::string::npos) return conninfo + " dbname=" + name;
  const auto end = conninfo.find(' ', at);
  return conninfo.replace(at, end == std::string::npos ? std::string::npos : end - at, "dbname=" + name);
}

std::string run(const std::string& conninfo, const std::string& sql) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(conninfo.c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(conn.get()));
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), sql.c_str()), &PQclear);
  const auto status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error(sql + ": " + PQerrorMessage(conn.get()));
  }
  if (PQntuples(result.get()) == 0 || PQnfields(result.get()) == 0) return "";
  return PQgetvalue(result.get(), 0, 0);
}

}  // namespace

TestDatabase::TestDatabase() : admin_conninfo_(read_admin_conninfo()) {
  static std::atomic<int> counter{0};
  name_ = "carbon_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
          std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1'000'000);
  run(admin_conninfo_, "CREATE DATABASE " + name_);
  conninfo_ = with_dbname(admin_conninfo_, name_);
}

TestDatabase::~TestDatabase() {
  try {
    run(admin_conninfo_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (...) {
  }
}

std::string TestDatabase::query(const std::string& sql) const { return run(conninfo_, sql); }

}  // namespace carbon::testing
