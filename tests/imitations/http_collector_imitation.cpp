#include "http_collector_imitation.hpp"

#include <rapidjson/document.h>

#include <algorithm>

namespace siphon::imitation {

void HttpCollectorImitation::require_header(const std::string& name, const std::string& value) {
  std::lock_guard lock(mu_);
  required_.emplace_back(name, value);
}

void HttpCollectorImitation::refuse_all(int status, const std::string& body) {
  std::lock_guard lock(mu_);
  refuse_status_ = status;
  refuse_body_ = body;
}

std::vector<std::string> HttpCollectorImitation::lines() const {
  std::lock_guard lock(mu_);
  return lines_;
}

size_t HttpCollectorImitation::batches() const {
  std::lock_guard lock(mu_);
  return batches_;
}

size_t HttpCollectorImitation::gzipped_batches() const {
  std::lock_guard lock(mu_);
  return gzipped_;
}

size_t HttpCollectorImitation::largest_batch() const {
  std::lock_guard lock(mu_);
  return largest_;
}

void HttpCollectorImitation::fail_after(int batches, const Fault& fault) {
  std::lock_guard lock(mu_);
  batch_faults_.arm(batches, fault);
}

void HttpCollectorImitation::handle(const Request& request, Reply& reply) {
  std::unique_lock lock(mu_);
  if (refuse_status_ != 0) {
    reply.status = refuse_status_;
    reply.body = refuse_body_;
    return;
  }
  for (const auto& [name, value] : required_) {
    if (request.header(name) != value) {
      reply.status = 401;
      reply.body = "{\"error\":\"unauthorized\"}";
      return;
    }
  }
  if (request.method != "POST") {
    reply.status = 405;
    reply.body = "{\"error\":\"method not allowed\"}";
    return;
  }
  if (batch_faults_.strike(lock, reply)) return;
  std::string body = decoded_body(request);
  std::vector<std::string> got;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    std::string line = body.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? body.size() : nl + 1;
    if (line.empty()) continue;
    rapidjson::Document d;
    d.Parse(line.data(), line.size());
    if (d.HasParseError() || !d.IsObject()) {
      reply.status = 400;
      reply.body =
          "{\"error\":\"line " + std::to_string(got.size() + 1) + " is not a JSON object\"}";
      return;
    }
    got.push_back(std::move(line));
  }
  if (!got.empty()) {
    ++batches_;
    if (!request.header("content-encoding").empty()) ++gzipped_;
    largest_ = std::max(largest_, got.size());
  }
  for (auto& l : got) lines_.push_back(std::move(l));
  batch_faults_.served();
  reply.body = "{\"accepted\":" + std::to_string(got.size()) + "}";
}

}  // namespace siphon::imitation
