#include "gateway/tenant_directory.hpp"

#include <vector>

#include "common/log/logger.hpp"

namespace jobgate::gateway {

namespace asio = boost::asio;

tenant_directory::tenant_directory(const tenants::tenant_limits& defaults,
                                   const std::map<std::string, std::string>& static_keys,
                                   api_key_store& store, tenant_directory_options options)
    : defaults_(defaults), static_keys_(static_keys), store_(store), options_(options) {}

asio::awaitable<boost::system::result<tenant_directory::lookup>> tenant_directory::find(
    const std::string& key_digest) {
  if (auto hit = cached(key_digest, clock::now())) {
    co_return lookup{std::move(hit->identity), false};
  }

  // A key of the api-keys setting needs only its tenant's overrides from the store.
  std::optional<tenant_identity> identity;
  if (const auto configured = static_keys_.find(key_digest); configured != static_keys_.end()) {
    auto overrides = co_await store_.find_overrides(configured->second);
    if (!overrides) {
      co_return overrides.error();
    }
    identity = tenant_identity{configured->second, apply(configured->second, *overrides)};
  } else {
    auto stored = co_await store_.find_key(key_digest);
    if (!stored) {
      co_return stored.error();
    }
    if (*stored) {
      identity = tenant_identity{(*stored)->tenant, apply((*stored)->tenant, (*stored)->overrides)};
    }
  }

  remember(key_digest, identity, clock::now());
  co_return lookup{std::move(identity), true};
}

std::optional<tenant_directory::entry> tenant_directory::cached(const std::string& key_digest,
                                                                clock::time_point now) {
  std::lock_guard lock(mutex_);
  const auto found = entries_.find(key_digest);
  if (found == entries_.end()) {
    return std::nullopt;
  }
  if (found->second.expires <= now) {
    entries_.erase(found);
    return std::nullopt;
  }
  return found->second;
}

void tenant_directory::remember(const std::string& key_digest,
                                const std::optional<tenant_identity>& identity,
                                clock::time_point now) {
  const auto ttl = identity ? options_.found_ttl : options_.unknown_ttl;
  std::lock_guard lock(mutex_);
  if (entries_.size() >= options_.max_entries && !entries_.contains(key_digest)) {
    std::erase_if(entries_, [now](const auto& item) { return item.second.expires <= now; });
    // Many live entries means many distinct keys, most likely guesses: any one may go.
    if (entries_.size() >= options_.max_entries && !entries_.empty()) {
      entries_.erase(entries_.begin());
    }
  }
  entries_.insert_or_assign(key_digest, entry{identity, now + ttl});
}

tenants::tenant_limits tenant_directory::apply(const std::string& tenant,
                                               const limit_overrides& overrides) const {
  tenants::tenant_limits limits = defaults_;
  // Each field on its own, so one invalid stored value leaves the others in force.
  for (const auto& field : overrides) {
    const std::vector<std::pair<std::string, std::string>> single = {field};
    if (const auto problem = tenants::apply_overrides(limits, single)) {
      log::logger().warn("ignoring invalid tenant limit in Redis",
                         {{"tenant", tenant}, {"problem", *problem}});
    }
  }
  return limits;
}

}  // namespace jobgate::gateway
