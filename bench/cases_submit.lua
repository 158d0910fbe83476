-- wrk script: POST /api/v1/cases/{id}/submit, every request on the next unsubmitted draft, by its
-- owner, with an Idempotency-Key as the mini-program sends with every write.
--   wrk -t2 -c64 -d10s --latency -s bench/cases_submit.lua http://127.0.0.1:PORT \
--     -- DRAFTS_FILE TOKENS_FILE THREADS
-- DRAFTS_FILE holds "case_id token_line" a line (the draft and the line of TOKENS_FILE with its
-- owner's access token). Each wrk thread takes its own contiguous slice of the drafts, so no draft
-- is submitted twice. A thread that runs out sends its last draft again (with the same key the
-- server replays the first answer, so wrk cannot tell) and done() prints a "LUA BROKEN" line,
-- which makes the run unusable (seed more drafts: raise SUBMIT_MAX_RPS).
local shared = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_threads.lua")
setup = shared.setup

local drafts = {}   -- {path, headers} per draft of this thread's slice

function init(args)
  local drafts_file, tokens_file, nthreads = args[1], args[2], tonumber(args[3])
  assert(drafts_file and tokens_file and nthreads and nthreads > 0,
    "usage: -- DRAFTS_FILE TOKENS_FILE THREADS")
  local tokens = shared.lines(tokens_file)
  for _, line in ipairs(shared.share(shared.lines(drafts_file), nthreads)) do
    local id, token_line = line:match("^(%d+)%s+(%d+)$")
    local token = tokens[tonumber(token_line)]
    assert(id and token, "bad line of " .. drafts_file .. ": " .. line)
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
  shared.start(drafts)
end

function request()
  local draft = shared.take(drafts)
  return wrk.format("POST", draft[1], draft[2], "")
end

function done(summary, latency, requests)
  shared.report("cases_submit.lua", "drafts", "seed more (raise SUBMIT_MAX_RPS)")
end
