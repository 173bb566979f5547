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

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "carbon/v1/market_data.pb.h"
#include "engine/runtime.h"
#include "matching/ladder_book.h"
#include "server/mirror_book.h"

namespace carbon::server {

/// Limits of the market data streams.
struct MarketFeedOptions {
  std::size_t max_subscribers = 1'024;        ///< depth and trade streams together
  std::size_t trade_queue_limit = 10'000;     ///< trades queued for one slow reader before its stream ends
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
  grpc::ServerWriteReactor<v1::BookSnapshot>* stream_depth(const std::string& instrument, std::size_t depth,
                                                           std::function<void(Status)>* on_audited, Status& refused);
  /// gRPC thread: starts a trade stream of one instrument ("" = all), or refuses it, as stream_depth().
  grpc::ServerWriteReactor<v1::PublicTrade>* stream_trades(const std::string& instrument,
                                                           std::function<void(Status)>* on_audited, Status& refused);

  /// Called by a stream when it is done; the feed forgets it.
  void forget(const void* stream);

  /// For metrics (any thread): resting orders in each mirrored book, and open depth and trade streams.
  struct Stats {
    std::vector<std::pair<std::string, std::size_t>> resting_orders;
    std::size_t depth_streams = 0;
    std::size_t trade_streams = 0;
  };
  Stats stats() const;

 private:
  /// With state_mutex_ held: why a stream of `instrument` (or of every
  /// instrument, when `all_instruments` and it is empty) is refused now; OK if it would be taken.
  Status refusal_locked(const std::string& instrument, bool all_instruments) const;
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
  };
  struct DepthSubscriber {
    FeedStream<v1::BookSnapshot>* stream = nullptr;
    std::string instrument;
    std::size_t depth = 5;
    std::vector<matching::DepthLevel> bids, asks;  ///< as last sent
  };
  struct TradeSubscriber {
    FeedStream<v1::PublicTrade>* stream = nullptr;
    std::string instrument;  ///< empty = all
  };

  void feed_loop();
  void apply(std::vector<Published>& published);
  v1::BookSnapshot snapshot_locked(const std::string& instrument, std::size_t depth) const;

  MarketFeedOptions options_;

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
  bool closed_ = false;
  bool stopped_ = false;  ///< main thread only
};

}  // namespace carbon::server
