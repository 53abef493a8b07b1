#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <siphon/json.hpp>
#include <siphon/time_format.hpp>
#include <siphon/window_cursor.hpp>

namespace siphon {

WindowCursor::WindowCursor(WindowFormat format)
    : format_(std::move(format)), edge_(0, {}, format_.max_ids) {}

std::optional<int64_t> WindowCursor::read_time(const rapidjson::Value& doc,
                                               const std::string& key) const {
  if (auto t = json::find_integer(doc, key)) return t;
  auto ms = json::find_rfc3339(doc, key);
  if (!ms) return std::nullopt;
  return format_.time == WindowFormat::Time::kSeconds ? *ms / 1000 : *ms;
}

int64_t WindowCursor::to_ms(int64_t t) const {
  return format_.time == WindowFormat::Time::kSeconds ? t * 1000 : t;
}

void WindowCursor::load(const Cursor& cursor, int64_t start) { load(cursor.value, start); }

void WindowCursor::load(const std::string& text, int64_t start) {
  *this = WindowCursor(format_);
  if (text.empty()) {
    edge_ = EdgeIds(start, {}, format_.max_ids);
    return;
  }
  auto doc = json::parse(text);
  std::optional<int64_t> lower;
  if (doc && doc->IsObject()) lower = read_time(*doc, format_.lower);
  if (!lower)
    throw Error(format_.app_type + " cursor is not valid (reset it with siphon state reset APP)");
  edge_ = EdgeIds(*lower, json::strings(*doc, format_.lower_ids), format_.max_ids);
  if (format_.advance_to_end) seen_ = json::strings(*doc, format_.seen);
  seen_set_.insert(seen_.begin(), seen_.end());
  end_ = read_time(*doc, format_.upper);
  if (!end_) return;
  if (auto newest = format_.newest.empty() ? std::nullopt : read_time(*doc, format_.newest))
    edge_.restore_newest(*newest, json::strings(*doc, format_.newest_ids));
  if (format_.advance_to_end) seen_next_ = json::strings(*doc, format_.seen_next);
  seen_set_.insert(seen_next_.begin(), seen_next_.end());
  seen_next_set_ = {seen_next_.begin(), seen_next_.end()};
  for (const auto& m : doc->GetObject()) {
    std::string key(m.name.GetString(), m.name.GetStringLength());
    if (key == format_.lower || key == format_.lower_ids || key == format_.upper ||
        key == format_.newest || key == format_.newest_ids || key == format_.seen ||
        key == format_.seen_next)
      continue;
    if (m.value.IsString())
      page_[key] = std::string(m.value.GetString(), m.value.GetStringLength());
    else if (m.value.IsInt64())
      page_[key] = m.value.GetInt64();
  }
}

std::string WindowCursor::save() const {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  auto ids = [&](const std::string& key, const std::vector<std::string>& values) {
    if (!key.empty()) EdgeIds::write_ids(w, key.c_str(), values);
  };
  auto time = [&](const std::string& key, int64_t t) {
    w.Key(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
    if (format_.time == WindowFormat::Time::kRfc3339)
      w.String(timefmt::rfc3339(t, true));
    else
      w.Int64(t);
  };
  w.StartObject();
  time(format_.lower, edge_.bound());
  ids(format_.lower_ids, edge_.bound_ids());
  if (format_.advance_to_end) ids(format_.seen, seen_);
  if (end_) {
    time(format_.upper, *end_);
    for (const auto& [key, value] : page_) {
      w.Key(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
      if (const auto* s = std::get_if<std::string>(&value))
        w.String(*s);
      else
        w.Int64(std::get<int64_t>(value));
    }
    if (edge_.newest() && !format_.newest.empty()) {
      time(format_.newest, *edge_.newest());
      ids(format_.newest_ids, edge_.newest_ids());
    }
    if (format_.advance_to_end) ids(format_.seen_next, seen_next_);
  }
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

bool WindowCursor::open(int64_t end) {
  if (end <= edge_.bound()) return false;
  end_ = end;
  page_.clear();
  edge_.reset_window();
  seen_next_.clear();
  seen_next_set_.clear();
  seen_set_ = {seen_.begin(), seen_.end()};
  return true;
}

std::string WindowCursor::page(const std::string& key) const {
  auto it = page_.find(key);
  if (it == page_.end()) return {};
  const auto* s = std::get_if<std::string>(&it->second);
  return s ? *s : std::to_string(std::get<int64_t>(it->second));
}

int64_t WindowCursor::page_int(const std::string& key) const {
  auto it = page_.find(key);
  if (it == page_.end()) return 0;
  const auto* n = std::get_if<int64_t>(&it->second);
  return n ? *n : 0;
}

void WindowCursor::set_page(const std::string& key, std::string value) {
  if (value.empty())
    page_.erase(key);
  else
    page_[key] = std::move(value);
}

void WindowCursor::set_page(const std::string& key, int64_t value) {
  if (value == 0)
    page_.erase(key);
  else
    page_[key] = value;
}

bool WindowCursor::fresh(const std::string& id) {
  if (!id.empty() && seen_set_.count(id)) return false;
  return edge_.fresh(id);
}

void WindowCursor::raise_bound(int64_t t) {
  if (t > edge_.bound()) edge_ = EdgeIds(t, edge_.bound_ids(), format_.max_ids);
}

void WindowCursor::note(int64_t time, const std::string& id) {
  edge_.note(time, id);
  remember(time, id);
}

void WindowCursor::remember(int64_t time, const std::string& id) {
  if (!format_.advance_to_end || id.empty() || !end_ || time < *end_ - format_.lookback) return;
  if (seen_next_set_.count(id)) return;
  if (seen_next_.size() >= format_.max_ids) {
    seen_overflow_ = true;
    return;
  }
  seen_next_set_.insert(id);
  seen_next_.push_back(id);
  seen_set_.insert(id);
}

template <class Add>
bool WindowCursor::take_with(Logs& logs, const std::string& id, std::optional<int64_t> time,
                             const Add& add) {
  if (!fresh(id)) {
    ++logs.duplicates_dropped;
    // Skipped, but still inside the next window's lookback: still delivered.
    if (time) remember(*time, id);
    return false;
  }
  add();
  if (time) {
    note(*time, id);
    logs.event_time(to_ms(*time));
  }
  return true;
}

bool WindowCursor::take(Logs& logs, const rapidjson::Value& record, const std::string& id,
                        std::optional<int64_t> time) {
  if (!record.IsObject())
    throw Error(format_.app_type + ": an item of the page is not a JSON object");
  return take_with(logs, id, time, [&] { logs.add(record); });
}

bool WindowCursor::take(Logs& logs, std::string_view record, const std::string& id,
                        std::optional<int64_t> time) {
  return take_with(logs, id, time, [&] { logs.add(record); });
}

void WindowCursor::close(Context& ctx) {
  if (format_.advance_to_end) {
    edge_ =
        EdgeIds(std::max(edge_.bound(), end_.value_or(0) - format_.lookback), {}, format_.max_ids);
    seen_ = std::move(seen_next_);
  } else if (edge_.close_window()) {
    ctx.warn("more than " + std::to_string(format_.max_ids) + " " + format_.noun +
             " share one time; only the last ids are kept for deduplication");
  }
  if (seen_overflow_)
    ctx.warn("more than " + std::to_string(format_.max_ids) + " " + format_.noun +
             " in the lookback; older ones in it may be delivered again");
  seen_next_.clear();
  seen_next_set_.clear();
  seen_set_ = {seen_.begin(), seen_.end()};
  seen_overflow_ = false;
  end_.reset();
  page_.clear();
}

void WindowCursor::restart() {
  page_.clear();
  edge_.reset_window();
  seen_next_.clear();
  seen_next_set_.clear();
  seen_set_ = {seen_.begin(), seen_.end()};
}

Logs& WindowCursor::done(Logs& logs) const {
  logs.next_cursor = save();
  logs.more_to_poll = is_open();
  return logs;
}

}  // namespace siphon
