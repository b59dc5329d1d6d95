#pragma once

#include "common/redis/async_connection.hpp"
#include "common/redis/script.hpp"
#include "gateway/api_key_store.hpp"

namespace jobgate::gateway {

// API keys and tenant limits in Redis, in the layout of store_keys.hpp. find_key takes one round
// trip: a Lua script reads the key's hash and then its tenant's limits. Safe from any thread, as
// the connection is.
class redis_api_key_store final : public api_key_store {
 public:
  explicit redis_api_key_store(redis::async_connection& connection);

  boost::asio::awaitable<boost::system::result<std::optional<stored_api_key>>> find_key(
      const std::string& key_digest) override;
  boost::asio::awaitable<boost::system::result<limit_overrides>> find_overrides(
      const std::string& tenant) override;

 private:
  redis::async_connection& redis_;
  redis::script script_;
};

}  // namespace jobgate::gateway
