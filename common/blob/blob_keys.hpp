#pragma once

#include <array>
#include <string>
#include <string_view>

namespace jobgate::blob_keys {

// The keys under which a job's files live in the blob store. A job's files go when the job
// expires, and the sweeper finds them from the tenant and job id alone, since the job's record is
// gone by then.

// The CSV file of an import, as uploaded.
inline std::string import_upload(std::string_view tenant, std::string_view job_id) {
  return std::string(tenant) + "/imports/" + std::string(job_id) + ".csv";
}

// The result file of an export, with the extension of its format ("csv" or "ndjson").
inline std::string export_result(std::string_view tenant, std::string_view job_id,
                                 std::string_view extension) {
  return std::string(tenant) + "/exports/" + std::string(job_id) + "." + std::string(extension);
}

// Every key that a job of this tenant and id may have a file under.
inline std::array<std::string, 3> of_job(std::string_view tenant, std::string_view job_id) {
  return {import_upload(tenant, job_id), export_result(tenant, job_id, "csv"),
          export_result(tenant, job_id, "ndjson")};
}

}  // namespace jobgate::blob_keys
