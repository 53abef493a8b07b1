// okta_imitation.hpp - a local imitation of Okta's System Log API,
// GET /api/v1/logs, following the vendor's documented behaviour.
//
// Auth is "Authorization: SSWS <api token>": a wrong, missing or revoked
// token gets 401 E0000011; a switch answers 403 E0000006 (the token's admin
// may not read the System Log). The body is a bare JSON array of LogEvent
// objects. Paging is by Link headers, rel="self" and rel="next", sent as two
// headers or (switch) as one comma-joined header; the next link is built on
// the Host header received and carries the opaque cursor in `after`.
//
// Polling queries (no `until`, ASCENDING): the events whose persistence time
// is at or after `since`, in the order they were persisted; every answer,
// empty ones included, has a next link, whose `after` is the position of its
// last event ("<persisted ms>_<serial>_<generation>"), or of the request's
// when it had none. An event added late (older `published`, persisted now) therefore
// comes after the events persisted before it. Bounded queries (`until`
// given, or DESCENDING): the events with since <= published <= until,
// ordered by published, and no next link on the last page.
//
// 400 E0000001 for a malformed since/until/after/limit/sortOrder, a since
// older than the 90-day retention, an `after` issued before expire_cursors(),
// and a limit above 1000 (a switch clamps it to 1000 instead). Every answer
// carries X-Rate-Limit-Limit/Remaining/Reset (Reset: epoch seconds of the
// end of the window); past the limit, or while throttle_for() lasts, the
// answer is 429 E0000047 with Remaining 0. Faults after N pages (500
// E0000009, 503 E0000010, a 429 whose Remaining is above 0) come from
// fail_pages_after. Thread-safe.
#ifndef SIPHON_TESTS_OKTA_IMITATION_HPP
#define SIPHON_TESTS_OKTA_IMITATION_HPP

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "imitation.hpp"

namespace siphon::imitation {

class OktaImitation : public Imitation {
 public:
  explicit OktaImitation(std::string token);
  ~OktaImitation() override;

  // A random API token of Okta's shape: "00" and 40 of [A-Za-z0-9_-].
  static std::string make_token();
  // Okta's error body: {"errorCode":..,"errorSummary":..,"errorLink":..,
  // "errorId":..,"errorCauses":[..]} (one cause when `cause` is not empty).
  static std::string error_body(const std::string& code, const std::string& summary,
                                const std::string& cause = "");

  // n events published from first_ms, step_ms apart, each persisted when it
  // was published (never before an event added earlier); their uuids.
  std::vector<std::string> add_events(int n, int64_t first_ms, int64_t step_ms);
  // One event published at published_ms but persisted now; its uuid.
  std::string add_late_event(int64_t published_ms);
  size_t event_count() const;

  void revoke_token();
  void set_forbidden(bool on);
  // One comma-joined Link header instead of one header per link.
  void set_joined_links(bool on);
  // Clamp a limit above 1000 to 1000 instead of refusing it.
  void set_clamp_limit(bool on);
  // At most `calls` requests per window_s seconds (default 1000 a minute).
  void set_rate_limit(int calls, int64_t window_s);
  // Every request in the next `seconds` gets 429 E0000047, Remaining 0 and
  // Reset = now + seconds.
  void throttle_for(int64_t seconds);
  int64_t rate_limited_calls() const;
  // After `pages_served` pages answered normally, the next fault.count log
  // requests get `fault` (status and body, and/or delay_ms).
  void fail_pages_after(int pages_served, const Fault& fault);
  // Every `after` issued so far is refused from now on (400 E0000001).
  void expire_cursors();
  // The raw query of every /api/v1/logs request, in order.
  std::vector<std::string> queries() const;
  // The Accept header of the last request.
  std::string last_accept() const;

 protected:
  void handle(const Request& request, Reply& reply) override;

 private:
  struct Event {
    std::string uuid;
    int64_t published_ms;
    int64_t persisted_ms;
    uint64_t serial;  // 1-based persistence order
  };
  std::string add_locked(int64_t published_ms, int64_t persisted_ms);
  std::string event_json(const Event& e) const;
  void logs(const Request& request, Reply& reply);  // call with mu_ held

  const std::string token_;
  const uint64_t uuid_seed_;
  mutable std::mutex mu_;
  std::vector<Event> events_;
  bool revoked_ = false;
  bool forbidden_ = false;
  bool joined_links_ = false;
  bool clamp_limit_ = false;
  int limit_calls_ = 1000;
  int64_t limit_window_s_ = 60;
  int64_t window_start_s_ = 0;
  int window_calls_ = 0;
  int64_t throttled_until_s_ = 0;
  int64_t rate_limited_ = 0;
  int generation_ = 1;  // of the `after` cursors issued; expire_cursors() moves it
  PageFaults page_faults_;
  std::vector<std::string> queries_;
  std::string last_accept_;
};

}  // namespace siphon::imitation

#endif  // SIPHON_TESTS_OKTA_IMITATION_HPP
