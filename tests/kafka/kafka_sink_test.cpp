// The kafka sink end to end: the real siphon binary and siphon-box.so read
// the Box imitation and produce to the kafka_mock_broker helper (a mock
// cluster of 3 brokers on 127.0.0.1), whose topic is read back.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "harness.hpp"
#include "mock_broker_process.hpp"

using siphon::imitation::Fault;
using siphon::testing::box_app_yaml;
using siphon::testing::BoxAccount;
using siphon::testing::dump;
using siphon::testing::MockBrokerProcess;
using siphon::testing::wait_child;
using siphon::testing::wait_until;
using siphon::testing::Workdir;

namespace {

constexpr size_t kEvents = 120;
const char* kTopic = "siphon-box_admin_events";
const char* kPassword = "kafka-pw-9f3c1e-SECRET";

int64_t now() { return siphon::imitation::now_ms(); }

class KafkaSinkEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers_ = broker_.read_line();
    ASSERT_EQ(brokers_.rfind("127.0.0.1:", 0), 0u) << brokers_;
    box_ = std::make_unique<BoxAccount>(dir_);
    box_->add_events(kEvents, now() - 3600 * 1000);
    configure();
  }
  // corp-box writes to the kafka sink; with `second`, other-box writes to
  // the file sink events.jsonl.
  void configure(bool second = false, const std::string& properties = "") {
    std::string sink = "  - name: kafka\n    type: kafka\n    brokers: " + brokers_ +
                       "\n    timeout: 4s\n" + properties;
    std::string apps = box_app_yaml("corp-box", box_->base_url(),
                                    "    interval: 1s\n    sink: kafka\n", "      limit: \"50\"\n");
    if (second)
      apps += box_app_yaml("other-box", box_->base_url(), "    interval: 1s\n    sink: out\n",
                           "      limit: \"50\"\n");
    dir_.write_config(apps, sink);
  }
  // Record ids (message keys) read back from the topic, with their counts;
  // each value must be a record of corp-box.
  std::map<std::string, int> delivered() {
    std::map<std::string, int> keys;
    for (const auto& line : dump(broker_, kTopic)) {
      size_t tab = line.find('\t');
      EXPECT_NE(tab, std::string::npos) << line;
      if (tab == std::string::npos) continue;
      ++keys[line.substr(0, tab)];
      rapidjson::Document rec;
      std::string value = line.substr(tab + 1);
      EXPECT_FALSE(rec.Parse(value.c_str()).HasParseError()) << value;
      if (rec.IsObject()) {
        EXPECT_EQ(rec.MemberCount(), 5u) << value;
        EXPECT_STREQ(rec["app"].GetString(), "corp-box");
      }
    }
    return keys;
  }

  MockBrokerProcess broker_;
  std::string brokers_;
  Workdir dir_;
  std::unique_ptr<BoxAccount> box_;
};

TEST_F(KafkaSinkEndToEnd, OnceDeliversEveryEventKeyedByItsRecordId) {
  auto r = dir_.siphon({"once", "corp-box", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto keys = delivered();
  EXPECT_EQ(keys.size(), kEvents);
  for (const auto& [key, n] : keys) {
    EXPECT_EQ(key.size(), 64u) << key;
    EXPECT_EQ(n, 1) << key;
  }
  EXPECT_EQ(dir_.state("corp-box")["events_total"].GetInt(), static_cast<int>(kEvents));
  auto check = dir_.siphon({"check", "--sinks"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("reachable"), std::string::npos) << check.out;
}

TEST_F(KafkaSinkEndToEnd, BrokersDownForAWholeRunFailItKeepTheCursorAndTheNextRunDeliversAll) {
  broker_.write_line("down");
  ASSERT_EQ(broker_.read_line(), "ok");
  auto r = dir_.siphon({"once", "corp-box", "--since", "2h"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("sink kafka"), std::string::npos) << r.err;
  auto st = dir_.state("corp-box");
  EXPECT_STREQ(st["status"].GetString(), "failed");
  EXPECT_TRUE(st["cursor"].IsNull()) << "nothing acknowledged, nothing committed";
  EXPECT_EQ(st["events_total"].GetInt(), 0);
  auto check = dir_.siphon({"check", "--sinks"});
  EXPECT_EQ(check.exit_code, 1) << check.out;

  broker_.write_line("up");
  ASSERT_EQ(broker_.read_line(), "ok");
  r = dir_.siphon({"once", "corp-box", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto keys = delivered();
  EXPECT_EQ(keys.size(), kEvents) << "every event arrives after the outage";
  EXPECT_EQ(dir_.state("corp-box")["events_total"].GetInt(), static_cast<int>(kEvents));
}

TEST_F(KafkaSinkEndToEnd, RetriableProduceErrorsAreRetriedWithoutLosingOrRepeating) {
  broker_.write_line("errors 4");
  ASSERT_EQ(broker_.read_line(), "ok");
  auto r = dir_.siphon({"once", "corp-box", "--since", "2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto keys = delivered();
  EXPECT_EQ(keys.size(), kEvents);
  for (const auto& [key, n] : keys) EXPECT_EQ(n, 1) << key;
}

TEST_F(KafkaSinkEndToEnd, AnAppOnAnotherSinkKeepsDeliveringWhileKafkaIsDown) {
  configure(true);
  broker_.write_line("down");
  ASSERT_EQ(broker_.read_line(), "ok");
  ASSERT_EQ(dir_.siphon({"state", "reset", "corp-box", "--since", "2h"}).exit_code, 0);
  ASSERT_EQ(dir_.siphon({"state", "reset", "other-box", "--since", "2h"}).exit_code, 0);
  pid_t pid = dir_.spawn({"run"}, "run");
  EXPECT_TRUE(wait_until([&] { return dir_.event_lines() >= kEvents; }, 30))
      << "the app on the file sink delivers while kafka is down: " << dir_.read("run.err");
  EXPECT_TRUE(wait_until(
      [&] { return dir_.read("run.err").find("app=corp-box: run failed") != std::string::npos; },
      30));
  broker_.write_line("up");
  ASSERT_EQ(broker_.read_line(), "ok");
  EXPECT_TRUE(wait_until(
      [&] { return dir_.state("corp-box")["events_total"].GetInt() >= static_cast<int>(kEvents); },
      40))
      << dir_.read("run.err");
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_child(pid, 30), 0);
  EXPECT_EQ(delivered().size(), kEvents);
  EXPECT_EQ(dir_.event_lines(), kEvents);
}

TEST_F(KafkaSinkEndToEnd, KillNineMidRunLosesNothingAndRepeatsAtMostOnePage) {
  Fault slow;
  slow.delay_ms = 300;
  slow.count = 1000000;
  slow.path_prefix = "/2.0/events";
  box_->inject(slow);
  ASSERT_EQ(dir_.siphon({"state", "reset", "corp-box", "--since", "2h"}).exit_code, 0);
  pid_t pid = dir_.spawn({"once", "corp-box"}, "killed");
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  ::kill(pid, SIGKILL);
  wait_child(pid, 10);
  box_->clear_faults();
  auto r = dir_.siphon({"once", "corp-box"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto keys = delivered();
  EXPECT_EQ(keys.size(), kEvents) << "nothing lost";
  size_t repeated = 0;
  for (const auto& [key, n] : keys) repeated += static_cast<size_t>(n - 1);
  EXPECT_LE(repeated, 50u) << "at most one page (50 events) twice";
}

TEST_F(KafkaSinkEndToEnd, ASecretPropertyAppearsInNoLogOrError) {
  dir_.write("secrets/kafka.pw", kPassword, 0600);
  configure(false,
            "    properties:\n"
            "      security.protocol: SASL_PLAINTEXT\n"
            "      sasl.mechanism: PLAIN\n"
            "      sasl.username: siphon\n"
            "      sasl.password: ${file:secrets/kafka.pw}\n"
            "      debug: security,broker\n");
  auto r = dir_.siphon({"--log-level", "trace", "once", "corp-box", "--since", "2h"});
  auto check = dir_.siphon({"check", "--sinks"});
  auto show = dir_.siphon({"state", "show", "--json"});
  for (const std::string& text : {r.out, r.err, check.out, check.err, show.out})
    EXPECT_EQ(text.find(kPassword), std::string::npos) << text.substr(0, 4000);
}

TEST_F(KafkaSinkEndToEnd, CheckValidatesTheSinkWithoutNetwork) {
  configure(false,
            "    topic: \"siphon-{nope}\"\n"
            "    properties:\n"
            "      not.a.property: \"1\"\n"
            "      acks: \"1\"\n");
  auto r = dir_.siphon({"check"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("sink kafka: field topic: unknown placeholder {nope}"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("sink kafka: field properties.not.a.property: not a librdkafka property"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("sink kafka: field properties.acks: set by Siphon"), std::string::npos)
      << r.out;
}

}  // namespace
