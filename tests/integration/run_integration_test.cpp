// `siphon run`, crashes and the command line, end to end.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "box_imitation.hpp"
#include "harness.hpp"

using siphon::imitation::BoxImitation;
using siphon::imitation::Fault;
using siphon::testing::BoxAccount;
using siphon::testing::count_by;
using siphon::testing::wait_child;
using siphon::testing::Workdir;

namespace {

class RunEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    box_ = std::make_unique<BoxAccount>(dir_);
    dir_.write_config(siphon::testing::box_app_yaml("corp-box", box_->base_url(),
                                                    "    interval: 1s\n", "      limit: \"50\"\n"));
  }
  void slow_pages(int delay_ms) {
    Fault slow;
    slow.delay_ms = delay_ms;
    slow.count = 1000000;
    slow.path_prefix = "/2.0/events";
    box_->inject(slow);
  }
  int64_t now() const { return siphon::imitation::now_ms(); }
  void wait_for_lines(size_t n, int timeout_s) {
    for (int i = 0; i < timeout_s * 50 && dir_.event_lines() < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  Workdir dir_;
  std::unique_ptr<BoxAccount> box_;
};

TEST_F(RunEndToEnd, RunPicksUpNewEventsAndStopsCleanlyOnSigterm) {
  box_->add_events(120, now() - 3600 * 1000);
  ASSERT_EQ(dir_.siphon({"state", "reset", "corp-box", "--since", "2h"}).exit_code, 0);
  pid_t pid = dir_.spawn({"run"}, "run");
  wait_for_lines(120, 20);
  EXPECT_EQ(dir_.event_lines(), 120u);
  box_->add_events(30, now());
  wait_for_lines(150, 20);
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_child(pid, 30), 0) << dir_.read("run.err");
  EXPECT_EQ(count_by(dir_.events(), "corp-box", "event_id").size(), 150u);
  EXPECT_EQ(dir_.event_lines(), 150u);
  std::string status = dir_.state("corp-box")["status"].GetString();
  EXPECT_TRUE(status == "succeeded" || status == "partial") << status;
  EXPECT_NE(dir_.read("run.err").find("app=corp-box"), std::string::npos);
}

TEST_F(RunEndToEnd, KillNineMidRunLosesNothingAndRepeatsAtMostOnePage) {
  box_->add_events(1000, now() - 3600 * 1000);
  slow_pages(40);
  ASSERT_EQ(dir_.siphon({"state", "reset", "corp-box", "--since", "2h"}).exit_code, 0);
  pid_t pid = dir_.spawn({"run"}, "run");
  wait_for_lines(300, 30);
  ::kill(pid, SIGKILL);
  wait_child(pid, 10);
  size_t before = dir_.event_lines();
  ASSERT_GT(before, 0u);
  ASSERT_LT(before, 1000u) << "the kill came too late to test anything";
  // Nothing stays stuck in `running` after the crash.
  EXPECT_STREQ(dir_.state("corp-box")["status"].GetString(), "failed");
  box_->clear_faults();
  auto r = dir_.siphon({"once", "corp-box"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ids = count_by(dir_.events(), "corp-box", "event_id");
  EXPECT_EQ(ids.size(), 1000u) << "every event arrived";
  size_t duplicates = dir_.event_lines() - ids.size();
  EXPECT_LE(duplicates, 50u) << "at most one page (50) delivered twice";
}

TEST_F(RunEndToEnd, ASecondProcessCannotRunTheSameApp) {
  box_->add_events(400, now() - 3600 * 1000);
  slow_pages(300);
  pid_t first = dir_.spawn({"once", "corp-box", "--since", "2h"}, "first");
  wait_for_lines(50, 20);
  auto second = dir_.siphon({"once", "corp-box"});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("already running"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("pid " + std::to_string(first)), std::string::npos) << second.err;
  ::kill(first, SIGTERM);
  EXPECT_EQ(wait_child(first, 30), 0);
  EXPECT_STREQ(dir_.state("corp-box")["status"].GetString(), "partial");
}

TEST(CommandLine, CheckReportsEachProblemOnOneLineWithoutSecrets) {
  Workdir dir;
  dir.write("secrets/skey", "SECRETsecretSECRETsecretSECRETsecret!!!!", 0600);
  dir.write_config(
      "  - name: corp-duo\n"
      "    type: duo_auth\n"
      "    auth:\n"
      "      api_hostname: api-XYZ.example.com\n"
      "      integration_key: ${env:SIPHON_TEST_UNSET_VARIABLE}\n"
      "      secret_key: ${file:secrets/skey}\n"
      "  - name: other\n"
      "    type: nosuch_type\n");
  auto r = dir.siphon({"check"});
  EXPECT_EQ(r.exit_code, 1);
  std::string cfg = dir.file("siphon.yaml");
  EXPECT_NE(r.out.find(cfg + ": app corp-duo: field auth.api_hostname: value does not match"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("SIPHON_TEST_UNSET_VARIABLE is not set"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("app corp-duo: field auth.secret_key: value does not match"),
            std::string::npos);
  EXPECT_NE(r.out.find("app other: field type: unknown app type \"nosuch_type\""),
            std::string::npos);
  EXPECT_EQ((r.out + r.err).find("SECRETsecret"), std::string::npos) << "secret printed";
}

TEST(CommandLine, UsageErrorsExitTwoAndMissingConfigExitsOne) {
  Workdir dir;
  EXPECT_EQ(dir.siphon({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(dir.siphon({"once"}).exit_code, 2) << "once needs an app name";
  EXPECT_EQ(dir.siphon({"once", "x"}).exit_code, 1) << "no config file";
  auto r = dir.siphon({"run"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("config file not found"), std::string::npos) << r.err;
  auto v = dir.siphon({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("plugin ABI 1.1"), std::string::npos);
}

TEST(CommandLine, PluginsListsBoxAndDuoWithAuthFields) {
  Workdir dir;
  dir.write_config("  []\n");
  auto r = dir.siphon({"plugins"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s : {"box_admin_events", "duo_auth", "duo_admin", "keyfile", "integration_key",
                        "^DI[A-Z0-9]{18}$", "secret"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
}

}  // namespace
