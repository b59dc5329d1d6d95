#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/log/logger.hpp"

namespace jobgate {

// Reads a daemon's settings from command-line flags and environment variables, 12-factor style.
// The setting "http-port" is the flag --http-port and the variable JOBGATE_HTTP_PORT; a flag wins
// over the variable, and the default applies when neither is set. Problems are collected, so
// start-up can report every invalid setting at once and exit with code 2.
class settings_reader {
 public:
  // environment is a lookup such as ::getenv; tests pass their own.
  using environment_lookup = const char* (*)(const char*);

  settings_reader(int argc, const char* const* argv, environment_lookup environment);

  std::string text(std::string_view name, std::string_view fallback, std::string_view help);
  std::int64_t integer(std::string_view name, std::int64_t fallback, std::int64_t min,
                       std::int64_t max, std::string_view unit, std::string_view help);
  std::vector<std::string> list(std::string_view name, std::string_view fallback,
                                std::string_view help);

  // Records a problem with a setting found by the caller's own checks.
  void reject(std::string_view name, std::string_view problem);

  bool help_requested() const { return help_requested_; }
  std::vector<std::string> errors() const;

  // One line per setting with its flag, variable, default and help, for --help.
  std::string usage() const;

  static std::string variable_name(std::string_view name);

 private:
  std::optional<std::string> raw(std::string_view name);
  void describe(std::string_view name, std::string_view fallback, std::string_view help);

  std::map<std::string, std::string, std::less<>> flags_;
  environment_lookup environment_;
  std::vector<std::string> errors_;
  std::vector<std::string> usage_lines_;
  std::vector<std::string> known_;
  bool help_requested_ = false;
};

// Reads the log-format (text or json) and log-level settings every daemon has.
void read_log_settings(settings_reader& reader, log::output_format& format, log::level& level);

// Masks a secret for logs: its length only.
std::string mask_secret(std::string_view secret);

}  // namespace jobgate
