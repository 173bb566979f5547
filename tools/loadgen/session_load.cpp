// carbon_loadgen: N concurrent order sessions against a running carbond, each
// sending messages of one or more place-order commands, either at an offered
// rate (open loop: every message has an intended send time on a fixed
// schedule and its latency is measured from that time, so a stalled server
// is charged for the messages it delayed: no coordinated omission) or as
// fast as a window of messages in flight allows (closed loop). It reports
// messages, orders accepted per second and acknowledgement latency
// percentiles; carbond answers a message only after its events are committed.
//
// --echo-ceiling runs the same load, in the same process and run, first
// against a no-op OrderSession server on loopback (it answers each message
// with one ACCEPTED report per command, built from the request): the ceiling
// of gRPC streaming on this machine, printed beside the carbond figure.
//
// Each session is its own participant (created, funded and issued units here
// with the staff tokens), so its orders never cross its own. Orders rest
// without trading (buys below, sells above the reference price). --cancel
// makes each message also cancel the orders the previous answer accepted, so
// books stay small (commands are then about twice the orders).

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <toml.hpp>
#include <unistd.h>
#include <vector>

#include "carbon/v1/admin.grpc.pb.h"
#include "carbon/v1/registry.grpc.pb.h"
#include "carbon/v1/trading.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string address = "127.0.0.1:50051";
  std::string staff_file;
  std::string operator_token;
  std::string registry_token;
  std::string instrument = "CEA2024";
  std::int64_t reference_price = 10'000;
  int sessions = 4;
  int batch = 1;           ///< place commands per message
  double rate = 0;         ///< offered orders per second, all sessions together; 0 = closed loop
  int window = 8;          ///< closed loop: messages in flight per session
  double seconds = 10;
  bool cancel = false;     ///< also cancel what the previous answer accepted
  bool echo_ceiling = false;
  bool echo_only = false;
};

std::unique_ptr<grpc::ClientContext> as(const std::string& token) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  return context;
}

// ---- the no-op echo server -------------------------------------------------

/// One echo stream: every request is answered with one ACCEPTED report per
/// command; a read is always outstanding while writes go out one at a time.
class EchoReactor final : public grpc::ServerBidiReactor<carbon::v1::SessionRequest, carbon::v1::SessionResponse> {
 public:
  EchoReactor() { StartRead(&request_); }

  void OnReadDone(bool ok) override {
    std::lock_guard lock(mutex_);
    if (!ok) {
      reading_done_ = true;
      maybe_finish();
      return;
    }
    carbon::v1::SessionResponse response;
    response.set_batch_id(request_.batch_id());
    for (int i = 0; i < request_.commands_size(); ++i) {
      const auto& command = request_.commands(i);
      auto& report = *response.add_reports();
      report.set_type(carbon::v1::EXECUTION_TYPE_ACCEPTED);
      report.set_command_index(static_cast<std::uint32_t>(i));
      report.set_sequence(++sequence_);
      auto& order = *report.mutable_order();
      order.set_order_id(sequence_);
      if (command.has_place()) {
        order.set_instrument(command.place().instrument());
        order.set_side(command.place().side());
        order.set_price_fen(command.place().price_fen());
        order.set_quantity(command.place().quantity());
        order.set_remaining_quantity(command.place().quantity());
        order.set_status(carbon::v1::ORDER_STATUS_NEW);
      }
    }
    outbox_.push_back(std::move(response));
    if (!writing_) write_next();
    StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mutex_);
    writing_ = false;
    outbox_.pop_front();
    if (!ok) {
      outbox_.clear();
      reading_done_ = true;
    }
    if (!outbox_.empty()) write_next();
    else maybe_finish();
  }

  void OnDone() override { delete this; }

 private:
  void write_next() {
    writing_ = true;
    StartWrite(&outbox_.front());
  }
  void maybe_finish() {
    if (reading_done_ && !writing_ && outbox_.empty() && !finished_) {
      finished_ = true;
      Finish(grpc::Status::OK);
    }
  }

  carbon::v1::SessionRequest request_;
  std::mutex mutex_;
  std::deque<carbon::v1::SessionResponse> outbox_;  ///< front is being written while writing_
  bool writing_ = false;
  bool reading_done_ = false;
  bool finished_ = false;
  std::uint64_t sequence_ = 0;
};

class EchoService final : public carbon::v1::TradingService::CallbackService {
  grpc::ServerBidiReactor<carbon::v1::SessionRequest, carbon::v1::SessionResponse>* OrderSession(
      grpc::CallbackServerContext*) override {
    return new EchoReactor;
  }
};

// ---- the load --------------------------------------------------------------

/// What one session measured.
struct SessionResult {
  std::uint64_t messages = 0;
  std::uint64_t commands = 0;
  std::uint64_t answered = 0;
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
  std::vector<std::int64_t> latencies_us;
  std::string error;
};

class SessionRunner {
 public:
  SessionRunner(const Options& options, std::shared_ptr<grpc::Channel> channel, std::string token,
                double messages_per_second)
      : options_(options), channel_(std::move(channel)), token_(std::move(token)), rate_(messages_per_second) {
    // Open loop: one slot per scheduled message (batch ids are dense); closed loop: a ring over the window.
    const double planned = rate_ > 0 ? rate_ * options.seconds * 1.05 + 1'000 : options.window * 4.0;
    sent_at_ = std::vector<std::atomic<Clock::rep>>(static_cast<std::size_t>(planned));
  }

  SessionResult run(Clock::time_point start, Clock::time_point end) {
    auto stub = carbon::v1::TradingService::NewStub(channel_);
    auto context = as(token_);
    auto stream = stub->OrderSession(context.get());
    std::thread reader([&] { read_loop(*stream); });
    std::uint64_t batch_id = 0;
    const auto period = rate_ > 0 ? std::chrono::duration<double>(1.0 / rate_) : std::chrono::duration<double>{};
    std::this_thread::sleep_until(start);
    for (;;) {
      Clock::time_point intended = Clock::now();
      if (rate_ > 0) {
        intended = start + std::chrono::duration_cast<Clock::duration>(period * static_cast<double>(batch_id));
        if (intended >= end || batch_id + 1 >= sent_at_.size()) break;
        std::this_thread::sleep_until(intended);  // returns at once when behind schedule
      } else {
        if (intended >= end) break;
        std::unique_lock lock(mutex_);
        room_.wait(lock, [&] { return in_flight_ < options_.window || failed_; });
        if (failed_) break;
        ++in_flight_;
        intended = Clock::now();
      }
      {
        std::lock_guard lock(mutex_);
        if (failed_) break;
      }
      carbon::v1::SessionRequest request;
      request.set_batch_id(++batch_id);
      build(request, batch_id);
      result_.commands += static_cast<std::uint64_t>(request.commands_size());
      ++result_.messages;
      sent_at_[batch_id % sent_at_.size()].store(intended.time_since_epoch().count(), std::memory_order_release);
      if (!stream->Write(request)) break;
    }
    {
      std::unique_lock lock(mutex_);
      room_.wait_for(lock, std::chrono::seconds(60), [&] { return answered_ == result_.messages || failed_; });
    }
    stream->WritesDone();
    reader.join();
    const grpc::Status status = stream->Finish();
    if (!status.ok()) result_.error = status.error_message();
    return std::move(result_);
  }

 private:
  void build(carbon::v1::SessionRequest& request, std::uint64_t batch_id) {
    if (options_.cancel) {
      std::vector<std::uint64_t> cancels;
      {
        std::lock_guard lock(mutex_);
        cancels.swap(to_cancel_);
      }
      for (std::uint64_t id : cancels) request.add_commands()->mutable_cancel()->set_order_id(id);
    }
    for (int i = 0; i < options_.batch; ++i) {
      carbon::v1::PlaceOrderRequest& order = *request.add_commands()->mutable_place();
      const std::uint64_t n = batch_id * static_cast<std::uint64_t>(options_.batch) + static_cast<std::uint64_t>(i);
      const bool buy = n % 2 == 0;
      order.set_instrument(options_.instrument);
      order.set_side(buy ? carbon::v1::SIDE_BUY : carbon::v1::SIDE_SELL);
      const auto offset = static_cast<std::int64_t>(50 + (n / 2) % 200);
      order.set_price_fen(buy ? options_.reference_price - offset : options_.reference_price + offset);
      order.set_quantity(1);
    }
  }

  void read_loop(grpc::ClientReaderWriter<carbon::v1::SessionRequest, carbon::v1::SessionResponse>& stream) {
    carbon::v1::SessionResponse response;
    while (stream.Read(&response)) {
      if (response.batch_id() == 0) continue;  // unsolicited
      const auto now = Clock::now().time_since_epoch().count();
      const auto sent = sent_at_[response.batch_id() % sent_at_.size()].load(std::memory_order_acquire);
      result_.latencies_us.push_back((now - sent) / 1'000);
      std::vector<std::uint64_t> placed;
      for (const auto& report : response.reports()) {
        if (report.type() == carbon::v1::EXECUTION_TYPE_ACCEPTED) {
          ++result_.accepted;
          if (options_.cancel) placed.push_back(report.order().order_id());
        } else if (report.error_code() != 0) {
          ++result_.rejected;
          if (first_refusal_.empty()) first_refusal_ = report.error_message();
        }
      }
      std::lock_guard lock(mutex_);
      ++answered_;
      to_cancel_.insert(to_cancel_.end(), placed.begin(), placed.end());
      if (in_flight_ > 0) --in_flight_;
      room_.notify_all();
    }
    std::lock_guard lock(mutex_);
    failed_ = true;
    room_.notify_all();
  }

 public:
  std::string first_refusal_;  ///< reader thread; read after run()

 private:
  const Options& options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string token_;
  double rate_;
  std::vector<std::atomic<Clock::rep>> sent_at_;
  SessionResult result_;  ///< messages and commands by the writer; the rest by the reader (before the join)
  std::mutex mutex_;
  std::condition_variable room_;
  int in_flight_ = 0;
  std::uint64_t answered_ = 0;
  bool failed_ = false;
  std::vector<std::uint64_t> to_cancel_;
};

/// Creates a participant with cash and units; returns its trader token.
std::string open_participant(const Options& options, const std::shared_ptr<grpc::Channel>& channel, int index) {
  auto admin = carbon::v1::AdminService::NewStub(channel);
  auto registry = carbon::v1::RegistryService::NewStub(channel);
  const std::string code = "LOAD-" + std::to_string(::getpid()) + "-" + std::to_string(index);
  carbon::v1::CreateParticipantRequest create;
  create.set_code(code);
  create.set_name(code);
  create.set_type(carbon::v1::PARTICIPANT_TYPE_KEY_EMITTING_UNIT);
  carbon::v1::CreateParticipantResponse created;
  grpc::Status status = admin->CreateParticipant(as(options.operator_token).get(), create, &created);
  if (!status.ok()) throw std::runtime_error("CreateParticipant: " + status.error_message());
  carbon::v1::CashMovementRequest deposit;
  deposit.set_cash_account_id(created.participant().cash_account_id());
  deposit.set_amount_fen(1'000'000'000'000);
  deposit.set_idempotency_key(code);
  carbon::v1::CashMovementResponse deposited;
  status = admin->Deposit(as(options.operator_token).get(), deposit, &deposited);
  if (!status.ok()) throw std::runtime_error("Deposit: " + status.error_message());
  // IssueAllowances counts against the caps of the vintage year (CEA<year>): give the
  // load generator's issuance a sector of its own ("loadgen") with a generous cap.
  const std::string& instrument = options.instrument;
  if (instrument.size() == 7 && instrument.compare(0, 3, "CEA") == 0 &&
      instrument.find_first_not_of("0123456789", 3) == std::string::npos) {
    carbon::v1::SetCapRequest cap;
    cap.set_compliance_year(std::stoi(instrument.substr(3)));
    cap.set_sector("loadgen");
    cap.set_cap_quantity(1'000'000'000'000'000);
    cap.set_paid_share_bps(10'000);  // all paid: issuance fills this sector before any other
    cap.set_reason("load generator");
    carbon::v1::Cap set;
    status = registry->SetCap(as(options.registry_token).get(), cap, &set);
    if (!status.ok()) throw std::runtime_error("SetCap: " + status.error_message());
  }
  carbon::v1::IssueAllowancesRequest issue;
  issue.set_instrument(options.instrument);
  issue.set_holding_account_id(created.participant().holding_account_id());
  issue.set_quantity(400'000);  // holdings plus open buys stay under the 1,000,000 t position limit
  issue.set_reason("load generator");
  carbon::v1::IssueAllowancesResponse issued;
  status = registry->IssueAllowances(as(options.registry_token).get(), issue, &issued);
  if (!status.ok()) throw std::runtime_error("IssueAllowances: " + status.error_message());
  return created.trader_token();
}

std::int64_t percentile(const std::vector<std::int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

struct RunResult {
  double elapsed = 0;
  SessionResult total;
  std::string first_refusal;
  double orders_per_second() const { return static_cast<double>(total.accepted) / elapsed; }
};

RunResult run_load(const Options& options, const std::string& address, const std::vector<std::string>& tokens) {
  std::vector<std::unique_ptr<SessionRunner>> runners;
  std::vector<SessionResult> results(static_cast<std::size_t>(options.sessions));
  const double messages_per_second =
      options.rate > 0 ? options.rate / options.batch / static_cast<double>(options.sessions) : 0;
  for (int i = 0; i < options.sessions; ++i) {
    // One channel (one HTTP/2 connection) per session.
    grpc::ChannelArguments arguments;
    arguments.SetInt("carbon.loadgen.session", i);
    runners.push_back(std::make_unique<SessionRunner>(
        options, grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), arguments),
        tokens[static_cast<std::size_t>(i)], messages_per_second));
  }
  const auto start = Clock::now() + std::chrono::milliseconds(300);
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.seconds));
  std::vector<std::thread> threads;
  for (int i = 0; i < options.sessions; ++i) {
    threads.emplace_back([&, i] {
      results[static_cast<std::size_t>(i)] = runners[static_cast<std::size_t>(i)]->run(start, end);
    });
  }
  for (auto& thread : threads) thread.join();
  RunResult out;
  out.elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  for (std::size_t i = 0; i < results.size(); ++i) {
    SessionResult& result = results[i];
    out.total.messages += result.messages;
    out.total.answered += static_cast<std::uint64_t>(result.latencies_us.size());
    out.total.commands += result.commands;
    out.total.accepted += result.accepted;
    out.total.rejected += result.rejected;
    out.total.latencies_us.insert(out.total.latencies_us.end(), result.latencies_us.begin(),
                                  result.latencies_us.end());
    if (!result.error.empty()) std::fprintf(stderr, "session ended with: %s\n", result.error.c_str());
    if (out.first_refusal.empty()) out.first_refusal = runners[i]->first_refusal_;
  }
  std::sort(out.total.latencies_us.begin(), out.total.latencies_us.end());
  return out;
}

void report(const char* what, const Options& options, const RunResult& run) {
  const auto& t = run.total;
  std::printf("%-8s %d sessions, %d order(s)/message, %s, %.1f s: messages %llu answered %llu, commands %.0f/s, "
              "orders accepted %.0f/s, refused %llu\n",
              what, options.sessions, options.batch,
              options.rate > 0 ? ("offered " + std::to_string(static_cast<long long>(options.rate)) + " orders/s").c_str()
                               : ("closed loop, window " + std::to_string(options.window)).c_str(),
              run.elapsed, static_cast<unsigned long long>(t.messages), static_cast<unsigned long long>(t.answered),
              static_cast<double>(t.commands) / run.elapsed, run.orders_per_second(),
              static_cast<unsigned long long>(t.rejected));
  std::printf("%-8s ack latency us: p50 %lld  p99 %lld  p99.9 %lld  max %lld\n", what,
              static_cast<long long>(percentile(t.latencies_us, 0.50)),
              static_cast<long long>(percentile(t.latencies_us, 0.99)),
              static_cast<long long>(percentile(t.latencies_us, 0.999)),
              static_cast<long long>(t.latencies_us.empty() ? 0 : t.latencies_us.back()));
  if (!run.first_refusal.empty()) std::printf("%-8s first refusal: %s\n", what, run.first_refusal.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"carbon_loadgen: order session load against a running carbond, beside a gRPC echo ceiling.\n"
               "Example: carbon_loadgen --staff-file /var/lib/carbond/staff-tokens.toml --sessions 4 --batch 1 "
               "--rate 30000 --echo-ceiling"};
  app.add_option("--address", options.address, "carbond's gRPC address");
  app.add_option("--staff-file", options.staff_file, "staff-tokens.toml (entries named operator and registry)");
  app.add_option("--operator-token", options.operator_token, "an operator's bearer token");
  app.add_option("--registry-token", options.registry_token, "a registry authority's bearer token");
  app.add_option("--instrument", options.instrument, "instrument to trade");
  app.add_option("--reference-price", options.reference_price, "the instrument's reference price, fen");
  app.add_option("--sessions", options.sessions, "concurrent order sessions (each its own participant)")
      ->check(CLI::Range(1, 256));
  app.add_option("--batch", options.batch, "place commands per message (1 = one order per message)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--rate", options.rate,
                 "offered orders per second, all sessions together (open loop, latency from the intended send "
                 "time); 0 = closed loop, as fast as the window allows");
  app.add_option("--window", options.window, "closed loop: messages in flight per session");
  app.add_option("--seconds", options.seconds, "how long to send");
  app.add_flag("--cancel", options.cancel, "each message also cancels the orders the previous answer accepted");
  app.add_flag("--echo-ceiling", options.echo_ceiling,
               "first run the same load against a no-op echo OrderSession server in this process (loopback)");
  app.add_flag("--echo-only", options.echo_only, "only the echo ceiling; no carbond needed");
  CLI11_PARSE(app, argc, argv);
  try {
    std::optional<RunResult> echo;
    if (options.echo_ceiling || options.echo_only) {
      EchoService service;
      grpc::ServerBuilder builder;
      int port = 0;
      builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
      builder.RegisterService(&service);
      auto server = builder.BuildAndStart();
      if (!server || port == 0) throw std::runtime_error("cannot start the echo server on loopback");
      const std::vector<std::string> no_tokens(static_cast<std::size_t>(options.sessions));
      echo = run_load(options, "127.0.0.1:" + std::to_string(port), no_tokens);
      report("echo", options, *echo);
      server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    }
    if (options.echo_only) return 0;
    if (!options.staff_file.empty()) {
      const auto root = toml::parse(options.staff_file);
      for (const auto& entry : toml::find<toml::array>(root, "staff")) {
        const auto name = toml::find<std::string>(entry, "name");
        if (name == "operator") options.operator_token = toml::find<std::string>(entry, "token");
        if (name == "registry") options.registry_token = toml::find<std::string>(entry, "token");
      }
    }
    if (options.operator_token.empty() || options.registry_token.empty()) {
      throw std::runtime_error("need --staff-file or both --operator-token and --registry-token");
    }
    auto channel = grpc::CreateChannel(options.address, grpc::InsecureChannelCredentials());
    std::vector<std::string> tokens;
    for (int i = 0; i < options.sessions; ++i) tokens.push_back(open_participant(options, channel, i));
    const RunResult carbond = run_load(options, options.address, tokens);
    report("carbond", options, carbond);
    if (echo && echo->orders_per_second() > 0) {
      std::printf("carbond / echo ceiling: %.0f%% of %.0f orders/s\n",
                  100.0 * carbond.orders_per_second() / echo->orders_per_second(), echo->orders_per_second());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "carbon_loadgen: %s\n", e.what());
    return 1;
  }
  return 0;
}
