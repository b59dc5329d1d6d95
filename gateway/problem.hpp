#pragma once

#include <boost/beast/http/status.hpp>
// status.hpp writes a status to std::ostream but includes only <iosfwd>.
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace jobgate::gateway {

// Every error the HTTP API returns, each with one status, problem type and title.
enum class problem_kind {
  invalid_json,
  invalid_request,
  unknown_property,
  invalid_multipart,
  missing_part,
  unauthorized,
  not_found,
  job_not_found,
  record_not_found,
  method_not_allowed,
  result_not_ready,
  no_result,
  job_not_cancelable,
  idempotency_key_in_use,
  property_exists,
  idempotency_key_reused,
  webhook_not_found,
  delivery_not_found,
  invalid_webhook_url,
  webhook_target_refused,
  webhook_limit_reached,
  webhook_disabled,
  delivery_pending,
  callback_secret_missing,
  invalid_download_link,
  download_link_expired,
  result_expired,
  payload_too_large,
  upload_too_large,
  too_many_rows,
  header_too_large,
  request_timeout,
  unsupported_media_type,
  rate_limited,
  daily_quota_exceeded,
  service_unavailable,
  internal_error,
};

// The static part of a problem document: RFC 9457 "type" slug, HTTP status and title.
struct problem_info {
  boost::beast::http::status status;
  std::string_view slug;
  std::string_view title;
};

problem_info describe(problem_kind kind);

// Base URI of problem types; a slug is appended, e.g. https://jobgate.dev/problems/not-found.
inline constexpr std::string_view problem_type_base = "https://jobgate.dev/problems/";

// An error response on its way out: the kind, a detail sentence and extra members such as the
// offending field or value.
struct problem {
  problem_kind kind;
  std::string detail;
  std::vector<std::pair<std::string, std::string>> extra = {};

  // Adds an extension member such as the offending field. Calls chain, so a problem needs no
  // braced list, which GCC 12 rejects inside co_await arguments.
  problem with(std::string name, std::string value) && {
    extra.emplace_back(std::move(name), std::move(value));
    return std::move(*this);
  }
};

// Serialises a problem as an application/problem+json body.
std::string problem_body(const problem& error, std::string_view instance);

}  // namespace jobgate::gateway
