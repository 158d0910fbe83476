-- wrk script: POST /api/v1/auth/wechat/login, every request with the next unused wx.login code.
--   wrk -t2 -c64 -d10s --latency -s bench/login.lua http://127.0.0.1:PORT -- CODES_FILE THREADS
-- CODES_FILE holds one single-use code a line (bench/wxcodes.py mint). Each wrk thread takes its
-- own contiguous slice of it (thread i of n: the i-th n-th), so no code is ever sent twice. A
-- thread that runs out sends its last code again: the server answers 400 (code used), wrk counts
-- a non-2xx response and done() prints a "LUA BROKEN" line, which makes the run unusable.
local shared = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_threads.lua")
setup = shared.setup

local codes = {}
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  assert(file and nthreads and nthreads > 0, "usage: -- CODES_FILE THREADS")
  codes = shared.share(shared.lines(file), nthreads)
  assert(#codes > 0, "no login codes for thread " .. thread_id .. " in " .. file)
  shared.start(codes)
end

function request()
  local code = shared.take(codes)
  return wrk.format("POST", "/api/v1/auth/wechat/login", headers, '{"code":"' .. code .. '"}')
end

function done(summary, latency, requests)
  shared.report("login.lua", "login codes", "mint more (raise LOGIN_MAX_RPS)")
end
