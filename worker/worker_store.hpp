#pragma once

#include <boost/system/result.hpp>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "common/jobs/job.hpp"
#include "common/jobs/job_codec.hpp"
#include "common/records/import_row_processor.hpp"
#include "common/records/row_error_json.hpp"
#include "common/redis/connection.hpp"
#include "worker/running_caps.hpp"

namespace jobgate::worker {

// The job state a worker reads and changes, on one blocking Redis connection. Every change goes
// through a Lua script that checks the job's status and attempt first, so a worker whose attempt
// was superseded (fencing) or whose job was canceled changes nothing. One store per job thread.
class worker_store {
 public:
  explicit worker_store(redis::connection connection) : redis_(std::move(connection)) {}

  // The result of a script call: applied, or the reason it changed nothing.
  enum class verdict { ok, missing, terminal, fenced, stale };

  struct change_result {
    verdict outcome = verdict::ok;
    job_status status = job_status::processing;  // the status found when terminal
  };

  struct start_result {
    verdict outcome = verdict::ok;
    job_status status = job_status::processing;  // the status found when terminal
    std::int64_t attempt = 0;                    // the new attempt, or the last one when terminal
    records::import_checkpoint checkpoint;
    job_counts counts;
  };

  // Moves the job to PROCESSING for a new attempt, takes its lease for lease_ms, and returns where
  // an earlier attempt stopped.
  boost::system::result<start_result> start(const std::string& id, std::int64_t lease_ms);

  // Extends the lease of the running attempt by lease_ms from now.
  boost::system::result<change_result> renew_lease(const std::string& id, std::int64_t attempt,
                                                   std::int64_t lease_ms);

  // Sets fields of the running job (progress, totals, unmapped columns).
  // The lastError field of a job: the reason its latest attempt was interrupted, or "".
  boost::system::result<std::string> last_error(const std::string& id);

  boost::system::result<change_result> update(const std::string& id, std::int64_t attempt,
                                              const field_list& fields);

  // The target of a batch of import rows: the job, the record store and the checkpoint move.
  struct batch_target {
    std::string job_id;
    std::int64_t attempt = 0;
    std::string tenant;
    std::string object_type;
    std::string unique_property;
    std::uint64_t from_offset = 0;
    records::import_checkpoint to;
  };

  // Upserts the valid rows, stores the rejected ones and moves the checkpoint, atomically.
  boost::system::result<change_result> apply_batch(const batch_target& target,
                                                   const std::vector<records::import_row>& rows);

  // The maximum number of batches send_batch() keeps in flight. Two let Redis apply one batch
  // while the worker parses the next, which is enough because Redis spends several times the
  // worker's CPU time on a row.
  static constexpr std::size_t max_batches_in_flight = 2;

  // Sends a batch as apply_batch() does, without waiting for its verdict. When
  // max_batches_in_flight batches are in flight, it first reads the oldest verdict. If that one is
  // not ok, it reads the other verdicts too, sends nothing and returns the first one. Returns ok
  // otherwise. Each target.from_offset must be the previous batch's target.to.end_offset, so the
  // script rejects a batch as stale when the batch before it changed nothing. A transport failure
  // drops every batch in flight, and each of them may or may not have been applied.
  boost::system::result<change_result> send_batch(const batch_target& target,
                                                  const std::vector<records::import_row>& rows);

  // Reads the verdicts of every batch in flight, in the order sent. Returns the first that is not
  // ok, or ok when all were applied or none was in flight. Fails on a transport failure.
  boost::system::result<change_result> await_batches();

  // The number of batches sent whose verdicts have not been read.
  std::size_t batches_in_flight() const noexcept { return batches_in_flight_.size(); }

  // Ends the job as DONE or FAILED and starts its retention period.
  boost::system::result<change_result> finish(const std::string& id, std::int64_t attempt,
                                              job_status status, std::int64_t retention_ms,
                                              const field_list& fields);

  // Record ids of an object type in creation order, from index start, at most count.
  boost::system::result<std::vector<std::string>> record_ids(const std::string& tenant,
                                                             const std::string& object_type,
                                                             std::int64_t start,
                                                             std::int64_t count);

  // The values of properties of each record (empty optional for a missing value), one pipeline.
  boost::system::result<std::vector<std::vector<std::optional<std::string>>>> record_values(
      const std::string& tenant, const std::string& object_type,
      const std::vector<std::string>& ids, const std::vector<std::string>& properties);

  std::int64_t record_count(const std::string& tenant, const std::string& object_type);

  // The running-jobs cap calls of running_caps.hpp on this store's connection.
  boost::system::result<admission> admit(const std::string& id, const std::string& tenant,
                                         job_kind kind, std::int64_t default_cap) {
    return admit_job(idle_connection(), id, tenant, kind, default_cap);
  }
  boost::system::result<std::vector<std::string>> release(const std::string& id,
                                                          const std::string& tenant, job_kind kind,
                                                          std::int64_t default_cap) {
    return release_place(idle_connection(), id, tenant, kind, default_cap);
  }
  boost::system::result<bool> produce_message(const std::string& id,
                                              kafka::kafka_producer& producer,
                                              std::chrono::milliseconds timeout) {
    return produce_job_message(idle_connection(), producer, id, timeout);
  }

 private:
  // Sends a state-changing script call and reads its verdict.
  boost::system::result<change_result> run_change(const redis::request& command);
  static change_result read_change(const redis::reply& reply);
  static redis::request batch_command(const batch_target& target,
                                      const std::vector<records::import_row>& rows);
  boost::system::result<change_result> receive_batch();
  void discard_batches();

  // The connection, ready for a blocking command. Batches still in flight are read first and
  // their verdicts dropped, because the command would otherwise read one of their replies. Only
  // an import that ends early leaves batches in flight, and its outcome is already decided.
  redis::connection& idle_connection();

  redis::connection redis_;
  // The EVAL form of each batch in flight, oldest first, sent again after a NOSCRIPT reply.
  std::deque<redis::request> batches_in_flight_;
};

// The worker stores rejected rows in the form the errors endpoint returns.
using records::row_error_json;

}  // namespace jobgate::worker
