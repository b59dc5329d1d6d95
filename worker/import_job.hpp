#pragma once

#include "worker/job_context.hpp"
#include "worker/job_outcome.hpp"

namespace jobgate::worker {

// Runs one attempt at an import: counts the file's records for progress, streams the file through
// the row processor and applies the rows in atomic batches, each of which also moves the job's
// checkpoint. A redelivered job continues after the last applied batch, so no row is applied twice.
job_outcome run_import(job_context& job);

}  // namespace jobgate::worker
