#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace jobgate::gateway {

// The quotas counted per tenant and UTC day.
enum class daily_quota { rows, exports };

// The quota's name in Redis keys: "rows" or "exports".
constexpr std::string_view to_string(daily_quota quota) {
  return quota == daily_quota::rows ? "rows" : "exports";
}

// The amount one submission counts against a daily quota: the data rows of an import, or one
// export.
struct quota_request {
  daily_quota quota = daily_quota::exports;
  std::int64_t amount = 0;
};

// The outcome of counting a submission against a daily quota.
struct quota_usage {
  bool allowed = false;
  std::int64_t used = 0;  // counted for the day: with this submission when allowed, without it else
  std::string day;        // the UTC day counted, as YYYYMMDD
  std::int64_t reset_in_seconds = 0;  // until the count resets at 00:00:00 UTC
  std::int64_t resets_at = 0;         // that 00:00:00 UTC, in Unix seconds
};

// Counts submissions against daily quotas shared by every gateway replica.
class quota_counter {
 public:
  virtual ~quota_counter() = default;

  // Adds request.amount to the tenant's count for the current UTC day unless the count would pass
  // `limit`. A rejected submission adds nothing. Fails when the store cannot be reached or returns
  // something other than a verdict.
  virtual boost::asio::awaitable<boost::system::result<quota_usage>> take(
      const std::string& tenant, const quota_request& request, std::int64_t limit) = 0;

  // Subtracts request.amount from the count of `day` again, for a submission that failed after it
  // was counted. Does nothing once that day's count expired.
  virtual boost::asio::awaitable<boost::system::result<void>> give_back(
      const std::string& tenant, const quota_request& request, const std::string& day) = 0;
};

}  // namespace jobgate::gateway
