#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/redis/reply.hpp"
#include "common/redis/request.hpp"

namespace jobgate::redis {

class async_connection;
class connection;

// A Redis server's maxmemory-policy. jobgate accepts only noeviction, because under any other
// policy a server that reaches maxmemory deletes keys, job hashes among them, to admit writes.
class eviction_policy {
 public:
  // An unknown policy, for a server that rejected both queries.
  eviction_policy() = default;
  explicit eviction_policy(std::string name) : name_(std::move(name)) {}

  // The commands that read the policy, sent as one pipeline. CONFIG GET maxmemory-policy comes
  // first, and INFO memory covers servers where CONFIG is renamed or denied to this user.
  static std::vector<request> queries();
  // Reads the policy from the replies to queries(), in order. Unknown when no reply contains it.
  static eviction_policy from_replies(std::span<const reply> replies);
  // Reads the maxmemory_policy field of an INFO reply, or returns "" when the field is missing.
  static std::string parse_info(std::string_view info);

  // The policy name, such as "allkeys-lru", or "" when unknown.
  const std::string& name() const noexcept { return name_; }
  bool is_known() const noexcept { return !name_.empty(); }
  bool keeps_keys() const noexcept { return name_ == "noeviction"; }
  // The error for operators when keeps_keys() is false, naming the setting, its value and the
  // fix. Empty for noeviction.
  std::string problem() const;

 private:
  std::string name_;
};

// Reads the policy over a blocking connection in one round trip. Fails with the connection's
// transport errors.
boost::system::result<eviction_policy> read_eviction_policy(connection& redis);

// Reads the policy over a shared async connection in one round trip. Fails with the connection's
// transport errors.
boost::asio::awaitable<boost::system::result<eviction_policy>> async_read_eviction_policy(
    async_connection& redis);

}  // namespace jobgate::redis
