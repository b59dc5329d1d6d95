#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "common/jobs/job.hpp"

namespace jobgate::gateway {

// A page of an import's rejected rows, each entry a JSON object as the worker stored it.
struct error_page {
  std::int64_t total = 0;
  std::vector<std::string> entries;
};

// The result of a cancel request: the job moved to CANCELED, or it was already in a final state.
struct cancel_outcome {
  bool canceled = false;
  job_status status = job_status::pending;
};

// The job state the gateway reads and writes. Errors are transport errors of the store; callers map
// retryable ones to 503.
class job_repository {
 public:
  virtual ~job_repository() = default;
  // Returns false when a job with this id already exists.
  virtual boost::asio::awaitable<boost::system::result<bool>> create(const job_record& job) = 0;
  virtual boost::asio::awaitable<boost::system::result<std::optional<job_record>>> find(
      const std::string& id) = 0;
  // Removes a job that could not be queued, so it never shows up as PENDING forever.
  virtual boost::asio::awaitable<boost::system::result<void>> remove(const job_record& job) = 0;
  virtual boost::asio::awaitable<boost::system::result<error_page>> errors(const std::string& id,
                                                                           std::int64_t offset,
                                                                           std::int64_t limit) = 0;
  virtual boost::asio::awaitable<boost::system::result<cancel_outcome>> cancel(
      const std::string& id, std::int64_t retention_ms) = 0;
  // Returns true when the store replies to a ping.
  virtual boost::asio::awaitable<bool> ping() = 0;
};

// The queue of jobs, whose publish completes once the broker acknowledged the message.
class job_queue {
 public:
  virtual ~job_queue() = default;
  // Returns an empty code once the broker stored the message; kafka_errc conditions classify
  // errors.
  virtual boost::asio::awaitable<std::error_code> publish(const job_record& job,
                                                          std::string message) = 0;
};

}  // namespace jobgate::gateway
