#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "common/kafka/kafka_producer.hpp"
#include "common/log/logger.hpp"
#include "common/redis/connection.hpp"

namespace jobgate::worker {

// Counts of one sweep, for the log and the tests.
struct sweep_counts {
  std::int64_t taken_over = 0;  // running jobs whose lease lapsed, back to PENDING
  std::int64_t produced = 0;    // PENDING jobs whose message was produced again
  std::int64_t unindexed = 0;   // expired jobs removed from their tenant's index
};

// Finds jobs that no worker will finish and puts them back on the queue: running jobs whose lease
// lapsed (their worker hangs or stopped) and pending jobs whose message the broker never
// acknowledged (the gateway stopped between recording and queueing). Also removes expired jobs from
// the tenants' list indexes. Every worker process runs one; sweepers claim each entry atomically,
// so several of them share the work without taking the same job twice.
class job_sweeper {
 public:
  job_sweeper(redis::connection connection, kafka::kafka_producer& producer);

  // One pass over all three sets, at most a bounded number of entries each.
  boost::system::result<sweep_counts> sweep();

  // Sweeps every interval until stopping is set.
  void run(std::chrono::milliseconds interval, const std::atomic<bool>& stopping);

 private:
  boost::system::result<std::vector<std::string>> claim_due(std::string_view set,
                                                            std::chrono::milliseconds hold,
                                                            std::int64_t most);
  boost::system::result<std::int64_t> take_over_lapsed_leases();
  boost::system::result<std::int64_t> produce_unqueued();
  boost::system::result<std::int64_t> unindex_expired();

  redis::connection redis_;
  kafka::kafka_producer& producer_;
  log::logger logger_;
};

}  // namespace jobgate::worker
