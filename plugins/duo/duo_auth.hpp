// duo_auth.hpp - app type duo_auth: Duo authentication logs through
// GET /admin/v2/logs/authentication, read in time windows with next_offset
// paging (siphon::WindowCursor). Each window ends delay_seconds before now
// (Duo shows events about 2 minutes late). Both of Duo's bounds are
// inclusive: the next window starts at the end of the last one, and the
// txids of the events at that very millisecond are kept to skip them. The
// cursor keeps the open window, so a restart resumes inside it:
//   {"mintime":<ms>,"seen":[txid..]}                          between windows
//   {"mintime":..,"seen":[..],"maxtime":<ms>,"next_offset":"<ms>,<txid>",
//    "seen_next":[..]}                                        inside a window
// Cursors written before (with "last_txids", mintime = maxtime + 1) are read
// as they are.
#ifndef SIPHON_PLUGINS_DUO_AUTH_HPP
#define SIPHON_PLUGINS_DUO_AUTH_HPP

#include <siphon/json.hpp>
#include <siphon/sdk.hpp>
#include <siphon/window_cursor.hpp>

#include "duo_client.hpp"

namespace siphon::duo {

class DuoAuth : public App {
 public:
  static std::string service() { return "duo"; }
  static std::string type() { return "auth"; }
  static std::string description() { return "Duo authentication logs (Admin API v2)"; }
  static AuthInfo required_auth_info() { return auth_fields(); }
  static Options options() {
    Options o = common_options();
    o.push_back({"delay_seconds",
                 "Duo shows events about 2 minutes late; read up to now minus this", "120"});
    o.push_back({"limit", "Events per page (1..1000)", "1000"});
    return o;
  }

  explicit DuoAuth(Context& ctx)
      : App(ctx),
        client_(ctx),
        delay_ms_(ctx.option_int("delay_seconds", 120, 0, 86400) * 1000),
        limit_(ctx.option_int("limit", 1000, 1, 1000)) {}

  Logs gather_logs(const Cursor& cursor) override {
    WindowCursor w(cursor_format());
    w.load(cursor, cursor.start_time_ms);
    const int64_t now = ctx().now_ms();
    // Duo refuses a mintime older than 180 days; keep a margin for clock skew.
    w.raise_bound(now - 180LL * 24 * 3600 * 1000 + 10 * 60 * 1000);
    if (w.is_open() && w.end() <= w.bound()) w.close(ctx());  // wholly past the 180 days
    Logs logs;
    if (!w.is_open() && !w.open(now - delay_ms_)) return w.done(logs);

    Params params = {{"mintime", std::to_string(w.bound())},
                     {"maxtime", std::to_string(w.end())},
                     {"limit", std::to_string(limit_)},
                     {"sort", "ts:asc"}};
    const std::string offset = w.page("next_offset");
    if (!offset.empty()) params.emplace_back("next_offset", offset);
    rapidjson::Document doc = client_.get(kPath, params);
    w.start_page();
    for (const auto& event : json::get<json::Array>(doc, "response.authlogs", kWhere))
      w.take(logs, event, json::text(event, "txid"),
             json::find_rfc3339(event, "isotimestamp").value_or(w.end()));

    // metadata.next_offset ["1714582795000","txid"] is sent back as "1714582795000,txid".
    std::string next;
    if (auto parts = json::find<json::Array>(doc, "response.metadata.next_offset"))
      for (const auto& part : *parts) {
        if (!part.IsString() && !part.IsInt64())
          throw Error(std::string(kWhere) + ": metadata.next_offset is not understood");
        next += (next.empty() ? "" : ",") + json::text(part, "");
      }
    if (!next.empty() && next != offset)  // the same offset again would loop forever
      w.set_page("next_offset", next);
    else
      w.close(ctx());
    return w.done(logs);
  }
  uint32_t sleep_seconds(uint32_t) override { return client_.poll_pause_seconds(); }

 private:
  static constexpr char kPath[] = "/admin/v2/logs/authentication";
  static constexpr char kWhere[] = "Duo GET /admin/v2/logs/authentication";

  static WindowFormat cursor_format() {
    WindowFormat f;
    f.app_type = "duo_auth";
    f.time = WindowFormat::Time::kMillis;
    f.lower = "mintime";
    f.upper = "maxtime";
    f.lower_ids = f.newest = "";
    f.advance_to_end = true;  // lookback 0: to maxtime, keeping the txids at it
    f.noun = "authentications";
    return f;
  }

  Client client_;
  int64_t delay_ms_;
  int64_t limit_;
};

}  // namespace siphon::duo

#endif  // SIPHON_PLUGINS_DUO_AUTH_HPP
