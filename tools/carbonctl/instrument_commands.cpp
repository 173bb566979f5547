// carbonctl commands for instruments and an operator's view of balances:
// `instrument create`, `instrument rules`, `instrument show` (role: operator;
// show: every role) and `participant balances <id>` (operator, registry
// authority, regulator, auditor).

#include "instrument_commands.h"

#include <iostream>
#include <sstream>

#include "carbon/v1/admin.grpc.pb.h"
#include "cli_support.h"
#include "format.h"
#include "render.h"

namespace carbonctl {
namespace {

namespace v1 = carbon::v1;

/// The rules given on the command line, shared by create and rules.
struct RulesArgs {
  std::string listed;  ///< mode spec, empty = not given (the market's defaults)
  std::string block;
  std::string auction;  ///< AUCTION: enabled and fees only
  bool gtc = false;
  std::vector<std::string> eligible;
  std::int64_t position_limit = 0;
};

struct CreateArgs {
  std::string code;
  std::string market;
  std::int32_t vintage = 0;
  std::int64_t tick = 1;
  std::int64_t lot = 1;
  std::int64_t reference = 0;
  RulesArgs rules;
};

constexpr const char* kModeSpecHelp =
    "comma-separated key=value: enabled=yes|no (default yes), min=T, max=T (0 = none), band-bps=N (required, "
    "1-9999), sessions=HH:MM-HH:MM[+HH:MM-HH:MM...] (default: the market's), buy-fee-bps=N, sell-fee-bps=N "
    "(default 0); without this option the mode takes the configured defaults";

int minutes_of(const std::string& hhmm) {
  const auto colon = hhmm.find(':');
  int h = 0, m = 0;
  if (colon == std::string::npos || !parse_decimal(hhmm.substr(0, colon), h) ||
      !parse_decimal(hhmm.substr(colon + 1), m) || m < 0 || m > 59 || h < 0) {
    throw ExitError(kExitUsage, "session time \"" + hhmm + "\" is not HH:MM");
  }
  return h * 60 + m;
}

/// Parses a --listed / --block spec into ModeRules.
v1::ModeRules mode_rules(v1::TradingMode mode, const std::string& spec) {
  v1::ModeRules out;
  out.set_mode(mode);
  out.set_enabled(true);
  std::stringstream items(spec);
  std::string item;
  while (std::getline(items, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) throw ExitError(kExitUsage, "mode rule \"" + item + "\" is not key=value");
    const std::string key = item.substr(0, eq);
    const std::string value = item.substr(eq + 1);
    std::int64_t number = 0;
    const bool numeric = parse_decimal(value, number);
    auto need_number = [&] {
      if (!numeric) throw ExitError(kExitUsage, "mode rule " + key + "=\"" + value + "\" is not a decimal integer");
    };
    if (key == "enabled") {
      if (value != "yes" && value != "no") throw ExitError(kExitUsage, "enabled must be yes or no");
      out.set_enabled(value == "yes");
    } else if (key == "min") {
      need_number();
      out.set_min_order_quantity(number);
    } else if (key == "max") {
      need_number();
      out.set_max_order_quantity(number);
    } else if (key == "band-bps") {
      need_number();
      out.set_price_band_bps(number);
    } else if (key == "buy-fee-bps") {
      need_number();
      out.set_buy_fee_bps(number);
    } else if (key == "sell-fee-bps") {
      need_number();
      out.set_sell_fee_bps(number);
    } else if (key == "sessions") {
      std::stringstream windows(value);
      std::string window;
      while (std::getline(windows, window, '+')) {
        const auto dash = window.find('-');
        if (dash == std::string::npos) throw ExitError(kExitUsage, "session \"" + window + "\" is not HH:MM-HH:MM");
        v1::TradingSession& session = *out.add_sessions();
        session.set_start_minute(static_cast<std::uint32_t>(minutes_of(window.substr(0, dash))));
        session.set_end_minute(static_cast<std::uint32_t>(minutes_of(window.substr(dash + 1))));
      }
    } else {
      throw ExitError(kExitUsage, "unknown mode rule \"" + key +
                                      "\" (enabled, min, max, band-bps, sessions, buy-fee-bps, sell-fee-bps)");
    }
  }
  return out;
}

v1::ParticipantType participant_type(const std::string& name) {
  if (name == "key-emitting-unit") return v1::PARTICIPANT_TYPE_KEY_EMITTING_UNIT;
  if (name == "institution") return v1::PARTICIPANT_TYPE_INSTITUTION;
  if (name == "natural-person") return v1::PARTICIPANT_TYPE_NATURAL_PERSON;
  throw ExitError(kExitUsage, "unknown participant type \"" + name +
                                  "\" (key-emitting-unit, institution, natural-person)");
}

template <typename Request>
void set_rules(const RulesArgs& args, Request& request) {
  if (!args.listed.empty()) *request.add_mode_rules() = mode_rules(v1::TRADING_MODE_LISTED, args.listed);
  if (!args.block.empty()) *request.add_mode_rules() = mode_rules(v1::TRADING_MODE_BLOCK, args.block);
  if (!args.auction.empty()) *request.add_mode_rules() = mode_rules(v1::TRADING_MODE_AUCTION, args.auction);
  request.set_gtc_enabled(args.gtc);
  for (const std::string& type : args.eligible) request.add_eligible_participant_types(participant_type(type));
  request.set_position_limit(args.position_limit);
}

std::string hhmm(std::uint32_t minute) {
  const std::uint32_t h = minute / 60, m = minute % 60;
  return (h < 10 ? "0" : "") + std::to_string(h) + ":" + (m < 10 ? "0" : "") + std::to_string(m);
}

void print_instrument(std::ostream& out, const v1::Instrument& i) {
  out << i.code() << " (" << short_name(i.market()) << (i.vintage_year() ? ", vintage " + std::to_string(i.vintage_year()) : "")
      << "): tick " << i.tick_fen() << " fen, lot " << tonnes(i.lot()) << ", reference "
      << (i.reference_price_fen() ? yuan(i.reference_price_fen()) : std::string("none")) << ", GTC "
      << (i.gtc_enabled() ? "yes" : "no") << ", position limit " << tonnes(i.position_limit()) << ", "
      << (i.halted() ? "halted: " + printable(i.halt_reason()) : std::string("trading")) << "\n";
  std::string eligible;
  for (int type : i.eligible_participant_types()) {
    eligible += (eligible.empty() ? "" : ", ") + short_name(static_cast<v1::ParticipantType>(type));
  }
  out << "eligible: " << eligible << "\n";
  Table table({{"mode"}, {"enabled"}, {"min", Table::Align::right}, {"max", Table::Align::right},
               {"band", Table::Align::right}, {"sessions"}, {"buy fee", Table::Align::right},
               {"sell fee", Table::Align::right}});
  for (const v1::ModeRules& m : i.mode_rules()) {
    std::string sessions;
    for (const auto& s : m.sessions()) {
      sessions += (sessions.empty() ? "" : " ") + hhmm(s.start_minute()) + "-" + hhmm(s.end_minute());
    }
    table.add_row({short_name(m.mode()), m.enabled() ? "yes" : "no", tonnes(m.min_order_quantity()),
                   m.max_order_quantity() ? tonnes(m.max_order_quantity()) : "-",
                   m.price_band_bps() ? std::to_string(m.price_band_bps()) + " bps" : "-", sessions, std::to_string(m.buy_fee_bps()) + " bps",
                   std::to_string(m.sell_fee_bps()) + " bps"});
  }
  table.print(out);
}

int print_reply(Session& session, const v1::Instrument& instrument) {
  if (session.json()) {
    print_json(std::cout, instrument);
  } else {
    print_instrument(std::cout, instrument);
  }
  return kExitOk;
}

int instrument_create(Session& session, const CreateArgs& args) {
  v1::CreateInstrumentRequest request;
  request.set_code(args.code);
  request.set_market(args.market == "voluntary" ? v1::MARKET_VOLUNTARY : v1::MARKET_COMPLIANCE);
  request.set_vintage_year(args.vintage);
  request.set_tick_fen(args.tick);
  request.set_lot(args.lot);
  request.set_reference_price_fen(args.reference);
  set_rules(args.rules, request);
  v1::Instrument response;
  auto stub = v1::AdminService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->CreateInstrument(c, request, &response); });
  return print_reply(session, response);
}

int instrument_rules(Session& session, const std::string& code, const RulesArgs& args) {
  v1::UpdateInstrumentRulesRequest request;
  request.set_instrument(code);
  set_rules(args, request);
  v1::Instrument response;
  auto stub = v1::AdminService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->UpdateInstrumentRules(c, request, &response); });
  return print_reply(session, response);
}

int instrument_show(Session& session, const std::string& code) {
  v1::ListInstrumentsResponse response;
  auto stub = v1::AdminService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->ListInstruments(c, v1::ListInstrumentsRequest{}, &response); });
  for (const v1::Instrument& instrument : response.instruments()) {
    if (instrument.code() == code) return print_reply(session, instrument);
  }
  throw ExitError(kExitRefused, "NOT_FOUND: unknown instrument \"" + code + "\"");
}

int account_balances(Session& session, std::uint64_t participant) {
  v1::GetAccountBalancesRequest request;
  request.set_participant_id(participant);
  v1::GetAccountBalancesResponse response;
  auto stub = v1::AdminService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->GetAccountBalances(c, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
    return kExitOk;
  }
  print_participant(std::cout, response.participant());
  std::cout << "\n";
  print_cash(std::cout, response.cash());
  std::cout << "\n";
  print_holdings(std::cout, response.holdings());
  return kExitOk;
}

void add_rule_options(CLI::App* sub, RulesArgs& rules) {
  sub->add_option("--listed", rules.listed, std::string("listed mode rules: ") + kModeSpecHelp)->type_name("SPEC");
  sub->add_option("--block", rules.block, std::string("block mode rules: ") + kModeSpecHelp)->type_name("SPEC");
  sub->add_option("--auction", rules.auction,
                  "single-side auction rules: enabled=yes|no (default yes), buy-fee-bps=N, sell-fee-bps=N (default 0); "
                  "an auction has its own window and bid lot; without this option the configured defaults")
      ->type_name("SPEC");
  sub->add_flag("--gtc", rules.gtc, "accept good-till-cancelled orders (default: not)");
  sub->add_option("--eligible", rules.eligible,
                  "participant types allowed to trade it, comma-separated: key-emitting-unit, institution, "
                  "natural-person (default: the market's: compliance without natural persons)")
      ->delimiter(',');
  add_integer(sub, "--position-limit", rules.position_limit, "position limit in tonnes (default 0: the configured one)");
}

}  // namespace

void add_instrument_commands(CLI::App& app, std::function<int(Session&)>& action) {
  static CreateArgs create_args;
  static RulesArgs update_args;
  static std::string code;
  static std::uint64_t participant = 0;

  auto* instrument = app.add_subcommand("instrument", "Instruments and their trading rules (role: operator; show: every role)");
  instrument->require_subcommand(1);
  instrument->footer("Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator instrument show CEA2024");

  auto* create = instrument->add_subcommand(
      "create", "Create an instrument; it trades once it has a reference price (role: operator)");
  create->add_option("--code", create_args.code, "unique code: 1 to 16 of A-Z, 0-9, '-' (allowances: CEA<year>)")
      ->required();
  create->add_option("--market", create_args.market, "compliance (allowances) or voluntary (CCER)")
      ->required()
      ->check(CLI::IsMember({"compliance", "voluntary"}));
  add_integer(create, "--vintage", create_args.vintage,
              "allowances: the vintage's last compliance year, as the code names it; 0 for voluntary");
  add_integer(create, "--tick-fen", create_args.tick, "price tick in fen (default 1)");
  add_integer(create, "--lot", create_args.lot, "lot in tonnes (default 1)");
  add_integer(create, "--reference-fen", create_args.reference,
              "first reference price in fen per tonne (default 0: none; set it later with market reference)");
  add_rule_options(create, create_args.rules);
  create->footer(
      "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator instrument create "
      "--code CEA2026 --market compliance --vintage 2026 --reference-fen 9000 --gtc "
      "--listed \"band-bps=1000,max=99999,sessions=09:30-11:30+13:00-15:00\"");
  create->callback([&action] { action = [](Session& s) { return instrument_create(s, create_args); }; });

  auto* rules = instrument->add_subcommand(
      "rules",
      "Replace an instrument's trading rules as a whole: modes, GTC, eligibility and position limit not given "
      "return to the configured defaults; open orders stay (role: operator)");
  rules->add_option("instrument", code, "instrument code")->required();
  add_rule_options(rules, update_args);
  rules->footer(
      "Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as operator instrument rules CEA2026 "
      "--listed \"band-bps=500,max=50000\" --eligible key-emitting-unit");
  rules->callback([&action] { action = [](Session& s) { return instrument_rules(s, code, update_args); }; });

  auto* show = instrument->add_subcommand("show", "Show one instrument with all its rules (every role)");
  show->add_option("instrument", code, "instrument code")->required();
  show->footer("Example: carbonctl --token-file ~/.carbon/trader.token instrument show CEA2024");
  show->callback([&action] { action = [](Session& s) { return instrument_show(s, code); }; });

  {
    CLI::App* group = app.get_subcommand("participant");  // main.cpp declares it first
    auto* balances = group->add_subcommand(
        "balances", "Show a participant's cash and holdings (operator, registry authority, regulator, auditor)");
    add_integer(balances, "id", participant, "participant id")->required();
    balances->footer("Example: carbonctl --staff-file /var/lib/carbond/staff-tokens.toml --as auditor participant balances 1");
    balances->callback([&action] { action = [](Session& s) { return account_balances(s, participant); }; });
  }
}

}  // namespace carbonctl
