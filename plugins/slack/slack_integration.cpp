#include "slack_integration.hpp"

#include <algorithm>
#include <siphon/json.hpp>
#include <unordered_set>
#include <vector>

namespace siphon::slack {
namespace {

constexpr char kMethod[] = "team.integrationLogs";
constexpr size_t kMaxHashes = 1000;

// The cursor. `since` and `known`: the newest date delivered and the hashes
// of the entries at that date. While a run is reading down: the next page,
// the newest date met and its entries' hashes, and the hashes of the previous
// page (entries a page shift shows again).
struct State : CursorHead {
  bool scanning = false;
  int64_t page = 1;
  int64_t newest = -1;
  std::vector<std::string> at_newest;
  std::vector<std::string> last_page;
};

State parse_cursor(const Cursor& cursor) {
  State s;
  rapidjson::Document doc;
  if (const rapidjson::Value* scan = read_cursor_head(cursor, "slack_integration", doc, s)) {
    auto page = json::find<int64_t>(*scan, "page"), newest = json::find<int64_t>(*scan, "newest");
    if (!page || !newest)
      throw Error("slack_integration cursor is not valid (reset it with siphon state reset)");
    s.scanning = true;
    s.page = *page;
    s.newest = *newest;
    s.at_newest = json::strings(*scan, "at_newest");
    s.last_page = json::strings(*scan, "last_page");
  }
  return s;
}

std::string to_json(const State& s) {
  if (!s.scanning) return write_cursor(s, "");
  return write_cursor(s, json::object({{"page", s.page},
                                       {"newest", s.newest},
                                       {"at_newest", s.at_newest},
                                       {"last_page", s.last_page}}));
}

// `date` is a string of Unix seconds ("1714582000"); a number is accepted too.
int64_t entry_date(const rapidjson::Value& entry) {
  auto date = json::find_integer(entry, "date");
  if (!date || *date < 0)
    throw Error(std::string("Slack ") + kMethod + ": an entry has no date in Unix seconds");
  return *date;
}

}  // namespace

Options SlackIntegration::options() {
  Options o = common_options();
  o.push_back({"page_size", "entries per call (count), 1..1000", "1000"});
  return o;
}

SlackIntegration::SlackIntegration(Context& ctx) : App(ctx), client_(ctx) {
  page_size_ = ctx.option_int("page_size", 1000);
  if (page_size_ < 1 || page_size_ > 1000) throw Error("option page_size must be 1..1000");
}

Logs SlackIntegration::gather_logs(const Cursor& cursor) {
  State s = parse_cursor(cursor);
  if (!s.scanning) {
    s.scanning = true;
    s.page = 1;
    s.newest = -1;
    s.at_newest.clear();
    s.last_page.clear();
  }
  rapidjson::Document doc = client_.call(
      kMethod, {{"count", std::to_string(page_size_)}, {"page", std::to_string(s.page)}});
  const auto entries = json::get<json::Array>(doc, "logs", std::string("Slack ") + kMethod);

  const std::unordered_set<std::string> known(s.known.begin(), s.known.end());
  const std::unordered_set<std::string> previous(s.last_page.begin(), s.last_page.end());
  std::vector<std::string> this_page;
  bool reached_checkpoint = false;
  Logs logs;
  for (const auto& entry : entries) {
    const int64_t date = entry_date(entry);
    if (date < s.since) {  // older than everything new: the rest is known
      reached_checkpoint = true;
      break;
    }
    const std::string text = ::siphon::to_json(entry);
    std::string hash = row_hash(text);
    if (date > s.newest) {
      s.newest = date;
      s.at_newest.clear();
    }
    if (date == s.newest && s.at_newest.size() < kMaxHashes &&
        std::find(s.at_newest.begin(), s.at_newest.end(), hash) == s.at_newest.end())
      s.at_newest.push_back(hash);
    if (this_page.size() < kMaxHashes) this_page.push_back(hash);
    if (previous.count(hash) || (date == s.since && known.count(hash))) {
      ++logs.duplicates_dropped;  // shown again by a page shift, or delivered before
      continue;
    }
    logs.add(text);
    logs.event_time(date * 1000);
  }
  s.last_page = std::move(this_page);

  const int64_t pages = json::find<int64_t>(doc, "paging.pages").value_or(1);
  const bool done = reached_checkpoint || entries.empty() || s.page >= pages;
  if (done) {
    if (s.newest > s.since) {
      s.since = s.newest;
      s.known = std::move(s.at_newest);
    } else if (s.newest == s.since) {
      for (auto& h : s.at_newest)
        if (std::find(s.known.begin(), s.known.end(), h) == s.known.end() &&
            s.known.size() < kMaxHashes)
          s.known.push_back(h);
    }
    s.scanning = false;
  } else {
    s.page += 1;
  }
  logs.more_to_poll = !done;
  logs.next_cursor = to_json(s);
  return logs;
}

}  // namespace siphon::slack
