-- wrk script: POST /api/v1/cases/{id}/submit, every request on the next unsubmitted draft, by its
-- owner, with an Idempotency-Key as the mini-program sends with every write.
--   wrk -t2 -c64 -d10s --latency -s bench/cases_submit.lua http://127.0.0.1:PORT \
--     -- DRAFTS_FILE TOKENS_FILE THREADS
-- DRAFTS_FILE holds "case_id token_line" a line (the draft and the line of TOKENS_FILE with its
-- owner's access token). Each wrk thread takes its own contiguous slice of the drafts, so no draft
-- is submitted twice. A thread that runs out sends its last draft again (with the same key the
-- server replays the first answer, so wrk cannot tell) and done() prints a "LUA BROKEN" line,
-- which makes the run unusable (seed more drafts: raise SUBMIT_MAX_RPS).
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local drafts = {}   -- {path, headers} per draft of this thread's slice

function init(args)
  local drafts_file, tokens_file, nthreads = args[1], args[2], tonumber(args[3])
  assert(drafts_file and tokens_file and nthreads and nthreads > 0,
    "usage: -- DRAFTS_FILE TOKENS_FILE THREADS")
  local tokens = {}
  for line in io.lines(tokens_file) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  local all = {}
  for line in io.lines(drafts_file) do
    if #line > 0 then all[#all + 1] = line end
  end
  local per = math.floor(#all / nthreads)
  for i = thread_id * per + 1, (thread_id + 1) * per do
    local id, token_line = all[i]:match("^(%d+)%s+(%d+)$")
    local token = tokens[tonumber(token_line)]
    assert(id and token, "bad line " .. i .. " of " .. drafts_file .. ": " .. all[i])
    drafts[#drafts + 1] = {
      "/api/v1/cases/" .. id .. "/submit",
      {
        ["Authorization"] = "Bearer " .. token,
        ["Idempotency-Key"] = "bench-submit-" .. id,
        ["Content-Type"] = "application/json",
      },
    }
  end
  assert(#drafts > 0, "no drafts for thread " .. thread_id .. " in " .. drafts_file)
  slice = #drafts
  handed = 0     -- requests built (wrk builds one more than it sends, to check the script)
  beyond = 0     -- requests built after the slice ran out
end

function request()
  handed = handed + 1
  local draft = drafts[handed]
  if draft == nil then
    beyond = beyond + 1
    draft = drafts[#drafts]
  end
  return wrk.format("POST", draft[1], draft[2], "")
end

function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    local id, slice, handed, beyond = t:get("thread_id"), t:get("slice"), t:get("handed"), t:get("beyond")
    io.write(string.format("cases_submit.lua: thread %d used %d of its %d drafts\n",
      id, math.min(handed, slice), slice))
    if beyond > 0 then
      io.write(string.format(
        "LUA BROKEN: cases_submit.lua thread %d ran out of drafts (%d requests beyond its %d); "
        .. "seed more (raise SUBMIT_MAX_RPS)\n", id, beyond, slice))
    end
  end
end
