// slack_imitation.hpp - a local imitation of the Slack Web API methods
// team.accessLogs and team.integrationLogs, following the vendor's documented API.
//
// Arguments come as GET query or POST form; the token as a Bearer header or
// the legacy token= argument. Failures are Slack's: HTTP 200 with
// {"ok":false,"error":...}: not_authed (no token), invalid_auth (unknown),
// token_revoked, missing_scope with needed/provided (a token without admin),
// paid_only (free workspace), over_pagination_limit (page > 100, count >
// 1000), invalid_cursor, invalid_limit; HTTP 429 with Retry-After and
// {"ok":false,"error":"ratelimited"} past the per-minute limit. Access rows
// are aggregates sorted by date_first, newest first; touch() raises a row's
// date_last and count in place. Paging: page/count (with before, an inclusive
// bound on date_first) or cursor/limit with response_metadata.next_cursor
// ("" on the last page). Integration entries are newest first, paged by
// page/count, with date as a string. Thread-safe.
#ifndef SIPHON_TESTS_SLACK_IMITATION_HPP
#define SIPHON_TESTS_SLACK_IMITATION_HPP

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "imitation.hpp"

namespace siphon::imitation {

class SlackImitation : public Imitation {
 public:
  // `admin_token` is a user token with the admin scope.
  explicit SlackImitation(std::string admin_token);
  ~SlackImitation() override;

  // Another known token with the given scopes (e.g. "users:read").
  void add_token(const std::string& token, const std::string& scopes);
  void revoke(const std::string& token);
  void set_paid_plan(bool paid);
  // More than this many calls in 60 s get 429 (0, the default: no limit).
  void set_rate_limit_per_minute(int calls, int retry_after_seconds = 1);

  // n access rows, date_first = start_s + i * step_s (distinct users / IPs),
  // date_last = date_first + 30 s. Returns the index of the first new row.
  size_t add_logins(int n, int64_t start_s, int64_t step_s);
  // Row i seen again at second date_last_s: date_last and count go up.
  void touch(size_t row, int64_t date_last_s);
  size_t login_count() const;
  // n integration entries at date_s each second from start_s + i * step_s.
  void add_integration_logs(int n, int64_t start_s, int64_t step_s);

  // The next n calls that carry a paging cursor get invalid_cursor.
  void refuse_cursors(int n);

  // How many calls carried each paging mode.
  size_t cursor_calls() const;
  size_t page_calls() const;

 protected:
  void handle(const Request& request, Reply& reply) override;

 private:
  struct Login {
    int64_t date_first;
    int64_t date_last;
    int64_t count;
    uint64_t serial;
    std::string user_id, username, ip, user_agent;
  };
  struct IntegrationLog {
    int64_t date;
    uint64_t serial;
    std::string json;
  };

  bool authenticate(const Request& request, Reply& reply);
  void access_logs(const Request& request, Reply& reply);
  void integration_logs(const Request& request, Reply& reply);
  static std::string login_json(const Login& l);

  mutable std::mutex mu_;
  std::map<std::string, std::string> tokens_;  // token -> scopes
  std::set<std::string> revoked_;
  bool paid_ = true;
  int rate_limit_per_minute_ = 0;
  int retry_after_seconds_ = 1;
  std::deque<int64_t> calls_ms_;
  std::vector<Login> logins_;
  std::vector<IntegrationLog> integration_;
  uint64_t serial_ = 0;
  size_t cursor_calls_ = 0;
  size_t page_calls_ = 0;
  int refuse_cursors_ = 0;
};

}  // namespace siphon::imitation

#endif  // SIPHON_TESTS_SLACK_IMITATION_HPP
