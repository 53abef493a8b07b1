#include "duo_auth.hpp"

#include <algorithm>
#include <optional>
#include <siphon/json.hpp>
#include <unordered_set>
#include <vector>

namespace siphon::duo {
namespace {

constexpr char kPath[] = "/admin/v2/logs/authentication";
// Duo refuses a mintime older than 180 days; keep a margin for clock skew.
constexpr int64_t kMaxAgeMs = 180LL * 24 * 3600 * 1000;
constexpr int64_t kAgeMarginMs = 10LL * 60 * 1000;
constexpr size_t kMaxTxids = 1000;

// The cursor: the window being read (maxtime set while it is open), the
// position inside it, and the txids of the last page for deduplication.
struct Window {
  int64_t mintime = 0;
  std::optional<int64_t> maxtime;
  std::string next_offset;  // "ms,txid", or "" at the window's start
  std::vector<std::string> last_txids;
};

Window parse_cursor(const Cursor& cursor) {
  if (cursor.empty()) return Window{cursor.start_time_ms, {}, {}, {}};
  auto doc = json::parse(cursor.value);
  if (!doc || !json::find<int64_t>(*doc, "mintime"))
    throw Error("duo_auth cursor is not valid (reset it with siphon state reset)");
  return Window{json::get<int64_t>(*doc, "mintime"), json::find<int64_t>(*doc, "maxtime"),
                json::find<std::string>(*doc, "next_offset").value_or(""),
                json::strings(*doc, "last_txids")};
}

std::string to_json(const Window& w) {
  std::vector<json::Member> members{{"mintime", w.mintime}};
  if (w.maxtime) members.push_back({"maxtime", *w.maxtime});
  if (!w.next_offset.empty()) members.push_back({"next_offset", w.next_offset});
  members.push_back({"last_txids", w.last_txids});
  return json::object(members);
}

// metadata.next_offset ["1714582795000","txid"] as "1714582795000,txid"; "" if null/missing.
std::string next_offset_of(const rapidjson::Value& response) {
  std::string joined;
  auto parts = json::find<json::Array>(response, "metadata.next_offset");
  if (!parts) return joined;
  for (const auto& part : *parts) {
    if (!part.IsString() && !part.IsInt64())
      throw Error(std::string("Duo GET ") + kPath + ": metadata.next_offset is not understood");
    joined += (joined.empty() ? "" : ",") + json::text(part, "");
  }
  return joined;
}

}  // namespace

Options DuoAuth::options() {
  Options o = common_options();
  o.push_back(
      {"delay_seconds", "Duo shows events about 2 minutes late; read up to now minus this", "120"});
  o.push_back({"limit", "Events per page (1..1000)", "1000"});
  return o;
}

DuoAuth::DuoAuth(Context& ctx) : App(ctx), client_(ctx) {
  const int64_t delay_seconds = ctx.option_int("delay_seconds", 120);
  if (delay_seconds < 0 || delay_seconds > 86400)
    throw Error("option delay_seconds must be 0..86400");
  delay_ms_ = delay_seconds * 1000;
  limit_ = ctx.option_int("limit", 1000);
  if (limit_ < 1 || limit_ > 1000) throw Error("option limit must be 1..1000");
}

Logs DuoAuth::gather_logs(const Cursor& cursor) {
  Window w = parse_cursor(cursor);
  const int64_t now = ctx().now_ms();
  w.mintime = std::max(w.mintime, now - kMaxAgeMs + kAgeMarginMs);
  if (w.maxtime && *w.maxtime <= w.mintime) w = Window{w.mintime, {}, {}, {}};
  Logs logs;
  if (!w.maxtime) {  // open a new window, up to what Duo already shows
    w.next_offset.clear();
    if (w.mintime >= now - delay_ms_) {
      logs.next_cursor = to_json(w);
      return logs;
    }
    w.maxtime = now - delay_ms_;
  }

  Params params = {{"mintime", std::to_string(w.mintime)},
                   {"maxtime", std::to_string(*w.maxtime)},
                   {"limit", std::to_string(limit_)},
                   {"sort", "ts:asc"}};
  if (!w.next_offset.empty()) params.emplace_back("next_offset", w.next_offset);
  rapidjson::Document doc = client_.get(kPath, params);
  const auto events =
      json::get<json::Array>(doc, "response.authlogs", std::string("Duo GET ") + kPath);

  const std::unordered_set<std::string> delivered(w.last_txids.begin(), w.last_txids.end());
  std::vector<std::string> txids;
  for (const auto& event : events) {
    if (!event.IsObject())
      throw Error(std::string("Duo GET ") + kPath + ": an event is not an object");
    std::string txid = json::find<std::string>(event, "txid").value_or("");
    if (!txid.empty() && delivered.count(txid)) {  // already on the previous page
      ++logs.duplicates_dropped;
      continue;
    }
    logs.add(event);
    logs.event_time(json::find<int64_t>(event, "timestamp").value_or(0) * 1000);
    if (!txid.empty() && txids.size() < kMaxTxids) txids.push_back(std::move(txid));
  }
  if (!txids.empty()) w.last_txids = std::move(txids);

  const std::string next = next_offset_of(doc["response"]);
  if (!next.empty() && next != w.next_offset) {  // the same offset again would loop forever
    w.next_offset = next;
    logs.more_to_poll = true;
  } else {  // window done: the next one starts right after it
    w.mintime = *w.maxtime + 1;
    w.maxtime.reset();
    w.next_offset.clear();
  }
  logs.next_cursor = to_json(w);
  return logs;
}

}  // namespace siphon::duo
