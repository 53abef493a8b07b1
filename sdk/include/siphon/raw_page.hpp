// siphon/raw_page.hpp - a page of records read in one pass, without a DOM.
//
// Most audit APIs answer a poll with one JSON body holding an array of
// records and a few members that say where the next page is:
//
//   {"entries":[{"event_id":"a1",...},{...}],"next_stream_position":"42"}
//
// RawPage parses such a body once, validating it as Response::json does,
// and keeps:
//   - each record (an object in the array at `records`) as its text, exactly
//     as the vendor sent it, ready for Logs::add(std::string_view): numbers
//     and strings are not re-encoded. A record whose text holds a line break
//     (pretty-printed bodies) is re-written compactly, so that a record is
//     always one line;
//   - for each record, the values of the members named in `fields` (dotted
//     paths inside the record, e.g. "id" or "actor.id");
//   - the values of the members named in `members` (dotted paths from the
//     top of the body, e.g. "pagination.next_link").
// A value is kept as text: a string's content (unescaped), a number's
// digits as sent, "true" or "false"; null, objects and arrays read as absent.
//
// This costs about a third of building a rapidjson::Document and writing
// each record out again, which matters for vendors with small pages (a poll
// per 50 records). Plugins that need more of a record than a few members use
// Response::json and the DOM instead.
//
// Elements of the array that are not objects are skipped and counted
// (skipped()). A body that is not valid JSON, or whose `records` path is
// absent or not an array, throws siphon::Error naming `what` as
// Response::json and json::get do; an absent array reads as an empty page
// when `records_optional` is set. The page refers to the response's body:
// the response must outlive it.
#ifndef SIPHON_RAW_PAGE_HPP
#define SIPHON_RAW_PAGE_HPP

#include <cstddef>
#include <cstdint>
#include <optional>
#include <siphon/sdk.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace siphon {

class RawPage {
 public:
  struct Spec {
    std::string records;               // dotted path of the array; "" = the body is the array
    std::vector<std::string> fields;   // per record, dotted paths inside it
    std::vector<std::string> members;  // dotted paths from the top of the body
    bool records_optional = false;     // an absent array reads as no records
  };

  RawPage(const Response& resp, const Spec& spec, std::string_view what);

  size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  // The text of record i (one line).
  std::string_view record(size_t i) const;
  // The value of spec.fields[f] in record i.
  std::optional<std::string_view> field(size_t i, size_t f) const;
  // The same as text ("" when absent), as ms since the epoch from an RFC 3339
  // time (std::nullopt when absent or not one), and as a whole number (digits,
  // as a number or a string; std::nullopt otherwise).
  std::string text(size_t i, size_t f) const;
  std::optional<int64_t> rfc3339(size_t i, size_t f) const;
  std::optional<int64_t> integer(size_t i, size_t f) const;
  // The value of spec.members[m].
  std::optional<std::string_view> member(size_t m) const;
  // A value as a whole number (see integer()).
  static std::optional<int64_t> to_integer(std::optional<std::string_view> text);
  // Elements of the array that were not objects.
  size_t skipped() const { return skipped_; }

 private:
  friend struct RawPageHandler;
  struct Slice {
    size_t at = 0, size = 0;
  };
  struct Value {
    bool set = false;
    Slice text;  // in values_
  };
  std::string_view body_;
  std::string compacted_;                        // records re-written without line breaks
  std::vector<std::pair<bool, Slice>> records_;  // (in compacted_, where)
  std::string values_;
  std::vector<Value> fields_;   // size() * spec.fields.size()
  std::vector<Value> members_;  // spec.members.size()
  size_t field_count_ = 0;
  size_t skipped_ = 0;
};

}  // namespace siphon

#endif  // SIPHON_RAW_PAGE_HPP
