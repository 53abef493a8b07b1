#include "http_json_settings.hpp"

#include <Poco/Exception.h>
#include <Poco/RegularExpression.h>
#include <Poco/String.h>
#include <Poco/URI.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <siphon/json.hpp>
#include <siphon/time_format.hpp>
#include <utility>

namespace siphon::http_json {

namespace {

const char kVariables[] = "start_time, end_time, cursor, page_token, offset, page, page_size";
const char kTimeFormats[] = "rfc3339, rfc3339_ms, epoch_s or epoch_ms";

[[noreturn]] void fail(const std::string& option, const std::string& why) {
  throw Error("option " + option + ": " + why);
}

// An option that must be one of `names`; returns its index.
size_t choice(const Context& ctx, const std::string& option, const std::string& fallback,
              const std::vector<std::string>& names) {
  const std::string value = ctx.option(option, fallback);
  for (size_t i = 0; i < names.size(); ++i)
    if (value == names[i]) return i;
  std::string list;
  for (size_t i = 0; i < names.size(); ++i)
    list += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  fail(option, "must be " + (names.size() > 2 ? "one of " + list : list));
}

int64_t whole_number(const Context& ctx, const std::string& option, int64_t fallback, int64_t min,
                     int64_t max) {
  const int64_t value = ctx.option_int(option, fallback);
  if (value < min || value > max)
    fail(option, "must be " + std::to_string(min) + " to " + std::to_string(max));
  return value;
}

bool is_dotted_path(const std::string& path) {
  if (path.empty() || path.front() == '.' || path.back() == '.') return false;
  return path.find("..") == std::string::npos;
}

// A dotted path option, or "" when unset.
std::string path_option(const Context& ctx, const std::string& option) {
  const std::string value = ctx.option(option);
  if (!value.empty() && !is_dotted_path(value))
    fail(option, "\"" + value + "\" is not a dotted path (e.g. data.items)");
  return value;
}

// An option that belongs to one setting of another option: refused elsewhere.
void only_with(const Context& ctx, const std::string& option, bool allowed,
               const std::string& setting) {
  if (!allowed && !ctx.option(option).empty()) fail(option, "only with " + setting);
}

bool is_header_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) ||
          std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos))
      return false;
  return true;
}

// localhost, [::1] or a literal 127.x.x.x (not a name such as 127.example.com).
bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  return host.rfind("127.", 0) == 0 && host.find_first_not_of("0123456789.") == std::string::npos;
}

bool full_match(const std::string& regex, const std::string& value) {
  Poco::RegularExpression re("\\A(?:" + regex + ")\\z");
  return re.match(value, 0, 0);
}

// Checks the templates' variables against what the cursor and paging give.
class TemplateReader {
 public:
  explicit TemplateReader(Settings& s) : s_(s) {}

  TextTemplate read(const std::string& option, const std::string& text) {
    TextTemplate t;
    try {
      t = TextTemplate(text);
    } catch (const Error& e) {
      fail(option, e.what());
    }
    for (const auto& v : t.variables()) check(option, v);
    for (const char* name : {"page_token", "offset", "page"})
      if (t.uses(name)) used_.insert(name);
    return t;
  }
  bool used(const std::string& name) const { return used_.count(name) > 0; }

 private:
  void check(const std::string& option, const TextTemplate::Variable& v) {
    const std::string shown = "{{" + v.name + "}}";
    const bool window = v.name == "start_time" || v.name == "end_time";
    if (!window && v.name != "cursor" && v.name != "page_token" && v.name != "offset" &&
        v.name != "page" && v.name != "page_size")
      fail(option, "unknown template variable " + shown + " (known: " + kVariables + ")");
    if (window && s_.by_id) fail(option, shown + " needs cursor.type time");
    const bool is_time = window || (v.name == "cursor" && !s_.by_id);
    if (!v.format.empty()) {
      if (!is_time) fail(option, shown + " takes no format");
      if (!time_format_named(v.format))
        fail(option, "unknown time format \"" + v.format + "\" in {{" + v.name + ":" + v.format +
                         "}} (expected " + kTimeFormats + ")");
    }
    if (is_time) {
      TimeFormat f = v.format.empty() ? (window ? TimeFormat::kRfc3339 : s_.time_format)
                                      : *time_format_named(v.format);
      s_.millis = s_.millis || f == TimeFormat::kRfc3339Ms || f == TimeFormat::kEpochMs;
    }
    auto needs = [&](bool given, const std::string& what) {
      if (!given) fail(option, shown + " is set only with " + what);
    };
    if (v.name == "page_token") needs(s_.paging == Paging::kNextToken, "paging next_token");
    if (v.name == "offset") needs(s_.paging == Paging::kOffset, "paging offset");
    if (v.name == "page") needs(s_.paging == Paging::kPage, "paging page");
    if (v.name == "page_size") needs(s_.page_size > 0, "paging.page_size");
  }

  Settings& s_;
  std::set<std::string> used_;
};

void read_cursor(const Context& ctx, Settings& s) {
  s.by_id = choice(ctx, "cursor.type", "time", {"time", "id"}) == 1;
  s.cursor_field = path_option(ctx, "cursor.field");
  if (s.cursor_field.empty())
    fail("cursor.field", "required: the dotted path of each record's " +
                             std::string(s.by_id ? "growing integer id" : "time") +
                             " (e.g. created_at)");
  s.time_format = static_cast<TimeFormat>(choice(ctx, "cursor.time_format", "rfc3339",
                                                 {"rfc3339", "rfc3339_ms", "epoch_s", "epoch_ms"}));
  s.dedupe_key = ctx.option("cursor.dedupe_key", "id");
  if (!s.dedupe_key.empty() && !is_dotted_path(s.dedupe_key))
    fail("cursor.dedupe_key", "\"" + s.dedupe_key + "\" is not a dotted path (e.g. id)");
  only_with(ctx, "cursor.lookback_seconds", !s.by_id, "cursor.type time");
  only_with(ctx, "cursor.delay_seconds", !s.by_id, "cursor.type time");
  only_with(ctx, "cursor.event_time_field", s.by_id,
            "cursor.type id (with cursor.type time, cursor.field is the event's time)");
  s.lookback_s = whole_number(ctx, "cursor.lookback_seconds", 0, 0, 7 * 86400);
  s.delay_s = whole_number(ctx, "cursor.delay_seconds", 0, 0, 86400);
  s.event_time_field = path_option(ctx, "cursor.event_time_field");
}

void read_paging(const Context& ctx, Settings& s) {
  s.paging = static_cast<Paging>(choice(
      ctx, "paging", "none", {"none", "next_url", "link_header", "next_token", "offset", "page"}));
  const bool counted = s.paging == Paging::kOffset || s.paging == Paging::kPage;
  only_with(ctx, "paging.next_url_field", s.paging == Paging::kNextUrl, "paging next_url");
  only_with(ctx, "paging.token_field", s.paging == Paging::kNextToken, "paging next_token");
  only_with(ctx, "paging.total_field", counted, "paging offset or page");
  only_with(ctx, "paging.first_page", s.paging == Paging::kPage, "paging page");
  s.next_url_field = path_option(ctx, "paging.next_url_field");
  s.token_field = path_option(ctx, "paging.token_field");
  s.total_field = path_option(ctx, "paging.total_field");
  if (s.paging == Paging::kNextUrl && s.next_url_field.empty())
    fail("paging.next_url_field",
         "required with paging next_url: the dotted path of the next page's URL (e.g. pages.next)");
  if (s.paging == Paging::kNextToken && s.token_field.empty())
    fail("paging.token_field",
         "required with paging next_token: the dotted path of the next page's token");
  if (counted && ctx.option("paging.page_size").empty())
    fail("paging.page_size", "required with paging offset or page: records a full page holds");
  s.page_size = whole_number(ctx, "paging.page_size", 0, counted ? 1 : 0, 100000);
  s.first_page = whole_number(ctx, "paging.first_page", 1, 0, 1);
}

void read_auth(const Context& ctx, Settings& s) {
  s.auth = static_cast<AuthStyle>(
      choice(ctx, "auth.style", "bearer", {"bearer", "basic", "header", "oauth2"}));
  const std::string style = ctx.option("auth.style", "bearer");
  only_with(ctx, "auth.header", s.auth == AuthStyle::kHeader, "auth.style header");
  only_with(ctx, "auth.prefix", s.auth == AuthStyle::kHeader, "auth.style header");
  for (const char* o : {"auth.token_url", "auth.scope", "auth.client_auth"})
    only_with(ctx, o, s.auth == AuthStyle::kOAuth2, "auth.style oauth2");
  s.auth_header = ctx.option("auth.header");
  s.auth_prefix = ctx.option("auth.prefix");
  if (s.auth == AuthStyle::kHeader && !is_header_name(s.auth_header))
    fail("auth.header", "required with auth.style header: a header name (e.g. X-Api-Key)");
  if (s.auth_prefix.find_first_of("\r\n") != std::string::npos)
    fail("auth.prefix", "must be on one line");
  s.token_url = ctx.option("auth.token_url");
  s.scope = ctx.option("auth.scope");
  s.client_basic = choice(ctx, "auth.client_auth", "body", {"body", "basic"}) == 1;
  if (s.auth == AuthStyle::kOAuth2) {
    if (s.token_url.empty())
      fail("auth.token_url", "required with auth.style oauth2 (the token endpoint's URL)");
    try {
      Poco::URI u(s.token_url);
      if ((u.getScheme() != "https" && u.getScheme() != "http") || u.getHost().empty())
        fail("auth.token_url", "must be an absolute https:// URL");
    } catch (const Poco::Exception&) {
      fail("auth.token_url", "not a URL");
    }
  }

  // Which auth fields the style uses; others are a mistake in the config.
  std::vector<std::string> used;
  switch (s.auth) {
    case AuthStyle::kBearer:
    case AuthStyle::kHeader:
      used = {"token"};
      break;
    case AuthStyle::kBasic:
      used = {"username", "password"};
      break;
    case AuthStyle::kOAuth2:
      used = {"client_id", "client_secret"};
      break;
  }
  for (const auto& field : auth_fields()) {
    const bool wanted = std::find(used.begin(), used.end(), field.name) != used.end();
    if (wanted && !ctx.has_auth(field.name))
      throw Error("auth field " + field.name + ": required with auth.style " + style);
    if (!wanted && ctx.has_auth(field.name))
      throw Error("auth field " + field.name + ": not used with auth.style " + style);
    const std::string option = "auth." + field.name + "_regex";
    const std::string regex = ctx.option(option);
    if (regex.empty()) continue;
    bool matches = false;
    try {
      matches = full_match(regex, ctx.auth(field.name));
    } catch (const Poco::Exception& e) {
      fail(option, "not a valid regular expression (" + e.message() + ")");
    }
    if (wanted && !matches)
      throw Error("auth field " + field.name + ": value does not match option " + option +
                  " (value not shown)");
  }
}

void read_request(const Context& ctx, Settings& s, TemplateReader& templates) {
  s.method = Poco::toUpper(ctx.option("method", "GET"));
  if (s.method != "GET" && s.method != "POST") fail("method", "must be GET or POST");
  const std::string url = ctx.option("url");
  if (url.empty())
    fail("url", "required: the API endpoint (e.g. https://api.example.com/v1/audit)");
  s.url = templates.read("url", url);
  try {
    // The URL with every variable filled in must be an absolute http(s) URL.
    Poco::URI u(s.url.expand([](const TextTemplate::Variable&) { return std::string("0"); }));
    const std::string scheme = Poco::toLower(u.getScheme());
    if ((scheme != "https" && scheme != "http") || u.getHost().empty())
      fail("url", "must be an absolute https:// URL (e.g. https://api.example.com/v1/audit)");
    if (!u.getUserInfo().empty()) fail("url", "must not hold credentials (use the auth fields)");
    if (scheme == "http" && !is_loopback(Poco::toLower(u.getHost())) &&
        ctx.option("base_url").empty())
      fail("url", "plain http:// is allowed only for loopback hosts; use https://");
  } catch (const Poco::Exception&) {
    fail("url", "not a URL");
  }
  const std::string body = ctx.option("body");
  if (!body.empty() && s.method != "POST") fail("body", "only with method POST");
  s.body = templates.read("body", body);
  if (!body.empty()) {
    // Filled in with sample values, the body must be JSON.
    const std::string sample = s.body.expand([&](const TextTemplate::Variable& v) {
      return v.name == "page_token" ? std::string("token") : std::string("1");
    });
    rapidjson::Document doc;
    doc.Parse(sample.c_str());
    if (doc.HasParseError())
      fail("body", std::string("not valid JSON once its variables are filled in (") +
                       rapidjson::GetParseError_En(doc.GetParseError()) + " at character " +
                       std::to_string(doc.GetErrorOffset() + 1) + ")");
  }
  for (const auto& [name, value] : ctx.options_with_prefix("query."))
    s.query.push_back({name, templates.read("query." + name, value)});
  for (const auto& [name, value] : ctx.options_with_prefix("header.")) {
    const std::string option = "header." + name;
    if (!is_header_name(name)) fail(option, "\"" + name + "\" is not a header name");
    const std::string lower = Poco::toLower(name);
    for (const char* reserved : {"host", "content-length", "connection", "transfer-encoding"})
      if (lower == reserved) fail(option, "set by siphon itself");
    const std::string auth_header =
        s.auth == AuthStyle::kHeader ? Poco::toLower(s.auth_header) : "authorization";
    if (lower == auth_header)
      fail(option, "conflicts with auth.style " + ctx.option("auth.style", "bearer"));
    if (value.find_first_of("\r\n") != std::string::npos) fail(option, "must be on one line");
    s.headers.push_back({name, templates.read(option, value)});
  }
  const std::string records = ctx.option("records");
  s.records = records == "." ? "" : records;
  if (!s.records.empty() && !is_dotted_path(s.records))
    fail("records", "\"" + records +
                        "\" is not a dotted path (e.g. data.items; \"\" or . for a "
                        "body that is the array itself)");
}

}  // namespace

Settings read_settings(const Context& ctx) {
  Settings s;
  read_cursor(ctx, s);
  read_paging(ctx, s);
  read_auth(ctx, s);
  TemplateReader templates(s);
  read_request(ctx, s, templates);
  const char* variable = s.paging == Paging::kNextToken ? "page_token"
                         : s.paging == Paging::kOffset  ? "offset"
                         : s.paging == Paging::kPage    ? "page"
                                                        : nullptr;
  if (variable && !templates.used(variable))
    fail("paging", ctx.option("paging") + " needs {{" + variable +
                       "}} in the url, the body, a query.NAME or a header.NAME option");
  return s;
}

std::optional<TimeFormat> time_format_named(std::string_view name) {
  if (name == "rfc3339") return TimeFormat::kRfc3339;
  if (name == "rfc3339_ms") return TimeFormat::kRfc3339Ms;
  if (name == "epoch_s") return TimeFormat::kEpochS;
  if (name == "epoch_ms") return TimeFormat::kEpochMs;
  return std::nullopt;
}

std::string format_time(int64_t unix_ms, TimeFormat f) {
  switch (f) {
    case TimeFormat::kRfc3339:
      return timefmt::rfc3339(unix_ms);
    case TimeFormat::kRfc3339Ms:
      return timefmt::rfc3339(unix_ms, true);
    case TimeFormat::kEpochS:
      return std::to_string(unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000);
    case TimeFormat::kEpochMs:
      return std::to_string(unix_ms);
  }
  return {};
}

std::optional<int64_t> read_time(const rapidjson::Value& record, std::string_view path,
                                 TimeFormat f) {
  if (f == TimeFormat::kRfc3339 || f == TimeFormat::kRfc3339Ms)
    return json::find_rfc3339(record, path);
  const int64_t scale = f == TimeFormat::kEpochS ? 1000 : 1;
  if (auto n = json::find_integer(record, path)) return *n * scale;
  if (auto d = json::find<double>(record, path); d && std::isfinite(*d))
    return static_cast<int64_t>(std::floor(*d * static_cast<double>(scale)));
  return std::nullopt;
}

Options option_specs() {
  return {
      {"url", "the API endpoint, https:// (template)", ""},
      {"method", "GET or POST", "GET"},
      {"body", "POST only: the JSON body (template; values are JSON-escaped)", ""},
      {"query.*", "query.NAME: a query parameter (template; left out when it comes out empty)", ""},
      {"header.*", "header.NAME: a request header (template; left out when empty)", ""},
      {"records", "dotted path of the array of records in the body; \"\" or . for a bare array",
       ""},
      {"auth.style", "bearer, basic, header or oauth2 (client credentials)", "bearer"},
      {"auth.header", "auth.style header: the header that carries the token (e.g. X-Api-Key)", ""},
      {"auth.prefix", "auth.style header: text before the token in that header (e.g. \"SSWS \")",
       ""},
      {"auth.token_url", "auth.style oauth2: the token endpoint", ""},
      {"auth.scope", "auth.style oauth2: scope to ask for (unset: none sent)", ""},
      {"auth.client_auth", "auth.style oauth2: client id and secret in the form body or as basic",
       "body"},
      {"auth.token_regex", "regex the whole auth field token must match (checked, never shown)",
       ""},
      {"auth.username_regex", "regex the whole auth field username must match", ""},
      {"auth.password_regex", "regex the whole auth field password must match", ""},
      {"auth.client_id_regex", "regex the whole auth field client_id must match", ""},
      {"auth.client_secret_regex", "regex the whole auth field client_secret must match", ""},
      {"paging", "none, next_url, link_header, next_token, offset or page", "none"},
      {"paging.next_url_field", "paging next_url: dotted path of the next page's URL", ""},
      {"paging.token_field", "paging next_token: dotted path of the next page's token", ""},
      {"paging.page_size", "records a full page holds ({{page_size}}; required for offset/page)",
       ""},
      {"paging.first_page", "paging page: number of the first page, 0 or 1", "1"},
      {"paging.total_field", "paging offset/page: dotted path of the total number of records", ""},
      {"cursor.type", "time (records carry a time) or id (a growing integer id)", "time"},
      {"cursor.field", "dotted path of each record's time (or id)", ""},
      {"cursor.time_format", "rfc3339, rfc3339_ms, epoch_s or epoch_ms: how records give times",
       "rfc3339"},
      {"cursor.dedupe_key", "dotted path of each record's unique id; \"\": the whole record", "id"},
      {"cursor.lookback_seconds", "cursor.type time: each window starts this long before the last",
       "0"},
      {"cursor.delay_seconds", "cursor.type time: windows end this long before now", "0"},
      {"cursor.event_time_field",
       "cursor.type id: dotted path of the record's time (in cursor.time_format), for the lag",
       ""}};
}

AuthInfo auth_fields() {
  return {
      {"token", "auth.style bearer or header: the API token", R"(^[\x21-\x7e]+$)", true, true},
      {"username", "auth.style basic: the user name", R"(^[^\x00-\x1f\x7f:]+$)", false, true},
      {"password", "auth.style basic: the password", R"(^[^\x00-\x1f\x7f]+$)", true, true},
      {"client_id", "auth.style oauth2: the client id", R"(^[\x21-\x7e]+$)", true, true},
      {"client_secret", "auth.style oauth2: the client secret", R"(^[\x21-\x7e]+$)", true, true}};
}

}  // namespace siphon::http_json
