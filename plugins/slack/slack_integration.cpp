#include "slack_integration.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
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
  if (const rapidjson::Value* found = read_cursor_head(cursor, "slack_integration", doc, s)) {
    const rapidjson::Value& scan = *found;
    if (!scan.HasMember("page") || !scan["page"].IsInt64() || !scan.HasMember("newest") ||
        !scan["newest"].IsInt64())
      throw Error("slack_integration cursor is not valid (reset it with siphon state reset)");
    s.scanning = true;
    s.page = scan["page"].GetInt64();
    s.newest = scan["newest"].GetInt64();
    s.at_newest = string_array(scan, "at_newest");
    s.last_page = string_array(scan, "last_page");
  }
  return s;
}

std::string to_json(const State& s) {
  if (!s.scanning) return write_cursor(s, nullptr);
  return write_cursor(s, [&s](rapidjson::Writer<rapidjson::StringBuffer>& out) {
    out.Key("page");
    out.Int64(s.page);
    out.Key("newest");
    out.Int64(s.newest);
    put_array(out, "at_newest", s.at_newest);
    put_array(out, "last_page", s.last_page);
  });
}

// `date` is a string of Unix seconds ("1714582000"); a number is accepted too.
int64_t entry_date(const rapidjson::Value& entry) {
  if (entry.IsObject() && entry.HasMember("date")) {
    const rapidjson::Value& d = entry["date"];
    if (d.IsInt64()) return d.GetInt64();
    if (d.IsString()) {
      const std::string text = d.GetString();
      if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos &&
          text.size() < 19)
        return std::stoll(text);
    }
  }
  throw Error(std::string("Slack ") + kMethod + ": an entry has no date in Unix seconds");
}

int64_t paging_member(const rapidjson::Value& doc, const char* name, int64_t fallback) {
  if (!doc.HasMember("paging") || !doc["paging"].IsObject()) return fallback;
  const rapidjson::Value& paging = doc["paging"];
  return paging.HasMember(name) && paging[name].IsInt64() ? paging[name].GetInt64() : fallback;
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
  if (!doc.HasMember("logs") || !doc["logs"].IsArray())
    throw Error(std::string("Slack ") + kMethod + ": reply has no logs array");
  const auto& entries = doc["logs"].GetArray();

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
    const std::string json = ::siphon::to_json(entry);
    std::string hash = row_hash(json);
    if (date > s.newest) {
      s.newest = date;
      s.at_newest.clear();
    }
    if (date == s.newest && s.at_newest.size() < kMaxHashes &&
        std::find(s.at_newest.begin(), s.at_newest.end(), hash) == s.at_newest.end())
      s.at_newest.push_back(hash);
    if (this_page.size() < kMaxHashes) this_page.push_back(hash);
    if (previous.count(hash)) continue;                  // shown again by a page shift
    if (date == s.since && known.count(hash)) continue;  // delivered before
    logs.add(json);
  }
  s.last_page = std::move(this_page);

  const int64_t pages = paging_member(doc, "pages", 1);
  const bool done = reached_checkpoint || entries.Empty() || s.page >= pages;
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
