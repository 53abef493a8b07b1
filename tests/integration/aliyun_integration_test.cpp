// aliyun_actiontrail end to end: the real host and siphon-aliyun.so against
// the local ActionTrail imitation (signatures recomputed and checked, windows,
// NextToken paging newest first, Alibaba Cloud's error bodies).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <set>
#include <siphon/time_format.hpp>
#include <thread>

#include "aliyun_imitation.hpp"
#include "harness.hpp"

using siphon::imitation::AliyunImitation;
using siphon::imitation::Fault;
using siphon::testing::count_by;
using siphon::testing::Workdir;

namespace {

const char kKeyId[] = "LTAI5tB7mQ2xRzK9pWvE3nYd";
const char kSecret[] = "Xq8vT2mN5kL9pR3wY7zA1cF4hJ6sD0";

class AliyunEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    trail_.start();
    dir_.write("secrets/aliyun.secret", std::string(kSecret) + "\n", 0600);
    configure();
  }
  void configure(const std::string& options = "      calls_per_second: \"0\"\n",
                 const std::string& key_id = kKeyId,
                 const std::string& secret_ref = "${file:secrets/aliyun.secret}",
                 const std::string& region = "cn-hangzhou") {
    dir_.write_config(
        "  - name: corp-trail\n    type: aliyun_actiontrail\n    auth:\n      access_key_id: " +
        key_id + "\n      access_key_secret: " + secret_ref + "\n      region_id: " + region +
        "\n    options:\n      base_url: " + trail_.base_url() +
        "\n      max_results: \"10\"\n      delay_seconds: \"0\"\n" + options);
  }
  int64_t now() const { return siphon::imitation::now_ms() / 1000; }
  std::string cursor() {
    auto st = dir_.state("corp-trail");
    return st.HasMember("cursor") && st["cursor"].IsString() ? st["cursor"].GetString() : "";
  }
  void wait_past(int64_t second) const {
    while (now() <= second) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::map<std::string, int> ids() { return count_by(dir_.events(), "corp-trail", "eventId"); }

  AliyunImitation trail_{kKeyId, kSecret};
  Workdir dir_;
};

TEST_F(AliyunEndToEnd, FirstRunDeliversEveryEventOnceInTheRecordShape) {
  trail_.add_events(5, now() - 3 * 3600, 60);  // before --since
  const int64_t t0 = now() - 3600;
  trail_.add_events(95, t0, 30);
  auto r = dir_.siphon({"once", "corp-trail", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(siphon::testing::logged_newest_event_ms(r.err), (t0 + 94 * 30) * 1000, 1000) << r.err;
  auto records = dir_.events();
  ASSERT_EQ(records.size(), 95u);
  EXPECT_EQ(ids().size(), 95u);
  const auto& rec = records.front();
  ASSERT_EQ(rec.MemberCount(), 5u);
  EXPECT_STREQ(rec["type"].GetString(), "aliyun_actiontrail");
  EXPECT_STREQ(rec["service"].GetString(), "aliyun");
  EXPECT_TRUE(rec["event"]["userIdentity"].IsObject());
  EXPECT_EQ(trail_.requests("/"), 10u);
  auto st = dir_.state("corp-trail");
  EXPECT_STREQ(st["status"].GetString(), "succeeded");
  EXPECT_EQ(std::string(st["cursor"].GetString()).find("token"), std::string::npos);
}

// StreamAlert read the stored StartTime before computing the first-run default,
// so a first run asked from "None". Here a first run without --since starts one
// interval (10 minutes by default) ago.
TEST_F(AliyunEndToEnd, FirstRunWithoutSinceStartsOneIntervalAgo) {
  trail_.add_events(20, now() - 1190, 60);  // one a minute over the last 20 minutes
  auto r = dir_.siphon({"once", "corp-trail"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(dir_.event_lines(), 10u);
  for (const auto& rec : dir_.events())
    EXPECT_GE(siphon::timefmt::parse_rfc3339(rec["event"]["eventTime"].GetString()) / 1000,
              now() - 601);
}

TEST_F(AliyunEndToEnd, LaterRunsDeliverOnlyNewEventsAndTheWindowEdgeOnce) {
  // Events every second around now: the first window ends inside them, and the
  // second window starts at that same (inclusive) second.
  const int64_t t = now();
  trail_.add_events(14, t - 10, 1);
  trail_.add_events(40, t - 3000, 60);
  ASSERT_EQ(dir_.siphon({"once", "corp-trail", "--since", "1h"}).exit_code, 0);
  const size_t first = dir_.event_lines();
  EXPECT_GE(first, 51u);
  EXPECT_LT(first, 54u);
  wait_past(t + 3);
  auto r = dir_.siphon({"once", "corp-trail"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(dir_.event_lines(), 54u);
  EXPECT_EQ(ids().size(), 54u);
  ASSERT_EQ(dir_.siphon({"once", "corp-trail"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 54u);
}

TEST_F(AliyunEndToEnd, LateEventsInAClosedWindowArriveThroughTheLookback) {
  configure("      calls_per_second: \"0\"\n      lookback_seconds: \"60\"\n");
  trail_.add_events(30, now() - 29, 1);  // the last half minute: inside the next lookback
  trail_.add_events(20, now() - 3000, 60);
  ASSERT_EQ(dir_.siphon({"once", "corp-trail", "--since", "1h"}).exit_code, 0);
  ASSERT_EQ(dir_.event_lines(), 50u);
  trail_.add_events(4, now() - 10, 1);  // shown late, inside the window already read
  auto r = dir_.siphon({"once", "corp-trail"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ids().size(), 54u);
  EXPECT_EQ(dir_.event_lines(), 54u) << "events of the lookback already delivered come once";
}

// StreamAlert moved the checkpoint to EndTime with the first page of a window,
// so a run that ended mid-window lost the rest of it.
TEST_F(AliyunEndToEnd, AStopMidWindowResumesWithoutLosingTheRestOfTheWindow) {
  trail_.add_events(50, now() - 3000, 60);
  trail_.set_calls_per_second_limit(1);  // the second call of the run is throttled
  auto r = dir_.siphon({"once", "corp-trail", "--since", "1h"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("retry at next run: ActionTrail LookupEvents: HTTP 400, Throttling.User"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(dir_.event_lines(), 10u);
  const std::string stopped = cursor();
  EXPECT_NE(stopped.find("\"token\""), std::string::npos) << stopped;
  EXPECT_NE(stopped.find("\"end\""), std::string::npos) << stopped;

  trail_.set_calls_per_second_limit(0);
  const int64_t later = now() + 1;  // after the open window's end: for the next window
  trail_.add_events(3, later, 0);
  ASSERT_EQ(dir_.siphon({"once", "corp-trail"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 50u);
  EXPECT_EQ(ids().size(), 50u);
  wait_past(later);
  ASSERT_EQ(dir_.siphon({"once", "corp-trail"}).exit_code, 0);
  EXPECT_EQ(ids().size(), 53u);
  EXPECT_EQ(dir_.event_lines(), 53u);
}

TEST_F(AliyunEndToEnd, ARunKilledBetweenPagesResumesWithNothingSkipped) {
  configure("      calls_per_second: \"1\"\n");  // one call a second
  trail_.add_events(60, now() - 3000, 45);
  pid_t pid = dir_.spawn({"once", "corp-trail", "--since", "1h"}, "killed");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (dir_.event_lines() < 20 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ::kill(pid, SIGKILL);
  siphon::testing::wait_child(pid, 10);
  const size_t before = dir_.event_lines();
  ASSERT_GE(before, 20u);
  ASSERT_LT(before, 60u) << "the kill came too late to test anything";
  EXPECT_NE(cursor().find("\"token\""), std::string::npos);
  configure();
  ASSERT_EQ(dir_.siphon({"once", "corp-trail"}).exit_code, 0);
  EXPECT_EQ(ids().size(), 60u);
  EXPECT_LE(dir_.event_lines(), 70u) << "at most the page in flight is delivered twice";
}

TEST_F(AliyunEndToEnd, PacingKeepsToTwoCallsASecond) {
  configure("      calls_per_second: \"2\"\n");
  trail_.set_calls_per_second_limit(2);
  trail_.add_events(70, now() - 3000, 40);  // 7 pages
  auto r = dir_.siphon({"once", "corp-trail", "--since", "1h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ids().size(), 70u);
  EXPECT_LE(trail_.busiest_second(), 2);
}

TEST_F(AliyunEndToEnd, ServerErrorsAreRetried) {
  trail_.add_events(30, now() - 3000, 60);
  Fault f;
  f.status = 500;
  f.body =
      R"({"RequestId":"X","Code":"InternalError","Message":"The request processing has failed due to some unknown error."})";
  trail_.inject(f);
  Fault unavailable;
  unavailable.status = 503;
  unavailable.body =
      R"({"RequestId":"Y","Code":"ServiceUnavailable","Message":"The request has failed due to a temporary failure of the server."})";
  trail_.inject(unavailable);
  Fault throttled;  // Throttling sometimes comes as a 503
  throttled.status = 503;
  throttled.body =
      R"({"RequestId":"Z","Code":"Throttling.User","Message":"Request was denied due to user flow control."})";
  trail_.inject(throttled);
  auto r = dir_.siphon({"once", "corp-trail", "--since", "1h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(dir_.event_lines(), 30u);
}

TEST_F(AliyunEndToEnd, WrongSecretOrKeyFailsWithoutMovingTheCursor) {
  trail_.add_events(20, now() - 3000, 60);
  ASSERT_EQ(dir_.siphon({"once", "corp-trail", "--since", "1h"}).exit_code, 0);
  const std::string before = cursor();
  const int64_t later = now() + 1;
  trail_.add_events(5, later, 0);
  wait_past(later);
  const std::string wrong = "Zq8vT2mN5kL9pR3wY7zA1cF4hJ6sD1";
  dir_.write("secrets/aliyun.secret", wrong, 0600);
  auto r = dir_.siphon({"once", "corp-trail"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("credentials refused: ActionTrail LookupEvents: HTTP 400, "
                       "SignatureDoesNotMatch"),
            std::string::npos)
      << r.err;
  for (const std::string& secret : {wrong, std::string(kSecret), std::string(kKeyId)})
    EXPECT_EQ((r.out + r.err).find(secret), std::string::npos) << "printed: " << secret;
  EXPECT_STREQ(dir_.state("corp-trail")["status"].GetString(), "failed");
  EXPECT_EQ(cursor(), before);

  dir_.write("secrets/aliyun.secret", kSecret, 0600);
  configure("      calls_per_second: \"0\"\n", "LTAI5tNobodyKnowsThisKey");
  r = dir_.siphon({"once", "corp-trail"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("InvalidAccessKeyId.NotFound"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("LTAI5tNobodyKnowsThisKey"), std::string::npos) << r.err;
  EXPECT_EQ(cursor(), before);

  configure();
  trail_.set_key_inactive(true);
  r = dir_.siphon({"once", "corp-trail"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("credentials refused"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("InvalidAccessKeyId.Inactive"), std::string::npos) << r.err;
  EXPECT_EQ(cursor(), before);

  trail_.set_key_inactive(false);
  ASSERT_EQ(dir_.siphon({"once", "corp-trail"}).exit_code, 0);
  EXPECT_EQ(ids().size(), 25u);
}

TEST_F(AliyunEndToEnd, ARefusedNextTokenRereadsTheWindowAndLosesNothing) {
  trail_.add_events(40, now() - 3000, 60);
  trail_.set_calls_per_second_limit(1);
  EXPECT_EQ(dir_.siphon({"once", "corp-trail", "--since", "1h"}).exit_code, 1);
  ASSERT_EQ(dir_.event_lines(), 10u);
  trail_.set_calls_per_second_limit(0);
  trail_.invalidate_tokens();
  auto r = dir_.siphon({"once", "corp-trail"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("NextToken refused"), std::string::npos) << r.err;
  EXPECT_EQ(ids().size(), 40u);
}

TEST_F(AliyunEndToEnd, NextTokensRefusedAgainAndAgainEndTheRunInsteadOfLooping) {
  trail_.add_events(30, now() - 3000, 60);
  trail_.set_refuse_all_tokens(true);
  auto r = dir_.siphon({"once", "corp-trail", "--since", "1h"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("was already read again 3 times"), std::string::npos) << r.err;
  EXPECT_EQ(trail_.requests("/"), 8u);  // 4 first pages, 4 refused tokens
  EXPECT_NE(cursor().find("\"end\""), std::string::npos) << "the window stays open";
  trail_.set_refuse_all_tokens(false);
  ASSERT_EQ(dir_.siphon({"once", "corp-trail"}).exit_code, 0);
  EXPECT_EQ(ids().size(), 30u);
}

TEST_F(AliyunEndToEnd, CheckValidatesEveryAuthFieldWithoutPrintingSecrets) {
  auto ok = dir_.siphon({"check"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  for (const char* region : {"cn-hangzhou", "ap-southeast-5", "me-east-1", "us-east-1"}) {
    configure("", kKeyId, "${file:secrets/aliyun.secret}", region);
    auto r = dir_.siphon({"check"});
    EXPECT_EQ(r.exit_code, 0) << region << r.out << r.err;
  }
  for (const char* region : {"cn-mars-1", "CN-HANGZHOU", "cn-hangzhou ", "ap-southeast-4"}) {
    configure("", kKeyId, "${file:secrets/aliyun.secret}", std::string("\"") + region + "\"");
    auto r = dir_.siphon({"check"});
    EXPECT_EQ(r.exit_code, 1) << region;
    EXPECT_NE((r.out + r.err).find("app corp-trail: field auth.region_id: value does not match"),
              std::string::npos)
        << r.out << r.err;
  }
  // access_key_id and access_key_secret accept any text (StreamAlert's .*);
  // the plugin refuses empty values and whitespace, naming the field only.
  struct Bad {
    std::string id, secret, field;
  };
  dir_.write("secrets/spaced.secret", "Xq8vT2mN5k L9pR3w", 0600);
  dir_.write("secrets/empty.secret", "", 0600);
  for (const Bad& bad : {Bad{"\"\"", "${file:secrets/aliyun.secret}", "access_key_id"},
                         Bad{"\"LTAI5t key\"", "${file:secrets/aliyun.secret}", "access_key_id"},
                         Bad{kKeyId, "${file:secrets/spaced.secret}", "access_key_secret"},
                         Bad{kKeyId, "${file:secrets/empty.secret}", "access_key_secret"}}) {
    configure("", bad.id, bad.secret);
    auto r = dir_.siphon({"check"});
    const std::string all = r.out + r.err;
    EXPECT_EQ(r.exit_code, 1) << bad.id << " " << bad.secret;
    EXPECT_NE(all.find("auth field " + bad.field), std::string::npos) << all;
    for (const char* secret : {"LTAI5t key", "Xq8vT2mN5k L9pR3w", kSecret})
      EXPECT_EQ(all.find(secret), std::string::npos) << all;
  }
}

}  // namespace
