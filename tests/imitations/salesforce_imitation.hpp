// salesforce_imitation.hpp - a local imitation of a Salesforce org's OAuth
// token endpoint and the REST calls that read Event Monitoring log files,
// following the vendor's documented API.
//
//   POST /services/oauth2/token            grant_type=password (client id and
//        secret, username, password with the security token appended) and
//        grant_type=client_credentials; 400 {"error","error_description"} as
//        Salesforce words them; 200 with access_token, instance_url, id,
//        token_type, issued_at and signature (no expires_in).
//   GET /services/data/                    the API versions.
//   GET /services/data/vNN.N/query?q=SOQL  SELECT <fields> FROM EventLogFile
//        [WHERE <field> <op> <value> AND ...] [ORDER BY <field> [ASC|DESC], ...]
//        [LIMIT n]; string literals quoted, datetimes not; batches with
//        done/nextRecordsUrl; GET .../query/<locator>-<offset> for the next.
//   GET /services/data/vNN.N/sobjects/EventLogFile/<Id>/LogFile   the CSV,
//        gzipped when the client accepts it.
// REST errors are arrays [{"message","errorCode"}]: 401 INVALID_SESSION_ID,
// 403 REQUEST_LIMIT_EXCEEDED (with Sforce-Limit-Info), 400 MALFORMED_QUERY /
// INVALID_FIELD / INVALID_TYPE / INVALID_QUERY_LOCATOR, 404 NOT_FOUND.
// Thread-safe like the base; faults (5xx, delays, truncation) come from it.
#ifndef SIPHON_TESTS_SALESFORCE_IMITATION_HPP
#define SIPHON_TESTS_SALESFORCE_IMITATION_HPP

#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "imitation.hpp"

namespace siphon::imitation {

class SalesforceImitation : public Imitation {
 public:
  // What the org knows: the connected app's consumer key and secret, and one
  // user with a password and a security token.
  struct Credentials {
    std::string client_id;      // 85 characters
    std::string client_secret;  // 19 digits
    std::string username;
    std::string password;
    std::string security_token;  // 24 letters and digits
  };
  // Random values in the formats Salesforce issues.
  static Credentials make_credentials();

  // One EventLogFile: its fields and its CSV content (header + rows).
  struct LogFile {
    std::string id;  // set by add_log_file
    std::string event_type = "Login";
    std::string interval = "Daily";
    int64_t log_date_ms = 0;
    int64_t created_ms = 0;
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
  };
  // A file of `rows` events of `event_type` (Login, LoginAs, Console, Report,
  // ReportExport) with that type's columns; REQUEST_ID is request_prefix + row
  // number. Some rows hold commas, doubled quotes and line breaks in fields.
  static LogFile make_log_file(const std::string& event_type, size_t rows, int64_t log_date_ms,
                               int64_t created_ms, const std::string& request_prefix);
  // The CSV Salesforce serves: every field quoted, quotes doubled.
  static std::string to_csv(const LogFile& file, bool crlf = false, bool bom = false);

  explicit SalesforceImitation(Credentials credentials);
  ~SalesforceImitation() override;

  // Adds a file; returns its Id (18 characters, prefix 0AT).
  std::string add_log_file(LogFile file);
  // Replaces the CSV body served for a file (e.g. broken CSV).
  void set_raw_body(const std::string& id, const std::string& body);
  // Removes a file (as retention does): its LogFile answers 404.
  void remove_log_file(const std::string& id);
  std::vector<LogFile> log_files() const;

  // Sessions opened so far, by grant type ("password", "client_credentials").
  int sessions(const std::string& grant_type = "") const;
  // The SOQL texts received, in order.
  std::vector<std::string> queries() const;

  // Every open session ends (as after the org's session timeout).
  void invalidate_sessions();
  // A session ends after this many API calls (0: never).
  void set_session_calls(int calls);
  // Every API call answers 401 INVALID_SESSION_ID, even with a new session
  // (as when sessions are locked to another IP).
  void set_refuse_sessions(bool on);
  // The password flow is blocked (newer orgs): invalid_grant.
  void set_password_flow_blocked(bool on);
  // The connected app allows the client credentials flow (default on).
  void set_client_credentials_enabled(bool on);
  // The caller's IP is trusted: the password is accepted without the token.
  void set_trusted_ip(bool on);
  // instance_url in token answers (default https://acme.my.salesforce.com,
  // which a client reaches through options.base_url).
  void set_instance_url(const std::string& url);
  // Records per query batch (default 2000).
  void set_batch_size(size_t records);
  // The org's 24-hour API allocation; beyond it 403 REQUEST_LIMIT_EXCEEDED.
  void set_api_limit(int64_t calls);
  // The org has no Event Monitoring: queries on EventLogFile give INVALID_TYPE.
  void set_event_log_unsupported(bool on);
  // Serve CSV with CRLF row ends and/or a UTF-8 byte order mark.
  void set_csv_style(bool crlf, bool bom);
  // LogFile bodies are gzipped for clients that send Accept-Encoding: gzip
  // (default on).
  void set_gzip(bool on);
  // LogFile bodies sent gzipped so far.
  int gzipped_bodies() const;
  // Query locators are forgotten (as after 15 minutes idle).
  void expire_query_locators();

 protected:
  void handle(const Request& request, Reply& reply) override;

 private:
  struct Locator {
    std::vector<size_t> files;
    std::vector<std::string> fields;
    std::string version;
  };

  void token(const Request& request, Reply& reply);
  // Checks the bearer session and the API allocation; false when it replied.
  bool authorize(const Request& request, Reply& reply);
  void query(const Request& request, const std::string& version, Reply& reply);
  void query_more(const std::string& locator, size_t offset, Reply& reply);
  void batch(const std::string& locator_id, size_t offset, Reply& reply);
  void log_file_body(const std::string& id, bool accepts_gzip, Reply& reply);
  std::string record_json(const LogFile& f, const std::vector<std::string>& fields,
                          const std::string& version) const;

  const Credentials credentials_;
  mutable std::mutex state_mu_;
  std::vector<LogFile> files_;
  std::map<std::string, std::string> raw_bodies_;
  std::map<std::string, int> sessions_;  // access token -> API calls made with it
  std::map<std::string, int> grants_;
  std::map<std::string, Locator> locators_;
  std::vector<std::string> queries_;
  int session_calls_ = 0;
  bool refuse_sessions_ = false;
  bool password_blocked_ = false;
  bool client_credentials_ = true;
  bool trusted_ip_ = false;
  std::string instance_url_ = "https://acme.my.salesforce.com";
  size_t batch_size_ = 2000;
  int64_t api_limit_ = 0;
  int64_t api_usage_ = 0;
  bool event_log_unsupported_ = false;
  bool crlf_ = false;
  bool bom_ = false;
  bool gzip_ = true;
  int gzipped_ = 0;
  int64_t next_id_ = 1;
  int64_t next_locator_ = 1;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace siphon::imitation

#endif  // SIPHON_TESTS_SALESFORCE_IMITATION_HPP
