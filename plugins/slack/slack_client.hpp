// slack_client.hpp - a call to a Slack Web API method, shared by the
// slack_access and slack_integration app types: a POST form with the user
// token as a Bearer header, and Slack's replies turned into exceptions:
// {"ok":false,"error":"ratelimited"} and transient errors become RetryLater,
// refused or insufficient tokens AuthRejected, anything else Error naming the
// method and Slack's error code.
#ifndef SIPHON_PLUGINS_SLACK_CLIENT_HPP
#define SIPHON_PLUGINS_SLACK_CLIENT_HPP

#include <rapidjson/document.h>

#include <cstdint>
#include <siphon/sdk.hpp>
#include <string>
#include <vector>

namespace siphon::slack {

// Auth fields and options every Slack app type declares.
AuthInfo auth_fields();
Options common_options();

// A Slack error reply ({"ok":false,"error":CODE}) that the caller may handle.
class SlackError : public Error {
 public:
  SlackError(const std::string& what, std::string code, siphon_status status)
      : Error(what, status), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

class Client {
 public:
  explicit Client(Context& ctx);

  // POSTs https://slack.com/api/<method> with `form` (plus team_id when set)
  // and returns the reply once its "ok" is true. Throws SlackError for an
  // {"ok":false} reply, RetryLater / Error for HTTP failures.
  rapidjson::Document call(const std::string& method, Params form);

  uint32_t poll_pause_seconds() const { return poll_pause_seconds_; }

 private:
  Context& ctx_;
  std::string team_id_;
  uint32_t poll_pause_seconds_ = 3;
};

// 48 bits of SHA-256 of a row's compact JSON, as 12 hex digits: tells apart
// the rows of one boundary without making the cursor large.
std::string row_hash(const std::string& row_json);

// The part of the cursor every Slack app type keeps: {"since":<Unix s>,
// "known":[hashes...]}, and "scan":{...} while a scan is open.
struct CursorHead {
  int64_t since = 0;
  std::vector<std::string> known;
};

// Parses `cursor` into `doc` and fills `head`; an empty cursor starts at its
// start time. Returns the "scan" object, or nullptr when there is none.
// Throws Error naming `app_type` when the cursor is not an object with an
// integer since.
const rapidjson::Value* read_cursor_head(const Cursor& cursor, const char* app_type,
                                         rapidjson::Document& doc, CursorHead& head);
// A cursor as JSON text: since, known and, when `scan` is not empty, the
// object `scan` (JSON text) as "scan".
std::string write_cursor(const CursorHead& head, const std::string& scan);

}  // namespace siphon::slack

#endif  // SIPHON_PLUGINS_SLACK_CLIENT_HPP
