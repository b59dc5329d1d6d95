#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>
#include <string>

#include "gateway/rate_limit_policy.hpp"

namespace jobgate::gateway {

// Counts requests against rate limits shared by every gateway replica.
class rate_limiter {
 public:
  virtual ~rate_limiter() = default;

  // Takes one request from the bucket of `partition` (an API key's digest) for `kind` under an
  // enabled `policy`. A limited request takes nothing. Fails when the store cannot be reached or
  // returns something other than a verdict.
  virtual boost::asio::awaitable<boost::system::result<rate_limit_state>> take(
      limit_kind kind, const std::string& partition, const rate_limit_policy& policy) = 0;
};

}  // namespace jobgate::gateway
