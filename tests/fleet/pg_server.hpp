// A throwaway PostgreSQL server for the fleet tests: initdb into a temporary
// folder, started with pg_ctl on a free port of 127.0.0.1 (and a unix socket
// in that folder), a `siphon` role with a generated password and a `siphon`
// database; stopped and deleted at the end. Run as root, the server runs as
// the `postgres` user (PostgreSQL refuses root); otherwise as the caller.
// The binaries come from Debian's postgresql package (scripts/setup), found
// under /usr/lib/postgresql/*/bin or in $SIPHON_PG_BINDIR.
#ifndef SIPHON_TESTS_FLEET_PG_SERVER_HPP
#define SIPHON_TESTS_FLEET_PG_SERVER_HPP

#include <cstdint>
#include <string>
#include <vector>

namespace siphon::testing {

class PgServer {
 public:
  // initdb and start; throws std::runtime_error saying what failed.
  PgServer();
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  void stop();   // fast shutdown (clients are disconnected)
  void start();  // again, on the same port and data
  bool running() const { return running_; }

  uint16_t port() const { return port_; }
  const std::string& password() const { return password_; }
  // postgresql://siphon@127.0.0.1:PORT/siphon?sslmode=disable (no password).
  std::string url() const;
  // Runs SQL as the siphon role; returns the rows, each as its columns
  // joined by '|'. Throws with the server's message.
  std::vector<std::string> query(const std::string& sql) const;

 private:
  int run_as_server_user(const std::vector<std::string>& argv) const;
  std::string bindir_;
  std::string dir_;
  uint16_t port_ = 0;
  std::string password_;
  bool running_ = false;
};

}  // namespace siphon::testing

#endif
