#include "common/jobs/job.hpp"

#include <array>
#include <stdexcept>

#include "common/crypto/random.hpp"

namespace jobgate {

namespace {

constexpr std::string_view import_prefix = "imp_";
constexpr std::string_view export_prefix = "exp_";
constexpr std::size_t id_hex_digits = 32;

}  // namespace

std::string_view to_string(job_kind kind) {
  return kind == job_kind::imports ? "imports" : "exports";
}

std::optional<job_kind> parse_job_kind(std::string_view text) {
  if (text == "imports") {
    return job_kind::imports;
  }
  if (text == "exports") {
    return job_kind::exports;
  }
  return std::nullopt;
}

std::string_view to_string(job_status status) {
  switch (status) {
    case job_status::pending:
      return "PENDING";
    case job_status::processing:
      return "PROCESSING";
    case job_status::done:
      return "DONE";
    case job_status::failed:
      return "FAILED";
    case job_status::canceled:
      return "CANCELED";
  }
  return "PENDING";
}

std::optional<job_status> parse_job_status(std::string_view text) {
  for (const auto status : {job_status::pending, job_status::processing, job_status::done,
                            job_status::failed, job_status::canceled}) {
    if (text == to_string(status)) {
      return status;
    }
  }
  return std::nullopt;
}

bool is_terminal(job_status status) {
  return status == job_status::done || status == job_status::failed ||
         status == job_status::canceled;
}

std::string topic_for(job_kind kind) {
  return "jobgate." + std::string(to_string(kind));
}

job_id job_id::generate(job_kind kind) {
  std::string value(kind == job_kind::imports ? import_prefix : export_prefix);
  value += crypto::random_hex(id_hex_digits / 2);
  return job_id(std::move(value));
}

std::optional<job_id> job_id::parse(std::string_view text) {
  if (!text.starts_with(import_prefix) && !text.starts_with(export_prefix)) {
    return std::nullopt;
  }
  const auto digits = text.substr(import_prefix.size());
  if (digits.size() != id_hex_digits) {
    return std::nullopt;
  }
  for (const char c : digits) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return std::nullopt;
    }
  }
  return job_id(std::string(text));
}

std::optional<job_kind> job_id::kind() const {
  if (value_.starts_with(import_prefix)) {
    return job_kind::imports;
  }
  if (value_.starts_with(export_prefix)) {
    return job_kind::exports;
  }
  return std::nullopt;
}

std::string status_description(const job_record& job) {
  const bool is_import = job.kind == job_kind::imports;
  switch (job.status) {
    case job_status::pending:
      if (job.deferred_cap > 0) {
        const std::string noun = is_import ? "import" : "export";
        std::string text = "The " + noun + " waits for a free place under the tenant's limit of " +
                           std::to_string(job.deferred_cap) + " running " + noun +
                           (job.deferred_cap == 1 ? "." : "s.");
        if (job.queue_position > 0) {
          text += " It is number " + std::to_string(job.queue_position) + " in the tenant's queue.";
        }
        return text;
      }
      return is_import ? "The import is queued and waits for a worker."
                       : "The export is queued and waits for a worker.";
    case job_status::processing:
      if (is_import) {
        if (job.counts.rows_total >= 0) {
          return "Importing rows: " + std::to_string(job.counts.rows_processed) + " of " +
                 std::to_string(job.counts.rows_total) + " processed.";
        }
        return "Importing rows: " + std::to_string(job.counts.rows_processed) + " processed.";
      }
      return "Writing the export file.";
    case job_status::done:
      if (is_import) {
        return "The import finished: " + std::to_string(job.counts.created) + " created, " +
               std::to_string(job.counts.updated) + " updated, " +
               std::to_string(job.counts.failed) +
               (job.counts.failed == 1 ? " row rejected." : " rows rejected.");
      }
      return "The export file is ready to download.";
    case job_status::failed:
      return (is_import ? "The import failed: " : "The export failed: ") + job.error_detail;
    case job_status::canceled:
      return is_import ? "The import was canceled; rows applied before that are kept."
                       : "The export was canceled.";
  }
  return {};
}

}  // namespace jobgate
