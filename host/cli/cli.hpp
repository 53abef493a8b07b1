// The siphon command line: parses arguments and runs one command.
#ifndef SIPHON_HOST_CLI_CLI_HPP
#define SIPHON_HOST_CLI_CLI_HPP

#include <string>
#include <vector>

namespace siphon {

// Returns the process exit status: 0 success, 1 failure, 2 usage error.
int run_cli(const std::vector<std::string>& args);

}  // namespace siphon

#endif
