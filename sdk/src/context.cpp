#include <Poco/URI.h>
#include <rapidjson/error/en.h>
#include <strings.h>

#include <charconv>
#include <cstring>
#include <siphon/sdk.hpp>

#include "response_errors.hpp"

namespace siphon {

std::string Response::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  return {};
}

std::string Response::joined_header(std::string_view name) const {
  std::string out;
  for (const auto& [k, v] : headers) {
    if (k.size() != name.size() || strncasecmp(k.data(), name.data(), k.size()) != 0) continue;
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

std::optional<int64_t> Response::header_int(std::string_view name) const {
  const std::string text = header(name);
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

namespace detail {

std::string response_where(const Response& r, std::string_view what) {
  return std::string(what) + ": response (HTTP " + std::to_string(r.status) + ")";
}

void check_not_empty(const Response& r, std::string_view what) {
  if (r.body.find_first_not_of(" \t\r\n") == std::string::npos)
    throw Error(response_where(r, what) + " has an empty body where JSON was expected");
}

[[noreturn]] void throw_not_json(const Response& r, std::string_view what,
                                 rapidjson::ParseErrorCode code, size_t offset) {
  std::string type = r.header("Content-Type");
  throw Error(response_where(r, what) + " is not valid JSON" +
              (type.empty() ? std::string() : " (Content-Type " + type.substr(0, 60) + ")") + ": " +
              rapidjson::GetParseError_En(code) + " at offset " + std::to_string(offset) + " of " +
              std::to_string(r.body.size()) + " bytes");
}

}  // namespace detail

rapidjson::Document Response::json(std::string_view what) const {
  detail::check_not_empty(*this, what);
  rapidjson::Document doc;
  // Full precision: numbers are re-serialised exactly as the vendor sent
  // them. A body without NUL bytes parses from the C string, which lets
  // RapidJSON skip whitespace with SIMD.
  constexpr unsigned kFlags = rapidjson::kParseFullPrecisionFlag;
  if (std::memchr(body.data(), '\0', body.size()) == nullptr)
    doc.Parse<kFlags>(body.c_str());
  else
    doc.Parse<kFlags>(body.data(), body.size());
  if (doc.HasParseError())
    detail::throw_not_json(*this, what, doc.GetParseError(), doc.GetErrorOffset());
  return doc;
}

Context::Context(const siphon_create_args& args)
    : app_name_(args.app_name ? args.app_name : ""),
      api_(args.host_api),
      host_(args.host),
      validate_only_(args.validate_only != 0) {
  for (uint32_t i = 0; i < args.auth_count; ++i)
    auth_[args.auth[i].name] = args.auth[i].value ? args.auth[i].value : "";
  for (uint32_t i = 0; i < args.option_count; ++i)
    options_[args.options[i].name] = args.options[i].value ? args.options[i].value : "";
}

const std::string& Context::auth(const std::string& name) const {
  static const std::string kEmpty;
  auto it = auth_.find(name);
  return it == auth_.end() ? kEmpty : it->second;
}

bool Context::has_auth(const std::string& name) const {
  auto it = auth_.find(name);
  return it != auth_.end() && !it->second.empty();
}

std::string Context::option(const std::string& name, const std::string& fallback) const {
  auto it = options_.find(name);
  return it == options_.end() ? fallback : it->second;
}

int64_t Context::option_int(const std::string& name, int64_t fallback) const {
  auto it = options_.find(name);
  if (it == options_.end()) return fallback;
  int64_t value = 0;
  const std::string& s = it->second;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size())
    throw Error("option " + name + ": \"" + s + "\" is not a whole number");
  return value;
}

Params Context::options_with_prefix(std::string_view prefix) const {
  Params out;
  for (auto it = options_.lower_bound(std::string(prefix));
       it != options_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
    out.emplace_back(it->first.substr(prefix.size()), it->second);
  return out;
}

int64_t Context::option_int(const std::string& name, int64_t fallback, int64_t min,
                            int64_t max) const {
  const int64_t value = option_int(name, fallback);
  if (options_.count(name) && (value < min || value > max))
    throw Error("option " + name + ": must be " + std::to_string(min) + " to " +
                std::to_string(max));
  return value;
}

std::string Context::vendor_url(std::string_view url) const {
  auto it = options_.find("base_url");
  if (it == options_.end() || it->second.empty()) return std::string(url);
  Poco::URI base(it->second);
  Poco::URI target{std::string(url)};
  target.setScheme(base.getScheme());
  target.setHost(base.getHost());
  target.setPort(base.getPort());
  return target.toString();
}

Response Context::send(const std::string& method, const std::string& url, const Headers& headers,
                       const std::string& body) {
  if (api_ == nullptr || api_->http == nullptr) throw Error("the host gave no HTTP service");
  if (validate_only_) throw Error("no network while validating");
  std::vector<siphon_pair> pairs;
  pairs.reserve(headers.size());
  for (const auto& [k, v] : headers) pairs.push_back({k.c_str(), v.c_str()});
  siphon_http_request req{};
  req.struct_size = sizeof(req);
  req.method = method.c_str();
  req.url = url.c_str();
  req.headers = pairs.data();
  req.header_count = static_cast<uint32_t>(pairs.size());
  req.body = body.data();
  req.body_len = body.size();
  siphon_http_response resp{};
  resp.struct_size = sizeof(resp);
  siphon_status st = api_->http(host_, &req, &resp);
  if (st != SIPHON_OK) {
    std::string why = resp.error && *resp.error ? resp.error : "request failed";
    throw Error(method + " " + Poco::URI(url).getPath() + ": " + why,
                st == SIPHON_RETRY_LATER ? SIPHON_RETRY_LATER : SIPHON_ERROR);
  }
  Response out;
  out.status = resp.status;
  out.headers.reserve(resp.header_count);
  for (uint32_t i = 0; i < resp.header_count; ++i)
    out.headers.emplace_back(resp.headers[i].name, resp.headers[i].value);
  if (resp.body_len) out.body.assign(resp.body, resp.body_len);
  return out;
}

Response Context::get(const std::string& url, const Params& query, const Headers& headers) {
  std::string full = url;
  if (!query.empty())
    full += (url.find('?') == std::string::npos ? "?" : "&") + encode_params(query);
  return send("GET", full, headers, "");
}

Response Context::post_form(const std::string& url, const Params& form, const Headers& headers) {
  Headers h = headers;
  h.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  return send("POST", url, h, encode_params(form));
}

Response Context::post_json(const std::string& url, const std::string& json,
                            const Headers& headers) {
  Headers h = headers;
  h.emplace_back("Content-Type", "application/json");
  return send("POST", url, h, json);
}

void Context::log(int32_t level, const std::string& message) {
  if (api_ && api_->log) api_->log(host_, level, message.c_str());
}

int64_t Context::now_ms() const {
  if (api_ && SIPHON_HAS_MEMBER(siphon_host_api, now_ms, api_->struct_size) && api_->now_ms)
    return api_->now_ms(host_);
  return 0;
}

}  // namespace siphon
