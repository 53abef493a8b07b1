#include "duo_imitation.hpp"

#include <Poco/DateTimeFormatter.h>
#include <Poco/String.h>
#include <Poco/Timestamp.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <siphon/auth_helpers.hpp>
#include <siphon/time_format.hpp>
#include <tuple>

namespace siphon::imitation {
namespace {

constexpr int64_t kMaxAgeMs = 180LL * 24 * 3600 * 1000;
constexpr size_t kAdminRows = 1000;
const char kAuthPath[] = "/admin/v2/logs/authentication";
const char kAdminPath[] = "/admin/v1/logs/administrator";

void fail(Reply& reply, int status, int code, const std::string& message,
          const std::string& detail = "") {
  reply.status = status;
  reply.body = R"({"stat":"FAIL","code":)" + std::to_string(code) + R"(,"message":")" +
               json_escape(message) + "\"";
  if (!detail.empty()) reply.body += R"(,"message_detail":")" + json_escape(detail) + "\"";
  reply.body += "}";
}

void bad_parameter(Reply& reply, const std::string& detail) {
  fail(reply, 400, 40002, "Invalid request parameters", detail);
}

// RFC 3986 with upper-case hex, written here rather than taken from the SDK so
// that the imitation checks the plugin's encoding instead of sharing it.
std::string rfc3986(const std::string& text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

bool parse_int(const std::string& text, int64_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

std::string iso(int64_t ms, bool micros) {
  std::string out =
      Poco::DateTimeFormatter::format(Poco::Timestamp(ms * 1000), "%Y-%m-%dT%H:%M:%S");
  if (micros) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03d000", static_cast<int>(((ms % 1000) + 1000) % 1000));
    out += frac;
  }
  return out + "+00:00";
}

uint64_t mix(uint64_t x) {  // splitmix64: random-looking, reproducible ids
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

std::string make_txid(uint64_t serial) {
  const uint64_t r = mix(serial);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-a%03x-%012llx", static_cast<unsigned>(r >> 32),
                static_cast<unsigned>((r >> 16) & 0xFFFF), static_cast<unsigned>((r >> 4) & 0xFFF),
                static_cast<unsigned>(r & 0xFFF), static_cast<unsigned long long>(serial));
  return buf;
}

// Shaped like duo.md's sample: most approved pushes, some denied unenrolled users.
std::string auth_event_json(uint64_t serial, int64_t ts_ms, const std::string& txid) {
  const std::string user = "user" + std::to_string(serial % 97);
  const std::string common =
      R"("alias":"","application":{"key":"DIQ7R2M5XK8TB4N1C6ZP","name":"Okta SSO"},)";
  const std::string when = R"("isotimestamp":")" + iso(ts_ms, true) + R"(",)";
  const std::string tail =
      R"("timestamp":)" + std::to_string(ts_ms / 1000) + R"(,"txid":")" + txid +
      R"(","user":{"groups":["Engineering"],"key":"DUH4P9W2L7Q3R8T5Y1ZM","name":")" + user + "\"}}";
  if (serial % 7 == 3) {
    return R"({"access_device":{"ip":"192.0.2.44","location":{"city":null,"country":"Germany","state":null}},)" +
           common + R"("auth_device":null,"email":")" + user +
           R"(@example.com","event_type":"authentication","factor":"not_available",)" + when +
           R"("reason":"deny_unenrolled_user","result":"denied",)" + tail;
  }
  return R"({"access_device":{"browser":"Chrome","browser_version":"124.0.6367.91","hostname":null,"ip":"198.51.100.)" +
         std::to_string(serial % 250) +
         R"(","location":{"city":"Austin","country":"United States","state":"Texas"},"os":"Mac OS X","os_version":"14.4"},)" +
         common +
         R"j("auth_device":{"ip":"203.0.113.9","location":{"city":"Austin","country":"United States","state":"Texas"},"name":"iPhone (+1 512-555-0100)"},"email":")j" +
         user + R"(@example.com","event_type":"authentication","factor":"duo_push",)" + when +
         R"("ood_software":null,"reason":"user_approved","result":"success","trusted_endpoint_status":"not trusted",)" +
         tail;
}

std::string admin_event_json(uint64_t serial, int64_t ts_s) {
  std::string action, description, object = "null";
  switch (serial % 3) {
    case 0: {
      char ip[32];
      std::snprintf(ip, sizeof ip, "10.%u.%u.%u", static_cast<unsigned>((serial >> 16) & 255),
                    static_cast<unsigned>((serial >> 8) & 255),
                    static_cast<unsigned>(serial & 255));
      action = "admin_login";
      description = std::string(R"({"ip_address": ")") + ip + R"(", "factor": "push"})";
      break;
    }
    case 1:
      action = "user_update";
      description =
          R"({"email": "jdoe)" + std::to_string(serial) + R"(@example.com", "status": "disabled"})";
      object = "\"jdoe" + std::to_string(serial) + "\"";
      break;
    default:
      action = "integration_create";
      description = R"({"name": "Okta SSO )" + std::to_string(serial) + R"(", "type": "sso"})";
      object = "\"Okta SSO " + std::to_string(serial) + "\"";
  }
  return R"({"action":")" + action + R"(","description":")" + json_escape(description) +
         R"(","isotimestamp":")" + iso(ts_s * 1000, false) + R"(","object":)" + object +
         R"(,"timestamp":)" + std::to_string(ts_s) + R"(,"username":"Ada Admin"})";
}

}  // namespace

DuoImitation::~DuoImitation() { stop(); }

DuoImitation::DuoImitation(std::string ikey, std::string skey)
    : ikey_(std::move(ikey)), skey_(std::move(skey)) {}

void DuoImitation::add_auth_events(int n, int64_t start_ms, int64_t step_ms) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < n; ++i) {
    const uint64_t serial = ++serial_;
    const int64_t ts = start_ms + i * step_ms;
    std::string txid = make_txid(serial);
    auth_events_.push_back({ts, txid, auth_event_json(serial, ts, txid)});
  }
  std::sort(auth_events_.begin(), auth_events_.end(), [](const AuthEvent& a, const AuthEvent& b) {
    return std::tie(a.ts_ms, a.txid) < std::tie(b.ts_ms, b.txid);
  });
}

void DuoImitation::add_admin_events(int n, int64_t start_s, int per_second) {
  std::lock_guard lock(mu_);
  per_second = std::max(per_second, 1);
  for (int i = 0; i < n; ++i) {
    const int64_t ts = start_s + i / per_second;
    admin_events_.push_back({ts, admin_event_json(++serial_, ts)});
  }
  std::stable_sort(admin_events_.begin(), admin_events_.end(),
                   [](const AdminEvent& a, const AdminEvent& b) { return a.ts_s < b.ts_s; });
}

size_t DuoImitation::auth_event_count() const {
  std::lock_guard lock(mu_);
  return auth_events_.size();
}

size_t DuoImitation::admin_event_count() const {
  std::lock_guard lock(mu_);
  return admin_events_.size();
}

void DuoImitation::set_visibility_delay_ms(int64_t delay_ms) {
  std::lock_guard lock(mu_);
  visibility_delay_ms_ = delay_ms;
}

void DuoImitation::set_skew_window_ms(int64_t window_ms) {
  std::lock_guard lock(mu_);
  skew_window_ms_ = window_ms;
}

void DuoImitation::set_rate_limit_per_minute(int calls) {
  std::lock_guard lock(mu_);
  rate_limit_per_minute_ = calls;
  calls_ms_.clear();
}

void DuoImitation::set_clock_offset_ms(int64_t offset_ms) {
  std::lock_guard lock(mu_);
  clock_offset_ms_ = offset_ms;
}

int64_t DuoImitation::clock_ms() const { return now_ms() + clock_offset_ms_; }

std::string DuoImitation::canonical(const Signed& request, int version) {
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& [k, v] : request.params) params.emplace_back(rfc3986(k), rfc3986(v));
  std::sort(params.begin(), params.end());
  std::string joined;
  for (const auto& [k, v] : params) joined += (joined.empty() ? "" : "&") + k + "=" + v;
  std::string out = request.date + "\n" + Poco::toUpper(request.method) + "\n" +
                    Poco::toLower(request.host) + "\n" + request.path + "\n" + joined;
  if (version == 5) {
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& [k, v] : request.x_duo_headers) headers.emplace_back(Poco::toLower(k), v);
    std::sort(headers.begin(), headers.end());
    std::string x_duo;
    for (const auto& [k, v] : headers)
      x_duo += (x_duo.empty() ? "" : std::string(1, '\0')) + k + '\0' + v;
    out += "\n" + auth::sha512_hex(request.body) + "\n" + auth::sha512_hex(x_duo);
  }
  return out;
}

bool DuoImitation::signature_valid(const std::string& skey, const Signed& request,
                                   const std::string& sig_hex) {
  if (sig_hex.size() == 40) return auth::hmac_sha1_hex(skey, canonical(request, 2)) == sig_hex;
  if (sig_hex.size() == 128) return auth::hmac_sha512_hex(skey, canonical(request, 5)) == sig_hex;
  return false;
}

bool DuoImitation::authenticate(const Request& request, Reply& reply) {
  const std::string authz = request.header("authorization");
  std::string credentials;
  if (authz.rfind("Basic ", 0) == 0) {
    try {
      credentials = auth::base64_decode(authz.substr(6));
    } catch (...) {
      credentials.clear();
    }
  }
  const size_t colon = credentials.find(':');
  if (colon == std::string::npos) {
    fail(reply, 401, 40101, "Missing request credentials");
    return false;
  }
  if (credentials.substr(0, colon) != ikey_) {
    fail(reply, 401, 40102, "Invalid integration key in request credentials");
    return false;
  }
  const std::string date = request.header("date");
  int64_t date_ms = 0;
  try {
    date_ms = timefmt::parse_rfc2822(date);
  } catch (...) {
    // Duo answers a missing and an unreadable (e.g. localised) Date alike.
    fail(reply, 401, 40104, "Missing request timestamp");
    return false;
  }
  Signed s{date, request.method, request.header("host"), request.path, request.params, request.body,
           {}};
  for (const auto& [k, v] : request.headers)
    if (k.rfind("x-duo-", 0) == 0) s.x_duo_headers.emplace_back(k, v);
  if (!signature_valid(skey_, s, credentials.substr(colon + 1))) {
    fail(reply, 401, 40103, "Invalid signature in request credentials");
    return false;
  }
  std::lock_guard lock(mu_);
  if (std::llabs(date_ms - clock_ms()) > skew_window_ms_) {
    fail(reply, 401, 40105, "Request timestamp is too old or too far in the future");
    return false;
  }
  if (rate_limit_per_minute_ > 0) {
    const int64_t now = clock_ms();
    while (!calls_ms_.empty() && calls_ms_.front() <= now - 60000) calls_ms_.pop_front();
    if (calls_ms_.size() >= static_cast<size_t>(rate_limit_per_minute_)) {
      fail(reply, 429, 42901, "Too Many Requests");
      return false;
    }
    calls_ms_.push_back(now);
  }
  return true;
}

void DuoImitation::handle(const Request& request, Reply& reply) {
  if (!authenticate(request, reply)) return;
  if (request.path != kAuthPath && request.path != kAdminPath) {
    fail(reply, 404, 40401, "Resource not found");
  } else if (request.method != "GET") {
    fail(reply, 405, 40501, "Method not allowed");
  } else if (request.path == kAuthPath) {
    auth_logs(request, reply);
  } else {
    admin_logs(request, reply);
  }
}

void DuoImitation::auth_logs(const Request& request, Reply& reply) {
  int64_t mintime = 0, maxtime = 0, limit = 100, offset_ms = 0;
  if (!parse_int(request.param("mintime"), mintime) ||
      !parse_int(request.param("maxtime"), maxtime))
    return bad_parameter(reply, "mintime and maxtime (milliseconds) are required");
  if (request.has_param("limit") && !parse_int(request.param("limit"), limit))
    return bad_parameter(reply, "limit must be a number");
  if (limit < 1 || limit > 1000) return bad_parameter(reply, "limit must be between 1 and 1000");
  const std::string sort = request.has_param("sort") ? request.param("sort") : "ts:desc";
  if (sort != "ts:asc" && sort != "ts:desc")
    return bad_parameter(reply, "sort must be ts:asc or ts:desc");
  const bool has_offset = request.has_param("next_offset");
  std::string offset_txid;
  if (has_offset) {
    const std::string offset = request.param("next_offset");
    const size_t comma = offset.find(',');
    if (comma == std::string::npos || !parse_int(offset.substr(0, comma), offset_ms))
      return bad_parameter(reply, "next_offset is not valid");
    offset_txid = offset.substr(comma + 1);
  }

  std::lock_guard lock(mu_);
  const int64_t now = clock_ms();
  if (mintime < now - kMaxAgeMs)
    return bad_parameter(reply, "mintime must be within the past 180 days");
  if (mintime >= maxtime) return bad_parameter(reply, "mintime must be less than maxtime");
  // Duo shows events only after a delay: the window ends at the earlier bound.
  const int64_t upper = std::min(maxtime, now - visibility_delay_ms_);
  using It = std::vector<AuthEvent>::const_iterator;
  auto key_less = [](const AuthEvent& e, const std::pair<int64_t, std::string>& k) {
    return std::tie(e.ts_ms, e.txid) < std::tie(k.first, k.second);
  };
  const It lo = std::lower_bound(auth_events_.begin(), auth_events_.end(),
                                 std::make_pair(mintime, std::string()), key_less);
  const It hi =
      upper < mintime ? lo : std::partition_point(lo, auth_events_.cend(), [&](const AuthEvent& e) {
        return e.ts_ms <= upper;
      });
  std::vector<It> page;
  bool more = false;
  if (sort == "ts:asc") {
    It it = lo;
    if (has_offset)  // first event after the offset
      it = std::partition_point(lo, hi, [&](const AuthEvent& e) {
        return !(std::tie(offset_ms, offset_txid) < std::tie(e.ts_ms, e.txid));
      });
    for (; it != hi && page.size() < static_cast<size_t>(limit); ++it) page.push_back(it);
    more = it != hi;
  } else {
    It it = has_offset ? std::lower_bound(lo, hi, std::make_pair(offset_ms, offset_txid), key_less)
                       : hi;  // events before the offset
    for (; it != lo && page.size() < static_cast<size_t>(limit);) page.push_back(--it);
    more = it != lo;
  }

  std::string body = R"({"stat":"OK","response":{"authlogs":[)";
  for (size_t i = 0; i < page.size(); ++i) body += (i ? "," : "") + page[i]->json;
  body += R"(],"metadata":{"next_offset":)";
  if (more && !page.empty())
    body += "[\"" + std::to_string(page.back()->ts_ms) + "\",\"" + page.back()->txid + "\"]";
  else
    body += "null";
  body += R"(,"total_objects":)" + std::to_string(hi - lo) + "}}}";
  reply.body = std::move(body);
}

void DuoImitation::admin_logs(const Request& request, Reply& reply) {
  int64_t mintime = 0;
  if (request.has_param("mintime") && !parse_int(request.param("mintime"), mintime))
    return bad_parameter(reply, "mintime must be a Unix timestamp in seconds");
  std::lock_guard lock(mu_);
  auto it = std::partition_point(admin_events_.begin(), admin_events_.end(),
                                 [&](const AdminEvent& e) { return e.ts_s < mintime; });
  std::string body = R"({"stat":"OK","response":[)";
  for (size_t n = 0; it != admin_events_.end() && n < kAdminRows; ++it, ++n)
    body += (n ? "," : "") + it->json;
  reply.body = body + "]}";
}

}  // namespace siphon::imitation
