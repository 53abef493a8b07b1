#include <algorithm>
#include <cctype>
#include <siphon/sdk.hpp>

namespace siphon {

std::string url_encode(std::string_view value) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 3);
  for (unsigned char c : value) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  return out;
}

std::string encode_params(const Params& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += url_encode(k);
    out += '=';
    out += url_encode(v);
  }
  return out;
}

std::string encode_params_sorted(const Params& params) {
  Params encoded;
  encoded.reserve(params.size());
  for (const auto& [k, v] : params) encoded.emplace_back(url_encode(k), url_encode(v));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [k, v] : encoded) {
    if (!out.empty()) out += '&';
    out += k + '=' + v;
  }
  return out;
}

}  // namespace siphon

namespace siphon {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// scheme://authority of an absolute http(s) URL, lower-cased, with the
// scheme's default port made explicit; "" when `url` is not one.
std::string origin_of(std::string_view url) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos) return "";
  std::string scheme = lower(url.substr(0, sep));
  if (scheme != "http" && scheme != "https") return "";
  std::string_view rest = url.substr(sep + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty() || authority.find('@') != std::string_view::npos) return "";
  std::string auth = lower(authority);
  bool has_port = false;
  if (auth.front() == '[') {
    auto close = auth.find(']');
    if (close == std::string::npos) return "";
    has_port = close + 1 < auth.size() && auth[close + 1] == ':';
  } else {
    has_port = auth.find(':') != std::string::npos;
  }
  if (!has_port) auth += scheme == "https" ? ":443" : ":80";
  return scheme + "://" + auth;
}

}  // namespace

std::string next_page_url(std::string_view next, std::string_view current) {
  std::string base = origin_of(current);
  if (base.empty()) throw Error("next-page URL: the current URL is not an absolute http(s) URL");
  if (!next.empty() && next.front() == '/' && (next.size() < 2 || next[1] != '/')) {
    auto sep = current.find("://");
    auto path = current.find_first_of("/?#", sep + 3);
    return std::string(current.substr(0, path)) + std::string(next);
  }
  std::string target = origin_of(next);
  if (target.empty()) throw Error("next-page URL is not an absolute http(s) URL or a path");
  if (target != base)
    throw Error("next-page URL leaves the app's origin (" + base + " to " + target + "); refused");
  return std::string(next);
}

std::string link_next(std::string_view header) {
  size_t pos = 0;
  while (pos < header.size()) {
    auto open = header.find('<', pos);
    if (open == std::string_view::npos) return "";
    auto close = header.find('>', open + 1);
    if (close == std::string_view::npos) return "";
    std::string_view target = header.substr(open + 1, close - open - 1);
    auto end = header.find('<', close + 1);
    std::string params = lower(header.substr(
        close + 1, end == std::string_view::npos ? std::string_view::npos : end - close - 1));
    for (std::string_view rel : {"rel=\"next\"", "rel=next", "rel=\"next ", " next\""}) {
      if (params.find(rel) != std::string::npos) return std::string(target);
    }
    if (end == std::string_view::npos) return "";
    pos = end;
  }
  return "";
}

}  // namespace siphon
