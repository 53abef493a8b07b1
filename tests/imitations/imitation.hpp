// imitation.hpp - the base of the local vendor API imitations used by tests
// and by the Quick-start demo.
//
// An Imitation is an HTTP server on 127.0.0.1 (never another address) that a
// vendor-specific subclass fills with that vendor's behaviour: auth checks,
// signatures, paging and error bodies as the vendors document them. The
// base adds what every imitation needs: fault switches (a status with
// Retry-After, a delay, a truncated body) and counters (requests per path,
// TCP connections accepted). Thread-safe: the server answers on its own
// threads; every public member may be called from a test thread.
#ifndef SIPHON_TESTS_IMITATION_HPP
#define SIPHON_TESTS_IMITATION_HPP

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace Poco::Net {
class HTTPServer;
}

namespace siphon::imitation {

struct Request {
  std::string method;
  std::string path;                                         // without the query
  std::string query;                                        // raw, as sent (no '?')
  std::vector<std::pair<std::string, std::string>> params;  // decoded query (and form body)
  std::map<std::string, std::string> headers;               // names lower-cased
  std::string body;

  std::string header(const std::string& lower_name) const;
  // First value of a query/form parameter, or "" (has_param tells them apart).
  std::string param(const std::string& name) const;
  bool has_param(const std::string& name) const;
};

struct Reply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // a name given twice is sent twice
  std::string content_type = "application/json";
  std::string body;
};

// One injected fault; it applies to the next `count` requests whose path
// starts with `path_prefix` ("" for any path).
struct Fault {
  int status = 0;           // reply with this status instead (0: answer normally)
  std::string retry_after;  // Retry-After header value, if not empty
  std::string body;         // body of the fault reply
  int delay_ms = 0;         // wait this long before answering
  bool truncate = false;    // announce the full length, send half the body, close
  int count = 1;
  std::string path_prefix;
  std::string content_type;  // of the fault reply ("" = application/json)
  std::vector<std::pair<std::string, std::string>> headers;  // extra reply headers
};

class Imitation {
 public:
  Imitation();
  virtual ~Imitation();
  Imitation(const Imitation&) = delete;
  Imitation& operator=(const Imitation&) = delete;

  // Listens on 127.0.0.1:port (0 picks a free port).
  void start(uint16_t port = 0);
  void stop();
  uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port>"
  std::string base_url() const;

  void inject(const Fault& fault);
  void clear_faults();

  // Requests answered (faults included) whose path starts with prefix.
  size_t requests(const std::string& path_prefix = "") const;
  // TCP connections accepted since start.
  size_t connections() const;

  // Every request answered: when it arrived and when its answer was ready
  // (steady clock, ms), its path and Authorization header (which tells apart
  // the clients of one account: each gets its own token).
  struct LoggedRequest {
    int64_t start_ms = 0;
    int64_t end_ms = 0;
    std::string path;
    std::string authorization;
  };
  std::vector<LoggedRequest> request_log() const;

  // Called by the server threads; public for the handler glue only.
  void serve(const Request& request, Reply& reply, bool& truncate);

 protected:
  // The vendor behaviour. Called with no lock held; subclasses lock their own state.
  virtual void handle(const Request& request, Reply& reply) = 0;

 private:
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  uint16_t port_ = 0;
  mutable std::mutex mu_;
  // Requests being answered; stop() waits for them, so that a subclass's
  // members outlive every handler still running (e.g. in a delay fault).
  std::mutex active_mu_;
  std::condition_variable active_cv_;
  int active_ = 0;
  std::vector<Fault> faults_;
  std::vector<std::string> paths_seen_;
  std::vector<LoggedRequest> log_;
};

// A fault that strikes after a number of pages answered normally, for an
// imitation's "fail_pages_after". Not thread-safe: its owner calls it with its
// own lock held.
class PageFaults {
 public:
  // After `pages_served` pages answered normally, the next fault.count page
  // requests get `fault`; a negative `pages_served` disarms.
  void arm(int pages_served, const Fault& fault);
  // A page was answered normally.
  void served() { ++pages_served_; }
  // Answers a page request with the fault when one is due: waits delay_ms
  // with `lock` released, then, when the fault has a status, fills `reply`
  // with it (body, Retry-After) and returns true. False: answer normally.
  bool strike(std::unique_lock<std::mutex>& lock, Reply& reply);

 private:
  int pages_served_ = 0;
  int fault_after_ = -1;
  Fault fault_;
};

// Helpers for subclasses.
std::string json_escape(const std::string& text);
// The request body, gunzipped when it came with Content-Encoding: gzip.
std::string decoded_body(const Request& request);
// Milliseconds since the epoch, from the system clock.
int64_t now_ms();

}  // namespace siphon::imitation

#endif  // SIPHON_TESTS_IMITATION_HPP
