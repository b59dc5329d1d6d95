#pragma once

#include <initializer_list>
#include <string_view>

#include "common/redis/request.hpp"

// Lua scripts that change job state in Redis. Each runs atomically on the server, so a state
// change, its counters and its checkpoint are applied together or not at all.
namespace jobgate::job_scripts {

// KEYS: job hash, tenant's job index. ARGV: created-at millis, then field/value pairs.
// Returns 1 when created, 0 when the job already exists.
extern const std::string_view create_job;

// KEYS: job hash. ARGV: now millis.
// Moves PENDING or PROCESSING (a redelivery) to PROCESSING and increments attempts. Returns
// {"started", attempts, checkpoint offset, row, line, created, updated, failed, skipped, processed}
// or {"status", current status} when the job is terminal, or {"missing"}.
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

// KEYS: job hash, errors list. ARGV: attempt, DONE or FAILED, now, retention millis, then
// field/value pairs. Ends a PROCESSING (or, for FAILED, PENDING) job owned by this attempt and sets
// its expiry.
extern const std::string_view finish_job;

// KEYS: job hash, errors list. ARGV: now, retention millis.
// Moves PENDING or PROCESSING to CANCELED. Returns {"ok", previous status} or {"status", s}.
extern const std::string_view cancel_job;

// Builds an EVAL command of a script with its keys; the caller appends the arguments. Redis caches
// the compiled script by its digest, so repeated EVALs compile it once.
redis::request eval_command(std::string_view script, std::initializer_list<std::string_view> keys);

}  // namespace jobgate::job_scripts
