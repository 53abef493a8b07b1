// The OneLogin imitation itself, spoken to as a plain HTTP client: it must
// accept what OneLogin accepts and refuse what it refuses, with its bodies.
#include "onelogin_imitation.hpp"

#include <Poco/URI.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <siphon/auth_helpers.hpp>
#include <siphon/sdk.hpp>
#include <siphon/time_format.hpp>
#include <thread>

#include "imitation_client.hpp"

namespace siphon::imitation {
namespace {

struct Answer : HttpAnswer {
  explicit Answer(HttpAnswer answer) : HttpAnswer(std::move(answer)) {}
  std::string message() const {
    auto doc = json();
    return doc.IsObject() && doc.HasMember("status") ? doc["status"]["message"].GetString() : "";
  }
};

class OneLoginImitationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    onelogin_ = std::make_unique<OneLoginImitation>(id_, secret_);
    onelogin_->start();
  }

  Answer send(const std::string& method, const std::string& uri, const std::string& body = "",
              const std::map<std::string, std::string>& headers = {}) {
    return Answer(http_send(onelogin_->port(), method, uri, body, headers));
  }

  Answer token_request(const std::string& id, const std::string& secret) {
    return send("POST", "/auth/oauth2/v2/token", R"({"grant_type":"client_credentials"})",
                {{"Authorization", "client_id:" + id + ", client_secret:" + secret},
                 {"Content-Type", "application/json"}});
  }
  std::string token() {
    Answer a = token_request(id_, secret_);
    EXPECT_EQ(a.status, 200) << a.body;
    return a.json()["access_token"].GetString();
  }
  Answer events(const std::string& query, const std::string& token) {
    return send("GET", "/api/1/events" + query, "", {{"Authorization", "bearer:" + token}});
  }
  // Follows next_link from a first query; returns the ids in the order served.
  std::vector<int64_t> read_all(const std::string& query, const std::string& tok,
                                int* pages = nullptr) {
    std::vector<int64_t> ids;
    std::string uri = "/api/1/events" + query;
    for (int n = 1;; ++n) {
      Answer a = send("GET", uri, "", {{"Authorization", "bearer:" + tok}});
      EXPECT_EQ(a.status, 200) << a.body;
      if (a.status != 200) break;
      auto doc = a.json();
      for (const auto& e : doc["data"].GetArray()) ids.push_back(e["id"].GetInt64());
      const auto& next = doc["pagination"]["next_link"];
      if (pages) *pages = n;
      if (next.IsNull()) break;
      Poco::URI link(next.GetString());
      EXPECT_EQ(link.getPort(), onelogin_->port());
      uri = link.getPathAndQuery();
    }
    return ids;
  }

  const std::string id_ = OneLoginImitation::make_credential();
  const std::string secret_ = OneLoginImitation::make_credential();
  std::unique_ptr<OneLoginImitation> onelogin_;
};

TEST_F(OneLoginImitationTest, TokenInEachOfTheThreeRequestForms) {
  Answer header = token_request(id_, secret_);
  ASSERT_EQ(header.status, 200) << header.body;
  EXPECT_EQ(onelogin_->last_token_form(), "header");
  auto doc = header.json();
  EXPECT_EQ(doc["expires_in"].GetInt64(), 36000);
  EXPECT_STREQ(doc["token_type"].GetString(), "bearer");
  EXPECT_EQ(std::string(doc["access_token"].GetString()).size(), 64u);

  Answer basic = send("POST", "/auth/oauth2/v2/token", R"({"grant_type":"client_credentials"})",
                      {{"Authorization", "Basic " + auth::base64_encode(id_ + ":" + secret_)},
                       {"Content-Type", "application/json"}});
  ASSERT_EQ(basic.status, 200) << basic.body;
  EXPECT_EQ(onelogin_->last_token_form(), "basic");
  Answer form = send(
      "POST", "/auth/oauth2/v2/token",
      encode_params(
          {{"grant_type", "client_credentials"}, {"client_id", id_}, {"client_secret", secret_}}),
      {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(form.status, 200) << form.body;
  EXPECT_EQ(onelogin_->last_token_form(), "form");
  // v2 hands the same token back until it expires.
  EXPECT_STREQ(basic.json()["access_token"].GetString(), doc["access_token"].GetString());
  EXPECT_EQ(onelogin_->issued_tokens(), 1);
}

TEST_F(OneLoginImitationTest, WrongSecretAndMissingGrantTypeGetOneLoginsBodies) {
  Answer wrong = token_request(id_, OneLoginImitation::make_credential());
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.message(), "Authentication Failure");
  EXPECT_STREQ(wrong.json()["status"]["type"].GetString(), "Unauthorized");
  Answer no_grant = send("POST", "/auth/oauth2/v2/token", "{}",
                         {{"Authorization", "client_id:" + id_ + ", client_secret:" + secret_},
                          {"Content-Type", "application/json"}});
  EXPECT_EQ(no_grant.status, 400);
  EXPECT_EQ(no_grant.message(), "grant_type is incorrect/absent");
  EXPECT_EQ(onelogin_->issued_tokens(), 0);
}

TEST_F(OneLoginImitationTest, EventsNeedAValidUnexpiredToken) {
  onelogin_->add_events(3, now_ms() - 60000, 1000);
  EXPECT_EQ(events("", "").status, 401);
  EXPECT_EQ(events("", "0123456789abcdef").message(), "Authentication Failure");
  onelogin_->set_token_lifetime_seconds(1);
  std::string tok = token();
  Answer ok = send("GET", "/api/1/events", "", {{"Authorization", "Bearer " + tok}});
  EXPECT_EQ(ok.status, 200) << "the newer Bearer form is accepted too";
  EXPECT_EQ(events("", tok).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(events("", tok).status, 401);
  std::string fresh = token();
  EXPECT_NE(fresh, tok);
  EXPECT_EQ(onelogin_->issued_tokens(), 2);
  onelogin_->revoke_tokens();
  EXPECT_EQ(events("", fresh).status, 401);
}

TEST_F(OneLoginImitationTest, SinceUntilFilterAndNextLinkPagingServeEachEventOnce) {
  const int64_t t0 = 1714582800000;  // 2024-05-01T17:00:00Z
  onelogin_->add_events(120, t0, 1000);
  std::string tok = token();
  int pages = 0;
  // since is inclusive, until exclusive: events 10 .. 99.
  auto ids = read_all("?" + encode_params({{"since", timefmt::rfc3339(t0 + 10000, true)},
                                           {"until", timefmt::rfc3339(t0 + 100000, true)},
                                           {"sort", "+id"},
                                           {"limit", "25"}}),
                      tok, &pages);
  EXPECT_EQ(ids.size(), 90u);
  EXPECT_EQ(pages, 4);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::set<int64_t>(ids.begin(), ids.end()).size(), 90u);
  auto desc = read_all("?sort=-id&limit=50", tok);
  EXPECT_EQ(desc.size(), 120u);
  EXPECT_TRUE(std::is_sorted(desc.rbegin(), desc.rend()));
  // An empty window: data [] and no next_link.
  Answer empty = events("?since=2030-01-01T00:00:00.000Z", tok);
  ASSERT_EQ(empty.status, 200);
  EXPECT_EQ(empty.json()["data"].Size(), 0u);
  EXPECT_TRUE(empty.json()["pagination"]["next_link"].IsNull());
  EXPECT_EQ(events("?since=yesterday", tok).status, 400);
}

TEST_F(OneLoginImitationTest, EventsCarryTheDocumentedFields) {
  onelogin_->add_events(4, 1714582800000, 1000);
  auto doc = events("", token()).json();
  ASSERT_EQ(doc["data"].Size(), 4u);
  for (const char* field : {"id", "created_at", "account_id", "user_id", "event_type_id", "ipaddr",
                            "actor_user_name", "user_name", "policy_name", "error_description"})
    EXPECT_TRUE(doc["data"][0].HasMember(field)) << field;
  EXPECT_STREQ(doc["data"][0]["created_at"].GetString(), "2024-05-01T17:00:00.000Z");
}

TEST_F(OneLoginImitationTest, ExpiredPageCursorsAreRefused) {
  onelogin_->add_events(10, now_ms() - 60000, 100);
  std::string tok = token();
  auto first = events("?limit=4", tok).json();
  Poco::URI next(first["pagination"]["next_link"].GetString());
  EXPECT_EQ(events("?" + next.getRawQuery(), tok).status, 200);
  onelogin_->expire_page_cursors();
  Answer stale = events("?" + next.getRawQuery(), tok);
  EXPECT_EQ(stale.status, 400);
  EXPECT_EQ(stale.message(), "Invalid after_cursor");
  EXPECT_EQ(events("?after_cursor=garbage", tok).status, 400);
}

TEST_F(OneLoginImitationTest, RateLimitCountsDownAndSignalsWithABadRequestBody) {
  onelogin_->add_events(5, now_ms() - 60000, 100);
  onelogin_->set_rate_limit(2, 3000, OneLoginImitation::LimitSignal::kBadRequest);
  std::string tok = token();
  Answer a = events("", tok);
  EXPECT_EQ(a.headers["X-RateLimit-Limit"], "2");
  EXPECT_EQ(a.headers["X-RateLimit-Remaining"], "1");
  EXPECT_EQ(a.headers["X-RateLimit-Reset"], "3");
  EXPECT_EQ(events("", tok).headers["X-RateLimit-Remaining"], "0");
  Answer limited = events("", tok);
  EXPECT_EQ(limited.status, 400);
  EXPECT_EQ(limited.message(), "rate_limit_exceeded");
  Answer info = send("GET", "/auth/rate_limit", "", {{"Authorization", "bearer:" + tok}});
  ASSERT_EQ(info.status, 200);
  auto data = info.json();
  EXPECT_EQ(data["data"]["X-RateLimit-Limit"].GetInt(), 2);
  EXPECT_EQ(data["data"]["X-RateLimit-Remaining"].GetInt(), 0);
  EXPECT_GE(data["data"]["X-RateLimit-Reset"].GetInt(), 1);
  EXPECT_LE(data["data"]["X-RateLimit-Reset"].GetInt(), 3);
  EXPECT_EQ(onelogin_->rate_limited_calls(), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(3100));
  EXPECT_EQ(events("", tok).status, 200) << "the window reset";
}

TEST_F(OneLoginImitationTest, RateLimitAs429AndWithoutHeaders) {
  onelogin_->set_rate_limit(1, 60000, OneLoginImitation::LimitSignal::kTooManyRequests, false);
  std::string tok = token();
  Answer a = events("", tok);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.headers.count("X-RateLimit-Remaining"), 0u);
  Answer limited = events("", tok);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.message(), "rate_limit_exceeded");
}

TEST_F(OneLoginImitationTest, PageFaultsStrikeAfterTheGivenPages) {
  onelogin_->add_events(10, now_ms() - 60000, 100);
  std::string tok = token();
  Fault f;
  f.status = 500;
  f.count = 2;
  f.body =
      R"({"status":{"error":true,"code":500,"type":"internal server error","message":"boom"}})";
  onelogin_->fail_pages_after(1, f);
  EXPECT_EQ(events("?limit=2", tok).status, 200);
  EXPECT_EQ(events("?limit=2", tok).status, 500);
  EXPECT_EQ(events("?limit=2", tok).status, 500);
  EXPECT_EQ(events("?limit=2", tok).status, 200);
  EXPECT_EQ(send("GET", "/api/1/nothing", "", {{"Authorization", "bearer:" + tok}}).message(),
            "No Route Exists");
}

}  // namespace
}  // namespace siphon::imitation
