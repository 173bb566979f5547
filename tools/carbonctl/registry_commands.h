#pragma once
/// Pieces shared by registry_commands.cpp and regulator_commands.cpp:
/// paging, enum options, and the renderings of compliance statuses, freezes
/// and holdings' lists. (The registration functions are in cli_support.h.)

#include <google/protobuf/repeated_ptr_field.h>

#include <cstdint>
#include <iostream>
#include <string>

#include "carbon/v1/common.pb.h"
#include "cli_support.h"
#include "format.h"
#include "session.h"

namespace carbonctl {

/// --page-size, --page-token and --all of a list command.
struct Paging {
  std::uint32_t page_size = 0;  ///< 0: the server's default (100)
  std::string page_token;
  bool all = false;  ///< follow next_page_token to the last page
};

void add_paging(CLI::App* command, Paging& paging);

/// Runs a paged list RPC: one page, or every page from --page-token on with
/// --all (their items appended into `response`, whose next_page_token is
/// then the last page's, i.e. empty).
template <typename Request, typename Response, typename Rpc>
void fetch_pages(Session& session, Request request, const Paging& paging, Response& response, Rpc&& rpc) {
  request.set_page_size(paging.page_size);
  request.set_page_token(paging.page_token);
  for (;;) {
    Response page;
    session.call([&](grpc::ClientContext* context) { return rpc(context, request, &page); });
    response.MergeFrom(page);
    response.set_next_page_token(page.next_page_token());
    if (!paging.all || page.next_page_token().empty() || page.next_page_token() == request.page_token()) return;
    request.set_page_token(page.next_page_token());
  }
}

/// Basis points as a percentage: 1000 -> "10.00%". Integer arithmetic only.
std::string bps_percent(std::int64_t basis_points);

/// After a table: how to get the next page, if there is one.
void print_next_page(std::ostream& out, const std::string& next_page_token);

/// An option taking the short name of a proto enum value (as carbonctl prints
/// it: "active", "awaiting_emissions"; '-' may stand for '_', any case); the
/// UNSPECIFIED value is not accepted.
template <typename Enum>
CLI::Option* add_enum(CLI::App* command, const std::string& name, Enum& target, const std::string& description) {
  const auto* descriptor = google::protobuf::GetEnumDescriptor<Enum>();
  std::string choices;
  for (int i = 1; i < descriptor->value_count(); ++i) {
    choices += (choices.empty() ? "" : ", ") + enum_name(descriptor, descriptor->value(i)->number());
  }
  return command
      ->add_option_function<std::string>(
          name,
          [&target, descriptor](const std::string& text) {
            for (int i = 1; i < descriptor->value_count(); ++i) {
              if (enum_name(descriptor, descriptor->value(i)->number()) == text) {
                target = static_cast<Enum>(descriptor->value(i)->number());
              }
            }
          },
          description + " (" + choices + ")")
      ->transform(CLI::Validator(
          [descriptor, choices](std::string& text) -> std::string {
            for (char& c : text) {
              if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
              if (c == '-') c = '_';
            }
            for (int i = 1; i < descriptor->value_count(); ++i) {
              if (enum_name(descriptor, descriptor->value(i)->number()) == text) return {};
            }
            return "\"" + text + "\" is not one of: " + choices;
          },
          ""))
      ->type_name("NAME");
}

void print_compliance_status(std::ostream& out, const carbon::v1::ComplianceStatus& status);
void print_compliance_statuses(std::ostream& out,
                               const google::protobuf::RepeatedPtrField<carbon::v1::ComplianceStatus>& statuses);
void print_freezes(std::ostream& out, const google::protobuf::RepeatedPtrField<carbon::v1::HoldingFreeze>& freezes);

/// Adds "freeze", "unfreeze" and "freezes" under `parent`, calling
/// RegistryService (`regulator` false) or RegulatorService (true).
void add_freeze_commands(CLI::App& parent, Action& action, bool regulator);

}  // namespace carbonctl
