-- Shared by the wrk scripts of bench/: wrk threads numbered from 0, the non-empty lines of a
-- file, each thread's own share of them, and the bookkeeping of the scripts that send single-use
-- items (login codes, drafts) from that share. Every wrk Lua state loads it with
--   local shared = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_threads.lua")
--   setup = shared.setup
local M = {}

M.threads = {}   -- every thread, for done() (setup() and done() run in wrk's main Lua state)
local next_id = 0

-- wrk's setup(): gives each thread its number as the global thread_id.
function M.setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(M.threads, thread)
end

function M.lines(file)
  local all = {}
  for line in io.lines(file) do
    if #line > 0 then all[#all + 1] = line end
  end
  return all
end

-- This thread's contiguous share of `all` (thread i of n takes the i-th n-th): no item goes to
-- two threads.
function M.share(all, nthreads)
  local mine = {}
  local per = math.floor(#all / nthreads)
  for i = thread_id * per + 1, (thread_id + 1) * per do mine[#mine + 1] = all[i] end
  return mine
end

-- Single-use items: start(items) in init(), take(items) in request(). Once the share has run
-- out, take() hands the last item again and counts it in `beyond`, which report() turns into a
-- "LUA BROKEN" line (the run is unusable).
function M.start(items)
  slice = #items
  handed = 0     -- requests built (wrk builds one more than it sends, to check the script)
  beyond = 0     -- requests built after the share ran out
end

function M.take(items)
  handed = handed + 1
  local item = items[handed]
  if item == nil then
    beyond = beyond + 1
    item = items[#items]
  end
  return item
end

-- done(): how much of its share each thread used, and a "LUA BROKEN" line for each thread that
-- ran out (`remedy` says what to raise).
function M.report(script, noun, remedy)
  for _, t in ipairs(M.threads) do
    local id, slice, handed, beyond = t:get("thread_id"), t:get("slice"), t:get("handed"), t:get("beyond")
    io.write(string.format("%s: thread %d used %d of its %d %s\n",
      script, id, math.min(handed, slice), slice, noun))
    if beyond > 0 then
      io.write(string.format("LUA BROKEN: %s thread %d ran out of %s (%d requests beyond its %d); %s\n",
        script, id, noun, beyond, slice, remedy))
    end
  end
end

return M
