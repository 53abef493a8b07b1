#include "sink/record.hpp"

#include <openssl/evp.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stream.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <siphon/json.hpp>
#include <stdexcept>

namespace siphon {
namespace {

// Validates without building a DOM; only the top-level type is recorded.
struct TopLevel : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, TopLevel> {
  int depth = 0;
  bool object_at_top = false;
  bool Default() { return true; }
  bool StartObject() {
    if (depth++ == 0) object_at_top = true;
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    --depth;
    return true;
  }
  bool StartArray() {
    ++depth;
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    --depth;
    return true;
  }
};

}  // namespace

std::string record_id(std::string_view app, std::string_view event) {
  // OpenSSL's SHA-256 (several times faster than a portable one): one hash
  // per record on the Elasticsearch path.
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  const char nul = '\0';
  bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, app.data(), app.size()) == 1 &&
            EVP_DigestUpdate(ctx, &nul, 1) == 1 &&
            EVP_DigestUpdate(ctx, event.data(), event.size()) == 1 &&
            EVP_DigestFinal_ex(ctx, md, &size) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) throw std::runtime_error("SHA-256 failed");
  static const char kHex[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (unsigned int i = 0; i < size; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 15];
  }
  return out;
}

namespace {

// Finds a top-level member's scalar value without building a DOM, and stops
// as soon as it has it.
struct MemberFinder : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, MemberFinder> {
  std::string_view key;
  int depth = 0;
  bool want = false;
  bool found = false;
  std::string value;
  bool take(const char* s, rapidjson::SizeType n) {
    if (!want) return true;
    value.assign(s, n);
    found = true;
    return false;  // done: stop parsing
  }
  bool Default() { return !want; }
  bool String(const char* s, rapidjson::SizeType n, bool) { return take(s, n); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) { return take(s, n); }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (depth == 1 && key == std::string_view(s, n)) want = true;
    return true;
  }
  bool StartObject() {
    ++depth;
    return !want;
  }
  bool EndObject(rapidjson::SizeType) {
    --depth;
    return true;
  }
  bool StartArray() {
    ++depth;
    return !want;
  }
  bool EndArray(rapidjson::SizeType) {
    --depth;
    return true;
  }
};

}  // namespace

std::string record_id(const RecordBatch& batch, size_t i) {
  std::string_view event = batch.event(i);
  if (!batch.id_field.empty()) {
    rapidjson::MemoryStream ms(event.data(), event.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(ms);
    rapidjson::Reader reader;
    MemberFinder finder;
    finder.key = batch.id_field;
    reader.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseStopWhenDoneFlag>(in,
                                                                                            finder);
    if (finder.found) return record_id(batch.app, "id:" + finder.value);
  }
  return record_id(batch.app, event);
}

bool RecordWriter::append(RecordBatch& batch, std::string_view event,
                          const std::string& collected_at, std::string& why) const {
  const size_t start = batch.lines.size();
  if (!append(batch.lines, event, collected_at, why)) return false;
  RecordSpan span;
  span.line_offset = static_cast<uint32_t>(start);
  span.line_size = static_cast<uint32_t>(batch.lines.size() - start);
  span.event_offset = static_cast<uint32_t>(start + prefix_.size() + collected_at.size() +
                                            std::strlen("\",\"event\":"));
  // The line ends in "}\n": the record's closing brace follows the event.
  span.event_size = static_cast<uint32_t>(batch.lines.size() - 2 - span.event_offset);
  batch.records.push_back(span);
  return true;
}

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

RecordWriter::RecordWriter(const std::string& app, const std::string& type,
                           const std::string& service) {
  prefix_ = "{\"app\":" + json_quote(app) + ",\"type\":" + json_quote(type) +
            ",\"service\":" + json_quote(service) + ",\"collected_at\":\"";
}

bool RecordWriter::append(std::string& out, std::string_view event, const std::string& collected_at,
                          std::string& why) const {
  const size_t mark = out.size();
  out += prefix_;
  out += collected_at;
  out += "\",\"event\":";
  const size_t at = out.size();
  // The event is validated where it was copied to: `out` ends in a NUL, so
  // the parser can scan 16 bytes at a time (SSE2) and never runs past it.
  // RapidJSON's UTF-8 check takes a multi-byte sequence's bytes without
  // stopping at a NUL, so a non-ASCII event gets three more NULs while it is
  // checked.
  out += event;
  // Pure ASCII (most events) needs no UTF-8 validation, which costs as much
  // as the parse itself.
  const bool ascii = json::is_ascii(event);
  if (!ascii) out.append(3, '\0');
  const char* begin = out.c_str() + at;
  rapidjson::StringStream ss(begin);
  rapidjson::Reader reader;
  TopLevel handler;
  rapidjson::ParseResult ok =
      ascii
          ? reader.Parse<rapidjson::kParseStopWhenDoneFlag>(ss, handler)
          : reader.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseStopWhenDoneFlag>(
                ss, handler);
  if (!ascii) out.resize(out.size() - 3);
  if (!ok) {
    out.resize(mark);
    why = std::string("event is not valid JSON: ") + rapidjson::GetParseError_En(ok.Code()) +
          " at offset " + std::to_string(ok.Offset());
    return false;
  }
  if (!handler.object_at_top) {
    out.resize(mark);
    why = "event is not a JSON object";
    return false;
  }
  const size_t end = ss.Tell();
  for (size_t i = end; i < event.size(); ++i) {
    char c = event[i];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      out.resize(mark);
      why = "event has trailing data after the JSON object";
      return false;
    }
  }
  out.resize(at + end);
  // (find_first_of would call memchr once per byte of the event.)
  if (std::memchr(begin, '\n', end) != nullptr || std::memchr(begin, '\r', end) != nullptr) {
    // Drop line breaks outside strings (inside strings they are escaped).
    bool in_string = false, escaped = false;
    size_t kept = at;
    for (size_t i = at; i < at + end; ++i) {
      char c = out[i];
      if (in_string) {
        if (escaped)
          escaped = false;
        else if (c == '\\')
          escaped = true;
        else if (c == '"')
          in_string = false;
      } else if (c == '"') {
        in_string = true;
      } else if (c == '\n' || c == '\r') {
        continue;
      }
      out[kept++] = c;
    }
    out.resize(kept);
  }
  out += "}\n";
  return true;
}

}  // namespace siphon
