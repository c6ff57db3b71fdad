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

local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

-- One thread (-t1): its counts are the run's.
done = function(summary, latency, requests)
  local parts = {}
  for status, n in pairs(statuses) do
    parts[#parts + 1] = status .. "=" .. n
  end
  io.write(string.format("STATUSES %s\n", table.concat(parts, " ")))
  io.write(string.format("RESULT requests=%d errors=%d p50_ms=%.3f p99_ms=%.3f rps=%.0f\n",
    summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6)))
end
