#include "salesforce_imitation.hpp"

#include <Poco/DeflatingStream.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <regex>
#include <set>
#include <siphon/auth_helpers.hpp>
#include <sstream>

namespace siphon::imitation {
namespace {

constexpr char kOrgId[] = "00D5g000004XyzEAA";
const std::set<std::string> kVersions = {"32.0", "58.0", "59.0", "60.0", "61.0"};
const std::set<std::string> kFields = {"Id",
                                       "EventType",
                                       "LogDate",
                                       "LogFile",
                                       "LogFileLength",
                                       "Interval",
                                       "CreatedDate",
                                       "ApiVersion",
                                       "LogFileContentType",
                                       "LogFileFieldNames",
                                       "LogFileFieldTypes",
                                       "Sequence"};

std::string random_of(std::mt19937_64& rng, const std::string& alphabet, size_t n) {
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::string out;
  for (size_t i = 0; i < n; ++i) out += alphabet[pick(rng)];
  return out;
}
const std::string kDigits = "0123456789";
const std::string kAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" + kDigits;

std::tm utc(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}
int millis(int64_t ms) { return static_cast<int>(((ms % 1000) + 1000) % 1000); }

// "2024-05-01T09:12:44.000+0000", as the REST API writes datetimes.
std::string sf_time(int64_t ms) {
  std::tm tm = utc(ms);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+0000", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis(ms));
  return buf;
}
// "20240430170003.117" (CSV TIMESTAMP) and "2024-04-30T17:00:03.117Z".
std::string csv_timestamp(int64_t ms) {
  std::tm tm = utc(ms);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis(ms));
  return buf;
}
std::string iso_z(int64_t ms) {
  std::tm tm = utc(ms);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis(ms));
  return buf;
}

// A SOQL datetime literal: 2024-05-01T00:00:00Z, optional .SSS, Z or +hh:mm.
bool parse_soql_datetime(const std::string& text, int64_t& ms) {
  static const std::regex re(
      R"((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(Z|([+-])(\d{2}):(\d{2})))");
  std::smatch m;
  if (!std::regex_match(text, m, re)) return false;
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  if (m[7].matched) {
    std::string frac = m[7].str();
    while (frac.size() < 3) frac += '0';
    ms += std::stoi(frac);
  }
  if (m[9].matched) {
    int64_t offset = (std::stoi(m[10]) * 60 + std::stoi(m[11])) * 60000LL;
    ms += m[9] == "+" ? -offset : offset;
  }
  return true;
}

void rest_error(Reply& reply, int status, const std::string& code, const std::string& message) {
  reply.status = status;
  reply.body = R"([{"message":")" + json_escape(message) + R"(","errorCode":")" + code + R"("}])";
}

void oauth_error(Reply& reply, const std::string& error, const std::string& description) {
  reply.status = 400;
  reply.body = R"({"error":")" + error + R"(","error_description":")" + description + R"("})";
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& text, const std::regex& sep) {
  std::vector<std::string> out;
  std::sregex_token_iterator it(text.begin(), text.end(), sep, -1), end;
  for (; it != end; ++it) out.push_back(trim(*it));
  return out;
}

std::vector<std::string> columns_of(const std::string& event_type) {
  const std::vector<std::string> common = {
      "EVENT_TYPE", "TIMESTAMP", "REQUEST_ID",  "ORGANIZATION_ID", "USER_ID",  "RUN_TIME",
      "CPU_TIME",   "URI",       "SESSION_KEY", "LOGIN_KEY",       "USER_TYPE"};
  std::vector<std::string> extra;
  if (event_type == "Login")
    extra = {"REQUEST_STATUS",    "DB_TOTAL_TIME",
             "LOGIN_TYPE",        "BROWSER_TYPE",
             "API_TYPE",          "API_VERSION",
             "USER_NAME",         "TLS_PROTOCOL",
             "CIPHER_SUITE",      "AUTHENTICATION_METHOD_REFERENCE",
             "TIMESTAMP_DERIVED", "USER_ID_DERIVED",
             "CLIENT_IP",         "URI_ID_DERIVED",
             "LOGIN_STATUS",      "SOURCE_IP"};
  else if (event_type == "LoginAs")
    extra = {"DELEGATED_USER_ID", "DELEGATED_USER_NAME", "DELEGATED_ORGANIZATION_ID",
             "TIMESTAMP_DERIVED", "USER_ID_DERIVED",     "CLIENT_IP",
             "URI_ID_DERIVED"};
  else if (event_type == "Console")
    extra = {"COMPONENT_ID",      "RECORD_ID",       "SIDEBAR_RECORD_ID", "SIDEBAR_COMPONENT",
             "TIMESTAMP_DERIVED", "USER_ID_DERIVED", "CLIENT_IP",         "URI_ID_DERIVED"};
  else if (event_type == "Report")
    extra = {"REQUEST_STATUS", "DB_TOTAL_TIME",     "ENTITY_NAME",     "DISPLAY_TYPE",
             "RENDERING_TYPE", "REPORT_ID",         "ROW_COUNT",       "NUMBER_COLUMNS",
             "SORT",           "TIMESTAMP_DERIVED", "USER_ID_DERIVED", "CLIENT_IP",
             "URI_ID_DERIVED", "REPORT_ID_DERIVED", "ORIGIN"};
  else
    extra = {"CLIENT_IP",         "USER_AGENT",      "REPORT_DESCRIPTION",
             "TIMESTAMP_DERIVED", "USER_ID_DERIVED", "URI_ID_DERIVED"};
  std::vector<std::string> all = common;
  all.insert(all.end(), extra.begin(), extra.end());
  return all;
}

const char* const kUsers[] = {"jdoe@example.com", "mroe@example.com", "asmith@example.com",
                              "bchen@example.com"};

std::string cell(const std::string& column, const std::string& event_type, size_t i, int64_t ts,
                 const std::string& request_id) {
  const std::string user15 = "0055g00000Ab" + std::to_string(100 + i % 4).substr(0, 3);
  if (column == "EVENT_TYPE") return event_type;
  if (column == "TIMESTAMP") return csv_timestamp(ts);
  if (column == "TIMESTAMP_DERIVED") return iso_z(ts);
  if (column == "REQUEST_ID") return request_id;
  if (column == "ORGANIZATION_ID" || column == "DELEGATED_ORGANIZATION_ID")
    return std::string(kOrgId).substr(0, 15);
  if (column == "USER_ID" || column == "DELEGATED_USER_ID") return user15;
  if (column == "USER_ID_DERIVED") return user15 + "AAU";
  if (column == "USER_NAME" || column == "DELEGATED_USER_NAME") return kUsers[i % 4];
  if (column == "CLIENT_IP" || column == "SOURCE_IP")
    return "198.51.100." + std::to_string(i % 250 + 1);
  if (column == "RUN_TIME" || column == "CPU_TIME" || column == "DB_TOTAL_TIME")
    return std::to_string(10 + (i * 37) % 900);
  if (column == "URI") return event_type == "Login" ? "/index.jsp" : "/00O5g000001abc";
  if (column == "BROWSER_TYPE" || column == "USER_AGENT")
    return "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0";
  if (column == "LOGIN_STATUS")
    return i % 5 == 4 ? "LOGIN_ERROR_INVALID_PASSWORD" : "LOGIN_NO_ERROR";
  if (column == "REPORT_DESCRIPTION" || column == "ENTITY_NAME" || column == "SIDEBAR_COMPONENT") {
    if (i % 3 == 1) return "Pipeline \"Q2, 2024\", by region";
    if (i % 3 == 2) return "Accounts\nline two, \"quoted\"\r\nline three";
    return "Opportunities";
  }
  if (column == "REPORT_ID" || column == "RECORD_ID" || column == "COMPONENT_ID")
    return "00O5g00000" + std::to_string(10000 + i);
  if (column == "TLS_PROTOCOL") return "TLSv1.3";
  if (column == "CIPHER_SUITE") return "TLS_AES_256_GCM_SHA384";
  if (column == "SORT") return i % 2 ? "" : "Amount DESC, Name ASC";
  return i % 4 == 3 ? "" : "v" + std::to_string(i % 7);
}

}  // namespace

SalesforceImitation::Credentials SalesforceImitation::make_credentials() {
  std::mt19937_64 rng{std::random_device{}()};
  Credentials c;
  c.client_id = "3MVG9" + random_of(rng, kAlnum + "._", 80);
  c.client_secret = random_of(rng, "123456789", 1) + random_of(rng, kDigits, 18);
  c.username = "siphon.reader@example.com";
  c.password = "Pa55, \"word\"&=+%" + random_of(rng, kAlnum, 8);
  c.security_token = random_of(rng, kAlnum, 24);
  return c;
}

SalesforceImitation::LogFile SalesforceImitation::make_log_file(const std::string& event_type,
                                                                size_t rows, int64_t log_date_ms,
                                                                int64_t created_ms,
                                                                const std::string& request_prefix) {
  LogFile f;
  f.event_type = event_type;
  f.log_date_ms = log_date_ms;
  f.created_ms = created_ms;
  f.header = columns_of(event_type);
  for (size_t i = 0; i < rows; ++i) {
    const int64_t ts = log_date_ms + static_cast<int64_t>(i) * 1037;
    const std::string request_id = request_prefix + std::to_string(i);
    std::vector<std::string> row;
    for (const auto& column : f.header) row.push_back(cell(column, event_type, i, ts, request_id));
    f.rows.push_back(std::move(row));
  }
  return f;
}

std::string SalesforceImitation::to_csv(const LogFile& file, bool crlf, bool bom) {
  std::string out = bom ? "\xEF\xBB\xBF" : "";
  auto line = [&](const std::vector<std::string>& fields) {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i) out += ',';
      out += '"';
      for (char ch : fields[i]) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
      out += '"';
    }
    out += crlf ? "\r\n" : "\n";
  };
  line(file.header);
  for (const auto& row : file.rows) line(row);
  return out;
}

SalesforceImitation::SalesforceImitation(Credentials credentials)
    : credentials_(std::move(credentials)) {}

SalesforceImitation::~SalesforceImitation() { stop(); }

std::string SalesforceImitation::add_log_file(LogFile file) {
  std::lock_guard lock(state_mu_);
  char id[24];
  std::snprintf(id, sizeof id, "0AT5g0000%06lldEAV", static_cast<long long>(next_id_++));
  file.id = id;
  files_.push_back(std::move(file));
  return id;
}

void SalesforceImitation::set_raw_body(const std::string& id, const std::string& body) {
  std::lock_guard lock(state_mu_);
  raw_bodies_[id] = body;
}

void SalesforceImitation::remove_log_file(const std::string& id) {
  std::lock_guard lock(state_mu_);
  files_.erase(
      std::remove_if(files_.begin(), files_.end(), [&](const LogFile& f) { return f.id == id; }),
      files_.end());
}

std::vector<SalesforceImitation::LogFile> SalesforceImitation::log_files() const {
  std::lock_guard lock(state_mu_);
  return files_;
}

int SalesforceImitation::sessions(const std::string& grant_type) const {
  std::lock_guard lock(state_mu_);
  int n = 0;
  for (const auto& [grant, count] : grants_)
    if (grant_type.empty() || grant == grant_type) n += count;
  return n;
}

std::vector<std::string> SalesforceImitation::queries() const {
  std::lock_guard lock(state_mu_);
  return queries_;
}

void SalesforceImitation::invalidate_sessions() {
  std::lock_guard lock(state_mu_);
  sessions_.clear();
}
void SalesforceImitation::set_session_calls(int calls) {
  std::lock_guard lock(state_mu_);
  session_calls_ = calls;
}
void SalesforceImitation::set_refuse_sessions(bool on) {
  std::lock_guard lock(state_mu_);
  refuse_sessions_ = on;
}
void SalesforceImitation::set_password_flow_blocked(bool on) {
  std::lock_guard lock(state_mu_);
  password_blocked_ = on;
}
void SalesforceImitation::set_client_credentials_enabled(bool on) {
  std::lock_guard lock(state_mu_);
  client_credentials_ = on;
}
void SalesforceImitation::set_trusted_ip(bool on) {
  std::lock_guard lock(state_mu_);
  trusted_ip_ = on;
}
void SalesforceImitation::set_instance_url(const std::string& url) {
  std::lock_guard lock(state_mu_);
  instance_url_ = url;
}
void SalesforceImitation::set_batch_size(size_t records) {
  std::lock_guard lock(state_mu_);
  batch_size_ = std::max<size_t>(records, 1);
}
void SalesforceImitation::set_api_limit(int64_t calls) {
  std::lock_guard lock(state_mu_);
  api_limit_ = calls;
}
void SalesforceImitation::set_event_log_unsupported(bool on) {
  std::lock_guard lock(state_mu_);
  event_log_unsupported_ = on;
}
void SalesforceImitation::set_csv_style(bool crlf, bool bom) {
  std::lock_guard lock(state_mu_);
  crlf_ = crlf;
  bom_ = bom;
}
void SalesforceImitation::set_gzip(bool on) {
  std::lock_guard lock(state_mu_);
  gzip_ = on;
}
int SalesforceImitation::gzipped_bodies() const {
  std::lock_guard lock(state_mu_);
  return gzipped_;
}
void SalesforceImitation::expire_query_locators() {
  std::lock_guard lock(state_mu_);
  locators_.clear();
}

void SalesforceImitation::handle(const Request& request, Reply& reply) {
  static const std::regex query_re(R"(/services/data/v(\d+\.\d)/query/?)");
  static const std::regex more_re(R"(/services/data/v(\d+\.\d)/query/(01g[A-Za-z0-9]+)-(\d+))");
  static const std::regex blob_re(
      R"(/services/data/v(\d+\.\d)/sobjects/EventLogFile/([A-Za-z0-9]{18})/LogFile)");
  if (request.path == "/services/oauth2/token") {
    if (request.method != "POST")
      return oauth_error(reply, "invalid_request", "must use HTTP POST");
    return token(request, reply);
  }
  if (request.path == "/services/data" || request.path == "/services/data/") {
    reply.body = "[";
    for (const auto& v : kVersions)
      reply.body += std::string(reply.body.size() > 1 ? "," : "") + R"({"label":"v)" + v +
                    R"(","url":"/services/data/v)" + v + R"(","version":")" + v + R"("})";
    reply.body += "]";
    return;
  }
  std::smatch m;
  const std::string& path = request.path;
  if (request.method != "GET")
    return rest_error(reply, 405, "METHOD_NOT_ALLOWED",
                      "HTTP Method '" + request.method + "' not allowed. Allowed are GET");
  if (std::regex_match(path, m, query_re) || std::regex_match(path, m, more_re) ||
      std::regex_match(path, m, blob_re)) {
    if (!kVersions.count(m[1]))
      return rest_error(reply, 404, "NOT_FOUND", "The requested resource does not exist");
    if (!authorize(request, reply)) return;
    if (std::regex_match(path, m, query_re)) return query(request, m[1], reply);
    if (std::regex_match(path, m, more_re)) return query_more(m[2], std::stoul(m[3]), reply);
    std::regex_match(path, m, blob_re);
    return log_file_body(m[2], request.header("accept-encoding").find("gzip") != std::string::npos,
                         reply);
  }
  rest_error(reply, 404, "NOT_FOUND", "The requested resource does not exist");
}

void SalesforceImitation::token(const Request& request, Reply& reply) {
  std::lock_guard lock(state_mu_);
  const std::string grant = request.param("grant_type");
  if (grant != "password" && grant != "client_credentials")
    return oauth_error(reply, "unsupported_grant_type", "grant type not supported");
  if (request.param("client_id") != credentials_.client_id)
    return oauth_error(reply, "invalid_client_id", "client identifier invalid");
  if (request.param("client_secret") != credentials_.client_secret)
    return oauth_error(reply, "invalid_client", "invalid client credentials");
  if (grant == "password") {
    const std::string password = request.param("password");
    const bool matches = password == credentials_.password + credentials_.security_token ||
                         (trusted_ip_ && password == credentials_.password);
    if (password_blocked_ || request.param("username") != credentials_.username || !matches)
      return oauth_error(reply, "invalid_grant", "authentication failure");
  } else if (!client_credentials_) {
    return oauth_error(reply, "invalid_grant", "no client credentials user enabled");
  }
  const std::string token =
      std::string(kOrgId).substr(0, 15) + "!AQ0AQ" + random_of(rng_, kAlnum + "._", 96);
  sessions_[token] = 0;
  ++grants_[grant];
  const std::string id =
      "https://login.salesforce.com/id/" + std::string(kOrgId) + "/0055g00000AbCdEAAU";
  const std::string issued_at = std::to_string(now_ms());
  const std::string signature =
      auth::base64_encode(auth::hmac_sha256(credentials_.client_secret, id + issued_at));
  reply.body = R"({"access_token":")" + token + R"(","instance_url":")" + instance_url_ +
               R"(","id":")" + id + R"(","token_type":"Bearer","issued_at":")" + issued_at +
               R"(","signature":")" + signature + R"("})";
}

bool SalesforceImitation::authorize(const Request& request, Reply& reply) {
  std::lock_guard lock(state_mu_);
  const std::string auth = request.header("authorization");
  auto it = auth.rfind("Bearer ", 0) == 0 ? sessions_.find(auth.substr(7)) : sessions_.end();
  if (it == sessions_.end() || refuse_sessions_ ||
      (session_calls_ > 0 && it->second >= session_calls_)) {
    if (it != sessions_.end()) sessions_.erase(it);
    rest_error(reply, 401, "INVALID_SESSION_ID", "Session expired or invalid");
    return false;
  }
  ++it->second;
  ++api_usage_;
  const int64_t limit = api_limit_ > 0 ? api_limit_ : 100000;
  reply.headers.emplace_back(
      "Sforce-Limit-Info", "api-usage=" + std::to_string(api_usage_) + "/" + std::to_string(limit));
  if (api_limit_ > 0 && api_usage_ > api_limit_) {
    rest_error(reply, 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.");
    return false;
  }
  return true;
}

void SalesforceImitation::query(const Request& request, const std::string& version, Reply& reply) {
  static const std::regex soql_re(
      R"(^\s*SELECT\s+(.+?)\s+FROM\s+(\w+)(?:\s+WHERE\s+(.+?))?(?:\s+ORDER\s+BY\s+(.+?))?(?:\s+LIMIT\s+(\d+))?\s*$)",
      std::regex::icase);
  static const std::regex comma_re(R"(\s*,\s*)");
  static const std::regex and_re(R"(\s+AND\s+)", std::regex::icase);
  static const std::regex cond_re(R"(^(\w+)\s*(=|!=|>=|<=|>|<)\s*(.+)$)");
  static const std::regex order_re(R"(^(\w+)(?:\s+(ASC|DESC))?$)", std::regex::icase);
  const std::string soql = request.param("q");
  {
    std::lock_guard lock(state_mu_);
    queries_.push_back(soql);
  }
  std::smatch m;
  if (!request.has_param("q") || !std::regex_match(soql, m, soql_re))
    return rest_error(reply, 400, "MALFORMED_QUERY",
                      "unexpected token: '" + soql.substr(0, 40) + "'");
  const std::string object = m[2];
  if (object != "EventLogFile")
    return rest_error(reply, 400, "INVALID_TYPE",
                      "sObject type '" + object + "' is not supported.");
  std::lock_guard lock(state_mu_);
  if (event_log_unsupported_)
    return rest_error(reply, 400, "INVALID_TYPE",
                      "sObject type 'EventLogFile' is not supported. If you are attempting to use "
                      "a custom object, be sure to append the '__c' after the entity name.");
  Locator loc;
  loc.version = version;
  for (const auto& field : split(m[1], comma_re)) {
    if (!kFields.count(field))
      return rest_error(reply, 400, "INVALID_FIELD",
                        "No such column '" + field + "' on entity 'EventLogFile'.");
    loc.fields.push_back(field);
  }
  struct Condition {
    std::string field, op, text;
    int64_t time_ms = 0;
  };
  std::vector<Condition> conditions;
  if (m[3].matched) {
    if (std::regex_search(m[3].str(), std::regex(R"(\sOR\s)", std::regex::icase)))
      return rest_error(reply, 400, "MALFORMED_QUERY", "this imitation understands AND only");
    for (const auto& part : split(m[3], and_re)) {
      std::smatch c;
      if (!std::regex_match(part, c, cond_re))
        return rest_error(reply, 400, "MALFORMED_QUERY", "unexpected token: '" + part + "'");
      Condition cond{c[1], c[2], c[3], 0};
      if (!kFields.count(cond.field))
        return rest_error(reply, 400, "INVALID_FIELD",
                          "No such column '" + cond.field + "' on entity 'EventLogFile'.");
      if (cond.field == "CreatedDate" || cond.field == "LogDate") {
        if (!parse_soql_datetime(cond.text, cond.time_ms))
          return rest_error(reply, 400, "MALFORMED_QUERY",
                            "value of filter criterion for field '" + cond.field +
                                "' must be of type dateTime and should not be enclosed in quotes");
      } else {
        if (cond.text.size() < 2 || cond.text.front() != '\'' || cond.text.back() != '\'')
          return rest_error(
              reply, 400, "MALFORMED_QUERY",
              "value of filter criterion for field '" + cond.field + "' must be a quoted string");
        cond.text = cond.text.substr(1, cond.text.size() - 2);
        if (cond.op != "=" && cond.op != "!=")
          return rest_error(reply, 400, "MALFORMED_QUERY",
                            "this imitation compares strings with = and != only");
      }
      conditions.push_back(cond);
    }
  }
  std::vector<std::pair<std::string, bool>> order;  // field, descending
  if (m[4].matched)
    for (const auto& part : split(m[4], comma_re)) {
      std::smatch o;
      if (!std::regex_match(part, o, order_re) || !kFields.count(o[1]))
        return rest_error(reply, 400, "MALFORMED_QUERY", "unexpected token: '" + part + "'");
      order.emplace_back(o[1], o[2].matched && (o[2] == "DESC" || o[2] == "desc"));
    }

  auto value_ms = [](const LogFile& f, const std::string& field) {
    return field == "CreatedDate" ? f.created_ms : f.log_date_ms;
  };
  auto value_text = [](const LogFile& f, const std::string& field) -> std::string {
    if (field == "EventType") return f.event_type;
    if (field == "Interval") return f.interval;
    if (field == "Id") return f.id;
    return "";
  };
  for (size_t i = 0; i < files_.size(); ++i) {
    bool keep = true;
    for (const auto& c : conditions) {
      if (c.field == "CreatedDate" || c.field == "LogDate") {
        const int64_t v = value_ms(files_[i], c.field);
        keep = c.op == "="    ? v == c.time_ms
               : c.op == "!=" ? v != c.time_ms
               : c.op == ">"  ? v > c.time_ms
               : c.op == ">=" ? v >= c.time_ms
               : c.op == "<"  ? v < c.time_ms
                              : v <= c.time_ms;
      } else {
        keep = (value_text(files_[i], c.field) == c.text) == (c.op == "=");
      }
      if (!keep) break;
    }
    if (keep) loc.files.push_back(i);
  }
  std::stable_sort(loc.files.begin(), loc.files.end(), [&](size_t a, size_t b) {
    for (const auto& [field, desc] : order) {
      const LogFile &x = files_[a], &y = files_[b];
      if (field == "CreatedDate" || field == "LogDate") {
        int64_t vx = value_ms(x, field), vy = value_ms(y, field);
        if (vx != vy) return desc ? vx > vy : vx < vy;
      } else {
        std::string vx = value_text(x, field), vy = value_text(y, field);
        if (vx != vy) return desc ? vx > vy : vx < vy;
      }
    }
    return false;
  });
  if (m[5].matched) loc.files.resize(std::min<size_t>(loc.files.size(), std::stoul(m[5])));
  char id[24];
  std::snprintf(id, sizeof id, "01g5g%013lld", static_cast<long long>(next_locator_++));
  locators_[id] = std::move(loc);
  batch(id, 0, reply);
}

void SalesforceImitation::query_more(const std::string& locator, size_t offset, Reply& reply) {
  std::lock_guard lock(state_mu_);
  if (!locators_.count(locator))
    return rest_error(reply, 400, "INVALID_QUERY_LOCATOR", "invalid query locator");
  batch(locator, offset, reply);
}

// Called with state_mu_ held.
void SalesforceImitation::batch(const std::string& locator_id, size_t offset, Reply& reply) {
  const Locator& loc = locators_.at(locator_id);
  const size_t end = std::min(loc.files.size(), offset + batch_size_);
  const bool done = end >= loc.files.size();
  std::string body = R"({"totalSize":)" + std::to_string(loc.files.size()) + R"(,"done":)" +
                     (done ? "true" : "false");
  if (!done)
    body += R"(,"nextRecordsUrl":"/services/data/v)" + loc.version + "/query/" + locator_id + "-" +
            std::to_string(end) + "\"";
  body += R"(,"records":[)";
  for (size_t i = offset; i < end; ++i) {
    if (i > offset) body += ',';
    body += record_json(files_[loc.files[i]], loc.fields, loc.version);
  }
  reply.body = body + "]}";
}

std::string SalesforceImitation::record_json(const LogFile& f,
                                             const std::vector<std::string>& fields,
                                             const std::string& version) const {
  const std::string url = "/services/data/v" + version + "/sobjects/EventLogFile/" + f.id;
  std::string out = R"({"attributes":{"type":"EventLogFile","url":")" + url + "\"}";
  for (const auto& field : fields) {
    out += ",\"" + field + "\":";
    if (field == "Id")
      out += "\"" + f.id + "\"";
    else if (field == "EventType")
      out += "\"" + f.event_type + "\"";
    else if (field == "LogDate")
      out += "\"" + sf_time(f.log_date_ms) + "\"";
    else if (field == "CreatedDate")
      out += "\"" + sf_time(f.created_ms) + "\"";
    else if (field == "LogFile")
      out += "\"" + url + "/LogFile\"";
    else if (field == "LogFileLength")
      out += std::to_string(to_csv(f).size()) + ".0";
    else if (field == "Interval")
      out += "\"" + f.interval + "\"";
    else if (field == "ApiVersion")
      out += version;
    else if (field == "LogFileContentType")
      out += "\"CSV\"";
    else if (field == "Sequence")
      out += "0";
    else
      out += "null";
  }
  return out + "}";
}

void SalesforceImitation::log_file_body(const std::string& id, bool accepts_gzip, Reply& reply) {
  std::lock_guard lock(state_mu_);
  for (const auto& f : files_) {
    if (f.id != id) continue;
    reply.content_type = "text/csv";
    auto raw = raw_bodies_.find(id);
    reply.body = raw != raw_bodies_.end() ? raw->second : to_csv(f, crlf_, bom_);
    if (gzip_ && accepts_gzip) {
      std::ostringstream out;
      Poco::DeflatingOutputStream deflater(out, Poco::DeflatingStreamBuf::STREAM_GZIP);
      deflater << reply.body;
      deflater.close();
      reply.body = out.str();
      reply.headers.emplace_back("Content-Encoding", "gzip");
      ++gzipped_;
    }
    return;
  }
  rest_error(reply, 404, "NOT_FOUND", "The requested resource does not exist");
}

}  // namespace siphon::imitation
