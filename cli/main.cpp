#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string_view>
#include <vector>

#include "cli/cli_arguments.hpp"
#include "cli/cli_runner.hpp"
#include "cli/command_error.hpp"

using namespace jobgate;

int main(int argc, char** argv) {
  const std::vector<std::string_view> arguments(argv + 1, argv + argc);
  auto parsed = cli::parse_cli_arguments(arguments);
  if (!parsed) {
    std::cerr << "jobgate: " << parsed.error().message << "\n\n" << parsed.error().usage;
    return cli::exit_usage;
  }
  if (!parsed->command) {
    std::cout << parsed->help;
    return cli::exit_success;
  }

  // A gateway that closed the socket must give a write error, not end the process.
  std::signal(SIGPIPE, SIG_IGN);
  const cli::cli_environment environment{
      [](const char* name) -> const char* { return std::getenv(name); }, std::cout, std::cerr,
      isatty(STDOUT_FILENO) == 1, isatty(STDERR_FILENO) == 1};
  return cli::run_cli_command(*parsed->command, environment);
}
