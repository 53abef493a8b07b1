// gsuite_* end to end: the real host and siphon-gsuite.so against the local
// Google Workspace imitation (service-account JWT verified, Reports
// activities newest first, page tokens, reporting lag, Google's errors).
#include <gtest/gtest.h>
#include <signal.h>

#include <set>
#include <thread>

#include "gsuite_imitation.hpp"
#include "harness.hpp"

using siphon::imitation::Fault;
using siphon::imitation::GsuiteImitation;
using siphon::testing::Workdir;

namespace {

// The next `count` Reports API answers each take `delay_ms`.
Fault slow_pages(int delay_ms, int count) {
  Fault f;
  f.delay_ms = delay_ms;
  f.count = count;
  f.path_prefix = "/admin/";
  return f;
}

const char* const kTypes[] = {"access_transparency",
                              "admin",
                              "calendar",
                              "drive",
                              "gcp",
                              "groups",
                              "groups_enterprise",
                              "gplus",
                              "login",
                              "meet",
                              "mobile",
                              "rules",
                              "saml",
                              "token",
                              "user_accounts"};

// id.uniqueQualifier -> how often it was delivered, over the records of one app.
std::map<std::string, int> qualifiers(const std::vector<rapidjson::Document>& records,
                                      const std::string& app) {
  std::map<std::string, int> counts;
  for (const auto& r : records)
    if (app == r["app"].GetString()) ++counts[r["event"]["id"]["uniqueQualifier"].GetString()];
  return counts;
}

class GsuiteEndToEnd : public ::testing::Test {
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
    dir_.write("secrets/gsuite.json", key_->json, 0600);
    configure();
  }

  // One app per (name, type) pair, all reading secrets/gsuite.json.
  std::string app_yaml(const std::string& name, const std::string& type,
                       const std::string& options = "",
                       const std::string& delegation = "admin@example.com") {
    return "  - name: " + name + "\n    type: gsuite_" + type +
           "\n    auth:\n      keyfile: ${file:secrets/gsuite.json}\n      delegation_email: " +
           delegation + "\n    options:\n      base_url: " + google_->base_url() + "\n" + options;
  }
  void configure(const std::string& options = "      max_results: \"50\"\n",
                 const std::string& delegation = "admin@example.com") {
    dir_.write_config(app_yaml("corp-admin", "admin", options, delegation) +
                      app_yaml("corp-login", "login", options, delegation));
  }
  std::map<std::string, int> delivered(const std::string& app) {
    return qualifiers(dir_.events(), app);
  }
  static std::set<std::string> as_set(const std::vector<std::string>& v) {
    return {v.begin(), v.end()};
  }
  static std::set<std::string> keys(const std::map<std::string, int>& m) {
    std::set<std::string> out;
    for (const auto& [k, n] : m) out.insert(k);
    return out;
  }
  static void expect_once(const std::map<std::string, int>& m) {
    for (const auto& [k, n] : m) EXPECT_EQ(n, 1) << k;
  }
  static rapidjson::Document cursor_of(const rapidjson::Document& state) {
    rapidjson::Document c;
    if (state.HasMember("cursor") && state["cursor"].IsString())
      c.Parse(state["cursor"].GetString());
    return c;
  }
  int64_t now() const { return siphon::imitation::now_ms(); }

  static GsuiteImitation::Keyfile* key_;
  static GsuiteImitation::Keyfile* stranger_;
  Workdir dir_;
  std::unique_ptr<GsuiteImitation> google_;
};

GsuiteImitation::Keyfile* GsuiteEndToEnd::key_ = nullptr;
GsuiteImitation::Keyfile* GsuiteEndToEnd::stranger_ = nullptr;

TEST_F(GsuiteEndToEnd, PluginsListsAllFifteenTypesWithStreamAlertsAuthFields) {
  auto r = dir_.siphon({"plugins", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  rapidjson::Document doc;
  doc.Parse(r.out.c_str());
  ASSERT_FALSE(doc.HasParseError()) << r.out;
  std::set<std::string> types;
  for (const auto& plugin : doc["plugins"].GetArray()) {
    if (std::string(plugin["name"].GetString()) != "siphon-gsuite") continue;
    for (const auto& t : plugin["app_types"].GetArray()) {
      types.insert(t["type"].GetString());
      EXPECT_STREQ(t["service"].GetString(), "gsuite");
      ASSERT_EQ(t["auth_fields"].Size(), 2u);
      EXPECT_STREQ(t["auth_fields"][0]["name"].GetString(), "keyfile");
      EXPECT_TRUE(t["auth_fields"][0]["secret"].GetBool());
      EXPECT_STREQ(t["auth_fields"][1]["name"].GetString(), "delegation_email");
    }
  }
  std::set<std::string> expected;
  for (const char* t : kTypes) expected.insert(std::string("gsuite_") + t);
  EXPECT_EQ(types, expected);
}

TEST_F(GsuiteEndToEnd, EachOfTheFifteenTypesReadsItsOwnApplicationInOneOnceRun) {
  std::string apps;
  std::map<std::string, std::set<std::string>> expected;
  for (const char* t : kTypes) {
    apps += app_yaml(std::string("corp-") + t, t);
    auto uqs = google_->add_activities(t, 3, now() - 1800 * 1000);
    expected[std::string("corp-") + t] = as_set(uqs);
  }
  google_->add_activities("chat", 5, now() - 1800 * 1000);  // no type reads it
  dir_.write_config(apps);
  for (const char* t : kTypes) {
    const std::string app = std::string("corp-") + t;
    auto r = dir_.siphon({"once", app, "--since", "1h"});
    ASSERT_EQ(r.exit_code, 0) << app << ": " << r.err;
  }
  auto records = dir_.events();
  ASSERT_EQ(records.size(), 45u);
  for (const auto& rec : records) {
    const std::string app = rec["app"].GetString();
    const std::string type = rec["type"].GetString();
    EXPECT_EQ(type, "gsuite_" + app.substr(5));
    EXPECT_STREQ(rec["service"].GetString(), "gsuite");
    EXPECT_EQ(std::string(rec["event"]["id"]["applicationName"].GetString()), app.substr(5));
  }
  for (const auto& [app, uqs] : expected) EXPECT_EQ(keys(delivered(app)), uqs) << app;
}

TEST_F(GsuiteEndToEnd, FirstRunDeliversEveryActivityOnceAcrossPagesOfOneWindow) {
  const int64_t t0 = now() - 3600 * 1000;
  auto uqs = google_->add_activities("admin", 230, t0, 10 * 1000);
  auto r = dir_.siphon({"once", "corp-admin", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(siphon::testing::logged_newest_event_ms(r.err), t0 + 229 * 10 * 1000, 1000) << r.err;
  auto records = dir_.events();
  ASSERT_EQ(records.size(), 230u);
  auto got = delivered("corp-admin");
  EXPECT_EQ(keys(got), as_set(uqs));
  expect_once(got);
  const auto& rec = records.front();
  ASSERT_EQ(rec.MemberCount(), 5u);
  EXPECT_STREQ(rec["type"].GetString(), "gsuite_admin");
  EXPECT_STREQ(rec["service"].GetString(), "gsuite");
  EXPECT_STREQ(rec["event"]["kind"].GetString(), "admin#reports#activity");
  EXPECT_EQ(std::string(rec["collected_at"].GetString()).size(), 24u);
  // One token; five pages of one window, every page with the same window.
  EXPECT_EQ(google_->issued_tokens(), 1);
  auto queries = google_->activity_queries();
  ASSERT_EQ(queries.size(), 5u);
  auto param = [](const auto& q, const std::string& name) {
    for (const auto& [k, v] : q)
      if (k == name) return v;
    return std::string();
  };
  for (const auto& q : queries) {
    EXPECT_EQ(param(q, "startTime"), param(queries[0], "startTime"));
    EXPECT_EQ(param(q, "endTime"), param(queries[0], "endTime"));
    EXPECT_EQ(param(q, "maxResults"), "50");
  }
  EXPECT_TRUE(param(queries[0], "pageToken").empty());
  EXPECT_FALSE(param(queries[4], "pageToken").empty());
  auto st = dir_.state("corp-admin");
  EXPECT_STREQ(st["status"].GetString(), "succeeded");
  auto cursor = cursor_of(st);
  ASSERT_TRUE(cursor.IsObject());
  EXPECT_TRUE(cursor.HasMember("lower"));
  EXPECT_FALSE(cursor.HasMember("window"));
}

TEST_F(GsuiteEndToEnd, ASecondRunDeliversOnlyNewActivities) {
  auto first = google_->add_activities("login", 120, now() - 1800 * 1000, 5 * 1000);
  ASSERT_EQ(dir_.siphon({"once", "corp-login", "--since", "1h"}).exit_code, 0);
  ASSERT_EQ(dir_.event_lines(), 120u);
  auto again = dir_.siphon({"once", "corp-login"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(dir_.event_lines(), 120u) << "nothing new, nothing delivered";
  auto second = google_->add_activities("login", 40, now() - 1000, 1);
  ASSERT_EQ(dir_.siphon({"once", "corp-login"}).exit_code, 0);
  auto got = delivered("corp-login");
  EXPECT_EQ(dir_.event_lines(), 160u);
  auto all = as_set(first);
  all.insert(second.begin(), second.end());
  EXPECT_EQ(keys(got), all);
  expect_once(got);
}

TEST_F(GsuiteEndToEnd, RateLimitsAndBackendErrorsAreRetriedWithoutLoss) {
  auto uqs = google_->add_activities("admin", 200, now() - 3600 * 1000, 1000);
  google_->fail_activities_call(2, 429, GsuiteImitation::exhausted_body());
  google_->fail_activities_call(3, 503, GsuiteImitation::backend_error_body(), 2);
  auto r = dir_.siphon({"once", "corp-admin", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto got = delivered("corp-admin");
  EXPECT_EQ(keys(got), as_set(uqs));
  expect_once(got);
  EXPECT_EQ(dir_.event_lines(), 200u);
  EXPECT_EQ(google_->activity_queries().size(), 4u);  // four pages answered
  EXPECT_EQ(google_->requests("/admin/"), 4u + 3u);   // and three faults retried
}

TEST_F(GsuiteEndToEnd, A403QuotaErrorFailsTheRunAndTheNextRunResumesTheWindow) {
  auto uqs = google_->add_activities("admin", 200, now() - 3600 * 1000, 1000);
  google_->fail_activities_call(
      3, 403,
      GsuiteImitation::error_body(403, "PERMISSION_DENIED", "quotaExceeded",
                                  "Quota exceeded for the project.", "usageLimits"));
  auto r = dir_.siphon({"once", "corp-admin", "--since", "2h"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("quotaExceeded"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("retry at next run"), std::string::npos) << r.err;
  EXPECT_EQ(dir_.event_lines(), 100u);
  ASSERT_EQ(dir_.siphon({"once", "corp-admin"}).exit_code, 0);
  auto got = delivered("corp-admin");
  EXPECT_EQ(keys(got), as_set(uqs));
  expect_once(got);
}

TEST_F(GsuiteEndToEnd, AnotherKeyFailsWithoutDeliveringOrMovingTheCursor) {
  google_->add_activities("admin", 30, now() - 1800 * 1000);
  ASSERT_EQ(dir_.siphon({"once", "corp-admin", "--since", "1h"}).exit_code, 0);
  const std::string cursor_before = dir_.state("corp-admin")["cursor"].GetString();
  google_->add_activities("admin", 30, now() - 1000, 1);
  // A key Google does not know for this account, with the account's ids.
  std::string forged = stranger_->json;
  for (size_t p; (p = forged.find(stranger_->account.private_key_id)) != std::string::npos;)
    forged.replace(p, stranger_->account.private_key_id.size(), key_->account.private_key_id);
  dir_.write("secrets/gsuite.json", forged, 0600);
  auto r = dir_.siphon({"once", "corp-admin"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("credentials refused"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Invalid JWT Signature"), std::string::npos) << r.err;
  EXPECT_EQ(dir_.event_lines(), 30u);
  auto st = dir_.state("corp-admin");
  EXPECT_STREQ(st["status"].GetString(), "failed");
  EXPECT_EQ(cursor_before, st["cursor"].GetString());
  EXPECT_EQ((r.out + r.err).find("PRIVATE KEY"), std::string::npos);
  // The right key again: the 30 new activities, nothing twice.
  dir_.write("secrets/gsuite.json", key_->json, 0600);
  ASSERT_EQ(dir_.siphon({"once", "corp-admin"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 60u);
  expect_once(delivered("corp-admin"));
}

TEST_F(GsuiteEndToEnd, ANonAdminOrUnknownDelegationEmailIsRefused) {
  google_->add_activities("admin", 10, now() - 1800 * 1000);
  configure("", "jdoe@example.com");
  auto user = dir_.siphon({"once", "corp-admin", "--since", "1h"});
  EXPECT_EQ(user.exit_code, 1);
  EXPECT_NE(user.err.find("credentials refused"), std::string::npos) << user.err;
  EXPECT_NE(user.err.find("Not Authorized to access this resource/api"), std::string::npos);
  configure("", "nobody@example.com");
  auto unknown = dir_.siphon({"once", "corp-admin", "--since", "1h"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("Invalid email or User ID"), std::string::npos) << unknown.err;
  google_->set_delegation_granted(false);
  configure("");
  auto undelegated = dir_.siphon({"once", "corp-admin", "--since", "1h"});
  EXPECT_EQ(undelegated.exit_code, 1);
  EXPECT_NE(undelegated.err.find("unauthorized_client"), std::string::npos) << undelegated.err;
  EXPECT_EQ(dir_.event_lines(), 0u);
}

TEST_F(GsuiteEndToEnd, A401GetsOneFreshTokenAndASecondOneIsRefused) {
  auto uqs = google_->add_activities("admin", 120, now() - 1800 * 1000, 1000);
  const std::string unauthenticated = GsuiteImitation::error_body(
      401, "UNAUTHENTICATED", "authError", "Request had invalid authentication credentials.");
  google_->fail_activities_call(2, 401, unauthenticated);
  ASSERT_EQ(dir_.siphon({"once", "corp-admin", "--since", "1h"}).exit_code, 0);
  EXPECT_EQ(google_->issued_tokens(), 2);
  EXPECT_EQ(keys(delivered("corp-admin")), as_set(uqs));
  google_->add_activities("admin", 10, now() - 1000, 1);
  google_->fail_activities_call(1, 401, unauthenticated, 2);
  auto r = dir_.siphon({"once", "corp-admin"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("credentials refused"), std::string::npos) << r.err;
  EXPECT_EQ(dir_.event_lines(), 120u);
}

TEST_F(GsuiteEndToEnd, ATokenThatDiesEarlyIsReplacedWithinTheRun) {
  google_->set_token_lifetime_seconds(1);  // still says expires_in 3599
  auto uqs = google_->add_activities("login", 150, now() - 1800 * 1000, 1000);
  google_->inject(slow_pages(400, 3));  // the first pages take 1.2 s
  auto r = dir_.siphon({"once", "corp-login", "--since", "1h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(google_->issued_tokens(), 2);
  EXPECT_EQ(keys(delivered("corp-login")), as_set(uqs));
  EXPECT_EQ(dir_.event_lines(), 150u);
}

TEST_F(GsuiteEndToEnd, CheckRefusesBadAuthValuesNamingTheFieldWithoutPrintingThem) {
  struct Case {
    std::string keyfile;
    std::string delegation;
    bool ok;
    std::string field;
    std::string says;
  };
  std::string user_key = R"({"type":"authorized_user","client_id":"x","refresh_token":"r"})";
  std::string broken = key_->json;
  broken.replace(broken.find("BEGIN PRIVATE KEY-----\\n") + 24, 40, std::string(40, 'A'));
  std::string no_email = R"({"type":"service_account","private_key":"x"})";
  const std::vector<Case> cases = {
      {key_->json, "admin@example.com", true, "", ""},
      {key_->json, "first.last+audit@corp-mail.example.co.uk", true, "", ""},
      {key_->json, "ops_admin-2@example.io", true, "", ""},
      {"/etc/siphon/gsuite-key.json", "admin@example.com", false, "auth.keyfile", "does not match"},
      {user_key, "admin@example.com", false, "keyfile", "service_account"},
      {broken, "admin@example.com", false, "keyfile", "private_key"},
      {no_email, "admin@example.com", false, "keyfile", "client_email is missing"},
      {key_->json, "admin@localhost", false, "auth.delegation_email", "does not match"},
      {key_->json, "not-an-email", false, "auth.delegation_email", "does not match"},
      {key_->json, "a b@example.com", false, "auth.delegation_email", "does not match"},
      {key_->json, "admin@example.c", false, "auth.delegation_email", "does not match"},
  };
  for (const auto& c : cases) {
    dir_.write("secrets/gsuite.json", c.keyfile, 0600);
    dir_.write_config(app_yaml("corp-admin", "admin", "", "\"" + c.delegation + "\""));
    auto r = dir_.siphon({"check"});
    const std::string all = r.out + r.err;
    if (c.ok) {
      EXPECT_EQ(r.exit_code, 0) << c.delegation << ": " << all;
      continue;
    }
    EXPECT_EQ(r.exit_code, 1) << c.field << " " << c.delegation << ": " << all;
    EXPECT_NE(all.find(c.field), std::string::npos) << all;
    EXPECT_NE(all.find(c.says), std::string::npos) << all;
    EXPECT_EQ(all.find(c.delegation), std::string::npos) << all;
    EXPECT_EQ(all.find("PRIVATE KEY"), std::string::npos) << all;
    EXPECT_EQ(all.find("/etc/siphon/gsuite-key.json"), std::string::npos) << all;
  }
}

TEST_F(GsuiteEndToEnd, AnExpiredPageTokenRereadsTheWindowInsteadOfStickingOnIt) {
  auto uqs = google_->add_activities("admin", 200, now() - 3600 * 1000, 1000);
  google_->fail_activities_call(3, 403, GsuiteImitation::rate_limit_body());
  EXPECT_EQ(dir_.siphon({"once", "corp-admin", "--since", "2h"}).exit_code, 1);
  EXPECT_EQ(dir_.event_lines(), 100u);
  google_->expire_page_tokens();
  auto r = dir_.siphon({"once", "corp-admin"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("page token was refused"), std::string::npos) << r.err;
  auto got = delivered("corp-admin");
  EXPECT_EQ(keys(got), as_set(uqs)) << "nothing lost; the first pages may come twice";
  EXPECT_LE(dir_.event_lines(), 300u);
  auto cursor = cursor_of(dir_.state("corp-admin"));
  EXPECT_TRUE(cursor.HasMember("lower"));
  EXPECT_FALSE(cursor.HasMember("window"));
}

TEST_F(GsuiteEndToEnd, DelayAndABoundedDedupeSetAreHonoured) {
  // Activities of the last 30 s are left for a later run with delay_seconds.
  auto old = google_->add_activities("login", 60, now() - 1800 * 1000, 1000);
  auto recent = google_->add_activities("login", 5, now() - 5 * 1000, 1);
  configure("      delay_seconds: \"30\"\n      dedupe_max: \"10\"\n");
  ASSERT_EQ(dir_.siphon({"once", "corp-login", "--since", "1h"}).exit_code, 0);
  EXPECT_EQ(keys(delivered("corp-login")), as_set(old));
  auto cursor = cursor_of(dir_.state("corp-login"));
  ASSERT_TRUE(cursor.HasMember("seen"));
  EXPECT_EQ(cursor["seen"].Size(), 10u) << "the dedupe set stays within dedupe_max";
  // The next run re-reads the lookback: beyond the ten remembered ids, older
  // ones come again (said in a warning), but nothing is lost.
  configure("      dedupe_max: \"10\"\n");
  auto r = dir_.siphon({"once", "corp-login"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("dedupe_max"), std::string::npos) << r.err;
  auto got = delivered("corp-login");
  auto all = as_set(old);
  all.insert(recent.begin(), recent.end());
  EXPECT_EQ(keys(got), all);
  for (const auto& uq : recent) EXPECT_EQ(got[uq], 1);
  EXPECT_EQ(got[old.back()], 1) << "the newest one was remembered";
}

// StreamAlert kept the page token in memory only: a run stopped mid-pagination
// restarted from the newest time and skipped the older pages.
TEST_F(GsuiteEndToEnd, StreamAlertBug_AKilledRunResumesMidWindowWithoutSkippingOlderPages) {
  auto uqs = google_->add_activities("admin", 400, now() - 3600 * 1000, 1000);
  google_->inject(slow_pages(250, 1000));  // slow pages
  pid_t pid = dir_.spawn({"once", "corp-admin", "--since", "2h"}, "killed");
  for (int i = 0; i < 400 && dir_.event_lines() < 100; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_GE(dir_.event_lines(), 100u);
  ::kill(pid, SIGKILL);
  EXPECT_EQ(siphon::testing::wait_child(pid, 10), 128 + SIGKILL);
  const size_t before = dir_.event_lines();
  ASSERT_LT(before, 400u) << "the run was meant to be stopped mid-window";
  auto cursor = cursor_of(dir_.state("corp-admin"));
  ASSERT_TRUE(cursor.IsObject());
  ASSERT_TRUE(cursor.HasMember("window"));
  EXPECT_FALSE(std::string(cursor["window"]["page"].GetString()).empty());
  EXPECT_FALSE(cursor.HasMember("lower")) << "no lower bound before the window is read";
  google_->clear_faults();
  auto r = dir_.siphon({"once", "corp-admin"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto got = delivered("corp-admin");
  EXPECT_EQ(keys(got), as_set(uqs));
  EXPECT_LE(dir_.event_lines(), 450u) << "at most the page in flight twice";
}

// StreamAlert took the newest id.time of the first page as the checkpoint: a
// failure on a later page moved it past the pages not yet read.
TEST_F(GsuiteEndToEnd, StreamAlertBug_TheCheckpointMovesOnlyAfterTheWholeWindowIsRead) {
  auto uqs = google_->add_activities("admin", 400, now() - 3600 * 1000, 1000);
  google_->fail_activities_call(4, 403, GsuiteImitation::rate_limit_body(), 100);
  auto r = dir_.siphon({"once", "corp-admin", "--since", "2h"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("rateLimitExceeded"), std::string::npos) << r.err;
  EXPECT_EQ(dir_.event_lines(), 150u);
  auto st = dir_.state("corp-admin");
  EXPECT_STREQ(st["status"].GetString(), "failed");
  auto cursor = cursor_of(st);
  ASSERT_TRUE(cursor.HasMember("window"));
  EXPECT_FALSE(cursor.HasMember("lower"));
  google_->clear_activities_failures();
  ASSERT_EQ(dir_.siphon({"once", "corp-admin"}).exit_code, 0);
  auto got = delivered("corp-admin");
  EXPECT_EQ(keys(got), as_set(uqs));
  expect_once(got);
  EXPECT_EQ(dir_.event_lines(), 400u);
}

// StreamAlert's next startTime was the newest time it had seen: activities that
// Google reported late, with older times, were never read.
TEST_F(GsuiteEndToEnd, StreamAlertBug_LateActivitiesWithOlderTimesAreNotMissed) {
  auto early = google_->add_activities("login", 100, now() - 1800 * 1000, 1000);
  ASSERT_EQ(dir_.siphon({"once", "corp-login", "--since", "1h"}).exit_code, 0);
  ASSERT_EQ(dir_.event_lines(), 100u);
  google_->set_reporting_lag_ms(1500);
  auto late = google_->add_activities("login", 30, now() - 300 * 1000, 1000);  // 5 min ago
  ASSERT_EQ(dir_.siphon({"once", "corp-login"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 100u) << "not visible yet";
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  ASSERT_EQ(dir_.siphon({"once", "corp-login"}).exit_code, 0);
  auto got = delivered("corp-login");
  auto all = as_set(early);
  all.insert(late.begin(), late.end());
  EXPECT_EQ(keys(got), all);
  expect_once(got);
  EXPECT_EQ(dir_.event_lines(), 130u);
}

// StreamAlert remembered at most 100 uniqueQualifiers of the newest id.time;
// past that, activities sharing the boundary time were delivered again.
TEST_F(GsuiteEndToEnd, StreamAlertBug_ManyActivitiesSharingTheNewestTimeAreNotDeliveredTwice) {
  const int64_t t = (now() - 60 * 1000) / 1000 * 1000;
  google_->add_activities("admin", 20, t - 600 * 1000, 1000);
  auto same = google_->add_activities("admin", 150, t, 0);
  ASSERT_EQ(dir_.siphon({"once", "corp-admin", "--since", "1h"}).exit_code, 0);
  ASSERT_EQ(dir_.event_lines(), 170u);
  ASSERT_EQ(dir_.siphon({"once", "corp-admin"}).exit_code, 0);
  ASSERT_EQ(dir_.siphon({"once", "corp-admin"}).exit_code, 0);
  auto got = delivered("corp-admin");
  EXPECT_EQ(got.size(), 170u);
  expect_once(got);
  EXPECT_EQ(dir_.event_lines(), 170u);
  for (const auto& uq : same) EXPECT_EQ(got[uq], 1);
}

// StreamAlert 3 saved the key file's path instead of its JSON; Siphon's
// keyfile holds the JSON itself and refuses a path, naming the field.
TEST_F(GsuiteEndToEnd, StreamAlertBug_AKeyFilePathInsteadOfItsJsonIsRefusedByCheck) {
  dir_.write_config(
      "  - name: corp-admin\n    type: gsuite_admin\n    auth:\n"
      "      keyfile: secrets/gsuite.json\n      delegation_email: admin@example.com\n");
  auto r = dir_.siphon({"check"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE((r.out + r.err).find("field auth.keyfile"), std::string::npos) << r.out << r.err;
  EXPECT_EQ((r.out + r.err).find("secrets/gsuite.json"), std::string::npos) << r.out << r.err;
  auto run = dir_.siphon({"once", "corp-admin"});
  EXPECT_NE(run.exit_code, 0);
}

}  // namespace
