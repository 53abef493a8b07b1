// siphon/json_guard.hpp - RapidJSON's assertions as exceptions.
//
// Plugins read vendor JSON with RapidJSON; a member that is missing or of
// another type than expected trips a RAPIDJSON_ASSERT, which by default
// aborts the process (or, with NDEBUG, reads invalid memory). The SDK makes
// every target linked with Siphon::sdk include this header first (compiler
// option -include), so such a slip becomes an exception: the SDK turns it
// into a failed poll with a reason, and the cursor stays where it was.
#ifndef SIPHON_JSON_GUARD_HPP
#define SIPHON_JSON_GUARD_HPP

#ifdef __cplusplus
#include <stdexcept>

#ifndef RAPIDJSON_ASSERT
#define RAPIDJSON_ASSERT(x) \
  ((x) ? static_cast<void>(0) : throw std::runtime_error("unexpected JSON shape: " #x " failed"))
#endif
#endif

#endif  // SIPHON_JSON_GUARD_HPP
