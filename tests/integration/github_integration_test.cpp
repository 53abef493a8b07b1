// github_audit_log end to end: the real host and siphon-github.so against the
// local GitHub imitation (bearer token and User-Agent checked, phrase search
// in ascending order paged by Link rel="next" through /organizations/{id}/,
// primary and secondary rate limits, server errors, expiring cursors).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <functional>
#include <memory>
#include <siphon/sdk.hpp>
#include <siphon/time_format.hpp>
#include <thread>

#include "github_imitation.hpp"
#include "harness.hpp"

using siphon::imitation::Fault;
using siphon::imitation::GithubImitation;
using siphon::imitation::Request;
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

class GithubEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    github_ = std::make_unique<GithubImitation>(token_, "acme-corp");
    github_->start();
    dir_.write("secrets/github.token", token_ + "\n", 0600);
    configure();
  }
  void configure(const std::string& extra_options = "", const std::string& org = "acme-corp",
                 const std::string& base_url = "") {
    dir_.write_config(
        "  - name: corp-github\n"
        "    type: github_audit_log\n"
        "    auth:\n"
        "      token: ${file:secrets/github.token}\n"
        "      org: " +
        org +
        "\n"
        "    options:\n"
        "      base_url: " +
        (base_url.empty() ? github_->base_url() : base_url) +
        "\n"
        "      delay_seconds: \"0\"\n" +
        extra_options);
  }
  std::map<std::string, int> ids() const {
    return count_by(dir_.events(), "corp-github", "_document_id");
  }
  static int64_t now_ms() { return siphon::imitation::now_ms(); }
  std::vector<Request> requests() const { return github_->audit_log_requests(); }
  std::string cursor() const { return dir_.state("corp-github")["cursor"].GetString(); }
  void expect_every_event_once(size_t n) const {
    auto delivered = ids();
    EXPECT_EQ(delivered.size(), n);
    EXPECT_EQ(dir_.event_lines(), n);
    for (const auto& [id, count] : delivered) EXPECT_EQ(count, 1) << id;
  }

  const std::string token_ = GithubImitation::make_token();
  Workdir dir_;
  std::unique_ptr<GithubImitation> github_;
};

TEST_F(GithubEndToEnd, FirstRunDeliversEveryEventOnceWithTheRequiredHeaders) {
  configure("      delay_seconds: \"30\"\n");
  const int64_t t0 = now_ms() - 3000 * 1000;
  github_->add_events(250, t0, 10007);  // the newest about 500 s ago
  github_->add_event(now_ms() - 5000);  // within delay_seconds: not yet
  auto r = dir_.siphon({"once", "corp-github", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_every_event_once(250);
  EXPECT_EQ(siphon::testing::logged_newest_event_ms(r.err), t0 + 249 * 10007) << r.err;
  auto records = dir_.events();
  const auto& rec = records.front();
  EXPECT_EQ(rec.MemberCount(), 5u);
  EXPECT_STREQ(rec["type"].GetString(), "github_audit_log");
  EXPECT_STREQ(rec["service"].GetString(), "github");
  EXPECT_EQ(rec["event"]["@timestamp"].GetInt64(), t0);
  EXPECT_TRUE(rec["event"]["actor_location"].IsObject());

  auto log = requests();
  ASSERT_EQ(log.size(), 3u) << "100 a page, 250 events";
  for (const auto& req : log) {
    EXPECT_EQ(req.header("authorization"), "Bearer " + token_);
    EXPECT_EQ(req.header("accept"), "application/vnd.github+json");
    EXPECT_EQ(req.header("x-github-api-version"), "2022-11-28");
    EXPECT_EQ(req.header("user-agent").rfind("siphon/", 0), 0u) << req.header("user-agent");
    EXPECT_EQ(req.param("order"), "asc");
    EXPECT_EQ(req.param("per_page"), "100");
    EXPECT_EQ(req.param("include"), "web");
  }
  EXPECT_EQ(log[0].path, "/orgs/acme-corp/audit-log");
  EXPECT_EQ(log[1].path, "/organizations/7000007/audit-log") << "the Link header's form";
  EXPECT_NE(log[1].param("after"), "");
  // created:>=<--since, floored to the second> created:<=<now - delay_seconds>
  const std::string phrase = log[0].param("phrase");
  const std::string upper = phrase.substr(phrase.find(" created:<=") + 11);
  EXPECT_EQ(phrase.rfind("created:>=", 0), 0u) << phrase;
  EXPECT_NEAR(siphon::timefmt::parse_rfc3339(phrase.substr(10, 20)), now_ms() - 7200 * 1000,
              120 * 1000)
      << phrase;
  EXPECT_NEAR(siphon::timefmt::parse_rfc3339(upper), now_ms() - 30 * 1000, 10 * 1000) << phrase;
  EXPECT_STREQ(dir_.state("corp-github")["status"].GetString(), "succeeded");
}

TEST_F(GithubEndToEnd, ASecondRunDeliversOnlyNewEvents) {
  github_->add_events(120, now_ms() - 2000 * 1000, 5000);
  ASSERT_EQ(dir_.siphon({"once", "corp-github", "--since", "1h"}).exit_code, 0);
  ASSERT_EQ(dir_.siphon({"once", "corp-github"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 120u) << "nothing new, nothing delivered";
  const int64_t start = now_ms() - 40 * 1000;
  github_->add_events(30, start, 1000);
  auto r = dir_.siphon({"once", "corp-github"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_every_event_once(150);
  EXPECT_EQ(siphon::testing::logged_newest_event_ms(r.err), start + 29 * 1000) << r.err;
}

// The search has second granularity while @timestamp has milliseconds: the
// next run asks again from the checkpoint's second and drops what it already
// delivered, by _document_id.
TEST_F(GithubEndToEnd, EventsSharingTheBoundarySecondAreNeitherLostNorRepeated) {
  const int64_t s = now_ms() / 1000 - 100;
  for (int i = 0; i < 12; ++i) github_->add_event(s * 1000 + 300 + i * 50);
  ASSERT_EQ(dir_.siphon({"once", "corp-github", "--since", "1h"}).exit_code, 0);
  ASSERT_EQ(dir_.event_lines(), 12u);
  const std::string saved = cursor();
  EXPECT_NE(saved.find("\"since\":" + std::to_string(s)), std::string::npos) << saved;
  // Indexed late in the same second: one older than the checkpoint, one newer.
  const std::string older = github_->add_event(s * 1000 + 10);
  const std::string newer = github_->add_event(s * 1000 + 990);
  auto r = dir_.siphon({"once", "corp-github"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto log = requests();
  EXPECT_EQ(log.back().param("phrase").rfind("created:>=" + siphon::timefmt::rfc3339(s * 1000), 0),
            0u)
      << log.back().param("phrase");
  auto delivered = ids();
  EXPECT_EQ(delivered.size(), 14u);
  EXPECT_EQ(dir_.event_lines(), 14u);
  EXPECT_EQ(delivered[older], 1);
  EXPECT_EQ(delivered[newer], 1);
}

// The next link is in the cursor of every page: a kill resumes from it.
TEST_F(GithubEndToEnd, KilledMidPagingResumesFromTheSavedNextLink) {
  configure("      per_page: \"25\"\n");
  github_->add_events(100, now_ms() - 1000 * 1000, 1000);
  Fault slow;
  slow.delay_ms = 4000;
  github_->fail_pages_after(2, slow);
  pid_t pid = dir_.spawn({"once", "corp-github", "--since", "1h"}, "killed");
  ASSERT_TRUE(wait_for([&] { return requests().size() >= 3; }, 20000));
  ASSERT_TRUE(wait_for(
      [&] {
        auto st = dir_.state("corp-github");
        return st.IsObject() && st["events_total"].GetInt() == 50;
      },
      3000));
  ::kill(pid, SIGKILL);
  EXPECT_EQ(wait_child(pid, 10), 128 + SIGKILL);
  ASSERT_EQ(dir_.event_lines(), 50u);
  const std::string saved = cursor();
  EXPECT_NE(saved.find("\"next\":\"http://127.0.0.1:"), std::string::npos) << saved;
  EXPECT_NE(saved.find("/organizations/7000007/audit-log?"), std::string::npos) << saved;
  EXPECT_NE(saved.find("\"until\""), std::string::npos) << "the window is kept: " << saved;

  auto r = dir_.siphon({"once", "corp-github"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_every_event_once(100);
  auto log = requests();
  ASSERT_EQ(log.size(), 3u + 2u) << "the rerun read pages 3 and 4 only";
  EXPECT_EQ(log[3].path + "?" + log[3].query, log[2].path + "?" + log[2].query)
      << "the page that was in flight, asked again";
}

// GitHub does not say how long an after cursor lasts: a refused one is
// replaced by a search from the newest second delivered.
TEST_F(GithubEndToEnd, ARefusedNextLinkFallsBackToTheNewestSecondDelivered) {
  configure("      per_page: \"20\"\n");
  github_->add_events(90, now_ms() - 900 * 1000, 250);  // 4 a second
  Fault broken;
  broken.status = 503;
  broken.count = 100;
  broken.body = R"({"message":"Service Unavailable"})";
  github_->fail_pages_after(2, broken);
  auto failed = dir_.siphon({"once", "corp-github", "--since", "1h"});
  EXPECT_EQ(failed.exit_code, 1);
  ASSERT_EQ(dir_.event_lines(), 40u);
  ASSERT_NE(cursor().find("\"next\""), std::string::npos) << cursor();
  github_->fail_pages_after(-1, Fault{});
  github_->set_cursor_lifetime_ms(2000);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));

  auto r = dir_.siphon({"once", "corp-github"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("refused the saved next link"), std::string::npos) << r.err;
  EXPECT_EQ(github_->refused_cursors(), 1);
  expect_every_event_once(90);
}

TEST_F(GithubEndToEnd, PrimaryRateLimitsAs403Or429AreWaitedOut) {
  github_->add_events(150, now_ms() - 1000 * 1000, 1000);
  for (int status : {403, 429}) {
    github_->exhaust_rate_limit(2, status);
    const int64_t limited_before = github_->rate_limited_calls();
    auto started = std::chrono::steady_clock::now();
    auto r = status == 403 ? dir_.siphon({"once", "corp-github", "--since", "1h"})
                           : dir_.siphon({"once", "corp-github"});
    ASSERT_EQ(r.exit_code, 0) << status << ": " << r.err;
    EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(900));
    EXPECT_EQ(github_->rate_limited_calls(), limited_before + 1) << status;
  }
  expect_every_event_once(150);
}

TEST_F(GithubEndToEnd, SecondaryRateLimitsWithRetryAfterAreWaitedOut) {
  github_->add_events(150, now_ms() - 1000 * 1000, 1000);
  for (int status : {403, 429}) {
    github_->secondary_limit(1, status, "1");
    if (status == 429) github_->add_events(10, now_ms() - 20 * 1000, 1000);
    auto r = status == 403 ? dir_.siphon({"once", "corp-github", "--since", "1h"})
                           : dir_.siphon({"once", "corp-github"});
    ASSERT_EQ(r.exit_code, 0) << status << ": " << r.err;
  }
  expect_every_event_once(160);
}

TEST_F(GithubEndToEnd, ASecondaryLimitWithoutRetryAfterEndsTheRunUntilTheNext) {
  github_->add_events(150, now_ms() - 1000 * 1000, 1000);
  ASSERT_EQ(dir_.siphon({"once", "corp-github", "--since", "1h"}).exit_code, 0);
  github_->add_events(10, now_ms() - 20 * 1000, 1000);
  const std::string saved = cursor();
  github_->secondary_limit(1, 403, "");
  auto r = dir_.siphon({"once", "corp-github"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("secondary rate limit"), std::string::npos) << r.err;
  EXPECT_EQ(cursor(), saved);
  ASSERT_EQ(dir_.siphon({"once", "corp-github"}).exit_code, 0);
  expect_every_event_once(160);
}

TEST_F(GithubEndToEnd, BadGatewayAndUnavailableAreRetried) {
  github_->add_events(250, now_ms() - 1000 * 1000, 1000);
  Fault unavailable;
  unavailable.status = 503;
  unavailable.body = R"({"message":"Service Unavailable"})";
  github_->inject(unavailable);
  Fault bad_gateway;
  bad_gateway.status = 502;
  bad_gateway.count = 2;
  bad_gateway.body = R"({"message":"Server Error"})";
  github_->fail_pages_after(1, bad_gateway);
  auto r = dir_.siphon({"once", "corp-github", "--since", "1h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_every_event_once(250);
  EXPECT_EQ(github_->requests(), 3u + 3u) << "three pages and three retries";
}

TEST_F(GithubEndToEnd, ARefusedTokenFailsWithoutMovingTheCursorOrBeingPrinted) {
  github_->add_events(30, now_ms() - 1000 * 1000, 1000);
  ASSERT_EQ(dir_.siphon({"once", "corp-github", "--since", "1h"}).exit_code, 0);
  const std::string saved = cursor();
  github_->revoke_token(token_);
  github_->add_events(10, now_ms() - 20 * 1000, 1000);
  auto r = dir_.siphon({"once", "corp-github"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Bad credentials"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("credentials refused"), std::string::npos) << r.err;
  EXPECT_EQ((r.out + r.err).find(token_), std::string::npos) << "token printed";
  EXPECT_EQ((r.out + r.err).find(token_.substr(4)), std::string::npos) << "token printed";
  EXPECT_EQ(dir_.event_lines(), 30u);
  auto st = dir_.state("corp-github");
  EXPECT_STREQ(st["status"].GetString(), "failed");
  EXPECT_EQ(saved, st["cursor"].GetString());
  github_->add_token(token_, true);
  ASSERT_EQ(dir_.siphon({"once", "corp-github"}).exit_code, 0);
  expect_every_event_once(40);
}

TEST_F(GithubEndToEnd, ANonOwnerOrUnknownOrgIsA404ThatSaysSo) {
  const std::string member = GithubImitation::make_fine_grained_token();
  github_->add_token(member, false);
  dir_.write("secrets/github.token", member, 0600);
  auto r = dir_.siphon({"once", "corp-github", "--since", "1h"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("organization acme-corp does not exist or the token's user is not an "
                       "owner of it"),
            std::string::npos)
      << r.err;
  EXPECT_EQ((r.out + r.err).find(member), std::string::npos) << "token printed";
  dir_.write("secrets/github.token", token_, 0600);
  configure("", "acme-typo");
  r = dir_.siphon({"once", "corp-github", "--since", "1h"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("GET /orgs/acme-typo/audit-log: HTTP 404: Not Found"), std::string::npos)
      << r.err;
}

TEST_F(GithubEndToEnd, EnterpriseScopeReadsTheEnterpriseAuditLog) {
  github_->set_enterprise("acme");
  github_->add_events(130, now_ms() - 1000 * 1000, 1000);
  configure("      scope: enterprise\n", "acme");
  auto r = dir_.siphon({"once", "corp-github", "--since", "1h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_every_event_once(130);
  auto log = requests();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].path, "/enterprises/acme/audit-log");
  EXPECT_EQ(log[1].path, "/enterprises/acme/audit-log");
  EXPECT_STREQ(dir_.events()[0]["event"]["business"].GetString(), "acme");
}

// GitHub Enterprise Server serves the API under /api/v3: base_url keeps it.
TEST_F(GithubEndToEnd, AServerBaseUrlKeepsItsPathAndIncludeGitIsAskedFor) {
  github_->set_path_prefix("/api/v3");
  github_->add_events(20, now_ms() - 1000 * 1000, 1000);
  github_->add_git_events(15, now_ms() - 900 * 1000, 1000);
  configure("      include: all\n", "acme-corp", github_->base_url() + "/api/v3/");
  auto r = dir_.siphon({"once", "corp-github", "--since", "1h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_every_event_once(35);
  EXPECT_EQ(requests()[0].path, "/api/v3/orgs/acme-corp/audit-log");
  EXPECT_EQ(requests()[0].param("include"), "all");
}

TEST_F(GithubEndToEnd, CheckValidatesEachAuthFieldWithoutPrintingTheToken) {
  auto ok = dir_.siphon({"check"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  dir_.write("secrets/github.token", GithubImitation::make_fine_grained_token(), 0600);
  EXPECT_EQ(dir_.siphon({"check"}).exit_code, 0);
  const std::string body = token_.substr(4);
  for (const std::string& bad : {"ghp_" + body.substr(1), "Bearer " + token_, "ghs_" + body,
                                 "github_pat_" + body, token_ + "x"}) {
    dir_.write("secrets/github.token", bad, 0600);
    auto r = dir_.siphon({"check"});
    EXPECT_EQ(r.exit_code, 1) << bad;
    EXPECT_NE(r.out.find("app corp-github: field auth.token: value does not match"),
              std::string::npos)
        << r.out;
    EXPECT_EQ((r.out + r.err).find(body.substr(0, 20)), std::string::npos) << "token printed";
  }
  dir_.write("secrets/github.token", token_, 0600);
  for (const std::string& org : std::vector<std::string>{"-acme", "acme-", "acme--corp",
                                                         "acme_corp", std::string(40, 'a')}) {
    configure("", org);
    auto r = dir_.siphon({"check"});
    EXPECT_EQ(r.exit_code, 1) << org;
    EXPECT_NE(r.out.find("app corp-github: field auth.org: value does not match"),
              std::string::npos)
        << org << ": " << r.out;
  }
  configure("      scope: team\n");
  auto scope = dir_.siphon({"check"});
  EXPECT_EQ(scope.exit_code, 1);
  EXPECT_NE(scope.out.find("option scope: must be organization or enterprise"), std::string::npos)
      << scope.out;
  EXPECT_EQ(github_->requests(), 0u) << "check uses no network";
}

}  // namespace
