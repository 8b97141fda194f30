-- conf/api-errors.lua - lighttpd's own error pages under /api become the API's JSON
-- error body (CONTRACT.md "Operations": every /api error is
-- {"error": {"code", "message"}}, also those lighttpd makes itself).
--
-- Run by mod_magnet at response start (magnet.attract-response-start-to in
-- conf/lighttpd.conf) for every response, including those to requests lighttpd could
-- not parse, where no $HTTP["url"] condition applies: a malformed request line or
-- %00 in the target (400), a POST without Content-Length (411), a body over
-- server.max-request-size (413), the FastCGI program unreachable (503). It touches
-- only error responses whose body lighttpd made (Content-Type text/html, none from a
-- backend) and whose target is under /api, or that have no target at all (a request
-- line too broken to name one). The status stays what lighttpd chose.
local r = lighty.r
local status = r.req_item.http_status
if status < 400 then return 0 end
local ctype = r.resp_header["Content-Type"]
if ctype ~= nil and ctype ~= "text/html" then return 0 end
local target = r.req_attr["request.uri"] or ""
if target ~= "" and not (target == "/api" or target:find("^/api[/?]")) then return 0 end

local slugs = {
  [400] = { "malformed", "the request is malformed" },
  [401] = { "unauthorized", "a valid bearer token is required" },
  [403] = { "forbidden", "you are not allowed to do this" },
  [404] = { "not-found", "no such resource" },
  [405] = { "method-not-allowed", "method not allowed on this resource" },
  [408] = { "timeout", "the request took too long to arrive" },
  [411] = { "length-required", "a request with a body needs Content-Length" },
  [413] = { "too-large", "the request body is too large" },
  [414] = { "too-large", "the request target is too long" },
  [417] = { "malformed", "unsupported Expect header" },
  [431] = { "too-large", "the request headers are too large" },
  [500] = { "internal", "internal error" },
  [501] = { "not-implemented", "method not implemented" },
  [502] = { "unavailable", "the API is unavailable, try again shortly" },
  [503] = { "unavailable", "the API is unavailable, try again shortly" },
  [504] = { "unavailable", "the API did not answer in time" },
  [505] = { "malformed", "HTTP version not supported" },
}
local e = slugs[status] or { status < 500 and "malformed" or "internal", "error " .. status }
r.resp_header["Content-Type"] = "application/json; charset=utf-8"
r.resp_header["Cache-Control"] = "no-store"
r.resp_body.set({ '{"error":{"code":"', e[1], '","message":"', e[2], '"}}' })
-- Returning the status (not 0) is what makes mod_magnet mark the new body complete;
-- with 0 the response would wait for a body that never ends.
return status
