#include "pg_server.hpp"

#include <glob.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <stdexcept>

namespace fs = std::filesystem;

namespace siphon::testing {
namespace {

std::string find_bindir() {
  if (const char* env = std::getenv("SIPHON_PG_BINDIR")) return env;
  glob_t g{};
  std::vector<std::string> found;
  if (::glob("/usr/lib/postgresql/*/bin/initdb", 0, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i) found.push_back(g.gl_pathv[i]);
  ::globfree(&g);
  if (found.empty())
    throw std::runtime_error(
        "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (run scripts/setup, "
        "which installs Debian's postgresql, or set SIPHON_PG_BINDIR)");
  // Highest version: compare the numbers, not the text (9 < 15).
  std::sort(found.begin(), found.end(), [](const std::string& a, const std::string& b) {
    auto v = [](const std::string& p) { return std::atoi(p.c_str() + 20); };
    return v(a) < v(b);
  });
  return fs::path(found.back()).parent_path().string();
}

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("no free port on 127.0.0.1");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string random_password() {
  std::random_device rd;
  const char* chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string out;
  for (int i = 0; i < 24; ++i) out += chars[rd() % 62];
  return out;
}

}  // namespace

int PgServer::run_as_server_user(const std::vector<std::string>& argv) const {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::geteuid() == 0) {
      struct passwd* pw = ::getpwnam("postgres");
      if (pw == nullptr || ::setgid(pw->pw_gid) != 0 || ::setuid(pw->pw_uid) != 0) ::_exit(125);
    }
    std::string log = dir_ + "/tool.log";
    FILE* f = std::freopen(log.c_str(), "a", stdout);
    (void)f;
    ::dup2(1, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

PgServer::PgServer() : bindir_(find_bindir()), password_(random_password()) {
  std::string tmpl = (fs::temp_directory_path() / "siphon-pg-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  if (::geteuid() == 0) {
    struct passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr)
      throw std::runtime_error("no postgres user (install Debian's postgresql: scripts/setup)");
    if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0)
      throw std::runtime_error("cannot chown " + dir_);
  }
  if (run_as_server_user({bindir_ + "/initdb", "-D", dir_ + "/data", "-U", "postgres", "-A",
                          "trust", "--auth-host=scram-sha-256", "-E", "UTF8", "-N"}) != 0)
    throw std::runtime_error("initdb failed; see " + dir_ + "/tool.log");
  port_ = free_port();
  start();
  query("SELECT 1");  // the siphon role logs in over TCP with its password
}

void PgServer::start() {
  std::string opts = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) +
                     " -c unix_socket_directories=" + dir_ +
                     " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                     " -c max_connections=300 -c log_min_messages=warning";
  if (run_as_server_user({bindir_ + "/pg_ctl", "-D", dir_ + "/data", "-l", dir_ + "/server.log",
                          "-w", "-t", "30", "-o", opts, "start"}) != 0)
    throw std::runtime_error("pg_ctl start failed; see " + dir_ + "/server.log");
  running_ = true;
  // The role and database, once (the data folder keeps them across restarts).
  std::string admin = "host=" + dir_ + " port=" + std::to_string(port_) +
                      " user=postgres dbname=postgres connect_timeout=10";
  PGconn* c = PQconnectdb(admin.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string why = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("cannot connect as postgres: " + why);
  }
  PGresult* r = PQexec(c, "SELECT 1 FROM pg_roles WHERE rolname = 'siphon'");
  bool exists = PQntuples(r) == 1;
  PQclear(r);
  if (!exists) {
    for (std::string sql : {"CREATE ROLE siphon LOGIN PASSWORD '" + password_ + "'",
                            std::string("CREATE DATABASE siphon OWNER siphon")}) {
      r = PQexec(c, sql.c_str());
      bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
      std::string why = PQresultErrorMessage(r);
      PQclear(r);
      if (!ok) {
        PQfinish(c);
        throw std::runtime_error(sql + ": " + why);
      }
    }
  }
  PQfinish(c);
}

void PgServer::stop() {
  if (!running_) return;
  run_as_server_user({bindir_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "fast", "-w", "stop"});
  running_ = false;
}

PgServer::~PgServer() {
  stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string PgServer::url() const {
  return "postgresql://siphon@127.0.0.1:" + std::to_string(port_) + "/siphon?sslmode=disable";
}

std::vector<std::string> PgServer::query(const std::string& sql) const {
  std::string info =
      "host=127.0.0.1 port=" + std::to_string(port_) +
      " user=siphon dbname=siphon sslmode=disable connect_timeout=10 password=" + password_;
  PGconn* c = PQconnectdb(info.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string why = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("cannot connect to the test server: " + why);
  }
  PGresult* r = PQexec(c, sql.c_str());
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    std::string why = PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(c);
    throw std::runtime_error(sql + ": " + why);
  }
  std::vector<std::string> rows;
  for (int i = 0; i < PQntuples(r); ++i) {
    std::string row;
    for (int j = 0; j < PQnfields(r); ++j) row += (j ? "|" : "") + std::string(PQgetvalue(r, i, j));
    rows.push_back(row);
  }
  PQclear(r);
  PQfinish(c);
  return rows;
}

}  // namespace siphon::testing
