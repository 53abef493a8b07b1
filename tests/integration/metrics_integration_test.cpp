// /metrics and /health of `siphon run` (http.listen), scraped while the real
// binary runs against the Box imitation on 127.0.0.1.
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "harness.hpp"

using siphon::imitation::BoxImitation;
using siphon::testing::BoxAccount;
using siphon::testing::wait_child;
using siphon::testing::Workdir;

namespace {

struct Scrape {
  int status = 0;
  std::string body;
};

// The series of a text exposition: "name{labels}" -> value (comments dropped).
std::map<std::string, double> parse_exposition(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto sp = line.rfind(' ');
    if (sp == std::string::npos) continue;
    out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return out;
}

// The sum of the series of metric `name` whose labels include every one of `labels`
// (each given as key="value").
double sum(const std::map<std::string, double>& series, const std::string& name,
           const std::vector<std::string>& labels = {}) {
  double total = 0;
  for (const auto& [key, value] : series) {
    if (key.compare(0, name.size() + 1, name + "{") != 0 && key != name) continue;
    bool all = true;
    for (const auto& l : labels) all = all && key.find(l) != std::string::npos;
    if (all) total += value;
  }
  return total;
}

class MetricsEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override { box_ = std::make_unique<BoxAccount>(dir_); }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      wait_child(pid_, 30);
    }
  }

  void write_config(const std::string& apps) {
    dir_.write("siphon.yaml", std::string("plugin_dirs: [") + SIPHON_PLUGIN_DIR +
                                  "]\n"
                                  "state: sqlite:state.db\n"
                                  "http:\n"
                                  "  listen: 127.0.0.1:0\n"
                                  "  max_retries: 2\n"
                                  "  retry_max_wait: 5s\n"
                                  "sinks:\n"
                                  "  - name: out\n"
                                  "    type: file\n"
                                  "    path: events.jsonl\n"
                                  "apps:\n" +
                                  apps);
  }

  // Starts `siphon run` and reads the port it serves on from its log.
  void start() {
    pid_ = dir_.spawn({"run"}, "run");
    std::regex served(R"(serving /metrics and /health on http://127\.0\.0\.1:(\d+))");
    for (int i = 0; i < 500 && port_ == 0; ++i) {
      std::smatch m;
      std::string err = dir_.read("run.err");
      if (std::regex_search(err, m, served)) port_ = static_cast<uint16_t>(std::stoi(m[1]));
      if (port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_NE(port_, 0) << dir_.read("run.err");
  }

  Scrape get(const std::string& path) const {
    Poco::Net::HTTPClientSession s("127.0.0.1", port_);
    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_GET, path,
                               Poco::Net::HTTPMessage::HTTP_1_1);
    s.sendRequest(req);
    Poco::Net::HTTPResponse resp;
    std::istream& is = s.receiveResponse(resp);
    Scrape out;
    out.status = static_cast<int>(resp.getStatus());
    Poco::StreamCopier::copyToString(is, out.body);
    return out;
  }

  std::map<std::string, double> metrics() const {
    Scrape s = get("/metrics");
    EXPECT_EQ(s.status, 200);
    return parse_exposition(s.body);
  }

  // Scrapes until `done` holds (up to timeout_s); returns the last scrape.
  std::map<std::string, double> scrape_until(
      const std::function<bool(const std::map<std::string, double>&)>& done, int timeout_s) {
    std::map<std::string, double> m;
    for (int i = 0; i < timeout_s * 10; ++i) {
      m = metrics();
      if (done(m)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return m;
  }

  int64_t now() const { return siphon::imitation::now_ms(); }

  Workdir dir_;
  std::unique_ptr<BoxAccount> box_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

TEST_F(MetricsEndToEnd, CountersMatchEventsDeliveredAndRequestsTheImitationCounted) {
  const int64_t first_event_ms = now() - 3600 * 1000;
  box_->add_events(120, first_event_ms);  // one second apart
  write_config(siphon::testing::box_app_yaml("corp-box", box_->base_url(), "    interval: 1h\n",
                                             "      limit: \"50\"\n"));
  ASSERT_EQ(dir_.siphon({"state", "reset", "corp-box", "--since", "2h"}).exit_code, 0);
  start();
  const std::string app = "app=\"corp-box\"";
  auto m = scrape_until(
      [&](const auto& s) {
        return sum(s, "siphon_runs_total", {app, "status=\"succeeded\""}) >= 1;
      },
      30);
  ASSERT_EQ(sum(m, "siphon_runs_total", {app, "status=\"succeeded\""}), 1) << dir_.read("run.err");
  EXPECT_EQ(sum(m, "siphon_runs_total", {app, "status=\"failed\""}), 0);

  // Events: what the plugin returned, what the sink holds, and the file agree.
  ASSERT_EQ(dir_.event_lines(), 120u);
  EXPECT_EQ(sum(m, "siphon_events_received_total", {app, "type=\"box_admin_events\""}), 120);
  EXPECT_EQ(sum(m, "siphon_events_sent_total", {app, "sink=\"out\""}), 120);

  // Requests: every attempt siphon counted is one the imitation answered.
  const double events_requests = static_cast<double>(box_->requests("/2.0/events"));
  const double all_requests = static_cast<double>(box_->requests());
  EXPECT_GE(events_requests, 3);  // 50 + 50 + 20 (+ an empty last page)
  EXPECT_EQ(sum(m, "siphon_http_requests_total", {app}), all_requests);
  EXPECT_EQ(sum(m, "siphon_http_requests_total", {app, "code_class=\"2xx\""}), all_requests);
  EXPECT_EQ(sum(m, "siphon_polls_total", {app, "result=\"ok\""}), events_requests);
  EXPECT_EQ(sum(m, "siphon_http_request_duration_seconds_count", {app}), all_requests);
  EXPECT_EQ(sum(m, "siphon_http_retries_total", {app}), 0);
  EXPECT_EQ(sum(m, "siphon_sink_errors_total", {app}), 0);
  EXPECT_EQ(sum(m, "siphon_lease_held", {app}), 0);  // the run is over
  EXPECT_NEAR(sum(m, "siphon_last_success_timestamp_seconds", {app}),
              static_cast<double>(now()) / 1000.0, 60);

  // Lag: the Box plugin reports each page's newest created_at (ABI 1.1).
  const double newest_s = static_cast<double>(first_event_ms + 119 * 1000) / 1000.0;
  EXPECT_NEAR(sum(m, "siphon_app_lag_seconds", {app}),
              static_cast<double>(now()) / 1000.0 - newest_s, 5)
      << "no lag series? "
      << m.count("siphon_app_lag_seconds{app=\"corp-box\",type=\"box_admin_events\"}");

  Scrape health = get("/health");
  EXPECT_EQ(health.status, 200) << health.body;
  rapidjson::Document doc;
  doc.Parse(health.body.c_str());
  ASSERT_TRUE(doc.IsObject()) << health.body;
  EXPECT_STREQ(doc["status"].GetString(), "ok");
  ASSERT_EQ(doc["apps"].Size(), 1u);
  EXPECT_STREQ(doc["apps"][0]["name"].GetString(), "corp-box");
  EXPECT_STREQ(doc["apps"][0]["type"].GetString(), "box_admin_events");
  EXPECT_STREQ(doc["apps"][0]["status"].GetString(), "ok");
  EXPECT_TRUE(doc["apps"][0]["last_success"].IsString());
  EXPECT_TRUE(doc["apps"][0]["last_error"].IsNull());

  EXPECT_EQ(get("/nothing-here").status, 404);
}

// What a poll returns beyond the events (the newest event time, the duplicates
// dropped) crosses the worker protocol of `isolation: process`, and the
// worker's HTTP requests, served by the host, are counted for the app.
TEST_F(MetricsEndToEnd, LagAndDuplicatesCrossThePluginWorkerProcess) {
  const int64_t first_event_ms = now() - 7200 * 1000;
  box_->add_events(120, first_event_ms);
  box_->set_repeat_last_event(true);  // each page repeats the previous page's last event
  write_config(siphon::testing::box_app_yaml("corp-box", box_->base_url(),
                                             "    interval: 1h\n    isolation: process\n",
                                             "      limit: \"50\"\n"));
  ASSERT_EQ(dir_.siphon({"state", "reset", "corp-box", "--since", "3h"}).exit_code, 0);
  start();
  const std::string app = "app=\"corp-box\"";
  auto m = scrape_until([&](const auto& s) { return sum(s, "siphon_runs_total", {app}) >= 1; }, 60);
  ASSERT_EQ(sum(m, "siphon_runs_total", {app, "status=\"succeeded\""}), 1) << dir_.read("run.err");
  ASSERT_EQ(dir_.event_lines(), 120u);
  EXPECT_EQ(sum(m, "siphon_events_sent_total", {app}), 120);
  EXPECT_GE(sum(m, "siphon_duplicates_dropped_total", {app}), 2);
  EXPECT_EQ(sum(m, "siphon_http_requests_total", {app}), static_cast<double>(box_->requests()));
  const double newest_s = static_cast<double>(first_event_ms + 119 * 1000) / 1000.0;
  EXPECT_NEAR(sum(m, "siphon_app_lag_seconds", {app}),
              static_cast<double>(now()) / 1000.0 - newest_s, 5);
}

TEST_F(MetricsEndToEnd, RetriesAndServerErrorsAreCounted) {
  box_->add_events(10, now() - 600 * 1000);
  siphon::imitation::Fault busy;
  busy.status = 503;
  busy.count = 2;
  busy.retry_after = "1";
  busy.path_prefix = "/2.0/events";
  box_->inject(busy);
  write_config(siphon::testing::box_app_yaml("corp-box", box_->base_url(), "    interval: 1h\n"));
  ASSERT_EQ(dir_.siphon({"state", "reset", "corp-box", "--since", "1h"}).exit_code, 0);
  start();
  const std::string app = "app=\"corp-box\"";
  auto m = scrape_until([&](const auto& s) { return sum(s, "siphon_runs_total", {app}) >= 1; }, 30);
  ASSERT_EQ(sum(m, "siphon_runs_total", {app, "status=\"succeeded\""}), 1) << dir_.read("run.err");
  EXPECT_EQ(sum(m, "siphon_http_requests_total", {app, "code_class=\"5xx\""}), 2);
  EXPECT_EQ(sum(m, "siphon_http_retries_total", {app}), 2);
  // Retry-After: 1 twice.
  EXPECT_NEAR(sum(m, "siphon_rate_limit_wait_seconds_total", {app}), 2.0, 0.01);
  EXPECT_EQ(sum(m, "siphon_http_requests_total", {app}), static_cast<double>(box_->requests()));
  EXPECT_EQ(sum(m, "siphon_events_sent_total", {app}), 10);
}

TEST_F(MetricsEndToEnd, HealthIs503NamingTheAppWhoseCredentialsTheVendorRefuses) {
  box_->add_events(5, now() - 600 * 1000);
  // bad-box signs its JWT with a key Box does not know: the token is refused.
  BoxImitation::Keyfile stranger = BoxImitation::make_keyfile();
  dir_.write("secrets/bad.json", stranger.json, 0600);
  std::string bad =
      siphon::testing::box_app_yaml("bad-box", box_->base_url(), "    interval: 1s\n");
  bad = std::regex_replace(bad, std::regex("secrets/box\\.json"), "secrets/bad.json");
  // corp-box runs once an hour: it stays ok (or pending) for the whole test.
  write_config(siphon::testing::box_app_yaml("corp-box", box_->base_url(), "    interval: 1h\n") +
               bad);
  start();
  Scrape health;
  for (int i = 0; i < 300; ++i) {
    health = get("/health");
    if (health.status == 503) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(health.status, 503) << health.body;
  rapidjson::Document doc;
  doc.Parse(health.body.c_str());
  ASSERT_TRUE(doc.IsObject()) << health.body;
  EXPECT_STREQ(doc["status"].GetString(), "failing");
  ASSERT_EQ(doc["failing"].Size(), 1u) << health.body;
  EXPECT_STREQ(doc["failing"][0].GetString(), "bad-box");
  for (const auto& a : doc["apps"].GetArray()) {
    std::string name = a["name"].GetString();
    if (name == "bad-box") {
      EXPECT_STREQ(a["status"].GetString(), "failing");
      ASSERT_TRUE(a["last_error"].IsString());
      EXPECT_NE(std::string(a["last_error"].GetString()).find("credentials refused"),
                std::string::npos)
          << a["last_error"].GetString();
    } else {
      EXPECT_EQ(name, "corp-box");
      EXPECT_STRNE(a["status"].GetString(), "failing") << health.body;
    }
  }
  // Neither key file's secrets appear.
  EXPECT_EQ(health.body.find(stranger.passphrase), std::string::npos);
  EXPECT_EQ(health.body.find("PRIVATE KEY"), std::string::npos);
  auto m = metrics();
  EXPECT_GE(sum(m, "siphon_polls_total", {"app=\"bad-box\"", "result=\"auth_rejected\""}), 1);
  EXPECT_GE(sum(m, "siphon_runs_total", {"app=\"bad-box\"", "status=\"failed\""}), 1);
  EXPECT_GE(sum(m, "siphon_http_requests_total", {"app=\"bad-box\"", "code_class=\"4xx\""}), 1);
}

TEST_F(MetricsEndToEnd, AListenAddressThatIsNotHostPortIsAConfigErrorNamingTheKey) {
  dir_.write("siphon.yaml", std::string("plugin_dirs: [") + SIPHON_PLUGIN_DIR +
                                "]\nhttp:\n  listen: 9464\napps: []\n");
  auto r = dir_.siphon({"check"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE((r.out + r.err).find("http: listen"), std::string::npos) << r.out << r.err;
}

}  // namespace
