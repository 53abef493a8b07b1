// siphon/json.hpp - reading vendor JSON by dotted path, and writing small
// JSON objects.
//
// Vendor bodies are read with RapidJSON. Rather than test HasMember and
// IsString at every step, a plugin names the member it wants by its path:
//
//   auto items = siphon::json::get<siphon::json::Array>(page, "data");   // a view
//   std::string next = siphon::json::find<std::string>(page, "pagination.next_link")
//                          .value_or("");
//   int64_t reset = siphon::json::get<int64_t>(body, "data.X-RateLimit-Reset");
//
// A path is member names joined by '.'; a part made of digits indexes an
// array ("errors.0.code"). A member whose name holds a dot cannot be reached
// this way (use RapidJSON directly).
//
// get<T> is for members the vendor must send: it throws siphon::Error whose
// text names the path and what was wrong ("member data.items is missing",
// "member created_at is not an integer"), which the plugin prefixes with the
// endpoint. find<T> is for optional members: std::nullopt when the member is
// absent, null, or of another type.
//
// T is one of: std::string, int64_t, double, bool, json::Array (an array),
// json::Object (an object) and json::Any (any value but null). Array, Object
// and Any are views into the document: keep the document alive while using
// them.
//
// All functions are pure and thread-safe (on documents not being modified).
#ifndef SIPHON_JSON_HPP
#define SIPHON_JSON_HPP

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace siphon::json {

// Types that name a JSON shape rather than a C++ value.
struct Array {
  const rapidjson::Value* value = nullptr;
  auto begin() const { return value->Begin(); }
  auto end() const { return value->End(); }
  size_t size() const { return value->Size(); }
  bool empty() const { return value->Empty(); }
  const rapidjson::Value& operator[](size_t i) const {
    return (*value)[static_cast<rapidjson::SizeType>(i)];
  }
};
struct Object {
  const rapidjson::Value* value = nullptr;
  const rapidjson::Value& operator*() const { return *value; }
  const rapidjson::Value* operator->() const { return value; }
};
struct Any {
  const rapidjson::Value* value = nullptr;
  const rapidjson::Value& operator*() const { return *value; }
  const rapidjson::Value* operator->() const { return value; }
};

// The value at `path` (nullptr when a part is missing or the value is null).
// An empty path is `value` itself.
const rapidjson::Value* at(const rapidjson::Value& value, std::string_view path);

namespace detail {
// Converts `v` (not null) to T; false when it is of another type.
bool convert(const rapidjson::Value& v, std::string& out);
bool convert(const rapidjson::Value& v, int64_t& out);
bool convert(const rapidjson::Value& v, double& out);
bool convert(const rapidjson::Value& v, bool& out);
bool convert(const rapidjson::Value& v, Array& out);
bool convert(const rapidjson::Value& v, Object& out);
bool convert(const rapidjson::Value& v, Any& out);
// "a string", "an integer" ... for error texts.
const char* name_of(const std::string*);
const char* name_of(const int64_t*);
const char* name_of(const double*);
const char* name_of(const bool*);
const char* name_of(const Array*);
const char* name_of(const Object*);
const char* name_of(const Any*);
[[noreturn]] void fail(std::string_view where, std::string_view path, const char* problem);
}  // namespace detail

// The member at `path` as T; throws siphon::Error naming the path when it is
// missing, null, or not a T.
// `where`, when given, prefixes the error ("GET /logs: member data is missing").
template <class T>
T get(const rapidjson::Value& value, std::string_view path, std::string_view where = "") {
  const rapidjson::Value* v = at(value, path);
  if (v == nullptr) detail::fail(where, path, "is missing");
  T out{};
  if (!detail::convert(*v, out)) detail::fail(where, path, detail::name_of(&out));
  return out;
}

// The member at `path` as T, or std::nullopt when it is missing, null or not
// a T.
template <class T>
std::optional<T> find(const rapidjson::Value& value, std::string_view path) {
  const rapidjson::Value* v = at(value, path);
  T out{};
  if (v == nullptr || !detail::convert(*v, out)) return std::nullopt;
  return out;
}

// A whole number sent either as a JSON integer or as a string of digits
// (some vendors send both, e.g. Intercom's created_at); std::nullopt otherwise.
std::optional<int64_t> find_integer(const rapidjson::Value& value, std::string_view path);

// An RFC 3339 time string as ms since the epoch; std::nullopt when missing or
// not readable.
std::optional<int64_t> find_rfc3339(const rapidjson::Value& value, std::string_view path);

// A member as text: a string as it is, any other value (a number id) as its
// compact JSON; "" when missing or null.
std::string text(const rapidjson::Value& value, std::string_view path);

// Parses `text`; std::nullopt (no exception) when it is not valid JSON. For
// bodies that are only sometimes JSON, such as error replies.
std::optional<rapidjson::Document> parse(std::string_view text);

// True when no byte of `text` is outside 7-bit ASCII (such text needs no
// UTF-8 validation). Eight bytes at a time.
bool is_ascii(std::string_view text);

// The strings of the array at `path` (other items are passed over); empty
// when there is no such array.
std::vector<std::string> strings(const rapidjson::Value& value, std::string_view path);

// JSON text to be inserted as it is (e.g. a nested json::object).
struct Raw {
  std::string_view text;
};

// A JSON object built member by member, escaped by RapidJSON; a member is a
// string, an integer, an array of strings or Raw JSON:
//   json::object({{"grant_type", "client_credentials"}, {"exp", now_s + 30}})
// Members that are present only sometimes: build the vector, then call.
// Members are views: what they point at must live until object() returns.
using Member =
    std::pair<std::string_view,
              std::variant<std::string_view, int64_t, std::span<const std::string>, Raw>>;
std::string object(const std::vector<Member>& members);

}  // namespace siphon::json

#endif  // SIPHON_JSON_HPP
