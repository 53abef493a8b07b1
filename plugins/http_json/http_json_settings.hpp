// http_json_settings.hpp - what an http_json app's options and auth fields
// say, read and checked once when the app is created (also by siphon check).
//
// Every mistake is a siphon::Error naming the option or auth field
// ("option paging: must be one of ..."), never an auth value.
#ifndef SIPHON_PLUGINS_HTTP_JSON_SETTINGS_HPP
#define SIPHON_PLUGINS_HTTP_JSON_SETTINGS_HPP

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <siphon/sdk.hpp>
#include <siphon/text_template.hpp>
#include <string>
#include <vector>

namespace siphon::http_json {

enum class Paging { kNone, kNextUrl, kLinkHeader, kNextToken, kOffset, kPage };
enum class AuthStyle { kBearer, kBasic, kHeader, kOAuth2 };
// How a time is written: RFC 3339 (whole seconds, or with milliseconds), or
// Unix seconds or milliseconds.
enum class TimeFormat { kRfc3339, kRfc3339Ms, kEpochS, kEpochMs };

// A query parameter or header: its name and its value's template.
struct NamedTemplate {
  std::string name;
  TextTemplate value;
};

struct Settings {
  // Request.
  std::string method = "GET";
  TextTemplate url, body;
  std::vector<NamedTemplate> query, headers;
  std::string records;  // dotted path of the records array; "" = the body itself

  // Auth.
  AuthStyle auth = AuthStyle::kBearer;
  std::string auth_header, auth_prefix;  // style header
  std::string token_url, scope;          // style oauth2
  bool client_basic = false;             // oauth2 client id and secret as HTTP Basic

  // Paging.
  Paging paging = Paging::kNone;
  std::string next_url_field, token_field, total_field;
  int64_t page_size = 0;  // 0 = not set
  int64_t first_page = 1;

  // Cursor.
  bool by_id = false;  // cursor.type id: a growing integer id, else a time
  std::string cursor_field, dedupe_key = "id", event_time_field;
  TimeFormat time_format = TimeFormat::kRfc3339;
  int64_t lookback_s = 0, delay_s = 0;
  // Some template writes times with milliseconds: windows keep them (else
  // their bounds are whole seconds, so that nothing falls between them).
  bool millis = false;
};

// Reads and checks the options and the auth values of `ctx`.
Settings read_settings(const Context& ctx);

// The option and auth field declarations of the app type.
Options option_specs();
AuthInfo auth_fields();

// Time formats by name ("epoch_s" ...); std::nullopt for an unknown name.
std::optional<TimeFormat> time_format_named(std::string_view name);
// `unix_ms` written in format `f`.
std::string format_time(int64_t unix_ms, TimeFormat f);
// The time at `path` of a record, in ms: a number (or a string of digits)
// for the epoch formats, an RFC 3339 string for the others; std::nullopt
// when absent or unreadable.
std::optional<int64_t> read_time(const rapidjson::Value& record, std::string_view path,
                                 TimeFormat f);

}  // namespace siphon::http_json

#endif  // SIPHON_PLUGINS_HTTP_JSON_SETTINGS_HPP
