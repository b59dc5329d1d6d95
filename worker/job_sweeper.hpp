#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "common/kafka/kafka_producer.hpp"
#include "common/log/logger.hpp"
#include "common/redis/connection.hpp"
#include "common/tenants/tenant_limits.hpp"

namespace jobgate::worker {

// Counts of one sweep, for the log and the tests.
struct sweep_counts {
  std::int64_t taken_over = 0;  // running jobs whose lease lapsed, back to PENDING
  std::int64_t produced = 0;    // PENDING jobs whose message was produced again
  std::int64_t promoted = 0;    // deferred jobs moved into free places of their tenant's cap
  std::int64_t unindexed = 0;   // expired jobs removed from their tenant's index
};

// Finds jobs that no worker will finish and puts them back on the queue: running jobs whose lease
// lapsed (their worker hangs or stopped) and pending jobs whose message the broker never
// acknowledged (the gateway stopped between recording and queueing). Also promotes deferred jobs
// whose tenant has free places that no finishing job handed on (a worker stopped, or a cap rose),
// and removes expired jobs from the tenants' list indexes. Every worker process runs one; sweepers
// claim each entry atomically, so several of them share the work without taking the same job twice.
class job_sweeper {
 public:
  // defaults contains the running-jobs caps of tenants without their own.
  job_sweeper(redis::connection connection, kafka::kafka_producer& producer,
              const tenants::tenant_limits& defaults);

  // One pass over the leases, unqueued jobs, deferred jobs and expiring jobs, at most a bounded
  // number of entries each.
  boost::system::result<sweep_counts> sweep();

  // Sweeps every interval until stopping is set.
  void run(std::chrono::milliseconds interval, const std::atomic<bool>& stopping);

 private:
  boost::system::result<std::vector<std::string>> claim_due(std::string_view set,
                                                            std::chrono::milliseconds hold,
                                                            std::int64_t most);
  boost::system::result<std::int64_t> take_over_lapsed_leases();
  boost::system::result<std::int64_t> produce_unqueued();
  boost::system::result<std::int64_t> promote_deferred();
  boost::system::result<std::int64_t> unindex_expired();

  redis::connection redis_;
  kafka::kafka_producer& producer_;
  tenants::tenant_limits defaults_;
  log::logger logger_;
};

}  // namespace jobgate::worker
