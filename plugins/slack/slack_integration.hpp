// slack_integration.hpp - app type slack_integration: team.integrationLogs.
//
// Entries come newest first, paged by page number, with no "since" filter.
// Each run reads pages until it meets an entry older than the checkpoint (the
// newest date delivered so far) or the last page. The checkpoint keeps that
// date and the hashes of the entries carrying it (siphon::EdgeIds), so entries
// of the same second that arrive later are delivered and the delivered ones
// are not. It moves only when the run has read down to it; until then the
// cursor carries the page reached and the newest date met, so a run stopped
// between pages resumes at its page without skipping one.
//
// Cursor: {"since":<s>,"known":[hashes at since]}, and while a run reads down
// "scan":{"page":N,"newest":<s> or -1,"at_newest":[hashes],"last_page":[hashes
// of the previous page: entries a page shift shows again]}.
#ifndef SIPHON_PLUGINS_SLACK_INTEGRATION_HPP
#define SIPHON_PLUGINS_SLACK_INTEGRATION_HPP

#include <siphon/edge_ids.hpp>
#include <siphon/json.hpp>
#include <siphon/sdk.hpp>
#include <unordered_set>
#include <vector>

#include "slack_client.hpp"

namespace siphon::slack {

class SlackIntegration : public App {
 public:
  static std::string service() { return "slack"; }
  static std::string type() { return "integration"; }
  static std::string description() {
    return "Slack team integration logs: apps and integrations added, changed, removed "
           "(team.integrationLogs)";
  }
  static uint32_t default_interval_seconds() { return 600; }
  static AuthInfo required_auth_info() { return auth_fields(); }
  static Options options() {
    Options o = common_options();
    o.push_back({"page_size", "entries per call (count), 1..1000", "1000"});
    return o;
  }

  explicit SlackIntegration(Context& ctx)
      : App(ctx), client_(ctx), page_size_(ctx.option_int("page_size", 1000, 1, 1000)) {}

  Logs gather_logs(const Cursor& cursor) override {
    CursorHead head;
    rapidjson::Document stored;
    const rapidjson::Value* scan = read_cursor_head(cursor, "slack_integration", stored, head);
    EdgeIds edge(head.since, head.known, kMaxHashes);
    int64_t page = 1;
    std::vector<std::string> last_page;
    if (scan) {
      auto at_page = json::find<int64_t>(*scan, "page"),
           newest = json::find<int64_t>(*scan, "newest");
      if (!at_page || !newest)
        throw Error("slack_integration cursor is not valid (reset it with siphon state reset)");
      page = *at_page;
      if (*newest >= 0) edge.restore_newest(*newest, json::strings(*scan, "at_newest"));
      last_page = json::strings(*scan, "last_page");
    }
    rapidjson::Document doc = client_.call(
        kMethod, {{"count", std::to_string(page_size_)}, {"page", std::to_string(page)}});
    const auto entries = json::get<json::Array>(doc, "logs", kWhere);

    const std::unordered_set<std::string> previous(last_page.begin(), last_page.end());
    last_page.clear();
    bool reached_checkpoint = false;
    Logs logs;
    edge.start_page();
    for (const auto& entry : entries) {
      // `date` is a string of Unix seconds ("1714582000"); a number is accepted too.
      const int64_t date = json::find_integer(entry, "date").value_or(-1);
      if (date < 0) throw Error(std::string(kWhere) + ": an entry has no date in Unix seconds");
      if (date < edge.bound()) {  // older than everything new: the rest is known
        reached_checkpoint = true;
        break;
      }
      const std::string text = to_json(entry);
      const std::string hash = row_hash(text);
      if (last_page.size() < kMaxHashes) last_page.push_back(hash);
      if (previous.count(hash) || !edge.fresh(hash)) {
        ++logs.duplicates_dropped;  // shown again by a page shift, or delivered before
        continue;
      }
      logs.add(text);
      logs.event_time(date * 1000);
      edge.note(date, hash);
    }

    const int64_t pages = json::find<int64_t>(doc, "paging.pages").value_or(1);
    logs.more_to_poll = !reached_checkpoint && !entries.empty() && page < pages;
    std::string scan_json;
    if (logs.more_to_poll)
      scan_json = json::object({{"page", page + 1},
                                {"newest", edge.newest().value_or(-1)},
                                {"at_newest", edge.newest_ids()},
                                {"last_page", last_page}});
    else
      edge.close_window();  // read down to the checkpoint: it moves to the newest date
    logs.next_cursor = write_cursor({edge.bound(), edge.bound_ids()}, scan_json);
    return logs;
  }
  uint32_t sleep_seconds(uint32_t) override { return client_.poll_pause_seconds(); }

 private:
  static constexpr char kMethod[] = "team.integrationLogs";
  static constexpr char kWhere[] = "Slack team.integrationLogs";
  static constexpr size_t kMaxHashes = 1000;

  Client client_;
  int64_t page_size_;
};

}  // namespace siphon::slack

#endif  // SIPHON_PLUGINS_SLACK_INTEGRATION_HPP
