// siphon/window_cursor.hpp - the cursor of an app that reads its vendor in
// time windows, serialised by the SDK.
//
// Many audit-log APIs are read as "events created between A and B", page by
// page. Doing that without losing or repeating events takes the same state in
// every plugin, which WindowCursor keeps and writes as the app's cursor:
//
//   - the lower bound of the next window, with the ids already delivered at
//     exactly that time (bounds are often inclusive: see EdgeIds);
//   - while a window is open: its upper bound, the position of the next page
//     to read (a next-page URL, a page token, an offset ...: any named string
//     or integer members) and the newest time read so far with its ids. A
//     stop between pages therefore resumes at the page not yet read.
//
// Where the bound moves when a window has been read to its last page:
//   - by default to the newest time read in it, with the ids delivered at
//     that time: nothing is skipped whatever order the vendor returns a
//     window in, and nothing is delivered twice at the edge;
//   - with advance_to_end, to the window's end minus `lookback` (for APIs
//     whose window is complete once its end is `delay` in the past, and that
//     publish some events late: the next window re-reads the lookback). The
//     ids delivered at or after the new bound, and those skipped there as
//     delivered before, are remembered (at most max_ids) and not delivered
//     again.
//
// Typical gather_logs:
//   siphon::WindowCursor w(kFormat);
//   w.load(cursor, cursor.start_time_ms / 1000);
//   siphon::Logs logs;
//   if (!w.is_open() && !w.open(ctx().now_ms() / 1000 - delay_s_)) return w.done(logs);
//   std::string url = w.page("next");                // "" on the window's first page
//   ... GET the page (from w.bound() to w.end()) ...
//   w.start_page();
//   for (const auto& e : events) w.take(logs, e, json::text(e, "id"), json::find_integer(e, "t"));
//   if (next.empty()) w.close(ctx()); else w.set_page("next", next);
//   return w.done(logs);                             // next_cursor and more_to_poll
//
// Format: the member names and the time encoding are the plugin's choice
// (WindowFormat), so that a plugin moving onto this class keeps reading the
// cursors it wrote before. With the defaults a cursor reads
//   {"after":T,"after_ids":[..]}                                  between windows
//   {"after":T,"after_ids":[..],"before":T,"newest":T,"newest_ids":[..],
//    "<page member>":..}                                          inside a window
// and with advance_to_end "seen":[..] (in a window also "seen_next":[..]).
// A member name set to "" is neither written nor read. Unknown members of an
// open window are kept as page members.
//
// A WindowCursor is a plain value: not thread-safe, cheap to copy.
#ifndef SIPHON_WINDOW_CURSOR_HPP
#define SIPHON_WINDOW_CURSOR_HPP

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <optional>
#include <siphon/edge_ids.hpp>
#include <siphon/sdk.hpp>
#include <string>
#include <unordered_set>
#include <variant>
#include <vector>

namespace siphon {

struct WindowFormat {
  // How times are written: Unix seconds or ms as JSON integers, or RFC 3339
  // strings with milliseconds (from ms). Reading accepts integers, strings
  // of digits and RFC 3339 strings alike.
  enum class Time { kSeconds, kMillis, kRfc3339 };
  Time time = Time::kSeconds;
  // The app type, for error texts ("duo_auth cursor is not valid ...").
  std::string app_type;
  // Member names; `lower` and `upper` are required, the others may be "".
  std::string lower = "after", lower_ids = "after_ids", upper = "before", newest = "newest",
              newest_ids = "newest_ids", seen = "seen", seen_next = "seen_next";
  // Ids kept at the bound, at the newest time, and in the lookback (each).
  size_t max_ids = EdgeIds::kDefaultMaxIds;
  // A closed window moves the bound to its end minus `lookback` (in the unit
  // of the times) rather than to the newest time read.
  bool advance_to_end = false;
  int64_t lookback = 0;
  // What the ids are of, for the warning when max_ids is exceeded.
  std::string noun = "events";
};

class WindowCursor {
 public:
  explicit WindowCursor(WindowFormat format);

  // Reads the stored cursor; without one the bound is `start` (in the
  // format's unit: Unix s for kSeconds, ms otherwise). Throws siphon::Error
  // "<app_type> cursor is not valid (reset it with siphon state reset APP)".
  void load(const Cursor& cursor, int64_t start);
  void load(const std::string& text, int64_t start);
  // The cursor as JSON text.
  std::string save() const;

  bool is_open() const { return end_.has_value(); }
  // Opens a window from the bound up to `end` (whether the vendor treats its
  // bounds as inclusive is its own affair). Returns false, opening none, when
  // `end` is not after the bound: there is nothing to read yet.
  bool open(int64_t end);
  // The lower bound: where the open (or next) window's query starts.
  int64_t bound() const { return edge_.bound(); }
  // Moves the bound forward to `t` when it is older (e.g. a vendor's
  // retention); ids remembered for it are kept.
  void raise_bound(int64_t t);
  // The open window's upper bound (0 when none is open).
  int64_t end() const { return end_.value_or(0); }

  // Position of the next page inside the open window ("" / 0 when unset).
  std::string page(const std::string& key) const;
  int64_t page_int(const std::string& key) const;
  void set_page(const std::string& key, std::string value);
  void set_page(const std::string& key, int64_t value);
  void clear_page() { page_.clear(); }

  // Starts a page (ids are deduplicated within a page and against the bound
  // and the lookback).
  void start_page() { edge_.start_page(); }
  // True when the record with `id` is to be delivered (see EdgeIds::fresh;
  // also false for an id delivered in the lookback).
  bool fresh(const std::string& id);
  // Notes a delivered record's time and id.
  void note(int64_t time, const std::string& id);
  // fresh() + Logs::add + note() + Logs::event_time, counting a duplicate in
  // logs.duplicates_dropped (with advance_to_end, a duplicate in the next
  // lookback stays remembered). Returns whether the record was added. Throws
  // siphon::Error when the record is not a JSON object.
  bool take(Logs& logs, const rapidjson::Value& record, const std::string& id,
            std::optional<int64_t> time);
  // The same for a record given as its JSON object's text (RawPage::record).
  bool take(Logs& logs, std::string_view record, const std::string& id,
            std::optional<int64_t> time);

  // The window was read to its end: the bound moves (see above), the page
  // position is forgotten and the window closed. Warns through ctx when ids
  // had to be dropped.
  void close(Context& ctx);
  // Forgets the open window's pages and what they noted, to read it again
  // from its start (e.g. a page token the vendor no longer accepts).
  void restart();

  // Sets logs.next_cursor to save() and logs.more_to_poll to is_open();
  // returns logs.
  Logs& done(Logs& logs) const;

  const EdgeIds& edge() const { return edge_; }

 private:
  template <class Add>
  bool take_with(Logs& logs, const std::string& id, std::optional<int64_t> time, const Add& add);
  int64_t to_ms(int64_t t) const;
  // With advance_to_end: keeps `id` for the next window when `time` is in
  // its lookback.
  void remember(int64_t time, const std::string& id);
  std::optional<int64_t> read_time(const rapidjson::Value& doc, const std::string& key) const;

  WindowFormat format_;
  EdgeIds edge_;
  std::optional<int64_t> end_;
  std::map<std::string, std::variant<std::string, int64_t>> page_;
  std::vector<std::string> seen_, seen_next_;
  std::unordered_set<std::string> seen_set_, seen_next_set_;
  bool seen_overflow_ = false;
};

}  // namespace siphon

#endif  // SIPHON_WINDOW_CURSOR_HPP
