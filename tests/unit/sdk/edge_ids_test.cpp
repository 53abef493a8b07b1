// siphon::EdgeIds: the bound of a time-windowed poll, the ids delivered at
// it, and the move of the bound when a window closes.
#include <gtest/gtest.h>

#include <siphon/edge_ids.hpp>
#include <siphon/sdk.hpp>
#include <string>
#include <vector>

namespace siphon {
namespace {

using Ids = std::vector<std::string>;

TEST(EdgeIds, SkipsIdsDeliveredAtTheBound) {
  EdgeIds edge(100, {"a", "b"});
  EXPECT_FALSE(edge.fresh("a"));
  EXPECT_FALSE(edge.fresh("b"));
  EXPECT_TRUE(edge.fresh("c"));
}

TEST(EdgeIds, SkipsRepeatsOnOnePageOnly) {
  EdgeIds edge(100, {"a"});
  EXPECT_TRUE(edge.fresh("c"));
  EXPECT_FALSE(edge.fresh("c"));
  edge.start_page();
  EXPECT_TRUE(edge.fresh("c"));  // another page of the window
  EXPECT_FALSE(edge.fresh("a"));
}

TEST(EdgeIds, RecordsWithoutIdAreAlwaysFresh) {
  EdgeIds edge(100, {""});
  EXPECT_TRUE(edge.fresh(""));
  EXPECT_TRUE(edge.fresh(""));
}

TEST(EdgeIds, NoteKeepsTheNewestTimeAndItsIds) {
  EdgeIds edge(100);
  EXPECT_FALSE(edge.newest().has_value());
  edge.note(105, "x");
  edge.note(103, "y");
  edge.note(105, "z");
  edge.note(105, "");
  ASSERT_TRUE(edge.newest().has_value());
  EXPECT_EQ(*edge.newest(), 105);
  EXPECT_EQ(edge.newest_ids(), (Ids{"x", "z"}));
  edge.note(110, "w");
  EXPECT_EQ(*edge.newest(), 110);
  EXPECT_EQ(edge.newest_ids(), Ids{"w"});
}

TEST(EdgeIds, CloseWindowMovesTheBoundToTheNewest) {
  EdgeIds edge(100, {"a"});
  edge.note(120, "p");
  edge.note(120, "q");
  EXPECT_FALSE(edge.close_window());
  EXPECT_EQ(edge.bound(), 120);
  EXPECT_EQ(edge.bound_ids(), (Ids{"p", "q"}));
  EXPECT_FALSE(edge.newest().has_value());
  EXPECT_TRUE(edge.newest_ids().empty());
  // The next page skips what was delivered at the new bound only.
  EXPECT_FALSE(edge.fresh("p"));
  EXPECT_TRUE(edge.fresh("a"));
}

TEST(EdgeIds, CloseWindowAtTheBoundMergesIds) {
  EdgeIds edge(100, {"a", "b"});
  edge.note(100, "b");
  edge.note(100, "c");
  EXPECT_FALSE(edge.close_window());
  EXPECT_EQ(edge.bound(), 100);
  EXPECT_EQ(edge.bound_ids(), (Ids{"a", "b", "c"}));
}

TEST(EdgeIds, CloseWindowWithNothingNewKeepsTheBound) {
  EdgeIds edge(100, {"a"});
  EXPECT_FALSE(edge.close_window());
  EXPECT_EQ(edge.bound(), 100);
  EXPECT_EQ(edge.bound_ids(), Ids{"a"});
  edge.note(90, "old");  // older than the bound: the bound never goes back
  EXPECT_FALSE(edge.close_window());
  EXPECT_EQ(edge.bound(), 100);
  EXPECT_EQ(edge.bound_ids(), Ids{"a"});
}

TEST(EdgeIds, BoundsTheIdsAndSaysWhenItDropped) {
  EdgeIds edge(100, {"a", "b", "c"}, 3);
  edge.note(100, "d");
  edge.note(100, "e");
  EXPECT_TRUE(edge.close_window());
  EXPECT_EQ(edge.bound_ids(), (Ids{"c", "d", "e"}));  // the oldest go first

  EdgeIds later(100, {}, 2);
  for (const char* id : {"p", "q", "r"}) later.note(150, id);
  EXPECT_EQ(later.newest_ids(), (Ids{"p", "q"}));
  EXPECT_FALSE(later.close_window());
  EXPECT_EQ(later.bound(), 150);
  EXPECT_EQ(later.bound_ids(), (Ids{"p", "q"}));
}

TEST(EdgeIds, ResetAndRestoreTheOpenWindow) {
  EdgeIds edge(100, {"a"});
  edge.note(130, "x");
  edge.reset_window();
  EXPECT_FALSE(edge.newest().has_value());
  EXPECT_FALSE(edge.close_window());
  EXPECT_EQ(edge.bound(), 100);

  edge.restore_newest(140, {"m", "n"});
  EXPECT_EQ(*edge.newest(), 140);
  edge.note(140, "o");
  EXPECT_FALSE(edge.close_window());
  EXPECT_EQ(edge.bound(), 140);
  EXPECT_EQ(edge.bound_ids(), (Ids{"m", "n", "o"}));
}

TEST(EdgeIds, IdOfReadsStringsAndNumbers) {
  rapidjson::Document doc;
  doc.Parse(R"([{"id":"abc"},{"id":42},{"id":null},{"other":1},{"id":[1]},7,{"key":"k"}])");
  ASSERT_FALSE(doc.HasParseError());
  const auto& a = doc.GetArray();
  EXPECT_EQ(EdgeIds::id_of(a[0]), "abc");
  EXPECT_EQ(EdgeIds::id_of(a[1]), "42");
  EXPECT_EQ(EdgeIds::id_of(a[2]), "");
  EXPECT_EQ(EdgeIds::id_of(a[3]), "");
  EXPECT_EQ(EdgeIds::id_of(a[4]), "");
  EXPECT_EQ(EdgeIds::id_of(a[5]), "");
  EXPECT_EQ(EdgeIds::id_of(a[6], "key"), "k");
}

TEST(EdgeIds, IdsRoundTripThroughJson) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  EdgeIds::write_ids(w, "ids", {"a", "b\"c"});
  EdgeIds::write_ids(w, "none", {});
  w.EndObject();
  const std::string text(sb.GetString(), sb.GetSize());
  EXPECT_EQ(text, R"({"ids":["a","b\"c"],"none":[]})");

  rapidjson::Document doc;
  doc.Parse(R"({"ids":["a",1,"b\"c",null],"none":[],"wrong":"x"})");
  EXPECT_EQ(EdgeIds::read_ids(doc, "ids"), (Ids{"a", "b\"c"}));
  EXPECT_TRUE(EdgeIds::read_ids(doc, "none").empty());
  EXPECT_TRUE(EdgeIds::read_ids(doc, "wrong").empty());
  EXPECT_TRUE(EdgeIds::read_ids(doc, "missing").empty());
  rapidjson::Document not_object;
  not_object.Parse("[1]");
  EXPECT_TRUE(EdgeIds::read_ids(not_object, "ids").empty());
}

}  // namespace
}  // namespace siphon
