-- wrk script: POST /api/v1/uploads (an upload intent: the presigned policy for wx.uploadFile),
-- rotating over users and materials so that no (user, material) pair passes its max_files.
--   wrk -t2 -c64 -d10s --latency -s bench/uploads.lua http://127.0.0.1:PORT \
--     -- TOKENS_FILE THREADS ITEM_CODE MATERIAL_CODES MAX_FILES
-- TOKENS_FILE holds one citizen access token a line (bench/wxcodes.py login); each wrk thread
-- takes its own contiguous slice of the users. MATERIAL_CODES is comma-separated. Intent creation
-- counts the live uploads of the (user, material) pair and refuses the (MAX_FILES + 1)-th with
-- 409, so the k-th request of a thread goes to user k mod U and material (k div U) mod M: every
-- pair is used once before any is used twice, and a thread can send U × M × MAX_FILES intents.
-- A thread that gets past that keeps going (the server then answers 409, which wrk counts as
-- non-2xx) and done() prints a "LUA BROKEN" line: the run is unusable (raise UPLOAD_USERS).
local shared = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_threads.lua")
setup = shared.setup

local requests = {}   -- one prepared request per (user, material) pair, pair = m * U + u
local users, materials = 0, 0

function init(args)
  local file, nthreads, item, codes, max_files =
    args[1], tonumber(args[2]), args[3], args[4], tonumber(args[5])
  assert(file and nthreads and nthreads > 0 and item and codes and max_files,
    "usage: -- TOKENS_FILE THREADS ITEM_CODE MATERIAL_CODES MAX_FILES")
  local tokens = shared.share(shared.lines(file), nthreads)
  assert(#tokens > 0, "no tokens for thread " .. thread_id .. " in " .. file)
  local mats = {}
  for code in codes:gmatch("[^,]+") do mats[#mats + 1] = code end
  users, materials = #tokens, #mats
  for m = 1, materials do
    for u = 1, users do
      local body = string.format(
        '{"purpose":"material","item_code":"%s","material_code":"%s",' ..
        '"filename":"IMG_%d_%d.jpg","content_type":"image/jpeg","size":%d}',
        item, mats[m], thread_id, (m - 1) * users + u, 1500000 + 1000 * u + m)
      requests[(m - 1) * users + u] = wrk.format("POST", "/api/v1/uploads", {
        ["Content-Type"] = "application/json",
        ["Authorization"] = "Bearer " .. tokens[u],
      }, body)
    end
  end
  capacity = users * materials * max_files
  slots = users
  built = 0      -- requests built (wrk builds one more than it sends, to check the script)
  beyond = 0     -- requests built after the capacity was used up
end

function request()
  local k = built
  built = built + 1
  if built > capacity then beyond = beyond + 1 end
  return requests[(k % (users * materials)) + 1]
end

function done(summary, latency, requests)
  for _, t in ipairs(shared.threads) do
    local id, built, capacity, beyond = t:get("thread_id"), t:get("built"), t:get("capacity"), t:get("beyond")
    io.write(string.format("uploads.lua: thread %d built %d intents for %d users (capacity %d)\n",
      id, built, t:get("slots"), capacity))
    if beyond > 0 then
      io.write(string.format(
        "LUA BROKEN: uploads.lua thread %d went %d intents past its capacity of %d "
        .. "(users × materials × max_files); raise UPLOAD_USERS\n", id, beyond, capacity))
    end
  end
end
