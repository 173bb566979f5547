#include "engine/validation.h"

#include <string>
#include <variant>

namespace carbon::engine {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};

bool is_valid(Side side) { return side == Side::buy || side == Side::sell; }
bool is_valid(ParticipantType type) {
  return type == ParticipantType::key_emitting_unit || type == ParticipantType::institution ||
         type == ParticipantType::natural_person;
}

Status validate_order(const PlaceOrder& c) {
  if (c.instrument.empty() || c.instrument.size() > 32 || !is_clean_text(c.instrument)) {
    return invalid_argument("instrument is required");
  }
  if (c.client_order_id.size() > 64 || !is_clean_text(c.client_order_id)) {
    return invalid_argument("client_order_id must be at most 64 characters, no control characters");
  }
  if (!is_valid(c.side)) return invalid_argument("side must be BUY or SELL");
  if (c.type != OrderType::limit && c.type != OrderType::market) return invalid_argument("unknown order type");
  if (c.time_in_force < TimeInForce::day || c.time_in_force > TimeInForce::gtc) {
    return invalid_argument("unknown time in force");
  }
  if (c.mode < TradingMode::listed || c.mode > TradingMode::auction) return invalid_argument("unknown trading mode");
  if (c.mode != TradingMode::listed) {
    return invalid_argument("PlaceOrder takes listed orders; block trades go through OfferBlockTrade and auction "
                            "bids through SubmitAuctionBid");
  }
  if (!c.quantity.is_positive()) return invalid_argument("quantity must be positive (whole tonnes)");
  if (c.type == OrderType::limit && !c.price.is_positive()) return invalid_argument("price_fen must be positive");
  if (c.side == Side::buy && !notional(c.price, c.quantity)) {
    return invalid_argument("price_fen x quantity overflows a 64-bit amount of fen");
  }
  return Status::ok();
}

}  // namespace

bool is_clean_text(std::string_view text) {
  const auto at = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char lead = at(i);
    if (lead < 0x20 || lead == 0x7f) return false;
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xbf;  // allowed range of the second byte
    if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      if (lead == 0xe0) low = 0xa0;
      if (lead == 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      if (lead == 0xf0) low = 0x90;
      if (lead == 0xf4) high = 0x8f;
    } else {
      return false;
    }
    if (i + length > text.size() || at(i + 1) < low || at(i + 1) > high) return false;
    for (std::size_t k = 2; k < length; ++k) {
      if ((at(i + k) & 0xc0) != 0x80) return false;
    }
    i += length;
  }
  return true;
}

Status validate(const CommandBody& body) {
  return std::visit(
      Overloaded{
          [](const CreateParticipant& c) -> Status {
            if (c.code.empty() || c.code.size() > 32 ||
                c.code.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != std::string::npos) {
              return invalid_argument("code must be 1 to 32 characters of A-Z, 0-9, '-' or '_'");
            }
            if (c.name.empty() || c.name.size() > 200 || !is_clean_text(c.name)) {
              return invalid_argument("name must be 1 to 200 bytes of UTF-8 text without control characters");
            }
            if (!is_valid(c.type)) {
              return invalid_argument("type must be KEY_EMITTING_UNIT, INSTITUTION or NATURAL_PERSON");
            }
            return Status::ok();
          },
          [](const MoveCash& c) -> Status {
            if (c.cash_account == 0) return invalid_argument("cash_account_id is required");
            if (!c.amount.is_positive()) return invalid_argument("amount_fen must be positive");
            if (c.idempotency_key.empty() || c.idempotency_key.size() > 64 || !is_clean_text(c.idempotency_key)) {
              return invalid_argument("idempotency_key is required: 1 to 64 characters, no control characters");
            }
            return Status::ok();
          },
          [](const IssueAllowances& c) -> Status {
            if (c.instrument.empty() || c.instrument.size() > 32 || !is_clean_text(c.instrument)) {
              return invalid_argument("instrument is required");
            }
            if (c.holding_account == 0) return invalid_argument("holding_account_id is required");
            if (!c.quantity.is_positive()) return invalid_argument("quantity must be positive");
            if (c.reason.empty() || c.reason.size() > 500 || !is_clean_text(c.reason)) {
              return invalid_argument("reason is required: 1 to 500 bytes of text without control characters");
            }
            return Status::ok();
          },
          [](const PlaceOrder& c) { return validate_order(c); },
          [](const CancelOrder& c) -> Status {
            return c.order_id == 0 ? invalid_argument("order_id is required") : Status::ok();
          },
          [](const GetOrder& c) -> Status {
            return c.order_id == 0 ? invalid_argument("order_id is required") : Status::ok();
          },
          [](const GetParticipant& c) -> Status {
            return c.participant == 0 ? invalid_argument("participant_id is required") : Status::ok();
          },
          [](const ListOrders& c) -> Status {
            return is_clean_text(c.instrument) ? Status::ok() : invalid_argument("instrument is malformed");
          },
          [](const ListTrades& c) -> Status {
            return is_clean_text(c.instrument) ? Status::ok() : invalid_argument("instrument is malformed");
          },
          [](const GetBook& c) -> Status {
            return c.instrument.empty() || !is_clean_text(c.instrument) ? invalid_argument("instrument is required")
                                                                         : Status::ok();
          },
          [](const Refused& c) -> Status { return c.status; },
          [](const auto&) -> Status { return Status::ok(); },
      },
      body);
}

}  // namespace carbon::engine
