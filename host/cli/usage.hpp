// The command line's documentation, in one table: `siphon --help`, each
// command's `--help` and the man page siphon(1) (`siphon --man`, run by the
// build) are all written from it, so they cannot disagree.
#ifndef SIPHON_HOST_CLI_USAGE_HPP
#define SIPHON_HOST_CLI_USAGE_HPP

#include <string>
#include <string_view>
#include <vector>

namespace siphon {

// One option of a command, or of every command.
struct OptionDoc {
  std::string_view flag;  // "--since TIME"
  std::string_view text;  // one paragraph, unwrapped
};

// One command: its words ("state show"), what follows them, what it does.
struct CommandDoc {
  std::string_view name;
  std::string_view args;  // "APP [--since TIME]"; may be empty
  std::string_view text;  // one paragraph, unwrapped
  std::vector<OptionDoc> options;
};

const std::vector<CommandDoc>& command_docs();
const std::vector<OptionDoc>& global_option_docs();

// The command named by `words` (its first one or two words), or nullptr.
const CommandDoc* find_command_doc(const std::vector<std::string>& words);
// Whether the option `name` ("--since") takes a value ("--since TIME").
bool option_takes_value(std::string_view name);

// `siphon --help`.
std::string usage_text();
// `siphon COMMAND --help`.
std::string command_usage_text(const CommandDoc& c);
// siphon(1) in man(7) markup.
std::string man_page(std::string_view version);

}  // namespace siphon

#endif
