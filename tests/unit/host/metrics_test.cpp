// Metrics: the text exposition (names, labels, values), the /health verdict
// over time, and the endpoint that serves both.
#include "metrics/metrics.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>
#include <regex>
#include <string>

#include "metrics/metrics_server.hpp"

namespace siphon {
namespace {

constexpr int64_t kT0 = 1'800'000'000'000;  // a fixed "now", ms

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(MetricsTest, ExpositionNamesEverySeriesWithAppTypeAndSinkLabels) {
  Metrics m;
  AppMetrics& a = m.app("corp-duo", "duo_auth", "out", 600, kT0);
  a.poll(SIPHON_OK, 7, 2);
  a.poll(SIPHON_AUTH_REJECTED, 0, 0);
  a.delivered(7, kT0 - 90'000);
  a.http_request(200, 0.02);
  a.http_request(429, 0.01);
  a.http_request(0, 1.5);
  a.http_retry();
  a.rate_limit_wait(2.5);
  a.lease_held(true);
  a.sink_error();
  std::string text = m.exposition(kT0);
  const std::string l = "app=\"corp-duo\",type=\"duo_auth\"";
  EXPECT_TRUE(has_line(text, "# TYPE siphon_events_received_total counter")) << text;
  EXPECT_TRUE(has_line(text, "siphon_events_received_total{" + l + "} 7")) << text;
  EXPECT_TRUE(
      has_line(text, "siphon_events_sent_total{app=\"corp-duo\",sink=\"out\",type=\"duo_auth\"} 7"))
      << text;
  EXPECT_TRUE(has_line(text, "siphon_duplicates_dropped_total{" + l + "} 2")) << text;
  EXPECT_TRUE(
      has_line(text, "siphon_polls_total{app=\"corp-duo\",result=\"ok\",type=\"duo_auth\"} 1"));
  EXPECT_TRUE(has_line(
      text, "siphon_polls_total{app=\"corp-duo\",result=\"auth_rejected\",type=\"duo_auth\"} 1"));
  EXPECT_TRUE(has_line(
      text, "siphon_http_requests_total{app=\"corp-duo\",code_class=\"2xx\",type=\"duo_auth\"} 1"));
  EXPECT_TRUE(has_line(
      text, "siphon_http_requests_total{app=\"corp-duo\",code_class=\"4xx\",type=\"duo_auth\"} 1"));
  EXPECT_TRUE(has_line(
      text,
      "siphon_http_requests_total{app=\"corp-duo\",code_class=\"error\",type=\"duo_auth\"} 1"));
  EXPECT_TRUE(has_line(text, "# TYPE siphon_http_request_duration_seconds histogram"));
  EXPECT_TRUE(has_line(text, "siphon_http_request_duration_seconds_count{" + l + "} 3")) << text;
  EXPECT_TRUE(has_line(text,
                       "siphon_http_request_duration_seconds_bucket{app=\"corp-duo\",type=\"duo_"
                       "auth\",le=\"0.025\"} 2"))
      << text;
  EXPECT_TRUE(has_line(text, "siphon_http_retries_total{" + l + "} 1"));
  EXPECT_TRUE(has_line(text, "siphon_rate_limit_wait_seconds_total{" + l + "} 2.5"));
  EXPECT_TRUE(has_line(text, "siphon_lease_held{" + l + "} 1"));
  EXPECT_TRUE(has_line(
      text, "siphon_sink_errors_total{app=\"corp-duo\",sink=\"out\",type=\"duo_auth\"} 1"));
  EXPECT_TRUE(has_line(text, "siphon_app_lag_seconds{" + l + "} 90")) << text;
  // The lag grows with the clock until a newer event commits; older pages do not move it back.
  EXPECT_TRUE(has_line(m.exposition(kT0 + 10'000), "siphon_app_lag_seconds{" + l + "} 100"));
  a.delivered(3, kT0 - 500'000);
  EXPECT_TRUE(has_line(m.exposition(kT0 + 10'000), "siphon_app_lag_seconds{" + l + "} 100"));
  a.delivered(3, kT0 + 5'000);
  EXPECT_TRUE(has_line(m.exposition(kT0 + 10'000), "siphon_app_lag_seconds{" + l + "} 5"));
}

TEST(MetricsTest, NoLagSeriesUntilThePluginReportsAnEventTime) {
  Metrics m;
  AppMetrics& a = m.app("corp-box", "box_admin_events", "out", 60, kT0);
  a.delivered(10, 0);
  EXPECT_EQ(m.exposition(kT0).find("siphon_app_lag_seconds{"), std::string::npos);
  EXPECT_EQ(&m.app("corp-box", "box_admin_events", "out", 60, kT0), &a);
}

TEST(MetricsTest, RunsAndLastSuccess) {
  Metrics m;
  AppMetrics& a = m.app("x", "box_admin_events", "out", 60, kT0);
  a.run_finished("succeeded", "", kT0 + 1500);
  a.run_finished("failed", "boom", kT0 + 2000);
  a.run_finished("partial", "", kT0 + 3000);
  std::string text = m.exposition(kT0 + 4000);
  EXPECT_TRUE(has_line(
      text, "siphon_runs_total{app=\"x\",status=\"succeeded\",type=\"box_admin_events\"} 1"));
  EXPECT_TRUE(
      has_line(text, "siphon_runs_total{app=\"x\",status=\"failed\",type=\"box_admin_events\"} 1"));
  EXPECT_TRUE(has_line(
      text, "siphon_runs_total{app=\"x\",status=\"partial\",type=\"box_admin_events\"} 1"));
  EXPECT_TRUE(has_line(
      text,
      "siphon_last_success_timestamp_seconds{app=\"x\",type=\"box_admin_events\"} 1800000003"))
      << text;
}

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  EXPECT_TRUE(d.IsObject()) << json;
  return d;
}

TEST(HealthTest, PendingThenOkThenFailingWhenNoSuccessWithinTwoIntervals) {
  Metrics m;
  AppMetrics& a = m.app("a", "duo_auth", "out", 60, kT0);
  Health h = m.health(kT0 + 1000);
  EXPECT_TRUE(h.ok) << h.json;
  EXPECT_STREQ(parse(h.json)["apps"][0]["status"].GetString(), "pending");
  // No run ended within 2 intervals of starting: failing.
  h = m.health(kT0 + 121'000);
  EXPECT_FALSE(h.ok);
  a.run_finished("succeeded", "", kT0 + 130'000);
  h = m.health(kT0 + 131'000);
  EXPECT_TRUE(h.ok) << h.json;
  auto d = parse(h.json);
  EXPECT_STREQ(d["status"].GetString(), "ok");
  EXPECT_STREQ(d["apps"][0]["status"].GetString(), "ok");
  EXPECT_STREQ(d["apps"][0]["last_success"].GetString(), "2027-01-15T08:02:10.000Z");
  EXPECT_TRUE(d["apps"][0]["last_error"].IsNull());
  // One failed run within the window is tolerated...
  a.run_finished("failed", "plugin siphon-duo: vendor unavailable", kT0 + 190'000);
  EXPECT_TRUE(m.health(kT0 + 191'000).ok);
  // ...until 2 intervals pass without a success.
  h = m.health(kT0 + 251'000);
  EXPECT_FALSE(h.ok);
  d = parse(h.json);
  EXPECT_STREQ(d["status"].GetString(), "failing");
  ASSERT_EQ(d["failing"].Size(), 1u);
  EXPECT_STREQ(d["failing"][0].GetString(), "a");
  EXPECT_STREQ(d["apps"][0]["last_error"].GetString(), "plugin siphon-duo: vendor unavailable");
  EXPECT_STREQ(d["apps"][0]["last_run_status"].GetString(), "failed");
}

// In a fleet, an app another host holds is not failing here, however long
// this host has not run it; nor does this host export its lag (it would
// grow without bound). Taking the lease back makes it this host's again.
TEST(HealthTest, AnAppHeldByAnotherHostIsElsewhereNotFailingAndHasNoLagHere) {
  Metrics m;
  AppMetrics& a = m.app("a", "box_admin_events", "out", 60, kT0);
  a.run_finished("succeeded", "", kT0 + 10'000);
  a.delivered(5, kT0 - 30'000);
  EXPECT_NE(m.exposition(kT0 + 11'000).find("siphon_app_lag_seconds{"), std::string::npos);
  a.held_elsewhere(true);
  Health h = m.health(kT0 + 3'600'000);
  EXPECT_TRUE(h.ok) << h.json;
  EXPECT_STREQ(parse(h.json)["apps"][0]["status"].GetString(), "elsewhere");
  EXPECT_EQ(m.exposition(kT0 + 3'600'000).find("siphon_app_lag_seconds{"), std::string::npos);
  a.held_elsewhere(false);
  h = m.health(kT0 + 3'600'000);
  EXPECT_FALSE(h.ok) << "back on this host, with no success for an hour";
  EXPECT_NE(m.exposition(kT0 + 3'600'000).find("siphon_app_lag_seconds{"), std::string::npos);
}

TEST(HealthTest, AFailureBeforeAnySuccessFailsAtOnceAndNamesOnlyThatApp) {
  Metrics m;
  m.app("good", "duo_auth", "out", 600, kT0).run_finished("succeeded", "", kT0 + 10);
  m.app("bad", "duo_auth", "out", 600, kT0).run_finished("failed", "credentials refused", kT0 + 20);
  m.app("new", "duo_auth", "out", 600, kT0);
  Health h = m.health(kT0 + 30);
  EXPECT_FALSE(h.ok);
  auto d = parse(h.json);
  ASSERT_EQ(d["failing"].Size(), 1u);
  EXPECT_STREQ(d["failing"][0].GetString(), "bad");
  ASSERT_EQ(d["apps"].Size(), 3u);
  m.app("bad", "duo_auth", "out", 600, kT0).run_finished("succeeded", "", kT0 + 40);
  EXPECT_TRUE(m.health(kT0 + 50).ok);
}

struct Got {
  int status = 0;
  std::string type, body;
};

Got http(uint16_t port, const std::string& method, const std::string& path) {
  Poco::Net::HTTPClientSession s("127.0.0.1", port);
  Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  if (method == "POST") req.setContentLength(0);
  s.sendRequest(req);
  Poco::Net::HTTPResponse resp;
  std::istream& is = s.receiveResponse(resp);
  Got g;
  g.status = static_cast<int>(resp.getStatus());
  g.type = resp.getContentType();
  Poco::StreamCopier::copyToString(is, g.body);
  return g;
}

TEST(MetricsServerTest, ServesMetricsAndHealthOnLoopback) {
  Metrics m;
  m.app("a", "duo_auth", "out", 60, 0).run_finished("failed", "refused", 1);
  MetricsServer server(m, "127.0.0.1:0");
  ASSERT_EQ(server.address().rfind("127.0.0.1:", 0), 0u) << server.address();
  uint16_t port = static_cast<uint16_t>(std::stoi(server.address().substr(10)));
  Got g = http(port, "GET", "/metrics");
  EXPECT_EQ(g.status, 200);
  EXPECT_EQ(g.type.rfind("text/plain; version=0.0.4", 0), 0u) << g.type;
  EXPECT_NE(g.body.find("siphon_runs_total{app=\"a\",status=\"failed\",type=\"duo_auth\"} 1"),
            std::string::npos);
  g = http(port, "GET", "/health");
  EXPECT_EQ(g.status, 503);
  EXPECT_EQ(g.type, "application/json");
  EXPECT_STREQ(parse(g.body)["failing"][0].GetString(), "a");
  EXPECT_EQ(http(port, "GET", "/").status, 404);
  EXPECT_EQ(http(port, "POST", "/metrics").status, 405);
}

TEST(MetricsServerTest, AnAddressInUseIsAnErrorNamingIt) {
  Metrics m;
  MetricsServer first(m, "127.0.0.1:0");
  try {
    MetricsServer second(m, first.address());
    FAIL() << "bound twice";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("http.listen " + first.address()), std::string::npos)
        << e.what();
  }
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The dashboard and the alert rules shipped in packaging/ use only series
// that siphon exposes (a renamed metric would leave them silently empty).
TEST(MetricsTest, PackagedDashboardAndAlertsNameOnlyExposedSeries) {
  Metrics m;
  AppMetrics& a = m.app("a", "duo_auth", "out", 60, kT0);
  a.delivered(1, kT0);
  std::string exposed = m.exposition(kT0);
  std::string dashboard = slurp(SIPHON_PACKAGING_DIR "/monitoring/siphon-dashboard.json");
  rapidjson::Document d;
  d.Parse(dashboard.c_str());
  ASSERT_TRUE(d.IsObject() && d.HasMember("panels") && d["panels"].IsArray());
  std::string alerts = slurp(SIPHON_PACKAGING_DIR "/monitoring/siphon-alerts.yml");
  for (const std::string& text : {dashboard, alerts}) {
    std::regex name(R"(siphon_[a-z_]+)");
    int found = 0;
    for (std::sregex_iterator it(text.begin(), text.end(), name), end; it != end; ++it) {
      std::string n = it->str();
      if (n == "siphon_dashboard" || n == "siphon_alerts") continue;
      ++found;
      EXPECT_NE(exposed.find("\n" + n + "{"), std::string::npos) << n << " is not exposed";
    }
    EXPECT_GT(found, 5);
  }
}

}  // namespace
}  // namespace siphon
