// siphon::json::read_fields / write_fields: structs as JSON objects, declared once.
#include <gtest/gtest.h>

#include <siphon/json_fields.hpp>

namespace siphon {
namespace {

struct Window {
  int64_t start = 0;
  std::string token;
  std::vector<std::string> ids;
  template <class F>
  void fields(F& f) {
    f("start", start)("token", token, json::kOptional)("ids", ids, json::kOptional);
  }
};

struct Position {
  int64_t from = 0;
  bool full = false;
  std::vector<std::pair<std::string, int64_t>> done;
  std::optional<int64_t> mark;
  std::optional<Window> window;
  template <class F>
  void fields(F& f) {
    f("from", from)("full", full, json::kOptional)("done", done)("mark", mark)("window", window);
  }
};

TEST(JsonFields, WritesMembersInDeclaredOrderAndLeavesOutEmptyOptionals) {
  Position p;
  p.from = 1714582790000;
  p.done = {{"a\"b", 5}, {"c", -1}};
  EXPECT_EQ(json::write_fields(p),
            R"({"from":1714582790000,"full":false,"done":[["a\"b",5],["c",-1]]})");
  p.mark = 7;
  p.window = Window{3, "t/1", {"x", "y"}};
  EXPECT_EQ(json::write_fields(p),
            R"({"from":1714582790000,"full":false,"done":[["a\"b",5],["c",-1]],"mark":7,)"
            R"("window":{"start":3,"token":"t/1","ids":["x","y"]}})");
}

TEST(JsonFields, ReadsBackWhatItWrote) {
  Position p;
  p.from = 42;
  p.full = true;
  p.done = {{"id", 9}};
  p.window = Window{1, "", {}};
  Position back = json::read_fields<Position>(json::write_fields(p));
  EXPECT_EQ(back.from, 42);
  EXPECT_TRUE(back.full);
  EXPECT_EQ(back.done, p.done);
  EXPECT_FALSE(back.mark);
  ASSERT_TRUE(back.window);
  EXPECT_EQ(back.window->start, 1);
  EXPECT_EQ(json::write_fields(back), json::write_fields(p));
}

TEST(JsonFields, OptionalMembersMayBeAbsentOrNull) {
  auto p = json::read_fields<Position>(R"({"from":1,"done":[],"mark":null,"window":{"start":2}})");
  EXPECT_FALSE(p.full);
  EXPECT_FALSE(p.mark);
  ASSERT_TRUE(p.window);
  EXPECT_EQ(p.window->token, "");
  EXPECT_TRUE(p.window->ids.empty());
}

TEST(JsonFields, ErrorsNameThePathNeverTheValue) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"[1]", "the text is not a JSON object"},
      {"not json", "the text is not JSON"},
      {R"({"done":[]})", "from is missing"},
      {R"({"from":"secret-1","done":[]})", "from is not an integer"},
      {R"({"from":1.5,"done":[]})", "from is not an integer"},
      {R"({"from":1,"full":"yes","done":[]})", "full is not true or false"},
      {R"({"from":1,"done":{}})", "done is not an array"},
      {R"({"from":1,"done":[["a",1],["b"]]})", "done.1 is not a two-element array"},
      {R"({"from":1,"done":[["a","secret-2"]]})", "done.0.1 is not an integer"},
      {R"({"from":1,"done":[],"window":[]})", "window is not a JSON object"},
      {R"({"from":1,"done":[],"window":{"token":"t"}})", "window.start is missing"},
      {R"({"from":1,"done":[],"window":{"start":1,"ids":["a",2]}})",
       "window.ids.1 is not a string"},
  };
  for (const auto& [text, says] : bad) {
    try {
      json::read_fields<Position>(text);
      ADD_FAILURE() << text << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), says) << text;
    }
  }
}

}  // namespace
}  // namespace siphon
