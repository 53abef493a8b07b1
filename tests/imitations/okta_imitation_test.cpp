// The Okta imitation itself, spoken to as a plain HTTP client: it must accept
// what Okta's System Log API accepts and refuse what it refuses, with its
// bodies, Link headers and rate-limit headers.
#include "okta_imitation.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <set>
#include <siphon/sdk.hpp>
#include <siphon/time_format.hpp>

#include "imitation_client.hpp"

namespace siphon::imitation {
namespace {

struct Answer : HttpAnswer {
  explicit Answer(HttpAnswer answer) : HttpAnswer(std::move(answer)) {}
  std::string code() const {
    auto doc = json();
    if (!doc.IsObject() || !doc.HasMember("errorCode")) return "";
    EXPECT_TRUE(doc["errorSummary"].IsString());
    EXPECT_TRUE(doc["errorCauses"].IsArray());
    return doc["errorCode"].GetString();
  }
  std::vector<std::string> links() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : header_lines)
      if (k == "Link") out.push_back(v);
    return out;
  }
  // The path and query of the rel="next" link, or "".
  std::string next() const {
    std::string all;
    for (const auto& l : links()) all += (all.empty() ? "" : ", ") + l;
    const std::string target = link_next(all);
    const auto path = target.find("/api/v1/logs");
    return path == std::string::npos ? "" : target.substr(path);
  }
  std::vector<std::string> uuids() const {
    std::vector<std::string> out;
    auto doc = json();
    for (const auto& e : doc.GetArray()) out.push_back(e["uuid"].GetString());
    return out;
  }
};

class OktaImitationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    okta_ = std::make_unique<OktaImitation>(token_);
    okta_->start();
  }
  Answer get(const std::string& uri, const std::string& token) {
    std::map<std::string, std::string> headers{{"Accept", "application/json"}};
    if (!token.empty()) headers["Authorization"] = "SSWS " + token;
    return Answer(http_send(okta_->port(), "GET", uri, "", headers));
  }
  Answer get(const std::string& uri) { return get(uri, token_); }
  std::string since(int64_t ms) { return url_encode(timefmt::rfc3339(ms, true)); }
  int64_t now() const { return now_ms(); }

  const std::string token_ = OktaImitation::make_token();
  std::unique_ptr<OktaImitation> okta_;
};

TEST_F(OktaImitationTest, TokensHaveOktasShape) {
  EXPECT_TRUE(std::regex_match(token_, std::regex("^00[A-Za-z0-9_-]{40}$"))) << token_;
  EXPECT_NE(OktaImitation::make_token(), token_);
}

TEST_F(OktaImitationTest, AWrongMissingOrRevokedTokenGets401E0000011) {
  okta_->add_events(3, now() - 60000, 1000);
  const std::string uri = "/api/v1/logs?since=" + since(now() - 3600000);
  for (const std::string& token : {std::string(), OktaImitation::make_token()}) {
    Answer a = get(uri, token);
    EXPECT_EQ(a.status, 401);
    EXPECT_EQ(a.code(), "E0000011");
    EXPECT_EQ(a.json()["errorSummary"].GetString(), std::string("Invalid token provided"));
  }
  Answer plain =
      Answer(http_send(okta_->port(), "GET", uri, "", {{"Authorization", "Bearer " + token_}}));
  EXPECT_EQ(plain.status, 401) << "only SSWS";
  Answer ok = get(uri);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.uuids().size(), 3u);
  EXPECT_EQ(okta_->last_accept(), "application/json");
  okta_->revoke_token();
  EXPECT_EQ(get(uri).code(), "E0000011");
}

TEST_F(OktaImitationTest, AnAdminWithoutTheRoleGets403E0000006) {
  okta_->set_forbidden(true);
  Answer a = get("/api/v1/logs");
  EXPECT_EQ(a.status, 403);
  EXPECT_EQ(a.code(), "E0000006");
}

TEST_F(OktaImitationTest, EventsAreABareArrayOfLogEvents) {
  const int64_t t = now() - 60000;
  okta_->add_events(2, t, 1000);
  Answer a = get("/api/v1/logs?since=" + since(t));
  ASSERT_EQ(a.status, 200);
  auto doc = a.json();
  ASSERT_TRUE(doc.IsArray());
  ASSERT_EQ(doc.Size(), 2u);
  const auto& e = doc[0];
  EXPECT_EQ(timefmt::parse_rfc3339(e["published"].GetString()), t);
  EXPECT_TRUE(std::regex_match(
      e["uuid"].GetString(),
      std::regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")))
      << e["uuid"].GetString();
  for (const char* member : {"eventType", "actor", "client", "outcome", "transaction", "severity"})
    EXPECT_TRUE(e.HasMember(member)) << member;
  EXPECT_NE(a.uuids()[0], a.uuids()[1]);
}

// Polling: a next link on every answer, an empty one included; the cursor is
// `after`, and an empty page links to itself.
TEST_F(OktaImitationTest, PollingAnswersAlwaysLinkTheNextPage) {
  const int64_t t = now() - 600000;
  auto added = okta_->add_events(5, t, 1000);
  Answer first = get("/api/v1/logs?since=" + since(t - 1000) + "&limit=2&sortOrder=ASCENDING");
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(first.links().size(), 2u) << "self and next as two headers";
  EXPECT_NE(first.links()[0].find(R"(rel="self")"), std::string::npos);
  EXPECT_EQ(first.next().find("since"), std::string::npos) << first.next();
  EXPECT_NE(first.next().find("after="), std::string::npos) << first.next();
  std::vector<std::string> seen = first.uuids();
  std::string next = first.next();
  for (size_t expect : {2u, 1u, 0u, 0u}) {
    Answer page = get(next);
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_EQ(page.uuids().size(), expect) << next;
    for (const auto& u : page.uuids()) seen.push_back(u);
    ASSERT_FALSE(page.next().empty()) << "polling answers always link the next page";
    if (expect == 0) {
      EXPECT_EQ(page.next(), next) << "an empty page links to itself";
    }
    next = page.next();
  }
  EXPECT_EQ(seen, added);
  // An empty first answer still links on.
  Answer none = get("/api/v1/logs?since=" + since(now()) + "&limit=2");
  EXPECT_EQ(none.uuids().size(), 0u);
  EXPECT_FALSE(none.next().empty());
}

TEST_F(OktaImitationTest, LinksCanComeAsOneCommaJoinedHeader) {
  okta_->add_events(3, now() - 60000, 1000);
  okta_->set_joined_links(true);
  Answer a = get("/api/v1/logs?since=" + since(now() - 120000) + "&limit=2");
  ASSERT_EQ(a.links().size(), 1u);
  EXPECT_NE(a.links()[0].find(R"(rel="self", <http://127.0.0.1:)"), std::string::npos)
      << a.links()[0];
  EXPECT_EQ(get(a.next()).uuids().size(), 1u);
}

// An event persisted late, with an older published time, comes through the
// next link after the events persisted before it, and a since on
// persistence time finds it too.
TEST_F(OktaImitationTest, ALatePersistedEventComesThroughTheNextLink) {
  const int64_t t = now() - 600000;
  okta_->add_events(3, t, 1000);
  Answer a = get("/api/v1/logs?since=" + since(t) + "&limit=10");
  ASSERT_EQ(a.uuids().size(), 3u);
  EXPECT_TRUE(get(a.next()).uuids().empty());
  const std::string late = okta_->add_late_event(t - 300000);
  Answer b = get(a.next());
  ASSERT_EQ(b.uuids(), std::vector<std::string>{late});
  EXPECT_EQ(timefmt::parse_rfc3339(b.json()[0]["published"].GetString()), t - 300000);
  Answer by_since = get("/api/v1/logs?since=" + since(now() - 5000));
  EXPECT_EQ(by_since.uuids(), std::vector<std::string>{late}) << "since is on persistence time";
}

TEST_F(OktaImitationTest, BoundedQueriesEndWithoutANextLink) {
  const int64_t t = now() - 600000;
  auto added = okta_->add_events(5, t, 1000);
  const std::string window = "since=" + since(t) + "&until=" + since(t + 10000);
  Answer a = get("/api/v1/logs?" + window + "&limit=3");
  EXPECT_EQ(a.uuids().size(), 3u);
  ASSERT_FALSE(a.next().empty());
  Answer b = get(a.next());
  EXPECT_EQ(b.uuids().size(), 2u);
  EXPECT_TRUE(b.next().empty()) << "the last page of a bounded query";
  Answer desc = get("/api/v1/logs?" + window + "&sortOrder=DESCENDING");
  EXPECT_EQ(desc.uuids().front(), added.back());
}

TEST_F(OktaImitationTest, BadParametersGet400E0000001) {
  for (const std::string& query : std::vector<std::string>{
           "since=yesterday", "since=2024-05-01", "until=soon", "limit=1001", "limit=0",
           "limit=ten", "sortOrder=UP", "after=garbage", "after=1_99_1",
           "since=" + since(now() - 91LL * 24 * 3600 * 1000)}) {
    Answer a = get("/api/v1/logs?" + query);
    EXPECT_EQ(a.status, 400) << query;
    EXPECT_EQ(a.code(), "E0000001") << query;
    EXPECT_EQ(a.json()["errorCauses"].Size(), 1u) << query;
  }
  okta_->set_clamp_limit(true);
  okta_->add_events(3, now() - 60000, 1000);
  Answer clamped = get("/api/v1/logs?since=" + since(now() - 120000) + "&limit=5000");
  EXPECT_EQ(clamped.status, 200);
  EXPECT_NE(clamped.next().find("limit=1000"), std::string::npos) << clamped.next();
}

TEST_F(OktaImitationTest, ExpiredCursorsAreRefusedAndNewOnesWork) {
  okta_->add_events(3, now() - 60000, 1000);
  Answer a = get("/api/v1/logs?since=" + since(now() - 120000) + "&limit=2");
  okta_->expire_cursors();
  Answer old = get(a.next());
  EXPECT_EQ(old.status, 400);
  EXPECT_EQ(old.code(), "E0000001");
  Answer fresh = get("/api/v1/logs?since=" + since(now() - 120000) + "&limit=2");
  EXPECT_EQ(get(fresh.next()).status, 200);
}

TEST_F(OktaImitationTest, RateLimitHeadersOnEveryAnswerAnd429WhenSpent) {
  okta_->set_rate_limit(2, 60);
  Answer a = get("/api/v1/logs");
  EXPECT_EQ(a.header("X-Rate-Limit-Limit"), "2");
  EXPECT_EQ(a.header("X-Rate-Limit-Remaining"), "1");
  const int64_t reset = std::stoll(a.header("X-Rate-Limit-Reset"));
  EXPECT_NEAR(reset, now() / 1000 + 60, 2) << "epoch seconds";
  EXPECT_EQ(get("/api/v1/logs", "").header("X-Rate-Limit-Remaining"), "0") << "a 401 has them too";
  Answer over = get("/api/v1/logs");
  EXPECT_EQ(over.status, 429);
  EXPECT_EQ(over.code(), "E0000047");
  EXPECT_EQ(over.header("X-Rate-Limit-Remaining"), "0");
  EXPECT_EQ(over.header("Retry-After"), "");
  EXPECT_EQ(okta_->rate_limited_calls(), 1);
}

TEST_F(OktaImitationTest, ThrottleAnswers429WithAResetInTheFuture) {
  okta_->throttle_for(3);
  Answer a = get("/api/v1/logs");
  EXPECT_EQ(a.status, 429);
  EXPECT_EQ(a.code(), "E0000047");
  EXPECT_EQ(a.header("X-Rate-Limit-Remaining"), "0");
  EXPECT_NEAR(std::stoll(a.header("X-Rate-Limit-Reset")), now() / 1000 + 3, 1);
}

TEST_F(OktaImitationTest, FaultsStrikeAfterNPagesWithRateLimitHeaders) {
  okta_->add_events(3, now() - 60000, 1000);
  Fault busy;
  busy.status = 503;
  busy.body = OktaImitation::error_body("E0000010", "Service is temporarily unavailable");
  okta_->fail_pages_after(1, busy);
  const std::string uri = "/api/v1/logs?since=" + since(now() - 120000);
  EXPECT_EQ(get(uri).status, 200);
  Answer b = get(uri);
  EXPECT_EQ(b.status, 503);
  EXPECT_EQ(b.code(), "E0000010");
  EXPECT_FALSE(b.header("X-Rate-Limit-Reset").empty());
  EXPECT_EQ(get(uri).status, 200);
  Fault concurrent;
  concurrent.status = 429;
  concurrent.body = OktaImitation::error_body(
      "E0000047", "API call exceeded rate limit due to too many requests.");
  okta_->fail_pages_after(0, concurrent);
  Answer c = get(uri);
  EXPECT_EQ(c.status, 429);
  EXPECT_NE(c.header("X-Rate-Limit-Remaining"), "0") << "a concurrency 429 leaves calls";
}

TEST_F(OktaImitationTest, OtherPathsAre404E0000007) {
  Answer a = get("/api/v1/users");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.code(), "E0000007");
}

}  // namespace
}  // namespace siphon::imitation
