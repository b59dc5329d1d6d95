#include "gateway/redis_api_key_store.hpp"

#include <array>

#include "common/jobs/store_keys.hpp"
#include "common/redis/error.hpp"

namespace jobgate::gateway {

namespace asio = boost::asio;

namespace {

// KEYS: the API key's hash. ARGV: the prefix of tenant limit hashes, to which the script appends
// the tenant it finds, because that key is only known inside the script.
// Returns nil for an unknown key, else {tenant, HGETALL of the tenant's limits}.
constexpr std::string_view find_key_script = R"lua(
local tenant = redis.call('HGET', KEYS[1], 'tenant')
if not tenant then
  return false
end
return {tenant, redis.call('HGETALL', ARGV[1] .. tenant)}
)lua";

}  // namespace

redis_api_key_store::redis_api_key_store(redis::async_connection& connection)
    : redis_(connection), script_(find_key_script) {}

asio::awaitable<boost::system::result<std::optional<stored_api_key>>> redis_api_key_store::find_key(
    const std::string& key_digest) {
  const std::array<std::string, 1> keys = {store_keys::api_key(key_digest)};
  const std::array<std::string, 1> arguments = {store_keys::tenant_limits("")};
  auto reply = co_await script_.async_run(redis_, std::span<const std::string>(keys),
                                          std::span<const std::string>(arguments));
  if (!reply) {
    co_return reply.error();
  }
  if (reply->is_nil()) {
    co_return std::optional<stored_api_key>{};
  }
  if (!reply->is_array() || reply->size() != 2 || !(*reply)[0].is_string() ||
      !(*reply)[1].is_array()) {
    co_return redis::make_error_code(redis::errc::protocol_error);
  }
  stored_api_key found;
  found.tenant = std::string((*reply)[0].text());
  found.overrides = redis::hash_field_pairs((*reply)[1]);
  co_return found;
}

asio::awaitable<boost::system::result<limit_overrides>> redis_api_key_store::find_overrides(
    const std::string& tenant) {
  auto reply = co_await redis_.async_command("HGETALL", store_keys::tenant_limits(tenant));
  if (!reply) {
    co_return reply.error();
  }
  if (!reply->is_array()) {
    co_return redis::make_error_code(redis::errc::protocol_error);
  }
  co_return redis::hash_field_pairs(reply->view());
}

}  // namespace jobgate::gateway
