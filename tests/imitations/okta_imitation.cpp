#include "okta_imitation.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <random>
#include <siphon/sdk.hpp>
#include <siphon/time_format.hpp>

namespace siphon::imitation {
namespace {

const char kPath[] = "/api/v1/logs";
constexpr int64_t kRetentionMs = 90LL * 24 * 3600 * 1000;

uint64_t random64() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

void fail(Reply& reply, int status, const std::string& code, const std::string& summary,
          const std::string& cause = "") {
  reply.status = status;
  reply.body = OktaImitation::error_body(code, summary, cause);
}

void invalid(Reply& reply, const std::string& cause) {
  fail(reply, 400, "E0000001", "Api validation failed: " + cause.substr(0, cause.find(':')), cause);
}

bool parse_int(const std::string& text, int64_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

bool parse_time(const std::string& text, int64_t& out) {
  if (text.size() < 20 || text[10] != 'T') return false;
  try {
    out = timefmt::parse_rfc3339(text);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

OktaImitation::OktaImitation(std::string token)
    : token_(std::move(token)), uuid_seed_(random64()) {}

OktaImitation::~OktaImitation() { stop(); }

std::string OktaImitation::make_token() {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  std::string out = "00";
  for (int i = 0; i < 40; ++i) out += kAlphabet[random64() % 64];
  return out;
}

std::string OktaImitation::error_body(const std::string& code, const std::string& summary,
                                      const std::string& cause) {
  char id[24];
  std::snprintf(id, sizeof id, "oae%016llx", static_cast<unsigned long long>(random64()));
  return R"({"errorCode":")" + code + R"(","errorSummary":")" + json_escape(summary) +
         R"(","errorLink":")" + code + R"(","errorId":")" + id + R"(","errorCauses":[)" +
         (cause.empty() ? "" : R"({"errorSummary":")" + json_escape(cause) + "\"}") + "]}";
}

std::string OktaImitation::add_locked(int64_t published_ms, int64_t persisted_ms) {
  const uint64_t serial = events_.size() + 1;
  if (!events_.empty()) persisted_ms = std::max(persisted_ms, events_.back().persisted_ms);
  const uint64_t u = uuid_seed_ ^ (serial * 0x9E3779B97F4A7C15ULL);
  char uuid[40];
  std::snprintf(uuid, sizeof uuid, "%08llx-%04llx-11ef-%04llx-%012llx",
                static_cast<unsigned long long>(u >> 32),
                static_cast<unsigned long long>((u >> 16) & 0xFFFF),
                static_cast<unsigned long long>(0x8000 | ((serial >> 48) & 0x3FFF)),
                static_cast<unsigned long long>(serial & 0xFFFFFFFFFFFFULL));
  events_.push_back({uuid, published_ms, persisted_ms, serial});
  return uuid;
}

std::vector<std::string> OktaImitation::add_events(int n, int64_t first_ms, int64_t step_ms) {
  std::lock_guard lock(mu_);
  std::vector<std::string> uuids;
  for (int i = 0; i < n; ++i) {
    const int64_t published = first_ms + i * step_ms;
    uuids.push_back(add_locked(published, published));
  }
  return uuids;
}

std::string OktaImitation::add_late_event(int64_t published_ms) {
  std::lock_guard lock(mu_);
  return add_locked(published_ms, now_ms());
}

size_t OktaImitation::event_count() const {
  std::lock_guard lock(mu_);
  return events_.size();
}

void OktaImitation::revoke_token() {
  std::lock_guard lock(mu_);
  revoked_ = true;
}

void OktaImitation::set_forbidden(bool on) {
  std::lock_guard lock(mu_);
  forbidden_ = on;
}

void OktaImitation::set_joined_links(bool on) {
  std::lock_guard lock(mu_);
  joined_links_ = on;
}

void OktaImitation::set_clamp_limit(bool on) {
  std::lock_guard lock(mu_);
  clamp_limit_ = on;
}

void OktaImitation::set_rate_limit(int calls, int64_t window_s) {
  std::lock_guard lock(mu_);
  limit_calls_ = std::max(calls, 1);
  limit_window_s_ = std::max<int64_t>(window_s, 1);
  window_start_s_ = 0;
  window_calls_ = 0;
}

void OktaImitation::throttle_for(int64_t seconds) {
  std::lock_guard lock(mu_);
  throttled_until_s_ = now_ms() / 1000 + seconds;
}

int64_t OktaImitation::rate_limited_calls() const {
  std::lock_guard lock(mu_);
  return rate_limited_;
}

void OktaImitation::fail_pages_after(int pages_served, const Fault& fault) {
  std::lock_guard lock(mu_);
  page_faults_.arm(pages_served, fault);
}

void OktaImitation::expire_cursors() {
  std::lock_guard lock(mu_);
  ++generation_;
}

std::vector<std::string> OktaImitation::queries() const {
  std::lock_guard lock(mu_);
  return queries_;
}

std::string OktaImitation::last_accept() const {
  std::lock_guard lock(mu_);
  return last_accept_;
}

// Shaped like okta.md's sample: sign-ins and group changes.
std::string OktaImitation::event_json(const Event& e) const {
  const bool login = e.serial % 2 == 1;
  const std::string n = std::to_string(e.serial);
  const std::string user = "user" + std::to_string(e.serial % 7) + "@example.com";
  std::string out =
      R"({"uuid":")" + e.uuid + R"(","published":")" + timefmt::rfc3339(e.published_ms, true) +
      R"(","eventType":")" + (login ? "user.session.start" : "group.user_membership.add") +
      R"(","version":"0","severity":"INFO","legacyEventType":")" +
      (login ? "core.user_auth.login_success" : "core.user_group_member.user_add") +
      R"(","displayMessage":")" + (login ? "User login to Okta" : "Add user to group membership") +
      R"(","actor":{"id":"00u)" + std::to_string(1000000 + e.serial % 7) +
      R"(","type":"User","alternateId":")" + user + R"(","displayName":"User )" +
      std::to_string(e.serial % 7) +
      R"(","detailEntry":null},"client":{"userAgent":{"rawUserAgent":"Mozilla/5.0",)"
      R"("os":"Mac OS X","browser":"SAFARI"},"zone":"null","device":"Computer",)"
      R"("id":null,"ipAddress":"198.51.100.)" +
      std::to_string(e.serial % 250) +
      R"(","geographicalContext":null},"outcome":{"result":"SUCCESS","reason":null},)"
      R"("authenticationContext":{"authenticationStep":0,"externalSessionId":"trs)" +
      n + R"("},"transaction":{"type":"WEB","id":"tx)" + n +
      R"(","detail":{}},"request":{"ipChain":[]},"target":)";
  out += login ? "null"
               : R"([{"id":"00g1abcd","type":"UserGroup","alternateId":"unknown",)"
                 R"("displayName":"Engineering","detailEntry":null}])";
  return out + "}";
}

void OktaImitation::handle(const Request& request, Reply& reply) {
  std::unique_lock lock(mu_);
  const int64_t now_s = now_ms() / 1000;
  if (window_start_s_ == 0 || now_s >= window_start_s_ + limit_window_s_) {
    window_start_s_ = now_s;
    window_calls_ = 0;
  }
  ++window_calls_;
  const bool throttled = now_s < throttled_until_s_;
  const bool over = throttled || window_calls_ > limit_calls_;
  reply.headers.emplace_back("X-Rate-Limit-Limit", std::to_string(limit_calls_));
  reply.headers.emplace_back("X-Rate-Limit-Remaining",
                             std::to_string(over ? 0 : limit_calls_ - window_calls_));
  reply.headers.emplace_back(
      "X-Rate-Limit-Reset",
      std::to_string(throttled ? throttled_until_s_ : window_start_s_ + limit_window_s_));
  if (request.path != kPath)
    return fail(reply, 404, "E0000007", "Not found: Resource not found: " + request.path);
  if (request.method != "GET")
    return fail(reply, 405, "E0000022", "The endpoint does not support the provided HTTP method");
  queries_.push_back(request.query);
  last_accept_ = request.header("accept");
  if (over) {
    ++rate_limited_;
    return fail(reply, 429, "E0000047", "API call exceeded rate limit due to too many requests.");
  }
  if (request.header("authorization") != "SSWS " + token_ || revoked_)
    return fail(reply, 401, "E0000011", "Invalid token provided");
  if (forbidden_)
    return fail(reply, 403, "E0000006",
                "You do not have permission to perform the requested action");
  if (page_faults_.strike(lock, reply)) return;
  logs(request, reply);
}

void OktaImitation::logs(const Request& request, Reply& reply) {
  const int64_t now = now_ms();
  int64_t limit = 100, until = now, since = 0, after_ms = 0, after_serial = 0;
  if (request.has_param("limit") && !parse_int(request.param("limit"), limit))
    return invalid(reply, "limit: The limit is not a number");
  if (limit < 1 || (limit > 1000 && !clamp_limit_))
    return invalid(reply, "limit: The limit must be between 1 and 1000");
  limit = std::min<int64_t>(limit, 1000);
  const std::string order =
      request.has_param("sortOrder") ? request.param("sortOrder") : "ASCENDING";
  if (order != "ASCENDING" && order != "DESCENDING")
    return invalid(reply, "sortOrder: sortOrder must be ASCENDING or DESCENDING");
  if (request.has_param("until") && !parse_time(request.param("until"), until))
    return invalid(reply, "until: Invalid date format, use ISO 8601");
  if (request.has_param("since") && !parse_time(request.param("since"), since))
    return invalid(reply, "since: Invalid date format, use ISO 8601");
  if (!request.has_param("since")) since = until - 7LL * 24 * 3600 * 1000;
  if (since < now - kRetentionMs)
    return invalid(reply, "since: The since date is older than the 90-day retention period");
  if (request.has_param("after")) {
    const std::string after = request.param("after");
    const auto a = after.find('_'), b = after.rfind('_');
    int64_t gen = 0;
    if (a == std::string::npos || a == b || !parse_int(after.substr(0, a), after_ms) ||
        !parse_int(after.substr(a + 1, b - a - 1), after_serial) ||
        !parse_int(after.substr(b + 1), gen) || after_serial < 0 ||
        after_serial > static_cast<int64_t>(events_.size()))
      return invalid(reply, "after: The after cursor is not valid");
    if (gen != generation_) return invalid(reply, "after: The after cursor has expired");
  }
  const bool polling = !request.has_param("until") && order == "ASCENDING";
  std::vector<const Event*> selected;
  for (const auto& e : events_) {
    if (polling ? (request.has_param("after") ? static_cast<int64_t>(e.serial) > after_serial
                                              : e.persisted_ms >= since)
                : (e.published_ms >= since && e.published_ms <= until))
      selected.push_back(&e);
  }
  if (!polling) {
    auto key = [&](const Event* e) { return std::make_pair(e->published_ms, e->serial); };
    std::sort(selected.begin(), selected.end(), [&](const Event* x, const Event* y) {
      return order == "ASCENDING" ? key(x) < key(y) : key(y) < key(x);
    });
    if (request.has_param("after")) {
      auto at = std::find_if(selected.begin(), selected.end(), [&](const Event* e) {
        return static_cast<int64_t>(e->serial) == after_serial;
      });
      selected.erase(selected.begin(), at == selected.end() ? at : at + 1);
    }
  }
  const bool more = static_cast<int64_t>(selected.size()) > limit;
  if (more) selected.resize(static_cast<size_t>(limit));
  std::string body = "[";
  for (const Event* e : selected) body += (body.size() > 1 ? "," : "") + event_json(*e);
  reply.body = body + "]";
  page_faults_.served();

  // Polling: a next link always; bounded: only while more events wait.
  std::string position;
  if (!selected.empty())
    position = std::to_string(selected.back()->persisted_ms) + "_" +
               std::to_string(selected.back()->serial);
  else if (request.has_param("after"))
    position = std::to_string(after_ms) + "_" + std::to_string(after_serial);
  else
    position = std::to_string(since) + "_" + std::to_string(events_.size());
  const std::string origin = "http://" + request.header("host");
  std::vector<std::string> links{"<" + origin + kPath + "?" + request.query + R"(>; rel="self")"};
  if (polling || more) {
    Params next{{"limit", std::to_string(limit)}, {"sortOrder", order}};
    if (!polling) {
      next.emplace_back("since", timefmt::rfc3339(since, true));
      next.emplace_back("until", timefmt::rfc3339(until, true));
    }
    for (const char* pass : {"filter", "q"})
      if (request.has_param(pass)) next.emplace_back(pass, request.param(pass));
    next.emplace_back("after", position + "_" + std::to_string(generation_));
    links.push_back("<" + origin + kPath + "?" + encode_params(next) + R"(>; rel="next")");
  }
  if (joined_links_ && links.size() > 1)
    reply.headers.emplace_back("Link", links[0] + ", " + links[1]);
  else
    for (const auto& l : links) reply.headers.emplace_back("Link", l);
}

}  // namespace siphon::imitation
