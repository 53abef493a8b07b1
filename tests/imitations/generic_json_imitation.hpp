// generic_json_imitation.hpp - a local JSON REST API of audit records, in
// whichever shape a test asks for, to drive the http_json app type.
//
// Records: {"id":"evt-000001","seq":1,"created_at":<time>,"actor":{..},
// "action":".."}, served oldest first (or newest first), created_at written
// as RFC 3339 with milliseconds, Unix seconds or Unix milliseconds.
//
// GET /v1/events filters by since and until (inclusive, written like
// created_at) and after_seq (exclusive); POST /v1/events/search takes the
// same filters, the page token and the limit as a JSON body. Paging, one
// style at a time:
//   next_url     body paging.next: a full URL (on the Host header received)
//   link_header  Link: <URL>; rel="next"
//   next_token   body paging.next_token, sent back as page_token
//   offset       offset and limit; body paging.total
//   page         page (from 1) and per_page; body paging.total
// Page tokens are opaque and bound to the filters they were issued for (a
// token sent with other filters gets 400 invalid_page_token). The records
// sit at a configurable dotted path ("data.items"), or the body is the bare
// array ("": paging.total then comes as X-Total-Count).
//
// Auth, one style at a time: bearer token, HTTP Basic, an X-Api-Key header,
// or OAuth 2.0 client credentials (POST /oauth/token, the client in the form
// or as Basic; access tokens with a lifetime, which expire_tokens() ends).
// Wrong or missing credentials get 401 {"errors":[{"code":"unauthorized",..}]};
// a refused client gets 401 {"error":"invalid_client",..}. Faults (429, 5xx,
// delays) come from the Imitation base and fail_pages_after.
// Thread-safe.
#ifndef SIPHON_TESTS_GENERIC_JSON_IMITATION_HPP
#define SIPHON_TESTS_GENERIC_JSON_IMITATION_HPP

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "imitation.hpp"

namespace siphon::imitation {

class GenericJsonImitation : public Imitation {
 public:
  enum class Paging { kNextUrl, kLinkHeader, kNextToken, kOffset, kPage };
  enum class Auth { kBearer, kBasic, kHeader, kOAuth2 };
  enum class Times { kRfc3339, kEpochS, kEpochMs };

  // What it accepts: random values, fixed for its life.
  struct Credentials {
    std::string token, username, password, api_key, client_id, client_secret;
  };

  GenericJsonImitation();
  ~GenericJsonImitation() override;

  const Credentials& credentials() const { return credentials_; }

  void set_auth(Auth auth);                        // default kBearer
  void set_paging(Paging paging);                  // default kNextUrl
  void set_times(Times times);                     // default kRfc3339
  void set_records_path(const std::string& path);  // default "data.items"
  void set_page_size(int n);                       // when the request names none; default 10
  void set_newest_first(bool on);                  // default oldest first
  void set_token_lifetime(int64_t seconds);        // OAuth 2.0 access tokens; default 3600
  // Access tokens issued so far stop working (the API answers 401).
  void expire_tokens();
  int64_t tokens_issued() const;
  // The scope of the last token request ("" when none was sent).
  std::string last_scope() const;

  // n records from second start_s, per_second of them in each second.
  void add_records(int n, int64_t start_s, int per_second);
  // One record at created_ms; returns its id.
  std::string add_record(int64_t created_ms);
  size_t record_count() const;

  // After `pages_served` pages answered normally, the next fault.count page
  // requests get `fault`.
  void fail_pages_after(int pages_served, const Fault& fault);
  // The last page request as received (method, path, params, headers, body).
  Request last_page_request() const;

  static constexpr char kPath[] = "/v1/events";
  static constexpr char kSearchPath[] = "/v1/events/search";
  static constexpr char kTokenPath[] = "/oauth/token";

 protected:
  void handle(const Request& request, Reply& reply) override;

 private:
  struct Record {
    std::string id;
    int64_t seq;
    int64_t created_ms;
  };
  struct Filter {
    int64_t since_ms, until_ms, after_seq, limit;
    std::string key() const;
  };
  void token_endpoint(const Request& request, Reply& reply);   // mu_ held
  bool authorized(const Request& request) const;               // mu_ held
  std::string time_text(int64_t ms) const;                     // mu_ held
  bool read_time(const std::string& text, int64_t& ms) const;  // mu_ held
  std::string record_json(const Record& r) const;              // mu_ held
  void add_locked(int64_t created_ms);

  const Credentials credentials_;
  mutable std::mutex mu_;
  std::vector<Record> records_;
  int64_t seq_ = 0;
  Auth auth_ = Auth::kBearer;
  Paging paging_ = Paging::kNextUrl;
  Times times_ = Times::kRfc3339;
  std::string records_path_ = "data.items";
  int page_size_ = 10;
  bool newest_first_ = false;
  int64_t token_lifetime_s_ = 3600;
  std::vector<std::pair<std::string, int64_t>> access_tokens_;  // token, expiry (ms)
  int64_t tokens_issued_ = 0;
  std::string last_scope_;
  PageFaults page_faults_;
  Request last_page_request_;
};

}  // namespace siphon::imitation

#endif  // SIPHON_TESTS_GENERIC_JSON_IMITATION_HPP
