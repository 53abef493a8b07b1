// siphon::csv::to_json_rows: CSV bodies as one JSON object per row.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <siphon/csv.hpp>
#include <siphon/sdk.hpp>

namespace siphon {
namespace {

TEST(Csv, RowsAreKeyedByTheHeaderInFileOrder) {
  auto r = csv::to_json_rows("user,ip\nalice,10.0.0.1\nbob,10.0.0.2\n", "report");
  ASSERT_EQ(r.json.size(), 2u);
  EXPECT_EQ(r.json[0], R"({"user":"alice","ip":"10.0.0.1"})");
  EXPECT_EQ(r.json[1], R"({"user":"bob","ip":"10.0.0.2"})");
  EXPECT_EQ(r.short_rows + r.long_rows, 0u);
}

TEST(Csv, QuotedFieldsKeepCommasQuotesAndLineBreaks) {
  auto r =
      csv::to_json_rows("\xEF\xBB\xBF\"a\",\"b\"\r\n\"x, y\",\"say \"\"hi\"\"\r\nbye\"\r\n", "f");
  ASSERT_EQ(r.json.size(), 1u);
  rapidjson::Document d;
  d.Parse(r.json[0].c_str());
  ASSERT_TRUE(d.IsObject()) << r.json[0];
  EXPECT_STREQ(d["a"].GetString(), "x, y") << "the byte order mark is not part of the first key";
  EXPECT_STREQ(d["b"].GetString(), "say \"hi\"\r\nbye");
}

TEST(Csv, RaggedRowsAreCountedAndKeptWhole) {
  auto r = csv::to_json_rows("a,b\n1\n1,2,3,4\n", "f");
  ASSERT_EQ(r.json.size(), 2u);
  EXPECT_EQ(r.json[0], R"({"a":"1"})");
  EXPECT_EQ(r.json[1], R"({"a":"1","b":"2","_column_3":"3","_column_4":"4"})");
  EXPECT_EQ(r.short_rows, 1u);
  EXPECT_EQ(r.long_rows, 1u);
}

TEST(Csv, NoRowsFromAnEmptyBodyOrAHeaderAlone) {
  EXPECT_TRUE(csv::to_json_rows("", "f").json.empty());
  EXPECT_TRUE(csv::to_json_rows("a,b\r\n", "f").json.empty());
}

TEST(Csv, InvalidQuotingNamesWhatAndWhere) {
  for (const char* bad : {"a\n\"open\n", "a\n\"x\"y\"\n"}) {
    try {
      csv::to_json_rows(bad, "export 7");
      ADD_FAILURE() << bad << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("export 7: CSV ", 0), 0u) << e.what();
    }
  }
}

}  // namespace
}  // namespace siphon
