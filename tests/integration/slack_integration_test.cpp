// slack_access and slack_integration end to end: the real host and
// siphon-slack.so against the local Slack imitation (Bearer token checked,
// aggregated access rows, page and cursor paging, Slack's error bodies).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <set>
#include <siphon/sdk.hpp>
#include <thread>

#include "harness.hpp"
#include "slack_imitation.hpp"

using siphon::imitation::Fault;
using siphon::imitation::SlackImitation;
using siphon::testing::count_by;
using siphon::testing::Workdir;

namespace {

const char kToken[] = "xoxp-2718281828-3141592653-5772156649-0123456789abcdef";

class SlackEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    slack_.start();
    dir_.write("secrets/slack.token", std::string(kToken) + "\n", 0600);
    configure();
  }
  // `access_options`: lines under the slack_access app's options (page_size
  // and lookback_seconds among them).
  void configure(const std::string& access_options = kAccessOptions,
                 const std::string& token_ref = "${file:secrets/slack.token}",
                 const std::string& integration_pause = "0") {
    const std::string auth = "    auth:\n      auth_token: " + token_ref + "\n";
    const std::string common = "    options:\n      base_url: " + slack_.base_url() + "\n";
    dir_.write_config("  - name: corp-access\n    type: slack_access\n" + auth + common +
                      "      poll_pause_seconds: \"0\"\n" + access_options +
                      "  - name: corp-integrations\n    type: slack_integration\n" + auth + common +
                      "      page_size: \"20\"\n      poll_pause_seconds: \"" + integration_pause +
                      "\"\n");
  }
  static constexpr char kAccessOptions[] =
      "      page_size: \"20\"\n      lookback_seconds: \"0\"\n";
  int64_t now() const { return siphon::imitation::now_ms() / 1000; }
  std::string cursor(const std::string& app) {
    auto st = dir_.state(app);
    return st.HasMember("cursor") && st["cursor"].IsString() ? st["cursor"].GetString() : "";
  }

  SlackImitation slack_{kToken};
  Workdir dir_;
};

TEST_F(SlackEndToEnd, AccessFirstRunDeliversEveryRecentRowOnceInTheRecordShape) {
  slack_.add_logins(40, now() - 3 * 86400, 60);  // last seen before --since: not delivered
  const int64_t t0 = now() - 3600;
  slack_.add_logins(130, t0, 20);
  auto r = dir_.siphon({"once", "corp-access", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // date_last is 30 s after date_first.
  EXPECT_NEAR(siphon::testing::logged_newest_event_ms(r.err), (t0 + 129 * 20 + 30) * 1000, 1000)
      << r.err;
  auto records = dir_.events();
  ASSERT_EQ(records.size(), 130u);
  auto users = count_by(records, "corp-access", "user_id");
  EXPECT_EQ(users.size(), 130u);
  const auto& rec = records.front();
  ASSERT_EQ(rec.MemberCount(), 5u);
  EXPECT_STREQ(rec["type"].GetString(), "slack_access");
  EXPECT_STREQ(rec["service"].GetString(), "slack");
  EXPECT_TRUE(rec["event"]["date_last"].IsInt64());
  EXPECT_EQ(slack_.cursor_calls(), 9u);  // 170 rows, 20 a page: the whole log is scanned
  EXPECT_EQ(slack_.page_calls(), 0u);
  auto st = dir_.state("corp-access");
  EXPECT_STREQ(st["status"].GetString(), "succeeded");
  EXPECT_EQ(st["events_total"].GetInt(), 130);
}

TEST_F(SlackEndToEnd, AccessLaterRunsDeliverOnlyNewAndChangedRows) {
  slack_.add_logins(50, now() - 3600, 20);
  ASSERT_EQ(dir_.siphon({"once", "corp-access", "--since", "2h"}).exit_code, 0);
  ASSERT_EQ(dir_.event_lines(), 50u);
  auto again = dir_.siphon({"once", "corp-access"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(dir_.event_lines(), 50u) << "nothing changed, nothing delivered";

  for (size_t row : {0u, 1u, 2u}) slack_.touch(row, now());
  slack_.add_logins(5, now(), 1);
  ASSERT_EQ(dir_.siphon({"once", "corp-access"}).exit_code, 0);
  auto records = dir_.events();
  EXPECT_EQ(records.size(), 58u);
  auto users = count_by(records, "corp-access", "user_id");
  EXPECT_EQ(users.size(), 55u);
  int twice = 0;
  for (const auto& [user, n] : users) twice += n == 2;
  EXPECT_EQ(twice, 3) << "each touched row is delivered again, with its new date_last";
  ASSERT_EQ(dir_.siphon({"once", "corp-access"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 58u);
}

// StreamAlert set last_timestamp to "now" after the first page, so every later
// page was filtered to nothing: activity on old rows was lost.
TEST_F(SlackEndToEnd, AccessRowsOnLaterPagesAreNotSkipped) {
  slack_.add_logins(200, now() - 30 * 86400, 12000);  // 10 pages, all last seen days ago
  ASSERT_EQ(dir_.siphon({"once", "corp-access", "--since", "1h"}).exit_code, 0);
  ASSERT_EQ(dir_.event_lines(), 0u);
  // Rows 0 and 5 are on the last page, 60 and 120 in the middle, 199 on page 1.
  for (size_t row : {0u, 5u, 60u, 120u, 199u}) slack_.touch(row, now());
  const size_t calls = slack_.cursor_calls();
  auto r = dir_.siphon({"once", "corp-access"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(slack_.cursor_calls() - calls, 10u);
  auto users = count_by(dir_.events(), "corp-access", "user_id");
  EXPECT_EQ(users,
            (std::map<std::string, int>{
                {"U100001", 1}, {"U100006", 1}, {"U100061", 1}, {"U100121", 1}, {"U100200", 1}}));
}

TEST_F(SlackEndToEnd, AccessLateRowsWithinTheLookbackAreDeliveredAndKnownOnesAreNot) {
  configure("      page_size: \"20\"\n      lookback_seconds: \"60\"\n");
  slack_.add_logins(30, now() - 20 * 86400, 3600);  // last seen long ago
  slack_.add_logins(10, now() - 40, 1);             // last seen in the last 10 to 40 s
  ASSERT_EQ(dir_.siphon({"once", "corp-access", "--since", "1h"}).exit_code, 0);
  ASSERT_EQ(dir_.event_lines(), 10u);
  slack_.touch(3, now() - 20);  // activity from before that scan, shown only now
  auto r = dir_.siphon({"once", "corp-access"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto users = count_by(dir_.events(), "corp-access", "user_id");
  EXPECT_EQ(dir_.event_lines(), 11u);
  EXPECT_EQ(users["U100004"], 1);
}

TEST_F(SlackEndToEnd, AccessScanStoppedByARateLimitResumesWithNothingSkippedOrRepeated) {
  slack_.add_logins(100, now() - 3600, 20);  // 5 pages
  slack_.set_rate_limit_per_minute(2, 60);   // page 3 gets 429, Retry-After 60 s
  auto r = dir_.siphon({"once", "corp-access", "--since", "2h"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("retry at next run: POST /api/team.accessLogs: HTTP 429"), std::string::npos)
      << r.err;
  EXPECT_EQ(dir_.event_lines(), 40u);
  auto st = dir_.state("corp-access");
  EXPECT_STREQ(st["status"].GetString(), "failed");
  EXPECT_NE(std::string(st["cursor"].GetString()).find("\"scan\""), std::string::npos);

  slack_.add_logins(3, now(), 1);  // new rows on top while the scan waits
  slack_.set_rate_limit_per_minute(0);
  ASSERT_EQ(dir_.siphon({"once", "corp-access"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 100u);
  ASSERT_EQ(dir_.siphon({"once", "corp-access"}).exit_code, 0);
  auto users = count_by(dir_.events(), "corp-access", "user_id");
  EXPECT_EQ(users.size(), 103u);
  EXPECT_EQ(dir_.event_lines(), 103u);
}

TEST_F(SlackEndToEnd, AccessRefusedPagingCursorRescansWithoutLossOrRepeats) {
  slack_.add_logins(100, now() - 3600, 20);  // 5 pages
  slack_.refuse_cursors(1);
  auto r = dir_.siphon({"once", "corp-access", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("paging cursor refused; scanning again"), std::string::npos) << r.err;
  EXPECT_EQ(count_by(dir_.events(), "corp-access", "user_id").size(), 100u);
  EXPECT_EQ(dir_.event_lines(), 100u);

  slack_.touch(10, now());
  slack_.refuse_cursors(1000);  // never accepted: the run ends instead of looping
  r = dir_.siphon({"once", "corp-access"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("invalid_cursor (the scan already began again 3 times)"), std::string::npos)
      << r.err;
  slack_.refuse_cursors(0);
  ASSERT_EQ(dir_.siphon({"once", "corp-access"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 101u);
}

// StreamAlert failed on a 504 with an empty body (its JSON parse broke).
TEST_F(SlackEndToEnd, AccessRateLimitsAndEmptyGatewayErrorsAreRetried) {
  slack_.add_logins(60, now() - 3600, 20);
  Fault limited;
  limited.status = 429;
  limited.retry_after = "1";
  limited.body = R"({"ok":false,"error":"ratelimited"})";
  slack_.inject(limited);
  Fault gateway;
  gateway.status = 504;
  gateway.count = 2;
  gateway.body = "";
  slack_.inject(gateway);
  auto r = dir_.siphon({"once", "corp-access", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_by(dir_.events(), "corp-access", "user_id").size(), 60u);
  EXPECT_EQ(dir_.event_lines(), 60u);
}

TEST_F(SlackEndToEnd, RatelimitedAndInternalErrorBodiesFailTheRunWithoutMovingTheCursor) {
  slack_.add_logins(30, now() - 3600, 20);
  ASSERT_EQ(dir_.siphon({"once", "corp-access", "--since", "2h"}).exit_code, 0);
  const std::string before = cursor("corp-access");
  for (const char* code : {"ratelimited", "internal_error"}) {
    Fault f;
    f.status = 200;
    f.body = std::string(R"({"ok":false,"error":")") + code + "\"}";
    slack_.inject(f);
    auto r = dir_.siphon({"once", "corp-access"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find(std::string("retry at next run: Slack team.accessLogs: HTTP 200, error ") +
                         code),
              std::string::npos)
        << r.err;
    EXPECT_EQ(cursor("corp-access"), before);
  }
  EXPECT_EQ(dir_.event_lines(), 30u);
}

TEST_F(SlackEndToEnd, WrongOrRevokedTokenFailsWithoutDeliveringOrMovingTheCursor) {
  slack_.add_integration_logs(20, now() - 3600, 60);
  ASSERT_EQ(dir_.siphon({"once", "corp-integrations", "--since", "2h"}).exit_code, 0);
  const std::string before = cursor("corp-integrations");
  slack_.add_integration_logs(5, now(), 1);
  const std::string wrong = "xoxp-2718281828-3141592653-5772156649-fedcba9876543210";
  dir_.write("secrets/slack.token", wrong, 0600);
  auto r = dir_.siphon({"once", "corp-integrations"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("credentials refused"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("invalid_auth"), std::string::npos) << r.err;
  EXPECT_EQ((r.out + r.err).find(wrong), std::string::npos) << "token printed";
  auto st = dir_.state("corp-integrations");
  EXPECT_STREQ(st["status"].GetString(), "failed");
  EXPECT_EQ(before, st["cursor"].GetString());
  EXPECT_EQ(dir_.event_lines(), 20u);

  dir_.write("secrets/slack.token", kToken, 0600);
  slack_.revoke(kToken);
  r = dir_.siphon({"once", "corp-integrations"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("token_revoked"), std::string::npos) << r.err;
  EXPECT_EQ((r.out + r.err).find(kToken), std::string::npos) << "token printed";
  EXPECT_EQ(cursor("corp-integrations"), before);
}

TEST_F(SlackEndToEnd, MissingScopeAndFreePlanAreClearErrors) {
  const std::string reader = "xoxp-1000-2000-3000-readeronly";
  slack_.add_token(reader, "users:read");
  dir_.write("secrets/slack.token", reader, 0600);
  auto r = dir_.siphon({"once", "corp-access"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("credentials refused: Slack team.accessLogs: HTTP 200, error "
                       "missing_scope (needed: admin, provided: users:read)"),
            std::string::npos)
      << r.err;
  dir_.write("secrets/slack.token", kToken, 0600);
  slack_.set_paid_plan(false);
  r = dir_.siphon({"once", "corp-access"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("paid_only (team logs need a paid Slack plan)"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("credentials refused"), std::string::npos) << r.err;
}

TEST_F(SlackEndToEnd, AccessPageModeGoesPastPage100WithBefore) {
  configure("      paging: page\n      page_size: \"1\"\n");
  slack_.add_logins(130, now() - 7000, 50);
  auto r = dir_.siphon({"once", "corp-access", "--since", "3h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_by(dir_.events(), "corp-access", "user_id").size(), 130u);
  EXPECT_EQ(dir_.event_lines(), 130u);
  EXPECT_GE(slack_.page_calls(), 130u);
  EXPECT_EQ(slack_.cursor_calls(), 0u);
}

TEST_F(SlackEndToEnd, IntegrationFirstRunThenOnlyNewEntries) {
  slack_.add_integration_logs(10, now() - 5 * 86400, 60);  // before --since
  const int64_t t0 = now() - 3600;
  slack_.add_integration_logs(75, t0, 40);
  auto r = dir_.siphon({"once", "corp-integrations", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(siphon::testing::logged_newest_event_ms(r.err), (t0 + 74 * 40) * 1000, 1000) << r.err;
  auto records = dir_.events();
  ASSERT_EQ(records.size(), 75u);
  EXPECT_STREQ(records[0]["type"].GetString(), "slack_integration");
  EXPECT_TRUE(records[0]["event"]["date"].IsString());
  ASSERT_EQ(dir_.siphon({"once", "corp-integrations"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 75u);
  slack_.add_integration_logs(8, now(), 1);
  ASSERT_EQ(dir_.siphon({"once", "corp-integrations"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 83u);
  std::set<std::string> distinct;
  for (const auto& rec : dir_.events()) distinct.insert(siphon::to_json(rec["event"]));
  EXPECT_EQ(distinct.size(), 83u);
}

// The same StreamAlert bug for integration logs: entries past page 1 of a
// run were filtered out once last_timestamp had become "now".
TEST_F(SlackEndToEnd, IntegrationEntriesOnLaterPagesAreNotSkipped) {
  slack_.add_integration_logs(5, now() - 7200, 60);
  ASSERT_EQ(dir_.siphon({"once", "corp-integrations", "--since", "3h"}).exit_code, 0);
  ASSERT_EQ(dir_.event_lines(), 5u);
  slack_.add_integration_logs(95, now() - 3000, 30);  // 5 pages of new entries
  ASSERT_EQ(dir_.siphon({"once", "corp-integrations"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 100u);
}

TEST_F(SlackEndToEnd, IntegrationEntriesOfTheCheckpointSecondAreDeliveredOnce) {
  const int64_t second = now() - 100;
  slack_.add_integration_logs(3, second, 0);
  ASSERT_EQ(dir_.siphon({"once", "corp-integrations", "--since", "1h"}).exit_code, 0);
  ASSERT_EQ(dir_.event_lines(), 3u);
  slack_.add_integration_logs(2, second, 0);  // arrive late, in the same second
  ASSERT_EQ(dir_.siphon({"once", "corp-integrations"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 5u);
  ASSERT_EQ(dir_.siphon({"once", "corp-integrations"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 5u);
}

TEST_F(SlackEndToEnd, IntegrationRunKilledBetweenPagesResumesWithNothingSkipped) {
  configure(kAccessOptions, "${file:secrets/slack.token}", "1");
  slack_.add_integration_logs(100, now() - 3600, 30);  // 5 pages, a second apart
  pid_t pid = dir_.spawn({"once", "corp-integrations", "--since", "2h"}, "killed");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (dir_.event_lines() < 40 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ::kill(pid, SIGKILL);
  siphon::testing::wait_child(pid, 10);
  const size_t before = dir_.event_lines();
  ASSERT_GE(before, 40u);
  ASSERT_LT(before, 100u) << "the kill came too late to test anything";
  EXPECT_NE(cursor("corp-integrations").find("\"scan\""), std::string::npos);

  configure();
  ASSERT_EQ(dir_.siphon({"once", "corp-integrations"}).exit_code, 0);
  std::set<std::string> distinct;
  for (const auto& rec : dir_.events()) distinct.insert(siphon::to_json(rec["event"]));
  EXPECT_EQ(distinct.size(), 100u);
  EXPECT_LE(dir_.event_lines(), 120u) << "at most the page in flight is delivered twice";
}

TEST_F(SlackEndToEnd, CheckValidatesTheTokenFormatWithoutPrintingIt) {
  auto ok = dir_.siphon({"check"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  for (const std::string bad :
       {"xoxb-2718281828-3141592653-botbotbot", "xoxp-2718281828 3141592653", "Bearer xoxp-1-2",
        "xoxa-2718281828-3141592653", "xoxp-2718281828_3141592653"}) {
    configure(kAccessOptions, "\"" + bad + "\"");
    auto r = dir_.siphon({"check"});
    EXPECT_EQ(r.exit_code, 1) << bad;
    EXPECT_NE((r.out + r.err).find("app corp-access: field auth.auth_token: value does not match"),
              std::string::npos)
        << r.out << r.err;
    EXPECT_NE((r.out + r.err).find("(value not shown: secret)"), std::string::npos);
    EXPECT_EQ((r.out + r.err).find(bad), std::string::npos) << "token printed: " << bad;
  }
  for (const std::string good : {"xoxp-1-2-3-abc", "xoxp-2718281828-3141592653-ABCdef-09"}) {
    configure(kAccessOptions, good);
    auto r = dir_.siphon({"check"});
    EXPECT_EQ(r.exit_code, 0) << good << r.out << r.err;
  }
}

}  // namespace
