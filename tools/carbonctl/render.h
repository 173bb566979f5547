#pragma once
/// Human-readable and JSON renderings of carbond's replies.

#include <google/protobuf/message.h>
#include <google/protobuf/repeated_ptr_field.h>

#include <iostream>
#include <ostream>
#include <utility>

#include "carbon/v1/common.pb.h"
#include "carbon/v1/market_data.pb.h"
#include "carbon/v1/trading.pb.h"
#include "session.h"

namespace carbonctl {

/// The message as one line of JSON (proto field names, default values
/// included; int64 fields are JSON strings, per the proto3 JSON mapping).
void print_json(std::ostream& out, const google::protobuf::Message& message);

/// A reply on standard output: with --json its JSON line, else what `table`
/// prints. Returns kExitOk.
template <typename Table>
int print_message(Session& session, const google::protobuf::Message& message, Table&& table) {
  if (session.json()) {
    print_json(std::cout, message);
  } else {
    std::forward<Table>(table)();
  }
  return kExitOk;
}

void print_participant(std::ostream& out, const carbon::v1::Participant& participant);
void print_participants(std::ostream& out, const google::protobuf::RepeatedPtrField<carbon::v1::Participant>& list);

void print_order(std::ostream& out, const carbon::v1::Order& order);
void print_orders(std::ostream& out, const google::protobuf::RepeatedPtrField<carbon::v1::Order>& orders);

void print_trades(std::ostream& out, const google::protobuf::RepeatedPtrField<carbon::v1::Trade>& trades);
/// Execution reports, one row each: the order's state after the change and, for a fill, the trade.
void print_reports(std::ostream& out, const google::protobuf::RepeatedPtrField<carbon::v1::ExecutionReport>& reports);

void print_cash(std::ostream& out, const carbon::v1::CashBalance& cash);
void print_holding(std::ostream& out, const carbon::v1::Holding& holding);
void print_holdings(std::ostream& out, const google::protobuf::RepeatedPtrField<carbon::v1::Holding>& holdings);

void print_book(std::ostream& out, const carbon::v1::BookSnapshot& book);

}  // namespace carbonctl
