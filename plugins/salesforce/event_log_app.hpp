// event_log_app.hpp - the salesforce_* app types: Event Monitoring log files
// (EventLogFile) of one EventType, listed by a SOQL query on CreatedDate and
// downloaded as CSV; each CSV row becomes one event keyed by the header row.
//
// Cursor (JSON, bounded):
//   {"from":<ms>,"mark":<ms>,"done":[["<Id>",<CreatedDate ms>],...],
//    "file":{"id":"<Id>","created":<ms>,"log_file":"<path>","rows":<n>}}
//   from  lower bound of the next listing (CreatedDate >= from)
//   mark  newest CreatedDate of a file read to its end
//   done  Ids of the files read to their end whose CreatedDate >= from; the
//         listing skips them, so a file that shows up late with an older or
//         equal CreatedDate is still read (from trails mark by lookback_seconds)
//   file  the file being delivered and how many of its rows are delivered,
//         so a stop in the middle of a large file resumes at the next row
// A poll delivers at most rows_per_poll rows, from one or more files.
//
// Client: an OAuth session with the org and the REST calls made with it.
//
// Two OAuth flows reach the token endpoint <login_url>/services/oauth2/token:
//   - username-password: grant_type=password with the connected app's
//     client_id/client_secret and the user's username and password with the
//     security token appended (the token may be left out for trusted IPs);
//   - client credentials: grant_type=client_credentials with client_id and
//     client_secret only; the org runs it as the connected app's "run as"
//     user. Orgs created since Summer '23 block the password flow by default,
//     and this flow must be sent to the org's My Domain (option login_url).
// The option auth_flow picks one; "auto" uses the password flow when a
// username is configured and client credentials otherwise.
//
// Salesforce sends no expires_in: the session is kept until a call answers
// 401 INVALID_SESSION_ID, then renewed once; a second 401 is AuthRejected.
// Every URL, the token endpoint and the instance_url the org returns alike,
// goes through Context::vendor_url (options.base_url).
#ifndef SIPHON_PLUGINS_SALESFORCE_EVENT_LOG_APP_HPP
#define SIPHON_PLUGINS_SALESFORCE_EVENT_LOG_APP_HPP

#include <cstdint>
#include <deque>
#include <optional>
#include <siphon/json_fields.hpp>
#include <siphon/sdk.hpp>
#include <siphon/time_format.hpp>
#include <siphon/token_cache.hpp>
#include <string>
#include <vector>

namespace siphon::salesforce {

AuthInfo auth_fields();
Options common_options();

class Client {
 public:
  // Reads and checks the auth values and options; no network.
  explicit Client(Context& ctx);

  // "/services/data/vNN.N", asking the org for its newest version when the
  // option api_version is "latest".
  std::string data_path();

  // GET <instance><path_and_query> with the session (renewed once on 401).
  // `url_out`, when given, receives the absolute URL the answer came from.
  // Throws on any non-2xx answer, mapped as Salesforce's errors ask.
  // With `not_found_ok`, a 404 is returned instead of thrown.
  Response get(const std::string& path_and_query, const std::string& what,
               std::string* url_out = nullptr, bool not_found_ok = false);

  // The instance's scheme://host[:port] after options.base_url (opens a
  // session first if needed).
  std::string api_base();

 private:
  // A new session from the token endpoint; sets api_base_.
  Token open_session();

  Context& ctx_;
  bool password_flow_ = true;
  std::string login_url_;
  std::string api_version_;
  std::string api_base_;
  std::string data_path_;
  TokenCache session_{[this] { return open_session(); }};
};

// One EventLogFile record as the listing returns it.
struct LogFileRef {
  std::string id;
  int64_t created_ms = 0;
  std::string log_file;  // relative URL of the CSV body
  int64_t rows_done = 0;
  template <class F>
  void fields(F& f) {
    f("id", id)("created", created_ms)("log_file", log_file)("rows", rows_done);
  }
};

struct EventLogCursor {
  int64_t from_ms = 0;
  int64_t mark_ms = 0;
  std::vector<std::pair<std::string, int64_t>> done;
  std::optional<LogFileRef> file;
  template <class F>
  void fields(F& f) {
    f("from", from_ms)("mark", mark_ms, json::kOptional);
    f("done", done, json::kOptional)("file", file);
  }

  static EventLogCursor parse(const std::string& text);
  std::string to_json() const;
  bool is_done(const std::string& id) const;
  // Records `f` as read to its end; moves from/mark and prunes done.
  void finish(const LogFileRef& f, int64_t lookback_ms);
};

// "2024-05-01T09:12:44.000+0000" (Salesforce's datetime) as Unix ms.
inline int64_t parse_salesforce_time(const std::string& text) {
  return timefmt::parse_rfc3339(text);  // it reads offsets with or without a colon
}

class EventLogApp : public App {
 public:
  static std::string service() { return "salesforce"; }
  static uint32_t default_interval_seconds() { return 3600; }
  static AuthInfo required_auth_info() { return auth_fields(); }
  static Options options();

  EventLogApp(Context& ctx, std::string event_type);
  Logs gather_logs(const Cursor& cursor) override;

 private:
  // The next file after the cursor that is not done, or nothing.
  std::optional<LogFileRef> next_file(const EventLogCursor& c);
  // Lists the first page of files from `from_ms`, or the next page.
  void list(int64_t from_ms, bool next_page);
  // The rows of `f` (downloaded once, kept while it is being delivered).
  const std::vector<std::string>& rows_of(const LogFileRef& f);

  Client client_;
  std::string event_type_;
  std::string log_interval_;
  int64_t rows_per_poll_ = 5000;
  int64_t lookback_ms_ = 0;

  // The listing of the current run: records not taken yet, and the next page.
  bool listed_ = false;
  std::deque<LogFileRef> pending_;
  std::string next_records_url_;  // absolute, "" when the listing is complete
  // The CSV rows of the file being delivered.
  std::string rows_id_;
  std::vector<std::string> rows_;
};

}  // namespace siphon::salesforce

#endif  // SIPHON_PLUGINS_SALESFORCE_EVENT_LOG_APP_HPP
