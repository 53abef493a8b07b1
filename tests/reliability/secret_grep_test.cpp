// No secret in any output: the main scenarios run with recognisable secret
// values (Duo keys, a Box key file with its client secret, passphrase and
// private key), and every stdout, stderr, the sink, the state store and
// every other file siphon wrote is searched for each secret, in the forms a
// leak would take: as is, JSON-escaped, base64 (also as the start of a
// longer base64 text, as in a Basic Authorization header), URL-encoded, and
// each line of a multi-line secret.
#include <Poco/Base64Encoder.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "duo_imitation.hpp"
#include "harness.hpp"
#include "piped_siphon.hpp"

namespace fs = std::filesystem;
using siphon::imitation::BoxImitation;
using siphon::imitation::DuoImitation;
using siphon::imitation::Fault;
using siphon::testing::Result;
using siphon::testing::siphon_with_input;
using siphon::testing::Workdir;

namespace {

const std::string kHost = "api-7c0ffee1.duosecurity.com";
const std::string kIkey = "DISECRETGREP0IKEY777";
const std::string kSkey = "GrepMeDuoSecretKey0000Distinctive0123456";
const std::string kWrongSkey = "WrongDuoSecretKeyAlsoSecret0000987654321";
const std::string kBadSkey = "BadShapeDuoSecret+Key/NotFortyChars==";
const std::string kPassphrase = "GrepPassphrase-Zx81q distinct";

std::string base64(const std::string& text) {
  std::ostringstream out;
  Poco::Base64Encoder enc(out);
  enc.rdbuf()->setLineLength(0);
  enc << text;
  enc.close();
  return out.str();
}

std::string json_escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  return out;
}

std::string url_encoded(const std::string& text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Every form of `secret` that must not appear, with a label for the report.
std::vector<std::pair<std::string, std::string>> forms_of(const std::string& name,
                                                          const std::string& secret) {
  std::vector<std::pair<std::string, std::string>> forms{
      {name, secret},
      {name + " (JSON-escaped)", json_escaped(secret)},
      {name + " (base64)", base64(secret)},
      {name + " (URL-encoded)", url_encoded(secret)}};
  // The base64 of a 3-byte-aligned prefix starts the base64 of any text that
  // starts with the secret ("ikey:signature" in a Basic header).
  size_t aligned = secret.size() / 3 * 3;
  if (aligned >= 12)
    forms.push_back({name + " (base64 prefix)", base64(secret.substr(0, aligned))});
  std::istringstream lines(secret);
  std::string line;
  while (std::getline(lines, line))
    if (line.size() >= 16 && line != secret) forms.push_back({name + " (a line)", line});
  return forms;
}

// Collects every output of a scenario and searches it for the secrets.
class SecretGrep {
 public:
  void add_secret(const std::string& name, const std::string& secret) {
    for (auto& f : forms_of(name, secret)) forms_.push_back(f);
  }
  void add(const std::string& what, const Result& r) {
    outputs_.push_back({what + " stdout", r.out});
    outputs_.push_back({what + " stderr", r.err});
  }
  // Every file siphon wrote in the work folder: the sink, the state store and
  // its journal, the output of spawned processes. Not the inputs we wrote:
  // secrets/, the config and piped input.
  void add_files(const Workdir& dir) {
    for (const auto& e : fs::recursive_directory_iterator(dir.path())) {
      if (!e.is_regular_file()) continue;
      std::string rel = fs::relative(e.path(), dir.path()).string();
      if (rel.rfind("secrets", 0) == 0 || rel == "siphon.yaml" || e.path().extension() == ".in" ||
          rel.rfind("conf.d", 0) == 0)
        continue;
      outputs_.push_back({rel, dir.read(rel)});
    }
  }
  // One line per form found: "<secret form> found in <output>: ...context...".
  std::vector<std::string> findings() const {
    std::vector<std::string> found;
    for (const auto& [where, text] : outputs_) {
      for (const auto& [name, form] : forms_) {
        size_t at = text.find(form);
        if (at == std::string::npos) continue;
        size_t from = at > 60 ? at - 60 : 0;
        found.push_back(name + " found in " + where + ": ..." +
                        text.substr(from, form.size() + 120) + "...");
      }
    }
    return found;
  }
  void expect_clean() const {
    ASSERT_FALSE(forms_.empty());
    ASSERT_GT(outputs_.size(), 20u);
    for (const auto& f : findings()) ADD_FAILURE() << f;
  }

 private:
  std::vector<std::pair<std::string, std::string>> forms_;
  std::vector<std::pair<std::string, std::string>> outputs_;
};

// Runs `siphon run` until it has logged `marker` (or a few seconds), then SIGTERM.
Result run_then_sigterm(const Workdir& dir, const std::string& name, const std::string& marker) {
  pid_t pid = dir.spawn({"run"}, name);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline &&
         dir.read(name + ".err").find(marker) == std::string::npos)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ::kill(pid, SIGTERM);
  Result r;
  r.exit_code = siphon::testing::wait_child(pid, 30);
  r.out = dir.read(name + ".out");
  r.err = dir.read(name + ".err");
  return r;
}

// The search itself finds each form of a leak (so a clean result means something).
TEST(SecretGrepSelfTest, EveryFormOfALeakIsFound) {
  const std::string pem =
      "-----BEGIN KEY-----\nQUJDREVGR0hJSktMTU5PUFFSU1RVVldY\n-----END KEY-----\n";
  const std::vector<std::string> leaks = {
      "error: " + kSkey + " rejected",
      "{\"message\":\"" + json_escaped(pem) + "\"}",
      "Authorization: Basic " + base64(kIkey + ":0123456789abcdef"),
      "body=client_secret%3D" + url_encoded("a b/c+d=e&f-secret") + "&x=1",
      "line: QUJDREVGR0hJSktMTU5PUFFSU1RVVldY (from a key)",
  };
  for (size_t i = 0; i < leaks.size(); ++i) {
    SecretGrep grep;
    grep.add_secret("skey", kSkey);
    grep.add_secret("ikey", kIkey);
    grep.add_secret("pem", pem);
    grep.add_secret("form secret", "a b/c+d=e&f-secret");
    Result r;
    r.err = leaks[i];
    grep.add("leak " + std::to_string(i), r);
    EXPECT_FALSE(grep.findings().empty()) << "not found: " << leaks[i];
  }
  SecretGrep clean;
  clean.add_secret("skey", kSkey);
  Result r;
  r.out = "nothing to see: " + kSkey.substr(0, 10);
  clean.add("clean", r);
  EXPECT_TRUE(clean.findings().empty());
}

class SecretGrepTest : public ::testing::Test {
 protected:
  int64_t now() const { return siphon::imitation::now_ms(); }
  Workdir dir_;
  SecretGrep grep_;
};

TEST_F(SecretGrepTest, DuoSecretsAppearInNoOutput) {
  static_assert(sizeof("GrepMeDuoSecretKey0000Distinctive0123456") == 41);
  static_assert(sizeof("WrongDuoSecretKeyAlsoSecret0000987654321") == 41);
  grep_.add_secret("Duo secret_key", kSkey);
  grep_.add_secret("Duo integration_key", kIkey);
  grep_.add_secret("wrong Duo secret_key", kWrongSkey);
  grep_.add_secret("badly shaped Duo secret_key", kBadSkey);

  DuoImitation duo(kIkey, kSkey);
  duo.set_visibility_delay_ms(0);
  duo.start();
  duo.add_auth_events(30, now() - 1800 * 1000, 1000);
  dir_.write("secrets/duo.skey", kSkey + "\n", 0600);
  dir_.write("secrets/duo.wrong", kWrongSkey + "\n", 0600);
  ::setenv("SIPHON_GREP_IKEY", kIkey.c_str(), 1);
  auto config = [&](const std::string& skey_ref, const std::string& extra = "") {
    std::string auth =
        "    auth:\n      api_hostname: " + kHost +
        "\n      integration_key: ${env:SIPHON_GREP_IKEY}\n      secret_key: " + skey_ref + "\n";
    std::string options = "    options:\n      base_url: " + duo.base_url() +
                          "\n      poll_pause_seconds: \"0\"\n      delay_seconds: \"0\"\n";
    dir_.write_config("  - name: corp-duo\n    type: duo_auth\n    interval: 1s\n" + auth + options,
                      extra);
  };
  for (std::string format : {"text", "json"}) {
    SCOPED_TRACE("log_format " + format);
    std::string extra = "log_format: " + format + "\n";
    config("${file:secrets/duo.skey}", extra);
    grep_.add("plugins", dir_.siphon({"plugins"}));
    grep_.add("plugins --json", dir_.siphon({"plugins", "--json"}));
    Result check = dir_.siphon({"check"});
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
    grep_.add("check (good)", check);
    Result once = dir_.siphon({"--log-level", "trace", "once", "corp-duo", "--since", "1h"});
    EXPECT_EQ(once.exit_code, 0) << once.err;
    grep_.add("once (success, trace)", once);
    grep_.add("state show", dir_.siphon({"state", "show"}));
    grep_.add("state show --json", dir_.siphon({"state", "show", "--json"}));

    // Wrong credentials: a well-formed key Duo does not know.
    config("${file:secrets/duo.wrong}", extra);
    Result wrong = dir_.siphon({"once", "corp-duo"});
    EXPECT_EQ(wrong.exit_code, 1) << wrong.err;
    grep_.add("once (wrong secret key)", wrong);
    grep_.add("state show after refusal", dir_.siphon({"state", "show"}));
    grep_.add("state show --json after refusal", dir_.siphon({"state", "show", "--json"}));

    // A value off the regex, written literally in the config.
    config(kBadSkey, extra);
    Result bad = dir_.siphon({"check"});
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_NE(bad.out.find("field auth.secret_key"), std::string::npos) << bad.out;
    grep_.add("check (bad value)", bad);
    grep_.add("once (bad value)", dir_.siphon({"once", "corp-duo"}));

    // A vendor error that echoes the credentials it was sent.
    config("${file:secrets/duo.skey}", extra);
    Fault echo;
    echo.status = 401;
    echo.body = "{\"stat\":\"FAIL\",\"code\":40103,\"message\":\"Invalid signature by " + kIkey +
                "\",\"message_detail\":\"expected key " + kSkey + "\"}";
    duo.inject(echo);
    Result echoed = dir_.siphon({"once", "corp-duo"});
    EXPECT_EQ(echoed.exit_code, 1) << echoed.err;
    EXPECT_NE(echoed.err.find("[redacted]"), std::string::npos) << echoed.err;
    grep_.add("once (vendor echoes the keys)", echoed);
    grep_.add("state show --json after echo", dir_.siphon({"state", "show", "--json"}));
    duo.clear_faults();

    // Server errors until the retries give up.
    Fault broken;
    broken.status = 500;
    broken.count = 50;
    broken.body = "{\"stat\":\"FAIL\",\"code\":50000,\"message\":\"internal\"}";
    duo.inject(broken);
    Result errors = dir_.siphon({"once", "corp-duo"});
    EXPECT_EQ(errors.exit_code, 1) << errors.err;
    grep_.add("once (500s)", errors);
    duo.clear_faults();

    // A scheduled run stopped by SIGTERM.
    duo.add_auth_events(5, now() - 60 * 1000, 1000);
    Result run = run_then_sigterm(dir_, "run-" + format, "corp-duo");
    EXPECT_EQ(run.exit_code, 0) << run.err;
    grep_.add("run + SIGTERM", run);
  }
  // auth set, values piped in.
  config("${file:secrets/duo.skey}");
  Result set = siphon_with_input(dir_, {"auth", "set", "corp-duo"},
                                 kHost + "\n" + kIkey + "\n" + kSkey + "\n");
  EXPECT_EQ(set.exit_code, 0) << set.err;
  grep_.add("auth set", set);
  Result refused = siphon_with_input(dir_, {"auth", "set", "corp-duo"},
                                     kHost + "\n" + kIkey + "\n" + kBadSkey + "\n");
  EXPECT_EQ(refused.exit_code, 1);
  grep_.add("auth set (refused)", refused);
  grep_.add_files(dir_);
  EXPECT_GT(dir_.event_lines(), 0u);
  grep_.expect_clean();
}

TEST_F(SecretGrepTest, BoxKeyFileSecretsAppearInNoOutput) {
  BoxImitation::Keyfile key = BoxImitation::make_keyfile("918273645", kPassphrase);
  grep_.add_secret("Box client secret", key.credentials.client_secret);
  grep_.add_secret("Box passphrase", kPassphrase);
  grep_.add_secret("Box private key", key.private_key_pem);
  grep_.add_secret("Box key file", key.json);
  siphon::testing::BoxAccount box(dir_, key);
  box.add_events(40, now() - 1800 * 1000);

  // A second, unknown key with the same ids: Box refuses the JWT.
  BoxImitation::Keyfile other = BoxImitation::make_keyfile("918273645", kPassphrase);
  grep_.add_secret("other Box private key", other.private_key_pem);
  grep_.add_secret("other Box client secret", other.credentials.client_secret);
  std::string forged = other.json;
  auto swap = [&](const std::string& from, const std::string& to) {
    for (size_t p; (p = forged.find(from)) != std::string::npos;)
      forged.replace(p, from.size(), to);
  };
  swap(other.credentials.client_id, key.credentials.client_id);
  swap(other.credentials.public_key_id, key.credentials.public_key_id);
  dir_.write("secrets/forged.json", forged, 0600);
  // A key file the plugin cannot use: the private key cut short.
  std::string broken_key = key.json;
  size_t pem = broken_key.find("-----BEGIN");
  ASSERT_NE(pem, std::string::npos);
  broken_key.replace(pem + 40, 200, "");
  dir_.write("secrets/broken.json", broken_key, 0600);

  auto config = [&](const std::string& keyfile, const std::string& extra = "") {
    dir_.write_config(
        "  - name: corp-box\n    type: box_admin_events\n    interval: 1s\n"
        "    auth:\n      keyfile: ${file:" +
            keyfile + "}\n    options:\n      base_url: " + box.base_url() +
            "\n      limit: \"10\"\n",
        extra);
  };
  for (std::string format : {"text", "json"}) {
    SCOPED_TRACE("log_format " + format);
    std::string extra = "log_format: " + format + "\n";
    config("secrets/box.json", extra);
    grep_.add("plugins", dir_.siphon({"plugins"}));
    Result check = dir_.siphon({"check"});
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
    grep_.add("check (good)", check);
    Result once = dir_.siphon({"--log-level", "trace", "once", "corp-box", "--since", "1h"});
    EXPECT_EQ(once.exit_code, 0) << once.err;
    grep_.add("once (success, trace)", once);
    grep_.add("state show", dir_.siphon({"state", "show"}));
    grep_.add("state show --json", dir_.siphon({"state", "show", "--json"}));

    config("secrets/forged.json", extra);
    Result wrong = dir_.siphon({"once", "corp-box"});
    EXPECT_EQ(wrong.exit_code, 1) << wrong.err;
    grep_.add("once (unknown key)", wrong);
    grep_.add("state show --json after refusal", dir_.siphon({"state", "show", "--json"}));

    config("secrets/broken.json", extra);
    Result bad = dir_.siphon({"check"});
    EXPECT_EQ(bad.exit_code, 1) << bad.out;
    grep_.add("check (broken key file)", bad);
    grep_.add("once (broken key file)", dir_.siphon({"once", "corp-box"}));

    config("secrets/box.json", extra);
    Fault broken;
    broken.status = 500;
    broken.count = 50;
    broken.path_prefix = "/2.0/events";
    box.inject(broken);
    Result errors = dir_.siphon({"once", "corp-box"});
    EXPECT_EQ(errors.exit_code, 1) << errors.err;
    grep_.add("once (500s)", errors);
    box.clear_faults();

    box.add_events(5, now() - 60 * 1000);
    Result run = run_then_sigterm(dir_, "run-" + format, "corp-box");
    EXPECT_EQ(run.exit_code, 0) << run.err;
    grep_.add("run + SIGTERM", run);
  }
  config("secrets/box.json");
  Result set = siphon_with_input(dir_, {"auth", "set", "corp-box"}, key.json);
  EXPECT_EQ(set.exit_code, 0) << set.err;
  grep_.add("auth set", set);
  Result refused = siphon_with_input(dir_, {"auth", "set", "corp-box"}, broken_key);
  EXPECT_EQ(refused.exit_code, 1);
  grep_.add("auth set (refused key file)", refused);
  grep_.add_files(dir_);
  EXPECT_GT(dir_.event_lines(), 0u);
  grep_.expect_clean();
}

}  // namespace
