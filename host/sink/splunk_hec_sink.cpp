#include "sink/splunk_hec_sink.hpp"

#include <Poco/UUIDGenerator.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <map>
#include <thread>

#include "util/clock.hpp"

namespace siphon {
namespace {

// HEC's own reason: {"text":"Invalid token","code":4}.
std::string hec_reason(const HttpResponse& resp) {
  rapidjson::Document doc;
  doc.Parse(resp.body.data(), resp.body.size());
  std::string out = "HTTP " + std::to_string(resp.status);
  if (!doc.HasParseError() && doc.IsObject()) {
    if (doc.HasMember("text") && doc["text"].IsString())
      out += ": " + std::string(doc["text"].GetString());
    if (doc.HasMember("code") && doc["code"].IsInt())
      out += " (code " + std::to_string(doc["code"].GetInt()) + ")";
    return out;
  }
  return out + ": " + body_excerpt(resp.body);
}

}  // namespace

SplunkHecSink::SplunkHecSink(const SinkConfig& config, const HttpConfig& http)
    : NetworkSink(config, http), channel_(Poco::UUIDGenerator().createRandom().toString()) {}

std::vector<std::pair<std::string, std::string>> SplunkHecSink::headers(
    const SinkSecrets& secrets) const {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("Authorization", "Splunk " + secrets.get("token"));
  out.emplace_back("Content-Type", "application/json");
  if (config_.ack) out.emplace_back("X-Splunk-Request-Channel", channel_);
  return out;
}

void SplunkHecSink::deliver(const RecordBatch& batch, StopSignal* stop) {
  if (batch.size() == 0) return;
  SinkSecrets secrets = resolve_secrets();
  std::vector<std::pair<size_t, size_t>> ranges;
  for_each_batch(batch, [&](size_t first, size_t last) { ranges.emplace_back(first, last); });
  deliver_ranges(batch, std::move(ranges), secrets, stop);
}

void SplunkHecSink::send_batch(const RecordBatch& batch, size_t first, size_t last,
                               const SinkSecrets& secrets, StopSignal* stop) {
  deliver_ranges(batch, {{first, last}}, secrets, stop);
}

void SplunkHecSink::deliver_ranges(const RecordBatch& batch,
                                   std::vector<std::pair<size_t, size_t>> ranges,
                                   const SinkSecrets& secrets, StopSignal* stop) {
  for (int retry = 0;; ++retry) {
    std::map<int64_t, std::pair<size_t, size_t>> waiting;  // ackId -> its batch
    for (const auto& [first, last] : ranges) {
      int64_t id = post_batch(batch, first, last, secrets, stop);
      if (id >= 0) waiting[id] = {first, last};
    }
    if (waiting.empty()) return;
    std::vector<int64_t> ids;
    for (const auto& [id, range] : waiting) ids.push_back(id);
    std::vector<int64_t> lost = await_acks(batch, std::move(ids), secrets, stop);
    if (lost.empty()) return;
    // Not acknowledged in time: the indexers may have lost those events.
    // Only those batches go again; the acknowledged ones are not repeated.
    size_t records = 0;
    ranges.clear();
    for (int64_t id : lost) {
      ranges.push_back(waiting[id]);
      records += waiting[id].second - waiting[id].first;
    }
    std::string what = std::to_string(lost.size()) + " batches (" + std::to_string(records) +
                       " records) of app " + batch.app +
                       " not acknowledged by the indexers within ack_timeout (" +
                       std::to_string(config_.ack_timeout_ms / 1000) + " s)";
    std::string why;
    if (!http_.backoff(retry, stop, why)) fail(what + ": " + why, secrets);
    log_line(LogLevel::kWarn, batch.app, "sink " + name() + ": " + what + "; sending them again");
  }
}

int64_t SplunkHecSink::post_batch(const RecordBatch& batch, size_t first, size_t last,
                                  const SinkSecrets& secrets, StopSignal* stop) {
  std::string tail =
      ",\"sourcetype\":" +
      json_quote(config_.sourcetype.empty() ? "siphon:" + batch.type : config_.sourcetype);
  if (!config_.index.empty()) tail += ",\"index\":" + json_quote(config_.index);
  if (!config_.source.empty()) tail += ",\"source\":" + json_quote(config_.source);
  if (!config_.host.empty()) tail += ",\"host\":" + json_quote(config_.host);
  tail += "}\n";
  std::string body;
  body.reserve(batch.records[last - 1].line_offset + batch.records[last - 1].line_size -
               batch.records[first].line_offset + (last - first) * (tail.size() + 10));
  for (size_t i = first; i < last; ++i) {
    body += "{\"event\":";
    body.append(batch.record(i));
    body += tail;
  }
  const std::string url = base_url() + "/services/collector/event";
  std::string what = "batch of " + std::to_string(last - first) + " records of app " + batch.app;
  HttpResponse resp = post(url, headers(secrets), body, secrets, stop, what);
  if (resp.status < 200 || resp.status > 299)
    fail(what + " refused by " + url + ": " + hec_reason(resp), secrets);
  if (!config_.ack) return -1;
  rapidjson::Document doc;
  doc.Parse(resp.body.data(), resp.body.size());
  if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("ackId") && doc["ackId"].IsInt64())
    return doc["ackId"].GetInt64();
  if (!told_no_ack_.exchange(true))
    log_line(LogLevel::kWarn, batch.app,
             "sink " + name() + ": " + url +
                 " answers without an ackId (indexer acknowledgement is off for this token); "
                 "its 2xx is taken as the acknowledgement");
  return -1;
}

std::vector<int64_t> SplunkHecSink::await_acks(const RecordBatch& batch, std::vector<int64_t> ids,
                                               const SinkSecrets& secrets, StopSignal* stop) {
  const std::string url = base_url() + "/services/collector/ack";
  const int64_t deadline = now_ms() + config_.ack_timeout_ms;
  int64_t pause_ms = 10;
  for (;;) {
    std::string body = "{\"acks\":[";
    for (size_t i = 0; i < ids.size(); ++i) body += (i ? "," : "") + std::to_string(ids[i]);
    body += "]}";
    std::string what =
        "acknowledgement of " + std::to_string(ids.size()) + " batches of app " + batch.app;
    HttpResponse resp = post(url, headers(secrets), body, secrets, stop, what);
    if (resp.status < 200 || resp.status > 299)
      fail(what + " refused by " + url + ": " + hec_reason(resp), secrets);
    rapidjson::Document doc;
    doc.Parse(resp.body.data(), resp.body.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("acks") || !doc["acks"].IsObject())
      fail(what + ": the answer of " + url + " holds no acks: " + body_excerpt(resp.body), secrets);
    const auto& acks = doc["acks"];
    std::erase_if(ids, [&](int64_t id) {
      std::string key = std::to_string(id);
      auto it = acks.FindMember(key.c_str());
      return it != acks.MemberEnd() && it->value.IsBool() && it->value.GetBool();
    });
    if (ids.empty() || now_ms() + pause_ms > deadline) return ids;
    if (stop) {
      if (!stop->wait_ms(pause_ms)) fail(what + ": stopped while waiting", secrets);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
    }
    pause_ms = std::min<int64_t>(pause_ms * 2, 1000);
  }
}

std::string SplunkHecSink::probe(bool& ok) {
  ok = false;
  SinkSecrets secrets;
  try {
    secrets = resolve_secrets();
  } catch (const SinkError& e) {
    return e.what();
  }
  std::string url = base_url() + "/services/collector/health";
  HttpResponse resp = probe_request("GET", url, {}, "");
  if (!resp.error.empty()) return secrets.redactor.apply(url + ": unreachable: " + resp.error);
  if (resp.status != 200) return url + ": not healthy: " + hec_reason(resp);
  // An empty event request checks the token without indexing anything:
  // HEC answers "No data" (code 5) to a good token, 401/403 to a bad one.
  url = base_url() + "/services/collector/event";
  resp = probe_request("POST", url, headers(secrets), "");
  if (!resp.error.empty()) return secrets.redactor.apply(url + ": unreachable: " + resp.error);
  if (resp.status == 401 || resp.status == 403)
    return secrets.redactor.apply(url +
                                  ": reachable, but the token is refused: " + hec_reason(resp));
  ok = true;
  return secrets.redactor.apply(base_url() + ": reachable, HEC healthy, token accepted" +
                                std::string(config_.ack ? ", acknowledgement on" : ""));
}

}  // namespace siphon
