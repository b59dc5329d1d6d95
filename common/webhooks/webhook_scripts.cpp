#include "common/webhooks/webhook_scripts.hpp"

namespace jobgate::webhook_scripts {

const std::string_view create_subscription = R"lua(
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[1]) then
  return 0
end
local fields = {}
for i = 4, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
)lua";

const std::string_view rotate_secret = R"lua(
local current = redis.call('HGET', KEYS[1], 'secret')
if not current then
  if ARGV[4] ~= '1' then
    return 0
  end
  redis.call('HSET', KEYS[1], 'secret', ARGV[1], 'updatedAt', ARGV[2])
  return 1
end
local overlap = tonumber(ARGV[3])
if overlap > 0 then
  redis.call('HSET', KEYS[1], 'previousSecret', current, 'previousSecretExpiresAt',
             tonumber(ARGV[2]) + overlap)
else
  redis.call('HDEL', KEYS[1], 'previousSecret', 'previousSecretExpiresAt')
end
redis.call('HSET', KEYS[1], 'secret', ARGV[1], 'updatedAt', ARGV[2])
return 1
)lua";

const std::string_view fan_out_event = R"lua(
local event_id, event_type, kind, job_id, body = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local now, retention, tenant = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
local keep, traceparent = tonumber(ARGV[9]), ARGV[10] or ''
local function listed(list, item)
  return string.find(',' .. list .. ',', ',' .. item .. ',', 1, true) ~= nil
end
local created = 0
local function add(subscription, url)
  local id = 'whd_' .. string.sub(redis.sha1hex(event_id .. '/' .. subscription), 1, 24)
  local key = 'jg:whd:' .. id
  if redis.call('EXISTS', key) == 1 then
    return
  end
  redis.call('HSET', key, 'id', id, 'subscription', subscription, 'tenant', tenant, 'url', url,
             'eventId', event_id, 'eventType', event_type, 'jobId', job_id, 'body', body,
             'status', 'pending', 'attempts', 0, 'createdAt', now, 'nextAttemptAt', now)
  if traceparent ~= '' then
    redis.call('HSET', key, 'traceparent', traceparent)
  end
  redis.call('PEXPIRE', key, retention)
  redis.call('ZADD', KEYS[3], now, id)
  local log = 'jg:whl:' .. tenant .. ':' .. subscription
  redis.call('ZADD', log, now, id)
  redis.call('ZREMRANGEBYSCORE', log, '-inf', now - retention)
  redis.call('ZREMRANGEBYRANK', log, 0, -keep - 1)
  redis.call('PEXPIRE', log, retention)
  created = created + 1
end
for _, subscription in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local s = redis.call('HMGET', 'jg:wh:' .. subscription, 'status', 'events', 'kinds', 'url')
  if s[1] == 'enabled' and listed(s[2] or '', event_type) and
      (not s[3] or s[3] == '' or listed(s[3], kind)) then
    add(subscription, s[4])
  end
end
local callback = redis.call('HGET', KEYS[2], 'callbackUrl')
if callback and callback ~= '' then
  add('callbacks', callback)
end
return created
)lua";

const std::string_view record_attempt = R"lua(
local id, now, outcome = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local retention = tonumber(ARGV[10])
if redis.call('HGET', KEYS[1], 'status') ~= 'pending' then
  redis.call('ZREM', KEYS[3], id)
  return {'stale'}
end
if outcome == 'forget' then
  return {'pending'}
end
local function fail(reason)
  redis.call('HSET', KEYS[1], 'status', 'failed', 'failureReason', reason, 'finishedAt', now)
  redis.call('HDEL', KEYS[1], 'nextAttemptAt')
  redis.call('ZREM', KEYS[3], id)
end
if outcome == 'dropped' then
  fail(ARGV[6])
  return {'failed'}
end
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'lastAttemptAt', now, 'lastStatusCode', ARGV[5], 'lastError', ARGV[6])
redis.call('RPUSH', KEYS[2], ARGV[4])
redis.call('LTRIM', KEYS[2], -50, -1)
redis.call('PEXPIRE', KEYS[2], retention)
local subscription = redis.call('EXISTS', KEYS[4]) == 1 and
    redis.call('HGET', KEYS[4], 'status') == 'enabled'
if outcome == 'succeeded' then
  redis.call('HSET', KEYS[1], 'status', 'succeeded', 'finishedAt', now)
  redis.call('HDEL', KEYS[1], 'nextAttemptAt')
  redis.call('ZREM', KEYS[3], id)
  if subscription then
    redis.call('HDEL', KEYS[4], 'failingSince')
  end
  return {'succeeded'}
end
local function disable(reason)
  redis.call('HSET', KEYS[4], 'status', 'disabled', 'disabledReason', reason, 'disabledAt', now,
             'updatedAt', now)
end
if outcome == 'gone' then
  fail('the target answered 410 Gone')
  if subscription then
    disable('the target answered 410 Gone')
    return {'disabled'}
  end
  return {'failed'}
end
if subscription then
  local since = tonumber(redis.call('HGET', KEYS[4], 'failingSince') or '')
  if not since then
    since = now
    redis.call('HSET', KEYS[4], 'failingSince', now)
  end
  local limit = tonumber(ARGV[8])
  if limit > 0 and now - since >= limit then
    fail(ARGV[9])
    disable(ARGV[9])
    return {'disabled'}
  end
end
if outcome == 'exhausted' then
  fail('no attempt succeeded; the last one was attempt ' ..
       redis.call('HGET', KEYS[1], 'attempts'))
  return {'failed'}
end
redis.call('HSET', KEYS[1], 'nextAttemptAt', ARGV[7])
redis.call('ZADD', KEYS[3], ARGV[7], id)
return {'retry'}
)lua";

const std::string_view redeliver = R"lua(
local d = redis.call('HMGET', KEYS[1], 'tenant', 'subscription', 'status', 'id')
if d[1] ~= ARGV[2] or d[2] ~= ARGV[3] then
  return {'missing'}
end
if d[3] == 'pending' then
  return {'pending'}
end
redis.call('HSET', KEYS[1], 'status', 'pending', 'nextAttemptAt', ARGV[1], 'manual', 1)
redis.call('HDEL', KEYS[1], 'failureReason', 'finishedAt')
redis.call('ZADD', KEYS[2], ARGV[1], d[4])
return {'queued'}
)lua";

}  // namespace jobgate::webhook_scripts
