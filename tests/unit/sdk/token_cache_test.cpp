// siphon::TokenCache and the OAuth 2.0 helpers, against a scripted host.
#include <gtest/gtest.h>

#include <deque>
#include <siphon/token_cache.hpp>
#include <string>
#include <vector>

namespace siphon {
namespace {

// A host whose HTTP service answers from a script and records the requests.
struct FakeHost {
  struct Sent {
    std::string method, url, body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string header(const std::string& name) const {
      for (const auto& [k, v] : headers)
        if (k == name) return v;
      return "";
    }
  };
  std::deque<std::pair<int, std::string>> replies;
  std::vector<Sent> sent;
  int64_t now = 1'000'000;
  std::pair<int, std::string> current;

  siphon_host_api api{};
  siphon_create_args args{};

  FakeHost() {
    api.struct_size = sizeof(api);
    api.abi_major = SIPHON_ABI_MAJOR;
    api.abi_minor = SIPHON_ABI_MINOR;
    api.http = [](siphon_host* h, const siphon_http_request* req, siphon_http_response* resp) {
      auto* self = reinterpret_cast<FakeHost*>(h);
      Sent s{req->method, req->url, std::string(req->body, req->body_len), {}};
      for (uint32_t i = 0; i < req->header_count; ++i)
        s.headers.emplace_back(req->headers[i].name, req->headers[i].value);
      self->sent.push_back(s);
      self->current = self->replies.front();
      self->replies.pop_front();
      resp->status = self->current.first;
      resp->body = self->current.second.data();
      resp->body_len = self->current.second.size();
      resp->error = "";
      return SIPHON_OK;
    };
    api.log = [](siphon_host*, int32_t, const char*) {};
    api.now_ms = [](siphon_host* h) { return reinterpret_cast<FakeHost*>(h)->now; };
    args.struct_size = sizeof(args);
    args.app_name = "corp-test";
    args.host_api = &api;
    args.host = reinterpret_cast<siphon_host*>(this);
  }
};

TEST(TokenCache, ReusesATokenUntilShortlyBeforeItExpires) {
  int fetches = 0;
  TokenCache cache([&] { return Token{"t" + std::to_string(++fetches), 3600}; });
  EXPECT_EQ(cache.get(0), "t1");
  EXPECT_EQ(cache.get(3'000'000), "t1");
  EXPECT_EQ(cache.get(3'540'000), "t2");  // renewed a minute early
  cache.forget();
  EXPECT_EQ(cache.get(3'540'001), "t3");
}

TEST(TokenCache, ShortLifetimesRenewAQuarterEarly) {
  int fetches = 0;
  TokenCache cache([&] { return Token{"t" + std::to_string(++fetches), 100}; });
  EXPECT_EQ(cache.get(0), "t1");
  EXPECT_EQ(cache.get(74'999), "t1");
  EXPECT_EQ(cache.get(75'000), "t2");
}

TEST(TokenCache, A401GetsOneNewTokenAndOneRetry) {
  FakeHost host;
  Context ctx(host.args);
  int fetches = 0;
  TokenCache cache([&] { return Token{"t" + std::to_string(++fetches), 3600}; });
  std::vector<std::string> used;
  auto send = [&](const std::string& token) {
    used.push_back(token);
    return ctx.get("https://api.example.com/x", {}, {{"Authorization", "Bearer " + token}});
  };
  host.replies = {{401, ""}, {200, "{}"}};
  EXPECT_EQ(cache.send_authorized(ctx, send).status, 200);
  EXPECT_EQ(used, (std::vector<std::string>{"t1", "t2"}));
  host.replies = {{401, ""}, {401, ""}};
  EXPECT_EQ(cache.send_authorized(ctx, send).status, 401);  // left to check_response
  EXPECT_EQ(fetches, 3);
}

TEST(OAuth2, ClientCredentialsPostsTheGrantAndReadsTheToken) {
  FakeHost host;
  Context ctx(host.args);
  host.replies = {{200, R"({"access_token":"abc","expires_in":600,"token_type":"bearer"})"}};
  Token t = oauth2::client_credentials(ctx, "https://idp.example.com/oauth2/token", "id 1", "s&2",
                                       "logs.read");
  EXPECT_EQ(t.value, "abc");
  EXPECT_EQ(t.expires_in_seconds, 600);
  ASSERT_EQ(host.sent.size(), 1u);
  EXPECT_EQ(host.sent[0].method, "POST");
  EXPECT_EQ(host.sent[0].body,
            "grant_type=client_credentials&client_id=id%201&client_secret=s%262&scope=logs.read");

  host.replies = {{200, R"({"access_token":"abc"})"}};
  oauth2::client_credentials(ctx, "https://idp.example.com/oauth2/token", "id", "secret", "", true);
  EXPECT_EQ(host.sent[1].body, "grant_type=client_credentials");
  EXPECT_EQ(host.sent[1].header("Authorization"), "Basic aWQ6c2VjcmV0");
}

TEST(OAuth2, JwtBearerSendsTheAssertionAndRefusalsAreAuthRejected) {
  FakeHost host;
  Context ctx(host.args);
  host.replies = {{200, R"({"access_token":"tok","expires_in":"3600"})"}};
  Token t =
      oauth2::jwt_bearer(ctx, "https://api.box.com/oauth2/token", "a.b.c", {{"client_id", "cid"}});
  EXPECT_EQ(t.value, "tok");
  EXPECT_EQ(host.sent[0].body,
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&client_id=cid&"
            "assertion=a.b.c");
  host.replies = {{400, R"({"error":"invalid_grant","error_description":"expired"})"}};
  try {
    oauth2::jwt_bearer(ctx, "https://api.box.com/oauth2/token", "a.b.c");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), SIPHON_AUTH_REJECTED);
    EXPECT_STREQ(e.what(), "POST /oauth2/token: HTTP 400 invalid_grant: expired");
  }
  host.replies = {{200, R"({"token_type":"bearer"})"}};
  EXPECT_THROW(oauth2::jwt_bearer(ctx, "https://api.box.com/oauth2/token", "a.b.c"), Error);
}

}  // namespace
}  // namespace siphon
