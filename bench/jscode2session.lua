-- wrk script: the WeChat sandbox's own GET /sandbox/wechat/sns/jscode2session, every request with
-- the next unused wx.login code; measures the peer alone (no zhangban server in between).
--   wrk -t2 -c64 -d10s --latency -s bench/jscode2session.lua http://127.0.0.1:SANDBOX_PORT \
--     -- CODES_FILE THREADS APPID SECRET
-- Like the real platform the sandbox answers HTTP 200 even to errors ({"errcode": …}), so
-- response() reads every body: an answer without "openid" counts as a failure, and done() then
-- prints a "LUA BROKEN" line (the run is unusable). Codes are sliced per thread as in login.lua.
local shared = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_threads.lua")
setup = shared.setup

local codes = {}
local prefix

local function urlencode(s)
  return (s:gsub("[^%w%-_.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  local file, nthreads, appid, secret = args[1], tonumber(args[2]), args[3], args[4]
  assert(file and nthreads and nthreads > 0 and appid and secret,
    "usage: -- CODES_FILE THREADS APPID SECRET")
  codes = shared.share(shared.lines(file), nthreads)
  assert(#codes > 0, "no login codes for thread " .. thread_id .. " in " .. file)
  prefix = "/sandbox/wechat/sns/jscode2session?appid=" .. urlencode(appid)
    .. "&secret=" .. urlencode(secret) .. "&grant_type=authorization_code&js_code="
  shared.start(codes)
  failed = 0
  first_failure = ""
end

function request()
  return wrk.format("GET", prefix .. shared.take(codes))
end

function response(status, headers, body)
  if status ~= 200 or not body:find('"openid"', 1, true) then
    failed = failed + 1
    if first_failure == "" then first_failure = status .. " " .. body:sub(1, 160) end
  end
end

function done(summary, latency, requests)
  shared.report("jscode2session.lua", "login codes", "mint more (raise SANDBOX_MAX_RPS)")
  for _, t in ipairs(shared.threads) do
    local failed = t:get("failed")
    if failed > 0 then
      io.write(string.format("LUA BROKEN: jscode2session.lua thread %d: %d answers were errors, first: %s\n",
        t:get("thread_id"), failed, t:get("first_failure")))
    end
  end
end
