#include "http/request_budget.hpp"

#include <Poco/String.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace siphon {
namespace {

bool parse_whole(const std::string& s, int64_t& out) {
  std::string t = Poco::trim(s);
  if (t.empty() || t.size() > 15) return false;
  if (!std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  out = std::stoll(t);
  return true;
}

}  // namespace

const std::string* find_header(const std::vector<std::pair<std::string, std::string>>& headers,
                               std::initializer_list<const char*> names) {
  for (const char* name : names)
    for (const auto& [k, v] : headers)
      if (Poco::icompare(k, name) == 0) return &v;
  return nullptr;
}

int64_t rate_limit_reset_ms(const std::vector<std::pair<std::string, std::string>>& headers,
                            int64_t now_ms) {
  const std::string* remaining =
      find_header(headers, {"X-RateLimit-Remaining", "X-Rate-Limit-Remaining"});
  const std::string* reset = find_header(headers, {"X-RateLimit-Reset", "X-Rate-Limit-Reset"});
  int64_t left = 0;
  int64_t at = 0;
  if (!remaining || !reset || !parse_whole(*remaining, left) || left > 0) return -1;
  if (!parse_whole(*reset, at)) return -1;
  // Large values are epoch seconds (Okta, GitHub); small ones seconds from now.
  int64_t wait = at > 1000000000 ? at * 1000 - now_ms : at * 1000;
  return std::max<int64_t>(wait, 0);
}

double parse_rate_limit(const std::string& text) {
  auto slash = text.find('/');
  if (slash == std::string::npos) return -1;
  int64_t n = 0;
  if (!parse_whole(text.substr(0, slash), n) || n <= 0) return -1;
  std::string unit = Poco::toLower(Poco::trim(text.substr(slash + 1)));
  if (unit == "s") return static_cast<double>(n);
  if (unit == "m") return static_cast<double>(n) / 60.0;
  if (unit == "h") return static_cast<double>(n) / 3600.0;
  return -1;
}

int64_t RequestBudgets::take(const RequestPolicy& policy, int64_t now_ms) {
  if (policy.credential.empty()) return 0;
  std::lock_guard lock(mu_);
  Budget& b = budgets_[policy.credential];
  if (policy.requests_per_second > 0 && (b.rate == 0 || policy.requests_per_second < b.rate))
    b.rate = policy.requests_per_second;
  if (b.paused_until_ms > now_ms) return b.paused_until_ms - now_ms;
  if (b.rate <= 0) return 0;
  if (b.next_free_ms > now_ms) return b.next_free_ms - now_ms;
  // Requests are spaced evenly: one every 1/rate seconds, no bursts.
  b.next_free_ms = now_ms + static_cast<int64_t>(std::ceil(1000.0 / b.rate));
  return 0;
}

int64_t RequestBudgets::observe(const RequestPolicy& policy,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                int64_t now_ms) {
  int64_t wait = rate_limit_reset_ms(headers, now_ms);
  if (wait <= 0) return 0;
  if (!policy.credential.empty()) {
    std::lock_guard lock(mu_);
    Budget& b = budgets_[policy.credential];
    b.paused_until_ms = std::max(b.paused_until_ms, now_ms + wait);
  }
  return wait;
}

}  // namespace siphon
