#pragma once

#include <string>

namespace jobgate::cli {

// Exit statuses of the jobgate command.
inline constexpr int exit_success = 0;
inline constexpr int exit_failure = 1;  // an error response, a connection or a file failed
inline constexpr int exit_usage = 2;    // the command line or a setting is invalid
inline constexpr int exit_job_failed = 3;
inline constexpr int exit_job_canceled = 4;

// A failed command: the text for stderr, ending in '\n', and the exit status.
struct command_error {
  std::string text;
  int exit_status = exit_failure;
};

}  // namespace jobgate::cli
