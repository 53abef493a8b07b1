// What the command line refuses and reports, end to end with the real siphon
// binary: a --since in the future, auth values checked again before every
// run, one app's unreadable secret confined to that app, plain http only to
// loopback addresses, refused plugin files, and `check --json`.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <siphon/time_format.hpp>
#include <thread>

#include "duo_imitation.hpp"
#include "harness.hpp"

using siphon::imitation::DuoImitation;
using siphon::testing::box_app_yaml;
using siphon::testing::BoxAccount;
using siphon::testing::count_by;
using siphon::testing::count_of;
using siphon::testing::wait_child;
using siphon::testing::wait_until;
using siphon::testing::Workdir;

namespace {

const char* kIkey = "DIWJ8X6AEYOR5OMC6TQ1";
const char* kSkey = "gtdfxv9YgVBYcF6dl2Eq17KUQJN2PLM2ODVTkvoT";

int64_t now() { return siphon::imitation::now_ms(); }

std::string duo_app_yaml(const std::string& name, const std::string& base_url,
                         const std::string& skey_ref, const std::string& settings = "") {
  return "  - name: " + name + "\n    type: duo_auth\n" + settings +
         "    auth:\n"
         "      api_hostname: api-1234abcd.duosecurity.com\n"
         "      integration_key: " +
         kIkey + "\n      secret_key: " + skey_ref + "\n    options:\n      base_url: " + base_url +
         "\n      poll_pause_seconds: \"0\"\n      delay_seconds: \"0\"\n";
}

TEST(SinceInTheFuture, OnceAndStateResetRefuseItWithAUsageErrorNamingTheValue) {
  Workdir dir;
  BoxAccount account(dir);
  BoxAccount* box = &account;
  box->add_events(10, now() - 600 * 1000);
  dir.write_config(box_app_yaml("corp-box", box->base_url()));

  auto once = dir.siphon({"once", "corp-box", "--since", "2099-01-01T00:00:00Z"});
  EXPECT_EQ(once.exit_code, 2);
  EXPECT_NE(once.err.find("--since 2099-01-01T00:00:00Z is in the future"), std::string::npos)
      << once.err;
  auto reset = dir.siphon({"state", "reset", "corp-box", "--since", "2099-01-01T00:00:00Z"});
  EXPECT_EQ(reset.exit_code, 2);
  EXPECT_NE(reset.err.find("2099-01-01T00:00:00Z is in the future"), std::string::npos)
      << reset.err;
  EXPECT_EQ(box->requests(), 0u) << "nothing ran";
  auto st = dir.state("corp-box");
  EXPECT_STREQ(st["status"].GetString(), "never");
  EXPECT_TRUE(st["cursor"].IsNull()) << "no cursor stored";

  // Within the clock allowance, and in the past, are fine.
  std::string soon = siphon::timefmt::rfc3339(now() + 5000);
  EXPECT_EQ(dir.siphon({"state", "reset", "corp-box", "--since", soon}).exit_code, 0);
  EXPECT_EQ(dir.siphon({"once", "corp-box", "--since", "1h"}).exit_code, 0);
  EXPECT_EQ(dir.event_lines(), 10u);
}

// A rotated secret that its field's regex refuses is never sent: the run
// fails naming the app and the field, not the value.
TEST(AuthRecheckedEveryRun, ARotatedSecretThatFailsItsRegexFailsTheRunAndNothingIsSent) {
  DuoImitation duo(kIkey, kSkey);
  duo.start();
  Workdir dir;
  dir.write("secrets/duo.skey", kSkey, 0600);
  dir.write_config(
      duo_app_yaml("corp-duo", duo.base_url(), "${file:secrets/duo.skey}", "    interval: 1s\n"));
  duo.add_auth_events(5, now() - 600 * 1000, 1000);
  ASSERT_EQ(dir.siphon({"state", "reset", "corp-duo", "--since", "1h"}).exit_code, 0);
  pid_t pid = dir.spawn({"run"}, "run");
  ASSERT_TRUE(wait_until([&] { return dir.event_lines() >= 5; }, 30)) << dir.read("run.err");

  const std::string bad = "!!rotated-but-broken!!" + std::string(18, 'x');  // 40, not [A-Za-z0-9]
  dir.write("secrets/duo.skey", bad, 0600);
  ASSERT_TRUE(wait_until(
      [&] { return dir.read("run.err").find("field auth.secret_key") != std::string::npos; }, 20))
      << dir.read("run.err");
  size_t requests_then = duo.requests();
  ASSERT_TRUE(wait_until(
      [&] { return count_of(dir.read("run.err"), "field auth.secret_key: value does not") >= 3; },
      20));
  EXPECT_EQ(duo.requests(), requests_then) << "nothing was sent with the refused value";
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_child(pid, 30), 0);
  std::string log = dir.read("run.err");
  EXPECT_NE(log.find("app=corp-duo: run failed: field auth.secret_key: value does not match"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find(bad), std::string::npos) << "the value is never printed";
  EXPECT_EQ(dir.event_lines(), 5u);
  auto st = dir.state("corp-duo");
  EXPECT_STREQ(st["status"].GetString(), "failed");
}

// One app whose ${env:} does not resolve: check reports it, once of another
// app runs, run runs the others and logs the broken one.
class BrokenSecretOfOneApp : public ::testing::Test {
 protected:
  void SetUp() override {
    box_ = std::make_unique<BoxAccount>(dir_);
    box_->add_events(20, now() - 600 * 1000);
    dir_.write_config(
        box_app_yaml("corp-box", box_->base_url(), "    interval: 1s\n") +
        duo_app_yaml("corp-duo", "http://127.0.0.1:9", "${env:SIPHON_TEST_NEVER_SET}"));
    ASSERT_EQ(dir_.siphon({"state", "reset", "corp-box", "--since", "1h"}).exit_code, 0);
  }
  Workdir dir_;
  std::unique_ptr<BoxAccount> box_;
};

TEST_F(BrokenSecretOfOneApp, CheckStillReportsIt) {
  auto r = dir_.siphon({"check"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("app corp-duo: field auth.secret_key: environment variable "
                       "SIPHON_TEST_NEVER_SET is not set"),
            std::string::npos)
      << r.out;
}

TEST_F(BrokenSecretOfOneApp, OnceFailsOnlyForThatApp) {
  auto good = dir_.siphon({"once", "corp-box"});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_EQ(dir_.event_lines(), 20u);
  auto broken = dir_.siphon({"once", "corp-duo"});
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.err.find("SIPHON_TEST_NEVER_SET is not set"), std::string::npos) << broken.err;
}

TEST_F(BrokenSecretOfOneApp, RunLogsTheBrokenAppAndRunsTheOthers) {
  pid_t pid = dir_.spawn({"run"}, "run");
  EXPECT_TRUE(wait_until([&] { return dir_.event_lines() >= 20; }, 30)) << dir_.read("run.err");
  box_->add_events(5, now());
  EXPECT_TRUE(wait_until([&] { return dir_.event_lines() >= 25; }, 30));
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_child(pid, 30), 0) << dir_.read("run.err");
  std::string log = dir_.read("run.err");
  EXPECT_NE(log.find("app=corp-duo: "), std::string::npos);
  EXPECT_NE(log.find("SIPHON_TEST_NEVER_SET is not set"), std::string::npos) << log;
  EXPECT_EQ(count_by(dir_.events(), "corp-box", "event_id").size(), 25u);
}

TEST(PlainHttp, OnlyLoopbackAddressesAndLocalhostAreAcceptedNotNamesStartingWith127) {
  Workdir dir;
  auto check = [&](const std::string& base_url) {
    dir.write_config(duo_app_yaml("corp-duo", base_url, kSkey));
    return dir.siphon({"check"});
  };
  for (const char* refused : {"http://127.example.com", "http://127.0.0.1.example.com:8080",
                              "http://localhost.example.com", "http://10.0.0.1"}) {
    auto r = check(refused);
    EXPECT_EQ(r.exit_code, 1) << refused;
    EXPECT_NE(r.out.find("field options.base_url: must be https://"), std::string::npos)
        << refused << ": " << r.out;
  }
  for (const char* accepted : {"http://127.0.0.1:8080", "http://127.1.2.3", "http://localhost:80",
                               "http://[::1]:8080", "https://api.example.com"}) {
    auto r = check(accepted);
    EXPECT_EQ(r.exit_code, 0) << accepted << ": " << r.out;
  }
}

// A plugin folder of its own: a copy of the Duo plugin and a file that is
// not a library.
class RefusedPluginFile : public ::testing::Test {
 protected:
  void SetUp() override {
    namespace fs = std::filesystem;
    fs::create_directories(dir_.file("plugins"));
    ::chmod(dir_.file("plugins").c_str(), 0755);
    fs::copy_file(std::string(SIPHON_PLUGIN_DIR) + "/siphon-duo.so",
                  dir_.file("plugins/siphon-duo.so"));
    dir_.write("plugins/notes.so", "not a library\n");
    std::string cfg = "plugin_dirs: [plugins]\nstate: sqlite:state.db\napps:\n" +
                      duo_app_yaml("corp-duo", "https://api.example.com", kSkey);
    dir_.write("siphon.yaml", cfg);
  }
  Workdir dir_;
};

TEST_F(RefusedPluginFile, CheckFailsNamingTheFileUnlessAllowed) {
  auto r = dir_.siphon({"check"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find(dir_.file("plugins/notes.so") + ": plugin refused: not a loadable library"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find(": ok ("), std::string::npos) << r.out;

  auto allowed = dir_.siphon({"check", "--allow-refused"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.out;
  EXPECT_NE(allowed.err.find("warning: plugin refused: " + dir_.file("plugins/notes.so")),
            std::string::npos)
      << allowed.err;
  EXPECT_EQ(dir_.siphon({"run", "--allow-refused"}).exit_code, 2) << "a check flag only";
}

TEST_F(RefusedPluginFile, CheckJsonListsEveryProblemAsFileAppFieldProblem) {
  std::string cfg = dir_.read("siphon.yaml");
  cfg += "  - name: other\n    type: nosuch_type\n";
  dir_.write("siphon.yaml", cfg);
  auto r = dir_.siphon({"check", "--json"});
  EXPECT_EQ(r.exit_code, 1);
  rapidjson::Document doc;
  ASSERT_FALSE(doc.Parse(r.out.c_str()).HasParseError()) << r.out;
  ASSERT_TRUE(doc.IsArray());
  ASSERT_EQ(doc.Size(), 2u) << r.out;
  const auto& refused = doc[0];
  EXPECT_EQ(std::string(refused["file"].GetString()), dir_.file("plugins/notes.so"));
  EXPECT_TRUE(refused["app"].IsNull());
  EXPECT_TRUE(refused["field"].IsNull());
  EXPECT_EQ(std::string(refused["problem"].GetString()).rfind("plugin refused: ", 0), 0u);
  const auto& type = doc[1];
  EXPECT_EQ(std::string(type["file"].GetString()), dir_.file("siphon.yaml"));
  EXPECT_STREQ(type["app"].GetString(), "other");
  EXPECT_STREQ(type["field"].GetString(), "type");
  EXPECT_EQ(std::string(type["problem"].GetString()),
            "unknown app type \"nosuch_type\" (siphon plugins lists the known ones)");

  cfg.erase(cfg.find("  - name: other"));
  dir_.write("siphon.yaml", cfg);
  auto clean = dir_.siphon({"check", "--json", "--allow-refused"});
  EXPECT_EQ(clean.exit_code, 0) << clean.out;
  EXPECT_EQ(clean.out, "[]\n");
}

TEST(JsonFlag, RunOnceAndStateResetRefuseIt) {
  Workdir dir;
  dir.write_config(duo_app_yaml("corp-duo", "https://api.example.com", kSkey));
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"run", "--json"},
                                             {"once", "corp-duo", "--json"},
                                             {"state", "reset", "corp-duo", "--json"}}) {
    auto r = dir.siphon(args);
    EXPECT_EQ(r.exit_code, 2) << args[0];
    EXPECT_NE(r.err.find("--json goes with plugins, check or state show"), std::string::npos)
        << r.err;
  }
  EXPECT_EQ(dir.siphon({"state", "show", "--json"}).exit_code, 0);
}

}  // namespace
