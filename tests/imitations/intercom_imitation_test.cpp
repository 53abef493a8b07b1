// The Intercom imitation itself, spoken to as a plain HTTP client: it must
// accept what Intercom accepts and refuse what it refuses, with its bodies.
#include "intercom_imitation.hpp"

#include <Poco/URI.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <siphon/sdk.hpp>

#include "imitation_client.hpp"

namespace siphon::imitation {
namespace {

struct Answer : HttpAnswer {
  explicit Answer(HttpAnswer answer) : HttpAnswer(std::move(answer)) {}
  std::string code() const {
    auto doc = json();
    if (!doc.IsObject() || !doc.HasMember("errors")) return "";
    EXPECT_STREQ(doc["type"].GetString(), "error.list");
    return doc["errors"][0]["code"].GetString();
  }
};

class IntercomImitationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    intercom_ = std::make_unique<IntercomImitation>(token_);
    intercom_->start();
  }

  Answer get(const std::string& uri, const std::string& token, const std::string& version = "") {
    std::map<std::string, std::string> headers{{"Accept", "application/json"}};
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    if (!version.empty()) headers["Intercom-Version"] = version;
    return Answer(http_send(intercom_->port(), "GET", uri, "", headers));
  }
  Answer window(int64_t after, int64_t before, const std::string& extra = "") {
    return get("/admins/activity_logs?created_at_after=" + std::to_string(after) +
                   "&created_at_before=" + std::to_string(before) + extra,
               token_);
  }

  const std::string token_ = IntercomImitation::make_token();
  std::unique_ptr<IntercomImitation> intercom_;
};

TEST_F(IntercomImitationTest, TokensLookLikePrivateAppTokens) {
  EXPECT_EQ(token_.rfind("dG9r", 0), 0u) << token_;
  EXPECT_NE(IntercomImitation::make_token(), token_);
}

TEST_F(IntercomImitationTest, AWrongMissingOrRevokedTokenGets401ErrorList) {
  EXPECT_EQ(get("/admins/activity_logs?created_at_after=0", "").status, 401);
  Answer wrong = get("/admins/activity_logs?created_at_after=0", IntercomImitation::make_token());
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.code(), "unauthorized");
  EXPECT_STREQ(wrong.json()["errors"][0]["message"].GetString(), "Access Token Invalid");
  EXPECT_EQ(window(0, 10).status, 200);
  intercom_->revoke_token();
  EXPECT_EQ(window(0, 10).code(), "token_revoked");
}

TEST_F(IntercomImitationTest, MissingLowerBoundIsParameterNotFound) {
  Answer a = get("/admins/activity_logs?created_at_before=10", token_);
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.code(), "parameter_not_found");
  EXPECT_EQ(window(0, 10, "&per_page=0").code(), "parameter_invalid");
  EXPECT_EQ(get("/admins/activity_logs?created_at_after=soon", token_).status, 400);
}

TEST_F(IntercomImitationTest, PlanRestrictedAndUnknownVersion) {
  EXPECT_EQ(get("/admins/activity_logs?created_at_after=0", token_, "2.11").status, 200);
  EXPECT_EQ(intercom_->last_version(), "2.11");
  Answer bad = get("/admins/activity_logs?created_at_after=0", token_, "9.x");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.code(), "intercom_version_invalid");
  intercom_->set_plan_restricted(true);
  Answer restricted = window(0, 10);
  EXPECT_EQ(restricted.status, 403);
  EXPECT_EQ(restricted.code(), "api_plan_restricted");
}

TEST_F(IntercomImitationTest, WindowIsInclusiveNewestFirstAndPagedByNextUrl) {
  const int64_t t0 = 1714582000;
  intercom_->add_activities(50, t0, 2);  // 2 per second: t0 .. t0+24
  intercom_->set_page_size(7);
  // [t0+5, t0+14] inclusive: 10 seconds, 20 activities, 3 pages.
  std::string uri = "/admins/activity_logs?created_at_after=" + std::to_string(t0 + 5) +
                    "&created_at_before=" + std::to_string(t0 + 14);
  std::vector<int64_t> created;
  std::set<std::string> ids;
  int pages = 0;
  for (;;) {
    Answer a = get(uri, token_);
    ASSERT_EQ(a.status, 200) << a.body;
    ++pages;
    auto doc = a.json();
    EXPECT_STREQ(doc["type"].GetString(), "activity_log.list");
    EXPECT_EQ(doc["pages"]["total_pages"].GetInt(), 3);
    for (const auto& act : doc["activity_logs"].GetArray()) {
      created.push_back(act["created_at"].GetInt64());
      ids.insert(act["id"].GetString());
      EXPECT_TRUE(act["performed_by"].IsObject());
      EXPECT_TRUE(act["activity_type"].IsString());
    }
    if (doc["pages"]["next"].IsNull()) break;
    Poco::URI next(doc["pages"]["next"].GetString());
    EXPECT_EQ(next.getPort(), intercom_->port());
    uri = next.getPathAndQuery();
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(ids.size(), 20u);
  EXPECT_EQ(created.front(), t0 + 14);
  EXPECT_EQ(created.back(), t0 + 5);
  EXPECT_TRUE(std::is_sorted(created.rbegin(), created.rend()));
  // Empty window.
  auto empty = window(t0 + 1000, t0 + 2000).json();
  EXPECT_EQ(empty["activity_logs"].Size(), 0u);
  EXPECT_TRUE(empty["pages"]["next"].IsNull());
}

TEST_F(IntercomImitationTest, NextAsObjectAndCreatedAtAsString) {
  intercom_->add_activities(5, 1714582000, 1);
  intercom_->set_page_size(2);
  intercom_->set_next_as_object(true);
  intercom_->set_created_at_as_string(true);
  auto first = window(0, 1714590000).json();
  ASSERT_TRUE(first["pages"]["next"].IsObject());
  EXPECT_EQ(first["pages"]["next"]["page"].GetInt(), 2);
  EXPECT_TRUE(first["pages"]["next"]["starting_after"].IsString());
  EXPECT_TRUE(first["activity_logs"][0]["created_at"].IsString());
  auto third = window(0, 1714590000, "&page=3").json();
  EXPECT_EQ(third["activity_logs"].Size(), 1u);
  EXPECT_TRUE(third["pages"]["next"].IsNull());
}

TEST_F(IntercomImitationTest, RateLimitHeadersCountDownThen429) {
  intercom_->set_rate_limit(2, 2);
  Answer a = window(0, 10);
  EXPECT_EQ(a.headers["X-RateLimit-Limit"], "2");
  EXPECT_EQ(a.headers["X-RateLimit-Remaining"], "1");
  const int64_t reset = std::stoll(a.headers["X-RateLimit-Reset"]);
  EXPECT_GT(reset, now_ms() / 1000 - 1);
  EXPECT_LE(reset, now_ms() / 1000 + 2);
  EXPECT_EQ(window(0, 10).headers["X-RateLimit-Remaining"], "0");
  Answer limited = window(0, 10);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.code(), "rate_limit_exceeded");
  EXPECT_EQ(intercom_->rate_limited_calls(), 1);
}

TEST_F(IntercomImitationTest, PageFaultsStrikeAfterTheGivenPages) {
  Fault f;
  f.status = 503;
  f.body =
      R"({"type":"error.list","request_id":null,"errors":[{"code":"service_unavailable","message":"Service Unavailable"}]})";
  intercom_->fail_pages_after(2, f);
  EXPECT_EQ(window(0, 10).status, 200);
  EXPECT_EQ(window(0, 10).status, 200);
  Answer broken = window(0, 10);
  EXPECT_EQ(broken.status, 503);
  EXPECT_EQ(broken.code(), "service_unavailable");
  EXPECT_EQ(window(0, 10).status, 200);
}

}  // namespace
}  // namespace siphon::imitation
