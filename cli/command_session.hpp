#pragma once

#include <boost/system/result.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "cli/cli_arguments.hpp"
#include "cli/cli_runner.hpp"
#include "cli/command_error.hpp"
#include "cli/http_client.hpp"
#include "cli/progress_display.hpp"
#include "common/json/json.hpp"

namespace jobgate::cli {

using command_result = boost::system::result<int, command_error>;

// The pieces every command uses.
struct command_session {
  const cli_command& command;
  const cli_environment& environment;
  http_client& client;
  // An Idempotency-Key per invocation, the same on every retry of its submission.
  std::string idempotency_key;

  // Progress goes to stdout, or to stderr when stdout carries --json output.
  progress_display make_display() const {
    if (command.json) {
      return progress_display(environment.err, environment.err_is_terminal);
    }
    return progress_display(environment.out, environment.out_is_terminal);
  }
};

// Percent-encodes everything but RFC 3986's unreserved characters, for a query value.
std::string encode_query_value(std::string_view text);

// Job ids are "imp_" or "exp_" and hex digits; anything else must not reach a URL path.
bool is_valid_job_id(std::string_view id);

// Sends a request that returns a JSON object with `expected_status`. Any other status becomes the
// rendered problem.
boost::system::result<std::pair<http_response, json::document>, command_error> fetch_json(
    http_client& client, http_request request, unsigned expected_status);

// Streams a 2xx body into `path` through a temporary file beside it, renamed once complete, and
// returns the bytes written.
boost::system::result<std::uint64_t, command_error> download_to_file(http_client& client,
                                                                     const http_request& request,
                                                                     const std::string& path);

}  // namespace jobgate::cli
