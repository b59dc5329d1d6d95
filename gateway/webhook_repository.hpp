#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace jobgate::gateway {

// A webhook subscription as stored in its Redis hash. The secrets stay in the store; only creation
// and rotation return a secret, in `secret`.
struct webhook_subscription {
  std::string id;
  std::string tenant;
  std::string url;
  std::vector<std::string> events;
  std::vector<std::string> kinds;  // empty for every kind
  std::string description;
  std::string status = "enabled";  // "enabled" or "disabled"
  std::string disabled_reason;
  std::int64_t disabled_at = 0;    // millis, 0 while enabled
  std::int64_t failing_since = 0;  // millis of the first failed attempt since the last success
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::int64_t previous_secret_expires_at = 0;  // 0 when no previous secret is valid
  std::string secret;                           // set only by create, never read back
};

// The changes of a PATCH request; unset members keep their stored value.
struct webhook_changes {
  std::optional<std::string> url;
  std::optional<std::vector<std::string>> events;
  std::optional<std::vector<std::string>> kinds;  // an empty list means every kind
  std::optional<std::string> description;
  std::optional<std::string> status;
  std::string disabled_reason;  // stored when status becomes "disabled"
  std::int64_t now = 0;
};

// One delivery of an event to a subscription or to a job's callbackUrl, with its attempt log
// (JSON objects as the dispatcher wrote them, oldest first).
struct webhook_delivery {
  std::string id;
  std::string tenant;
  std::string subscription;
  std::string event_id;
  std::string event_type;
  std::string job_id;
  std::string status;  // "pending", "succeeded" or "failed"
  std::int64_t attempts = 0;
  std::int64_t created_at = 0;
  std::int64_t next_attempt_at = 0;
  std::int64_t last_attempt_at = 0;
  std::int64_t last_status_code = 0;
  std::string last_error;
  std::string failure_reason;
  std::int64_t finished_at = 0;
  std::vector<std::string> attempt_log;
};

// A page of a delivery log, newest first. `next` is the id to continue after while more may follow.
struct delivery_page {
  std::vector<webhook_delivery> deliveries;
  std::optional<std::string> next;
};

enum class redelivery_outcome { queued, pending, missing };

// The webhook state the gateway reads and writes: subscriptions, the tenant's callback secret and
// the delivery logs. Errors are transport errors of the store; callers map them to 503.
class webhook_repository {
 public:
  virtual ~webhook_repository() = default;

  // Stores a new subscription with its secret. Returns false when the tenant already has
  // max_per_tenant subscriptions.
  virtual boost::asio::awaitable<boost::system::result<bool>> create(
      const webhook_subscription& subscription, std::int64_t max_per_tenant) = 0;
  // nullopt when no subscription has this id, whatever its tenant.
  virtual boost::asio::awaitable<boost::system::result<std::optional<webhook_subscription>>> find(
      const std::string& id) = 0;
  // The tenant's subscriptions, oldest first.
  virtual boost::asio::awaitable<boost::system::result<std::vector<webhook_subscription>>> list(
      const std::string& tenant) = 0;
  // Applies the changes to the tenant's subscription. Returns false when it does not exist.
  virtual boost::asio::awaitable<boost::system::result<bool>> update(
      const std::string& tenant, const std::string& id, const webhook_changes& changes) = 0;
  // Deletes the tenant's subscription and removes it from the tenant's index. Returns false when
  // it did not exist.
  virtual boost::asio::awaitable<boost::system::result<bool>> remove(const std::string& tenant,
                                                                     const std::string& id) = 0;
  // Replaces the secret of the subscription `id`, keeping the old one valid for overlap_ms.
  // Returns false when the subscription does not exist.
  virtual boost::asio::awaitable<boost::system::result<bool>> rotate_secret(
      const std::string& id, const std::string& secret, std::int64_t now,
      std::int64_t overlap_ms) = 0;
  // Creates the tenant's callback secret, or replaces it as rotate_secret does.
  virtual boost::asio::awaitable<boost::system::result<void>> rotate_callback_secret(
      const std::string& tenant, const std::string& secret, std::int64_t now,
      std::int64_t overlap_ms) = 0;
  virtual boost::asio::awaitable<boost::system::result<bool>> has_callback_secret(
      const std::string& tenant) = 0;
  // Reads a page of a subscription's delivery log, newest first, after the delivery `after` when it
  // is set. Deliveries whose hash expired are skipped.
  virtual boost::asio::awaitable<boost::system::result<delivery_page>> deliveries(
      const std::string& tenant, const std::string& subscription, std::int64_t limit,
      const std::optional<std::string>& after) = 0;
  // nullopt when the delivery does not exist.
  virtual boost::asio::awaitable<boost::system::result<std::optional<webhook_delivery>>>
  find_delivery(const std::string& id) = 0;
  // Makes a finished delivery of the tenant's subscription pending again, due now.
  virtual boost::asio::awaitable<boost::system::result<redelivery_outcome>> redeliver(
      const std::string& tenant, const std::string& subscription, const std::string& delivery_id,
      std::int64_t now) = 0;
};

}  // namespace jobgate::gateway
