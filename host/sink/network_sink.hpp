// The base of the sinks that deliver over HTTP (http, splunk_hec,
// elasticsearch). What they share:
//   - the host's HTTP stack: an HttpService of the sink's own (its TLS
//     settings: CA file, client certificate and key; its timeout), with the
//     host's retry policy: connection errors, timeouts, 429 and 5xx are
//     retried with backoff and Retry-After up to http.max_retries;
//   - a page cut into batches of at most batch_size records and about
//     batch_bytes bytes, sent one after the other; deliver() returns only
//     when every batch is acknowledged, and throws SinkError otherwise;
//   - secrets (header values, tokens, passwords, API keys) given as
//     ${env:}/${file:} references, resolved at every delivery (rotation works)
//     and redacted from every error text; they are never logged;
//   - optional gzip of request bodies.
// Thread-safe: nothing is locked while a request is in flight, so apps that
// share a sink deliver in parallel, and a sink that is down holds only the
// apps that write to it.
#ifndef SIPHON_HOST_SINK_NETWORK_SINK_HPP
#define SIPHON_HOST_SINK_NETWORK_SINK_HPP

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "http/http_service.hpp"
#include "log/log.hpp"
#include "sink/sink.hpp"

namespace siphon {

// The resolved secrets of one delivery, and a Redactor that hides them.
struct SinkSecrets {
  std::map<std::string, std::string> values;  // field ("token", "header X-Key"...) -> value
  Redactor redactor;
  const std::string& get(const std::string& field) const;
};

class NetworkSink : public Sink {
 public:
  NetworkSink(const SinkConfig& config, const HttpConfig& http);
  void deliver(const RecordBatch& batch, StopSignal* stop = nullptr) override;

 protected:
  // Sends records [first, last) of `batch` and returns once they are
  // acknowledged. Throws SinkError.
  virtual void send_batch(const RecordBatch& batch, size_t first, size_t last,
                          const SinkSecrets& secrets, StopSignal* stop) = 0;
  // Calls `send(first, last)` for each batch of the page, in order.
  void for_each_batch(const RecordBatch& batch,
                      const std::function<void(size_t, size_t)>& send) const;
  // Bytes a record takes in a request body (for batch_bytes).
  virtual size_t record_cost(const RecordBatch& batch, size_t i) const {
    return batch.records[i].line_size;
  }

  // Resolves the sink's secret references. Throws SinkError naming the field.
  SinkSecrets resolve_secrets() const;
  // POSTs `body` (gzipped when configured). Returns the response when one
  // arrived (any status); throws SinkError when the sink stayed unreachable
  // or answered 429/5xx through every retry.
  HttpResponse post(const std::string& url,
                    std::vector<std::pair<std::string, std::string>> headers,
                    const std::string& body, const SinkSecrets& secrets, StopSignal* stop,
                    const std::string& what);
  // One GET or POST without retries, for probe(): `error` set when no answer.
  HttpResponse probe_request(const std::string& method, const std::string& url,
                             std::vector<std::pair<std::string, std::string>> headers,
                             const std::string& body);
  // Throws SinkError("sink NAME: " + text), secrets redacted.
  [[noreturn]] void fail(const std::string& text, const SinkSecrets& secrets) const;
  // The base URL without a trailing slash.
  std::string base_url() const;

  const SinkConfig config_;
  HttpService http_;
};

// The network sink `config.type` names (http, splunk_hec, elasticsearch).
std::unique_ptr<Sink> make_network_sink(const SinkConfig& config, const HttpConfig& http);

// The HttpConfig a network sink uses: the host's, with the sink's TLS files
// and timeout.
HttpConfig sink_http_config(const SinkConfig& config, const HttpConfig& http);

// The secret fields of a sink config, as (field name, raw value) pairs:
// header values, token, password, api_key.
std::vector<std::pair<std::string, std::string>> sink_secret_fields(const SinkConfig& config);

// A short, printable excerpt of a response body for error texts.
std::string body_excerpt(const std::string& body);

}  // namespace siphon

#endif
