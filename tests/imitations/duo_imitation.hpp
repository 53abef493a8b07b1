// duo_imitation.hpp - a local imitation of the Duo Admin API log endpoints,
// following the vendor's documented API.
//
// Serves GET /admin/v2/logs/authentication (mintime/maxtime in ms, limit,
// sort, next_offset paging, events newer than now - visibility delay held
// back, the 180-day mintime rule) and GET /admin/v1/logs/administrator
// (mintime in seconds, at most 1000 rows, ascending). Every request must be
// signed (v2 HMAC-SHA1 or v5 HMAC-SHA512, told apart by length); the
// canonical string is rebuilt from the Host header received, lower-cased and
// with its port. Errors are Duo's JSON bodies: 40101 missing credentials,
// 40102 unknown ikey, 40103 bad signature, 40104 missing or unreadable Date,
// 40105 Date outside the skew window, 400 bad parameters, 429 (42901) past
// the per-minute call limit. Thread-safe.
#ifndef SIPHON_TESTS_DUO_IMITATION_HPP
#define SIPHON_TESTS_DUO_IMITATION_HPP

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "imitation.hpp"

namespace siphon::imitation {

class DuoImitation : public Imitation {
 public:
  DuoImitation(std::string ikey, std::string skey);
  // Stops the server before the members its handler uses go away.
  ~DuoImitation() override;

  // n authentication events at start_ms, start_ms + step_ms, ... (unique txids).
  void add_auth_events(int n, int64_t start_ms, int64_t step_ms);
  // n administrator events from second start_s, per_second of them each second.
  void add_admin_events(int n, int64_t start_s, int per_second);
  size_t auth_event_count() const;
  size_t admin_event_count() const;

  // Events newer than now - delay are not returned yet (default 120000).
  void set_visibility_delay_ms(int64_t delay_ms);
  // Largest accepted difference between the Date header and now (default 300000).
  void set_skew_window_ms(int64_t window_ms);
  // More than this many calls in 60 s get 429 (0, the default, is no limit).
  void set_rate_limit_per_minute(int calls);
  // Shifts the imitation's clock (tests that shift the host's clock).
  void set_clock_offset_ms(int64_t offset_ms);

  // What a Duo signature covers.
  struct Signed {
    std::string date;
    std::string method;
    std::string host;  // as received in Host, lower-cased by canonical()
    std::string path;
    std::vector<std::pair<std::string, std::string>> params;  // decoded
    std::string body;
    std::vector<std::pair<std::string, std::string>> x_duo_headers;  // v5 only
  };
  // The canonical string of signature version 2 or 5.
  static std::string canonical(const Signed& request, int version);
  // True when sig_hex is the v2 (40 hex) or v5 (128 hex) signature of request under skey.
  static bool signature_valid(const std::string& skey, const Signed& request,
                              const std::string& sig_hex);

 protected:
  void handle(const Request& request, Reply& reply) override;

 private:
  struct AuthEvent {
    int64_t ts_ms;
    std::string txid;
    std::string json;
  };
  struct AdminEvent {
    int64_t ts_s;
    std::string json;
  };

  int64_t clock_ms() const;  // call with mu_ held
  bool authenticate(const Request& request, Reply& reply);
  void auth_logs(const Request& request, Reply& reply);
  void admin_logs(const Request& request, Reply& reply);

  const std::string ikey_;
  const std::string skey_;
  mutable std::mutex mu_;
  std::vector<AuthEvent> auth_events_;    // sorted by (ts_ms, txid)
  std::vector<AdminEvent> admin_events_;  // sorted by ts_s, stable
  std::deque<int64_t> calls_ms_;          // recent calls, for the rate limit
  uint64_t serial_ = 0;
  int64_t visibility_delay_ms_ = 120000;
  int64_t skew_window_ms_ = 300000;
  int rate_limit_per_minute_ = 0;
  int64_t clock_offset_ms_ = 0;
};

}  // namespace siphon::imitation

#endif  // SIPHON_TESTS_DUO_IMITATION_HPP
