#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "common/log/logger.hpp"
#include "common/tenants/tenant_limits.hpp"
#include "gateway/problem.hpp"
#include "gateway/quota_counter.hpp"

// The checks of a tenant's upload size, rows per file and daily quotas, and the problem documents
// of a request that breaks them. Each problem names the limit in `limit` and its value in `value`.
namespace jobgate::gateway {

// The largest max-upload-bytes a tenant may have. The HTTP server applies it to every request
// before the tenant is known, and the import route then applies the tenant's own limit.
std::uint64_t largest_upload_bytes();

// The 413 upload-too-large problem of an upload above the tenant's max-upload-bytes.
problem upload_too_large(const tenants::tenant_limits& limits);

// Returns upload-too-large when a declared Content-Length is above the tenant's max-upload-bytes.
std::optional<problem> check_upload_size(const tenants::tenant_limits& limits,
                                         std::uint64_t declared_bytes);

// Whether a row count covers the whole file, or stops where the upload was stopped.
enum class row_count { whole_file, partial };

// The 413 too-many-rows problem for a file over max_rows data rows. A whole-file count is reported
// in `rows`; a partial count only shows that the file has more than max_rows.
problem too_many_rows(std::uint64_t max_rows, std::uint64_t rows, row_count count);

// Returns too-many-rows when a file's data rows are above the tenant's max-rows-per-file (0 turns
// the limit off).
std::optional<problem> check_rows_per_file(const tenants::tenant_limits& limits,
                                           std::uint64_t rows);

// The tenant's limit of a daily quota; 0 when the quota is off.
std::int64_t daily_limit(const tenants::tenant_limits& limits, daily_quota quota);

// The 429 daily-quota-exceeded problem of a rejected submission, with the count used so far and
// the time the count resets. Send it with Retry-After set to usage.reset_in_seconds.
problem daily_quota_exceeded(const tenants::tenant_limits& limits, const quota_request& request,
                             const quota_usage& usage);

// Gives a counted submission back to its daily quota and logs a failure to do so. Does nothing
// when `usage` is empty.
boost::asio::awaitable<void> give_back_quota(quota_counter& quotas, const log::logger& logger,
                                             const std::string& tenant,
                                             const quota_request& request,
                                             const std::optional<quota_usage>& usage);

}  // namespace jobgate::gateway
