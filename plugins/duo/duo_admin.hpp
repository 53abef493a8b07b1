// duo_admin.hpp - app type duo_admin: Duo administrator logs through
// GET /admin/v1/logs/administrator?mintime=<seconds>, at most 1000 rows a call.
// The cursor {"mintime":<s>,"seen":[hash..]} keeps the last second read and
// hashes of the events already delivered at that second, so asking again from
// that second (rather than second + 1, as StreamAlert did) neither loses nor
// repeats events.
#ifndef SIPHON_PLUGINS_DUO_ADMIN_HPP
#define SIPHON_PLUGINS_DUO_ADMIN_HPP

#include <map>
#include <siphon/auth_helpers.hpp>
#include <siphon/json.hpp>
#include <siphon/sdk.hpp>
#include <vector>

#include "duo_client.hpp"

namespace siphon::duo {

class DuoAdmin : public App {
 public:
  static std::string service() { return "duo"; }
  static std::string type() { return "admin"; }
  static std::string description() { return "Duo administrator logs (Admin API v1)"; }
  static AuthInfo required_auth_info() { return auth_fields(); }
  static Options options() { return common_options(); }

  explicit DuoAdmin(Context& ctx) : App(ctx), client_(ctx) {}

  Logs gather_logs(const Cursor& cursor) override {
    int64_t mintime = cursor.start_time_ms / 1000;  // the next call asks from this second
    std::vector<std::string> seen;                  // hashes of events delivered at mintime
    if (!cursor.empty()) {
      auto doc = json::parse(cursor.value);
      if (!doc || !json::find<int64_t>(*doc, "mintime"))
        throw Error("duo_admin cursor is not valid (reset it with siphon state reset)");
      mintime = json::get<int64_t>(*doc, "mintime");
      seen = json::strings(*doc, "seen");
    }
    rapidjson::Document doc = client_.get(kPath, {{"mintime", std::to_string(mintime)}});
    const auto rows = json::get<json::Array>(doc, "response", kWhere);

    // A multiset: identical events in one second are each delivered once.
    std::map<std::string, int> already;
    for (const auto& h : seen) ++already[h];
    int64_t next = mintime;
    std::vector<std::string> next_seen = seen;
    Logs logs;
    for (const auto& event : rows) {
      const int64_t ts = json::get<int64_t>(event, "timestamp", kWhere);
      const std::string text = to_json(event);
      // 64 bits of SHA-256: enough to tell apart the events of one second.
      std::string hash = auth::dedupe_hash(text);
      if (ts == mintime && already[hash] > 0) {
        --already[hash];
        ++logs.duplicates_dropped;
        continue;
      }
      logs.add(text);
      logs.event_time(ts * 1000);
      if (ts > next) {
        next = ts;
        next_seen.clear();
      }
      if (ts == next) next_seen.push_back(std::move(hash));
    }
    logs.more_to_poll = rows.size() >= kPageRows;
    if (logs.more_to_poll && logs.empty()) {
      // More than 1000 events share second mintime: Duo cannot page within a
      // second, so the rest of that second is out of reach.
      ctx().warn("duo_admin: over 1000 events at second " + std::to_string(mintime) +
                 "; the ones past the first 1000 cannot be fetched");
      next = mintime + 1;
      next_seen.clear();
    }
    logs.next_cursor = json::object({{"mintime", next}, {"seen", next_seen}});
    return logs;
  }
  uint32_t sleep_seconds(uint32_t) override { return client_.poll_pause_seconds(); }

 private:
  static constexpr char kPath[] = "/admin/v1/logs/administrator";
  static constexpr char kWhere[] = "Duo GET /admin/v1/logs/administrator";
  static constexpr size_t kPageRows = 1000;  // Duo's cap per call

  Client client_;
};

}  // namespace siphon::duo

#endif  // SIPHON_PLUGINS_DUO_ADMIN_HPP
