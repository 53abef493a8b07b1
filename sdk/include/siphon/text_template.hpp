// siphon/text_template.hpp - text with {{variables}}, for requests that an
// operator describes in the config (a URL, query parameters, a JSON body).
//
// A template is literal text with variables written {{name}} or
// {{name:format}}, e.g. "created_at_after={{start_time:epoch_s}}". A name
// and a format are made of [A-Za-z0-9_]; spaces inside the braces are
// allowed. Parsing happens once, when the app is created, so a mistake is
// reported then and names its place:
//
//   siphon::TextTemplate t("{\"after\":{{start_time:epoch_s}},\"token\":\"{{page_token}}\"}");
//   for (const auto& v : t.variables()) ...            // check names and formats
//   std::string body = t.expand(
//       [&](const TextTemplate::Variable& v) { return value_of(v); },   // the value
//       siphon::TextTemplate::json_escape);             // how a value is written
//
// The escape function applies to the variables' values only, never to the
// literal text (url_encode for a URL, json_escape inside a JSON string).
// A literal "{{" cannot be written (valid JSON never holds one outside
// strings). The parse errors are siphon::Error texts without a prefix
// ("unclosed {{ at character 12"), for the caller to prefix with the place.
//
// A TextTemplate is a plain value: immutable after construction, so
// thread-safe to share; cheap to copy.
#ifndef SIPHON_TEXT_TEMPLATE_HPP
#define SIPHON_TEXT_TEMPLATE_HPP

#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace siphon {

class TextTemplate {
 public:
  // One {{name:format}} of the text; format is "" when none was given.
  struct Variable {
    std::string name;
    std::string format;
  };
  using Lookup = std::function<std::string(const Variable&)>;
  using Escape = std::function<std::string(std::string_view)>;

  TextTemplate() = default;
  // Parses `text`; throws siphon::Error on an unclosed "{{", an empty one, or
  // a name or format with other characters.
  explicit TextTemplate(std::string_view text);

  // The variables, in order of appearance (repeats included).
  std::vector<Variable> variables() const;
  // True when a variable of that name appears.
  bool uses(std::string_view name) const;
  // True when the text holds no variable at all.
  bool is_literal() const;

  // The text with each variable replaced by escape(lookup(variable)), or
  // lookup(variable) as it is when `escape` is empty. Exceptions thrown by
  // `lookup` or `escape` pass through.
  std::string expand(const Lookup& lookup, const Escape& escape = {}) const;

  // A value escaped for the inside of a JSON string: `"`, `\` and control
  // characters escaped (no quotes added).
  static std::string json_escape(std::string_view value);

 private:
  std::vector<std::variant<std::string, Variable>> parts_;
};

}  // namespace siphon

#endif  // SIPHON_TEXT_TEMPLATE_HPP
