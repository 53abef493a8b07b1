// duo_auth and duo_admin end to end: the real host and siphon-duo.so against
// the local Duo imitation (HMAC signatures verified, windows, next_offset).
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "duo_imitation.hpp"
#include "harness.hpp"

using siphon::imitation::DuoImitation;
using siphon::imitation::Fault;
using siphon::testing::count_by;
using siphon::testing::Workdir;

namespace {

const char* kIkey = "DIWJ8X6AEYOR5OMC6TQ1";
const char* kSkey = "gtdfxv9YgVBYcF6dl2Eq17KUQJN2PLM2ODVTkvoT";

class DuoEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    duo_ = std::make_unique<DuoImitation>(kIkey, kSkey);
    duo_->set_visibility_delay_ms(2000);
    duo_->start();
    dir_.write("secrets/duo.skey", std::string(kSkey) + "\n", 0600);
    configure();
  }
  void configure(const std::string& skey_ref = "${file:secrets/duo.skey}") {
    std::string auth =
        "    auth:\n"
        "      api_hostname: api-1234abcd.duosecurity.com\n"
        "      integration_key: " +
        std::string(kIkey) +
        "\n"
        "      secret_key: " +
        skey_ref + "\n";
    std::string opts =
        "      base_url: " + duo_->base_url() + "\n      poll_pause_seconds: \"0\"\n";
    dir_.write_config("  - name: corp-duo\n    type: duo_auth\n" + auth + "    options:\n" + opts +
                      "      delay_seconds: \"3\"\n"
                      "  - name: corp-duo-admin\n    type: duo_admin\n" +
                      auth + "    options:\n" + opts);
  }
  int64_t now() const { return siphon::imitation::now_ms(); }

  std::unique_ptr<DuoImitation> duo_;
  Workdir dir_;
};

TEST_F(DuoEndToEnd, AuthLogsArePagedByNextOffsetAndDeliveredOnce) {
  const int64_t t0 = now() - 3600 * 1000;
  duo_->add_auth_events(2500, t0, 1000);
  auto r = dir_.siphon({"once", "corp-duo", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(siphon::testing::logged_newest_event_ms(r.err), t0 + 2499 * 1000, 1000) << r.err;
  auto txids = count_by(dir_.events(), "corp-duo", "txid");
  EXPECT_EQ(txids.size(), 2500u);
  EXPECT_EQ(dir_.event_lines(), 2500u);
  EXPECT_GE(duo_->requests("/admin/v2/logs/authentication"), 3u);
  auto st = dir_.state("corp-duo");
  EXPECT_STREQ(st["status"].GetString(), "succeeded");
}

TEST_F(DuoEndToEnd, LateEventsAreDeliveredByALaterRunAndNothingTwice) {
  duo_->add_auth_events(100, now() - 600 * 1000, 1000);
  ASSERT_EQ(dir_.siphon({"once", "corp-duo", "--since", "1h"}).exit_code, 0);
  ASSERT_EQ(dir_.event_lines(), 100u);
  // Events that happened just now are not visible yet (Duo's delay) ...
  duo_->add_auth_events(20, now(), 10);
  ASSERT_EQ(dir_.siphon({"once", "corp-duo"}).exit_code, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  // ... and are picked up by the next run once they are.
  ASSERT_EQ(dir_.siphon({"once", "corp-duo"}).exit_code, 0);
  auto txids = count_by(dir_.events(), "corp-duo", "txid");
  EXPECT_EQ(txids.size(), 120u);
  EXPECT_EQ(dir_.event_lines(), 120u);
}

TEST_F(DuoEndToEnd, WrongSecretKeyFailsWithoutMovingTheCursor) {
  duo_->add_auth_events(10, now() - 600 * 1000, 1000);
  ASSERT_EQ(dir_.siphon({"once", "corp-duo", "--since", "1h"}).exit_code, 0);
  std::string cursor = dir_.state("corp-duo")["cursor"].GetString();
  std::string wrong = "Zz" + std::string(kSkey).substr(2);
  dir_.write("secrets/duo.skey", wrong, 0600);
  duo_->add_auth_events(10, now(), 10);
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  auto r = dir_.siphon({"once", "corp-duo"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("40103"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(wrong), std::string::npos) << "secret printed";
  EXPECT_EQ(dir_.event_lines(), 10u);
  auto st = dir_.state("corp-duo");
  EXPECT_STREQ(st["status"].GetString(), "failed");
  EXPECT_EQ(cursor, st["cursor"].GetString());
  // Put the right key back (rotation is read at each run): the rest arrives.
  dir_.write("secrets/duo.skey", kSkey, 0600);
  ASSERT_EQ(dir_.siphon({"once", "corp-duo"}).exit_code, 0);
  EXPECT_EQ(count_by(dir_.events(), "corp-duo", "txid").size(), 20u);
}

TEST_F(DuoEndToEnd, AdminLogsSurviveTheThousandRowCapWithinOneSecond) {
  // 1500 events, 7 per second: the 1000-row cap falls inside a second.
  duo_->add_admin_events(1500, now() / 1000 - 3000, 7);
  auto r = dir_.siphon({"once", "corp-duo-admin", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(dir_.event_lines(), 1500u);
  std::set<std::string> distinct;
  for (const auto& rec : dir_.events()) {
    const auto& e = rec["event"];
    distinct.insert(std::to_string(e["timestamp"].GetInt64()) + e["description"].GetString() +
                    e["username"].GetString() + e["action"].GetString());
  }
  EXPECT_EQ(distinct.size(), 1500u);
  duo_->add_admin_events(5, now() / 1000, 1);
  ASSERT_EQ(dir_.siphon({"once", "corp-duo-admin"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 1505u);
}

// duo_auth cursors written before it kept its windows with siphon::WindowCursor
// ({"mintime","maxtime","next_offset","last_txids"}, mintime = maxtime + 1
// between windows) resume where they stood.
TEST_F(DuoEndToEnd, AnAuthCursorOfTheEarlierFormatResumesInsideItsWindow) {
  const int64_t t0 = (now() / 1000 - 600) * 1000;
  duo_->add_auth_events(30, t0, 1000);  // t0 .. t0 + 29 s
  // The window [t0, t0 + 20 s] was open, its events up to t0 + 9 s delivered.
  dir_.set_cursor("corp-duo", R"({"mintime":)" + std::to_string(t0) + R"(,"maxtime":)" +
                                  std::to_string(t0 + 20000) + R"(,"next_offset":")" +
                                  std::to_string(t0 + 9000) +
                                  R"(,ffffffff-ffff-4fff-afff-ffffffffffff","last_txids":["x"]})");
  ASSERT_EQ(dir_.siphon({"once", "corp-duo"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 11u) << "the rest of the window: t0 + 10 s .. t0 + 20 s";
  ASSERT_EQ(dir_.siphon({"once", "corp-duo"}).exit_code, 0);  // the next window
  ASSERT_EQ(dir_.siphon({"once", "corp-duo"}).exit_code, 0);
  auto events = dir_.events();
  EXPECT_EQ(events.size(), 20u) << "t0 + 10 s .. t0 + 29 s, each once";
  EXPECT_EQ(count_by(events, "corp-duo", "txid").size(), 20u);
  for (const auto& rec : events) EXPECT_GE(rec["event"]["timestamp"].GetInt64() * 1000, t0 + 10000);

  // Between windows: the next window starts at mintime.
  dir_.set_cursor("corp-duo",
                  R"({"mintime":)" + std::to_string(t0 + 25000) + R"(,"last_txids":["x"]})");
  ASSERT_EQ(dir_.siphon({"once", "corp-duo"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 25u) << "t0 + 25 s .. t0 + 29 s once more";
}

TEST_F(DuoEndToEnd, ServerErrorsAreRetried) {
  duo_->add_auth_events(50, now() - 600 * 1000, 1000);
  Fault f;
  f.status = 500;
  f.count = 2;
  f.body = R"({"stat":"FAIL","code":50001,"message":"Unknown internal server error"})";
  duo_->inject(f);
  auto r = dir_.siphon({"once", "corp-duo", "--since", "1h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(dir_.event_lines(), 50u);
}

}  // namespace
