// Runs the real siphon binary with text piped to its standard input, and
// through a pseudo-terminal (for prompts read without echo).
#ifndef SIPHON_TESTS_RELIABILITY_PIPED_SIPHON_HPP
#define SIPHON_TESTS_RELIABILITY_PIPED_SIPHON_HPP

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "harness.hpp"

namespace siphon::testing {

// siphon --config <dir>/siphon.yaml ARGS < input, run in `dir`.
inline Result siphon_with_input(const Workdir& dir, const std::vector<std::string>& args,
                                const std::string& input, int timeout_s = 60) {
  static int counter = 0;
  std::string name = "piped" + std::to_string(++counter);
  dir.write(name + ".in", input);
  std::vector<std::string> argv_s{SIPHON_BIN, "--config", dir.file("siphon.yaml")};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  pid_t pid = ::fork();
  if (pid == 0) {
    int i = ::open(dir.file(name + ".in").c_str(), O_RDONLY);
    int o = ::open(dir.file(name + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = ::open(dir.file(name + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(i, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    if (::chdir(dir.path().c_str()) != 0) ::_exit(126);
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  Result r;
  r.exit_code = wait_child(pid, timeout_s);
  r.out = dir.read(name + ".out");
  r.err = dir.read(name + ".err");
  return r;
}

// A siphon process on a pseudo-terminal: stdin, stdout and stderr are the
// terminal, as for an operator at a shell.
class TerminalSiphon {
 public:
  TerminalSiphon(const Workdir& dir, const std::vector<std::string>& args) {
    std::vector<std::string> argv_s{SIPHON_BIN, "--config", dir.file("siphon.yaml")};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    pid_ = ::forkpty(&master_, nullptr, nullptr, nullptr);
    if (pid_ == 0) {
      if (::chdir(dir.path().c_str()) != 0) ::_exit(126);
      std::vector<char*> argv;
      for (auto& s : argv_s) argv.push_back(s.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~TerminalSiphon() {
    if (pid_ > 0 && exit_code_ < 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) ::close(master_);
  }

  // Reads what the terminal shows until `text` appears (true) or timeout.
  bool wait_for(const std::string& text, int timeout_ms = 20000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (screen_.find(text, seen_) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0 || !read_some(static_cast<int>(left))) return false;
    }
    seen_ = screen_.find(text, seen_) + text.size();
    return true;
  }
  void type(const std::string& text) {
    ssize_t n = ::write(master_, text.data(), text.size());
    (void)n;
  }
  // Reads to the end and waits for the process.
  int finish(int timeout_s = 30) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (std::chrono::steady_clock::now() < deadline && read_some(200)) {
    }
    exit_code_ = wait_child(pid_, timeout_s);
    while (read_some(50)) {
    }
    return exit_code_;
  }
  const std::string& screen() const { return screen_; }

 private:
  bool read_some(int timeout_ms) {
    struct pollfd p {
      master_, POLLIN, 0
    };
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[4096];
    ssize_t n = ::read(master_, buf, sizeof(buf));
    if (n <= 0) return false;
    screen_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int master_ = -1;
  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::string screen_;
  size_t seen_ = 0;
};

}  // namespace siphon::testing

#endif
