// Faults on the vendor's side, end to end through the real host and
// siphon-box.so: every broken answer ends the run with a clear error naming
// the app, nothing is delivered from it, the cursor stays, and the next run
// delivers everything.
#include <gtest/gtest.h>

#include "reliability_common.hpp"

using siphon::imitation::Fault;
using siphon::testing::BoxSetup;
using siphon::testing::Workdir;

namespace {

struct BrokenAnswer {
  const char* name;
  Fault fault;
  const char* expected;  // in the error
};

Fault fault(int status, const std::string& type, const std::string& body, bool truncate = false) {
  Fault f;
  f.status = status;
  f.content_type = type;
  f.body = body;
  f.truncate = truncate;
  f.count = 1000;
  f.path_prefix = "/2.0/events";
  return f;
}

class VendorFaults : public ::testing::TestWithParam<BrokenAnswer> {};

TEST_P(VendorFaults, FailTheRunWithoutMovingTheCursorAndTheNextRunCatchesUp) {
  Workdir dir;
  BoxSetup setup(dir, "");
  auto& box = setup.box;
  box.add_events(120, siphon::imitation::now_ms() - 3600 * 1000);
  ASSERT_EQ(dir.siphon({"once", "corp-box", "--since", "2h"}).exit_code, 0);
  ASSERT_EQ(dir.event_lines(), 120u);
  std::string cursor = dir.state("corp-box")["cursor"].GetString();

  box.add_events(80, siphon::imitation::now_ms());
  box.inject(GetParam().fault);
  auto r = dir.siphon({"once", "corp-box"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("corp-box"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(GetParam().expected), std::string::npos) << r.err;
  EXPECT_EQ(dir.event_lines(), 120u) << "nothing delivered from a broken answer";
  auto st = dir.state("corp-box");
  EXPECT_STREQ(st["status"].GetString(), "failed");
  EXPECT_EQ(st["cursor"].GetString(), cursor);

  box.clear_faults();
  ASSERT_EQ(dir.siphon({"once", "corp-box"}).exit_code, 0);
  auto ids = siphon::testing::count_by(dir.events(), "corp-box", "event_id");
  EXPECT_EQ(ids.size(), 200u);
  EXPECT_EQ(dir.event_lines(), 200u);
}

INSTANTIATE_TEST_SUITE_P(
    BrokenAnswers, VendorFaults,
    ::testing::Values(
        BrokenAnswer{"HtmlErrorPage", fault(200, "text/html", "<html><h1>Bad gateway</h1></html>"),
                     "text/html"},
        BrokenAnswer{"InvalidJson", fault(200, "application/json", "{\"entries\":[{\"a\":"),
                     "not valid JSON"},
        BrokenAnswer{"EmptyBody", fault(200, "application/json", ""), "empty body"},
        BrokenAnswer{"WrongContentType", fault(200, "text/plain", "entries=none"), "text/plain"},
        BrokenAnswer{"JsonOfTheWrongShape", fault(200, "application/json", "[1,2,3]"), "corp-box"},
        BrokenAnswer{"TruncatedBody", fault(0, "", "", /*truncate=*/true), "truncated"},
        BrokenAnswer{"PersistentServerError", fault(503, "application/json", "{}"), "503"},
        BrokenAnswer{"PersistentRateLimit", fault(429, "application/json", "{}"), "429"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(VendorFaultsOversized, AResponseOverTheCapFailsTheRun) {
  Workdir dir;
  BoxSetup setup(dir, "");
  setup.box.add_events(120, siphon::imitation::now_ms() - 3600 * 1000);
  std::string yaml = dir.read("siphon.yaml");
  yaml.replace(yaml.find("http:\n"), 6, "http:\n  max_response_bytes: 2000\n");
  dir.write("siphon.yaml", yaml);
  auto r = dir.siphon({"once", "corp-box", "--since", "2h"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("max_response_bytes"), std::string::npos) << r.err;
  EXPECT_EQ(dir.event_lines(), 0u);
  EXPECT_TRUE(dir.state("corp-box")["cursor"].IsNull());
}

}  // namespace
