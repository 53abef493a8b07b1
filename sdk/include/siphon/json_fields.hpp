// siphon/json_fields.hpp - a struct read from and written to a JSON object,
// its members declared once (a cursor with a shape of its own, typically).
//
//   struct Position {
//     int64_t from = 0;
//     std::vector<std::string> seen;
//     std::optional<Window> window;  // Window declares fields() too
//     template <class F> void fields(F& f) {
//       f("from", from)("seen", seen, json::kOptional)("window", window);
//     }
//   };
//   std::string text = json::write_fields(pos);  // {"from":..,"seen":[..],"window":{..}}
//   Position pos = json::read_fields<Position>(text);
//
// Member types: int64_t, bool, std::string, std::vector<T>, std::pair<A, B>
// (a two-element array), std::optional<T> (left out while empty, nullopt when
// absent) and structs that declare fields(). Members are written in the
// order fields() names them. Reading throws siphon::Error naming the path of
// the member at fault ("window.start is missing", "done.1 is not
// [string, integer]"), never its value; a member declared kOptional may be
// absent and then keeps its default. Each call returns the visitor, so the
// members chain. fields() must only name members: the writer calls it on a
// const object.
#ifndef SIPHON_JSON_FIELDS_HPP
#define SIPHON_JSON_FIELDS_HPP

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <siphon/json.hpp>
#include <siphon/sdk.hpp>
#include <string>
#include <utility>
#include <vector>

namespace siphon::json {

enum Presence { kRequired, kOptional };

namespace detail {

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

class FieldWriter;
class FieldReader;

inline void write_value(rapidjson::Writer<rapidjson::StringBuffer>& w, int64_t v) { w.Int64(v); }
inline void write_value(rapidjson::Writer<rapidjson::StringBuffer>& w, bool v) { w.Bool(v); }
inline void write_value(rapidjson::Writer<rapidjson::StringBuffer>& w, const std::string& v) {
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}
template <class T>
void write_value(rapidjson::Writer<rapidjson::StringBuffer>& w, const std::vector<T>& v);
template <class A, class B>
void write_value(rapidjson::Writer<rapidjson::StringBuffer>& w, const std::pair<A, B>& v);
template <class T>
void write_value(rapidjson::Writer<rapidjson::StringBuffer>& w, const T& v);

class FieldWriter {
 public:
  explicit FieldWriter(rapidjson::Writer<rapidjson::StringBuffer>& w) : w_(w) {}
  template <class T>
  FieldWriter& operator()(const char* name, const T& member, Presence = kRequired) {
    if constexpr (IsOptional<T>::value) {
      if (!member) return *this;
      w_.Key(name);
      write_value(w_, *member);
    } else {
      w_.Key(name);
      write_value(w_, member);
    }
    return *this;
  }

 private:
  rapidjson::Writer<rapidjson::StringBuffer>& w_;
};

template <class T>
void write_value(rapidjson::Writer<rapidjson::StringBuffer>& w, const std::vector<T>& v) {
  w.StartArray();
  for (const auto& item : v) write_value(w, item);
  w.EndArray();
}
template <class A, class B>
void write_value(rapidjson::Writer<rapidjson::StringBuffer>& w, const std::pair<A, B>& v) {
  w.StartArray();
  write_value(w, v.first);
  write_value(w, v.second);
  w.EndArray();
}
template <class T>
void write_value(rapidjson::Writer<rapidjson::StringBuffer>& w, const T& v) {
  FieldWriter f(w);
  w.StartObject();
  const_cast<T&>(v).fields(f);  // fields() only names members; nothing is changed
  w.EndObject();
}

[[noreturn]] inline void fail(const std::string& path, const char* problem) {
  throw Error(path + " " + problem);
}

inline void read_value(const rapidjson::Value& v, const std::string& path, int64_t& out) {
  if (!v.IsInt64()) fail(path, "is not an integer");
  out = v.GetInt64();
}
inline void read_value(const rapidjson::Value& v, const std::string& path, bool& out) {
  if (!v.IsBool()) fail(path, "is not true or false");
  out = v.GetBool();
}
inline void read_value(const rapidjson::Value& v, const std::string& path, std::string& out) {
  if (!v.IsString()) fail(path, "is not a string");
  out.assign(v.GetString(), v.GetStringLength());
}
template <class T>
void read_value(const rapidjson::Value& v, const std::string& path, std::vector<T>& out);
template <class A, class B>
void read_value(const rapidjson::Value& v, const std::string& path, std::pair<A, B>& out);
template <class T>
void read_value(const rapidjson::Value& v, const std::string& path, T& out);

class FieldReader {
 public:
  FieldReader(const rapidjson::Value& object, std::string path)
      : object_(object), prefix_(path.empty() ? path : path + ".") {}
  template <class T>
  FieldReader& operator()(const char* name, T& member, Presence presence = kRequired) {
    auto it = object_.FindMember(name);
    const bool absent = it == object_.MemberEnd() || it->value.IsNull();
    if constexpr (IsOptional<T>::value) {
      member.reset();
      if (!absent) read_value(it->value, prefix_ + name, member.emplace());
    } else if (!absent) {
      read_value(it->value, prefix_ + name, member);
    } else if (presence == kRequired) {
      fail(prefix_ + name, "is missing");
    }
    return *this;
  }

 private:
  const rapidjson::Value& object_;
  std::string prefix_;
};

template <class T>
void read_value(const rapidjson::Value& v, const std::string& path, std::vector<T>& out) {
  if (!v.IsArray()) fail(path, "is not an array");
  out.clear();
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i)
    read_value(v[i], path + "." + std::to_string(i), out.emplace_back());
}
template <class A, class B>
void read_value(const rapidjson::Value& v, const std::string& path, std::pair<A, B>& out) {
  if (!v.IsArray() || v.Size() != 2) fail(path, "is not a two-element array");
  read_value(v[0], path + ".0", out.first);
  read_value(v[1], path + ".1", out.second);
}
template <class T>
void read_value(const rapidjson::Value& v, const std::string& path, T& out) {
  if (!v.IsObject()) fail(path.empty() ? "the text" : path, "is not a JSON object");
  FieldReader f(v, path);
  out.fields(f);
}

}  // namespace detail

// `value` as a JSON object.
template <class T>
std::string write_fields(const T& value) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  detail::write_value(w, value);
  return std::string(sb.GetString(), sb.GetSize());
}

// A T read from the JSON object `text`; throws siphon::Error naming the
// member at fault.
template <class T>
T read_fields(std::string_view text) {
  auto doc = parse(text);
  if (!doc) throw Error("the text is not JSON");
  T out{};
  detail::read_value(*doc, "", out);
  return out;
}

}  // namespace siphon::json

#endif  // SIPHON_JSON_FIELDS_HPP
