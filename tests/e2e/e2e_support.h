#pragma once
/// Shared pieces of the end-to-end tests: a carbond with known staff tokens
/// against a fresh database, and gRPC calls with a bearer token.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <memory>

#include "carbon/v1/admin.grpc.pb.h"
#include "carbon/v1/market_data.grpc.pb.h"
#include "carbon/v1/registry.grpc.pb.h"
#include "carbon/v1/trading.grpc.pb.h"
#include "registry/ledger.h"
#include "server/auth.h"
#include "store/pg.h"
#include "support/daemon_process.h"
#include "support/eventually.h"
#include "support/test_database.h"

namespace carbon::testing {

inline const std::string kOperatorToken = "e2e-operator-token";
inline const std::string kRegistryToken = "e2e-registry-token";
inline const std::string kRegulatorToken = "e2e-regulator-token";

/// The instant the end-to-end carbond's clock starts at: Tuesday 10:00 in
/// Asia/Shanghai, inside the morning listed session.
inline const std::string kClockStart = "2026-11-24T10:00:00+08:00";

/// The config every end-to-end carbond gets: known staff tokens, a clock in
/// session hours, and three instruments (one with a 5-fen tick);
/// `server_settings` ("key = value" lines) go into its [server] table.
inline std::string e2e_config(const std::string& server_settings = "") {
  auto hex = [](const std::string& token) { return registry::to_hex(server::hash_token(token)); };
  return "[server]\nlog_level = \"info\"\n" + server_settings + "\n"
         "[engine]\nclock_start = \"" + kClockStart + "\"\n\n"
         "[[staff]]\nname = \"ops\"\nrole = \"operator\"\ntoken_sha256 = \"" + hex(kOperatorToken) + "\"\n\n"
         "[[staff]]\nname = \"registry\"\nrole = \"registry_authority\"\ntoken_sha256 = \"" + hex(kRegistryToken) + "\"\n\n"
         "[[staff]]\nname = \"regulator\"\nrole = \"regulator\"\ntoken_sha256 = \"" + hex(kRegulatorToken) + "\"\n\n"
         "[[instruments]]\ncode = \"CEA2024\"\nmarket = \"compliance\"\nreference_price_fen = 10000\n\n"
         "[[instruments]]\ncode = \"CEA2023\"\nmarket = \"compliance\"\ntick_fen = 5\nreference_price_fen = 5000\n\n"
         "[[instruments]]\ncode = \"CCER\"\nmarket = \"voluntary\"\nreference_price_fen = 5000\n";
}

/// A carbond process plus stubs for every service.
class RunningExchange {
 public:
  explicit RunningExchange(std::vector<std::string> extra_args = {}, const std::string& server_settings = "")
      : dir_(make_world_traversable_temp_dir("carbond-e2e")) {
    std::ofstream(dir_ / "carbond.toml") << e2e_config(server_settings);
    std::vector<std::string> args{"--config=" + (dir_ / "carbond.toml").string(), "--listen=127.0.0.1:0",
                                  "--data-dir=" + (dir_ / "data").string()};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    daemon_ = std::make_unique<DaemonProcess>(args, dir_);
  }
  ~RunningExchange() {
    daemon_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void start() {
    daemon_->start();
    channel = grpc::CreateChannel(daemon_->address(), grpc::InsecureChannelCredentials());
    trading = v1::TradingService::NewStub(channel);
    market_data = v1::MarketDataService::NewStub(channel);
    admin = v1::AdminService::NewStub(channel);
    registry = v1::RegistryService::NewStub(channel);
  }
  int stop(int signal = 15) { return daemon_->stop(signal); }
  std::string log() const { return daemon_->log(); }
  int exit_code() const { return daemon_->exit_code(); }
  const std::filesystem::path& dir() const { return dir_; }
  /// host:port of the gRPC listener (after start()), for channels of a test's own.
  std::string address() const { return daemon_->address(); }

  /// A client context carrying "authorization: Bearer <token>" (none if token is empty).
  static std::unique_ptr<grpc::ClientContext> as(const std::string& token) {
    auto context = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return context;
  }

  /// grpc.health.v1.Health/Check of `service` ("" = the whole server):
  /// 1 = SERVING, 2 = NOT_SERVING, -1 = the call failed.
  int health(const std::string& service = "") {
    grpc::GenericStub stub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    // HealthCheckRequest{string service = 1}: empty on the wire when service is "".
    std::string wire;
    if (!service.empty()) wire = std::string{'\x0a', static_cast<char>(service.size())} + service;
    grpc::Slice slice(wire);
    grpc::ByteBuffer request(&slice, 1), response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                   [&](grpc::Status status) { done.set_value(status); });
    if (!done.get_future().get().ok()) return -1;
    std::vector<grpc::Slice> slices;
    if (!response.Dump(&slices).ok() || slices.empty()) return 0;  // status 0 (UNKNOWN) encodes as empty
    const auto* bytes = slices[0].begin();
    return slices[0].size() >= 2 && bytes[0] == 0x08 ? bytes[1] : -1;
  }

  /// The raw bytes of the first grpc.reflection.v1alpha ServerReflectionInfo
  /// answer to list_services ("" if the call failed). The service names
  /// appear in it as plain strings.
  std::string reflection_list_services() {
    class Call final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
     public:
      /// Starts the call; `result` is set before anything can complete (the object deletes itself).
      Call(grpc::GenericStub& stub, std::future<std::string>& result) {
        result = done_.get_future();
        context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        stub.PrepareBidiStreamingCall(&context_, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                      grpc::StubOptions(), this);
        // ServerReflectionRequest{list_services = 7: "*"}
        const std::string wire{'\x3a', '\x01', '*'};
        grpc::Slice slice(wire);
        request_ = grpc::ByteBuffer(&slice, 1);
        StartWrite(&request_);
        StartRead(&response_);
        StartCall();
      }
      void OnWriteDone(bool) override { StartWritesDone(); }
      void OnReadDone(bool ok) override {
        if (ok) {
          std::vector<grpc::Slice> slices;
          if (response_.Dump(&slices).ok()) {
            for (const auto& s : slices) bytes_.append(reinterpret_cast<const char*>(s.begin()), s.size());
          }
        }
      }
      void OnDone(const grpc::Status&) override {
        done_.set_value(bytes_);
        delete this;  // the last reaction: the reactor owns itself
      }

     private:
      grpc::ClientContext context_;
      grpc::ByteBuffer request_, response_;
      std::string bytes_;
      std::promise<std::string> done_;
    };
    grpc::GenericStub stub(channel);
    std::future<std::string> result;
    new Call(stub, result);
    return result.wait_for(std::chrono::seconds(15)) == std::future_status::ready ? result.get() : "";
  }

  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::TradingService::Stub> trading;
  std::unique_ptr<v1::MarketDataService::Stub> market_data;
  std::unique_ptr<v1::AdminService::Stub> admin;
  std::unique_ptr<v1::RegistryService::Stub> registry;

 private:
  std::filesystem::path dir_;
  std::unique_ptr<DaemonProcess> daemon_;
};

/// An operator's CreateParticipant of `code` (also its name) of `type`; the answer (accounts, first token) in `out`.
inline grpc::Status create_participant(RunningExchange& x, const std::string& code, v1::ParticipantType type,
                                       v1::CreateParticipantResponse& out, const std::string& name = "") {
  v1::CreateParticipantRequest request;
  request.set_code(code);
  request.set_name(name.empty() ? code : name);
  request.set_type(type);
  return x.admin->CreateParticipant(RunningExchange::as(kOperatorToken).get(), request, &out);
}

/// An operator's deposit of `fen` into cash account `account`, with idempotency key `key`.
inline grpc::Status deposit(RunningExchange& x, std::uint64_t account, std::int64_t fen, const std::string& key) {
  v1::CashMovementRequest request;
  request.set_cash_account_id(account);
  request.set_amount_fen(fen);
  request.set_idempotency_key(key);
  v1::CashMovementResponse response;
  return x.admin->Deposit(RunningExchange::as(kOperatorToken).get(), request, &response);
}

/// Sets a generous, all-paid cap (1,000,000,000 t, sector "test") for a compliance year: IssueAllowances
/// counts against the caps of the instrument's vintage year and is refused without one.
inline grpc::Status set_generous_cap(RunningExchange& x, int year = 2024) {
  v1::SetCapRequest cap;
  cap.set_compliance_year(year);
  cap.set_sector("test");
  cap.set_cap_quantity(1'000'000'000);
  cap.set_paid_share_bps(10'000);  // all paid: issuance fills this sector before any other
  cap.set_reason("cap for the test");
  v1::Cap set;
  return x.registry->SetCap(RunningExchange::as(kRegistryToken).get(), cap, &set);
}

/// Issues `quantity` t of `instrument` to `holding_account` as the registry authority (a cap must be set).
inline grpc::Status issue_allowances(RunningExchange& x, std::uint64_t holding_account, std::int64_t quantity,
                                     const std::string& instrument = "CEA2024") {
  v1::IssueAllowancesRequest issue;
  issue.set_instrument(instrument);
  issue.set_holding_account_id(holding_account);
  issue.set_quantity(quantity);
  issue.set_reason("allocation");
  v1::IssueAllowancesResponse issued;
  return x.registry->IssueAllowances(RunningExchange::as(kRegistryToken).get(), issue, &issued);
}

/// Every page of a paged list RPC (common.proto, Paging), 1,000 items at a time, into `all`: e.g.
/// list_all(x.trading.get(), &v1::TradingService::Stub::ListOrders, token, request, all, &v1::ListOrdersResponse::mutable_orders).
template <typename Stub, typename Request, typename Response, typename Items>
grpc::Status list_all(Stub* stub, grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
                      const std::string& token, Request request, Response& all, Items (Response::*items)()) {
  request.set_page_size(1'000);
  do {
    Response page;
    if (grpc::Status s = (stub->*rpc)(RunningExchange::as(token).get(), request, &page); !s.ok()) return s;
    (all.*items)()->MergeFrom(*(page.*items)());
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  return grpc::Status::OK;
}

/// All of a trader's ListOrders pages.
inline grpc::Status list_all_orders(RunningExchange& x, const std::string& token, v1::ListOrdersResponse& all,
                                    v1::ListOrdersRequest request = {}) {
  return list_all(x.trading.get(), &v1::TradingService::Stub::ListOrders, token, std::move(request), all,
                  &v1::ListOrdersResponse::mutable_orders);
}

/// All of a trader's ListTrades pages.
inline grpc::Status list_all_trades(RunningExchange& x, const std::string& token, v1::ListTradesResponse& all,
                                    v1::ListTradesRequest request = {}) {
  return list_all(x.trading.get(), &v1::TradingService::Stub::ListTrades, token, std::move(request), all,
                  &v1::ListTradesResponse::mutable_trades);
}

/// A table held in ACCESS EXCLUSIVE mode by a transaction of its own until release() or destruction
/// (whatever fails first: declare what waits on the lock before it, so that it is destroyed after).
class TableLock {
 public:
  TableLock(const std::string& conninfo, const std::string& table) : conn_(store::connect_or_throw(conninfo)) {
    store::exec_or_throw(conn_.get(), "BEGIN; LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE", "lock the table");
  }
  ~TableLock() {
    try {
      release();
    } catch (...) {
    }
  }
  TableLock(const TableLock&) = delete;
  TableLock& operator=(const TableLock&) = delete;
  void release() {
    if (conn_) store::exec_or_throw(conn_.get(), "ROLLBACK", "release the table");
    conn_.reset();
  }

 private:
  store::PgConn conn_;
};

}  // namespace carbon::testing
