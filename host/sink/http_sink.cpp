#include "sink/http_sink.hpp"

namespace siphon {

std::vector<std::pair<std::string, std::string>> HttpSink::headers(
    const SinkSecrets& secrets) const {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("Content-Type", "application/x-ndjson");
  for (const auto& [k, v] : config_.headers) out.emplace_back(k, secrets.get("header " + k));
  return out;
}

void HttpSink::send_batch(const RecordBatch& batch, size_t first, size_t last,
                          const SinkSecrets& secrets, StopSignal* stop) {
  // The lines of consecutive records are consecutive in the page.
  size_t from = batch.records[first].line_offset;
  size_t to = batch.records[last - 1].line_offset + batch.records[last - 1].line_size;
  std::string what = "batch of " + std::to_string(last - first) + " records of app " + batch.app;
  HttpResponse resp =
      post(config_.url, headers(secrets), batch.lines.substr(from, to - from), secrets, stop, what);
  if (resp.status >= 200 && resp.status <= 299) return;
  fail(what + " refused by " + config_.url + ": HTTP " + std::to_string(resp.status) + ": " +
           body_excerpt(resp.body),
       secrets);
}

std::string HttpSink::probe(bool& ok) {
  SinkSecrets secrets;
  try {
    secrets = resolve_secrets();
  } catch (const SinkError& e) {
    ok = false;
    return e.what();
  }
  // An empty POST: a collector answers it without storing anything.
  HttpResponse resp = probe_request("POST", config_.url, headers(secrets), "");
  if (!resp.error.empty()) {
    ok = false;
    return secrets.redactor.apply(config_.url + ": unreachable: " + resp.error);
  }
  ok = resp.status != 401 && resp.status != 403 && resp.status != 404;
  return secrets.redactor.apply(config_.url + ": reachable (HTTP " + std::to_string(resp.status) +
                                (ok ? ")" : "; check the URL and headers)"));
}

}  // namespace siphon
