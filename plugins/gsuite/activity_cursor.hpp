// activity_cursor.hpp - where a gsuite_* app stands, as the JSON cursor the
// host stores.
//
// Reports lists activities newest first, so a time window is read from its
// end back to its start; its lower bound may move only once every page of it
// has been read. The cursor therefore holds the window in progress (its
// bounds, page size and page token) beside the end of the last window read
// in full, and two bounded sets of activity keys for the lookback overlap:
//
//   {"lower":1714582900000,                 end of the last window read in full
//    "seen":["k1",...],                     keys delivered at or after lower - lookback
//    "window":{"start":..,"end":..,"max":1000,"page":"<pageToken>","next":["k",...]}}
//
// A key is 11 characters (64 bits of SHA-256 over id.time and
// id.uniqueQualifier), so the sets stay within the host's cursor size.
#ifndef SIPHON_GSUITE_ACTIVITY_CURSOR_HPP
#define SIPHON_GSUITE_ACTIVITY_CURSOR_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace siphon::gsuite {

struct Window {
  int64_t start_ms = 0;  // startTime (inclusive)
  int64_t end_ms = 0;    // endTime
  int64_t max_results = 0;
  std::string page_token;         // "" before the first page
  std::vector<std::string> next;  // keys to remember once this window is done
};

struct ActivityCursor {
  std::optional<int64_t> lower_ms;  // none before the first window is read in full
  std::vector<std::string> seen;
  std::optional<Window> window;

  // Throws siphon::Error saying the cursor is not one of ours.
  static ActivityCursor parse(const std::string& text);
  std::string to_json() const;
};

// The dedupe key of an activity.
std::string activity_key(std::string_view time, std::string_view unique_qualifier);

}  // namespace siphon::gsuite

#endif  // SIPHON_GSUITE_ACTIVITY_CURSOR_HPP
