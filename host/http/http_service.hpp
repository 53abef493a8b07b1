// The HTTP service every plugin reaches the network through: one shared
// session pool, TLS verified against the system store (or http.ca_file),
// connect/read timeouts, a cap on response size, plain http only to loopback,
// retries with exponential backoff and jitter on connection errors, 429,
// 5xx and rate-limit 403s (with Retry-After or no requests remaining),
// honouring Retry-After and the vendors' rate-limit headers, request
// budgets shared per credential, a run deadline no wait goes past, and
// redirects followed only within the request's origin. Thread-safe.
#ifndef SIPHON_HOST_HTTP_HTTP_SERVICE_HPP
#define SIPHON_HOST_HTTP_HTTP_SERVICE_HPP

#include <siphon/plugin_api.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "http/request_budget.hpp"
#include "http/session_pool.hpp"
#include "util/stop_signal.hpp"

namespace siphon {

struct HttpRequest {
  std::string method;
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string error;  // set when no usable response arrived
  int attempts = 0;
};

class HttpService {
 public:
  explicit HttpService(const HttpConfig& config);

  // Sends with retries. SIPHON_OK: a response (any status but a retried-out
  // 429/5xx/rate-limit 403). SIPHON_RETRY_LATER: still 429/5xx/unreachable after the retries.
  // SIPHON_ERROR: a request that cannot succeed (bad URL, http to a remote host,
  // oversized response, a redirect off the origin). `stop` cuts waits short;
  // `policy` (optional) names the credential's budget and the run deadline.
  siphon_status send(const HttpRequest& request, HttpResponse& response, StopSignal* stop,
                     const RequestPolicy* policy = nullptr);

  size_t connections_opened() const { return pool_.sessions_created(); }

  // The same retry policy for callers that retry part of a request on their
  // own (an Elasticsearch bulk request's rejected items): waits the backoff
  // of retry number `retry` (0-based: 0.5 s doubling to 32 s, with jitter).
  // Returns false, with the reason in `error`, when http.max_retries is used
  // up or a stop came.
  bool backoff(int retry, StopSignal* stop, std::string& error);

 private:
  // One attempt. Returns false on a transport failure (error set); `fatal`
  // then tells a failure that retrying cannot cure (an oversized response).
  bool exchange(const Origin& origin, const HttpRequest& request, const std::string& target,
                HttpResponse& response, bool& fatal);
  // One request with its retries, no redirects.
  siphon_status send_with_retries(const Origin& origin, const HttpRequest& request,
                                  const std::string& target, HttpResponse& response,
                                  StopSignal* stop, const RequestPolicy& policy);
  // Waits `ms` unless that passes the deadline or a stop comes; false then
  // (with the reason appended to response.error).
  bool wait(int64_t ms, const RequestPolicy& policy, StopSignal* stop, HttpResponse& response);

  HttpConfig config_;
  SessionPool pool_;
  RequestBudgets budgets_;
};

// True for the hosts plain http:// may reach: localhost, 127.0.0.0/8, ::1.
bool is_loopback_host(const std::string& host);

// Seconds from a Retry-After value (delta-seconds or HTTP-date), or -1.
int64_t parse_retry_after_ms(const std::string& value, int64_t now_ms);

}  // namespace siphon

#endif
