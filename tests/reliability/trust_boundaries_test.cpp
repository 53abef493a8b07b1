// Where untrusted bytes cross into siphon, end to end with the real binary:
// a pinned plugin swapped on disk while `siphon run` has a worker to
// restart, frame headers that claim more than they carry on the worker
// socket, and secret files that are not what they seem.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "harness.hpp"

using siphon::testing::count_of;
using siphon::testing::wait_child;
using siphon::testing::wait_until;
using siphon::testing::Workdir;

namespace {

namespace fs = std::filesystem;

constexpr const char* kToken = "tok-trust-boundaries";

std::string sha256_hex(const std::string& path) {
  std::string cmd = "sha256sum '" + path + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[65] = {};
  size_t n = p ? std::fread(buf, 1, 64, p) : 0;
  if (p) ::pclose(p);
  return std::string(buf, n);
}

// A pinned copy of siphon-fault.so in plugins/ of the work folder; the app
// runs it in a worker process that crashes at page 1 while `armed` exists.
class PinnedWorker : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.file("plugins"));
    ::chmod(dir_.file("plugins").c_str(), 0755);
    fs::copy_file(std::string(SIPHON_FAULT_PLUGIN_DIR) + "/siphon-fault.so", plugin());
    ::chmod(plugin().c_str(), 0755);
    dir_.write("plugins.pin", sha256_hex(plugin()) + "  siphon-fault.so\n");
    dir_.write("armed", "");
    dir_.write("siphon.yaml",
               "plugin_dirs: [plugins]\n"
               "plugin_pin: plugins.pin\n"
               "state: sqlite:state.db\n"
               "log_level: debug\n"
               "sinks:\n  - name: out\n    type: file\n    path: events.jsonl\n"
               "apps:\n"
               "  - name: pinned\n    type: fault_events\n    isolation: process\n"
               "    interval: 1s\n    auth:\n      token: " +
                   std::string(kToken) +
                   "\n    options:\n      fault: segv\n      pages: \"0\"\n"
                   "      fault_file: " +
                   dir_.file("armed") + "\n");
  }
  std::string plugin() const { return dir_.file("plugins/siphon-fault.so"); }

  Workdir dir_;
};

TEST_F(PinnedWorker, ARestartedWorkerRunsTheBytesTheHostCheckedNotAFileSwappedSince) {
  pid_t pid = dir_.spawn({"run"}, "run");
  ASSERT_TRUE(wait_until(
      [&] { return dir_.read("events.jsonl").find("\"page\":0") != std::string::npos; }, 30))
      << dir_.read("run.err");

  // Swap the pinned file for another build of the same plugin, whose events
  // say "variant":"swapped".
  fs::copy_file(std::string(SIPHON_FAULT_VARIANT_DIR) + "/siphon-fault-variant.so",
                plugin() + ".new");
  ::chmod((plugin() + ".new").c_str(), 0755);
  ASSERT_EQ(::rename((plugin() + ".new").c_str(), plugin().c_str()), 0);
  auto listed = dir_.siphon({"plugins"});
  EXPECT_NE(listed.out.find("is not listed in plugin pin file"), std::string::npos)
      << "the swapped file is refused when loaded anew: " << listed.out;

  // A crash after the swap: the worker started next serves page 1.
  size_t crashes = count_of(dir_.read("run.err"), "crashed during poll");
  ASSERT_TRUE(wait_until(
      [&] { return count_of(dir_.read("run.err"), "crashed during poll") > crashes; }, 30))
      << dir_.read("run.err");
  ::unlink(dir_.file("armed").c_str());
  EXPECT_TRUE(wait_until(
      [&] { return dir_.read("events.jsonl").find("pinned-p2-0") != std::string::npos; }, 30))
      << dir_.read("run.err");
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_child(pid, 30), 0);
  std::string events = dir_.read("events.jsonl");
  EXPECT_EQ(events.find("\"variant\""), std::string::npos) << "the swapped file never ran:\n"
                                                           << events;
  EXPECT_NE(events.find("pinned-p1-0"), std::string::npos) << events;
  EXPECT_GE(count_of(dir_.read("run.err"), "plugin worker started"), 2u);
}

// A worker process started the way the host starts one, with the test at
// the other end of its socket.
struct Worker {
  pid_t pid = -1;
  int fd = -1;
  Worker() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return;
    pid = ::fork();
    if (pid == 0) {
      ::dup2(sv[1], 3);
      int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::execl(SIPHON_BIN, "siphon", "__plugin-worker", "probe", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(sv[1]);
    fd = sv[0];
  }
  void send(const std::string& bytes) const {
    for (size_t off = 0; off < bytes.size();) {
      ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }
  // Waits up to timeout_s for the worker to exit by itself; kills it after.
  // Returns whether it exited by itself, and its peak RSS in KiB.
  bool exited(int timeout_s, long& max_rss_kib) {
    rusage ru{};
    int status = 0;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (std::chrono::steady_clock::now() < until) {
      if (::wait4(pid, &status, WNOHANG, &ru) == pid) {
        max_rss_kib = ru.ru_maxrss;
        pid = -1;
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid, SIGKILL);
    ::wait4(pid, &status, 0, &ru);
    max_rss_kib = ru.ru_maxrss;
    pid = -1;
    return false;
  }
  ~Worker() {
    if (fd >= 0) ::close(fd);
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

std::string frame_header(uint32_t length, uint8_t type) {
  std::string h;
  for (int i = 0; i < 4; ++i) h.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
  h.push_back(static_cast<char>(type));
  return h;
}

constexpr uint32_t k900MiB = 900u * 1024u * 1024u;

TEST(WorkerFrames, AControlFrameClaimingHundredsOfMegabytesIsRefusedAtOnce) {
  Worker w;
  ASSERT_GT(w.pid, 0);
  w.send(frame_header(k900MiB, 1 /* kInit */));
  long rss_kib = 0;
  EXPECT_TRUE(w.exited(10, rss_kib)) << "the worker refuses the frame instead of waiting for it";
  EXPECT_LT(rss_kib, 200 * 1024) << "no buffer sized from the header";
}

TEST(WorkerFrames, ALargeFrameGrowsItsBufferOnlyAsItsDataArrives) {
  Worker w;
  ASSERT_GT(w.pid, 0);
  // A response frame may be large, but only 1 MiB of the 900 claimed comes.
  w.send(frame_header(k900MiB, 4 /* kHttpReply */) + std::string(1024 * 1024, 'x'));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::shutdown(w.fd, SHUT_RDWR);
  long rss_kib = 0;
  EXPECT_TRUE(w.exited(10, rss_kib));
  EXPECT_LT(rss_kib, 200 * 1024) << "peak RSS " << rss_kib << " KiB";
}

// A fault_events app whose token is `token_ref`, checked by `siphon check`.
class SecretFiles : public ::testing::Test {
 protected:
  void configure(const std::string& token_ref) {
    dir_.write("siphon.yaml", std::string("plugin_dirs: [") + SIPHON_FAULT_PLUGIN_DIR +
                                  "]\nstate: sqlite:state.db\napps:\n"
                                  "  - name: probe\n    type: fault_events\n    auth:\n"
                                  "      token: " +
                                  token_ref + "\n");
  }
  Workdir dir_;
};

TEST_F(SecretFiles, TheSizeLimitHoldsForWhatIsReadNotWhatStatReported) {
  // /proc/self/environ reports a size of 0 and reads as siphon's whole
  // environment, here over 1 MiB.
  configure("${file:/proc/self/environ}");
  auto r = dir_.siphon_with({"check"}, [] {
    for (int i = 0; i < 12; ++i)
      ::setenv(("SIPHON_TEST_BULK_" + std::to_string(i)).c_str(),
               std::string(100 * 1024, 'a' + i).c_str(), 1);
  });
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("field auth.token: secret file /proc/self/environ is larger than 1 MiB"),
            std::string::npos)
      << r.out.substr(0, 2000);
}

TEST_F(SecretFiles, AFifoIsRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo(dir_.file("token.fifo").c_str(), 0600), 0);
  configure("${file:token.fifo}");
  auto started = std::chrono::steady_clock::now();
  auto r = dir_.siphon({"check"}, 20);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("token.fifo is not a regular file"), std::string::npos) << r.out;
}

}  // namespace
