#pragma once
// The settlement statement an end of day wrote, from its outcome's events: the engine keeps only each
// participant's latest (GetStatement reads them from PostgreSQL, tests/e2e/clearing_test.cpp).

#include <gtest/gtest.h>

#include <variant>

#include "engine/exchange.h"

namespace carbon::engine {

inline StatementRecord written_statement(const Outcome& closed, ParticipantId participant) {
  for (const Event& event : closed.events) {
    if (const auto* w = std::get_if<StatementWritten>(&event); w != nullptr && w->statement.participant == participant) {
      return w->statement;
    }
  }
  ADD_FAILURE() << "the end of day wrote no statement of participant " << participant;
  return {};
}

}  // namespace carbon::engine
