// Surveillance alerts (MARKET_RULES, "Surveillance") with the [surveillance] levels (a level of 0 turns its
// check off; a minimum of 0 is no floor). At the end of day: the day's listed orders and trades, looked at once
// the sessions are over and before the closes become the next references (ORDER_TO_TRADE_RATIO,
// CONCENTRATION, MARKING_THE_CLOSE), and each settlement statement's holdings (LARGE_HOLDER). At a block
// trade: its price against the band's centre (BLOCK_PRICE_DEVIATION). Nothing here runs on the listed order
// path. Engine thread; the alerts come in a fixed order (instrument, then participant), so a replay raises the
// same ones.
#include <algorithm>
#include <chrono>
#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/exchange.h"
#include "engine/step.h"

namespace carbon::engine {
namespace {

/// The instant `minute` minutes after midnight of `day` in Asia/Shanghai (UTC+8, no daylight saving).
UnixNanos shanghai_instant(std::chrono::year_month_day day, int minute) {
  using namespace std::chrono;
  return duration_cast<nanoseconds>(sys_days(day).time_since_epoch() - hours(8) + minutes(minute)).count();
}

/// part × 10,000 / whole, rounded down; whole > 0.
std::int64_t bps(__int128 part, __int128 whole) { return static_cast<std::int64_t>(part * 10'000 / whole); }

/// Basis points as a percentage with two decimals: 1234 → "12.34%".
std::string percent(std::int64_t basis_points) {
  std::string hundredths = std::to_string(basis_points % 100);
  if (hundredths.size() < 2) hundredths.insert(0, "0");
  return std::to_string(basis_points / 100) + "." + hundredths + "%";
}

/// A participant's code, for an alert's description.
std::string code_of(const std::map<ParticipantId, ParticipantRecord>& participants, ParticipantId id) {
  const auto found = participants.find(id);
  return found == participants.end() ? "participant " + std::to_string(id) : found->second.code;
}

/// The `n` participants with the most tonnes, most first (the lower id first among equals).
std::vector<std::pair<ParticipantId, std::int64_t>> top_by_tonnes(const std::map<ParticipantId, std::int64_t>& tonnes,
                                                                 std::size_t n) {
  std::vector<std::pair<ParticipantId, std::int64_t>> out(tonnes.begin(), tonnes.end());
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  out.resize(std::min(out.size(), n));
  return out;
}

/// "14:30" for 870 minutes after midnight.
std::string clock_time(int minute) {
  return std::to_string(minute / 60) + ":" + (minute % 60 < 10 ? "0" : "") + std::to_string(minute % 60);
}

}  // namespace

void Exchange::raise_alert(Step& step, AlertRecord alert) {
  alert.id = alerts_.size() + 1;
  alert.detected_at = step.at;
  alert.sequence = step.sequence;
  step.events.push_back(AlertRaised{alert});
  alerts_.push_back(std::move(alert));
}

void Exchange::alert_block_deviation(Step& step, const Instrument& instrument, const TradeRecord& trade) {
  const int level = surveillance_.block_deviation_bps;
  const Price centre = instrument.state.reference;  // what the block band of this trade was set around
  if (level <= 0 || !centre.is_positive()) return;
  const __int128 gap = static_cast<__int128>(trade.price.value) - centre.value;
  const std::int64_t deviation = bps(gap < 0 ? -gap : gap, centre.value);
  if (deviation < level) return;
  AlertRecord alert;
  alert.type = AlertRecord::kBlockPriceDeviation;
  alert.severity = AlertRecord::kSeverityMedium;
  alert.instrument = trade.instrument;
  alert.participants = {trade.buyer, trade.seller};
  alert.description = "block trade " + std::to_string(trade.id) + " of " + tonnes(trade.quantity) + " " +
                      trade.instrument + ", " + code_of(participants_, trade.seller) + " to " +
                      code_of(participants_, trade.buyer) + " at " + std::to_string(trade.price.value) +
                      " fen: " + percent(deviation) +
                      (gap < 0 ? " below" : " above") + " the reference price of " + std::to_string(centre.value) +
                      " fen (the centre of its band), at or beyond " + percent(level);
  alert.metric_value = deviation;
  alert.threshold_value = level;
  alert.metric_unit = "bps";
  alert.window_start = trade.executed_at;
  alert.window_end = trade.executed_at;
  raise_alert(step, std::move(alert));
}

void Exchange::alert_large_holdings(Step& step, const ParticipantRecord& participant,
                                    const StatementRecord& statement) {
  const std::int64_t level = surveillance_.large_holder_tonnes;
  if (level <= 0) return;
  for (const StatementLine& line : statement.lines) {
    const Qty closing = line.closing.total();
    if (line.opening.value >= level || closing.value < level) continue;
    AlertRecord alert;
    alert.type = AlertRecord::kLargeHolder;
    alert.severity = AlertRecord::kSeverityLow;
    alert.instrument = line.instrument;
    alert.participants = {participant.id};
    alert.description = participant.code + " holds " + tonnes(closing) + " of " + line.instrument + " at the end of " +
                        statement.trading_date + " (" + tonnes(line.opening) + " at its start: bought " +
                        tonnes(line.bought) + ", sold " + tonnes(line.sold) + ", received " + tonnes(line.received) +
                        ", delivered " + tonnes(line.delivered) + "), at or above the large-holder level of " +
                        tonnes(Qty{level});
    alert.metric_value = closing.value;
    alert.threshold_value = level;
    alert.metric_unit = "tonnes";
    if (const auto day = matching::parse_date(statement.trading_date)) {
      alert.window_start = shanghai_instant(*day, 0);
      alert.window_end = shanghai_instant(*day, 24 * 60);
    }
    raise_alert(step, std::move(alert));
  }
}

void Exchange::surveil_day(Step& step) {
  const SurveillanceConfig& rules = surveillance_;
  const std::string& date = market_.trading_date;
  const auto day = *matching::parse_date(date);
  const UnixNanos day_start = shanghai_instant(day, 0);
  const UnixNanos day_end = shanghai_instant(day, 24 * 60);
  auto first_today = trades_.end();
  while (first_today != trades_.begin() && std::prev(first_today)->sequence > market_.day_opened_sequence) {
    --first_today;
  }

  // Listed orders entered today, by instrument and participant: every order the day's commands entered and the
  // engine took, whatever became of it (cancelled, filled, expired); GTC orders of earlier days are not today's.
  // One pass over the day's orders (a million at most a day here): a hash per instrument, its keys sorted below.
  std::map<std::string, std::unordered_map<ParticipantId, std::uint64_t>> orders_entered;
  if (rules.order_to_trade_max_ratio > 0) {
    const std::string* last_code = nullptr;
    std::unordered_map<ParticipantId, std::uint64_t>* counts = nullptr;
    for (const auto& [id, order] : orders_) {
      if (order.mode != TradingMode::listed || order.sequence <= market_.day_opened_sequence) continue;
      if (last_code == nullptr || *last_code != order.instrument) {
        last_code = &order.instrument;
        counts = &orders_entered[order.instrument];
      }
      ++(*counts)[order.participant];
    }
  }

  // The day's listed trades, by instrument.
  std::map<std::string, std::vector<const TradeRecord*>> day_trades;
  for (auto it = first_today; it != trades_.end(); ++it) {
    if (it->mode == TradingMode::listed) day_trades[it->instrument].push_back(&*it);
  }
  const std::vector<const TradeRecord*> none;

  for (const auto& [code, instrument] : instruments_) {
    const auto traded_today = day_trades.find(code);
    const auto& listed = traded_today == day_trades.end() ? none : traded_today->second;

    // ORDER_TO_TRADE_RATIO: many listed orders for each trade they made.
    if (const auto entered_today = orders_entered.find(code); entered_today != orders_entered.end()) {
      std::unordered_map<ParticipantId, std::uint64_t> trades_of;  // the listed trades each took part in
      for (const TradeRecord* t : listed) {
        ++trades_of[t->buyer];
        if (t->seller != t->buyer) ++trades_of[t->seller];
      }
      std::vector<std::pair<ParticipantId, std::uint64_t>> by_participant(entered_today->second.begin(),
                                                                          entered_today->second.end());
      std::sort(by_participant.begin(), by_participant.end());
      for (const auto& [participant, entered] : by_participant) {
        if (entered < static_cast<std::uint64_t>(rules.order_to_trade_min_orders)) continue;
        const auto found = trades_of.find(participant);
        const std::uint64_t traded = found == trades_of.end() ? 0 : found->second;
        const std::uint64_t ratio = entered / std::max<std::uint64_t>(traded, 1);
        if (ratio < static_cast<std::uint64_t>(rules.order_to_trade_max_ratio)) continue;
        AlertRecord alert;
        alert.type = AlertRecord::kOrderToTradeRatio;
        alert.severity = AlertRecord::kSeverityMedium;
        alert.instrument = code;
        alert.participants = {participant};
        alert.description = code_of(participants_, participant) + " entered " + std::to_string(entered) +
                            " listed orders in " + code + " on " + date + " and took part in " +
                            std::to_string(traded) + " trade" +
                            (traded == 1 ? "" : "s") + ": " + std::to_string(ratio) +
                            " orders per trade, at or above " + std::to_string(rules.order_to_trade_max_ratio) +
                            " (checked from " + std::to_string(rules.order_to_trade_min_orders) + " orders a day)";
        alert.metric_value = static_cast<std::int64_t>(ratio);
        alert.threshold_value = rules.order_to_trade_max_ratio;
        alert.metric_unit = "orders per trade";
        alert.window_start = day_start;
        alert.window_end = day_end;
        raise_alert(step, std::move(alert));
      }
    }

    // CONCENTRATION: a few participants on one side or the other of most of the day's listed volume.
    const Qty volume = instrument.listed_day.volume;
    if (rules.concentration_top > 0 && rules.concentration_share_bps > 0 && volume.is_positive() &&
        volume.value >= rules.concentration_min_volume) {  // a minimum of 0: no floor
      std::map<ParticipantId, std::int64_t> tonnes_of;  // bought + sold
      for (const TradeRecord* t : listed) {
        tonnes_of[t->buyer] += t->quantity.value;
        tonnes_of[t->seller] += t->quantity.value;
      }
      const auto ranked = top_by_tonnes(tonnes_of, static_cast<std::size_t>(rules.concentration_top));
      __int128 top = 0;
      std::vector<ParticipantId> group;
      std::string names;
      for (const auto& [participant, tonnes_traded] : ranked) {
        top += tonnes_traded;
        group.push_back(participant);
        names += (names.empty() ? "" : ", ") + code_of(participants_, participant);
      }
      const std::int64_t share = bps(top, 2 * static_cast<__int128>(volume.value));
      if (share >= rules.concentration_share_bps) {
        AlertRecord alert;
        alert.type = AlertRecord::kConcentration;
        alert.severity = AlertRecord::kSeverityMedium;
        alert.instrument = code;
        alert.participants = group;
        alert.description = std::to_string(group.size()) + " of the " + std::to_string(tonnes_of.size()) +
                            " participants that traded " + code + " on the listed market on " + date + " (" + names +
                            ") were on one side or the other of " + percent(share) + " of its " + tonnes(volume) +
                            " (bought plus sold over twice the volume), at or above " +
                            percent(rules.concentration_share_bps);
        alert.metric_value = share;
        alert.threshold_value = rules.concentration_share_bps;
        alert.metric_unit = "bps";
        alert.window_start = day_start;
        alert.window_end = day_end;
        raise_alert(step, std::move(alert));
      }
    }

    // MARKING_THE_CLOSE: the close (the day's listed VWAP) moved from the VWAP before the last minutes of the
    // listed sessions by trades in those minutes.
    if (rules.marking_close_window_minutes > 0 && rules.marking_close_move_bps > 0 && !listed.empty() &&
        !instrument.schedule.listed.empty()) {
      int last_close = 0;
      for (const auto& w : instrument.schedule.listed) last_close = std::max(last_close, w.close_minute);
      const int window_minute = std::max(0, last_close - rules.marking_close_window_minutes);
      const UnixNanos window_start = shanghai_instant(day, window_minute);
      const UnixNanos window_end = shanghai_instant(day, last_close);
      __int128 turnover_before = 0;
      std::int64_t volume_before = 0;
      std::map<ParticipantId, std::int64_t> pushed_up, pushed_down;  // tonnes each aggressor took in the window
      for (const TradeRecord* t : listed) {
        if (t->executed_at < window_start) {
          turnover_before += static_cast<__int128>(t->price.value) * t->quantity.value;
          volume_before += t->quantity.value;
        } else if (t->aggressor == Side::buy) {
          pushed_up[t->buyer] += t->quantity.value;
        } else {
          pushed_down[t->seller] += t->quantity.value;
        }
      }
      if (volume_before > 0 && (!pushed_up.empty() || !pushed_down.empty())) {
        const Price close = vwap_to_tick(instrument.listed_day.turnover, volume, instrument.config.tick);
        const __int128 moved = static_cast<__int128>(close.value) * volume_before - turnover_before;
        const __int128 distance = moved < 0 ? -moved : moved;
        const std::int64_t move = bps(distance, turnover_before);
        const auto& pushers = moved > 0 ? pushed_up : pushed_down;
        if (move >= rules.marking_close_move_bps && !pushers.empty()) {
          const auto ranked = top_by_tonnes(pushers, 3);
          AlertRecord alert;
          alert.type = AlertRecord::kMarkingTheClose;
          alert.severity = AlertRecord::kSeverityMedium;
          alert.instrument = code;
          std::string names;
          for (const auto& [participant, tonnes_taken] : ranked) {
            alert.participants.push_back(participant);
            names += (names.empty() ? "" : ", ") + code_of(participants_, participant) + " " +
                     tonnes(Qty{tonnes_taken});
          }
          const __int128 before_vwap = (2 * turnover_before + volume_before) / (2 * volume_before);
          alert.description = code + " closed on " + date + " at " + std::to_string(close.value) + " fen, " +
                              percent(move) + (moved > 0 ? " above" : " below") + " its listed VWAP before " +
                              clock_time(window_minute) + " (" +
                              std::to_string(static_cast<std::int64_t>(before_vwap)) + " fen), at or beyond " +
                              percent(rules.marking_close_move_bps) + "; the largest " +
                              (moved > 0 ? "buyers" : "sellers") + " taking liquidity in the last " +
                              std::to_string(rules.marking_close_window_minutes) + " minutes: " + names;
          alert.metric_value = move;
          alert.threshold_value = rules.marking_close_move_bps;
          alert.metric_unit = "bps";
          alert.window_start = window_start;
          alert.window_end = window_end;
          raise_alert(step, std::move(alert));
        }
      }
    }
  }
}

}  // namespace carbon::engine
