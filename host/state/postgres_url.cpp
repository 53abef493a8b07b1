#include "state/postgres_url.hpp"

#include <cctype>

namespace siphon {
namespace {

// Position just past a ${...} reference starting at i, or i + 1.
size_t skip_ref(const std::string& s, size_t i) {
  if (s.compare(i, 2, "${") == 0) {
    size_t end = s.find('}', i);
    if (end != std::string::npos) return end + 1;
  }
  return i + 1;
}

std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

bool is_postgres_url(const std::string& text) {
  return text.rfind("postgresql://", 0) == 0 || text.rfind("postgres://", 0) == 0;
}

SplitUrl split_url_password(const std::string& url) {
  SplitUrl out;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    out.without_password = url;
    return out;
  }
  size_t start = scheme_end + 3;
  // The authority ends at the first '/' or '?' outside a reference.
  size_t end = start;
  size_t at = std::string::npos;
  while (end < url.size() && url[end] != '/' && url[end] != '?') {
    if (url[end] == '@') at = end;
    end = skip_ref(url, end);
  }
  if (end > url.size()) end = url.size();
  std::string result = url.substr(0, start);
  if (at != std::string::npos) {
    std::string userinfo = url.substr(start, at - start);
    size_t colon = std::string::npos;
    for (size_t i = 0; i < userinfo.size(); i = skip_ref(userinfo, i))
      if (userinfo[i] == ':') {
        colon = i;
        break;
      }
    if (colon != std::string::npos) {
      out.password = percent_decode(userinfo.substr(colon + 1));
      userinfo.erase(colon);
    }
    result += userinfo + url.substr(at, end - at);
  } else {
    result += url.substr(start, end - start);
  }
  // Path, then the query without any password= parameter.
  size_t q = url.find('?', end);
  result += url.substr(end, (q == std::string::npos ? url.size() : q) - end);
  if (q != std::string::npos) {
    std::string query = url.substr(q + 1), kept;
    size_t i = 0;
    while (i <= query.size()) {
      size_t amp = query.find('&', i);
      if (amp == std::string::npos) amp = query.size();
      std::string param = query.substr(i, amp - i);
      if (param.rfind("password=", 0) == 0) {
        out.password = percent_decode(param.substr(9));
      } else if (!param.empty()) {
        kept += (kept.empty() ? "" : "&") + param;
      }
      i = amp + 1;
    }
    if (!kept.empty()) result += "?" + kept;
  }
  out.without_password = result;
  return out;
}

std::string redact_postgres_url(const std::string& url) {
  return split_url_password(url).without_password;
}

std::string check_postgres_url(const std::string& url) {
  if (url.find('#') != std::string::npos) return "a URL fragment (#...) is not accepted";
  size_t start = url.find("://") + 3;
  if (start >= url.size()) return "expected postgresql://USER@HOST:PORT/DATABASE";
  return "";
}

}  // namespace siphon
