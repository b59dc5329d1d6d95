#pragma once

#include <optional>

#include "common/redis/async_connection.hpp"
#include "common/redis/script.hpp"
#include "gateway/quota_counter.hpp"

namespace jobgate::gateway {

// Daily quotas kept in Redis: one counter per tenant, quota and UTC day, checked and increased by
// one Lua script, so every replica shares each count. The script reads the day from Redis's clock,
// so replicas with skewed clocks agree on when a day ends. Safe from any thread, as the connection
// is.
class redis_quota_counter final : public quota_counter {
 public:
  explicit redis_quota_counter(redis::async_connection& connection);

  boost::asio::awaitable<boost::system::result<quota_usage>> take(const std::string& tenant,
                                                                  const quota_request& request,
                                                                  std::int64_t limit) override;

  // Like take(), with `now_seconds` (Unix seconds) in place of Redis's clock, for tests.
  boost::asio::awaitable<boost::system::result<quota_usage>> take_at(
      const std::string& tenant, const quota_request& request, std::int64_t limit,
      std::optional<std::int64_t> now_seconds);

  boost::asio::awaitable<boost::system::result<void>> give_back(const std::string& tenant,
                                                                const quota_request& request,
                                                                const std::string& day) override;

 private:
  redis::async_connection& redis_;
  redis::script take_script_;
  redis::script give_back_script_;
};

}  // namespace jobgate::gateway
