-- tests/bench/wrk_api.lua - wrk script for the REST benchmark (tests/bench/bench.sh).
--
-- Environment:
--   BENCH_METHOD   GET (default) or POST
--   BENCH_PATH     for GET: the path (default /api/rooms)
--   BENCH_TOKENS   space-separated bearer tokens, used in turn
--   BENCH_ROOMS    space-separated room ids; POST joins /api/rooms/<id>/members,
--                  cycling through rooms and tokens (after the first pass every
--                  join is a repeat, which the contract says is harmless)
-- Only builds requests; wrk itself counts and times them. done() prints one
-- "wrk-result key=value ..." line (errors include non-2xx/3xx answers).

local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/api/rooms"
local tokens, rooms = {}, {}
for t in string.gmatch(os.getenv("BENCH_TOKENS") or "", "%S+") do tokens[#tokens + 1] = t end
for r in string.gmatch(os.getenv("BENCH_ROOMS") or "", "%S+") do rooms[#rooms + 1] = r end
local i = 0

if method == "POST" or #tokens > 1 then
  -- A request per call: Lua runs for every request, so only where needed.
  request = function()
    i = i + 1
    local headers = {}
    if #tokens > 0 then headers["Authorization"] = "Bearer " .. tokens[i % #tokens + 1] end
    if method == "POST" then
      headers["Content-Type"] = "application/json"
      local room = rooms[math.floor(i / math.max(#tokens, 1)) % #rooms + 1]
      return wrk.format("POST", "/api/rooms/" .. room .. "/members", headers, "{}")
    end
    return wrk.format("GET", path, headers)
  end
else
  -- One fixed request, built once by wrk itself (as fast as wrk goes).
  wrk.method = "GET"
  wrk.path = path
  if #tokens == 1 then wrk.headers["Authorization"] = "Bearer " .. tokens[1] end
end

done = function(summary, latency, requests)
  io.write(string.format("wrk-result requests=%d seconds=%.3f rps=%.0f p50_us=%d p99_us=%d errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
