// onelogin_events end to end: the real host and siphon-onelogin.so against the
// local OneLogin imitation (client credentials checked, bearer tokens with
// expiry, next_link paging, the rate-limit body, faults).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "harness.hpp"
#include "onelogin_imitation.hpp"

using siphon::imitation::Fault;
using siphon::imitation::OneLoginImitation;
using siphon::testing::wait_child;
using siphon::testing::Workdir;

namespace {

using Limit = OneLoginImitation::LimitSignal;

// Delivered event ids of one app, with how often each arrived.
std::map<int64_t, int> ids_of(const std::vector<rapidjson::Document>& records) {
  std::map<int64_t, int> out;
  for (const auto& r : records)
    if (std::string(r["app"].GetString()) == "corp-onelogin") ++out[r["event"]["id"].GetInt64()];
  return out;
}

bool wait_for(const std::function<bool()>& done, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

class OneLoginEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    onelogin_ = std::make_unique<OneLoginImitation>(id_, secret_);
    onelogin_->start();
    dir_.write("secrets/onelogin.id", id_ + "\n", 0600);
    dir_.write("secrets/onelogin.secret", secret_ + "\n", 0600);
    configure();
  }
  void configure(const std::string& limit = "50", const std::string& region = "us",
                 const std::string& client_id = "${file:secrets/onelogin.id}",
                 const std::string& settings = "") {
    dir_.write_config(
        "  - name: corp-onelogin\n"
        "    type: onelogin_events\n" +
        settings +
        "    auth:\n"
        "      region: " +
        region +
        "\n"
        "      client_id: " +
        client_id +
        "\n"
        "      client_secret: ${file:secrets/onelogin.secret}\n"
        "    options:\n"
        "      base_url: " +
        onelogin_->base_url() +
        "\n"
        "      delay_seconds: \"0\"\n"
        "      rate_limit_max_wait_seconds: \"5\"\n"
        "      limit: \"" +
        limit + "\"\n");
  }
  int64_t now() const { return siphon::imitation::now_ms(); }
  size_t event_calls() const { return onelogin_->requests("/api/1/events"); }

  const std::string id_ = OneLoginImitation::make_credential();
  const std::string secret_ = OneLoginImitation::make_credential();
  Workdir dir_;
  std::unique_ptr<OneLoginImitation> onelogin_;
};

TEST_F(OneLoginEndToEnd, FirstRunDeliversEveryEventOnceThroughNextLinks) {
  const int64_t t0 = now() - 3600 * 1000;
  onelogin_->add_events(230, t0, 1000);
  auto r = dir_.siphon({"once", "corp-onelogin", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(siphon::testing::logged_newest_event_ms(r.err), t0 + 229 * 1000, 1000) << r.err;
  auto records = dir_.events();
  ASSERT_EQ(records.size(), 230u);
  auto ids = ids_of(records);
  EXPECT_EQ(ids.size(), 230u);
  const auto& rec = records.front();
  EXPECT_EQ(rec.MemberCount(), 5u);
  EXPECT_STREQ(rec["type"].GetString(), "onelogin_events");
  EXPECT_STREQ(rec["service"].GetString(), "onelogin");
  EXPECT_TRUE(rec["event"]["created_at"].IsString());
  EXPECT_EQ(event_calls(), 5u) << "50 a page, 230 events";
  EXPECT_EQ(onelogin_->issued_tokens(), 1);
  EXPECT_EQ(onelogin_->last_token_form(), "header");
  auto st = dir_.state("corp-onelogin");
  EXPECT_STREQ(st["status"].GetString(), "succeeded");
  std::string cursor = st["cursor"].GetString();
  EXPECT_EQ(cursor.find("\"next\""), std::string::npos) << "window closed: " << cursor;
}

TEST_F(OneLoginEndToEnd, ASecondRunDeliversOnlyNewEvents) {
  onelogin_->add_events(120, now() - 3600 * 1000, 1000);
  ASSERT_EQ(dir_.siphon({"once", "corp-onelogin", "--since", "2h"}).exit_code, 0);
  ASSERT_EQ(dir_.event_lines(), 120u);
  auto again = dir_.siphon({"once", "corp-onelogin"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(dir_.event_lines(), 120u) << "nothing new, nothing delivered";
  onelogin_->add_events(40, now() - 500, 10);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(dir_.siphon({"once", "corp-onelogin"}).exit_code, 0);
  auto ids = ids_of(dir_.events());
  EXPECT_EQ(dir_.event_lines(), 160u);
  EXPECT_EQ(ids.size(), 160u);
  EXPECT_EQ(onelogin_->issued_tokens(), 1) << "the token is kept across runs";
}

TEST_F(OneLoginEndToEnd, LateEventAtTheCheckpointTimeIsDeliveredAndNothingTwice) {
  const int64_t t = now() - 60000;
  onelogin_->add_events(10, t - 9000, 1000);  // the newest at t
  ASSERT_EQ(dir_.siphon({"once", "corp-onelogin", "--since", "1h"}).exit_code, 0);
  ASSERT_EQ(dir_.event_lines(), 10u);
  // OneLogin shows one more event carrying exactly the checkpoint's time.
  const int64_t late = onelogin_->add_event(t);
  ASSERT_EQ(dir_.siphon({"once", "corp-onelogin"}).exit_code, 0);
  auto ids = ids_of(dir_.events());
  EXPECT_EQ(dir_.event_lines(), 11u);
  EXPECT_EQ(ids.size(), 11u);
  EXPECT_EQ(ids[late], 1);
}

// StreamAlert took the last row's created_at as the checkpoint; with rows in
// id order that is not always the newest, and a later run re-read (or, in
// descending order, skipped) events.
TEST_F(OneLoginEndToEnd, CheckpointIsTheNewestCreatedAtNotTheLastRow) {
  onelogin_->add_events(20, now() - 120000, 1000);
  onelogin_->add_event(now() - 600000);  // highest id, oldest time: the last row
  ASSERT_EQ(dir_.siphon({"once", "corp-onelogin", "--since", "1h"}).exit_code, 0);
  ASSERT_EQ(dir_.event_lines(), 21u);
  ASSERT_EQ(dir_.siphon({"once", "corp-onelogin"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 21u) << "nothing delivered twice";
  onelogin_->add_events(3, now() - 100, 10);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(dir_.siphon({"once", "corp-onelogin"}).exit_code, 0);
  EXPECT_EQ(ids_of(dir_.events()).size(), 24u);
  EXPECT_EQ(dir_.event_lines(), 24u);
}

// StreamAlert kept next_link in memory only: a run cut short between pages
// restarted from its last timestamp and lost or repeated pages.
TEST_F(OneLoginEndToEnd, KilledBetweenPagesResumesFromTheSavedNextLink) {
  onelogin_->add_events(300, now() - 3600 * 1000, 1000);
  Fault slow;
  slow.delay_ms = 4000;
  onelogin_->fail_pages_after(2, slow);
  pid_t pid = dir_.spawn({"once", "corp-onelogin", "--since", "2h"}, "killed");
  ASSERT_TRUE(wait_for([&] { return event_calls() >= 3; }, 20000));
  // Page 2 is committed while the request for page 3 is still out.
  ASSERT_TRUE(wait_for(
      [&] {
        auto st = dir_.state("corp-onelogin");
        return st.IsObject() && st["events_total"].GetInt() == 100;
      },
      3000));
  ::kill(pid, SIGKILL);
  EXPECT_EQ(wait_child(pid, 10), 128 + SIGKILL);
  ASSERT_EQ(dir_.event_lines(), 100u) << "two pages were delivered before the kill";
  std::string cursor = dir_.state("corp-onelogin")["cursor"].GetString();
  EXPECT_NE(cursor.find("after_cursor="), std::string::npos) << cursor;

  auto r = dir_.siphon({"once", "corp-onelogin"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ids = ids_of(dir_.events());
  EXPECT_EQ(ids.size(), 300u);
  for (const auto& [id, n] : ids) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(event_calls(), 3u + 4u) << "the rerun read pages 3 to 6 only";
}

TEST_F(OneLoginEndToEnd, AFailedPageIsReadAgainByTheNextRunWithNothingSkipped) {
  onelogin_->add_events(300, now() - 3600 * 1000, 1000);
  Fault broken;
  broken.status = 500;
  broken.count = 50;  // more than the host's retries
  broken.body =
      R"({"status":{"error":true,"code":500,"type":"internal server error","message":"Internal Server Error"}})";
  onelogin_->fail_pages_after(3, broken);
  auto r = dir_.siphon({"once", "corp-onelogin", "--since", "2h"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(dir_.event_lines(), 150u);
  EXPECT_STREQ(dir_.state("corp-onelogin")["status"].GetString(), "failed");
  onelogin_->fail_pages_after(-1, Fault{});
  ASSERT_EQ(dir_.siphon({"once", "corp-onelogin"}).exit_code, 0);
  auto ids = ids_of(dir_.events());
  EXPECT_EQ(ids.size(), 300u);
  EXPECT_EQ(dir_.event_lines(), 300u);
}

TEST_F(OneLoginEndToEnd, ServerErrorsAndTruncatedBodiesAreRetried) {
  onelogin_->add_events(120, now() - 3600 * 1000, 1000);
  Fault broken;
  broken.status = 503;
  broken.count = 2;
  broken.path_prefix = "/api/1/events";
  onelogin_->inject(broken);
  Fault cut;
  cut.truncate = true;
  cut.path_prefix = "/api/1/events";
  onelogin_->inject(cut);
  auto r = dir_.siphon({"once", "corp-onelogin", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ids_of(dir_.events()).size(), 120u);
  EXPECT_EQ(dir_.event_lines(), 120u);
}

TEST_F(OneLoginEndToEnd, AnExpiredPageCursorRereadsTheWindowWithoutLoss) {
  onelogin_->add_events(200, now() - 3600 * 1000, 1000);
  Fault broken;
  broken.status = 500;
  broken.count = 50;
  onelogin_->fail_pages_after(2, broken);
  EXPECT_EQ(dir_.siphon({"once", "corp-onelogin", "--since", "2h"}).exit_code, 1);
  ASSERT_EQ(dir_.event_lines(), 100u);
  onelogin_->fail_pages_after(-1, Fault{});
  onelogin_->expire_page_cursors();
  auto r = dir_.siphon({"once", "corp-onelogin"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("next_link was refused"), std::string::npos) << r.err;
  EXPECT_EQ(ids_of(dir_.events()).size(), 200u) << "every event delivered";
}

// StreamAlert computed a sleep from /auth/rate_limit but its failed poll had
// already ended the run, so a rate-limited run stopped with pages unread.
TEST_F(OneLoginEndToEnd, RateLimitBodyPausesUntilTheResetAndTheRunCompletes) {
  onelogin_->add_events(250, now() - 3600 * 1000, 1000);
  // No X-RateLimit headers: the plugin must ask /auth/rate_limit.
  onelogin_->set_rate_limit(2, 2000, Limit::kBadRequest, false);
  auto r = dir_.siphon({"once", "corp-onelogin", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ids_of(dir_.events()).size(), 250u);
  EXPECT_EQ(dir_.event_lines(), 250u);
  EXPECT_GE(onelogin_->rate_limited_calls(), 1);
  EXPECT_LE(onelogin_->rate_limited_calls(), 3) << "one refusal per window, no hammering";
  EXPECT_GE(onelogin_->requests("/auth/rate_limit"), 1u);
  EXPECT_STREQ(dir_.state("corp-onelogin")["status"].GetString(), "succeeded");
}

TEST_F(OneLoginEndToEnd, RemainingZeroIsWaitedOutBeforeTheNextCall) {
  onelogin_->add_events(200, now() - 3600 * 1000, 1000);
  onelogin_->set_rate_limit(2, 1500, Limit::kBadRequest, true);
  auto r = dir_.siphon({"once", "corp-onelogin", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ids_of(dir_.events()).size(), 200u);
  EXPECT_EQ(onelogin_->rate_limited_calls(), 0) << "X-RateLimit-Remaining 0 was honoured";
}

TEST_F(OneLoginEndToEnd, TooManyRequestsIsRetriedByTheHost) {
  onelogin_->add_events(150, now() - 3600 * 1000, 1000);
  onelogin_->set_rate_limit(2, 1000, Limit::kTooManyRequests, false);
  auto r = dir_.siphon({"once", "corp-onelogin", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ids_of(dir_.events()).size(), 150u);
  EXPECT_GE(onelogin_->rate_limited_calls(), 1);
}

TEST_F(OneLoginEndToEnd, ALongRateLimitResetEndsTheRunAndTheCursorStays) {
  onelogin_->add_events(150, now() - 3600 * 1000, 1000);
  onelogin_->set_rate_limit(1, 60000, Limit::kBadRequest, false);
  auto r = dir_.siphon({"once", "corp-onelogin", "--since", "2h"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("rate_limit_exceeded"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("resets in"), std::string::npos) << r.err;
  EXPECT_EQ(dir_.event_lines(), 50u) << "the first page was delivered";
  onelogin_->set_rate_limit(0, 1000, Limit::kBadRequest);
  ASSERT_EQ(dir_.siphon({"once", "corp-onelogin"}).exit_code, 0);
  EXPECT_EQ(ids_of(dir_.events()).size(), 150u);
  EXPECT_EQ(dir_.event_lines(), 150u);
}

TEST_F(OneLoginEndToEnd, WrongSecretFailsWithoutMovingTheCursor) {
  onelogin_->add_events(30, now() - 600 * 1000, 1000);
  ASSERT_EQ(dir_.siphon({"once", "corp-onelogin", "--since", "1h"}).exit_code, 0);
  std::string cursor = dir_.state("corp-onelogin")["cursor"].GetString();
  const std::string wrong = OneLoginImitation::make_credential();
  dir_.write("secrets/onelogin.secret", wrong, 0600);
  onelogin_->add_events(10, now() - 100, 10);
  auto r = dir_.siphon({"once", "corp-onelogin"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Authentication Failure"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("credentials refused"), std::string::npos) << r.err;
  for (const std::string& secret : {wrong, secret_, id_})
    EXPECT_EQ((r.out + r.err).find(secret), std::string::npos) << "credential printed";
  EXPECT_EQ(dir_.event_lines(), 30u);
  auto st = dir_.state("corp-onelogin");
  EXPECT_STREQ(st["status"].GetString(), "failed");
  EXPECT_EQ(cursor, st["cursor"].GetString());
  dir_.write("secrets/onelogin.secret", secret_, 0600);
  ASSERT_EQ(dir_.siphon({"once", "corp-onelogin"}).exit_code, 0);
  EXPECT_EQ(ids_of(dir_.events()).size(), 40u);
}

// `siphon run` keeps the app instance between runs: one token serves them all.
TEST_F(OneLoginEndToEnd, TheTokenIsFetchedOnceAndReusedAcrossRuns) {
  configure("50", "us", "${file:secrets/onelogin.id}", "    interval: 1s\n");
  // Events that happen while it runs (the first run starts at now - interval).
  onelogin_->add_events(20, now() + 500, 50);
  pid_t pid = dir_.spawn({"run"}, "run");
  ASSERT_TRUE(wait_for([&] { return event_calls() >= 3 && dir_.event_lines() >= 20; }, 20000));
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_child(pid, 30), 0);
  EXPECT_EQ(onelogin_->requests("/auth/oauth2/v2/token"), 1u);
  EXPECT_EQ(onelogin_->unauthorized_calls(), 0);
  EXPECT_EQ(ids_of(dir_.events()).size(), 20u);
}

TEST_F(OneLoginEndToEnd, AnExpiredTokenIsReplacedBeforeUse) {
  configure("50", "us", "${file:secrets/onelogin.id}", "    interval: 1s\n");
  // Renewal comes a quarter of the lifetime early: 5 s of margin for a busy machine.
  onelogin_->set_token_lifetime_seconds(20);
  pid_t pid = dir_.spawn({"run"}, "run");
  ASSERT_TRUE(
      wait_for([&] { return onelogin_->issued_tokens() >= 2 && event_calls() >= 12; }, 60000));
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_child(pid, 30), 0);
  EXPECT_GE(onelogin_->issued_tokens(), 2);
  EXPECT_EQ(onelogin_->unauthorized_calls(), 0) << "no call was spent on an expired token";
}

TEST_F(OneLoginEndToEnd, AnUnauthorizedPageGetsOneNewTokenAndASecondRefusalFailsTheRun) {
  onelogin_->add_events(150, now() - 600 * 1000, 1000);
  Fault refused;
  refused.status = 401;
  refused.body =
      R"({"status":{"error":true,"code":401,"type":"Unauthorized","message":"Authentication Failure"}})";
  onelogin_->fail_pages_after(1, refused);
  auto r = dir_.siphon({"once", "corp-onelogin", "--since", "1h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(onelogin_->requests("/auth/oauth2/v2/token"), 2u) << "one new token after the 401";
  EXPECT_EQ(ids_of(dir_.events()).size(), 150u);

  onelogin_->add_events(150, now() - 100, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  refused.count = 2;
  onelogin_->fail_pages_after(1, refused);
  std::string cursor = dir_.state("corp-onelogin")["cursor"].GetString();
  auto again = dir_.siphon({"once", "corp-onelogin"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("credentials refused"), std::string::npos) << again.err;
  EXPECT_EQ(onelogin_->requests("/auth/oauth2/v2/token"), 4u);
  // The page before the refusal was delivered: 50 rows, one of them the
  // checkpoint's own event (since is inclusive), not delivered again.
  EXPECT_EQ(dir_.event_lines(), 199u);
  EXPECT_NE(cursor, dir_.state("corp-onelogin")["cursor"].GetString());
  ASSERT_EQ(dir_.siphon({"once", "corp-onelogin"}).exit_code, 0);
  EXPECT_EQ(ids_of(dir_.events()).size(), 300u);
  EXPECT_EQ(dir_.event_lines(), 300u);
}

TEST_F(OneLoginEndToEnd, ANextLinkToAnotherOriginIsRefused) {
  onelogin_->add_events(80, now() - 600 * 1000, 1000);
  onelogin_->set_next_link_origin("http://127.0.0.2:9");
  auto r = dir_.siphon({"once", "corp-onelogin", "--since", "1h"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("leaves the app's origin"), std::string::npos) << r.err;
  EXPECT_EQ(dir_.event_lines(), 0u);
}

// StreamAlert's region regex was ^(en|us)$: an EU tenant could not be configured.
TEST_F(OneLoginEndToEnd, RegionEuIsAcceptedAndEnIsRefused) {
  configure("50", "eu");
  auto eu = dir_.siphon({"check"});
  EXPECT_EQ(eu.exit_code, 0) << eu.out << eu.err;
  configure("50", "en");
  auto en = dir_.siphon({"check"});
  EXPECT_EQ(en.exit_code, 1);
  EXPECT_NE(en.out.find("app corp-onelogin: field auth.region: value does not match"),
            std::string::npos)
      << en.out;
  EXPECT_EQ(onelogin_->requests(), 0u) << "check uses no network";
}

TEST_F(OneLoginEndToEnd, EveryAuthFieldIsCheckedAgainstItsRegexWithoutPrintingSecrets) {
  configure("50", "us");
  auto ok = dir_.siphon({"check"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  struct Case {
    std::string field, file, value;
  };
  const std::vector<Case> bad = {
      {"client_id", "secrets/onelogin.id", std::string(64, 'A')},            // upper case
      {"client_id", "secrets/onelogin.id", id_.substr(0, 63)},               // too short
      {"client_secret", "secrets/onelogin.secret", secret_ + "0"},           // too long
      {"client_secret", "secrets/onelogin.secret", secret_.substr(1) + "-"}  // a dash
  };
  for (const auto& c : bad) {
    dir_.write(c.file, c.value, 0600);
    auto r = dir_.siphon({"check"});
    EXPECT_EQ(r.exit_code, 1) << c.field;
    EXPECT_NE(r.out.find("app corp-onelogin: field auth." + c.field + ": value does not match"),
              std::string::npos)
        << r.out;
    EXPECT_EQ((r.out + r.err).find(c.value), std::string::npos) << "secret printed";
  }
  dir_.write("secrets/onelogin.id", id_, 0600);
  dir_.write("secrets/onelogin.secret", secret_, 0600);
  for (const std::string region : {"US", "eu ", "us|eu", ""}) {
    configure("50", "\"" + region + "\"");
    auto r = dir_.siphon({"check"});
    EXPECT_EQ(r.exit_code, 1) << "region '" << region << "'";
    EXPECT_NE(r.out.find("app corp-onelogin: field auth.region"), std::string::npos) << r.out;
  }
  EXPECT_EQ(onelogin_->requests(), 0u);
}

}  // namespace
