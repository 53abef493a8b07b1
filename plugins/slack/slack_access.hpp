// slack_access.hpp - app type slack_access: team.accessLogs.
//
// Slack keeps one row per (user, IP, user agent) and raises its date_last and
// count in place when that combination is seen again; rows are sorted by
// date_first, newest first, and the method has no "since" filter. So every run
// scans all pages and delivers the rows whose date_last is at or after the
// checkpoint. The checkpoint moves to the scan's start time (minus
// lookback_seconds) only when the scan is complete, and the cursor carries the
// scan in flight (paging position and the hashes of rows already delivered),
// so a run stopped between pages resumes where it was. A row is recognised by
// a hash of its whole JSON: the same row with a newer date_last is new
// activity and is delivered again; the same row unchanged is not.
//
// Cursor: {"since":<s>,"known":[hashes of rows at or after since delivered by
// the previous scan]}, and while a scan is open "scan":{"started":<s>,
// "next":"<paging cursor>" or "page":N,"before":<s>, "restarts":N,
// "seen":["<date_last>:<hash>",..] (rows at or after since met so far)}.
#ifndef SIPHON_PLUGINS_SLACK_ACCESS_HPP
#define SIPHON_PLUGINS_SLACK_ACCESS_HPP

#include <algorithm>
#include <siphon/json.hpp>
#include <siphon/sdk.hpp>
#include <unordered_set>
#include <vector>

#include "slack_client.hpp"

namespace siphon::slack {

class SlackAccess : public App {
 public:
  static std::string service() { return "slack"; }
  static std::string type() { return "access"; }
  static std::string description() { return "Slack team access logs (team.accessLogs)"; }
  static uint32_t default_interval_seconds() { return 600; }
  static AuthInfo required_auth_info() { return auth_fields(); }
  static Options options() {
    Options o = common_options();
    o.push_back({"paging", "cursor (response_metadata.next_cursor) or page (page, count, before)",
                 "cursor"});
    o.push_back({"page_size", "rows per call, 1..1000", "1000"});
    o.push_back({"lookback_seconds",
                 "rows whose date_last is this close before a scan's start are looked at again by "
                 "the next scan (late rows); unchanged ones are not delivered twice",
                 "60"});
    return o;
  }

  explicit SlackAccess(Context& ctx)
      : App(ctx),
        client_(ctx),
        page_size_(ctx.option_int("page_size", 1000, 1, 1000)),
        lookback_seconds_(ctx.option_int("lookback_seconds", 60, 0, 86400)) {
    const std::string paging = ctx.option("paging", "cursor");
    if (paging != "cursor" && paging != "page")
      throw Error("option paging: must be cursor or page");
    cursor_paging_ = paging == "cursor";
  }

  Logs gather_logs(const Cursor& cursor) override {
    State s = parse_cursor(cursor);
    if (!s.scanning) {  // a new scan from the newest row
      s.scanning = true;
      s.started = ctx().now_ms() / 1000;
    }

    Params form;
    if (cursor_paging_) {
      form.emplace_back("limit", std::to_string(page_size_));
      if (!s.next.empty()) form.emplace_back("cursor", s.next);
    } else {
      form.emplace_back("count", std::to_string(page_size_));
      form.emplace_back("page", std::to_string(s.page));
      if (s.before > 0) form.emplace_back("before", std::to_string(s.before));
    }
    Logs logs;
    rapidjson::Document doc;
    try {
      doc = client_.call(kMethod, form);
    } catch (const SlackError& e) {
      if (e.code() != "invalid_cursor" || s.next.empty()) throw;
      if (s.restarts >= kMaxRestarts)
        throw Error(std::string(e.what()) + " (the scan already began again " +
                    std::to_string(s.restarts) + " times)");
      // A paging cursor Slack no longer accepts: scan again from the newest row;
      // the rows already delivered are recognised by their hashes.
      ctx().warn(std::string(kWhere) + ": paging cursor refused; scanning again");
      s.next.clear();
      ++s.restarts;
      logs.next_cursor = to_json(s);
      logs.more_to_poll = true;
      return logs;
    }
    const auto rows = json::get<json::Array>(doc, "logins", kWhere);

    const std::unordered_set<std::string> known(s.known.begin(), s.known.end());
    std::unordered_set<std::string> seen;
    for (const auto& r : s.seen) seen.insert(r.hash);
    int64_t last_date_first = -1;
    for (const auto& row : rows) {
      if (!row.IsObject()) throw Error(std::string(kWhere) + ": a row is not an object");
      const int64_t date_last = json::find_integer(row, "date_last").value_or(-1);
      if (date_last < 0) throw Error(std::string(kWhere) + ": a row has no integer date_last");
      last_date_first = json::find_integer(row, "date_first").value_or(-1);
      if (date_last < s.since) continue;
      const std::string text = ::siphon::to_json(row);
      std::string hash = row_hash(text);
      if (!seen.insert(hash).second) {  // shown again by a shifted page
        ++logs.duplicates_dropped;
        continue;
      }
      s.seen.push_back({date_last, hash});
      if (known.count(hash)) {  // delivered by the previous scan, unchanged
        ++logs.duplicates_dropped;
        continue;
      }
      logs.add(text);
      logs.event_time(date_last * 1000);
    }
    newest_first(s.seen, kMaxSeen);

    bool done = true;
    if (cursor_paging_) {
      std::string next = json::text(doc, "response_metadata.next_cursor");
      done = next.empty() || next == s.next || rows.empty();
      s.next = next;
    } else {
      int64_t page = s.page, pages = 1;
      if (json::find<json::Object>(doc, "paging")) {
        page = std::max<int64_t>(json::find_integer(doc, "paging.page").value_or(-1), s.page);
        pages = json::find_integer(doc, "paging.pages").value_or(-1);
      }
      if (page < pages && !rows.empty()) {
        done = false;
        if (page >= kMaxPage) {
          // Slack pages no further than 100: go on below the last row's date_first.
          if (last_date_first < 0)
            throw Error(std::string(kWhere) +
                        ": cannot page past page 100: rows have no integer date_first");
          if (last_date_first == s.before)
            throw Error(std::string(kWhere) + ": more than 100 pages of rows share date_first " +
                        std::to_string(last_date_first) + "; use paging: cursor");
          s.before = last_date_first;
          s.page = 1;
        } else {
          s.page = page + 1;
        }
      }
    }

    if (done) {  // the whole log has been read: move the checkpoint
      const int64_t since = std::max(s.since, s.started - lookback_seconds_);
      std::erase_if(s.seen, [&](const Seen& r) { return r.date_last < since; });
      newest_first(s.seen, kMaxKnown);
      s.known.clear();
      for (const auto& r : s.seen) s.known.push_back(r.hash);
      s.since = since;
      s.scanning = false;
    }
    logs.more_to_poll = !done;
    logs.next_cursor = to_json(s);
    return logs;
  }
  uint32_t sleep_seconds(uint32_t) override { return client_.poll_pause_seconds(); }

 private:
  static constexpr char kMethod[] = "team.accessLogs";
  static constexpr char kWhere[] = "Slack team.accessLogs";
  static constexpr int64_t kMaxPage = 100;   // Slack's limit in page mode
  static constexpr size_t kMaxKnown = 1000;  // bounds the cursor (about 15 bytes each)
  static constexpr size_t kMaxSeen = 1500;   // about 27 bytes each
  static constexpr int64_t kMaxRestarts = 3;

  // A row met during a scan: its date_last and hash.
  struct Seen {
    int64_t date_last = 0;
    std::string hash;
  };
  struct State : CursorHead {
    bool scanning = false;
    int64_t started = 0;
    std::string next;
    int64_t page = 1;
    int64_t before = 0;  // 0: not set
    std::vector<Seen> seen;
    int64_t restarts = 0;  // times this scan began again after a refused paging cursor
  };

  static State parse_cursor(const Cursor& cursor) {
    State s;
    rapidjson::Document doc;
    if (const rapidjson::Value* scan = read_cursor_head(cursor, "slack_access", doc, s)) {
      s.scanning = true;
      s.started = json::get<int64_t>(*scan, "started", "slack_access cursor");
      s.next = json::text(*scan, "next");
      s.page = json::find<int64_t>(*scan, "page").value_or(1);
      s.before = json::find<int64_t>(*scan, "before").value_or(0);
      s.restarts = json::find<int64_t>(*scan, "restarts").value_or(0);
      for (const std::string& entry : json::strings(*scan, "seen")) {
        const size_t colon = entry.find(':');
        if (colon != std::string::npos)
          s.seen.push_back({std::stoll(entry.substr(0, colon)), entry.substr(colon + 1)});
      }
    }
    return s;
  }

  static std::string to_json(const State& s) {
    if (!s.scanning) return write_cursor(s, "");
    std::vector<std::string> seen;
    for (const auto& r : s.seen) seen.push_back(std::to_string(r.date_last) + ":" + r.hash);
    std::vector<json::Member> scan{{"started", s.started}};
    if (!s.next.empty()) scan.push_back({"next", s.next});
    scan.push_back({"page", s.page});
    if (s.before > 0) scan.push_back({"before", s.before});
    if (s.restarts > 0) scan.push_back({"restarts", s.restarts});
    scan.push_back({"seen", seen});
    return write_cursor(s, json::object(scan));
  }

  // Keeps the `max` rows with the newest date_last.
  static void newest_first(std::vector<Seen>& seen, size_t max) {
    if (seen.size() <= max) return;
    std::stable_sort(seen.begin(), seen.end(),
                     [](const Seen& a, const Seen& b) { return a.date_last > b.date_last; });
    seen.resize(max);
  }

  Client client_;
  bool cursor_paging_ = true;
  int64_t page_size_;
  int64_t lookback_seconds_;
};

}  // namespace siphon::slack

#endif  // SIPHON_PLUGINS_SLACK_ACCESS_HPP
