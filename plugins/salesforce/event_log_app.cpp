#include "event_log_app.hpp"

#include <algorithm>
#include <cstdlib>
#include <siphon/error_response.hpp>
#include <siphon/json.hpp>
#include <siphon/time_format.hpp>

#include "log_file_csv.hpp"

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

constexpr size_t kMaxDone = 1000;      // keeps the cursor far below its 64 KiB limit
constexpr int kMaxFilesPerPoll = 100;  // header-only files cost a request each
constexpr int64_t kMaxRowsPerPoll = 100000;

// A row's TIMESTAMP_DERIVED (RFC 3339) in ms, for the host's lag; 0 when
// the row has none.
int64_t row_time_ms(const std::string& row) {
  auto doc = json::parse(row);
  return doc ? json::find_rfc3339(*doc, "TIMESTAMP_DERIVED").value_or(0) : 0;
}

[[noreturn]] void bad_cursor(const std::string& why) {
  throw Error("cursor: " + why + " (not a salesforce cursor; reset the app with state reset)");
}

}  // namespace

EventLogCursor EventLogCursor::parse(const std::string& text) {
  EventLogCursor c;
  try {
    c = json::read_fields<EventLogCursor>(text);
  } catch (const Error& e) {
    bad_cursor(e.what());
  }
  if (c.file && (c.file->id.empty() || c.file->log_file.empty() || c.file->rows_done < 0))
    bad_cursor("file is not {id, created, log_file, rows}");
  return c;
}

std::string EventLogCursor::to_json() const { return json::write_fields(*this); }

bool EventLogCursor::is_done(const std::string& id) const {
  return std::any_of(done.begin(), done.end(), [&](const auto& d) { return d.first == id; });
}

void EventLogCursor::finish(const LogFileRef& f, int64_t lookback_ms) {
  mark_ms = std::max(mark_ms, f.created_ms);
  if (!is_done(f.id)) done.emplace_back(f.id, f.created_ms);
  from_ms = std::max(from_ms, mark_ms - lookback_ms);
  auto older = [&](const auto& d) { return d.second < from_ms; };
  done.erase(std::remove_if(done.begin(), done.end(), older), done.end());
  while (done.size() > kMaxDone) {  // forget the oldest CreatedDate and stop listing it
    int64_t oldest = done.front().second;
    for (const auto& d : done) oldest = std::min(oldest, d.second);
    from_ms = std::max(from_ms, oldest + 1);
    done.erase(std::remove_if(done.begin(), done.end(), older), done.end());
  }
}

Options EventLogApp::options() {
  Options o = common_options();
  o.push_back({"log_interval", "Which EventLogFile files to read: Daily or Hourly", "Daily"});
  o.push_back({"rows_per_poll",
               "CSV rows delivered per poll (1..100000); a large file spans several polls",
               "5000"});
  o.push_back({"lookback_seconds",
               "Files whose CreatedDate is up to this much older than the newest file read are "
               "still listed (and skipped by Id when already read), so late files are not missed",
               "86400"});
  return o;
}

EventLogApp::EventLogApp(Context& ctx, std::string event_type)
    : App(ctx), client_(ctx), event_type_(std::move(event_type)) {
  log_interval_ = ctx.option("log_interval", "Daily");
  if (log_interval_ != "Daily" && log_interval_ != "Hourly")
    throw Error("option log_interval: must be Daily or Hourly");
  rows_per_poll_ = ctx.option_int("rows_per_poll", 5000, 1, kMaxRowsPerPoll);
  lookback_ms_ = ctx.option_int("lookback_seconds", 86400, 0, 30LL * 86400) * 1000;  // 30 days
}

Logs EventLogApp::gather_logs(const Cursor& cursor) {
  if (cursor.poll_index == 0) listed_ = false;  // every run lists afresh: late files show up
  EventLogCursor c;
  if (cursor.empty())
    c.from_ms = c.mark_ms = cursor.start_time_ms;
  else
    c = EventLogCursor::parse(cursor.value);
  try {
    Logs logs;
    int64_t budget = rows_per_poll_;
    int files_done = 0;
    bool progressed = false;
    for (;;) {
      const std::vector<std::string>* rows = nullptr;
      try {
        if (!c.file) {
          c.file = next_file(c);
          if (!c.file) break;
        }
        rows = &rows_of(*c.file);
      } catch (const Error&) {
        // Deliver what this poll already holds; the next poll meets the error again.
        if (!progressed) throw;
        logs.more_to_poll = true;
        break;
      }
      const int64_t total = static_cast<int64_t>(rows->size());
      if (c.file->rows_done > total)
        ctx().warn("log file " + c.file->id + " has " + std::to_string(total) +
                   " rows, fewer than the " + std::to_string(c.file->rows_done) +
                   " already delivered");
      const int64_t start = std::min(c.file->rows_done, total);
      const int64_t n = std::min(total - start, budget);
      for (int64_t i = start; i < start + n; ++i) {
        logs.add((*rows)[static_cast<size_t>(i)]);
        logs.event_time(row_time_ms((*rows)[static_cast<size_t>(i)]));
      }
      c.file->rows_done = start + n;
      budget -= n;
      progressed = true;
      if (c.file->rows_done >= total) {
        c.finish(*c.file, lookback_ms_);
        c.file.reset();
        rows_id_.clear();
        rows_.clear();
        ++files_done;
      }
      if (budget <= 0 || files_done >= kMaxFilesPerPoll) {
        logs.more_to_poll = c.file || !listed_ || !pending_.empty() || !next_records_url_.empty();
        break;
      }
    }
    logs.next_cursor = c.to_json();
    return logs;
  } catch (...) {
    listed_ = false;
    throw;
  }
}

std::optional<LogFileRef> EventLogApp::next_file(const EventLogCursor& c) {
  if (!listed_) list(c.from_ms, false);
  for (;;) {
    while (!pending_.empty()) {
      LogFileRef f = std::move(pending_.front());
      pending_.pop_front();
      if (f.created_ms < c.from_ms || c.is_done(f.id)) continue;
      return f;
    }
    if (next_records_url_.empty()) return std::nullopt;
    try {
      list(c.from_ms, true);
    } catch (const Error& e) {
      // Query locators expire after a while: list again from the cursor.
      if (std::string(e.what()).find("INVALID_QUERY_LOCATOR") == std::string::npos) throw;
      ctx().debug("query locator expired; listing again");
      list(c.from_ms, false);
    }
  }
}

void EventLogApp::list(int64_t from_ms, bool next_page) {
  std::string path, what;
  if (next_page) {
    const std::string base = client_.api_base();
    if (next_records_url_.rfind(base + "/", 0) == 0) path = next_records_url_.substr(base.size());
    if (path.empty()) throw Error("query: nextRecordsUrl does not lead to the instance");
    what = "GET " + path.substr(0, path.find('?'));
  } else {
    pending_.clear();
    next_records_url_.clear();
    // SOQL datetimes are whole seconds; rounding down lists a little more, and
    // gather_logs drops what lies before from_ms.
    const int64_t floor_ms = from_ms - ((from_ms % 1000) + 1000) % 1000;
    const std::string soql =
        "SELECT Id, EventType, LogDate, LogFile, LogFileLength, Interval, CreatedDate "
        "FROM EventLogFile WHERE EventType = '" +
        event_type_ + "' AND Interval = '" + log_interval_ +
        "' AND CreatedDate >= " + timefmt::rfc3339(floor_ms) + " ORDER BY CreatedDate ASC, Id ASC";
    path = client_.data_path() + "/query";
    what = "GET " + path;
    path += "?" + encode_params({{"q", soql}});
  }
  std::string url;
  rapidjson::Document page = client_.get(path, what, &url).json(what);
  next_records_url_.clear();  // only once the page is in hand: a failure retries it
  for (const auto& r : json::get<json::Array>(page, "records", "query")) {
    if (!r.IsObject()) throw Error("query: a record is not an object");
    LogFileRef f{json::text(r, "Id"), 0, json::text(r, "LogFile"), 0};
    const std::string created = json::text(r, "CreatedDate");
    if (f.id.empty() || f.log_file.empty() || created.empty())
      throw Error("query: a record lacks Id, LogFile or CreatedDate");
    try {
      f.created_ms = parse_salesforce_time(created);
    } catch (const std::exception& e) {
      throw Error("query: record " + f.id + ": CreatedDate: " + e.what());
    }
    pending_.push_back(std::move(f));
  }
  if (!json::find<bool>(page, "done").value_or(true)) {
    const std::string next = json::text(page, "nextRecordsUrl");
    if (next.empty()) throw Error("query: done is false but there is no nextRecordsUrl");
    next_records_url_ = next_page_url(next, url);
  }
  listed_ = true;
}

const std::vector<std::string>& EventLogApp::rows_of(const LogFileRef& f) {
  if (rows_id_ == f.id) return rows_;
  rows_id_.clear();
  rows_.clear();
  const std::string base = client_.api_base();
  const std::string url = next_page_url(f.log_file, base + "/");
  const std::string what = "GET LogFile of " + f.id;
  Response resp = client_.get(url.substr(base.size()), what, nullptr, true);
  if (resp.status == 404) {
    ctx().error(what + ": " + describe_error(resp) + "; the file is gone (retention?), skipped");
  } else {
    CsvRows parsed = csv_to_json_rows(resp.body, "LogFile of " + f.id);
    if (parsed.short_rows || parsed.long_rows)
      ctx().warn("LogFile of " + f.id + ": " + std::to_string(parsed.short_rows) +
                 " rows with fewer and " + std::to_string(parsed.long_rows) +
                 " with more fields than the header");
    rows_ = std::move(parsed.json);
  }
  rows_id_ = f.id;
  return rows_;
}

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
