// The `http` sink: each batch of records is POSTed to `url` as NDJSON (the
// record lines exactly as the file sink writes them), with the configured
// headers (values may be ${env:}/${file:} references; never logged) and
// optional gzip. A 2xx acknowledges the batch. 429, 5xx and transport errors
// are retried by the host's HTTP stack; what is still refused after the
// retries, and any other status (4xx: permanent), fails the delivery.
#ifndef SIPHON_HOST_SINK_HTTP_SINK_HPP
#define SIPHON_HOST_SINK_HTTP_SINK_HPP

#include "sink/network_sink.hpp"

namespace siphon {

class HttpSink : public NetworkSink {
 public:
  using NetworkSink::NetworkSink;
  std::string probe(bool& ok) override;

 protected:
  void send_batch(const RecordBatch& batch, size_t first, size_t last, const SinkSecrets& secrets,
                  StopSignal* stop) override;

 private:
  std::vector<std::pair<std::string, std::string>> headers(const SinkSecrets& secrets) const;
};

}  // namespace siphon

#endif
