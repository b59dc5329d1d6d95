#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <utility>

#include "common/blob/blob_store.hpp"
#include "common/kafka/kafka_producer.hpp"
#include "common/log/logger.hpp"
#include "common/redis/connection.hpp"
#include "common/tenants/tenant_limits.hpp"

namespace jobgate::worker {

// Counts of one sweep, for the log and the tests.
struct sweep_counts {
  std::int64_t taken_over = 0;     // running jobs whose lease lapsed, back to PENDING
  std::int64_t produced = 0;       // PENDING jobs whose message was produced again
  std::int64_t promoted = 0;       // deferred jobs moved into free places of their tenant's cap
  std::int64_t unindexed = 0;      // expired jobs removed from their tenant's index
  std::int64_t files_removed = 0;  // uploads and results of expired jobs, and stale partial files
};

// Finds jobs that no worker will finish and puts them back on the queue: running jobs whose lease
// lapsed (their worker hangs or stopped) and pending jobs whose message the broker never
// acknowledged (the gateway stopped between recording and queueing). Also promotes deferred jobs
// whose tenant has free places that no finishing job handed on (a worker stopped, or a cap rose),
// and removes expired jobs from the tenants' list indexes and their files from the blob store.
// Every worker process runs one; sweepers claim each entry atomically, so several of them share the
// work without taking the same job twice.
class job_sweeper {
 public:
  // A partial file of the blob store whose modification time is this old belongs to a write that
  // died with its process: writers at work write or touch their file far more often.
  static constexpr std::chrono::hours partial_file_idle{2};
  // How often one sweeper walks the blob store for such files.
  static constexpr std::chrono::minutes partial_file_check_interval{10};

  // defaults contains the running-jobs caps of tenants without their own. Without a blob store,
  // the sweeper leaves files alone.
  job_sweeper(redis::connection connection, kafka::kafka_producer& producer,
              const tenants::tenant_limits& defaults, blob_store* blobs = nullptr);

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
  // Removes expired jobs from their tenants' indexes and their files from the blob store, and
  // returns how many jobs and how many files it removed.
  boost::system::result<std::pair<std::int64_t, std::int64_t>> unindex_expired();
  // Removes the files of an expired job. Returns false when a file that exists could not be
  // removed, so the job's entry stays for a later sweep.
  bool remove_job_files(const std::string& tenant, const std::string& id, std::int64_t& removed);
  // Removes the blob store's stale partial files, at most once per partial_file_check_interval,
  // and returns how many it removed.
  std::int64_t remove_stale_partials();

  redis::connection redis_;
  kafka::kafka_producer& producer_;
  tenants::tenant_limits defaults_;
  blob_store* blobs_;
  std::optional<std::chrono::steady_clock::time_point> partials_checked_at_;
  log::logger logger_;
};

}  // namespace jobgate::worker
