// splunk_hec_imitation.hpp - a local imitation of Splunk's HTTP Event
// Collector, as Splunk documents it:
//
//   GET  /services/collector/health  200 {"text":"HEC is healthy","code":17}
//   POST /services/collector/event   `Authorization: Splunk <token>`; no token
//        -> 401 {"text":"Token is required","code":2}; unknown token -> 403
//        {"text":"Invalid token","code":4}. Body: HEC event objects, one after
//        the other; empty -> 400 {"text":"No data","code":5}; one that is not
//        an object with `event` -> 400 {"text":"Event field is required",
//        "code":12} (nothing of the request kept). With indexer
//        acknowledgement on for the token, a request without
//        X-Splunk-Request-Channel (or ?channel=) gets 400 {"text":"Data
//        channel is missing","code":10}, and a good one
//        {"text":"Success","code":0,"ackId":N} (N counts per channel from 0);
//        without it, {"text":"Success","code":0}.
//   POST /services/collector/ack     same token and channel rules; body
//        {"acks":[N,...]} -> {"acks":{"N":true|false}}: an ackId turns true
//        ack_delay after its request (never, while acks are lost, nor for a
//        request whose events an indexer lost: those are not kept).
//
// 503 {"text":"Server is busy","code":9} and other faults come from the
// base class. Thread-safe.
#ifndef SIPHON_TESTS_SPLUNK_HEC_IMITATION_HPP
#define SIPHON_TESTS_SPLUNK_HEC_IMITATION_HPP

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "imitation.hpp"

namespace siphon::imitation {

class SplunkHecImitation : public Imitation {
 public:
  // A token the collector accepts; `ack` turns indexer acknowledgement on.
  void add_token(const std::string& token, bool ack);
  // How long after its request an ackId turns true (default 0).
  void set_ack_delay_ms(int64_t ms);
  // While on, no ackId ever turns true (an indexer lost the data).
  void set_acks_lost(bool on);
  // The event requests after the next `skip` ones lose their events, `count`
  // of them: each is answered with an ackId that never turns true, and its
  // events are not kept (an indexer failed before indexing them).
  void lose_requests(int skip, int count);
  // The HEC event objects received (each as sent), in arrival order.
  std::vector<std::string> events() const;
  // ackIds asked about so far (one count per id per ack request), channels seen.
  size_t ack_queries() const;
  std::set<std::string> channels() const;
  // The Fault the imitation's documentation calls "server is busy".
  static Fault server_busy(int count = 1);

  // After `batches` requests stored normally, the next fault.count requests
  // that would store events get `fault` instead (a status, or a delay).
  void fail_after(int batches, const Fault& fault);

 protected:
  void handle(const Request& request, Reply& reply) override;

 private:
  struct Channel {
    int64_t next_ack = 0;
    std::map<int64_t, int64_t> ready_at_ms;  // ackId -> when it turns true
  };
  // "" when the token is good; else fills `reply`.
  bool authorised(const Request& request, Reply& reply, bool& ack);
  std::string channel_of(const Request& request) const;

  mutable std::mutex mu_;
  PageFaults batch_faults_;
  std::map<std::string, bool> tokens_;
  int64_t ack_delay_ms_ = 0;
  bool acks_lost_ = false;
  int lose_skip_ = 0;
  int lose_count_ = 0;
  std::vector<std::string> events_;
  std::map<std::string, Channel> channels_;
  size_t ack_queries_ = 0;
};

}  // namespace siphon::imitation

#endif
