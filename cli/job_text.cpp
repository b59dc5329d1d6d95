#include "cli/job_text.hpp"

namespace jobgate::cli {

namespace {

std::uint64_t count_member(const json::value& object, std::string_view name) {
  const auto count = json::get_int(object, name);
  return count && *count > 0 ? static_cast<std::uint64_t>(*count) : 0;
}

std::string text_member(const json::value& object, std::string_view name) {
  return std::string(json::get_string(object, name).value_or(""));
}

// "3 rows read, 2 created, 0 updated, 1 failed, 0 blank rows skipped"
std::string describe_counts(const json::value& counts) {
  return format_count(count_member(counts, "rowsRead")) + " rows read, " +
         format_count(count_member(counts, "created")) + " created, " +
         format_count(count_member(counts, "updated")) + " updated, " +
         format_count(count_member(counts, "failed")) + " failed, " +
         format_count(count_member(counts, "skippedBlank")) + " blank rows skipped";
}

// "csv, 1,190 rows, 84,211 bytes"
std::string describe_result(const json::value& result) {
  return text_member(result, "format") + ", " + format_count(count_member(result, "rows")) +
         " rows, " + format_count(count_member(result, "bytes")) + " bytes";
}

}  // namespace

bool is_terminal_status(std::string_view status) {
  return status == "DONE" || status == "FAILED" || status == "CANCELED";
}

progress_snapshot snapshot_of(const json::value& job) {
  progress_snapshot snapshot;
  snapshot.status = json::get_string(job, "status").value_or("UNKNOWN");
  if (const json::value* progress = json::get_object(job, "progress")) {
    snapshot.rows_done = count_member(*progress, "rowsProcessed");
    if (const auto total = json::get_int(*progress, "rowsTotal"); total && *total >= 0) {
      snapshot.rows_total = static_cast<std::uint64_t>(*total);
    }
  }
  return snapshot;
}

std::string describe_job(const json::value& job) {
  std::string text;
  const auto line = [&text](std::string_view name, const std::string& value) {
    if (!value.empty()) {
      text += std::string(name) + ": " + value + "\n";
    }
  };
  line("id", text_member(job, "id"));
  line("kind", text_member(job, "kind"));
  line("name", text_member(job, "name"));
  line("object type", text_member(job, "objectType"));
  line("status", text_member(job, "status"));
  line("description", text_member(job, "statusDescription"));
  line("progress",
       format_progress_line(snapshot_of(job)).substr(text_member(job, "status").size() + 1));
  if (const json::value* counts = json::get_object(job, "counts")) {
    line("counts", describe_counts(*counts));
  }
  if (const json::value* result = json::get_object(job, "result")) {
    line("result", describe_result(*result));
  }
  if (const json::value* failure = json::get_object(job, "errorDetails")) {
    line("failure", text_member(*failure, "detail"));
  }
  line("created", text_member(job, "createdAt"));
  line("completed", text_member(job, "completedAt"));
  return text;
}

std::string describe_job_end(const json::value& job) {
  const std::string id = text_member(job, "id");
  const std::string status = text_member(job, "status");
  std::string text = id + " " + status;
  if (status == "FAILED") {
    const json::value* failure = json::get_object(job, "errorDetails");
    const std::string detail = failure ? text_member(*failure, "detail") : "";
    text += ": " + (detail.empty() ? text_member(job, "statusDescription") : detail);
  } else if (status == "CANCELED") {
    text += ": " + text_member(job, "statusDescription");
  } else if (const json::value* counts = json::get_object(job, "counts")) {
    text += ": " + describe_counts(*counts);
  } else if (const json::value* result = json::get_object(job, "result")) {
    text += ": " + describe_result(*result);
  }
  return text + "\n";
}

}  // namespace jobgate::cli
