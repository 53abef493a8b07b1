#include "sink/elasticsearch_sink.hpp"

#include <Poco/URI.h>
#include <rapidjson/document.h>

#include <siphon/auth_helpers.hpp>

#include "sink/record.hpp"

namespace siphon {
namespace {

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

bool retryable(int status) { return status == 429 || (status >= 500 && status <= 599); }

}  // namespace

std::string expand_index(const std::string& pattern, const RecordBatch& batch) {
  std::string out = pattern;
  replace_all(out, "{type}", batch.type);
  replace_all(out, "{app}", batch.app);
  replace_all(out, "{service}", batch.service);
  return out;
}

std::vector<std::pair<std::string, std::string>> ElasticsearchSink::headers(
    const SinkSecrets& secrets) const {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("Content-Type", "application/x-ndjson");
  if (!config_.api_key.empty()) {
    out.emplace_back("Authorization", "ApiKey " + secrets.get("api_key"));
  } else if (!config_.username.empty()) {
    out.emplace_back("Authorization", "Basic " + auth::base64_encode(config_.username + ":" +
                                                                     secrets.get("password")));
  }
  return out;
}

std::string ElasticsearchSink::bulk_url() const {
  std::string url = base_url() + "/_bulk";
  if (!config_.pipeline.empty()) {
    std::string encoded;
    Poco::URI::encode(config_.pipeline, "&=?#/+ ", encoded);
    url += "?pipeline=" + encoded;
  }
  return url;
}

void ElasticsearchSink::send_batch(const RecordBatch& batch, size_t first, size_t last,
                                   const SinkSecrets& secrets, StopSignal* stop) {
  const std::string action_head =
      "{\"create\":{\"_index\":" + json_quote(expand_index(config_.index, batch)) + ",\"_id\":\"";
  std::vector<size_t> pending;
  std::vector<std::string> ids;
  for (size_t i = first; i < last; ++i) {
    pending.push_back(i);
    ids.push_back(record_id(batch, i));
  }
  const std::string url = bulk_url();
  std::string body;
  for (int retry = 0;; ++retry) {
    body.clear();
    for (size_t i : pending) {
      body += action_head;
      body += ids[i - first];
      body += "\"}}\n";
      body.append(batch.line(i));
    }
    std::string what =
        "bulk request of " + std::to_string(pending.size()) + " records of app " + batch.app;
    HttpResponse resp = post(url, headers(secrets), body, secrets, stop, what);
    if (resp.status < 200 || resp.status > 299)
      fail(what + " refused by " + url + ": HTTP " + std::to_string(resp.status) + ": " +
               body_excerpt(resp.body),
           secrets);
    rapidjson::Document doc;
    doc.Parse(resp.body.data(), resp.body.size());
    if (doc.HasParseError() || !doc.IsObject())
      fail(what + ": the answer of " + url + " is not a bulk response: " + body_excerpt(resp.body),
           secrets);
    // Every item is checked, whatever "errors" says.
    auto items = doc.FindMember("items");
    if (items == doc.MemberEnd() || !items->value.IsArray() ||
        items->value.Size() != pending.size())
      fail(what + ": the answer of " + url + " does not hold one item per record", secrets);
    std::vector<size_t> again;
    std::string first_again;
    for (rapidjson::SizeType k = 0; k < items->value.Size(); ++k) {
      const auto& item = items->value[k];
      if (!item.IsObject() || item.MemberCount() != 1 || !item.MemberBegin()->value.IsObject())
        fail(what + ": item " + std::to_string(k) + " of the answer is malformed", secrets);
      const auto& result = item.MemberBegin()->value;
      auto st = result.FindMember("status");
      int status = st != result.MemberEnd() && st->value.IsInt() ? st->value.GetInt() : 0;
      if ((status >= 200 && status <= 299) || status == 409) continue;
      std::string error = "HTTP " + std::to_string(status);
      if (auto e = result.FindMember("error"); e != result.MemberEnd()) {
        if (e->value.IsObject()) {
          auto type = e->value.FindMember("type");
          auto reason = e->value.FindMember("reason");
          if (type != e->value.MemberEnd() && type->value.IsString())
            error += " " + std::string(type->value.GetString());
          if (reason != e->value.MemberEnd() && reason->value.IsString())
            error += ": " + std::string(reason->value.GetString());
        } else if (e->value.IsString()) {
          error += " " + std::string(e->value.GetString());
        }
      }
      if (!retryable(status))
        fail("document " + ids[pending[k] - first] + " (record " + std::to_string(pending[k]) +
                 " of a page of app " + batch.app + ") refused by index " +
                 expand_index(config_.index, batch) + ": " + body_excerpt(error),
             secrets);
      if (first_again.empty()) first_again = error;
      again.push_back(pending[k]);
    }
    if (again.empty()) return;
    pending = std::move(again);
    std::string why;
    if (!http_.backoff(retry, stop, why))
      fail(std::to_string(pending.size()) + " records of app " + batch.app +
               " not acknowledged by " + url + " (first error: " + body_excerpt(first_again) +
               "): " + why,
           secrets);
    log_line(LogLevel::kDebug, batch.app,
             "sink " + name() + ": sending " + std::to_string(pending.size()) +
                 " refused records again (" + body_excerpt(first_again) + ")");
  }
}

std::string ElasticsearchSink::probe(bool& ok) {
  SinkSecrets secrets;
  try {
    secrets = resolve_secrets();
  } catch (const SinkError& e) {
    ok = false;
    return e.what();
  }
  std::string url = base_url() + "/";
  HttpResponse resp = probe_request("GET", url, headers(secrets), "");
  ok = false;
  if (!resp.error.empty()) return secrets.redactor.apply(url + ": unreachable: " + resp.error);
  if (resp.status == 401 || resp.status == 403)
    return url + ": reachable, but the credentials are refused (HTTP " +
           std::to_string(resp.status) + ")";
  rapidjson::Document doc;
  doc.Parse(resp.body.data(), resp.body.size());
  std::string version = "?";
  if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("version") &&
      doc["version"].IsObject() && doc["version"].HasMember("number") &&
      doc["version"]["number"].IsString())
    version = doc["version"]["number"].GetString();
  if (resp.status != 200)
    return url + ": reachable, but answered HTTP " + std::to_string(resp.status);
  ok = true;
  return url + ": reachable, version " + version;
}

}  // namespace siphon
