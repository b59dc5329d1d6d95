#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "common/jobs/job_codec.hpp"

namespace {

using jobgate::field_list;
using jobgate::job_kind;
using jobgate::job_record;
using jobgate::job_status;
namespace json = jobgate::json;

constexpr std::string_view import_id = "imp_0123456789abcdef0123456789abcdef";
constexpr std::string_view export_id = "exp_0123456789abcdef0123456789abcdef";
constexpr std::string_view base_url = "http://gateway.test:8080";
// 2024-05-01T12:00:00.250Z
constexpr std::int64_t created_millis = 1714564800250;

job_record new_import() {
  job_record job;
  job.id = import_id;
  job.tenant = "tenant-a";
  job.kind = job_kind::imports;
  job.status = job_status::pending;
  job.name = "spring fair contacts";
  job.object_type = "contacts";
  job.created_at = created_millis;
  job.updated_at = created_millis + 1;
  job.request_json = R"({"objectType":"contacts"})";
  job.blob_key = "tenant-a/imports/" + std::string(import_id) + ".csv";
  return job;
}

job_record new_export() {
  job_record job;
  job.id = export_id;
  job.tenant = "tenant-a";
  job.kind = job_kind::exports;
  job.status = job_status::pending;
  job.object_type = "companies";
  job.created_at = created_millis;
  job.updated_at = created_millis;
  job.request_json = R"({"objectType":"companies","properties":["domain"]})";
  job.result_format = "ndjson";
  return job;
}

std::vector<std::string_view> flatten(const field_list& fields) {
  std::vector<std::string_view> flat;
  for (const auto& [name, value] : fields) {
    flat.push_back(name);
    flat.push_back(value);
  }
  return flat;
}

json::document resource_of(const job_record& job) {
  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  jobgate::write_job_resource(out, job, base_url);
  auto parsed = json::parse(std::string_view(buffer.GetString(), buffer.GetSize()));
  REQUIRE(parsed.has_value());
  return std::move(*parsed);
}

}  // namespace

TEST_CASE("job path by kind", "[jobs][codec]") {
  CHECK(jobgate::job_path(new_import()) == "/v1/imports/" + std::string(import_id));
  CHECK(jobgate::job_path(new_export()) == "/v1/exports/" + std::string(export_id));
}

TEST_CASE("hash fields of a new job", "[jobs][codec]") {
  job_record job = new_import();
  // Runtime state is never taken from the caller: a new job starts from zero.
  job.attempts = 5;
  job.started_at = 9;
  job.counts.created = 3;
  const field_list fields = jobgate::to_hash_fields(job);

  std::map<std::string, std::string> by_name;
  for (const auto& [name, value] : fields) {
    CHECK(by_name.emplace(name, value).second);
  }
  CHECK(by_name.at("id") == import_id);
  CHECK(by_name.at("tenant") == "tenant-a");
  CHECK(by_name.at("kind") == "imports");
  CHECK(by_name.at("status") == "PENDING");
  CHECK(by_name.at("createdAt") == std::to_string(created_millis));
  CHECK(by_name.at("rowsTotal") == "-1");
  for (const auto* zero :
       {"startedAt", "finishedAt", "expiresAt", "attempts", "rowsProcessed", "created", "updated",
        "failed", "skippedBlank", "ckOffset", "ckRow", "ckLine"}) {
    INFO("field " << zero);
    CHECK(by_name.at(zero) == "0");
  }
}

TEST_CASE("hash fields round trip", "[jobs][codec]") {
  for (const job_record& original : {new_import(), new_export()}) {
    const field_list fields = jobgate::to_hash_fields(original);
    job_record decoded;
    REQUIRE(jobgate::from_hash_fields(flatten(fields), decoded));
    CHECK(decoded.id == original.id);
    CHECK(decoded.tenant == original.tenant);
    CHECK(decoded.kind == original.kind);
    CHECK(decoded.status == original.status);
    CHECK(decoded.name == original.name);
    CHECK(decoded.object_type == original.object_type);
    CHECK(decoded.created_at == original.created_at);
    CHECK(decoded.updated_at == original.updated_at);
    CHECK(decoded.request_json == original.request_json);
    CHECK(decoded.blob_key == original.blob_key);
    CHECK(decoded.result_format == original.result_format);
    CHECK(decoded.counts.rows_total == -1);
    CHECK(decoded.attempts == 0);
    CHECK(decoded.started_at == 0);
  }
}

TEST_CASE("hash fields of a finished job", "[jobs][codec]") {
  const std::vector<std::string_view> flat = {"id",
                                              export_id,
                                              "tenant",
                                              "t",
                                              "kind",
                                              "exports",
                                              "status",
                                              "FAILED",
                                              "startedAt",
                                              "11",
                                              "finishedAt",
                                              "12",
                                              "expiresAt",
                                              "13",
                                              "attempts",
                                              "2",
                                              "rowsTotal",
                                              "40",
                                              "rowsProcessed",
                                              "30",
                                              "created",
                                              "20",
                                              "updated",
                                              "5",
                                              "failed",
                                              "4",
                                              "skippedBlank",
                                              "1",
                                              "errorType",
                                              "upload-missing",
                                              "errorDetail",
                                              "It is gone.",
                                              "resultKey",
                                              "t/exports/x",
                                              "resultBytes",
                                              "1234",
                                              "unmappedColumns",
                                              R"(["Notes"])",
                                              "someFutureField",
                                              "ignored"};
  job_record job;
  REQUIRE(jobgate::from_hash_fields(flat, job));
  CHECK(job.kind == job_kind::exports);
  CHECK(job.status == job_status::failed);
  CHECK(job.started_at == 11);
  CHECK(job.finished_at == 12);
  CHECK(job.expires_at == 13);
  CHECK(job.attempts == 2);
  CHECK(job.counts.rows_total == 40);
  CHECK(job.counts.rows_processed == 30);
  CHECK(job.counts.created == 20);
  CHECK(job.counts.updated == 5);
  CHECK(job.counts.failed == 4);
  CHECK(job.counts.skipped_blank == 1);
  CHECK(job.error_type == "upload-missing");
  CHECK(job.error_detail == "It is gone.");
  CHECK(job.result_key == "t/exports/x");
  CHECK(job.result_bytes == 1234);
  CHECK(job.unmapped_columns == R"(["Notes"])");
}

TEST_CASE("hash fields need identity", "[jobs][codec]") {
  const std::vector<std::string_view> complete = {"id",   import_id, "tenant", "t",
                                                  "kind", "imports", "status", "PENDING"};
  job_record job;
  CHECK(jobgate::from_hash_fields(complete, job));

  // Dropping any one of the four pairs, or spoiling the kind or status, makes the hash unusable.
  for (std::size_t drop = 0; drop < complete.size(); drop += 2) {
    std::vector<std::string_view> partial;
    for (std::size_t i = 0; i < complete.size(); ++i) {
      if (i != drop && i != drop + 1) {
        partial.push_back(complete[i]);
      }
    }
    job_record incomplete;
    INFO("without " << complete[drop]);
    CHECK_FALSE(jobgate::from_hash_fields(partial, incomplete));
  }
  auto bad_kind = complete;
  bad_kind[5] = "reports";
  CHECK_FALSE(jobgate::from_hash_fields(bad_kind, job));
  auto bad_status = complete;
  bad_status[7] = "QUEUED";
  CHECK_FALSE(jobgate::from_hash_fields(bad_status, job));
  CHECK_FALSE(jobgate::from_hash_fields({}, job));
}

TEST_CASE("job resource of a pending import", "[jobs][codec]") {
  const auto resource = resource_of(new_import());
  const std::string self = std::string(base_url) + "/v1/imports/" + std::string(import_id);

  CHECK(json::get_string(resource, "id") == import_id);
  CHECK(json::get_string(resource, "kind") == "imports");
  CHECK(json::get_string(resource, "name") == "spring fair contacts");
  CHECK(json::get_string(resource, "objectType") == "contacts");
  CHECK(json::get_string(resource, "status") == "PENDING");
  CHECK(json::get_string(resource, "statusDescription") ==
        "The import is queued and waits for a worker.");
  CHECK(json::get_string(resource, "createdAt") == "2024-05-01T12:00:00.250Z");
  CHECK(json::get_string(resource, "updatedAt") == "2024-05-01T12:00:00.251Z");
  CHECK_FALSE(resource.HasMember("startedAt"));
  CHECK_FALSE(resource.HasMember("completedAt"));
  REQUIRE(resource.HasMember("expiresAt"));
  CHECK(resource["expiresAt"].IsNull());
  CHECK(json::get_int(resource, "attempts") == 0);
  CHECK_FALSE(resource.HasMember("errorDetails"));
  CHECK_FALSE(resource.HasMember("result"));
  CHECK_FALSE(resource.HasMember("unmappedColumns"));

  const auto* progress = json::get_object(resource, "progress");
  REQUIRE(progress != nullptr);
  CHECK(json::get_int(*progress, "rowsProcessed") == 0);
  CHECK_FALSE(progress->HasMember("rowsTotal"));
  CHECK_FALSE(progress->HasMember("percent"));

  const auto* counts = json::get_object(resource, "counts");
  REQUIRE(counts != nullptr);
  CHECK(counts->MemberCount() == 5);

  const auto* links = json::get_object(resource, "links");
  REQUIRE(links != nullptr);
  CHECK(json::get_string(*links, "self") == self);
  CHECK(json::get_string(*links, "errors") == self + "/errors");
  CHECK(json::get_string(*links, "result") == self + "/result");
  CHECK(json::get_string(*links, "cancel") == self + "/cancel");
  CHECK(links->MemberCount() == 4);
}

TEST_CASE("job resource of a deferred import", "[jobs][codec]") {
  job_record job = new_import();
  const std::vector<std::string_view> flat = {"id",      job.id,   "tenant",  job.tenant,    "kind",
                                              "imports", "status", "PENDING", "deferredCap", "2"};
  REQUIRE(jobgate::from_hash_fields(flat, job));
  CHECK(job.deferred_cap == 2);
  job.queue_position = 7;

  const auto resource = resource_of(job);
  CHECK(json::get_int(resource, "queuePosition") == 7);
  CHECK(json::get_string(resource, "statusDescription") ==
        "The import waits for a free place under the tenant's limit of 2 running imports. It is "
        "number 7 in the tenant's queue.");

  job.status = job_status::processing;
  CHECK_FALSE(resource_of(job).HasMember("queuePosition"));
}

TEST_CASE("job resource progress percent", "[jobs][codec]") {
  struct percent_case {
    std::int64_t processed;
    std::int64_t total;
    job_status status;
    double percent;
  };
  const percent_case cases[] = {
      {1, 3, job_status::processing, 33.3}, {2, 3, job_status::processing, 66.6},
      {0, 10, job_status::processing, 0.0}, {10, 10, job_status::done, 100.0},
      {0, 0, job_status::processing, 0.0},  {0, 0, job_status::done, 100.0},
      {0, 0, job_status::canceled, 100.0},  {999, 1000, job_status::processing, 99.9},
  };
  for (const auto& expected : cases) {
    job_record job = new_import();
    job.status = expected.status;
    job.counts.rows_processed = expected.processed;
    job.counts.rows_total = expected.total;
    const auto resource = resource_of(job);
    const auto* progress = json::get_object(resource, "progress");
    REQUIRE(progress != nullptr);
    INFO(expected.processed << " of " << expected.total);
    CHECK(json::get_int(*progress, "rowsTotal") == expected.total);
    REQUIRE(progress->HasMember("percent"));
    CHECK((*progress)["percent"].GetDouble() == Approx(expected.percent).margin(1e-9));
  }
}

TEST_CASE("job resource error details only when failed", "[jobs][codec]") {
  for (const auto status : {job_status::pending, job_status::processing, job_status::done,
                            job_status::failed, job_status::canceled}) {
    job_record job = new_import();
    job.status = status;
    job.error_type = "invalid-csv";
    job.error_detail = "The file is not CSV.";
    const auto resource = resource_of(job);
    INFO("status " << jobgate::to_string(status));
    if (status == job_status::failed) {
      const auto* details = json::get_object(resource, "errorDetails");
      REQUIRE(details != nullptr);
      CHECK(json::get_string(*details, "type") == "https://jobgate.dev/problems/invalid-csv");
      CHECK(json::get_string(*details, "detail") == "The file is not CSV.");
    } else {
      CHECK_FALSE(resource.HasMember("errorDetails"));
    }
  }
}

TEST_CASE("job resource of a finished import", "[jobs][codec]") {
  job_record job = new_import();
  job.status = job_status::done;
  job.started_at = created_millis + 1000;
  job.finished_at = created_millis + 2000;
  job.expires_at = created_millis + 3000;
  job.attempts = 2;
  job.counts = {.rows_total = 10,
                .rows_processed = 10,
                .created = 6,
                .updated = 2,
                .failed = 1,
                .skipped_blank = 1};
  job.unmapped_columns = R"(["Notes","Owner"])";
  const auto resource = resource_of(job);

  CHECK(json::get_string(resource, "startedAt") == "2024-05-01T12:00:01.250Z");
  CHECK(json::get_string(resource, "completedAt") == "2024-05-01T12:00:02.250Z");
  CHECK(json::get_string(resource, "expiresAt") == "2024-05-01T12:00:03.250Z");
  CHECK(json::get_int(resource, "attempts") == 2);
  const auto* counts = json::get_object(resource, "counts");
  REQUIRE(counts != nullptr);
  CHECK(json::get_int(*counts, "rowsRead") == 10);
  CHECK(json::get_int(*counts, "created") == 6);
  CHECK(json::get_int(*counts, "updated") == 2);
  CHECK(json::get_int(*counts, "failed") == 1);
  CHECK(json::get_int(*counts, "skippedBlank") == 1);
  const auto* unmapped = json::get_array(resource, "unmappedColumns");
  REQUIRE(unmapped != nullptr);
  REQUIRE(unmapped->Size() == 2);
  CHECK(std::string_view((*unmapped)[1].GetString()) == "Owner");
}

TEST_CASE("job resource skips broken unmapped columns", "[jobs][codec]") {
  job_record job = new_import();
  job.unmapped_columns = R"({"not":"an array"})";
  CHECK_FALSE(resource_of(job).HasMember("unmappedColumns"));
  job.unmapped_columns = "[unterminated";
  CHECK_FALSE(resource_of(job).HasMember("unmappedColumns"));
}

TEST_CASE("job resource of exports", "[jobs][codec]") {
  job_record job = new_export();
  const std::string self = std::string(base_url) + "/v1/exports/" + std::string(export_id);

  auto pending = resource_of(job);
  CHECK_FALSE(pending.HasMember("name"));
  CHECK_FALSE(pending.HasMember("counts"));
  CHECK_FALSE(pending.HasMember("result"));
  const auto* links = json::get_object(pending, "links");
  REQUIRE(links != nullptr);
  CHECK(json::get_string(*links, "self") == self);
  CHECK_FALSE(links->HasMember("errors"));
  CHECK(json::get_string(*links, "result") == self + "/result");
  CHECK(json::get_string(*links, "cancel") == self + "/cancel");

  job.status = job_status::done;
  job.counts.rows_processed = 42;
  job.result_bytes = 4096;
  auto done = resource_of(job);
  const auto* result = json::get_object(done, "result");
  REQUIRE(result != nullptr);
  CHECK(json::get_string(*result, "format") == "ndjson");
  CHECK(json::get_int(*result, "rows") == 42);
  CHECK(json::get_int(*result, "bytes") == 4096);
}
