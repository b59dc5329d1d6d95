#pragma once

#include <string>

#include "cli/progress_format.hpp"
#include "common/json/json.hpp"

namespace jobgate::cli {

// True for DONE, FAILED and CANCELED, the states a job never leaves.
bool is_terminal_status(std::string_view status);

// Reads a job resource's status and progress. Rate is left empty.
progress_snapshot snapshot_of(const json::value& job);

// Describes a job in a few "name: value" lines for `jobgate status`.
std::string describe_job(const json::value& job);

// Describes a finished job in one line: the counts of an import, the rows of an export, the
// reason of a failure or cancellation. Ends in '\n'.
std::string describe_job_end(const json::value& job);

}  // namespace jobgate::cli
