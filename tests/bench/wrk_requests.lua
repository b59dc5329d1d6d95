-- Request script for wrk. Without BENCH_IDS_FILE every request is POST BENCH_PATH with the JSON
-- body BENCH_BODY; with it, requests are GET BENCH_PATH..ID over the IDs in that file, one per
-- line, in turn. done() prints one line "BENCH_RESULT {json}" that tests/bench parses.

local path = os.getenv("BENCH_PATH") or "/"
local api_key = os.getenv("BENCH_API_KEY")
local ids_file = os.getenv("BENCH_IDS_FILE")

local ids = {}
local next_id = 1

if ids_file then
  for line in io.lines(ids_file) do
    if #line > 0 then
      ids[#ids + 1] = line
    end
  end
else
  wrk.method = "POST"
  wrk.body = os.getenv("BENCH_BODY") or "{}"
  wrk.headers["Content-Type"] = "application/json"
end
if api_key then
  wrk.headers["Authorization"] = "Bearer " .. api_key
end

-- setup() runs in the main Lua state once per thread; init() runs in the thread's own state.
local threads_set_up = 0

function setup(thread)
  thread:set("thread_index", threads_set_up)
  threads_set_up = threads_set_up + 1
end

function init(args)
  -- Each thread starts at its own place in the list so the threads read different jobs.
  if #ids > 0 then
    next_id = (thread_index or 0) * 7919 % #ids + 1
  end
end

function request()
  if #ids == 0 then
    return wrk.format(nil, path)
  end
  local id = ids[next_id]
  next_id = next_id % #ids + 1
  return wrk.format("GET", path .. id)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, errors.connect, errors.read, errors.write,
    errors.status, errors.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.mean, latency.max))
end
