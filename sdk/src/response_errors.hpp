// Errors about a response body, shared by Response::json and RawPage.
#ifndef SIPHON_SDK_SRC_RESPONSE_ERRORS_HPP
#define SIPHON_SDK_SRC_RESPONSE_ERRORS_HPP

#include <rapidjson/error/error.h>

#include <siphon/sdk.hpp>
#include <string>
#include <string_view>

namespace siphon::detail {

// "<what>: response (HTTP <status>)"
std::string response_where(const Response& r, std::string_view what);
// Throws when the body is empty or whitespace.
void check_not_empty(const Response& r, std::string_view what);
[[noreturn]] void throw_not_json(const Response& r, std::string_view what,
                                 rapidjson::ParseErrorCode code, size_t offset);

}  // namespace siphon::detail

#endif  // SIPHON_SDK_SRC_RESPONSE_ERRORS_HPP
