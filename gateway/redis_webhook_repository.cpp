#include "gateway/redis_webhook_repository.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <string_view>
#include <type_traits>
#include <variant>

#include "common/jobs/job_scripts.hpp"
#include "common/jobs/store_keys.hpp"
#include "common/redis/error.hpp"
#include "common/redis/script.hpp"
#include "common/webhooks/webhook_scripts.hpp"

namespace jobgate::gateway {

namespace asio = boost::asio;

namespace {

// KEYS: subscription hash. ARGV: tenant, number n of fields to delete, those n field names, then
// field/value pairs to set. Changes only a subscription of this tenant, so a PATCH that races a
// DELETE cannot bring back a partial hash. Returns 1 when changed, 0 when there is none.
constexpr std::string_view update_subscription = R"lua(
if redis.call('HGET', KEYS[1], 'tenant') ~= ARGV[1] then
  return 0
end
local deleted = tonumber(ARGV[2])
if deleted > 0 then
  redis.call('HDEL', KEYS[1], unpack(ARGV, 3, 2 + deleted))
end
if #ARGV > 2 + deleted then
  redis.call('HSET', KEYS[1], unpack(ARGV, 3 + deleted, #ARGV))
end
return 1
)lua";

// KEYS: subscription hash, tenant's subscription index. ARGV: tenant, id. Returns 1 when deleted.
constexpr std::string_view remove_subscription = R"lua(
if redis.call('HGET', KEYS[1], 'tenant') ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
)lua";

// A Redis error reply means the script or command is wrong, which is ours, not a transport fault.
boost::system::error_code server_error() {
  return redis::make_error_code(redis::errc::protocol_error);
}

std::int64_t to_int(std::string_view text) {
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::string join(const std::vector<std::string>& items) {
  std::string joined;
  for (const auto& item : items) {
    joined += (joined.empty() ? "" : ",") + item;
  }
  return joined;
}

std::vector<std::string> split(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    const auto comma = text.find(',');
    if (comma != 0) {
      items.emplace_back(text.substr(0, comma));
    }
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return items;
}

// A field of a stored hash and the member it fills. Lists are stored comma-separated and counts
// and times as decimal integers.
template <typename Record>
struct hash_field {
  std::string_view name;
  std::variant<std::string Record::*, std::int64_t Record::*, std::vector<std::string> Record::*>
      member;
};

constexpr hash_field<webhook_subscription> subscription_fields[] = {
    {"id", &webhook_subscription::id},
    {"tenant", &webhook_subscription::tenant},
    {"url", &webhook_subscription::url},
    {"events", &webhook_subscription::events},
    {"kinds", &webhook_subscription::kinds},
    {"description", &webhook_subscription::description},
    {"status", &webhook_subscription::status},
    {"disabledReason", &webhook_subscription::disabled_reason},
    {"disabledAt", &webhook_subscription::disabled_at},
    {"failingSince", &webhook_subscription::failing_since},
    {"createdAt", &webhook_subscription::created_at},
    {"updatedAt", &webhook_subscription::updated_at},
    {"previousSecretExpiresAt", &webhook_subscription::previous_secret_expires_at},
};

constexpr hash_field<webhook_delivery> delivery_fields[] = {
    {"id", &webhook_delivery::id},
    {"tenant", &webhook_delivery::tenant},
    {"subscription", &webhook_delivery::subscription},
    {"eventId", &webhook_delivery::event_id},
    {"eventType", &webhook_delivery::event_type},
    {"jobId", &webhook_delivery::job_id},
    {"status", &webhook_delivery::status},
    {"attempts", &webhook_delivery::attempts},
    {"createdAt", &webhook_delivery::created_at},
    {"nextAttemptAt", &webhook_delivery::next_attempt_at},
    {"lastAttemptAt", &webhook_delivery::last_attempt_at},
    {"lastStatusCode", &webhook_delivery::last_status_code},
    {"lastError", &webhook_delivery::last_error},
    {"failureReason", &webhook_delivery::failure_reason},
    {"finishedAt", &webhook_delivery::finished_at},
};

// Fills `record` from the field/value pairs of an HGETALL reply, ignoring fields it has no member
// for. Returns false for a missing hash, which HGETALL returns as an empty array.
template <typename Record, std::size_t N>
bool read_hash(const redis::reply& reply, const hash_field<Record> (&fields)[N], Record& record) {
  if (!reply.is_array() || reply.size() == 0) {
    return false;
  }
  for (std::size_t i = 0; i + 1 < reply.size(); i += 2) {
    const std::string_view name = reply[i].text();
    const auto* field =
        std::find_if(std::begin(fields), std::end(fields),
                     [&](const hash_field<Record>& item) { return item.name == name; });
    if (field == std::end(fields)) {
      continue;
    }
    const std::string_view value = reply[i + 1].text();
    std::visit(
        [&](auto member) {
          auto& target = record.*member;
          using member_type = std::remove_reference_t<decltype(target)>;
          if constexpr (std::is_same_v<member_type, std::int64_t>) {
            target = to_int(value);
          } else if constexpr (std::is_same_v<member_type, std::vector<std::string>>) {
            target = split(value);
          } else {
            target = value;
          }
        },
        field->member);
  }
  return true;
}

// Rebuilds a subscription from HGETALL; nullopt for an empty or foreign hash.
std::optional<webhook_subscription> parse_subscription(const redis::reply& reply) {
  webhook_subscription subscription;
  if (!read_hash(reply, subscription_fields, subscription) || subscription.id.empty() ||
      subscription.tenant.empty()) {
    return std::nullopt;
  }
  return subscription;
}

// Rebuilds a delivery from HGETALL and LRANGE of its attempts; nullopt once the hash expired.
std::optional<webhook_delivery> parse_delivery(const redis::reply& fields,
                                               const redis::reply& attempts) {
  webhook_delivery delivery;
  if (!read_hash(fields, delivery_fields, delivery) || delivery.id.empty()) {
    return std::nullopt;
  }
  if (attempts.is_array()) {
    for (const auto entry : attempts) {
      delivery.attempt_log.emplace_back(entry.text());
    }
  }
  return delivery;
}

}  // namespace

asio::awaitable<boost::system::result<bool>> redis_webhook_repository::run_flag_command(
    redis::request command) {
  auto reply = co_await redis::async_run_eval(redis_, std::move(command));
  if (!reply) {
    co_return boost::system::result<bool>(boost::system::in_place_error, reply.error());
  }
  if (!reply->is_integer()) {
    co_return boost::system::result<bool>(boost::system::in_place_error, server_error());
  }
  co_return reply->integer() == 1;
}

asio::awaitable<boost::system::result<bool>> redis_webhook_repository::create(
    const webhook_subscription& subscription, std::int64_t max_per_tenant) {
  redis::request command = job_scripts::eval_command(
      webhook_scripts::create_subscription,
      {store_keys::webhook(subscription.id), store_keys::tenant_webhooks(subscription.tenant)});
  command.push_back(static_cast<long long>(max_per_tenant));
  command.push_back(static_cast<long long>(subscription.created_at));
  command.push_back(subscription.id);
  const std::pair<std::string_view, std::string> fields[] = {
      {"id", subscription.id},
      {"tenant", subscription.tenant},
      {"url", subscription.url},
      {"events", join(subscription.events)},
      {"kinds", join(subscription.kinds)},
      {"description", subscription.description},
      {"status", subscription.status},
      {"secret", subscription.secret},
      {"createdAt", std::to_string(subscription.created_at)},
      {"updatedAt", std::to_string(subscription.updated_at)},
  };
  for (const auto& [name, value] : fields) {
    command.push_back(name);
    command.push_back(value);
  }
  co_return co_await run_flag_command(std::move(command));
}

asio::awaitable<boost::system::result<std::optional<webhook_subscription>>>
redis_webhook_repository::find(const std::string& id) {
  auto reply = co_await redis_.async_command("HGETALL", store_keys::webhook(id));
  if (!reply) {
    co_return reply.error();
  }
  if (!reply->is_array()) {
    co_return server_error();
  }
  co_return parse_subscription(*reply);
}

asio::awaitable<boost::system::result<std::vector<webhook_subscription>>>
redis_webhook_repository::list(const std::string& tenant) {
  auto ids =
      co_await redis_.async_command("ZRANGE", store_keys::tenant_webhooks(tenant), "0", "-1");
  if (!ids) {
    co_return ids.error();
  }
  if (!ids->is_array()) {
    co_return server_error();
  }
  std::vector<webhook_subscription> subscriptions;
  if (ids->size() == 0) {
    co_return subscriptions;
  }
  std::vector<redis::request> commands;
  for (const auto id : *ids) {
    commands.push_back({"HGETALL", store_keys::webhook(id.text())});
  }
  auto replies = co_await redis_.async_pipeline(std::move(commands));
  if (!replies) {
    co_return replies.error();
  }
  for (const auto& reply : *replies) {
    // A subscription deleted between the two reads is left out.
    if (auto subscription = parse_subscription(reply);
        subscription && subscription->tenant == tenant) {
      subscriptions.push_back(std::move(*subscription));
    }
  }
  co_return subscriptions;
}

asio::awaitable<boost::system::result<bool>> redis_webhook_repository::update(
    const std::string& tenant, const std::string& id, const webhook_changes& changes) {
  std::vector<std::string> deleted;
  std::vector<std::pair<std::string, std::string>> set;
  if (changes.url) {
    set.emplace_back("url", *changes.url);
  }
  if (changes.events) {
    set.emplace_back("events", join(*changes.events));
  }
  if (changes.kinds) {
    set.emplace_back("kinds", join(*changes.kinds));
  }
  if (changes.description) {
    set.emplace_back("description", *changes.description);
  }
  if (changes.status == "enabled") {
    set.emplace_back("status", "enabled");
    deleted = {"disabledReason", "disabledAt", "failingSince"};
  } else if (changes.status == "disabled") {
    set.emplace_back("status", "disabled");
    set.emplace_back("disabledReason", changes.disabled_reason);
    set.emplace_back("disabledAt", std::to_string(changes.now));
  }
  set.emplace_back("updatedAt", std::to_string(changes.now));

  redis::request command =
      job_scripts::eval_command(update_subscription, {store_keys::webhook(id)});
  command.push_back(tenant);
  command.push_back(static_cast<long long>(deleted.size()));
  for (const auto& name : deleted) {
    command.push_back(name);
  }
  for (const auto& [name, value] : set) {
    command.push_back(name);
    command.push_back(value);
  }
  co_return co_await run_flag_command(std::move(command));
}

asio::awaitable<boost::system::result<bool>> redis_webhook_repository::remove(
    const std::string& tenant, const std::string& id) {
  redis::request command = job_scripts::eval_command(
      remove_subscription, {store_keys::webhook(id), store_keys::tenant_webhooks(tenant)});
  command.push_back(tenant);
  command.push_back(id);
  co_return co_await run_flag_command(std::move(command));
}

asio::awaitable<boost::system::result<bool>> redis_webhook_repository::rotate_secret(
    const std::string& id, const std::string& secret, std::int64_t now, std::int64_t overlap_ms) {
  redis::request command =
      job_scripts::eval_command(webhook_scripts::rotate_secret, {store_keys::webhook(id)});
  command.push_back(secret);
  command.push_back(static_cast<long long>(now));
  command.push_back(static_cast<long long>(overlap_ms));
  command.push_back("0");
  co_return co_await run_flag_command(std::move(command));
}

asio::awaitable<boost::system::result<void>> redis_webhook_repository::rotate_callback_secret(
    const std::string& tenant, const std::string& secret, std::int64_t now,
    std::int64_t overlap_ms) {
  redis::request command = job_scripts::eval_command(webhook_scripts::rotate_secret,
                                                     {store_keys::callback_secret(tenant)});
  command.push_back(secret);
  command.push_back(static_cast<long long>(now));
  command.push_back(static_cast<long long>(overlap_ms));
  command.push_back("1");
  auto rotated = co_await run_flag_command(std::move(command));
  if (!rotated) {
    co_return rotated.error();
  }
  co_return boost::system::result<void>{};
}

asio::awaitable<boost::system::result<bool>> redis_webhook_repository::has_callback_secret(
    const std::string& tenant) {
  co_return co_await run_flag_command(
      redis::make_request("HEXISTS", store_keys::callback_secret(tenant), "secret"));
}

asio::awaitable<boost::system::result<delivery_page>> redis_webhook_repository::deliveries(
    const std::string& tenant, const std::string& subscription, std::int64_t limit,
    const std::optional<std::string>& after) {
  const std::string log = store_keys::webhook_log(tenant, subscription);
  delivery_page page;

  // The log is trimmed from its oldest end, so a cursor that left it has nothing older behind it.
  long long start = 0;
  if (after) {
    auto rank = co_await redis_.async_command("ZREVRANK", log, *after);
    if (!rank) {
      co_return rank.error();
    }
    if (rank->is_nil()) {
      co_return page;
    }
    if (!rank->is_integer()) {
      co_return server_error();
    }
    start = rank->integer() + 1;
  }
  // Reading one entry more than the page shows reveals whether another page follows.
  auto ids = co_await redis_.async_command("ZREVRANGE", log, start, start + limit);
  if (!ids) {
    co_return ids.error();
  }
  if (!ids->is_array()) {
    co_return server_error();
  }
  const std::size_t shown = std::min(ids->size(), static_cast<std::size_t>(limit));
  if (shown == 0) {
    co_return page;
  }
  std::vector<redis::request> commands;
  for (std::size_t i = 0; i < shown; ++i) {
    const auto id = (*ids)[i].text();
    commands.push_back({"HGETALL", store_keys::webhook_delivery(id)});
    commands.push_back(redis::make_request("LRANGE", store_keys::webhook_attempts(id), 0, -1));
  }
  auto replies = co_await redis_.async_pipeline(std::move(commands));
  if (!replies) {
    co_return replies.error();
  }
  for (std::size_t i = 0; i < shown; ++i) {
    auto delivery = parse_delivery((*replies)[2 * i], (*replies)[2 * i + 1]);
    if (delivery && delivery->tenant == tenant && delivery->subscription == subscription) {
      page.deliveries.push_back(std::move(*delivery));
    }
  }
  if (ids->size() > shown) {
    page.next = std::string((*ids)[shown - 1].text());
  }
  co_return page;
}

asio::awaitable<boost::system::result<std::optional<webhook_delivery>>>
redis_webhook_repository::find_delivery(const std::string& id) {
  std::vector<redis::request> commands;
  commands.push_back({"HGETALL", store_keys::webhook_delivery(id)});
  commands.push_back(redis::make_request("LRANGE", store_keys::webhook_attempts(id), 0, -1));
  auto replies = co_await redis_.async_pipeline(std::move(commands));
  if (!replies) {
    co_return replies.error();
  }
  if (!(*replies)[0].is_array()) {
    co_return server_error();
  }
  co_return parse_delivery((*replies)[0], (*replies)[1]);
}

asio::awaitable<boost::system::result<redelivery_outcome>> redis_webhook_repository::redeliver(
    const std::string& tenant, const std::string& subscription, const std::string& delivery_id,
    std::int64_t now) {
  redis::request command = job_scripts::eval_command(
      webhook_scripts::redeliver,
      {store_keys::webhook_delivery(delivery_id), store_keys::due_deliveries});
  command.push_back(static_cast<long long>(now));
  command.push_back(tenant);
  command.push_back(subscription);
  auto reply = co_await redis::async_run_eval(redis_, std::move(command));
  if (!reply) {
    co_return reply.error();
  }
  if (!reply->is_array() || reply->size() == 0) {
    co_return server_error();
  }
  const auto verdict = (*reply)[0].text();
  if (verdict == "queued") {
    co_return redelivery_outcome::queued;
  }
  if (verdict == "pending") {
    co_return redelivery_outcome::pending;
  }
  co_return redelivery_outcome::missing;
}

}  // namespace jobgate::gateway
