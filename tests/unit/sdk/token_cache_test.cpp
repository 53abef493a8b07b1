// siphon::TokenCache and the OAuth 2.0 helpers, against a scripted host.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <deque>
#include <siphon/auth_helpers.hpp>
#include <siphon/json.hpp>
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

// A fresh RSA key as PKCS#8 PEM (what Google key files hold) and its public PEM.
std::pair<std::string, std::string> new_rsa_key() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  auto pem = [](auto write) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(len));
    BIO_free(bio);
    return out;
  };
  std::string priv = pem([&](BIO* b) {
    PEM_write_bio_PKCS8PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  });
  std::string pub = pem([&](BIO* b) { PEM_write_bio_PUBKEY(b, key); });
  EVP_PKEY_free(key);
  return {priv, pub};
}

// A key file; `extra` holds more members, each followed by a comma.
std::string key_file(const std::string& private_key, const std::string& extra = "") {
  return "{" + extra +
         R"("type":"service_account","client_email":"reader@corp.iam.gserviceaccount.com",)" +
         json::object({{"private_key", private_key}}).substr(1);
}

// Part `i` (0 header, 1 claims) of a JWT, parsed.
rapidjson::Document jwt_part(const std::string& jwt, size_t i) {
  size_t from = 0;
  for (size_t n = 0; n < i; ++n) from = jwt.find('.', from) + 1;
  std::string b64 = jwt.substr(from, jwt.find('.', from) - from);
  for (char& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  b64.append((4 - b64.size() % 4) % 4, '=');
  auto doc = json::parse(auth::base64_decode(b64));
  return doc ? std::move(*doc) : rapidjson::Document();
}

TEST(OAuth2, ServiceAccountKeyFilesAreCheckedNamingTheFieldNotTheValue) {
  const auto [priv, pub] = new_rsa_key();
  auto key = oauth2::ServiceAccount::parse(key_file(priv), "keyfile");
  EXPECT_EQ(key.client_email, "reader@corp.iam.gserviceaccount.com");
  EXPECT_EQ(key.token_uri, "https://oauth2.googleapis.com/token");
  EXPECT_EQ(key.private_key_id, "");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"not json", "keyfile: not a JSON object"},
      {R"({"type":"authorized_user","refresh_token":"r"})", "expected \"service_account\""},
      {R"({"type":"service_account","private_key":"x"})",
       "keyfile: member client_email is missing"},
      {key_file("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
       "keyfile: private_key: "},
      {key_file(priv, R"("token_uri":"http://oauth2.example/token",)"),
       "keyfile: token_uri must be an https:// URL"},
  };
  for (const auto& [text, says] : bad) {
    try {
      oauth2::ServiceAccount::parse(text, "keyfile");
      ADD_FAILURE() << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find("AAAA"), std::string::npos) << e.what();
    }
  }
}

TEST(OAuth2, ServiceAccountTokensComeFromASignedJwtBearerGrant) {
  const auto [priv, pub] = new_rsa_key();
  auto key = oauth2::ServiceAccount::parse(
      key_file(priv, R"("private_key_id":"k1","token_uri":"https://oauth2.example/token",)"),
      "keyfile");
  FakeHost host;
  Context ctx(host.args);
  host.replies = {{200, R"({"access_token":"ya29.x","expires_in":3599})"}};
  Token t = key.token(ctx, "https://www.googleapis.com/auth/scope.readonly", "admin@corp.example");
  EXPECT_EQ(t.value, "ya29.x");
  EXPECT_EQ(t.expires_in_seconds, 3599);
  ASSERT_EQ(host.sent.size(), 1u);
  EXPECT_EQ(host.sent[0].url, "https://oauth2.example/token");
  const std::string prefix =
      "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
  ASSERT_EQ(host.sent[0].body.rfind(prefix, 0), 0u) << host.sent[0].body;
  const std::string jwt = host.sent[0].body.substr(prefix.size());
  EXPECT_TRUE(auth::rs256_verify(jwt, pub));
  rapidjson::Document header = jwt_part(jwt, 0), claims = jwt_part(jwt, 1);
  EXPECT_EQ(json::text(header, "kid"), "k1");
  EXPECT_EQ(json::text(claims, "iss"), "reader@corp.iam.gserviceaccount.com");
  EXPECT_EQ(json::text(claims, "sub"), "admin@corp.example");
  EXPECT_EQ(json::text(claims, "aud"), "https://oauth2.example/token");
  EXPECT_EQ(json::text(claims, "scope"), "https://www.googleapis.com/auth/scope.readonly");
  EXPECT_EQ(json::get<int64_t>(claims, "exp") - json::get<int64_t>(claims, "iat"), 3600);
  EXPECT_EQ(json::get<int64_t>(claims, "iat"), host.now / 1000);

  host.replies = {{200, R"({"access_token":"ya29.y"})"}};
  key.token(ctx, "s", "");  // the account itself: no sub
  EXPECT_FALSE(json::at(jwt_part(host.sent[1].body.substr(prefix.size()), 1), "sub"));
}

}  // namespace
}  // namespace siphon
