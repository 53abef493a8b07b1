// siphon/edge_ids.hpp - the lower bound of a time-windowed poll and the ids
// already delivered at that exact time.
//
// Many APIs filter by "created after T" with T inclusive (or of coarse
// precision), so a poll that restarts at the newest time it delivered sees
// the records of that time again. EdgeIds keeps that time (the bound) with
// the ids delivered at it, and while a window is read, the newest time seen
// so far with its ids. When the window has been read to its end,
// close_window() moves the bound to that newest time. Records that carry an
// id delivered at the bound, or one already seen on the same page, are not
// fresh and are to be skipped.
//
// Times are any monotonic integer unit the plugin chooses (seconds or
// milliseconds); the class never converts them. The lists of ids are bounded
// by max_ids, so a cursor that holds them stays small; close_window() says
// when ids had to be dropped (more records than max_ids share one time), for
// the plugin to warn in its own words.
//
// Typical use in gather_logs:
//   siphon::EdgeIds edge(bound_from_cursor, EdgeIds::read_ids(doc, "after_ids"));
//   edge.start_page();
//   for (const auto& record : page["data"].GetArray()) {
//     const std::string id = siphon::EdgeIds::id_of(record);
//     if (!edge.fresh(id)) continue;
//     logs.add(record);
//     if (auto t = time_of(record)) edge.note(*t, id);
//   }
//   if (last_page && edge.close_window()) ctx().warn("...");
//
// An EdgeIds is a plain value: not thread-safe, cheap to copy.
#ifndef SIPHON_EDGE_IDS_HPP
#define SIPHON_EDGE_IDS_HPP

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace siphon {

class EdgeIds {
 public:
  static constexpr size_t kDefaultMaxIds = 1000;

  // `bound`: the lower bound of the next window; `bound_ids`: the ids
  // already delivered at exactly that time (from the cursor). `max_ids` (at
  // least 1) bounds both lists of ids.
  explicit EdgeIds(int64_t bound = 0, std::vector<std::string> bound_ids = {},
                   size_t max_ids = kDefaultMaxIds);

  int64_t bound() const { return bound_; }
  const std::vector<std::string>& bound_ids() const { return bound_ids_; }
  // The newest time noted in the open window, and the ids noted at it.
  const std::optional<int64_t>& newest() const { return newest_; }
  const std::vector<std::string>& newest_ids() const { return newest_ids_; }

  // Restores what an open window had noted before a stop between pages.
  void restore_newest(int64_t newest, std::vector<std::string> ids);

  // Starts a page: forgets the ids of the previous page (the ids at the
  // bound are always remembered).
  void start_page();
  // True when a record with this id is to be delivered: its id was neither
  // delivered at the bound nor seen earlier on this page. A record without
  // an id ("") is always fresh. Remembers the id for the rest of the page.
  bool fresh(const std::string& id);
  // Notes a delivered record's time and id: the newest time of the window
  // and the ids delivered at it (at most max_ids; "" is not kept).
  void note(int64_t time, const std::string& id);

  // The window was read to its end: the bound moves to the newest time
  // noted (when later than the bound), with its ids; at the same time as the
  // bound, its ids join those of the bound. Forgets what the window noted.
  // Returns true when ids at the bound were dropped to stay within max_ids
  // (the oldest go first).
  bool close_window();
  // Forgets what the open window noted (the window is read again from its
  // start); the bound and its ids stay.
  void reset_window();

  // A record's id as text: a string as it is, a number in its JSON form; ""
  // when the member is absent or of another type.
  static std::string id_of(const rapidjson::Value& record, const char* key = "id");
  // The strings of the array `key` of a JSON object (other members and
  // non-string items are passed over); empty when there is none.
  static std::vector<std::string> read_ids(const rapidjson::Value& object, const char* key);
  // Writes `"key":[ids...]` into an object being written.
  static void write_ids(rapidjson::Writer<rapidjson::StringBuffer>& writer, const char* key,
                        const std::vector<std::string>& ids);

 private:
  size_t max_ids_;
  int64_t bound_;
  std::vector<std::string> bound_ids_;
  std::optional<int64_t> newest_;
  std::vector<std::string> newest_ids_;
  std::unordered_set<std::string> seen_;  // bound_ids_ and the ids of this page
};

}  // namespace siphon

#endif  // SIPHON_EDGE_IDS_HPP
