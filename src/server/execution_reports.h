#pragma once
/// Execution reports of the order session: those answering a session
/// command from its committed reply, and the unsolicited ones derived from
/// a committed outcome for the owners of the orders it changed.

#include <cstdint>
#include <functional>

#include "carbon/v1/trading.pb.h"
#include "common/status.h"
#include "engine/records.h"

namespace carbon::server {

/// Appends to `out` the reports answering one place, cancel or amend command
/// (`command`, before any validation refusal) of `issuer` at `index` in its
/// batch, from the engine's committed reply. A place answers ACCEPTED, a FILL
/// per trade (order state after that fill) and CANCELLED if its remainder
/// was cancelled (IOC, FOK, self-trade prevention); a cancel answers
/// CANCELLED; an amend AMENDED then FILLs; a refusal REJECTED,
/// CANCEL_REJECTED or AMEND_REJECTED with the gRPC code and message.
void append_command_reports(const engine::CommandBody& command, ParticipantId issuer, const engine::Reply& reply,
                            std::uint32_t index, google::protobuf::RepeatedPtrField<v1::ExecutionReport>& out);

/// Appends the refusal of a command that never reached the engine (ring
/// full, shutting down, malformed): sequence 0.
void append_refusal(const engine::CommandBody& command, ParticipantId issuer, const Status& status,
                    std::uint32_t index, google::protobuf::RepeatedPtrField<v1::ExecutionReport>& out);

/// Calls `emit(owner, report)` for every change `outcome` made to an order
/// that the command's own reply does not report to its issuer: fills of
/// other participants' resting orders, the issuer's resting orders cancelled
/// by self-trade prevention, expiries at end of day, anything done by staff.
/// Needs the outcome's reply (the subject orders), so call it before the
/// reply is moved out. Events not about orders are ignored.
void for_each_unsolicited_report(const engine::Outcome& outcome, ParticipantId issuer,
                                 const std::function<void(ParticipantId, v1::ExecutionReport&&)>& emit);

/// True if an outcome can yield unsolicited reports at all (it holds an OrderChanged event).
bool changes_orders(const engine::Outcome& outcome);

}  // namespace carbon::server
