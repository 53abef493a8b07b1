#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <siphon/raw_page.hpp>
#include <siphon/window_cursor.hpp>

using siphon::RawPage;

namespace {

siphon::Response reply(std::string body, int status = 200) {
  siphon::Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

RawPage::Spec spec(std::string records, std::vector<std::string> fields,
                   std::vector<std::string> members = {}) {
  RawPage::Spec s;
  s.records = std::move(records);
  s.fields = std::move(fields);
  s.members = std::move(members);
  return s;
}

std::string error_of(const std::string& body, const RawPage::Spec& s) {
  try {
    auto r = reply(body);
    RawPage page(r, s, "GET /events");
  } catch (const siphon::Error& e) {
    return e.what();
  }
  return "";
}

TEST(RawPage, KeepsEachRecordAsSentWithTheFieldsAndMembersAsked) {
  auto r = reply(
      R"({"data":[{"id":7, "created_at":"2026-01-02T03:04:05.120Z","actor":{"id":"u1"},"n":1.50},)"
      R"({"id":"x\"y","created_at":null,"tags":[{"id":9}],"ok":true}],)"
      R"("pagination":{"next_link":"https://h/e?after=2","other":[1,{"next_link":"no"}]}})");
  RawPage page(r, spec("data", {"id", "created_at", "actor.id", "ok"}, {"pagination.next_link"}),
               "GET /events");
  ASSERT_EQ(page.size(), 2u);
  // Numbers and spacing as the vendor sent them: not re-encoded.
  EXPECT_EQ(page.record(0),
            R"({"id":7, "created_at":"2026-01-02T03:04:05.120Z","actor":{"id":"u1"},"n":1.50})");
  EXPECT_EQ(page.record(1), R"({"id":"x\"y","created_at":null,"tags":[{"id":9}],"ok":true})");
  EXPECT_EQ(page.text(0, 0), "7");
  EXPECT_EQ(page.integer(0, 0), 7);
  EXPECT_EQ(page.rfc3339(0, 1), 1767323045120);
  EXPECT_EQ(page.field(0, 2), "u1");
  EXPECT_FALSE(page.field(0, 3));
  EXPECT_EQ(page.text(1, 0), "x\"y");  // unescaped
  EXPECT_FALSE(page.integer(1, 0));
  EXPECT_FALSE(page.field(1, 1));  // null reads as absent
  EXPECT_FALSE(page.field(1, 2));  // "id" inside an array of the record is not "actor.id"
  EXPECT_EQ(page.field(1, 3), "true");
  EXPECT_EQ(page.member(0), "https://h/e?after=2");
  EXPECT_EQ(page.skipped(), 0u);
}

TEST(RawPage, EveryRecordParsesAsTheSameJsonTheDomWouldGive) {
  const std::string body =
      R"({"entries":[{"a":"\u00e9\n","b":[1,2,{"c":null}],"d":-0.0},{"e":{}}],"x":1})";
  auto r = reply(body);
  RawPage page(r, spec("entries", {}), "GET /events");
  rapidjson::Document whole;
  whole.Parse(body.c_str());
  ASSERT_EQ(page.size(), 2u);
  for (size_t i = 0; i < page.size(); ++i) {
    rapidjson::Document one;
    std::string text(page.record(i));
    one.Parse(text.c_str());
    ASSERT_FALSE(one.HasParseError()) << text;
    EXPECT_TRUE(one == whole["entries"][static_cast<rapidjson::SizeType>(i)]) << text;
  }
}

TEST(RawPage, ARecordWithLineBreaksIsRewrittenOnOneLine) {
  auto r = reply(
      "{\"data\": [\n  {\n    \"id\": 1,\n    \"msg\": \"a\\nb\",\n    \"n\": 10.250\n  },\n"
      "  {\"id\": 2}\n]\n}\n");
  RawPage page(r, spec("data", {"id"}), "GET /events");
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page.record(0), R"({"id":1,"msg":"a\nb","n":10.250})");
  EXPECT_EQ(page.record(1), R"({"id": 2})");
  EXPECT_EQ(page.text(0, 0), "1");
  EXPECT_EQ(page.text(1, 0), "2");
}

TEST(RawPage, ABareArrayBodyIsThePage) {
  auto r = reply(R"([{"uuid":"a","published":"2026-01-01T00:00:00Z"},{"uuid":"b"}])");
  RawPage page(r, spec("", {"uuid", "published"}), "GET /api/v1/logs");
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page.text(0, 0), "a");
  EXPECT_EQ(page.text(1, 0), "b");
  EXPECT_EQ(page.rfc3339(0, 1), 1767225600000);
  EXPECT_FALSE(page.rfc3339(1, 1));
}

TEST(RawPage, ItemsThatAreNotObjectsAreSkippedAndCounted) {
  auto r = reply(R"({"data":[1,"two",null,[3],{"id":"4"},true]})");
  RawPage page(r, spec("data", {"id"}), "GET /events");
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page.text(0, 0), "4");
  EXPECT_EQ(page.skipped(), 5u);
}

TEST(RawPage, MissingOrWrongRecordsAndBadJsonAreErrorsNamingWhere) {
  EXPECT_EQ(error_of(R"({"other":[]})", spec("data", {})), "GET /events: member data is missing");
  EXPECT_EQ(error_of(R"({"data":{"a":1}})", spec("data", {})),
            "GET /events: member data is not an array");
  EXPECT_EQ(error_of(R"({"data":"x"})", spec("data", {})),
            "GET /events: member data is not an array");
  EXPECT_EQ(error_of(R"({"data":[]})", spec("", {})),
            "GET /events: member (the document) is not an array");
  EXPECT_EQ(error_of(R"({"data":[{"a":1},)", spec("data", {}))
                .rfind("GET /events: response (HTTP 200) is not valid JSON: ", 0),
            0u);
  EXPECT_NE(error_of(std::string("{\"data\":[]}\0x", 13), spec("data", {})).find("not valid JSON"),
            std::string::npos);
  EXPECT_NE(error_of("  ", spec("data", {})).find("has an empty body"), std::string::npos);
  EXPECT_NE(error_of("{\"data\":[{\"a\":\"\xff\"}]}", spec("data", {})).find("not valid JSON"),
            std::string::npos);
  // A UTF-8 sequence cut short by the end of the body (found by fuzzing: the
  // check read past the end).
  EXPECT_NE(error_of("{\"data\":[],\"n\":\"x\xf1}", spec("data", {})).find("not valid JSON"),
            std::string::npos);
  auto s = spec("data", {});
  s.records_optional = true;
  auto r = reply(R"({"other":1})");
  EXPECT_EQ(RawPage(r, s, "GET /events").size(), 0u);
}

TEST(RawPage, RecordsGoIntoAWindowCursorAsText) {
  siphon::WindowFormat f;
  f.app_type = "t";
  siphon::WindowCursor w(f);
  siphon::Cursor c;
  c.start_time_ms = 1000;
  w.load(c, 1000);
  ASSERT_TRUE(w.open(5000));
  auto r = reply(R"({"data":[{"id":"a","t":2000},{"id":"a","t":2000},{"id":"b","t":3000}]})");
  RawPage page(r, spec("data", {"id", "t"}), "GET /events");
  siphon::Logs logs;
  w.start_page();
  for (size_t i = 0; i < page.size(); ++i)
    w.take(logs, page.record(i), page.text(i, 0), page.integer(i, 1));
  EXPECT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs.duplicates_dropped, 1u);
  EXPECT_EQ(logs.buffer(), R"({"id":"a","t":2000}{"id":"b","t":3000})");
}

}  // namespace
