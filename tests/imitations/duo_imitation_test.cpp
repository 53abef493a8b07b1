// The Duo imitation against the vendor's documented behaviour: requests are signed by hand
// with the SDK helpers and sent through a plain Poco session.
#include "duo_imitation.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <set>
#include <siphon/auth_helpers.hpp>
#include <siphon/sdk.hpp>
#include <siphon/time_format.hpp>

#include "duo_signer.hpp"

namespace siphon::imitation {
namespace {

// duo.md's test vector credentials.
const char kIkey[] = "DIWJ8X6AEYOR5OMC6TQ1";
const char kSkey[] = "gtdfxv9YgVBYcF6dl2Eq17KUQJN2PLM2ODVTkvoT";
const char kAuthPath[] = "/admin/v2/logs/authentication";
const char kAdminPath[] = "/admin/v1/logs/administrator";
constexpr int64_t kHourMs = 3600 * 1000;

struct Signing {
  std::string date;  // "" = now
  bool send_date = true;
  std::string ikey = kIkey;
  std::string skey = kSkey;
  std::string host;  // "" = the Host header Poco sends (127.0.0.1:port)
  int version = 2;
};

struct Result {
  int status = 0;
  std::string body;
  rapidjson::Document json;
};

class DuoImitationTest : public ::testing::Test {
 protected:
  void SetUp() override { duo_.start(); }

  Result get(const std::string& path, Params params, const Signing& s = {}) {
    for (auto& [k, v] : params) k = url_encode(k), v = url_encode(v);
    std::sort(params.begin(), params.end());
    std::string query;
    for (const auto& [k, v] : params) query += (query.empty() ? "" : "&") + k + "=" + v;
    const std::string date = s.date.empty() ? timefmt::rfc2822(now_ms()) : s.date;
    const std::string host = s.host.empty() ? "127.0.0.1:" + std::to_string(duo_.port()) : s.host;
    std::string canonical = date + "\nGET\n" + host + "\n" + path + "\n" + query;
    std::string sig;
    if (s.version == 5) {
      canonical += "\n" + auth::sha512_hex("") + "\n" + auth::sha512_hex("");
      sig = auth::hmac_sha512_hex(s.skey, canonical);
    } else {
      sig = auth::hmac_sha1_hex(s.skey, canonical);
    }
    Poco::Net::HTTPClientSession session("127.0.0.1", duo_.port());
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET,
                                   query.empty() ? path : path + "?" + query,
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    if (s.send_date) request.set("Date", date);
    request.set("Authorization", "Basic " + auth::base64_encode(s.ikey + ":" + sig));
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    Result r;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), r.body);
    r.status = response.getStatus();
    r.json.Parse(r.body.c_str());
    EXPECT_FALSE(r.json.HasParseError()) << r.body;
    return r;
  }

  Result auth_logs(int64_t mintime, int64_t maxtime, Params extra = {}, const Signing& s = {}) {
    extra.emplace_back("mintime", std::to_string(mintime));
    extra.emplace_back("maxtime", std::to_string(maxtime));
    return get(kAuthPath, extra, s);
  }

  static int code(const Result& r) {
    return r.json.HasMember("code") ? r.json["code"].GetInt() : 0;
  }

  DuoImitation duo_{kIkey, kSkey};
};

TEST(DuoSignature, TestVectorFromDuoMd) {
  const std::string expected =
      "Tue, 21 Aug 2012 17:29:18 -0000\nGET\napi-xxxxxxxx.duosecurity.com\n"
      "/admin/v2/logs/authentication\nlimit=1000&maxtime=1714584000000&mintime=1714580400000";
  const char kSig[] = "dda7b6347b982a4f327a062ffd8475729700cc23";

  // The imitation's verification.
  DuoImitation::Signed req{
      "Tue, 21 Aug 2012 17:29:18 -0000",
      "GET",
      "API-XXXXXXXX.duosecurity.com",
      kAuthPath,
      {{"mintime", "1714580400000"}, {"maxtime", "1714584000000"}, {"limit", "1000"}},
      "",
      {}};
  EXPECT_EQ(DuoImitation::canonical(req, 2), expected);
  EXPECT_TRUE(DuoImitation::signature_valid(kSkey, req, kSig));
  EXPECT_FALSE(DuoImitation::signature_valid(kSkey, req, std::string(40, '0')));

  // The plugin's builder, given the parameters out of order.
  const std::string params = duo::canonical_params(
      {{"mintime", "1714580400000"}, {"maxtime", "1714584000000"}, {"limit", "1000"}});
  const std::string canonical =
      duo::canonical_string(2, "Tue, 21 Aug 2012 17:29:18 -0000", "GET",
                            "api-xxxxxxxx.duosecurity.com", kAuthPath, params);
  EXPECT_EQ(canonical, expected);
  EXPECT_EQ(duo::signature(2, kSkey, canonical), kSig);
  EXPECT_EQ(
      duo::authorization(kIkey, kSig),
      "Basic RElXSjhYNkFFWU9SNU9NQzZUUTE6ZGRhN2I2MzQ3Yjk4MmE0ZjMyN2EwNjJmZmQ4NDc1NzI5NzAwY2MyMw==");

  // v5 over the same request: duo.md gives the signature's ends.
  const std::string v5 =
      duo::signature(5, kSkey,
                     duo::canonical_string(5, "Tue, 21 Aug 2012 17:29:18 -0000", "GET",
                                           "api-xxxxxxxx.duosecurity.com", kAuthPath, params));
  EXPECT_EQ(v5.size(), 128u);
  EXPECT_EQ(v5.substr(0, 8), "14338d5b");
  EXPECT_EQ(v5.substr(120), "438c8edb");
  EXPECT_TRUE(DuoImitation::signature_valid(kSkey, req, v5));
}

TEST(DuoSignature, ParamsAreRfc3986EncodedAndSorted) {
  EXPECT_EQ(duo::canonical_params({{"b", "x y"}, {"a", "2"}, {"a", "1"}, {"c", "a+b/c~"}}),
            "a=1&a=2&b=x%20y&c=a%2Bb%2Fc~");
  EXPECT_EQ(duo::canonical_params({{"next_offset", "1714582795000,c3e9"}}),
            "next_offset=1714582795000%2Cc3e9");
  EXPECT_EQ(duo::canonical_params({}), "");
}

TEST(DuoSignature, HostIsWhatTheClientSends) {
  EXPECT_EQ(duo::signing_host("https://API-1234ABCD.duosecurity.com/admin"),
            "api-1234abcd.duosecurity.com");
  EXPECT_EQ(duo::signing_host("https://api-1234abcd.duosecurity.com:443/x"),
            "api-1234abcd.duosecurity.com");
  EXPECT_EQ(duo::signing_host("https://api-1234abcd.duosecurity.com:8443/x"),
            "api-1234abcd.duosecurity.com:8443");
  EXPECT_EQ(duo::signing_host("http://127.0.0.1:8080/x?a=1"), "127.0.0.1:8080");
  EXPECT_EQ(duo::signing_host("http://localhost/x"), "localhost");
}

TEST_F(DuoImitationTest, ValidSignaturesAreAccepted) {
  const int64_t now = now_ms();
  duo_.add_auth_events(3, now - kHourMs, 1000);
  for (int version : {2, 5}) {
    Signing s;
    s.version = version;
    Result r = auth_logs(now - 2 * kHourMs, now, {{"sort", "ts:asc"}}, s);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_STREQ(r.json["stat"].GetString(), "OK");
    EXPECT_EQ(r.json["response"]["authlogs"].Size(), 3u);
    EXPECT_TRUE(r.json["response"]["metadata"]["next_offset"].IsNull());
  }
}

TEST_F(DuoImitationTest, BadSignatureIs40103) {
  Signing wrong_key;
  wrong_key.skey = std::string(40, 'a');
  Result r = auth_logs(now_ms() - kHourMs, now_ms(), {}, wrong_key);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body,
            R"({"stat":"FAIL","code":40103,"message":"Invalid signature in request credentials"})");

  Signing no_port;  // the Host header carries the port: signing without it fails
  no_port.host = "127.0.0.1";
  EXPECT_EQ(code(auth_logs(now_ms() - kHourMs, now_ms(), {}, no_port)), 40103);
}

TEST_F(DuoImitationTest, MissingOrLocalisedDateIs40104) {
  Signing localised;
  localised.date = "Di, 21 Aug 2012 17:29:18 -0000";
  Result r = auth_logs(now_ms() - kHourMs, now_ms(), {}, localised);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(code(r), 40104);

  Signing missing;
  missing.send_date = false;
  EXPECT_EQ(code(auth_logs(now_ms() - kHourMs, now_ms(), {}, missing)), 40104);
}

TEST_F(DuoImitationTest, SkewedDateIsRefusedUnlessTheWindowAllowsIt) {
  Signing stale;
  stale.date = timefmt::rfc2822(now_ms() - 10 * 60 * 1000);
  Result r = auth_logs(now_ms() - kHourMs, now_ms(), {}, stale);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(code(r), 40105);
  duo_.set_skew_window_ms(kHourMs);
  EXPECT_EQ(auth_logs(now_ms() - kHourMs, now_ms(), {}, stale).status, 200);
}

TEST_F(DuoImitationTest, UnknownIkeyIs40102) {
  Signing other;
  other.ikey = "DIAAAAAAAAAAAAAAAAAA";
  Result r = auth_logs(now_ms() - kHourMs, now_ms(), {}, other);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(code(r), 40102);
}

TEST_F(DuoImitationTest, BadParametersAre400) {
  const int64_t now = now_ms();
  EXPECT_EQ(auth_logs(now - 181LL * 24 * kHourMs, now).status, 400);
  EXPECT_EQ(auth_logs(now - kHourMs, now - kHourMs).status, 400);
  EXPECT_EQ(auth_logs(now - kHourMs, now, {{"limit", "1001"}}).status, 400);
  EXPECT_EQ(auth_logs(now - kHourMs, now, {{"sort", "ts"}}).status, 400);
  EXPECT_EQ(get(kAuthPath, {{"mintime", std::to_string(now - kHourMs)}}).status, 400);
  EXPECT_EQ(auth_logs(now - kHourMs, now, {{"next_offset", "nonsense"}}).status, 400);
}

TEST_F(DuoImitationTest, VisibilityDelayWithholdsRecentEvents) {
  const int64_t now = now_ms();
  duo_.add_auth_events(60, now - 595000, 10000);  // up to 5 s ago, 5 s off every boundary
  Result r = auth_logs(now - kHourMs, now + 60000, {{"limit", "1000"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["response"]["authlogs"].Size(), 48u);  // those older than now - 120 s

  duo_.set_visibility_delay_ms(0);
  r = auth_logs(now - kHourMs, now + 60000, {{"limit", "1000"}});
  EXPECT_EQ(r.json["response"]["authlogs"].Size(), 60u);
}

TEST_F(DuoImitationTest, EmptyWindow) {
  Result r = auth_logs(now_ms() - kHourMs, now_ms(), {{"sort", "ts:asc"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json["response"]["authlogs"].Size(), 0u);
  EXPECT_TRUE(r.json["response"]["metadata"]["next_offset"].IsNull());
  EXPECT_EQ(r.json["response"]["metadata"]["total_objects"].GetInt(), 0);
}

TEST_F(DuoImitationTest, NextOffsetPagingCoversEveryEventOnce) {
  const int64_t now = now_ms();
  duo_.add_auth_events(1500, now - 2 * kHourMs, 1000);
  duo_.add_auth_events(1000, now - 2 * kHourMs + 500000, 0);  // many share one millisecond
  for (const char* sort : {"ts:asc", "ts:desc"}) {
    std::set<std::string> txids;
    std::vector<size_t> pages;
    int64_t previous = std::string(sort) == "ts:asc" ? 0 : INT64_MAX;
    std::string offset;
    do {
      Params params = {{"sort", sort}, {"limit", "1000"}};
      if (!offset.empty()) params.emplace_back("next_offset", offset);
      Result r = auth_logs(now - 3 * kHourMs, now, params);
      ASSERT_EQ(r.status, 200) << r.body;
      const auto& logs = r.json["response"]["authlogs"];
      pages.push_back(logs.Size());
      for (const auto& e : logs.GetArray()) {
        EXPECT_TRUE(txids.insert(e["txid"].GetString()).second)
            << "repeated " << e["txid"].GetString();
        const int64_t ts = e["timestamp"].GetInt64();
        EXPECT_TRUE(std::string(sort) == "ts:asc" ? ts >= previous : ts <= previous);
        previous = ts;
        EXPECT_GT(e.GetObject().MemberCount(), 10u);
      }
      const auto& next = r.json["response"]["metadata"]["next_offset"];
      offset = next.IsNull() ? "" : std::string(next[0].GetString()) + "," + next[1].GetString();
      EXPECT_EQ(r.json["response"]["metadata"]["total_objects"].GetInt(), 2500);
    } while (!offset.empty());
    EXPECT_EQ(txids.size(), 2500u) << sort;
    EXPECT_EQ(pages, (std::vector<size_t>{1000, 1000, 500})) << sort;
  }
}

TEST_F(DuoImitationTest, AdminLogsCapAt1000RowsAscending) {
  const int64_t start = now_ms() / 1000 - 3600;
  duo_.add_admin_events(1500, start, 3);
  Result r = get(kAdminPath, {{"mintime", std::to_string(start)}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto& rows = r.json["response"];
  ASSERT_EQ(rows.Size(), 1000u);
  int64_t previous = start;
  for (const auto& e : rows.GetArray()) {
    EXPECT_GE(e["timestamp"].GetInt64(), previous);
    previous = e["timestamp"].GetInt64();
  }
  EXPECT_EQ(previous, start + 333);  // the cap splits that second's three events

  r = get(kAdminPath, {{"mintime", std::to_string(start + 333)}});
  ASSERT_EQ(r.json["response"].Size(), 1500u - 999u);
  EXPECT_EQ(r.json["response"][0]["timestamp"].GetInt64(), start + 333);
  EXPECT_TRUE(r.json["response"][0]["description"].IsString());
  std::set<std::string> descriptions;  // every event tells itself apart, even within a second
  for (const auto& e : r.json["response"].GetArray())
    descriptions.insert(e["description"].GetString());
  EXPECT_EQ(descriptions.size(), 501u);
}

TEST_F(DuoImitationTest, RateLimitAnswers429) {
  duo_.set_rate_limit_per_minute(3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get(kAdminPath, {{"mintime", "0"}}).status, 200);
  Result r = get(kAdminPath, {{"mintime", "0"}});
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body, R"({"stat":"FAIL","code":42901,"message":"Too Many Requests"})");
}

TEST_F(DuoImitationTest, InjectedFaultsComeFirst) {
  Fault fault;
  fault.status = 500;
  fault.body = R"({"stat":"FAIL","code":50001,"message":"Unknown internal server error"})";
  duo_.inject(fault);
  EXPECT_EQ(get(kAdminPath, {{"mintime", "0"}}).status, 500);
  EXPECT_EQ(get(kAdminPath, {{"mintime", "0"}}).status, 200);
}

}  // namespace
}  // namespace siphon::imitation
