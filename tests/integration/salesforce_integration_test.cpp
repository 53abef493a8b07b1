// salesforce_* end to end: the real host and siphon-salesforce.so against the
// local Salesforce imitation (OAuth grants checked, sessions that expire,
// SOQL batches with nextRecordsUrl, quoted CSV log files).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <map>
#include <set>
#include <thread>

#include "harness.hpp"
#include "salesforce_imitation.hpp"

using siphon::imitation::Fault;
using siphon::imitation::SalesforceImitation;
using siphon::testing::count_by;
using siphon::testing::Workdir;

namespace {

constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kDay = 24 * kHour;

int64_t now() { return siphon::imitation::now_ms(); }
// Midnight UTC of the day `days_ago` days back: a daily file's LogDate.
int64_t day_start(int days_ago) { return (now() / kDay - days_ago) * kDay; }

class SalesforceEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    creds_ = SalesforceImitation::make_credentials();
    sf_ = std::make_unique<SalesforceImitation>(creds_);
    sf_->set_batch_size(2);
    sf_->start();
    write_secrets(creds_);
    configure();
  }

  void write_secrets(const SalesforceImitation::Credentials& c) {
    dir_.write("secrets/sf.client_id", c.client_id, 0600);
    dir_.write("secrets/sf.client_secret", c.client_secret, 0600);
    dir_.write("secrets/sf.password", c.password, 0600);
    dir_.write("secrets/sf.security_token", c.security_token, 0600);
  }

  // One app; password flow unless `client_credentials`.
  std::string app_yaml(const std::string& name, const std::string& type, const std::string& options,
                       bool client_credentials = false) {
    std::string yaml = "  - name: " + name + "\n    type: " + type +
                       "\n    auth:\n"
                       "      client_id: ${file:secrets/sf.client_id}\n"
                       "      client_secret: ${file:secrets/sf.client_secret}\n";
    if (!client_credentials)
      yaml += "      username: " + creds_.username +
              "\n"
              "      password: ${file:secrets/sf.password}\n"
              "      security_token: ${file:secrets/sf.security_token}\n";
    return yaml + "    options:\n      base_url: " + sf_->base_url() + "\n" + options;
  }

  void configure(const std::string& options = "      rows_per_poll: \"50\"\n",
                 bool client_credentials = false) {
    dir_.write_config(app_yaml("corp-sf", "salesforce_login", options, client_credentials));
  }

  // Adds a Login file with `rows` rows whose REQUEST_IDs start with `prefix`.
  std::string add_login(size_t rows, int64_t log_date_ms, int64_t created_ms,
                        const std::string& prefix, const std::string& type = "Login",
                        const std::string& interval = "Daily") {
    auto f = SalesforceImitation::make_log_file(type, rows, log_date_ms, created_ms, prefix);
    f.interval = interval;
    return sf_->add_log_file(f);
  }

  std::map<std::string, int> request_ids(const std::string& app = "corp-sf") {
    return count_by(dir_.events(), app, "REQUEST_ID");
  }

  static std::set<std::string> expected_ids(const std::string& prefix, size_t rows) {
    std::set<std::string> out;
    for (size_t i = 0; i < rows; ++i) out.insert(prefix + std::to_string(i));
    return out;
  }

  static void expect_exactly_once(const std::map<std::string, int>& seen,
                                  const std::set<std::string>& want) {
    EXPECT_EQ(seen.size(), want.size());
    for (const auto& id : want) {
      auto it = seen.find(id);
      if (it == seen.end()) {
        ADD_FAILURE() << "row " << id << " was never delivered";
        return;
      }
      EXPECT_EQ(it->second, 1) << "row " << id;
    }
  }

  Workdir dir_;
  SalesforceImitation::Credentials creds_;
  std::unique_ptr<SalesforceImitation> sf_;
};

std::set<std::string> join(std::set<std::string> a, const std::set<std::string>& b) {
  a.insert(b.begin(), b.end());
  return a;
}

TEST_F(SalesforceEndToEnd, FirstRunDeliversEveryRowOnceInTheRecordShape) {
  add_login(120, day_start(2), now() - 30 * kHour, "a-");
  add_login(0, day_start(1), now() - 20 * kHour, "empty-");  // a header-only file
  add_login(75, day_start(1), now() - 6 * kHour, "b-");
  add_login(40, day_start(1), now() - 5 * kHour, "hourly-", "Login", "Hourly");
  add_login(30, day_start(1), now() - 4 * kHour, "loginas-", "LoginAs");
  add_login(60, day_start(5), now() - 5 * kDay, "too-old-");
  auto r = dir_.siphon({"once", "corp-sf", "--since", "3d"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // TIMESTAMP_DERIVED of the rows: within the log files' days.
  EXPECT_GE(siphon::testing::logged_newest_event_ms(r.err), day_start(2)) << r.err;
  EXPECT_LE(siphon::testing::logged_newest_event_ms(r.err), now()) << r.err;
  expect_exactly_once(request_ids(), join(expected_ids("a-", 120), expected_ids("b-", 75)));

  auto records = dir_.events();
  ASSERT_EQ(records.size(), 195u);
  const auto& rec = records.front();
  ASSERT_EQ(rec.MemberCount(), 5u);
  EXPECT_STREQ(rec["app"].GetString(), "corp-sf");
  EXPECT_STREQ(rec["type"].GetString(), "salesforce_login");
  EXPECT_STREQ(rec["service"].GetString(), "salesforce");
  EXPECT_EQ(std::string(rec["collected_at"].GetString()).size(), 24u);
  // Each event is its CSV row keyed by the header, values untouched.
  const auto file = sf_->log_files().front();
  const auto& event = rec["event"];
  ASSERT_EQ(event.MemberCount(), file.header.size());
  for (size_t c = 0; c < file.header.size(); ++c)
    EXPECT_EQ(event[file.header[c].c_str()].GetString(), file.rows[0][c]) << file.header[c];

  auto st = dir_.state("corp-sf");
  EXPECT_STREQ(st["status"].GetString(), "succeeded");
  EXPECT_EQ(st["events_total"].GetInt(), 195);
  EXPECT_EQ(sf_->sessions("password"), 1) << "one session for the whole run";
  ASSERT_FALSE(sf_->queries().empty());
  EXPECT_NE(sf_->queries()[0].find("EventType = 'Login' AND Interval = 'Daily'"), std::string::npos)
      << sf_->queries()[0];
  EXPECT_GE(sf_->requests("/services/data/v60.0/query/01g"), 1u) << "nextRecordsUrl followed";
  EXPECT_EQ(sf_->requests("/services/data/v60.0/sobjects/EventLogFile/"), 3u)
      << "each matching file downloaded once";
  EXPECT_EQ(sf_->gzipped_bodies(), 3) << "log files are fetched gzipped";
}

TEST_F(SalesforceEndToEnd, ASecondRunDeliversOnlyNewFiles) {
  add_login(30, day_start(2), now() - 30 * kHour, "a-");
  ASSERT_EQ(dir_.siphon({"once", "corp-sf", "--since", "3d"}).exit_code, 0);
  auto again = dir_.siphon({"once", "corp-sf"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(dir_.event_lines(), 30u) << "nothing new, nothing delivered";
  add_login(20, day_start(1), now() - 1000, "b-");
  ASSERT_EQ(dir_.siphon({"once", "corp-sf"}).exit_code, 0);
  expect_exactly_once(request_ids(), join(expected_ids("a-", 30), expected_ids("b-", 20)));
}

TEST_F(SalesforceEndToEnd, ClientCredentialsFlowReadsWithoutAUser) {
  configure("      rows_per_poll: \"50\"\n", true);
  sf_->set_password_flow_blocked(true);  // as in orgs created since Summer '23
  add_login(80, day_start(1), now() - 2 * kHour, "cc-");
  auto r = dir_.siphon({"once", "corp-sf", "--since", "1d"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_exactly_once(request_ids(), expected_ids("cc-", 80));
  EXPECT_EQ(sf_->sessions("client_credentials"), 1);
  EXPECT_EQ(sf_->sessions("password"), 0);
  // The app not allowed the flow: refused, with the reason.
  sf_->set_client_credentials_enabled(false);
  sf_->invalidate_sessions();
  add_login(5, day_start(0), now(), "later-");
  auto refused = dir_.siphon({"once", "corp-sf"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("no client credentials user enabled"), std::string::npos)
      << refused.err;
  EXPECT_EQ(dir_.event_lines(), 80u);
}

TEST_F(SalesforceEndToEnd, PasswordFlowSendsThePasswordWithTheTokenAppended) {
  add_login(10, day_start(1), now() - 2 * kHour, "pw-");
  auto r = dir_.siphon({"once", "corp-sf", "--since", "1d"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(sf_->sessions("password"), 1);
  EXPECT_EQ(sf_->sessions("client_credentials"), 0);
  expect_exactly_once(request_ids(), expected_ids("pw-", 10));
  // An org that blocks the flow refuses it; nothing is delivered or committed.
  std::string cursor = dir_.state("corp-sf")["cursor"].GetString();
  sf_->set_password_flow_blocked(true);
  sf_->invalidate_sessions();
  add_login(10, day_start(0), now(), "blocked-");
  auto blocked = dir_.siphon({"once", "corp-sf"});
  EXPECT_EQ(blocked.exit_code, 1);
  EXPECT_NE(blocked.err.find("invalid_grant: authentication failure"), std::string::npos)
      << blocked.err;
  EXPECT_EQ(cursor, dir_.state("corp-sf")["cursor"].GetString());
}

TEST_F(SalesforceEndToEnd, WrongSecurityTokenFailsWithoutMovingTheCursor) {
  add_login(10, day_start(1), now() - 2 * kHour, "a-");
  ASSERT_EQ(dir_.siphon({"once", "corp-sf", "--since", "1d"}).exit_code, 0);
  std::string cursor = dir_.state("corp-sf")["cursor"].GetString();
  add_login(10, day_start(0), now(), "b-");
  std::string wrong = std::string(creds_.security_token.rbegin(), creds_.security_token.rend());
  dir_.write("secrets/sf.security_token", wrong, 0600);
  sf_->invalidate_sessions();
  auto r = dir_.siphon({"once", "corp-sf"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("credentials refused"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("authentication failure"), std::string::npos) << r.err;
  for (const std::string& secret :
       {wrong, creds_.password, creds_.client_secret, creds_.client_id, creds_.security_token})
    EXPECT_EQ((r.out + r.err).find(secret), std::string::npos) << "a secret was printed";
  EXPECT_EQ(dir_.event_lines(), 10u);
  auto st = dir_.state("corp-sf");
  EXPECT_STREQ(st["status"].GetString(), "failed");
  EXPECT_EQ(cursor, st["cursor"].GetString());
  write_secrets(creds_);
  ASSERT_EQ(dir_.siphon({"once", "corp-sf"}).exit_code, 0);
  expect_exactly_once(request_ids(), join(expected_ids("a-", 10), expected_ids("b-", 10)));
}

// StreamAlert queried LogDate > (start of the previous run): a daily file
// shows up the day after the day it covers, so its LogDate is always older
// than the previous run and it was never read.
TEST_F(SalesforceEndToEnd, DailyFileAppearingTheDayAfterItsLogDateIsNotSkipped) {
  add_login(25, day_start(2), now() - 3 * kHour, "monday-");
  ASSERT_EQ(dir_.siphon({"once", "corp-sf", "--since", "1d"}).exit_code, 0);
  // Produced after that run, for a day that ended before it.
  add_login(35, day_start(1), now(), "tuesday-");
  ASSERT_EQ(dir_.siphon({"once", "corp-sf"}).exit_code, 0);
  expect_exactly_once(request_ids(),
                      join(expected_ids("monday-", 25), expected_ids("tuesday-", 35)));
}

TEST_F(SalesforceEndToEnd, AFileListedLateWithAnOlderOrEqualCreatedDateIsNotSkipped) {
  const int64_t b_created = now() - 10 * 60 * 1000;
  add_login(20, day_start(1), now() - 30 * 60 * 1000, "a-");
  add_login(20, day_start(1), b_created, "b-");
  ASSERT_EQ(dir_.siphon({"once", "corp-sf", "--since", "1d"}).exit_code, 0);
  ASSERT_EQ(dir_.event_lines(), 40u);
  // Listed only now: one with the same CreatedDate as the newest file read,
  // one with an older one.
  add_login(15, day_start(1), b_created, "equal-");
  add_login(15, day_start(1), now() - 20 * 60 * 1000, "older-");
  auto r = dir_.siphon({"once", "corp-sf"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_exactly_once(request_ids(),
                      join(join(expected_ids("a-", 20), expected_ids("b-", 20)),
                           join(expected_ids("equal-", 15), expected_ids("older-", 15))));
}

TEST_F(SalesforceEndToEnd, KilledInTheMiddleOfALargeFileResumesAtTheNextRow) {
  configure("      rows_per_poll: \"10\"\n");
  add_login(6000, day_start(1), now() - 2 * kHour, "big-");
  add_login(30, day_start(1), now() - kHour, "after-");
  pid_t pid = dir_.spawn({"once", "corp-sf", "--since", "1d"}, "killed");
  int status = 0;
  bool exited = false;
  while (dir_.event_lines() < 200 && !(exited = ::waitpid(pid, &status, WNOHANG) == pid))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  const size_t before = dir_.event_lines();
  ASSERT_GT(before, 0u);
  ASSERT_LT(before, 6000u) << "the run ended before it could be killed";
  auto st = dir_.state("corp-sf");
  std::string cursor = st["cursor"].GetString();
  EXPECT_NE(cursor.find("\"file\""), std::string::npos) << "cursor keeps the file: " << cursor;

  auto r = dir_.siphon({"once", "corp-sf"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto seen = request_ids();
  auto want = join(expected_ids("big-", 6000), expected_ids("after-", 30));
  EXPECT_EQ(seen.size(), want.size()) << "every row delivered";
  int twice = 0;
  for (const auto& id : want) {
    ASSERT_TRUE(seen.count(id)) << id << " skipped";
    twice += seen[id] - 1;
  }
  EXPECT_LE(twice, 10) << "at most the page in flight is delivered again";
}

// StreamAlert: a failed file download returned None and the run crashed or
// moved on; here the run fails, keeps the cursor after the last file read,
// and the next run starts with the file that failed.
TEST_F(SalesforceEndToEnd, AFailedDownloadInAListOfFilesIsReadByTheNextRun) {
  configure("      rows_per_poll: \"25\"\n");
  add_login(40, day_start(1), now() - 4 * kHour, "f1-");
  add_login(40, day_start(1), now() - 3 * kHour, "f2-");
  std::string third = add_login(40, day_start(1), now() - 2 * kHour, "f3-");
  add_login(40, day_start(1), now() - kHour, "f4-");
  Fault broken;
  broken.status = 503;
  broken.count = 1000;
  broken.retry_after = "0";  // keeps the host's retries quick
  broken.body = R"([{"message":"Service Unavailable","errorCode":"SERVER_UNAVAILABLE"}])";
  broken.path_prefix = "/services/data/v60.0/sobjects/EventLogFile/" + third;
  sf_->inject(broken);
  auto r = dir_.siphon({"once", "corp-sf", "--since", "1d"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("EventLogFile/" + third + "/LogFile: HTTP 503"), std::string::npos) << r.err;
  // The rows before the failing file are delivered and committed.
  expect_exactly_once(request_ids(), join(expected_ids("f1-", 40), expected_ids("f2-", 40)));
  std::string cursor = dir_.state("corp-sf")["cursor"].GetString();
  EXPECT_NE(cursor.find(third), std::string::npos) << "resumes at the failed file: " << cursor;
  sf_->clear_faults();
  ASSERT_EQ(dir_.siphon({"once", "corp-sf"}).exit_code, 0);
  expect_exactly_once(request_ids(), join(join(expected_ids("f1-", 40), expected_ids("f2-", 40)),
                                          join(expected_ids("f3-", 40), expected_ids("f4-", 40))));
}

TEST_F(SalesforceEndToEnd, RateLimitsAndServerErrorsAreRetriedWithoutLoss) {
  add_login(60, day_start(1), now() - 3 * kHour, "a-");
  add_login(60, day_start(1), now() - 2 * kHour, "b-");
  Fault limited;
  limited.status = 429;
  limited.retry_after = "1";
  limited.path_prefix = "/services/oauth2/token";
  sf_->inject(limited);
  Fault query_down;
  query_down.status = 503;
  query_down.count = 2;
  query_down.path_prefix = "/services/data/v60.0/query";
  sf_->inject(query_down);
  Fault blob_down;
  blob_down.status = 500;
  blob_down.body =
      R"([{"message":"An unexpected error occurred.","errorCode":"UNKNOWN_EXCEPTION"}])";
  blob_down.path_prefix = "/services/data/v60.0/sobjects/";
  sf_->inject(blob_down);
  auto r = dir_.siphon({"once", "corp-sf", "--since", "1d"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_exactly_once(request_ids(), join(expected_ids("a-", 60), expected_ids("b-", 60)));
}

TEST_F(SalesforceEndToEnd, UsedUpApiAllocationStopsTheRunUntilTheNextWithoutLoss) {
  configure("      rows_per_poll: \"10\"\n");
  for (int i = 0; i < 6; ++i)
    add_login(10, day_start(1), now() - (10 - i) * kHour, "f" + std::to_string(i) + "-");
  sf_->set_batch_size(10);
  sf_->set_api_limit(4);  // the query and three downloads
  auto r = dir_.siphon({"once", "corp-sf", "--since", "1d"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("REQUEST_LIMIT_EXCEEDED"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("retry at next run"), std::string::npos) << r.err;
  EXPECT_EQ(dir_.event_lines(), 30u);
  sf_->set_api_limit(0);
  ASSERT_EQ(dir_.siphon({"once", "corp-sf"}).exit_code, 0);
  std::set<std::string> want;
  for (int i = 0; i < 6; ++i) want = join(want, expected_ids("f" + std::to_string(i) + "-", 10));
  expect_exactly_once(request_ids(), want);
}

TEST_F(SalesforceEndToEnd, AnExpiredSessionIsRenewedOnce) {
  configure("      rows_per_poll: \"10\"\n");
  for (int i = 0; i < 5; ++i)
    add_login(10, day_start(1), now() - (10 - i) * kHour, "f" + std::to_string(i) + "-");
  sf_->set_session_calls(2);  // a session lasts two calls
  auto r = dir_.siphon({"once", "corp-sf", "--since", "1d"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(dir_.event_lines(), 50u);
  EXPECT_GE(sf_->sessions(), 3);
}

TEST_F(SalesforceEndToEnd, A401WithAFreshSessionIsRefusedCredentials) {
  add_login(10, day_start(1), now() - kHour, "a-");
  sf_->set_refuse_sessions(true);
  auto r = dir_.siphon({"once", "corp-sf", "--since", "1d"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("credentials refused"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("INVALID_SESSION_ID"), std::string::npos) << r.err;
  EXPECT_EQ(sf_->sessions(), 2) << "one renewal, not a loop";
  EXPECT_EQ(dir_.event_lines(), 0u);
}

// StreamAlert split the CSV on line ends and commas itself.
TEST_F(SalesforceEndToEnd, QuotedCommasQuotesLineBreaksCrlfAndBomArriveIntact) {
  sf_->set_csv_style(true, true);
  dir_.write_config(app_yaml("corp-sf-report", "salesforce_report", ""));
  add_login(30, day_start(1), now() - kHour, "rep-", "Report");
  auto r = dir_.siphon({"once", "corp-sf-report", "--since", "1d"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto file = sf_->log_files().front();
  std::map<std::string, const std::vector<std::string>*> rows;
  for (const auto& row : file.rows) rows[row[2]] = &row;  // REQUEST_ID
  auto records = dir_.events();
  ASSERT_EQ(records.size(), 30u);
  size_t tricky = 0;
  for (const auto& rec : records) {
    const auto& event = rec["event"];
    ASSERT_TRUE(event.HasMember("REQUEST_ID"));
    const auto* row = rows.at(event["REQUEST_ID"].GetString());
    ASSERT_EQ(event.MemberCount(), file.header.size());
    for (size_t c = 0; c < file.header.size(); ++c) {
      std::string value = event[file.header[c].c_str()].GetString();
      EXPECT_EQ(value, (*row)[c]) << file.header[c];
      if (value.find_first_of(",\"\n") != std::string::npos) ++tricky;
    }
  }
  EXPECT_GT(tricky, 20u) << "the file holds commas, quotes and line breaks in fields";
  EXPECT_TRUE(records.front()["event"].HasMember("EVENT_TYPE")) << "BOM not part of the key";
}

TEST_F(SalesforceEndToEnd, EachTypeReadsItsOwnEventType) {
  const std::map<std::string, std::string> types = {{"salesforce_console", "Console"},
                                                    {"salesforce_login", "Login"},
                                                    {"salesforce_loginas", "LoginAs"},
                                                    {"salesforce_report", "Report"},
                                                    {"salesforce_reportexport", "ReportExport"}};
  std::string apps;
  int i = 0;
  for (const auto& [type, event_type] : types) {
    apps += app_yaml(type, type, "");
    add_login(5 + static_cast<size_t>(i), day_start(1), now() - kHour + i, event_type + "-",
              event_type);
    ++i;
  }
  dir_.write_config(apps);
  i = 0;
  for (const auto& [type, event_type] : types) {
    auto r = dir_.siphon({"once", type, "--since", "1d"});
    ASSERT_EQ(r.exit_code, 0) << type << ": " << r.err;
    auto by_type = count_by(dir_.events(), type, "EVENT_TYPE");
    ASSERT_EQ(by_type.size(), 1u) << type;
    EXPECT_EQ(by_type.begin()->first, event_type);
    EXPECT_EQ(by_type.begin()->second, 5 + i) << type;
    ++i;
  }
}

TEST_F(SalesforceEndToEnd, ApiVersionLatestAsksTheOrg) {
  configure("      api_version: latest\n");
  add_login(5, day_start(1), now() - kHour, "v-");
  auto r = dir_.siphon({"once", "corp-sf", "--since", "1d"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(sf_->requests("/services/data/v61.0/query"), 1u);
  EXPECT_EQ(sf_->requests("/services/data/v60.0/"), 0u);
  EXPECT_EQ(dir_.event_lines(), 5u);
}

TEST_F(SalesforceEndToEnd, BrokenCsvFailsTheRunWithoutMovingTheCursor) {
  add_login(5, day_start(2), now() - 3 * kHour, "ok-");
  ASSERT_EQ(dir_.siphon({"once", "corp-sf", "--since", "1d"}).exit_code, 0);
  std::string cursor = dir_.state("corp-sf")["cursor"].GetString();
  std::string id = add_login(5, day_start(1), now(), "bad-");
  sf_->set_raw_body(id, "\"EVENT_TYPE\",\"REQUEST_ID\"\n\"Login\",\"unterminated\n");
  auto r = dir_.siphon({"once", "corp-sf"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("LogFile of " + id + ": CSV"), std::string::npos) << r.err;
  EXPECT_EQ(cursor, dir_.state("corp-sf")["cursor"].GetString());
  EXPECT_EQ(dir_.event_lines(), 5u);
}

TEST_F(SalesforceEndToEnd, NoEventMonitoringIsAClearError) {
  sf_->set_event_log_unsupported(true);
  auto r = dir_.siphon({"once", "corp-sf", "--since", "1d"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("INVALID_TYPE"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("View Event Log Files"), std::string::npos) << r.err;
}

TEST_F(SalesforceEndToEnd, PasswordFlowWithoutSecurityTokenFromATrustedIp) {
  std::string yaml = app_yaml("corp-sf", "salesforce_login", "");
  yaml.erase(yaml.find("      security_token:"),
             std::string("      security_token: ${file:secrets/sf.security_token}\n").size());
  dir_.write_config(yaml);
  add_login(10, day_start(1), now() - kHour, "t-");
  auto refused = dir_.siphon({"once", "corp-sf", "--since", "1d"});
  EXPECT_EQ(refused.exit_code, 1) << "the org wants the token from an untrusted IP";
  sf_->set_trusted_ip(true);
  auto r = dir_.siphon({"once", "corp-sf", "--since", "1d"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_exactly_once(request_ids(), expected_ids("t-", 10));
}

TEST_F(SalesforceEndToEnd, AnExpiredQueryLocatorListsAgainWithoutLossOrRepeats) {
  configure("      rows_per_poll: \"10\"\n");
  for (int i = 0; i < 5; ++i)
    add_login(10, day_start(1), now() - (10 - i) * kHour, "f" + std::to_string(i) + "-");
  Fault expired;
  expired.status = 400;
  expired.body = R"([{"message":"invalid query locator","errorCode":"INVALID_QUERY_LOCATOR"}])";
  expired.path_prefix = "/services/data/v60.0/query/01g";
  sf_->inject(expired);
  auto r = dir_.siphon({"once", "corp-sf", "--since", "1d"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> want;
  for (int i = 0; i < 5; ++i) want = join(want, expected_ids("f" + std::to_string(i) + "-", 10));
  expect_exactly_once(request_ids(), want);
  EXPECT_GE(sf_->queries().size(), 2u) << "listed again from the cursor";
}

// Under `siphon run` the app instance (session, listing) lives across
// scheduled runs: each run lists afresh, so a file that appears between runs
// with an older CreatedDate is read, and the session is reused.
TEST_F(SalesforceEndToEnd, RunModeReadsLateFilesBetweenScheduledRunsWithOneSession) {
  dir_.write_config(
      app_yaml("corp-sf", "salesforce_login", "")
          .insert(std::string("  - name: corp-sf\n    type: salesforce_login\n").size(),
                  "    interval: 1s\n"));
  ASSERT_EQ(dir_.siphon({"state", "reset", "corp-sf", "--since", "1d"}).exit_code, 0);
  add_login(20, day_start(1), now() - 2 * kHour, "first-");
  pid_t pid = dir_.spawn({"run"}, "run");
  auto wait_for = [&](size_t lines) {
    for (int i = 0; i < 500 && dir_.event_lines() < lines; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return dir_.event_lines();
  };
  EXPECT_EQ(wait_for(20), 20u);
  add_login(15, day_start(1), now() - 3 * kHour, "late-");  // older than the one read
  EXPECT_EQ(wait_for(35), 35u);
  add_login(5, day_start(0), now(), "new-");
  EXPECT_EQ(wait_for(40), 40u);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // another run or two
  ::kill(pid, SIGTERM);
  EXPECT_EQ(siphon::testing::wait_child(pid, 30), 0);
  expect_exactly_once(
      request_ids(),
      join(join(expected_ids("first-", 20), expected_ids("late-", 15)), expected_ids("new-", 5)));
  EXPECT_EQ(sf_->sessions(), 1) << "the session is kept between runs";
  EXPECT_GE(sf_->queries().size(), 4u) << "every run lists again";
}

// siphon check: every auth field's regex, the value of a secret never shown.
TEST_F(SalesforceEndToEnd, AuthFieldsAreCheckedAgainstTheirRegexes) {
  struct Case {
    std::string field, value;
    bool valid, secret;
  };
  const std::vector<Case> cases = {
      {"client_id", creds_.client_id, true, true},
      {"client_id", creds_.client_id.substr(1), false, true},
      {"client_id", creds_.client_id.substr(1) + "!", false, true},
      {"client_secret", "1234567890123456789", true, true},
      {"client_secret", "123456789012345678", false, true},
      {"client_secret", "12345678901234567x9", false, true},
      {"username", "reader.one+sf@corp.example.com", true, false},
      {"username", "reader.example.com", false, false},
      {"username", "reader@localhost", false, false},
      {"password", "Any thing, \"quoted\" & long", true, true},
      {"password", "two\nlines", false, true},
      {"security_token", "AbCdEfGhIjKlMnOpQrStUv12", true, true},
      {"security_token", "AbCdEfGhIjKlMnOpQrStUv1", false, true},
      {"security_token", "AbCdEfGhIjKlMnOpQrStUv1-", false, true},
  };
  for (const auto& c : cases) {
    write_secrets(creds_);
    std::string yaml = app_yaml("corp-sf", "salesforce_login", "");
    if (c.field == "username") {
      yaml.replace(yaml.find(creds_.username), creds_.username.size(), c.value);
    } else {
      std::string file = c.field == "client_id"       ? "sf.client_id"
                         : c.field == "client_secret" ? "sf.client_secret"
                         : c.field == "password"      ? "sf.password"
                                                      : "sf.security_token";
      dir_.write("secrets/" + file, c.value, 0600);
    }
    dir_.write_config(yaml);
    auto r = dir_.siphon({"check"});
    const std::string where = c.field + "=" + (c.secret ? "<secret>" : c.value);
    if (c.valid) {
      EXPECT_EQ(r.exit_code, 0) << where << "\n" << r.out << r.err;
    } else {
      EXPECT_EQ(r.exit_code, 1) << where;
      EXPECT_NE(r.out.find("app corp-sf: field auth." + c.field + ": value does not match"),
                std::string::npos)
          << where << "\n"
          << r.out;
    }
    if (c.secret) {
      EXPECT_EQ((r.out + r.err).find(c.value), std::string::npos) << where << " printed";
    }
  }
}

TEST_F(SalesforceEndToEnd, CheckRefusesAMixOfTheTwoFlowsAndUnknownOptions) {
  std::string yaml =
      app_yaml("corp-sf", "salesforce_login", "      auth_flow: \"client_credentials\"\n");
  dir_.write_config(yaml);
  auto mixed = dir_.siphon({"check"});
  EXPECT_EQ(mixed.exit_code, 1);
  EXPECT_NE(mixed.out.find("client credentials flow"), std::string::npos) << mixed.out;
  EXPECT_EQ((mixed.out + mixed.err).find(creds_.password), std::string::npos);

  dir_.write_config(app_yaml("corp-sf", "salesforce_login", "      auth_flow: \"implicit\"\n"));
  auto bad = dir_.siphon({"check"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("option auth_flow"), std::string::npos) << bad.out;

  std::string no_password = app_yaml("corp-sf", "salesforce_login", "");
  no_password.erase(no_password.find("      password:"),
                    std::string("      password: ${file:secrets/sf.password}\n").size());
  dir_.write_config(no_password);
  auto missing = dir_.siphon({"check"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("auth field password is not set"), std::string::npos) << missing.out;

  dir_.write_config(app_yaml("corp-sf", "salesforce_login", "", true));
  EXPECT_EQ(dir_.siphon({"check"}).exit_code, 0) << "client credentials alone are enough";
}

// A small gzip body may inflate to a huge one: http.max_response_bytes caps
// the inflated size too, and the run fails before anything of the file is
// delivered.
TEST_F(SalesforceEndToEnd, AGzipLogFileThatInflatesPastTheResponseCapFailsTheRun) {
  sf_->set_gzip(true);
  add_login(5, day_start(2), now() - 30 * kHour, "small-");
  ASSERT_EQ(dir_.siphon({"once", "corp-sf", "--since", "3d"}).exit_code, 0);
  std::string cursor = dir_.state("corp-sf")["cursor"].GetString();
  auto f = SalesforceImitation::make_log_file("Login", 3, day_start(1), now() - 6 * kHour, "big-");
  std::string id = sf_->add_log_file(f);
  f.rows[1][0] = std::string(8 * 1024 * 1024, 'A');  // 8 MiB of CSV, a few KiB gzipped
  sf_->set_raw_body(id, SalesforceImitation::to_csv(f));
  std::string cfg = dir_.read("siphon.yaml");
  cfg.replace(cfg.find("http:\n"), 6, "http:\n  max_response_bytes: 1048576\n");
  dir_.write("siphon.yaml", cfg);

  auto r = dir_.siphon({"once", "corp-sf"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("inflates (gzip) to more than http.max_response_bytes (1048576 bytes)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(request_ids().count("big-0"), 0u) << "nothing of the file is delivered";
  EXPECT_EQ(dir_.event_lines(), 5u);
  auto st = dir_.state("corp-sf");
  EXPECT_STREQ(st["status"].GetString(), "failed");
  EXPECT_EQ(cursor, st["cursor"].GetString()) << "the cursor stays";
}

}  // namespace
