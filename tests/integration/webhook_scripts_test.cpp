#include "common/webhooks/webhook_scripts.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/jobs/store_keys.hpp"
#include "common/redis/connection.hpp"
#include "common/redis/script.hpp"
#include "redis_test_server.hpp"

// The webhook scripts against a real Redis: fan-out of an event into deliveries, the outcome of
// each attempt, redelivery and secret rotation. Tenants are unique per test.

namespace {

namespace redis = jobgate::redis;
namespace store_keys = jobgate::store_keys;
namespace scripts = jobgate::webhook_scripts;

constexpr std::int64_t retention_ms = 3600 * 1000;
constexpr std::int64_t day_ms = 24 * 3600 * 1000;

redis::connection connect() {
  return jobgate::test::connect_shared_redis();
}

std::string unique(std::string_view name) {
  return jobgate::test::unique_name(name);
}

std::map<std::string, std::string> hash(redis::connection& connection, const std::string& key) {
  auto reply = connection.command("HGETALL", key);
  REQUIRE(reply.has_value());
  std::map<std::string, std::string> fields;
  for (std::size_t i = 0; i + 1 < reply->size(); i += 2) {
    fields.emplace((*reply)[i].text(), (*reply)[i + 1].text());
  }
  return fields;
}

redis::reply run(redis::connection& connection, std::string_view source,
                 const std::vector<std::string>& keys, const std::vector<std::string>& arguments) {
  const redis::script script(source);
  auto reply = script.run(connection, std::span<const std::string>(keys),
                          std::span<const std::string>(arguments));
  REQUIRE(reply.has_value());
  INFO("reply " << reply->text());
  REQUIRE_FALSE(reply->is_error());
  return std::move(*reply);
}

std::string first(const redis::reply& reply) {
  REQUIRE(reply.is_array());
  REQUIRE(reply.size() > 0);
  return std::string(reply[0].text());
}

// A tenant with subscriptions and a job, as the gateway would store them.
struct fixture {
  redis::connection connection = connect();
  std::string tenant = unique("wh");
  std::string job_id = unique("exp");

  void subscribe(const std::string& id, const std::string& events, const std::string& kinds,
                 const std::string& status = "enabled") {
    auto reply = connection.command("HSET", store_keys::webhook(id), "id", id, "tenant", tenant,
                                    "url", "https://hooks.example.com/" + id, "events", events,
                                    "kinds", kinds, "status", status, "secret", "whsec_x");
    REQUIRE(reply.has_value());
    REQUIRE(connection.command("ZADD", store_keys::tenant_webhooks(tenant), "1", id).has_value());
  }

  long long fan_out(const std::string& type, const std::string& body,
                    const std::string& event_id = {}) {
    const auto reply =
        run(connection, scripts::fan_out_event,
            {store_keys::tenant_webhooks(tenant), store_keys::job(job_id),
             std::string(store_keys::due_deliveries)},
            {event_id.empty() ? "evt_" + job_id + "_DONE" : event_id, type, "exports", job_id, body,
             std::to_string(jobgate::now_millis()), std::to_string(retention_ms), tenant, "1000"});
    REQUIRE(reply.is_integer());
    return reply.integer();
  }

  std::vector<std::string> log(const std::string& subscription) {
    auto reply =
        connection.command("ZRANGE", store_keys::webhook_log(tenant, subscription), "0", "-1");
    REQUIRE(reply.has_value());
    std::vector<std::string> ids;
    for (const auto entry : *reply) {
      ids.emplace_back(entry.text());
    }
    return ids;
  }

  std::string record(const std::string& delivery, const std::string& subscription_key,
                     const std::string& outcome, std::int64_t next = 0,
                     std::int64_t disable_after = 0) {
    return first(
        run(connection, scripts::record_attempt,
            {store_keys::webhook_delivery(delivery), store_keys::webhook_attempts(delivery),
             std::string(store_keys::due_deliveries), subscription_key},
            {delivery, std::to_string(jobgate::now_millis()), outcome, R"({"attempt":1})", "500",
             "the target answered 500", std::to_string(next), std::to_string(disable_after),
             "every delivery failed for longer than 1 day", std::to_string(retention_ms)}));
  }

  std::optional<double> due_score(const std::string& delivery) {
    auto reply = connection.command("ZSCORE", std::string(store_keys::due_deliveries), delivery);
    REQUIRE(reply.has_value());
    if (reply->is_nil()) {
      return std::nullopt;
    }
    return std::stod(std::string(reply->text()));
  }
};

}  // namespace

TEST_CASE("fan-out matches events, kinds and status", "[webhooks][redis]") {
  fixture f;
  const std::string all = unique("whk_all");
  const std::string exports = unique("whk_exp");
  const std::string imports = unique("whk_imp");
  const std::string failed_only = unique("whk_failed");
  const std::string disabled = unique("whk_off");
  f.subscribe(all, "job.completed,job.failed", "");
  f.subscribe(exports, "job.completed", "exports");
  f.subscribe(imports, "job.completed", "imports");
  f.subscribe(failed_only, "job.failed", "");
  f.subscribe(disabled, "job.completed", "", "disabled");

  CHECK(f.fan_out("job.completed", R"({"n":1})") == 2);
  CHECK(f.log(all).size() == 1);
  CHECK(f.log(exports).size() == 1);
  CHECK(f.log(imports).empty());
  CHECK(f.log(failed_only).empty());
  CHECK(f.log(disabled).empty());

  const auto delivery = hash(f.connection, store_keys::webhook_delivery(f.log(all)[0]));
  CHECK(delivery.at("status") == "pending");
  CHECK(delivery.at("body") == R"({"n":1})");
  CHECK(delivery.at("subscription") == all);
  CHECK(delivery.at("attempts") == "0");
  CHECK(f.due_score(f.log(all)[0]));
}

TEST_CASE("fan-out again keeps the first body", "[webhooks][redis]") {
  fixture f;
  const std::string subscription = unique("whk");
  f.subscribe(subscription, "job.completed", "");
  REQUIRE(f.fan_out("job.completed", R"({"first":true})") == 1);
  CHECK(f.fan_out("job.completed", R"({"second":true})") == 0);
  const auto ids = f.log(subscription);
  REQUIRE(ids.size() == 1);
  CHECK(hash(f.connection, store_keys::webhook_delivery(ids[0])).at("body") == R"({"first":true})");
}

TEST_CASE("fan-out adds the job's callback", "[webhooks][redis]") {
  fixture f;
  REQUIRE(
      f.connection
          .command("HSET", store_keys::job(f.job_id), "callbackUrl", "https://cb.example.com/jobs")
          .has_value());
  CHECK(f.fan_out("job.status_changed", "{}", "evt_" + f.job_id + "_PROCESSING_1") == 1);
  const auto ids = f.log(std::string(store_keys::callback_subscription));
  REQUIRE(ids.size() == 1);
  const auto delivery = hash(f.connection, store_keys::webhook_delivery(ids[0]));
  CHECK(delivery.at("url") == "https://cb.example.com/jobs");
  CHECK(delivery.at("subscription") == "callbacks");
}

TEST_CASE("attempt outcomes move deliveries", "[webhooks][redis]") {
  fixture f;
  const std::string subscription = unique("whk");
  const std::string subscription_key = store_keys::webhook(subscription);
  f.subscribe(subscription, "job.completed", "");
  REQUIRE(f.fan_out("job.completed", "{}") == 1);
  const std::string id = f.log(subscription)[0];

  const std::int64_t next = jobgate::now_millis() + 5000;
  CHECK(f.record(id, subscription_key, "retry", next) == "retry");
  CHECK(f.due_score(id) == Approx(static_cast<double>(next)));
  auto delivery = hash(f.connection, store_keys::webhook_delivery(id));
  CHECK(delivery.at("attempts") == "1");
  CHECK(delivery.at("lastStatusCode") == "500");
  CHECK(hash(f.connection, subscription_key).count("failingSince") == 1);

  CHECK(f.record(id, subscription_key, "succeeded") == "succeeded");
  delivery = hash(f.connection, store_keys::webhook_delivery(id));
  CHECK(delivery.at("status") == "succeeded");
  CHECK(delivery.at("attempts") == "2");
  CHECK_FALSE(f.due_score(id));
  CHECK(hash(f.connection, subscription_key).count("failingSince") == 0);
  auto attempts = f.connection.command("LLEN", store_keys::webhook_attempts(id));
  REQUIRE(attempts.has_value());
  CHECK(attempts->integer() == 2);

  CHECK(f.record(id, subscription_key, "retry", next) == "stale");
  CHECK_FALSE(f.due_score(id));
}

TEST_CASE("gone disables the subscription", "[webhooks][redis]") {
  fixture f;
  const std::string subscription = unique("whk");
  f.subscribe(subscription, "job.completed", "");
  REQUIRE(f.fan_out("job.completed", "{}") == 1);
  const std::string id = f.log(subscription)[0];
  CHECK(f.record(id, store_keys::webhook(subscription), "gone") == "disabled");
  CHECK(hash(f.connection, store_keys::webhook(subscription)).at("status") == "disabled");
  const auto delivery = hash(f.connection, store_keys::webhook_delivery(id));
  CHECK(delivery.at("status") == "failed");
  CHECK(delivery.at("failureReason").find("410") != std::string::npos);
  CHECK(f.fan_out("job.completed", "{}", "evt_other") == 0);
}

TEST_CASE("failing too long disables", "[webhooks][redis]") {
  fixture f;
  const std::string subscription = unique("whk");
  const std::string subscription_key = store_keys::webhook(subscription);
  f.subscribe(subscription, "job.completed", "");
  REQUIRE(f.fan_out("job.completed", "{}") == 1);
  const std::string id = f.log(subscription)[0];
  const std::int64_t next = jobgate::now_millis() + 1000;
  CHECK(f.record(id, subscription_key, "retry", next, day_ms) == "retry");
  REQUIRE(f.connection
              .command("HSET", subscription_key, "failingSince",
                       std::to_string(jobgate::now_millis() - 2 * day_ms))
              .has_value());
  CHECK(f.record(id, subscription_key, "retry", next, day_ms) == "disabled");
  const auto stored = hash(f.connection, subscription_key);
  CHECK(stored.at("status") == "disabled");
  CHECK(stored.at("disabledReason") == "every delivery failed for longer than 1 day");
  CHECK(hash(f.connection, store_keys::webhook_delivery(id)).at("status") == "failed");
}

TEST_CASE("exhausted and dropped deliveries fail", "[webhooks][redis]") {
  fixture f;
  const std::string subscription = unique("whk");
  f.subscribe(subscription, "job.completed,job.failed", "");
  REQUIRE(f.fan_out("job.completed", "{}") == 1);
  REQUIRE(f.fan_out("job.failed", "{}", "evt_failed") == 1);
  const auto ids = f.log(subscription);
  REQUIRE(ids.size() == 2);

  CHECK(f.record(ids[0], store_keys::webhook(subscription), "exhausted") == "failed");
  auto delivery = hash(f.connection, store_keys::webhook_delivery(ids[0]));
  CHECK(delivery.at("status") == "failed");
  CHECK(delivery.at("failureReason").find("attempt 1") != std::string::npos);
  CHECK_FALSE(f.due_score(ids[0]));

  const std::string dropped =
      first(run(f.connection, scripts::record_attempt,
                {store_keys::webhook_delivery(ids[1]), store_keys::webhook_attempts(ids[1]),
                 std::string(store_keys::due_deliveries), store_keys::webhook(subscription)},
                {ids[1], std::to_string(jobgate::now_millis()), "dropped", "", "0",
                 "the subscription was deleted", "0", "0", "", std::to_string(retention_ms)}));
  CHECK(dropped == "failed");
  delivery = hash(f.connection, store_keys::webhook_delivery(ids[1]));
  CHECK(delivery.at("failureReason") == "the subscription was deleted");
  CHECK(delivery.at("attempts") == "0");
}

TEST_CASE("redelivery queues one attempt", "[webhooks][redis]") {
  fixture f;
  const std::string subscription = unique("whk");
  f.subscribe(subscription, "job.completed", "");
  REQUIRE(f.fan_out("job.completed", "{}") == 1);
  const std::string id = f.log(subscription)[0];
  const auto redeliver = [&](const std::string& tenant) {
    return first(run(f.connection, scripts::redeliver,
                     {store_keys::webhook_delivery(id), std::string(store_keys::due_deliveries)},
                     {std::to_string(jobgate::now_millis()), tenant, subscription}));
  };
  CHECK(redeliver(f.tenant) == "pending");
  REQUIRE(f.record(id, store_keys::webhook(subscription), "exhausted") == "failed");
  CHECK(redeliver("another-tenant") == "missing");
  CHECK(redeliver(f.tenant) == "queued");
  const auto delivery = hash(f.connection, store_keys::webhook_delivery(id));
  CHECK(delivery.at("status") == "pending");
  CHECK(delivery.at("manual") == "1");
  CHECK(delivery.count("failureReason") == 0);
  CHECK(f.due_score(id));
}

TEST_CASE("secret rotation keeps an overlap", "[webhooks][redis]") {
  fixture f;
  const std::string key = store_keys::callback_secret(f.tenant);
  const std::string now = std::to_string(jobgate::now_millis());
  const auto rotate = [&](const std::string& secret, const std::string& overlap,
                          const std::string& create) {
    const auto reply =
        run(f.connection, scripts::rotate_secret, {key}, {secret, now, overlap, create});
    REQUIRE(reply.is_integer());
    return reply.integer();
  };
  CHECK(rotate("whsec_a", "1000", "0") == 0);
  CHECK(hash(f.connection, key).empty());
  CHECK(rotate("whsec_a", "1000", "1") == 1);
  CHECK(rotate("whsec_b", "60000", "0") == 1);
  auto stored = hash(f.connection, key);
  CHECK(stored.at("secret") == "whsec_b");
  CHECK(stored.at("previousSecret") == "whsec_a");
  CHECK(std::stoll(stored.at("previousSecretExpiresAt")) == std::stoll(now) + 60000);
  CHECK(rotate("whsec_c", "0", "0") == 1);
  stored = hash(f.connection, key);
  CHECK(stored.at("secret") == "whsec_c");
  CHECK(stored.count("previousSecret") == 0);
}
