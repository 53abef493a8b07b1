// github_imitation.hpp - a local imitation of GitHub's audit log REST API
// (organization and enterprise), following the vendor's documented API.
//
// GET /orgs/{org}/audit-log, the same under /organizations/{org id}/ (the form
// its Link headers use), and, once set, /enterprises/{slug}/audit-log; all
// optionally under a path prefix such as GitHub Enterprise Server's /api/v3.
// A request without User-Agent gets 403; without a token 401 "Requires
// authentication"; with an unknown or revoked one ("Bearer" or "token"
// scheme) 401 "Bad credentials"; a token whose user is not an owner, or an
// unknown org, 404 "Not Found"; an X-GitHub-Api-Version other than
// 2022-11-28, 400. The body is a bare JSON array of events ("@timestamp" and
// created_at in ms, "_document_id", action ...), sorted by @timestamp
// (order=asc|desc, default desc), per_page default 30 and capped at 100,
// filtered by `phrase` (created:>=, >, <=, <, =, A..B with * for open ends,
// dates or date-times of second granularity; action: (a full action or its
// category); actor:) and by `include` (web, git, all; default web). Git
// events disappear after a retention (7 days by default); without a created
// qualifier only the last 3 months are searched. Paging is by opaque `after`
// cursors in the Link header (rel="next", with a rel="first" beside it),
// built on the Host header received; a cursor may be given a lifetime after
// which it gets 422. Every reply carries x-ratelimit-limit/remaining/used/
// reset (epoch s)/resource; past the limit the reply is 403 (or 429) with
// remaining 0. Secondary limits (403/429 with or without retry-after) and
// faults after N pages can be switched on. Every audit-log request is kept
// for the tests. Thread-safe.
#ifndef SIPHON_TESTS_GITHUB_IMITATION_HPP
#define SIPHON_TESTS_GITHUB_IMITATION_HPP

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "imitation.hpp"

namespace siphon::imitation {

class GithubImitation : public Imitation {
 public:
  static constexpr int64_t kOrgId = 7000007;
  static constexpr int64_t kDayMs = 86400 * 1000;

  // An organization `org` whose owner holds `token`.
  GithubImitation(std::string token, std::string org);
  ~GithubImitation() override;

  // A random classic personal access token: "ghp_" + 36 of [A-Za-z0-9].
  static std::string make_token();
  // A random fine-grained one: "github_pat_" + 22 + "_" + 59 of [A-Za-z0-9].
  static std::string make_fine_grained_token();

  // Another token that GitHub knows: an owner's or a plain member's (404).
  void add_token(const std::string& token, bool owner);
  void revoke_token(const std::string& token);
  // Also serves the enterprise `slug` (its audit log holds the same events).
  void set_enterprise(const std::string& slug);
  // Serves every path under `prefix` (e.g. "/api/v3"); "" for none.
  void set_path_prefix(const std::string& prefix);

  // One event at timestamp_ms; "" picks an action (git.clone for git events).
  // Returns its _document_id.
  std::string add_event(int64_t timestamp_ms, const std::string& action = "", bool git = false);
  // n web events from start_ms, one every step_ms (0: all in the same ms).
  void add_events(int n, int64_t start_ms, int64_t step_ms);
  void add_git_events(int n, int64_t start_ms, int64_t step_ms);
  size_t event_count() const;
  // How long git events stay searchable (GitHub: 7 days).
  void set_git_retention_ms(int64_t ms);

  // Cursors older than this get 422 (0: they never expire).
  void set_cursor_lifetime_ms(int64_t ms);
  int64_t refused_cursors() const;

  // `limit` requests per `window_s` (GitHub: 1,750 an hour for the audit log).
  void set_rate_limit(int limit, int64_t window_s);
  // Uses up the current window, which then resets in reset_in_s seconds; the
  // next requests get `status` (403 or 429) with x-ratelimit-remaining 0.
  void exhaust_rate_limit(int64_t reset_in_s, int status = 403);
  int64_t rate_limited_calls() const;
  // The next `count` requests get a secondary rate limit: `status` (403 or
  // 429), with retry-after when `retry_after` is not "".
  void secondary_limit(int count, int status, const std::string& retry_after);
  // After `pages_served` pages answered normally, the next fault.count page
  // requests get `fault` (status/body and/or delay_ms).
  void fail_pages_after(int pages_served, const Fault& fault);

  // Every audit-log request received, in order.
  std::vector<Request> audit_log_requests() const;

 protected:
  void handle(const Request& request, Reply& reply) override;

 private:
  struct Event {
    std::string id;
    int64_t timestamp_ms;
    std::string action;
    bool git;
    uint64_t serial;
  };
  std::string event_json(const Event& e) const;
  void add_locked(int64_t timestamp_ms, const std::string& action, bool git);
  void rate_limit_headers(Reply& reply, int64_t now_s);  // call with mu_ held
  void search(const Request& request, const std::string& audit_path, Reply& reply);

  const std::string org_;
  mutable std::mutex mu_;
  std::map<std::string, bool> tokens_;  // token -> owner
  std::string enterprise_;
  std::string prefix_;
  std::vector<Event> events_;
  uint64_t serial_ = 0;
  int64_t git_retention_ms_ = 7 * kDayMs;
  int64_t cursor_lifetime_ms_ = 0;
  int64_t refused_cursors_ = 0;
  int limit_ = 1750;
  int64_t limit_window_s_ = 3600;
  int64_t window_reset_s_ = 0;
  int used_ = 0;
  int primary_status_ = 403;
  int64_t rate_limited_ = 0;
  int secondary_count_ = 0;
  int secondary_status_ = 403;
  std::string secondary_retry_after_;
  PageFaults page_faults_;
  std::vector<Request> log_;
};

}  // namespace siphon::imitation

#endif  // SIPHON_TESTS_GITHUB_IMITATION_HPP
