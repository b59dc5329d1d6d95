#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace jobgate::gateway {

// Limit overrides of a tenant as field name and value, as its tenant record stores them.
using limit_overrides = std::vector<std::pair<std::string, std::string>>;

// An API key that the admin command created, with its tenant's limit overrides.
struct stored_api_key {
  std::string tenant;
  limit_overrides overrides;
};

// The API keys and tenant limits that the admin command keeps in a store shared by every gateway
// replica. Implementations are safe to call from any thread.
class api_key_store {
 public:
  virtual ~api_key_store() = default;

  // Finds a key by its SHA-256 in hex, together with its tenant's overrides. Returns nullopt for
  // an unknown or revoked key; fails when the store cannot be reached or returns something else.
  virtual boost::asio::awaitable<boost::system::result<std::optional<stored_api_key>>> find_key(
      const std::string& key_digest) = 0;

  // The overrides of a tenant, empty when it has none; fails as find_key does.
  virtual boost::asio::awaitable<boost::system::result<limit_overrides>> find_overrides(
      const std::string& tenant) = 0;
};

}  // namespace jobgate::gateway
