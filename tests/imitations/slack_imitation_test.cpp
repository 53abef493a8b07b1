// The Slack imitation against the vendor's documented behaviour, through a plain Poco
// session.
#include "slack_imitation.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <set>
#include <siphon/sdk.hpp>

namespace siphon::imitation {
namespace {

const char kToken[] = "xoxp-1111-2222-3333-abcdef0123456789";
const char kAccess[] = "/api/team.accessLogs";
const char kIntegration[] = "/api/team.integrationLogs";

struct Result {
  int status = 0;
  std::string retry_after;
  std::string body;
  rapidjson::Document json;
  std::string error() const {
    return json.IsObject() && json.HasMember("error") ? json["error"].GetString() : "";
  }
};

class SlackImitationTest : public ::testing::Test {
 protected:
  void SetUp() override { slack_.start(); }

  // POST form (the default) or GET query; token as Bearer, or "" for none.
  Result call(const std::string& path, const Params& args, const std::string& token = kToken,
              bool get = false) {
    const std::string form = encode_params(args);
    Poco::Net::HTTPClientSession session("127.0.0.1", slack_.port());
    Poco::Net::HTTPRequest request(
        get ? Poco::Net::HTTPRequest::HTTP_GET : Poco::Net::HTTPRequest::HTTP_POST,
        get && !form.empty() ? path + "?" + form : path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!token.empty()) request.set("Authorization", "Bearer " + token);
    if (get) {
      session.sendRequest(request);
    } else {
      request.setContentType("application/x-www-form-urlencoded");
      request.setContentLength(static_cast<std::streamsize>(form.size()));
      session.sendRequest(request) << form;
    }
    Poco::Net::HTTPResponse response;
    Result r;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), r.body);
    r.status = response.getStatus();
    r.retry_after = response.get("Retry-After", "");
    r.json.Parse(r.body.c_str());
    EXPECT_FALSE(r.json.HasParseError()) << r.body;
    return r;
  }

  int64_t now_s() const { return now_ms() / 1000; }

  SlackImitation slack_{kToken};
};

TEST_F(SlackImitationTest, TokenChecksAnswerWithSlackErrors) {
  Result r = call(kAccess, {}, "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"ok":false,"error":"not_authed"})");
  EXPECT_EQ(call(kAccess, {}, "xoxp-0000-unknown").error(), "invalid_auth");
  slack_.add_token("xoxp-9999-reader", "users:read");
  r = call(kAccess, {}, "xoxp-9999-reader");
  EXPECT_EQ(r.error(), "missing_scope");
  EXPECT_STREQ(r.json["needed"].GetString(), "admin");
  EXPECT_STREQ(r.json["provided"].GetString(), "users:read");
  slack_.set_paid_plan(false);
  EXPECT_EQ(call(kIntegration, {}).error(), "paid_only");
  slack_.set_paid_plan(true);
  EXPECT_TRUE(call(kIntegration, {}).json["ok"].GetBool());
  slack_.revoke(kToken);
  EXPECT_EQ(call(kIntegration, {}).error(), "token_revoked");
  // The legacy token argument.
  slack_.add_token("xoxp-5555-legacy", "admin");
  EXPECT_TRUE(call(kAccess, {{"token", "xoxp-5555-legacy"}}, "").json["ok"].GetBool());
}

TEST_F(SlackImitationTest, EmptyLogs) {
  Result r = call(kAccess, {});
  ASSERT_TRUE(r.json["ok"].GetBool()) << r.body;
  EXPECT_EQ(r.json["logins"].Size(), 0u);
  EXPECT_EQ(r.json["paging"]["total"].GetInt(), 0);
  EXPECT_EQ(r.json["paging"]["pages"].GetInt(), 1);
}

TEST_F(SlackImitationTest, PageModeSortsByDateFirstAndHonoursBefore) {
  const int64_t now = now_s();
  slack_.add_logins(250, now - 25000, 100);
  std::set<std::string> users;
  int64_t previous = INT64_MAX;
  for (int page = 1; page <= 3; ++page) {
    Result r = call(kAccess, {{"count", "100"}, {"page", std::to_string(page)}}, kToken, page == 2);
    ASSERT_TRUE(r.json["ok"].GetBool()) << r.body;
    EXPECT_EQ(r.json["paging"]["pages"].GetInt(), 3);
    EXPECT_EQ(r.json["paging"]["page"].GetInt(), page);
    for (const auto& row : r.json["logins"].GetArray()) {
      EXPECT_LE(row["date_first"].GetInt64(), previous);
      previous = row["date_first"].GetInt64();
      users.insert(row["user_id"].GetString());
      EXPECT_EQ(row.MemberCount(), 10u);
    }
  }
  EXPECT_EQ(users.size(), 250u);
  Result r = call(kAccess, {{"count", "1000"}, {"before", std::to_string(now - 25000 + 900)}});
  EXPECT_EQ(r.json["logins"].Size(), 10u);  // date_first <= before, inclusive
  EXPECT_EQ(call(kAccess, {{"page", "101"}}).error(), "over_pagination_limit");
  EXPECT_EQ(call(kAccess, {{"count", "1001"}}).error(), "over_pagination_limit");
}

TEST_F(SlackImitationTest, CursorModeEndsWithAnEmptyNextCursorAndIgnoresNewRows) {
  const int64_t now = now_s();
  slack_.add_logins(25, now - 5000, 100);
  std::set<std::string> users;
  std::string cursor;
  int pages = 0;
  do {
    Params args = {{"limit", "10"}};
    if (!cursor.empty()) args.emplace_back("cursor", cursor);
    Result r = call(kAccess, args);
    ASSERT_TRUE(r.json["ok"].GetBool()) << r.body;
    for (const auto& row : r.json["logins"].GetArray()) users.insert(row["user_id"].GetString());
    cursor = r.json["response_metadata"]["next_cursor"].GetString();
    if (++pages == 1) slack_.add_logins(5, now, 1);  // new rows on top while paging
  } while (!cursor.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(users.size(), 25u);
  EXPECT_EQ(slack_.cursor_calls(), 3u);
  EXPECT_EQ(call(kAccess, {{"limit", "10"}, {"cursor", "bm9wZQ=="}}).error(), "invalid_cursor");
  EXPECT_EQ(call(kAccess, {{"limit", "5000"}}).error(), "invalid_limit");
}

TEST_F(SlackImitationTest, TouchedRowsChangeInPlace) {
  const int64_t now = now_s();
  const size_t first = slack_.add_logins(3, now - 3000, 100);
  Result before = call(kAccess, {});
  slack_.touch(first, now);
  Result after = call(kAccess, {});
  EXPECT_EQ(after.json["logins"].Size(), 3u);
  const auto& row = after.json["logins"][2];  // the oldest date_first stays last
  EXPECT_EQ(row["date_last"].GetInt64(), now);
  EXPECT_EQ(row["count"].GetInt64(), before.json["logins"][2]["count"].GetInt64() + 1);
}

TEST_F(SlackImitationTest, IntegrationLogsAreNewestFirstWithStringDates) {
  const int64_t now = now_s();
  slack_.add_integration_logs(150, now - 15000, 100);
  Result r = call(kIntegration, {{"count", "100"}, {"page", "2"}});
  ASSERT_TRUE(r.json["ok"].GetBool()) << r.body;
  EXPECT_EQ(r.json["logs"].Size(), 50u);
  EXPECT_EQ(r.json["paging"]["pages"].GetInt(), 2);
  int64_t previous = INT64_MAX;
  for (const auto& e : r.json["logs"].GetArray()) {
    ASSERT_TRUE(e["date"].IsString());
    const int64_t d = std::stoll(e["date"].GetString());
    EXPECT_LE(d, previous);
    previous = d;
    EXPECT_TRUE(e.HasMember("app_id") || e.HasMember("service_id"));
  }
  // Every third is a disabled webhook; apps are disabled when serial % 5 == 3.
  EXPECT_EQ(call(kIntegration, {{"change_type", "disabled"}}).json["paging"]["total"].GetInt(), 70);
}

TEST_F(SlackImitationTest, RateLimitIs429WithRetryAfterAndRatelimited) {
  slack_.set_rate_limit_per_minute(2, 7);
  EXPECT_EQ(call(kAccess, {}).status, 200);
  EXPECT_EQ(call(kAccess, {}).status, 200);
  Result r = call(kAccess, {});
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.retry_after, "7");
  EXPECT_EQ(r.body, R"({"ok":false,"error":"ratelimited"})");
}

TEST_F(SlackImitationTest, UnknownMethodAndInjectedFaults) {
  EXPECT_EQ(call("/api/team.billableInfo", {}).status, 404);
  Fault f;
  f.status = 503;
  f.body = "";
  slack_.inject(f);
  Poco::Net::HTTPClientSession session("127.0.0.1", slack_.port());
  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, kAccess);
  session.sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::string body;
  Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
  EXPECT_EQ(response.getStatus(), 503);
  EXPECT_EQ(call(kAccess, {}).status, 200);
}

}  // namespace
}  // namespace siphon::imitation
