// siphon::WindowCursor: windows with a lower bound that moves only when a
// window is read in full, page positions, edge ids, lookback, and the JSON
// the SDK writes for them.
#include <gtest/gtest.h>

#include <siphon/auth_helpers.hpp>
#include <siphon/window_cursor.hpp>

namespace siphon {
namespace {

WindowFormat seconds_format() {
  WindowFormat f;
  f.app_type = "test_logs";
  return f;
}

rapidjson::Document event(const char* id, int64_t t) {
  rapidjson::Document d;
  d.Parse(("{\"id\":\"" + std::string(id) + "\",\"t\":" + std::to_string(t) + "}").c_str());
  return d;
}

struct NullHost {
  siphon_host_api api{};
  siphon_create_args args{};
  NullHost() {
    api.struct_size = sizeof(api);
    api.log = [](siphon_host*, int32_t, const char*) {};
    args.struct_size = sizeof(args);
    args.host_api = &api;
  }
};

TEST(WindowCursor, StartsAtTheGivenTimeAndOpensOnlyAfterTheBound) {
  WindowCursor w(seconds_format());
  w.load(Cursor{}, 100);
  EXPECT_FALSE(w.is_open());
  EXPECT_EQ(w.bound(), 100);
  EXPECT_FALSE(w.open(100));
  EXPECT_EQ(w.save(), R"({"after":100,"after_ids":[]})");
  EXPECT_TRUE(w.open(160));
  EXPECT_EQ(w.end(), 160);
}

TEST(WindowCursor, TheBoundMovesToTheNewestTimeOnlyWhenTheWindowCloses) {
  NullHost host;
  Context ctx(host.args);
  WindowCursor w(seconds_format());
  w.load(Cursor{}, 100);
  ASSERT_TRUE(w.open(200));
  Logs logs;
  w.start_page();
  for (auto [id, t] : {std::pair{"a", 150}, {"b", 120}, {"c", 150}}) {
    auto e = event(id, t);
    EXPECT_TRUE(w.take(logs, e, id, t));
  }
  w.set_page("next", "https://x/logs?page=2");
  w.done(logs);
  EXPECT_TRUE(logs.more_to_poll);
  EXPECT_EQ(logs.newest_event_time_ms, 150000);
  EXPECT_EQ(logs.next_cursor,
            R"({"after":100,"after_ids":[],"before":200,"next":"https://x/logs?page=2",)"
            R"("newest":150,"newest_ids":["a","c"]})");

  // A stop between pages: the next poll resumes from the saved page.
  WindowCursor resumed(seconds_format());
  resumed.load(logs.next_cursor, 0);
  EXPECT_TRUE(resumed.is_open());
  EXPECT_EQ(resumed.page("next"), "https://x/logs?page=2");
  resumed.start_page();
  Logs second;
  auto more = event("d", 150);
  EXPECT_TRUE(resumed.take(second, more, "d", 150));
  resumed.close(ctx);
  resumed.done(second);
  EXPECT_FALSE(second.more_to_poll);
  EXPECT_EQ(second.next_cursor, R"({"after":150,"after_ids":["a","c","d"]})");

  // The next window skips what was delivered at its bound.
  WindowCursor next(seconds_format());
  next.load(second.next_cursor, 0);
  ASSERT_TRUE(next.open(300));
  next.start_page();
  Logs third;
  auto again = event("a", 150);
  EXPECT_FALSE(next.take(third, again, "a", 150));
  EXPECT_EQ(third.duplicates_dropped, 1u);
  EXPECT_TRUE(third.empty());
}

TEST(WindowCursor, PageMembersAndRestart) {
  WindowCursor w(seconds_format());
  w.load(Cursor{}, 10);
  ASSERT_TRUE(w.open(20));
  w.set_page("page", int64_t{3});
  w.set_page("starting_after", "abc");
  WindowCursor r(seconds_format());
  r.load(w.save(), 0);
  EXPECT_EQ(r.page_int("page"), 3);
  EXPECT_EQ(r.page("starting_after"), "abc");
  r.restart();
  EXPECT_EQ(r.page("starting_after"), "");
  EXPECT_TRUE(r.is_open());
}

TEST(WindowCursor, ReadsTimesAsIntegersDigitStringsOrRfc3339) {
  WindowFormat f = seconds_format();
  f.time = WindowFormat::Time::kRfc3339;
  f.lower = "since";
  f.lower_ids = "since_ids";
  f.upper = "until";
  WindowCursor w(f);
  w.load(R"({"since":"2026-11-27T17:00:00.000Z","since_ids":[1,"7"],"until":"1795798860000"})", 0);
  EXPECT_EQ(w.bound(), 1795798800000);
  EXPECT_EQ(w.end(), 1795798860000);
  EXPECT_EQ(w.edge().bound_ids(), (std::vector<std::string>{"7"}));
  EXPECT_EQ(w.save(), R"({"since":"2026-11-27T17:00:00.000Z","since_ids":["7"],)"
                      R"("until":"2026-11-27T17:01:00.000Z"})");
}

TEST(WindowCursor, ReadsTheIntercomCursorsWrittenBeforeTheSdkHadIt) {
  const std::string stored =
      R"({"after":1714582790,"after_ids":["5519381"],"before":1714583000,)"
      R"("next":"https://api.intercom.io/admins/activity_logs?created_at_after=1714582790&page=3",)"
      R"("page":0,"starting_after":"","newest":1714582911,"newest_ids":["5519407"]})";
  WindowCursor w(seconds_format());
  w.load(stored, 0);
  EXPECT_EQ(w.bound(), 1714582790);
  EXPECT_EQ(w.edge().bound_ids(), (std::vector<std::string>{"5519381"}));
  EXPECT_EQ(w.end(), 1714583000);
  EXPECT_EQ(w.page("next"),
            "https://api.intercom.io/admins/activity_logs?created_at_after=1714582790&page=3");
  EXPECT_EQ(w.edge().newest(), 1714582911);
  EXPECT_EQ(w.edge().newest_ids(), (std::vector<std::string>{"5519407"}));
  w.start_page();
  EXPECT_FALSE(w.fresh("5519381"));
}

TEST(WindowCursor, ReadsAnAliyunCursorInItsOwnMemberNames) {
  WindowFormat f;
  f.app_type = "aliyun_actiontrail";
  f.lower = "checkpoint";
  f.lower_ids = f.newest = "";
  f.upper = "end";
  f.seen = "known";
  f.seen_next = "boundary";
  f.advance_to_end = true;
  const std::string stored =
      R"({"checkpoint":1714580000,"known":["a1"],"end":1714582000,"token":"t2",)"
      R"("boundary":["b1"],"restarts":1})";
  WindowCursor w(f);
  w.load(stored, 0);
  EXPECT_EQ(w.bound(), 1714580000);
  EXPECT_EQ(w.end(), 1714582000);
  EXPECT_EQ(w.page("token"), "t2");
  EXPECT_EQ(w.page_int("restarts"), 1);
  w.start_page();
  EXPECT_FALSE(w.fresh("a1"));
  EXPECT_FALSE(w.fresh("b1"));
  EXPECT_EQ(w.save(), R"({"checkpoint":1714580000,"known":["a1"],"end":1714582000,"restarts":1,)"
                      R"("token":"t2","boundary":["b1"]})");
}

TEST(DedupeHash, IsAPrefixOfTheSha256Hex) {
  // sha256("abc") = ba7816bf8f01cfea414140de5dae2223...
  EXPECT_EQ(auth::dedupe_hash("abc"), "ba7816bf8f01cfea");
  EXPECT_EQ(auth::dedupe_hash("abc", 12), "ba7816bf8f01");
}

TEST(WindowCursor, AnInvalidCursorNamesTheAppType) {
  WindowCursor w(seconds_format());
  for (const char* text : {"nope", "[]", R"({"before":1})", R"({"after":"soon"})"}) {
    try {
      w.load(text, 0);
      FAIL() << text;
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(),
                   "test_logs cursor is not valid (reset it with siphon state reset APP)");
    }
  }
}

TEST(WindowCursor, AdvanceToEndWithALookbackRereadsAndSkipsWhatItDelivered) {
  NullHost host;
  Context ctx(host.args);
  WindowFormat f = seconds_format();
  f.advance_to_end = true;
  f.lookback = 50;
  f.max_ids = 2;
  f.lower_ids = "";
  f.newest = "";
  WindowCursor w(f);
  w.load(Cursor{}, 100);
  ASSERT_TRUE(w.open(200));
  Logs logs;
  w.start_page();
  for (auto [id, t] : {std::pair{"old", 120}, {"late1", 160}, {"late2", 170}, {"late3", 180}}) {
    auto e = event(id, t);
    w.take(logs, e, id, t);
  }
  EXPECT_EQ(w.save(), R"({"after":100,"seen":[],"before":200,"seen_next":["late1","late2"]})");
  w.close(ctx);  // late3 is past max_ids: it may come twice
  EXPECT_EQ(w.save(), R"({"after":150,"seen":["late1","late2"]})");

  WindowCursor n(f);
  n.load(w.save(), 0);
  ASSERT_TRUE(n.open(260));
  EXPECT_EQ(n.bound(), 150);
  Logs again;
  n.start_page();
  for (auto [id, t] : {std::pair{"late1", 160}, {"late3", 180}, {"new", 175}}) {
    auto e = event(id, t);
    n.take(again, e, id, t);
  }
  EXPECT_EQ(again.size(), 2u);  // late3 (forgotten) and new
  EXPECT_EQ(again.duplicates_dropped, 1u);
  n.raise_bound(170);
  EXPECT_EQ(n.bound(), 170);
  n.raise_bound(10);
  EXPECT_EQ(n.bound(), 170);
}

// A record delivered in one window and skipped in the next one's lookback
// is still remembered for the window after, as long as its time is in that
// window's lookback too.
TEST(WindowCursor, AnIdSkippedInTheLookbackStaysRememberedForTheNextWindow) {
  NullHost host;
  Context ctx(host.args);
  WindowFormat f = seconds_format();
  f.advance_to_end = true;
  f.lookback = 100;
  auto read = [&](const std::string& cursor, int64_t end,
                  const std::vector<std::pair<const char*, int64_t>>& page) {
    WindowCursor w(f);
    w.load(cursor, 0);
    EXPECT_TRUE(w.open(end));
    Logs logs;
    w.start_page();
    for (auto [id, t] : page) {
      auto e = event(id, t);
      w.take(logs, e, id, t);
    }
    w.close(ctx);
    return std::pair{w.save(), logs.size()};
  };
  auto [first, n1] = read("", 200, {{"a", 150}, {"b", 190}});
  EXPECT_EQ(n1, 2u);
  EXPECT_EQ(first, R"({"after":100,"after_ids":[],"seen":["a","b"]})");
  auto [second, n2] = read(first, 250, {{"a", 150}, {"b", 190}, {"c", 240}});
  EXPECT_EQ(n2, 1u);
  EXPECT_EQ(second, R"({"after":150,"after_ids":[],"seen":["a","b","c"]})");
  auto [third, n3] = read(second, 280, {{"a", 150}, {"b", 190}, {"c", 240}});
  EXPECT_EQ(n3, 0u) << "a and b were skipped in the second window, not forgotten";
  EXPECT_EQ(third, R"({"after":180,"after_ids":[],"seen":["b","c"]})");
}

}  // namespace
}  // namespace siphon
