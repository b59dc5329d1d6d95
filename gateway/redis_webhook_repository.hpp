#pragma once

#include "common/redis/async_connection.hpp"
#include "gateway/webhook_repository.hpp"

namespace jobgate::gateway {

// The webhook repository on Redis: subscription hashes, the tenant index, callback secrets and
// delivery logs, with the Lua scripts of webhook_scripts.hpp. Safe to share between threads,
// because the connection is.
class redis_webhook_repository final : public webhook_repository {
 public:
  explicit redis_webhook_repository(redis::async_connection& connection) : redis_(connection) {}

  boost::asio::awaitable<boost::system::result<bool>> create(
      const webhook_subscription& subscription, std::int64_t max_per_tenant) override;
  boost::asio::awaitable<boost::system::result<std::optional<webhook_subscription>>> find(
      const std::string& id) override;
  boost::asio::awaitable<boost::system::result<std::vector<webhook_subscription>>> list(
      const std::string& tenant) override;
  boost::asio::awaitable<boost::system::result<bool>> update(
      const std::string& tenant, const std::string& id, const webhook_changes& changes) override;
  boost::asio::awaitable<boost::system::result<bool>> remove(const std::string& tenant,
                                                             const std::string& id) override;
  boost::asio::awaitable<boost::system::result<bool>> rotate_secret(
      const std::string& id, const std::string& secret, std::int64_t now,
      std::int64_t overlap_ms) override;
  boost::asio::awaitable<boost::system::result<void>> rotate_callback_secret(
      const std::string& tenant, const std::string& secret, std::int64_t now,
      std::int64_t overlap_ms) override;
  boost::asio::awaitable<boost::system::result<bool>> has_callback_secret(
      const std::string& tenant) override;
  boost::asio::awaitable<boost::system::result<delivery_page>> deliveries(
      const std::string& tenant, const std::string& subscription, std::int64_t limit,
      const std::optional<std::string>& after) override;
  boost::asio::awaitable<boost::system::result<std::optional<webhook_delivery>>> find_delivery(
      const std::string& id) override;
  boost::asio::awaitable<boost::system::result<redelivery_outcome>> redeliver(
      const std::string& tenant, const std::string& subscription, const std::string& delivery_id,
      std::int64_t now) override;

 private:
  // Runs a command whose reply is an integer and returns whether it is 1. Fails with the transport
  // error, or with redis::errc::protocol_error for a reply of another type.
  boost::asio::awaitable<boost::system::result<bool>> run_flag_command(redis::request command);

  redis::async_connection& redis_;
};

}  // namespace jobgate::gateway
