#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>
#include <cstring>
#include <siphon/json.hpp>
#include <siphon/sdk.hpp>
#include <siphon/time_format.hpp>

namespace siphon::json {

namespace {

bool is_index(std::string_view part) {
  return !part.empty() && part.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

const rapidjson::Value* at(const rapidjson::Value& value, std::string_view path) {
  const rapidjson::Value* v = &value;
  size_t start = 0;
  while (v != nullptr && start <= path.size() && !path.empty()) {
    size_t dot = path.find('.', start);
    std::string_view part = path.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (v->IsObject()) {
      auto it = v->FindMember(rapidjson::Value(
          rapidjson::StringRef(part.data(), static_cast<rapidjson::SizeType>(part.size()))));
      v = it == v->MemberEnd() ? nullptr : &it->value;
    } else if (v->IsArray() && is_index(part)) {
      size_t i = 0;
      std::from_chars(part.data(), part.data() + part.size(), i);
      v = i < v->Size() ? &(*v)[static_cast<rapidjson::SizeType>(i)] : nullptr;
    } else {
      v = nullptr;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return v == nullptr || v->IsNull() ? nullptr : v;
}

namespace detail {

bool convert(const rapidjson::Value& v, std::string& out) {
  if (!v.IsString()) return false;
  out.assign(v.GetString(), v.GetStringLength());
  return true;
}
bool convert(const rapidjson::Value& v, int64_t& out) {
  if (!v.IsInt64()) return false;
  out = v.GetInt64();
  return true;
}
bool convert(const rapidjson::Value& v, double& out) {
  if (!v.IsNumber()) return false;
  out = v.GetDouble();
  return true;
}
bool convert(const rapidjson::Value& v, bool& out) {
  if (!v.IsBool()) return false;
  out = v.GetBool();
  return true;
}
bool convert(const rapidjson::Value& v, Array& out) {
  out.value = &v;
  return v.IsArray();
}
bool convert(const rapidjson::Value& v, Object& out) {
  out.value = &v;
  return v.IsObject();
}
bool convert(const rapidjson::Value& v, Any& out) {
  out.value = &v;
  return true;
}

const char* name_of(const std::string*) { return "is not a string"; }
const char* name_of(const int64_t*) { return "is not an integer"; }
const char* name_of(const double*) { return "is not a number"; }
const char* name_of(const bool*) { return "is not true or false"; }
const char* name_of(const Array*) { return "is not an array"; }
const char* name_of(const Object*) { return "is not an object"; }
const char* name_of(const Any*) { return "is missing"; }

void fail(std::string_view where, std::string_view path, const char* problem) {
  throw Error((where.empty() ? "" : std::string(where) + ": ") + "member " +
              std::string(path.empty() ? "(the document)" : path) + " " + problem);
}

}  // namespace detail

std::optional<int64_t> find_integer(const rapidjson::Value& value, std::string_view path) {
  const rapidjson::Value* v = at(value, path);
  if (v == nullptr) return std::nullopt;
  if (v->IsInt64()) return v->GetInt64();
  if (!v->IsString() || v->GetStringLength() == 0) return std::nullopt;
  int64_t out = 0;
  const char* end = v->GetString() + v->GetStringLength();
  auto [ptr, ec] = std::from_chars(v->GetString(), end, out);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return out;
}

std::optional<int64_t> find_rfc3339(const rapidjson::Value& value, std::string_view path) {
  auto s = find<std::string>(value, path);
  if (!s) return std::nullopt;
  try {
    return timefmt::parse_rfc3339(*s);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string text(const rapidjson::Value& value, std::string_view path) {
  const rapidjson::Value* v = at(value, path);
  if (v == nullptr) return {};
  if (v->IsString()) return {v->GetString(), v->GetStringLength()};
  return to_json(*v);
}

std::vector<std::string> strings(const rapidjson::Value& value, std::string_view path) {
  std::vector<std::string> out;
  if (auto items = find<Array>(value, path))
    for (const auto& item : *items)
      if (item.IsString()) out.emplace_back(item.GetString(), item.GetStringLength());
  return out;
}

std::optional<rapidjson::Document> parse(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(text.data(), text.size());
  if (doc.HasParseError()) return std::nullopt;
  return doc;
}

std::string object(const std::vector<Member>& members) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  for (const auto& [key, value] : members) {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    if (const auto* s = std::get_if<std::string_view>(&value))
      w.String(s->data(), static_cast<rapidjson::SizeType>(s->size()));
    else if (const auto* n = std::get_if<int64_t>(&value))
      w.Int64(*n);
    else if (const auto* raw = std::get_if<Raw>(&value))
      w.RawValue(raw->text.data(), raw->text.size(), rapidjson::kObjectType);
    else {
      w.StartArray();
      for (const auto& item : std::get<std::span<const std::string>>(value)) w.String(item);
      w.EndArray();
    }
  }
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

bool is_ascii(std::string_view text) {
  const char* p = text.data();
  size_t n = text.size();
  uint64_t any = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word = 0;
    std::memcpy(&word, p, 8);
    any |= word;
  }
  for (; n > 0; ++p, --n) any |= static_cast<unsigned char>(*p);
  return (any & 0x8080808080808080ULL) == 0;
}

}  // namespace siphon::json
