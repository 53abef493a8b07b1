// siphon::json: members by dotted path, with errors that name the path.
#include <gtest/gtest.h>

#include <siphon/json.hpp>
#include <siphon/sdk.hpp>

namespace siphon {
namespace {

rapidjson::Document doc(const char* text) {
  rapidjson::Document d;
  d.Parse(text);
  return d;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Json, GetReadsNestedMembersAndArrayItems) {
  auto d = doc(R"({"a":{"b":{"c":"x","n":7,"f":1.5,"t":true}},"errors":[{"code":"e1"}]})");
  EXPECT_EQ(json::get<std::string>(d, "a.b.c"), "x");
  EXPECT_EQ(json::get<int64_t>(d, "a.b.n"), 7);
  EXPECT_DOUBLE_EQ(json::get<double>(d, "a.b.f"), 1.5);
  EXPECT_TRUE(json::get<bool>(d, "a.b.t"));
  EXPECT_EQ(json::get<std::string>(d, "errors.0.code"), "e1");
  EXPECT_EQ(json::get<json::Array>(d, "errors").size(), 1u);
  EXPECT_TRUE(json::get<json::Object>(d, "a.b")->IsObject());
}

TEST(Json, GetErrorsNameThePathAndTheProblem) {
  auto d = doc(R"({"a":{"b":"x","z":null},"list":[1]})");
  EXPECT_EQ(error_of([&] { json::get<std::string>(d, "a.c"); }), "member a.c is missing");
  EXPECT_EQ(error_of([&] { json::get<int64_t>(d, "a.b"); }), "member a.b is not an integer");
  EXPECT_EQ(error_of([&] { json::get<std::string>(d, "a.z"); }), "member a.z is missing");
  EXPECT_EQ(error_of([&] { json::get<json::Array>(d, "a"); }), "member a is not an array");
  EXPECT_EQ(error_of([&] { json::get<int64_t>(d, "list.3"); }), "member list.3 is missing");
  EXPECT_EQ(error_of([&] { json::get<std::string>(d, "a.b.c"); }), "member a.b.c is missing");
  EXPECT_EQ(error_of([&] { json::get<json::Array>(d, "data", "GET /logs"); }),
            "GET /logs: member data is missing");
}

TEST(Json, FindIsEmptyForAbsentNullOrOtherTypes) {
  auto d = doc(R"({"s":"x","n":3,"z":null})");
  EXPECT_EQ(json::find<std::string>(d, "s"), "x");
  EXPECT_FALSE(json::find<std::string>(d, "n"));
  EXPECT_FALSE(json::find<std::string>(d, "z"));
  EXPECT_FALSE(json::find<int64_t>(d, "missing.deeper"));
  EXPECT_EQ(json::find<int64_t>(d, "n"), 3);
}

TEST(Json, IntegersMayComeAsStringsOfDigits) {
  auto d = doc(R"({"a":12,"b":"34","c":"3x","d":"","e":1.5})");
  EXPECT_EQ(json::find_integer(d, "a"), 12);
  EXPECT_EQ(json::find_integer(d, "b"), 34);
  EXPECT_FALSE(json::find_integer(d, "c"));
  EXPECT_FALSE(json::find_integer(d, "d"));
  EXPECT_FALSE(json::find_integer(d, "e"));
}

TEST(Json, TimesTextParseAndObjects) {
  auto d = doc(R"({"t":"2026-11-27T17:00:00.123Z","bad":"yesterday","id":42,"s":"a"})");
  EXPECT_EQ(json::find_rfc3339(d, "t"), 1795798800123);
  EXPECT_FALSE(json::find_rfc3339(d, "bad"));
  EXPECT_EQ(json::text(d, "id"), "42");
  EXPECT_EQ(json::text(d, "s"), "a");
  EXPECT_EQ(json::text(d, "none"), "");
  EXPECT_FALSE(json::parse("{oops"));
  EXPECT_TRUE(json::parse(R"([1])")->IsArray());
  EXPECT_EQ(json::object({{"k", "v\"q"}, {"n", int64_t{5}}}), R"({"k":"v\"q","n":5})");
  EXPECT_EQ(json::object({{"ids", std::vector<std::string>{"a", "b"}}}), R"({"ids":["a","b"]})");
  EXPECT_EQ(json::object({{"scan", json::Raw{json::object({{"page", int64_t{2}}})}}}),
            R"({"scan":{"page":2}})");
  auto ids = doc(R"({"a":{"ids":["x",1,"y"]},"s":"x"})");
  EXPECT_EQ(json::strings(ids, "a.ids"), (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(json::strings(ids, "s").empty());
}

}  // namespace
}  // namespace siphon
