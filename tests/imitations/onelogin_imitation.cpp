#include "onelogin_imitation.hpp"

#include <Poco/String.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <random>
#include <siphon/auth_helpers.hpp>
#include <siphon/time_format.hpp>

namespace siphon::imitation {
namespace {

const char kTokenPath[] = "/auth/oauth2/v2/token";
const char kEventsPath[] = "/api/1/events";
const char kRateLimitPath[] = "/auth/rate_limit";
constexpr int64_t kMaxLimit = 1000;

void status_reply(Reply& reply, int code, const std::string& type, const std::string& message) {
  reply.status = code;
  reply.body = R"({"status":{"error":true,"code":)" + std::to_string(code) + R"(,"type":")" +
               json_escape(type) + R"(","message":")" + json_escape(message) + "\"}}";
}

void unauthorized(Reply& reply) {
  status_reply(reply, 401, "Unauthorized", "Authentication Failure");
}

bool parse_int(const std::string& text, int64_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

std::string trim(const std::string& s) { return Poco::trim(s); }

std::string random_lower_alnum(size_t n) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  for (size_t i = 0; i < n; ++i) out += kAlphabet[rng() % 36];
  return out;
}

std::string nullable(const std::string& text) {
  return text.empty() ? "null" : "\"" + json_escape(text) + "\"";
}

// Shaped like onelogin.md's sample: logins, failed logins, app and role changes.
std::string event_json(int64_t id, int64_t created_ms) {
  const int64_t user = 4410000 + id % 131;
  const std::string user_name = "User " + std::to_string(user % 1000);
  int type = 5;
  std::string app_name, role_name, error;
  switch (id % 4) {
    case 1:
      type = 6;
      error = "Incorrect password";
      break;
    case 2:
      type = 8;
      app_name = "Salesforce";
      break;
    case 3:
      type = 13;
      role_name = "Engineering";
      break;
    default:
      break;
  }
  return R"({"id":)" + std::to_string(id) + R"(,"created_at":")" +
         timefmt::rfc3339(created_ms, true) + R"(","account_id":555555,"user_id":)" +
         std::to_string(user) + R"(,"event_type_id":)" + std::to_string(type) +
         R"(,"notes":null,"ipaddr":"198.51.100.)" + std::to_string(id % 250) +
         R"(","actor_user_id":)" + std::to_string(user) +
         R"(,"assuming_acting_user_id":null,"role_id":)" + (role_name.empty() ? "null" : "3301") +
         R"(,"app_id":)" + (app_name.empty() ? "null" : "77120") +
         R"(,"group_id":null,"otp_device_id":null,"policy_id":3120,"actor_system":"","custom_message":null,"role_name":)" +
         nullable(role_name) + R"(,"app_name":)" + nullable(app_name) +
         R"(,"group_name":null,"actor_user_name":")" + user_name + R"(","user_name":")" +
         user_name +
         R"(","policy_name":"Default","otp_device_name":null,"operation_name":null,"directory_sync_run_id":null,"directory_id":null,"resolution":null,"client_id":null,"resource_type_id":null,"error_description":)" +
         nullable(error) + "}";
}

// The opaque after_cursor: base64 of the page's query and the last id served.
struct PageQuery {
  int64_t since_ms = INT64_MIN;
  int64_t until_ms = INT64_MAX;
  int64_t limit = 50;
  bool descending = false;
  int64_t after_id = 0;  // 0: from the start
  int64_t epoch = 0;
};

std::string encode_cursor(const PageQuery& q) {
  std::string text = std::to_string(q.since_ms) + "|" + std::to_string(q.until_ms) + "|" +
                     std::to_string(q.limit) + "|" + (q.descending ? "d" : "a") + "|" +
                     std::to_string(q.after_id) + "|" + std::to_string(q.epoch);
  std::string b64 = auth::base64_encode(text);
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  for (auto& c : b64) {  // URL-safe, as cursors travel in a query
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return b64;
}

bool decode_cursor(std::string b64, PageQuery& q) {
  for (auto& c : b64) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  std::string text;
  try {
    text = auth::base64_decode(b64);
  } catch (...) {
    return false;
  }
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t bar; (bar = text.find('|', start)) != std::string::npos; start = bar + 1)
    parts.push_back(text.substr(start, bar - start));
  parts.push_back(text.substr(start));
  if (parts.size() != 6 || (parts[3] != "a" && parts[3] != "d")) return false;
  q.descending = parts[3] == "d";
  return parse_int(parts[0], q.since_ms) && parse_int(parts[1], q.until_ms) &&
         parse_int(parts[2], q.limit) && parse_int(parts[4], q.after_id) &&
         parse_int(parts[5], q.epoch);
}

}  // namespace

OneLoginImitation::OneLoginImitation(std::string client_id, std::string client_secret)
    : client_id_(std::move(client_id)), client_secret_(std::move(client_secret)) {}

OneLoginImitation::~OneLoginImitation() { stop(); }

std::string OneLoginImitation::make_credential() { return random_lower_alnum(64); }

void OneLoginImitation::add_locked(int64_t created_ms) {
  next_id_ += 1 + static_cast<int64_t>(next_id_ % 7);  // gaps, as ids are account-wide
  events_.push_back({next_id_, created_ms, event_json(next_id_, created_ms)});
}

void OneLoginImitation::add_events(int n, int64_t start_ms, int64_t step_ms) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < n; ++i) add_locked(start_ms + i * step_ms);
}

int64_t OneLoginImitation::add_event(int64_t created_ms) {
  std::lock_guard lock(mu_);
  add_locked(created_ms);
  return next_id_;
}

size_t OneLoginImitation::event_count() const {
  std::lock_guard lock(mu_);
  return events_.size();
}

int64_t OneLoginImitation::issued_tokens() const {
  std::lock_guard lock(mu_);
  return issued_tokens_;
}

void OneLoginImitation::set_token_lifetime_seconds(int64_t seconds) {
  std::lock_guard lock(mu_);
  token_lifetime_s_ = seconds;
}

void OneLoginImitation::revoke_tokens() {
  std::lock_guard lock(mu_);
  tokens_.clear();
  current_token_.clear();
}

void OneLoginImitation::expire_page_cursors() {
  std::lock_guard lock(mu_);
  ++cursor_epoch_;
}

int64_t OneLoginImitation::unauthorized_calls() const {
  std::lock_guard lock(mu_);
  return unauthorized_;
}

std::string OneLoginImitation::last_token_form() const {
  std::lock_guard lock(mu_);
  return last_token_form_;
}

void OneLoginImitation::set_rate_limit(int calls, int64_t window_ms, LimitSignal signal,
                                       bool headers) {
  std::lock_guard lock(mu_);
  limit_calls_ = calls;
  limit_window_ms_ = window_ms;
  limit_signal_ = signal;
  limit_headers_ = headers;
  window_start_ms_ = 0;
  window_calls_ = 0;
}

int64_t OneLoginImitation::rate_limited_calls() const {
  std::lock_guard lock(mu_);
  return rate_limited_;
}

void OneLoginImitation::fail_pages_after(int pages_served, const Fault& fault) {
  std::lock_guard lock(mu_);
  page_faults_.arm(pages_served, fault);
}

void OneLoginImitation::set_next_link_origin(const std::string& origin) {
  std::lock_guard lock(mu_);
  next_origin_ = origin;
}

void OneLoginImitation::handle(const Request& request, Reply& reply) {
  if (request.path == kTokenPath && request.method == "POST") return token(request, reply);
  if (request.path == kEventsPath && request.method == "GET") return events(request, reply);
  if (request.path == kRateLimitPath && request.method == "GET") return rate_limit(request, reply);
  status_reply(reply, 404, "not found", "No Route Exists");
}

void OneLoginImitation::token(const Request& request, Reply& reply) {
  std::string id, secret, grant_type, form;
  const std::string content_type = Poco::toLower(request.header("content-type"));
  const std::string authz = request.header("authorization");
  if (content_type.rfind("application/x-www-form-urlencoded", 0) == 0) {
    form = "form";
    id = request.param("client_id");
    secret = request.param("client_secret");
    grant_type = request.param("grant_type");
  } else {
    rapidjson::Document body;
    body.Parse(request.body.data(), request.body.size());
    if (!body.HasParseError() && body.IsObject() && body.HasMember("grant_type") &&
        body["grant_type"].IsString())
      grant_type = body["grant_type"].GetString();
    if (Poco::icompare(authz.substr(0, 6), "Basic ") == 0) {
      form = "basic";
      std::string pair;
      try {
        pair = auth::base64_decode(trim(authz.substr(6)));
      } catch (...) {
        pair.clear();
      }
      auto colon = pair.find(':');
      if (colon != std::string::npos) {
        id = pair.substr(0, colon);
        secret = pair.substr(colon + 1);
      }
    } else {
      // client_id:<id>, client_secret:<secret> (a space after a colon is tolerated)
      form = "header";
      auto comma = authz.find(',');
      std::string first = trim(authz.substr(0, comma));
      std::string second = comma == std::string::npos ? "" : trim(authz.substr(comma + 1));
      if (first.rfind("client_id:", 0) == 0) id = trim(first.substr(10));
      if (second.rfind("client_secret:", 0) == 0) secret = trim(second.substr(14));
    }
  }
  if (grant_type != "client_credentials")
    return status_reply(reply, 400, "bad request", "grant_type is incorrect/absent");
  if (id != client_id_ || secret != client_secret_) return unauthorized(reply);

  std::lock_guard lock(mu_);
  last_token_form_ = form;
  const int64_t now = now_ms();
  auto it = tokens_.find(current_token_);
  if (it == tokens_.end() || it->second <= now) {
    current_token_ = random_lower_alnum(64);
    tokens_[current_token_] = now + token_lifetime_s_ * 1000;
    ++issued_tokens_;
  }
  const int64_t expires_in = (tokens_[current_token_] - now + 999) / 1000;
  reply.body = R"({"access_token":")" + current_token_ + R"(","created_at":")" +
               timefmt::rfc3339(now, true) + R"(","expires_in":)" + std::to_string(expires_in) +
               R"(,"refresh_token":")" + random_lower_alnum(64) +
               R"(","token_type":"bearer","account_id":555555})";
}

bool OneLoginImitation::authorized(const Request& request, Reply& reply) {
  const std::string authz = request.header("authorization");
  std::string token;
  if (authz.rfind("bearer:", 0) == 0)
    token = trim(authz.substr(7));
  else if (Poco::icompare(authz.substr(0, 7), "Bearer ") == 0)
    token = trim(authz.substr(7));
  std::lock_guard lock(mu_);
  auto it = tokens_.find(token);
  if (token.empty() || it == tokens_.end() || it->second <= now_ms()) {
    ++unauthorized_;
    unauthorized(reply);
    return false;
  }
  return true;
}

void OneLoginImitation::rate_limit(const Request& request, Reply& reply) {
  if (!authorized(request, reply)) return;
  std::lock_guard lock(mu_);
  const int64_t now = now_ms();
  const int limit = limit_calls_ > 0 ? limit_calls_ : 5000;
  const bool in_window = window_start_ms_ > 0 && now < window_start_ms_ + limit_window_ms_;
  const int64_t remaining = in_window ? std::max(0, limit - window_calls_) : limit;
  const int64_t reset_s = in_window ? (window_start_ms_ + limit_window_ms_ - now + 999) / 1000
                                    : (limit_window_ms_ + 999) / 1000;
  reply.body =
      R"({"status":{"error":false,"code":200,"type":"success","message":"Success"},"data":{"X-RateLimit-Limit":)" +
      std::to_string(limit) + R"(,"X-RateLimit-Remaining":)" + std::to_string(remaining) +
      R"(,"X-RateLimit-Reset":)" + std::to_string(reset_s) + "}}";
}

void OneLoginImitation::events(const Request& request, Reply& reply) {
  if (!authorized(request, reply)) return;
  std::unique_lock lock(mu_);
  if (page_faults_.strike(lock, reply)) return;  // an injected page fault
  // Rate limit: a fixed window from its first call.
  const int64_t now = now_ms();
  if (limit_calls_ > 0) {
    if (window_start_ms_ == 0 || now >= window_start_ms_ + limit_window_ms_) {
      window_start_ms_ = now;
      window_calls_ = 0;
    }
    ++window_calls_;
    const int64_t reset_s = (window_start_ms_ + limit_window_ms_ - now + 999) / 1000;
    if (limit_headers_) {
      reply.headers.emplace_back("X-RateLimit-Limit", std::to_string(limit_calls_));
      reply.headers.emplace_back("X-RateLimit-Remaining",
                                 std::to_string(std::max(0, limit_calls_ - window_calls_)));
      reply.headers.emplace_back("X-RateLimit-Reset", std::to_string(reset_s));
    }
    if (window_calls_ > limit_calls_) {
      ++rate_limited_;
      if (limit_signal_ == LimitSignal::kBadRequest)
        status_reply(reply, 400, "bad request", "rate_limit_exceeded");
      else
        status_reply(reply, 429, "too many requests", "rate_limit_exceeded");
      return;
    }
  }

  PageQuery q;
  if (request.has_param("after_cursor")) {
    if (!decode_cursor(request.param("after_cursor"), q) || q.epoch != cursor_epoch_)
      return status_reply(reply, 400, "bad request", "Invalid after_cursor");
  } else {
    q.epoch = cursor_epoch_;
    for (const char* name : {"since", "until"}) {
      if (!request.has_param(name)) continue;
      try {
        (std::string(name) == "since" ? q.since_ms : q.until_ms) =
            timefmt::parse_rfc3339(request.param(name));
      } catch (...) {
        return status_reply(reply, 400, "bad request", std::string("Invalid ") + name);
      }
    }
    if (request.has_param("limit")) {
      if (!parse_int(request.param("limit"), q.limit) || q.limit < 1)
        return status_reply(reply, 400, "bad request", "Invalid limit");
      q.limit = std::min(q.limit, kMaxLimit);
    }
    const std::string sort = request.param("sort");
    if (sort == "-id")
      q.descending = true;
    else if (!sort.empty() && sort != "+id" && sort != " id" && sort != "id")
      return status_reply(reply, 400, "bad request", "Invalid sort");
  }

  std::vector<const Event*> matching;
  for (const auto& e : events_)
    if (e.created_ms >= q.since_ms && e.created_ms < q.until_ms) matching.push_back(&e);
  if (q.descending) std::reverse(matching.begin(), matching.end());
  auto past = [&](const Event* e) {
    return q.after_id == 0 || (q.descending ? e->id < q.after_id : e->id > q.after_id);
  };
  std::string data;
  size_t served = 0;
  int64_t last_id = 0;
  bool more = false;
  for (const Event* e : matching) {
    if (!past(e)) continue;
    if (served == static_cast<size_t>(q.limit)) {
      more = true;
      break;
    }
    data += (served ? "," : "") + e->json;
    last_id = e->id;
    ++served;
  }
  std::string next = "null", after = "null";
  if (more) {
    PageQuery n = q;
    n.after_id = last_id;
    const std::string cursor = encode_cursor(n);
    const std::string origin =
        next_origin_.empty() ? "http://" + request.header("host") : next_origin_;
    after = "\"" + cursor + "\"";
    next = "\"" + origin + kEventsPath + "?after_cursor=" + cursor + "\"";
  }
  page_faults_.served();
  reply.body =
      R"({"status":{"error":false,"code":200,"type":"success","message":"Success"},"pagination":{"before_cursor":null,"after_cursor":)" +
      after + R"(,"previous_link":null,"next_link":)" + next + R"(},"data":[)" + data + "]}";
}

}  // namespace siphon::imitation
