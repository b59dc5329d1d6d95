#pragma once

#include <string>
#include <string_view>

// Redis key layout, in one place for the gateway, the workers and the tests.
namespace jobgate::store_keys {

// The start of every job's hash key.
inline constexpr std::string_view job_prefix = "jg:job:";

// Hash with the fields of one job.
inline std::string job(std::string_view id) {
  return std::string(job_prefix) + std::string(id);
}

// Returns the job id in the key of a job's hash. Every other key gives an empty id, also the keys
// below a job's own, such as its list of rejected rows.
inline std::string_view job_id_of(std::string_view key) {
  if (!key.starts_with(job_prefix) || key.find(':', job_prefix.size()) != std::string_view::npos) {
    return {};
  }
  return key.substr(job_prefix.size());
}

// List of an import's rejected rows, JSON objects in file order.
inline std::string job_errors(std::string_view id) {
  return "jg:job:" + std::string(id) + ":errors";
}

// Sorted set of a tenant's job ids scored by creation time in milliseconds.
inline std::string tenant_jobs(std::string_view tenant) {
  return "jg:jobs:" + std::string(tenant);
}

// Prefix of record hashes; the record id follows.
inline std::string record_prefix(std::string_view tenant, std::string_view object_type) {
  return "jg:rec:" + std::string(tenant) + ":" + std::string(object_type) + ":";
}

// Hash from a normalised unique value (email, domain) to the record id.
inline std::string unique_index(std::string_view tenant, std::string_view object_type) {
  return "jg:uniq:" + std::string(tenant) + ":" + std::string(object_type);
}

// Sorted set of record ids scored by id, so exports read records in creation order.
inline std::string record_ids(std::string_view tenant, std::string_view object_type) {
  return "jg:recs:" + std::string(tenant) + ":" + std::string(object_type);
}

// Counter that hands out record ids.
inline std::string record_sequence(std::string_view tenant, std::string_view object_type) {
  return "jg:seq:" + std::string(tenant) + ":" + std::string(object_type);
}

// String holding the tenant of a job that finished, kept after the job expired, so that a read of
// its result can tell "expired" from "never existed".
inline std::string job_tombstone(std::string_view id) {
  return "jg:gone:" + std::string(id);
}

// Hash from property name to the JSON definition of a tenant's custom property.
inline std::string custom_properties(std::string_view tenant, std::string_view object_type) {
  return "jg:props:" + std::string(tenant) + ":" + std::string(object_type);
}

// Hash that records a POST sent with an Idempotency-Key: the request's fingerprint, whether it is
// still in flight, and the response to replay. The key's SHA-256 stands for the key itself.
inline std::string idempotency(std::string_view tenant, std::string_view key_digest) {
  return "jg:idem:" + std::string(tenant) + ":" + std::string(key_digest);
}

// String containing the GCRA bucket of one API key for one limit kind ("submit" or "read"): the
// time in microseconds of Redis's clock at which the bucket is full again. It expires at that time.
inline std::string rate_limit(std::string_view kind, std::string_view key_digest) {
  return "jg:rl:" + std::string(kind) + ":" + std::string(key_digest);
}

// The daily_quota key without its day. The quota script appends the UTC day of Redis's clock.
inline std::string daily_quota_prefix(std::string_view tenant, std::string_view quota) {
  return "jg:quota:" + std::string(tenant) + ":" + std::string(quota) + ":";
}

// String counting what a tenant used of a daily quota ("rows" or "exports") on one UTC day, given
// as YYYYMMDD. It expires at 00:00:00 UTC after that day.
inline std::string daily_quota(std::string_view tenant, std::string_view quota,
                               std::string_view day) {
  return daily_quota_prefix(tenant, quota) + std::string(day);
}

// Sorted set of tenant names scored by creation time in milliseconds, the tenants that the admin
// command created. Tenants named in the gateway's api-keys setting need no entry.
inline constexpr std::string_view tenants = "jg:tenants";

// Hash with a tenant's own fields: createdAt (millis) and an optional description.
inline std::string tenant(std::string_view name) {
  return "jg:tenant:" + std::string(name);
}

// Hash with the limits a tenant has of its own, named as in tenants::limit_fields(); a field that
// is absent takes the deployment default.
inline std::string tenant_limits(std::string_view name) {
  return "jg:tenant-limits:" + std::string(name);
}

// Hash describing one API key by the SHA-256 of the key in hex: tenant, id (the key's public
// name), createdAt (millis) and label. The key itself is never stored.
inline std::string api_key(std::string_view key_digest) {
  return "jg:apikey:" + std::string(key_digest);
}

// Hash from the public id of each of a tenant's API keys to the key's SHA-256 in hex.
inline std::string tenant_api_keys(std::string_view name) {
  return "jg:tenant-keys:" + std::string(name);
}

// Sorted set of the job ids of one kind that run for a tenant, or were picked to run next, and so
// count against its running-jobs cap. Scored by the time they took the place (millis).
inline std::string running_jobs(std::string_view kind, std::string_view tenant) {
  return "jg:running:" + std::string(kind) + ":" + std::string(tenant);
}

// Sorted set of the PENDING job ids of one kind that wait because their tenant is at its
// running-jobs cap, scored by creation time, so the oldest runs first.
inline std::string deferred_jobs(std::string_view kind, std::string_view tenant) {
  return "jg:deferred:" + std::string(kind) + ":" + std::string(tenant);
}

// Hash from "KIND:TENANT" to the number of that tenant's jobs waiting for its running-jobs cap.
inline constexpr std::string_view deferred_counts = "jg:deferred-counts";

// Sorted set of PROCESSING job ids scored by the time their lease lapses (millis). A worker renews
// the lease while its job makes progress; any worker takes over a job whose lease lapsed.
inline constexpr std::string_view running_leases = "jg:leases";

// Sorted set of PENDING job ids whose message the broker has not acknowledged yet, scored by the
// time after which a worker produces the message itself (millis). The gateway removes the id once
// the broker acknowledged; a lease takeover adds it again, due at once.
inline constexpr std::string_view unqueued_jobs = "jg:unqueued";

// Sorted set of "TENANT/ID" entries of terminal jobs scored by their expiry (millis), so a sweep
// removes expired jobs from their tenant's index.
inline constexpr std::string_view expiring_jobs = "jg:expiring";

// Pub/sub channel on which the job store's scripts publish the id of every job they change; the
// Lua in job_scripts.cpp spells it out too.
inline constexpr std::string_view job_changes_channel = "jg:job-changes";

// Hash of Redis-wide job totals per kind, such as "imports:PENDING", "imports:PROCESSING" and
// "imports:rows" (rows of active imports still to process). The job store's scripts update it,
// and the Lua in job_scripts.cpp spells the key out too.
inline constexpr std::string_view job_stats = "jg:job-stats";

// Hash with the fields of one webhook subscription.
inline std::string webhook(std::string_view id) {
  return "jg:wh:" + std::string(id);
}

// Sorted set of a tenant's webhook subscription ids scored by creation time in milliseconds.
inline std::string tenant_webhooks(std::string_view tenant) {
  return "jg:whs:" + std::string(tenant);
}

// Hash with the secret, and during a rotation the previous secret, that signs the callbacks of a
// tenant's jobs submitted with a callbackUrl.
inline std::string callback_secret(std::string_view tenant) {
  return "jg:whcb:" + std::string(tenant);
}

// The subscription id under which deliveries to a job's callbackUrl are logged.
inline constexpr std::string_view callback_subscription = "callbacks";

// Hash of one delivery: one event for one subscription, with the exact body every attempt sends.
inline std::string webhook_delivery(std::string_view id) {
  return "jg:whd:" + std::string(id);
}

// List of a delivery's attempts, JSON objects oldest first.
inline std::string webhook_attempts(std::string_view delivery_id) {
  return "jg:whd:" + std::string(delivery_id) + ":attempts";
}

// Sorted set of a subscription's delivery ids scored by creation time: its delivery log.
inline std::string webhook_log(std::string_view tenant, std::string_view subscription_id) {
  return "jg:whl:" + std::string(tenant) + ":" + std::string(subscription_id);
}

// Sorted set of pending delivery ids scored by the time their next attempt is due (millis).
inline constexpr std::string_view due_deliveries = "jg:wh-due";

// Hash from a worker process's id to its last slot report (see common/jobs/worker_slots.hpp).
inline constexpr std::string_view worker_slots = "jg:worker-slots";

// Sorted set of worker process ids scored by the time their slot report lapses (millis).
inline constexpr std::string_view worker_slot_lapses = "jg:worker-slot-lapses";

}  // namespace jobgate::store_keys
