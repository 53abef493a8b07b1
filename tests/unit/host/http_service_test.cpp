// The HTTP service against a loopback imitation: requests arrive as sent,
// sessions are reused, 429/5xx (and 403s that are rate limits) are retried
// honouring Retry-After within bounds, and broken or oversized responses and
// plain http to remote hosts are errors.
#include "http/http_service.hpp"

#include <Poco/DeflatingStream.h>
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <sstream>
#include <string>

#include "imitation.hpp"
#include "util/clock.hpp"

namespace siphon {
namespace {

// Answers every request with "echo:<path>", or a large body under /big;
// remembers the last request.
class EchoImitation : public imitation::Imitation {
 public:
  imitation::Request last() const {
    std::lock_guard lock(mu_);
    return last_;
  }

 protected:
  void handle(const imitation::Request& request, imitation::Reply& reply) override {
    {
      std::lock_guard lock(mu_);
      last_ = request;
    }
    reply.status = 200;
    reply.content_type = "text/plain";
    reply.headers.emplace_back("X-Echo", "yes");
    if (request.path.rfind("/big", 0) == 0) {
      reply.body.assign(5000, 'x');
    } else if (request.path.rfind("/gzip", 0) == 0) {
      std::ostringstream packed;
      Poco::DeflatingOutputStream deflater(packed, Poco::DeflatingStreamBuf::STREAM_GZIP);
      deflater << std::string(200000, 'z');
      deflater.close();
      reply.body = packed.str();
      reply.headers.emplace_back("Content-Encoding", "gzip");
    } else {
      reply.body = "echo:" + request.path;
    }
  }

 private:
  mutable std::mutex mu_;
  imitation::Request last_;
};

HttpConfig quick_retries() {
  HttpConfig c;
  c.connect_timeout_ms = 2000;
  c.read_timeout_ms = 5000;
  c.max_retries = 3;
  c.retry_max_wait_ms = 3000;
  return c;
}

int64_t elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

class HttpServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { server_.start(); }
  void TearDown() override { server_.stop(); }

  siphon_status get(HttpService& http, const std::string& path, HttpResponse& response) {
    HttpRequest request;
    request.method = "GET";
    request.url = server_.base_url() + path;
    return http.send(request, response, nullptr);
  }

  EchoImitation server_;
};

TEST_F(HttpServiceTest, GetWithHeadersAndQueryReachesTheServer) {
  HttpService http(quick_retries());
  HttpRequest request;
  request.method = "GET";
  request.url = server_.base_url() + "/v1/logs?limit=10&q=a%20b";
  request.headers = {{"X-Api-Key", "k-123"}, {"Accept", "application/json"}};
  HttpResponse response;
  ASSERT_EQ(http.send(request, response, nullptr), SIPHON_OK) << response.error;
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "echo:/v1/logs");
  EXPECT_EQ(response.attempts, 1);
  bool has_echo = false;
  for (const auto& [k, v] : response.headers) has_echo = has_echo || (k == "X-Echo" && v == "yes");
  EXPECT_TRUE(has_echo);

  imitation::Request seen = server_.last();
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.path, "/v1/logs");
  EXPECT_EQ(seen.query, "limit=10&q=a%20b");
  EXPECT_EQ(seen.param("limit"), "10");
  EXPECT_EQ(seen.param("q"), "a b");
  EXPECT_EQ(seen.header("x-api-key"), "k-123");
  EXPECT_EQ(seen.header("accept"), "application/json");
  EXPECT_EQ(seen.header("user-agent").rfind("siphon/", 0), 0u);
}

TEST_F(HttpServiceTest, PostSendsTheBody) {
  HttpService http(quick_retries());
  HttpRequest request;
  request.method = "POST";
  request.url = server_.base_url() + "/oauth/token";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  request.body = "grant_type=client_credentials&scope=a+b";
  HttpResponse response;
  ASSERT_EQ(http.send(request, response, nullptr), SIPHON_OK) << response.error;
  imitation::Request seen = server_.last();
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.body, request.body);
  EXPECT_EQ(seen.header("content-length"), std::to_string(request.body.size()));
  EXPECT_EQ(seen.param("grant_type"), "client_credentials");
}

TEST_F(HttpServiceTest, SequentialRequestsReuseOneConnection) {
  HttpService http(quick_retries());
  for (int i = 0; i < 10; ++i) {
    HttpResponse response;
    ASSERT_EQ(get(http, "/page/" + std::to_string(i), response), SIPHON_OK) << response.error;
    EXPECT_EQ(response.body, "echo:/page/" + std::to_string(i));
  }
  EXPECT_EQ(server_.requests("/page/"), 10u);
  EXPECT_EQ(http.connections_opened(), 1u);
  EXPECT_EQ(server_.connections(), 1u);
}

TEST_F(HttpServiceTest, ServerErrorsAreRetriedUntilSuccess) {
  HttpService http(quick_retries());
  imitation::Fault fault;
  fault.status = 503;
  fault.count = 2;
  server_.inject(fault);
  HttpResponse response;
  ASSERT_EQ(get(http, "/flaky", response), SIPHON_OK) << response.error;
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "echo:/flaky");
  EXPECT_EQ(response.attempts, 3);
  EXPECT_EQ(server_.requests("/flaky"), 3u);
}

TEST_F(HttpServiceTest, RetryAfterIsHonoured) {
  HttpService http(quick_retries());
  imitation::Fault fault;
  fault.status = 429;
  fault.retry_after = "1";
  server_.inject(fault);
  auto start = std::chrono::steady_clock::now();
  HttpResponse response;
  ASSERT_EQ(get(http, "/limited", response), SIPHON_OK) << response.error;
  EXPECT_GE(elapsed_ms(start), 950);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.attempts, 2);
}

TEST_F(HttpServiceTest, ExhaustedRetriesAskToRetryLater) {
  HttpConfig config = quick_retries();
  config.max_retries = 1;
  HttpService http(config);
  imitation::Fault fault;
  fault.status = 503;
  fault.count = 10;
  server_.inject(fault);
  HttpResponse response;
  EXPECT_EQ(get(http, "/down", response), SIPHON_RETRY_LATER);
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.attempts, 2);
  EXPECT_NE(response.error.find("503"), std::string::npos) << response.error;
  EXPECT_EQ(server_.requests("/down"), 2u);
}

TEST_F(HttpServiceTest, RetryAfterBeyondTheMaximumWaitGivesUpAtOnce) {
  HttpService http(quick_retries());
  imitation::Fault fault;
  fault.status = 429;
  fault.retry_after = "120";
  server_.inject(fault);
  auto start = std::chrono::steady_clock::now();
  HttpResponse response;
  EXPECT_EQ(get(http, "/slow-down", response), SIPHON_RETRY_LATER);
  EXPECT_LT(elapsed_ms(start), 1000);
  EXPECT_EQ(server_.requests("/slow-down"), 1u);
  EXPECT_NE(response.error.find("429"), std::string::npos) << response.error;
}

TEST_F(HttpServiceTest, StopCutsARetryWaitShort) {
  HttpService http(quick_retries());
  imitation::Fault fault;
  fault.status = 429;
  fault.retry_after = "2";
  server_.inject(fault);
  StopSignal stop;
  stop.request();
  auto start = std::chrono::steady_clock::now();
  HttpRequest request;
  request.method = "GET";
  request.url = server_.base_url() + "/stopping";
  HttpResponse response;
  EXPECT_EQ(http.send(request, response, &stop), SIPHON_RETRY_LATER);
  EXPECT_LT(elapsed_ms(start), 1000);
}

TEST_F(HttpServiceTest, TruncatedBodyIsAnError) {
  HttpConfig config = quick_retries();
  config.max_retries = 0;
  HttpService http(config);
  imitation::Fault fault;
  fault.truncate = true;
  fault.count = 10;
  server_.inject(fault);
  HttpResponse response;
  EXPECT_NE(get(http, "/big", response), SIPHON_OK);
  EXPECT_NE(response.error.find("truncated"), std::string::npos) << response.error;
}

TEST_F(HttpServiceTest, OversizedResponseIsAnError) {
  HttpConfig config = quick_retries();
  config.max_response_bytes = 1000;
  HttpService http(config);
  HttpResponse response;
  EXPECT_EQ(get(http, "/big", response), SIPHON_ERROR);
  EXPECT_NE(response.error.find("max_response_bytes"), std::string::npos) << response.error;
  EXPECT_EQ(server_.requests("/big"), 1u);
}

TEST_F(HttpServiceTest, PlainHttpToARemoteHostIsRefusedWithoutConnecting) {
  HttpService http(quick_retries());
  HttpRequest request;
  request.method = "GET";
  request.url = "http://example.com/";
  HttpResponse response;
  EXPECT_EQ(http.send(request, response, nullptr), SIPHON_ERROR);
  EXPECT_NE(response.error.find("loopback"), std::string::npos) << response.error;
  EXPECT_EQ(http.connections_opened(), 0u);
}

TEST_F(HttpServiceTest, PlainHttpToANameThatMerelyStartsWith127IsRefused) {
  HttpService http(quick_retries());
  for (const char* url : {"http://127.example.com/", "http://127.0.0.1.example.com/x",
                          "http://localhost.example.com/"}) {
    HttpRequest request;
    request.method = "GET";
    request.url = url;
    HttpResponse response;
    EXPECT_EQ(http.send(request, response, nullptr), SIPHON_ERROR) << url;
    EXPECT_NE(response.error.find("plain http is allowed only to loopback hosts"),
              std::string::npos)
        << url << ": " << response.error;
  }
  EXPECT_EQ(http.connections_opened(), 0u);
}

TEST(LoopbackHost, OnlyLoopbackAddressesAndTheNameLocalhost) {
  for (const char* yes : {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"})
    EXPECT_TRUE(is_loopback_host(yes)) << yes;
  for (const char* no : {"127.example.com", "127.0.0.1.nip.example", "localhost.example.com",
                         "10.0.0.1", "::ffff:10.0.0.1", "", "[::2]", "example.com"})
    EXPECT_FALSE(is_loopback_host(no)) << no;
}

TEST_F(HttpServiceTest, AGzipBodyIsInflatedWithinTheResponseCap) {
  HttpConfig config = quick_retries();
  config.max_response_bytes = 300000;
  HttpService http(config);
  HttpResponse response;
  ASSERT_EQ(get(http, "/gzip", response), SIPHON_OK) << response.error;
  EXPECT_EQ(response.body, std::string(200000, 'z'));
  EXPECT_EQ(find_header(response.headers, {"Content-Encoding"}), nullptr);

  config.max_response_bytes = 100000;  // above the gzip size, below the inflated size
  HttpService capped(config);
  HttpResponse refused;
  EXPECT_EQ(get(capped, "/gzip", refused), SIPHON_ERROR);
  EXPECT_NE(refused.error.find("inflates (gzip) to more than http.max_response_bytes (100000"),
            std::string::npos)
      << refused.error;
}

TEST_F(HttpServiceTest, BadRequestsAreErrors) {
  HttpService http(quick_retries());
  HttpResponse response;
  HttpRequest request;
  request.method = "GET";
  request.url = "ftp://127.0.0.1/file";
  EXPECT_EQ(http.send(request, response, nullptr), SIPHON_ERROR);
  request.url = server_.base_url() + "/x";
  request.method = "DELETE";
  EXPECT_EQ(http.send(request, response, nullptr), SIPHON_ERROR);
  EXPECT_EQ(http.connections_opened(), 0u);
}

TEST(RetryAfterTest, DeltaSeconds) {
  EXPECT_EQ(parse_retry_after_ms("0", 0), 0);
  EXPECT_EQ(parse_retry_after_ms("120", 0), 120000);
}

TEST(RetryAfterTest, HttpDate) {
  const int64_t date_ms = 1445412480000;  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(parse_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", date_ms - 5000), 5000);
  // A date in the past means "now".
  EXPECT_EQ(parse_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", date_ms + 5000), 0);
}

TEST(RetryAfterTest, AnythingElseIsMinusOne) {
  EXPECT_EQ(parse_retry_after_ms("", 0), -1);
  EXPECT_EQ(parse_retry_after_ms("soon", 0), -1);
  EXPECT_EQ(parse_retry_after_ms("-5", 0), -1);
}

}  // namespace
}  // namespace siphon

namespace siphon {
namespace {

imitation::Fault redirect_fault(int status, const std::string& from, const std::string& location) {
  imitation::Fault f;
  f.status = status;
  f.path_prefix = from;
  f.headers = {{"Location", location}};
  return f;
}

TEST_F(HttpServiceTest, RedirectWithinTheOriginIsFollowed) {
  HttpService http(quick_retries());
  server_.inject(redirect_fault(302, "/old", "/new/place?x=1"));
  HttpResponse response;
  ASSERT_EQ(get(http, "/old", response), SIPHON_OK) << response.error;
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "echo:/new/place");
  EXPECT_EQ(server_.last().param("x"), "1");
}

TEST_F(HttpServiceTest, SeeOtherAfterAPostContinuesAsAGetWithoutTheBody) {
  HttpService http(quick_retries());
  server_.inject(redirect_fault(303, "/submit", server_.base_url() + "/result"));
  HttpRequest request;
  request.method = "POST";
  request.url = server_.base_url() + "/submit";
  request.body = "a=1";
  HttpResponse response;
  ASSERT_EQ(http.send(request, response, nullptr), SIPHON_OK) << response.error;
  EXPECT_EQ(response.body, "echo:/result");
  EXPECT_EQ(server_.last().method, "GET");
  EXPECT_EQ(server_.last().body, "");
}

TEST_F(HttpServiceTest, RedirectToAnotherOriginIsRefusedWithoutContactingIt) {
  EchoImitation other;
  other.start();
  HttpService http(quick_retries());
  server_.inject(redirect_fault(307, "/leave", other.base_url() + "/stolen"));
  HttpResponse response;
  EXPECT_EQ(get(http, "/leave", response), SIPHON_ERROR);
  EXPECT_NE(response.error.find("refused"), std::string::npos) << response.error;
  EXPECT_NE(response.error.find("origin"), std::string::npos) << response.error;
  EXPECT_EQ(other.requests(""), 0u);
  other.stop();
}

TEST_F(HttpServiceTest, RedirectLoopsEnd) {
  HttpService http(quick_retries());
  imitation::Fault f = redirect_fault(302, "/loop", "/loop");
  f.count = 100;
  server_.inject(f);
  HttpResponse response;
  EXPECT_EQ(get(http, "/loop", response), SIPHON_ERROR);
  EXPECT_NE(response.error.find("redirects"), std::string::npos) << response.error;
  EXPECT_LE(server_.requests("/loop"), 6u);
}

TEST_F(HttpServiceTest, RateLimitHeadersPauseEveryAppOfTheCredential) {
  HttpService http(quick_retries());
  imitation::Fault f;
  f.path_prefix = "/first";
  f.delay_ms = 0;
  f.headers = {{"X-RateLimit-Remaining", "0"}, {"X-RateLimit-Reset", "1"}};
  server_.inject(f);
  RequestPolicy app_a{"cred-1", 0, 0};
  RequestPolicy app_b{"cred-1", 0, 0};
  RequestPolicy other{"cred-2", 0, 0};
  HttpRequest request;
  request.method = "GET";
  request.url = server_.base_url() + "/first";
  HttpResponse response;
  ASSERT_EQ(http.send(request, response, nullptr, &app_a), SIPHON_OK) << response.error;
  // Another credential is not held back.
  auto start = std::chrono::steady_clock::now();
  request.url = server_.base_url() + "/other";
  ASSERT_EQ(http.send(request, response, nullptr, &other), SIPHON_OK) << response.error;
  EXPECT_LT(elapsed_ms(start), 500);
  // Another app with the same credential waits for the reset.
  request.url = server_.base_url() + "/second";
  ASSERT_EQ(http.send(request, response, nullptr, &app_b), SIPHON_OK) << response.error;
  EXPECT_GE(elapsed_ms(start), 900);
}

TEST_F(HttpServiceTest, TooManyRequestsWithAResetHeaderWaitsForTheReset) {
  HttpService http(quick_retries());
  imitation::Fault f;
  f.status = 429;
  f.headers = {{"X-Rate-Limit-Remaining", "0"}, {"X-Rate-Limit-Reset", "1"}};
  server_.inject(f);
  auto start = std::chrono::steady_clock::now();
  HttpResponse response;
  ASSERT_EQ(get(http, "/limited", response), SIPHON_OK) << response.error;
  EXPECT_GE(elapsed_ms(start), 900);
  EXPECT_EQ(response.attempts, 2);
}

// GitHub answers a rate limit with 403 as well as 429: a 403 carrying
// Retry-After, or rate-limit headers saying none remain, is waited out.
TEST_F(HttpServiceTest, ForbiddenWithRetryAfterIsWaitedOutAndRetried) {
  HttpService http(quick_retries());
  imitation::Fault f;
  f.status = 403;
  f.retry_after = "1";
  f.body = R"({"message":"You have exceeded a secondary rate limit."})";
  server_.inject(f);
  auto start = std::chrono::steady_clock::now();
  HttpResponse response;
  ASSERT_EQ(get(http, "/secondary", response), SIPHON_OK) << response.error;
  EXPECT_GE(elapsed_ms(start), 950);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.attempts, 2);
}

TEST_F(HttpServiceTest, ForbiddenWithNoRequestsRemainingWaitsForTheReset) {
  HttpService http(quick_retries());
  imitation::Fault f;
  f.status = 403;
  f.headers = {{"x-ratelimit-remaining", "0"},
               {"x-ratelimit-reset", std::to_string(now_ms() / 1000 + 2)}};
  server_.inject(f);
  auto start = std::chrono::steady_clock::now();
  HttpResponse response;
  ASSERT_EQ(get(http, "/primary", response), SIPHON_OK) << response.error;
  EXPECT_GE(elapsed_ms(start), 900);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.attempts, 2);
}

TEST_F(HttpServiceTest, PlainForbiddenIsReturnedWithoutRetrying) {
  HttpService http(quick_retries());
  imitation::Fault f;
  f.status = 403;
  f.headers = {{"x-ratelimit-remaining", "17"},
               {"x-ratelimit-reset", std::to_string(now_ms() / 1000 + 60)}};
  f.body = R"({"message":"Resource not accessible by personal access token"})";
  server_.inject(f);
  HttpResponse response;
  ASSERT_EQ(get(http, "/refused", response), SIPHON_OK) << response.error;
  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(response.attempts, 1);
  EXPECT_EQ(server_.requests("/refused"), 1u);
}

TEST_F(HttpServiceTest, ForbiddenRateLimitBeyondTheMaximumWaitEndsAsRetryLater) {
  HttpService http(quick_retries());
  imitation::Fault f;
  f.status = 403;
  f.headers = {{"X-RateLimit-Remaining", "0"},
               {"X-RateLimit-Reset", std::to_string(now_ms() / 1000 + 600)}};
  server_.inject(f);
  auto start = std::chrono::steady_clock::now();
  HttpResponse response;
  EXPECT_EQ(get(http, "/exhausted", response), SIPHON_RETRY_LATER);
  EXPECT_LT(elapsed_ms(start), 1000);
  EXPECT_EQ(server_.requests("/exhausted"), 1u);
  EXPECT_NE(response.error.find("403"), std::string::npos) << response.error;
}

TEST_F(HttpServiceTest, SteadyRateIsSharedByAppsOfOneCredential) {
  HttpService http(quick_retries());
  RequestPolicy a{"shared", 10, 0};  // 10 requests/s: one every 100 ms
  RequestPolicy b{"shared", 10, 0};
  HttpRequest request;
  request.method = "GET";
  request.url = server_.base_url() + "/rate";
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 6; ++i) {
    HttpResponse response;
    ASSERT_EQ(http.send(request, response, nullptr, i % 2 ? &a : &b), SIPHON_OK);
  }
  // Six requests in one budget at 10/s take at least five spacings.
  EXPECT_GE(elapsed_ms(start), 480);
}

TEST_F(HttpServiceTest, NoRetryWaitPassesTheRunDeadline) {
  HttpService http(quick_retries());
  imitation::Fault f;
  f.status = 503;
  f.retry_after = "2";
  f.count = 5;
  server_.inject(f);
  RequestPolicy policy{"", 0, now_ms() + 500};
  HttpRequest request;
  request.method = "GET";
  request.url = server_.base_url() + "/deadline";
  auto start = std::chrono::steady_clock::now();
  HttpResponse response;
  EXPECT_EQ(http.send(request, response, nullptr, &policy), SIPHON_RETRY_LATER);
  EXPECT_LT(elapsed_ms(start), 1000);
  EXPECT_NE(response.error.find("deadline"), std::string::npos) << response.error;
  EXPECT_EQ(server_.requests("/deadline"), 1u);
}

TEST(RateLimitHeaders, ResetAsSecondsOrEpoch) {
  int64_t now = 1'800'000'000'000;
  EXPECT_EQ(rate_limit_reset_ms({{"X-RateLimit-Remaining", "0"}, {"X-RateLimit-Reset", "30"}}, now),
            30000);
  EXPECT_EQ(rate_limit_reset_ms(
                {{"x-rate-limit-remaining", "0"}, {"x-rate-limit-reset", "1800000045"}}, now),
            45000);
  EXPECT_EQ(rate_limit_reset_ms({{"X-RateLimit-Remaining", "3"}, {"X-RateLimit-Reset", "30"}}, now),
            -1);
  EXPECT_EQ(rate_limit_reset_ms({{"X-RateLimit-Remaining", "0"}}, now), -1);
  EXPECT_EQ(
      rate_limit_reset_ms({{"X-RateLimit-Remaining", "0"}, {"X-RateLimit-Reset", "soon"}}, now),
      -1);
}

TEST(RateLimitConfig, Parses) {
  EXPECT_DOUBLE_EQ(parse_rate_limit("2/s"), 2.0);
  EXPECT_DOUBLE_EQ(parse_rate_limit("120/m"), 2.0);
  EXPECT_DOUBLE_EQ(parse_rate_limit("3600/h"), 1.0);
  EXPECT_LT(parse_rate_limit("0/s"), 0);
  EXPECT_LT(parse_rate_limit("2"), 0);
  EXPECT_LT(parse_rate_limit("2/d"), 0);
  EXPECT_LT(parse_rate_limit("x/s"), 0);
}

TEST(HttpServiceBackoffTest, CallersThatRetryPartsWaitTheSamePolicyAndStopAtMaxRetries) {
  HttpConfig cfg;
  cfg.max_retries = 2;
  HttpService http(cfg);
  std::string error;
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(http.backoff(0, nullptr, error)) << error;
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, std::chrono::milliseconds(250)) << "the first backoff is 0.25-0.5 s";
  EXPECT_LT(waited, std::chrono::milliseconds(1500));
  EXPECT_FALSE(http.backoff(2, nullptr, error));
  EXPECT_NE(error.find("gave up after 3 attempts"), std::string::npos) << error;
  StopSignal stop;
  stop.request();
  EXPECT_FALSE(http.backoff(1, &stop, error)) << "a stop cuts the wait short";
}

}  // namespace
}  // namespace siphon
