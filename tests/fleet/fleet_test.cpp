// Several `siphon run` processes on one config and one PostgreSQL database,
// end to end: the real binary, the real Box plugin, one Box imitation per
// app (its request log tells the processes apart: each gets its own token).
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "box_imitation.hpp"
#include "harness.hpp"
#include "pg_server.hpp"

using siphon::imitation::BoxImitation;
using siphon::imitation::Fault;
using siphon::testing::BoxAccount;
using siphon::testing::PgServer;
using siphon::testing::wait_child;
using siphon::testing::Workdir;

namespace {

using Clock = std::chrono::steady_clock;

int64_t wall_ms() { return siphon::imitation::now_ms(); }

class Fleet : public ::testing::Test {
 protected:
  static constexpr int kLeaseMs = 2000;
  static constexpr size_t kPage = 50;

  // `apps` Box apps, each with its own imitation holding `events` events of
  // the last hour, answering each page after `page_delay_ms`.
  void make_apps(int apps, size_t events, int page_delay_ms) {
    account_ = std::make_unique<BoxAccount>(dir_);
    std::string yaml;
    for (int i = 0; i < apps; ++i) {
      auto box = std::make_unique<BoxImitation>(account_->keyfile.credentials);
      box->start();
      box->add_events(events, wall_ms() - 3600 * 1000);
      if (page_delay_ms > 0) {
        Fault slow;
        slow.delay_ms = page_delay_ms;
        slow.count = 100000000;
        slow.path_prefix = "/2.0/events";
        box->inject(slow);
      }
      names_.push_back("box-" + std::to_string(i));
      yaml += siphon::testing::box_app_yaml(names_.back(), box->base_url(), "    interval: 1s\n",
                                            "      limit: \"50\"\n");
      boxes_.push_back(std::move(box));
    }
    write_config(yaml, "${file:secrets/pg.pass}");
    for (const auto& n : names_) {
      auto r = dir_.siphon({"state", "reset", n, "--since", "2h"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }
  void write_config(const std::string& apps_yaml, const std::string& password_ref,
                    uint16_t port = 0) {
    dir_.write("secrets/pg.pass", pg_.password() + "\n", 0600);
    std::string cfg = std::string("plugin_dirs: [") + SIPHON_PLUGIN_DIR +
                      "]\n"
                      "state: postgresql://siphon:" +
                      password_ref + "@127.0.0.1:" + std::to_string(port ? port : pg_.port()) +
                      "/siphon?sslmode=disable\n"
                      "lease_time: " +
                      std::to_string(kLeaseMs / 1000) +
                      "s\n"
                      "log_level: debug\n"
                      "workers: 4\n"
                      "http:\n  max_retries: 4\n  retry_max_wait: 5s\n  read_timeout: 10s\n"
                      "sinks:\n  - name: out\n    type: file\n    path: events.jsonl\n"
                      "apps:\n" +
                      apps_yaml;
    dir_.write("siphon.yaml", cfg);
  }
  pid_t host(int i) { return dir_.spawn({"run"}, "host" + std::to_string(i)); }

  // Records of events.jsonl. A kill -9 inside write() may leave one torn
  // line; it is counted, not parsed (its events come again from the cursor).
  std::vector<rapidjson::Document> records(size_t* torn = nullptr) const {
    std::vector<rapidjson::Document> out;
    std::ifstream in(dir_.file("events.jsonl"));
    std::string line;
    size_t bad = 0;
    while (std::getline(in, line)) {
      rapidjson::Document d;
      d.Parse(line.data(), line.size());
      if (d.HasParseError() || !d.IsObject()) {
        ++bad;
        continue;
      }
      out.push_back(std::move(d));
    }
    if (torn) *torn = bad;
    return out;
  }
  // Distinct event ids delivered per app, and the duplicates per app.
  std::map<std::string, std::set<std::string>> ids(std::map<std::string, size_t>* dups = nullptr) {
    std::map<std::string, std::set<std::string>> out;
    for (const auto& r : records()) {
      std::string app = r["app"].GetString();
      bool fresh = out[app].insert(r["event"]["event_id"].GetString()).second;
      if (!fresh && dups) ++(*dups)[app];
    }
    return out;
  }
  size_t distinct_total() {
    size_t n = 0;
    for (const auto& [app, set] : ids()) n += set.size();
    return n;
  }
  bool wait_for(const std::function<bool()>& done, int timeout_s) {
    auto end = Clock::now() + std::chrono::seconds(timeout_s);
    while (Clock::now() < end) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
  }
  // Owner of each app's live lease ("" when none), from the database.
  std::map<std::string, std::string> owners() {
    std::map<std::string, std::string> out;
    for (const auto& row : pg_.query(
             "SELECT app, CASE WHEN lease_expires > now() THEN COALESCE(lease_owner, '') ELSE '' "
             "END FROM siphon_apps"))
      out[row.substr(0, row.find('|'))] = row.substr(row.find('|') + 1);
    return out;
  }
  static bool owned_by(const std::string& owner, pid_t pid) {
    return owner.find(":" + std::to_string(pid) + ":") != std::string::npos;
  }
  // No two clients (tokens) of one app's imitation had requests in flight at
  // the same time.
  void expect_no_app_pulled_twice_at_once() {
    for (size_t i = 0; i < boxes_.size(); ++i) {
      std::vector<BoxImitation::LoggedRequest> log;
      for (const auto& r : boxes_[i]->request_log())
        if (r.path.rfind("/2.0/events", 0) == 0) log.push_back(r);
      std::sort(log.begin(), log.end(),
                [](const auto& a, const auto& b) { return a.start_ms < b.start_ms; });
      EXPECT_FALSE(log.empty()) << names_[i];
      size_t overlaps = 0;
      for (size_t j = 1; j < log.size(); ++j)
        for (size_t k = 0; k < j; ++k)
          if (log[k].authorization != log[j].authorization && log[j].start_ms < log[k].end_ms)
            ++overlaps;
      EXPECT_EQ(overlaps, 0u) << names_[i] << ": two hosts pulled the app at once";
    }
  }
  void stop_all(const std::vector<pid_t>& pids) {
    for (pid_t p : pids) ::kill(p, SIGTERM);
    for (size_t i = 0; i < pids.size(); ++i) EXPECT_EQ(wait_child(pids[i], 30), 0);
  }

  PgServer pg_;
  Workdir dir_;
  std::unique_ptr<BoxAccount> account_;
  std::vector<std::unique_ptr<BoxImitation>> boxes_;
  std::vector<std::string> names_;
};

}  // namespace

TEST_F(Fleet, ThreeHostsDeliverEveryEventOnceAndNeverPullOneAppAtOnce) {
  make_apps(6, 300, 20);
  std::vector<pid_t> pids{host(0), host(1), host(2)};
  EXPECT_TRUE(wait_for([&] { return distinct_total() >= 1800; }, 40));
  for (auto& b : boxes_) b->add_events(40, wall_ms());
  EXPECT_TRUE(wait_for([&] { return distinct_total() >= 6 * 340; }, 20));
  // Every host got a share (at most ceil(6 / 3) = 2 leases each).
  std::map<std::string, int> per_owner;
  for (const auto& [app, owner] : owners()) ++per_owner[owner];
  stop_all(pids);
  EXPECT_EQ(per_owner.size(), 3u);
  for (const auto& [owner, n] : per_owner) EXPECT_EQ(n, 2) << owner;
  std::map<std::string, size_t> dups;
  auto got = ids(&dups);
  for (const auto& n : names_) EXPECT_EQ(got[n].size(), 340u) << n;
  EXPECT_TRUE(dups.empty()) << "events delivered twice without any fault";
  expect_no_app_pulled_twice_at_once();
}

TEST_F(Fleet, KilledHostsAppsAreTakenOverWithinTwoLeasePeriodsLosingNothing) {
  make_apps(6, 400, 30);
  std::vector<pid_t> pids{host(0), host(1), host(2)};
  ASSERT_TRUE(wait_for(
      [&] {
        std::map<std::string, int> per;
        for (const auto& [app, owner] : owners())
          if (!owner.empty()) ++per[owner];
        return per.size() == 3 && per.begin()->second == 2 && std::next(per.begin())->second == 2;
      },
      20))
      << "the three hosts did not settle on 2 apps each";
  EXPECT_TRUE(wait_for([&] { return distinct_total() >= 600; }, 20));
  auto before = owners();
  std::set<std::string> victims;
  for (const auto& [app, owner] : before)
    if (owned_by(owner, pids[1])) victims.insert(app);
  ASSERT_EQ(victims.size(), 2u);
  auto t0 = Clock::now();
  ::kill(pids[1], SIGKILL);
  wait_child(pids[1], 10);
  bool taken = wait_for(
      [&] {
        auto now = owners();
        for (const auto& app : victims)
          if (now[app].empty() || owned_by(now[app], pids[1])) return false;
        return true;
      },
      10);
  auto takeover_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  ASSERT_TRUE(taken);
  std::printf("takeover after kill -9: %lld ms (lease_time %d ms)\n",
              static_cast<long long>(takeover_ms), kLeaseMs);
  std::fflush(stdout);
  EXPECT_LE(takeover_ms, 2 * kLeaseMs) << "apps of the killed host taken over too late";
  for (auto& b : boxes_) b->add_events(50, wall_ms());
  EXPECT_TRUE(wait_for([&] { return distinct_total() >= 6 * 450; }, 40));
  stop_all({pids[0], pids[2]});
  size_t torn = 0;
  records(&torn);
  EXPECT_LE(torn, 1u);
  std::map<std::string, size_t> dups;
  auto got = ids(&dups);
  for (const auto& n : names_) {
    EXPECT_EQ(got[n].size(), 450u) << n << ": events lost";
    EXPECT_LE(dups[n], kPage) << n << ": more than one page delivered twice";
  }
}

TEST_F(Fleet, PausedHolderCannotCommitAfterItsLeaseWasTaken) {
  make_apps(1, 2500, 150);
  std::vector<pid_t> pids{host(0), host(1)};
  ASSERT_TRUE(wait_for([&] { return distinct_total() >= 200; }, 30));
  std::string owner = owners()["box-0"];
  pid_t holder = owned_by(owner, pids[0]) ? pids[0] : pids[1];
  pid_t other = holder == pids[0] ? pids[1] : pids[0];
  ASSERT_TRUE(owned_by(owner, holder));
  std::string gen_before = pg_.query("SELECT lease_generation FROM siphon_apps")[0];
  ::kill(holder, SIGSTOP);
  // The other host takes the lease after it lapses, and pages on.
  ASSERT_TRUE(wait_for([&] { return owned_by(owners()["box-0"], other); }, 4 * kLeaseMs / 1000));
  size_t at_takeover = distinct_total();
  EXPECT_TRUE(wait_for([&] { return distinct_total() >= at_takeover + 100; }, 20));
  ::kill(holder, SIGCONT);
  EXPECT_TRUE(wait_for([&] { return distinct_total() >= 2500; }, 60));
  std::this_thread::sleep_for(std::chrono::milliseconds(kLeaseMs));
  stop_all({holder, other});
  std::string err = dir_.read("host" + std::to_string(holder == pids[0] ? 0 : 1) + ".err");
  EXPECT_NE(err.find("commit was refused"), std::string::npos)
      << err.substr(err.size() > 4000 ? err.size() - 4000 : 0);
  EXPECT_NE(pg_.query("SELECT lease_generation FROM siphon_apps")[0], gen_before);
  std::map<std::string, size_t> dups;
  auto got = ids(&dups);
  EXPECT_EQ(got["box-0"].size(), 2500u);
  EXPECT_LE(dups["box-0"], kPage) << "the late host delivered more than one page again";
}

TEST_F(Fleet, DatabaseRestartMidRunFailsRunsThenRecoversLosingNothing) {
  make_apps(3, 600, 40);
  std::vector<pid_t> pids{host(0), host(1)};
  ASSERT_TRUE(wait_for([&] { return distinct_total() >= 300; }, 30));
  pg_.stop();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  pg_.start();
  EXPECT_TRUE(wait_for([&] { return distinct_total() >= 1800; }, 50));
  stop_all(pids);
  std::string errs = dir_.read("host0.err") + dir_.read("host1.err");
  EXPECT_NE(errs.find("state store postgresql://siphon@127.0.0.1:"), std::string::npos);
  EXPECT_EQ(errs.find(pg_.password()), std::string::npos);
  std::map<std::string, size_t> dups;
  auto got = ids(&dups);
  for (const auto& n : names_) {
    EXPECT_EQ(got[n].size(), 600u) << n << ": events lost";
    EXPECT_LE(dups[n], 2 * kPage) << n;
  }
}

TEST_F(Fleet, ANewHostTakesItsShareWithinAFewLeasePeriods) {
  make_apps(6, 20, 0);
  pid_t first = host(0);
  ASSERT_TRUE(wait_for(
      [&] {
        auto o = owners();
        return std::all_of(o.begin(), o.end(), [&](auto& p) { return owned_by(p.second, first); });
      },
      10));
  pid_t second = host(1);
  auto t0 = Clock::now();
  bool balanced = wait_for(
      [&] {
        int a = 0, b = 0;
        for (const auto& [app, owner] : owners()) {
          a += owned_by(owner, first);
          b += owned_by(owner, second);
        }
        return a == 3 && b == 3;
      },
      3 * kLeaseMs / 1000);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  std::printf("new host balanced after %lld ms\n", static_cast<long long>(ms));
  std::fflush(stdout);
  EXPECT_TRUE(balanced) << "the new host did not get 3 of 6 apps within 3 lease periods";
  stop_all({first, second});
}

// /health on each host of a fleet: the apps it holds are ok, the others
// "elsewhere" (their holder reports them); no host turns 503 for apps it
// does not run.
TEST_F(Fleet, HealthOfEachHostCallsTheAppsOfTheOtherHostElsewhere) {
  make_apps(4, 20, 0);
  std::string cfg = dir_.read("siphon.yaml");
  cfg.replace(cfg.find("http:\n"), 6, "http:\n  listen: 127.0.0.1:0\n");
  dir_.write("siphon.yaml", cfg);
  std::vector<pid_t> pids{host(0), host(1)};
  ASSERT_TRUE(wait_for(
      [&] {
        int a = 0, b = 0;
        for (const auto& [app, owner] : owners()) {
          a += owned_by(owner, pids[0]);
          b += owned_by(owner, pids[1]);
        }
        return a == 2 && b == 2;
      },
      10));
  std::this_thread::sleep_for(std::chrono::seconds(3));  // past 2 intervals of 1 s
  const std::regex served(R"(serving /metrics and /health on http://127\.0\.0\.1:(\d+))");
  for (int i = 0; i < 2; ++i) {
    std::string log = dir_.read("host" + std::to_string(i) + ".err");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(log, m, served)) << log;
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<uint16_t>(std::stoi(m[1])));
    Poco::Net::HTTPRequest req("GET", "/health", Poco::Net::HTTPMessage::HTTP_1_1);
    session.sendRequest(req);
    Poco::Net::HTTPResponse resp;
    std::string body;
    Poco::StreamCopier::copyToString(session.receiveResponse(resp), body);
    EXPECT_EQ(resp.getStatus(), Poco::Net::HTTPResponse::HTTP_OK) << body;
    rapidjson::Document d;
    d.Parse(body.c_str());
    ASSERT_TRUE(d.IsObject() && d["apps"].IsArray()) << body;
    std::map<std::string, int> by_status;
    for (const auto& app : d["apps"].GetArray()) ++by_status[app["status"].GetString()];
    EXPECT_EQ(by_status["ok"], 2) << "host " << i << ": " << body;
    EXPECT_EQ(by_status["elsewhere"], 2) << "host " << i << ": " << body;
  }
  stop_all(pids);
}

TEST_F(Fleet, OnceRefusesAnAppLeasedToARunningHost) {
  make_apps(1, 20, 0);
  pid_t h = host(0);
  ASSERT_TRUE(wait_for([&] { return owned_by(owners()["box-0"], h); }, 10));
  // Leased between runs too; wait for a run to be going to see "running".
  auto r = dir_.siphon({"once", "box-0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("pid " + std::to_string(h)), std::string::npos) << r.err;
  stop_all({h});
}

TEST_F(Fleet, WrongPasswordIsOneLineNamingTheUrlWithoutThePassword) {
  account_ = std::make_unique<BoxAccount>(dir_);
  write_config(siphon::testing::box_app_yaml("box-0", "http://127.0.0.1:9"), "${env:PG_PASS}");
  for (auto args : {std::vector<std::string>{"run"}, {"state", "show"}, {"once", "box-0"}}) {
    auto r = dir_.siphon_with(
        args, [] { ::setenv("PG_PASS", "not-the-password", 1); }, 30);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    std::string expect =
        "siphon: state store postgresql://siphon@127.0.0.1:" + std::to_string(pg_.port()) +
        "/siphon?sslmode=disable: cannot connect: ";
    EXPECT_EQ(r.err.rfind(expect, 0), 0u) << r.err;
    EXPECT_NE(r.err.find("password authentication failed"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("not-the-password"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST_F(Fleet, UnreachableServerIsOneLineNamingTheUrlWithoutThePassword) {
  pg_.stop();
  account_ = std::make_unique<BoxAccount>(dir_);
  write_config(siphon::testing::box_app_yaml("box-0", "http://127.0.0.1:9"),
               "${file:secrets/pg.pass}");
  auto start = Clock::now();
  auto r = dir_.siphon({"run"}, 30);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(15));
  EXPECT_EQ(r.exit_code, 1);
  std::string expect =
      "siphon: state store postgresql://siphon@127.0.0.1:" + std::to_string(pg_.port()) +
      "/siphon?sslmode=disable: cannot connect: ";
  EXPECT_EQ(r.err.rfind(expect, 0), 0u) << r.err;
  EXPECT_EQ(r.err.find(pg_.password()), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(Fleet, MigrateCopiesTheSqliteStoreAndStateShowWorksOnBoth) {
  account_ = std::make_unique<BoxAccount>(dir_);
  account_->add_events(120, wall_ms() - 3600 * 1000);
  std::string apps =
      siphon::testing::box_app_yaml("corp-box", account_->base_url(), "", "      limit: \"50\"\n") +
      siphon::testing::box_app_yaml("idle-box", account_->base_url());
  dir_.write_config(apps);  // SQLite
  ASSERT_EQ(dir_.siphon({"once", "corp-box", "--since", "2h"}).exit_code, 0);
  ASSERT_EQ(dir_.siphon({"state", "reset", "idle-box", "--since", "3h"}).exit_code, 0);
  auto sqlite_row = dir_.state("corp-box");
  std::string cursor = sqlite_row["cursor"].GetString();
  dir_.write("secrets/pg.pass", pg_.password() + "\n", 0600);
  std::string to =
      "postgresql://siphon:${file:secrets/pg.pass}@127.0.0.1:" + std::to_string(pg_.port()) +
      "/siphon?sslmode=disable";
  auto r = dir_.siphon({"state", "migrate", "--to", to});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("copied 2 apps (1 cursors)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(pg_.password()), std::string::npos);
  // Again: refused, the cursors there are kept.
  r = dir_.siphon({"state", "migrate", "--to", to});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("already holds cursors for corp-box"), std::string::npos) << r.err;

  write_config(apps, "${file:secrets/pg.pass}");
  auto pg_row = dir_.state("corp-box");
  EXPECT_EQ(std::string(pg_row["cursor"].GetString()), cursor);
  EXPECT_EQ(pg_row["events_total"].GetInt64(), 120);
  EXPECT_STREQ(pg_row["status"].GetString(), "succeeded");
  auto show = dir_.siphon({"state", "show"});
  EXPECT_EQ(show.exit_code, 0);
  EXPECT_NE(show.out.find("corp-box"), std::string::npos) << show.out;
  // The next run on PostgreSQL resumes from the migrated cursor.
  account_->add_events(30, wall_ms());
  r = dir_.siphon({"once", "corp-box"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto counts = siphon::testing::count_by(dir_.events(), "corp-box", "event_id");
  EXPECT_EQ(counts.size(), 150u);
  EXPECT_EQ(dir_.event_lines(), 150u) << "the migrated cursor was not used";
  // The start override of an app never run came along too.
  EXPECT_EQ(pg_.query("SELECT start_override_ms IS NOT NULL FROM siphon_apps WHERE app = "
                      "'idle-box'")[0],
            "t");
}
