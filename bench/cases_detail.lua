-- wrk script: GET /api/v1/cases/{id} (a case with its checklist, files and timeline), rotating
-- over the benchmark citizen's cases.
--   wrk -t2 -c64 -d10s --latency -H "Authorization: Bearer TOKEN" -s bench/cases_detail.lua \
--     http://127.0.0.1:PORT -- IDS_FILE
-- IDS_FILE holds one case id a line (the citizen's own cases). Each thread starts at its own
-- place in the list, so the threads do not read the same case at the same moment.
local shared = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_threads.lua")
setup = shared.setup

local paths = {}

function init(args)
  local file = args[1]
  assert(file, "usage: -- IDS_FILE")
  for _, id in ipairs(shared.lines(file)) do paths[#paths + 1] = "/api/v1/cases/" .. id end
  assert(#paths > 0, "no case ids in " .. file)
  cases = #paths
  position = (thread_id * 7919) % #paths
  sent = 0
end

function request()
  position = position % #paths + 1
  sent = sent + 1
  return wrk.format("GET", paths[position])
end

function done(summary, latency, requests)
  for _, t in ipairs(shared.threads) do
    io.write(string.format("cases_detail.lua: thread %d rotated %d requests over %d cases\n",
      t:get("thread_id"), t:get("sent"), t:get("cases")))
  end
end
