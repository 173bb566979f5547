#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace carbon::store {

/// PostgreSQL settings as (name, value) pairs, in the order they are written.
using Settings = std::vector<std::pair<std::string, std::string>>;

/// Configuration of a PostgreSQL cluster owned by carbond.
struct EmbeddedPostgresOptions {
    /// carbond's data directory; the cluster lives in data_dir/"pg", its Unix socket in data_dir/"pg"/"socket".
    std::filesystem::path data_dir;
    /// OS user running PostgreSQL; empty = "postgres" when running as root, else the current user.
    std::string os_user;
    /// Directory holding initdb/pg_ctl; empty = highest /usr/lib/postgresql/<N>/bin, else where `initdb` in PATH resolves to.
    std::filesystem::path bin_dir;
    /// Port number; with listen_addresses='' it only names the Unix socket file.
    int port = 5432;
    /// Database created on start() if missing and named by conninfo().
    std::string database = "carbond";
    /// PostgreSQL settings written into the cluster's carbond.conf on every start, after
    /// kJournalSettings (so a name given here overrides the default). Values are written quoted.
    Settings settings;
};

/// The server settings an embedded cluster gets by default, for a write-mostly journal: WAL
/// and checkpoints sized so a sustained load of group commits does not checkpoint every few
/// seconds (each checkpoint makes the next write of every page log the whole page, and its
/// writes compete with the commits). Durability settings (fsync, synchronous_commit,
/// full_page_writes) keep PostgreSQL's safe defaults.
inline const Settings kJournalSettings = {
    {"shared_buffers", "256MB"},
    {"wal_buffers", "32MB"},
    {"max_wal_size", "8GB"},
    {"min_wal_size", "1GB"},
    {"checkpoint_timeout", "15min"},
    {"checkpoint_completion_target", "0.9"},
};

/// A PostgreSQL cluster under carbond's data dir, reachable only through a private Unix socket, superuser "carbond".
class EmbeddedPostgres {
public:
    /// Resolves os_user and bin_dir without touching the disk; throws std::runtime_error on invalid options or missing PostgreSQL binaries.
    explicit EmbeddedPostgres(EmbeddedPostgresOptions options);
    /// Stops the server if this object started it and detach() was not called; never throws.
    ~EmbeddedPostgres();

    EmbeddedPostgres(const EmbeddedPostgres&) = delete;
    EmbeddedPostgres& operator=(const EmbeddedPostgres&) = delete;

    /// Creates the cluster if needed, starts it (or reuses an already running one) and ensures options.database exists; throws std::runtime_error on failure.
    void start();
    /// Stops the server with pg_ctl -m fast if this object started it; idempotent, throws std::runtime_error if pg_ctl fails.
    void stop();
    /// Crashes the server this object started: pg_ctl stop -m immediate (every process quits at once, no
    /// checkpoint; the next start() recovers from the WAL). For crash tests. Throws if pg_ctl fails.
    void stop_immediately();
    /// Stops the cluster's server whoever started it; does nothing if it is not running or was never created.
    void stop_any();
    /// Makes the destructor leave a server started by this object running.
    void detach();
    /// libpq connection string for options.database as user carbond over the Unix socket.
    std::string conninfo() const;
    /// libpq connection string for `dbname` as user carbond over the Unix socket.
    std::string conninfo(const std::string& dbname) const;
    /// True if start() launched the server (rather than reusing a running one) and it has not been stopped since.
    bool started_by_us() const;

private:
    void prepare_directories();
    void init_cluster();
    void write_config();
    bool server_running() const;
    void adopt_running_server_settings();
    void launch_server();
    void ensure_database();
    void run_checked(const std::vector<std::string>& argv, const std::string& what) const;

    EmbeddedPostgresOptions options_;
    std::filesystem::path pg_dir_;
    std::filesystem::path socket_dir_;
    std::string run_as_;
    std::filesystem::path effective_socket_dir_;
    int effective_port_;
    bool started_by_us_ = false;
    bool detached_ = false;
};

}  // namespace carbon::store
