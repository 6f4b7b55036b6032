-- Reports one JSON line with throughput, latency percentiles (ms) and error counts.
-- With PAIRS set (a file of "token proposal_id" lines), each request is a support POST by a
-- different resident, split between wrk's threads.
local pairs_file = os.getenv("PAIRS")
local lines = {}
counter = 0  -- global: done() reads it from each thread
local step = tonumber(os.getenv("WRK_THREADS") or "1")
local created = {}
statuses = {}

function setup(thread)
  thread:set("id", #created)  -- runs in the main state: each thread gets its own offset
  table.insert(created, thread)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function init(args)
  if pairs_file then
    for line in io.lines(pairs_file) do table.insert(lines, line) end
  end
  counter = id + tonumber(os.getenv("OFFSET") or "0")
end

function request()
  if #lines == 0 then return wrk.request() end
  local line = lines[(counter % #lines) + 1]
  counter = counter + step
  local token, proposal = line:match("(%S+) (%S+)")
  return wrk.format("POST", "/api/v1/proposals/" .. proposal .. "/support",
    {["Authorization"] = "Bearer " .. token, ["Content-Length"] = "0"}, nil)
end

function done(summary, latency, requests)
  local e = summary.errors
  local parts = {}
  local next_line = 0  -- the first line no thread has used: where a following run starts
  for _, t in ipairs(created) do
    for code, n in pairs(t:get("statuses")) do table.insert(parts, code .. ":" .. n) end
    local c = t:get("counter")
    if c and c > next_line then next_line = c end
  end
  io.stderr:write("statuses " .. table.concat(parts, " ") .. "\n")
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, ' ..
    '"errors": %d, "non_2xx": %d, "next_line": %d}\n',
    summary.requests, summary.duration, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status, next_line))
end
