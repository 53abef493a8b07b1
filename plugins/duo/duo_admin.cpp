#include "duo_admin.hpp"

#include <map>
#include <siphon/auth_helpers.hpp>
#include <siphon/json.hpp>
#include <vector>

namespace siphon::duo {
namespace {

constexpr char kPath[] = "/admin/v1/logs/administrator";
constexpr size_t kPageRows = 1000;  // Duo's cap per call

struct Position {
  int64_t mintime = 0;            // seconds; the next call asks from here
  std::vector<std::string> seen;  // hashes of events delivered at second mintime
};

Position parse_cursor(const Cursor& cursor) {
  if (cursor.empty()) return Position{cursor.start_time_ms / 1000, {}};
  auto doc = json::parse(cursor.value);
  if (!doc || !json::find<int64_t>(*doc, "mintime"))
    throw Error("duo_admin cursor is not valid (reset it with siphon state reset)");
  return Position{json::get<int64_t>(*doc, "mintime"), json::strings(*doc, "seen")};
}

std::string to_json(const Position& p) {
  return json::object({{"mintime", p.mintime}, {"seen", p.seen}});
}

// 64 bits of SHA-256 over the event's compact JSON: enough to tell apart the
// events of one second.
std::string event_hash(const std::string& event_json) { return auth::dedupe_hash(event_json); }

}  // namespace

Logs DuoAdmin::gather_logs(const Cursor& cursor) {
  Position p = parse_cursor(cursor);
  rapidjson::Document doc = client_.get(kPath, {{"mintime", std::to_string(p.mintime)}});
  const auto rows = json::get<json::Array>(doc, "response", std::string("Duo GET ") + kPath);

  // A multiset: identical events in one second are each delivered once.
  std::map<std::string, int> already;
  for (const auto& h : p.seen) ++already[h];
  Position next = p;
  Logs logs;
  for (const auto& event : rows) {
    const int64_t ts = json::get<int64_t>(event, "timestamp", std::string("Duo GET ") + kPath);
    const std::string text = ::siphon::to_json(event);
    std::string hash = event_hash(text);
    if (ts == p.mintime && already[hash] > 0) {
      --already[hash];
      ++logs.duplicates_dropped;
      continue;
    }
    logs.add(text);
    logs.event_time(ts * 1000);
    if (ts > next.mintime) next = Position{ts, {}};
    if (ts == next.mintime) next.seen.push_back(std::move(hash));
  }
  logs.more_to_poll = rows.size() >= kPageRows;
  if (logs.more_to_poll && logs.empty()) {
    // More than 1000 events share second mintime: Duo cannot page within a
    // second, so the rest of that second is out of reach.
    ctx().warn("duo_admin: over 1000 events at second " + std::to_string(p.mintime) +
               "; the ones past the first 1000 cannot be fetched");
    next = Position{p.mintime + 1, {}};
  }
  logs.next_cursor = to_json(next);
  return logs;
}

}  // namespace siphon::duo
