#include "sink/network_sink.hpp"

#include <Poco/DeflatingStream.h>
#include <Poco/String.h>

#include <sstream>

#include "config/secret_ref.hpp"
#include "sink/elasticsearch_sink.hpp"
#include "sink/http_sink.hpp"
#include "sink/splunk_hec_sink.hpp"
#include "util/clock.hpp"

namespace siphon {

const std::string& SinkSecrets::get(const std::string& field) const {
  static const std::string kEmpty;
  auto it = values.find(field);
  return it == values.end() ? kEmpty : it->second;
}

HttpConfig sink_http_config(const SinkConfig& config, const HttpConfig& http) {
  HttpConfig out = http;
  if (!config.ca_file.empty()) out.ca_file = config.ca_file;
  out.client_cert_file = config.client_cert;
  out.client_key_file = config.client_key;
  if (config.timeout_ms > 0) out.read_timeout_ms = config.timeout_ms;
  return out;
}

std::vector<std::pair<std::string, std::string>> sink_secret_fields(const SinkConfig& config) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [k, v] : config.headers) out.emplace_back("header " + k, v);
  if (!config.token.empty()) out.emplace_back("token", config.token);
  if (!config.password.empty()) out.emplace_back("password", config.password);
  if (!config.api_key.empty()) out.emplace_back("api_key", config.api_key);
  return out;
}

std::string body_excerpt(const std::string& body) {
  std::string out;
  for (char c : body.substr(0, 300)) out += (c == '\n' || c == '\r') ? ' ' : c;
  if (body.size() > 300) out += "...";
  return out;
}

NetworkSink::NetworkSink(const SinkConfig& config, const HttpConfig& http)
    : Sink(config.name), config_(config), http_(sink_http_config(config, http)) {}

std::string NetworkSink::base_url() const {
  std::string url = config_.url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

SinkSecrets NetworkSink::resolve_secrets() const {
  SinkSecrets out;
  for (const auto& [field, raw] : sink_secret_fields(config_)) {
    try {
      std::string warning;
      std::string value = resolve_secret_refs(raw, config_.dir, &warning);
      if (!warning.empty()) log_line(LogLevel::kWarn, "", "sink " + name() + ": " + warning);
      out.redactor.add(value);
      out.values[field] = std::move(value);
    } catch (const SecretRefError& e) {
      throw SinkError("sink " + name() + ": field " + field + ": " + e.what());
    }
  }
  return out;
}

void NetworkSink::fail(const std::string& text, const SinkSecrets& secrets) const {
  throw SinkError(secrets.redactor.apply("sink " + name() + ": " + text));
}

void NetworkSink::deliver(const RecordBatch& batch, StopSignal* stop) {
  if (batch.size() == 0) return;
  SinkSecrets secrets = resolve_secrets();
  for_each_batch(batch,
                 [&](size_t first, size_t last) { send_batch(batch, first, last, secrets, stop); });
}

void NetworkSink::for_each_batch(const RecordBatch& batch,
                                 const std::function<void(size_t, size_t)>& send) const {
  size_t first = 0;
  while (first < batch.size()) {
    size_t last = first;
    size_t bytes = 0;
    while (last < batch.size() && static_cast<int64_t>(last - first) < config_.batch_size) {
      size_t cost = record_cost(batch, last);
      if (last > first && static_cast<int64_t>(bytes + cost) > config_.batch_bytes) break;
      bytes += cost;
      ++last;
    }
    send(first, last);
    first = last;
  }
}

namespace {

std::string gzip(const std::string& body) {
  std::ostringstream out;
  Poco::DeflatingOutputStream z(out, Poco::DeflatingStreamBuf::STREAM_GZIP, 1);
  z.write(body.data(), static_cast<std::streamsize>(body.size()));
  z.close();
  return out.str();
}

// A sink's answer that points elsewhere ("" for any other): never followed
// (a 301/302 turns a POST into a GET, whose 200 would pass for an
// acknowledgement).
std::string redirected(const std::string& url, const HttpResponse& resp) {
  if (resp.status < 300 || resp.status > 399) return "";
  std::string location;
  for (const auto& [k, v] : resp.headers)
    if (Poco::icompare(k, "Location") == 0) location = v;
  return url + " answered HTTP " + std::to_string(resp.status) + " redirecting to " +
         (location.empty() ? std::string("nowhere") : body_excerpt(location)) +
         "; sinks do not follow redirects: set the sink's url to the address it redirects to";
}

}  // namespace

HttpResponse NetworkSink::post(const std::string& url,
                               std::vector<std::pair<std::string, std::string>> headers,
                               const std::string& body, const SinkSecrets& secrets,
                               StopSignal* stop, const std::string& what) {
  HttpRequest req;
  req.method = "POST";
  req.url = url;
  req.headers = std::move(headers);
  if (config_.gzip) {
    req.headers.emplace_back("Content-Encoding", "gzip");
    req.body = gzip(body);
  } else {
    req.body = body;
  }
  HttpResponse resp;
  RequestPolicy no_redirects;
  no_redirects.follow_redirects = false;
  siphon_status st = http_.send(req, resp, stop, &no_redirects);
  if (st == SIPHON_RETRY_LATER)
    fail(what + " not acknowledged: " + url + " unavailable: " + resp.error, secrets);
  if (st != SIPHON_OK) fail(what + " not delivered: " + url + ": " + resp.error, secrets);
  if (std::string where = redirected(url, resp); !where.empty())
    fail(what + " not delivered: " + where, secrets);
  return resp;
}

HttpResponse NetworkSink::probe_request(const std::string& method, const std::string& url,
                                        std::vector<std::pair<std::string, std::string>> headers,
                                        const std::string& body) {
  HttpRequest req;
  req.method = method;
  req.url = url;
  req.headers = std::move(headers);
  req.body = body;
  HttpResponse resp;
  // A deadline already reached: no retry wait is taken, one attempt only.
  RequestPolicy once;
  once.deadline_ms = now_ms() + 1;
  once.follow_redirects = false;
  siphon_status st = http_.send(req, resp, nullptr, &once);
  if (st != SIPHON_OK && resp.error.empty()) resp.error = "no answer";
  if (st == SIPHON_OK) resp.error = redirected(url, resp);  // "" unless a 3xx
  return resp;
}

std::unique_ptr<Sink> make_network_sink(const SinkConfig& config, const HttpConfig& http) {
  if (config.type == "splunk_hec") return std::make_unique<SplunkHecSink>(config, http);
  if (config.type == "elasticsearch") return std::make_unique<ElasticsearchSink>(config, http);
  return std::make_unique<HttpSink>(config, http);
}

}  // namespace siphon
