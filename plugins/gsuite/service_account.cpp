#include "service_account.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <siphon/auth_helpers.hpp>

namespace siphon::gsuite {
namespace {

constexpr int64_t kAssertionLifetimeSeconds = 3600;  // Google's maximum
constexpr int64_t kRenewEarlyMs = 60 * 1000;

std::string member(const rapidjson::Value& doc, const char* name, bool required) {
  auto it = doc.FindMember(name);
  if (it == doc.MemberEnd()) {
    if (required) throw Error(std::string("keyfile: ") + name + " is missing");
    return {};
  }
  if (!it->value.IsString()) throw Error(std::string("keyfile: ") + name + " is not a string");
  std::string text = it->value.GetString();
  if (text.empty() && required) throw Error(std::string("keyfile: ") + name + " is empty");
  return text;
}

void write_string(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* key,
                  const std::string& value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

}  // namespace

KeyFile KeyFile::parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject())
    throw Error("keyfile: not a JSON object (expected the service account's JSON key file)");
  std::string type = member(doc, "type", true);
  if (type != "service_account")
    throw Error("keyfile: type is \"" + type +
                "\", expected \"service_account\" (a key file of a service account with "
                "domain-wide delegation)");
  KeyFile key;
  key.client_email = member(doc, "client_email", true);
  key.private_key_id = member(doc, "private_key_id", false);
  key.private_key = member(doc, "private_key", true);
  key.token_uri = member(doc, "token_uri", false);
  if (key.token_uri.empty()) key.token_uri = kDefaultTokenUri;
  if (key.token_uri.rfind("https://", 0) != 0)
    throw Error("keyfile: token_uri must be an https:// URL");
  try {
    auth::check_private_key(key.private_key);
  } catch (const std::exception& e) {
    throw Error(std::string("keyfile: private_key: ") + e.what());
  }
  return key;
}

std::string describe(const Response& resp) {
  std::string out = "HTTP " + std::to_string(resp.status);
  rapidjson::Document body;
  body.Parse(resp.body.data(), resp.body.size());
  if (body.HasParseError() || !body.IsObject()) return out;
  auto error = body.FindMember("error");
  if (error == body.MemberEnd()) return out;
  if (error->value.IsString()) {  // token endpoint: {"error":..,"error_description":..}
    out += std::string(" ") + error->value.GetString();
    auto text = body.FindMember("error_description");
    if (text != body.MemberEnd() && text->value.IsString())
      out += std::string(": ") + text->value.GetString();
    return out;
  }
  if (!error->value.IsObject()) return out;
  const auto& e = error->value;
  auto status = e.FindMember("status");
  if (status != e.MemberEnd() && status->value.IsString())
    out += std::string(" ") + status->value.GetString();
  auto errors = e.FindMember("errors");
  if (errors != e.MemberEnd() && errors->value.IsArray() && !errors->value.Empty() &&
      errors->value[0].IsObject()) {
    auto reason = errors->value[0].FindMember("reason");
    if (reason != errors->value[0].MemberEnd() && reason->value.IsString())
      out += std::string(" ") + reason->value.GetString();
  }
  auto message = e.FindMember("message");
  if (message != e.MemberEnd() && message->value.IsString())
    out += std::string(": ") + message->value.GetString();
  return out;
}

const std::string& ServiceAccount::token(Context& ctx) {
  const int64_t now_ms = ctx.now_ms();
  if (!token_.empty() && now_ms < expiry_ms_) return token_;
  const int64_t now_s = now_ms / 1000;

  rapidjson::StringBuffer header, claims;
  {
    rapidjson::Writer<rapidjson::StringBuffer> w(header);
    w.StartObject();
    write_string(w, "alg", "RS256");
    write_string(w, "typ", "JWT");
    if (!key_.private_key_id.empty()) write_string(w, "kid", key_.private_key_id);
    w.EndObject();
  }
  {
    rapidjson::Writer<rapidjson::StringBuffer> w(claims);
    w.StartObject();
    write_string(w, "iss", key_.client_email);
    write_string(w, "sub", subject_);
    write_string(w, "scope", kReportsScope);
    write_string(w, "aud", key_.token_uri);  // the real token URI, even behind base_url
    w.Key("iat");
    w.Int64(now_s);
    w.Key("exp");
    w.Int64(now_s + kAssertionLifetimeSeconds);
    w.EndObject();
  }
  std::string assertion = auth::rs256_jwt({header.GetString(), header.GetSize()},
                                          {claims.GetString(), claims.GetSize()}, key_.private_key);
  Response resp = ctx.post_form(
      ctx.vendor_url(key_.token_uri),
      {{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"}, {"assertion", assertion}});
  const std::string what = "POST token_uri";
  if (resp.status == 429 || resp.status >= 500) throw RetryLater(what + ": " + describe(resp));
  if (resp.status == 400 || resp.status == 401 || resp.status == 403)
    throw AuthRejected(what + ": " + describe(resp));
  if (!resp.ok()) throw Error(what + ": " + describe(resp));
  rapidjson::Document body = resp.json(what);
  if (!body.IsObject() || !body.HasMember("access_token") || !body["access_token"].IsString() ||
      body["access_token"].GetStringLength() == 0)
    throw Error(what + ": the response has no access_token");
  int64_t expires_in = 3600;
  if (body.HasMember("expires_in") && body["expires_in"].IsInt64())
    expires_in = body["expires_in"].GetInt64();
  token_ = body["access_token"].GetString();
  // Renew a minute early; a token shorter-lived than that is used once.
  expiry_ms_ = now_ms + std::max<int64_t>(0, expires_in * 1000 - kRenewEarlyMs);
  return token_;
}

}  // namespace siphon::gsuite
