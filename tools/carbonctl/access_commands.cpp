// carbonctl commands for access control: API tokens (issue, revoke, list;
// role: operator) and the audit log (role: regulator, auditor).

#include "access_commands.h"

#include <charconv>
#include <iostream>
#include <memory>

#include "carbon/v1/admin.grpc.pb.h"
#include "carbon/v1/regulator.grpc.pb.h"
#include "cli_support.h"
#include "format.h"
#include "render.h"

namespace carbonctl {
namespace {

namespace v1 = carbon::v1;

struct TokenIssueArgs {
  std::string role;
  std::uint64_t participant = 0;
  std::string label;
  std::int64_t expires_at = 0;
};

struct AuditArgs {
  std::string method;
  std::string role;
  std::uint64_t participant = 0;
  std::uint64_t token_id = 0;
  std::string principal;
  bool failures = false;
  bool hashes = false;
  std::int64_t from = 0;  ///< received at or after, Unix nanoseconds; 0: no bound
  std::int64_t to = 0;    ///< received before; 0: no bound
  std::uint32_t limit = 50;
  std::string page_token;
};

v1::Role role_of(const std::string& name) {
  if (name == "trader") return v1::ROLE_TRADER;
  if (name == "operator") return v1::ROLE_OPERATOR;
  if (name == "registry_authority" || name == "registry") return v1::ROLE_REGISTRY_AUTHORITY;
  if (name == "regulator") return v1::ROLE_REGULATOR;
  if (name == "auditor") return v1::ROLE_AUDITOR;
  return v1::ROLE_UNSPECIFIED;
}

void print_tokens(std::ostream& out, const google::protobuf::RepeatedPtrField<v1::ApiToken>& tokens) {
  Table table({{"id", Table::Align::right}, {"role"}, {"participant", Table::Align::right}, {"label"}, {"issued"},
               {"expires"}, {"revoked"}});
  for (const auto& t : tokens) {
    table.add_row({std::to_string(t.token_id()), short_name(t.role()), id_or_dash(t.participant_id()), t.label(),
                   china_time(t.issued_at_unix_nanos()), china_time(t.expires_at_unix_nanos()),
                   china_time(t.revoked_at_unix_nanos())});
  }
  table.print(out);
}

int token_issue(Session& session, const TokenIssueArgs& args) {
  v1::IssueApiTokenRequest request;
  request.set_role(role_of(args.role));
  request.set_participant_id(args.participant);
  request.set_label(args.label);
  request.set_expires_at_unix_nanos(args.expires_at);
  v1::IssueApiTokenResponse response;
  auto stub = v1::AdminService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->IssueApiToken(c, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
  } else {
    google::protobuf::RepeatedPtrField<v1::ApiToken> one;
    *one.Add() = response.api_token();
    print_tokens(std::cout, one);
    std::cout << "token (shown only now; carbond keeps only its SHA-256): " << response.token() << "\n";
  }
  return kExitOk;
}

int token_revoke(Session& session, std::uint64_t token_id) {
  v1::RevokeApiTokenRequest request;
  request.set_token_id(token_id);
  v1::RevokeApiTokenResponse response;
  auto stub = v1::AdminService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->RevokeApiToken(c, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
  } else {
    google::protobuf::RepeatedPtrField<v1::ApiToken> one;
    *one.Add() = response.api_token();
    print_tokens(std::cout, one);
  }
  return kExitOk;
}

int token_list(Session& session, bool all) {
  v1::ListApiTokensRequest request;
  request.set_include_revoked(all);
  v1::ListApiTokensResponse response;
  auto stub = v1::AdminService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->ListApiTokens(c, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
  } else {
    print_tokens(std::cout, response.api_tokens());
  }
  return kExitOk;
}

int audit(Session& session, const AuditArgs& args) {
  v1::QueryAuditLogRequest request;
  request.set_method(args.method);
  if (!args.role.empty()) request.set_role(role_of(args.role));
  request.set_participant_id(args.participant);
  request.set_token_id(args.token_id);
  request.set_failures_only(args.failures);
  request.set_principal(args.principal);
  request.set_from_unix_nanos(args.from);
  request.set_to_unix_nanos(args.to);
  request.set_page_size(args.limit);
  request.set_page_token(args.page_token);
  v1::QueryAuditLogResponse response;
  auto stub = v1::RegulatorService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->QueryAuditLog(c, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
    return kExitOk;
  }
  std::vector<Table::Column> columns{{"id", Table::Align::right}, {"seq", Table::Align::right}, {"time"}, {"who"},
                                     {"role"}, {"method"}, {"outcome"}, {"request"}};
  if (args.hashes) columns.push_back({"record hash"});
  Table table(std::move(columns));
  for (const auto& r : response.records()) {
    const std::string outcome =
        r.status_code() == 0 ? "OK"
                             : status_code_name(static_cast<grpc::StatusCode>(r.status_code())) + ": " +
                                   r.status_message();
    std::vector<std::string> row{std::to_string(r.audit_id()), std::to_string(r.sequence()),
                                 china_time(r.received_at_unix_nanos()), r.principal(), short_name(r.role()),
                                 r.method(), outcome, r.request_summary()};
    if (args.hashes) row.push_back(hex(r.record_hash()));
    table.add_row(std::move(row));
  }
  table.print(std::cout);
  if (!response.next_page_token().empty()) std::cout << "more: --page-token " << response.next_page_token() << "\n";
  return kExitOk;
}

}  // namespace

void add_access_commands(CLI::App& app, GlobalOptions& global, std::function<int(Session&)>& action) {
  app.add_option("--tls-ca", global.tls_ca_file, "PEM file of the CA that signed carbond's certificate (turns on TLS)")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-cert", global.tls_cert_file, "PEM client certificate, for carbond requiring mTLS")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", global.tls_key_file, "PEM private key of --tls-cert")->check(CLI::ExistingFile);

  auto issue_args = std::make_shared<TokenIssueArgs>();
  auto audit_args = std::make_shared<AuditArgs>();
  auto token_id = std::make_shared<std::uint64_t>(0);
  auto all = std::make_shared<bool>(false);

  auto* token = app.add_subcommand(
      "token", "API tokens: issue, revoke, list (each role keeps its own: operator for trader and operator "
               "tokens; registry for registry_authority tokens; regulator for regulator and auditor tokens)");
  token->require_subcommand(1);
  token->footer("Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator token list --all");

  auto* issue = token->add_subcommand(
      "issue", "Issue a token; the secret is printed once, carbond keeps only its SHA-256 (role: see token)");
  issue->add_option("--role", issue_args->role, "trader, operator, registry_authority, regulator or auditor")
      ->required()
      ->check(CLI::IsMember({"trader", "operator", "registry_authority", "regulator", "auditor"}));
  add_integer(issue, "--participant", issue_args->participant, "participant id (trader tokens only)");
  issue->add_option("--label", issue_args->label, "who or what uses it, 1 to 100 characters")->required();
  add_integer(issue, "--expires-at-unix-nanos", issue_args->expires_at, "expiry on the engine clock; 0: never");
  issue->footer(
      "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator token issue --role trader "
      "--participant 3 --label \"desk 2\"\n"
      "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as regulator token issue --role regulator "
      "--label \"supervision desk\"");
  issue->callback([&action, issue_args] { action = [issue_args](Session& s) { return token_issue(s, *issue_args); }; });

  auto* revoke =
      token->add_subcommand("revoke", "Revoke a token at once, open streams included (role: the one keeping it)");
  add_integer(revoke, "id", *token_id, "token id (token list shows it)")->required();
  revoke->footer("Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator token revoke 7");
  revoke->callback([&action, token_id] { action = [token_id](Session& s) { return token_revoke(s, *token_id); }; });

  auto* list = token->add_subcommand(
      "list", "List the tokens the caller's role keeps (a regulator: all), oldest first, never their secrets");
  list->add_flag("--all", *all, "include revoked and expired tokens");
  list->footer("Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator token list --all");
  list->callback([&action, all] { action = [all](Session& s) { return token_list(s, *all); }; });

  auto* audit_cmd = app.add_subcommand(
      "audit", "The audit log of staff actions and refusals, newest first (role: regulator, auditor)");
  audit_cmd->add_option("--method", audit_args->method, "full method, e.g. /carbon.v1.AdminService/Withdraw");
  audit_cmd->add_option("--role", audit_args->role, "only calls by this role")
      ->check(CLI::IsMember({"trader", "operator", "registry_authority", "regulator", "auditor"}));
  add_integer(audit_cmd, "--participant", audit_args->participant, "participant acted for or on");
  add_integer(audit_cmd, "--token-id", audit_args->token_id, "only calls with this API token");
  audit_cmd->add_option("--principal", audit_args->principal,
                        "only calls by this principal, as the log shows it (a [[staff]] name or a token's label)");
  audit_cmd->add_flag("--failures", audit_args->failures, "only calls that did not end OK");
  audit_cmd->add_flag("--hashes", audit_args->hashes,
                      "also print each record's hash in the chain ('regulator verify-audit' checks the chain)");
  add_integer(audit_cmd, "--from-unix-nanos", audit_args->from, "only calls received at or after this instant");
  add_integer(audit_cmd, "--to-unix-nanos", audit_args->to, "only calls received before this instant");
  add_integer(audit_cmd, "--limit", audit_args->limit, "records per page (default 50, at most 1000)");
  audit_cmd->add_option("--page-token", audit_args->page_token, "the next page, as printed by the previous one");
  audit_cmd->footer(
      "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as regulator audit --failures "
      "--method /carbon.v1.AdminService/Withdraw");
  audit_cmd->callback([&action, audit_args] { action = [audit_args](Session& s) { return audit(s, *audit_args); }; });
}

}  // namespace carbonctl
