-- wrk script: the WeChat sandbox's own GET /sandbox/wechat/sns/jscode2session, every request with
-- the next unused wx.login code; measures the peer alone (no zhangban server in between).
--   wrk -t2 -c64 -d10s --latency -s bench/jscode2session.lua http://127.0.0.1:SANDBOX_PORT \
--     -- CODES_FILE THREADS APPID SECRET
-- Like the real platform the sandbox answers HTTP 200 even to errors ({"errcode": …}), so
-- response() reads every body: an answer without "openid" counts as a failure, and done() then
-- prints a "LUA BROKEN" line (the run is unusable). Codes are sliced per thread as in login.lua.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local codes = {}
local prefix

local function urlencode(s)
  return (s:gsub("[^%w%-_.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  local file, nthreads, appid, secret = args[1], tonumber(args[2]), args[3], args[4]
  assert(file and nthreads and nthreads > 0 and appid and secret,
    "usage: -- CODES_FILE THREADS APPID SECRET")
  local all = {}
  for line in io.lines(file) do
    if #line > 0 then all[#all + 1] = line end
  end
  local per = math.floor(#all / nthreads)
  for i = thread_id * per + 1, (thread_id + 1) * per do codes[#codes + 1] = all[i] end
  assert(#codes > 0, "no login codes for thread " .. thread_id .. " in " .. file)
  prefix = "/sandbox/wechat/sns/jscode2session?appid=" .. urlencode(appid)
    .. "&secret=" .. urlencode(secret) .. "&grant_type=authorization_code&js_code="
  slice = #codes
  handed = 0
  beyond = 0
  failed = 0
  first_failure = ""
end

function request()
  handed = handed + 1
  local code = codes[handed]
  if code == nil then
    beyond = beyond + 1
    code = codes[#codes]
  end
  return wrk.format("GET", prefix .. code)
end

function response(status, headers, body)
  if status ~= 200 or not body:find('"openid"', 1, true) then
    failed = failed + 1
    if first_failure == "" then first_failure = status .. " " .. body:sub(1, 160) end
  end
end

function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    local id, slice, handed, beyond = t:get("thread_id"), t:get("slice"), t:get("handed"), t:get("beyond")
    local failed = t:get("failed")
    io.write(string.format("jscode2session.lua: thread %d used %d of its %d codes, %d failed\n",
      id, math.min(handed, slice), slice, failed))
    if beyond > 0 then
      io.write(string.format(
        "LUA BROKEN: jscode2session.lua thread %d ran out of login codes (%d requests beyond its %d); "
        .. "mint more (raise SANDBOX_MAX_RPS)\n", id, beyond, slice))
    end
    if failed > 0 then
      io.write(string.format("LUA BROKEN: jscode2session.lua thread %d: %d answers were errors, first: %s\n",
        id, failed, t:get("first_failure")))
    end
  end
end
