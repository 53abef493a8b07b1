// siphon::paging: next link, Link header, next token and offset.
#include <gtest/gtest.h>

#include <siphon/paging.hpp>

namespace siphon {
namespace {

rapidjson::Document doc(const char* text) {
  rapidjson::Document d;
  d.Parse(text);
  return d;
}

TEST(Paging, NextLinkFromTheBody) {
  const std::string current = "https://api.example.com/logs?page=1";
  EXPECT_EQ(paging::next_link(doc(R"({"pages":{"next":"/logs?page=2"}})"), "pages.next", current),
            "https://api.example.com/logs?page=2");
  EXPECT_EQ(paging::next_link(doc(R"({"pages":{"next":null}})"), "pages.next", current), "");
  EXPECT_EQ(paging::next_link(doc(R"({"pages":{}})"), "pages.next", current), "");
  EXPECT_THROW(paging::next_link(doc(R"({"n":"https://evil.example.org/logs"})"), "n", current),
               Error);
  EXPECT_THROW(
      paging::next_link(doc(R"({"n":"https://api.example.com/logs?page=1"})"), "n", current),
      Error);
}

TEST(Paging, NextLinkFromTheLinkHeader) {
  Response r;
  r.headers = {{"link", R"(<https://api.example.com/logs?after=2>; rel="next")"}};
  EXPECT_EQ(paging::link_header(r, "https://api.example.com/logs"),
            "https://api.example.com/logs?after=2");
  r.headers = {{"Link", R"(<https://api.example.com/logs?after=2>; rel="self")"}};
  EXPECT_EQ(paging::link_header(r, "https://api.example.com/logs"), "");
  EXPECT_EQ(paging::link_header(Response{}, "https://api.example.com/logs"), "");
}

// Okta sends self and next as separate Link headers or as one comma-joined
// header; the host passes repeated headers on as they came.
TEST(Paging, NextLinkFromSeveralLinkHeadersOrOneJoined) {
  const std::string current = "https://acme.okta.com/api/v1/logs?since=x";
  const std::string self = R"(<https://acme.okta.com/api/v1/logs?since=x>; rel="self")";
  const std::string next = R"(<https://acme.okta.com/api/v1/logs?after=17_1>; rel="next")";
  Response several;
  several.headers = {{"Link", self}, {"X-Rate-Limit-Remaining", "5"}, {"link", next}};
  EXPECT_EQ(several.header("Link"), self);
  EXPECT_EQ(several.joined_header("LINK"), self + ", " + next);
  EXPECT_EQ(paging::link_header(several, current), "https://acme.okta.com/api/v1/logs?after=17_1");
  Response joined;
  joined.headers = {{"Link", self + ", " + next}};
  EXPECT_EQ(paging::link_header(joined, current), "https://acme.okta.com/api/v1/logs?after=17_1");
  Response next_first;
  next_first.headers = {{"Link", next}, {"Link", self}};
  EXPECT_EQ(paging::link_header(next_first, current),
            "https://acme.okta.com/api/v1/logs?after=17_1");
  EXPECT_EQ(Response{}.joined_header("Link"), "");
}

// A polling API may answer a short page with a next link equal to the
// current URL: refused by default (a loop), returned when the caller allows it.
TEST(Paging, ALinkHeaderRepeatingTheCurrentUrlOnlyWhenAllowed) {
  const std::string current = "https://acme.okta.com/api/v1/logs?after=17_1";
  Response r;
  r.headers = {{"Link", "<" + current + R"(>; rel="self")"},
               {"Link", "<" + current + R"(>; rel="next")"}};
  EXPECT_THROW(paging::link_header(r, current), Error);
  EXPECT_EQ(paging::link_header(r, current, true), current);
  r.headers = {{"Link", R"(<https://evil.example.org/api/v1/logs?after=1>; rel="next")"}};
  EXPECT_THROW(paging::link_header(r, current, true), Error) << "the origin is checked still";
}

TEST(Paging, HeadersAsWholeNumbers) {
  Response r;
  r.headers = {{"X-RateLimit-Reset", "42"}, {"X-Bad", "4x"}};
  EXPECT_EQ(r.header_int("x-ratelimit-reset"), 42);
  EXPECT_FALSE(r.header_int("X-Bad"));
  EXPECT_FALSE(r.header_int("X-None"));
}

TEST(Paging, NextTokenStopsOnARepeat) {
  EXPECT_EQ(paging::next_token(doc(R"({"nextPageToken":"t2"})"), "nextPageToken", "t1"), "t2");
  EXPECT_EQ(paging::next_token(doc(R"({"nextPageToken":""})"), "nextPageToken", "t1"), "");
  EXPECT_EQ(paging::next_token(doc(R"({})"), "nextPageToken"), "");
  EXPECT_THROW(paging::next_token(doc(R"({"t":"t1"})"), "t", "t1"), Error);
}

TEST(Paging, OffsetEndsOnAShortPageOrTheTotal) {
  EXPECT_EQ(paging::next_offset(0, 100, 100), 100);
  EXPECT_FALSE(paging::next_offset(100, 40, 100));
  EXPECT_FALSE(paging::next_offset(100, 0, 100));
  EXPECT_FALSE(paging::next_offset(100, 100, 100, 200));
  EXPECT_EQ(paging::next_offset(100, 100, 100, 201), 200);
}

}  // namespace
}  // namespace siphon
