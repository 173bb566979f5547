// The authorization table against the API's own documentation: for every RPC
// of every service, the roles its proto comment names (its "Callers:"
// sentence, its "PERMISSION_DENIED caller is not ..." error, "every role",
// or else its service's callers) are exactly the roles server::authorize()
// lets through. A second source for the table: the end-to-end matrix
// (tests/e2e/auth_matrix_test.cpp) takes its expectations from the table
// itself, so a role added to a row by mistake would pass there, not here.

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "server/auth.h"

namespace carbon::server {
namespace {

const std::map<std::string, Role> kRoles = {{"ROLE_TRADER", Role::trader},
                                            {"ROLE_OPERATOR", Role::operator_},
                                            {"ROLE_REGISTRY_AUTHORITY", Role::registry_authority},
                                            {"ROLE_REGULATOR", Role::regulator},
                                            {"ROLE_AUDITOR", Role::auditor}};

using Roles = std::set<Role>;

Roles every_role() {
  Roles all;
  for (const auto& [name, role] : kRoles) all.insert(role);
  return all;
}

/// The ROLE_* names in `text`.
Roles roles_in(const std::string& text) {
  Roles out;
  static const std::regex role(R"(ROLE_[A-Z_]+)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), role); it != std::sregex_iterator(); ++it) {
    if (auto found = kRoles.find(it->str()); found != kRoles.end()) out.insert(found->second);
  }
  return out;
}

/// The sentence of `text` that starts at `from` (up to the first ". " or the end).
std::string sentence_at(const std::string& text, std::size_t from) {
  const std::size_t end = text.find(". ", from);
  return text.substr(from, end == std::string::npos ? std::string::npos : end - from);
}

struct Documented {
  Roles roles;
  std::string as_for;  ///< "Callers as for <rpc>": that RPC's roles
  bool stated = false;
};

/// The roles a comment states, if it states any.
Documented documented(const std::string& comment) {
  Documented d;
  if (const std::size_t as = comment.find("Callers as for "); as != std::string::npos) {
    std::istringstream rest(comment.substr(as + 15));
    rest >> d.as_for;
    while (!d.as_for.empty() && !std::isalnum(static_cast<unsigned char>(d.as_for.back()))) d.as_for.pop_back();
    d.stated = true;
    return d;
  }
  if (const std::size_t callers = comment.find("Callers:"); callers != std::string::npos) {
    const std::string said = sentence_at(comment, callers);
    d.roles = said.find("every role") != std::string::npos ? every_role() : roles_in(said);
    d.stated = !d.roles.empty();
    if (d.stated) return d;
  }
  static const std::regex not_role(R"(PERMISSION_DENIED\s+caller is not ((ROLE_[A-Z_]+)(,?\s+(or\s+)?ROLE_[A-Z_]+)*))");
  if (std::smatch m; std::regex_search(comment, m, not_role)) {
    d.roles = roles_in(m[1].str());
    d.stated = true;
    return d;
  }
  if (comment.find("every role") != std::string::npos || comment.find("Public:") != std::string::npos) {
    d.roles = every_role();
    d.stated = true;
  }
  return d;
}

struct Rpc {
  std::string service;
  std::string name;
  Documented doc;
};

/// Every RPC of the API's proto files with what its comment, or its service's, documents.
std::vector<Rpc> rpcs_of_the_api() {
  std::vector<Rpc> out;
  for (const auto& entry : std::filesystem::directory_iterator(CARBON_PROTO_DIR)) {
    if (entry.path().extension() != ".proto") continue;
    std::ifstream in(entry.path());
    std::string line, comment, service;
    Documented service_doc;
    static const std::regex service_line(R"(^service (\w+) \{)");
    static const std::regex rpc_line(R"(^\s*rpc (\w+)\()");
    while (std::getline(in, line)) {
      const std::size_t slashes = line.find("//");
      const bool comment_line = slashes != std::string::npos && line.find_first_not_of(' ') == slashes;
      if (comment_line) {
        comment += " " + line.substr(slashes + 2);
        continue;
      }
      std::smatch m;
      if (std::regex_search(line, m, service_line)) {
        service = m[1].str();
        service_doc = documented(comment);
      } else if (std::regex_search(line, m, rpc_line)) {
        Documented doc = documented(comment);
        if (!doc.stated) doc = service_doc;
        out.push_back(Rpc{service, m[1].str(), doc});
      }
      comment.clear();
    }
  }
  return out;
}

TEST(AuthorizationDocTest, EveryRpcLetsThroughExactlyTheRolesItsCommentNames) {
  const std::vector<Rpc> rpcs = rpcs_of_the_api();
  ASSERT_GE(rpcs.size(), 80u) << "the proto files were not read from " << CARBON_PROTO_DIR;
  std::map<std::string, Roles> by_name;
  for (const Rpc& rpc : rpcs) by_name[rpc.name] = rpc.doc.roles;
  for (const Rpc& rpc : rpcs) {
    SCOPED_TRACE(rpc.service + "/" + rpc.name);
    Roles expected = rpc.doc.roles;
    if (!rpc.doc.as_for.empty()) {
      ASSERT_TRUE(by_name.contains(rpc.doc.as_for)) << "\"Callers as for " << rpc.doc.as_for << "\": no such RPC";
      expected = by_name[rpc.doc.as_for];
    }
    EXPECT_TRUE(rpc.doc.stated) << "the comment names no callers, and neither does its service's";
    const std::string method = "carbon.v1." + rpc.service + "/" + rpc.name;
    for (const auto& [name, role] : kRoles) {
      EXPECT_EQ(authorize(role, method).is_ok(), expected.contains(role))
          << name << (expected.contains(role) ? " is documented as a caller but refused"
                                              : " is let through but not documented as a caller");
    }
  }
}

}  // namespace
}  // namespace carbon::server
