// The Box imitation itself, spoken to as a plain HTTP client: it must accept
// what Box accepts and refuse what Box refuses, with Box's bodies.
#include "box_imitation.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <map>
#include <memory>
#include <set>
#include <siphon/auth_helpers.hpp>
#include <siphon/sdk.hpp>

#include "imitation_client.hpp"

namespace siphon::imitation {
namespace {

constexpr char kAud[] = "https://api.box.com/oauth2/token";
constexpr char kJwtGrant[] = "urn:ietf:params:oauth:grant-type:jwt-bearer";

using Answer = HttpAnswer;

// A JWT assertion's claims; the defaults are what Box accepts.
struct Claims {
  std::string iss, sub, box_sub_type = "enterprise", aud = kAud, jti;
  int64_t exp_offset_s = 30;
  std::string kid;
};

class BoxImitationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    app_ = new BoxImitation::Keyfile(BoxImitation::make_keyfile());
    stranger_ = new BoxImitation::Keyfile(BoxImitation::make_keyfile());
  }
  static void TearDownTestSuite() {
    delete app_;
    delete stranger_;
  }
  void SetUp() override {
    box_ = std::make_unique<BoxImitation>(app_->credentials);
    box_->start();
  }

  Answer send(const std::string& method, const std::string& uri, const std::string& body = "",
              const std::string& bearer = "") {
    std::map<std::string, std::string> headers;
    if (!bearer.empty()) headers["Authorization"] = "Bearer " + bearer;
    if (method == "POST") headers["Content-Type"] = "application/x-www-form-urlencoded";
    return http_send(box_->port(), method, uri, body, headers);
  }

  std::string assertion(Claims c, const BoxImitation::Keyfile& key = *app_) {
    const auto& cred = app_->credentials;
    if (c.iss.empty()) c.iss = cred.client_id;
    if (c.sub.empty()) c.sub = cred.enterprise_id;
    if (c.jti.empty()) c.jti = auth::random_token(32);
    if (c.kid.empty()) c.kid = cred.public_key_id;
    const int64_t now_s = now_ms() / 1000;
    std::string header = R"({"alg":"RS256","typ":"JWT","kid":")" + c.kid + R"("})";
    std::string claims = R"({"iss":")" + c.iss + R"(","sub":")" + c.sub + R"(","box_sub_type":")" +
                         c.box_sub_type + R"(","aud":")" + c.aud + R"(","jti":")" + c.jti +
                         R"(","exp":)" + std::to_string(now_s + c.exp_offset_s) + R"(,"iat":)" +
                         std::to_string(now_s) + "}";
    return auth::rs256_jwt(header, claims, key.private_key_pem, key.passphrase);
  }

  Answer jwt_grant(const std::string& jwt, const std::string& secret = "") {
    const auto& cred = app_->credentials;
    return send("POST", "/oauth2/token",
                encode_params({{"grant_type", kJwtGrant},
                               {"client_id", cred.client_id},
                               {"client_secret", secret.empty() ? cred.client_secret : secret},
                               {"assertion", jwt}}));
  }

  std::string token() {
    Answer a = jwt_grant(assertion({}));
    EXPECT_EQ(a.status, 200) << a.body;
    return a.json()["access_token"].GetString();
  }

  static void expect_token_error(const Answer& a, const std::string& error,
                                 const std::string& description) {
    EXPECT_EQ(a.status, 400);
    auto doc = a.json();
    ASSERT_TRUE(doc.IsObject()) << a.body;
    EXPECT_EQ(std::string(doc["error"].GetString()), error);
    EXPECT_EQ(std::string(doc["error_description"].GetString()), description);
  }

  static BoxImitation::Keyfile* app_;
  static BoxImitation::Keyfile* stranger_;
  std::unique_ptr<BoxImitation> box_;
};

BoxImitation::Keyfile* BoxImitationTest::app_ = nullptr;
BoxImitation::Keyfile* BoxImitationTest::stranger_ = nullptr;

TEST_F(BoxImitationTest, KeyfileIsBoxConfigJsonWithAnEncryptedPkcs8Key) {
  rapidjson::Document doc;
  doc.Parse(app_->json.c_str());
  ASSERT_FALSE(doc.HasParseError());
  const auto& app_auth = doc["boxAppSettings"]["appAuth"];
  std::string pem = app_auth["privateKey"].GetString();
  EXPECT_EQ(pem.rfind("-----BEGIN ENCRYPTED PRIVATE KEY-----", 0), 0u);
  EXPECT_EQ(std::string(app_auth["publicKeyID"].GetString()), app_->credentials.public_key_id);
  EXPECT_EQ(std::string(doc["enterpriseID"].GetString()), app_->credentials.enterprise_id);
  EXPECT_NO_THROW(auth::check_private_key(pem, app_auth["passphrase"].GetString()));
  EXPECT_ANY_THROW(auth::check_private_key(pem, "wrong passphrase"));
}

TEST_F(BoxImitationTest, ValidJwtGetsABearerToken) {
  Answer a = jwt_grant(assertion({}));
  ASSERT_EQ(a.status, 200) << a.body;
  auto doc = a.json();
  EXPECT_GE(std::string(doc["access_token"].GetString()).size(), 16u);
  EXPECT_EQ(doc["expires_in"].GetInt(), 3600);
  EXPECT_EQ(std::string(doc["token_type"].GetString()), "bearer");
  EXPECT_TRUE(doc["restricted_to"].IsArray());
  EXPECT_EQ(box_->issued_tokens(), 1);
}

TEST_F(BoxImitationTest, ClientCredentialsGrant) {
  const auto& cred = app_->credentials;
  Params form{{"grant_type", "client_credentials"},
              {"client_id", cred.client_id},
              {"client_secret", cred.client_secret},
              {"box_subject_type", "enterprise"},
              {"box_subject_id", cred.enterprise_id}};
  EXPECT_EQ(send("POST", "/oauth2/token", encode_params(form)).status, 200);
  form[3].second = "user";
  expect_token_error(send("POST", "/oauth2/token", encode_params(form)), "unauthorized_client",
                     "The \"box_subject_type\" value is unauthorized for this client_id");
  EXPECT_EQ(box_->issued_tokens(), 1);
}

TEST_F(BoxImitationTest, RefusesWrongClientSecretAndGrantType) {
  expect_token_error(jwt_grant(assertion({}), "not-the-secret"), "invalid_client",
                     "The client credentials are invalid");
  expect_token_error(send("POST", "/oauth2/token", "grant_type=password"), "unsupported_grant_type",
                     "Invalid grant_type parameter or parameter missing");
}

TEST_F(BoxImitationTest, RefusesABadSignatureOrKeyId) {
  expect_token_error(jwt_grant(assertion({}, *stranger_)), "invalid_grant",
                     "Grant credentials are invalid");
  Claims wrong_kid;
  wrong_kid.kid = "zzzzzzzz";
  expect_token_error(jwt_grant(assertion(wrong_kid)), "invalid_grant",
                     "Grant credentials are invalid");
  std::string jwt = assertion({});
  jwt[jwt.size() - 5] = jwt[jwt.size() - 5] == 'A' ? 'B' : 'A';
  expect_token_error(jwt_grant(jwt), "invalid_grant", "Grant credentials are invalid");
  expect_token_error(jwt_grant("not.a.jwt"), "invalid_grant", "Grant credentials are invalid");
  EXPECT_EQ(box_->issued_tokens(), 0);
}

TEST_F(BoxImitationTest, RefusesWrongClaims) {
  Claims c;
  c.aud = box_->base_url() + "/oauth2/token";  // the real token URL, even behind base_url
  expect_token_error(jwt_grant(assertion(c)), "invalid_grant",
                     "Please check the 'aud' claim. The 'aud' specified is invalid.");
  c = {};
  c.sub = "12345";
  expect_token_error(jwt_grant(assertion(c)), "invalid_grant",
                     "Please check the 'sub' claim. The 'sub' specified is invalid.");
  c = {};
  c.iss = "someone-else";
  expect_token_error(jwt_grant(assertion(c)), "invalid_grant",
                     "Please check the 'iss' claim. The 'iss' specified is invalid.");
  c = {};
  c.box_sub_type = "robot";
  expect_token_error(
      jwt_grant(assertion(c)), "invalid_grant",
      "Please check the 'box_sub_type' claim. The 'box_sub_type' specified is invalid.");
  c = {};
  c.jti = "short";
  expect_token_error(jwt_grant(assertion(c)), "invalid_grant",
                     "Please check the 'jti' claim. The 'jti' specified is invalid.");
}

TEST_F(BoxImitationTest, RefusesExpMoreThan60SecondsAhead) {
  Claims c;
  c.exp_offset_s = 120;
  expect_token_error(jwt_grant(assertion(c)), "invalid_grant",
                     "Please check the 'exp' claim. The 'exp' value exceeds the maximum value of "
                     "60 seconds beyond the issue time.");
  c.exp_offset_s = 60;
  EXPECT_EQ(jwt_grant(assertion(c)).status, 200);
}

TEST_F(BoxImitationTest, RefusesAnExpiredAssertionAsClockSkew) {
  Claims c;
  c.exp_offset_s = -10;
  expect_token_error(
      jwt_grant(assertion(c)), "invalid_grant",
      "Current date/time MUST be before the expiration date/time listed in the 'exp' claim");
  box_->set_clock_offset_ms(-120000);  // the imitation's clock lags two minutes
  expect_token_error(jwt_grant(assertion({})), "invalid_grant",
                     "Please check the 'exp' claim. The 'exp' value exceeds the maximum value of "
                     "60 seconds beyond the issue time.");
}

TEST_F(BoxImitationTest, RefusesAReusedJti) {
  Claims c;
  c.jti = "a-unique-jti-0123456789";
  EXPECT_EQ(jwt_grant(assertion(c)).status, 200);
  expect_token_error(jwt_grant(assertion(c)), "invalid_grant",
                     "Please check the 'jti' claim. A unique 'jti' value is required.");
  EXPECT_EQ(box_->issued_tokens(), 1);
}

std::string events_uri(const std::string& query) {
  return "/2.0/events?stream_type=admin_logs&" + query;
}

TEST_F(BoxImitationTest, PagesFollowTheStreamPosition) {
  box_->add_events(12, 1714583732000);
  EXPECT_EQ(box_->events(), 12u);
  const std::string bearer = token();
  std::set<std::string> ids;
  std::string position = "0";
  std::vector<size_t> sizes;
  for (int i = 0; i < 4; ++i) {
    Answer a = send("GET", events_uri("limit=5&stream_position=" + position), "", bearer);
    ASSERT_EQ(a.status, 200) << a.body;
    auto doc = a.json();
    const auto& entries = doc["entries"];
    EXPECT_EQ(doc["chunk_size"].GetUint(), entries.Size());
    sizes.push_back(entries.Size());
    for (const auto& e : entries.GetArray()) {
      ids.insert(e["event_id"].GetString());
      EXPECT_EQ(std::string(e["type"].GetString()), "event");
      EXPECT_TRUE(e.HasMember("created_at") && e.HasMember("event_type") && e.HasMember("source"));
    }
    ASSERT_TRUE(doc["next_stream_position"].IsString());
    position = doc["next_stream_position"].GetString();
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{5, 5, 2, 0}));
  EXPECT_EQ(ids.size(), 12u);
  EXPECT_EQ(position, BoxImitation::position_at(12));
  // An empty page keeps the position.
  Answer again = send("GET", events_uri("limit=5&stream_position=" + position), "", bearer);
  EXPECT_EQ(std::string(again.json()["next_stream_position"].GetString()), position);
}

TEST_F(BoxImitationTest, EventsLookLikeBoxs) {
  box_->add_events(6, 1714583732000);
  Answer a = send("GET", events_uri("stream_position=0"), "", token());
  auto doc = a.json();
  ASSERT_EQ(doc["entries"].Size(), 6u);
  const auto& first = doc["entries"][0];
  EXPECT_EQ(std::string(first["created_at"].GetString()), "2024-05-01T10:15:32-07:00");
  EXPECT_EQ(std::string(first["event_type"].GetString()), "ADMIN_LOGIN");
  EXPECT_EQ(std::string(first["created_by"]["login"].GetString()), "ada@example.com");
  EXPECT_TRUE(doc["entries"][5]["source"].IsNull());
  size_t per_event = a.body.size() / 6;
  EXPECT_GT(per_event, 350u);
  EXPECT_LT(per_event, 700u);
}

TEST_F(BoxImitationTest, LimitIsCappedAt500AndDefaultsTo100) {
  box_->add_events(600, 1714583732000);
  const std::string bearer = token();
  EXPECT_EQ(send("GET", events_uri("limit=1000"), "", bearer).json()["chunk_size"].GetInt(), 500);
  EXPECT_EQ(send("GET", events_uri(""), "", bearer).json()["chunk_size"].GetInt(), 100);
  EXPECT_EQ(send("GET", events_uri("limit=abc"), "", bearer).status, 400);
}

TEST_F(BoxImitationTest, NowAndCreatedAfter) {
  box_->add_events(10, 1714583732000);
  const std::string bearer = token();
  auto now = send("GET", events_uri("stream_position=now"), "", bearer).json();
  EXPECT_EQ(now["chunk_size"].GetInt(), 0);
  EXPECT_EQ(std::string(now["next_stream_position"].GetString()), BoxImitation::position_at(10));
  // 2024-05-01T17:15:32Z is the first event; four seconds later is the fifth.
  auto after =
      send("GET", events_uri("created_after=2024-05-01T17:15:36-00:00"), "", bearer).json();
  EXPECT_EQ(after["chunk_size"].GetInt(), 6);
  // created_after is ignored when a stream_position is given.
  auto both = send("GET", events_uri("stream_position=0&created_after=2024-05-01T17:15:36-00:00"),
                   "", bearer)
                  .json();
  EXPECT_EQ(both["chunk_size"].GetInt(), 10);
}

TEST_F(BoxImitationTest, ShortPagesNumericPositionsAndRepeatedEvents) {
  box_->add_events(10, 1714583732000);
  box_->set_max_page(4);
  box_->set_position_as_number(true);
  box_->set_repeat_last_event(true);
  const std::string bearer = token();
  auto first = send("GET", events_uri("limit=500&stream_position=0"), "", bearer).json();
  ASSERT_EQ(first["entries"].Size(), 4u);
  ASSERT_TRUE(first["next_stream_position"].IsUint64());
  std::string last_id = first["entries"][3]["event_id"].GetString();
  std::string position = std::to_string(first["next_stream_position"].GetUint64());
  auto second = send("GET", events_uri("limit=500&stream_position=" + position), "", bearer).json();
  ASSERT_EQ(second["entries"].Size(), 4u);
  EXPECT_EQ(std::string(second["entries"][0]["event_id"].GetString()), last_id);
}

TEST_F(BoxImitationTest, ExpiredOrMissingTokenGets401) {
  box_->add_events(3, 1714583732000);
  EXPECT_EQ(send("GET", events_uri("limit=5")).status, 401);
  box_->set_token_lifetime_seconds(0);
  Answer a = send("GET", events_uri("limit=5"), "", token());
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.header("WWW-Authenticate"),
            "Bearer realm=\"Service\", error=\"invalid_token\", error_description=\"The access "
            "token provided is invalid.\"");
  EXPECT_TRUE(a.body.empty());
}

TEST_F(BoxImitationTest, NotAdminGets403) {
  box_->set_not_admin(true);
  Answer a = send("GET", events_uri("limit=5"), "", token());
  EXPECT_EQ(a.status, 403);
  auto doc = a.json();
  EXPECT_EQ(std::string(doc["code"].GetString()), "access_denied_insufficient_permissions");
  EXPECT_EQ(std::string(doc["message"].GetString()), "Access denied - insufficient permission");
  EXPECT_EQ(doc["status"].GetInt(), 403);
}

TEST_F(BoxImitationTest, Injected429CarriesRetryAfter) {
  box_->add_events(3, 1714583732000);
  const std::string bearer = token();
  Fault fault;
  fault.status = 429;
  fault.retry_after = "2";
  fault.body = R"({"type":"error","status":429,"code":"rate_limit_exceeded","message":"Request )"
               R"(rate limit exceeded, please try again later"})";
  fault.path_prefix = "/2.0/events";
  box_->inject(fault);
  Answer limited = send("GET", events_uri("limit=5"), "", bearer);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.header("Retry-After"), "2");
  EXPECT_EQ(std::string(limited.json()["code"].GetString()), "rate_limit_exceeded");
  EXPECT_EQ(send("GET", events_uri("limit=5"), "", bearer).status, 200);
}

}  // namespace
}  // namespace siphon::imitation
