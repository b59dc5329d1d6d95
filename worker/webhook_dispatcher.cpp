#include "worker/webhook_dispatcher.hpp"

#include <rapidjson/stringbuffer.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>

#include "common/clock.hpp"
#include "common/jobs/job_scripts.hpp"
#include "common/jobs/store_keys.hpp"
#include "common/json/json.hpp"
#include "common/redis/error.hpp"
#include "common/redis/script.hpp"
#include "common/tracing/trace_context.hpp"
#include "common/webhooks/target_url.hpp"
#include "common/webhooks/webhook_scripts.hpp"
#include "common/webhooks/webhook_signature.hpp"

namespace jobgate::worker {

namespace asio = boost::asio;

namespace {

constexpr auto idle_wait = std::chrono::milliseconds(250);
constexpr auto busy_wait = std::chrono::milliseconds(20);
constexpr auto failure_log_interval = std::chrono::seconds(30);
constexpr std::int64_t target_busy_delay_ms = 1000;

const redis::script& claim_script() {
  static const redis::script script(job_scripts::claim_due);
  return script;
}

const redis::script& record_script() {
  static const redis::script script(webhook_scripts::record_attempt);
  return script;
}

std::int64_t to_int(std::string_view text) {
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::string field(const std::map<std::string, std::string, std::less<>>& hash,
                  std::string_view name) {
  const auto found = hash.find(name);
  return found == hash.end() ? std::string() : found->second;
}

// "5 days", "36 hours" or "90 minutes": the disable-after setting for a sentence.
std::string describe_duration(std::int64_t millis) {
  const std::int64_t minutes = millis / 60000;
  if (minutes >= 48 * 60 && minutes % (24 * 60) == 0) {
    return std::to_string(minutes / (24 * 60)) + " days";
  }
  if (minutes >= 120 && minutes % 60 == 0) {
    return std::to_string(minutes / 60) + " hours";
  }
  if (minutes >= 2) {
    return std::to_string(minutes) + " minutes";
  }
  return std::to_string(millis / 1000) + " seconds";
}

std::string attempt_entry(std::int64_t attempt, std::int64_t at, const webhook_response& response) {
  rapidjson::StringBuffer buffer;
  json::writer out(buffer);
  out.StartObject();
  out.Key("attempt");
  out.Int64(attempt);
  json::write_string(out, "at", format_timestamp(at));
  if (response.status != 0) {
    out.Key("statusCode");
    out.Int(response.status);
  }
  if (!response.error.empty()) {
    json::write_string(out, "error", response.error);
  }
  if (!response.address.empty()) {
    json::write_string(out, "address", response.address);
  }
  out.Key("durationMs");
  out.Int64(response.elapsed.count());
  if (!response.body_excerpt.empty()) {
    json::write_string(out, "responseExcerpt", response.body_excerpt);
  }
  out.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

webhook_dispatcher::webhook_dispatcher(const worker_config& config, redis::async_connection& redis,
                                       const webhook_sender& sender, worker_metrics& metrics)
    : config_(config),
      redis_(redis),
      sender_(sender),
      metrics_(metrics),
      logger_(log::logger{}.with("role", "webhook-dispatcher")),
      random_(std::random_device{}()) {}

asio::awaitable<void> webhook_dispatcher::run(const std::atomic<bool>& stopping,
                                              std::chrono::milliseconds drain) {
  const auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  std::optional<std::chrono::steady_clock::time_point> failure_logged;
  // The first claim waits for the first connection attempt, so a normal start logs no failure.
  auto connected = co_await redis_.async_connect();
  if (!connected) {
    failure_logged = std::chrono::steady_clock::now();
    logger_.warn("Redis connection failed; retrying", {{"error", connected.error().message()}});
  }
  while (!stopping.load()) {
    const std::size_t capacity = static_cast<std::size_t>(config_.webhook_concurrency);
    bool full = false;
    if (in_flight_ < capacity) {
      const std::size_t free_slots = capacity - in_flight_;
      auto claimed = co_await claim(free_slots);
      if (claimed) {
        failure_logged.reset();
        full = claimed->size() == free_slots;
        for (auto& id : *claimed) {
          ++in_flight_;
          asio::co_spawn(executor, deliver(std::move(id)), asio::detached);
        }
      } else if (!failure_logged ||
                 std::chrono::steady_clock::now() - *failure_logged > failure_log_interval) {
        failure_logged = std::chrono::steady_clock::now();
        logger_.warn("claiming due deliveries failed; retrying",
                     {{"error", claimed.error().message()}});
      }
    }
    timer.expires_after(full ? busy_wait : idle_wait);
    co_await timer.async_wait(asio::use_awaitable);
  }
  const auto deadline = std::chrono::steady_clock::now() + drain;
  while (in_flight_ > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(busy_wait);
    co_await timer.async_wait(asio::use_awaitable);
  }
  if (in_flight_ > 0) {
    logger_.warn("deliveries still in flight at shutdown are sent again after their hold",
                 {{"deliveries", in_flight_}});
  }
}

asio::awaitable<boost::system::result<std::vector<std::string>>> webhook_dispatcher::claim(
    std::size_t max_count) {
  // A claim outlives the longest attempt, so no other dispatcher sends the delivery meanwhile.
  const std::int64_t hold =
      config_.webhook_connect_timeout_ms + config_.webhook_response_timeout_ms + 30000;
  const std::string keys[] = {std::string(store_keys::due_deliveries)};
  const std::string arguments[] = {std::to_string(now_millis()), std::to_string(hold),
                                   std::to_string(max_count)};
  auto reply = co_await claim_script().async_run(redis_, std::span<const std::string>(keys),
                                                 std::span<const std::string>(arguments));
  if (!reply) {
    co_return reply.error();
  }
  if (!reply->is_array()) {
    co_return redis::make_error_code(redis::errc::protocol_error);
  }
  std::vector<std::string> ids;
  for (const auto member : *reply) {
    ids.emplace_back(member.text());
  }
  co_return ids;
}

asio::awaitable<boost::system::result<webhook_dispatcher::fields>> webhook_dispatcher::read_hash(
    const std::string& key) {
  auto reply = co_await redis_.async_command("HGETALL", key);
  if (!reply) {
    co_return reply.error();
  }
  if (!reply->is_array()) {
    co_return redis::make_error_code(redis::errc::protocol_error);
  }
  fields hash;
  for (std::size_t i = 0; i + 1 < reply->size(); i += 2) {
    hash.emplace((*reply)[i].text(), (*reply)[i + 1].text());
  }
  co_return hash;
}

asio::awaitable<void> webhook_dispatcher::deliver(std::string id) {
  struct release {
    std::size_t& count;
    ~release() { --count; }
  } slot{in_flight_};

  auto delivery = co_await read_hash(store_keys::webhook_delivery(id));
  if (!delivery) {
    logger_.warn("reading a delivery failed; it is due again after its hold",
                 {{"delivery_id", id}, {"error", delivery.error().message()}});
    co_return;
  }
  const std::string subscription = field(*delivery, "subscription");
  const std::string tenant = field(*delivery, "tenant");
  const bool callback = subscription == store_keys::callback_subscription;
  const std::string subscription_key =
      callback ? store_keys::callback_secret(tenant) : store_keys::webhook(subscription);
  if (delivery->empty() || field(*delivery, "status") != "pending") {
    co_await record(id, subscription_key, "forget", "", 0, "", 0);
    co_return;
  }

  auto secrets = co_await read_hash(subscription_key);
  if (!secrets) {
    logger_.warn("reading a subscription failed; the delivery is due again after its hold",
                 {{"delivery_id", id}, {"error", secrets.error().message()}});
    co_return;
  }
  std::string url = field(*delivery, "url");
  std::string dropped;
  if (!callback) {
    if (secrets->empty()) {
      dropped = "the subscription was deleted";
    } else if (field(*secrets, "status") != "enabled") {
      dropped = "the subscription is disabled";
    }
    url = field(*secrets, "url");
  }
  const std::int64_t now = now_millis();
  std::vector<std::string> keys;
  for (const auto* name : {"secret", "previousSecret"}) {
    const std::string secret = field(*secrets, name);
    if (secret.empty() || (std::string_view(name) == "previousSecret" &&
                           to_int(field(*secrets, "previousSecretExpiresAt")) <= now)) {
      continue;
    }
    if (auto key = webhooks::secret_key(secret)) {
      keys.push_back(std::move(*key));
    }
  }
  if (dropped.empty() && keys.empty()) {
    dropped = callback ? "the tenant has no callback secret" : "the subscription has no secret";
  }
  std::string url_error;
  const auto target = webhooks::parse_target_url(url, url_error);
  if (dropped.empty() && !target) {
    dropped = "the target URL is invalid: " + url_error;
  }
  if (!dropped.empty()) {
    logger_.warn("delivery dropped", {{"delivery_id", id}, {"reason", dropped}});
    co_await record(id, subscription_key, "dropped", "", 0, dropped, 0);
    co_return;
  }

  // One slow or dead target must not take every slot, so each target gets a few at most; the
  // rest of its deliveries wait a second while other targets' deliveries go out.
  const std::string target_key =
      callback ? target->host + ":" + std::to_string(target->port) : subscription;
  const auto max_per_target = static_cast<std::size_t>(config_.webhook_target_concurrency);
  if (in_flight_per_target_[target_key] >= max_per_target) {
    auto deferred =
        co_await redis_.async_command("ZADD", std::string(store_keys::due_deliveries), "XX",
                                      std::to_string(now + target_busy_delay_ms), id);
    if (!deferred) {
      logger_.warn("deferring a delivery failed; it is due again after its hold",
                   {{"delivery_id", id}, {"error", deferred.error().message()}});
    }
    co_return;
  }
  ++in_flight_per_target_[target_key];
  struct target_release {
    std::map<std::string, std::size_t>& counts;
    std::string key;
    ~target_release() {
      if (--counts[key] == 0) {
        counts.erase(key);
      }
    }
  } target_slot{in_flight_per_target_, target_key};

  const std::string event_id = field(*delivery, "eventId");
  const std::string body = field(*delivery, "body");
  const std::int64_t timestamp = now / 1000;
  webhook_request request;
  request.url = *target;
  request.body = body;
  request.headers = {
      {"webhook-id", event_id},
      {"webhook-timestamp", std::to_string(timestamp)},
      {"webhook-signature", webhooks::signature_header(keys, event_id, timestamp, body)},
  };
  // Each attempt is a span of its own in the trace of the request that submitted the job.
  if (const auto trace = tracing::trace_context::parse(field(*delivery, "traceparent"))) {
    request.headers.emplace_back("traceparent", trace->child().header());
  }
  const webhook_response response = co_await sender_.send(request);

  const std::int64_t attempt = to_int(field(*delivery, "attempts")) + 1;
  std::string outcome;
  std::int64_t next_attempt_at = 0;
  std::string error = response.error;
  if (response.status >= 200 && response.status < 300) {
    outcome = "succeeded";
  } else if (response.status == 410) {
    outcome = "gone";
  } else {
    if (error.empty()) {
      error = "the target answered " + std::to_string(response.status);
    }
    // A manual redelivery is one attempt; the schedule covers the automatic ones.
    const bool last = delivery->contains("manual") ||
                      static_cast<std::size_t>(attempt) >= config_.webhook_retries.max_attempts();
    if (last) {
      outcome = "exhausted";
    } else {
      outcome = "retry";
      std::uniform_real_distribution<double> jitter(0.0, 1.0);
      next_attempt_at =
          now_millis() +
          config_.webhook_retries.delay_after(static_cast<std::size_t>(attempt), jitter(random_))
              .count();
    }
  }
  metrics_.webhook_attempt(outcome, response.elapsed);
  if (outcome == "succeeded") {
    logger_.info("webhook delivered", {{"delivery_id", id},
                                       {"event_id", event_id},
                                       {"subscription_id", subscription},
                                       {"attempt", attempt},
                                       {"status_code", response.status},
                                       {"elapsed_ms", response.elapsed.count()}});
  } else {
    logger_.warn("webhook attempt failed", {{"delivery_id", id},
                                            {"event_id", event_id},
                                            {"subscription_id", subscription},
                                            {"attempt", attempt},
                                            {"status_code", response.status},
                                            {"error", error},
                                            {"outcome", outcome}});
  }
  co_await record(id, subscription_key, outcome, attempt_entry(attempt, now, response),
                  response.status, error, next_attempt_at);
}

asio::awaitable<void> webhook_dispatcher::record(const std::string& id,
                                                 const std::string& subscription_key,
                                                 std::string_view outcome,
                                                 const std::string& attempt, int status_code,
                                                 const std::string& error,
                                                 std::int64_t next_attempt_at) {
  const std::string keys[] = {store_keys::webhook_delivery(id), store_keys::webhook_attempts(id),
                              std::string(store_keys::due_deliveries), subscription_key};
  const std::string arguments[] = {id,
                                   std::to_string(now_millis()),
                                   std::string(outcome),
                                   attempt,
                                   std::to_string(status_code),
                                   error,
                                   std::to_string(next_attempt_at),
                                   std::to_string(config_.webhook_disable_after_ms),
                                   "every delivery failed for longer than " +
                                       describe_duration(config_.webhook_disable_after_ms),
                                   std::to_string(config_.webhook_retention_hours * 3600 * 1000)};
  auto reply = co_await record_script().async_run(redis_, std::span<const std::string>(keys),
                                                  std::span<const std::string>(arguments));
  if (!reply || !reply->is_array() || reply->size() == 0) {
    logger_.warn("recording a delivery attempt failed; the delivery is due again after its hold",
                 {{"delivery_id", id},
                  {"error", reply ? std::string("unexpected reply") : reply.error().message()}});
    co_return;
  }
  if ((*reply)[0].text() == "disabled") {
    logger_.warn("webhook subscription disabled",
                 {{"delivery_id", id}, {"subscription_key", subscription_key}});
  }
}

}  // namespace jobgate::worker
