// siphon/paging.hpp - where the next page is, in the four ways vendor APIs
// say it.
//
//   next link   a URL in the body ({"pages":{"next":"https://..."}})
//   Link header RFC 8288 `Link: <https://...>; rel="next"` (GitHub, Okta)
//   next token  an opaque token in the body, sent back as a parameter
//               ({"nextPageToken":".."} -> pageToken=..)
//   offset      offset/limit or page/per_page counting
//
// Each helper returns "" (or std::nullopt) on the last page. The URL helpers
// check what the vendor returned: a link must stay on the origin of the
// request that returned it (see next_page_url: credentials never follow a
// reply elsewhere), and a link or token that repeats the current page throws
// siphon::Error instead of polling the same page forever.
//
// Pure functions; thread-safe.
#ifndef SIPHON_PAGING_HPP
#define SIPHON_PAGING_HPP

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <siphon/sdk.hpp>
#include <string>
#include <string_view>

namespace siphon::paging {

// The next-page URL at `path` of the body (a string; null, "" or absent
// means the last page), made absolute against `current_url`.
std::string next_link(const rapidjson::Value& body, std::string_view path,
                      std::string_view current_url);

// The same for a link already read (e.g. a RawPage member), named `path` in
// errors.
std::string next_link(std::optional<std::string_view> link, std::string_view path,
                      std::string_view current_url);

// The rel="next" target of the response's Link headers (several, or one
// comma-joined), made absolute against `current_url`; "" when there is none.
// `may_repeat`: a next link equal to `current_url` is returned rather than
// refused, for APIs that poll (Okta's System Log answers a page that is not
// full with a next link that may be the current URL; the caller stops paging
// there and keeps the link as its cursor).
std::string link_header(const Response& resp, std::string_view current_url,
                        bool may_repeat = false);

// The token at `path` of the body ("" when null, empty or absent). Throws
// when it equals `current_token` (not empty): the vendor returned the same
// page again.
std::string next_token(const rapidjson::Value& body, std::string_view path,
                       std::string_view current_token = "");

// The next offset after a page of `received` items read at `offset` with a
// page size of `limit`; std::nullopt when this was the last page: fewer than
// `limit` items, none, or `total` (when the vendor says it) reached.
std::optional<int64_t> next_offset(int64_t offset, size_t received, int64_t limit,
                                   std::optional<int64_t> total = std::nullopt);

}  // namespace siphon::paging

#endif  // SIPHON_PAGING_HPP
