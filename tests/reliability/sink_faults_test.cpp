// Faults on our side of the sink: a full disk (/dev/full), a file size limit
// (RLIMIT_FSIZE), a sink file the user may not write (as `nobody` when the
// tests run as root), a closed standard output and a reader that went away.
// Each time the run fails, nothing is committed, and the next run with a
// working sink delivers every event.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include "reliability_common.hpp"

using siphon::testing::BoxSetup;
using siphon::testing::Workdir;

namespace {

constexpr size_t kEvents = 300;

class SinkFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    setup_ = std::make_unique<BoxSetup>(dir_);
    setup_->box.add_events(kEvents, siphon::imitation::now_ms() - 3600 * 1000);
    good_config_ = dir_.read("siphon.yaml");
  }
  void use_sink_path(const std::string& path) {
    std::string yaml = good_config_;
    const std::string from = "path: events.jsonl";
    yaml.replace(yaml.find(from), from.size(), "path: " + path);
    dir_.write("siphon.yaml", yaml);
  }
  void use_stdout_sink() {
    std::string yaml = good_config_;
    const std::string from = "type: file\n    path: events.jsonl";
    yaml.replace(yaml.find(from), from.size(), "type: stdout");
    dir_.write("siphon.yaml", yaml);
  }
  // The failed run committed nothing; a good sink then receives every event once.
  void expect_recovery() {
    auto st = dir_.state("corp-box");
    EXPECT_STRNE(st["status"].GetString(), "succeeded");
    EXPECT_TRUE(st["cursor"].IsNull()) << "no cursor may be committed without delivery";
    EXPECT_EQ(st["events_total"].GetInt(), 0);
    dir_.write("siphon.yaml", good_config_);
    std::filesystem::remove(dir_.file("events.jsonl"));
    auto r = dir_.siphon({"once", "corp-box", "--since", "2h"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto ids = siphon::testing::count_by(dir_.events(), "corp-box", "event_id");
    EXPECT_EQ(ids.size(), kEvents);
    EXPECT_EQ(dir_.event_lines(), kEvents);
  }

  Workdir dir_;
  std::unique_ptr<BoxSetup> setup_;
  std::string good_config_;
};

TEST_F(SinkFaults, DiskFullFailsTheRunAndCommitsNothing) {
  use_sink_path("/dev/full");
  auto r = dir_.siphon({"once", "corp-box", "--since", "2h"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("corp-box"), std::string::npos) << r.err;
  expect_recovery();
}

TEST_F(SinkFaults, FileSizeLimitFailsTheRunAndLeavesNoPartialLine) {
  // 100 kB: the sink (about 300 x 600 bytes, 30 kB a page) reaches it long
  // before the state database does.
  auto r = dir_.siphon_with({"once", "corp-box", "--since", "2h"}, [] {
    struct rlimit lim {
      100000, 100000
    };
    ::setrlimit(RLIMIT_FSIZE, &lim);
  });
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("File too large"), std::string::npos) << r.err;
  // Whole pages only: every line in the file is complete JSON.
  std::string text = dir_.read("events.jsonl");
  EXPECT_TRUE(text.empty() || text.back() == '\n');
  size_t delivered = dir_.events().size();
  auto st = dir_.state("corp-box");
  EXPECT_EQ(static_cast<size_t>(st["events_total"].GetInt()), delivered)
      << "the cursor covers exactly what the sink holds";
  EXPECT_LT(delivered, kEvents);
  // A run without the limit continues from the cursor: every event, none twice.
  r = dir_.siphon({"once", "corp-box"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ids = siphon::testing::count_by(dir_.events(), "corp-box", "event_id");
  EXPECT_EQ(ids.size(), kEvents);
  EXPECT_EQ(dir_.event_lines(), kEvents);
}

TEST_F(SinkFaults, PermissionDeniedFailsTheRunAndCommitsNothing) {
  dir_.write("locked/events.jsonl", "", 0444);
  ::chmod(dir_.file("locked").c_str(), 0555);
  use_sink_path("locked/events.jsonl");
  std::function<void()> as_user;
  if (siphon::testing::is_root()) {
    siphon::testing::hand_to_nobody(dir_);
    ::chown(dir_.file("locked").c_str(), 0, 0);
    ::chown(dir_.file("locked/events.jsonl").c_str(), 0, 0);
    as_user = siphon::testing::become_nobody;
  }
  auto r = dir_.siphon_with({"once", "corp-box", "--since", "2h"}, as_user);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("locked/events.jsonl"), std::string::npos) << r.err;
  expect_recovery();
}

TEST_F(SinkFaults, ClosedStandardOutputFailsTheRun) {
  use_stdout_sink();
  auto r = dir_.siphon_with({"once", "corp-box", "--since", "2h"}, [] { ::close(1); });
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("standard output"), std::string::npos) << r.err;
  expect_recovery();
}

TEST_F(SinkFaults, AReaderThatWentAwayFailsTheRunWithoutKillingSiphon) {
  use_stdout_sink();
  auto r = dir_.siphon_with({"once", "corp-box", "--since", "2h"}, [] {
    int fds[2];
    if (::pipe(fds) != 0) ::_exit(124);
    ::close(fds[0]);  // nobody will read
    ::dup2(fds[1], 1);
    ::close(fds[1]);
  });
  EXPECT_EQ(r.exit_code, 1) << "exit, not SIGPIPE: " << r.err;
  EXPECT_NE(r.err.find("Broken pipe"), std::string::npos) << r.err;
  expect_recovery();
}

}  // namespace
