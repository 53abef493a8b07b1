// The generic JSON API imitation itself, spoken to as a plain HTTP client:
// each auth style refuses wrong credentials, each paging style walks the
// records once, and page tokens are bound to their query.
#include "generic_json_imitation.hpp"

#include <Poco/URI.h>
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

using Imit = GenericJsonImitation;

class GenericJsonImitationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_ = std::make_unique<Imit>();
    api_->start();
  }

  std::map<std::string, std::string> bearer() const {
    return {{"Authorization", "Bearer " + api_->credentials().token}};
  }
  HttpAnswer get(const std::string& uri, std::map<std::string, std::string> headers = {}) {
    if (headers.empty()) headers = bearer();
    return http_send(api_->port(), "GET", uri, "", headers);
  }
  // The path and query of an absolute URL the imitation returned.
  static std::string local(const std::string& url) { return Poco::URI(url).getPathAndQuery(); }
  static std::vector<std::string> ids(const rapidjson::Value& items) {
    std::vector<std::string> out;
    for (const auto& r : items.GetArray()) out.push_back(r["id"].GetString());
    return out;
  }

  std::unique_ptr<Imit> api_;
};

TEST_F(GenericJsonImitationTest, EachAuthStyleAcceptsItsCredentialsOnly) {
  api_->add_records(3, 1000, 1);
  const auto& c = api_->credentials();
  EXPECT_EQ(get("/v1/events").status, 200);
  EXPECT_EQ(get("/v1/events", {{"Authorization", "Bearer wrong"}}).status, 401);
  HttpAnswer none = http_send(api_->port(), "GET", "/v1/events");
  EXPECT_EQ(none.status, 401);
  EXPECT_STREQ(none.json()["errors"][0]["code"].GetString(), "unauthorized");

  api_->set_auth(Imit::Auth::kBasic);
  EXPECT_EQ(get("/v1/events").status, 401) << "the bearer token is not a password";
  const std::string basic = "Basic " + auth::base64_encode(c.username + ":" + c.password);
  EXPECT_EQ(get("/v1/events", {{"Authorization", basic}}).status, 200);
  EXPECT_EQ(
      get("/v1/events", {{"Authorization", "Basic " + auth::base64_encode(c.username + ":x")}})
          .status,
      401);

  api_->set_auth(Imit::Auth::kHeader);
  EXPECT_EQ(get("/v1/events", {{"X-Api-Key", c.api_key}}).status, 200);
  EXPECT_EQ(get("/v1/events", {{"X-Api-Key", c.token}}).status, 401);
}

TEST_F(GenericJsonImitationTest, ClientCredentialsGiveTokensThatExpire) {
  api_->add_records(3, 1000, 1);
  api_->set_auth(Imit::Auth::kOAuth2);
  const auto& c = api_->credentials();
  auto token_for = [&](const std::string& form, std::map<std::string, std::string> headers = {}) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    return http_send(api_->port(), "POST", "/oauth/token", form, headers);
  };
  HttpAnswer refused =
      token_for("grant_type=client_credentials&client_id=" + c.client_id + "&client_secret=nope");
  EXPECT_EQ(refused.status, 401);
  EXPECT_STREQ(refused.json()["error"].GetString(), "invalid_client");
  EXPECT_EQ(token_for("grant_type=password&client_id=" + c.client_id).status, 400);

  HttpAnswer ok = token_for(
      "grant_type=client_credentials&scope=audit.read&client_id=" + url_encode(c.client_id) +
      "&client_secret=" + url_encode(c.client_secret));
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(api_->last_scope(), "audit.read");
  const std::string token = ok.json()["access_token"].GetString();
  EXPECT_EQ(ok.json()["expires_in"].GetInt(), 3600);
  EXPECT_EQ(get("/v1/events", {{"Authorization", "Bearer " + token}}).status, 200);

  HttpAnswer by_basic = token_for(
      "grant_type=client_credentials",
      {{"Authorization", "Basic " + auth::base64_encode(c.client_id + ":" + c.client_secret)}});
  ASSERT_EQ(by_basic.status, 200) << by_basic.body;
  EXPECT_EQ(api_->tokens_issued(), 2);

  api_->expire_tokens();
  EXPECT_EQ(get("/v1/events", {{"Authorization", "Bearer " + token}}).status, 401);
}

TEST_F(GenericJsonImitationTest, NextUrlWalksTheWindowOldestFirstWithInclusiveBounds) {
  api_->set_times(Imit::Times::kEpochS);
  api_->add_records(25, 1000, 1);  // seconds 1000 .. 1024
  HttpAnswer a = get("/v1/events?since=1005&until=1019");
  ASSERT_EQ(a.status, 200) << a.body;
  auto doc = a.json();
  auto page = ids(doc["data"]["items"]);
  ASSERT_EQ(page.size(), 10u);
  EXPECT_EQ(page.front(), "evt-000006");
  EXPECT_EQ(doc["data"]["items"][0]["created_at"].GetInt64(), 1005);
  EXPECT_EQ(doc["paging"]["total"].GetInt(), 15);
  const std::string next = doc["paging"]["next"].GetString();
  EXPECT_EQ(next.rfind(api_->base_url() + "/v1/events?", 0), 0u) << next;
  auto second = get(local(next)).json();
  EXPECT_EQ(ids(second["data"]["items"]).size(), 5u);
  EXPECT_EQ(ids(second["data"]["items"]).back(), "evt-000020");
  EXPECT_TRUE(second["paging"]["next"].IsNull());
}

TEST_F(GenericJsonImitationTest, PageTokensBelongToTheirQuery) {
  api_->set_paging(Imit::Paging::kNextToken);
  api_->set_times(Imit::Times::kEpochMs);
  api_->add_records(12, 1000, 2);
  auto first = get("/v1/events?since=1000000&limit=5").json();
  ASSERT_EQ(ids(first["data"]["items"]).size(), 5u);
  const std::string token = first["paging"]["next_token"].GetString();
  EXPECT_FALSE(first["paging"].HasMember("next"));
  auto second = get("/v1/events?since=1000000&limit=5&page_token=" + url_encode(token)).json();
  EXPECT_EQ(ids(second["data"]["items"]).front(), "evt-000006");
  HttpAnswer other = get("/v1/events?since=1001000&limit=5&page_token=" + url_encode(token));
  EXPECT_EQ(other.status, 400);
  EXPECT_STREQ(other.json()["errors"][0]["code"].GetString(), "invalid_page_token");
  EXPECT_EQ(get("/v1/events?page_token=garbage").status, 400);
}

TEST_F(GenericJsonImitationTest, LinkHeaderWithABareArray) {
  api_->set_paging(Imit::Paging::kLinkHeader);
  api_->set_records_path("");
  api_->add_records(7, 1000, 1);
  HttpAnswer a = get("/v1/events?limit=4");
  auto doc = a.json();
  ASSERT_TRUE(doc.IsArray());
  EXPECT_EQ(doc.Size(), 4u);
  EXPECT_EQ(a.header("X-Total-Count"), "7");
  const std::string next = link_next(a.header("Link"));
  ASSERT_FALSE(next.empty()) << a.header("Link");
  HttpAnswer b = get(local(next));
  EXPECT_EQ(b.json().Size(), 3u);
  EXPECT_EQ(b.header("Link"), "");
}

TEST_F(GenericJsonImitationTest, OffsetAndPageCountThroughTheRecords) {
  api_->set_paging(Imit::Paging::kOffset);
  api_->set_records_path("result");
  api_->add_records(9, 1000, 1);
  auto a = get("/v1/events?offset=5&limit=3").json();
  EXPECT_EQ(ids(a["result"]), (std::vector<std::string>{"evt-000006", "evt-000007", "evt-000008"}));
  EXPECT_EQ(a["paging"]["total"].GetInt(), 9);
  EXPECT_EQ(get("/v1/events?offset=-1").status, 400);
  EXPECT_EQ(get("/v1/events?limit=101").status, 400);

  api_->set_paging(Imit::Paging::kPage);
  auto p = get("/v1/events?page=3&per_page=4").json();
  EXPECT_EQ(ids(p["result"]), (std::vector<std::string>{"evt-000009"}));
  EXPECT_EQ(get("/v1/events?page=0").status, 400);
}

TEST_F(GenericJsonImitationTest, RfcTimesNewestFirstAndSequenceFilter) {
  api_->set_newest_first(true);
  api_->add_record(1'700'000'000'250);
  api_->add_record(1'700'000'001'000);
  api_->add_record(1'700'000'002'000);
  auto doc = get("/v1/events?since=2023-11-14T22:13:20.250Z&until=2023-11-14T22:13:21Z").json();
  EXPECT_EQ(ids(doc["data"]["items"]), (std::vector<std::string>{"evt-000002", "evt-000001"}));
  EXPECT_STREQ(doc["data"]["items"][1]["created_at"].GetString(), "2023-11-14T22:13:20.250Z");
  EXPECT_EQ(get("/v1/events?since=yesterday").status, 400);
  auto after = get("/v1/events?after_seq=2").json();
  EXPECT_EQ(ids(after["data"]["items"]), (std::vector<std::string>{"evt-000003"}));
}

TEST_F(GenericJsonImitationTest, SearchTakesItsFiltersAndTokenInAJsonBody) {
  api_->set_paging(Imit::Paging::kNextToken);
  api_->set_times(Imit::Times::kEpochS);
  api_->add_records(8, 1000, 1);
  auto headers = bearer();
  headers["Content-Type"] = "application/json";
  auto search = [&](const std::string& body) {
    return http_send(api_->port(), "POST", "/v1/events/search", body, headers);
  };
  HttpAnswer a = search(R"({"since":1002,"until":1007,"limit":4,"page_token":""})");
  ASSERT_EQ(a.status, 200) << a.body;
  auto first = a.json();
  EXPECT_EQ(ids(first["data"]["items"]).front(), "evt-000003");
  const std::string token = first["paging"]["next_token"].GetString();
  auto second =
      search(R"({"since":1002,"until":1007,"limit":4,"page_token":")" + token + "\"}").json();
  EXPECT_EQ(ids(second["data"]["items"]), (std::vector<std::string>{"evt-000007", "evt-000008"}));
  EXPECT_TRUE(second["paging"]["next_token"].IsNull());
  EXPECT_EQ(search("{not json").status, 400);
  EXPECT_EQ(api_->last_page_request().method, "POST");
  EXPECT_EQ(http_send(api_->port(), "GET", "/v1/events/search", "", bearer()).status, 404);
}

TEST_F(GenericJsonImitationTest, FaultsStrikeAfterTheGivenPages) {
  api_->add_records(30, 1000, 1);
  Fault down;
  down.status = 503;
  down.count = 1;
  down.body = R"({"errors":[{"code":"unavailable","message":"try later"}]})";
  api_->fail_pages_after(1, down);
  EXPECT_EQ(get("/v1/events").status, 200);
  EXPECT_EQ(get("/v1/events").status, 503);
  EXPECT_EQ(get("/v1/events").status, 200);
  Fault limited;
  limited.status = 429;
  limited.retry_after = "1";
  api_->inject(limited);
  HttpAnswer l = get("/v1/events");
  EXPECT_EQ(l.status, 429);
  EXPECT_EQ(l.header("Retry-After"), "1");
}

}  // namespace
}  // namespace siphon::imitation
