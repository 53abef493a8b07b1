// The network sinks end to end: the real `siphon once` and `siphon run`
// with the Box plugin and imitation as the source, delivering to a local
// imitation of each sink's service (an NDJSON collector, Splunk HEC,
// Elasticsearch). For every sink the delivery contract holds: the cursor
// commits only after the sink acknowledged every record of the page; a sink
// that is down, slow or refusing loses nothing; a sink that is down holds
// only the apps that write to it; no secret reaches a log or an error.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <siphon/auth_helpers.hpp>
#include <thread>

#include "elasticsearch_imitation.hpp"
#include "harness.hpp"
#include "http_collector_imitation.hpp"
#include "splunk_hec_imitation.hpp"

using siphon::imitation::ElasticsearchImitation;
using siphon::imitation::Fault;
using siphon::imitation::HttpCollectorImitation;
using siphon::imitation::Imitation;
using siphon::imitation::SplunkHecImitation;
using siphon::testing::BoxAccount;
using siphon::testing::Result;
using siphon::testing::Workdir;

namespace {

constexpr size_t kEvents = 300;
constexpr size_t kPage = 50;

const std::string kCollectorToken = "CollectorSecretToken-7d1f00aa-grepme";
const std::string kHecToken = "8c3f5e2a-0b1d-4e6f-9a7c-hecsecret0001";
const std::string kEsPassword = "EsPassw0rd-Distinctive-grepme";

// One record line as the file sink would write it: exactly the five keys.
void expect_record_format(const rapidjson::Value& r) {
  ASSERT_TRUE(r.IsObject());
  const char* keys[] = {"app", "type", "service", "collected_at", "event"};
  ASSERT_EQ(r.MemberCount(), 5u);
  int i = 0;
  for (auto it = r.MemberBegin(); it != r.MemberEnd(); ++it, ++i)
    EXPECT_STREQ(it->name.GetString(), keys[i]);
  EXPECT_STREQ(r["service"].GetString(), "box");
  EXPECT_STREQ(r["type"].GetString(), "box_admin_events");
}

// A sink under test: its imitation, its YAML, and the records it holds.
class SinkUnderTest {
 public:
  virtual ~SinkUnderTest() = default;
  virtual Imitation& server() = 0;
  // The sink's YAML list entry named `name` (indented under `sinks:`).
  virtual std::string yaml(const std::string& name) = 0;
  // Every record the service holds, as parsed documents (repeats included
  // when the service keeps them).
  virtual std::vector<rapidjson::Document> records() = 0;
  // Makes part of the next page's delivery fail once, transiently (the
  // second request of the page for the request-level sinks, some items for
  // Elasticsearch).
  virtual void fail_part_once() = 0;
  // Slows every storing request down by `ms`.
  virtual void slow_down(int ms) = 0;
  virtual void clear() { server().clear_faults(); }
  // event_id -> how often the service holds it, for one app.
  std::map<std::string, int> ids(const std::string& app) {
    std::map<std::string, int> out;
    for (const auto& r : records())
      if (r.IsObject() && r["app"].GetString() == app) ++out[r["event"]["event_id"].GetString()];
    return out;
  }
  // Restarts the server on the port it had (after server().stop()).
  void restart() {
    uint16_t port = server().port();
    server().start(port);
  }
  std::string url_base() { return server().base_url(); }
  uint16_t port_ = 0;
};

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  return d;
}

class CollectorSink : public SinkUnderTest {
 public:
  CollectorSink() {
    imitation.require_header("authorization", "Bearer " + kCollectorToken);
    imitation.start();
  }
  Imitation& server() override { return imitation; }
  std::string yaml(const std::string& name) override {
    return "  - name: " + name + "\n    type: http\n    url: " + imitation.base_url() +
           "/ingest\n    batch_size: 20\n    headers:\n      Authorization: Bearer "
           "${env:SIPHON_TEST_COLLECTOR_TOKEN}\n";
  }
  std::vector<rapidjson::Document> records() override {
    std::vector<rapidjson::Document> out;
    for (const auto& l : imitation.lines()) out.push_back(parse(l));
    return out;
  }
  void fail_part_once() override {
    Fault f;
    f.status = 503;
    f.body = "{\"error\":\"busy\"}";
    imitation.fail_after(1, f);
  }
  void slow_down(int ms) override {
    Fault f;
    f.delay_ms = ms;
    f.count = 100000;
    imitation.inject(f);
  }
  HttpCollectorImitation imitation;
};

class HecSink : public SinkUnderTest {
 public:
  HecSink() {
    imitation.add_token(kHecToken, true);
    imitation.set_ack_delay_ms(50);
    imitation.start();
  }
  Imitation& server() override { return imitation; }
  std::string yaml(const std::string& name) override {
    return "  - name: " + name + "\n    type: splunk_hec\n    url: " + imitation.base_url() +
           "\n    batch_size: 20\n    token: ${file:secrets/hec.token}\n    ack_timeout: 10s\n";
  }
  std::vector<rapidjson::Document> records() override {
    std::vector<rapidjson::Document> out;
    for (const auto& e : imitation.events()) {
      rapidjson::Document d = parse(e);
      rapidjson::Document r;
      r.CopyFrom(d["event"], r.GetAllocator());
      out.push_back(std::move(r));
    }
    return out;
  }
  void fail_part_once() override { imitation.fail_after(1, SplunkHecImitation::server_busy()); }
  void slow_down(int ms) override {
    Fault f;
    f.delay_ms = ms;
    f.count = 100000;
    f.path_prefix = "/services/collector/event";
    imitation.inject(f);
  }
  SplunkHecImitation imitation;
};

class EsSink : public SinkUnderTest {
 public:
  EsSink() {
    imitation.require_basic("siphon", kEsPassword);
    imitation.start();
  }
  Imitation& server() override { return imitation; }
  std::string yaml(const std::string& name) override {
    return "  - name: " + name + "\n    type: elasticsearch\n    url: " + imitation.base_url() +
           "\n    batch_size: 20\n    username: siphon\n    password: "
           "${env:SIPHON_TEST_ES_PASSWORD}\n";
  }
  std::vector<rapidjson::Document> records() override {
    std::vector<rapidjson::Document> out;
    for (const auto& [id, doc] : imitation.documents("siphon-box_admin_events"))
      out.push_back(parse(doc));
    return out;
  }
  void fail_part_once() override { imitation.reject_next_items(7, 429); }
  void slow_down(int ms) override {
    Fault f;
    f.delay_ms = ms;
    f.count = 100000;
    imitation.inject(f);
  }
  ElasticsearchImitation imitation;
};

enum class Kind { kHttp, kHec, kEs };

std::unique_ptr<SinkUnderTest> make(Kind k) {
  if (k == Kind::kHttp) return std::make_unique<CollectorSink>();
  if (k == Kind::kHec) return std::make_unique<HecSink>();
  return std::make_unique<EsSink>();
}

std::string kind_name(const ::testing::TestParamInfo<Kind>& info) {
  return info.param == Kind::kHttp  ? "http"
         : info.param == Kind::kHec ? "splunk_hec"
                                    : "elasticsearch";
}

class NetworkSinkTest : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    ::setenv("SIPHON_TEST_COLLECTOR_TOKEN", kCollectorToken.c_str(), 1);
    ::setenv("SIPHON_TEST_ES_PASSWORD", kEsPassword.c_str(), 1);
    dir_.write("secrets/hec.token", kHecToken + "\n", 0600);
    sink_ = make(GetParam());
    box_ = std::make_unique<BoxAccount>(dir_);
    box_->add_events(kEvents, siphon::imitation::now_ms() - 3600 * 1000);
  }
  // Apps `names` on sink `net` (one app per name, 50 events a page).
  void configure(const std::vector<std::string>& names, const std::string& more_sinks = "",
                 const std::map<std::string, std::string>& sink_of = {}) {
    std::string apps;
    for (const auto& n : names) {
      auto it = sink_of.find(n);
      apps += siphon::testing::box_app_yaml(
          n, box_->base_url(),
          "    sink: " + (it == sink_of.end() ? std::string("net") : it->second) + "\n",
          "      limit: \"" + std::to_string(kPage) + "\"\n");
    }
    dir_.write_config(apps, sink_->yaml("net") + more_sinks);
  }
  Result once(const std::string& app = "corp-box") {
    return dir_.siphon({"once", app, "--since", "2h"});
  }
  void expect_cursor_not_moved(const std::string& app = "corp-box") {
    auto st = dir_.state(app);
    EXPECT_STREQ(st["status"].GetString(), "failed");
    EXPECT_TRUE(st["cursor"].IsNull()) << "no cursor may commit before the sink acknowledged";
    EXPECT_EQ(st["events_total"].GetInt(), 0);
  }

  Workdir dir_;
  std::unique_ptr<SinkUnderTest> sink_;
  std::unique_ptr<BoxAccount> box_;
};

TEST_P(NetworkSinkTest, DeliversEveryRecordOnceInTheFileSinkFormatAndCommits) {
  configure({"corp-box"});
  Result r = once();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ids = sink_->ids("corp-box");
  EXPECT_EQ(ids.size(), kEvents);
  for (const auto& [id, n] : ids) EXPECT_EQ(n, 1) << id;
  for (const auto& rec : sink_->records()) expect_record_format(rec);
  auto st = dir_.state("corp-box");
  EXPECT_STREQ(st["status"].GetString(), "succeeded");
  EXPECT_EQ(st["events_total"].GetInt(), static_cast<int>(kEvents));
  EXPECT_EQ(dir_.event_lines(), 0u) << "nothing went to the file sink";
}

TEST_P(NetworkSinkTest, SinkDownForAWholeRunFailsItKeepsTheCursorAndTheNextRunDeliversAll) {
  configure({"corp-box"});
  sink_->server().stop();
  Result r = once();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("sink net"), std::string::npos) << r.err;
  expect_cursor_not_moved();
  sink_->restart();
  r = once();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ids = sink_->ids("corp-box");
  EXPECT_EQ(ids.size(), kEvents);
  for (const auto& [id, n] : ids) EXPECT_EQ(n, 1) << id;
}

TEST_P(NetworkSinkTest, APartialAcknowledgementResendsOnlyTheUnacknowledgedPart) {
  configure({"corp-box"});
  sink_->fail_part_once();
  Result r = once();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ids = sink_->ids("corp-box");
  EXPECT_EQ(ids.size(), kEvents);
  for (const auto& [id, n] : ids) EXPECT_EQ(n, 1) << id << " was sent again though acknowledged";
  if (GetParam() == Kind::kEs) {
    auto& es = static_cast<EsSink&>(*sink_).imitation;
    EXPECT_EQ(es.items_received(), kEvents + 7) << "only the 7 rejected items are sent again";
    EXPECT_EQ(es.conflicts(), 0u);
  }
}

TEST_P(NetworkSinkTest, KillDuringABatchLosesNothingAndRepeatsAtMostOnePage) {
  configure({"corp-box"});
  sink_->slow_down(150);
  pid_t pid = dir_.spawn({"once", "corp-box", "--since", "2h"}, "killed");
  // Pages take about 3 requests x 150 ms: the kill lands inside the third
  // page or so, with its batches partly delivered.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  EXPECT_EQ(siphon::testing::wait_child(pid, 30), 128 + SIGKILL);
  size_t before = sink_->ids("corp-box").size();
  EXPECT_GT(before, 0u) << "the kill came before anything was delivered";
  EXPECT_LT(before, kEvents) << "the kill came after everything was delivered";
  sink_->clear();
  Result r = dir_.siphon({"once", "corp-box"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ids = sink_->ids("corp-box");
  EXPECT_EQ(ids.size(), kEvents) << "every event arrived";
  size_t repeats = 0;
  for (const auto& [id, n] : ids) repeats += static_cast<size_t>(n - 1);
  EXPECT_LE(repeats, kPage) << "at most the page in flight is delivered again";
  if (GetParam() == Kind::kEs) {
    EXPECT_LE(static_cast<EsSink&>(*sink_).imitation.conflicts(), kPage)
        << "at most one page was sent again (and found already there)";
  }
}

TEST_P(NetworkSinkTest, ASecondAppOnAHealthySinkKeepsDeliveringWhileTheFirstSinkIsDown) {
  auto healthy = make(GetParam());
  configure({"corp-down", "corp-good"}, healthy->yaml("good"), {{"corp-good", "good"}});
  sink_->server().stop();
  for (const char* app : {"corp-down", "corp-good"})
    ASSERT_EQ(dir_.siphon({"state", "reset", app, "--since", "2h"}).exit_code, 0);
  pid_t pid = dir_.spawn({"run"}, "run");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  while (healthy->ids("corp-good").size() < kEvents && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // Let the app on the dead sink finish its failing run too.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ::kill(pid, SIGTERM);
  EXPECT_EQ(siphon::testing::wait_child(pid, 60), 0);
  EXPECT_EQ(healthy->ids("corp-good").size(), kEvents) << dir_.read("run.err");
  auto good = dir_.state("corp-good");
  EXPECT_EQ(good["events_total"].GetInt(), static_cast<int>(kEvents));
  auto down = dir_.state("corp-down");
  EXPECT_TRUE(down["cursor"].IsNull()) << "the app on the dead sink committed nothing";
  EXPECT_EQ(down["events_total"].GetInt(), 0);
}

TEST_P(NetworkSinkTest, NoSecretAppearsInAnyLogErrorOrCheckOutput) {
  configure({"corp-box"});
  std::vector<std::string> outputs;
  Result ok = once();
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  outputs.push_back(ok.out + ok.err);
  // Refused credentials: the error text is where a secret would leak.
  ::setenv("SIPHON_TEST_COLLECTOR_TOKEN", "WrongCollectorToken-grepme2", 1);
  ::setenv("SIPHON_TEST_ES_PASSWORD", "WrongEsPassword-grepme2", 1);
  dir_.write("secrets/hec.token", "WrongHecToken-grepme2\n", 0600);
  dir_.siphon({"state", "reset", "corp-box"});
  Result refused = once();
  EXPECT_EQ(refused.exit_code, 1);
  outputs.push_back(refused.out + refused.err);
  Result check = dir_.siphon({"check", "--sinks"});
  outputs.push_back(check.out + check.err);
  Result trace = dir_.siphon({"--log-level", "trace", "once", "corp-box"});
  outputs.push_back(trace.out + trace.err);
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path()))
    if (e.is_regular_file() && e.path().string().find("/secrets/") == std::string::npos)
      outputs.push_back(dir_.read(std::filesystem::relative(e.path(), dir_.path()).string()));
  for (const std::string& secret :
       {kCollectorToken, kHecToken, kEsPassword, std::string("WrongCollectorToken-grepme2"),
        std::string("WrongEsPassword-grepme2"), std::string("WrongHecToken-grepme2")})
    for (const auto& text : outputs) EXPECT_EQ(text.find(secret), std::string::npos) << secret;
}

TEST_P(NetworkSinkTest, CheckSinksReportsEachSinkReachableOrNot) {
  auto other = make(GetParam());
  configure({"corp-box"}, other->yaml("other"));
  Result r = dir_.siphon({"check", "--sinks"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("sink net ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sink other ("), std::string::npos) << r.out;
  other->server().stop();
  r = dir_.siphon({"check", "--sinks"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("sink other (" + std::string(kind_name({GetParam(), 0})) + "): FAILED"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("sink net (" + std::string(kind_name({GetParam(), 0})) + "): ok"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(sink_->ids("corp-box").size(), 0u) << "a check delivers nothing";
}

INSTANTIATE_TEST_SUITE_P(Sinks, NetworkSinkTest,
                         ::testing::Values(Kind::kHttp, Kind::kHec, Kind::kEs), kind_name);

// Behaviour of one sink type each.
class SinkTypeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    box_ = std::make_unique<BoxAccount>(dir_);
    box_->add_events(kEvents, siphon::imitation::now_ms() - 3600 * 1000);
  }
  void configure(const std::string& sink_yaml) {
    dir_.write_config(siphon::testing::box_app_yaml("corp-box", box_->base_url(), "    sink: net\n",
                                                    "      limit: \"50\"\n"),
                      sink_yaml);
  }
  // A splunk_hec sink on `hec` whose token file holds `token`; `extra` adds
  // sink keys.
  void configure_hec(const SplunkHecImitation& hec, const std::string& extra = "",
                     const std::string& token = kHecToken) {
    dir_.write("secrets/hec.token", token, 0600);
    configure("  - name: net\n    type: splunk_hec\n    url: " + hec.base_url() +
              "\n    token: ${file:secrets/hec.token}\n" + extra);
  }
  Result once() { return dir_.siphon({"once", "corp-box", "--since", "2h"}); }
  void expect_cursor_not_moved() {
    auto st = dir_.state("corp-box");
    EXPECT_TRUE(st["cursor"].IsNull());
    EXPECT_EQ(st["events_total"].GetInt(), 0);
  }
  Workdir dir_;
  std::unique_ptr<BoxAccount> box_;
};

TEST_F(SinkTypeTest, HttpPermanentRefusalFailsTheRunNamingTheStatusAndKeepsTheCursor) {
  HttpCollectorImitation collector;
  collector.start();
  collector.refuse_all(400, "{\"error\":\"schema mismatch\"}");
  configure("  - name: net\n    type: http\n    url: " + collector.base_url() + "/ingest\n");
  Result r = once();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("HTTP 400"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("schema mismatch"), std::string::npos) << r.err;
  EXPECT_EQ(collector.requests(), 1u) << "a 4xx other than 429 is not retried";
  expect_cursor_not_moved();
}

// A 302 would turn the POST into a GET whose 200 is no delivery: the
// redirect is not followed and the run fails, naming where it pointed.
TEST_F(SinkTypeTest, HttpSinkRedirectIsNotFollowedAndTheRunFailsKeepingTheCursor) {
  HttpCollectorImitation collector;
  collector.start();
  Fault moved;
  moved.status = 302;
  moved.headers = {{"Location", "/ingest-v2"}};
  moved.body = "{}";
  collector.inject(moved);
  configure("  - name: net\n    type: http\n    url: " + collector.base_url() + "/ingest\n");
  Result r = once();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("answered HTTP 302 redirecting to /ingest-v2; sinks do not follow "
                       "redirects"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(collector.requests(), 1u) << "nothing was sent to the redirect's target";
  expect_cursor_not_moved();
  r = once();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(collector.lines().size(), kEvents);
}

TEST_F(SinkTypeTest, HttpGzipAndBatchSizeShapeEveryRequest) {
  HttpCollectorImitation collector;
  collector.start();
  configure("  - name: net\n    type: http\n    url: " + collector.base_url() +
            "/ingest\n    gzip: true\n    batch_size: 7\n");
  Result r = once();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(collector.lines().size(), kEvents);
  EXPECT_EQ(collector.largest_batch(), 7u);
  EXPECT_EQ(collector.gzipped_batches(), collector.batches());
  // 50 a page in batches of at most 7: 8 requests a page.
  EXPECT_EQ(collector.batches(), 8u * (kEvents / 50));
}

TEST_F(SinkTypeTest, HttpBatchBytesBoundsRequestSize) {
  HttpCollectorImitation collector;
  collector.start();
  configure("  - name: net\n    type: http\n    url: " + collector.base_url() +
            "/ingest\n    batch_bytes: 2000\n");
  Result r = once();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(collector.lines().size(), kEvents);
  EXPECT_LE(collector.largest_batch(), 5u) << "records of ~500 bytes, 2000 bytes a batch";
}

TEST_F(SinkTypeTest, HecBatchIsAcknowledgedOnlyWhenItsAckIdTurnsTrue) {
  SplunkHecImitation hec;
  hec.add_token(kHecToken, true);
  hec.set_ack_delay_ms(300);
  hec.start();
  configure_hec(hec, "    index: security\n    source: siphon-test\n");
  auto t0 = std::chrono::steady_clock::now();
  Result r = once();
  auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(elapsed, std::chrono::milliseconds(300 * 6)) << "each page waited for its ackId";
  EXPECT_GE(hec.ack_queries(), 6u);
  EXPECT_EQ(hec.channels().size(), 1u);
  auto events = hec.events();
  ASSERT_EQ(events.size(), kEvents);
  rapidjson::Document e;
  e.Parse(events[0].c_str());
  EXPECT_STREQ(e["sourcetype"].GetString(), "siphon:box_admin_events");
  EXPECT_STREQ(e["index"].GetString(), "security");
  EXPECT_STREQ(e["source"].GetString(), "siphon-test");
  expect_record_format(e["event"]);
}

TEST_F(SinkTypeTest, HecAckThatNeverTurnsTrueFailsTheRunAfterAckTimeoutKeepingTheCursor) {
  SplunkHecImitation hec;
  hec.add_token(kHecToken, true);
  hec.set_acks_lost(true);
  hec.start();
  configure_hec(hec, "    ack_timeout: 2s\n");
  Result r = once();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("ack_timeout"), std::string::npos) << r.err;
  expect_cursor_not_moved();
}

// An indexer that lost two batches: only those two are sent again, once
// ack_timeout passed; the acknowledged batches of the page are not repeated.
TEST_F(SinkTypeTest, HecBatchesNotAcknowledgedInTimeAreSentAgainAloneAndNothingRepeats) {
  SplunkHecImitation hec;
  hec.add_token(kHecToken, true);
  hec.lose_requests(1, 2);
  hec.start();
  configure_hec(hec, "    ack_timeout: 1s\n    batch_size: 10\n");
  Result r = once();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, int> ids;
  for (const auto& text : hec.events()) {
    rapidjson::Document e;
    e.Parse(text.c_str());
    ++ids[e["event"]["event"]["event_id"].GetString()];
  }
  EXPECT_EQ(ids.size(), kEvents);
  for (const auto& [id, n] : ids) EXPECT_EQ(n, 1) << id;
  EXPECT_NE(r.err.find("2 batches (20 records) of app corp-box not acknowledged by the indexers "
                       "within ack_timeout (1 s); sending them again"),
            std::string::npos)
      << r.err;
  auto st = dir_.state("corp-box");
  EXPECT_STREQ(st["status"].GetString(), "succeeded");
  EXPECT_EQ(st["events_total"].GetInt(), static_cast<int>(kEvents));
}

TEST_F(SinkTypeTest, HecWithoutAckIdTakesTheTwoHundredAndSaysSoOnce) {
  SplunkHecImitation hec;
  hec.add_token(kHecToken, false);
  hec.start();
  configure_hec(hec);
  Result r = once();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(hec.events().size(), kEvents);
  EXPECT_EQ(siphon::testing::count_of(r.err, "without an ackId"), 1u) << r.err;
}

TEST_F(SinkTypeTest, HecInvalidTokenFailsTheRunWithHecsReasonAndKeepsTheCursor) {
  SplunkHecImitation hec;
  hec.add_token(kHecToken, true);
  hec.start();
  configure_hec(hec, "", "00000000-0000-0000-0000-000000000000");
  Result r = once();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Invalid token (code 4)"), std::string::npos) << r.err;
  expect_cursor_not_moved();
}

TEST_F(SinkTypeTest, HecServerBusyIsRetriedAndNothingIsLostOrRepeated) {
  SplunkHecImitation hec;
  hec.add_token(kHecToken, true);
  hec.start();
  hec.inject(SplunkHecImitation::server_busy(2));
  configure_hec(hec);
  Result r = once();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(hec.events().size(), kEvents);
}

TEST_F(SinkTypeTest, ElasticsearchResendIsIdempotentAndConflictsCountAsDelivered) {
  ElasticsearchImitation es;
  es.start();
  configure("  - name: net\n    type: elasticsearch\n    url: " + es.base_url() +
            "\n    index: logs-{service}-{type}\n    pipeline: siphon-ingest\n");
  ASSERT_EQ(once().exit_code, 0);
  auto docs = es.documents("logs-box-box_admin_events");
  EXPECT_EQ(docs.size(), kEvents);
  // Box declares event_id as its event id field: _id = sha256(app NUL "id:" event_id).
  for (const auto& [id, doc] : docs) {
    rapidjson::Document d = parse(doc);
    std::string event_id = d["event"]["event_id"].GetString();
    EXPECT_EQ(id, siphon::auth::hex(
                      siphon::auth::sha256(std::string("corp-box") + '\0' + "id:" + event_id)));
  }
  Result again = once();  // --since again: the same events, the same _ids
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(es.document_count(), kEvents) << "nothing stored twice";
  EXPECT_EQ(es.conflicts(), kEvents);
  ASSERT_FALSE(es.pipelines().empty());
  EXPECT_EQ(es.pipelines().front(), "siphon-ingest");
}

TEST_F(SinkTypeTest, ElasticsearchItemRefusedWithA4xxFailsTheRunNamingTheFirstError) {
  ElasticsearchImitation es;
  es.start();
  es.refuse_documents_containing("\"event_id\"");
  configure("  - name: net\n    type: elasticsearch\n    url: " + es.base_url() + "\n");
  Result r = once();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("mapper_parsing_exception"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("siphon-box_admin_events"), std::string::npos) << r.err;
  expect_cursor_not_moved();
}

TEST_F(SinkTypeTest, ElasticsearchItemsRejectedThroughEveryRetryFailTheRun) {
  ElasticsearchImitation es;
  es.start();
  es.reject_next_items(1000000, 429);
  configure("  - name: net\n    type: elasticsearch\n    url: " + es.base_url() +
            "\n    batch_size: 10\n");
  Result r = once();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("es_rejected_execution_exception"), std::string::npos) << r.err;
  expect_cursor_not_moved();
}

TEST_F(SinkTypeTest, ElasticsearchApiKeyIsSentAndWrongCredentialsFailTheRun) {
  ElasticsearchImitation es;
  es.require_api_key("VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==");
  es.start();
  ::setenv("SIPHON_TEST_ES_API_KEY",
           "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==", 1);
  configure("  - name: net\n    type: elasticsearch\n    url: " + es.base_url() +
            "\n    api_key: ${env:SIPHON_TEST_ES_API_KEY}\n");
  ASSERT_EQ(once().exit_code, 0);
  EXPECT_EQ(es.document_count(), kEvents);
  ::setenv("SIPHON_TEST_ES_API_KEY", "d3JvbmcKZ3JlcG1lCg==", 1);
  dir_.siphon({"state", "reset", "corp-box"});
  Result r = once();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("HTTP 401"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("d3JvbmcKZ3JlcG1lCg=="), std::string::npos) << "the key is never printed";
}

TEST_F(SinkTypeTest, CheckNamesFileSinkAndKeyOfEveryProblemWithoutNetwork) {
  configure(
      "  - name: net\n    type: elasticsearch\n    url: http://127.0.0.1:9200\n    colour: "
      "blue\n"
      "  - name: hec\n    type: splunk_hec\n    url: https://hec.example.com:8088\n");
  std::string file = dir_.file("siphon.yaml");
  Result r = dir_.siphon({"check"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find(file + ": sink net: unknown key \"colour\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(file + ": sink hec: field token: missing"), std::string::npos) << r.out;
  // Settings that parse, checked further (still without network).
  configure(
      "  - name: net\n    type: elasticsearch\n    url: http://example.com:9200\n"
      "    password: ${env:SIPHON_TEST_UNSET_VARIABLE}\n    username: u\n"
      "  - name: hec\n    type: splunk_hec\n    url: https://hec.example.com:8088\n"
      "    token: literal-token-value\n");
  r = dir_.siphon({"check"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find(file + ": sink net: field url: plain http is allowed only to loopback"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(file + ": sink net: field password: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SIPHON_TEST_UNSET_VARIABLE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(file + ": sink hec: field token: warning: a literal secret"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("literal-token-value"), std::string::npos) << "never the value";
}

}  // namespace
