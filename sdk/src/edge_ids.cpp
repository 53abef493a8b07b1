#include <algorithm>
#include <siphon/edge_ids.hpp>
#include <siphon/sdk.hpp>

namespace siphon {

EdgeIds::EdgeIds(int64_t bound, std::vector<std::string> bound_ids, size_t max_ids)
    : max_ids_(std::max<size_t>(max_ids, 1)), bound_(bound), bound_ids_(std::move(bound_ids)) {
  start_page();
}

void EdgeIds::restore_newest(int64_t newest, std::vector<std::string> ids) {
  newest_ = newest;
  newest_ids_ = std::move(ids);
}

void EdgeIds::start_page() { seen_ = {bound_ids_.begin(), bound_ids_.end()}; }

bool EdgeIds::fresh(const std::string& id) { return id.empty() || seen_.insert(id).second; }

void EdgeIds::note(int64_t time, const std::string& id) {
  if (!newest_ || time > *newest_) {
    newest_ = time;
    newest_ids_.clear();
  }
  if (time == *newest_ && !id.empty() && newest_ids_.size() < max_ids_) newest_ids_.push_back(id);
}

bool EdgeIds::close_window() {
  bool dropped = false;
  if (newest_) {
    if (*newest_ == bound_) {
      for (auto& id : newest_ids_)
        if (std::find(bound_ids_.begin(), bound_ids_.end(), id) == bound_ids_.end())
          bound_ids_.push_back(std::move(id));
    } else if (*newest_ > bound_) {
      bound_ = *newest_;
      bound_ids_ = std::move(newest_ids_);
    }
    if (bound_ids_.size() > max_ids_) {
      bound_ids_.erase(bound_ids_.begin(), bound_ids_.end() - static_cast<ptrdiff_t>(max_ids_));
      dropped = true;
    }
  }
  reset_window();
  start_page();
  return dropped;
}

void EdgeIds::reset_window() {
  newest_.reset();
  newest_ids_.clear();
}

std::string EdgeIds::id_of(const rapidjson::Value& record, const char* key) {
  if (!record.IsObject()) return {};
  auto it = record.FindMember(key);
  if (it == record.MemberEnd()) return {};
  if (it->value.IsString()) return it->value.GetString();
  if (it->value.IsNumber()) return to_json(it->value);
  return {};
}

std::vector<std::string> EdgeIds::read_ids(const rapidjson::Value& object, const char* key) {
  std::vector<std::string> out;
  if (!object.IsObject()) return out;
  auto it = object.FindMember(key);
  if (it != object.MemberEnd() && it->value.IsArray())
    for (const auto& id : it->value.GetArray())
      if (id.IsString()) out.emplace_back(id.GetString());
  return out;
}

void EdgeIds::write_ids(rapidjson::Writer<rapidjson::StringBuffer>& writer, const char* key,
                        const std::vector<std::string>& ids) {
  writer.Key(key);
  writer.StartArray();
  for (const auto& id : ids) writer.String(id);
  writer.EndArray();
}

}  // namespace siphon
