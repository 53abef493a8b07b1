// okta_system_log end to end: the real host and siphon-okta.so against the
// local Okta imitation (SSWS token checked, polling next links in Link
// headers, late-persisted events, X-Rate-Limit-* and 429s, expired cursors,
// faults).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <siphon/sdk.hpp>
#include <siphon/time_format.hpp>

#include "harness.hpp"
#include "okta_imitation.hpp"

using siphon::imitation::Fault;
using siphon::imitation::OktaImitation;
using siphon::testing::count_by;
using siphon::testing::wait_child;
using siphon::testing::wait_until;
using siphon::testing::Workdir;

namespace {

class OktaEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    okta_ = std::make_unique<OktaImitation>(token_);
    okta_->start();
    dir_.write("secrets/okta.token", token_ + "\n", 0600);
    configure();
  }
  // `options` replace the default org_url and limit lines; `auth` is added
  // under auth:.
  void configure(
      const std::string& options = "      org_url: https://acme.okta.com\n      limit: \"20\"\n",
      const std::string& auth = "") {
    dir_.write_config(
        "  - name: corp-okta\n"
        "    type: okta_system_log\n"
        "    auth:\n"
        "      api_token: ${file:secrets/okta.token}\n" +
        auth + "    options:\n      base_url: " + okta_->base_url() + "\n" + options);
  }
  std::map<std::string, int> uuids() const { return count_by(dir_.events(), "corp-okta", "uuid"); }
  void expect_each_once(size_t n) const {
    auto delivered = uuids();
    EXPECT_EQ(delivered.size(), n);
    EXPECT_EQ(dir_.event_lines(), n);
    for (const auto& [uuid, count] : delivered) EXPECT_EQ(count, 1) << uuid;
  }
  std::string cursor() const { return dir_.state("corp-okta")["cursor"].GetString(); }
  size_t calls() const { return okta_->requests("/api/v1/logs"); }
  int64_t now() const { return siphon::imitation::now_ms(); }

  const std::string token_ = OktaImitation::make_token();
  Workdir dir_;
  std::unique_ptr<OktaImitation> okta_;
};

TEST_F(OktaEndToEnd, FirstRunDeliversEveryEventOnceAndLogsTheNewest) {
  const int64_t t0 = now() - 3000 * 1000;
  okta_->add_events(95, t0, 1000);
  auto r = dir_.siphon({"once", "corp-okta", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(siphon::testing::logged_newest_event_ms(r.err), t0 + 94 * 1000) << r.err;
  expect_each_once(95);
  auto records = dir_.events();
  const auto& rec = records.front();
  EXPECT_EQ(rec.MemberCount(), 5u);
  EXPECT_STREQ(rec["type"].GetString(), "okta_system_log");
  EXPECT_STREQ(rec["service"].GetString(), "okta");
  EXPECT_TRUE(rec["event"]["actor"].IsObject());
  // since, limit and sortOrder first, no until; then the next links verbatim.
  auto queries = okta_->queries();
  ASSERT_EQ(queries.size(), 5u) << "20 a page, 95 events";
  EXPECT_EQ(queries[0].rfind("since=", 0), 0u) << queries[0];
  EXPECT_NE(queries[0].find("&limit=20&sortOrder=ASCENDING"), std::string::npos) << queries[0];
  EXPECT_EQ(queries[0].find("until"), std::string::npos);
  for (size_t i = 1; i < queries.size(); ++i)
    EXPECT_NE(queries[i].find("after="), std::string::npos) << queries[i];
  EXPECT_EQ(okta_->last_accept(), "application/json");
  auto st = dir_.state("corp-okta");
  EXPECT_STREQ(st["status"].GetString(), "succeeded");
  EXPECT_NE(cursor().find("\"next\":\"http://127.0.0.1:"), std::string::npos) << cursor();
  EXPECT_NE(cursor().find("after="), std::string::npos) << cursor();
}

TEST_F(OktaEndToEnd, OneCommaJoinedLinkHeaderPagesTheSame) {
  okta_->set_joined_links(true);
  okta_->add_events(70, now() - 600 * 1000, 1000);
  ASSERT_EQ(dir_.siphon({"once", "corp-okta", "--since", "1h"}).exit_code, 0);
  expect_each_once(70);
  EXPECT_EQ(calls(), 4u);
}

// Okta's next link is the checkpoint: an event persisted after the last run,
// with a published time older than everything delivered, still arrives.
TEST_F(OktaEndToEnd, ASecondRunDeliversOnlyNewEventsIncludingALatePersistedOne) {
  const int64_t t0 = now() - 1800 * 1000;
  okta_->add_events(50, t0, 1000);
  ASSERT_EQ(dir_.siphon({"once", "corp-okta", "--since", "1h"}).exit_code, 0);
  const size_t first_calls = calls();
  ASSERT_EQ(dir_.siphon({"once", "corp-okta"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 50u) << "nothing new, nothing delivered";
  EXPECT_EQ(calls(), first_calls + 1) << "one request: the stored next link";
  EXPECT_EQ(okta_->queries().back().find("since"), std::string::npos) << okta_->queries().back();

  okta_->add_events(10, now() - 10 * 1000, 500);
  const std::string late = okta_->add_late_event(t0 - 600 * 1000);
  auto r = dir_.siphon({"once", "corp-okta"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_each_once(61);
  EXPECT_EQ(uuids()[late], 1);
}

TEST_F(OktaEndToEnd, KilledMidPagingResumesFromTheSavedNextLink) {
  okta_->add_events(100, now() - 1000 * 1000, 1000);
  Fault slow;
  slow.delay_ms = 4000;
  okta_->fail_pages_after(2, slow);
  pid_t pid = dir_.spawn({"once", "corp-okta", "--since", "1h"}, "killed");
  ASSERT_TRUE(wait_until([&] { return calls() >= 3; }, 20));
  // Page 2 is committed while the request for page 3 is still out.
  ASSERT_TRUE(wait_until(
      [&] {
        auto st = dir_.state("corp-okta");
        return st.IsObject() && st["events_total"].GetInt() == 40;
      },
      3));
  ::kill(pid, SIGKILL);
  EXPECT_EQ(wait_child(pid, 10), 128 + SIGKILL);
  ASSERT_EQ(dir_.event_lines(), 40u);
  EXPECT_NE(cursor().find("after="), std::string::npos) << cursor();

  auto r = dir_.siphon({"once", "corp-okta"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto delivered = uuids();
  EXPECT_EQ(delivered.size(), 100u);
  EXPECT_LE(dir_.event_lines(), 120u) << "at most one page delivered twice";
  EXPECT_EQ(okta_->queries()[3].find("since"), std::string::npos)
      << "the rerun starts from the saved link: " << okta_->queries()[3];
}

// A 429 with X-Rate-Limit-Remaining 0 and a Reset in the future: the host
// waits until the reset (no Retry-After) and asks once more.
TEST_F(OktaEndToEnd, ARateLimit429IsWaitedOutUntilTheReset) {
  okta_->add_events(60, now() - 600 * 1000, 1000);
  okta_->throttle_for(2);
  const auto started = std::chrono::steady_clock::now();
  auto r = dir_.siphon({"once", "corp-okta", "--since", "1h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(900));
  EXPECT_EQ(okta_->rate_limited_calls(), 1) << "the retry waited for the reset";
  expect_each_once(60);
}

// Remaining reaching 0 on a good answer pauses the requests until the reset,
// so the limit is never passed.
TEST_F(OktaEndToEnd, NoCallsLeftInTheWindowIsWaitedOutInsteadOfSpentOnA429) {
  okta_->add_events(100, now() - 1000 * 1000, 1000);
  okta_->set_rate_limit(3, 1);
  auto r = dir_.siphon({"once", "corp-okta", "--since", "1h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(okta_->rate_limited_calls(), 0) << "X-Rate-Limit-Remaining 0 was honoured";
  expect_each_once(100);
}

TEST_F(OktaEndToEnd, AConcurrency429AndServerErrorsAreRecovered) {
  okta_->add_events(100, now() - 1000 * 1000, 1000);
  Fault concurrent;
  concurrent.status = 429;
  concurrent.count = 2;
  concurrent.body = OktaImitation::error_body(
      "E0000047", "API call exceeded rate limit due to too many requests.");
  okta_->fail_pages_after(1, concurrent);
  Fault unavailable;
  unavailable.status = 503;
  unavailable.body = OktaImitation::error_body("E0000010", "Service is temporarily unavailable");
  unavailable.path_prefix = "/api/v1/logs";
  okta_->inject(unavailable);
  auto r = dir_.siphon({"once", "corp-okta", "--since", "1h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_each_once(100);
  EXPECT_EQ(calls(), 6u + 3u) << "5 full pages, an empty one, and each fault retried once";

  okta_->add_events(50, now() - 60 * 1000, 1000);
  Fault broken;
  broken.status = 500;
  broken.body = OktaImitation::error_body("E0000009", "Internal Server Error");
  okta_->fail_pages_after(1, broken);
  r = dir_.siphon({"once", "corp-okta"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_each_once(150);
}

TEST_F(OktaEndToEnd, ARefusedTokenFailsWithoutMovingTheCursorOrPrintingIt) {
  okta_->add_events(30, now() - 1000 * 1000, 1000);
  ASSERT_EQ(dir_.siphon({"once", "corp-okta", "--since", "1h"}).exit_code, 0);
  const std::string before = cursor();
  const std::string wrong = OktaImitation::make_token();
  dir_.write("secrets/okta.token", wrong, 0600);
  okta_->add_events(10, now() - 20 * 1000, 1000);
  auto r = dir_.siphon({"once", "corp-okta"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("E0000011: Invalid token provided"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("credentials refused"), std::string::npos) << r.err;
  for (const std::string& secret : {wrong, token_})
    EXPECT_EQ((r.out + r.err).find(secret), std::string::npos) << "token printed";
  EXPECT_EQ(dir_.event_lines(), 30u);
  auto st = dir_.state("corp-okta");
  EXPECT_STREQ(st["status"].GetString(), "failed");
  EXPECT_EQ(cursor(), before);
  dir_.write("secrets/okta.token", token_, 0600);
  ASSERT_EQ(dir_.siphon({"once", "corp-okta"}).exit_code, 0);
  expect_each_once(40);
}

TEST_F(OktaEndToEnd, ATokenRevokedMidRunKeepsWhatWasCommitted) {
  okta_->add_events(100, now() - 1000 * 1000, 1000);
  Fault slow;
  slow.delay_ms = 1500;
  okta_->fail_pages_after(2, slow);
  pid_t pid = dir_.spawn({"once", "corp-okta", "--since", "1h"}, "revoked");
  ASSERT_TRUE(wait_until([&] { return calls() >= 3; }, 20));
  okta_->revoke_token();  // page 3 passed the token check; page 4 does not
  EXPECT_EQ(wait_child(pid, 30), 1);
  const std::string err = dir_.read("revoked.err");
  EXPECT_NE(err.find("E0000011"), std::string::npos) << err;
  EXPECT_EQ(err.find(token_), std::string::npos) << "token printed";
  expect_each_once(60);
  EXPECT_STREQ(dir_.state("corp-okta")["status"].GetString(), "failed");
  EXPECT_NE(cursor().find("after="), std::string::npos) << cursor();
}

// Okta refuses the stored next link (an expired cursor): the run reads again
// from the newest published delivered minus a few seconds and drops what it
// had delivered (by uuid), a late-persisted event included.
TEST_F(OktaEndToEnd, AStoredNextLinkRefusedWith400FallsBackToSinceWithoutLossOrRepeats) {
  const int64_t t0 = now() - 100 * 1000;
  okta_->add_events(50, t0, 1000);
  const std::string late = okta_->add_late_event(t0 - 3600 * 1000);
  ASSERT_EQ(dir_.siphon({"once", "corp-okta", "--since", "2h"}).exit_code, 0);
  expect_each_once(51);
  okta_->expire_cursors();
  okta_->add_events(20, t0 + 60 * 1000, 1000);
  const size_t before = okta_->queries().size();
  auto r = dir_.siphon({"once", "corp-okta"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("saved next link was refused"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("E0000001"), std::string::npos) << r.err;
  auto queries = okta_->queries();
  ASSERT_GT(queries.size(), before + 1);
  const std::string since =
      siphon::url_encode(siphon::timefmt::rfc3339(t0 + 49 * 1000 - 5000, true));
  EXPECT_EQ(queries[before + 1].rfind("since=" + since, 0), 0u) << queries[before + 1];
  expect_each_once(71);
  EXPECT_EQ(uuids()[late], 1);
  // The link of the fallback is stored again.
  ASSERT_EQ(dir_.siphon({"once", "corp-okta"}).exit_code, 0);
  EXPECT_EQ(okta_->queries().back().find("since"), std::string::npos);
  expect_each_once(71);
}

TEST_F(OktaEndToEnd, AnAdminWithoutTheRoleFailsNamingThePermission) {
  okta_->set_forbidden(true);
  auto r = dir_.siphon({"once", "corp-okta", "--since", "1h"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("E0000006"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("read the System Log"), std::string::npos) << r.err;
}

TEST_F(OktaEndToEnd, TheOrgUrlMayBeAnAuthFieldAndLimitDefaultsTo1000) {
  configure("", "      org_url: https://acme.okta.com\n");
  okta_->add_events(30, now() - 600 * 1000, 1000);
  auto check = dir_.siphon({"check"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  ASSERT_EQ(dir_.siphon({"once", "corp-okta", "--since", "1h"}).exit_code, 0);
  expect_each_once(30);
  EXPECT_NE(okta_->queries()[0].find("limit=1000"), std::string::npos) << okta_->queries()[0];
}

TEST_F(OktaEndToEnd, CheckNamesEachBadFieldAndOptionWithoutPrintingTheToken) {
  auto ok = dir_.siphon({"check"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  for (const std::string& bad :
       {std::string("SSWS ") + token_, token_.substr(0, 41), "01" + token_.substr(2), token_ + "x",
        token_.substr(0, 20) + "+" + token_.substr(21)}) {
    dir_.write("secrets/okta.token", bad, 0600);
    auto r = dir_.siphon({"check"});
    EXPECT_EQ(r.exit_code, 1) << bad;
    EXPECT_NE(r.out.find("app corp-okta: field auth.api_token: value does not match"),
              std::string::npos)
        << r.out;
    EXPECT_EQ((r.out + r.err).find(bad), std::string::npos) << "token printed";
  }
  dir_.write("secrets/okta.token", token_, 0600);
  for (const std::string org : {"http://acme.okta.com", "acme.okta.com",
                                "https://acme.okta.com/api/v1", "https://user@acme.okta.com"}) {
    configure("      org_url: " + org + "\n");
    auto r = dir_.siphon({"check"});
    EXPECT_EQ(r.exit_code, 1) << org;
    EXPECT_NE(r.out.find("option org_url"), std::string::npos) << r.out;
  }
  configure("", "      org_url: http://acme.okta.com\n");
  auto field = dir_.siphon({"check"});
  EXPECT_EQ(field.exit_code, 1);
  EXPECT_NE(field.out.find("field auth.org_url: value does not match"), std::string::npos)
      << field.out;
  configure("");
  auto missing = dir_.siphon({"check"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("org_url: not set"), std::string::npos) << missing.out;
  configure("      org_url: https://acme.okta.com\n", "      org_url: https://other.okta.com\n");
  auto both = dir_.siphon({"check"});
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_NE(both.out.find("differs from auth field org_url"), std::string::npos) << both.out;
  for (const std::string limit : {"0", "1001", "many"}) {
    configure("      org_url: https://acme.okta.com\n      limit: \"" + limit + "\"\n");
    auto r = dir_.siphon({"check"});
    EXPECT_EQ(r.exit_code, 1) << limit;
    EXPECT_NE(r.out.find("option limit"), std::string::npos) << r.out;
  }
  EXPECT_EQ(okta_->requests(), 0u) << "check uses no network";
}

}  // namespace
