// siphon-imitation: serves the local Box, Duo, Okta and GitHub imitations on 127.0.0.1 for
// the Quick-start demo, writes a ready-to-run siphon.yaml (with generated
// credentials under secrets/, mode 0600) into a work folder, and keeps adding
// a few events every few seconds until SIGINT/SIGTERM.
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "box_imitation.hpp"
#include "duo_imitation.hpp"
#include "github_imitation.hpp"
#include "okta_imitation.hpp"

namespace fs = std::filesystem;
using siphon::imitation::BoxImitation;
using siphon::imitation::DuoImitation;
using siphon::imitation::GithubImitation;
using siphon::imitation::OktaImitation;

namespace {

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

void write_secret(const fs::path& path, const std::string& value) {
  std::ofstream(path, std::ios::trunc) << value << "\n";
  ::chmod(path.c_str(), 0600);
}

std::string random_of(const char* alphabet, size_t n) {
  static std::mt19937_64 rng{std::random_device{}()};
  std::string out;
  size_t len = std::strlen(alphabet);
  for (size_t i = 0; i < n; ++i) out += alphabet[rng() % len];
  return out;
}

int usage() {
  std::fprintf(
      stderr,
      "usage: siphon-imitation --workdir DIR --plugin-dir DIR [--events N]\n"
      "                        [--trickle-seconds S] [--box-port P] [--duo-port P]\n"
      "Serves local Box, Duo, Okta and GitHub API imitations on 127.0.0.1, writes DIR/siphon.yaml\n"
      "for them, and adds a few events every S seconds (default 2) until stopped.\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string workdir, plugin_dir;
  int events = 300, trickle = 2;
  uint16_t box_port = 0, duo_port = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--workdir")
      workdir = next();
    else if (a == "--plugin-dir")
      plugin_dir = next();
    else if (a == "--events")
      events = std::atoi(next().c_str());
    else if (a == "--trickle-seconds")
      trickle = std::atoi(next().c_str());
    else if (a == "--box-port")
      box_port = static_cast<uint16_t>(std::atoi(next().c_str()));
    else if (a == "--duo-port")
      duo_port = static_cast<uint16_t>(std::atoi(next().c_str()));
    else
      return usage();
  }
  if (workdir.empty() || plugin_dir.empty() || events < 0 || trickle < 1) return usage();
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);

  fs::create_directories(fs::path(workdir) / "secrets");
  ::chmod((fs::path(workdir) / "secrets").c_str(), 0700);
  int64_t now = siphon::imitation::now_ms();

  BoxImitation::Keyfile keyfile = BoxImitation::make_keyfile();
  BoxImitation box(keyfile.credentials);
  box.add_events(static_cast<size_t>(events), now - 3600 * 1000);
  box.start(box_port);

  std::string ikey = "DI" + random_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 18);
  std::string skey =
      random_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 40);
  DuoImitation duo(ikey, skey);
  duo.set_visibility_delay_ms(2000);
  duo.add_auth_events(events, now - 3600 * 1000, 3600 * 1000 / std::max(events, 1));
  duo.add_admin_events(events / 3, (now / 1000) - 3600, 1);
  duo.start(duo_port);

  const std::string okta_token = OktaImitation::make_token();
  OktaImitation okta(okta_token);
  okta.add_events(events, now - 3600 * 1000, 3600 * 1000 / std::max(events, 1));
  okta.start();

  const std::string gh_token = GithubImitation::make_token();
  GithubImitation github(gh_token, "demo-org");
  github.add_events(events, now - 3600 * 1000, 3600 * 1000 / std::max(events, 1));
  github.start();

  fs::path dir = fs::absolute(workdir);
  write_secret(dir / "secrets" / "box.json", keyfile.json);
  write_secret(dir / "secrets" / "duo.ikey", ikey);
  write_secret(dir / "secrets" / "duo.skey", skey);
  write_secret(dir / "secrets" / "okta.token", okta_token);
  write_secret(dir / "secrets" / "github.token", gh_token);
  std::ofstream cfg(dir / "siphon.yaml", std::ios::trunc);
  cfg << "# Written by siphon-imitation for the demo: every app points at the local\n"
         "# imitations through options.base_url.\n"
      << "plugin_dirs: [" << fs::absolute(plugin_dir).string() << "]\n"
      << "state: sqlite:siphon-state.db\n"
         "log_level: info\n"
         "sinks:\n"
         "  - name: default\n"
         "    type: file\n"
         "    path: events.jsonl\n"
         "apps:\n"
         "  - name: demo-box\n"
         "    type: box_admin_events\n"
         "    interval: 5s\n"
         "    auth:\n"
         "      keyfile: ${file:secrets/box.json}\n"
         "    options:\n"
      << "      base_url: " << box.base_url() << "\n"
      << "  - name: demo-duo-auth\n"
         "    type: duo_auth\n"
         "    interval: 5s\n"
         "    auth:\n"
         "      api_hostname: api-1234abcd.duosecurity.com\n"
         "      integration_key: ${file:secrets/duo.ikey}\n"
         "      secret_key: ${file:secrets/duo.skey}\n"
         "    options:\n"
      << "      base_url: " << duo.base_url() << "\n"
      << "      delay_seconds: \"3\"\n"
         "      poll_pause_seconds: \"0\"\n"
         "  - name: demo-duo-admin\n"
         "    type: duo_admin\n"
         "    interval: 5s\n"
         "    auth:\n"
         "      api_hostname: api-1234abcd.duosecurity.com\n"
         "      integration_key: ${file:secrets/duo.ikey}\n"
         "      secret_key: ${file:secrets/duo.skey}\n"
         "    options:\n"
      << "      base_url: " << duo.base_url() << "\n"
      << "      poll_pause_seconds: \"0\"\n"
      << "  - name: demo-okta\n"
         "    type: okta_system_log\n"
         "    interval: 5s\n"
         "    auth:\n"
         "      api_token: ${file:secrets/okta.token}\n"
         "    options:\n"
         "      org_url: https://acme.okta.com\n"
      << "      base_url: " << okta.base_url() << "\n"
      << "  - name: demo-github\n"
         "    type: github_audit_log\n"
         "    interval: 5s\n"
         "    auth:\n"
         "      token: ${file:secrets/github.token}\n"
         "      org: demo-org\n"
         "    options:\n"
      << "      base_url: " << github.base_url() << "\n"
      << "      delay_seconds: \"2\"\n";
  cfg.close();
  std::printf("siphon-imitation: box on %s, duo on %s, okta on %s, github on %s; config %s\n",
              box.base_url().c_str(), duo.base_url().c_str(), okta.base_url().c_str(),
              github.base_url().c_str(), (dir / "siphon.yaml").c_str());
  std::fflush(stdout);

  while (!g_stop) {
    for (int i = 0; i < trickle * 10 && !g_stop; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    int64_t t = siphon::imitation::now_ms();
    box.add_events(2, t);
    duo.add_auth_events(3, t, 100);
    duo.add_admin_events(1, t / 1000, 1);
    okta.add_events(2, t, 100);
    github.add_events(2, t, 100);
  }
  box.stop();
  duo.stop();
  okta.stop();
  github.stop();
  std::printf(
      "siphon-imitation: stopped (box answered %zu requests, duo %zu, okta %zu, github %zu)\n",
      box.requests(), duo.requests(), okta.requests(), github.requests());
  return 0;
}
