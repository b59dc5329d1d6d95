#pragma once

#include <string_view>

// Lua scripts for webhook subscriptions and deliveries. The key prefixes they build inside match
// store_keys.hpp; everything lives on one Redis, which they assume.
namespace jobgate::webhook_scripts {

// KEYS: subscription hash, tenant's subscription index. ARGV: max subscriptions per tenant,
// created-at millis, id, then field/value pairs. Returns 1 when created, 0 when the tenant has the
// max subscriptions already.
extern const std::string_view create_subscription;

// KEYS: a hash holding `secret` (a subscription, or a tenant's callback secret). ARGV: new secret,
// now millis, overlap millis. Keeps the current secret as `previousSecret` until now + overlap and
// stores the new one. Returns 1, or 0 when the hash does not exist and `create` (ARGV[4]) is not 1.
extern const std::string_view rotate_secret;

// KEYS: tenant's subscription index, the job hash, pending deliveries. ARGV: event id, event type,
// job kind, job id, body, now millis, retention millis, tenant, max log entries per subscription,
// the event message's traceparent ("" for none).
// Creates one pending delivery per enabled subscription whose events and kinds match, and one for
// the job's callbackUrl, each due now. A delivery that exists already is left alone, so an event
// emitted again keeps its first body. Returns the number of deliveries created.
extern const std::string_view fan_out_event;

// KEYS: delivery hash, its attempts list, pending deliveries, the subscription hash.
// ARGV: delivery id, now millis, outcome, attempt JSON, status code, error, next attempt millis,
// disable-after millis (0 never), sentence for the disabling, retention millis.
// Outcomes: "succeeded"; "retry" (due again at the next attempt time); "exhausted" (no attempt
// left); "gone" (410: the subscription is disabled); "dropped" (no attempt made, ARGV[6] is
// the reason); "forget" (removes a delivery that is no longer pending from the due set, nothing
// else). A failed attempt starts the subscription's failing period; once it lasted disable-after,
// the subscription is disabled. Returns {"succeeded"}, {"retry"}, {"failed"}, {"disabled"} or
// {"stale"} when the delivery is no longer pending.
extern const std::string_view record_attempt;

// KEYS: delivery hash, pending deliveries. ARGV: now millis, tenant, subscription id.
// Makes a finished delivery pending again, due now, for one more attempt. Returns {"queued"},
// {"pending"} when it is pending already, or {"missing"}.
extern const std::string_view redeliver;

}  // namespace jobgate::webhook_scripts
