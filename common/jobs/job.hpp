#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.hpp"

namespace jobgate {

enum class job_kind { imports, exports };

// PENDING -> PROCESSING -> DONE | FAILED, and CANCELED from PENDING or PROCESSING. The store's Lua
// scripts enforce the order, so a late update never moves a job backwards.
enum class job_status { pending, processing, done, failed, canceled };

std::string_view to_string(job_kind kind);
std::optional<job_kind> parse_job_kind(std::string_view text);
std::string_view to_string(job_status status);
std::optional<job_status> parse_job_status(std::string_view text);
bool is_terminal(job_status status);

// The Kafka topic that queues jobs of a kind, for example "jobgate.imports".
std::string topic_for(job_kind kind);

// A job id such as "imp_0f3c...": a kind prefix and 128 random bits in hex.
class job_id {
 public:
  static job_id generate(job_kind kind);
  static std::optional<job_id> parse(std::string_view text);

  const std::string& str() const { return value_; }
  std::optional<job_kind> kind() const;
  bool operator==(const job_id&) const = default;

 private:
  explicit job_id(std::string value) : value_(std::move(value)) {}
  std::string value_;
};

// The tenant that owns a job and its records; every store key and every read is scoped by it.
class tenant_id {
 public:
  explicit tenant_id(std::string value) : value_(std::move(value)) {}
  const std::string& str() const { return value_; }
  bool operator==(const tenant_id&) const = default;

 private:
  std::string value_;
};

// Progress and outcome counters of a job.
struct job_counts {
  std::int64_t rows_total = -1;  // -1 while unknown
  std::int64_t rows_processed = 0;
  std::int64_t created = 0;
  std::int64_t updated = 0;
  std::int64_t failed = 0;
  std::int64_t skipped_blank = 0;
};

// A job as stored in its Redis hash.
struct job_record {
  std::string id;
  std::string tenant;
  job_kind kind = job_kind::imports;
  job_status status = job_status::pending;
  std::string name;
  std::string object_type;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::int64_t started_at = 0;   // 0 until PROCESSING
  std::int64_t finished_at = 0;  // 0 until terminal
  std::int64_t expires_at = 0;   // 0 while the job is not terminal
  std::int64_t attempts = 0;
  job_counts counts;
  std::string error_type;    // problem type slug when FAILED
  std::string error_detail;  // sentence for people when FAILED
  std::string request_json;  // the validated submission body
  std::string blob_key;      // uploaded file of an import
  std::string result_key;    // output file of an export
  std::int64_t result_bytes = 0;
  std::string result_format;
  std::string unmapped_columns;  // JSON array of header cells that map to no property
  std::string message;           // the queue message, kept so that a worker can produce it again
  std::string callback_url;      // receives a signed callback at the end; empty for none
  std::string traceparent;       // W3C traceparent of the submitting request's gateway span
  // A PENDING job that waits for its tenant's running-jobs cap: the cap, and its place in the
  // tenant's queue (1 is next). Both 0 for other jobs.
  std::int64_t deferred_cap = 0;
  std::int64_t queue_position = 0;
};

// A sentence for people that explains a job's status.
std::string status_description(const job_record& job);

}  // namespace jobgate
