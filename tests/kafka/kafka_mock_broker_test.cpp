// Drives the kafka_mock_broker helper through its stdin/stdout pipe, as the
// end-to-end tests of the siphon binary will, with a real KafkaProducer.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "sink/kafka_producer.hpp"

namespace siphon {
namespace {

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

std::vector<std::string> dump(MockBrokerProcess& broker, const std::string& topic) {
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

TEST(KafkaMockBrokerTest, ServesProducersAndObeysEachCommand) {
  MockBrokerProcess broker;
  std::string bootstraps = broker.read_line();
  ASSERT_EQ(bootstraps.rfind("127.0.0.1:", 0), 0u) << bootstraps;
  size_t entries = 1 + static_cast<size_t>(std::count(bootstraps.begin(), bootstraps.end(), ','));
  EXPECT_EQ(entries, 3u) << bootstraps;

  KafkaSettings settings;
  settings.bootstrap_servers = bootstraps;
  settings.delivery_timeout_ms = 2000;
  settings.ack_timeout_ms = 1000;
  settings.properties = {{"reconnect.backoff.ms", "20"},
                         {"reconnect.backoff.max.ms", "200"},
                         {"retry.backoff.ms", "20"}};
  KafkaProducer producer(settings);

  // Values with a tab, a newline and a backslash come back escaped.
  std::vector<KafkaProducer::Message> first = {
      {"k1", "plain"}, {"k2", "tab\there"}, {"k3", "line\nbreak\\"}};
  producer.send("corp-box", "box_admin_events", first);

  broker.write_line("errors 3");
  EXPECT_EQ(broker.read_line(), "ok");
  std::vector<KafkaProducer::Message> second = {{"k4", "after errors"}};
  producer.send("corp-box", "box_admin_events", second);

  EXPECT_EQ(dump(broker, "siphon-box_admin_events"),
            (std::vector<std::string>{"k1\tplain", "k2\ttab\\there", "k3\tline\\nbreak\\\\",
                                      "k4\tafter errors"}));
  EXPECT_TRUE(dump(broker, "siphon-no_such_topic").empty());

  broker.write_line("down");
  EXPECT_EQ(broker.read_line(), "ok");
  std::vector<KafkaProducer::Message> third = {{"k5", "while down"}};
  EXPECT_THROW(producer.send("corp-box", "box_admin_events", third), KafkaError);
  broker.write_line("up");
  EXPECT_EQ(broker.read_line(), "ok");
  producer.send("corp-box", "box_admin_events", third);
  auto lines = dump(broker, "siphon-box_admin_events");
  EXPECT_EQ(std::count(lines.begin(), lines.end(), "k5\twhile down"), 1);
  EXPECT_EQ(lines.size(), 5u);

  broker.write_line("errors many");
  EXPECT_EQ(broker.read_line().rfind("error: usage: errors N", 0), 0u);
  broker.write_line("launch");
  EXPECT_EQ(broker.read_line().rfind("error: unknown command launch", 0), 0u);

  broker.write_line("quit");
  EXPECT_EQ(broker.wait_exit(), 0);
}

}  // namespace
}  // namespace siphon
