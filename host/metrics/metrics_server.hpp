// The observability endpoint behind `http.listen` (off unless configured):
//   GET /metrics  Prometheus text exposition (format 0.0.4) of Metrics
//   GET /health   JSON per app; 200 when every app is healthy, else 503
// Anything else is 404; methods other than GET and HEAD are 405. The endpoint
// has no authentication and serves no secrets (errors are redacted before they
// reach Metrics). A Poco::Net::HTTPServer with a couple of threads; it runs
// until the object is destroyed.
#ifndef SIPHON_HOST_METRICS_METRICS_SERVER_HPP
#define SIPHON_HOST_METRICS_METRICS_SERVER_HPP

#include <memory>
#include <string>

#include "metrics/metrics.hpp"

namespace Poco::Net {
class HTTPServer;
}

namespace siphon {

class MetricsServer {
 public:
  // Binds `listen` ("HOST:PORT", "[v6]:PORT"; port 0 picks a free one) and
  // starts serving. Throws std::runtime_error naming the address on failure.
  MetricsServer(Metrics& metrics, const std::string& listen);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The address actually bound, "HOST:PORT".
  const std::string& address() const { return address_; }

 private:
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  std::string address_;
};

}  // namespace siphon

#endif
