// The GitHub audit log imitation itself, spoken to as a plain HTTP client: it
// must accept what GitHub accepts and refuse what it refuses, with its bodies
// and headers.
#include "github_imitation.hpp"

#include <Poco/URI.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <siphon/sdk.hpp>
#include <siphon/time_format.hpp>
#include <thread>

#include "imitation_client.hpp"

namespace siphon::imitation {
namespace {

const char kOrgPath[] = "/orgs/acme-corp/audit-log";

struct Answer : HttpAnswer {
  explicit Answer(HttpAnswer answer) : HttpAnswer(std::move(answer)) {}
  std::string message() const {
    auto doc = json();
    return doc.IsObject() && doc.HasMember("message") ? doc["message"].GetString() : "";
  }
  std::vector<std::string> ids() const {
    std::vector<std::string> out;
    auto doc = json();
    EXPECT_TRUE(doc.IsArray()) << body;
    if (!doc.IsArray()) return out;
    for (const auto& e : doc.GetArray()) out.push_back(e["_document_id"].GetString());
    return out;
  }
  std::vector<int64_t> times() const {
    std::vector<int64_t> out;
    auto doc = json();
    if (!doc.IsArray()) return out;
    for (const auto& e : doc.GetArray()) out.push_back(e["@timestamp"].GetInt64());
    return out;
  }
  // The path and query of the rel="next" link, or "".
  std::string next() const {
    const std::string url = link_next(header("Link"));
    return url.empty() ? "" : Poco::URI(url).getPathEtc();
  }
};

class GithubImitationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    github_ = std::make_unique<GithubImitation>(token_, "acme-corp");
    github_->start();
  }

  Answer get(const std::string& uri, const std::string& authorization = "", bool user_agent = true,
             const std::string& version = "2022-11-28") {
    std::map<std::string, std::string> headers{{"Accept", "application/vnd.github+json"}};
    headers["Authorization"] = authorization.empty() ? "Bearer " + token_ : authorization;
    if (user_agent) headers["User-Agent"] = "imitation-test/1";
    if (!version.empty()) headers["X-GitHub-Api-Version"] = version;
    return Answer(http_send(github_->port(), "GET", uri, "", headers));
  }
  // The org audit log with these parameters (phrase and others URL-encoded).
  Answer search(const Params& params) {
    return get(std::string(kOrgPath) + "?" + encode_params(params));
  }
  static std::string iso(int64_t s) { return timefmt::rfc3339(s * 1000); }

  const std::string token_ = GithubImitation::make_token();
  std::unique_ptr<GithubImitation> github_;
};

TEST_F(GithubImitationTest, TokensHaveGithubsShapes) {
  EXPECT_TRUE(std::regex_match(token_, std::regex("ghp_[A-Za-z0-9]{36}"))) << token_;
  const std::string fine = GithubImitation::make_fine_grained_token();
  EXPECT_TRUE(std::regex_match(fine, std::regex("github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}")))
      << fine;
  EXPECT_NE(GithubImitation::make_token(), token_);
}

TEST_F(GithubImitationTest, AMissingUserAgentIs403) {
  Answer a = get(kOrgPath, "", false);
  EXPECT_EQ(a.status, 403);
  EXPECT_NE(a.body.find("User-Agent"), std::string::npos) << a.body;
  EXPECT_EQ(get(kOrgPath).status, 200);
}

TEST_F(GithubImitationTest, BadOrMissingTokensAre401AndNonOwnersOrUnknownOrgs404) {
  Answer none = Answer(http_send(github_->port(), "GET", kOrgPath, "", {{"User-Agent", "t"}}));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.message(), "Requires authentication");
  Answer bad = get(kOrgPath, "Bearer " + GithubImitation::make_token());
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.message(), "Bad credentials");
  EXPECT_EQ(bad.json()["status"].GetString(), std::string("401"));
  EXPECT_EQ(get(kOrgPath, "token " + token_).status, 200) << "the older scheme";
  EXPECT_EQ(get("/orgs/ACME-corp/audit-log").status, 200) << "logins are case-insensitive";

  const std::string member = GithubImitation::make_fine_grained_token();
  github_->add_token(member, false);
  Answer hidden = get(kOrgPath, "Bearer " + member);
  EXPECT_EQ(hidden.status, 404);
  EXPECT_EQ(hidden.message(), "Not Found");
  EXPECT_EQ(get("/orgs/other-org/audit-log").status, 404);
  EXPECT_EQ(get("/enterprises/acme/audit-log").status, 404) << "no enterprise set";

  Answer version = get(kOrgPath, "", true, "2021-01-01");
  EXPECT_EQ(version.status, 400);
  EXPECT_NE(version.message().find("2021-01-01"), std::string::npos);

  github_->revoke_token(token_);
  EXPECT_EQ(get(kOrgPath).message(), "Bad credentials");
}

TEST_F(GithubImitationTest, PhraseCreatedQualifiersHaveSecondGranularity) {
  const int64_t t = 1714582800;  // 2024-05-01T17:00:00Z
  for (int i = 0; i < 10; ++i) github_->add_event((t + i) * 1000 + 250);
  auto count = [&](const std::string& phrase) {
    Answer a = search({{"phrase", phrase}, {"per_page", "100"}});
    EXPECT_EQ(a.status, 200) << phrase << ": " << a.body;
    return a.ids().size();
  };
  EXPECT_EQ(count("created:>=" + iso(t + 3)), 7u) << "the .250 of t+3 is in t+3's second";
  EXPECT_EQ(count("created:<=" + iso(t + 3)), 4u);
  EXPECT_EQ(count("created:>=" + iso(t + 3) + " created:<=" + iso(t + 5)), 3u);
  EXPECT_EQ(count("created:" + iso(t + 2) + ".." + iso(t + 4)), 3u);
  EXPECT_EQ(count("created:" + iso(t + 8) + "..*"), 2u);
  EXPECT_EQ(count("created:>" + iso(t + 8)), 1u);
  EXPECT_EQ(count("created:<" + iso(t + 1)), 1u);
  EXPECT_EQ(count("created:" + iso(t + 5)), 1u);
  EXPECT_EQ(count("created:2024-05-01"), 10u);
  EXPECT_EQ(count("created:>2024-05-01"), 0u);

  Answer bad = search({{"phrase", "created:>=yesterday"}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.message().find("created:>=yesterday"), std::string::npos) << bad.body;
  EXPECT_EQ(search({{"phrase", "colour:blue"}}).status, 422);
}

TEST_F(GithubImitationTest, PhraseActionMatchesAnActionOrItsCategory) {
  const int64_t t = now_ms() - 60000;
  github_->add_event(t, "repo.create");
  github_->add_event(t + 1, "repo.access");
  github_->add_event(t + 2, "org.add_member");
  EXPECT_EQ(search({{"phrase", "action:repo"}}).ids().size(), 2u);
  EXPECT_EQ(search({{"phrase", "action:repo.create"}}).ids().size(), 1u);
  EXPECT_EQ(search({{"phrase", "action:org.add_member created:>=" + iso(t / 1000)}}).ids().size(),
            1u);
  EXPECT_EQ(search({{"phrase", "action:team"}}).ids().size(), 0u);
}

TEST_F(GithubImitationTest, OrderIsDescByDefaultAndPerPageIsCappedAt100) {
  const int64_t t = now_ms() - 3600 * 1000;
  github_->add_events(150, t, 1000);
  Answer by_default = search({});
  EXPECT_EQ(by_default.ids().size(), 30u) << "GitHub's default page size";
  auto desc = by_default.times();
  EXPECT_EQ(desc.front(), t + 149 * 1000);
  EXPECT_TRUE(std::is_sorted(desc.rbegin(), desc.rend()));
  Answer asc = search({{"order", "asc"}, {"per_page", "500"}});
  auto times = asc.times();
  EXPECT_EQ(times.size(), 100u);
  EXPECT_EQ(times.front(), t);
  EXPECT_TRUE(std::is_sorted(times.begin(), times.end()));
  EXPECT_EQ(search({{"order", "sideways"}}).status, 422);
}

TEST_F(GithubImitationTest, AfterCursorsPageThroughTheOrganizationsIdForm) {
  const int64_t t = now_ms() - 3600 * 1000;
  github_->add_events(45, t, 100);
  const std::string phrase = "created:>=" + iso(t / 1000 - 1);
  Answer a = search({{"phrase", phrase}, {"order", "asc"}, {"per_page", "20"}});
  std::vector<std::string> ids;
  std::vector<int64_t> times;
  int pages = 0;
  for (;;) {
    ASSERT_EQ(a.status, 200) << a.body;
    ++pages;
    for (const auto& id : a.ids()) ids.push_back(id);
    for (auto ts : a.times()) times.push_back(ts);
    EXPECT_EQ(a.header("x-ratelimit-resource"), "audit_log");
    const std::string next = a.next();
    if (next.empty()) break;
    const std::string url = link_next(a.header("Link"));
    EXPECT_EQ(Poco::URI(url).getPort(), github_->port());
    EXPECT_EQ(Poco::URI(next).getPath(), "/organizations/7000007/audit-log");
    EXPECT_NE(next.find("after="), std::string::npos);
    EXPECT_NE(next.find("phrase=created%3A%3E%3D"), std::string::npos) << next;
    EXPECT_NE(next.find("order=asc"), std::string::npos);
    a = get(next);
    if (pages == 1) {
      EXPECT_NE(a.header("Link").find("rel=\"first\""), std::string::npos);
    }
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(ids.size(), 45u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 45u);
  EXPECT_TRUE(std::is_sorted(times.begin(), times.end()));
  EXPECT_EQ(a.header("Link").find("rel=\"next\""), std::string::npos) << "last page";
  EXPECT_NE(a.header("Link").find("rel=\"prev\""), std::string::npos);

  // Classic page numbers are accepted too.
  Answer second = search({{"phrase", phrase}, {"order", "asc"}, {"per_page", "20"}, {"page", "2"}});
  EXPECT_EQ(second.ids(), std::vector<std::string>(ids.begin() + 20, ids.begin() + 40));
  EXPECT_NE(second.next().find("page=3"), std::string::npos);
}

TEST_F(GithubImitationTest, AnEmptyResultIsABareArrayWithoutLink) {
  Answer a = search({{"phrase", "created:>=2030-01-01T00:00:00Z"}});
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "[]");
  EXPECT_EQ(a.header("Link"), "");
  EXPECT_EQ(a.header("Content-Type"), "application/json");
}

TEST_F(GithubImitationTest, SameSecondEventsAndLateBackfill) {
  const int64_t s = now_ms() / 1000 - 600;
  for (int i = 0; i < 5; ++i) github_->add_event(s * 1000 + 100 * i);
  const Params window{{"phrase", "created:>=" + iso(s)}, {"order", "asc"}, {"per_page", "3"}};
  Answer first = search(window);
  ASSERT_EQ(first.ids().size(), 3u);
  // A late event older than the cursor is not on the pages after it ...
  const std::string late = github_->add_event(s * 1000 + 50);
  auto second = get(first.next()).ids();
  EXPECT_EQ(second.size(), 2u);
  EXPECT_EQ(std::count(second.begin(), second.end(), late), 0);
  // ... but a new search from its second finds it.
  auto again = search({{"phrase", "created:>=" + iso(s)}, {"per_page", "100"}}).ids();
  EXPECT_EQ(again.size(), 6u);
  EXPECT_EQ(std::count(again.begin(), again.end(), late), 1);
}

TEST_F(GithubImitationTest, NoCreatedQualifierSearchesTheLastThreeMonths) {
  const int64_t old = now_ms() - 100 * GithubImitation::kDayMs;
  github_->add_event(old);
  github_->add_event(now_ms() - 1000);
  EXPECT_EQ(search({}).ids().size(), 1u);
  EXPECT_EQ(search({{"phrase", "created:>=" + iso(old / 1000)}}).ids().size(), 2u);
}

TEST_F(GithubImitationTest, GitEventsNeedIncludeAndExpireAfterTheirRetention) {
  const int64_t now = now_ms();
  github_->add_git_events(2, now - 8 * GithubImitation::kDayMs, 1000);
  github_->add_git_events(3, now - GithubImitation::kDayMs, 1000);
  github_->add_events(4, now - 2 * GithubImitation::kDayMs, 1000);
  const std::string phrase = "created:>=" + iso((now - 30 * GithubImitation::kDayMs) / 1000);
  EXPECT_EQ(search({{"phrase", phrase}}).ids().size(), 4u) << "web by default";
  Answer git = search({{"phrase", phrase}, {"include", "git"}});
  EXPECT_EQ(git.ids().size(), 3u) << "older than 7 days: gone";
  EXPECT_EQ(std::string(git.json()[0]["action"].GetString()).rfind("git.", 0), 0u);
  EXPECT_EQ(search({{"phrase", phrase}, {"include", "all"}}).ids().size(), 7u);
  github_->set_git_retention_ms(10 * GithubImitation::kDayMs);
  EXPECT_EQ(search({{"phrase", phrase}, {"include", "git"}}).ids().size(), 5u);
  EXPECT_EQ(search({{"include", "everything"}}).status, 422);
}

TEST_F(GithubImitationTest, ExpiredOrForgedCursorsAre422) {
  github_->add_events(10, now_ms() - 60000, 10);
  github_->set_cursor_lifetime_ms(200);
  Answer a = search({{"order", "asc"}, {"per_page", "4"}});
  const std::string next = a.next();
  ASSERT_FALSE(next.empty());
  EXPECT_EQ(get(next).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Answer expired = get(next);
  EXPECT_EQ(expired.status, 422);
  EXPECT_NE(expired.message().find("cursor"), std::string::npos);
  EXPECT_EQ(search({{"after", "bm90IGEgY3Vyc29y"}}).status, 422);
  EXPECT_EQ(github_->refused_cursors(), 2);
}

TEST_F(GithubImitationTest, RateLimitHeadersCountDownToA403Or429WithRemainingZero) {
  github_->set_rate_limit(3, 60);
  const int64_t now_s = now_ms() / 1000;
  for (int i = 2; i >= 0; --i) {
    Answer a = search({});
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.header("x-ratelimit-limit"), "3");
    EXPECT_EQ(a.header("x-ratelimit-remaining"), std::to_string(i));
    EXPECT_EQ(a.header("x-ratelimit-used"), std::to_string(3 - i));
    const int64_t reset = std::stoll(a.header("x-ratelimit-reset"));
    EXPECT_GE(reset, now_s + 59);
    EXPECT_LE(reset, now_s + 61);
  }
  Answer limited = search({});
  EXPECT_EQ(limited.status, 403);
  EXPECT_EQ(limited.header("x-ratelimit-remaining"), "0");
  EXPECT_NE(limited.message().find("API rate limit exceeded"), std::string::npos);
  github_->exhaust_rate_limit(30, 429);
  Answer too_many = search({});
  EXPECT_EQ(too_many.status, 429);
  EXPECT_EQ(too_many.header("x-ratelimit-remaining"), "0");
  EXPECT_NEAR(std::stoll(too_many.header("x-ratelimit-reset")), now_ms() / 1000 + 30, 1);
  EXPECT_EQ(github_->rate_limited_calls(), 2);
}

TEST_F(GithubImitationTest, SecondaryLimitsWithAndWithoutRetryAfter) {
  github_->secondary_limit(1, 403, "7");
  Answer a = search({});
  EXPECT_EQ(a.status, 403);
  EXPECT_EQ(a.header("retry-after"), "7");
  EXPECT_NE(a.message().find("secondary rate limit"), std::string::npos);
  EXPECT_NE(a.header("x-ratelimit-remaining"), "0") << "not the primary limit";
  EXPECT_EQ(search({}).status, 200);
  github_->secondary_limit(1, 429, "");
  Answer b = search({});
  EXPECT_EQ(b.status, 429);
  EXPECT_EQ(b.header("retry-after"), "");
}

TEST_F(GithubImitationTest, ServerErrorsOnTheNthCall) {
  github_->add_events(10, now_ms() - 60000, 10);
  Fault bad_gateway;
  bad_gateway.status = 502;
  bad_gateway.count = 2;
  bad_gateway.body = R"({"message":"Server Error"})";
  github_->fail_pages_after(2, bad_gateway);
  EXPECT_EQ(search({}).status, 200);
  EXPECT_EQ(search({}).status, 200);
  EXPECT_EQ(search({}).status, 502);
  EXPECT_EQ(search({}).status, 502);
  EXPECT_EQ(search({}).status, 200);
  Fault unavailable;
  unavailable.status = 503;
  github_->fail_pages_after(0, unavailable);
  EXPECT_EQ(search({}).status, 503);
  EXPECT_EQ(search({}).status, 200);
}

TEST_F(GithubImitationTest, EnterpriseAuditLogAndAServerPathPrefix) {
  github_->add_events(5, now_ms() - 60000, 10);
  github_->set_enterprise("acme");
  Answer a = get("/enterprises/acme/audit-log?per_page=2&order=asc");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.ids().size(), 2u);
  EXPECT_EQ(a.json()[0]["business"].GetString(), std::string("acme"));
  EXPECT_EQ(Poco::URI(a.next()).getPath(), "/enterprises/acme/audit-log");
  EXPECT_EQ(get("/enterprises/other/audit-log").status, 404);

  github_->set_path_prefix("/api/v3");
  EXPECT_EQ(get(kOrgPath).status, 404);
  Answer prefixed = get(std::string("/api/v3") + kOrgPath + "?per_page=2");
  ASSERT_EQ(prefixed.status, 200);
  EXPECT_EQ(Poco::URI(prefixed.next()).getPath(), "/api/v3/organizations/7000007/audit-log");
  EXPECT_EQ(github_->audit_log_requests().back().path, "/api/v3/orgs/acme-corp/audit-log");
}

}  // namespace
}  // namespace siphon::imitation
