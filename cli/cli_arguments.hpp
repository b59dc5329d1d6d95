#pragma once

#include <boost/system/result.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace jobgate::cli {

enum class cli_action { import_file, export_records, status, wait, errors, cancel, list, download };

// One column-to-property pair of an import, from `--map "Column=property"`.
struct column_mapping {
  std::string column_name;
  std::string property_name;
};

// One command of the jobgate client with its arguments, before the environment is read.
struct cli_command {
  cli_action action = cli_action::status;
  std::string job_id;                    // status, wait, errors, cancel, download
  std::string file;                      // import: the CSV file to upload
  std::string output;                    // -o: the file to write, empty for none
  std::string object_type;               // import, export
  std::string name;                      // import, export: the job name, empty for the default
  std::vector<column_mapping> mappings;  // import
  std::vector<std::string> properties;   // export
  std::string format;                    // export: "csv", "ndjson" or empty for the default
  std::vector<std::string> statuses;     // list: upper-case job states
  std::string kind = "jobs";             // list: "imports", "exports" or "jobs"
  int limit = 20;                        // list: jobs per page
  std::string after;                     // list: the cursor of the page to show
  bool wait = false;
  bool json = false;
  std::optional<std::string> url;      // --url, overrides JOBGATE_URL
  std::optional<std::string> api_key;  // --api-key, overrides JOBGATE_API_KEY
};

// The command line: a command to run, or the help text that --help asked for.
struct cli_arguments {
  std::optional<cli_command> command;  // nullopt when help was requested
  std::string help;
};

// A command line that fits no command: what is wrong, and the usage to print below it.
struct usage_error {
  std::string message;
  std::string usage;
};

// Parses the arguments after the program name. Never reads the environment or files.
boost::system::result<cli_arguments, usage_error> parse_cli_arguments(
    std::span<const std::string_view> arguments);

}  // namespace jobgate::cli
