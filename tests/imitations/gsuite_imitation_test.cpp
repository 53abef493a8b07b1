// The Google Workspace imitation itself, spoken to as a plain HTTP client: it
// must accept what Google accepts and refuse what Google refuses, with
// Google's bodies.
#include "gsuite_imitation.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

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

constexpr char kJwtGrant[] = "urn:ietf:params:oauth:grant-type:jwt-bearer";
constexpr char kList[] = "/admin/reports/v1/activity/users/all/applications/";

using Answer = HttpAnswer;

// A JWT assertion's claims; the defaults are what Google accepts.
struct Claims {
  std::string iss, sub = "admin@example.com", scope = GsuiteImitation::kScope,
                   aud = GsuiteImitation::kTokenUri;
  int64_t iat_offset_s = 0;
  int64_t lifetime_s = 3600;
  std::string kid;
};

class GsuiteImitationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key_ = new GsuiteImitation::Keyfile(GsuiteImitation::make_keyfile());
    stranger_ = new GsuiteImitation::Keyfile(GsuiteImitation::make_keyfile());
  }
  static void TearDownTestSuite() {
    delete key_;
    delete stranger_;
  }
  void SetUp() override {
    google_ = std::make_unique<GsuiteImitation>(key_->account);
    google_->start();
  }

  Answer send(const std::string& method, const std::string& uri, const std::string& body = "",
              const std::string& bearer = "") {
    std::map<std::string, std::string> headers;
    if (!bearer.empty()) headers["Authorization"] = "Bearer " + bearer;
    if (method == "POST") headers["Content-Type"] = "application/x-www-form-urlencoded";
    return http_send(google_->port(), method, uri, body, headers);
  }

  std::string assertion(Claims c, const GsuiteImitation::Keyfile& key = *key_) {
    if (c.iss.empty()) c.iss = key_->account.client_email;
    if (c.kid.empty()) c.kid = key_->account.private_key_id;
    const int64_t iat = now_ms() / 1000 + c.iat_offset_s;
    std::string header = R"({"alg":"RS256","typ":"JWT","kid":")" + c.kid + R"("})";
    std::string claims = R"({"iss":")" + c.iss + R"(","sub":")" + c.sub + R"(","scope":")" +
                         c.scope + R"(","aud":")" + c.aud + R"(","iat":)" + std::to_string(iat) +
                         R"(,"exp":)" + std::to_string(iat + c.lifetime_s) + "}";
    return auth::rs256_jwt(header, claims, key.private_key_pem);
  }

  Answer grant(const std::string& jwt) {
    return send("POST", "/token", encode_params({{"grant_type", kJwtGrant}, {"assertion", jwt}}));
  }
  std::string token(const Claims& c = {}) {
    Answer a = grant(assertion(c));
    EXPECT_EQ(a.status, 200) << a.body;
    return a.json()["access_token"].GetString();
  }

  Answer list(const std::string& app, const Params& query, const std::string& bearer) {
    return send("GET", kList + app + (query.empty() ? "" : "?" + encode_params(query)), "", bearer);
  }
  // Follows every page; returns the items' uniqueQualifiers in order.
  std::vector<std::string> read_all(const std::string& app, Params query, const std::string& bearer,
                                    size_t* pages = nullptr) {
    std::vector<std::string> out;
    size_t n = 0;
    for (std::string page;; ++n) {
      Params q = query;
      if (!page.empty()) q.emplace_back("pageToken", page);
      Answer a = list(app, q, bearer);
      EXPECT_EQ(a.status, 200) << a.body;
      if (a.status != 200) break;
      auto doc = a.json();
      if (doc.HasMember("items"))
        for (const auto& item : doc["items"].GetArray())
          out.emplace_back(item["id"]["uniqueQualifier"].GetString());
      if (!doc.HasMember("nextPageToken")) break;
      page = doc["nextPageToken"].GetString();
    }
    if (pages) *pages = n + 1;
    return out;
  }
  static std::string error_of(const Answer& a) {
    auto doc = a.json();
    return doc["error"].IsString() ? doc["error"].GetString() : "";
  }
  static std::string reason_of(const Answer& a) {
    auto doc = a.json();
    return doc["error"]["errors"][0]["reason"].GetString();
  }

  static GsuiteImitation::Keyfile* key_;
  static GsuiteImitation::Keyfile* stranger_;
  std::unique_ptr<GsuiteImitation> google_;
};

GsuiteImitation::Keyfile* GsuiteImitationTest::key_ = nullptr;
GsuiteImitation::Keyfile* GsuiteImitationTest::stranger_ = nullptr;

TEST_F(GsuiteImitationTest, KeyfileIsAServiceAccountJsonWithAPkcs8Key) {
  rapidjson::Document doc;
  doc.Parse(key_->json.c_str());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_STREQ(doc["type"].GetString(), "service_account");
  EXPECT_EQ(doc["client_email"].GetString(), key_->account.client_email);
  EXPECT_EQ(doc["private_key_id"].GetString(), key_->account.private_key_id);
  EXPECT_STREQ(doc["token_uri"].GetString(), "https://oauth2.googleapis.com/token");
  EXPECT_NE(std::string(doc["private_key"].GetString()).find("BEGIN PRIVATE KEY"),
            std::string::npos);
}

TEST_F(GsuiteImitationTest, AValidAssertionGetsABearerToken) {
  Answer a = grant(assertion({}));
  ASSERT_EQ(a.status, 200) << a.body;
  auto doc = a.json();
  EXPECT_EQ(std::string(doc["access_token"].GetString()).rfind("ya29.", 0), 0u);
  EXPECT_EQ(doc["expires_in"].GetInt(), 3599);
  EXPECT_STREQ(doc["token_type"].GetString(), "Bearer");
  EXPECT_EQ(google_->issued_tokens(), 1);
}

TEST_F(GsuiteImitationTest, RefusesAnotherKeyAKeyIdOrAGrantType) {
  Answer other = grant(assertion({}, *stranger_));
  EXPECT_EQ(other.status, 400);
  EXPECT_EQ(error_of(other), "invalid_grant");
  EXPECT_NE(other.body.find("Invalid JWT Signature"), std::string::npos);
  Claims wrong_kid;
  wrong_kid.kid = "0123456789abcdef";
  EXPECT_EQ(grant(assertion(wrong_kid)).status, 400);
  Answer g = send("POST", "/token",
                  encode_params({{"grant_type", "client_credentials"}, {"assertion", "x"}}));
  EXPECT_EQ(error_of(g), "unsupported_grant_type");
  EXPECT_EQ(grant("not.a.jwt").status, 400);
  EXPECT_EQ(google_->issued_tokens(), 0);
}

TEST_F(GsuiteImitationTest, RefusesWrongClaimsWithGooglesTexts) {
  Claims iss;
  iss.iss = "someone@else.iam.gserviceaccount.com";
  EXPECT_EQ(error_of(grant(assertion(iss))), "invalid_grant");
  Claims aud;
  aud.aud = "http://127.0.0.1/token";
  EXPECT_NE(grant(assertion(aud)).body.find("audience"), std::string::npos);
  Claims unknown;
  unknown.sub = "nobody@example.com";
  Answer u = grant(assertion(unknown));
  EXPECT_EQ(error_of(u), "invalid_grant");
  EXPECT_NE(u.body.find("Invalid email or User ID"), std::string::npos);
  Claims no_sub;
  no_sub.sub = "";
  EXPECT_EQ(error_of(grant(assertion(no_sub))), "unauthorized_client");
  Claims scope;
  scope.scope = "https://www.googleapis.com/auth/admin.directory.user.readonly";
  EXPECT_EQ(error_of(grant(assertion(scope))), "unauthorized_client");
  Claims two_scopes;
  two_scopes.scope = "openid " + std::string(GsuiteImitation::kScope);
  EXPECT_EQ(grant(assertion(two_scopes)).status, 200);
}

TEST_F(GsuiteImitationTest, RefusesLongLivedOrSkewedAssertions) {
  const std::string skew = "Token must be a short-lived token (60 minutes)";
  Claims long_lived;
  long_lived.lifetime_s = 3601;
  EXPECT_NE(grant(assertion(long_lived)).body.find(skew), std::string::npos);
  Claims ahead;
  ahead.iat_offset_s = 900;
  EXPECT_NE(grant(assertion(ahead)).body.find(skew), std::string::npos);
  Claims expired;
  expired.iat_offset_s = -3700;
  EXPECT_NE(grant(assertion(expired)).body.find(skew), std::string::npos);
  google_->set_clock_offset_ms(-900 * 1000);
  EXPECT_NE(grant(assertion({})).body.find(skew), std::string::npos);
}

TEST_F(GsuiteImitationTest, WithoutDelegationTheGrantIsUnauthorized) {
  google_->set_delegation_granted(false);
  Answer a = grant(assertion({}));
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(error_of(a), "unauthorized_client");
}

TEST_F(GsuiteImitationTest, ItemsComeNewestFirstAcrossPagesWithOpaqueTokens) {
  const int64_t t0 = now_ms() - 3600 * 1000;
  auto uqs = google_->add_activities("admin", 25, t0);
  google_->add_activities("login", 7, t0);
  const std::string bearer = token();
  size_t pages = 0;
  auto got = read_all("admin",
                      {{"startTime", timefmt::rfc3339(t0, true)},
                       {"endTime", timefmt::rfc3339(now_ms(), true)},
                       {"maxResults", "10"}},
                      bearer, &pages);
  EXPECT_EQ(pages, 3u);
  std::vector<std::string> expected(uqs.rbegin(), uqs.rend());
  EXPECT_EQ(got, expected);
  Answer first = list("admin", {{"maxResults", "10"}}, bearer);
  auto doc = first.json();
  EXPECT_STREQ(doc["kind"].GetString(), "admin#reports#activities");
  const auto& item = doc["items"][0];
  EXPECT_STREQ(item["id"]["applicationName"].GetString(), "admin");
  EXPECT_TRUE(item["id"]["uniqueQualifier"].IsString());
  EXPECT_STREQ(item["events"][0]["name"].GetString(), "CHANGE_PASSWORD");
  EXPECT_TRUE(item["events"][0]["parameters"][1]["intValue"].IsString());
  EXPECT_EQ(std::string(doc["nextPageToken"].GetString()).rfind("A:", 0), 0u);
  EXPECT_EQ(read_all("login", {}, bearer).size(), 7u);
}

TEST_F(GsuiteImitationTest, TheWindowIsInclusiveAndAnEmptyOneHasNoItemsKey) {
  const int64_t t0 = (now_ms() - 600 * 1000) / 1000 * 1000;
  google_->add_activities("drive", 5, t0, 1000);
  const std::string bearer = token();
  auto got = read_all("drive",
                      {{"startTime", timefmt::rfc3339(t0 + 1000, true)},
                       {"endTime", timefmt::rfc3339(t0 + 3000, true)}},
                      bearer);
  EXPECT_EQ(got.size(), 3u);
  Answer empty = list("drive", {{"startTime", timefmt::rfc3339(t0 + 10000, true)}}, bearer);
  ASSERT_EQ(empty.status, 200);
  auto doc = empty.json();
  EXPECT_FALSE(doc.HasMember("items"));
  EXPECT_FALSE(doc.HasMember("nextPageToken"));
}

TEST_F(GsuiteImitationTest, APageTokenReplayedWithOtherParametersIs400) {
  google_->add_activities("token", 6, now_ms() - 60000);
  const std::string bearer = token();
  const std::string start = timefmt::rfc3339(now_ms() - 3600 * 1000, true);
  auto doc = list("token", {{"startTime", start}, {"maxResults", "2"}}, bearer).json();
  const std::string page = doc["nextPageToken"].GetString();
  EXPECT_EQ(list("token", {{"startTime", start}, {"maxResults", "2"}, {"pageToken", page}}, bearer)
                .status,
            200);
  Answer other =
      list("token", {{"startTime", start}, {"maxResults", "3"}, {"pageToken", page}}, bearer);
  EXPECT_EQ(other.status, 400);
  EXPECT_EQ(reason_of(other), "invalid");
  EXPECT_EQ(list("token", {{"pageToken", "A:1:2:3:x"}}, bearer).status, 400);
}

TEST_F(GsuiteImitationTest, BadTimesAndPageSizesAre400InvalidArgument) {
  const std::string bearer = token();
  Answer future = list("admin", {{"startTime", timefmt::rfc3339(now_ms() + 60000, true)}}, bearer);
  EXPECT_EQ(future.status, 400);
  EXPECT_STREQ(future.json()["error"]["status"].GetString(), "INVALID_ARGUMENT");
  EXPECT_EQ(list("admin",
                 {{"startTime", timefmt::rfc3339(now_ms() - 1000, true)},
                  {"endTime", timefmt::rfc3339(now_ms() - 2000, true)}},
                 bearer)
                .status,
            400);
  EXPECT_EQ(list("admin", {{"startTime", "yesterday"}}, bearer).status, 400);
  EXPECT_EQ(list("admin", {{"maxResults", "1001"}}, bearer).status, 400);
  EXPECT_EQ(list("admin", {{"maxResults", "0"}}, bearer).status, 400);
  EXPECT_EQ(list("no_such_app", {}, bearer).status, 400);
}

TEST_F(GsuiteImitationTest, EqualTimesPageWithoutLossOrRepeats) {
  const int64_t t = now_ms() - 120000;
  auto uqs = google_->add_activities("login", 23, t, 0);
  auto got = read_all("login", {{"maxResults", "5"}}, token());
  EXPECT_EQ(got.size(), 23u);
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()),
            std::set<std::string>(uqs.begin(), uqs.end()));
}

TEST_F(GsuiteImitationTest, ReportingLagHidesNewActivitiesUntilItPasses) {
  google_->set_reporting_lag_ms(400);
  google_->add_activities("login", 4, now_ms() - 3600 * 1000);
  const std::string bearer = token();
  EXPECT_EQ(read_all("login", {}, bearer).size(), 0u);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(read_all("login", {}, bearer).size(), 4u);
}

TEST_F(GsuiteImitationTest, UnknownOrExpiredTokensGet401Unauthenticated) {
  Answer none = list("admin", {}, "");
  EXPECT_EQ(none.status, 401);
  EXPECT_STREQ(none.json()["error"]["status"].GetString(), "UNAUTHENTICATED");
  EXPECT_NE(none.header("WWW-Authenticate").find("invalid_token"), std::string::npos);
  google_->set_token_lifetime_seconds(1);
  const std::string bearer = token();
  EXPECT_EQ(list("admin", {}, bearer).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(list("admin", {}, bearer).status, 401);
  const std::string second = token();
  google_->revoke_tokens();
  EXPECT_EQ(list("admin", {}, second).status, 401);
}

TEST_F(GsuiteImitationTest, ANonAdminSubjectGets403NotAuthorized) {
  Claims user;
  user.sub = "jdoe@example.com";
  Answer a = list("admin", {}, token(user));
  EXPECT_EQ(a.status, 403);
  EXPECT_NE(a.body.find("Not Authorized to access this resource/api"), std::string::npos);
  const std::string admin = token();
  EXPECT_EQ(list("admin", {}, admin).status, 200);
  google_->set_admin(false);
  EXPECT_EQ(list("admin", {}, admin).status, 403);
}

TEST_F(GsuiteImitationTest, TheNthCallFailsWithGooglesBodies) {
  const std::string bearer = token();
  google_->fail_activities_call(2, 403, GsuiteImitation::rate_limit_body());
  google_->fail_activities_call(3, 503, GsuiteImitation::backend_error_body(), 2);
  EXPECT_EQ(list("admin", {}, bearer).status, 200);
  Answer limited = list("admin", {}, bearer);
  EXPECT_EQ(limited.status, 403);
  EXPECT_EQ(reason_of(limited), "rateLimitExceeded");
  EXPECT_STREQ(limited.json()["error"]["errors"][0]["domain"].GetString(), "usageLimits");
  EXPECT_EQ(reason_of(list("admin", {}, bearer)), "backendError");
  EXPECT_EQ(list("admin", {}, bearer).status, 503);
  EXPECT_EQ(list("admin", {}, bearer).status, 200);
  google_->fail_activities_call(1, 429, GsuiteImitation::exhausted_body());
  Answer exhausted = list("admin", {}, bearer);
  EXPECT_EQ(exhausted.status, 429);
  EXPECT_STREQ(exhausted.json()["error"]["status"].GetString(), "RESOURCE_EXHAUSTED");
}

TEST_F(GsuiteImitationTest, UserKeyFiltersByActorEmail) {
  google_->add_activities("calendar", 8, now_ms() - 60000);
  const std::string bearer = token();
  Answer a =
      send("GET", "/admin/reports/v1/activity/users/jdoe%40example.com/applications/calendar", "",
           bearer);
  ASSERT_EQ(a.status, 200) << a.body;
  auto doc = a.json();
  ASSERT_TRUE(doc.HasMember("items"));
  for (const auto& item : doc["items"].GetArray())
    EXPECT_STREQ(item["actor"]["email"].GetString(), "jdoe@example.com");
  EXPECT_EQ(doc["items"].Size(), 2u);
}

}  // namespace
}  // namespace siphon::imitation
