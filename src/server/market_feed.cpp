#include "server/market_feed.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <utility>
#include <variant>

#include "server/convert.h"
#include "server/dispatch.h"
#include "server/services.h"

namespace carbon::server {

/// A server-streaming call fed by the market feed. One write at a time; the
/// rest waits in a queue that is either conflated (only the latest message
/// is kept) or bounded (overflow ends the stream with RESOURCE_EXHAUSTED).
/// Owns itself: deletes itself in OnDone(), after telling the feed.
template <typename Message>
class FeedStream final : public grpc::ServerWriteReactor<Message> {
 public:
  FeedStream(MarketFeed* feed, std::size_t limit, bool conflate) : feed_(feed), limit_(limit), conflate_(conflate) {}

  /// Before the stream is handed to gRPC: it writes nothing until audited(),
  /// and is not deleted before audited() is called, whatever the client does.
  void hold() {
    std::lock_guard lock(mutex_);
    held_ = true;
    audit_pending_ = true;
  }

  /// The outcome of the held stream's audit record (any thread, once): OK
  /// starts the writes; otherwise the stream ends with that status.
  void audited(const Status& written) {
    bool start = false;
    bool gone = false;
    std::optional<grpc::Status> finish;
    {
      std::lock_guard lock(mutex_);
      audit_pending_ = false;
      held_ = false;
      if (done_) {
        gone = true;
      } else {
        if (!written.is_ok() && !closing_) {
          closing_ = true;
          queue_.clear();
          status_ = to_grpc(written);
        }
        start = next_write_locked();
        finish = take_finish_locked();
      }
    }
    if (gone) {
      delete this;  // OnDone ran while the record was being written
      return;
    }
    if (start) this->StartWrite(&current_);
    if (finish) this->Finish(*finish);
  }

  /// A replaying trade stream: while set, a write that leaves the queue
  /// empty asks the feed for more (MarketFeed::refill). Under the feed's state mutex.
  void set_pulling(bool pulling) {
    std::lock_guard lock(mutex_);
    pulling_ = pulling;
  }

  /// Queues a message; any thread, under the feed's state mutex (which keeps
  /// the stream alive). False if this overflowed the queue and the stream is ending.
  bool offer(Message message) {
    bool start = false;
    bool overflowed = false;
    std::optional<grpc::Status> finish;
    {
      std::lock_guard lock(mutex_);
      if (closing_) return true;
      if (conflate_) {
        queue_.clear();
        queue_.push_back(std::move(message));
      } else if (queue_.size() >= limit_) {
        overflowed = true;
        queue_.clear();
        closing_ = true;
        status_ = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                               "the stream's reader fell too far behind; trades are never skipped, so the stream "
                               "ends: reconnect");
        finish = take_finish_locked();
      } else {
        queue_.push_back(std::move(message));
      }
      start = next_write_locked();
    }
    if (start) this->StartWrite(&current_);
    if (finish) this->Finish(*finish);
    return !overflowed;
  }

  /// Ends the stream with `status` once the write in progress is done; queued messages are dropped.
  void close(grpc::Status status) {
    std::optional<grpc::Status> finish;
    {
      std::lock_guard lock(mutex_);
      if (closing_) return;
      closing_ = true;
      queue_.clear();
      status_ = std::move(status);
      finish = take_finish_locked();
    }
    if (finish) this->Finish(*finish);
  }

  void OnWriteDone(bool ok) override {
    bool start = false;
    bool refill = false;
    std::optional<grpc::Status> finish;
    {
      std::lock_guard lock(mutex_);
      writing_ = false;
      if (!ok && !closing_) {
        closing_ = true;
        queue_.clear();
        status_ = grpc::Status(grpc::StatusCode::CANCELLED, "the stream broke");
      }
      start = next_write_locked();
      finish = take_finish_locked();
      refill = pulling_ && !start && !closing_;
    }
    if (start) this->StartWrite(&current_);
    if (finish) this->Finish(*finish);
    if (refill) feed_->refill(this);  // the stream lives on: OnDone waits for this reaction to return
  }

  void OnCancel() override { close(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client")); }

  void OnDone() override {
    feed_->forget(this);
    {
      std::lock_guard lock(mutex_);
      if (audit_pending_) {
        done_ = true;  // audited() deletes
        return;
      }
    }
    delete this;
  }

 private:
  bool next_write_locked() {
    if (held_ || closing_ || writing_ || queue_.empty()) return false;
    current_ = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    return true;
  }
  std::optional<grpc::Status> take_finish_locked() {
    if (!closing_ || writing_ || finished_) return std::nullopt;
    finished_ = true;
    return status_;
  }

  MarketFeed* feed_;
  std::size_t limit_;
  bool conflate_;
  std::mutex mutex_;
  std::deque<Message> queue_;
  Message current_;
  bool writing_ = false;
  bool closing_ = false;
  bool finished_ = false;
  bool held_ = false;           ///< writes wait for audited()
  bool audit_pending_ = false;  ///< audited() not called yet: OnDone must not delete
  bool done_ = false;           ///< OnDone ran
  bool pulling_ = false;        ///< replaying: refill when the queue runs dry
  grpc::Status status_;
};

namespace {

/// A refused stream: at its start, or (default-constructed) once finish() is
/// called, from the audit writer when the refusal's record is written.
template <typename Message>
class RefusedStream final : public grpc::ServerWriteReactor<Message> {
 public:
  RefusedStream() = default;
  explicit RefusedStream(grpc::Status status) { this->Finish(std::move(status)); }
  void finish(const Status& status) { this->Finish(to_grpc(status)); }
  void OnDone() override { delete this; }
};

bool same_levels(const std::vector<matching::DepthLevel>& a, const std::vector<matching::DepthLevel>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.price == y.price && x.quantity == y.quantity && x.order_count == y.order_count;
  });
}

v1::PublicTrade public_trade(const engine::TradeRecord& trade) {
  v1::PublicTrade out;
  out.set_trade_id(trade.id);
  out.set_instrument(trade.instrument);
  out.set_mode(static_cast<v1::TradingMode>(trade.mode));
  out.set_price_fen(trade.price.value);
  out.set_quantity(trade.quantity.value);
  out.set_aggressor_side(trade.mode == TradingMode::auction ? v1::SIDE_UNSPECIFIED
                                                            : static_cast<v1::Side>(trade.aggressor));
  out.set_sequence(trade.sequence);
  out.set_executed_at_unix_nanos(trade.executed_at);
  return out;
}

}  // namespace

MarketFeed::MarketFeed(std::vector<std::string> instruments, MarketFeedOptions options) : options_(options) {
  for (std::string& code : instruments) books_.try_emplace(std::move(code));
}

MarketFeed::~MarketFeed() { stop(); }

void MarketFeed::seed(const std::string& instrument, const matching::LadderBook& book, Sequence sequence) {
  std::lock_guard lock(state_mutex_);
  MirrorBook& mirror = books_[instrument];
  book.for_each([&](const matching::BookOrder& order) {
    mirror.set(order.id, order.side, order.price, order.remaining, true);
  });
  sequence_ = std::max(sequence_, sequence);
}

void MarketFeed::seed_trades(std::span<const engine::TradeRecord> trades, Sequence day_opened) {
  std::lock_guard lock(state_mutex_);
  for (const engine::TradeRecord& trade : trades) {
    if (trade.sequence > day_opened) day_trades_.push_back(public_trade(trade));
  }
  day_opened_ = day_opened;
}

void MarketFeed::start() { thread_ = std::thread([this] { feed_loop(); }); }

void MarketFeed::publish(std::span<const engine::CommittedOutcome> batch) {
  Published published;
  for (const engine::CommittedOutcome& committed : batch) {
    published.last_sequence = committed.outcome->sequence;
    for (const engine::Event& event : committed.outcome->events) {
      if (const auto* changed = std::get_if<engine::OrderChanged>(&event)) {
        const engine::OrderRecord& order = changed->order;
        if (order.mode != TradingMode::listed) continue;
        published.changes.push_back(BookChange{order.instrument, order.id, order.side, order.price,
                                               order.remaining(), MirrorBook::rests(order)});
      } else if (const auto* trade = std::get_if<engine::TradeExecuted>(&event)) {
        published.trades.push_back(trade->trade);
      } else if (const auto* market = std::get_if<engine::MarketStateChanged>(&event);
                 market && market->state.day_opened_sequence > published.day_opened) {
        // Possibly end of day opening the next trading day: later trades belong to it.
        published.day_opened_at = published.trades.size();
        published.day_opened = market->state.day_opened_sequence;
      } else if (const auto* defined = std::get_if<engine::InstrumentDefined>(&event); defined && defined->created) {
        // At once, before the creator's reply: the new instrument is known to every reader from then on.
        std::lock_guard lock(state_mutex_);
        books_.try_emplace(defined->config.code);
      }
    }
  }
  {
    // Even a batch without book changes or trades moves the snapshots' sequence on.
    std::lock_guard lock(inbox_mutex_);
    inbox_.push_back(std::move(published));
  }
  inbox_ready_.notify_one();
}

void MarketFeed::feed_loop() {
  std::vector<Published> work;
  for (;;) {
    {
      std::unique_lock lock(inbox_mutex_);
      inbox_ready_.wait(lock, [&] { return stopping_ || !inbox_.empty(); });
      if (inbox_.empty() && stopping_) return;
      work.swap(inbox_);
    }
    apply(work);
    work.clear();
  }
}

void MarketFeed::apply(std::vector<Published>& published) {
  std::lock_guard lock(state_mutex_);
  end_expired_locked();  // before anything more is offered to them
  std::vector<const std::string*> changed;
  for (Published& batch : published) {
    for (const BookChange& change : batch.changes) {
      auto book = books_.find(change.instrument);
      if (book == books_.end()) continue;
      book->second.set(change.id, change.side, change.price, change.remaining, change.resting);
      if (std::find(changed.begin(), changed.end(), &book->first) == changed.end()) changed.push_back(&book->first);
    }
    sequence_ = std::max(sequence_, batch.last_sequence);
    const bool new_day = batch.day_opened > day_opened_;
    for (std::size_t i = 0; i <= batch.trades.size(); ++i) {
      if (new_day && batch.day_opened_at == i) {
        day_opened_ = batch.day_opened;
        open_day_locked();
      }
      if (i < batch.trades.size()) add_trade_locked(batch.trades[i]);
    }
  }
  trim_trades_locked();
  for (const std::string* instrument : changed) {
    for (DepthSubscriber& subscriber : depth_subscribers_) {
      if (subscriber.instrument != *instrument) continue;
      const MirrorBook& book = books_.at(*instrument);
      std::vector<matching::DepthLevel> bids = book.depth(Side::buy, subscriber.depth);
      std::vector<matching::DepthLevel> asks = book.depth(Side::sell, subscriber.depth);
      if (same_levels(bids, subscriber.bids) && same_levels(asks, subscriber.asks)) continue;
      subscriber.bids = std::move(bids);
      subscriber.asks = std::move(asks);
      v1::BookSnapshot snapshot;
      snapshot.set_instrument(*instrument);
      for (const auto& level : subscriber.bids) to_proto(level, *snapshot.add_bids());
      for (const auto& level : subscriber.asks) to_proto(level, *snapshot.add_asks());
      snapshot.set_sequence(sequence_);
      subscriber.stream->offer(std::move(snapshot));
    }
  }
}

void MarketFeed::add_trade_locked(const engine::TradeRecord& trade) {
  day_trades_.push_back(public_trade(trade));
  const v1::PublicTrade& message = day_trades_.back();
  std::erase_if(trade_subscribers_, [&](const TradeSubscriber& subscriber) {
    // A replaying stream finds this trade at the end of day_trades_ when it gets there.
    if (subscriber.replaying) return false;
    if (!subscriber.instrument.empty() && subscriber.instrument != trade.instrument) return false;
    return !subscriber.stream->offer(message);
  });
}

bool MarketFeed::refill_locked(TradeSubscriber& subscriber) {
  const std::size_t end = day_trades_base_ + day_trades_.size();
  const std::size_t scan_end = std::min(end, subscriber.cursor + options_.replay_scan_limit);
  std::size_t queued = 0;
  while (subscriber.cursor < scan_end && queued < options_.replay_chunk) {
    const v1::PublicTrade& trade = day_trades_[subscriber.cursor - day_trades_base_];
    ++subscriber.cursor;
    if (!subscriber.instrument.empty() && trade.instrument() != subscriber.instrument) continue;
    subscriber.stream->offer(trade);
    ++queued;
  }
  if (subscriber.cursor == end) {
    // Caught up, under the lock that fans out live trades: the next one is offered to it live.
    subscriber.replaying = false;
    subscriber.stream->set_pulling(false);
    return false;
  }
  return queued == 0;  // nothing queued, so no write will ask again: the caller goes on
}

void MarketFeed::refill(const void* stream) {
  // A chunk at a time, letting go of the lock between scans (a replay of a
  // thin instrument may pass over many trades of the others).
  for (bool more = true; more;) {
    std::lock_guard lock(state_mutex_);
    auto subscriber = std::find_if(trade_subscribers_.begin(), trade_subscribers_.end(),
                                   [&](const TradeSubscriber& s) { return s.stream == stream; });
    if (subscriber == trade_subscribers_.end() || !subscriber->replaying) return;
    more = refill_locked(*subscriber);
    trim_trades_locked();
  }
}

void MarketFeed::open_day_locked() {
  day_first_ = day_trades_base_ + day_trades_.size();
  // A replay still in the day that ended cannot finish later (a replay covers the day in progress):
  // it ends, as a live reader that falls too far behind does. A reader that keeps up is never there.
  std::erase_if(trade_subscribers_, [&](const TradeSubscriber& subscriber) {
    if (!subscriber.replaying || subscriber.cursor >= day_first_) return false;
    subscriber.stream->close(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                          "the trading day ended before the stream's replay read its trades; "
                                          "the replay covers the day in progress only"));
    return true;
  });
}

void MarketFeed::trim_trades_locked() {
  std::size_t keep = day_first_;
  for (const TradeSubscriber& subscriber : trade_subscribers_) {
    if (subscriber.replaying) keep = std::min(keep, subscriber.cursor);
  }
  while (day_trades_base_ < keep) {
    day_trades_.pop_front();
    ++day_trades_base_;
  }
}

void MarketFeed::stop() {
  if (stopped_) return;
  stopped_ = true;
  {
    std::lock_guard lock(inbox_mutex_);
    stopping_ = true;
  }
  inbox_ready_.notify_one();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(state_mutex_);
  closed_ = true;
  const grpc::Status shutting_down(grpc::StatusCode::UNAVAILABLE, "carbond is shutting down");
  for (DepthSubscriber& subscriber : depth_subscribers_) subscriber.stream->close(shutting_down);
  for (TradeSubscriber& subscriber : trade_subscribers_) subscriber.stream->close(shutting_down);
}

bool MarketFeed::knows(const std::string& instrument) const {
  std::lock_guard lock(state_mutex_);
  return books_.contains(instrument);
}

v1::BookSnapshot MarketFeed::snapshot(const std::string& instrument, std::size_t depth) const {
  std::lock_guard lock(state_mutex_);
  return snapshot_locked(instrument, depth);
}

v1::BookSnapshot MarketFeed::snapshot_locked(const std::string& instrument, std::size_t depth) const {
  v1::BookSnapshot snapshot;
  snapshot.set_instrument(instrument);
  snapshot.set_sequence(sequence_);
  auto book = books_.find(instrument);
  if (book == books_.end()) return snapshot;
  for (const auto& level : book->second.depth(Side::buy, depth)) to_proto(level, *snapshot.add_bids());
  for (const auto& level : book->second.depth(Side::sell, depth)) to_proto(level, *snapshot.add_asks());
  return snapshot;
}

grpc::ServerWriteReactor<v1::BookSnapshot>* MarketFeed::stream_depth(const std::string& instrument,
                                                                      std::size_t depth, const engine::Principal& who,
                                                                      std::function<void(Status)>* on_audited,
                                                                      Status& refused) {
  std::lock_guard lock(state_mutex_);
  refused = refusal_locked(instrument, false, who);
  if (!refused.is_ok()) return nullptr;
  auto book = books_.find(instrument);
  auto* stream = new FeedStream<v1::BookSnapshot>(this, 1, true);
  if (on_audited != nullptr) {
    stream->hold();
    *on_audited = [stream](const Status& written) { stream->audited(written); };
  }
  DepthSubscriber subscriber{stream, instrument, depth, book->second.depth(Side::buy, depth),
                             book->second.depth(Side::sell, depth), who};
  stream->offer(snapshot_locked(instrument, depth));
  depth_subscribers_.push_back(std::move(subscriber));
  return stream;
}

grpc::ServerWriteReactor<v1::PublicTrade>* MarketFeed::stream_trades(const std::string& instrument,
                                                                      Sequence after_sequence,
                                                                      const engine::Principal& who,
                                                                      std::function<void(Status)>* on_audited,
                                                                      Status& refused) {
  std::unique_lock lock(state_mutex_);
  refused = refusal_locked(instrument, true, who);
  if (!refused.is_ok()) return nullptr;
  auto* stream = new FeedStream<v1::PublicTrade>(this, options_.trade_queue_limit, false);
  if (on_audited != nullptr) {
    stream->hold();
    *on_audited = [stream](const Status& written) { stream->audited(written); };
  }
  TradeSubscriber subscriber;
  subscriber.stream = stream;
  subscriber.instrument = instrument;
  subscriber.who = who;
  if (after_sequence != 0) {
    // The day's first trade with a greater sequence; the list is in sequence order.
    const auto day = day_trades_.begin() + static_cast<std::ptrdiff_t>(day_first_ - day_trades_base_);
    const auto first = std::partition_point(
        day, day_trades_.end(), [&](const v1::PublicTrade& trade) { return trade.sequence() <= after_sequence; });
    subscriber.replaying = true;
    subscriber.cursor = day_trades_base_ + static_cast<std::size_t>(first - day_trades_.begin());
    stream->set_pulling(true);
    // The first chunk; the stream asks for the rest as it writes. Not handed to gRPC yet, so it lives on.
    const bool more = refill_locked(subscriber);
    trade_subscribers_.push_back(std::move(subscriber));
    lock.unlock();
    if (more) refill(stream);
    return stream;
  }
  trade_subscribers_.push_back(std::move(subscriber));
  return stream;
}

void MarketFeed::end_token(std::uint64_t token_id) {
  if (token_id == 0) return;
  std::lock_guard lock(state_mutex_);
  const grpc::Status revoked(grpc::StatusCode::UNAUTHENTICATED,
                             "the stream's bearer token was revoked (AdminService.RevokeApiToken)");
  for (DepthSubscriber& subscriber : depth_subscribers_) {
    if (subscriber.who.token_id == token_id) subscriber.stream->close(revoked);
  }
  for (TradeSubscriber& subscriber : trade_subscribers_) {
    if (subscriber.who.token_id == token_id) subscriber.stream->close(revoked);
  }
}

void MarketFeed::end_expired_locked() {
  if (auth_ == nullptr) return;
  const grpc::Status expired(grpc::StatusCode::UNAUTHENTICATED, "the stream's bearer token has expired");
  for (DepthSubscriber& subscriber : depth_subscribers_) {
    if (auth_->expired(subscriber.who)) subscriber.stream->close(expired);
  }
  for (TradeSubscriber& subscriber : trade_subscribers_) {
    if (auth_->expired(subscriber.who)) subscriber.stream->close(expired);
  }
}

void MarketFeed::forget(const void* stream) {
  std::lock_guard lock(state_mutex_);
  std::erase_if(depth_subscribers_, [&](const DepthSubscriber& s) { return s.stream == stream; });
  std::erase_if(trade_subscribers_, [&](const TradeSubscriber& s) { return s.stream == stream; });
  trim_trades_locked();  // a replay still in the previous day may have been holding its trades
}

// ---- MarketDataService streams ---------------------------------------------

namespace {

constexpr std::string_view kStreamDepth = "carbon.v1.MarketDataService/StreamDepth";
constexpr std::string_view kStreamTrades = "carbon.v1.MarketDataService/StreamTrades";

/// What the opening of a market data stream comes to before the feed takes it.
Status precheck(const ServiceContext& context, const StreamOpen& open) {
  if (!open.admitted().is_ok()) return open.admitted();
  if (context.feed == nullptr) return Status{ErrorCode::unimplemented, "market data streams are off"};
  return Status::ok();
}

/// A refused opening: at once, or once a staff caller's record of the refusal is written.
template <typename Message>
grpc::ServerWriteReactor<Message>* refuse(StreamOpen& open, Status outcome) {
  if (!open.audited()) return new RefusedStream<Message>(to_grpc(outcome));
  auto* refused = new RefusedStream<Message>();
  open.record(std::move(outcome), [refused](const Status& status) { refused->finish(status); });
  return refused;
}

/// An opening past the checks: `take(on_audited, refused)` hands the stream
/// to the feed, which takes it or refuses it (shutting down, unknown
/// instrument, subscriber limit) in one step, so a staff caller's record
/// says what happened. A taken stream of a staff caller holds its messages
/// until the record is written, and ends UNAVAILABLE if it cannot be.
template <typename Message, typename Take>
grpc::ServerWriteReactor<Message>* serve(StreamOpen& open, Take take) {
  std::function<void(Status)> release;
  Status refused;
  grpc::ServerWriteReactor<Message>* stream = take(open.audited() ? &release : nullptr, refused);
  if (stream == nullptr) return refuse<Message>(open, std::move(refused));
  if (open.audited()) open.record(Status::ok(), std::move(release));
  return stream;
}

}  // namespace

Status MarketFeed::refusal_locked(const std::string& instrument, bool all_instruments,
                                  const engine::Principal& who) const {
  if (closed_) return Status{ErrorCode::unavailable, "carbond is shutting down"};
  // Under the state lock, which end_token() takes after the authenticator has the revocation.
  if (auth_ != nullptr && who.token_id != 0 && auth_->revoked(who.token_id)) {
    return Status{ErrorCode::unauthenticated, "the stream's bearer token was revoked"};
  }
  if (!(all_instruments && instrument.empty()) && !books_.contains(instrument)) {
    return Status{ErrorCode::not_found, "unknown instrument \"" + instrument + "\""};
  }
  if (depth_subscribers_.size() + trade_subscribers_.size() >= options_.max_subscribers) {
    return Status{ErrorCode::resource_exhausted, "the server's limit of market data subscribers is reached"};
  }
  return Status::ok();
}

// A staff caller's opening is audited (StreamOpen) with its outcome: refused
// by the table or a check, refused by the feed, or served.
grpc::ServerWriteReactor<v1::BookSnapshot>* MarketDataService::StreamDepth(grpc::CallbackServerContext* ctx,
                                                                           const v1::StreamDepthRequest* request) {
  StreamOpen open(context_, ctx, kStreamDepth, request);
  Status outcome = precheck(context_, open);
  if (outcome.is_ok() && request->instrument().empty()) {
    outcome = Status{ErrorCode::invalid_argument, "instrument is required"};
  }
  if (!outcome.is_ok()) return refuse<v1::BookSnapshot>(open, std::move(outcome));
  const std::size_t depth = request->depth() == 0 ? 5 : std::min<std::size_t>(request->depth(), 50);
  return serve<v1::BookSnapshot>(open, [&](std::function<void(Status)>* on_audited, Status& refused) {
    return context_.feed->stream_depth(request->instrument(), depth, open.principal(), on_audited, refused);
  });
}

grpc::ServerWriteReactor<v1::PublicTrade>* MarketDataService::StreamTrades(grpc::CallbackServerContext* ctx,
                                                                           const v1::StreamTradesRequest* request) {
  StreamOpen open(context_, ctx, kStreamTrades, request);
  Status outcome = precheck(context_, open);
  if (!outcome.is_ok()) return refuse<v1::PublicTrade>(open, std::move(outcome));
  return serve<v1::PublicTrade>(open, [&](std::function<void(Status)>* on_audited, Status& refused) {
    return context_.feed->stream_trades(request->instrument(), request->after_sequence(), open.principal(),
                                        on_audited, refused);
  });
}

MarketFeed::Stats MarketFeed::stats() const {
  std::lock_guard lock(state_mutex_);
  Stats out;
  for (const auto& [code, book] : books_) out.resting_orders.emplace_back(code, book.order_count());
  out.depth_streams = depth_subscribers_.size();
  out.trade_streams = trade_subscribers_.size();
  out.retained_trades = day_trades_.size();
  return out;
}

}  // namespace carbon::server
