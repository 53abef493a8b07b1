// Scheduling, first-run start, sinks and plugin-side validation, end to end.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "box_imitation.hpp"
#include "duo_imitation.hpp"
#include "harness.hpp"

using siphon::imitation::BoxImitation;
using siphon::imitation::DuoImitation;
using siphon::testing::BoxAccount;
using siphon::testing::count_by;
using siphon::testing::wait_child;
using siphon::testing::Workdir;

namespace {

int64_t now() { return siphon::imitation::now_ms(); }

std::string box_app(const std::string& name, const BoxImitation& box, const std::string& extra) {
  return siphon::testing::box_app_yaml(name, box.base_url(), extra);
}

TEST(Scheduling, FirstRunWithoutCursorStartsOneIntervalAgo) {
  Workdir dir;
  BoxAccount box(dir);
  box.add_events(40, now() - 3 * 3600 * 1000);  // older than the interval: not collected
  box.add_events(25, now() - 20 * 60 * 1000);   // within the last hour: collected
  dir.write_config(box_app("corp-box", box, "    interval: 1h\n"));
  auto r = dir.siphon({"once", "corp-box"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(dir.event_lines(), 25u);
}

TEST(Scheduling, AStateResetWithSinceSetsWhereTheNextRunStarts) {
  Workdir dir;
  BoxAccount box(dir);
  box.add_events(40, now() - 3 * 3600 * 1000);
  dir.write_config(box_app("corp-box", box, "    interval: 1h\n"));
  ASSERT_EQ(dir.siphon({"once", "corp-box"}).exit_code, 0);
  EXPECT_EQ(dir.event_lines(), 0u);
  ASSERT_EQ(dir.siphon({"state", "reset", "corp-box", "--since", "4h"}).exit_code, 0);
  ASSERT_EQ(dir.siphon({"once", "corp-box"}).exit_code, 0);
  EXPECT_EQ(dir.event_lines(), 40u);
}

TEST(Scheduling, APluginsPauseBetweenPollsHoldsNoWorker) {
  // One worker. The Duo app pauses 2 s between its pages (Duo's pacing,
  // shortened); the Box app must still be served during those pauses.
  const char* ikey = "DIWJ8X6AEYOR5OMC6TQ1";
  const char* skey = "gtdfxv9YgVBYcF6dl2Eq17KUQJN2PLM2ODVTkvoT";
  DuoImitation duo(ikey, skey);
  duo.set_visibility_delay_ms(0);
  duo.add_auth_events(40, now() - 600 * 1000, 1000);
  duo.start();
  Workdir dir;
  BoxAccount box(dir);
  box.add_events(10, now() - 60 * 1000);
  dir.write_config(box_app("corp-box", box, "    interval: 1s\n") +
                       "  - name: corp-duo\n"
                       "    type: duo_auth\n"
                       "    interval: 1h\n"
                       "    auth:\n"
                       "      api_hostname: api-1234abcd.duosecurity.com\n"
                       "      integration_key: " +
                       std::string(ikey) +
                       "\n"
                       "      secret_key: " +
                       skey +
                       "\n"
                       "    options:\n"
                       "      base_url: " +
                       duo.base_url() +
                       "\n"
                       "      poll_pause_seconds: \"2\"\n"
                       "      delay_seconds: \"0\"\n"
                       "      limit: \"10\"\n",
                   "workers: 1\n");
  ASSERT_EQ(dir.siphon({"state", "reset", "corp-duo", "--since", "1h"}).exit_code, 0);
  ASSERT_EQ(dir.siphon({"state", "reset", "corp-box", "--since", "1h"}).exit_code, 0);
  pid_t pid = dir.spawn({"run"}, "run");
  // The Duo run needs 4 pages with 2 s pauses: about 6 s. Box events added
  // during it must arrive long before it ends.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  box.add_events(5, now());
  for (int i = 0; i < 100; ++i) {
    if (count_by(dir.events(), "corp-box", "event_id").size() == 15u) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  size_t duo_so_far = count_by(dir.events(), "corp-duo", "txid").size();
  EXPECT_EQ(count_by(dir.events(), "corp-box", "event_id").size(), 15u);
  EXPECT_LT(duo_so_far, 40u) << "the Duo run should still be pausing between its pages";
  for (int i = 0; i < 500 && count_by(dir.events(), "corp-duo", "txid").size() < 40u; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_child(pid, 30), 0);
  EXPECT_EQ(count_by(dir.events(), "corp-duo", "txid").size(), 40u);
}

TEST(Sinks, StdoutSinkPrintsOneRecordPerLineAndLogsStayOnStderr) {
  Workdir dir;
  BoxAccount box(dir);
  box.add_events(12, now() - 60 * 1000);
  dir.write("siphon.yaml", std::string("plugin_dirs: [") + SIPHON_PLUGIN_DIR +
                               "]\nstate: sqlite:state.db\napps:\n" + box_app("corp-box", box, ""));
  auto r = dir.siphon({"once", "corp-box", "--since", "1h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t lines = 0;
  for (size_t p = 0; (p = r.out.find('\n', p)) != std::string::npos; ++p) ++lines;
  EXPECT_EQ(lines, 12u);
  EXPECT_EQ(r.out.rfind("{\"app\":\"corp-box\",\"type\":\"box_admin_events\"", 0), 0u);
  EXPECT_NE(r.err.find("run succeeded"), std::string::npos);
}

TEST(Sinks, JsonLogFormatWritesOneObjectPerLine) {
  Workdir dir;
  BoxAccount box(dir);
  dir.write_config(box_app("corp-box", box, ""), "log_format: json\n");
  auto r = dir.siphon({"once", "corp-box"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_FALSE(r.err.empty());
  size_t start = 0;
  while (start < r.err.size()) {
    size_t nl = r.err.find('\n', start);
    std::string line = r.err.substr(start, nl - start);
    rapidjson::Document d;
    d.Parse(line.c_str());
    EXPECT_FALSE(d.HasParseError()) << line;
    if (!d.HasParseError()) {
      EXPECT_TRUE(d.HasMember("level")) << line;
      EXPECT_TRUE(d.HasMember("message")) << line;
    }
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
}

TEST(Check, ThePluginValidatesTheBoxKeyFileWithoutNetwork) {
  Workdir dir;
  BoxAccount box(dir);
  std::string broken = box.keyfile.json;
  broken.replace(broken.find(box.keyfile.passphrase), box.keyfile.passphrase.size(),
                 "not the passphrase");
  dir.write("secrets/box.json", broken, 0600);
  dir.write_config(box_app("corp-box", box, ""));
  auto r = dir.siphon({"check"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("app corp-box: plugin siphon-box:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("passphrase"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("not the passphrase"), std::string::npos) << "secret printed";
  EXPECT_EQ(box.requests(), 0u) << "check uses no network";
  dir.write("secrets/box.json", box.keyfile.json, 0600);
  auto ok = dir.siphon({"check"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_EQ(box.requests(), 0u);
}

TEST(Check, SecretFilesReadableByOthersGetAWarning) {
  Workdir dir;
  BoxAccount box(dir);
  dir.write("secrets/box.json", box.keyfile.json, 0644);
  dir.write_config(box_app("corp-box", box, ""));
  auto r = dir.siphon({"check"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("warning: secret file"), std::string::npos) << r.out;
}

}  // namespace
