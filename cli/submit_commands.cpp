#include "cli/submit_commands.hpp"

#include <filesystem>
#include <ostream>

#include "cli/job_follower.hpp"
#include "cli/job_text.hpp"
#include "common/crypto/random.hpp"

namespace jobgate::cli {

namespace {

int exit_status_of(const json::value& job) {
  const auto status = json::get_string(job, "status").value_or("");
  if (status == "FAILED") {
    return exit_job_failed;
  }
  if (status == "CANCELED") {
    return exit_job_canceled;
  }
  return exit_success;
}

// Reports an accepted submission, then follows it when asked to.
command_result finish_submission(const command_session& run, const json::value& job) {
  const std::string id(json::get_string(job, "id").value_or(""));
  if (!is_valid_job_id(id)) {
    return command_error{"jobgate: the gateway accepted the job but returned no valid id\n"};
  }
  if (!run.command.wait) {
    run.environment.out << (run.command.json ? json::serialize(job) : id) << '\n';
    return exit_success;
  }
  if (!run.command.json) {
    run.environment.out << id << '\n' << std::flush;
  }
  auto waited = wait_for_job(run, id);
  if (!waited || *waited != exit_success || run.command.output.empty()) {
    return waited;
  }
  return download_export(run, id);
}

std::string import_request_json(const cli_command& command) {
  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  out.StartObject();
  if (!command.name.empty()) {
    json::write_string(out, "name", command.name);
  }
  json::write_string(out, "objectType", command.object_type);
  if (!command.mappings.empty()) {
    out.Key("columnMappings");
    out.StartArray();
    for (const auto& mapping : command.mappings) {
      out.StartObject();
      json::write_string(out, "columnName", mapping.column_name);
      json::write_string(out, "propertyName", mapping.property_name);
      out.EndObject();
    }
    out.EndArray();
  }
  out.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// A file name for a Content-Disposition parameter: quotes and line breaks percent-encoded, as
// browsers send them.
std::string disposition_file_name(const std::string& path) {
  std::string name;
  for (const char c : std::filesystem::path(path).filename().string()) {
    if (c == '"') {
      name += "%22";
    } else if (c == '\r') {
      name += "%0D";
    } else if (c == '\n') {
      name += "%0A";
    } else {
      name += c;
    }
  }
  return name;
}

}  // namespace

command_result wait_for_job(const command_session& run, const std::string& job_id) {
  progress_display display = run.make_display();
  auto job = follow_job(run.client, job_id, display);
  display.finish();
  if (!job) {
    return job.error();
  }
  if (run.command.json) {
    run.environment.out << json::serialize(*job) << '\n';
  } else {
    run.environment.out << describe_job_end(*job);
  }
  const int status = exit_status_of(*job);
  if (status != exit_success && run.command.json) {
    // The one-line reason reaches a terminal even when stdout is parsed.
    run.environment.err << "jobgate: " << describe_job_end(*job);
  }
  return status;
}

command_result download_export(const command_session& run, const std::string& job_id) {
  http_request result_request;
  result_request.target = "/v1/exports/" + job_id + "/result";
  auto result = fetch_json(run.client, result_request, 200);
  if (!result) {
    return result.error();
  }
  const auto url = json::get_string(result->second, "url");
  if (!url) {
    return command_error{"jobgate: the export result of " + job_id + " has no download url\n"};
  }

  // The signed link is its own credential, so the API key stays home.
  http_request download;
  download.target = std::string(*url);
  download.authenticate = false;
  auto written = download_to_file(run.client, download, run.command.output);
  if (!written) {
    return written.error();
  }
  (run.command.json ? run.environment.err : run.environment.out)
      << "wrote " << format_count(*written) << " bytes to " << run.command.output << '\n';
  return exit_success;
}

command_result run_import(const command_session& run) {
  const cli_command& command = run.command;
  std::error_code error;
  const auto size = std::filesystem::file_size(command.file, error);
  if (error) {
    return command_error{"jobgate: cannot read " + command.file + ": " + error.message() + "\n"};
  }

  // The importRequest part goes first, so the gateway counts the rows while the file arrives.
  const std::string boundary = "jobgate-" + crypto::random_hex(16);
  streamed_upload upload;
  upload.head = "--" + boundary +
                "\r\nContent-Disposition: form-data; name=\"importRequest\"\r\n"
                "Content-Type: application/json\r\n\r\n" +
                import_request_json(command) + "\r\n--" + boundary +
                "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"" +
                disposition_file_name(command.file) + "\"\r\nContent-Type: text/csv\r\n\r\n";
  upload.file_path = command.file;
  upload.file_size = size;
  upload.tail = "\r\n--" + boundary + "--\r\n";
  progress_display upload_display = run.make_display();
  upload.on_progress = [&upload_display](std::uint64_t sent, std::uint64_t total) {
    upload_display.show_upload(sent, total);
  };

  http_request request;
  request.method = "POST";
  request.target = "/v1/imports";
  request.upload = &upload;
  request.fields = {{"Content-Type", "multipart/form-data; boundary=" + boundary},
                    {"Idempotency-Key", run.idempotency_key}};
  auto submitted = fetch_json(run.client, request, 202);
  upload_display.finish();
  if (!submitted) {
    return submitted.error();
  }
  return finish_submission(run, submitted->second);
}

command_result run_export(const command_session& run) {
  const cli_command& command = run.command;
  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  out.StartObject();
  if (!command.name.empty()) {
    json::write_string(out, "name", command.name);
  }
  json::write_string(out, "objectType", command.object_type);
  out.Key("properties");
  out.StartArray();
  for (const auto& property : command.properties) {
    out.String(property.data(), static_cast<rapidjson::SizeType>(property.size()));
  }
  out.EndArray();
  if (!command.format.empty()) {
    json::write_string(out, "format", command.format);
  }
  out.EndObject();

  http_request request;
  request.method = "POST";
  request.target = "/v1/exports";
  request.body.assign(buffer.GetString(), buffer.GetSize());
  request.fields = {{"Content-Type", "application/json"}, {"Idempotency-Key", run.idempotency_key}};
  auto submitted = fetch_json(run.client, request, 202);
  if (!submitted) {
    return submitted.error();
  }
  return finish_submission(run, submitted->second);
}

}  // namespace jobgate::cli
