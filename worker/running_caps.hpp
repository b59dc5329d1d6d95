#pragma once

#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/jobs/job.hpp"
#include "common/kafka/kafka_producer.hpp"
#include "common/redis/connection.hpp"

namespace jobgate::worker {

// The verdict of a tenant's running-jobs cap on one of its jobs: start now, or wait.
struct admission {
  bool run = true;
  // While the job waits: its place in the tenant's queue (1 is next) and the cap it waits for.
  std::int64_t position = 0;
  std::int64_t cap = 0;
  // Deferred jobs that took a free place on the way; their messages must be produced again.
  std::vector<std::string> promoted;
};

// Time after which a sweeper produces a promoted job's message when the worker that promoted it
// did not.
inline constexpr std::chrono::milliseconds promoted_resend_after{10'000};

// Admits the PENDING job `id` under its tenant's cap of running jobs of `kind`, the tenant's own
// value or default_cap (0: no cap). A job over the cap is added to the tenant's deferred jobs.
boost::system::result<admission> admit_job(redis::connection& redis, const std::string& id,
                                           const std::string& tenant, job_kind kind,
                                           std::int64_t default_cap);

// Frees the place of job `id` ("" for none) and promotes the tenant's oldest deferred jobs into
// the free places. Returns the promoted ids.
boost::system::result<std::vector<std::string>> release_place(redis::connection& redis,
                                                              const std::string& id,
                                                              const std::string& tenant,
                                                              job_kind kind,
                                                              std::int64_t default_cap);

// Produces the stored message of a PENDING job to its topic again and removes the job from the
// unqueued jobs. Returns false when the job needs no message because it started, ended or is gone.
boost::system::result<bool> produce_job_message(redis::connection& redis,
                                                kafka::kafka_producer& producer,
                                                const std::string& id,
                                                std::chrono::milliseconds timeout);

}  // namespace jobgate::worker
