// siphon::describe_error and check_response: vendor error bodies to one line
// and the status the host expects.
#include <gtest/gtest.h>

#include <siphon/error_response.hpp>

namespace siphon {
namespace {

Response reply(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

TEST(ErrorResponse, DescribesTheCommonVendorShapes) {
  EXPECT_EQ(describe_error(reply(401, R"({"type":"error.list","errors":[{"code":"unauthorized",)"
                                      R"("message":"Access Token Invalid"}]})")),
            "HTTP 401 unauthorized: Access Token Invalid");
  EXPECT_EQ(describe_error(reply(400, R"({"status":{"error":true,"code":400,)"
                                      R"("type":"bad request","message":"rate_limit_exceeded"}})")),
            "HTTP 400 bad request: rate_limit_exceeded");
  EXPECT_EQ(describe_error(reply(403, R"({"error":{"code":403,"message":"Not Authorized",)"
                                      R"("status":"PERMISSION_DENIED"}})")),
            "HTTP 403 PERMISSION_DENIED: Not Authorized");
  EXPECT_EQ(describe_error(reply(403, R"({"error":{"code":403,"message":"Quota exceeded",)"
                                      R"("errors":[{"reason":"quotaExceeded"}]}})")),
            "HTTP 403: Quota exceeded (quotaExceeded)");
  EXPECT_EQ(describe_error(reply(400, R"({"error":"invalid_grant","error_description":"bad"})")),
            "HTTP 400 invalid_grant: bad");
  EXPECT_EQ(describe_error(reply(404, R"({"Code":"NotFound","Message":"no such"})")),
            "HTTP 404 NotFound: no such");
  EXPECT_EQ(describe_error(reply(401, R"([{"errorCode":"INVALID_SESSION_ID","message":"x"}])")),
            "HTTP 401 INVALID_SESSION_ID: x");
  EXPECT_EQ(describe_error(reply(401, R"({"errorCode":"E0000011","errorSummary":"Invalid token )"
                                      R"(provided","errorLink":"E0000011","errorId":"oae1",)"
                                      R"("errorCauses":[]})")),
            "HTTP 401 E0000011: Invalid token provided");
  EXPECT_EQ(describe_error(reply(400, R"({"errorCode":"E0000001","errorSummary":"Api )"
                                      R"(validation failed: since","errorCauses":[{"errorSummary":)"
                                      R"("since: The date is not valid"}]})")),
            "HTTP 400 E0000001: Api validation failed: since (since: The date is not valid)");
  EXPECT_EQ(describe_error(reply(502, "<html>bad gateway</html>")), "HTTP 502");
  EXPECT_EQ(describe_error(reply(400, R"({"stat":"FAIL","code":40002,"message":"Invalid request",)"
                                      R"("message_detail":"mintime"})")),
            "HTTP 400 40002: Invalid request (mintime)");
}

TEST(ErrorResponse, LongTextsAreCut) {
  std::string body = R"({"message":")" + std::string(500, 'x') + R"("})";
  EXPECT_LT(describe_error(reply(400, body)).size(), 230u);
}

TEST(ErrorResponse, CheckMapsStatusesToExceptions) {
  EXPECT_NO_THROW(check_response(reply(200, "{}"), "GET /x"));
  try {
    check_response(reply(401, R"({"message":"no"})"), "GET /x");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), SIPHON_AUTH_REJECTED);
    EXPECT_STREQ(e.what(), "GET /x: HTTP 401: no");
  }
  auto status_of = [](int status, const ErrorPolicy& policy = {}) {
    try {
      check_response(reply(status, ""), "GET /x", policy);
    } catch (const Error& e) {
      return e.status();
    }
    return SIPHON_OK;
  };
  EXPECT_EQ(status_of(403), SIPHON_ERROR);
  EXPECT_EQ(status_of(403, {{401, 403}, ""}), SIPHON_AUTH_REJECTED);
  EXPECT_EQ(status_of(429), SIPHON_RETRY_LATER);
  EXPECT_EQ(status_of(503), SIPHON_RETRY_LATER);
  EXPECT_EQ(status_of(404), SIPHON_ERROR);
  try {
    check_response(reply(403, ""), "GET /x", {{403}, "(needs the read scope)"});
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "GET /x: HTTP 403 (needs the read scope)");
  }
}

}  // namespace
}  // namespace siphon
