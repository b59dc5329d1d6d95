#pragma once

#include <boost/asio/awaitable.hpp>

#include "common/jobs/job.hpp"
#include "gateway/exchange.hpp"
#include "gateway/job_repository.hpp"

namespace jobgate::gateway {

// Rows an error report reads from the store per request, and so at most per chunk it sends.
inline constexpr std::int64_t error_report_page_entries = 200;

// Streams the CSV error report of the import `job` (see error_report_writer) as a chunked 200
// response named "{id}-errors.csv", with `extra_headers` added. It keeps at most one page of
// entries in memory. The report covers the entries stored when it starts, so a running job's later
// rows are left out. A store failure before the headers were sent records a 503 problem, and one
// after abandons the stream, so the client sees an incomplete body.
boost::asio::awaitable<void> send_error_report(exchange& current, job_repository& jobs,
                                               const job_record& job,
                                               const header_list& extra_headers);

}  // namespace jobgate::gateway
