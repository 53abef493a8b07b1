#include "generic_json_imitation.hpp"

#include <Poco/String.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <random>
#include <siphon/auth_helpers.hpp>
#include <siphon/sdk.hpp>
#include <siphon/time_format.hpp>

namespace siphon::imitation {
namespace {

constexpr int64_t kMaxLimit = 100;
const char* const kActions[] = {"user.login", "user.logout", "file.download", "role.change",
                                "app.install"};

std::string random_text(size_t n) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  for (size_t i = 0; i < n; ++i) out += kAlphabet[rng() % 62];
  return out;
}

void error_reply(Reply& reply, int status, const std::string& code, const std::string& message) {
  reply.status = status;
  reply.body = R"({"errors":[{"code":")" + json_escape(code) + R"(","message":")" +
               json_escape(message) + "\"}]}";
}

bool parse_int(const std::string& text, int64_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

// A member of a JSON body as the text a query parameter would carry.
std::string member_text(const rapidjson::Value& body, const char* name) {
  if (!body.IsObject() || !body.HasMember(name)) return "";
  const auto& v = body[name];
  if (v.IsString()) return {v.GetString(), v.GetStringLength()};
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  return v.IsNull() ? "" : "?";
}

}  // namespace

std::string GenericJsonImitation::Filter::key() const {
  return std::to_string(since_ms) + "|" + std::to_string(until_ms) + "|" +
         std::to_string(after_seq) + "|" + std::to_string(limit);
}

GenericJsonImitation::GenericJsonImitation()
    : credentials_{"tok_" + random_text(32),    "auditor",
                   "pw " + random_text(20),     "key_" + random_text(24),
                   "client_" + random_text(12), "secret_" + random_text(32)} {}

GenericJsonImitation::~GenericJsonImitation() { stop(); }

void GenericJsonImitation::set_auth(Auth auth) {
  std::lock_guard lock(mu_);
  auth_ = auth;
}

void GenericJsonImitation::set_paging(Paging paging) {
  std::lock_guard lock(mu_);
  paging_ = paging;
}

void GenericJsonImitation::set_times(Times times) {
  std::lock_guard lock(mu_);
  times_ = times;
}

void GenericJsonImitation::set_records_path(const std::string& path) {
  std::lock_guard lock(mu_);
  records_path_ = path;
}

void GenericJsonImitation::set_page_size(int n) {
  std::lock_guard lock(mu_);
  page_size_ = n;
}

void GenericJsonImitation::set_newest_first(bool on) {
  std::lock_guard lock(mu_);
  newest_first_ = on;
}

void GenericJsonImitation::set_token_lifetime(int64_t seconds) {
  std::lock_guard lock(mu_);
  token_lifetime_s_ = seconds;
}

void GenericJsonImitation::expire_tokens() {
  std::lock_guard lock(mu_);
  access_tokens_.clear();
}

int64_t GenericJsonImitation::tokens_issued() const {
  std::lock_guard lock(mu_);
  return tokens_issued_;
}

std::string GenericJsonImitation::last_scope() const {
  std::lock_guard lock(mu_);
  return last_scope_;
}

void GenericJsonImitation::add_locked(int64_t created_ms) {
  const int64_t seq = ++seq_;
  std::string id = std::to_string(seq);
  id = "evt-" + std::string(id.size() < 6 ? 6 - id.size() : 0, '0') + id;
  records_.push_back({id, seq, created_ms});
}

void GenericJsonImitation::add_records(int n, int64_t start_s, int per_second) {
  std::lock_guard lock(mu_);
  per_second = std::max(per_second, 1);
  for (int i = 0; i < n; ++i) add_locked((start_s + i / per_second) * 1000);
}

std::string GenericJsonImitation::add_record(int64_t created_ms) {
  std::lock_guard lock(mu_);
  add_locked(created_ms);
  return records_.back().id;
}

size_t GenericJsonImitation::record_count() const {
  std::lock_guard lock(mu_);
  return records_.size();
}

void GenericJsonImitation::fail_pages_after(int pages_served, const Fault& fault) {
  std::lock_guard lock(mu_);
  page_faults_.arm(pages_served, fault);
}

Request GenericJsonImitation::last_page_request() const {
  std::lock_guard lock(mu_);
  return last_page_request_;
}

std::string GenericJsonImitation::time_text(int64_t ms) const {
  switch (times_) {
    case Times::kEpochS:
      return std::to_string(ms / 1000);
    case Times::kEpochMs:
      return std::to_string(ms);
    case Times::kRfc3339:
      return "\"" + timefmt::rfc3339(ms, true) + "\"";
  }
  return {};
}

bool GenericJsonImitation::read_time(const std::string& text, int64_t& ms) const {
  if (times_ == Times::kRfc3339) {
    try {
      ms = timefmt::parse_rfc3339(text);
      return true;
    } catch (const Error&) {
      return false;
    }
  }
  if (!parse_int(text, ms)) return false;
  // Seconds cover their whole second: until=T includes T.999.
  if (times_ == Times::kEpochS) ms *= 1000;
  return true;
}

std::string GenericJsonImitation::record_json(const Record& r) const {
  return R"({"id":")" + r.id + R"(","seq":)" + std::to_string(r.seq) + R"(,"created_at":)" +
         time_text(r.created_ms) + R"(,"actor":{"name":"user)" + std::to_string(r.seq % 7) +
         R"(","ip":"198.51.100.)" + std::to_string(r.seq % 250) + R"("},"action":")" +
         kActions[r.seq % 5] + "\"}";
}

void GenericJsonImitation::token_endpoint(const Request& request, Reply& reply) {
  std::string id = request.param("client_id"), secret = request.param("client_secret");
  const std::string authz = request.header("authorization");
  if (authz.rfind("Basic ", 0) == 0) {
    std::string pair;
    try {
      pair = auth::base64_decode(authz.substr(6));
    } catch (const Error&) {
    }
    const size_t colon = pair.find(':');
    id = pair.substr(0, colon);
    secret = colon == std::string::npos ? "" : pair.substr(colon + 1);
  }
  reply.status = 400;
  if (request.method != "POST" || request.param("grant_type") != "client_credentials") {
    reply.body =
        R"({"error":"unsupported_grant_type","error_description":"client_credentials only"})";
    return;
  }
  if (auth_ != Auth::kOAuth2 || id != credentials_.client_id ||
      secret != credentials_.client_secret) {
    reply.status = 401;
    reply.body = R"({"error":"invalid_client","error_description":"Client authentication failed"})";
    return;
  }
  last_scope_ = request.param("scope");
  const std::string token = "at_" + random_text(40);
  access_tokens_.emplace_back(token, now_ms() + token_lifetime_s_ * 1000);
  ++tokens_issued_;
  reply.status = 200;
  reply.body = R"({"access_token":")" + token + R"(","token_type":"Bearer","expires_in":)" +
               std::to_string(token_lifetime_s_) + "}";
}

bool GenericJsonImitation::authorized(const Request& request) const {
  const std::string authz = request.header("authorization");
  switch (auth_) {
    case Auth::kBearer:
      return authz == "Bearer " + credentials_.token;
    case Auth::kBasic:
      return authz ==
             "Basic " + auth::base64_encode(credentials_.username + ":" + credentials_.password);
    case Auth::kHeader:
      return request.header("x-api-key") == credentials_.api_key;
    case Auth::kOAuth2:
      for (const auto& [token, expiry_ms] : access_tokens_)
        if (authz == "Bearer " + token && now_ms() < expiry_ms) return true;
      return false;
  }
  return false;
}

void GenericJsonImitation::handle(const Request& request, Reply& reply) {
  std::unique_lock lock(mu_);
  if (request.path == kTokenPath) return token_endpoint(request, reply);
  const bool search = request.path == kSearchPath && request.method == "POST";
  if (!search && !(request.path == kPath && request.method == "GET"))
    return error_reply(reply, 404, "not_found", "No such endpoint");
  if (!authorized(request)) return error_reply(reply, 401, "unauthorized", "Invalid credentials");
  last_page_request_ = request;
  if (page_faults_.strike(lock, reply)) return;

  // The filters and the page position, from the query or the search body.
  rapidjson::Document body;
  if (search) {
    body.Parse(request.body.c_str());
    if (body.HasParseError() || !body.IsObject())
      return error_reply(reply, 400, "invalid_body", "The body must be a JSON object");
  }
  auto input = [&](const char* name) {
    return search ? member_text(body, name) : request.param(name);
  };
  Filter f{LLONG_MIN, LLONG_MAX, 0, page_size_};
  for (auto [name, out] : {std::pair<const char*, int64_t*>{"since", &f.since_ms},
                           std::pair<const char*, int64_t*>{"until", &f.until_ms}}) {
    const std::string text = input(name);
    if (!text.empty() && !read_time(text, *out))
      return error_reply(reply, 400, "invalid_parameter", std::string(name) + " is not a time");
  }
  if (times_ == Times::kEpochS && f.until_ms != LLONG_MAX) f.until_ms += 999;
  if (!input("after_seq").empty() && !parse_int(input("after_seq"), f.after_seq))
    return error_reply(reply, 400, "invalid_parameter", "after_seq must be an integer");
  const char* size_name = paging_ == Paging::kPage ? "per_page" : "limit";
  if (!input(size_name).empty() &&
      (!parse_int(input(size_name), f.limit) || f.limit < 1 || f.limit > kMaxLimit))
    return error_reply(reply, 400, "invalid_parameter",
                       std::string(size_name) + " must be 1 to " + std::to_string(kMaxLimit));

  int64_t offset = 0;
  const std::string token =
      search && input("page_token").empty() ? request.param("page_token") : input("page_token");
  if (paging_ == Paging::kOffset) {
    if (!input("offset").empty() && (!parse_int(input("offset"), offset) || offset < 0))
      return error_reply(reply, 400, "invalid_parameter", "offset must be 0 or more");
  } else if (paging_ == Paging::kPage) {
    int64_t page = 1;
    if (!input("page").empty() && (!parse_int(input("page"), page) || page < 1))
      return error_reply(reply, 400, "invalid_parameter", "page must be 1 or more");
    offset = (page - 1) * f.limit;
  } else if (!token.empty()) {
    // "<offset>|<filters>" in base64: valid only with the filters it was issued for.
    std::string decoded;
    try {
      decoded = auth::base64_decode(token);
    } catch (const Error&) {
    }
    const size_t bar = decoded.find('|');
    if (bar == std::string::npos || decoded.substr(bar + 1) != f.key() ||
        !parse_int(decoded.substr(0, bar), offset))
      return error_reply(reply, 400, "invalid_page_token",
                         "The page token does not belong to this query");
  }

  std::vector<const Record*> matching;
  for (const auto& r : records_)
    if (r.created_ms >= f.since_ms && r.created_ms <= f.until_ms && r.seq > f.after_seq)
      matching.push_back(&r);
  std::sort(matching.begin(), matching.end(), [&](const Record* a, const Record* b) {
    const bool older =
        a->created_ms != b->created_ms ? a->created_ms < b->created_ms : a->seq < b->seq;
    return newest_first_ ? !older : older;
  });
  const int64_t total = static_cast<int64_t>(matching.size());
  const int64_t end = std::min(total, offset + f.limit);
  std::string items;
  for (int64_t i = offset; i < end; ++i)
    items += (items.empty() ? "" : ",") + record_json(*matching[static_cast<size_t>(i)]);

  std::string next_token, next_url;
  if (end < total && (paging_ == Paging::kNextUrl || paging_ == Paging::kLinkHeader ||
                      paging_ == Paging::kNextToken)) {
    next_token = auth::base64_encode(std::to_string(end) + "|" + f.key());
    Params link{{"page_token", next_token}};
    if (!search) {
      if (!request.param("since").empty()) link.emplace_back("since", request.param("since"));
      if (!request.param("until").empty()) link.emplace_back("until", request.param("until"));
      if (!request.param("after_seq").empty())
        link.emplace_back("after_seq", request.param("after_seq"));
      if (!request.param("limit").empty()) link.emplace_back("limit", request.param("limit"));
    }
    next_url = "http://" + request.header("host") + request.path + "?" + encode_params(link);
  }
  page_faults_.served();
  if (paging_ == Paging::kLinkHeader && !next_url.empty())
    reply.headers.emplace_back("Link", "<" + next_url + ">; rel=\"next\"");

  std::string out = "[" + items + "]";
  if (records_path_.empty()) {
    reply.headers.emplace_back("X-Total-Count", std::to_string(total));
  } else {
    // {"a":{"b":[..]},"paging":{..}} for "a.b".
    std::vector<std::string> parts;
    for (size_t from = 0;;) {
      const size_t dot = records_path_.find('.', from);
      parts.push_back(records_path_.substr(from, dot - from));
      if (dot == std::string::npos) break;
      from = dot + 1;
    }
    for (size_t i = parts.size(); i-- > 1;) out = "{\"" + json_escape(parts[i]) + "\":" + out + "}";
    out = "{\"" + json_escape(parts[0]) + "\":" + out;
    std::string paging = R"("paging":{"total":)" + std::to_string(total);
    if (paging_ == Paging::kNextUrl)
      paging += R"(,"next":)" + (next_url.empty() ? "null" : "\"" + next_url + "\"");
    if (paging_ == Paging::kNextToken)
      paging += R"(,"next_token":)" + (next_token.empty() ? "null" : "\"" + next_token + "\"");
    out += "," + paging + "}}";  // closes paging, then the body
  }
  reply.body = out;
}

}  // namespace siphon::imitation
