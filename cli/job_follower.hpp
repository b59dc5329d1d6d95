#pragma once

#include <boost/system/result.hpp>
#include <string>

#include "cli/command_error.hpp"
#include "cli/http_client.hpp"
#include "cli/progress_display.hpp"
#include "common/json/json.hpp"

namespace jobgate::cli {

// Follows a job until it is DONE, FAILED or CANCELED and returns the final job resource. Reads
// the job's event stream and reconnects when the gateway closes it. When a stream cannot be
// opened or ends without an event, it polls the job instead and waits Retry-After between
// requests.
// Every state goes to `display`. Fails with the rendered problem when the gateway rejects a read.
boost::system::result<json::document, command_error> follow_job(http_client& client,
                                                                const std::string& job_id,
                                                                progress_display& display);

// Renders an error response as a command_error with exit status 1.
command_error problem_error(const http_response& response);

}  // namespace jobgate::cli
