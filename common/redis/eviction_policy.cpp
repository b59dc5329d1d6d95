#include "common/redis/eviction_policy.hpp"

#include "common/redis/async_connection.hpp"
#include "common/redis/connection.hpp"

namespace jobgate::redis {

namespace {

constexpr std::string_view setting_name = "maxmemory-policy";
constexpr std::string_view info_field = "maxmemory_policy:";

// CONFIG GET returns a flat array of name and value pairs, and an empty array for an unknown name.
std::string policy_from_config(const reply& config) {
  if (!config.is_array() || config.size() != 2) {
    return {};
  }
  if (config[0].text() != setting_name || !config[1].is_string()) {
    return {};
  }
  return std::string(config[1].text());
}

}  // namespace

std::vector<request> eviction_policy::queries() {
  std::vector<request> commands;
  commands.push_back({"CONFIG", "GET", setting_name});
  commands.push_back({"INFO", "memory"});
  return commands;
}

eviction_policy eviction_policy::from_replies(std::span<const reply> replies) {
  if (!replies.empty()) {
    if (std::string name = policy_from_config(replies[0]); !name.empty()) {
      return eviction_policy(std::move(name));
    }
  }
  if (replies.size() > 1 && replies[1].is_string()) {
    return eviction_policy(parse_info(replies[1].text()));
  }
  return eviction_policy();
}

std::string eviction_policy::parse_info(std::string_view info) {
  while (!info.empty()) {
    const std::size_t end = info.find('\n');
    std::string_view line = info.substr(0, end);
    info = end == std::string_view::npos ? std::string_view{} : info.substr(end + 1);

    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.starts_with(info_field)) {
      return std::string(line.substr(info_field.size()));
    }
  }
  return {};
}

std::string eviction_policy::problem() const {
  if (keeps_keys()) {
    return {};
  }
  if (!is_known()) {
    return "Redis rejected both CONFIG GET maxmemory-policy and INFO memory, so jobgate cannot "
           "check that maxmemory-policy is noeviction. Allow one of these commands for jobgate's "
           "Redis user.";
  }
  return "Redis maxmemory-policy is " + name_ +
         ", but jobgate needs noeviction because other policies delete jobs when memory runs "
         "out. Set maxmemory-policy noeviction.";
}

boost::system::result<eviction_policy> read_eviction_policy(connection& redis) {
  const std::vector<request> commands = eviction_policy::queries();
  auto replies = redis.pipeline(commands);
  if (!replies) {
    return replies.error();
  }
  return eviction_policy::from_replies(*replies);
}

boost::asio::awaitable<boost::system::result<eviction_policy>> async_read_eviction_policy(
    async_connection& redis) {
  auto replies = co_await redis.async_pipeline(eviction_policy::queries());
  if (!replies) {
    co_return replies.error();
  }
  co_return eviction_policy::from_replies(*replies);
}

}  // namespace jobgate::redis
