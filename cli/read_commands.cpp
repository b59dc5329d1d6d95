#include "cli/read_commands.hpp"

#include <ostream>

#include "cli/job_text.hpp"

namespace jobgate::cli {

namespace {

std::string describe_error_entry(const json::value& entry) {
  std::string line = "row " + std::to_string(json::get_int(entry, "row").value_or(0));
  const auto physical_line = json::get_int(entry, "line");
  if (physical_line && *physical_line != json::get_int(entry, "row").value_or(0)) {
    line += " (line " + std::to_string(*physical_line) + ")";
  }
  line += ": " + std::string(json::get_string(entry, "kind").value_or("error"));
  if (const auto column = json::get_string(entry, "column")) {
    line += " in column " + std::string(*column);
  }
  if (const auto value = json::get_string(entry, "value")) {
    line += ", value '" + std::string(*value) + "'";
  }
  if (const auto detail = json::get_string(entry, "detail")) {
    line += ": " + std::string(*detail);
  }
  return line + "\n";
}

}  // namespace

command_result run_status(const command_session& run) {
  http_request request;
  request.target = "/v1/jobs/" + run.command.job_id;
  auto job = fetch_json(run.client, request, 200);
  if (!job) {
    return job.error();
  }
  run.environment.out << (run.command.json ? job->first.body + "\n" : describe_job(job->second));
  return exit_success;
}

command_result run_cancel(const command_session& run) {
  http_request request;
  request.method = "POST";
  request.target = "/v1/jobs/" + run.command.job_id + "/cancel";
  auto job = fetch_json(run.client, request, 202);
  if (!job) {
    return job.error();
  }
  if (run.command.json) {
    run.environment.out << job->first.body << '\n';
  } else {
    run.environment.out << json::get_string(job->second, "id").value_or(run.command.job_id) << ' '
                        << json::get_string(job->second, "status").value_or("") << '\n';
  }
  return exit_success;
}

command_result run_errors(const command_session& run) {
  const cli_command& command = run.command;
  if (!command.output.empty()) {
    http_request request;
    request.target = "/v1/imports/" + command.job_id + "/errors";
    request.fields = {{"Accept", "text/csv"}};
    auto written = download_to_file(run.client, request, command.output);
    if (!written) {
      return written.error();
    }
    run.environment.out << "wrote " << format_count(*written) << " bytes to " << command.output
                        << '\n';
    return exit_success;
  }

  // Every page in turn. With --json the entries are written as they arrive, inside one document,
  // so memory does not grow with the error count. An entry keeps up to 64 KiB of cells, so pages
  // of 200 stay far below the client's 64 MiB limit of a buffered response.
  std::ostream& out = run.environment.out;
  std::uint64_t shown = 0;
  bool header_written = false;
  std::string target = "/v1/imports/" + command.job_id + "/errors?limit=200";
  while (!target.empty()) {
    http_request request;
    request.target = target;
    auto page = fetch_json(run.client, request, 200);
    if (!page) {
      return page.error();
    }
    const json::document& body = page->second;
    if (command.json && !header_written) {
      header_written = true;
      const json::value id(rapidjson::StringRef(command.job_id.data(), command.job_id.size()));
      out << R"({"jobId":)" << json::serialize(id) << R"(,"total":)"
          << json::get_int(body, "total").value_or(0) << R"(,"results":[)";
    }
    if (const json::value* entries = json::get_array(body, "results")) {
      for (const auto& entry : entries->GetArray()) {
        if (command.json) {
          out << (shown == 0 ? "" : ",") << json::serialize(entry);
        } else {
          out << describe_error_entry(entry);
        }
        ++shown;
      }
    }
    const json::value* links = json::get_object(body, "links");
    target = links ? std::string(json::get_string(*links, "next").value_or("")) : "";
  }
  if (command.json) {
    out << "]}\n";
  } else if (shown == 0) {
    out << "no rejected rows\n";
  }
  return exit_success;
}

command_result run_list(const command_session& run) {
  const cli_command& command = run.command;
  std::string target = "/v1/" + command.kind + "?limit=" + std::to_string(command.limit);
  if (!command.statuses.empty()) {
    std::string statuses;
    for (const auto& status : command.statuses) {
      statuses += (statuses.empty() ? "" : ",") + status;
    }
    target += "&status=" + encode_query_value(statuses);
  }
  if (!command.after.empty()) {
    target += "&after=" + encode_query_value(command.after);
  }
  http_request request;
  request.target = target;
  auto page = fetch_json(run.client, request, 200);
  if (!page) {
    return page.error();
  }
  if (command.json) {
    run.environment.out << page->first.body << '\n';
    return exit_success;
  }

  std::ostream& out = run.environment.out;
  const json::value* jobs = json::get_array(page->second, "results");
  if (jobs == nullptr || jobs->Empty()) {
    out << "no jobs\n";
  } else {
    for (const auto& job : jobs->GetArray()) {
      out << json::get_string(job, "id").value_or("") << "  "
          << json::get_string(job, "status").value_or("") << "  "
          << json::get_string(job, "createdAt").value_or("") << "  "
          << json::get_string(job, "name").value_or("") << '\n';
    }
  }
  const json::value* paging = json::get_object(page->second, "paging");
  const json::value* next = paging ? json::get_object(*paging, "next") : nullptr;
  if (const auto after = next ? json::get_string(*next, "after") : std::nullopt) {
    out << "more jobs: jobgate list --after " << *after << " (with the same filters)\n";
  }
  return exit_success;
}

}  // namespace jobgate::cli
