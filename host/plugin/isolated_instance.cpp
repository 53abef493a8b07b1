#include "plugin/isolated_instance.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>

#include "config/duration.hpp"
#include "plugin/worker.hpp"
#include "plugin/worker_protocol.hpp"
#include "util/clock.hpp"

namespace siphon {
namespace {

using worker::Received;
using worker::Writer;

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(sig);
    return std::string("killed by signal ") + (abbrev ? std::string("SIG") + abbrev : "?") + " (" +
           strsignal(sig) + ")";
  }
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "ended";
}

// The worker's environment: what the dynamic loader and the C library need,
// and the sanitizer settings of a sanitizer build; nothing else (no
// credentials the host may hold in its own environment).
std::vector<std::string> worker_environment() {
  std::vector<std::string> env;
  for (const char* name : {"PATH", "LD_LIBRARY_PATH", "TZ", "LANG", "LC_ALL", "TMPDIR",
                           "ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS"})
    if (const char* v = std::getenv(name)) env.push_back(std::string(name) + "=" + v);
  return env;
}

}  // namespace

IsolatedInstance::IsolatedInstance(const AppTypeInfo& type, const AppConfig& app,
                                   std::vector<std::pair<std::string, std::string>> auth,
                                   HttpService* http, StopSignal* stop, const Redactor& redactor)
    : plugin_file_(type.plugin ? type.plugin->file : ""),
      plugin_sha256_(type.plugin ? type.plugin->sha256 : ""),
      plugin_image_(type.plugin ? type.plugin->image : nullptr),
      plugin_name_(type.plugin ? type.plugin->name : type.type),
      type_name_(type.type),
      app_name_(app.name),
      options_(app.options),
      auth_(std::move(auth)),
      timeout_ms_(app.poll_timeout_ms),
      http_(http),
      stop_(stop),
      redactor_(redactor) {}

IsolatedInstance::~IsolatedInstance() { shut_down(); }

void IsolatedInstance::shut_down() {
  if (fd_ >= 0) {
    ::close(fd_);  // the worker destroys its instance and exits
    fd_ = -1;
  }
  if (pid_ > 0) reap(3000);
  pid_ = -1;
  if (output_.joinable()) output_.join();
}

int IsolatedInstance::reap(int64_t wait_ms) {
  int status = 0;
  int64_t until = steady_ms() + wait_ms;
  for (;;) {
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) return status;
    if (r < 0 && errno != EINTR) return 0;
    if (steady_ms() >= until) break;
    ::usleep(10000);
  }
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

bool IsolatedInstance::start(std::string& why) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    why = std::string("cannot make a socket for the plugin worker: ") + strerror(errno);
    return false;
  }
  // Above the fds the child's file actions write, so that dup2 always copies.
  int child_end = ::fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
  ::close(sv[1]);
  // The plugin's sealed image, the bytes the host checked, goes to the
  // worker as its fd kImageFd; the worker never opens the plugin file.
  int image_end = plugin_image_ ? ::fcntl(plugin_image_->fd, F_DUPFD_CLOEXEC, 10) : -1;
  if (image_end < 0) {
    why = plugin_image_
              ? std::string("cannot hand the plugin image to the worker: ") + strerror(errno)
              : std::string("the plugin has no checked image to hand to a worker");
    ::close(sv[0]);
    if (child_end >= 0) ::close(child_end);
    return false;
  }
  int out[2];
  if (child_end < 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    why = std::string("cannot make a pipe for the plugin worker: ") + strerror(errno);
    ::close(sv[0]);
    ::close(image_end);
    if (child_end >= 0) ::close(child_end);
    return false;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, out[1], 2);
  posix_spawn_file_actions_adddup2(&fa, child_end, worker::kWorkerFd);
  posix_spawn_file_actions_adddup2(&fa, image_end, worker::kImageFd);
  posix_spawn_file_actions_addclosefrom_np(&fa, worker::kImageFd + 1);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Own process group: a terminal's Ctrl-C reaches the host, which stops
  // the worker itself. Signals the host blocks are unblocked and default.
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, defaults;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGPIPE, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  std::vector<std::string> args{"siphon", kWorkerCommand, app_name_};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = worker_environment();
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, "/proc/self/exe", &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(child_end);
  ::close(image_end);
  ::close(out[1]);
  if (rc != 0) {
    ::close(sv[0]);
    ::close(out[0]);
    why = std::string("cannot start the plugin worker: ") + strerror(rc);
    return false;
  }
  pid_ = pid;
  fd_ = sv[0];
  output_ = std::thread([fd = out[0], app = app_name_, redactor = redactor_, pid] {
    std::string pending;
    char buf[4096];
    auto emit = [&](const std::string& line) {
      if (!line.empty())
        log_line(LogLevel::kWarn, app,
                 "plugin worker " + std::to_string(pid) + ": " + redactor.apply(line));
    };
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      pending.append(buf, static_cast<size_t>(n));
      for (size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
        emit(pending.substr(0, nl));
        pending.erase(0, nl + 1);
      }
      if (pending.size() > 8192) {
        emit(pending);
        pending.clear();
      }
    }
    emit(pending);
    ::close(fd);
  });
  log_line(LogLevel::kInfo, app_name_,
           "plugin worker started (pid " + std::to_string(pid_) + ", plugin " + plugin_name_ + ")");
  return true;
}

void IsolatedInstance::lose(const char* what, const std::string& cause, bool kill_first) {
  pid_t pid = pid_;
  if (kill_first) ::kill(pid_, SIGKILL);
  int status = reap(kill_first ? 5000 : 2000);
  pid_ = -1;
  shut_down();
  std::string head = "app " + app_name_ + ": plugin " + plugin_name_ + " (worker pid " +
                     std::to_string(pid) + ") ";
  if (cause.empty())
    failure_ = head + "crashed during " + what + ": " + describe_exit(status);
  else
    failure_ = head + cause + "; the worker was killed";
}

bool IsolatedInstance::exchange(const std::string& request, uint8_t want, const char* what,
                                std::string& answer) {
  if (!failure_.empty()) return false;
  if (!worker::send_frame(fd_, request)) {
    lose(what, "", false);
    return false;
  }
  int64_t deadline = steady_ms() + timeout_ms_;
  int64_t stop_deadline = -1;
  std::string why;
  auto give_up = [&] {
    int64_t now = steady_ms();
    if (stop_ && stop_->requested() && stop_deadline < 0) stop_deadline = now + kStopGraceMs;
    if (stop_deadline >= 0 && now >= stop_deadline) {
      why = std::string("did not finish ") + what + " within " +
            format_duration(kStopGraceMs / 1000) + " of the stop request";
      return true;
    }
    if (now >= deadline) {
      why = std::string("did not return from ") + what + " within " +
            format_duration(timeout_ms_ / 1000) + " (poll_timeout)";
      return true;
    }
    return false;
  };
  for (;;) {
    std::string msg;
    Received got = worker::recv_frame(fd_, msg, give_up);
    if (got == Received::kClosed) {
      lose(what, "", false);
      return false;
    }
    if (got == Received::kGaveUp) {
      lose(what, why, true);
      return false;
    }
    if (got == Received::kBad) {
      lose(what, "sent a message over the size limit", true);
      return false;
    }
    uint8_t type = static_cast<uint8_t>(msg[0]);
    std::string_view body = std::string_view(msg).substr(1);
    if (type == want) {
      answer = std::move(msg);
      return true;
    }
    if (type == worker::kHttp) {
      serve_http(body);
    } else if (type == worker::kLog) {
      worker::Reader r(body);
      int32_t level = r.i32();
      std::string text(r.str());
      LogLevel l = LogLevel::kInfo;
      if (level >= SIPHON_LOG_TRACE && level <= SIPHON_LOG_ERROR) l = static_cast<LogLevel>(level);
      if (r.ok()) log_line(l, app_name_, redactor_.apply(text));
    } else if (type == worker::kNow) {
      worker::send_frame(fd_, Writer(worker::kNowReply).i64(now_ms()).bytes());
    } else {
      lose(what, "broke the worker protocol (message " + std::to_string(type) + ")", true);
      return false;
    }
  }
}

void IsolatedInstance::serve_http(std::string_view message) {
  worker::Reader r(message);
  HttpRequest req;
  req.method = std::string(r.str());
  req.url = std::string(r.str());
  req.headers = r.pairs();
  req.body = std::string(r.str());
  HttpResponse resp;
  siphon_status st = SIPHON_ERROR;
  if (!r.ok()) {
    resp.error = "malformed request from the plugin worker";
  } else if (http_ == nullptr) {
    resp.error = "no network while validating";
  } else {
    st = http_->send(req, resp, stop_, &policy_);
    if (log_enabled(LogLevel::kDebug))
      log_line(LogLevel::kDebug, app_name_,
               req.method + " " + redactor_.apply(req.url.substr(0, req.url.find('?'))) + " -> " +
                   std::to_string(resp.status) + (resp.error.empty() ? "" : " " + resp.error));
  }
  worker::Pairs headers(resp.headers.begin(), resp.headers.end());
  worker::send_frame(fd_, Writer(worker::kHttpReply)
                              .i32(st)
                              .i32(resp.status)
                              .pairs(headers)
                              .str(resp.body)
                              .str(resp.error)
                              .bytes());
}

std::string IsolatedInstance::create(bool validate_only) {
  std::string why;
  if (!start(why)) {
    failure_ = "app " + app_name_ + ": plugin " + plugin_name_ + ": " + why;
    return failure_;
  }
  Writer init(worker::kInit);
  init.str(plugin_file_)
      .str(plugin_sha256_)
      .u8(plugin_image_ && plugin_image_->sealed ? 1 : 0)
      .str(type_name_)
      .str(app_name_)
      .pairs(auth_)
      .pairs(options_)
      .u8(validate_only ? 1 : 0);
  std::string answer;
  if (!exchange(init.bytes(), worker::kCreated, "create", answer)) return failure_;
  worker::Reader r(std::string_view(answer).substr(1));
  siphon_status st = r.i32();
  std::string error(r.str());
  if (!r.ok()) {
    lose("create", "sent a malformed answer", true);
    return failure_;
  }
  if (st != SIPHON_OK) return redactor_.apply(error.empty() ? "no reason given" : error);
  return "";
}

PollOutcome IsolatedInstance::poll(const std::string& cursor, int64_t start_time_ms,
                                   uint32_t poll_index) {
  PollOutcome out;
  Writer req(worker::kPoll);
  req.str(cursor).i64(start_time_ms).u32(poll_index);
  if (!exchange(req.bytes(), worker::kPolled, "poll", answer_)) {
    out.error = failure_;
    return out;
  }
  worker::Reader r(std::string_view(answer_).substr(1));
  out.status = r.i32();
  out.error = redactor_.apply(std::string(r.str()));
  uint32_t count = r.u32();
  for (uint32_t i = 0; i < count && r.ok(); ++i) out.events.push_back(r.str());
  out.next_cursor = std::string(r.str());
  out.has_more = r.u8() != 0;
  out.newest_event_time_ms = r.i64();
  out.duplicates_dropped = r.i64();
  if (!r.ok()) {
    lose("poll", "sent a malformed answer", true);
    return PollOutcome{SIPHON_ERROR, failure_, {}, {}, false, 0, 0};
  }
  return out;
}

uint32_t IsolatedInstance::sleep_seconds(uint32_t polls_done) {
  std::string answer;
  if (!exchange(Writer(worker::kSleep).u32(polls_done).bytes(), worker::kSlept, "sleep_seconds",
                answer))
    return 0;
  worker::Reader r(std::string_view(answer).substr(1));
  return r.u32();
}

}  // namespace siphon
