// Tests of the hot path's fast cases: the record writer validates events
// where it copied them (SSE2 scanning up to the buffer's NUL) and skips UTF-8
// validation for pure ASCII. These check that the fast paths accept and
// refuse exactly what a plain RapidJSON parse of the event's bytes does.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/memorystream.h>

#include <random>
#include <string>

#include "bench_events.hpp"
#include "sink/record.hpp"

namespace {

constexpr char kAt[] = "2026-11-27T17:00:00.123Z";
const std::string kPrefix =
    R"({"app":"a","type":"box_admin_events","service":"box","collected_at":"2026-11-27T17:00:00.123Z","event":)";

// What the record writer should decide: one JSON object, then only whitespace.
bool reference_accepts(const std::string& event) {
  rapidjson::MemoryStream ms(event.data(), event.size());
  rapidjson::Document doc;
  doc.ParseStream<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseStopWhenDoneFlag>(ms);
  if (doc.HasParseError() || !doc.IsObject()) return false;
  for (size_t i = ms.Tell(); i < event.size(); ++i)
    if (event[i] != ' ' && event[i] != '\n' && event[i] != '\r' && event[i] != '\t') return false;
  return true;
}

class HotPath : public ::testing::Test {
 protected:
  siphon::RecordWriter writer_{"a", "box_admin_events", "box"};
  bool append(std::string& out, const std::string& event) {
    std::string why;
    return writer_.append(out, event, kAt, why);
  }
};

TEST_F(HotPath, BenchEventsPassThroughByteForByte) {
  std::string out;
  for (size_t i = 0; i < 50; ++i) {
    std::string event = siphon::bench::make_event(i, "2026-11-27T10:15:32-07:00");
    out.clear();
    ASSERT_TRUE(append(out, event)) << event;
    EXPECT_EQ(out, kPrefix + event + "}\n");
  }
}

TEST_F(HotPath, EscapesAndUtf8AreKeptAsSent) {
  const std::string event = R"({"q":"say \"hi\" \\ back\/slash \u0041\u00e9","long":")" +
                            std::string(40, 'x') + R"(\t)" + std::string(17, 'y') +
                            "\",\"name\":\"Zo\xc3\xab \xe2\x82\xac\"}";
  std::string out;
  ASSERT_TRUE(append(out, event));
  EXPECT_EQ(out, kPrefix + event + "}\n");
}

TEST_F(HotPath, RefusesWhatAPlainParseRefuses) {
  for (const std::string& bad :
       {std::string("{\"a\":\"x\0y\"}", 11), std::string("{}\0", 3),
        std::string("{\"a\":1}\0{}", 10), std::string("{\"a\":\"\xc3\x28\"}"),
        std::string("{\"a\":\"\xff\"}"),
        std::string("{\"a\":\"unterminated") + std::string(40, 'z'), std::string("{\"a\":tru}"),
        std::string("{\"a\":\"ctl\x01\"}")}) {
    std::string out = "kept\n";
    EXPECT_FALSE(append(out, bad)) << bad;
    EXPECT_EQ(out, "kept\n");
    EXPECT_FALSE(reference_accepts(bad));
  }
}

TEST_F(HotPath, LineBreaksOutsideStringsGoEscapedOnesStay) {
  const std::string event = "{\r\n \"a\" :\t\"l1\\nl2\\r\",\n\"b\": [1,\r\n2]}\r\n  ";
  std::string out;
  ASSERT_TRUE(append(out, event));
  EXPECT_EQ(out, kPrefix + "{ \"a\" :\t\"l1\\nl2\\r\",\"b\": [1,2]}" + "}\n");
}

// Every prefix of valid events (cut anywhere, including inside escapes and
// multi-byte characters) and single-byte changes: the writer agrees with the
// reference, and what it accepts comes out as sent.
TEST_F(HotPath, AgreesWithAPlainParseOnCutsAndMutations) {
  std::mt19937 rng(12345);
  const std::string base = siphon::bench::make_event(7, "2026-11-27T10:15:32-07:00");
  const std::string utf8 = R"({"k":"caf\u00e9 \"q\" )" + std::string("\xc3\xa9\xe2\x82\xac") +
                           R"(","n":[1,2.5e3,-0,true,null],"o":{"p":"\\"}})";
  const char kBytes[] = {'"',  '\\', '{', '}',    '[',    ']',    ',',    ':', ' ',
                         '\n', 'a',  '0', '\x01', '\x7f', '\xc3', '\xff', '\0'};
  size_t checked = 0;
  for (const std::string& valid : {base, utf8}) {
    for (size_t cut = 0; cut <= valid.size(); ++cut) {
      std::string event = valid.substr(0, cut);
      std::string out;
      ASSERT_EQ(append(out, event), reference_accepts(event)) << event;
      ++checked;
    }
    for (int i = 0; i < 2000; ++i) {
      std::string event = valid;
      event[rng() % event.size()] = kBytes[rng() % sizeof kBytes];
      std::string out;
      bool ok = append(out, event);
      ASSERT_EQ(ok, reference_accepts(event)) << event;
      if (ok && event.find_first_of("\r\n") == std::string::npos) {
        EXPECT_EQ(out, kPrefix + event.substr(0, event.find_last_of('}') + 1) + "}\n");
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 4000u);
}

}  // namespace
