-- wrk script: POST /api/v1/auth/wechat/login, every request with the next unused wx.login code.
--   wrk -t2 -c64 -d10s --latency -s bench/login.lua http://127.0.0.1:PORT -- CODES_FILE THREADS
-- CODES_FILE holds one single-use code a line (bench/wxcodes.py mint). Each wrk thread takes its
-- own contiguous slice of it (thread i of n: the i-th n-th), so no code is ever sent twice. A
-- thread that runs out sends its last code again: the server answers 400 (code used), wrk counts
-- a non-2xx response and done() prints a "LUA BROKEN" line, which makes the run unusable.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local codes = {}
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  assert(file and nthreads and nthreads > 0, "usage: -- CODES_FILE THREADS")
  local all = {}
  for line in io.lines(file) do
    if #line > 0 then all[#all + 1] = line end
  end
  local per = math.floor(#all / nthreads)
  for i = thread_id * per + 1, (thread_id + 1) * per do codes[#codes + 1] = all[i] end
  assert(#codes > 0, "no login codes for thread " .. thread_id .. " in " .. file)
  slice = #codes
  handed = 0     -- requests built (wrk builds one more than it sends, to check the script)
  beyond = 0     -- requests built after the slice ran out
end

function request()
  handed = handed + 1
  local code = codes[handed]
  if code == nil then
    beyond = beyond + 1
    code = codes[#codes]
  end
  return wrk.format("POST", "/api/v1/auth/wechat/login", headers, '{"code":"' .. code .. '"}')
end

function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    local id, slice, handed, beyond = t:get("thread_id"), t:get("slice"), t:get("handed"), t:get("beyond")
    io.write(string.format("login.lua: thread %d used %d of its %d codes\n",
      id, math.min(handed, slice), slice))
    if beyond > 0 then
      io.write(string.format(
        "LUA BROKEN: login.lua thread %d ran out of login codes (%d requests beyond its %d); "
        .. "mint more (raise LOGIN_MAX_RPS)\n", id, beyond, slice))
    end
  end
end
