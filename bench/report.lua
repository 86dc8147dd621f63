-- Shared by every load script: rotate through the prepared requests, and print one JSON line at the end.
-- `requests` is set by the generated script before this file is loaded: a list of {path, headers, body}.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
  table.insert(threads, thread)
end

function init(args)
  counter = id  -- threads start at different offsets and stride by the thread count
end

function request()
  local r = requests[(counter % #requests) + 1]
  counter = counter + thread_count
  return wrk.format("POST", r[1], r[2], r[3])
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    '\nRESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "errors_status": %d, ' ..
    '"errors_socket": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
