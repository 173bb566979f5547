// carbon_test_postgres start|stop <dir>: ctest fixture managing a throwaway PostgreSQL cluster in <dir>.

#include "store/embedded_postgres.h"

#include <stdexcept>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace {

constexpr int kTestPort = 5433;

int usage() {
    std::cerr << "usage: carbon_test_postgres start|stop <dir>\n"
                 "  start  initdb <dir>/pg if needed, start the server (port "
              << kTestPort
              << ", Unix socket only), write its conninfo (dbname=postgres) to <dir>/conninfo, leave it running\n"
                 "  stop   stop the server of <dir>/pg if it is running\n";
    return 2;
}

void write_conninfo(const std::filesystem::path& dir, const std::string& conninfo) {
    std::filesystem::path target = dir / "conninfo";
    std::filesystem::path tmp = dir / "conninfo.tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << conninfo;
        out.close();
        if (!out) {
            throw std::runtime_error("cannot write " + tmp.string());
        }
    }
    std::filesystem::rename(tmp, target);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        return usage();
    }
    const std::string command = argv[1];
    const std::filesystem::path dir = argv[2];
    if (command != "start" && command != "stop") {
        return usage();
    }

    try {
        auto logger = spdlog::stderr_color_st("carbon_test_postgres");
        logger->set_level(spdlog::level::warn);
        spdlog::set_default_logger(logger);

        carbon::store::EmbeddedPostgresOptions options;
        options.data_dir = dir;
        options.port = kTestPort;
        options.database = "postgres";
        carbon::store::EmbeddedPostgres postgres(options);

        if (command == "start") {
            postgres.start();
            postgres.detach();
            write_conninfo(dir, postgres.conninfo("postgres"));
        } else {
            postgres.stop_any();
            std::error_code ec;
            std::filesystem::remove(dir / "conninfo", ec);
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "carbon_test_postgres " << command << " " << dir.string() << ": " << e.what() << "\n";
        return 1;
    }
}
