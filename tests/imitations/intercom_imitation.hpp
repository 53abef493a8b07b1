// intercom_imitation.hpp - a local imitation of Intercom's admin activity
// log endpoint, following the vendor's documented API.
//
// GET /admins/activity_logs needs "Authorization: Bearer <token>" (a wrong or
// missing one gets 401 error.list "unauthorized"; a revoked one
// "token_revoked"), requires created_at_after (404 parameter_not_found when
// missing), takes created_at_before (default now), both inclusive Unix
// seconds, and page/per_page. It serves the window newest first and links
// the next page through pages.next, a full URL built on the Host header
// received (or, in one mode, an object {"page":N,"starting_after":".."}).
// Every reply carries X-RateLimit-Limit/Remaining/Reset (Unix time of the
// reset); past the limit the reply is 429 error.list "rate_limit_exceeded".
// A "plan restricted" mode answers 403 api_plan_restricted. The
// Intercom-Version header is checked (a number such as 2.11, or Unstable).
// Thread-safe.
#ifndef SIPHON_TESTS_INTERCOM_IMITATION_HPP
#define SIPHON_TESTS_INTERCOM_IMITATION_HPP

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "imitation.hpp"

namespace siphon::imitation {

class IntercomImitation : public Imitation {
 public:
  explicit IntercomImitation(std::string token);
  ~IntercomImitation() override;

  // A random private-app access token: "dG9r" + base64 of "tok:<uuid-like>".
  static std::string make_token();

  // n activities from second start_s, per_second of them in each second.
  void add_activities(int n, int64_t start_s, int per_second);
  // One activity at created_s; returns its id.
  std::string add_activity(int64_t created_s);
  size_t activity_count() const;

  // Activities per page when the request gives no per_page (default 20).
  void set_page_size(int n);
  // Serve created_at as a string ("1714582790"), as older payloads do.
  void set_created_at_as_string(bool on);
  // pages.next as {"page":N,"starting_after":".."} instead of a URL.
  void set_next_as_object(bool on);
  void set_plan_restricted(bool on);
  void revoke_token();
  // At most `calls` requests per window_s seconds (0: no limit; Intercom's
  // default is 10,000 a minute in 10-second slices).
  void set_rate_limit(int calls, int64_t window_s);
  int64_t rate_limited_calls() const;
  // After `pages_served` pages answered normally, the next fault.count
  // activity calls get `fault` (status/body and/or delay_ms).
  void fail_pages_after(int pages_served, const Fault& fault);
  // The Intercom-Version header of the last request ("" when none).
  std::string last_version() const;

 protected:
  void handle(const Request& request, Reply& reply) override;

 private:
  struct Activity {
    std::string id;
    int64_t created_s;
    uint64_t serial;
  };
  std::string activity_json(const Activity& a) const;  // call with mu_ held
  void add_locked(int64_t created_s);

  const std::string token_;
  mutable std::mutex mu_;
  std::vector<Activity> activities_;
  uint64_t serial_ = 0;
  int page_size_ = 20;
  bool created_as_string_ = false;
  bool next_as_object_ = false;
  bool plan_restricted_ = false;
  bool revoked_ = false;
  int limit_calls_ = 0;
  int64_t limit_window_s_ = 10;
  int64_t window_start_s_ = 0;
  int window_calls_ = 0;
  int64_t rate_limited_ = 0;
  PageFaults page_faults_;
  std::string last_version_;
};

}  // namespace siphon::imitation

#endif  // SIPHON_TESTS_INTERCOM_IMITATION_HPP
