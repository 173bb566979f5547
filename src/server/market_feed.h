#pragma once
/// Public market data derived from committed events: a mirror L2 book per
/// instrument and the streams of MarketDataService (StreamDepth,
/// StreamTrades).
///
/// Threads: publish() runs on the journal writer thread (through the commit
/// listener) and only copies the batch's listed order changes and trades into
/// an inbox under a briefly held mutex. The feed's own thread applies them to
/// the mirror books and fans out to subscribers. A subscriber never blocks the
/// feed: depth updates are conflated (latest wins) and a trade stream whose
/// queue overflows is ended with RESOURCE_EXHAUSTED.
///
/// Trade replay: the feed keeps the public trades of the trading day in
/// progress, in commit order (seeded from the restored trades at start). A
/// trade stream opened with an after_sequence reads them from there, one
/// chunk each time its queue runs dry, and joins the live trades when it
/// reaches the end; the list and the live fan-out change under one lock, so
/// the switch has no gap and no duplicate.

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "carbon/v1/market_data.pb.h"
#include "engine/runtime.h"
#include "matching/ladder_book.h"
#include "server/auth.h"
#include "server/mirror_book.h"

namespace carbon::server {

/// Limits of the market data streams.
struct MarketFeedOptions {
  std::size_t max_subscribers = 1'024;        ///< depth and trade streams together
  std::size_t trade_queue_limit = 10'000;     ///< trades queued for one slow reader before its stream ends
  std::size_t replay_chunk = 256;             ///< replayed trades queued at a time (below trade_queue_limit)
  std::size_t replay_scan_limit = 4'096;      ///< trades a replay looks at per hold of the feed's lock
};

/// A stream writer the feed delivers to; defined in market_feed.cpp.
template <typename Message>
class FeedStream;

class MarketFeed {
 public:
  /// `instruments` are the codes with a listed book.
  MarketFeed(std::vector<std::string> instruments, MarketFeedOptions options);
  ~MarketFeed();
  MarketFeed(const MarketFeed&) = delete;
  MarketFeed& operator=(const MarketFeed&) = delete;

  /// Main thread, before start(): fills the mirror of `instrument` from the
  /// engine's restored book, as of `sequence`.
  void seed(const std::string& instrument, const matching::LadderBook& book, Sequence sequence);
  /// Main thread, before start(): the restored trades (in sequence order);
  /// those after `day_opened` (the trading day in progress) are kept for replay.
  void seed_trades(std::span<const engine::TradeRecord> trades, Sequence day_opened);

  /// Starts the feed thread. Call once.
  void start();

  /// Journal writer thread: hands the batch's listed order changes and
  /// trades to the feed thread. Never blocks beyond a short copy under a mutex.
  void publish(std::span<const engine::CommittedOutcome> batch);

  /// Drains what was published, ends every stream with UNAVAILABLE, refuses
  /// new ones and joins the feed thread. Idempotent; main thread.
  void stop();

  /// True if `instrument` has a listed book here.
  bool knows(const std::string& instrument) const;

  /// The mirrored top `depth` levels of `instrument` (any thread; tests, GetBook checks).
  v1::BookSnapshot snapshot(const std::string& instrument, std::size_t depth) const;

  /// gRPC thread: starts a depth stream (the first message is the current
  /// snapshot), or refuses it: nullptr, with `refused` saying why (shutting
  /// down, unknown instrument, subscriber limit), decided under the same lock
  /// that takes it. Validation and authorization are the caller's. With
  /// `on_audited`, a stream the feed takes writes nothing until the function
  /// it sets there is called with the outcome of the opening's audit record
  /// (OK: it starts; otherwise it ends with that status).
  /// `who`: the caller, whose token's revocation (end_token()) or expiry ends the stream.
  grpc::ServerWriteReactor<v1::BookSnapshot>* stream_depth(const std::string& instrument, std::size_t depth,
                                                           const engine::Principal& who,
                                                           std::function<void(Status)>* on_audited, Status& refused);
  /// gRPC thread: starts a trade stream of one instrument ("" = all), or
  /// refuses it, as stream_depth(). With `after_sequence` non-zero it first
  /// replays the day's trades with a greater sequence, then goes live.
  grpc::ServerWriteReactor<v1::PublicTrade>* stream_trades(const std::string& instrument, Sequence after_sequence,
                                                           const engine::Principal& who,
                                                           std::function<void(Status)>* on_audited, Status& refused);

  /// Before start(): the authenticator whose revocations and clock the streams' tokens are checked against
  /// (none: not checked).
  void set_authenticator(const Authenticator* auth) { auth_ = auth; }

  /// Journal writer thread, from the commit listener: ends the streams opened with API token
  /// `token_id` (revoked) with UNAUTHENTICATED.
  void end_token(std::uint64_t token_id);

  /// Called by a replaying trade stream whose queue ran dry: queues its next
  /// trades, or moves it to the live trades once it has them all. Any thread.
  void refill(const void* stream);

  /// Called by a stream when it is done; the feed forgets it.
  void forget(const void* stream);

  /// For metrics (any thread): resting orders in each mirrored book, and open depth and trade streams.
  struct Stats {
    std::vector<std::pair<std::string, std::size_t>> resting_orders;
    std::size_t depth_streams = 0;
    std::size_t trade_streams = 0;
    std::size_t retained_trades = 0;  ///< kept for StreamTrades replay
  };
  Stats stats() const;

 private:
  /// With state_mutex_ held: why a stream of `instrument` (or of every
  /// instrument, when `all_instruments` and it is empty) is refused now; OK if it would be taken.
  Status refusal_locked(const std::string& instrument, bool all_instruments, const engine::Principal& who) const;
  /// Ends the streams whose token has expired (UNAUTHENTICATED).
  void end_expired_locked();
  struct BookChange {
    std::string instrument;
    OrderId id = 0;
    Side side = Side::buy;
    Price price;
    Qty remaining;
    bool resting = false;
  };
  struct Published {
    Sequence last_sequence = 0;
    std::vector<BookChange> changes;
    std::vector<engine::TradeRecord> trades;
    /// The batch's last market state: its day_opened_sequence, and the
    /// position in `trades` where it took effect (a new day if it is later
    /// than the feed's; a halt or resume repeats the same one).
    std::optional<std::size_t> day_opened_at;
    Sequence day_opened = 0;
  };
  struct DepthSubscriber {
    FeedStream<v1::BookSnapshot>* stream = nullptr;
    std::string instrument;
    std::size_t depth = 5;
    std::vector<matching::DepthLevel> bids, asks;  ///< as last sent
    engine::Principal who;                         ///< the caller (its token's id and expiry)
  };
  struct TradeSubscriber {
    FeedStream<v1::PublicTrade>* stream = nullptr;
    std::string instrument;  ///< empty = all
    bool replaying = false;  ///< reads day_trades_ from `cursor`; not offered live trades meanwhile
    std::size_t cursor = 0;  ///< position (see day_trades_base_) of the next trade to look at
    engine::Principal who;   ///< the caller (its token's id and expiry)
  };

  void feed_loop();
  void apply(std::vector<Published>& published);
  v1::BookSnapshot snapshot_locked(const std::string& instrument, std::size_t depth) const;
  /// Appends a committed trade to the day's list and offers it to the live trade streams.
  void add_trade_locked(const engine::TradeRecord& trade);
  /// Queues the next replay chunk of `subscriber` (looking at no more than
  /// replay_scan_limit trades), or makes it live once it has every trade.
  /// True if it queued nothing and has more to look at.
  bool refill_locked(TradeSubscriber& subscriber);
  /// A trading day opened: today's trades start at the end of day_trades_;
  /// replays still in the day that ended are ended.
  void open_day_locked();
  /// Drops the trades before the day in progress that no replay still reads.
  void trim_trades_locked();

  MarketFeedOptions options_;
  const Authenticator* auth_ = nullptr;

  std::mutex inbox_mutex_;
  std::condition_variable inbox_ready_;
  std::vector<Published> inbox_;  ///< guarded by inbox_mutex_
  bool stopping_ = false;         ///< guarded by inbox_mutex_
  std::thread thread_;

  mutable std::mutex state_mutex_;  ///< guards everything below
  std::map<std::string, MirrorBook, std::less<>> books_;
  Sequence sequence_ = 0;  ///< last committed sequence applied to the mirrors
  std::vector<DepthSubscriber> depth_subscribers_;
  std::vector<TradeSubscriber> trade_subscribers_;
  /// Public trades of the trading day in progress, in commit order; before
  /// them, those of the previous day that a replay has still to send.
  std::deque<v1::PublicTrade> day_trades_;
  std::size_t day_trades_base_ = 0;  ///< position of day_trades_.front(); positions never move
  std::size_t day_first_ = 0;        ///< position of the day in progress' first trade
  Sequence day_opened_ = 0;          ///< the day in progress opened after this sequence
  bool closed_ = false;
  bool stopped_ = false;  ///< main thread only
};

}  // namespace carbon::server
