#include "common/tenants/tenant_store.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "common/clock.hpp"
#include "common/crypto/sha256.hpp"
#include "common/jobs/store_keys.hpp"
#include "common/redis/connection.hpp"
#include "common/redis/script.hpp"
#include "common/tenants/api_key.hpp"
#include "common/tenants/tenant_limits.hpp"
#include "common/tenants/tenant_name.hpp"

namespace jobgate::tenants {

namespace {

class store_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "jobgate.tenants"; }

  std::string message(int value) const override {
    switch (static_cast<store_errc>(value)) {
      case store_errc::invalid_tenant_name:
        return "invalid tenant name: use 1 to 64 letters, digits, '-' or '_'";
      case store_errc::invalid_limit:
        return "invalid tenant limit";
      case store_errc::invalid_key_id:
        return "invalid API key id: ids are 'key_' and 12 hex digits";
      case store_errc::tenant_exists:
        return "tenant already exists";
      case store_errc::tenant_not_found:
        return "tenant not found";
      case store_errc::key_not_found:
        return "API key not found";
      case store_errc::unexpected_reply:
        return "unexpected reply from Redis";
    }
    return "unknown tenant store error";
  }
};

// Creates the tenant unless it exists. KEYS: tenant hash, its limits hash, the tenants index.
// ARGV: name, createdAt, description, then field and value pairs of its limits. Returns 1, or 0
// when the tenant exists.
constexpr std::string_view create_tenant_script = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'createdAt', ARGV[2], 'description', ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
redis.call('DEL', KEYS[2])
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
return 1
)lua";

// Changes the limits of an existing tenant. KEYS: tenant hash, its limits hash. ARGV: field and
// value pairs, where an empty value removes the field. Returns 1, or 0 when there is no tenant.
constexpr std::string_view change_limits_script = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
for i = 1, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', KEYS[2], ARGV[i])
  else
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  end
end
return 1
)lua";

// Stores a new API key of an existing tenant. KEYS: tenant hash, the key's hash, the tenant's key
// index. ARGV: id, tenant, createdAt, label, digest. Returns 1, 0 when there is no tenant, or -1
// when the id or digest is taken.
constexpr std::string_view create_key_script = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then
  return -1
end
redis.call('HSET', KEYS[2], 'tenant', ARGV[2], 'id', ARGV[1], 'createdAt', ARGV[3],
           'label', ARGV[4])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[5])
return 1
)lua";

// Deletes an API key. KEYS: tenant hash, the tenant's key index. ARGV: id, the prefix of API key
// hashes, to which the script appends the digest it finds in the index. Returns 1, 0 when the
// tenant has no such key, or -1 when there is no tenant.
constexpr std::string_view revoke_key_script = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
local digest = redis.call('HGET', KEYS[2], ARGV[1])
if not digest then
  return 0
end
redis.call('DEL', ARGV[2] .. digest)
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
)lua";

// A fresh id or key collides with a stored one about once in 2^48 creations; a retry settles it.
constexpr int key_create_attempts = 3;

// The scripts, hashed once per process.
struct store_scripts {
  redis::script create_tenant{create_tenant_script};
  redis::script change_limits{change_limits_script};
  redis::script create_key{create_key_script};
  redis::script revoke_key{revoke_key_script};
};

const store_scripts& scripts() {
  static const store_scripts instance;
  return instance;
}

// Runs a script whose reply is an integer and returns it.
boost::system::result<long long> run_counting_script(redis::connection& connection,
                                                     const redis::script& script,
                                                     const std::vector<std::string>& keys,
                                                     const std::vector<std::string>& arguments) {
  auto reply = script.run(connection, std::span<const std::string>(keys),
                          std::span<const std::string>(arguments));
  if (!reply) {
    return reply.error();
  }
  if (!reply->is_integer()) {
    return make_error_code(store_errc::unexpected_reply);
  }
  return reply->integer();
}

std::int64_t to_millis(std::string_view text) {
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::string field_value(const std::vector<std::pair<std::string, std::string>>& fields,
                        std::string_view name) {
  for (const auto& [field, value] : fields) {
    if (field == name) {
      return value;
    }
  }
  return {};
}

// Checks every change again, so a caller that skipped parse_limit_change cannot store a value the
// gateway would ignore.
bool valid_changes(const std::vector<limit_change>& changes) {
  return std::all_of(changes.begin(), changes.end(), [](const limit_change& change) {
    return parse_limit_change(change.name, change.value.value_or("default")).has_value();
  });
}

}  // namespace

const boost::system::error_category& store_category() noexcept {
  static const store_category_impl category;
  return category;
}

boost::system::error_code make_error_code(store_errc value) noexcept {
  return {static_cast<int>(value), store_category()};
}

boost::system::result<limit_change, std::string> parse_limit_change(std::string_view name,
                                                                    std::string_view value) {
  if (find_limit_field(name) == nullptr) {
    return {boost::system::in_place_error, "'" + std::string(name) + "' is not a tenant limit"};
  }
  if (value == "default") {
    return limit_change{std::string(name), std::nullopt};
  }
  tenant_limits scratch;
  const std::vector<std::pair<std::string, std::string>> record = {
      {std::string(name), std::string(value)}};
  if (auto problem = apply_overrides(scratch, record)) {
    return {boost::system::in_place_error, *problem + "; 'default' removes the tenant's own value"};
  }
  return limit_change{std::string(name), std::string(value)};
}

tenant_store::tenant_store(redis::connection& connection) : redis_(connection) {}

boost::system::result<void> tenant_store::create_tenant(const std::string& name,
                                                        const std::string& description,
                                                        const std::vector<limit_change>& limits) {
  if (!is_valid_tenant_name(name)) {
    return make_error_code(store_errc::invalid_tenant_name);
  }
  if (!valid_changes(limits)) {
    return make_error_code(store_errc::invalid_limit);
  }
  std::vector<std::string> arguments = {name, std::to_string(now_millis()), description};
  for (const auto& change : limits) {
    if (change.value) {
      arguments.push_back(change.name);
      arguments.push_back(*change.value);
    }
  }
  const std::vector<std::string> keys = {store_keys::tenant(name), store_keys::tenant_limits(name),
                                         std::string(store_keys::tenants)};
  auto created = run_counting_script(redis_, scripts().create_tenant, keys, arguments);
  if (!created) {
    return created.error();
  }
  if (*created == 0) {
    return make_error_code(store_errc::tenant_exists);
  }
  return {};
}

boost::system::result<void> tenant_store::change_limits(const std::string& name,
                                                        const std::vector<limit_change>& changes) {
  if (!is_valid_tenant_name(name)) {
    return make_error_code(store_errc::invalid_tenant_name);
  }
  if (!valid_changes(changes)) {
    return make_error_code(store_errc::invalid_limit);
  }
  std::vector<std::string> arguments;
  for (const auto& change : changes) {
    arguments.push_back(change.name);
    arguments.push_back(change.value.value_or(""));
  }
  const std::vector<std::string> keys = {store_keys::tenant(name), store_keys::tenant_limits(name)};
  auto changed = run_counting_script(redis_, scripts().change_limits, keys, arguments);
  if (!changed) {
    return changed.error();
  }
  if (*changed == 0) {
    return make_error_code(store_errc::tenant_not_found);
  }
  return {};
}

boost::system::result<tenant_record> tenant_store::find_tenant(const std::string& name) {
  if (!is_valid_tenant_name(name)) {
    return make_error_code(store_errc::invalid_tenant_name);
  }
  const std::array<redis::request, 2> commands = {
      redis::make_request("HGETALL", store_keys::tenant(name)),
      redis::make_request("HGETALL", store_keys::tenant_limits(name))};
  auto replies = redis_.pipeline(commands);
  if (!replies) {
    return replies.error();
  }
  if (!(*replies)[0].is_array() || !(*replies)[1].is_array()) {
    return make_error_code(store_errc::unexpected_reply);
  }
  const auto fields = redis::hash_field_pairs((*replies)[0].view());
  if (fields.empty()) {
    return make_error_code(store_errc::tenant_not_found);
  }
  tenant_record record;
  record.name = name;
  record.description = field_value(fields, "description");
  record.created_at = to_millis(field_value(fields, "createdAt"));
  const auto overrides = redis::hash_field_pairs((*replies)[1].view());
  for (const auto& field : limit_fields()) {
    const std::string value = field_value(overrides, field.name);
    if (!value.empty()) {
      record.overrides.emplace_back(field.name, value);
    }
  }
  return record;
}

boost::system::result<std::vector<tenant_record>> tenant_store::list_tenants() {
  auto names = redis_.command("ZRANGE", store_keys::tenants, "0", "-1", "WITHSCORES");
  if (!names) {
    return names.error();
  }
  if (!names->is_array()) {
    return make_error_code(store_errc::unexpected_reply);
  }
  std::vector<tenant_record> tenants;
  std::vector<redis::request> commands;
  for (std::size_t i = 0; i + 1 < names->size(); i += 2) {
    tenant_record record;
    record.name = std::string((*names)[i].text());
    record.created_at = to_millis((*names)[i + 1].text());
    commands.push_back(redis::make_request("HGET", store_keys::tenant(record.name), "description"));
    tenants.push_back(std::move(record));
  }
  if (commands.empty()) {
    return tenants;
  }
  auto descriptions = redis_.pipeline(commands);
  if (!descriptions) {
    return descriptions.error();
  }
  for (std::size_t i = 0; i < tenants.size(); ++i) {
    tenants[i].description = std::string((*descriptions)[i].text());
  }
  return tenants;
}

boost::system::result<created_api_key> tenant_store::create_key(const std::string& tenant,
                                                                const std::string& label) {
  if (!is_valid_tenant_name(tenant)) {
    return make_error_code(store_errc::invalid_tenant_name);
  }
  for (int attempt = 0; attempt < key_create_attempts; ++attempt) {
    created_api_key created;
    created.key = generate_api_key();
    created.record = {generate_key_id(), tenant, label, now_millis()};
    const std::string digest = crypto::sha256_hex(created.key);
    const std::vector<std::string> keys = {store_keys::tenant(tenant), store_keys::api_key(digest),
                                           store_keys::tenant_api_keys(tenant)};
    const std::vector<std::string> arguments = {
        created.record.id, tenant, std::to_string(created.record.created_at), label, digest};
    auto stored = run_counting_script(redis_, scripts().create_key, keys, arguments);
    if (!stored) {
      return stored.error();
    }
    if (*stored == 0) {
      return make_error_code(store_errc::tenant_not_found);
    }
    if (*stored == 1) {
      return created;
    }
  }
  return make_error_code(store_errc::unexpected_reply);
}

boost::system::result<std::vector<api_key_record>> tenant_store::list_keys(
    const std::string& tenant) {
  if (!is_valid_tenant_name(tenant)) {
    return make_error_code(store_errc::invalid_tenant_name);
  }
  const std::array<redis::request, 2> lookups = {
      redis::make_request("EXISTS", store_keys::tenant(tenant)),
      redis::make_request("HGETALL", store_keys::tenant_api_keys(tenant))};
  auto found = redis_.pipeline(lookups);
  if (!found) {
    return found.error();
  }
  if (!(*found)[0].is_integer() || !(*found)[1].is_array()) {
    return make_error_code(store_errc::unexpected_reply);
  }
  if ((*found)[0].integer() == 0) {
    return make_error_code(store_errc::tenant_not_found);
  }
  std::vector<redis::request> commands;
  for (const auto& [id, digest] : redis::hash_field_pairs((*found)[1].view())) {
    commands.push_back(redis::make_request("HMGET", store_keys::api_key(digest), "id", "tenant",
                                           "label", "createdAt"));
  }
  std::vector<api_key_record> records;
  if (commands.empty()) {
    return records;
  }
  auto details = redis_.pipeline(commands);
  if (!details) {
    return details.error();
  }
  for (const auto& detail : *details) {
    // An index entry without its key hash is skipped: the key no longer authenticates.
    if (detail.size() != 4 || detail[0].is_nil()) {
      continue;
    }
    records.push_back({std::string(detail[0].text()), std::string(detail[1].text()),
                       std::string(detail[2].text()), to_millis(detail[3].text())});
  }
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
    return a.created_at != b.created_at ? a.created_at < b.created_at : a.id < b.id;
  });
  return records;
}

boost::system::result<void> tenant_store::revoke_key(const std::string& tenant,
                                                     const std::string& id) {
  if (!is_valid_tenant_name(tenant)) {
    return make_error_code(store_errc::invalid_tenant_name);
  }
  if (!is_valid_key_id(id)) {
    return make_error_code(store_errc::invalid_key_id);
  }
  const std::vector<std::string> keys = {store_keys::tenant(tenant),
                                         store_keys::tenant_api_keys(tenant)};
  const std::vector<std::string> arguments = {id, store_keys::api_key("")};
  auto revoked = run_counting_script(redis_, scripts().revoke_key, keys, arguments);
  if (!revoked) {
    return revoked.error();
  }
  if (*revoked == -1) {
    return make_error_code(store_errc::tenant_not_found);
  }
  if (*revoked == 0) {
    return make_error_code(store_errc::key_not_found);
  }
  return {};
}

}  // namespace jobgate::tenants
