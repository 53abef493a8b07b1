#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <siphon/sdk.hpp>
#include <siphon/text_template.hpp>

namespace siphon {

namespace {

bool is_word(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

TextTemplate::TextTemplate(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      parts_.emplace_back(std::string(text.substr(pos)));
      break;
    }
    if (open > pos) parts_.emplace_back(std::string(text.substr(pos, open - pos)));
    const size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos)
      throw Error("unclosed {{ at character " + std::to_string(open + 1));
    const std::string_view inside = trim(text.substr(open + 2, close - open - 2));
    const size_t colon = inside.find(':');
    Variable v;
    v.name = std::string(trim(inside.substr(0, colon)));
    if (colon != std::string_view::npos) v.format = std::string(trim(inside.substr(colon + 1)));
    const std::string shown = "{{" + std::string(inside) + "}}";
    if (inside.empty()) throw Error("empty {{}} at character " + std::to_string(open + 1));
    if (!is_word(v.name) || (colon != std::string_view::npos && !is_word(v.format)))
      throw Error(shown + " is not a variable: names and formats are letters, digits and _");
    parts_.emplace_back(std::move(v));
    pos = close + 2;
  }
}

std::vector<TextTemplate::Variable> TextTemplate::variables() const {
  std::vector<Variable> out;
  for (const auto& p : parts_)
    if (const auto* v = std::get_if<Variable>(&p)) out.push_back(*v);
  return out;
}

bool TextTemplate::uses(std::string_view name) const {
  for (const auto& p : parts_)
    if (const auto* v = std::get_if<Variable>(&p); v && v->name == name) return true;
  return false;
}

bool TextTemplate::is_literal() const {
  for (const auto& p : parts_)
    if (std::holds_alternative<Variable>(p)) return false;
  return true;
}

std::string TextTemplate::expand(const Lookup& lookup, const Escape& escape) const {
  std::string out;
  for (const auto& p : parts_) {
    if (const auto* text = std::get_if<std::string>(&p)) {
      out += *text;
    } else {
      std::string value = lookup(std::get<Variable>(p));
      out += escape ? escape(value) : value;
    }
  }
  return out;
}

std::string TextTemplate::json_escape(std::string_view value) {
  // RapidJSON's writer escapes the string; the quotes around it are dropped.
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> writer(sb);
  writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  return std::string(sb.GetString() + 1, sb.GetSize() - 2);
}

}  // namespace siphon
