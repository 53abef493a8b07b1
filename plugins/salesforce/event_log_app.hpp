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
#ifndef SIPHON_PLUGINS_SALESFORCE_EVENT_LOG_APP_HPP
#define SIPHON_PLUGINS_SALESFORCE_EVENT_LOG_APP_HPP

#include <cstdint>
#include <deque>
#include <optional>
#include <siphon/sdk.hpp>
#include <string>
#include <vector>

#include "salesforce_client.hpp"

namespace siphon::salesforce {

// One EventLogFile record as the listing returns it.
struct LogFileRef {
  std::string id;
  int64_t created_ms = 0;
  std::string log_file;  // relative URL of the CSV body
  int64_t rows_done = 0;
};

struct EventLogCursor {
  int64_t from_ms = 0;
  int64_t mark_ms = 0;
  std::vector<std::pair<std::string, int64_t>> done;
  std::optional<LogFileRef> file;

  static EventLogCursor parse(const std::string& text);
  std::string to_json() const;
  bool is_done(const std::string& id) const;
  // Records `f` as read to its end; moves from/mark and prunes done.
  void finish(const LogFileRef& f, int64_t lookback_ms);
};

// "2024-05-01T09:12:44.000+0000" (Salesforce's datetime) as Unix ms.
int64_t parse_salesforce_time(const std::string& text);

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
