#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "common/jobs/job.hpp"
#include "common/jobs/worker_slots.hpp"
#include "gateway/job_snapshot.hpp"

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
  std::optional<job_status> previous;  // the status before the cancel, when canceled
};

// A position in a tenant's job list: the last job a page showed.
struct list_cursor {
  std::int64_t created_at = 0;
  std::string id;
};

// The filters and page of a job list. Results come newest first.
struct job_list_query {
  std::string tenant;
  std::optional<job_kind> kind;                // nullopt for every kind
  std::vector<job_status> statuses;            // empty for every status
  std::optional<std::int64_t> created_from;    // inclusive, millis
  std::optional<std::int64_t> created_before;  // exclusive, millis
  std::optional<list_cursor> after;
  std::int64_t limit = 20;
};

// One page of a job list. `next` is set while more jobs may follow.
struct job_page {
  std::vector<job_record> jobs;
  std::optional<list_cursor> next;
};

// The outcome of claiming the Idempotency-Key of a POST.
struct idempotency_claim {
  enum class verdict { claimed, replay, in_flight, mismatch };
  verdict outcome = verdict::claimed;
  // The stored response, for replay.
  int status = 0;
  std::string body;
  std::string location;
};

// One CRM record as stored: its id and its fields (properties plus id, createdAt, updatedAt).
struct record_fields {
  std::string id;
  std::vector<std::pair<std::string, std::string>> fields;
};

// Jobs of one kind that are not final yet, across every tenant.
struct job_kind_totals {
  std::int64_t pending = 0;
  std::int64_t processing = 0;
  std::int64_t rows_remaining = 0;  // rows of active imports whose total is known, not yet applied
  // Jobs waiting for a place under their tenant's running-jobs cap, by tenant.
  std::map<std::string, std::int64_t> deferred;
  // The slots of the live worker processes that serve the kind.
  worker_slots::fleet_slots fleet;
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
  // The job for a status read, null when there is none. A repository with a cache shares one
  // snapshot between the reads it serves from the same entry. The record may lack the queue
  // message and the request body, which a status read does not render.
  virtual boost::asio::awaitable<boost::system::result<std::shared_ptr<const job_snapshot>>>
  read_status(const std::string& id) {
    auto found = co_await find(id);
    if (!found) {
      co_return found.error();
    }
    if (!*found) {
      co_return std::shared_ptr<const job_snapshot>{};
    }
    co_return std::make_shared<const job_snapshot>(std::move(**found));
  }
  // Removes a job that could not be queued, so it never shows up as PENDING forever.
  virtual boost::asio::awaitable<boost::system::result<void>> remove(const job_record& job) = 0;
  // Notes that the broker acknowledged the job's message, so no worker produces it again. Returns
  // at once; the note is written in the background, since a lost note costs only a duplicate
  // message after the grace period.
  virtual void mark_queued(const job_record& job) = 0;
  virtual boost::asio::awaitable<boost::system::result<error_page>> errors(const std::string& id,
                                                                           std::int64_t offset,
                                                                           std::int64_t limit) = 0;
  // The header cells of an import's file as the worker stored them, a JSON array of strings, or
  // nullopt when none are stored. The default stores none, for repositories without imports.
  virtual boost::asio::awaitable<boost::system::result<std::optional<std::string>>> header_cells(
      const std::string& id) {
    (void)id;
    co_return std::optional<std::string>{};
  }
  virtual boost::asio::awaitable<boost::system::result<cancel_outcome>> cancel(
      const std::string& id, std::int64_t retention_ms) = 0;
  virtual boost::asio::awaitable<boost::system::result<job_page>> list(
      const job_list_query& query) = 0;
  // Claims an idempotency key (already hashed) of the tenant for a request with this fingerprint.
  virtual boost::asio::awaitable<boost::system::result<idempotency_claim>> claim_idempotency_key(
      const std::string& tenant, const std::string& key_digest, const std::string& fingerprint,
      std::int64_t claim_ms) = 0;
  // Stores the response to replay for the claimed key, kept for lifetime_ms.
  virtual boost::asio::awaitable<boost::system::result<void>> complete_idempotency_key(
      const std::string& tenant, const std::string& key_digest, const std::string& fingerprint,
      const idempotency_claim& response, std::int64_t lifetime_ms) = 0;
  // Releases the claim of a request that failed, so that a retry runs again.
  virtual boost::asio::awaitable<boost::system::result<void>> release_idempotency_key(
      const std::string& tenant, const std::string& key_digest, const std::string& fingerprint) = 0;
  // Reads a record by id, or by the normalised value of its object type's unique property when
  // by_unique is set. nullopt when there is none.
  virtual boost::asio::awaitable<boost::system::result<std::optional<record_fields>>> find_record(
      const std::string& tenant, const std::string& object_type, const std::string& key,
      bool by_unique) = 0;
  // The tenant's custom property definitions (JSON objects) by object type.
  virtual boost::asio::awaitable<
      boost::system::result<std::map<std::string, std::vector<std::string>>>>
  custom_properties(const std::string& tenant, const std::vector<std::string>& object_types) = 0;
  // Stores a custom property definition; false when the name is taken.
  virtual boost::asio::awaitable<boost::system::result<bool>> create_custom_property(
      const std::string& tenant, const std::string& object_type, const std::string& name,
      const std::string& definition) = 0;
  // The tenant of a job that finished and has since expired, or nullopt when there is no trace.
  virtual boost::asio::awaitable<boost::system::result<std::optional<std::string>>>
  expired_job_tenant(const std::string& id) = 0;
  // Returns true when the store replies to a ping.
  virtual boost::asio::awaitable<bool> ping() = 0;
  // Reads the Redis-wide totals of active jobs per kind, for GET /metrics.
  virtual boost::asio::awaitable<boost::system::result<std::map<job_kind, job_kind_totals>>>
  totals() = 0;
  // Checks that the store is reachable and keeps every job it stores, in one round trip at most.
  // Returns an empty string when ready, else an error for operators that names the setting to
  // change. Fails with a transport error when the store is unreachable.
  virtual boost::asio::awaitable<boost::system::result<std::string>> check_readiness() = 0;
};

// The queue of jobs, whose publish completes once the broker acknowledged the message.
class job_queue {
 public:
  virtual ~job_queue() = default;
  // Returns an empty code once the broker stored the message; kafka_errc conditions classify
  // errors.
  virtual boost::asio::awaitable<std::error_code> publish(const job_record& job,
                                                          std::string message) = 0;
  // Produces a job event (common/jobs/job_event.hpp) to the event topic, keyed by job id, with a
  // traceparent header unless it is empty, and completes once the broker acknowledged it. The
  // default drops it, for queues without events.
  virtual boost::asio::awaitable<std::error_code> publish_event(std::string job_id,
                                                                std::string event,
                                                                std::string traceparent) {
    (void)job_id;
    (void)event;
    (void)traceparent;
    co_return std::error_code{};
  }
  // Returns false while the broker is known to be unreachable. Publish then fails at once.
  virtual bool reachable() const { return true; }
};

}  // namespace jobgate::gateway
