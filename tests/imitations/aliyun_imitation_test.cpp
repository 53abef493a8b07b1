// The ActionTrail imitation against the vendor's documented behaviour, and the plugin's
// signer against the worked example there. Requests are signed with the
// plugin's signer and sent through a plain Poco session.
#include "aliyun_imitation.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <set>
#include <siphon/auth_helpers.hpp>
#include <siphon/time_format.hpp>

#include "aliyun_signer.hpp"

namespace siphon::imitation {
namespace {

const char kKeyId[] = "LTAI5tImitationKey01";
const char kSecret[] = "imitationSecret0123456789abcd";

// aliyun.md's worked example.
const Params kExample = {{"Action", "LookupEvents"},
                         {"Version", "2020-07-06"},
                         {"Format", "JSON"},
                         {"AccessKeyId", "testid"},
                         {"SignatureMethod", "HMAC-SHA1"},
                         {"SignatureVersion", "1.0"},
                         {"SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
                         {"Timestamp", "2024-05-01T17:00:05Z"},
                         {"StartTime", "2024-05-01T16:00:00Z"},
                         {"EndTime", "2024-05-01T17:00:00Z"},
                         {"MaxResults", "50"}};
const char kExampleStringToSign[] =
    "GET&%2F&AccessKeyId%3Dtestid%26Action%3DLookupEvents%26EndTime%3D2024-05-01T17%253A00%253A00Z"
    "%26Format%3DJSON%26MaxResults%3D50%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-"
    "83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26StartTime%3D2024-05-01T16%253A00%253A"
    "00Z%26Timestamp%3D2024-05-01T17%253A00%253A05Z%26Version%3D2020-07-06";

TEST(AliyunSignature, WorkedExampleFromAliyunMd) {
  // The plugin's signer.
  const std::string canonical = aliyun::canonical_query(kExample);
  EXPECT_EQ(aliyun::string_to_sign("GET", canonical), kExampleStringToSign);
  EXPECT_EQ(aliyun::signature("testsecret", kExampleStringToSign), "A5Ga5zNXd/A/Gvg4y6bMO9ON/oY=");
  const std::string query = aliyun::signed_query("GET", kExample, "testsecret");
  EXPECT_EQ(query, canonical + "&Signature=A5Ga5zNXd%2FA%2FGvg4y6bMO9ON%2FoY%3D");
  EXPECT_EQ(query.rfind("AccessKeyId=testid&Action=LookupEvents&EndTime=", 0), 0u) << query;

  // The imitation's verification, from its own encoder.
  std::vector<std::pair<std::string, std::string>> params(kExample.begin(), kExample.end());
  EXPECT_EQ(AliyunImitation::string_to_sign("GET", params), kExampleStringToSign);
  EXPECT_EQ(AliyunImitation::sign("testsecret", kExampleStringToSign),
            "A5Ga5zNXd/A/Gvg4y6bMO9ON/oY=");
  EXPECT_NE(AliyunImitation::sign("testsecreT", kExampleStringToSign),
            "A5Ga5zNXd/A/Gvg4y6bMO9ON/oY=");
}

TEST(AliyunSignature, PercentEncodingFollowsTheRpcRules) {
  EXPECT_EQ(aliyun::percent_encode("a b*c~d+e/f=g&h"), "a%20b%2Ac~d%2Be%2Ff%3Dg%26h");
  EXPECT_EQ(aliyun::percent_encode("\xe4\xb8\xad"), "%E4%B8%AD");
  EXPECT_EQ(aliyun::percent_encode("AZaz09-_.~"), "AZaz09-_.~");
  for (const char* text : {"a b*c~d+e/f=g&h", "\xe4\xb8\xad:", "x%y"})
    EXPECT_EQ(aliyun::percent_encode(text), AliyunImitation::percent_encode(text)) << text;
  // Sorted by encoded name, case-sensitive: upper case first.
  EXPECT_EQ(aliyun::canonical_query({{"b", "1"}, {"B", "2"}, {"a", "x y"}}), "B=2&a=x%20y&b=1");
}

struct Call {
  std::string key_id = kKeyId;
  std::string secret = kSecret;
  std::string timestamp;  // "" = now
  std::string nonce;      // "" = random
  std::string method = "GET";
};

struct Result {
  int status = 0;
  std::string body;
  rapidjson::Document json;
  std::string code() const {
    return json.IsObject() && json.HasMember("Code") ? json["Code"].GetString() : "";
  }
};

class AliyunImitationTest : public ::testing::Test {
 protected:
  void SetUp() override { trail_.start(); }

  Result lookup(Params params, const Call& c = {}) {
    params.insert(params.end(),
                  {{"Action", "LookupEvents"},
                   {"Version", "2020-07-06"},
                   {"Format", "JSON"},
                   {"AccessKeyId", c.key_id},
                   {"SignatureMethod", "HMAC-SHA1"},
                   {"SignatureVersion", "1.0"},
                   {"SignatureNonce", c.nonce.empty() ? auth::random_token(32) : c.nonce},
                   {"Timestamp", c.timestamp.empty() ? timefmt::rfc3339(now_ms()) : c.timestamp}});
    const std::string query = aliyun::signed_query(c.method, params, c.secret);
    Poco::Net::HTTPClientSession session("127.0.0.1", trail_.port());
    Result r;
    Poco::Net::HTTPResponse response;
    if (c.method == "GET") {
      Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/?" + query,
                                     Poco::Net::HTTPMessage::HTTP_1_1);
      session.sendRequest(request);
    } else {
      Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, "/",
                                     Poco::Net::HTTPMessage::HTTP_1_1);
      request.setContentType("application/x-www-form-urlencoded");
      request.setContentLength(static_cast<std::streamsize>(query.size()));
      session.sendRequest(request) << query;
    }
    Poco::StreamCopier::copyToString(session.receiveResponse(response), r.body);
    r.status = response.getStatus();
    r.json.Parse(r.body.c_str());
    EXPECT_FALSE(r.json.HasParseError()) << r.body;
    return r;
  }

  Params window(int64_t start_s, int64_t end_s, int max_results = 50) {
    return {{"StartTime", timefmt::rfc3339(start_s * 1000)},
            {"EndTime", timefmt::rfc3339(end_s * 1000)},
            {"MaxResults", std::to_string(max_results)}};
  }

  int64_t now_s() const { return now_ms() / 1000; }

  AliyunImitation trail_{kKeyId, kSecret};
};

TEST_F(AliyunImitationTest, SignedRequestsByGetAndPostAreAccepted) {
  trail_.add_events(3, now_s() - 600, 60);
  for (const char* method : {"GET", "POST"}) {
    Call c;
    c.method = method;
    Result r = lookup(window(now_s() - 3600, now_s()), c);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json["Events"].Size(), 3u);
    EXPECT_FALSE(r.json.HasMember("NextToken"));
    EXPECT_TRUE(r.json["RequestId"].IsString());
  }
}

TEST_F(AliyunImitationTest, WrongSecretIsSignatureDoesNotMatchWithTheStringToSign) {
  Call c;
  c.secret = "not-the-secret";
  Result r = lookup(window(now_s() - 3600, now_s()), c);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.code(), "SignatureDoesNotMatch");
  EXPECT_NE(std::string(r.json["Message"].GetString()).find("server string to sign is:GET&%2F&"),
            std::string::npos);
}

TEST_F(AliyunImitationTest, UnknownAndInactiveKeys) {
  Call c;
  c.key_id = "LTAI5tSomeoneElse";
  Result r = lookup(window(now_s() - 3600, now_s()), c);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.code(), "InvalidAccessKeyId.NotFound");
  trail_.set_key_inactive(true);
  EXPECT_EQ(lookup(window(now_s() - 3600, now_s())).code(), "InvalidAccessKeyId.Inactive");
}

TEST_F(AliyunImitationTest, StaleTimestampAndReusedNonceAreRefused) {
  Call stale;
  stale.timestamp = timefmt::rfc3339(now_ms() - 16 * 60 * 1000);
  EXPECT_EQ(lookup(window(now_s() - 3600, now_s()), stale).code(), "InvalidTimeStamp.Expired");
  Call once;
  once.nonce = "fixed-nonce-1";
  EXPECT_EQ(lookup(window(now_s() - 3600, now_s()), once).status, 200);
  EXPECT_EQ(lookup(window(now_s() - 3600, now_s()), once).code(), "SignatureNonceUsed");
}

TEST_F(AliyunImitationTest, NextTokenPagesNewestFirstAndCoversTheWindowOnce) {
  const int64_t now = now_s();
  trail_.add_events(120, now - 3000, 10);
  trail_.add_events(20, now - 1500, 0);  // twenty in one second
  std::set<std::string> ids;
  std::string token;
  int64_t previous = INT64_MAX;
  std::vector<size_t> pages;
  do {
    Params p = window(now - 2000, now - 100, 50);
    if (!token.empty()) p.emplace_back("NextToken", token);
    Result r = lookup(p);
    ASSERT_EQ(r.status, 200) << r.body;
    pages.push_back(r.json["Events"].Size());
    for (const auto& e : r.json["Events"].GetArray()) {
      EXPECT_TRUE(ids.insert(e["eventId"].GetString()).second);
      const int64_t t = timefmt::parse_rfc3339(e["eventTime"].GetString()) / 1000;
      EXPECT_LE(t, previous);
      EXPECT_GE(t, now - 2000);
      EXPECT_LE(t, now - 100);
      previous = t;
    }
    token = r.json.HasMember("NextToken") ? r.json["NextToken"].GetString() : "";
  } while (!token.empty());
  // Events at now-2000 .. now-100 step 10 from now-3000: indexes 100..119 plus the 20.
  EXPECT_EQ(ids.size(), 20u + 20u);
  EXPECT_EQ(pages, (std::vector<size_t>{40}));

  std::set<std::string> small;
  token.clear();
  pages.clear();
  do {
    Params p = window(now - 2000, now - 100, 7);
    if (!token.empty()) p.emplace_back("NextToken", token);
    Result r = lookup(p);
    ASSERT_EQ(r.status, 200) << r.body;
    pages.push_back(r.json["Events"].Size());
    for (const auto& e : r.json["Events"].GetArray()) small.insert(e["eventId"].GetString());
    token = r.json.HasMember("NextToken") ? r.json["NextToken"].GetString() : "";
  } while (!token.empty());
  EXPECT_EQ(small, ids);
  EXPECT_EQ(pages, (std::vector<size_t>{7, 7, 7, 7, 7, 5}));
}

TEST_F(AliyunImitationTest, MaxResultsIsCappedAt50AndBoundsAreInclusive) {
  const int64_t now = now_s();
  trail_.add_events(80, now - 1000, 1);
  Result r = lookup(window(now - 1000, now - 921, 50) /* 80 events, both ends included */);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["Events"].Size(), 50u);
  ASSERT_TRUE(r.json.HasMember("NextToken"));
  Params p = window(now - 1000, now - 921, 200);
  p.emplace_back("NextToken", r.json["NextToken"].GetString());
  Result rest = lookup(p);
  EXPECT_EQ(rest.json["Events"].Size(), 30u);
  EXPECT_FALSE(rest.json.HasMember("NextToken"));
}

TEST_F(AliyunImitationTest, EmptyWindowAndBadParameters) {
  Result r = lookup(window(now_s() - 3600, now_s()));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json["Events"].Size(), 0u);
  EXPECT_EQ(lookup({{"StartTime", "2024-05-01 16:00"}, {"EndTime", "2024-05-01T17:00:00Z"}}).code(),
            "InvalidParameter");
  EXPECT_EQ(lookup({{"StartTime", timefmt::rfc3339(now_ms())}}).code(), "MissingParameter");
  EXPECT_EQ(lookup(window(now_s() - 91 * 86400, now_s())).code(), "InvalidParameter");
}

TEST_F(AliyunImitationTest, StaleOrForeignNextTokenIsInvalidParameter) {
  const int64_t now = now_s();
  trail_.add_events(30, now - 1000, 10);
  Result first = lookup(window(now - 2000, now, 10));
  ASSERT_TRUE(first.json.HasMember("NextToken"));
  const std::string token = first.json["NextToken"].GetString();
  Params other = window(now - 1999, now, 10);  // not the same other parameters
  other.emplace_back("NextToken", token);
  EXPECT_EQ(lookup(other).code(), "InvalidParameter");
  trail_.invalidate_tokens();
  Params same = window(now - 2000, now, 10);
  same.emplace_back("NextToken", token);
  Result r = lookup(same);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.code(), "InvalidParameter");
}

TEST_F(AliyunImitationTest, MoreThanTheLimitPerSecondIsThrottled) {
  trail_.set_calls_per_second_limit(2);
  EXPECT_EQ(lookup(window(now_s() - 60, now_s())).status, 200);
  EXPECT_EQ(lookup(window(now_s() - 60, now_s())).status, 200);
  Result r = lookup(window(now_s() - 60, now_s()));
  EXPECT_EQ(r.code(), "Throttling.User");
  EXPECT_GE(trail_.busiest_second(), 3);
}

TEST_F(AliyunImitationTest, InjectedFaultsComeFirst) {
  Fault f;
  f.status = 500;
  f.body =
      R"({"Code":"InternalError","Message":"The request processing has failed due to some unknown error."})";
  trail_.inject(f);
  EXPECT_EQ(lookup(window(now_s() - 60, now_s())).status, 500);
  EXPECT_EQ(lookup(window(now_s() - 60, now_s())).status, 200);
}

}  // namespace
}  // namespace siphon::imitation
