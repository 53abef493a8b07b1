// Plugin misbehaviour, end to end: the real siphon binary with siphon-fault.so
// (tests/reliability/fault_plugin.cpp) throwing, failing, returning bad or
// oversized events, hanging and crashing, in process and with
// `isolation: process`; and the real siphon-box.so under isolation against
// the Box imitation.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "harness.hpp"

using siphon::testing::BoxAccount;
using siphon::testing::count_by;
using siphon::testing::count_of;
using siphon::testing::Result;
using siphon::testing::wait_child;
using siphon::testing::wait_until;
using siphon::testing::Workdir;

namespace {

constexpr const char* kToken = "tok-4f9a-SECRET-77c1";

// Log lines of one app (the text log tags each line with app=NAME).
std::string lines_of(const std::string& log, const std::string& app) {
  std::string out, line;
  for (size_t start = 0; start < log.size();) {
    size_t end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    line = log.substr(start, end - start);
    if (line.find("app=" + app + ": ") != std::string::npos) out += line + "\n";
    start = end + 1;
  }
  return out;
}

// A live process (not gone, not a zombie).
bool alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return false;
  size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

pid_t worker_pid(const std::string& log) {
  size_t at = log.find("plugin worker started (pid ");
  return at == std::string::npos ? -1 : static_cast<pid_t>(std::stol(log.substr(at + 27)));
}

struct FaultApp {
  std::string name;
  std::string fault = "none";
  std::string isolation = "in-process";
  std::string settings;  // extra app lines
  std::string options;   // extra option lines
};

std::string app_yaml(const FaultApp& a) {
  return "  - name: " + a.name + "\n    type: fault_events\n    isolation: " + a.isolation + "\n" +
         a.settings + "    auth:\n      token: " + kToken +
         "\n    options:\n      fault: " + a.fault + "\n" + a.options;
}

class PluginFaults : public ::testing::Test {
 protected:
  void configure(const std::vector<FaultApp>& apps, const std::string& extra = "") {
    std::string cfg = std::string("plugin_dirs: [") + SIPHON_FAULT_PLUGIN_DIR + ", " +
                      SIPHON_PLUGIN_DIR +
                      "]\n"
                      "state: sqlite:state.db\n"
                      "log_level: debug\n"
                      "sinks:\n"
                      "  - name: out\n"
                      "    type: file\n"
                      "    path: events.jsonl\n" +
                      extra + "apps:\n";
    for (const auto& a : apps) cfg += app_yaml(a);
    dir_.write("siphon.yaml", cfg);
  }
  // Records of one app in events.jsonl (counted, not parsed: a run may be
  // writing the file).
  size_t events_of(const std::string& app) const {
    return count_of(dir_.read("events.jsonl"), "{\"app\":\"" + app + "\",");
  }
  std::string cursor(const std::string& app) {
    auto st = dir_.state(app);
    return st["cursor"].IsString() ? st["cursor"].GetString() : "(none)";
  }

  Workdir dir_;
};

// One fault, one isolation mode, through `siphon once`.
struct Case {
  const char* fault;
  const char* isolation;
  const char* says;  // expected in the error
};

class OnceFault : public PluginFaults, public ::testing::WithParamInterface<Case> {};

TEST_P(OnceFault, FailsNamingAppAndPluginAndKeepsTheCursorBeforeUndeliveredEvents) {
  const Case& c = GetParam();
  FaultApp a{"flaky", c.fault, c.isolation, "    poll_timeout: 2s\n", ""};
  configure({a});
  auto began = std::chrono::steady_clock::now();
  Result r = dir_.siphon({"once", "flaky"}, 60);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_LT(took, 15.0) << "once returns promptly after the deadline";
  EXPECT_NE(r.err.find("app flaky"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("siphon-fault"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
  // Page 0 was delivered and committed; page 1 (the fault) delivered nothing.
  EXPECT_EQ(events_of("flaky"), 2u);
  auto st = dir_.state("flaky");
  EXPECT_STREQ(st["status"].GetString(), "failed");
  EXPECT_STREQ(st["cursor"].GetString(), "1");
  std::string last_error = st["last_error"].GetString();
  EXPECT_NE(last_error.find("siphon-fault"), std::string::npos) << last_error;
  EXPECT_NE(last_error.find(c.says), std::string::npos) << last_error;
  EXPECT_EQ(r.err.find(kToken), std::string::npos) << "no secret in the log";
}

INSTANTIATE_TEST_SUITE_P(
    InProcessAndIsolated, OnceFault,
    ::testing::Values(Case{"throw", "in-process", "an exception escaped the plugin"},
                      Case{"throw", "process", "an exception escaped the plugin"},
                      Case{"error", "in-process", "the vendor said no"},
                      Case{"error", "process", "the vendor said no"},
                      Case{"invalid_json", "in-process", "event is not valid JSON"},
                      Case{"invalid_json", "process", "event is not valid JSON"},
                      Case{"oversized", "in-process", "over max_event_bytes (1048576)"},
                      Case{"oversized", "process", "over max_event_bytes (1048576)"},
                      Case{"hang", "in-process", "did not return from poll within 2s"},
                      Case{"hang", "process", "did not return from poll within 2s"},
                      Case{"segv", "process", "crashed during poll: killed by signal SIGSEGV"}),
    [](const ::testing::TestParamInfo<Case>& info) {
      std::string name = std::string(info.param.fault) + "_" + info.param.isolation;
      for (auto& ch : name)
        if (ch == '-') ch = '_';
      return name;
    });

TEST_F(PluginFaults, AHungInProcessPollSaysTheAppIsDisabledUntilRestart) {
  configure({{"flaky", "hang", "in-process", "    poll_timeout: 1s\n", ""}});
  Result r = dir_.siphon({"once", "flaky"}, 60);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not scheduled again until siphon restarts"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("isolation: process"), std::string::npos) << r.err;
}

TEST_F(PluginFaults, MaxEventBytesIsConfigurable) {
  configure({{"flaky", "oversized", "in-process", "", "      oversized_bytes: \"5000\"\n"}},
            "max_event_bytes: 4096\n");
  Result r = dir_.siphon({"once", "flaky"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("over max_event_bytes (4096)"), std::string::npos) << r.err;
  EXPECT_EQ(events_of("flaky"), 2u);
  configure({{"flaky", "oversized", "in-process", "", "      oversized_bytes: \"3000\"\n"}},
            "max_event_bytes: 4096\n");
  r = dir_.siphon({"once", "flaky"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(events_of("flaky"), 2u + 3u + 2u) << "the 3000-byte event is under the limit";
}

// Page 0 goes to the sink while page 1 is polled: the crash comes before,
// during or after page 0's delivery and commit, but nothing is committed
// past what the sink holds. Uncommitted, page 0 is the one page the next run
// repeats.
TEST_F(PluginFaults, AnInProcessCrashKillsTheHostButCommitsNothingPastDeliveredEvents) {
  configure({{"flaky", "segv", "in-process", "", ""}});
  Result r = dir_.siphon({"once", "flaky"});
  EXPECT_EQ(r.exit_code, 128 + SIGSEGV);
  auto st = dir_.state("flaky");
  EXPECT_STREQ(st["status"].GetString(), "failed");
  std::string committed = cursor("flaky");
  if (committed == "1")
    EXPECT_EQ(events_of("flaky"), 2u) << "committed: page 0 is in the sink";
  else
    EXPECT_EQ(committed, "(none)");
  EXPECT_LE(events_of("flaky"), 2u) << "nothing of the crashing page";
}

TEST_F(PluginFaults, IsolatedCrashCostsOnlyItsAppAndTheWorkerRestartsWithBackoff) {
  std::string armed = dir_.file("crash.armed");
  dir_.write("crash.armed", "");
  configure({{"steady", "none", "in-process", "    interval: 1s\n", "      pages: \"0\"\n"},
             {"crashy", "segv", "process", "    interval: 1s\n",
              "      fault_file: " + armed + "\n      chatter: \"1\"\n"}});
  pid_t pid = dir_.spawn({"run"}, "run");
  // The crashing app fails twice (two workers), while the other one delivers.
  bool crashed_twice =
      wait_until([&] { return count_of(dir_.read("run.err"), "crashed during poll") >= 2; }, 30);
  EXPECT_TRUE(crashed_twice) << dir_.read("run.err");
  size_t steady_then = events_of("steady");
  EXPECT_TRUE(wait_until([&] { return events_of("steady") >= steady_then + 6; }, 20))
      << "the other app keeps delivering";
  EXPECT_EQ(events_of("crashy"), 2u) << "only page 0; nothing of the crashing page";
  EXPECT_EQ(cursor("crashy"), "1");
  ::unlink(armed.c_str());
  EXPECT_TRUE(wait_until([&] { return events_of("crashy") == 6u; }, 30))
      << "a restarted worker delivers the rest";
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_child(pid, 30), 0);
  std::string log = dir_.read("run.err");
  std::string crashy = lines_of(log, "crashy");
  EXPECT_GE(count_of(crashy, "plugin worker started"), 3u) << crashy;
  EXPECT_NE(crashy.find("killed by signal SIGSEGV"), std::string::npos) << crashy;
  EXPECT_NE(crashy.find("plugin worker restarts at the next run, not before 2s"), std::string::npos)
      << "backoff doubles: " << crashy;
  EXPECT_EQ(lines_of(log, "steady").find("run failed"), std::string::npos);
  // The worker's stderr and log calls reach the host's log, redacted.
  EXPECT_NE(crashy.find("fault plugin polls page 1 with token [redacted]"), std::string::npos)
      << crashy;
  EXPECT_NE(crashy.find("plugin worker "), std::string::npos);
  EXPECT_EQ(log.find(kToken), std::string::npos) << "no secret in the log";
  EXPECT_EQ(cursor("crashy"), "3");
  auto ids = count_by(dir_.events(), "crashy", "id");
  EXPECT_EQ(ids.size(), 6u);
  for (const auto& [id, n] : ids) EXPECT_EQ(n, 1) << id;
}

TEST_F(PluginFaults, HungInProcessPollIsAbandonedAndTheAppIsNotScheduledAgain) {
  configure({{"steady", "none", "in-process", "    interval: 1s\n", "      pages: \"0\"\n"},
             {"stuck", "hang", "in-process", "    interval: 1s\n    poll_timeout: 1s\n", ""}});
  pid_t pid = dir_.spawn({"run"}, "run");
  EXPECT_TRUE(wait_until(
      [&] {
        return dir_.read("run.err").find("not scheduled again until siphon restarts") !=
               std::string::npos;
      },
      30))
      << dir_.read("run.err");
  size_t steady_then = events_of("steady");
  EXPECT_TRUE(wait_until([&] { return events_of("steady") >= steady_then + 8; }, 20))
      << "the other app keeps delivering";
  ::kill(pid, SIGTERM);
  auto began = std::chrono::steady_clock::now();
  EXPECT_EQ(wait_child(pid, 30), 0);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count(), 10.0)
      << "the abandoned poll does not hold up the stop";
  std::string stuck = lines_of(dir_.read("run.err"), "stuck");
  EXPECT_EQ(count_of(stuck, "did not return from poll within 1s"), 1u)
      << "one failure, no second attempt: " << stuck;
  EXPECT_EQ(count_of(stuck, "not scheduled again until siphon restarts"), 1u) << stuck;
  EXPECT_EQ(events_of("stuck"), 2u);
  EXPECT_EQ(cursor("stuck"), "1");
  EXPECT_STREQ(dir_.state("stuck")["status"].GetString(), "failed");
}

TEST_F(PluginFaults, HungIsolatedWorkerIsKilledAndRetried) {
  std::string armed = dir_.file("hang.armed");
  dir_.write("hang.armed", "");
  configure({{"steady", "none", "in-process", "    interval: 1s\n", "      pages: \"0\"\n"},
             {"stuck", "hang", "process", "    interval: 1s\n    poll_timeout: 1s\n",
              "      fault_file: " + armed + "\n"}});
  pid_t pid = dir_.spawn({"run"}, "run");
  EXPECT_TRUE(wait_until(
      [&] {
        return count_of(dir_.read("run.err"),
                        "did not return from poll within 1s (poll_timeout); "
                        "the worker was killed") >= 4;
      },
      30))
      << dir_.read("run.err");
  EXPECT_EQ(events_of("stuck"), 2u);
  EXPECT_EQ(cursor("stuck"), "1");
  EXPECT_GT(events_of("steady"), 4u);
  ::unlink(armed.c_str());
  EXPECT_TRUE(wait_until([&] { return events_of("stuck") == 6u; }, 30))
      << "the restarted worker delivers the rest";
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_child(pid, 30), 0);
  std::string stuck = lines_of(dir_.read("run.err"), "stuck");
  EXPECT_GE(count_of(stuck, "plugin worker started"), 3u) << stuck;
  EXPECT_EQ(stuck.find("not scheduled again"), std::string::npos) << stuck;
  EXPECT_EQ(cursor("stuck"), "3");
}

TEST_F(PluginFaults, AStopEndsHungPollsAfterAGracePeriodInBothModes) {
  configure({{"inproc", "hang", "in-process", "    interval: 1s\n    poll_timeout: 5m\n",
              "      chatter: \"1\"\n"},
             {"isolated", "hang", "process", "    interval: 1s\n    poll_timeout: 5m\n",
              "      chatter: \"1\"\n"}});
  pid_t pid = dir_.spawn({"run"}, "run");
  EXPECT_TRUE(wait_until(
      [&] {
        std::string log = dir_.read("run.err");
        return lines_of(log, "inproc").find("polls page 1") != std::string::npos &&
               lines_of(log, "isolated").find("polls page 1") != std::string::npos;
      },
      20))
      << dir_.read("run.err");
  ::kill(pid, SIGTERM);
  auto began = std::chrono::steady_clock::now();
  EXPECT_EQ(wait_child(pid, 40), 0);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  EXPECT_GT(took, 8.0) << "a poll in progress gets its grace period";
  EXPECT_LT(took, 20.0);
  std::string log = dir_.read("run.err");
  EXPECT_NE(lines_of(log, "inproc").find("did not return from poll within 10s of the stop request"),
            std::string::npos)
      << log;
  EXPECT_NE(lines_of(log, "isolated")
                .find("did not finish poll within 10s of the stop request; "
                      "the worker was killed"),
            std::string::npos)
      << log;
  EXPECT_EQ(cursor("inproc"), "1");
  EXPECT_EQ(cursor("isolated"), "1");
}

TEST_F(PluginFaults, IsolatedWorkersAreGoneAfterTheHostStops) {
  configure({{"quiet", "none", "process", "    interval: 1s\n", "      pages: \"0\"\n"}});
  pid_t pid = dir_.spawn({"run"}, "run");
  EXPECT_TRUE(wait_until([&] { return events_of("quiet") >= 4; }, 20));
  std::string log = dir_.read("run.err");
  pid_t worker = worker_pid(log);
  ASSERT_GT(worker, 0) << log;
  EXPECT_TRUE(alive(worker)) << "the worker runs while the host does";
  EXPECT_EQ(count_of(log, "plugin worker started"), 1u) << "one worker serves every run";
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_child(pid, 30), 0);
  EXPECT_TRUE(wait_until([&] { return !alive(worker); }, 5)) << "worker " << worker;
}

TEST_F(PluginFaults, AWorkerBusyInItsPluginEndsWhenTheHostIsKilled) {
  configure({{"stuck", "hang", "process", "    poll_timeout: 5m\n", "      fault_page: \"0\"\n"}});
  pid_t pid = dir_.spawn({"once", "stuck"}, "once");
  pid_t worker = -1;
  EXPECT_TRUE(wait_until([&] { return (worker = worker_pid(dir_.read("once.err"))) > 0; }, 20));
  ASSERT_GT(worker, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(alive(worker));
  ::kill(pid, SIGKILL);
  wait_child(pid, 10);
  EXPECT_TRUE(wait_until([&] { return !alive(worker); }, 5)) << "worker " << worker;
}

TEST_F(PluginFaults, BadIsolationAndPollTimeoutAreConfigErrors) {
  configure({{"a", "none", "sideways", "    poll_timeout: 0s\n", ""}});
  Result r = dir_.siphon({"check"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("app a: field isolation: \"sideways\" is not one of in-process, process"),
            std::string::npos)
      << r.out << r.err;
  EXPECT_NE(r.out.find("app a: field poll_timeout: must be positive"), std::string::npos)
      << r.out << r.err;
  configure({{"a", "none", "process", "    poll_timeout: 30s\n", ""}});
  r = dir_.siphon({"check"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(PluginFaults, BoxWorksEndToEndUnderProcessIsolation) {
  BoxAccount box(dir_);
  box.add_events(230, siphon::imitation::now_ms() - 3600 * 1000);
  dir_.write_config(siphon::testing::box_app_yaml(
      "corp-box", box.base_url(), "    isolation: process\n", "      limit: \"50\"\n"));
  Result r = dir_.siphon({"once", "corp-box", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("plugin worker started"), std::string::npos) << r.err;
  auto ids = count_by(dir_.events(), "corp-box", "event_id");
  EXPECT_EQ(ids.size(), 230u);
  EXPECT_EQ(dir_.event_lines(), 230u);
  EXPECT_EQ(box.issued_tokens(), 1);
  auto st = dir_.state("corp-box");
  EXPECT_STREQ(st["status"].GetString(), "succeeded");
  EXPECT_EQ(st["events_total"].GetInt(), 230);
  // A second run resumes from the committed cursor through a new worker.
  box.add_events(20, siphon::imitation::now_ms());
  r = dir_.siphon({"once", "corp-box"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_by(dir_.events(), "corp-box", "event_id").size(), 250u);
  EXPECT_EQ(dir_.event_lines(), 250u);
}

}  // namespace
