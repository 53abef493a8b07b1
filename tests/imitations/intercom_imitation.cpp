#include "intercom_imitation.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <random>
#include <siphon/auth_helpers.hpp>

namespace siphon::imitation {
namespace {

const char kPath[] = "/admins/activity_logs";

std::string request_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char kHex[] = "0123456789abcdef";
  std::string out = "000";
  for (int i = 0; i < 17; ++i) out += kHex[rng() % 16];
  return out;
}

void error_list(Reply& reply, int status, const std::string& code, const std::string& message) {
  reply.status = status;
  reply.body = R"({"type":"error.list","request_id":")" + request_id() +
               R"(","errors":[{"code":")" + json_escape(code) + R"(","message":")" +
               json_escape(message) + "\"}]}";
}

bool parse_int(const std::string& text, int64_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

bool version_known(const std::string& v) {
  if (v == "Unstable") return true;
  auto dot = v.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == v.size()) return false;
  for (size_t i = 0; i < v.size(); ++i)
    if (i != dot && !std::isdigit(static_cast<unsigned char>(v[i]))) return false;
  return v[0] == '1' || v[0] == '2';
}

}  // namespace

IntercomImitation::IntercomImitation(std::string token) : token_(std::move(token)) {}

IntercomImitation::~IntercomImitation() { stop(); }

std::string IntercomImitation::make_token() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) id += '_';
    id += kHex[rng() % 16];
  }
  return auth::base64_encode("tok:" + id + ":1:0");
}

void IntercomImitation::add_locked(int64_t created_s) {
  const uint64_t serial = ++serial_;
  activities_.push_back({std::to_string(5519000 + serial * 7), created_s, serial});
}

void IntercomImitation::add_activities(int n, int64_t start_s, int per_second) {
  std::lock_guard lock(mu_);
  per_second = std::max(per_second, 1);
  for (int i = 0; i < n; ++i) add_locked(start_s + i / per_second);
}

std::string IntercomImitation::add_activity(int64_t created_s) {
  std::lock_guard lock(mu_);
  add_locked(created_s);
  return activities_.back().id;
}

size_t IntercomImitation::activity_count() const {
  std::lock_guard lock(mu_);
  return activities_.size();
}

void IntercomImitation::set_page_size(int n) {
  std::lock_guard lock(mu_);
  page_size_ = n;
}

void IntercomImitation::set_created_at_as_string(bool on) {
  std::lock_guard lock(mu_);
  created_as_string_ = on;
}

void IntercomImitation::set_next_as_object(bool on) {
  std::lock_guard lock(mu_);
  next_as_object_ = on;
}

void IntercomImitation::set_plan_restricted(bool on) {
  std::lock_guard lock(mu_);
  plan_restricted_ = on;
}

void IntercomImitation::revoke_token() {
  std::lock_guard lock(mu_);
  revoked_ = true;
}

void IntercomImitation::set_rate_limit(int calls, int64_t window_s) {
  std::lock_guard lock(mu_);
  limit_calls_ = calls;
  limit_window_s_ = std::max<int64_t>(window_s, 1);
  window_start_s_ = 0;
  window_calls_ = 0;
}

int64_t IntercomImitation::rate_limited_calls() const {
  std::lock_guard lock(mu_);
  return rate_limited_;
}

void IntercomImitation::fail_pages_after(int pages_served, const Fault& fault) {
  std::lock_guard lock(mu_);
  page_faults_.arm(pages_served, fault);
}

std::string IntercomImitation::last_version() const {
  std::lock_guard lock(mu_);
  return last_version_;
}

// Shaped like intercom.md's sample: logins, logouts and message changes.
std::string IntercomImitation::activity_json(const Activity& a) const {
  const std::string admin = std::to_string(4321900 + a.serial % 5);
  const std::string email = "admin" + std::to_string(a.serial % 5) + "@example.com";
  std::string type, description, metadata;
  switch (a.serial % 3) {
    case 0:
      type = "admin_login_success";
      description = "Admin " + std::to_string(a.serial % 5) + " successfully logged in.";
      metadata = R"({"sign_in_method":"email_password"})";
      break;
    case 1:
      type = "message_state_change";
      description = "Admin changed your message " + std::to_string(a.serial) + " to live.";
      metadata = R"({"message":{"id":)" + std::to_string(88000 + a.serial) +
                 R"(,"title":"Onboarding )" + std::to_string(a.serial) +
                 R"("},"before":"draft","after":"live"})";
      break;
    default:
      type = "admin_logout";
      description = "Admin " + std::to_string(a.serial % 5) + " logged out.";
      metadata = "{}";
  }
  const std::string created =
      created_as_string_ ? "\"" + std::to_string(a.created_s) + "\"" : std::to_string(a.created_s);
  return R"({"id":")" + a.id + R"(","performed_by":{"type":"admin","id":")" + admin +
         R"(","email":")" + email + R"(","ip":"203.0.113.)" + std::to_string(a.serial % 250) +
         R"("},"metadata":)" + metadata + R"(,"created_at":)" + created + R"(,"activity_type":")" +
         type + R"(","activity_description":")" + json_escape(description) + "\"}";
}

void IntercomImitation::handle(const Request& request, Reply& reply) {
  if (request.path != kPath || request.method != "GET")
    return error_list(reply, 404, "not_found", "Resource Not Found");
  std::unique_lock lock(mu_);
  const int64_t now_s = now_ms() / 1000;
  const std::string authz = request.header("authorization");
  if (authz != "Bearer " + token_)
    return error_list(reply, 401, "unauthorized", "Access Token Invalid");
  if (revoked_) return error_list(reply, 401, "token_revoked", "Token revoked");
  if (limit_calls_ > 0) {
    if (window_start_s_ == 0 || now_s >= window_start_s_ + limit_window_s_) {
      window_start_s_ = now_s;
      window_calls_ = 0;
    }
    ++window_calls_;
    reply.headers.emplace_back("X-RateLimit-Limit", std::to_string(limit_calls_));
    reply.headers.emplace_back("X-RateLimit-Remaining",
                               std::to_string(std::max(0, limit_calls_ - window_calls_)));
    reply.headers.emplace_back("X-RateLimit-Reset",
                               std::to_string(window_start_s_ + limit_window_s_));
    if (window_calls_ > limit_calls_) {
      ++rate_limited_;
      return error_list(reply, 429, "rate_limit_exceeded", "Exceeded rate limit");
    }
  }
  if (plan_restricted_)
    return error_list(reply, 403, "api_plan_restricted",
                      "This feature is not yet available to your app");
  last_version_ = request.header("intercom-version");
  if (!last_version_.empty() && !version_known(last_version_))
    return error_list(reply, 400, "intercom_version_invalid",
                      "The requested version could not be found");
  if (page_faults_.strike(lock, reply)) return;

  int64_t after = 0, before = now_s, page = 1, per_page = page_size_;
  if (!request.has_param("created_at_after"))
    return error_list(reply, 404, "parameter_not_found",
                      "Please provide the following parameters: created_at_after");
  if (!parse_int(request.param("created_at_after"), after))
    return error_list(reply, 400, "parameter_invalid", "created_at_after must be a timestamp");
  if (request.has_param("created_at_before") &&
      !parse_int(request.param("created_at_before"), before))
    return error_list(reply, 400, "parameter_invalid", "created_at_before must be a timestamp");
  if (request.has_param("page") && (!parse_int(request.param("page"), page) || page < 1))
    return error_list(reply, 400, "parameter_invalid", "page must be a positive integer");
  if (request.has_param("per_page") &&
      (!parse_int(request.param("per_page"), per_page) || per_page < 1 || per_page > 250))
    return error_list(reply, 400, "parameter_invalid", "per_page must be between 1 and 250");

  std::vector<const Activity*> window;
  for (const auto& a : activities_)
    if (a.created_s >= after && a.created_s <= before) window.push_back(&a);
  std::sort(window.begin(), window.end(), [](const Activity* x, const Activity* y) {
    return x->created_s != y->created_s ? x->created_s > y->created_s : x->serial > y->serial;
  });
  const int64_t total_pages =
      std::max<int64_t>(1, (static_cast<int64_t>(window.size()) + per_page - 1) / per_page);
  std::string logs;
  for (int64_t i = (page - 1) * per_page;
       i < std::min<int64_t>(page * per_page, static_cast<int64_t>(window.size())); ++i)
    logs += (logs.empty() ? "" : ",") + activity_json(*window[static_cast<size_t>(i)]);
  std::string next = "null";
  if (page < total_pages) {
    if (next_as_object_) {
      const Activity* last = window[static_cast<size_t>(page * per_page - 1)];
      next = R"({"page":)" + std::to_string(page + 1) + R"(,"starting_after":")" +
             auth::base64_encode(last->id) + "\"}";
    } else {
      next = "\"http://" + request.header("host") + kPath +
             "?created_at_after=" + std::to_string(after) +
             "&created_at_before=" + std::to_string(before) + "&page=" + std::to_string(page + 1);
      if (request.has_param("per_page")) next += "&per_page=" + std::to_string(per_page);
      next += "\"";
    }
  }
  page_faults_.served();
  reply.body = R"({"type":"activity_log.list","pages":{"type":"pages","next":)" + next +
               R"(,"page":)" + std::to_string(page) + R"(,"per_page":)" + std::to_string(per_page) +
               R"(,"total_pages":)" + std::to_string(total_pages) + R"(},"activity_logs":[)" +
               logs + "]}";
}

}  // namespace siphon::imitation
