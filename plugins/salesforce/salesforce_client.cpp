#include "salesforce_client.hpp"

#include <cstdlib>
#include <siphon/error_response.hpp>
#include <siphon/json.hpp>

namespace siphon::salesforce {
namespace {

constexpr char kTokenPath[] = "/services/oauth2/token";
constexpr int64_t kSessionSeconds = 10LL * 365 * 24 * 3600;  // until refused

// "https://host[:port]" of an absolute URL (the part vendor_url replaces).
std::string origin_of(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return {};
  const size_t path = url.find_first_of("/?#", scheme_end + 3);
  return url.substr(0, path);
}

bool valid_version(const std::string& v) {
  const size_t dot = v.find('.');
  return dot != std::string::npos && dot > 0 && dot + 1 < v.size() &&
         v.find_first_not_of("0123456789.") == std::string::npos &&
         v.find('.', dot + 1) == std::string::npos;
}

double version_number(const std::string& v) { return std::strtod(v.c_str(), nullptr); }

}  // namespace

AuthInfo auth_fields() {
  return {
      {"client_id",
       "Consumer key of the connected app (both OAuth flows; the app needs the api scope and the "
       "user the View Event Log Files permission)",
       "^[a-zA-Z0-9._#@]{85}$", true},
      {"client_secret", "Consumer secret of the connected app (both OAuth flows)", "^[0-9]{19}$",
       true},
      {"username",
       "Salesforce username for the username-password flow; leave out (with password and "
       "security_token) to use the client credentials flow, see option auth_flow",
       R"(^[A-Za-z0-9-_.+]+@[A-Za-z0-9-.]+\.[A-Za-z]{2,}$)", false, true},
      {"password", "Password of that user (username-password flow only)", ".*", true, true},
      {"security_token",
       "Security token of that user, appended to the password (username-password flow; may be "
       "left out when the org trusts the caller's IP)",
       "^[a-zA-Z0-9]{24}$", true, true},
  };
}

Options common_options() {
  return {
      {"login_url",
       "Where tokens come from: https://login.salesforce.com, https://test.salesforce.com for a "
       "sandbox, or the org's My Domain https://<name>.my.salesforce.com (required by the client "
       "credentials flow)",
       "https://login.salesforce.com"},
      {"auth_flow",
       "auto (username-password flow when username is set, else client credentials), password, or "
       "client_credentials",
       "auto"},
      {"api_version", "REST API version, e.g. 60.0; \"latest\" asks the org for its newest",
       "60.0"},
  };
}

Client::Client(Context& ctx) : ctx_(ctx) {
  const std::string flow = ctx.option("auth_flow", "auto");
  if (flow != "auto" && flow != "password" && flow != "client_credentials")
    throw Error("option auth_flow: must be auto, password or client_credentials");
  password_flow_ = flow == "password" || (flow == "auto" && ctx.has_auth("username"));
  if (password_flow_) {
    for (const char* field : {"username", "password"})
      if (!ctx.has_auth(field))
        throw Error(std::string("auth field ") + field +
                    " is not set (the username-password flow needs it; leave out username to "
                    "use the client credentials flow)");
  } else if (ctx.has_auth("password") || ctx.has_auth("security_token")) {
    throw Error(
        "auth fields password/security_token are set but the client credentials flow is used "
        "(set username, or remove them)");
  }
  login_url_ = ctx.option("login_url", "https://login.salesforce.com");
  while (!login_url_.empty() && login_url_.back() == '/') login_url_.pop_back();
  if (login_url_.rfind("https://", 0) != 0 || login_url_.size() <= 8 ||
      login_url_.find_first_of("/?#", 8) != std::string::npos)
    throw Error("option login_url: must be https://<host> (no path)");
  api_version_ = ctx.option("api_version", "60.0");
  if (api_version_ != "latest" && !valid_version(api_version_))
    throw Error("option api_version: must look like 60.0, or be latest");
  if (api_version_ != "latest" && version_number(api_version_) < 32.0)
    throw Error("option api_version: EventLogFile needs 32.0 or newer");
}

Token Client::open_session() {
  Params form{{"grant_type", password_flow_ ? "password" : "client_credentials"},
              {"client_id", ctx_.auth("client_id")},
              {"client_secret", ctx_.auth("client_secret")}};
  if (password_flow_) {
    form.emplace_back("username", ctx_.auth("username"));
    form.emplace_back("password", ctx_.auth("password") + ctx_.auth("security_token"));
  }
  const std::string what =
      std::string("POST ") + kTokenPath +
      (password_flow_ ? " (username-password flow)" : " (client credentials flow)");
  Response resp = ctx_.post_form(ctx_.vendor_url(login_url_ + kTokenPath), form,
                                 {{"Accept", "application/json"}});
  if (resp.status == 400 || resp.status == 401) {
    std::string why = what + ": " + describe_error(resp);
    if (!password_flow_ && (login_url_ == "https://login.salesforce.com" ||
                            login_url_ == "https://test.salesforce.com"))
      why += " (the client credentials flow needs option login_url set to the org's My Domain)";
    throw AuthRejected(why);
  }
  check_response(resp, what);
  rapidjson::Document body = resp.json(what);
  const std::string token = json::text(body, "access_token");
  const std::string instance = json::text(body, "instance_url");
  if (token.empty()) throw Error(what + ": the answer has no access_token");
  if (instance.empty()) throw Error(what + ": the answer has no instance_url");
  const bool rebased = !ctx_.option("base_url").empty();
  if (!rebased && instance.rfind("https://", 0) != 0)
    throw Error(what + ": instance_url is not https://, refused");
  api_base_ = origin_of(ctx_.vendor_url(instance));
  if (api_base_.empty()) throw Error(what + ": instance_url is not an absolute URL");
  // Salesforce sends no expires_in: a session is kept until a call answers 401.
  return {token, kSessionSeconds};
}

std::string Client::api_base() {
  session_.get(ctx_.now_ms());  // opens a session when there is none
  return api_base_;
}

std::string Client::data_path() {
  if (!data_path_.empty()) return data_path_;
  if (api_version_ != "latest") return data_path_ = "/services/data/v" + api_version_;
  Response resp = get("/services/data/", "GET /services/data/");
  rapidjson::Document doc = resp.json("GET /services/data/");
  std::string best;
  if (doc.IsArray())
    for (const auto& v : doc.GetArray()) {
      std::string version = json::text(v, "version");
      if (valid_version(version) &&
          (best.empty() || version_number(version) > version_number(best)))
        best = version;
    }
  if (best.empty()) throw Error("GET /services/data/: no API version listed");
  ctx_.debug("Salesforce API version " + best);
  return data_path_ = "/services/data/v" + best;
}

Response Client::get(const std::string& path_and_query, const std::string& what,
                     std::string* url_out, bool not_found_ok) {
  // A 401 (INVALID_SESSION_ID: the session timed out or was revoked) gets one new session.
  Response resp = session_.send_authorized(ctx_, [&](const std::string& token) {
    // Log files are large CSV text: ask for gzip (the host inflates it, within
    // http.max_response_bytes).
    return ctx_.get(
        api_base_ + path_and_query, {},
        {{"Authorization", "Bearer " + token}, {"Accept", "*/*"}, {"Accept-Encoding", "gzip"}});
  });
  if (resp.status == 401)
    throw AuthRejected(what + ": " + describe_error(resp) + " with a new session");
  if (url_out) *url_out = api_base_ + path_and_query;
  if (resp.ok() || (not_found_ok && resp.status == 404)) return resp;
  const std::string why = what + ": " + describe_error(resp);
  if (resp.status == 403 && why.find("REQUEST_LIMIT_EXCEEDED") != std::string::npos) {
    const std::string usage = resp.header("Sforce-Limit-Info");  // api-usage=15000/15000
    throw RetryLater(why + (usage.empty() ? "" : " (" + usage + ")") +
                     "; the org's 24-hour API allocation is used up");
  }
  if (resp.status == 400 && why.find("INVALID_TYPE") != std::string::npos)
    throw Error(why +
                " (EventLogFile needs Event Monitoring for the org and the View Event Log "
                "Files permission for the user)");
  throw Error(why);
}

}  // namespace siphon::salesforce
