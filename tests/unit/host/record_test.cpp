// The output record: exactly five keys in order, the event's bytes passed
// through, one line per event; anything but one JSON object is refused.
#include "sink/record.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

namespace siphon {
namespace {

constexpr const char* kAt = "2026-11-27T17:00:00.123Z";

class RecordTest : public ::testing::Test {
 protected:
  std::string record(std::string_view event) {
    std::string out, why;
    EXPECT_TRUE(writer_.append(out, event, kAt, why)) << why;
    return out;
  }

  // Returns the reason; expects `out` untouched.
  std::string refusal(std::string_view event) {
    std::string out = "earlier\n", why;
    EXPECT_FALSE(writer_.append(out, event, kAt, why)) << event;
    EXPECT_EQ(out, "earlier\n");
    EXPECT_FALSE(why.empty());
    return why;
  }

  RecordWriter writer_{"corp-duo", "duo_auth", "duo"};
};

TEST_F(RecordTest, HasExactlyTheFiveKeysInOrder) {
  std::string line = record(R"({"user":"alice"})");
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  rapidjson::Document doc;
  doc.Parse(line.c_str());
  ASSERT_FALSE(doc.HasParseError());
  ASSERT_TRUE(doc.IsObject());
  std::vector<std::string> keys;
  for (const auto& m : doc.GetObject()) keys.emplace_back(m.name.GetString());
  EXPECT_EQ(keys, (std::vector<std::string>{"app", "type", "service", "collected_at", "event"}));
  EXPECT_STREQ(doc["app"].GetString(), "corp-duo");
  EXPECT_STREQ(doc["type"].GetString(), "duo_auth");
  EXPECT_STREQ(doc["service"].GetString(), "duo");
  EXPECT_STREQ(doc["collected_at"].GetString(), kAt);
  EXPECT_STREQ(doc["event"]["user"].GetString(), "alice");
}

TEST_F(RecordTest, PassesEventBytesThroughUnchanged) {
  const std::string event = R"({ "b" : 1.50, "a":[1, 2 ,3], "u":"\u00e9\/", "n":null })";
  std::string line = record(event);
  EXPECT_EQ(line, std::string(R"({"app":"corp-duo","type":"duo_auth","service":"duo",)") +
                      R"("collected_at":")" + kAt + R"(","event":)" + event + "}\n");
}

TEST_F(RecordTest, AppendsToWhatIsThere) {
  std::string out = "first\n", why;
  ASSERT_TRUE(writer_.append(out, "{}", kAt, why)) << why;
  EXPECT_EQ(out.rfind("first\n{\"app\":", 0), 0u);
}

TEST_F(RecordTest, EscapesNames) {
  RecordWriter odd("we\"ird\\app\n", "t_x", "s");
  std::string out, why;
  ASSERT_TRUE(odd.append(out, "{}", kAt, why)) << why;
  EXPECT_EQ(out.find('\n'), out.size() - 1);
  rapidjson::Document doc;
  doc.Parse(out.c_str());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_STREQ(doc["app"].GetString(), "we\"ird\\app\n");
}

TEST_F(RecordTest, StripsNewlinesOutsideStringsButKeepsEscapesInside) {
  std::string line = record("{\r\n  \"msg\": \"line1\\nline2\",\n  \"q\": \"a\\\\\"\n}\n");
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  EXPECT_EQ(line.find('\r'), std::string::npos) << line;
  EXPECT_NE(line.find(R"("line1\nline2")"), std::string::npos) << line;
  rapidjson::Document doc;
  doc.Parse(line.c_str());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_STREQ(doc["event"]["msg"].GetString(), "line1\nline2");
  EXPECT_STREQ(doc["event"]["q"].GetString(), "a\\");
}

TEST_F(RecordTest, RefusesArrays) { EXPECT_NE(refusal("[1,2]").find("object"), std::string::npos); }

TEST_F(RecordTest, RefusesScalars) {
  EXPECT_NE(refusal("42").find("object"), std::string::npos);
  EXPECT_NE(refusal(R"("text")").find("object"), std::string::npos);
  EXPECT_NE(refusal("null").find("object"), std::string::npos);
}

TEST_F(RecordTest, RefusesInvalidJson) {
  EXPECT_NE(refusal(R"({"a":)").find("not valid JSON"), std::string::npos);
  EXPECT_NE(refusal("").find("not valid JSON"), std::string::npos);
  EXPECT_NE(refusal("{'a':1}").find("not valid JSON"), std::string::npos);
  EXPECT_NE(refusal("{\"a\":\"\xff\"}").find("not valid JSON"), std::string::npos);
}

TEST_F(RecordTest, RefusesAUtf8SequenceCutShortAtTheEndOfTheEvent) {
  // A lead byte asking for three more bytes where only the event's last
  // characters follow: refused, and (under ASan) nothing read past the end.
  EXPECT_NE(refusal("{\"a\":\"\xf1\"}").find("not valid JSON"), std::string::npos);
  EXPECT_NE(refusal("{\"a\":\"x\"}\xf1").find("trailing"), std::string::npos);
  std::string out;
  std::string why;
  ASSERT_TRUE(writer_.append(out, "{\"a\":\"\xc3\xa9\"}", kAt, why)) << why;
  EXPECT_EQ(out.back(), '\n');
  EXPECT_NE(out.find("{\"a\":\"\xc3\xa9\"}"), std::string::npos);
}

TEST_F(RecordTest, RefusesTrailingGarbage) {
  EXPECT_NE(refusal("{} x").find("trailing"), std::string::npos);
  EXPECT_NE(refusal("{}{}").find("trailing"), std::string::npos);
}

TEST_F(RecordTest, AllowsTrailingWhitespace) {
  std::string line = record("{\"a\":1}  \n");
  EXPECT_NE(line.find(R"("event":{"a":1}})"), std::string::npos) << line;
}

TEST(JsonQuoteTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(json_quote("a\"b\\c\x01"), "\"a\\\"b\\\\c\\u0001\"");
  EXPECT_EQ(json_quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
}

}  // namespace
TEST_F(RecordTest, ABatchKeepsTheLinesAndASpanOfEachRecordAndItsEvent) {
  RecordBatch batch;
  std::string why;
  ASSERT_TRUE(writer_.append(batch, R"({"id":1})", kAt, why)) << why;
  ASSERT_TRUE(writer_.append(batch, "{\"id\":\n2}", kAt, why)) << why;
  EXPECT_FALSE(writer_.append(batch, "[1]", kAt, why));
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch.lines, record(R"({"id":1})") + record("{\"id\":\n2}"));
  EXPECT_EQ(batch.event(0), R"({"id":1})");
  EXPECT_EQ(batch.event(1), R"({"id":2})") << "the event as it stands in the line";
  EXPECT_EQ(batch.line(1), record("{\"id\":\n2}"));
  EXPECT_EQ(std::string(batch.record(0)) + "\n", std::string(batch.line(0)));
}

TEST(RecordIdTest, IsTheHexSha256OfAppAndEventSoTheSameEventKeepsItsId) {
  std::string a = record_id("corp-duo", R"({"id":1})");
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(a, record_id("corp-duo", R"({"id":1})"));
  EXPECT_NE(a, record_id("corp-duo", R"({"id":2})"));
  EXPECT_NE(a, record_id("other-app", R"({"id":1})"));
  // App and event are separated: moving bytes between them changes the id.
  EXPECT_NE(record_id("ab", "c"), record_id("a", "bc"));
}

TEST(RecordIdTest, ADeclaredEventIdFieldKeysTheRecordByTheVendorsIdNotTheBytes) {
  RecordWriter writer{"corp-box", "box_admin_events", "box"};
  RecordBatch batch;
  batch.app = "corp-box";
  batch.id_field = "event_id";
  std::string why;
  ASSERT_TRUE(writer.append(batch, R"({"event_id":"e1","n":1})", kAt, why));
  ASSERT_TRUE(writer.append(batch, R"({"event_id":"e1","n":2})", kAt, why));
  ASSERT_TRUE(writer.append(batch, R"({"event_id":7})", kAt, why));
  ASSERT_TRUE(writer.append(batch, R"({"other":"e1"})", kAt, why));
  EXPECT_EQ(record_id(batch, 0), record_id(batch, 1)) << "same vendor id, other bytes";
  EXPECT_EQ(record_id(batch, 0), record_id("corp-box", "id:e1"));
  EXPECT_EQ(record_id(batch, 2), record_id("corp-box", "id:7"));
  EXPECT_EQ(record_id(batch, 3), record_id("corp-box", R"({"other":"e1"})"))
      << "without the member: the bytes";
  batch.id_field.clear();
  EXPECT_NE(record_id(batch, 0), record_id(batch, 1));
}

}  // namespace siphon
