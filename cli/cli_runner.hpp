#pragma once

#include <functional>
#include <iosfwd>

#include "cli/cli_arguments.hpp"

namespace jobgate::cli {

// The environment variables and output streams of a command.
struct cli_environment {
  std::function<const char*(const char*)> variable;  // getenv, or a table in tests
  std::ostream& out;
  std::ostream& err;
  bool out_is_terminal = false;
  bool err_is_terminal = false;
};

// Runs one command against the gateway and returns the process exit status. The status is 0 on
// success, 1 when the gateway, the network or a file failed, and 2 for an invalid setting. A
// followed job that FAILED gives 3 and one that was CANCELED gives 4.
int run_cli_command(const cli_command& command, const cli_environment& environment);

}  // namespace jobgate::cli
