#include "splunk_hec_imitation.hpp"

#include <rapidjson/document.h>
#include <rapidjson/reader.h>
#include <rapidjson/stream.h>

#include <cstdint>

namespace siphon::imitation {
namespace {

void hec_reply(Reply& reply, int status, const std::string& text, int code) {
  reply.status = status;
  reply.body = "{\"text\":\"" + text + "\",\"code\":" + std::to_string(code) + "}";
}

}  // namespace

void SplunkHecImitation::add_token(const std::string& token, bool ack) {
  std::lock_guard lock(mu_);
  tokens_[token] = ack;
}

void SplunkHecImitation::set_ack_delay_ms(int64_t ms) {
  std::lock_guard lock(mu_);
  ack_delay_ms_ = ms;
}

void SplunkHecImitation::set_acks_lost(bool on) {
  std::lock_guard lock(mu_);
  acks_lost_ = on;
}

void SplunkHecImitation::lose_requests(int skip, int count) {
  std::lock_guard lock(mu_);
  lose_skip_ = skip;
  lose_count_ = count;
}

std::vector<std::string> SplunkHecImitation::events() const {
  std::lock_guard lock(mu_);
  return events_;
}

size_t SplunkHecImitation::ack_queries() const {
  std::lock_guard lock(mu_);
  return ack_queries_;
}

std::set<std::string> SplunkHecImitation::channels() const {
  std::lock_guard lock(mu_);
  std::set<std::string> out;
  for (const auto& [k, v] : channels_) out.insert(k);
  return out;
}

Fault SplunkHecImitation::server_busy(int count) {
  Fault f;
  f.status = 503;
  f.body = "{\"text\":\"Server is busy\",\"code\":9}";
  f.count = count;
  f.path_prefix = "/services/collector/event";
  return f;
}

bool SplunkHecImitation::authorised(const Request& request, Reply& reply, bool& ack) {
  std::string auth = request.header("authorization");
  if (auth.rfind("Splunk ", 0) != 0) {
    hec_reply(reply, 401, "Token is required", 2);
    return false;
  }
  auto it = tokens_.find(auth.substr(7));
  if (it == tokens_.end()) {
    hec_reply(reply, 403, "Invalid token", 4);
    return false;
  }
  ack = it->second;
  return true;
}

std::string SplunkHecImitation::channel_of(const Request& request) const {
  std::string c = request.header("x-splunk-request-channel");
  return c.empty() ? request.param("channel") : c;
}

void SplunkHecImitation::fail_after(int batches, const Fault& fault) {
  std::lock_guard lock(mu_);
  batch_faults_.arm(batches, fault);
}

void SplunkHecImitation::handle(const Request& request, Reply& reply) {
  std::unique_lock lock(mu_);
  if (request.path == "/services/collector/health") {
    hec_reply(reply, 200, "HEC is healthy", 17);
    return;
  }
  bool is_event = request.path == "/services/collector/event" ||
                  request.path == "/services/collector/event/1.0";
  bool is_ack = request.path == "/services/collector/ack";
  if (!is_event && !is_ack) {
    hec_reply(reply, 404, "The requested URL was not found on this server.", 404);
    return;
  }
  if (request.method != "POST") {
    hec_reply(reply, 405, "Method Not Allowed", 0);
    return;
  }
  bool ack = false;
  if (!authorised(request, reply, ack)) return;
  std::string channel = channel_of(request);
  if (ack && channel.empty()) {
    hec_reply(reply, 400, "Data channel is missing", 10);
    return;
  }
  std::string body = decoded_body(request);
  if (is_ack) {
    if (!ack) {
      hec_reply(reply, 400, "ACK is disabled", 14);
      return;
    }
    rapidjson::Document d;
    d.Parse(body.data(), body.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("acks") || !d["acks"].IsArray()) {
      hec_reply(reply, 400, "Invalid data format", 6);
      return;
    }
    Channel& ch = channels_[channel];
    std::string out = "{\"acks\":{";
    bool first = true;
    for (const auto& v : d["acks"].GetArray()) {
      if (!v.IsInt64()) continue;
      ++ack_queries_;
      auto it = ch.ready_at_ms.find(v.GetInt64());
      bool done = !acks_lost_ && it != ch.ready_at_ms.end() && now_ms() >= it->second;
      out += std::string(first ? "" : ",") + "\"" + std::to_string(v.GetInt64()) +
             "\":" + (done ? "true" : "false");
      first = false;
    }
    reply.body = out + "}}";
    return;
  }
  if (batch_faults_.strike(lock, reply)) return;
  // Event objects one after the other, whitespace between them allowed.
  std::vector<std::string> got;
  rapidjson::StringStream ss(body.c_str());
  for (;;) {
    while (ss.Peek() == ' ' || ss.Peek() == '\n' || ss.Peek() == '\r' || ss.Peek() == '\t')
      ss.Take();
    if (ss.Peek() == '\0') break;
    size_t start = ss.Tell();
    rapidjson::Document d;
    d.ParseStream<rapidjson::kParseStopWhenDoneFlag>(ss);
    if (d.HasParseError()) {
      hec_reply(reply, 400, "Invalid data format", 6);
      return;
    }
    if (!d.IsObject() || !d.HasMember("event")) {
      hec_reply(reply, 400, "Event field is required", 12);
      return;
    }
    got.push_back(body.substr(start, ss.Tell() - start));
  }
  if (got.empty()) {
    hec_reply(reply, 400, "No data", 5);
    return;
  }
  bool lost = false;
  if (lose_skip_ > 0) {
    --lose_skip_;
  } else if (lose_count_ > 0) {
    --lose_count_;
    lost = true;
  }
  if (!lost)
    for (auto& e : got) events_.push_back(std::move(e));
  batch_faults_.served();
  if (!ack) {
    hec_reply(reply, 200, "Success", 0);
    return;
  }
  Channel& ch = channels_[channel];
  int64_t id = ch.next_ack++;
  ch.ready_at_ms[id] = lost ? INT64_MAX : now_ms() + ack_delay_ms_;
  reply.body = "{\"text\":\"Success\",\"code\":0,\"ackId\":" + std::to_string(id) + "}";
}

}  // namespace siphon::imitation
