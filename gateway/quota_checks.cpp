#include "gateway/quota_checks.hpp"

#include "common/clock.hpp"

namespace jobgate::gateway {

namespace {

constexpr std::string_view upload_limit = "max-upload-bytes";
constexpr std::string_view row_limit = "max-rows-per-file";

std::string_view quota_limit_name(daily_quota quota) {
  return quota == daily_quota::rows ? "rows-per-day" : "exports-per-day";
}

}  // namespace

std::uint64_t largest_upload_bytes() {
  return static_cast<std::uint64_t>(tenants::find_limit_field(upload_limit)->max);
}

problem upload_too_large(const tenants::tenant_limits& limits) {
  const std::string value = std::to_string(limits.max_upload_bytes);
  return problem{problem_kind::upload_too_large,
                 "The upload is larger than this tenant's max-upload-bytes of " + value +
                     " bytes. Send a smaller file or split it into several imports.",
                 {{"limit", std::string(upload_limit)}, {"value", value}, {"maxBytes", value}}};
}

std::optional<problem> check_upload_size(const tenants::tenant_limits& limits,
                                         std::uint64_t declared_bytes) {
  if (declared_bytes > static_cast<std::uint64_t>(limits.max_upload_bytes)) {
    return upload_too_large(limits);
  }
  return std::nullopt;
}

problem too_many_rows(std::uint64_t max_rows, std::uint64_t rows, row_count count) {
  const std::string value = std::to_string(max_rows);
  problem result{problem_kind::too_many_rows, {}, {{"limit", std::string(row_limit)}}};
  result.extra.emplace_back("value", value);
  if (count == row_count::whole_file) {
    result.detail = "The file has " + std::to_string(rows) +
                    " data rows, more than this tenant's max-rows-per-file of " + value +
                    ". Split it into several imports.";
    result.extra.emplace_back("rows", std::to_string(rows));
  } else {
    result.detail = "The file has more than this tenant's max-rows-per-file of " + value +
                    " data rows, so the upload was stopped. Split it into several imports.";
  }
  return result;
}

std::optional<problem> check_rows_per_file(const tenants::tenant_limits& limits,
                                           std::uint64_t rows) {
  const auto max_rows = static_cast<std::uint64_t>(limits.max_rows_per_file);
  if (max_rows > 0 && rows > max_rows) {
    return too_many_rows(max_rows, rows, row_count::whole_file);
  }
  return std::nullopt;
}

std::int64_t daily_limit(const tenants::tenant_limits& limits, daily_quota quota) {
  return quota == daily_quota::rows ? limits.rows_per_day : limits.exports_per_day;
}

problem daily_quota_exceeded(const tenants::tenant_limits& limits, const quota_request& request,
                             const quota_usage& usage) {
  const std::string name(quota_limit_name(request.quota));
  const std::string value = std::to_string(daily_limit(limits, request.quota));
  const std::string resets_at = format_timestamp(usage.resets_at * 1000);
  const std::string unit = request.quota == daily_quota::rows ? " rows" : " exports";
  std::string detail;
  if (request.amount > daily_limit(limits, request.quota)) {
    detail = "This import has " + std::to_string(request.amount) + " rows, more than this " +
             "tenant's whole " + name + " quota of " + value + ". Split it into several imports.";
  } else {
    detail = "This tenant used " + std::to_string(usage.used) + " of its " + name + " quota of " +
             value + unit + " today, and this request needs " + std::to_string(request.amount) +
             " more. The quota resets at " + resets_at + ".";
  }
  return problem{problem_kind::daily_quota_exceeded,
                 std::move(detail),
                 {{"limit", name},
                  {"value", value},
                  {"used", std::to_string(usage.used)},
                  {"requested", std::to_string(request.amount)},
                  {"resetsAt", resets_at}}};
}

boost::asio::awaitable<void> give_back_quota(quota_counter& quotas, const log::logger& logger,
                                             const std::string& tenant,
                                             const quota_request& request,
                                             const std::optional<quota_usage>& usage) {
  if (!usage) {
    co_return;
  }
  auto returned = co_await quotas.give_back(tenant, request, usage->day);
  if (!returned) {
    logger.warn("daily quota count could not be given back",
                {{"quota", to_string(request.quota)},
                 {"amount", request.amount},
                 {"error", returned.error().message()}});
  }
}

}  // namespace jobgate::gateway
