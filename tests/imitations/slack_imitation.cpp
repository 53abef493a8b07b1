#include "slack_imitation.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <siphon/auth_helpers.hpp>
#include <tuple>

namespace siphon::imitation {
namespace {

const char kAccessPath[] = "/api/team.accessLogs";
const char kIntegrationPath[] = "/api/team.integrationLogs";

void slack_error(Reply& reply, const std::string& code, const std::string& extra = "") {
  reply.status = 200;
  reply.body = R"({"ok":false,"error":")" + code + "\"" + extra + "}";
}

bool parse_int(const std::string& text, int64_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

// Rows sorted newest date_first first; serial breaks ties (newer first).
bool newer(int64_t a_first, uint64_t a_serial, int64_t b_first, uint64_t b_serial) {
  return std::tie(a_first, a_serial) > std::tie(b_first, b_serial);
}

std::string paging_json(int64_t count, int64_t total, int64_t page) {
  const int64_t pages = std::max<int64_t>(1, (total + count - 1) / count);
  return R"("paging":{"count":)" + std::to_string(count) + R"(,"total":)" + std::to_string(total) +
         R"(,"page":)" + std::to_string(page) + R"(,"pages":)" + std::to_string(pages) + "}";
}

}  // namespace

SlackImitation::SlackImitation(std::string admin_token) {
  tokens_[std::move(admin_token)] = "admin";
}

SlackImitation::~SlackImitation() { stop(); }

void SlackImitation::add_token(const std::string& token, const std::string& scopes) {
  std::lock_guard lock(mu_);
  tokens_[token] = scopes;
}

void SlackImitation::revoke(const std::string& token) {
  std::lock_guard lock(mu_);
  revoked_.insert(token);
}

void SlackImitation::set_paid_plan(bool paid) {
  std::lock_guard lock(mu_);
  paid_ = paid;
}

void SlackImitation::set_rate_limit_per_minute(int calls, int retry_after_seconds) {
  std::lock_guard lock(mu_);
  rate_limit_per_minute_ = calls;
  retry_after_seconds_ = retry_after_seconds;
  calls_ms_.clear();
}

size_t SlackImitation::add_logins(int n, int64_t start_s, int64_t step_s) {
  std::lock_guard lock(mu_);
  const size_t first = logins_.size();
  for (int i = 0; i < n; ++i) {
    const uint64_t serial = ++serial_;
    Login l;
    l.date_first = start_s + i * step_s;
    l.date_last = l.date_first + 30;
    l.count = 1 + static_cast<int64_t>(serial % 5);
    l.serial = serial;
    l.user_id = "U" + std::to_string(100000 + serial);
    l.username = "user" + std::to_string(serial);
    l.ip = "198.51." + std::to_string(serial / 250 % 250) + "." + std::to_string(serial % 250);
    l.user_agent = serial % 2 ? "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) Slack_SSB/4.38.125"
                              : "com.tinyspeck.chatlyio/24.04.10 (iPhone; iOS 17.4.1)";
    logins_.push_back(std::move(l));
  }
  return first;
}

void SlackImitation::touch(size_t row, int64_t date_last_s) {
  std::lock_guard lock(mu_);
  Login& l = logins_.at(row);
  l.date_last = std::max(l.date_last, date_last_s);
  ++l.count;
}

size_t SlackImitation::login_count() const {
  std::lock_guard lock(mu_);
  return logins_.size();
}

void SlackImitation::add_integration_logs(int n, int64_t start_s, int64_t step_s) {
  std::lock_guard lock(mu_);
  static const char* kChanges[] = {"added", "removed", "enabled", "disabled", "expanded"};
  for (int i = 0; i < n; ++i) {
    const uint64_t serial = ++serial_;
    const int64_t date = start_s + i * step_s;
    const std::string user = "U" + std::to_string(200000 + serial % 50);
    std::string json;
    if (serial % 3 == 0) {
      json = R"({"service_id":")" + std::to_string(1000000000 + serial) +
             R"(","service_type":"Incoming WebHooks","user_id":")" + user +
             R"(","user_name":"bob","channel":"C0123ABCD","date":")" + std::to_string(date) +
             R"(","change_type":"disabled","reason":"user","scope":"incoming-webhook"})";
    } else {
      json = R"({"app_id":"A)" + std::to_string(500000 + serial) +
             R"(","app_type":"Acme Deploy Bot","user_id":")" + user +
             R"(","user_name":"alice","date":")" + std::to_string(date) + R"(","change_type":")" +
             kChanges[serial % 5] + R"(","scope":"chat:write,channels:read"})";
    }
    integration_.push_back({date, serial, std::move(json)});
  }
  std::sort(integration_.begin(), integration_.end(),
            [](const IntegrationLog& a, const IntegrationLog& b) {
              return std::tie(a.date, a.serial) > std::tie(b.date, b.serial);
            });
}

void SlackImitation::refuse_cursors(int n) {
  std::lock_guard lock(mu_);
  refuse_cursors_ = n;
}

size_t SlackImitation::cursor_calls() const {
  std::lock_guard lock(mu_);
  return cursor_calls_;
}

size_t SlackImitation::page_calls() const {
  std::lock_guard lock(mu_);
  return page_calls_;
}

std::string SlackImitation::login_json(const Login& l) {
  return R"({"user_id":")" + l.user_id + R"(","username":")" + l.username + R"(","date_first":)" +
         std::to_string(l.date_first) + R"(,"date_last":)" + std::to_string(l.date_last) +
         R"(,"count":)" + std::to_string(l.count) + R"(,"ip":")" + l.ip + R"(","user_agent":")" +
         json_escape(l.user_agent) + R"(","isp":"Example ISP","country":"US","region":"TX"})";
}

bool SlackImitation::authenticate(const Request& request, Reply& reply) {
  std::string token;
  const std::string authz = request.header("authorization");
  if (authz.rfind("Bearer ", 0) == 0)
    token = authz.substr(7);
  else if (request.has_param("token"))
    token = request.param("token");
  std::lock_guard lock(mu_);
  if (rate_limit_per_minute_ > 0) {
    const int64_t now = now_ms();
    while (!calls_ms_.empty() && calls_ms_.front() <= now - 60000) calls_ms_.pop_front();
    if (calls_ms_.size() >= static_cast<size_t>(rate_limit_per_minute_)) {
      reply.status = 429;
      reply.headers.emplace_back("Retry-After", std::to_string(retry_after_seconds_));
      reply.body = R"({"ok":false,"error":"ratelimited"})";
      return false;
    }
    calls_ms_.push_back(now);
  }
  if (token.empty()) {
    slack_error(reply, "not_authed");
    return false;
  }
  auto it = tokens_.find(token);
  if (it == tokens_.end()) {
    slack_error(reply, "invalid_auth");
    return false;
  }
  if (revoked_.count(token)) {
    slack_error(reply, "token_revoked");
    return false;
  }
  if (it->second.find("admin") == std::string::npos) {
    slack_error(reply, "missing_scope",
                R"(,"needed":"admin","provided":")" + json_escape(it->second) + "\"");
    return false;
  }
  if (!paid_) {
    slack_error(reply, "paid_only");
    return false;
  }
  return true;
}

void SlackImitation::handle(const Request& request, Reply& reply) {
  if (request.path != kAccessPath && request.path != kIntegrationPath) {
    reply.status = 404;
    reply.body = R"({"ok":false,"error":"unknown_method"})";
    return;
  }
  if (request.method != "GET" && request.method != "POST") {
    reply.status = 405;
    reply.body = R"({"ok":false,"error":"method_not_supported_for_channel_type"})";
    return;
  }
  if (!authenticate(request, reply)) return;
  if (request.path == kAccessPath)
    access_logs(request, reply);
  else
    integration_logs(request, reply);
}

void SlackImitation::access_logs(const Request& request, Reply& reply) {
  std::lock_guard lock(mu_);
  std::vector<const Login*> rows;
  int64_t before = INT64_MAX;
  if (request.has_param("before") && !parse_int(request.param("before"), before))
    return slack_error(reply, "invalid_arg_name");
  for (const auto& l : logins_)
    if (l.date_first <= before) rows.push_back(&l);
  std::sort(rows.begin(), rows.end(), [](const Login* a, const Login* b) {
    return newer(a->date_first, a->serial, b->date_first, b->serial);
  });

  std::string body = R"({"ok":true,"logins":[)";
  if (request.has_param("limit") || request.has_param("cursor")) {  // cursor mode
    ++cursor_calls_;
    int64_t limit = 100;
    if (request.has_param("limit") &&
        (!parse_int(request.param("limit"), limit) || limit < 1 || limit > 1000))
      return slack_error(reply, "invalid_limit");
    size_t start = 0;
    if (const std::string cursor = request.param("cursor"); !cursor.empty()) {
      if (refuse_cursors_ > 0) {
        --refuse_cursors_;
        return slack_error(reply, "invalid_cursor");
      }
      // The cursor names the last row returned (date_first and serial), so
      // rows added meanwhile at the top do not shift the next page.
      std::string decoded;
      try {
        decoded = auth::base64_decode(cursor);
      } catch (...) {
        return slack_error(reply, "invalid_cursor");
      }
      long long first = 0;
      unsigned long long serial = 0;
      char extra = 0;
      if (std::sscanf(decoded.c_str(), "next:%lld:%llu%c", &first, &serial, &extra) != 2)
        return slack_error(reply, "invalid_cursor");
      while (start < rows.size() && !newer(first, static_cast<uint64_t>(serial),
                                           rows[start]->date_first, rows[start]->serial))
        ++start;
    }
    size_t end = std::min(rows.size(), start + static_cast<size_t>(limit));
    for (size_t i = start; i < end; ++i) body += (i > start ? "," : "") + login_json(*rows[i]);
    std::string next;
    if (end < rows.size())
      next = auth::base64_encode("next:" + std::to_string(rows[end - 1]->date_first) + ":" +
                                 std::to_string(rows[end - 1]->serial));
    reply.body = body + R"(],"response_metadata":{"next_cursor":")" + next + "\"}}";
    return;
  }

  ++page_calls_;
  int64_t count = 100, page = 1;
  if (request.has_param("count") && !parse_int(request.param("count"), count))
    return slack_error(reply, "invalid_arg_name");
  if (request.has_param("page") && !parse_int(request.param("page"), page))
    return slack_error(reply, "invalid_arg_name");
  if (count > 1000 || page > 100) return slack_error(reply, "over_pagination_limit");
  count = std::max<int64_t>(count, 1);
  page = std::max<int64_t>(page, 1);
  const size_t start = static_cast<size_t>((page - 1) * count);
  const size_t end = std::min(rows.size(), start + static_cast<size_t>(count));
  for (size_t i = start; i < end; ++i) body += (i > start ? "," : "") + login_json(*rows[i]);
  reply.body = body + "]," + paging_json(count, static_cast<int64_t>(rows.size()), page) + "}";
}

void SlackImitation::integration_logs(const Request& request, Reply& reply) {
  std::lock_guard lock(mu_);
  int64_t count = 100, page = 1;
  if (request.has_param("count") && !parse_int(request.param("count"), count))
    return slack_error(reply, "invalid_arg_name");
  if (request.has_param("page") && !parse_int(request.param("page"), page))
    return slack_error(reply, "invalid_arg_name");
  if (count > 1000 || page > 100) return slack_error(reply, "over_pagination_limit");
  count = std::max<int64_t>(count, 1);
  page = std::max<int64_t>(page, 1);
  const std::string change_type = request.param("change_type");
  std::vector<const IntegrationLog*> rows;
  for (const auto& e : integration_)
    if (change_type.empty() ||
        e.json.find("\"change_type\":\"" + change_type + "\"") != std::string::npos)
      rows.push_back(&e);
  const size_t start = static_cast<size_t>((page - 1) * count);
  const size_t end = std::min(rows.size(), start + static_cast<size_t>(count));
  std::string body = R"({"ok":true,"logs":[)";
  for (size_t i = start; i < end; ++i) body += (i > start ? "," : "") + rows[i]->json;
  reply.body = body + "]," + paging_json(count, static_cast<int64_t>(rows.size()), page) + "}";
}

}  // namespace siphon::imitation
