// `siphon auth set APP`: asks for each auth field of the app's type, checks
// every value against the field's regex and then the plugin's own validation,
// writes each secret to secrets/<app>.<field> beside the config file that
// declares the app (file 0600, folder 0700, written to a temporary file and
// renamed into place), and prints the auth: lines to put in the config. The
// YAML is not rewritten.
//
// When standard input is a terminal, secret fields are read with echo off and
// a refused value is asked again; otherwise one value is read per line, an
// empty line skips an optional field, and the first refused value ends the
// command with a one-line error naming the field. A value starting with '{'
// (a JSON key file) continues over following lines until its braces balance.
// No secret value is ever written to stdout, stderr or the log.
#ifndef SIPHON_HOST_CLI_AUTH_SET_HPP
#define SIPHON_HOST_CLI_AUTH_SET_HPP

#include <string>

namespace siphon {

// Returns the exit status: 0 saved, 1 refused or failed.
int auth_set(const std::string& config_path, const std::string& log_level,
             const std::string& app_name);

// Writes `text` to `path` with mode 0600: a temporary file in the same folder,
// flushed to disk, then renamed over `path`. Throws std::runtime_error naming
// the path (never the text).
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace siphon

#endif
