#include "store/embedded_postgres.h"

#include "store/process.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

#include <libpq-fe.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

namespace carbon::store {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSuperuser = "carbond";
constexpr const char* kIncludeLine = "include = 'carbond.conf'";
constexpr std::size_t kMaxSocketPathLength = 100;
constexpr auto kReadyTimeout = std::chrono::seconds(60);
constexpr auto kZombieReapTimeout = std::chrono::seconds(15);

struct PgConnDeleter {
    void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct PgResultDeleter {
    void operator()(PGresult* result) const { PQclear(result); }
};
using ConnPtr = std::unique_ptr<PGconn, PgConnDeleter>;
using ResultPtr = std::unique_ptr<PGresult, PgResultDeleter>;

struct UserIds {
    uid_t uid = 0;
    gid_t gid = 0;
};

bool running_as_root() { return ::geteuid() == 0; }

std::optional<std::pair<std::string, UserIds>> lookup_user(const std::string* name, uid_t uid) {
    long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buf(hint > 0 ? static_cast<std::size_t>(hint) : 16384);
    passwd pw{};
    passwd* found = nullptr;
    int rc = 0;
    while (true) {
        rc = name != nullptr ? getpwnam_r(name->c_str(), &pw, buf.data(), buf.size(), &found)
                             : getpwuid_r(uid, &pw, buf.data(), buf.size(), &found);
        if (rc != ERANGE) {
            break;
        }
        buf.resize(buf.size() * 2);
    }
    if (rc != 0 || found == nullptr) {
        return std::nullopt;
    }
    return std::make_pair(std::string(pw.pw_name), UserIds{pw.pw_uid, pw.pw_gid});
}

UserIds require_user(const std::string& name) {
    auto user = lookup_user(&name, 0);
    if (!user) {
        throw std::runtime_error("embedded postgres: OS user '" + name +
                                 "' does not exist (install PostgreSQL, which creates it, or choose another user)");
    }
    return user->second;
}

std::string current_user_name() {
    auto user = lookup_user(nullptr, ::geteuid());
    if (!user) {
        throw std::runtime_error("embedded postgres: cannot determine the name of the current OS user (uid " +
                                 std::to_string(::geteuid()) + ")");
    }
    return user->first;
}

std::vector<int> parse_version(const std::string& name) {
    std::vector<int> parts;
    std::string part;
    std::istringstream in(name);
    while (std::getline(in, part, '.')) {
        if (part.empty() || !std::all_of(part.begin(), part.end(), [](unsigned char c) { return std::isdigit(c); })) {
            return {};
        }
        parts.push_back(std::stoi(part));
    }
    return parts;
}

bool is_executable(const fs::path& path) {
    std::error_code ec;
    return fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

fs::path detect_bin_dir() {
    std::error_code ec;
    fs::path best;
    std::vector<int> best_version;
    for (fs::directory_iterator it("/usr/lib/postgresql", ec), end; !ec && it != end; it.increment(ec)) {
        std::vector<int> version = parse_version(it->path().filename().string());
        if (version.empty() || !is_executable(it->path() / "bin" / "initdb")) {
            continue;
        }
        if (best.empty() || version > best_version) {
            best = it->path() / "bin";
            best_version = std::move(version);
        }
    }
    if (!best.empty()) {
        return best;
    }

    const char* env_path = std::getenv("PATH");
    std::istringstream dirs(env_path != nullptr ? env_path : "");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        fs::path candidate = fs::path(dir.empty() ? "." : dir) / "initdb";
        if (is_executable(candidate)) {
            fs::path resolved = fs::canonical(candidate, ec);
            return ec ? fs::absolute(candidate).parent_path() : resolved.parent_path();
        }
    }
    throw std::runtime_error(
        "embedded postgres: no PostgreSQL server binaries found (looked for /usr/lib/postgresql/<N>/bin/initdb and "
        "initdb in PATH); install the PostgreSQL server package or set the binary directory explicitly");
}

std::string quote_conf_value(const std::string& value) {
    std::string out = "'";
    for (char c : value) {
        if (c == '\'' || c == '\\') {
            out += c;
        }
        out += c;
    }
    return out + "'";
}

std::string conninfo_value(const std::string& value) {
    bool plain = !value.empty() && value.find_first_of(" \t\n\r\f\v'\\") == std::string::npos;
    if (plain) {
        return value;
    }
    std::string out = "'";
    for (char c : value) {
        if (c == '\'' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "'";
}

std::string tail_lines(const fs::path& file, std::size_t count) {
    std::ifstream in(file);
    if (!in) {
        return "(cannot read " + file.string() + ")";
    }
    std::deque<std::string> lines;
    std::string line;
    while (std::getline(in, line)) {
        lines.push_back(std::move(line));
        if (lines.size() > count) {
            lines.pop_front();
        }
    }
    std::string out;
    for (const auto& l : lines) {
        out += l;
        out += '\n';
    }
    return out;
}

std::string trim_trailing(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
        text.pop_back();
    }
    return text;
}

void make_directory(const fs::path& dir, mode_t mode) {
    if (::mkdir(dir.c_str(), mode) == 0) {
        if (::chmod(dir.c_str(), mode) != 0) {
            throw std::system_error(errno, std::generic_category(), "embedded postgres: chmod " + dir.string());
        }
        return;
    }
    int err = errno;
    std::error_code ec;
    if (err == EEXIST && fs::is_directory(dir, ec)) {
        return;
    }
    throw std::system_error(err, std::generic_category(), "embedded postgres: cannot create directory " + dir.string());
}

void make_directories(const fs::path& dir, mode_t mode) {
    std::error_code ec;
    if (fs::is_directory(dir, ec)) {
        return;
    }
    fs::path parent = dir.parent_path();
    if (!parent.empty() && parent != dir) {
        make_directories(parent, 0755);
    }
    make_directory(dir, mode);
}

void change_owner(const fs::path& path, const UserIds& ids) {
    if (::chown(path.c_str(), ids.uid, ids.gid) != 0) {
        throw std::system_error(errno, std::generic_category(), "embedded postgres: cannot chown " + path.string());
    }
}

bool process_is_zombie(long pid) {
    std::ifstream stat_file("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    std::getline(stat_file, stat);
    std::size_t paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

}  // namespace

EmbeddedPostgres::EmbeddedPostgres(EmbeddedPostgresOptions options) : options_(std::move(options)) {
    if (options_.data_dir.empty()) {
        throw std::runtime_error("embedded postgres: data directory is not set");
    }
    if (options_.port <= 0 || options_.port > 65535) {
        throw std::runtime_error("embedded postgres: invalid port " + std::to_string(options_.port));
    }
    if (options_.database.empty()) {
        throw std::runtime_error("embedded postgres: database name is empty");
    }
    options_.data_dir = fs::absolute(options_.data_dir).lexically_normal();
    if (options_.data_dir.has_relative_path() && !options_.data_dir.has_filename()) {
        options_.data_dir = options_.data_dir.parent_path();
    }
    pg_dir_ = options_.data_dir / "pg";
    socket_dir_ = pg_dir_ / "socket";
    effective_socket_dir_ = socket_dir_;
    effective_port_ = options_.port;

    if (running_as_root()) {
        if (options_.os_user.empty()) {
            options_.os_user = "postgres";
        }
        if (options_.os_user == "root") {
            throw std::runtime_error("embedded postgres: PostgreSQL refuses to run as root; choose another OS user");
        }
        run_as_ = options_.os_user;
    } else {
        std::string me = current_user_name();
        if (options_.os_user.empty()) {
            options_.os_user = me;
        } else if (options_.os_user != me) {
            throw std::runtime_error("embedded postgres: cannot run PostgreSQL as OS user '" + options_.os_user +
                                     "': switching users requires running as root (current user is '" + me + "')");
        }
    }

    if (options_.bin_dir.empty()) {
        options_.bin_dir = detect_bin_dir();
    }
    for (const char* tool : {"initdb", "pg_ctl"}) {
        if (!is_executable(options_.bin_dir / tool)) {
            throw std::runtime_error("embedded postgres: " + (options_.bin_dir / tool).string() +
                                     " not found or not executable");
        }
    }
}

EmbeddedPostgres::~EmbeddedPostgres() {
    if (!started_by_us_ || detached_) {
        return;
    }
    try {
        stop();
    } catch (...) {
    }
}

void EmbeddedPostgres::start() {
    std::string socket_file = (socket_dir_ / (".s.PGSQL." + std::to_string(options_.port))).string();
    if (socket_file.size() >= kMaxSocketPathLength) {
        throw std::runtime_error("embedded postgres: Unix socket path " + socket_file + " is " +
                                 std::to_string(socket_file.size()) + " characters long; it must stay under " +
                                 std::to_string(kMaxSocketPathLength) + ", so choose a shorter --data-dir");
    }

    prepare_directories();
    init_cluster();
    write_config();

    effective_port_ = options_.port;
    effective_socket_dir_ = socket_dir_;
    if (server_running()) {
        adopt_running_server_settings();
        spdlog::info("embedded postgres: reusing the server already running on {}", pg_dir_.string());
    } else {
        launch_server();
    }
    ensure_database();
}

void EmbeddedPostgres::stop() {
    if (!started_by_us_) {
        return;
    }
    run_checked({(options_.bin_dir / "pg_ctl").string(), "-D", pg_dir_.string(), "-m", "fast", "-w", "stop"},
                "stop PostgreSQL");
    started_by_us_ = false;
    spdlog::info("embedded postgres: stopped the server on {}", pg_dir_.string());
}

void EmbeddedPostgres::stop_immediately() {
    if (!started_by_us_) {
        return;
    }
    run_checked({(options_.bin_dir / "pg_ctl").string(), "-D", pg_dir_.string(), "-m", "immediate", "-w", "stop"},
                "crash PostgreSQL");
    started_by_us_ = false;
    spdlog::info("embedded postgres: crashed the server on {} (-m immediate)", pg_dir_.string());
}

void EmbeddedPostgres::stop_any() {
    std::error_code ec;
    if (!fs::exists(pg_dir_ / "PG_VERSION", ec)) {
        spdlog::info("embedded postgres: no cluster in {}, nothing to stop", pg_dir_.string());
        started_by_us_ = false;
        return;
    }
    if (!server_running()) {
        spdlog::info("embedded postgres: server on {} is not running", pg_dir_.string());
        started_by_us_ = false;
        return;
    }
    run_checked({(options_.bin_dir / "pg_ctl").string(), "-D", pg_dir_.string(), "-m", "fast", "-w", "stop"},
                "stop PostgreSQL");
    started_by_us_ = false;
    spdlog::info("embedded postgres: stopped the server on {}", pg_dir_.string());
}

void EmbeddedPostgres::detach() { detached_ = true; }

std::string EmbeddedPostgres::conninfo() const { return conninfo(options_.database); }

std::string EmbeddedPostgres::conninfo(const std::string& dbname) const {
    return "host=" + conninfo_value(effective_socket_dir_.string()) + " port=" + std::to_string(effective_port_) +
           " dbname=" + conninfo_value(dbname) + " user=" + kSuperuser;
}

bool EmbeddedPostgres::started_by_us() const { return started_by_us_; }

void EmbeddedPostgres::prepare_directories() {
    make_directories(options_.data_dir, 0755);

    if (!run_as_.empty()) {
        UserIds ids = require_user(run_as_);
        ProcessResult probe = run_process({"test", "-x", options_.data_dir.string()}, run_as_);
        if (probe.exit_code == 1) {
            throw std::runtime_error("embedded postgres: OS user '" + run_as_ + "' cannot access " +
                                     options_.data_dir.string() +
                                     " (it and every parent directory must be searchable by that user); choose a "
                                     "--data-dir the user can reach, e.g. /var/lib/carbond");
        }
        if (probe.exit_code != 0) {
            spdlog::warn("embedded postgres: could not verify that '{}' can access {}: {}", run_as_,
                         options_.data_dir.string(), trim_trailing(probe.output));
        }
        make_directory(pg_dir_, 0700);
        change_owner(pg_dir_, ids);
    } else {
        make_directory(pg_dir_, 0700);
    }
}

void EmbeddedPostgres::init_cluster() {
    std::error_code ec;
    if (fs::exists(pg_dir_ / "PG_VERSION", ec)) {
        return;
    }
    if (fs::is_directory(socket_dir_, ec) && fs::is_empty(socket_dir_, ec)) {
        fs::remove(socket_dir_, ec);
    }
    ProcessResult result = run_process({(options_.bin_dir / "initdb").string(), "-D", pg_dir_.string(), "-U",
                                        kSuperuser, "--auth-local=trust", "--auth-host=reject", "--encoding=UTF8",
                                        "--locale=C"},
                                       run_as_);
    if (result.exit_code != 0) {
        throw std::runtime_error("embedded postgres: initdb of " + pg_dir_.string() + " as OS user '" +
                                 options_.os_user + "' failed (exit code " + std::to_string(result.exit_code) +
                                 "):\n" + trim_trailing(result.output));
    }
    spdlog::info("embedded postgres: initialized a new PostgreSQL cluster in {} (OS user '{}')", pg_dir_.string(),
                 options_.os_user);
}

void EmbeddedPostgres::write_config() {
    std::optional<UserIds> ids;
    if (!run_as_.empty()) {
        ids = require_user(run_as_);
    }

    fs::path include_target = pg_dir_ / "carbond.conf";
    fs::path tmp = pg_dir_ / "carbond.conf.tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << "# Written by carbond on every start; edits are overwritten.\n"
            << "listen_addresses = ''\n"
            << "port = " << options_.port << "\n"
            << "unix_socket_directories = " << quote_conf_value(socket_dir_.string()) << "\n"
            << "unix_socket_permissions = 0700\n";
        for (const Settings* settings : {&kJournalSettings, static_cast<const Settings*>(&options_.settings)}) {
            for (const auto& [name, value] : *settings) {
                out << name << " = " << quote_conf_value(value) << "\n";
            }
        }
        out.close();
        if (!out) {
            throw std::runtime_error("embedded postgres: cannot write " + tmp.string());
        }
    }
    ::chmod(tmp.c_str(), 0600);
    if (ids) {
        change_owner(tmp, *ids);
    }
    fs::rename(tmp, include_target);

    fs::path main_conf = pg_dir_ / "postgresql.conf";
    bool has_include = false;
    {
        std::ifstream in(main_conf);
        if (!in) {
            throw std::runtime_error("embedded postgres: cannot read " + main_conf.string());
        }
        std::string line;
        while (std::getline(in, line)) {
            if (line == kIncludeLine) {
                has_include = true;
                break;
            }
        }
    }
    if (!has_include) {
        std::ofstream out(main_conf, std::ios::app);
        out << "\n# carbond settings (listen only on a private Unix socket)\n" << kIncludeLine << "\n";
        out.close();
        if (!out) {
            throw std::runtime_error("embedded postgres: cannot append to " + main_conf.string());
        }
    }

    make_directory(socket_dir_, 0700);
    if (ids) {
        change_owner(socket_dir_, *ids);
    }
}

bool EmbeddedPostgres::server_running() const {
    ProcessResult result = run_process({(options_.bin_dir / "pg_ctl").string(), "status", "-D", pg_dir_.string()},
                                       run_as_);
    if (result.exit_code != 0) {
        return false;
    }
    long pid = 0;
    {
        std::ifstream pid_file(pg_dir_ / "postmaster.pid");
        pid_file >> pid;
    }
    if (pid > 0 && process_is_zombie(pid)) {
        spdlog::warn("embedded postgres: postmaster {} of {} has died; waiting for it to be reaped", pid,
                     pg_dir_.string());
        auto deadline = std::chrono::steady_clock::now() + kZombieReapTimeout;
        while (process_is_zombie(pid) && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        return false;
    }
    return true;
}

void EmbeddedPostgres::adopt_running_server_settings() {
    std::ifstream in(pg_dir_ / "postmaster.pid");
    std::vector<std::string> lines;
    std::string line;
    while (lines.size() < 5 && std::getline(in, line)) {
        lines.push_back(line);
    }
    if (lines.size() < 5) {
        return;
    }
    int port = std::atoi(lines[3].c_str());
    if (port > 0 && port != options_.port) {
        spdlog::warn("embedded postgres: running server on {} uses port {} instead of {}; using it until restarted",
                     pg_dir_.string(), port, options_.port);
        effective_port_ = port;
    }
    if (!lines[4].empty() && fs::path(lines[4]) != socket_dir_) {
        spdlog::warn("embedded postgres: running server on {} has its socket in {} instead of {}; using it until "
                     "restarted",
                     pg_dir_.string(), lines[4], socket_dir_.string());
        effective_socket_dir_ = lines[4];
    }
}

void EmbeddedPostgres::launch_server() {
    fs::path log_file = pg_dir_ / "server.log";
    ProcessResult result = run_process({(options_.bin_dir / "pg_ctl").string(), "-D", pg_dir_.string(), "-l",
                                        log_file.string(), "-w", "-t", "60", "start"},
                                       run_as_);
    if (result.exit_code != 0) {
        throw std::runtime_error("embedded postgres: pg_ctl start of " + pg_dir_.string() + " failed (exit code " +
                                 std::to_string(result.exit_code) + "):\n" + trim_trailing(result.output) +
                                 "\nlast lines of " + log_file.string() + ":\n" +
                                 trim_trailing(tail_lines(log_file, 20)));
    }
    started_by_us_ = true;
    spdlog::info("embedded postgres: started the server on {} (socket {}, port {})", pg_dir_.string(),
                 socket_dir_.string(), options_.port);
}

void EmbeddedPostgres::ensure_database() {
    std::string admin = conninfo("postgres");
    auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
    while (true) {
        PGPing ping = PQping(admin.c_str());
        if (ping == PQPING_OK) {
            break;
        }
        if (ping == PQPING_NO_ATTEMPT) {
            throw std::runtime_error("embedded postgres: invalid connection string: " + admin);
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            throw std::runtime_error("embedded postgres: server on " + pg_dir_.string() +
                                     " did not accept connections within 60 s (" + admin + ")");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }

    ConnPtr conn(PQconnectdb(admin.c_str()));
    if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
        throw std::runtime_error("embedded postgres: cannot connect with '" + admin +
                                 "': " + (conn ? trim_trailing(PQerrorMessage(conn.get())) : "out of memory"));
    }

    const char* params[] = {options_.database.c_str()};
    ResultPtr found(PQexecParams(conn.get(), "SELECT 1 FROM pg_database WHERE datname = $1", 1, nullptr, params,
                                 nullptr, nullptr, 0));
    if (PQresultStatus(found.get()) != PGRES_TUPLES_OK) {
        throw std::runtime_error("embedded postgres: cannot query pg_database: " +
                                 trim_trailing(PQerrorMessage(conn.get())));
    }
    if (PQntuples(found.get()) > 0) {
        return;
    }

    std::unique_ptr<char, decltype(&PQfreemem)> ident(
        PQescapeIdentifier(conn.get(), options_.database.c_str(), options_.database.size()), &PQfreemem);
    if (!ident) {
        throw std::runtime_error("embedded postgres: cannot quote database name '" + options_.database +
                                 "': " + trim_trailing(PQerrorMessage(conn.get())));
    }
    std::string sql = std::string("CREATE DATABASE ") + ident.get();
    ResultPtr created(PQexec(conn.get(), sql.c_str()));
    if (PQresultStatus(created.get()) != PGRES_COMMAND_OK) {
        const char* state = PQresultErrorField(created.get(), PG_DIAG_SQLSTATE);
        if (state != nullptr && std::strcmp(state, "42P04") == 0) {
            return;
        }
        throw std::runtime_error("embedded postgres: CREATE DATABASE " + std::string(ident.get()) +
                                 " failed: " + trim_trailing(PQerrorMessage(conn.get())));
    }
    spdlog::info("embedded postgres: created database {}", options_.database);
}

void EmbeddedPostgres::run_checked(const std::vector<std::string>& argv, const std::string& what) const {
    ProcessResult result = run_process(argv, run_as_);
    if (result.exit_code != 0) {
        throw std::runtime_error("embedded postgres: cannot " + what + " (" + pg_dir_.string() + ", exit code " +
                                 std::to_string(result.exit_code) + "):\n" + trim_trailing(result.output));
    }
}

}  // namespace carbon::store
