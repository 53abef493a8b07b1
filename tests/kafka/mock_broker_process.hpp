// Drives the kafka_mock_broker helper (a mock Kafka cluster of 3 brokers on
// 127.0.0.1) as a child process through its stdin/stdout pipe: the first line
// it prints is the bootstrap list; commands: down, up, errors N, dump TOPIC,
// quit.
#ifndef SIPHON_TESTS_KAFKA_MOCK_BROKER_PROCESS_HPP
#define SIPHON_TESTS_KAFKA_MOCK_BROKER_PROCESS_HPP

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace siphon::testing {

// The helper as a child process: write() sends a command line, read_line()
// waits (bounded) for one line of its answer.
class MockBrokerProcess {
 public:
  MockBrokerProcess() {
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(to_child[0], 0);
      dup2(from_child[1], 1);
      close(to_child[0]);
      close(to_child[1]);
      close(from_child[0]);
      close(from_child[1]);
      execl(SIPHON_KAFKA_MOCK_BROKER, SIPHON_KAFKA_MOCK_BROKER, static_cast<char*>(nullptr));
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    in_ = to_child[1];
    out_ = from_child[0];
  }

  ~MockBrokerProcess() {
    if (in_ >= 0) close(in_);
    if (out_ >= 0) close(out_);
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  void write_line(const std::string& line) {
    std::string data = line + "\n";
    ASSERT_EQ(::write(in_, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  }

  // The next line, or "<timeout>" / "<eof>".
  std::string read_line(int timeout_ms = 15000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      if (size_t nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) return "<timeout>";
      pollfd pfd{out_, POLLIN, 0};
      if (poll(&pfd, 1, static_cast<int>(left)) <= 0) continue;
      char chunk[4096];
      ssize_t n = ::read(out_, chunk, sizeof chunk);
      if (n <= 0) return "<eof>";
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  // Exit status after `quit`, or -1.
  int wait_exit(int timeout_ms = 10000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      usleep(20000);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  bool reaped_ = false;
  std::string buffer_;
};

inline std::vector<std::string> dump(MockBrokerProcess& broker, const std::string& topic) {
  broker.write_line("dump " + topic);
  std::vector<std::string> lines;
  for (std::string line = broker.read_line(); line != "end"; line = broker.read_line()) {
    if (line == "<timeout>" || line == "<eof>" || line.rfind("error:", 0) == 0) {
      ADD_FAILURE() << "dump answered " << line;
      break;
    }
    lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

}  // namespace siphon::testing

#endif
