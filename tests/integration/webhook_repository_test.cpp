#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "async_redis_fixture.hpp"
#include "common/clock.hpp"
#include "common/jobs/store_keys.hpp"
#include "common/redis/connection.hpp"
#include "common/redis/script.hpp"
#include "common/webhooks/webhook_scripts.hpp"
#include "gateway/redis_webhook_repository.hpp"
#include "redis_test_server.hpp"

// The gateway's webhook repository against a real Redis, driven on an io_context as the gateway
// drives it. Deliveries come from the fan-out script the worker runs. Tenants are unique per test.

namespace {

namespace redis = jobgate::redis;
namespace store_keys = jobgate::store_keys;
namespace scripts = jobgate::webhook_scripts;
using namespace std::chrono_literals;
using jobgate::gateway::delivery_page;
using jobgate::gateway::redelivery_outcome;
using jobgate::gateway::redis_webhook_repository;
using jobgate::gateway::webhook_changes;
using jobgate::gateway::webhook_subscription;

constexpr std::int64_t retention_ms = 3600 * 1000;

std::string unique(std::string_view name) {
  return jobgate::test::unique_name(name);
}

using async_repository = jobgate::test::async_redis_fixture<redis_webhook_repository>;

// One tenant's state: the repository under test beside a blocking connection that seeds and
// inspects keys directly. The destructor takes the test's deliveries out of the shared due set.
struct fixture {
  async_repository store;
  redis::connection connection = jobgate::test::connect_shared_redis();
  std::string tenant = unique("wh-repo");
  std::vector<std::string> delivery_ids;

  ~fixture() {
    for (const auto& id : delivery_ids) {
      (void)connection.command("ZREM", std::string(store_keys::due_deliveries), id);
    }
  }

  webhook_subscription subscription(std::int64_t created_at, const std::string& owner = {}) const {
    webhook_subscription result;
    result.id = unique("whk");
    result.tenant = owner.empty() ? tenant : owner;
    result.url = "https://hooks.example.com/" + result.id;
    result.events = {"job.completed", "job.failed"};
    result.kinds = {"exports"};
    result.description = "orders feed";
    result.secret = "whsec_first";
    result.created_at = created_at;
    result.updated_at = created_at;
    return result;
  }

  // Creates a subscription and requires the store to accept it.
  webhook_subscription create(std::int64_t created_at, const std::string& owner = {}) {
    auto result = subscription(created_at, owner);
    auto created = store.run([&](auto& repository) { return repository.create(result, 50); });
    REQUIRE(created.has_value());
    REQUIRE(*created);
    return result;
  }

  webhook_subscription find_existing(const std::string& id) {
    auto found = store.run([&](auto& repository) { return repository.find(id); });
    REQUIRE(found.has_value());
    REQUIRE(found->has_value());
    return **found;
  }

  std::map<std::string, std::string> hash(const std::string& key) {
    auto reply = connection.command("HGETALL", key);
    REQUIRE(reply.has_value());
    std::map<std::string, std::string> fields;
    for (std::size_t i = 0; i + 1 < reply->size(); i += 2) {
      fields.emplace((*reply)[i].text(), (*reply)[i + 1].text());
    }
    return fields;
  }

  redis::reply run_script(std::string_view source, const std::vector<std::string>& keys,
                          const std::vector<std::string>& arguments) {
    const redis::script script(source);
    auto reply = script.run(connection, std::span<const std::string>(keys),
                            std::span<const std::string>(arguments));
    REQUIRE(reply.has_value());
    INFO("reply " << reply->text());
    REQUIRE_FALSE(reply->is_error());
    return std::move(*reply);
  }

  // Fans an event of a unique job out at `now` and returns the id of the delivery it logged for
  // `subscription_id`, which must match it.
  std::string fan_out(const std::string& subscription_id, std::int64_t now) {
    const std::string job_id = unique("exp");
    const std::string event_id = "evt_" + job_id + "_DONE";
    const auto created =
        run_script(scripts::fan_out_event,
                   {store_keys::tenant_webhooks(tenant), store_keys::job(job_id),
                    std::string(store_keys::due_deliveries)},
                   {event_id, "job.completed", "exports", job_id, R"({"n":1})", std::to_string(now),
                    std::to_string(retention_ms), tenant, "1000"});
    REQUIRE(created.is_integer());
    REQUIRE(created.integer() == 1);

    auto newest =
        connection.command("ZREVRANGE", store_keys::webhook_log(tenant, subscription_id), "0", "0");
    REQUIRE(newest.has_value());
    REQUIRE(newest->size() == 1);
    const std::string id((*newest)[0].text());
    CHECK(hash(store_keys::webhook_delivery(id)).at("eventId") == event_id);
    delivery_ids.push_back(id);
    return id;
  }

  // Records a final failed attempt of a delivery, as the dispatcher does when retries run out.
  void exhaust(const std::string& delivery_id, const std::string& subscription_id) {
    const auto reply = run_script(
        scripts::record_attempt,
        {store_keys::webhook_delivery(delivery_id), store_keys::webhook_attempts(delivery_id),
         std::string(store_keys::due_deliveries), store_keys::webhook(subscription_id)},
        {delivery_id, std::to_string(jobgate::now_millis()), "exhausted",
         R"({"attempt":1,"statusCode":500})", "500", "the target answered 500", "0", "0", "",
         std::to_string(retention_ms)});
    REQUIRE(reply.is_array());
    REQUIRE(reply.size() == 1);
    REQUIRE(reply[0].text() == "failed");
  }

  delivery_page page(const std::string& subscription_id, std::int64_t limit,
                     const std::optional<std::string>& after) {
    auto read = store.run([&](auto& repository) {
      return repository.deliveries(tenant, subscription_id, limit, after);
    });
    REQUIRE(read.has_value());
    return std::move(*read);
  }
};

std::vector<std::string> ids_of(const delivery_page& page) {
  std::vector<std::string> ids;
  for (const auto& delivery : page.deliveries) {
    ids.push_back(delivery.id);
  }
  return ids;
}

}  // namespace

TEST_CASE("webhook repository caps subscriptions", "[webhooks][redis]") {
  fixture f;
  constexpr std::int64_t max = 3;
  const std::int64_t now = jobgate::now_millis();
  for (std::int64_t i = 0; i < max; ++i) {
    const auto subscription = f.subscription(now + i);
    auto created =
        f.store.run([&](auto& repository) { return repository.create(subscription, max); });
    REQUIRE(created.has_value());
    CHECK(*created);
  }

  const auto over_limit = f.subscription(now + max);
  auto created = f.store.run([&](auto& repository) { return repository.create(over_limit, max); });
  REQUIRE(created.has_value());
  CHECK_FALSE(*created);
  CHECK(f.hash(store_keys::webhook(over_limit.id)).empty());
  auto count = f.connection.command("ZCARD", store_keys::tenant_webhooks(f.tenant));
  REQUIRE(count.has_value());
  CHECK(count->integer() == max);
}

TEST_CASE("webhook repository finds stored fields", "[webhooks][redis]") {
  fixture f;
  const auto subscription = f.create(jobgate::now_millis());

  const auto found = f.find_existing(subscription.id);
  CHECK(found.id == subscription.id);
  CHECK(found.tenant == f.tenant);
  CHECK(found.url == subscription.url);
  CHECK(found.events == subscription.events);
  CHECK(found.kinds == subscription.kinds);
  CHECK(found.description == "orders feed");
  CHECK(found.status == "enabled");
  CHECK(found.created_at == subscription.created_at);
  CHECK(found.updated_at == subscription.updated_at);
  CHECK(found.disabled_at == 0);
  CHECK(found.failing_since == 0);
  CHECK(found.previous_secret_expires_at == 0);
  // The secret stays in the store: find never reads it back.
  CHECK(found.secret.empty());
  CHECK(f.hash(store_keys::webhook(subscription.id)).at("secret") == "whsec_first");

  const std::string missing_id = unique("whk");
  auto missing = f.store.run([&](auto& repository) { return repository.find(missing_id); });
  REQUIRE(missing.has_value());
  CHECK_FALSE(missing->has_value());
}

TEST_CASE("webhook repository lists oldest first", "[webhooks][redis]") {
  fixture f;
  const std::int64_t now = jobgate::now_millis();
  const std::string other_tenant = unique("wh-repo-other");
  // Created out of order: the list follows createdAt, not the order of the calls.
  const auto second = f.create(now + 20);
  const auto first = f.create(now + 10);
  const auto foreign = f.create(now + 15, other_tenant);
  const auto third = f.create(now + 30);
  // An index entry that points at another tenant's hash is left out, not shown.
  REQUIRE(f.connection
              .command("ZADD", store_keys::tenant_webhooks(f.tenant), std::to_string(now + 25),
                       foreign.id)
              .has_value());

  auto listed = f.store.run([&](auto& repository) { return repository.list(f.tenant); });
  REQUIRE(listed.has_value());
  REQUIRE(listed->size() == 3);
  CHECK((*listed)[0].id == first.id);
  CHECK((*listed)[1].id == second.id);
  CHECK((*listed)[2].id == third.id);

  auto others = f.store.run([&](auto& repository) { return repository.list(other_tenant); });
  REQUIRE(others.has_value());
  REQUIRE(others->size() == 1);
  CHECK((*others)[0].id == foreign.id);

  const std::string nobody = unique("nobody");
  auto empty = f.store.run([&](auto& repository) { return repository.list(nobody); });
  REQUIRE(empty.has_value());
  CHECK(empty->empty());
}

TEST_CASE("webhook repository updates fields", "[webhooks][redis]") {
  fixture f;
  const auto subscription = f.create(jobgate::now_millis());

  webhook_changes changes;
  changes.url = "https://hooks.example.com/changed";
  changes.events = std::vector<std::string>{"job.failed"};
  changes.kinds = std::vector<std::string>{};
  changes.description = "changed feed";
  changes.now = subscription.created_at + 1000;
  auto updated = f.store.run(
      [&](auto& repository) { return repository.update(f.tenant, subscription.id, changes); });
  REQUIRE(updated.has_value());
  CHECK(*updated);

  const auto found = f.find_existing(subscription.id);
  CHECK(found.url == "https://hooks.example.com/changed");
  CHECK(found.events == std::vector<std::string>{"job.failed"});
  CHECK(found.kinds.empty());
  CHECK(f.hash(store_keys::webhook(subscription.id)).at("kinds").empty());
  CHECK(found.description == "changed feed");
  CHECK(found.status == "enabled");
  CHECK(found.updated_at == changes.now);
  CHECK(found.created_at == subscription.created_at);
}

TEST_CASE("webhook repository disables and enables", "[webhooks][redis]") {
  fixture f;
  const auto subscription = f.create(jobgate::now_millis());
  const std::string key = store_keys::webhook(subscription.id);

  webhook_changes disable;
  disable.status = "disabled";
  disable.disabled_reason = "disabled by a PATCH request";
  disable.now = subscription.created_at + 1000;
  auto disabled = f.store.run(
      [&](auto& repository) { return repository.update(f.tenant, subscription.id, disable); });
  REQUIRE(disabled.has_value());
  CHECK(*disabled);
  auto found = f.find_existing(subscription.id);
  CHECK(found.status == "disabled");
  CHECK(found.disabled_reason == "disabled by a PATCH request");
  CHECK(found.disabled_at == disable.now);
  // Only the status changed: the other fields keep their stored values.
  CHECK(found.url == subscription.url);
  CHECK(found.kinds == subscription.kinds);

  // The dispatcher sets failingSince after a failed attempt; enabling starts afresh.
  REQUIRE(f.connection.command("HSET", key, "failingSince", std::to_string(subscription.created_at))
              .has_value());
  REQUIRE(f.find_existing(subscription.id).failing_since == subscription.created_at);
  webhook_changes enable;
  enable.status = "enabled";
  enable.now = subscription.created_at + 2000;
  auto enabled = f.store.run(
      [&](auto& repository) { return repository.update(f.tenant, subscription.id, enable); });
  REQUIRE(enabled.has_value());
  CHECK(*enabled);
  found = f.find_existing(subscription.id);
  CHECK(found.status == "enabled");
  CHECK(found.disabled_reason.empty());
  CHECK(found.disabled_at == 0);
  CHECK(found.failing_since == 0);
  CHECK(found.updated_at == enable.now);
  const auto stored = f.hash(key);
  CHECK(stored.count("disabledReason") == 0);
  CHECK(stored.count("disabledAt") == 0);
  CHECK(stored.count("failingSince") == 0);
}

TEST_CASE("webhook repository update checks tenant", "[webhooks][redis]") {
  fixture f;
  const auto subscription = f.create(jobgate::now_millis());
  webhook_changes changes;
  changes.url = "https://hooks.example.com/stolen";
  changes.now = subscription.created_at + 1000;
  const std::string other_tenant = unique("wh-repo-other");

  auto foreign = f.store.run(
      [&](auto& repository) { return repository.update(other_tenant, subscription.id, changes); });
  REQUIRE(foreign.has_value());
  CHECK_FALSE(*foreign);
  const auto found = f.find_existing(subscription.id);
  CHECK(found.url == subscription.url);
  CHECK(found.updated_at == subscription.updated_at);

  // A PATCH that lost a race with a DELETE must not leave a partial hash behind.
  const std::string missing_id = unique("whk");
  auto missing = f.store.run(
      [&](auto& repository) { return repository.update(f.tenant, missing_id, changes); });
  REQUIRE(missing.has_value());
  CHECK_FALSE(*missing);
  CHECK(f.hash(store_keys::webhook(missing_id)).empty());
}

TEST_CASE("webhook repository removes only own", "[webhooks][redis]") {
  fixture f;
  const auto subscription = f.create(jobgate::now_millis());
  const std::string index = store_keys::tenant_webhooks(f.tenant);
  const std::string other_tenant = unique("wh-repo-other");

  auto foreign = f.store.run(
      [&](auto& repository) { return repository.remove(other_tenant, subscription.id); });
  REQUIRE(foreign.has_value());
  CHECK_FALSE(*foreign);
  CHECK(f.find_existing(subscription.id).id == subscription.id);

  auto removed =
      f.store.run([&](auto& repository) { return repository.remove(f.tenant, subscription.id); });
  REQUIRE(removed.has_value());
  CHECK(*removed);
  auto found = f.store.run([&](auto& repository) { return repository.find(subscription.id); });
  REQUIRE(found.has_value());
  CHECK_FALSE(found->has_value());
  auto score = f.connection.command("ZSCORE", index, subscription.id);
  REQUIRE(score.has_value());
  CHECK(score->is_nil());

  auto again =
      f.store.run([&](auto& repository) { return repository.remove(f.tenant, subscription.id); });
  REQUIRE(again.has_value());
  CHECK_FALSE(*again);
}

TEST_CASE("webhook repository rotates secret", "[webhooks][redis]") {
  fixture f;
  const auto subscription = f.create(jobgate::now_millis());
  const std::string key = store_keys::webhook(subscription.id);
  const std::int64_t now = subscription.created_at + 1000;
  const std::string second_secret = "whsec_second";
  const std::string third_secret = "whsec_third";

  SECTION("with overlap") {
    auto rotated = f.store.run([&](auto& repository) {
      return repository.rotate_secret(subscription.id, second_secret, now, 60'000);
    });
    REQUIRE(rotated.has_value());
    CHECK(*rotated);
    const auto stored = f.hash(key);
    CHECK(stored.at("secret") == "whsec_second");
    CHECK(stored.at("previousSecret") == "whsec_first");
    CHECK(std::stoll(stored.at("previousSecretExpiresAt")) == now + 60'000);
    CHECK(f.find_existing(subscription.id).previous_secret_expires_at == now + 60'000);
  }
  SECTION("without overlap") {
    auto overlapped = f.store.run([&](auto& repository) {
      return repository.rotate_secret(subscription.id, second_secret, now, 60'000);
    });
    REQUIRE(overlapped.has_value());
    REQUIRE(*overlapped);
    auto rotated = f.store.run([&](auto& repository) {
      return repository.rotate_secret(subscription.id, third_secret, now + 1, 0);
    });
    REQUIRE(rotated.has_value());
    CHECK(*rotated);
    const auto stored = f.hash(key);
    CHECK(stored.at("secret") == "whsec_third");
    CHECK(stored.count("previousSecret") == 0);
    CHECK(stored.count("previousSecretExpiresAt") == 0);
    CHECK(f.find_existing(subscription.id).previous_secret_expires_at == 0);
  }
  SECTION("of a missing subscription") {
    const std::string missing_id = unique("whk");
    auto rotated = f.store.run([&](auto& repository) {
      return repository.rotate_secret(missing_id, second_secret, now, 60'000);
    });
    REQUIRE(rotated.has_value());
    CHECK_FALSE(*rotated);
    CHECK(f.hash(store_keys::webhook(missing_id)).empty());
  }
}

TEST_CASE("webhook repository rotates callback secret", "[webhooks][redis]") {
  fixture f;
  const std::string key = store_keys::callback_secret(f.tenant);
  const std::int64_t now = jobgate::now_millis();
  const std::vector<std::string> secrets = {"whsec_cb1", "whsec_cb2", "whsec_cb3"};
  const auto has_secret = [&] {
    auto has =
        f.store.run([&](auto& repository) { return repository.has_callback_secret(f.tenant); });
    REQUIRE(has.has_value());
    return *has;
  };
  CHECK_FALSE(has_secret());

  auto created = f.store.run([&](auto& repository) {
    return repository.rotate_callback_secret(f.tenant, secrets[0], now, 60'000);
  });
  REQUIRE(created.has_value());
  CHECK(has_secret());
  auto stored = f.hash(key);
  CHECK(stored.at("secret") == "whsec_cb1");
  // A first secret has nothing to overlap with.
  CHECK(stored.count("previousSecret") == 0);

  auto rotated = f.store.run([&](auto& repository) {
    return repository.rotate_callback_secret(f.tenant, secrets[1], now + 1, 60'000);
  });
  REQUIRE(rotated.has_value());
  CHECK(has_secret());
  stored = f.hash(key);
  CHECK(stored.at("secret") == "whsec_cb2");
  CHECK(stored.at("previousSecret") == "whsec_cb1");
  CHECK(std::stoll(stored.at("previousSecretExpiresAt")) == now + 1 + 60'000);

  rotated = f.store.run([&](auto& repository) {
    return repository.rotate_callback_secret(f.tenant, secrets[2], now + 2, 0);
  });
  REQUIRE(rotated.has_value());
  stored = f.hash(key);
  CHECK(stored.at("secret") == "whsec_cb3");
  CHECK(stored.count("previousSecret") == 0);
}

TEST_CASE("webhook repository pages deliveries", "[webhooks][redis]") {
  fixture f;
  const std::int64_t now = jobgate::now_millis();
  const auto subscription = f.create(now);
  // Each event at its own millisecond, so the log order is known: ids[4] is the newest.
  std::vector<std::string> ids;
  for (std::int64_t i = 0; i < 5; ++i) {
    ids.push_back(f.fan_out(subscription.id, now + 10 * (i + 1)));
  }

  const auto first = f.page(subscription.id, 2, std::nullopt);
  CHECK(ids_of(first) == std::vector<std::string>{ids[4], ids[3]});
  REQUIRE(first.next);
  CHECK(*first.next == ids[3]);
  REQUIRE_FALSE(first.deliveries.empty());
  CHECK(first.deliveries[0].tenant == f.tenant);
  CHECK(first.deliveries[0].subscription == subscription.id);
  CHECK(first.deliveries[0].status == "pending");
  CHECK(first.deliveries[0].created_at == now + 50);

  const auto second = f.page(subscription.id, 2, first.next);
  CHECK(ids_of(second) == std::vector<std::string>{ids[2], ids[1]});
  REQUIRE(second.next);
  CHECK(*second.next == ids[1]);

  const auto last = f.page(subscription.id, 2, second.next);
  CHECK(ids_of(last) == std::vector<std::string>{ids[0]});
  CHECK_FALSE(last.next);

  const auto whole = f.page(subscription.id, 5, std::nullopt);
  CHECK(whole.deliveries.size() == 5);
  CHECK_FALSE(whole.next);

  // A cursor that is not in the log, for example one trimmed away, has nothing after it.
  const auto trimmed = f.page(subscription.id, 2, std::string("whd_000000000000000000000000"));
  CHECK(trimmed.deliveries.empty());
  CHECK_FALSE(trimmed.next);

  const std::string other_tenant = unique("wh-repo-other");
  const std::optional<std::string> no_cursor;
  auto foreign = f.store.run([&](auto& repository) {
    return repository.deliveries(other_tenant, subscription.id, 5, no_cursor);
  });
  REQUIRE(foreign.has_value());
  CHECK(foreign->deliveries.empty());
}

TEST_CASE("webhook repository skips expired deliveries", "[webhooks][redis]") {
  fixture f;
  const std::int64_t now = jobgate::now_millis();
  const auto subscription = f.create(now);
  std::vector<std::string> ids;
  for (std::int64_t i = 0; i < 3; ++i) {
    ids.push_back(f.fan_out(subscription.id, now + 10 * (i + 1)));
  }
  // The log outlives the hash of its newest entry, as it does when a delivery hash expires first.
  REQUIRE(f.connection.command("PEXPIRE", store_keys::webhook_delivery(ids[2]), "1").has_value());
  std::this_thread::sleep_for(20ms);
  REQUIRE(f.hash(store_keys::webhook_delivery(ids[2])).empty());

  const auto first = f.page(subscription.id, 2, std::nullopt);
  CHECK(ids_of(first) == std::vector<std::string>{ids[1]});
  // The cursor still moves past both log entries the page covered.
  REQUIRE(first.next);
  CHECK(*first.next == ids[1]);
  const auto second = f.page(subscription.id, 2, first.next);
  CHECK(ids_of(second) == std::vector<std::string>{ids[0]});
  CHECK_FALSE(second.next);
}

TEST_CASE("webhook repository finds a delivery", "[webhooks][redis]") {
  fixture f;
  const std::int64_t now = jobgate::now_millis();
  const auto subscription = f.create(now);
  const std::string id = f.fan_out(subscription.id, now + 10);

  auto pending = f.store.run([&](auto& repository) { return repository.find_delivery(id); });
  REQUIRE(pending.has_value());
  REQUIRE(pending->has_value());
  const auto& fresh = **pending;
  CHECK(fresh.id == id);
  CHECK(fresh.tenant == f.tenant);
  CHECK(fresh.subscription == subscription.id);
  CHECK(fresh.event_type == "job.completed");
  CHECK(fresh.event_id.starts_with("evt_"));
  CHECK(fresh.event_id == "evt_" + fresh.job_id + "_DONE");
  CHECK(fresh.status == "pending");
  CHECK(fresh.attempts == 0);
  CHECK(fresh.created_at == now + 10);
  CHECK(fresh.next_attempt_at == now + 10);
  CHECK(fresh.attempt_log.empty());

  f.exhaust(id, subscription.id);
  auto failed = f.store.run([&](auto& repository) { return repository.find_delivery(id); });
  REQUIRE(failed.has_value());
  REQUIRE(failed->has_value());
  const auto& finished = **failed;
  CHECK(finished.status == "failed");
  CHECK(finished.attempts == 1);
  CHECK(finished.last_status_code == 500);
  CHECK(finished.last_error == "the target answered 500");
  CHECK(finished.failure_reason.find("attempt 1") != std::string::npos);
  CHECK(finished.finished_at > 0);
  CHECK(finished.next_attempt_at == 0);
  REQUIRE(finished.attempt_log.size() == 1);
  CHECK(finished.attempt_log[0] == R"({"attempt":1,"statusCode":500})");

  const std::string missing_id = "whd_000000000000000000000000";
  auto missing =
      f.store.run([&](auto& repository) { return repository.find_delivery(missing_id); });
  REQUIRE(missing.has_value());
  CHECK_FALSE(missing->has_value());
}

TEST_CASE("webhook repository redelivers finished only", "[webhooks][redis]") {
  fixture f;
  const std::int64_t now = jobgate::now_millis();
  const auto subscription = f.create(now);
  const std::string id = f.fan_out(subscription.id, now + 10);
  const auto redeliver = [&](const std::string& tenant, const std::string& subscription,
                             const std::string& delivery_id) {
    auto outcome = f.store.run([&](auto& repository) {
      return repository.redeliver(tenant, subscription, delivery_id, now + 100);
    });
    REQUIRE(outcome.has_value());
    return *outcome;
  };

  CHECK(redeliver(f.tenant, subscription.id, id) == redelivery_outcome::pending);

  f.exhaust(id, subscription.id);
  CHECK(redeliver(unique("wh-repo-other"), subscription.id, id) == redelivery_outcome::missing);
  CHECK(redeliver(f.tenant, unique("whk"), id) == redelivery_outcome::missing);
  CHECK(redeliver(f.tenant, subscription.id, "whd_000000000000000000000000") ==
        redelivery_outcome::missing);
  CHECK(f.hash(store_keys::webhook_delivery(id)).at("status") == "failed");

  CHECK(redeliver(f.tenant, subscription.id, id) == redelivery_outcome::queued);
  const auto stored = f.hash(store_keys::webhook_delivery(id));
  CHECK(stored.at("status") == "pending");
  CHECK(stored.at("nextAttemptAt") == std::to_string(now + 100));
  CHECK(stored.count("failureReason") == 0);
  CHECK(stored.count("finishedAt") == 0);
  auto due = f.connection.command("ZSCORE", std::string(store_keys::due_deliveries), id);
  REQUIRE(due.has_value());
  REQUIRE_FALSE(due->is_nil());
  CHECK(std::stoll(std::string(due->text())) == now + 100);

  CHECK(redeliver(f.tenant, subscription.id, id) == redelivery_outcome::pending);
}
