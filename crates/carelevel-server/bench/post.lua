-- wrk: POST the file named by BODY_FILE as JSON; count statuses; with TOKENS_FILE,
-- send the next token of that file (one per line) as the bearer token of each
-- request (a token's jti is accepted once); with DELAY_MS, wait that long before each
-- request of a connection (an open-loop rate: connections / delay).
local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

wrk.method = "POST"
wrk.body = slurp(os.getenv("BODY_FILE"))
wrk.headers["Content-Type"] = "application/json"

local tokens = {}
local next_token = 1
local tokens_file = os.getenv("TOKENS_FILE")
if tokens_file and tokens_file ~= "" then
  for line in io.lines(tokens_file) do
    tokens[#tokens + 1] = line
  end
end
local delay_ms = tonumber(os.getenv("DELAY_MS") or "")

request = function()
  if #tokens > 0 then
    local t = tokens[next_token]
    assert(t, "out of tokens: generate more")
    next_token = next_token + 1
    wrk.headers["Authorization"] = "Bearer " .. t
  end
  return wrk.format()
end

if delay_ms then
  delay = function()
    return delay_ms
  end
end

-- Per-thread counters (wrk runs `response` in each thread's own Lua state; `done`
-- reads them back through the thread objects kept by `setup`).
local threads = {}
setup = function(thread)
  threads[#threads + 1] = thread
end

ok = 0
other = 0
response = function(status, headers, body)
  if status == 200 then
    ok = ok + 1
  else
    other = other + 1
  end
end

done = function(summary, latency, requests)
  local n200, nother = 0, 0
  for _, t in ipairs(threads) do
    n200 = n200 + t:get("ok")
    nother = nother + t:get("other")
  end
  io.write(string.format("STATUSES 200=%d other=%d\n", n200, nother))
  io.write(string.format("RESULT requests=%d errors=%d p50_ms=%.3f p99_ms=%.3f rps=%.0f\n",
    summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6)))
end
