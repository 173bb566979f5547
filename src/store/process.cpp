#include "store/process.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace carbon::store {
namespace {

struct TargetUser {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string home;
    std::vector<gid_t> groups;
};

TargetUser lookup_user(const std::string& name) {
    long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buf(hint > 0 ? static_cast<std::size_t>(hint) : 16384);
    passwd pw{};
    passwd* found = nullptr;
    int rc = 0;
    while ((rc = getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found)) == ERANGE) {
        buf.resize(buf.size() * 2);
    }
    if (rc != 0) {
        throw std::runtime_error("run_process: cannot look up OS user '" + name + "': " + std::strerror(rc));
    }
    if (found == nullptr) {
        throw std::runtime_error("run_process: OS user '" + name + "' does not exist");
    }
    TargetUser user;
    user.name = name;
    user.uid = pw.pw_uid;
    user.gid = pw.pw_gid;
    user.home = pw.pw_dir != nullptr ? pw.pw_dir : "/";

    int count = 16;
    user.groups.resize(static_cast<std::size_t>(count));
    while (getgrouplist(name.c_str(), user.gid, user.groups.data(), &count) < 0) {
        user.groups.resize(static_cast<std::size_t>(count) + 16);
        count = static_cast<int>(user.groups.size());
    }
    user.groups.resize(static_cast<std::size_t>(count));
    return user;
}

bool is_executable_file(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string resolve_executable(const std::string& name) {
    if (name.find('/') != std::string::npos) {
        return name;
    }
    const char* env_path = std::getenv("PATH");
    std::string_view path = env_path != nullptr && *env_path != '\0' ? env_path : "/usr/local/bin:/usr/bin:/bin";
    while (true) {
        std::size_t colon = path.find(':');
        std::string_view dir = path.substr(0, colon);
        std::string candidate = dir.empty() ? name : std::string(dir) + "/" + name;
        if (is_executable_file(candidate)) {
            return candidate;
        }
        if (colon == std::string_view::npos) {
            return {};
        }
        path.remove_prefix(colon + 1);
    }
}

std::vector<std::string> child_environment(const TargetUser* user) {
    std::vector<std::string> env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        std::string_view entry(*e);
        if (user != nullptr &&
            (entry.starts_with("HOME=") || entry.starts_with("USER=") || entry.starts_with("LOGNAME="))) {
            continue;
        }
        env.emplace_back(entry);
    }
    if (user != nullptr) {
        env.push_back("HOME=" + user->home);
        env.push_back("USER=" + user->name);
        env.push_back("LOGNAME=" + user->name);
    }
    return env;
}

std::vector<char*> to_c_array(std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (auto& s : strings) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

// Async-signal-safe: used in the child between fork and exec.
[[noreturn]] void child_fail(const char* step) {
    int err = errno;
    char buf[160];
    std::size_t len = 0;
    auto put = [&](const char* s) {
        while (*s != '\0' && len < sizeof(buf) - 1) {
            buf[len++] = *s++;
        }
    };
    put("run_process: ");
    put(step);
    put(" failed, errno ");
    char digits[16];
    int n = 0;
    unsigned value = static_cast<unsigned>(err);
    do {
        digits[n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0 && n < 15);
    while (n > 0 && len < sizeof(buf) - 1) {
        buf[len++] = digits[--n];
    }
    buf[len++] = '\n';
    ssize_t ignored = ::write(STDERR_FILENO, buf, len);
    (void)ignored;
    _exit(127);
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& run_as) {
    if (argv.empty()) {
        throw std::runtime_error("run_process: empty argv");
    }

    const bool switch_user = !run_as.empty() && ::geteuid() == 0;
    TargetUser user;
    if (switch_user) {
        user = lookup_user(run_as);
    }

    std::string exe = resolve_executable(argv[0]);
    if (exe.empty()) {
        return ProcessResult{127, argv[0] + ": command not found in PATH\n"};
    }

    std::vector<std::string> args = argv;
    std::vector<char*> c_args = to_c_array(args);
    std::vector<std::string> env = child_environment(switch_user ? &user : nullptr);
    std::vector<char*> c_env = to_c_array(env);
    long max_fd_hint = sysconf(_SC_OPEN_MAX);
    int max_fd = max_fd_hint > 0 && max_fd_hint < 65536 ? static_cast<int>(max_fd_hint) : 65536;

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw std::runtime_error(std::string("run_process: pipe failed: ") + std::strerror(errno));
    }

    pid_t pid = ::fork();
    if (pid < 0) {
        int err = errno;
        ::close(fds[0]);
        ::close(fds[1]);
        throw std::runtime_error(std::string("run_process: fork failed: ") + std::strerror(err));
    }

    if (pid == 0) {
        sigset_t empty;
        sigemptyset(&empty);
        sigprocmask(SIG_SETMASK, &empty, nullptr);
        struct sigaction dfl{};
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        for (int sig = 1; sig < NSIG; ++sig) {
            if (sig != SIGKILL && sig != SIGSTOP) {
                sigaction(sig, &dfl, nullptr);
            }
        }

        if (::dup2(fds[1], STDOUT_FILENO) < 0 || ::dup2(fds[1], STDERR_FILENO) < 0) {
            _exit(127);
        }
        int devnull = ::open("/dev/null", O_RDONLY);
        if (devnull < 0 || ::dup2(devnull, STDIN_FILENO) < 0) {
            child_fail("redirecting stdin");
        }
        if (::close_range(3, ~0U, 0) != 0) {
            for (int fd = 3; fd < max_fd; ++fd) {
                ::close(fd);
            }
        }

        if (switch_user) {
            if (::setgroups(user.groups.size(), user.groups.data()) != 0) {
                child_fail("setgroups");
            }
            if (::setgid(user.gid) != 0) {
                child_fail("setgid");
            }
            if (::setuid(user.uid) != 0) {
                child_fail("setuid");
            }
            if (::chdir("/") != 0) {
                child_fail("chdir");
            }
        }
        ::execve(exe.c_str(), c_args.data(), c_env.data());
        child_fail("execve");
    }

    ::close(fds[1]);
    ProcessResult result;
    try {
        char buf[4096];
        while (true) {
            ssize_t n = ::read(fds[0], buf, sizeof(buf));
            if (n > 0) {
                result.output.append(buf, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                break;
            }
        }
    } catch (...) {
        ::close(fds[0]);
        int ignored = 0;
        while (::waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
        }
        throw;
    }
    ::close(fds[0]);

    int status = 0;
    pid_t waited = 0;
    while ((waited = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
    }
    if (waited < 0) {
        throw std::runtime_error(std::string("run_process: waitpid failed: ") + std::strerror(errno));
    }
    if (WIFEXITED(status)) {
        result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.exit_code = 128 + WTERMSIG(status);
    } else {
        result.exit_code = -1;
    }
    return result;
}

}  // namespace carbon::store
