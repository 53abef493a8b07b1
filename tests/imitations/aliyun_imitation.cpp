#include "aliyun_imitation.hpp"

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

constexpr int64_t kSkewMs = 15 * 60 * 1000;
constexpr int64_t kRetentionS = 90LL * 24 * 3600;

bool parse_int(const std::string& text, int64_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

// yyyy-MM-ddTHH:mm:ssZ exactly, as the API wants it.
bool parse_time(const std::string& text, int64_t& seconds) {
  if (text.size() != 20 || text[10] != 'T' || text[19] != 'Z') return false;
  try {
    seconds = timefmt::parse_rfc3339(text) / 1000;
    return true;
  } catch (...) {
    return false;
  }
}

std::string request_id(uint64_t n) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "7B4E2A19-0C3D-4F5A-9E81-%012llX",
                static_cast<unsigned long long>(n));
  return buf;
}

}  // namespace

AliyunImitation::AliyunImitation(std::string access_key_id, std::string access_key_secret)
    : key_id_(std::move(access_key_id)), secret_(std::move(access_key_secret)) {}

AliyunImitation::~AliyunImitation() { stop(); }

void AliyunImitation::add_events(int n, int64_t start_s, int64_t step_s) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < n; ++i) {
    const uint64_t serial = ++serial_;
    const int64_t t = start_s + i * step_s;
    char id[64];
    std::snprintf(id, sizeof id, "61.%03d_%lld%03d_%llu", static_cast<int>(serial % 1000),
                  static_cast<long long>(t), static_cast<int>(serial % 1000),
                  static_cast<unsigned long long>(serial));
    const std::string when = timefmt::rfc3339(t * 1000);
    std::string json;
    if (serial % 4 == 0) {
      json =
          R"j({"eventId":")j" + std::string(id) +
          R"j(","eventVersion":"1","eventType":"ConsoleSignin","eventName":"ConsoleSignin","eventSource":"signin.aliyun.com","eventTime":")j" +
          when +
          R"j(","acsRegion":"cn-hangzhou","serviceName":"AasSub","sourceIpAddress":"198.51.100.23","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4)","requestId":")j" +
          id +
          R"j(","eventRW":"Write","isGlobal":true,"errorMessage":"success","additionalEventData":{"mfaChecked":"true","loginAccount":"ops@1874563201985566.onaliyun.com"},"userIdentity":{"type":"ram-user","principalId":"208871234567890123","accountId":"1874563201985566","userName":"ops"}})j";
    } else {
      json =
          R"j({"eventId":")j" + std::string(id) +
          R"j(","eventVersion":"1","eventType":"ApiCall","eventName":"DeleteSecurityGroup","eventSource":"ecs.aliyuncs.com","eventTime":")j" +
          when +
          R"j(","acsRegion":"cn-hangzhou","serviceName":"Ecs","sourceIpAddress":"203.0.113.9","userAgent":"AlibabaCloud (Linux; amd64) Python/3.11 Core/2.13.36","requestId":")j" +
          id +
          R"j(","eventRW":"Write","isGlobal":false,"apiVersion":"2014-05-26","requestParameters":{"SecurityGroupId":"sg-bp1a2b3c4d5e6f","RegionId":"cn-hangzhou"},"userIdentity":{"type":"ram-user","principalId":"208879876543210987","accountId":"1874563201985566","accessKeyId":"LTAI5tExampleKey","userName":"ci-bot"}})j";
    }
    events_.push_back({t, serial, id, std::move(json)});
  }
  std::sort(events_.begin(), events_.end(), [](const Event& a, const Event& b) {
    return std::tie(a.time_s, a.serial) > std::tie(b.time_s, b.serial);
  });
}

size_t AliyunImitation::event_count() const {
  std::lock_guard lock(mu_);
  return events_.size();
}

void AliyunImitation::set_key_inactive(bool inactive) {
  std::lock_guard lock(mu_);
  inactive_ = inactive;
}

void AliyunImitation::set_calls_per_second_limit(int calls) {
  std::lock_guard lock(mu_);
  calls_per_second_ = calls;
  calls_ms_.clear();
}

void AliyunImitation::invalidate_tokens() {
  std::lock_guard lock(mu_);
  ++token_generation_;
}

void AliyunImitation::set_refuse_all_tokens(bool refuse) {
  std::lock_guard lock(mu_);
  refuse_all_tokens_ = refuse;
}

int AliyunImitation::busiest_second() const {
  std::lock_guard lock(mu_);
  int best = 0;
  for (size_t i = 0, j = 0; i < all_calls_ms_.size(); ++i) {
    while (all_calls_ms_[i] - all_calls_ms_[j] >= 1000) ++j;
    best = std::max(best, static_cast<int>(i - j + 1));
  }
  return best;
}

// Written here, not taken from the plugin or the SDK, so the imitation checks
// the plugin's encoding rather than sharing it.
std::string AliyunImitation::percent_encode(const std::string& text) {
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

std::string AliyunImitation::string_to_sign(
    const std::string& method, std::vector<std::pair<std::string, std::string>> params) {
  for (auto& [k, v] : params) k = percent_encode(k), v = percent_encode(v);
  std::sort(params.begin(), params.end());
  std::string canonical;
  for (const auto& [k, v] : params) canonical += (canonical.empty() ? "" : "&") + k + "=" + v;
  return method + "&" + percent_encode("/") + "&" + percent_encode(canonical);
}

std::string AliyunImitation::sign(const std::string& secret, const std::string& string_to_sign) {
  return auth::base64_encode(auth::hmac_sha1(secret + "&", string_to_sign));
}

void AliyunImitation::error(Reply& reply, int status, const std::string& code,
                            const std::string& message) {
  reply.status = status;
  reply.body = R"({"RequestId":")" + request_id(requests_) +
               R"(","HostId":"actiontrail.cn-hangzhou.aliyuncs.com","Code":")" + code +
               R"(","Message":")" + json_escape(message) +
               R"(","Recommend":"https://api.aliyun.com/troubleshoot?q=)" + code +
               R"(&product=Actiontrail"})";
}

bool AliyunImitation::authenticate(const Request& request, Reply& reply) {
  std::lock_guard lock(mu_);
  ++requests_;
  const int64_t now = now_ms();
  all_calls_ms_.push_back(now);
  for (const char* name : {"AccessKeyId", "Signature", "SignatureNonce", "Timestamp",
                           "SignatureMethod", "SignatureVersion", "Action", "Version"})
    if (!request.has_param(name)) {
      error(reply, 400, "MissingParameter",
            std::string("The input parameter \"") + name +
                "\" that is mandatory for processing "
                "this request is not supplied.");
      return false;
    }
  if (request.param("AccessKeyId") != key_id_) {
    error(reply, 404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
    return false;
  }
  if (request.param("SignatureMethod") != "HMAC-SHA1" ||
      request.param("SignatureVersion") != "1.0") {
    error(reply, 400, "InvalidParameter", "SignatureMethod or SignatureVersion is not supported.");
    return false;
  }
  std::vector<std::pair<std::string, std::string>> signed_params;
  for (const auto& kv : request.params)
    if (kv.first != "Signature") signed_params.push_back(kv);
  const std::string sts = string_to_sign(request.method, signed_params);
  if (sign(secret_, sts) != request.param("Signature")) {
    error(
        reply, 400, "SignatureDoesNotMatch",
        "Specified signature is not matched with our calculation. server string to sign is:" + sts);
    return false;
  }
  int64_t ts = 0;
  if (!parse_time(request.param("Timestamp"), ts)) {
    error(reply, 400, "InvalidTimeStamp.Format", "Specified time stamp is not valid.");
    return false;
  }
  if (std::llabs(ts * 1000 - now) > kSkewMs) {
    error(reply, 400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.");
    return false;
  }
  if (!nonces_.insert(request.param("SignatureNonce")).second) {
    error(reply, 400, "SignatureNonceUsed", "Specified signature nonce was used already.");
    return false;
  }
  if (inactive_) {
    error(reply, 400, "InvalidAccessKeyId.Inactive", "Specified access key is disabled.");
    return false;
  }
  if (calls_per_second_ > 0) {
    while (!calls_ms_.empty() && calls_ms_.front() <= now - 1000) calls_ms_.pop_front();
    if (calls_ms_.size() >= static_cast<size_t>(calls_per_second_)) {
      error(reply, 400, "Throttling.User", "Request was denied due to user flow control.");
      return false;
    }
    calls_ms_.push_back(now);
  }
  return true;
}

void AliyunImitation::handle(const Request& request, Reply& reply) {
  if (request.path != "/" && !request.path.empty()) {
    reply.status = 404;
    reply.body = R"({"Code":"InvalidAction.NotFound","Message":"Specified api is not found."})";
    return;
  }
  if (!authenticate(request, reply)) return;
  std::lock_guard lock(mu_);
  if (request.param("Action") != "LookupEvents")
    return error(reply, 404, "InvalidAction.NotFound",
                 "Specified api is not found, please check your url and method.");
  if (request.param("Version") != "2020-07-06" && request.param("Version") != "2017-12-04")
    return error(reply, 400, "InvalidVersion", "Specified parameter Version is not valid.");
  if (request.param("Format") != "JSON")
    return error(reply, 400, "InvalidParameter", "This imitation answers Format=JSON only.");
  lookup_events(request, reply);
}

void AliyunImitation::lookup_events(const Request& request, Reply& reply) {
  int64_t start = 0, end = 0, max_results = 20;
  if (!request.has_param("EndTime"))
    return error(reply, 400, "MissingParameter", "EndTime is mandatory for this action.");
  if (!parse_time(request.param("EndTime"), end) ||
      (request.has_param("StartTime") && !parse_time(request.param("StartTime"), start)))
    return error(reply, 400, "InvalidParameter", "StartTime or EndTime is not valid.");
  if (!request.has_param("StartTime")) start = end - 7 * 24 * 3600;
  if (start > end) return error(reply, 400, "InvalidParameter", "StartTime is after EndTime.");
  if (start < now_ms() / 1000 - kRetentionS)
    return error(reply, 400, "InvalidParameter", "StartTime is older than 90 days.");
  if (request.has_param("MaxResults") &&
      (!parse_int(request.param("MaxResults"), max_results) || max_results < 1))
    return error(reply, 400, "InvalidParameter", "MaxResults is not valid.");
  max_results = std::min<int64_t>(max_results, 50);

  // The token names the generation, the window and the last event returned.
  size_t from = 0;
  if (const std::string token = request.param("NextToken"); !token.empty()) {
    std::string decoded;
    try {
      decoded = auth::base64_decode(token);
    } catch (...) {
    }
    int generation = 0;
    long long t_start = 0, t_end = 0, last_time = 0;
    unsigned long long last_serial = 0;
    char extra = 0;
    if (std::sscanf(decoded.c_str(), "%d|%lld|%lld|%lld|%llu%c", &generation, &t_start, &t_end,
                    &last_time, &last_serial, &extra) != 5 ||
        generation != token_generation_ || t_start != start || t_end != end || refuse_all_tokens_)
      return error(reply, 400, "InvalidParameter",
                   "The specified parameter NextToken is not valid.");
    while (from < events_.size() &&
           std::tie(events_[from].time_s, events_[from].serial) >=
               std::make_tuple(static_cast<int64_t>(last_time), static_cast<uint64_t>(last_serial)))
      ++from;
  }
  std::string body = R"({"RequestId":")" + request_id(requests_) + "\"";
  std::string list;
  size_t n = 0;
  const Event* last = nullptr;
  size_t i = from;
  for (; i < events_.size(); ++i) {
    const Event& e = events_[i];
    if (e.time_s > end) continue;
    if (e.time_s < start) break;
    if (n == static_cast<size_t>(max_results)) break;
    list += (n ? "," : "") + e.json;
    ++n;
    last = &e;
  }
  const bool more =
      last && i < events_.size() && events_[i].time_s >= start && events_[i].time_s <= end;
  if (more) {
    const std::string token = std::to_string(token_generation_) + "|" + std::to_string(start) +
                              "|" + std::to_string(end) + "|" + std::to_string(last->time_s) + "|" +
                              std::to_string(last->serial);
    body += R"(,"NextToken":")" + auth::base64_encode(token) + "\"";
  }
  body += R"(,"StartTime":")" + timefmt::rfc3339(start * 1000) + R"(","EndTime":")" +
          timefmt::rfc3339(end * 1000) + R"(","Events":[)" + list + "]}";
  reply.body = std::move(body);
}

}  // namespace siphon::imitation
