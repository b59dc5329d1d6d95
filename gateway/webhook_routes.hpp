#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json/schema_validator.hpp"
#include "gateway/exchange.hpp"
#include "gateway/gateway_config.hpp"
#include "gateway/problem.hpp"
#include "gateway/webhook_repository.hpp"

namespace jobgate::gateway {

// The services the webhook handlers use, owned by main() and shared by every connection.
struct webhook_services {
  const gateway_config& config;
  webhook_repository& webhooks;
  const json::schema_validator& create_schema;
  const json::schema_validator& update_schema;
};

// Handles /v1/webhooks and the paths below it, and checks the webhook and callback URLs of job
// submissions. Stateless apart from the services, so one instance serves every connection.
class webhook_routes {
 public:
  // A subscription's id: "whk_" and 24 hex digits.
  static constexpr std::string_view id_prefix = "whk_";
  static constexpr std::int64_t max_per_tenant = 50;

  explicit webhook_routes(webhook_services services) : services_(services) {}

  // Handles an authenticated request. `path` contains the segments after "/v1/webhooks".
  boost::asio::awaitable<void> handle(exchange& current, std::vector<std::string_view> path,
                                      std::string base_url);

  // Checks a target URL for a webhook or a callback: its syntax, its scheme, and every address its
  // host resolves to, with a bounded lookup. Returns the 422 problem to respond with, naming the
  // JSON pointer `field`, or nullopt when deliveries may go there.
  boost::asio::awaitable<std::optional<problem>> check_target_url(std::string url,
                                                                  std::string field) const;

  // Checks the callbackUrl of a job submission: the URL as check_target_url does, then that the
  // tenant has a callback secret. Returns the problem to respond with, or nullopt.
  boost::asio::awaitable<std::optional<problem>> check_callback_url(const std::string& tenant,
                                                                    std::string url,
                                                                    std::string field) const;

 private:
  boost::asio::awaitable<void> list(exchange& current, const std::string& base_url);
  boost::asio::awaitable<void> create(exchange& current, const std::string& base_url);
  boost::asio::awaitable<void> get(exchange& current, std::string_view id,
                                   const std::string& base_url);
  boost::asio::awaitable<void> update(exchange& current, std::string_view id,
                                      const std::string& base_url);
  boost::asio::awaitable<void> remove(exchange& current, std::string_view id);
  boost::asio::awaitable<void> rotate_secret(exchange& current, std::string_view id);
  boost::asio::awaitable<void> rotate_callback_secret(exchange& current);
  boost::asio::awaitable<void> list_deliveries(exchange& current, std::string_view id);
  boost::asio::awaitable<void> redeliver(exchange& current, std::string_view id,
                                         std::string_view delivery_id);

  // Loads a subscription of the caller's tenant, or records a 404 or 503 and returns nullopt.
  boost::asio::awaitable<std::optional<webhook_subscription>> load(exchange& current,
                                                                   std::string_view id);
  // Reads a JSON body, or records 415, 413 or 400 and returns nullopt. An empty body gives
  // "{}" when empty_allowed is set.
  boost::asio::awaitable<std::optional<json::document>> read_body(exchange& current,
                                                                  bool empty_allowed);
  // Reads the optional {"overlapSeconds": N} body of a rotation, or records a 4xx.
  boost::asio::awaitable<std::optional<std::int64_t>> read_overlap(exchange& current);

  webhook_services services_;
};

}  // namespace jobgate::gateway
