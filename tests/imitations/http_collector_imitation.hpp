// http_collector_imitation.hpp - a local NDJSON collector: what a log
// pipeline's HTTP input (Vector, Fluent Bit, Logstash http input, a SIEM's
// webhook) does with Siphon's `http` sink.
//
//   POST <any path>   body: NDJSON, one JSON object a line (gzip when sent
//                     with Content-Encoding: gzip). A missing or wrong
//                     required header -> 401; a line that is not a JSON
//                     object -> 400 (nothing of the request stored); else
//                     200 {"accepted":N} and every line is stored.
//
// Faults (429, 5xx, delays, dropped connections) come from the base class;
// refuse_all() answers every request with a permanent 4xx. Thread-safe.
#ifndef SIPHON_TESTS_HTTP_COLLECTOR_IMITATION_HPP
#define SIPHON_TESTS_HTTP_COLLECTOR_IMITATION_HPP

#include <mutex>
#include <string>
#include <vector>

#include "imitation.hpp"

namespace siphon::imitation {

class HttpCollectorImitation : public Imitation {
 public:
  // Requests must carry header `name` (lower case) with `value`.
  void require_header(const std::string& name, const std::string& value);
  // Every request gets `status` (e.g. 400, 413) with `body` from now on; 0 stops it.
  void refuse_all(int status, const std::string& body = "{\"error\":\"refused\"}");
  // Lines stored so far, in arrival order.
  std::vector<std::string> lines() const;
  // Requests that stored lines, and those of them that came gzipped.
  size_t batches() const;
  size_t gzipped_batches() const;
  // The largest number of lines one request stored.
  size_t largest_batch() const;

  // After `batches` requests stored normally, the next fault.count requests
  // that would store events get `fault` instead (a status, or a delay).
  void fail_after(int batches, const Fault& fault);

 protected:
  void handle(const Request& request, Reply& reply) override;

 private:
  mutable std::mutex mu_;
  PageFaults batch_faults_;
  std::vector<std::pair<std::string, std::string>> required_;
  int refuse_status_ = 0;
  std::string refuse_body_;
  std::vector<std::string> lines_;
  size_t batches_ = 0;
  size_t gzipped_ = 0;
  size_t largest_ = 0;
};

}  // namespace siphon::imitation

#endif
