// The Salesforce imitation itself, spoken to as a plain HTTP client: OAuth
// grants, sessions, SOQL on EventLogFile with batches, CSV bodies and errors
// as the vendor documents them. The CSV is read back with the
// plugin's libcsv reader.
#include "salesforce_imitation.hpp"

#include <Poco/InflatingStream.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <memory>
#include <siphon/auth_helpers.hpp>
#include <siphon/sdk.hpp>
#include <sstream>

#include "event_log_app.hpp"
#include "log_file_csv.hpp"

namespace siphon::imitation {
namespace {

struct Answer {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string limit_info;
  std::string content_encoding;

  rapidjson::Document json() const {
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    EXPECT_FALSE(doc.HasParseError()) << body;
    return doc;
  }
  // errorCode of a REST error array.
  std::string error_code() const {
    auto doc = json();
    if (!doc.IsArray() || doc.Empty() || !doc[0].HasMember("errorCode")) return "";
    return doc[0]["errorCode"].GetString();
  }
};

constexpr int64_t kDay = 86400000;

class SalesforceImitationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    creds_ = SalesforceImitation::make_credentials();
    sf_ = std::make_unique<SalesforceImitation>(creds_);
    sf_->start();
  }

  Answer send(const std::string& method, const std::string& uri, const std::string& body = "",
              const std::string& bearer = "", bool gzip = false) {
    Poco::Net::HTTPClientSession session("127.0.0.1", sf_->port());
    Poco::Net::HTTPRequest request(method, uri, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!bearer.empty()) request.set("Authorization", "Bearer " + bearer);
    if (gzip) request.set("Accept-Encoding", "gzip, deflate");
    if (method == "POST") {
      request.setContentType("application/x-www-form-urlencoded");
      request.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    Answer out;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), out.body);
    out.status = response.getStatus();
    out.content_type = response.getContentType();
    out.limit_info = response.get("Sforce-Limit-Info", "");
    out.content_encoding = response.get("Content-Encoding", "");
    return out;
  }

  Answer password_grant(const std::string& password) {
    return send("POST", "/services/oauth2/token",
                encode_params({{"grant_type", "password"},
                               {"client_id", creds_.client_id},
                               {"client_secret", creds_.client_secret},
                               {"username", creds_.username},
                               {"password", password}}));
  }
  Answer client_credentials_grant(const std::string& secret) {
    return send("POST", "/services/oauth2/token",
                encode_params({{"grant_type", "client_credentials"},
                               {"client_id", creds_.client_id},
                               {"client_secret", secret}}));
  }
  std::string session() {
    Answer a = password_grant(creds_.password + creds_.security_token);
    EXPECT_EQ(a.status, 200) << a.body;
    return a.json()["access_token"].GetString();
  }
  Answer query(const std::string& soql, const std::string& token,
               const std::string& version = "60.0") {
    return send("GET", "/services/data/v" + version + "/query?" + encode_params({{"q", soql}}), "",
                token);
  }
  static void expect_oauth_error(const Answer& a, const std::string& error,
                                 const std::string& description) {
    EXPECT_EQ(a.status, 400);
    auto doc = a.json();
    ASSERT_TRUE(doc.IsObject()) << a.body;
    EXPECT_EQ(std::string(doc["error"].GetString()), error);
    EXPECT_EQ(std::string(doc["error_description"].GetString()), description);
  }

  SalesforceImitation::Credentials creds_;
  std::unique_ptr<SalesforceImitation> sf_;
};

TEST_F(SalesforceImitationTest, CredentialsHaveTheFormatsSalesforceIssues) {
  EXPECT_EQ(creds_.client_id.size(), 85u);
  EXPECT_EQ(creds_.client_secret.size(), 19u);
  EXPECT_EQ(creds_.client_secret.find_first_not_of("0123456789"), std::string::npos);
  EXPECT_EQ(creds_.security_token.size(), 24u);
}

TEST_F(SalesforceImitationTest, PasswordGrantWantsTheSecurityTokenAppended) {
  Answer ok = password_grant(creds_.password + creds_.security_token);
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto doc = ok.json();
  EXPECT_STREQ(doc["instance_url"].GetString(), "https://acme.my.salesforce.com");
  EXPECT_STREQ(doc["token_type"].GetString(), "Bearer");
  EXPECT_FALSE(doc.HasMember("expires_in")) << "Salesforce sends no expires_in";
  std::string id = doc["id"].GetString(), issued_at = doc["issued_at"].GetString();
  EXPECT_EQ(doc["signature"].GetString(),
            auth::base64_encode(auth::hmac_sha256(creds_.client_secret, id + issued_at)));
  EXPECT_EQ(sf_->sessions("password"), 1);

  expect_oauth_error(password_grant(creds_.password), "invalid_grant", "authentication failure");
  expect_oauth_error(password_grant(creds_.password + " " + creds_.security_token), "invalid_grant",
                     "authentication failure");
  sf_->set_trusted_ip(true);
  EXPECT_EQ(password_grant(creds_.password).status, 200) << "a trusted IP needs no token";
  sf_->set_password_flow_blocked(true);
  expect_oauth_error(password_grant(creds_.password + creds_.security_token), "invalid_grant",
                     "authentication failure");
  EXPECT_EQ(sf_->sessions("password"), 2);
}

TEST_F(SalesforceImitationTest, ClientIdSecretAndGrantTypeAreChecked) {
  expect_oauth_error(send("POST", "/services/oauth2/token",
                          encode_params({{"grant_type", "password"},
                                         {"client_id", "3MVG9nope"},
                                         {"client_secret", creds_.client_secret},
                                         {"username", creds_.username},
                                         {"password", creds_.password + creds_.security_token}})),
                     "invalid_client_id", "client identifier invalid");
  expect_oauth_error(client_credentials_grant("1234567890123456789"), "invalid_client",
                     "invalid client credentials");
  expect_oauth_error(
      send("POST", "/services/oauth2/token", encode_params({{"grant_type", "authorization_code"}})),
      "unsupported_grant_type", "grant type not supported");
  EXPECT_EQ(sf_->sessions(), 0);
}

TEST_F(SalesforceImitationTest, ClientCredentialsGrantNeedsTheAppToAllowIt) {
  Answer ok = client_credentials_grant(creds_.client_secret);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(sf_->sessions("client_credentials"), 1);
  sf_->set_client_credentials_enabled(false);
  expect_oauth_error(client_credentials_grant(creds_.client_secret), "invalid_grant",
                     "no client credentials user enabled");
}

TEST_F(SalesforceImitationTest, SessionsEndAfterNCallsOrWhenInvalidated) {
  sf_->set_session_calls(2);
  std::string token = session();
  const std::string soql = "SELECT Id FROM EventLogFile";
  EXPECT_EQ(query(soql, token).status, 200);
  EXPECT_EQ(query(soql, token).status, 200);
  Answer expired = query(soql, token);
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(expired.error_code(), "INVALID_SESSION_ID");
  sf_->set_session_calls(0);
  token = session();
  EXPECT_EQ(query(soql, token).status, 200);
  sf_->invalidate_sessions();
  EXPECT_EQ(query(soql, token).error_code(), "INVALID_SESSION_ID");
  EXPECT_EQ(query(soql, "").status, 401);
  token = session();
  sf_->set_refuse_sessions(true);
  EXPECT_EQ(query(soql, token).status, 401);
}

TEST_F(SalesforceImitationTest, QueryFiltersOrdersAndPagesWithNextRecordsUrl) {
  const int64_t t0 = 1714521600000;  // 2024-05-01T00:00:00Z
  auto add = [&](const std::string& type, const std::string& interval, int64_t created) {
    auto f = SalesforceImitation::make_log_file(type, 1, t0 - kDay, created, "r");
    f.interval = interval;
    return sf_->add_log_file(f);
  };
  std::string late = add("Login", "Daily", t0 + 5000);
  std::string early = add("Login", "Daily", t0 + 1000);
  add("Login", "Daily", t0 - 1000);  // before the bound
  add("Login", "Hourly", t0 + 2000);
  add("Report", "Daily", t0 + 3000);
  std::string equal = add("Login", "Daily", t0);
  sf_->set_batch_size(2);
  std::string token = session();
  Answer first = query(
      "SELECT Id, EventType, LogDate, LogFile, LogFileLength, Interval, CreatedDate FROM "
      "EventLogFile WHERE EventType = 'Login' AND Interval = 'Daily' AND CreatedDate >= "
      "2024-05-01T00:00:00Z ORDER BY CreatedDate ASC, Id ASC",
      token);
  ASSERT_EQ(first.status, 200) << first.body;
  auto page = first.json();
  EXPECT_EQ(page["totalSize"].GetInt(), 3);
  EXPECT_FALSE(page["done"].GetBool());
  ASSERT_EQ(page["records"].Size(), 2u);
  const auto& r0 = page["records"][0];
  EXPECT_EQ(r0["Id"].GetString(), equal);
  EXPECT_STREQ(r0["CreatedDate"].GetString(), "2024-05-01T00:00:00.000+0000");
  EXPECT_STREQ(r0["LogDate"].GetString(), "2024-04-30T00:00:00.000+0000");
  EXPECT_EQ(r0["LogFile"].GetString(),
            "/services/data/v60.0/sobjects/EventLogFile/" + equal + "/LogFile");
  EXPECT_TRUE(r0["LogFileLength"].IsDouble());
  EXPECT_STREQ(r0["attributes"]["type"].GetString(), "EventLogFile");
  EXPECT_EQ(page["records"][1]["Id"].GetString(), early);
  std::string next = page["nextRecordsUrl"].GetString();
  EXPECT_EQ(next.rfind("/services/data/v60.0/query/01g", 0), 0u) << next;
  Answer second = send("GET", next, "", token);
  ASSERT_EQ(second.status, 200) << second.body;
  auto page2 = second.json();
  EXPECT_TRUE(page2["done"].GetBool());
  EXPECT_FALSE(page2.HasMember("nextRecordsUrl"));
  ASSERT_EQ(page2["records"].Size(), 1u);
  EXPECT_EQ(page2["records"][0]["Id"].GetString(), late);
  EXPECT_FALSE(page2["records"][0].HasMember("Sequence")) << "only the selected fields";
  sf_->expire_query_locators();
  EXPECT_EQ(send("GET", next, "", token).error_code(), "INVALID_QUERY_LOCATOR");

  Answer none =
      query("SELECT Id FROM EventLogFile WHERE CreatedDate > 2030-01-01T00:00:00Z", token);
  EXPECT_EQ(none.body, R"({"totalSize":0,"done":true,"records":[]})");
}

TEST_F(SalesforceImitationTest, BadQueriesGetSalesforceErrors) {
  std::string token = session();
  EXPECT_EQ(query("SELECT Id FROM EventLogFile WHERE CreatedDate > '2024-05-01T00:00:00Z'", token)
                .error_code(),
            "MALFORMED_QUERY")
      << "datetimes are not quoted in SOQL";
  EXPECT_EQ(query("SELECT Id FROM EventLogFile WHERE EventType = Login", token).error_code(),
            "MALFORMED_QUERY");
  EXPECT_EQ(query("SELECT Id, Nope FROM EventLogFile", token).error_code(), "INVALID_FIELD");
  EXPECT_EQ(query("SELECT Id FROM Account", token).error_code(), "INVALID_TYPE");
  EXPECT_EQ(query("SELECT Id FROM EventLogFile", token, "99.0").status, 404);
  sf_->set_event_log_unsupported(true);
  Answer a = query("SELECT Id FROM EventLogFile", token);
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.error_code(), "INVALID_TYPE");
}

TEST_F(SalesforceImitationTest, VersionsAreListedWithoutASession) {
  Answer a = send("GET", "/services/data/");
  ASSERT_EQ(a.status, 200);
  auto doc = a.json();
  ASSERT_TRUE(doc.IsArray());
  EXPECT_STREQ(doc[doc.Size() - 1]["version"].GetString(), "61.0");
  EXPECT_STREQ(doc[doc.Size() - 1]["url"].GetString(), "/services/data/v61.0");
}

TEST_F(SalesforceImitationTest, LogFileIsQuotedCsvThatReadsBackIntact) {
  for (bool crlf_bom : {false, true}) {
    sf_->set_csv_style(crlf_bom, crlf_bom);
    auto file = SalesforceImitation::make_log_file("Report", 9, 1714521600000, 1714600000000, "q");
    std::string id = sf_->add_log_file(file);
    Answer a =
        send("GET", "/services/data/v60.0/sobjects/EventLogFile/" + id + "/LogFile", "", session());
    ASSERT_EQ(a.status, 200) << a.body;
    EXPECT_EQ(a.content_type, "text/csv");
    EXPECT_EQ(a.body.rfind(crlf_bom ? "\xEF\xBB\xBF\"EVENT_TYPE\"," : "\"EVENT_TYPE\",", 0), 0u);
    EXPECT_NE(a.body.find("\"\"Q2, 2024\"\""), std::string::npos) << "quotes doubled";
    auto rows = salesforce::csv_to_json_rows(a.body, "test").json;
    ASSERT_EQ(rows.size(), 9u);
    for (size_t i = 0; i < rows.size(); ++i) {
      rapidjson::Document d;
      d.Parse(rows[i].c_str());
      ASSERT_TRUE(d.IsObject());
      ASSERT_EQ(d.MemberCount(), file.header.size());
      for (size_t c = 0; c < file.header.size(); ++c)
        EXPECT_EQ(d[file.header[c].c_str()].GetString(), file.rows[i][c]) << file.header[c];
    }
  }
  Answer missing =
      send("GET", "/services/data/v60.0/sobjects/EventLogFile/0AT5g0000999999EAV/LogFile", "",
           session());
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.error_code(), "NOT_FOUND");
}

TEST_F(SalesforceImitationTest, LogFileIsGzippedForClientsThatAcceptIt) {
  auto file = SalesforceImitation::make_log_file("Login", 50, 1714521600000, 1714600000000, "g");
  std::string id = sf_->add_log_file(file);
  const std::string path = "/services/data/v60.0/sobjects/EventLogFile/" + id + "/LogFile";
  std::string token = session();
  Answer plain = send("GET", path, "", token);
  EXPECT_EQ(plain.content_encoding, "");
  EXPECT_EQ(plain.body, SalesforceImitation::to_csv(file));
  Answer zipped = send("GET", path, "", token, true);
  EXPECT_EQ(zipped.content_encoding, "gzip");
  EXPECT_LT(zipped.body.size(), plain.body.size());
  std::istringstream in(zipped.body);
  Poco::InflatingInputStream inflater(in, Poco::InflatingStreamBuf::STREAM_GZIP);
  std::string inflated;
  Poco::StreamCopier::copyToString(inflater, inflated);
  EXPECT_EQ(inflated, plain.body);
  EXPECT_EQ(sf_->gzipped_bodies(), 1);
}

TEST_F(SalesforceImitationTest, ApiAllocationRunsOutWithRequestLimitExceeded) {
  sf_->set_api_limit(2);
  std::string token = session();
  Answer a = query("SELECT Id FROM EventLogFile", token);
  EXPECT_EQ(a.limit_info, "api-usage=1/2");
  query("SELECT Id FROM EventLogFile", token);
  Answer over = query("SELECT Id FROM EventLogFile", token);
  EXPECT_EQ(over.status, 403);
  EXPECT_EQ(over.error_code(), "REQUEST_LIMIT_EXCEEDED");
  EXPECT_EQ(over.limit_info, "api-usage=3/2");
}

TEST(SalesforceCsv, HeaderOnlyEmptyAndRaggedRows) {
  EXPECT_TRUE(salesforce::csv_to_json_rows("", "f").json.empty());
  EXPECT_TRUE(salesforce::csv_to_json_rows("\"A\",\"B\"\n", "f").json.empty());
  auto r = salesforce::csv_to_json_rows("\"A\",\"B\"\r\n\"1\"\r\n\"1\",\"2\",\"3\"\r\n\r\n", "f");
  ASSERT_EQ(r.json.size(), 2u);
  EXPECT_EQ(r.json[0], R"({"A":"1"})");
  EXPECT_EQ(r.json[1], R"({"A":"1","B":"2","_column_3":"3"})");
  EXPECT_EQ(r.short_rows, 1u);
  EXPECT_EQ(r.long_rows, 1u);
  auto unicode = salesforce::csv_to_json_rows("\"N\"\n\"Zo\xC3\xAB \"\"Z\"\"\"\n", "f");
  EXPECT_EQ(unicode.json.at(0), "{\"N\":\"Zo\xC3\xAB \\\"Z\\\"\"}");
}

TEST(SalesforceCsv, BrokenQuotingIsAnErrorNamingTheFile) {
  try {
    salesforce::csv_to_json_rows("\"A\",\"B\"\n\"1\",\"unterminated\n", "LogFile of 0AT1");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("LogFile of 0AT1: CSV"), std::string::npos) << e.what();
  }
  EXPECT_THROW(salesforce::csv_to_json_rows("\"A\"\n\"x\"y\"\n", "f"), Error);
}

TEST(SalesforceCursor, RoundTripsAndRefusesForeignCursors) {
  salesforce::EventLogCursor c;
  c.from_ms = 1000;
  c.mark_ms = 5000;
  c.done = {{"0AT5g0000000001EAV", 4000}, {"0AT5g0000000002EAV", 5000}};
  c.file = salesforce::LogFileRef{"0AT5g0000000003EAV", 6000,
                                  "/services/data/v60.0/sobjects/EventLogFile/x/LogFile", 250};
  auto back = salesforce::EventLogCursor::parse(c.to_json());
  EXPECT_EQ(back.to_json(), c.to_json());
  ASSERT_TRUE(back.file);
  EXPECT_EQ(back.file->rows_done, 250);
  EXPECT_TRUE(back.is_done("0AT5g0000000002EAV"));
  EXPECT_FALSE(back.is_done("0AT5g0000000003EAV"));
  for (const char* foreign : {R"({"stream_position":"1"})", "not json", R"({"from":"x"})",
                              R"({"from":1,"done":[["a"]]})", R"({"from":1,"file":{"id":"a"}})"}) {
    try {
      salesforce::EventLogCursor::parse(foreign);
      ADD_FAILURE() << foreign << " accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("reset"), std::string::npos) << e.what();
    }
  }
}

TEST(SalesforceCursor, FromTrailsTheNewestFileByTheLookbackAndDoneIsPruned) {
  constexpr int64_t kHour = 3600000;
  salesforce::EventLogCursor c;
  c.finish({"A", 10 * kHour, "/a", 0}, kHour);
  EXPECT_EQ(c.mark_ms, 10 * kHour);
  EXPECT_EQ(c.from_ms, 9 * kHour);
  c.finish({"B", 9 * kHour + 1, "/b", 0}, kHour);  // late, older than A: mark stays
  EXPECT_EQ(c.mark_ms, 10 * kHour);
  EXPECT_EQ(c.done.size(), 2u);
  c.finish({"C", 12 * kHour, "/c", 0}, kHour);
  EXPECT_EQ(c.from_ms, 11 * kHour);
  ASSERT_EQ(c.done.size(), 1u) << "A and B lie before from: no longer listed, no longer kept";
  EXPECT_EQ(c.done[0].first, "C");
}

TEST(SalesforceCursor, DoneStaysBoundedAndFromMovesPastWhatItForgets) {
  salesforce::EventLogCursor c;
  for (int i = 0; i < 1500; ++i) c.finish({"F" + std::to_string(i), 1000 + i, "/f", 0}, 1000000000);
  EXPECT_LE(c.done.size(), 1000u);
  EXPECT_LT(c.to_json().size(), 64u * 1024);
  for (const auto& [id, created] : c.done) EXPECT_GE(created, c.from_ms) << id;
  EXPECT_GT(c.from_ms, 1000 + 499) << "what is forgotten is not listed again";
}

TEST(SalesforceCursor, SalesforceDatetimesParse) {
  EXPECT_EQ(salesforce::parse_salesforce_time("2024-05-01T09:12:44.000+0000"), 1714554764000);
  EXPECT_EQ(salesforce::parse_salesforce_time("2024-05-01T02:12:44.250-0700"), 1714554764250);
  EXPECT_EQ(salesforce::parse_salesforce_time("2024-05-01T09:12:44Z"), 1714554764000);
  EXPECT_THROW(salesforce::parse_salesforce_time("yesterday"), std::exception);
}

}  // namespace
}  // namespace siphon::imitation
