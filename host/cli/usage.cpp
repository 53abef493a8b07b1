#include "cli/usage.hpp"

#include <initializer_list>
#include <sstream>

namespace siphon {
namespace {

constexpr std::string_view kSummary =
    "Pulls security and audit logs out of SaaS APIs through plugins and delivers every event to "
    "a sink, committing each app's cursor only once the sink holds the events.";

constexpr std::string_view kTimeNote =
    "TIME is RFC 3339 (2026-11-27T00:00:00Z) or a duration meaning that long ago (2h, 1d); a "
    "TIME in the future is a usage error.";

constexpr std::string_view kExitNote = "Exit status: 0 success, 1 failure, 2 usage error.";

constexpr size_t kWidth = 88;   // of --help's lines
constexpr size_t kIndent = 32;  // where descriptions start

// Words of `text` filled into lines of at most kWidth, each starting at
// `indent` (the first one after `first_used` columns already written).
std::string wrap(std::string_view text, size_t indent, size_t first_used) {
  std::string out;
  std::istringstream words{std::string(text)};
  std::string word;
  size_t col = first_used;
  bool line_empty = true;
  while (words >> word) {
    if (!line_empty && col + 1 + word.size() > kWidth) {
      out += '\n';
      col = 0;
      line_empty = true;
    }
    if (line_empty) {
      if (col < indent) out.append(indent - col, ' ');
      col = std::max(col, indent);
    } else {
      out += ' ';
      ++col;
    }
    out += word;
    col += word.size();
    line_empty = false;
  }
  return out + '\n';
}

// "  FLAG" then its text at kIndent (on the next line when FLAG is long).
std::string item(std::string_view flag, std::string_view text) {
  std::string head = "  ";
  head += flag;
  if (head.size() + 1 > kIndent) return head + '\n' + wrap(text, kIndent, 0);
  return head + wrap(text, kIndent, head.size());
}

std::string synopsis(const CommandDoc& c) {
  std::string s(c.name);
  if (!c.args.empty()) {
    s += ' ';
    s += c.args;
  }
  return s;
}

// man(7) text: backslashes and leading dots or quotes escaped, dashes kept
// as ASCII hyphen-minus (options are typed as shown).
std::string roff(std::string_view text) {
  std::string out;
  for (char ch : text) {
    if (ch == '\\')
      out += "\\e";
    else if (ch == '-')
      out += "\\-";
    else
      out += ch;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

}  // namespace

const std::vector<CommandDoc>& command_docs() {
  static const std::vector<CommandDoc> docs = {
      {"plugins",
       "[--json]",
       "List the plugins found, their app types, each auth field (name, description, regex, "
       "secret or not) and option; and every file refused, with the reason.",
       {{"--json", "one JSON object instead of aligned text"}}},
      {"check",
       "[--json] [--allow-refused] [--sinks]",
       "Validate the config without network; one line per problem (FILE: app NAME: field "
       "FIELD: problem); exit 1 if any. Never prints a secret value.",
       {{"--json", "one JSON array of {file, app, field, problem} instead of lines"},
        {"--allow-refused", "a plugin file refused is a warning, not a problem"},
        {"--sinks",
         "then connect to each sink (nothing delivered) and print one line per sink: "
         "reachable or why not"}}},
      {"run",
       "",
       "Schedule every enabled app until SIGINT/SIGTERM (exit 0); SIGHUP reopens file sinks. "
       "An app whose secrets cannot be read or fail their regex is logged and its runs fail; "
       "the others run. With http.listen set, serves /metrics (Prometheus) and /health (JSON, "
       "503 when an app fails). Under systemd (Type=notify) it reports readiness once the apps "
       "are scheduled and pings the watchdog from the scheduler.",
       {}},
      {"once",
       "APP [--since TIME]",
       "One run of one app (also a disabled one): poll until no more pages, then exit. Progress "
       "on stderr (events, pages, position in time, rate): a status line at a terminal, else a "
       "line every 10 s.",
       {{"--since TIME",
         "start there instead of at the stored cursor (and commit what is "
         "delivered)"}}},
      {"state show",
       "[APP] [--json]",
       "Cursor, last run, status and counts of each app.",
       {{"--json", "one JSON array instead of aligned text"}}},
      {"state reset",
       "APP [--since TIME]",
       "Forget the app's cursor; the next run starts from now - interval, or from TIME.",
       {{"--since TIME", "where the next run starts"}}},
      {"state migrate",
       "--to postgresql://USER@HOST:PORT/DB",
       "Copy the config's SQLite state (cursors, statuses, counts) into a PostgreSQL database "
       "shared by a fleet of hosts; then set state: to that URL. The password comes from a "
       "${env:} or ${file:} reference in the URL, or PGPASSWORD/~/.pgpass.",
       {{"--to URL", "the PostgreSQL database to copy into"}}},
      {"auth set",
       "APP",
       "Ask for each auth field of the app (secrets without echo; one value a line when stdin is "
       "not a terminal), validate, write secrets/APP.FIELD (0600) beside the config and print "
       "the auth: lines to use.",
       {}},
  };
  return docs;
}

const std::vector<OptionDoc>& global_option_docs() {
  static const std::vector<OptionDoc> docs = {
      {"--config FILE",
       "the config file; default: $SIPHON_CONFIG, else ./siphon.yaml, else "
       "/etc/siphon/siphon.yaml"},
      {"--log-level LEVEL", "trace | debug | info | warn | error (overrides log_level)"},
      {"--version", "Siphon's version and the plugin ABI version it accepts"},
      {"--help", "this text; after a command, that command's"},
  };
  return docs;
}

const CommandDoc* find_command_doc(const std::vector<std::string>& words) {
  if (words.empty()) return nullptr;
  std::string one = words[0];
  std::string two = words.size() > 1 ? one + " " + words[1] : "";
  for (const auto& c : command_docs())
    if (c.name == one || (!two.empty() && c.name == two)) return &c;
  return nullptr;
}

bool option_takes_value(std::string_view name) {
  auto valued = [&](const OptionDoc& o) {
    return o.flag.size() > name.size() && o.flag.substr(0, name.size()) == name &&
           o.flag[name.size()] == ' ';
  };
  for (const auto& o : global_option_docs())
    if (valued(o)) return true;
  for (const auto& c : command_docs())
    for (const auto& o : c.options)
      if (valued(o)) return true;
  return false;
}

std::string usage_text() {
  std::string out = "usage: siphon [--config FILE] [--log-level LEVEL] COMMAND [--help]\n\n";
  out += wrap(kSummary, 0, 0);
  out += "\ncommands:\n";
  for (const auto& c : command_docs()) out += item(synopsis(c), c.text);
  out += item("--version", global_option_docs()[2].text);
  out += item("--help", global_option_docs()[3].text);
  out += "\noptions (also as --option=VALUE):\n";
  for (size_t i = 0; i < 2; ++i)
    out += item(global_option_docs()[i].flag, global_option_docs()[i].text);
  out += wrap(kTimeNote, 0, 0);
  out += wrap(kExitNote, 0, 0);
  return out;
}

std::string command_usage_text(const CommandDoc& c) {
  // (Appended piece by piece: GCC 12 at -O3 warns wrongly about const char* + std::string.)
  std::string out = "usage: siphon [--config FILE] [--log-level LEVEL] ";
  out += synopsis(c);
  out += "\n\n";
  out += wrap(c.text, 0, 0);
  if (!c.options.empty()) {
    out += "\noptions:\n";
    for (const auto& o : c.options) out += item(o.flag, o.text);
  }
  if (c.args.find("TIME") != std::string_view::npos) {
    out += '\n';
    out += wrap(kTimeNote, 0, 0);
  }
  return out;
}

std::string man_page(std::string_view version) {
  std::string out;
  auto add = [&out](std::initializer_list<std::string_view> parts) {
    for (auto part : parts) out.append(part);
  };
  add({".\\\" siphon(1), written by `siphon --man` from the table behind `siphon --help`.\n"});
  add({".TH SIPHON 1 \"\" \"siphon ", roff(version), "\" \"User Commands\"\n"});
  add({".SH NAME\nsiphon \\- collect security and audit logs from SaaS APIs\n"});
  add(
      {".SH SYNOPSIS\n.B siphon\n[\\fB\\-\\-config\\fR \\fIFILE\\fR] "
       "[\\fB\\-\\-log\\-level\\fR \\fILEVEL\\fR] \\fICOMMAND\\fR [\\fB\\-\\-help\\fR]\n"});
  add({".SH DESCRIPTION\n", roff(kSummary), "\n.SH COMMANDS\n"});
  for (const auto& c : command_docs()) {
    add({".TP\n.B ", roff(c.name)});
    if (!c.args.empty()) add({" \\fR", roff(c.args)});
    add({"\n", roff(c.text), "\n"});
    for (const auto& o : c.options)
      add({".RS\n.TP\n.B ", roff(o.flag), "\n", roff(o.text), "\n.RE\n"});
  }
  add({".SH OPTIONS\n"});
  for (const auto& o : global_option_docs())
    add({".TP\n.B ", roff(o.flag), "\n", roff(o.text), "\n"});
  add({".PP\nEvery option taking a value is also accepted as \\fB\\-\\-option=VALUE\\fR.\n"});
  add({".PP\n", roff(kTimeNote), "\n.SH EXIT STATUS\n", roff(kExitNote), "\n"});
  add(
      {".SH ENVIRONMENT\n.TP\n.B SIPHON_CONFIG\nthe config file when \\fB\\-\\-config\\fR "
       "is not given\n"});
  add({".SH FILES\n.TP\n.I /etc/siphon/siphon.yaml\n",
       roff("the config; apps in /etc/siphon/conf.d/*.yaml, secrets in /etc/siphon/secrets/"),
       "\n.TP\n.I /var/lib/siphon/state.db\n", roff("cursors and run status (SQLite)"),
       "\n.TP\n.I /var/log/siphon/\n", roff("where the packaged config's file sink writes"), "\n"});
  add({".SH SEE ALSO\n.BR systemctl (1),\n.BR journalctl (1)\n"});
  return out;
}

}  // namespace siphon
