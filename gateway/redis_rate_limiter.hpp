#pragma once

#include "common/redis/async_connection.hpp"
#include "common/redis/script.hpp"
#include "gateway/rate_limiter.hpp"

namespace jobgate::gateway {

// Rate limits kept in Redis: one GCRA bucket per limit kind and API key, checked and updated by
// one Lua script per request, so that all replicas share each bucket. The script reads the time
// from Redis, so replicas with skewed clocks agree. Safe from any thread, as the connection is.
class redis_rate_limiter final : public rate_limiter {
 public:
  explicit redis_rate_limiter(redis::async_connection& connection);

  boost::asio::awaitable<boost::system::result<rate_limit_state>> take(
      limit_kind kind, const std::string& partition, const rate_limit_policy& policy) override;

 private:
  redis::async_connection& redis_;
  redis::script script_;
};

}  // namespace jobgate::gateway
