#include "common/jobs/job_codec.hpp"

#include <charconv>

namespace jobgate {

namespace {

std::int64_t to_int(std::string_view text) {
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

void write_int(json::writer& out, std::string_view name, std::int64_t value) {
  out.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  out.Int64(value);
}

void write_time(json::writer& out, std::string_view name, std::int64_t millis) {
  if (millis > 0) {
    json::write_string(out, name, format_timestamp(millis));
  }
}

}  // namespace

kafka::kafka_headers job_message_headers(const std::string& tenant,
                                         const std::string& traceparent) {
  kafka::kafka_headers headers = {{"jobgate-tenant", tenant}, {"content-type", "application/json"}};
  if (!traceparent.empty()) {
    headers.push_back({"traceparent", traceparent});
  }
  return headers;
}

std::string job_path(const job_record& job) {
  return "/v1/" + std::string(to_string(job.kind)) + "/" + job.id;
}

field_list to_hash_fields(const job_record& job) {
  field_list fields{
      {"id", job.id},
      {"tenant", job.tenant},
      {"kind", std::string(to_string(job.kind))},
      {"status", std::string(to_string(job.status))},
      {"name", job.name},
      {"objectType", job.object_type},
      {"createdAt", std::to_string(job.created_at)},
      {"updatedAt", std::to_string(job.updated_at)},
      {"startedAt", "0"},
      {"finishedAt", "0"},
      {"expiresAt", "0"},
      {"attempts", "0"},
      {"rowsTotal", std::to_string(job.counts.rows_total)},
      {"rowsProcessed", "0"},
      {"created", "0"},
      {"updated", "0"},
      {"failed", "0"},
      {"skippedBlank", "0"},
      {"ckOffset", "0"},
      {"ckRow", "0"},
      {"ckLine", "0"},
      {"request", job.request_json},
      {"blobKey", job.blob_key},
      {"resultFormat", job.result_format},
      {"message", job.message},
  };
  if (!job.callback_url.empty()) {
    fields.emplace_back("callbackUrl", job.callback_url);
  }
  if (!job.traceparent.empty()) {
    fields.emplace_back("traceparent", job.traceparent);
  }
  return fields;
}

bool from_hash_fields(const std::vector<std::string_view>& flat, job_record& job) {
  bool has_id = false;
  bool has_tenant = false;
  bool has_kind = false;
  bool has_status = false;
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2) {
    const std::string_view name = flat[i];
    const std::string_view value = flat[i + 1];
    if (name == "id") {
      job.id = value;
      has_id = true;
    } else if (name == "tenant") {
      job.tenant = value;
      has_tenant = true;
    } else if (name == "kind") {
      const auto kind = parse_job_kind(value);
      has_kind = kind.has_value();
      job.kind = kind.value_or(job_kind::imports);
    } else if (name == "status") {
      const auto status = parse_job_status(value);
      has_status = status.has_value();
      job.status = status.value_or(job_status::pending);
    } else if (name == "name") {
      job.name = value;
    } else if (name == "objectType") {
      job.object_type = value;
    } else if (name == "createdAt") {
      job.created_at = to_int(value);
    } else if (name == "updatedAt") {
      job.updated_at = to_int(value);
    } else if (name == "startedAt") {
      job.started_at = to_int(value);
    } else if (name == "finishedAt") {
      job.finished_at = to_int(value);
    } else if (name == "expiresAt") {
      job.expires_at = to_int(value);
    } else if (name == "attempts") {
      job.attempts = to_int(value);
    } else if (name == "rowsTotal") {
      job.counts.rows_total = to_int(value);
    } else if (name == "rowsProcessed") {
      job.counts.rows_processed = to_int(value);
    } else if (name == "created") {
      job.counts.created = to_int(value);
    } else if (name == "updated") {
      job.counts.updated = to_int(value);
    } else if (name == "failed") {
      job.counts.failed = to_int(value);
    } else if (name == "skippedBlank") {
      job.counts.skipped_blank = to_int(value);
    } else if (name == "errorType") {
      job.error_type = value;
    } else if (name == "errorDetail") {
      job.error_detail = value;
    } else if (name == "request") {
      job.request_json = value;
    } else if (name == "blobKey") {
      job.blob_key = value;
    } else if (name == "resultKey") {
      job.result_key = value;
    } else if (name == "resultBytes") {
      job.result_bytes = to_int(value);
    } else if (name == "message") {
      job.message = value;
    } else if (name == "traceparent") {
      job.traceparent = value;
    } else if (name == "resultFormat") {
      job.result_format = value;
    } else if (name == "unmappedColumns") {
      job.unmapped_columns = value;
    } else if (name == "callbackUrl") {
      job.callback_url = value;
    } else if (name == "deferredCap") {
      job.deferred_cap = to_int(value);
    }
  }
  return has_id && has_tenant && has_kind && has_status;
}

void write_job_resource(json::writer& out, const job_record& job, std::string_view base_url) {
  const bool is_import = job.kind == job_kind::imports;
  const std::string self = std::string(base_url) + job_path(job);

  out.StartObject();
  json::write_string(out, "id", job.id);
  json::write_string(out, "kind", to_string(job.kind));
  if (!job.name.empty()) {
    json::write_string(out, "name", job.name);
  }
  json::write_string(out, "objectType", job.object_type);
  json::write_string(out, "status", to_string(job.status));
  json::write_string(out, "statusDescription", status_description(job));
  write_time(out, "createdAt", job.created_at);
  write_time(out, "updatedAt", job.updated_at);
  write_time(out, "startedAt", job.started_at);
  write_time(out, "completedAt", job.finished_at);
  // A job is removed a retention period after it finished; until then it has no expiry.
  if (job.expires_at > 0) {
    write_time(out, "expiresAt", job.expires_at);
  } else {
    out.Key("expiresAt");
    out.Null();
  }
  write_int(out, "attempts", job.attempts);
  if (job.status == job_status::pending && job.queue_position > 0) {
    write_int(out, "queuePosition", job.queue_position);
  }
  if (!job.callback_url.empty()) {
    json::write_string(out, "callbackUrl", job.callback_url);
  }

  out.Key("progress");
  out.StartObject();
  write_int(out, "rowsProcessed", job.counts.rows_processed);
  if (job.counts.rows_total >= 0) {
    write_int(out, "rowsTotal", job.counts.rows_total);
    const double percent = job.counts.rows_total == 0
                               ? (is_terminal(job.status) ? 100.0 : 0.0)
                               : 100.0 * static_cast<double>(job.counts.rows_processed) /
                                     static_cast<double>(job.counts.rows_total);
    out.Key("percent");
    out.Double(static_cast<double>(static_cast<std::int64_t>(percent * 10.0)) / 10.0);
  }
  out.EndObject();

  if (is_import) {
    out.Key("counts");
    out.StartObject();
    write_int(out, "rowsRead", job.counts.rows_processed);
    write_int(out, "created", job.counts.created);
    write_int(out, "updated", job.counts.updated);
    write_int(out, "failed", job.counts.failed);
    write_int(out, "skippedBlank", job.counts.skipped_blank);
    out.EndObject();
    if (!job.unmapped_columns.empty()) {
      if (auto columns = json::parse(job.unmapped_columns); columns && columns->IsArray()) {
        out.Key("unmappedColumns");
        columns->Accept(out);
      }
    }
  } else if (job.status == job_status::done) {
    out.Key("result");
    out.StartObject();
    json::write_string(out, "format", job.result_format);
    write_int(out, "rows", job.counts.rows_processed);
    write_int(out, "bytes", job.result_bytes);
    out.EndObject();
  }

  if (job.status == job_status::failed) {
    out.Key("errorDetails");
    out.StartObject();
    json::write_string(out, "type", "https://jobgate.dev/problems/" + job.error_type);
    json::write_string(out, "detail", job.error_detail);
    out.EndObject();
  }

  out.Key("links");
  out.StartObject();
  json::write_string(out, "self", self);
  if (is_import) {
    json::write_string(out, "errors", self + "/errors");
  }
  json::write_string(out, "result", self + "/result");
  json::write_string(out, "cancel", self + "/cancel");
  out.EndObject();
  out.EndObject();
}

}  // namespace jobgate
