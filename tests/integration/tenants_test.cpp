#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <map>
#include <string>
#include <thread>

#include "common/crypto/sha256.hpp"
#include "common/jobs/store_keys.hpp"
#include "common/redis/async_connection.hpp"
#include "common/redis/connection.hpp"
#include "common/redis/error.hpp"
#include "common/redis/redis_endpoint.hpp"
#include "common/tenants/tenant_store.hpp"
#include "gateway/redis_api_key_store.hpp"
#include "gateway/tenant_directory.hpp"
#include "redis_test_server.hpp"

// The tenant store of jobgate-admin and the gateway's API key lookup against a real Redis: tenant
// records, limit overrides, keys stored by digest, revocation, and the lookup cache with short
// TTLs. Tenant names are unique per test.

namespace {

namespace asio = boost::asio;
namespace redis = jobgate::redis;
namespace store_keys = jobgate::store_keys;
namespace tenants = jobgate::tenants;
using namespace std::chrono_literals;
using jobgate::gateway::tenant_directory;
using jobgate::gateway::tenant_directory_options;
using tenants::store_errc;

tenants::limit_change set_limit(std::string name, std::string value) {
  return {std::move(name), std::move(value)};
}

// A gateway's key lookup on its own io thread and Redis connection.
class directory_fixture {
 public:
  explicit directory_fixture(const std::string& url, tenant_directory_options options,
                             std::map<std::string, std::string> static_keys = {})
      : work_(asio::make_work_guard(io_)),
        connection_(io_.get_executor(), *redis::parse_redis_url(url), connection_options()),
        store_(connection_),
        static_keys_(std::move(static_keys)),
        directory_(defaults, static_keys_, store_, options),
        thread_([this] { io_.run(); }) {
    connection_.start();
    auto connected = asio::co_spawn(io_, connection_.async_connect(), asio::use_future);
    REQUIRE(connected.wait_for(30s) == std::future_status::ready);
    REQUIRE(connected.get().has_value());
  }

  ~directory_fixture() {
    connection_.close();
    work_.reset();
    io_.stop();
    thread_.join();
  }

  directory_fixture(const directory_fixture&) = delete;
  directory_fixture& operator=(const directory_fixture&) = delete;

  boost::system::result<tenant_directory::lookup> find(const std::string& key) {
    const std::string digest = jobgate::crypto::sha256_hex(key);
    auto future = asio::co_spawn(io_, directory_.find(digest), asio::use_future);
    REQUIRE(future.wait_for(30s) == std::future_status::ready);
    return future.get();
  }

  tenants::tenant_limits defaults;

 private:
  static redis::async_connection_options connection_options() {
    redis::async_connection_options options;
    options.command_timeout = 1000ms;
    options.reconnect_delay_max = 200ms;
    return options;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  redis::async_connection connection_;
  jobgate::gateway::redis_api_key_store store_;
  std::map<std::string, std::string> static_keys_;
  tenant_directory directory_;
  std::thread thread_;
};

tenant_directory_options short_ttls() {
  tenant_directory_options options;
  options.found_ttl = 300ms;
  options.unknown_ttl = 100ms;
  return options;
}

}  // namespace

TEST_CASE("tenant store creates and shows tenants", "[tenants][redis]") {
  auto connection = jobgate::test::connect_shared_redis();
  tenants::tenant_store store(connection);
  const std::string name = jobgate::test::unique_name("acme");

  REQUIRE(store
              .create_tenant(name, "Acme Corp",
                             {set_limit("read-burst", "7"), set_limit("submit-burst", "3")})
              .has_value());
  const auto again = store.create_tenant(name, "", {});
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error() == store_errc::tenant_exists);

  const auto shown = store.find_tenant(name);
  REQUIRE(shown.has_value());
  CHECK(shown->name == name);
  CHECK(shown->description == "Acme Corp");
  CHECK(shown->created_at > 0);
  // Overrides come in the order of the limit field table, not the order given.
  using field = std::pair<std::string, std::string>;
  CHECK(shown->overrides == std::vector<field>{{"submit-burst", "3"}, {"read-burst", "7"}});

  const auto listed = store.list_tenants();
  REQUIRE(listed.has_value());
  const auto entry = std::find_if(listed->begin(), listed->end(),
                                  [&](const auto& tenant) { return tenant.name == name; });
  REQUIRE(entry != listed->end());
  CHECK(entry->description == "Acme Corp");
  CHECK(entry->created_at == shown->created_at);

  auto index = connection.command("ZSCORE", store_keys::tenants, name);
  REQUIRE(index.has_value());
  CHECK(index->is_string());
}

TEST_CASE("tenant store changes limits", "[tenants][redis]") {
  auto connection = jobgate::test::connect_shared_redis();
  tenants::tenant_store store(connection);
  const std::string name = jobgate::test::unique_name("limits");
  REQUIRE(store.create_tenant(name, "", {set_limit("submit-burst", "3")}).has_value());

  REQUIRE(store
              .change_limits(name, {tenants::limit_change{"submit-burst", std::nullopt},
                                    set_limit("exports-per-day", "5")})
              .has_value());
  const auto shown = store.find_tenant(name);
  REQUIRE(shown.has_value());
  using field = std::pair<std::string, std::string>;
  CHECK(shown->overrides == std::vector<field>{{"exports-per-day", "5"}});

  const auto invalid = store.change_limits(name, {set_limit("submit-burst", "0")});
  REQUIRE_FALSE(invalid.has_value());
  CHECK(invalid.error() == store_errc::invalid_limit);
  const auto unknown_field = store.change_limits(name, {set_limit("burst", "3")});
  REQUIRE_FALSE(unknown_field.has_value());
  CHECK(unknown_field.error() == store_errc::invalid_limit);

  const std::string missing = jobgate::test::unique_name("missing");
  const auto absent = store.change_limits(missing, {set_limit("submit-burst", "3")});
  REQUIRE_FALSE(absent.has_value());
  CHECK(absent.error() == store_errc::tenant_not_found);
  auto stray = connection.command("EXISTS", store_keys::tenant_limits(missing));
  REQUIRE(stray.has_value());
  CHECK(stray->integer() == 0);
  CHECK(store.find_tenant(missing).error() == store_errc::tenant_not_found);
  CHECK(store.find_tenant("bad name").error() == store_errc::invalid_tenant_name);
}

TEST_CASE("tenant store keeps key digests only", "[tenants][redis]") {
  auto connection = jobgate::test::connect_shared_redis();
  tenants::tenant_store store(connection);
  const std::string name = jobgate::test::unique_name("keys");

  const auto orphan = store.create_key(name, "ci");
  REQUIRE_FALSE(orphan.has_value());
  CHECK(orphan.error() == store_errc::tenant_not_found);

  REQUIRE(store.create_tenant(name, "", {}).has_value());
  const auto first = store.create_key(name, "ci");
  REQUIRE(first.has_value());
  // Keys are listed by creation time in milliseconds, so the second one must come a moment later.
  std::this_thread::sleep_for(5ms);
  const auto second = store.create_key(name, "");
  REQUIRE(second.has_value());
  CHECK(first->key != second->key);
  CHECK(first->record.tenant == name);
  CHECK(first->record.label == "ci");

  // The key hash is found by digest and contains no copy of the key.
  const std::string digest = jobgate::crypto::sha256_hex(first->key);
  auto stored = connection.command("HGETALL", store_keys::api_key(digest));
  REQUIRE(stored.has_value());
  const auto fields = redis::hash_field_pairs(stored->view());
  REQUIRE(fields.size() == 4);
  for (const auto& [field, value] : fields) {
    CHECK(value.find(first->key) == std::string::npos);
  }
  auto indexed = connection.command("HGET", store_keys::tenant_api_keys(name), first->record.id);
  REQUIRE(indexed.has_value());
  CHECK(indexed->text() == digest);

  const auto listed = store.list_keys(name);
  REQUIRE(listed.has_value());
  REQUIRE(listed->size() == 2);
  CHECK((*listed)[0].id == first->record.id);
  CHECK((*listed)[0].label == "ci");
  CHECK((*listed)[0].created_at == first->record.created_at);
  CHECK((*listed)[1].id == second->record.id);

  REQUIRE(store.revoke_key(name, first->record.id).has_value());
  auto gone = connection.command("EXISTS", store_keys::api_key(digest));
  REQUIRE(gone.has_value());
  CHECK(gone->integer() == 0);
  CHECK(store.list_keys(name)->size() == 1);
  CHECK(store.revoke_key(name, first->record.id).error() == store_errc::key_not_found);
  CHECK(store.revoke_key(name, "not-an-id").error() == store_errc::invalid_key_id);
  CHECK(store.revoke_key(jobgate::test::unique_name("other"), second->record.id).error() ==
        store_errc::tenant_not_found);
  CHECK(store.list_keys(jobgate::test::unique_name("other")).error() ==
        store_errc::tenant_not_found);
}

TEST_CASE("gateway finds stored key with limits", "[tenants][redis]") {
  auto connection = jobgate::test::connect_shared_redis();
  tenants::tenant_store store(connection);
  const std::string name = jobgate::test::unique_name("lookup");
  REQUIRE(store.create_tenant(name, "", {set_limit("submit-burst", "3")}).has_value());
  const auto created = store.create_key(name, "");
  REQUIRE(created.has_value());

  directory_fixture gateway(jobgate::test::shared_redis_url(), short_ttls());
  gateway.defaults.read_burst = 42;
  const auto found = gateway.find(created->key);
  REQUIRE(found.has_value());
  REQUIRE(found->identity.has_value());
  CHECK(found->loaded);
  CHECK(found->identity->tenant == name);
  CHECK(found->identity->limits.submit_burst == 3);
  // Fields without an override keep the gateway's defaults, not the built-in ones.
  CHECK(found->identity->limits.read_burst == 42);

  const auto cached = gateway.find(created->key);
  REQUIRE(cached.has_value());
  CHECK_FALSE(cached->loaded);
  CHECK(cached->identity->tenant == name);

  const auto unknown = gateway.find("jg_not-a-stored-key");
  REQUIRE(unknown.has_value());
  CHECK_FALSE(unknown->identity.has_value());
}

TEST_CASE("gateway applies overrides to static keys", "[tenants][redis]") {
  auto connection = jobgate::test::connect_shared_redis();
  tenants::tenant_store store(connection);
  const std::string name = jobgate::test::unique_name("static");
  const std::string key = "static-key-" + name;
  directory_fixture gateway(jobgate::test::shared_redis_url(), short_ttls(),
                            {{jobgate::crypto::sha256_hex(key), name}});

  // Without a tenant record the deployment defaults apply.
  const auto plain = gateway.find(key);
  REQUIRE(plain.has_value());
  REQUIRE(plain->identity.has_value());
  CHECK(plain->identity->tenant == name);
  CHECK(plain->identity->limits.submit_burst == tenants::tenant_limits{}.submit_burst);

  REQUIRE(store.create_tenant(name, "", {set_limit("submit-burst", "4")}).has_value());
  std::this_thread::sleep_for(400ms);
  const auto limited = gateway.find(key);
  REQUIRE(limited.has_value());
  CHECK(limited->identity->limits.submit_burst == 4);

  // A changed limit takes effect once the cache entry expired.
  REQUIRE(store.change_limits(name, {set_limit("submit-burst", "9")}).has_value());
  CHECK(gateway.find(key)->identity->limits.submit_burst == 4);
  std::this_thread::sleep_for(400ms);
  CHECK(gateway.find(key)->identity->limits.submit_burst == 9);
}

TEST_CASE("gateway rejects revoked key after ttl", "[tenants][redis]") {
  auto connection = jobgate::test::connect_shared_redis();
  tenants::tenant_store store(connection);
  const std::string name = jobgate::test::unique_name("revoke");
  REQUIRE(store.create_tenant(name, "", {}).has_value());
  const auto created = store.create_key(name, "");
  REQUIRE(created.has_value());

  directory_fixture gateway(jobgate::test::shared_redis_url(), short_ttls());
  REQUIRE(gateway.find(created->key)->identity.has_value());
  REQUIRE(store.revoke_key(name, created->record.id).has_value());

  // The cached entry still admits the key until its TTL ends.
  CHECK(gateway.find(created->key)->identity.has_value());
  std::this_thread::sleep_for(400ms);
  const auto revoked = gateway.find(created->key);
  REQUIRE(revoked.has_value());
  CHECK_FALSE(revoked->identity.has_value());
}

TEST_CASE("gateway finds new key after unknown ttl", "[tenants][redis]") {
  auto connection = jobgate::test::connect_shared_redis();
  tenants::tenant_store store(connection);
  const std::string name = jobgate::test::unique_name("late");
  REQUIRE(store.create_tenant(name, "", {}).has_value());
  directory_fixture gateway(jobgate::test::shared_redis_url(), short_ttls());

  // Unknown keys are cached too, for the shorter TTL. A key whose digest is taken in advance
  // cannot be made by create_key, so the key hash is written as create_key writes it.
  const std::string key = "jg_" + name;
  const std::string digest = jobgate::crypto::sha256_hex(key);
  CHECK_FALSE(gateway.find(key)->identity.has_value());
  auto written = connection.command("HSET", store_keys::api_key(digest), "tenant", name, "id",
                                    "key_000000000000", "createdAt", "1", "label", "");
  REQUIRE(written.has_value());
  CHECK_FALSE(gateway.find(key)->identity.has_value());
  std::this_thread::sleep_for(200ms);
  const auto found = gateway.find(key);
  REQUIRE(found->identity.has_value());
  CHECK(found->identity->tenant == name);
  (void)connection.command("DEL", store_keys::api_key(digest));
}

TEST_CASE("gateway key lookup with redis down", "[tenants][redis]") {
  jobgate::test::redis_test_server server;
  auto connection = redis::connection::connect(*redis::parse_redis_url(server.url()));
  REQUIRE(connection.has_value());
  tenants::tenant_store store(*connection);
  REQUIRE(store.create_tenant("down", "", {}).has_value());
  const auto created = store.create_key("down", "");
  REQUIRE(created.has_value());

  tenant_directory_options options;
  options.found_ttl = 60s;
  options.unknown_ttl = 60s;
  directory_fixture gateway(server.url(), options);
  REQUIRE(gateway.find(created->key)->identity.has_value());
  server.kill();

  // A cached key keeps working; a key that needs Redis fails instead of passing as unknown.
  const auto cached = gateway.find(created->key);
  REQUIRE(cached.has_value());
  CHECK(cached->identity.has_value());
  const auto uncached = gateway.find("jg_other");
  REQUIRE_FALSE(uncached.has_value());
  CHECK(redis::is_retryable(uncached.error()));
}
