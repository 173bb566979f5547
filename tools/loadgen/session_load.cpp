// carbon_loadgen: N order sessions, each sending batches of place and cancel
// commands at a given rate against a running carbond; reports orders
// accepted per second and the latency from a batch's write to its response
// (which carbond sends only after the batch's events are committed).
//
// Each session is its own participant (created, funded and issued units
// here, with the staff tokens), so its orders never cross its own. Orders
// rest without trading (buys below, sells above the reference price); each
// batch also cancels the orders the previous batch placed, so books stay
// small. --echo sends empty commands instead, which carbond refuses before
// the engine: the ceiling of the session machinery without engine and
// database.

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
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
  int batch = 100;        ///< place commands per batch
  double rate = 0;        ///< batches per second per session; 0 = as fast as the window allows
  int window = 8;         ///< batches in flight per session
  double seconds = 10;
  bool echo = false;
};

std::unique_ptr<grpc::ClientContext> as(const std::string& token) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + token);
  return context;
}

/// What one session measured.
struct SessionResult {
  std::uint64_t batches = 0;
  std::uint64_t commands = 0;
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
  std::vector<std::int64_t> latencies_us;
  std::string error;
};

class SessionRunner {
 public:
  SessionRunner(const Options& options, std::shared_ptr<grpc::Channel> channel, std::string token)
      : options_(options), channel_(std::move(channel)), token_(std::move(token)),
        sent_at_(static_cast<std::size_t>(options.window) * 2) {}

  SessionResult run(Clock::time_point start, Clock::time_point end) {
    auto stub = carbon::v1::TradingService::NewStub(channel_);
    auto context = as(token_);
    auto stream = stub->OrderSession(context.get());
    std::thread reader([&] { read_loop(*stream); });
    std::uint64_t batch_id = 0;
    const auto period = options_.rate > 0 ? std::chrono::duration<double>(1.0 / options_.rate) : Clock::duration{};
    auto next = start;
    std::this_thread::sleep_until(start);
    while (Clock::now() < end) {
      if (options_.rate > 0) {
        std::this_thread::sleep_until(next);
        next += std::chrono::duration_cast<Clock::duration>(period);
      }
      {
        std::unique_lock lock(mutex_);
        room_.wait(lock, [&] { return in_flight_ < options_.window || failed_; });
        if (failed_) break;
        ++in_flight_;
      }
      carbon::v1::SessionRequest request;
      request.set_batch_id(++batch_id);
      build(request, batch_id);
      result_.commands += static_cast<std::uint64_t>(request.commands_size());
      sent_at_[batch_id % sent_at_.size()].store(Clock::now().time_since_epoch().count(), std::memory_order_release);
      if (!stream->Write(request)) break;
    }
    {
      std::unique_lock lock(mutex_);
      room_.wait_for(lock, std::chrono::seconds(30), [&] { return in_flight_ == 0 || failed_; });
    }
    stream->WritesDone();
    reader.join();
    const grpc::Status status = stream->Finish();
    if (!status.ok()) result_.error = status.error_message();
    return std::move(result_);
  }

 private:
  void build(carbon::v1::SessionRequest& request, std::uint64_t batch_id) {
    if (options_.echo) {
      for (int i = 0; i < options_.batch; ++i) request.add_commands();
      return;
    }
    std::vector<std::uint64_t> cancels;
    {
      std::lock_guard lock(mutex_);
      cancels.swap(to_cancel_);
    }
    for (std::uint64_t id : cancels) request.add_commands()->mutable_cancel()->set_order_id(id);
    for (int i = 0; i < options_.batch; ++i) {
      carbon::v1::PlaceOrderRequest& order = *request.add_commands()->mutable_place();
      const bool buy = (i + static_cast<int>(batch_id)) % 2 == 0;
      order.set_instrument(options_.instrument);
      order.set_side(buy ? carbon::v1::SIDE_BUY : carbon::v1::SIDE_SELL);
      const std::int64_t offset = 50 + (i % 200);
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
          placed.push_back(report.order().order_id());
        } else if (report.error_code() != 0) {
          ++result_.rejected;
        }
      }
      std::lock_guard lock(mutex_);
      ++result_.batches;
      to_cancel_.insert(to_cancel_.end(), placed.begin(), placed.end());
      --in_flight_;
      room_.notify_all();
    }
    std::lock_guard lock(mutex_);
    failed_ = true;
    room_.notify_all();
  }

  const Options& options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string token_;
  std::vector<std::atomic<Clock::rep>> sent_at_;
  SessionResult result_;  ///< counters: commands by the writer; the rest by the reader (before the join)
  std::mutex mutex_;
  std::condition_variable room_;
  int in_flight_ = 0;
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
  carbon::v1::IssueAllowancesRequest issue;
  issue.set_instrument(options.instrument);
  issue.set_holding_account_id(created.participant().holding_account_id());
  issue.set_quantity(10'000'000);
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

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"carbon_loadgen: order session load against a running carbond"};
  app.add_option("--address", options.address, "carbond's gRPC address");
  app.add_option("--staff-file", options.staff_file, "staff-tokens.toml (entries named operator and registry)");
  app.add_option("--operator-token", options.operator_token, "an operator's bearer token");
  app.add_option("--registry-token", options.registry_token, "a registry authority's bearer token");
  app.add_option("--instrument", options.instrument, "instrument to trade");
  app.add_option("--reference-price", options.reference_price, "the instrument's reference price, fen");
  app.add_option("--sessions", options.sessions, "order sessions (each its own participant)");
  app.add_option("--batch", options.batch, "place commands per batch (plus cancels of the previous batch)");
  app.add_option("--rate", options.rate, "batches per second per session; 0 = as fast as the window allows");
  app.add_option("--window", options.window, "batches in flight per session");
  app.add_option("--seconds", options.seconds, "how long to send");
  app.add_flag("--echo", options.echo, "send empty commands (refused before the engine): the session ceiling");
  CLI11_PARSE(app, argc, argv);
  try {
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

    std::vector<std::unique_ptr<SessionRunner>> runners;
    std::vector<SessionResult> results(static_cast<std::size_t>(options.sessions));
    // One channel per session, so that sessions do not share one HTTP/2 connection.
    for (int i = 0; i < options.sessions; ++i) {
      grpc::ChannelArguments arguments;
      arguments.SetInt("carbon.loadgen.session", i);
      runners.push_back(std::make_unique<SessionRunner>(
          options, grpc::CreateCustomChannel(options.address, grpc::InsecureChannelCredentials(), arguments),
          tokens[static_cast<std::size_t>(i)]));
    }
    const auto start = Clock::now() + std::chrono::milliseconds(200);
    const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.seconds));
    std::vector<std::thread> threads;
    for (int i = 0; i < options.sessions; ++i) {
      threads.emplace_back([&, i] { results[static_cast<std::size_t>(i)] = runners[static_cast<std::size_t>(i)]->run(start, end); });
    }
    for (auto& thread : threads) thread.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

    SessionResult total;
    for (auto& result : results) {
      total.batches += result.batches;
      total.commands += result.commands;
      total.accepted += result.accepted;
      total.rejected += result.rejected;
      total.latencies_us.insert(total.latencies_us.end(), result.latencies_us.begin(), result.latencies_us.end());
      if (!result.error.empty()) std::fprintf(stderr, "session ended with: %s\n", result.error.c_str());
    }
    std::sort(total.latencies_us.begin(), total.latencies_us.end());
    std::printf("%s: %d sessions, %d %s per batch, window %d, rate %s, %.1f s\n", options.echo ? "echo" : "orders",
                options.sessions, options.batch, options.echo ? "empty commands" : "places", options.window,
                options.rate > 0 ? (std::to_string(options.rate) + "/s/session").c_str() : "max", elapsed);
    std::printf("batches answered %llu, commands sent %llu (%.0f/s), orders accepted %llu (%.0f/s), refused %llu\n",
                static_cast<unsigned long long>(total.batches), static_cast<unsigned long long>(total.commands),
                static_cast<double>(total.commands) / elapsed, static_cast<unsigned long long>(total.accepted),
                static_cast<double>(total.accepted) / elapsed, static_cast<unsigned long long>(total.rejected));
    std::printf("batch ack latency us: p50 %lld  p90 %lld  p99 %lld  max %lld\n",
                static_cast<long long>(percentile(total.latencies_us, 0.50)),
                static_cast<long long>(percentile(total.latencies_us, 0.90)),
                static_cast<long long>(percentile(total.latencies_us, 0.99)),
                static_cast<long long>(total.latencies_us.empty() ? 0 : total.latencies_us.back()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "carbon_loadgen: %s\n", e.what());
    return 1;
  }
  return 0;
}
