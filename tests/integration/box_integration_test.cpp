// box_admin_events end to end: the real host and siphon-box.so against the
// local Box imitation (JWT grant verified, stream positions, faults).
#include <gtest/gtest.h>

#include "box_imitation.hpp"
#include "harness.hpp"

using siphon::imitation::BoxImitation;
using siphon::imitation::Fault;
using siphon::testing::BoxAccount;
using siphon::testing::count_by;
using siphon::testing::Workdir;

namespace {

class BoxEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    box_ = std::make_unique<BoxAccount>(dir_);
    configure("500");
  }
  void configure(const std::string& limit) {
    dir_.write_config(siphon::testing::box_app_yaml("corp-box", box_->base_url(), "",
                                                    "      limit: \"" + limit + "\"\n"));
  }
  int64_t now() const { return siphon::imitation::now_ms(); }

  Workdir dir_;
  std::unique_ptr<BoxAccount> box_;
};

TEST_F(BoxEndToEnd, FirstRunDeliversEveryEventOnceInTheRecordShape) {
  const int64_t t0 = now() - 3600 * 1000;
  box_->add_events(1200, t0);
  auto r = dir_.siphon({"once", "corp-box", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(siphon::testing::logged_newest_event_ms(r.err), t0 - 1000) << r.err;
  EXPECT_LE(siphon::testing::logged_newest_event_ms(r.err), now()) << r.err;
  auto records = dir_.events();
  ASSERT_EQ(records.size(), 1200u);
  auto ids = count_by(records, "corp-box", "event_id");
  EXPECT_EQ(ids.size(), 1200u);
  for (const auto& [id, n] : ids) EXPECT_EQ(n, 1) << id;
  const auto& rec = records.front();
  ASSERT_EQ(rec.MemberCount(), 5u);
  EXPECT_STREQ(rec["app"].GetString(), "corp-box");
  EXPECT_STREQ(rec["type"].GetString(), "box_admin_events");
  EXPECT_STREQ(rec["service"].GetString(), "box");
  std::string at = rec["collected_at"].GetString();
  EXPECT_EQ(at.size(), 24u) << at;  // 2026-11-27T17:00:00.123Z
  EXPECT_EQ(at.back(), 'Z');
  EXPECT_TRUE(rec["event"].IsObject());
  auto st = dir_.state("corp-box");
  EXPECT_STREQ(st["status"].GetString(), "succeeded");
  EXPECT_EQ(st["events_total"].GetInt(), 1200);
  EXPECT_EQ(box_->issued_tokens(), 1);
}

TEST_F(BoxEndToEnd, ASecondRunDeliversOnlyNewEvents) {
  box_->add_events(700, now() - 3600 * 1000);
  ASSERT_EQ(dir_.siphon({"once", "corp-box", "--since", "2h"}).exit_code, 0);
  ASSERT_EQ(dir_.event_lines(), 700u);
  auto again = dir_.siphon({"once", "corp-box"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(dir_.event_lines(), 700u) << "nothing new, nothing delivered";
  box_->add_events(300, now());
  ASSERT_EQ(dir_.siphon({"once", "corp-box"}).exit_code, 0);
  auto ids = count_by(dir_.events(), "corp-box", "event_id");
  EXPECT_EQ(dir_.event_lines(), 1000u);
  EXPECT_EQ(ids.size(), 1000u);
}

TEST_F(BoxEndToEnd, WrongKeyFailsWithoutDeliveringOrMovingTheCursor) {
  box_->add_events(50, now() - 3600 * 1000);
  ASSERT_EQ(dir_.siphon({"once", "corp-box", "--since", "2h"}).exit_code, 0);
  std::string cursor_before = dir_.state("corp-box")["cursor"].GetString();
  box_->add_events(50, now());
  // A key pair Box does not know, with the same ids.
  BoxImitation::Keyfile other = BoxImitation::make_keyfile();
  std::string forged = other.json;
  auto swap = [&](const std::string& from, const std::string& to) {
    for (size_t p; (p = forged.find(from)) != std::string::npos;)
      forged.replace(p, from.size(), to);
  };
  swap(other.credentials.client_id, box_->keyfile.credentials.client_id);
  swap(other.credentials.client_secret, box_->keyfile.credentials.client_secret);
  swap(other.credentials.public_key_id, box_->keyfile.credentials.public_key_id);
  dir_.write("secrets/box.json", forged, 0600);
  auto r = dir_.siphon({"once", "corp-box"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("credentials refused"), std::string::npos) << r.err;
  EXPECT_EQ(dir_.event_lines(), 50u);
  auto st = dir_.state("corp-box");
  EXPECT_STREQ(st["status"].GetString(), "failed");
  EXPECT_EQ(cursor_before, st["cursor"].GetString());
  for (const std::string& secret :
       {box_->keyfile.credentials.client_secret, box_->keyfile.passphrase})
    EXPECT_EQ((r.out + r.err).find(secret), std::string::npos);
}

TEST_F(BoxEndToEnd, RateLimitsAndServerErrorsAreRetriedWithoutLoss) {
  box_->add_events(600, now() - 3600 * 1000);
  Fault limited;
  limited.status = 429;
  limited.retry_after = "1";
  limited.body = R"({"type":"error","status":429,"code":"rate_limit_exceeded"})";
  limited.path_prefix = "/2.0/events";
  box_->inject(limited);
  Fault broken;
  broken.status = 500;
  broken.count = 2;
  broken.path_prefix = "/2.0/events";
  box_->inject(broken);
  auto r = dir_.siphon({"once", "corp-box", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_by(dir_.events(), "corp-box", "event_id").size(), 600u);
  EXPECT_EQ(dir_.event_lines(), 600u);
}

TEST_F(BoxEndToEnd, AnExpiredTokenIsRenewedOnce) {
  box_->set_token_lifetime_seconds(1);
  box_->add_events(100, now() - 3600 * 1000);
  configure("50");
  ASSERT_EQ(dir_.siphon({"once", "corp-box", "--since", "2h"}).exit_code, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  box_->add_events(100, now());
  auto r = dir_.siphon({"once", "corp-box"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_by(dir_.events(), "corp-box", "event_id").size(), 200u);
}

TEST_F(BoxEndToEnd, TruncatedBodyFailsThePollAndTheNextRunRecovers) {
  box_->add_events(300, now() - 3600 * 1000);
  Fault cut;
  cut.truncate = true;
  cut.count = 100;  // more than the retries
  cut.path_prefix = "/2.0/events";
  box_->inject(cut);
  auto r = dir_.siphon({"once", "corp-box", "--since", "2h"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
  EXPECT_EQ(dir_.event_lines(), 0u);
  box_->clear_faults();
  ASSERT_EQ(dir_.siphon({"once", "corp-box", "--since", "2h"}).exit_code, 0);
  EXPECT_EQ(dir_.event_lines(), 300u);
}

}  // namespace
