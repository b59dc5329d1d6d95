#include "common/jobs/job_scripts.hpp"

#include <algorithm>
#include <array>

namespace jobgate::job_scripts {

namespace {

// Lua functions that the job scripts share. settle_stats keeps the hash jg:job-stats in step with
// one job, for the gauges of pending and running jobs and of rows left to import. Fields are
// "KIND:PENDING" and "KIND:PROCESSING" (jobs in that status) and "KIND:rows" (rowsTotal minus
// rowsProcessed of active jobs whose total is known). The job hash stores what it contributes in
// statsStatus and statsRows, so every script that changes a job calls it once at the end and
// only the difference is applied. `deleting` is true when the job is about to be deleted.
constexpr char job_functions_lua[] = R"lua(
local function settle_stats(key, deleting)
  local job = redis.call('HMGET', key, 'kind', 'status', 'rowsTotal', 'rowsProcessed',
                         'statsStatus', 'statsRows')
  if not job[1] then
    return
  end
  local active = not deleting and (job[2] == 'PENDING' or job[2] == 'PROCESSING')
  local counted_status = job[5] or ''
  local status = active and job[2] or ''
  if counted_status ~= status then
    if counted_status ~= '' then
      redis.call('HINCRBY', 'jg:job-stats', job[1] .. ':' .. counted_status, -1)
    end
    if status ~= '' then
      redis.call('HINCRBY', 'jg:job-stats', job[1] .. ':' .. status, 1)
    end
  end
  local rows = 0
  local total = tonumber(job[3] or '-1') or -1
  if active and total >= 0 then
    rows = math.max(0, total - (tonumber(job[4] or '0') or 0))
  end
  local counted_rows = tonumber(job[6] or '0') or 0
  if rows ~= counted_rows then
    redis.call('HINCRBY', 'jg:job-stats', job[1] .. ':rows', rows - counted_rows)
  end
  if active then
    redis.call('HSET', key, 'statsStatus', status, 'statsRows', rows)
  elseif counted_status ~= '' or counted_rows ~= 0 then
    redis.call('HDEL', key, 'statsStatus', 'statsRows')
  end
end

-- Ends a job whose final fields are set, with KEYS as finish_job and cancel_job take them: job
-- hash, errors list, tombstone, running leases, expiring jobs. Both expire after `retention`
-- millis, and the tombstone outlives them by 30 days, so late reads learn that the job expired.
local function end_job(now, retention)
  local tombstone_ms = 2592000000
  redis.call('PEXPIRE', KEYS[1], retention)
  if redis.call('EXISTS', KEYS[2]) == 1 then
    redis.call('PEXPIRE', KEYS[2], retention)
  end
  local tenant = redis.call('HGET', KEYS[1], 'tenant')
  local id = string.sub(KEYS[1], 8)
  redis.call('SET', KEYS[3], tenant, 'PX', retention + tombstone_ms)
  redis.call('HDEL', KEYS[1], 'leaseUntil')
  settle_stats(KEYS[1], false)
  redis.call('ZREM', KEYS[4], id)
  redis.call('ZADD', KEYS[5], now + retention, tenant .. '/' .. id)
  redis.call('PUBLISH', 'jg:job-changes', id)
end
)lua";

// The text of shared Lua functions followed by a script's own text, as one constant array.
template <std::size_t FunctionsSize, std::size_t Size>
constexpr auto concatenate(const char (&functions)[FunctionsSize], const char (&script)[Size]) {
  std::array<char, FunctionsSize - 1 + Size> text{};
  std::copy_n(functions, FunctionsSize - 1, text.begin());
  std::copy_n(script, Size, text.begin() + FunctionsSize - 1);
  return text;
}

// The text of job_functions_lua followed by a script's own text.
template <std::size_t Size>
constexpr auto with_job_functions(const char (&script)[Size]) {
  return concatenate(job_functions_lua, script);
}

// A view of a script text without its terminating NUL.
template <std::size_t Size>
constexpr std::string_view script_view(const std::array<char, Size>& text) {
  return std::string_view(text.data(), Size - 1);
}

}  // namespace

constexpr auto create_job_text = with_job_functions(R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local fields = {}
for i = 3, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
redis.call('HSET', KEYS[1], unpack(fields))
local id = redis.call('HGET', KEYS[1], 'id')
redis.call('ZADD', KEYS[2], ARGV[1], id)
redis.call('ZADD', KEYS[3], ARGV[2], id)
settle_stats(KEYS[1], false)
return 1
)lua");
const std::string_view create_job = script_view(create_job_text);

constexpr auto delete_job_text = with_job_functions(R"lua(
settle_stats(KEYS[1], true)
local id = string.sub(KEYS[1], 8)
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], id)
redis.call('ZREM', KEYS[3], id)
return 1
)lua");
const std::string_view delete_job = script_view(delete_job_text);

constexpr auto start_job_text = with_job_functions(R"lua(
local status = redis.call('HGET', KEYS[1], 'status')
if not status then
  return {'missing'}
end
if status ~= 'PENDING' and status ~= 'PROCESSING' then
  return {'status', status, tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0') or 0}
end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
local lease_until = tonumber(ARGV[1]) + tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'status', 'PROCESSING', 'updatedAt', ARGV[1], 'leaseUntil',
           tostring(lease_until))
local id = string.sub(KEYS[1], 8)
redis.call('ZADD', KEYS[2], lease_until, id)
redis.call('ZREM', KEYS[3], id)
if (tonumber(redis.call('HGET', KEYS[1], 'startedAt') or '0') or 0) == 0 then
  redis.call('HSET', KEYS[1], 'startedAt', ARGV[1])
end
settle_stats(KEYS[1], false)
redis.call('PUBLISH', 'jg:job-changes', id)
local job = redis.call('HMGET', KEYS[1], 'ckOffset', 'ckRow', 'ckLine', 'created', 'updated',
                       'failed', 'skippedBlank', 'rowsProcessed')
local result = {'started', attempts}
for i = 1, #job do
  result[#result + 1] = tonumber(job[i] or '0') or 0
end
return result
)lua");
const std::string_view start_job = script_view(start_job_text);

constexpr auto update_job_text = with_job_functions(R"lua(
local job = redis.call('HMGET', KEYS[1], 'status', 'attempts')
if not job[1] then
  return {'missing'}
end
if job[1] ~= 'PROCESSING' then
  return {'status', job[1]}
end
if job[2] ~= ARGV[1] then
  return {'fenced', job[2]}
end
local fields = {'updatedAt', ARGV[2]}
for i = 3, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
redis.call('HSET', KEYS[1], unpack(fields))
settle_stats(KEYS[1], false)
redis.call('PUBLISH', 'jg:job-changes', string.sub(KEYS[1], 8))
return {'ok'}
)lua");
const std::string_view update_job = script_view(update_job_text);

constexpr auto apply_import_batch_text = with_job_functions(R"lua(
local job = redis.call('HMGET', KEYS[1], 'status', 'attempts', 'ckOffset')
if not job[1] then
  return {'missing'}
end
if job[1] ~= 'PROCESSING' then
  return {'status', job[1]}
end
if job[2] ~= ARGV[1] then
  return {'fenced', job[2]}
end
if (job[3] or '0') ~= ARGV[2] then
  return {'stale', job[3] or '0'}
end

local now = ARGV[6]
local prefix = ARGV[7]
local unique_property = ARGV[8]
-- Lua's unpack() fails past a few thousand values, so long argument lists go in chunks.
local chunk = 1000
local function call_in_chunks(command, key, list, width)
  local results = {}
  for first = 1, #list, chunk * width do
    local last = math.min(first + chunk * width - 1, #list)
    local reply = redis.call(command, key, unpack(list, first, last))
    if type(reply) == 'table' then
      for _, value in ipairs(reply) do
        results[#results + 1] = value
      end
    end
  end
  return results
end

-- The unique keys of the batch's value rows, looked up with one HMGET per chunk.
local keys = {}
local i = 9
while i <= #ARGV do
  local kind = ARGV[i]
  if kind == 'v' then
    keys[#keys + 1] = ARGV[i + 1]
    i = i + 3 + 2 * tonumber(ARGV[i + 2])
  elseif kind == 'r' then
    i = i + 2
  else
    i = i + 1
  end
end
local ids = {}
local new_keys = 0
if #keys > 0 then
  local found = {}
  for first = 1, #keys, chunk do
    local part = redis.call('HMGET', KEYS[3], unpack(keys, first, math.min(first + chunk - 1, #keys)))
    for n = 1, #part do
      found[first + n - 1] = part[n]
    end
  end
  for n = 1, #keys do
    if found[n] then
      ids[keys[n]] = found[n]
    elseif ids[keys[n]] == nil then
      ids[keys[n]] = false
      new_keys = new_keys + 1
    end
  end
end
-- New records take consecutive ids from one INCRBY.
local next_id = 0
if new_keys > 0 then
  next_id = redis.call('INCRBY', KEYS[5], new_keys) - new_keys
end

local created, updated, failed, blank = 0, 0, 0, 0
local index_entries, id_entries, error_entries = {}, {}, {}
i = 9
while i <= #ARGV do
  local kind = ARGV[i]
  if kind == 'v' then
    local key = ARGV[i + 1]
    local count = tonumber(ARGV[i + 2])
    -- One unpack copies the row's property and value pairs; the fields the script owns come
    -- after them, so they win over a property of the same name.
    local values = {unpack(ARGV, i + 3, i + 2 + 2 * count)}
    local n = 2 * count
    i = i + 3 + n
    local id = ids[key]
    if id then
      values[n + 1] = 'updatedAt'
      values[n + 2] = now
      redis.call('HSET', prefix .. id, unpack(values, 1, n + 2))
      updated = updated + 1
    else
      next_id = next_id + 1
      id = tostring(next_id)
      ids[key] = id
      index_entries[#index_entries + 1] = key
      index_entries[#index_entries + 1] = id
      id_entries[#id_entries + 1] = next_id
      id_entries[#id_entries + 1] = id
      values[n + 1] = unique_property
      values[n + 2] = key
      values[n + 3] = 'id'
      values[n + 4] = id
      values[n + 5] = 'createdAt'
      values[n + 6] = now
      values[n + 7] = 'updatedAt'
      values[n + 8] = now
      redis.call('HSET', prefix .. id, unpack(values, 1, n + 8))
      created = created + 1
    end
  elseif kind == 'r' then
    error_entries[#error_entries + 1] = ARGV[i + 1]
    failed = failed + 1
    i = i + 2
  else
    blank = blank + 1
    i = i + 1
  end
end
call_in_chunks('HSET', KEYS[3], index_entries, 2)
call_in_chunks('ZADD', KEYS[4], id_entries, 2)
call_in_chunks('RPUSH', KEYS[2], error_entries, 1)

redis.call('HINCRBY', KEYS[1], 'created', created)
redis.call('HINCRBY', KEYS[1], 'updated', updated)
redis.call('HINCRBY', KEYS[1], 'failed', failed)
redis.call('HINCRBY', KEYS[1], 'skippedBlank', blank)
redis.call('HINCRBY', KEYS[1], 'rowsProcessed', created + updated + failed + blank)
redis.call('HSET', KEYS[1], 'ckOffset', ARGV[3], 'ckRow', ARGV[4], 'ckLine', ARGV[5],
           'updatedAt', now)
settle_stats(KEYS[1], false)
redis.call('PUBLISH', 'jg:job-changes', string.sub(KEYS[1], 8))
return {'ok'}
)lua");
const std::string_view apply_import_batch = script_view(apply_import_batch_text);

constexpr auto finish_job_text = with_job_functions(R"lua(
local job = redis.call('HMGET', KEYS[1], 'status', 'attempts')
if not job[1] then
  return {'missing'}
end
if job[1] ~= 'PROCESSING' then
  return {'status', job[1]}
end
if job[2] ~= ARGV[1] then
  return {'fenced', job[2]}
end
local now = tonumber(ARGV[3])
local retention = tonumber(ARGV[4])
local fields = {'status', ARGV[2], 'updatedAt', ARGV[3], 'finishedAt', ARGV[3],
                'expiresAt', tostring(now + retention)}
for i = 5, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
redis.call('HSET', KEYS[1], unpack(fields))
end_job(now, retention)
return {'ok'}
)lua");
const std::string_view finish_job = script_view(finish_job_text);

constexpr auto cancel_job_text = with_job_functions(R"lua(
local status = redis.call('HGET', KEYS[1], 'status')
if not status then
  return {'missing'}
end
if status ~= 'PENDING' and status ~= 'PROCESSING' then
  return {'status', status}
end
local now = tonumber(ARGV[1])
local retention = tonumber(ARGV[2])
local owner = redis.call('HMGET', KEYS[1], 'kind', 'tenant')
if owner[1] and owner[2] and
    redis.call('ZREM', 'jg:deferred:' .. owner[1] .. ':' .. owner[2], string.sub(KEYS[1], 8)) == 1 then
  redis.call('HINCRBY', 'jg:deferred-counts', owner[1] .. ':' .. owner[2], -1)
  redis.call('HDEL', KEYS[1], 'deferredCap')
end
redis.call('HSET', KEYS[1], 'status', 'CANCELED', 'updatedAt', ARGV[1], 'finishedAt', ARGV[1],
           'expiresAt', tostring(now + retention))
end_job(now, retention)
return {'ok', status}
)lua");
const std::string_view cancel_job = script_view(cancel_job_text);

const std::string_view renew_lease = R"lua(
local job = redis.call('HMGET', KEYS[1], 'status', 'attempts')
if not job[1] then
  return {'missing'}
end
if job[1] ~= 'PROCESSING' then
  return {'status', job[1]}
end
if job[2] ~= ARGV[1] then
  return {'fenced', job[2]}
end
local lease_until = tonumber(ARGV[2]) + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'leaseUntil', tostring(lease_until))
redis.call('ZADD', KEYS[2], lease_until, string.sub(KEYS[1], 8))
return {'ok'}
)lua";

const std::string_view claim_due = R"lua(
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local hold_until = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], hold_until, member)
end
return due
)lua";

constexpr auto take_over_job_text = with_job_functions(R"lua(
local id = string.sub(KEYS[1], 8)
local job = redis.call('HMGET', KEYS[1], 'status', 'leaseUntil', 'attempts')
if job[1] ~= 'PROCESSING' then
  redis.call('ZREM', KEYS[2], id)
  return {'gone'}
end
local now = tonumber(ARGV[1])
local lease_until = tonumber(job[2] or '0') or 0
if lease_until > now then
  redis.call('ZADD', KEYS[2], lease_until, id)
  return {'alive'}
end
redis.call('HSET', KEYS[1], 'status', 'PENDING', 'updatedAt', ARGV[1], 'lastError',
           'attempt ' .. (job[3] or '0') .. ' stopped renewing its lease')
redis.call('HDEL', KEYS[1], 'leaseUntil')
settle_stats(KEYS[1], false)
redis.call('ZREM', KEYS[2], id)
redis.call('ZADD', KEYS[3], now, id)
redis.call('PUBLISH', 'jg:job-changes', id)
return {'taken', job[3] or '0'}
)lua");
const std::string_view take_over_job = script_view(take_over_job_text);

// Lua functions of the running-jobs caps. A tenant's running set contains the jobs of one kind that
// run or were picked to run next, and its deferred set the PENDING jobs that wait for a place,
// oldest first. jg:deferred-counts counts the deferred jobs per "KIND:TENANT" for the metrics.
constexpr char cap_functions_lua[] = R"lua(
-- Removes the members of a running set whose job ended or is gone.
local function prune_running(running_key)
  for _, member in ipairs(redis.call('ZRANGE', running_key, 0, -1)) do
    local status = redis.call('HGET', 'jg:job:' .. member, 'status')
    if status ~= 'PENDING' and status ~= 'PROCESSING' then
      redis.call('ZREM', running_key, member)
    end
  end
end

-- Moves the oldest deferred jobs into the free places below `cap` (every one when cap is 0) and
-- marks each as unqueued, due after `resend_after` millis, so that a sweeper produces its message
-- if the caller does not. Returns their ids.
local function promote(running_key, deferred_key, counts_field, cap, now, resend_after)
  local promoted = {}
  while cap <= 0 or redis.call('ZCARD', running_key) < cap do
    local head = redis.call('ZPOPMIN', deferred_key)
    if #head == 0 then
      break
    end
    local id = head[1]
    local job_key = 'jg:job:' .. id
    redis.call('HINCRBY', 'jg:deferred-counts', counts_field, -1)
    if redis.call('HGET', job_key, 'status') == 'PENDING' then
      redis.call('ZADD', running_key, now, id)
      redis.call('HDEL', job_key, 'deferredCap')
      redis.call('HSET', job_key, 'updatedAt', now)
      redis.call('ZADD', 'jg:unqueued', now + resend_after, id)
      redis.call('PUBLISH', 'jg:job-changes', id)
      promoted[#promoted + 1] = id
    end
  end
  if tonumber(redis.call('HGET', 'jg:deferred-counts', counts_field) or '0') <= 0 then
    redis.call('HDEL', 'jg:deferred-counts', counts_field)
  end
  return promoted
end

-- The running-jobs cap of a tenant: its own value, or the default.
local function running_cap(limits_key, field, default)
  return tonumber(redis.call('HGET', limits_key, field) or default) or 0
end
)lua";

// The text of cap_functions_lua followed by a script's own text.
template <std::size_t Size>
constexpr auto with_cap_functions(const char (&script)[Size]) {
  return concatenate(cap_functions_lua, script);
}

constexpr auto admit_job_text = with_cap_functions(R"lua(
local id = ARGV[1]
local job = redis.call('HMGET', KEYS[1], 'status', 'createdAt', 'deferredCap')
if job[1] ~= 'PENDING' then
  return {'run'}
end
local cap = running_cap(KEYS[4], ARGV[2], ARGV[3])
if cap <= 0 or redis.call('ZSCORE', KEYS[2], id) then
  return {'run'}
end
local now = tonumber(ARGV[4])
prune_running(KEYS[2])
if redis.call('ZCARD', KEYS[3]) == 0 and redis.call('ZCARD', KEYS[2]) < cap then
  redis.call('ZADD', KEYS[2], now, id)
  return {'run'}
end
if redis.call('ZADD', KEYS[3], 'NX', tonumber(job[2] or now) or now, id) == 1 then
  redis.call('HINCRBY', 'jg:deferred-counts', ARGV[5], 1)
end
local result = {'deferred'}
for _, promoted in ipairs(promote(KEYS[2], KEYS[3], ARGV[5], cap, now, tonumber(ARGV[6]))) do
  if promoted == id then
    result[1] = 'run'
  else
    result[#result + 1] = promoted
  end
end
if result[1] == 'deferred' then
  if job[3] ~= tostring(cap) then
    redis.call('HSET', KEYS[1], 'deferredCap', cap, 'updatedAt', now)
    redis.call('PUBLISH', 'jg:job-changes', id)
  end
  table.insert(result, 2, redis.call('ZRANK', KEYS[3], id) + 1)
  table.insert(result, 3, cap)
end
return result
)lua");
const std::string_view admit_job = script_view(admit_job_text);

constexpr auto release_job_text = with_cap_functions(R"lua(
if ARGV[1] ~= '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
end
prune_running(KEYS[1])
local cap = running_cap(KEYS[3], ARGV[2], ARGV[3])
return promote(KEYS[1], KEYS[2], ARGV[5], cap, tonumber(ARGV[4]), tonumber(ARGV[6]))
)lua");
const std::string_view release_job = script_view(release_job_text);

const std::string_view list_jobs = R"lua(
local cursor_score = tonumber(ARGV[1])
local after_id = ARGV[3]
local limit = tonumber(ARGV[4])
local prefix = ARGV[5]
local statuses = {}
local any_status = ARGV[6] == ''
for status in string.gmatch(ARGV[6], '[^,]+') do
  statuses[status] = true
end
local budget = tonumber(ARGV[7])
local found = {}
local offset = 0
local last_score, last_id = '', ''
while budget > 0 do
  local batch = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[2], 'WITHSCORES', 'LIMIT',
                           offset, 100)
  if #batch == 0 then
    last_score, last_id = '', ''
    break
  end
  local removed = 0
  for i = 1, #batch, 2 do
    local id, score = batch[i], batch[i + 1]
    budget = budget - 1
    local skip = after_id ~= '' and tonumber(score) == cursor_score and id >= after_id
    if not skip and (prefix == '' or string.sub(id, 1, #prefix) == prefix) then
      local fields = redis.call('HGETALL', 'jg:job:' .. id)
      if #fields == 0 then
        redis.call('ZREM', KEYS[1], id)
        removed = removed + 1
      else
        local status = ''
        for j = 1, #fields, 2 do
          if fields[j] == 'status' then
            status = fields[j + 1]
          end
        end
        if any_status or statuses[status] then
          if #found == limit then
            return {last_score, last_id, unpack(found)}
          end
          found[#found + 1] = fields
        end
      end
    end
    last_score, last_id = score, id
    if budget == 0 then
      break
    end
  end
  offset = offset + #batch / 2 - removed
end
return {last_score, last_id, unpack(found)}
)lua";

const std::string_view claim_idempotency_key = R"lua(
local entry = redis.call('HMGET', KEYS[1], 'fingerprint', 'state', 'status', 'body', 'location')
if not entry[1] then
  redis.call('HSET', KEYS[1], 'fingerprint', ARGV[1], 'state', 'pending')
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'claimed'}
end
if entry[1] ~= ARGV[1] then
  return {'mismatch'}
end
if entry[2] ~= 'done' then
  return {'in_flight'}
end
return {'replay', entry[3], entry[4], entry[5]}
)lua";

const std::string_view complete_idempotency_key = R"lua(
if redis.call('HGET', KEYS[1], 'fingerprint') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'done', 'status', ARGV[2], 'body', ARGV[3], 'location',
           ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
)lua";

const std::string_view release_idempotency_key = R"lua(
local entry = redis.call('HMGET', KEYS[1], 'fingerprint', 'state')
if entry[1] ~= ARGV[1] or entry[2] ~= 'pending' then
  return 0
end
redis.call('DEL', KEYS[1])
return 1
)lua";

redis::request eval_command(std::string_view script, std::initializer_list<std::string_view> keys) {
  redis::request command{"EVAL", script};
  command.push_back(static_cast<long long>(keys.size()));
  for (const auto key : keys) {
    command.push_back(key);
  }
  return command;
}

}  // namespace jobgate::job_scripts
