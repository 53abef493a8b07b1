// intercom_admin_activity_logs end to end: the real host and
// siphon-intercom.so against the local Intercom imitation (bearer token
// checked, newest-first windows paged through pages.next, 429 countdown,
// faults).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "harness.hpp"
#include "intercom_imitation.hpp"

using siphon::imitation::Fault;
using siphon::imitation::IntercomImitation;
using siphon::testing::count_by;
using siphon::testing::wait_child;
using siphon::testing::Workdir;

namespace {

bool wait_for(const std::function<bool()>& done, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

class IntercomEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    intercom_ = std::make_unique<IntercomImitation>(token_);
    intercom_->set_page_size(20);
    intercom_->start();
    dir_.write("secrets/intercom.token", token_ + "\n", 0600);
    configure();
  }
  void configure(const std::string& extra_options = "",
                 const std::string& token = "${file:secrets/intercom.token}") {
    dir_.write_config(
        "  - name: corp-intercom\n"
        "    type: intercom_admin_activity_logs\n"
        "    auth:\n"
        "      token: " +
        token +
        "\n"
        "    options:\n"
        "      base_url: " +
        intercom_->base_url() +
        "\n"
        "      delay_seconds: \"0\"\n" +
        extra_options);
  }
  std::map<std::string, int> ids() const { return count_by(dir_.events(), "corp-intercom", "id"); }
  int64_t now_s() const { return siphon::imitation::now_ms() / 1000; }
  size_t calls() const { return intercom_->requests("/admins/activity_logs"); }

  const std::string token_ = IntercomImitation::make_token();
  Workdir dir_;
  std::unique_ptr<IntercomImitation> intercom_;
};

// Configs written for earlier versions keep loading: the option is accepted
// and has no effect (the host waits out the rate-limit headers).
TEST_F(IntercomEndToEnd, TheRetiredRateLimitOptionIsStillAccepted) {
  configure("      rate_limit_max_wait_seconds: \"30\"\n");
  intercom_->add_activities(5, now_s() - 300, 1);
  auto r = dir_.siphon({"check"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = dir_.siphon({"once", "corp-intercom", "--since", "1h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ids().size(), 5u);
}

TEST_F(IntercomEndToEnd, FirstRunDeliversEveryActivityOnceWithTheVersionHeader) {
  configure("      intercom_version: \"2.11\"\n");
  const int64_t t0 = now_s() - 3000;
  intercom_->add_activities(95, t0, 1);
  auto r = dir_.siphon({"once", "corp-intercom", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(siphon::testing::logged_newest_event_ms(r.err), (t0 + 94) * 1000, 1000) << r.err;
  auto records = dir_.events();
  ASSERT_EQ(records.size(), 95u);
  EXPECT_EQ(ids().size(), 95u);
  const auto& rec = records.front();
  EXPECT_EQ(rec.MemberCount(), 5u);
  EXPECT_STREQ(rec["type"].GetString(), "intercom_admin_activity_logs");
  EXPECT_STREQ(rec["service"].GetString(), "intercom");
  EXPECT_TRUE(rec["event"]["performed_by"].IsObject());
  EXPECT_EQ(calls(), 5u) << "20 a page, 95 activities";
  EXPECT_EQ(intercom_->last_version(), "2.11");
  auto st = dir_.state("corp-intercom");
  EXPECT_STREQ(st["status"].GetString(), "succeeded");
}

// StreamAlert moved last_timestamp to the newest created_at after the first
// page and then dropped every older activity of the later pages (Intercom
// serves a window newest first).
TEST_F(IntercomEndToEnd, OlderActivitiesOnLaterPagesAreNotSkipped) {
  intercom_->add_activities(100, now_s() - 1000, 1);
  ASSERT_EQ(dir_.siphon({"once", "corp-intercom", "--since", "1h"}).exit_code, 0);
  EXPECT_EQ(ids().size(), 100u);
  EXPECT_EQ(dir_.event_lines(), 100u);
  EXPECT_EQ(calls(), 5u);
}

// StreamAlert kept activities with created_at > last_timestamp only, so one
// that Intercom showed later in the checkpoint's second was lost.
TEST_F(IntercomEndToEnd, ActivitiesSharingTheCheckpointSecondAreNotLost) {
  const int64_t t = now_s() - 100;
  intercom_->add_activities(10, t - 9, 1);  // the newest at t
  ASSERT_EQ(dir_.siphon({"once", "corp-intercom", "--since", "1h"}).exit_code, 0);
  ASSERT_EQ(dir_.event_lines(), 10u);
  const std::string late = intercom_->add_activity(t);
  ASSERT_EQ(dir_.siphon({"once", "corp-intercom"}).exit_code, 0);
  auto delivered = ids();
  EXPECT_EQ(dir_.event_lines(), 11u);
  EXPECT_EQ(delivered.size(), 11u);
  EXPECT_EQ(delivered[late], 1);
}

TEST_F(IntercomEndToEnd, ASecondRunDeliversOnlyNewActivities) {
  intercom_->add_activities(50, now_s() - 2000, 1);
  ASSERT_EQ(dir_.siphon({"once", "corp-intercom", "--since", "1h"}).exit_code, 0);
  ASSERT_EQ(dir_.siphon({"once", "corp-intercom"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 50u) << "nothing new, nothing delivered";
  intercom_->add_activities(30, now_s() - 30, 1);
  ASSERT_EQ(dir_.siphon({"once", "corp-intercom"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 80u);
  EXPECT_EQ(ids().size(), 80u);
}

TEST_F(IntercomEndToEnd, CreatedAtAsStringAndNextAsObjectAreUnderstood) {
  intercom_->set_created_at_as_string(true);
  intercom_->set_next_as_object(true);
  const int64_t start = now_s() - 2000;
  intercom_->add_activities(70, start, 2);
  ASSERT_EQ(dir_.siphon({"once", "corp-intercom", "--since", "1h"}).exit_code, 0);
  EXPECT_EQ(ids().size(), 70u);
  EXPECT_EQ(calls(), 4u);
  ASSERT_EQ(dir_.siphon({"once", "corp-intercom"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 70u) << "the string times moved the checkpoint";
  std::string cursor = dir_.state("corp-intercom")["cursor"].GetString();
  EXPECT_NE(cursor.find("\"after\":" + std::to_string(start + 34)), std::string::npos) << cursor;
}

// StreamAlert kept pages.next in memory only.
TEST_F(IntercomEndToEnd, KilledBetweenPagesResumesFromTheSavedNextPage) {
  intercom_->add_activities(100, now_s() - 1000, 1);
  Fault slow;
  slow.delay_ms = 4000;
  intercom_->fail_pages_after(2, slow);
  pid_t pid = dir_.spawn({"once", "corp-intercom", "--since", "1h"}, "killed");
  ASSERT_TRUE(wait_for([&] { return calls() >= 3; }, 20000));
  // Page 2 is committed while the request for page 3 is still out.
  ASSERT_TRUE(wait_for(
      [&] {
        auto st = dir_.state("corp-intercom");
        return st.IsObject() && st["events_total"].GetInt() == 40;
      },
      3000));
  ::kill(pid, SIGKILL);
  EXPECT_EQ(wait_child(pid, 10), 128 + SIGKILL);
  ASSERT_EQ(dir_.event_lines(), 40u);
  std::string cursor = dir_.state("corp-intercom")["cursor"].GetString();
  EXPECT_NE(cursor.find("page=3"), std::string::npos) << cursor;
  EXPECT_NE(cursor.find("\"before\""), std::string::npos) << "the window is kept: " << cursor;

  auto r = dir_.siphon({"once", "corp-intercom"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto delivered = ids();
  EXPECT_EQ(delivered.size(), 100u);
  for (const auto& [id, n] : delivered) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(calls(), 3u + 3u) << "the rerun read pages 3 to 5 only";
}

TEST_F(IntercomEndToEnd, AFailedPageIsReadAgainByTheNextRunWithNothingSkipped) {
  intercom_->add_activities(100, now_s() - 1000, 1);
  Fault broken;
  broken.status = 503;
  broken.count = 50;
  broken.body =
      R"({"type":"error.list","request_id":null,"errors":[{"code":"service_unavailable","message":"Service Unavailable"}]})";
  intercom_->fail_pages_after(3, broken);
  auto r = dir_.siphon({"once", "corp-intercom", "--since", "1h"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(dir_.event_lines(), 60u);
  intercom_->fail_pages_after(-1, Fault{});
  ASSERT_EQ(dir_.siphon({"once", "corp-intercom"}).exit_code, 0);
  EXPECT_EQ(ids().size(), 100u);
  EXPECT_EQ(dir_.event_lines(), 100u);
}

TEST_F(IntercomEndToEnd, RateLimitsAndServerErrorsAreRecovered) {
  intercom_->add_activities(100, now_s() - 1000, 1);
  Fault limited;
  limited.status = 429;
  limited.count = 2;
  limited.body =
      R"({"type":"error.list","request_id":null,"errors":[{"code":"rate_limit_exceeded","message":"Exceeded rate limit"}]})";
  intercom_->inject(limited);
  Fault broken;
  broken.status = 500;
  broken.body =
      R"({"type":"error.list","request_id":null,"errors":[{"code":"server_error","message":"Server Error"}]})";
  intercom_->inject(broken);
  Fault cut;
  cut.truncate = true;
  intercom_->inject(cut);
  auto r = dir_.siphon({"once", "corp-intercom", "--since", "1h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ids().size(), 100u);
  EXPECT_EQ(dir_.event_lines(), 100u);
}

TEST_F(IntercomEndToEnd, NoCallsLeftInTheSliceIsWaitedOutInsteadOfSpentOnA429) {
  intercom_->add_activities(100, now_s() - 1000, 1);
  intercom_->set_rate_limit(2, 1);
  auto r = dir_.siphon({"once", "corp-intercom", "--since", "1h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ids().size(), 100u);
  EXPECT_EQ(intercom_->rate_limited_calls(), 0) << "X-RateLimit-Remaining 0 was honoured";
}

TEST_F(IntercomEndToEnd, WrongTokenFailsWithoutMovingTheCursor) {
  intercom_->add_activities(30, now_s() - 1000, 1);
  ASSERT_EQ(dir_.siphon({"once", "corp-intercom", "--since", "1h"}).exit_code, 0);
  std::string cursor = dir_.state("corp-intercom")["cursor"].GetString();
  const std::string wrong = IntercomImitation::make_token();
  dir_.write("secrets/intercom.token", wrong, 0600);
  intercom_->add_activities(10, now_s() - 20, 1);
  auto r = dir_.siphon({"once", "corp-intercom"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Access Token Invalid"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("credentials refused"), std::string::npos) << r.err;
  for (const std::string& secret : {wrong, token_})
    EXPECT_EQ((r.out + r.err).find(secret), std::string::npos) << "token printed";
  EXPECT_EQ(dir_.event_lines(), 30u);
  auto st = dir_.state("corp-intercom");
  EXPECT_STREQ(st["status"].GetString(), "failed");
  EXPECT_EQ(cursor, st["cursor"].GetString());
  dir_.write("secrets/intercom.token", token_, 0600);
  ASSERT_EQ(dir_.siphon({"once", "corp-intercom"}).exit_code, 0);
  EXPECT_EQ(ids().size(), 40u);
}

TEST_F(IntercomEndToEnd, PlanRestrictedWorkspaceFailsWithIntercomsReason) {
  intercom_->set_plan_restricted(true);
  auto r = dir_.siphon({"once", "corp-intercom", "--since", "1h"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("api_plan_restricted"), std::string::npos) << r.err;
}

TEST_F(IntercomEndToEnd, TheTokenIsCheckedAgainstItsRegexWithoutBeingPrinted) {
  auto ok = dir_.siphon({"check"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  dir_.write("secrets/intercom.token", "dG9rOmFiYzEyMzQ1Njc4OTA=", 0600);
  EXPECT_EQ(dir_.siphon({"check"}).exit_code, 0);
  for (const std::string bad :
       {"xoxp-1234-5678", "Bearer dG9rOmFiYw==", "dG9rOm FiYw==", "dg9rOmFiYw==", "tok:abc"}) {
    dir_.write("secrets/intercom.token", bad, 0600);
    auto r = dir_.siphon({"check"});
    EXPECT_EQ(r.exit_code, 1) << bad;
    EXPECT_NE(r.out.find("app corp-intercom: field auth.token: value does not match"),
              std::string::npos)
        << r.out;
    EXPECT_EQ((r.out + r.err).find(bad), std::string::npos) << "token printed";
  }
  dir_.write("secrets/intercom.token", token_, 0600);
  configure("      region: \"mars\"\n");
  auto region = dir_.siphon({"check"});
  EXPECT_EQ(region.exit_code, 1);
  EXPECT_NE(region.out.find("region"), std::string::npos) << region.out;
  EXPECT_EQ(intercom_->requests(), 0u) << "check uses no network";
}

}  // namespace
