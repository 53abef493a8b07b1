#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <siphon/json.hpp>
#include <siphon/raw_page.hpp>
#include <siphon/time_format.hpp>

#include "response_errors.hpp"

namespace siphon {

namespace {

size_t index_of(const std::vector<std::string>& paths, std::string_view path) {
  auto it = std::find(paths.begin(), paths.end(), path);
  return it == paths.end() ? std::string::npos : static_cast<size_t>(it - paths.begin());
}

// A compact writer that writes numbers read as text (kParseNumbersAsStrings)
// as numbers: RapidJSON's own Writer::RawNumber would quote them.
struct CompactWriter : rapidjson::Writer<rapidjson::StringBuffer> {
  using Writer::Writer;
  bool RawNumber(const Ch* s, rapidjson::SizeType n, bool) {
    return RawValue(s, n, rapidjson::kNumberType);
  }
};

}  // namespace

// Tracks where in the body each value is: the dotted path of the member
// being read, relative to the top of the body or, inside a record, to the
// record.
struct RawPageHandler : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, RawPageHandler> {
  struct Level {
    bool array = false;
    bool records = false;    // the records array
    bool in_record = false;  // inside a record (paths relative to it)
    std::string path;
  };

  RawPage& page;
  const RawPage::Spec& spec;
  const rapidjson::StringStream& in;
  std::vector<Level> levels;
  std::string key;
  bool records_found = false;
  bool records_not_array = false;
  size_t record_start = 0;
  size_t record_depth = 0;

  RawPageHandler(RawPage& p, const RawPage::Spec& s, const rapidjson::StringStream& is)
      : page(p), spec(s), in(is) {}

  // Where the value now starting sits, and whether it has a path at all
  // (elements of arrays other than the records array have none).
  bool here(std::string& path, bool& in_record) const {
    if (levels.empty()) {
      path.clear();
      in_record = false;
      return true;
    }
    const Level& top = levels.back();
    if (top.array) return false;
    in_record = top.in_record;
    path = top.path.empty() ? key : top.path + "." + key;
    return true;
  }

  // The records' path, outside records ("" only for the whole body).
  bool is_records(const std::string& path, bool in_record) const {
    return !in_record && path == spec.records && (!spec.records.empty() || levels.empty());
  }

  // A string, number, true, false or null (`text` = nullopt).
  void scalar(std::optional<std::string_view> text) {
    if (!levels.empty() && levels.back().records) {  // a record that is not an object
      ++page.skipped_;
      return;
    }
    std::string path;
    bool in_record = false;
    if (!here(path, in_record)) return;
    if (is_records(path, in_record)) records_not_array = true;
    if (!text) return;
    const std::vector<std::string>& wanted = in_record ? spec.fields : spec.members;
    const size_t i = index_of(wanted, path);
    if (i == std::string::npos) return;
    RawPage::Value& v = in_record ? page.fields_[(page.records_.size() - 1) * page.field_count_ + i]
                                  : page.members_[i];
    if (v.set) return;  // a repeated member: the first counts, as in a DOM
    v.set = true;
    v.text = {page.values_.size(), text->size()};
    page.values_.append(*text);
  }

  bool Null() {
    scalar(std::nullopt);
    return true;
  }
  bool Bool(bool b) {
    scalar(b ? "true" : "false");
    return true;
  }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    scalar(std::string_view(s, n));
    return true;
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    scalar(std::string_view(s, n));
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    key.assign(s, n);
    return true;
  }

  bool StartObject() {
    Level next;
    if (!levels.empty() && levels.back().records) {  // a record starts
      record_start = in.Tell() - 1;
      record_depth = levels.size() + 1;
      page.records_.push_back({false, {}});
      page.fields_.resize(page.fields_.size() + page.field_count_);
      next.in_record = true;
    } else {
      bool in_record = false;
      if (here(next.path, in_record)) {
        next.in_record = in_record;
        if (is_records(next.path, in_record)) records_not_array = true;
      } else {
        next.path = "\n";  // no path: nothing below it is wanted
        next.in_record = !levels.empty() && levels.back().in_record;
      }
    }
    levels.push_back(std::move(next));
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    if (levels.size() == record_depth && levels.back().in_record && levels.back().path.empty()) {
      page.records_.back().second = {record_start, in.Tell() - record_start};
      record_depth = 0;
    }
    levels.pop_back();
    return true;
  }
  bool StartArray() {
    Level next;
    next.array = true;
    bool in_record = false;
    if (!levels.empty() && levels.back().records) {
      ++page.skipped_;  // an array where a record was expected
      next.path = "\n";
    } else if (here(next.path, in_record)) {
      next.in_record = in_record;
      if (is_records(next.path, in_record) && !records_found) {
        next.records = true;
        records_found = true;
      }
    } else {
      next.path = "\n";
      next.in_record = !levels.empty() && levels.back().in_record;
    }
    levels.push_back(std::move(next));
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    levels.pop_back();
    return true;
  }
};

RawPage::RawPage(const Response& resp, const Spec& spec, std::string_view what)
    : body_(resp.body), field_count_(spec.fields.size()) {
  detail::check_not_empty(resp, what);
  members_.resize(spec.members.size());
  if (const void* nul = std::memchr(body_.data(), '\0', body_.size()))
    detail::throw_not_json(resp, what, rapidjson::kParseErrorValueInvalid,
                           static_cast<size_t>(static_cast<const char*>(nul) - body_.data()));
  // RapidJSON's UTF-8 check takes a multi-byte sequence's bytes without
  // stopping at the terminating NUL: a body that is not pure ASCII is parsed
  // from a copy with three more NULs, so that it never reads past the end.
  const bool ascii = json::is_ascii(body_);
  std::string padded;
  if (!ascii) padded.append(body_).append(3, '\0');
  rapidjson::StringStream in(ascii ? resp.body.c_str() : padded.c_str());
  RawPageHandler handler(*this, spec, in);
  rapidjson::Reader reader;
  constexpr unsigned kFlags = rapidjson::kParseNumbersAsStringsFlag;
  rapidjson::ParseResult ok =
      ascii ? reader.Parse<kFlags>(in, handler)
            : reader.Parse<kFlags | rapidjson::kParseValidateEncodingFlag>(in, handler);
  if (!ok) detail::throw_not_json(resp, what, ok.Code(), ok.Offset());
  const std::string where =
      std::string(what) + ": member " + (spec.records.empty() ? "(the document)" : spec.records);
  if (handler.records_not_array) throw Error(where + " is not an array");
  if (!handler.records_found && !spec.records_optional) throw Error(where + " is missing");

  // Records with a line break are re-written compactly: one record, one line.
  for (auto& [compact, slice] : records_) {
    std::string_view text = body_.substr(slice.at, slice.size);
    if (text.find('\n') == std::string_view::npos && text.find('\r') == std::string_view::npos)
      continue;
    rapidjson::StringBuffer out;
    CompactWriter writer(out);
    std::string copy(text);
    rapidjson::StringStream again(copy.c_str());
    rapidjson::Reader r;
    r.Parse<kFlags>(again, writer);
    compact = true;
    slice = {compacted_.size(), out.GetSize()};
    compacted_.append(out.GetString(), out.GetSize());
  }
}

std::string_view RawPage::record(size_t i) const {
  const auto& [compact, slice] = records_.at(i);
  return std::string_view(compact ? compacted_ : std::string_view(body_))
      .substr(slice.at, slice.size);
}

std::optional<std::string_view> RawPage::field(size_t i, size_t f) const {
  const Value& v = fields_.at(i * field_count_ + f);
  if (!v.set) return std::nullopt;
  return std::string_view(values_).substr(v.text.at, v.text.size);
}

std::string RawPage::text(size_t i, size_t f) const {
  return std::string(field(i, f).value_or(std::string_view()));
}

std::optional<int64_t> RawPage::rfc3339(size_t i, size_t f) const {
  auto v = field(i, f);
  if (!v) return std::nullopt;
  try {
    return timefmt::parse_rfc3339(*v);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<int64_t> RawPage::integer(size_t i, size_t f) const {
  return to_integer(field(i, f));
}

std::optional<int64_t> RawPage::to_integer(std::optional<std::string_view> v) {
  int64_t out = 0;
  if (!v || v->empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || ptr != v->data() + v->size()) return std::nullopt;
  return out;
}

std::optional<std::string_view> RawPage::member(size_t m) const {
  const Value& v = members_.at(m);
  if (!v.set) return std::nullopt;
  return std::string_view(values_).substr(v.text.at, v.text.size);
}

}  // namespace siphon
