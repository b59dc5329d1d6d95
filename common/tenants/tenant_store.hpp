#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace jobgate::redis {
class connection;
}

namespace jobgate::tenants {

// Failures of tenant_store besides the Redis transport errors, which it passes on unchanged.
enum class store_errc {
  invalid_tenant_name = 1,
  invalid_limit,
  invalid_key_id,
  tenant_exists,
  tenant_not_found,
  key_not_found,
  // Redis returned an error reply or a reply of another shape than the command has.
  unexpected_reply,
};

const boost::system::error_category& store_category() noexcept;
boost::system::error_code make_error_code(store_errc value) noexcept;

// A tenant created with the admin command.
struct tenant_record {
  std::string name;
  std::string description;
  std::int64_t created_at = 0;  // milliseconds since the epoch
  // The limits the tenant has of its own as field name and decimal value, in the order of
  // limit_fields(). Empty in listings.
  std::vector<std::pair<std::string, std::string>> overrides;
};

// The stored fields of an API key, which never include the key itself.
struct api_key_record {
  std::string id;
  std::string tenant;
  std::string label;
  std::int64_t created_at = 0;  // milliseconds since the epoch
};

// A key that create_key() made: the only time the key itself is available.
struct created_api_key {
  std::string key;
  api_key_record record;
};

// A change of one limit field: a decimal value sets the tenant's own limit, nullopt removes it so
// the deployment default applies again.
struct limit_change {
  std::string name;
  std::optional<std::string> value;
};

// Parses the value of a limit option: "default" becomes nullopt, anything else must be a whole
// number within the field's bounds. Returns the change, or a sentence naming the invalid part.
boost::system::result<limit_change, std::string> parse_limit_change(std::string_view name,
                                                                    std::string_view value);

// Tenant records, their limit overrides and their API keys in Redis, in the layout of
// store_keys.hpp. Each change runs as one Lua script, so concurrent admin commands and gateways
// never see half of it. Calls block, and use the connection from the calling thread only.
//
// Every function fails with the connection's transport errors, with unexpected_reply, or with the
// store_errc values its comment names.
class tenant_store {
 public:
  explicit tenant_store(redis::connection& connection);

  // Creates a tenant with its own limits. Fails with invalid_tenant_name, invalid_limit or
  // tenant_exists.
  boost::system::result<void> create_tenant(const std::string& name, const std::string& description,
                                            const std::vector<limit_change>& limits);
  // Sets and removes limit overrides of a tenant. Fails with invalid_tenant_name, invalid_limit
  // or tenant_not_found.
  boost::system::result<void> change_limits(const std::string& name,
                                            const std::vector<limit_change>& changes);
  // Fails with invalid_tenant_name or tenant_not_found.
  boost::system::result<tenant_record> find_tenant(const std::string& name);
  // Every tenant by creation time, without overrides.
  boost::system::result<std::vector<tenant_record>> list_tenants();

  // Creates an API key for an existing tenant and stores its SHA-256 only. Fails with
  // invalid_tenant_name or tenant_not_found.
  boost::system::result<created_api_key> create_key(const std::string& tenant,
                                                    const std::string& label);
  // The tenant's keys by creation time. Fails with invalid_tenant_name or tenant_not_found.
  boost::system::result<std::vector<api_key_record>> list_keys(const std::string& tenant);
  // Deletes a key, so the gateways reject it once their cache entry expires. Fails with
  // invalid_tenant_name, invalid_key_id, tenant_not_found or key_not_found.
  boost::system::result<void> revoke_key(const std::string& tenant, const std::string& id);

 private:
  redis::connection& redis_;
};

}  // namespace jobgate::tenants

namespace boost::system {

template <>
struct is_error_code_enum<jobgate::tenants::store_errc> : std::true_type {};

}  // namespace boost::system
