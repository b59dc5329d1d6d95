#pragma once

#include <atomic>
#include <optional>
#include <string>

#include "common/blob/blob_store.hpp"
#include "common/jobs/job.hpp"
#include "common/json/json.hpp"
#include "common/log/logger.hpp"
#include "common/records/property_catalog.hpp"
#include "worker/job_liveness.hpp"
#include "worker/job_outcome.hpp"
#include "worker/worker_config.hpp"
#include "worker/worker_store.hpp"

namespace jobgate::worker {

// Everything one attempt at a job works with: the job's identity, its request, the store and blob
// store, the stop flag of the worker, checked between batches, and the beat that keeps the lease.
struct job_context {
  std::string job_id;
  std::string tenant;
  job_kind kind = job_kind::imports;
  std::string blob_key;
  const json::value& request;
  // The built-in properties and the tenant's custom ones from the job message.
  const records::property_catalog& catalog;
  std::int64_t attempt = 0;
  worker_store::start_result started;
  worker_store& store;
  blob_store& blobs;
  const worker_config& config;
  const log::logger& logger;
  const std::atomic<bool>& stopping;
  // Beaten between chunks and batches, which keeps the attempt's lease.
  job_liveness& liveness;
};

// Returns the outcome that ends an attempt when the store refused a change, because the job was
// canceled or a newer attempt owns it. Returns nullopt when the change was applied.
std::optional<job_outcome> stop_reason(const worker_store::change_result& change);

}  // namespace jobgate::worker
