// onelogin_imitation.hpp - a local imitation of OneLogin's token endpoint and
// Events API, following the vendor's documented API.
//
// POST /auth/oauth2/v2/token takes the client credentials in any of the
// three forms OneLogin accepts (the "client_id:.., client_secret:.." header
// with a JSON body, HTTP Basic with a JSON body, or a form body); a wrong
// pair gets 401 "Authentication Failure", a missing grant_type 400. The same
// credentials get the same token back until it expires.
// GET /api/1/events needs "Authorization: bearer:<token>" (or "Bearer
// <token>") and serves since (inclusive) / until (exclusive) filters, limit,
// sort=+id/-id and opaque after_cursor paging through pagination.next_link,
// built on the Host header received. GET /auth/rate_limit reports the limit.
// Every events reply carries X-RateLimit-Limit/Remaining/Reset (seconds to
// the reset); past the limit the reply is 400 "rate_limit_exceeded" or 429.
// Errors use OneLogin's {"status":{error,code,type,message}} body.
// Thread-safe.
#ifndef SIPHON_TESTS_ONELOGIN_IMITATION_HPP
#define SIPHON_TESTS_ONELOGIN_IMITATION_HPP

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "imitation.hpp"

namespace siphon::imitation {

class OneLoginImitation : public Imitation {
 public:
  OneLoginImitation(std::string client_id, std::string client_secret);
  ~OneLoginImitation() override;

  // A random 64-character [a-z0-9] value, the shape of OneLogin's client ids and secrets.
  static std::string make_credential();

  // n events created at start_ms, start_ms + step_ms, ...; ids ascend.
  void add_events(int n, int64_t start_ms, int64_t step_ms);
  // One event created at created_ms with the next (highest) id; returns it.
  int64_t add_event(int64_t created_ms);
  size_t event_count() const;

  // Tokens minted so far (a token handed back again is not counted).
  int64_t issued_tokens() const;
  void set_token_lifetime_seconds(int64_t seconds);
  // Every token issued so far stops working (401).
  void revoke_tokens();
  // after_cursor values handed out so far are refused with 400.
  void expire_page_cursors();
  // Resource calls refused with 401 for a missing, unknown or expired token.
  int64_t unauthorized_calls() const;
  // How the last token request sent the credentials: "header", "basic" or "form".
  std::string last_token_form() const;

  enum class LimitSignal { kBadRequest, kTooManyRequests };
  // At most `calls` events calls per window of window_ms; past that the
  // reply is the signal. `headers` false leaves the X-RateLimit-* headers
  // out, so that a client must ask /auth/rate_limit. calls 0: no limit.
  void set_rate_limit(int calls, int64_t window_ms, LimitSignal signal, bool headers = true);
  // Events calls refused for the rate limit so far.
  int64_t rate_limited_calls() const;

  // After `pages_served` events pages answered normally, the next
  // fault.count events calls get `fault` (status/body and/or delay_ms).
  void fail_pages_after(int pages_served, const Fault& fault);
  // next_link values point at this origin instead of the request's Host.
  void set_next_link_origin(const std::string& origin);

 protected:
  void handle(const Request& request, Reply& reply) override;

 private:
  struct Event {
    int64_t id;
    int64_t created_ms;
    std::string json;
  };

  void token(const Request& request, Reply& reply);
  void rate_limit(const Request& request, Reply& reply);
  void events(const Request& request, Reply& reply);
  bool authorized(const Request& request, Reply& reply);
  void add_locked(int64_t created_ms);

  const std::string client_id_;
  const std::string client_secret_;
  mutable std::mutex mu_;
  std::vector<Event> events_;  // ascending id
  int64_t next_id_ = 990001000;
  std::map<std::string, int64_t> tokens_;  // token -> expiry (ms)
  std::string current_token_;
  int64_t issued_tokens_ = 0;
  int64_t unauthorized_ = 0;
  int64_t token_lifetime_s_ = 36000;
  std::string last_token_form_;
  int64_t cursor_epoch_ = 1;
  int limit_calls_ = 0;
  int64_t limit_window_ms_ = 3600000;
  LimitSignal limit_signal_ = LimitSignal::kBadRequest;
  bool limit_headers_ = true;
  int64_t window_start_ms_ = 0;
  int window_calls_ = 0;
  int64_t rate_limited_ = 0;
  PageFaults page_faults_;
  std::string next_origin_;
};

}  // namespace siphon::imitation

#endif  // SIPHON_TESTS_ONELOGIN_IMITATION_HPP
