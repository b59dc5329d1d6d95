#include "gateway/error_report_response.hpp"

#include "common/json/json.hpp"
#include "common/records/import_request.hpp"
#include "gateway/error_report_writer.hpp"

namespace jobgate::gateway {

namespace asio = boost::asio;

namespace {

constexpr std::string_view csv_media_type = "text/csv; charset=utf-8";

// The import's delimiter, so the report can be imported again with the same request.
char import_delimiter(const job_record& job) {
  auto request = json::parse(job.request_json);
  if (!request) {
    return ',';
  }
  auto parsed = records::import_request::from_json(*request);
  return parsed ? parsed->options.delimiter : ',';
}

problem store_unavailable() {
  return {problem_kind::service_unavailable,
          "The job store is unavailable. Retry after the number of seconds in Retry-After."};
}

header_list retry_after_store() {
  return {{"Retry-After", "2"}};
}

// Appends the records of `entries` and returns how many of them were unreadable.
std::size_t write_entries(error_report_writer& writer, const std::vector<std::string>& entries) {
  std::size_t unreadable = 0;
  for (const auto& entry : entries) {
    unreadable += writer.write_entry(entry) ? 0 : 1;
  }
  return unreadable;
}

}  // namespace

asio::awaitable<void> send_error_report(exchange& current, job_repository& jobs,
                                        const job_record& job, const header_list& extra_headers) {
  // Everything that can fail with a 503 happens before the headers go out.
  auto stored_header = co_await jobs.header_cells(job.id);
  if (!stored_header) {
    current.logger().warn("job store read failed",
                          {{"job_id", job.id}, {"error", stored_header.error().message()}});
    current.respond_problem(store_unavailable(), retry_after_store());
    co_return;
  }
  auto page = co_await jobs.errors(job.id, 0, error_report_page_entries);
  if (!page) {
    current.logger().warn("job store read failed",
                          {{"job_id", job.id}, {"error", page.error().message()}});
    current.respond_problem(store_unavailable(), retry_after_store());
    co_return;
  }

  const std::int64_t total = page->total;
  error_report_writer writer(
      error_report_writer::parse_header_cells(stored_header->value_or(std::string())),
      import_delimiter(job));
  writer.write_header();
  std::size_t unreadable = write_entries(writer, page->entries);
  std::int64_t offset = static_cast<std::int64_t>(page->entries.size());

  header_list headers = extra_headers;
  headers.emplace_back("Content-Disposition", "attachment; filename=\"" + job.id + "-errors.csv\"");
  const bool sending = co_await current.start_stream(http::status::ok, csv_media_type, headers);
  if (!sending) {
    co_return;
  }
  std::string piece = writer.take_output();
  if (!co_await current.send_chunk(piece)) {
    co_return;
  }

  while (offset < total) {
    auto next = co_await jobs.errors(job.id, offset, error_report_page_entries);
    if (!next || next->entries.empty()) {
      // The list shrank because the job expired, or the store failed. Ending the chunked body
      // normally would make the short report look complete.
      current.logger().warn(
          "error report ended early",
          {{"job_id", job.id},
           {"error", next ? std::string("the errors list shrank") : next.error().message()},
           {"written", offset},
           {"total", total}});
      current.abandon_stream();
      co_return;
    }
    const std::int64_t remaining = total - offset;
    if (static_cast<std::int64_t>(next->entries.size()) > remaining) {
      next->entries.resize(static_cast<std::size_t>(remaining));
    }
    unreadable += write_entries(writer, next->entries);
    offset += static_cast<std::int64_t>(next->entries.size());
    piece = writer.take_output();
    if (!co_await current.send_chunk(piece)) {
      co_return;
    }
  }

  if (unreadable > 0) {
    current.logger().warn("error report skipped unreadable entries",
                          {{"job_id", job.id}, {"count", unreadable}});
  }
  co_await current.finish_stream();
}

}  // namespace jobgate::gateway
