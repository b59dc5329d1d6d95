#pragma once

#include <initializer_list>
#include <string_view>

#include "common/redis/request.hpp"

// Lua scripts that change job state in Redis. Each runs atomically on the server, so a state
// change, its counters and its checkpoint are applied together or not at all. Every script that
// changes a job's status or row counts also updates the Redis-wide totals in store_keys::job_stats.
namespace jobgate::job_scripts {

// KEYS: job hash, tenant's job index, unqueued jobs. ARGV: created-at millis, the time after which
// a worker produces the job's message if the gateway did not confirm it, then field/value pairs.
// Returns 1 when created, 0 when the job already exists.
extern const std::string_view create_job;

// KEYS: job hash, tenant's job index, unqueued jobs. Deletes a job that was never queued, with its
// index entries and its share of the job stats. Returns 1.
extern const std::string_view delete_job;

// KEYS: job hash, running leases, unqueued jobs. ARGV: now millis, lease millis.
// Moves PENDING or PROCESSING (a redelivery) to PROCESSING, increments attempts and takes the
// lease. Returns
// {"started", attempts, checkpoint offset, row, line, created, updated, failed, skipped, processed}
// or {"status", current status, attempts} when the job is terminal, or {"missing"}.
extern const std::string_view start_job;

// KEYS: job hash. ARGV: attempt, now, then field/value pairs.
// Sets fields of a PROCESSING job owned by this attempt. Returns {"ok"}, {"status", s} or
// {"fenced", attempts}.
extern const std::string_view update_job;

// KEYS: job hash, errors list, unique index hash, record id sorted set, record id counter.
// ARGV: attempt, checkpoint offset before the batch, new offset, new row, new line, now, record key
// prefix, unique property name, then rows: "v" key count name value ..., "r" error-json, or "b".
// Applies the batch and moves the checkpoint. Returns {"ok"}, {"status", s}, {"fenced", attempts}
// or {"stale", stored offset} when the batch does not start at the stored checkpoint.
extern const std::string_view apply_import_batch;

// KEYS: job hash, errors list, tombstone, running leases, expiring jobs. ARGV: attempt, DONE or
// FAILED, now, retention millis, then field/value pairs. Ends a PROCESSING job owned by this
// attempt, sets its expiry, drops its lease, and leaves a tombstone that outlives it by 30 days.
extern const std::string_view finish_job;

// KEYS: job hash, errors list, tombstone, running leases, expiring jobs. ARGV: now, retention
// millis. Moves PENDING or PROCESSING to CANCELED, and out of its tenant's deferred set. Returns
// {"ok", previous status} or
// {"status", s}.
extern const std::string_view cancel_job;

// KEYS: job hash, running leases. ARGV: attempt, now, lease millis.
// Extends the lease of a PROCESSING job owned by this attempt. Returns {"ok"}, {"status", s} or
// {"fenced", attempts}.
extern const std::string_view renew_lease;

// KEYS: a sorted set scored by due time. ARGV: now, hold millis, most members.
// Returns the members due by now and moves each to now + hold, so concurrent sweepers do not take
// the same member, and a sweeper that dies leaves it due again later.
extern const std::string_view claim_due;

// KEYS: job hash, running leases, unqueued jobs. ARGV: now.
// Takes over a PROCESSING job whose lease lapsed: back to PENDING with lastError set, out of the
// leases, into the unqueued jobs due at once, so its message is produced again. The next start
// increments attempts, which fences the old owner. Returns {"taken", attempt of the old owner},
// {"alive"} when the lease was renewed meanwhile, or {"gone"} when the job is no longer running.
extern const std::string_view take_over_job;

// KEYS: job hash, tenant's running set and deferred set of the job's kind, tenant's limits hash.
// ARGV: job id, cap field (e.g. "running-imports"), default cap, now, "KIND:TENANT", millis after
// which a sweeper produces the message of a promoted job. Admits a PENDING job under its tenant's
// running-jobs cap. Returns {"run", promoted ids...} when the job may start, or {"deferred",
// queue position, cap, promoted ids...} when it waits in the deferred set. Jobs that are not
// PENDING, or already hold a place, run. Promoted ids are jobs that took a free place and whose
// message the caller produces again.
extern const std::string_view admit_job;

// KEYS: running set, deferred set, tenant's limits hash. ARGV: job id ("" for none), cap field,
// default cap, now, "KIND:TENANT", resend millis as for admit_job. Frees the job's place and
// promotes the oldest deferred jobs into the free places. Returns the promoted ids.
extern const std::string_view release_job;

// KEYS: tenant's job index. ARGV: highest score (a number, or "(" and a number for exclusive),
// lowest score, id after which to start among entries scored exactly at the highest score ("" for
// none), page size, job id prefix ("" for any kind), comma-separated statuses ("" for any), the
// most index entries to examine.
// Walks the index newest first and returns {cursor score, cursor id, hash1, hash2, ...} with up to
// page size jobs as flat HGETALL arrays. The cursor is empty when the range is exhausted. Index
// entries whose job expired are removed on the way.
extern const std::string_view list_jobs;

// KEYS: idempotency hash. ARGV: request fingerprint, claim lifetime millis.
// Claims the key for a request in flight. Returns {"claimed"}; {"mismatch"} when the key belongs to
// a request with another fingerprint; {"in_flight"} while the first request is still running; or
// {"replay", status, body, location} once its response is stored.
extern const std::string_view claim_idempotency_key;
// KEYS: idempotency hash. ARGV: fingerprint, status, body, location, lifetime millis.
// Stores the response of the claimed request for replays. Returns 1, or 0 when the claim is gone.
extern const std::string_view complete_idempotency_key;
// KEYS: idempotency hash. ARGV: fingerprint.
// Drops a claim whose request failed, so a retry with the key runs again. Returns 1 or 0.
extern const std::string_view release_idempotency_key;

// Builds an EVAL command of a script with its keys; the caller appends the arguments. Redis caches
// the compiled script by its digest, so repeated EVALs compile it once.
redis::request eval_command(std::string_view script, std::initializer_list<std::string_view> keys);

}  // namespace jobgate::job_scripts
