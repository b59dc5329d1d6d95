#pragma once

#include "worker/job_context.hpp"
#include "worker/job_outcome.hpp"

namespace jobgate::worker {

// Runs one attempt at an export. It reads the tenant's records of the object type page by page in
// creation order and keeps those that pass the filters. The chosen properties go as CSV or NDJSON
// to a blob that becomes visible only when complete. A CSV cell that a spreadsheet would evaluate
// as a formula gets a leading quote unless the request sets csvFormulaEscape to false. Sets the
// result fields on success.
job_outcome run_export(job_context& job, field_list& result_fields);

}  // namespace jobgate::worker
