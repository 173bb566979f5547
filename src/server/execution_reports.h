#pragma once
/// Execution reports of the order session: those answering a session
/// command from its committed reply, and the unsolicited ones derived from
/// a committed outcome for the owners of the orders it changed.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "carbon/v1/trading.pb.h"
#include "common/status.h"
#include "engine/records.h"
#include "engine/runtime.h"
#include "store/market_reader.h"

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

/// As above for a committed outcome, and first, if its issuer was answered
/// UNAVAILABLE (outcome unknown) before it committed, the reports its reply
/// would have carried (append_command_reports(): ACCEPTED, FILLs, ...; command
/// index 0), to the issuer, whose sessions learn so what became of it. Nothing
/// of the kind for a refusal: it changed nothing, and a resubmission gets its
/// own answer. For another command so answered (CancelAllOrders, say), its
/// changes to the issuer's orders are reported like anyone else's (CANCELLED,
/// FILL).
void for_each_unsolicited_report(const engine::CommittedOutcome& committed,
                                 const std::function<void(ParticipantId, v1::ExecutionReport&&)>& emit);

/// The reports of an order session's replay (replay_after_sequence) from
/// the participant's order history, those with a sequence up to `up_to`, in
/// sequence order (within one sequence: ACCEPTED, then FILLs by trade id,
/// then CANCELLED or EXPIRED), orders of any mode. Each order entered after history.from is
/// ACCEPTED as entered (nothing filled); each trade is a FILL with the order
/// filled as of that trade; an order that ended cancelled or expired after
/// history.from is CANCELLED or EXPIRED. The order's other fields are as it
/// stands now: amendments are not replayed. Command index 0, sequence of the
/// change.
std::vector<v1::ExecutionReport> replay_reports(const store::OrderHistory& history, Sequence up_to);
/// How many reports replay_reports() gives, without building them.
std::size_t replay_report_count(const store::OrderHistory& history, Sequence up_to);

/// True if an outcome can yield unsolicited reports at all (it holds an OrderChanged event).
bool changes_orders(const engine::Outcome& outcome);

}  // namespace carbon::server
