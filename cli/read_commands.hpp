#pragma once

#include "cli/command_session.hpp"

namespace jobgate::cli {

// Prints a job as "name: value" lines, or its JSON.
command_result run_status(const command_session& run);

// Cancels a job and prints its new status.
command_result run_cancel(const command_session& run);

// Prints every rejected row of an import, or writes the CSV error report with -o.
command_result run_errors(const command_session& run);

// Prints one page of the job list and the cursor of the next page.
command_result run_list(const command_session& run);

}  // namespace jobgate::cli
