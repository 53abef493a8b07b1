// The C++ SDK's own pieces: Logs, URL encoding, Context, and the thunks that
// turn exceptions into status codes.
#include <gtest/gtest.h>

#include <siphon/sdk.hpp>

namespace {

siphon_create_args make_args(const std::vector<siphon_pair>& auth,
                             const std::vector<siphon_pair>& options) {
  siphon_create_args a{};
  a.struct_size = sizeof(a);
  a.app_name = "corp-test";
  a.auth = auth.data();
  a.auth_count = static_cast<uint32_t>(auth.size());
  a.options = options.data();
  a.option_count = static_cast<uint32_t>(options.size());
  a.validate_only = 1;
  return a;
}

TEST(Logs, EventsAreLaidEndToEndWithOffsets) {
  siphon::Logs logs;
  logs.add(R"({"a":1})");
  rapidjson::Document d;
  d.Parse(R"({ "b" : [1, 2] })");
  logs.add(d);
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs.buffer(), R"({"a":1}{"b":[1,2]})");
  EXPECT_EQ(logs.offsets(), (std::vector<uint64_t>{0, 7, 18}));
}

TEST(UrlEncoding, KeepsUnreservedAndUsesUpperCaseHex) {
  EXPECT_EQ(siphon::url_encode("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(siphon::url_encode("a b/c+d=é"), "a%20b%2Fc%2Bd%3D%C3%A9");
  EXPECT_EQ(siphon::encode_params({{"q", "x y"}, {"n", "1"}}), "q=x%20y&n=1");
}

TEST(UrlEncoding, SortedParamsSortByEncodedNameThenValue) {
  EXPECT_EQ(siphon::encode_params_sorted({}), "");
  EXPECT_EQ(siphon::encode_params_sorted({{"q", "x y"}, {"n", "1"}}), "n=1&q=x%20y");
  // Repeated names keep both pairs, ordered by value.
  EXPECT_EQ(siphon::encode_params_sorted({{"a", "2"}, {"b", ""}, {"a", "1"}}), "a=1&a=2&b=");
  // Order is of the encoded bytes: "%" (0x25) sorts before letters, "_" after
  // upper case, and upper case before lower case.
  EXPECT_EQ(siphon::encode_params_sorted({{"b", "1"}, {"a_b", "2"}, {"A", "3"}, {" x", "4"}}),
            "%20x=4&A=3&a_b=2&b=1");
  EXPECT_EQ(
      siphon::encode_params_sorted(
          {{"mintime", "1300000000"}, {"limit", "1000"}, {"next_offset", "1529000000000,abc-123"}}),
      "limit=1000&mintime=1300000000&next_offset=1529000000000%2Cabc-123");
}

TEST(Context, BaseUrlReplacesSchemeHostAndPortOnly) {
  std::vector<siphon_pair> opts{{"base_url", "http://127.0.0.1:8080"}};
  auto args = make_args({}, opts);
  siphon::Context ctx(args);
  EXPECT_EQ(ctx.vendor_url("https://api.box.com/2.0/events?limit=5"),
            "http://127.0.0.1:8080/2.0/events?limit=5");
  auto plain = make_args({}, {});
  siphon::Context no_base(plain);
  EXPECT_EQ(no_base.vendor_url("https://api.box.com/oauth2/token"),
            "https://api.box.com/oauth2/token");
}

TEST(Context, OptionsAndAuthValues) {
  std::vector<siphon_pair> auth{{"token", "abc"}};
  std::vector<siphon_pair> opts{{"limit", "50"}, {"bad", "5x"}};
  auto args = make_args(auth, opts);
  siphon::Context ctx(args);
  EXPECT_EQ(ctx.auth("token"), "abc");
  EXPECT_TRUE(ctx.has_auth("token"));
  EXPECT_FALSE(ctx.has_auth("other"));
  EXPECT_EQ(ctx.option_int("limit", 1), 50);
  EXPECT_EQ(ctx.option_int("absent", 7), 7);
  try {
    ctx.option_int("bad", 1);
    FAIL() << "no error";
  } catch (const siphon::Error& e) {
    EXPECT_NE(std::string(e.what()).find("option bad"), std::string::npos);
  }
  EXPECT_THROW(ctx.get("https://example.com/"), siphon::Error) << "no network when validating";
}

TEST(Context, OptionsOfAFamilyComeWithoutTheirPrefixInNameOrder) {
  std::vector<siphon_pair> opts{{"header.X-B", "2"},      {"headers", "no"}, {"header.X-A", "1"},
                                {"query.after", "{{x}}"}, {"header.", "e"},  {"header", "no"}};
  auto args = make_args({}, opts);
  siphon::Context ctx(args);
  EXPECT_EQ(ctx.options_with_prefix("header."),
            (siphon::Params{{"", "e"}, {"X-A", "1"}, {"X-B", "2"}}));
  EXPECT_EQ(ctx.options_with_prefix("query."), (siphon::Params{{"after", "{{x}}"}}));
  EXPECT_TRUE(ctx.options_with_prefix("body.").empty());
}

TEST(Context, BoundedOptionIntNamesTheOptionAndItsRange) {
  std::vector<siphon_pair> opts{{"limit", "50"}, {"bad", "x"}};
  auto args = make_args({}, opts);
  siphon::Context ctx(args);
  EXPECT_EQ(ctx.option_int("limit", 1, 1, 50), 50);
  EXPECT_EQ(ctx.option_int("absent", 70, 1, 50), 70) << "the fallback is the plugin's own";
  try {
    ctx.option_int("limit", 1, 1, 49);
    FAIL() << "no error";
  } catch (const siphon::Error& e) {
    EXPECT_STREQ(e.what(), "option limit: must be 1 to 49");
  }
  EXPECT_THROW(ctx.option_int("limit", 1, 51, 100), siphon::Error);
  EXPECT_THROW(ctx.option_int("bad", 1, 0, 10), siphon::Error);
}

TEST(Response, InvalidJsonNamesWhatAndWhere) {
  siphon::Response r;
  r.status = 200;
  r.body = "<html>oops</html>";
  try {
    r.json("box events");
    FAIL() << "no error";
  } catch (const siphon::Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("box events"), std::string::npos) << what;
    EXPECT_NE(what.find("not valid JSON"), std::string::npos) << what;
  }
  r.headers = {{"Retry-After", "3"}};
  EXPECT_EQ(r.header("retry-after"), "3");
}

TEST(Response, HtmlErrorPageAndEmptyBodyAreClearErrors) {
  siphon::Response r;
  r.status = 200;
  r.headers = {{"Content-Type", "text/html; charset=utf-8"}};
  r.body = "<!DOCTYPE html><title>Gateway</title>";
  try {
    r.json("events");
    FAIL() << "no error";
  } catch (const siphon::Error& e) {
    EXPECT_NE(std::string(e.what()).find("text/html"), std::string::npos) << e.what();
  }
  r.body = " \r\n";
  try {
    r.json("events");
    FAIL() << "no error";
  } catch (const siphon::Error& e) {
    EXPECT_NE(std::string(e.what()).find("empty body"), std::string::npos) << e.what();
  }
}

TEST(JsonGuard, AMissingMemberThrowsInsteadOfAborting) {
  rapidjson::Document d;
  d.Parse(R"({"entries":[]})");
  EXPECT_THROW(d["next_stream_position"].GetString(), std::runtime_error);
  EXPECT_THROW(d["entries"].GetObject(), std::runtime_error);
}

// An app whose polls fail in the ways a plugin can fail.
class Failing : public siphon::App {
 public:
  static std::string service() { return "test"; }
  static std::string type() { return "failing"; }
  static siphon::AuthInfo required_auth_info() { return {}; }
  explicit Failing(siphon::Context& ctx) : App(ctx) {}
  siphon::Logs gather_logs(const siphon::Cursor& cursor) override {
    if (cursor.value == "auth") throw siphon::AuthRejected("token refused");
    if (cursor.value == "later") throw siphon::RetryLater("HTTP 503");
    if (cursor.value == "json") {
      rapidjson::Document d;
      d.Parse("{}");
      (void)d["missing"].GetInt();
    }
    if (cursor.value == "other") throw 42;
    siphon::Logs logs;
    logs.add(R"({"ok":true})");
    logs.next_cursor = "next";
    logs.more_to_poll = true;
    return logs;
  }
};

TEST(Thunks, ExceptionsBecomeStatusCodesAndLastError) {
  const siphon_plugin* p = siphon::detail::make_plugin<Failing>("t", "1", SIPHON_ABI_MAJOR);
  ASSERT_NE(p, nullptr);
  const siphon_app_type* t = p->app_types[0];
  auto args = make_args({}, {});
  siphon_instance* inst = nullptr;
  ASSERT_EQ(t->create(&args, &inst), SIPHON_OK);
  auto poll = [&](const std::string& cursor, siphon_poll_result& r) {
    siphon_poll_args a{};
    a.struct_size = sizeof(a);
    a.cursor = cursor.data();
    a.cursor_len = cursor.size();
    return t->poll(inst, &a, &r);
  };
  siphon_poll_result r{};
  EXPECT_EQ(poll("auth", r), SIPHON_AUTH_REJECTED);
  EXPECT_STREQ(t->last_error(inst), "token refused");
  EXPECT_EQ(poll("later", r), SIPHON_RETRY_LATER);
  EXPECT_EQ(poll("json", r), SIPHON_ERROR);
  EXPECT_NE(std::string(t->last_error(inst)).find("unexpected JSON shape"), std::string::npos);
  EXPECT_EQ(poll("other", r), SIPHON_ERROR);
  ASSERT_EQ(poll("", r), SIPHON_OK);
  EXPECT_EQ(r.event_count, 1u);
  EXPECT_EQ(std::string(r.events_buf, r.event_offsets[1]), R"({"ok":true})");
  EXPECT_EQ(std::string(r.next_cursor, r.next_cursor_len), "next");
  EXPECT_EQ(r.has_more, 1);
  EXPECT_STREQ(t->last_error(inst), "");
  t->destroy(inst);
  EXPECT_EQ(siphon::detail::make_plugin<Failing>("t", "1", SIPHON_ABI_MAJOR + 1), nullptr);
}

}  // namespace

TEST(NextPageUrl, KeepsSameOriginAndResolvesPaths) {
  EXPECT_EQ(siphon::next_page_url("https://api.example.com/v1/x?page=2",
                                  "https://api.example.com/v1/x?page=1"),
            "https://api.example.com/v1/x?page=2");
  EXPECT_EQ(siphon::next_page_url("https://API.example.com:443/a", "https://api.example.com/b"),
            "https://API.example.com:443/a");
  EXPECT_EQ(siphon::next_page_url("/v1/x?cursor=abc", "http://127.0.0.1:8080/v1/x?cursor=1"),
            "http://127.0.0.1:8080/v1/x?cursor=abc");
}

TEST(NextPageUrl, RefusesAnotherOriginOrScheme) {
  const std::string cur = "https://api.example.com/v1/x";
  EXPECT_THROW(siphon::next_page_url("https://evil.example.net/v1/x", cur), siphon::Error);
  EXPECT_THROW(siphon::next_page_url("http://api.example.com/v1/x", cur), siphon::Error);
  EXPECT_THROW(siphon::next_page_url("https://api.example.com:8443/v1/x", cur), siphon::Error);
  EXPECT_THROW(siphon::next_page_url("//evil.example.net/x", cur), siphon::Error);
  EXPECT_THROW(siphon::next_page_url("https://api.example.com@evil.example.net/", cur),
               siphon::Error);
  EXPECT_THROW(siphon::next_page_url("ftp://api.example.com/", cur), siphon::Error);
  EXPECT_THROW(siphon::next_page_url("", cur), siphon::Error);
}

TEST(LinkNext, FindsTheNextRelation) {
  EXPECT_EQ(siphon::link_next(R"(<https://x/logs?after=2>; rel="next")"), "https://x/logs?after=2");
  EXPECT_EQ(siphon::link_next(R"(<https://x/a>; rel="self", <https://x/b>; rel="next")"),
            "https://x/b");
  EXPECT_EQ(siphon::link_next(R"(<https://x/a>; rel="prev next")"), "https://x/a");
  EXPECT_EQ(siphon::link_next(R"(<https://x/a>; rel="self")"), "");
  EXPECT_EQ(siphon::link_next("<https://x/a"), "");
  EXPECT_EQ(siphon::link_next(""), "");
}
