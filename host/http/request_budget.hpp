// Request budgets shared by every app that uses the same vendor credential.
//
// Several apps on one vendor account (e.g. the 15 Google Workspace log types
// under one service account) share that account's rate limit. Each credential
// has one budget: an optional steady rate (the apps' `rate_limit`, the lowest
// one wins) and a pause learnt from the vendor's own rate-limit headers
// (X-RateLimit-Remaining: 0 with X-RateLimit-Reset, or the X-Rate-Limit-*
// spelling), which holds every app of that credential until the reset.
// Thread-safe.
#ifndef SIPHON_HOST_HTTP_REQUEST_BUDGET_HPP
#define SIPHON_HOST_HTTP_REQUEST_BUDGET_HPP

#include <cstdint>
#include <initializer_list>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace siphon {

class AppMetrics;

// How one app's requests are governed: whose budget they draw from, at what
// steady rate, and the end of the app's run.
struct RequestPolicy {
  std::string credential;          // opaque key (a digest of service + auth values); "" = none
  double requests_per_second = 0;  // 0 = no steady limit
  int64_t deadline_ms = 0;         // wall-clock end of the run; 0 = none
  AppMetrics* metrics = nullptr;   // where the app's requests are counted; null = nowhere
  // false: a 3xx is returned as it came (a sink's POST that a 301/302 would
  // turn into a GET must not pass for delivered).
  bool follow_redirects = true;
};

class RequestBudgets {
 public:
  // Takes one request from the credential's budget at `now_ms`. Returns 0
  // when the request may go now, else how long to wait before asking again.
  int64_t take(const RequestPolicy& policy, int64_t now_ms);
  // Learns from a response's headers: a pause until the vendor's reset when
  // it says no requests remain. Returns the pause in ms (0 = none).
  int64_t observe(const RequestPolicy& policy,
                  const std::vector<std::pair<std::string, std::string>>& headers, int64_t now_ms);

 private:
  struct Budget {
    double rate = 0;           // requests per second; 0 = none
    int64_t next_free_ms = 0;  // steady-rate schedule
    int64_t paused_until_ms = 0;
  };
  std::mutex mu_;
  std::map<std::string, Budget> budgets_;
};

// The value of the first of `names` present in `headers` (case-insensitive),
// or null.
const std::string* find_header(const std::vector<std::pair<std::string, std::string>>& headers,
                               std::initializer_list<const char*> names);

// The wait, in ms, that a response's rate-limit headers ask for when they say
// nothing remains (X-RateLimit-Reset / X-Rate-Limit-Reset as epoch seconds or
// as seconds from now); -1 when they ask for none.
int64_t rate_limit_reset_ms(const std::vector<std::pair<std::string, std::string>>& headers,
                            int64_t now_ms);

// Parses a `rate_limit` value: "N/s", "N/m" or "N/h" (N requests per second,
// minute or hour). Returns requests per second, or -1 when malformed.
double parse_rate_limit(const std::string& text);

}  // namespace siphon

#endif
