// http_json end to end: the real host and siphon-http_json.so, configured by
// options only, against the generic JSON API imitation (each paging and auth
// style, faults) and against the Intercom imitation through the shipped
// example config (packaging/examples/http-json-intercom.yaml).
#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "generic_json_imitation.hpp"
#include "harness.hpp"
#include "intercom_imitation.hpp"

#ifndef SIPHON_SOURCE_DIR
#error "SIPHON_SOURCE_DIR must name the source tree (for packaging/examples)"
#endif

using siphon::imitation::Fault;
using siphon::imitation::GenericJsonImitation;
using siphon::imitation::IntercomImitation;
using siphon::testing::count_by;
using siphon::testing::wait_child;
using siphon::testing::wait_until;
using siphon::testing::Workdir;
using Options = std::vector<std::pair<std::string, std::string>>;
using Api = GenericJsonImitation;

namespace {

constexpr char kApp[] = "corp-api";

void next_second() {
  std::this_thread::sleep_for(std::chrono::milliseconds(1010 - siphon::imitation::now_ms() % 1000));
}

std::string quoted(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Options replaced or added by name (an empty value removes the option).
Options with(Options base, const Options& changes) {
  for (const auto& [key, value] : changes) {
    std::erase_if(base, [&](const auto& o) { return o.first == key; });
    if (!value.empty()) base.emplace_back(key, value);
  }
  return base;
}

std::string compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return {sb.GetString(), sb.GetSize()};
}

class HttpJsonEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    api_ = std::make_unique<Api>();
    api_->start();
    const auto& c = api_->credentials();
    for (const auto& [name, value] : {std::pair<std::string, std::string>{"token", c.token},
                                      {"api_key", c.api_key},
                                      {"username", c.username},
                                      {"password", c.password},
                                      {"client_id", c.client_id},
                                      {"client_secret", c.client_secret}})
      dir_.write("secrets/" + name, value + "\n", 0600);
  }

  // A window on since/until in RFC 3339, pages linked by paging.next.
  Options base_options() const {
    return {{"url", "https://api.example.test/v1/events"},
            {"base_url", api_->base_url()},
            {"query.since", "{{start_time}}"},
            {"query.until", "{{end_time}}"},
            {"records", "data.items"},
            {"paging", "next_url"},
            {"paging.next_url_field", "paging.next"},
            {"cursor.field", "created_at"}};
  }
  void configure(const Options& options,
                 const std::string& auth = "      token: ${file:secrets/token}\n") {
    std::string yaml = std::string("  - name: ") + kApp +
                       "\n"
                       "    type: http_json\n"
                       "    auth:\n" +
                       auth + "    options:\n";
    for (const auto& [key, value] : options) yaml += "      " + key + ": " + quoted(value) + "\n";
    dir_.write_config(yaml);
  }
  siphon::testing::Result once(const std::string& since = "") const {
    std::vector<std::string> args{"once", kApp};
    if (!since.empty()) args.insert(args.end(), {"--since", since});
    return dir_.siphon(args);
  }
  std::map<std::string, int> ids() const { return count_by(dir_.events(), kApp, "id"); }
  std::string cursor() const { return dir_.state(kApp)["cursor"].GetString(); }
  int64_t now_s() const { return siphon::imitation::now_ms() / 1000; }
  // n records stamped now, after the end of any window read so far; then
  // waits for the next second, when a window can end after them.
  void add_new(int n) {
    api_->add_records(n, now_s(), n);
    next_second();
  }
  size_t pages() const { return api_->requests(Api::kPath); }
  // Every record of the imitation delivered exactly once.
  void expect_each_once(size_t n) const {
    auto delivered = ids();
    EXPECT_EQ(delivered.size(), n);
    EXPECT_EQ(dir_.event_lines(), n);
    for (const auto& [id, count] : delivered) EXPECT_EQ(count, 1) << id;
  }

  Workdir dir_;
  std::unique_ptr<Api> api_;
};

// ---- paging styles -------------------------------------------------------

TEST_F(HttpJsonEndToEnd, NextUrlFollowsTheBodysLinkToTheLastPage) {
  configure(base_options());
  const int64_t t0 = now_s() - 3000;
  api_->add_records(95, t0, 1);
  auto r = once("2h");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_each_once(95);
  EXPECT_EQ(pages(), 10u) << "10 a page";
  EXPECT_NEAR(siphon::testing::logged_newest_event_ms(r.err), (t0 + 94) * 1000, 1) << r.err;
  auto records = dir_.events();
  const auto& rec = records.front();
  EXPECT_EQ(rec.MemberCount(), 5u);
  EXPECT_STREQ(rec["type"].GetString(), "http_json");
  EXPECT_STREQ(rec["service"].GetString(), "http");
  EXPECT_STREQ(rec["event"]["id"].GetString(), "evt-000001");
  EXPECT_TRUE(rec["event"]["actor"].IsObject());
  EXPECT_STREQ(dir_.state(kApp)["status"].GetString(), "succeeded");
}

TEST_F(HttpJsonEndToEnd, LinkHeaderPagingOfABareArray) {
  api_->set_paging(Api::Paging::kLinkHeader);
  api_->set_records_path("");
  configure(with(base_options(), {{"paging", "link_header"},
                                  {"paging.next_url_field", ""},
                                  {"records", "."},
                                  {"paging.page_size", "25"},
                                  {"query.limit", "{{page_size}}"}}));
  api_->add_records(60, now_s() - 1000, 1);
  auto r = once("1h");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_each_once(60);
  EXPECT_EQ(pages(), 3u) << "25 a page";
}

TEST_F(HttpJsonEndToEnd, NextTokenIsSentBackWithTheSameQuery) {
  api_->set_paging(Api::Paging::kNextToken);
  configure(with(base_options(), {{"paging", "next_token"},
                                  {"paging.next_url_field", ""},
                                  {"paging.token_field", "paging.next_token"},
                                  {"query.page_token", "{{page_token}}"}}));
  api_->add_records(42, now_s() - 1000, 3);
  auto r = once("1h");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_each_once(42);
  EXPECT_EQ(pages(), 5u);
}

TEST_F(HttpJsonEndToEnd, OffsetPagingStopsAtTheTotal) {
  api_->set_paging(Api::Paging::kOffset);
  configure(with(base_options(), {{"paging", "offset"},
                                  {"paging.next_url_field", ""},
                                  {"paging.page_size", "20"},
                                  {"paging.total_field", "paging.total"},
                                  {"query.offset", "{{offset}}"},
                                  {"query.limit", "{{page_size}}"}}));
  api_->add_records(100, now_s() - 1000, 1);
  auto r = once("1h");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_each_once(100);
  EXPECT_EQ(pages(), 5u) << "the total says page 5 was the last; no empty page asked for";
}

TEST_F(HttpJsonEndToEnd, PageNumbersStopAtAShortOrEmptyPage) {
  api_->set_paging(Api::Paging::kPage);
  configure(with(base_options(), {{"paging", "page"},
                                  {"paging.next_url_field", ""},
                                  {"paging.page_size", "10"},
                                  {"query.page", "{{page}}"},
                                  {"query.per_page", "{{page_size}}"}}));
  api_->add_records(30, now_s() - 1000, 1);
  auto r = once("1h");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_each_once(30);
  EXPECT_EQ(pages(), 4u) << "three full pages, then an empty one";
  add_new(5);
  ASSERT_EQ(once().exit_code, 0);
  expect_each_once(35);
  EXPECT_EQ(pages(), 5u) << "a short page is the last";
}

// ---- auth styles ---------------------------------------------------------

TEST_F(HttpJsonEndToEnd, BasicAuthWithAPasswordHoldingASpace) {
  api_->set_auth(Api::Auth::kBasic);
  configure(with(base_options(), {{"auth.style", "basic"}}),
            "      username: ${file:secrets/username}\n"
            "      password: ${file:secrets/password}\n");
  api_->add_records(15, now_s() - 1000, 1);
  auto r = once("1h");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_each_once(15);
  EXPECT_EQ((r.out + r.err).find(api_->credentials().password), std::string::npos);
}

TEST_F(HttpJsonEndToEnd, ACustomHeaderCarriesTheKey) {
  api_->set_auth(Api::Auth::kHeader);
  configure(with(base_options(), {{"auth.style", "header"}, {"auth.header", "X-Api-Key"}}),
            "      token: ${file:secrets/api_key}\n");
  api_->add_records(15, now_s() - 1000, 1);
  auto r = once("1h");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_each_once(15);
  EXPECT_EQ(api_->last_page_request().header("authorization"), "") << "only the custom header";
}

TEST_F(HttpJsonEndToEnd, ClientCredentialsTokenIsCachedAndRenewedOnceOn401) {
  api_->set_auth(Api::Auth::kOAuth2);
  configure(with(base_options(), {{"auth.style", "oauth2"},
                                  {"auth.token_url", "https://login.example.test/oauth/token"},
                                  {"auth.scope", "audit.read"},
                                  {"auth.client_auth", "basic"}}),
            "      client_id: ${file:secrets/client_id}\n"
            "      client_secret: ${file:secrets/client_secret}\n");
  api_->add_records(80, now_s() - 1000, 1);
  Fault slow;
  slow.delay_ms = 1500;
  api_->fail_pages_after(2, slow);  // page 3 waits: its token expires meanwhile
  pid_t pid = dir_.spawn({"once", kApp, "--since", "1h"}, "oauth");
  ASSERT_TRUE(wait_until([&] { return pages() >= 3; }, 20));
  api_->expire_tokens();
  ASSERT_EQ(wait_child(pid, 60), 0) << dir_.read("oauth.err");
  expect_each_once(80);
  EXPECT_EQ(api_->tokens_issued(), 2) << "one token for the run, one after the 401";
  EXPECT_EQ(pages(), 9u) << "8 pages and page 4 once more with the new token";
  EXPECT_EQ(api_->last_scope(), "audit.read");
  const std::string log = dir_.read("oauth.out") + dir_.read("oauth.err");
  EXPECT_EQ(log.find(api_->credentials().client_secret), std::string::npos);
}

TEST_F(HttpJsonEndToEnd, RefusedTokenFailsTheRunWithoutMovingTheCursor) {
  configure(base_options());
  api_->add_records(20, now_s() - 1000, 1);
  ASSERT_EQ(once("1h").exit_code, 0);
  const std::string before = cursor();
  const std::string wrong = "tok_wrongwrongwrongwrong";
  dir_.write("secrets/token", wrong, 0600);
  add_new(5);
  auto r = once();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("credentials refused"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Invalid credentials"), std::string::npos) << r.err;
  for (const std::string& secret : {wrong, api_->credentials().token})
    EXPECT_EQ((r.out + r.err).find(secret), std::string::npos) << "token printed";
  EXPECT_EQ(dir_.event_lines(), 20u);
  auto st = dir_.state(kApp);
  EXPECT_STREQ(st["status"].GetString(), "failed");
  EXPECT_EQ(before, st["cursor"].GetString());
  dir_.write("secrets/token", api_->credentials().token, 0600);
  ASSERT_EQ(once().exit_code, 0);
  expect_each_once(25);
}

TEST_F(HttpJsonEndToEnd, RefusedPasswordAndClientSecretAreNeverPrinted) {
  api_->add_records(5, now_s() - 1000, 1);
  const std::string wrong = "wrong secret value 12345";
  dir_.write("secrets/wrong", wrong, 0600);
  api_->set_auth(Api::Auth::kBasic);
  configure(with(base_options(), {{"auth.style", "basic"}}),
            "      username: ${file:secrets/username}\n"
            "      password: ${file:secrets/wrong}\n");
  auto basic = once("1h");
  EXPECT_EQ(basic.exit_code, 1);
  EXPECT_NE(basic.err.find("credentials refused"), std::string::npos) << basic.err;
  EXPECT_EQ((basic.out + basic.err).find(wrong), std::string::npos) << "password printed";

  const size_t basic_pages = pages();
  const std::string wrong_secret = "secret_wrongwrongwrong12345";
  dir_.write("secrets/wrong", wrong_secret, 0600);
  api_->set_auth(Api::Auth::kOAuth2);
  configure(with(base_options(), {{"auth.style", "oauth2"},
                                  {"auth.token_url", "https://x.example.test/oauth/token"}}),
            "      client_id: ${file:secrets/client_id}\n"
            "      client_secret: ${file:secrets/wrong}\n");
  auto oauth = once("1h");
  EXPECT_EQ(oauth.exit_code, 1);
  EXPECT_NE(oauth.err.find("invalid_client"), std::string::npos) << oauth.err;
  EXPECT_EQ((oauth.out + oauth.err).find(wrong_secret), std::string::npos) << "secret printed";
  EXPECT_EQ(dir_.event_lines(), 0u);
  EXPECT_EQ(pages(), basic_pages) << "no API call without a token";
}

// ---- cursor: resume, lookback, delay, kill ------------------------------

TEST_F(HttpJsonEndToEnd, ASecondRunDeliversOnlyNewRecords) {
  configure(base_options());
  api_->add_records(50, now_s() - 2000, 2);
  ASSERT_EQ(once("1h").exit_code, 0);
  ASSERT_EQ(once().exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 50u) << "nothing new, nothing delivered";
  add_new(30);
  ASSERT_EQ(once().exit_code, 0);
  expect_each_once(80);
}

// A record published late (its time already behind the last window's end)
// is read by the next window's lookback; the records of the lookback that
// were delivered already are not delivered again.
TEST_F(HttpJsonEndToEnd, TheLookbackCatchesLateRecordsWithoutDuplicates) {
  configure(with(base_options(), {{"cursor.lookback_seconds", "300"}}));
  api_->add_records(40, now_s() - 200, 1);  // all inside the next lookback
  ASSERT_EQ(once("1h").exit_code, 0);
  ASSERT_EQ(dir_.event_lines(), 40u);
  const std::string late = api_->add_record((now_s() - 100) * 1000 + 500);
  auto r = once();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_each_once(41);
  EXPECT_EQ(ids()[late], 1);
  EXPECT_NE(cursor().find("\"seen\":["), std::string::npos) << cursor();
  ASSERT_EQ(once().exit_code, 0);
  expect_each_once(41);
}

TEST_F(HttpJsonEndToEnd, TheDelayLeavesTheNewestSecondsForTheNextRun) {
  configure(with(base_options(), {{"cursor.delay_seconds", "3"}}));
  api_->add_records(10, now_s() - 100, 1);
  const std::string fresh = api_->add_record(siphon::imitation::now_ms());
  ASSERT_EQ(once("1h").exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 10u);
  EXPECT_EQ(ids().count(fresh), 0u) << "younger than the delay";
  std::this_thread::sleep_for(std::chrono::milliseconds(4200));
  ASSERT_EQ(once().exit_code, 0);
  expect_each_once(11);
}

TEST_F(HttpJsonEndToEnd, KilledMidPagingResumesFromTheSavedNextPage) {
  configure(base_options());
  api_->add_records(100, now_s() - 1000, 1);
  Fault slow;
  slow.delay_ms = 4000;
  api_->fail_pages_after(3, slow);
  pid_t pid = dir_.spawn({"once", kApp, "--since", "1h"}, "killed");
  ASSERT_TRUE(wait_until([&] { return pages() >= 4; }, 20));
  ASSERT_TRUE(wait_until(
      [&] {
        auto st = dir_.state(kApp);
        return st.IsObject() && st["events_total"].GetInt() == 30;
      },
      3));
  ::kill(pid, SIGKILL);
  EXPECT_EQ(wait_child(pid, 10), 128 + SIGKILL);
  const std::string saved = cursor();
  EXPECT_NE(saved.find("\"next\":\"" + api_->base_url() + "/v1/events?page_token="),
            std::string::npos)
      << saved;
  EXPECT_NE(saved.find("\"before\""), std::string::npos) << "the window is kept: " << saved;

  auto r = once();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto delivered = ids();
  EXPECT_EQ(delivered.size(), 100u) << "nothing lost";
  EXPECT_LE(dir_.event_lines() - delivered.size(), 10u) << "at most one page twice";
  EXPECT_EQ(pages(), 4u + 7u) << "the rerun read pages 4 to 10 only";
}

TEST_F(HttpJsonEndToEnd, RateLimitsAndServerErrorsAreRecovered) {
  configure(base_options());
  api_->add_records(50, now_s() - 1000, 1);
  Fault limited;
  limited.status = 429;
  limited.retry_after = "1";
  limited.count = 2;
  limited.body = R"({"errors":[{"code":"rate_limited","message":"Slow down"}]})";
  api_->inject(limited);
  Fault broken;
  broken.status = 500;
  broken.body = R"({"errors":[{"code":"server_error","message":"Oops"}]})";
  api_->fail_pages_after(2, broken);
  auto r = once("1h");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_each_once(50);

  Fault down;  // more failures than the host retries: the next run picks up
  down.status = 503;
  down.count = 50;
  add_new(40);
  api_->fail_pages_after(1, down);
  EXPECT_EQ(once().exit_code, 1);
  api_->fail_pages_after(-1, Fault{});
  ASSERT_EQ(once().exit_code, 0);
  EXPECT_EQ(ids().size(), 90u);
  EXPECT_LE(dir_.event_lines(), 100u) << "at most the page before the failure again";
}

// ---- request shapes and cursor kinds ------------------------------------

TEST_F(HttpJsonEndToEnd, PostWithABodyTemplateAndTheTokenInTheBody) {
  api_->set_paging(Api::Paging::kNextToken);
  api_->set_times(Api::Times::kEpochS);
  configure({{"url", "https://api.example.test/v1/events/search"},
             {"base_url", api_->base_url()},
             {"method", "POST"},
             {"body", R"({"since": {{start_time:epoch_s}}, "until": {{end_time:epoch_s}}, )"
                      R"("limit": {{page_size}}, "page_token": "{{page_token}}"})"},
             {"records", "data.items"},
             {"paging", "next_token"},
             {"paging.token_field", "paging.next_token"},
             {"paging.page_size", "7"},
             {"cursor.field", "created_at"},
             {"cursor.time_format", "epoch_s"}});
  api_->add_records(30, now_s() - 1000, 2);
  auto r = once("1h");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_each_once(30);
  EXPECT_EQ(api_->requests(Api::kSearchPath), 5u);
  auto last = api_->last_page_request();
  EXPECT_EQ(last.method, "POST");
  EXPECT_EQ(last.header("content-type"), "application/json");
  EXPECT_NE(last.body.find("\"page_token\": \""), std::string::npos) << last.body;
  EXPECT_EQ(last.body.find("\"page_token\": \"\""), std::string::npos) << last.body;
  add_new(4);
  ASSERT_EQ(once().exit_code, 0);
  expect_each_once(34);
}

TEST_F(HttpJsonEndToEnd, MillisecondTimesKeepTheirPrecision) {
  api_->set_times(Api::Times::kEpochMs);
  configure(with(base_options(), {{"query.since", "{{start_time:epoch_ms}}"},
                                  {"query.until", "{{end_time:epoch_ms}}"},
                                  {"cursor.time_format", "epoch_ms"}}));
  const int64_t t = (now_s() - 100) * 1000;
  for (int i = 0; i < 25; ++i) api_->add_record(t + i * 37);
  auto r = once("1h");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_each_once(25);
  EXPECT_EQ(siphon::testing::logged_newest_event_ms(r.err), t + 24 * 37) << r.err;
  const std::string late = api_->add_record(siphon::imitation::now_ms() - 5);
  ASSERT_EQ(once().exit_code, 0);
  expect_each_once(26);
  EXPECT_EQ(ids()[late], 1);
}

TEST_F(HttpJsonEndToEnd, AnIdCursorAsksForRecordsAfterTheGreatestIdDelivered) {
  api_->set_paging(Api::Paging::kNextToken);
  api_->set_times(Api::Times::kEpochS);
  configure({{"url", "https://api.example.test/v1/events"},
             {"base_url", api_->base_url()},
             {"query.after_seq", "{{cursor}}"},
             {"query.page_token", "{{page_token}}"},
             {"records", "data.items"},
             {"paging", "next_token"},
             {"paging.token_field", "paging.next_token"},
             {"cursor.type", "id"},
             {"cursor.field", "seq"},
             {"cursor.time_format", "epoch_s"},
             {"cursor.event_time_field", "created_at"}});
  const int64_t t0 = now_s() - 5000;
  api_->add_records(35, t0, 1);
  auto r = once();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_each_once(35);
  EXPECT_EQ(siphon::testing::logged_newest_event_ms(r.err), (t0 + 34) * 1000) << r.err;
  EXPECT_EQ(cursor(), R"({"last_id":35})");
  add_new(12);
  ASSERT_EQ(once().exit_code, 0);
  expect_each_once(47);
  EXPECT_EQ(cursor(), R"({"last_id":47})");
  auto last = api_->last_page_request();
  EXPECT_EQ(last.param("after_seq"), "35");
}

// ---- siphon check --------------------------------------------------------

TEST_F(HttpJsonEndToEnd, CheckNamesTheOptionOfEachMistakeWithoutNetworkOrSecrets) {
  configure(base_options());
  auto ok = dir_.siphon({"check"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;

  const std::vector<std::pair<Options, std::string>> cases{
      {{{"paging", "pages"}},
       "option paging: must be one of none, next_url, link_header, next_token, offset or page"},
      {{{"url", ""}}, "option url: required"},
      {{{"url", "ftp://files.example.test/x"}}, "option url: must be an absolute https:// URL"},
      {{{"url", "http://api.example.test/v1/events"}, {"base_url", ""}},
       "option url: plain http:// is allowed only for loopback hosts"},
      {{{"query.since", "{{strat_time}}"}},
       "option query.since: unknown template variable {{strat_time}}"},
      {{{"query.since", "{{start_time:epoch}}"}},
       "option query.since: unknown time format \"epoch\" in {{start_time:epoch}}"},
      {{{"query.since", "{{start_time"}}, "option query.since: unclosed {{ at character 1"},
      {{{"query.token", "{{page_token}}"}},
       "option query.token: {{page_token}} is set only with paging next_token"},
      {{{"paging", "next_token"}, {"paging.next_url_field", ""}},
       "option paging.token_field: required with paging next_token"},
      {{{"paging", "offset"}, {"paging.next_url_field", ""}, {"paging.page_size", "10"}},
       "option paging: offset needs {{offset}}"},
      {{{"paging", "page"}, {"paging.next_url_field", ""}, {"query.page", "{{page}}"}},
       "option paging.page_size: required with paging offset or page"},
      {{{"paging.token_field", "next"}}, "option paging.token_field: only with paging next_token"},
      {{{"body", "{}"}}, "option body: only with method POST"},
      {{{"method", "POST"}, {"body", R"({"since": {{start_time}})"}},
       "option body: not valid JSON once its variables are filled in"},
      {{{"method", "PUT"}}, "option method: must be GET or POST"},
      {{{"cursor.field", ""}}, "option cursor.field: required"},
      {{{"cursor.type", "number"}}, "option cursor.type: must be time or id"},
      {{{"cursor.lookback_seconds", "-5"}}, "option cursor.lookback_seconds: must be 0 to"},
      {{{"cursor.delay_seconds", "soon"}}, "option cursor.delay_seconds: \"soon\" is not a whole"},
      {{{"cursor.type", "id"}}, "option query.since: {{start_time}} needs cursor.type time"},
      {{{"records", "data..items"}}, "option records: \"data..items\" is not a dotted path"},
      {{{"auth.style", "digest"}},
       "option auth.style: must be one of bearer, basic, header or oauth2"},
      {{{"auth.style", "header"}}, "option auth.header: required with auth.style header"},
      {{{"auth.style", "oauth2"}}, "option auth.token_url: required with auth.style oauth2"},
      {{{"auth.header", "X-Key"}}, "option auth.header: only with auth.style header"},
      {{{"header.Authorization", "Token x"}},
       "option header.Authorization: conflicts with auth.style bearer"},
      {{{"header.Bad Name", "x"}}, "option header.Bad Name: \"Bad Name\" is not a header name"},
      {{{"auth.token_regex", "^(tok_"}}, "option auth.token_regex: not a valid regular expression"},
      {{{"pagin", "next_url"}}, "field options.pagin: not an option of http_json"},
      {{{"queries.x", "1"}}, "field options.queries.x: not an option of http_json"},
  };
  for (const auto& [changes, expected] : cases) {
    configure(with(base_options(), changes));
    auto r = dir_.siphon({"check"});
    EXPECT_EQ(r.exit_code, 1) << expected;
    EXPECT_NE(r.out.find("app corp-api: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(expected), std::string::npos) << "expected: " << expected << "\n" << r.out;
  }

  // The regex an operator declares for the token: checked, the value never shown.
  configure(with(base_options(), {{"auth.token_regex", "^tok_[A-Za-z0-9]{32}$"}}));
  EXPECT_EQ(dir_.siphon({"check"}).exit_code, 0);
  const std::string bad = "tok_short_but_secret";
  dir_.write("secrets/token", bad, 0600);
  auto r = dir_.siphon({"check"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("auth field token: value does not match option auth.token_regex"),
            std::string::npos)
      << r.out;
  EXPECT_EQ((r.out + r.err).find(bad), std::string::npos) << "token printed";
  // The auth fields that the style needs, and only those.
  dir_.write("secrets/token", api_->credentials().token, 0600);
  configure(with(base_options(), {{"auth.style", "basic"}}),
            "      username: ${file:secrets/username}\n");
  EXPECT_NE(dir_.siphon({"check"}).out.find("auth field password: required with auth.style basic"),
            std::string::npos);
  configure(base_options(),
            "      token: ${file:secrets/token}\n      password: ${file:secrets/password}\n");
  EXPECT_NE(dir_.siphon({"check"}).out.find("auth field password: not used with auth.style bearer"),
            std::string::npos);
  EXPECT_EQ(api_->requests(), 0u) << "check uses no network";
}

// ---- the shipped example: Intercom through http_json ---------------------

// packaging/examples/http-json-intercom.yaml with what a test changes: the
// secret's folder, the Intercom imitation as base_url, and no delay (so that
// a second run a moment later has a window to read).
std::string intercom_example(const std::string& base_url) {
  std::ifstream in(std::string(SIPHON_SOURCE_DIR) + "/packaging/examples/http-json-intercom.yaml");
  std::stringstream text;
  text << in.rdbuf();
  std::string yaml = text.str();
  EXPECT_FALSE(yaml.empty()) << "example not found";
  auto replace = [&](const std::string& from, const std::string& to) {
    const size_t at = yaml.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) yaml.replace(at, from.size(), to);
  };
  replace("apps:\n", "");
  replace("${file:/etc/siphon/secrets/", "${file:secrets/");
  replace("    options:\n", "    options:\n      base_url: " + base_url + "\n");
  replace("cursor.delay_seconds: \"60\"", "cursor.delay_seconds: \"0\"");
  return yaml;
}

TEST(HttpJsonIntercomExample, DeliversWhatTheIntercomTypeDelivers) {
  const std::string token = IntercomImitation::make_token();
  IntercomImitation intercom(token);
  intercom.set_page_size(20);
  intercom.start();
  Workdir dir;
  dir.write("secrets/corp-intercom-json.token", token + "\n", 0600);
  dir.write_config(intercom_example(intercom.base_url()) +
                   "  - name: corp-intercom\n"
                   "    type: intercom_admin_activity_logs\n"
                   "    auth:\n"
                   "      token: ${file:secrets/corp-intercom-json.token}\n"
                   "    options:\n"
                   "      base_url: " +
                   intercom.base_url() +
                   "\n"
                   "      delay_seconds: \"0\"\n");
  auto check = dir.siphon({"check"});
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;

  const int64_t now_s = siphon::imitation::now_ms() / 1000;
  intercom.add_activities(95, now_s - 3000, 2);  // two a second: ids at the edge matter
  const size_t before = intercom.requests();
  auto r = dir.siphon({"once", "corp-intercom-json", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(intercom.requests() - before, 5u) << "20 a page, 95 activities";
  EXPECT_EQ(intercom.last_version(), "2.11");
  ASSERT_EQ(dir.siphon({"once", "corp-intercom", "--since", "2h"}).exit_code, 0);
  ASSERT_EQ(dir.siphon({"once", "corp-intercom-json"}).exit_code, 0);

  // New activities, stamped now: after the end of every window read so far.
  intercom.add_activities(30, siphon::imitation::now_ms() / 1000, 30);
  next_second();
  for (const char* app : {"corp-intercom-json", "corp-intercom"}) {
    auto again = dir.siphon({"once", app});
    ASSERT_EQ(again.exit_code, 0) << again.err;
  }

  std::map<std::string, std::map<std::string, std::string>> events;  // app -> id -> event
  std::map<std::string, int> lines;
  for (const auto& rec : dir.events()) {
    const std::string app = rec["app"].GetString();
    ++lines[app];
    events[app][rec["event"]["id"].GetString()] = compact(rec["event"]);
  }
  EXPECT_EQ(events["corp-intercom-json"].size(), 125u);
  EXPECT_EQ(lines["corp-intercom-json"], 125) << "each activity exactly once";
  EXPECT_EQ(lines["corp-intercom"], 125);
  EXPECT_TRUE(events["corp-intercom-json"] == events["corp-intercom"])
      << "the same activities, byte for byte";
  for (const auto& rec : dir.events()) {
    if (std::string(rec["app"].GetString()) == "corp-intercom-json") {
      EXPECT_STREQ(rec["type"].GetString(), "http_json");
    }
  }
}

}  // namespace
