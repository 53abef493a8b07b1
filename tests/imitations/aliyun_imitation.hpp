// aliyun_imitation.hpp - a local imitation of Alibaba Cloud ActionTrail's
// RPC API LookupEvents, following the vendor's documented API.
//
// Every request (GET query or POST form) is checked as Alibaba Cloud does:
// the signature (version 1.0, HMAC-SHA1) is recomputed from the received
// parameters with this file's own encoder, and a mismatch answers
// SignatureDoesNotMatch quoting the server's string to sign; an unknown key
// gets InvalidAccessKeyId.NotFound (404), a disabled one
// InvalidAccessKeyId.Inactive, a Timestamp more than 15 minutes off
// InvalidTimeStamp.Expired, a nonce used again SignatureNonceUsed, more than
// the per-second call limit Throttling.User. Events are returned newest first
// within [StartTime, EndTime] (both inclusive), MaxResults capped at 50, with
// a NextToken chain; a token from an older generation (invalidate_tokens) or
// one that does not parse answers InvalidParameter. Thread-safe.
#ifndef SIPHON_TESTS_ALIYUN_IMITATION_HPP
#define SIPHON_TESTS_ALIYUN_IMITATION_HPP

#include <cstdint>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "imitation.hpp"

namespace siphon::imitation {

class AliyunImitation : public Imitation {
 public:
  AliyunImitation(std::string access_key_id, std::string access_key_secret);
  ~AliyunImitation() override;

  // n events at start_s, start_s + step_s, ... (unique eventIds).
  void add_events(int n, int64_t start_s, int64_t step_s);
  size_t event_count() const;
  // The key is known but disabled.
  void set_key_inactive(bool inactive);
  // More than this many calls within one second get Throttling.User (0: no limit).
  void set_calls_per_second_limit(int calls);
  // NextTokens handed out so far stop being accepted.
  void invalidate_tokens();
  // Every NextToken is refused (a token store that forgets at once).
  void set_refuse_all_tokens(bool refuse);
  // The largest number of calls seen within any one second.
  int busiest_second() const;

  // Percent-encoding, canonical query and signature as Alibaba Cloud defines
  // them, over decoded parameters (Signature excluded by the caller).
  static std::string percent_encode(const std::string& text);
  static std::string string_to_sign(const std::string& method,
                                    std::vector<std::pair<std::string, std::string>> params);
  static std::string sign(const std::string& secret, const std::string& string_to_sign);

 protected:
  void handle(const Request& request, Reply& reply) override;

 private:
  struct Event {
    int64_t time_s;
    uint64_t serial;
    std::string id;
    std::string json;
  };

  void error(Reply& reply, int status, const std::string& code, const std::string& message);
  bool authenticate(const Request& request, Reply& reply);
  void lookup_events(const Request& request, Reply& reply);

  const std::string key_id_;
  const std::string secret_;
  mutable std::mutex mu_;
  bool inactive_ = false;
  int calls_per_second_ = 0;
  std::deque<int64_t> calls_ms_;
  std::vector<int64_t> all_calls_ms_;
  std::set<std::string> nonces_;
  std::vector<Event> events_;  // newest first
  uint64_t serial_ = 0;
  uint64_t requests_ = 0;
  int token_generation_ = 1;
  bool refuse_all_tokens_ = false;
};

}  // namespace siphon::imitation

#endif  // SIPHON_TESTS_ALIYUN_IMITATION_HPP
