-- wrk script: POST /callbacks/wechatpay with WeChat Pay payment notifications signed beforehand.
--   wrk -t2 -c64 -d10s --latency -s bench/payments.lua http://127.0.0.1:PORT \
--     -- SIGNED_FILE THREADS once|cycle
-- SIGNED_FILE holds one notification a line, "timestamp<TAB>nonce<TAB>signature<TAB>serial<TAB>body"
-- (bench/payments_seed.py sign): the body and the four Wechatpay-* headers as the platform sends
-- them. Each wrk thread takes its own contiguous slice of the file.
--   once:  fresh callbacks, each notification sent once (a different unpaid attempt each time); a
--          thread that runs out sends its last one again (a duplicate, which the server answers
--          204 as well, so wrk cannot tell) and done() prints a "LUA BROKEN" line: the run is
--          unusable (raise FRESH_MAX_RPS);
--   cycle: duplicate callbacks, the thread's notifications (of attempts already paid) round and
--          round.
local shared = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_threads.lua")
setup = shared.setup

local requests = {}

function init(args)
  local file, nthreads, mode = args[1], tonumber(args[2]), args[3]
  assert(file and nthreads and nthreads > 0 and (mode == "once" or mode == "cycle"),
    "usage: -- SIGNED_FILE THREADS once|cycle")
  for _, line in ipairs(shared.share(shared.lines(file), nthreads)) do
    local timestamp, nonce, signature, serial, body =
      line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)\t(.+)$")
    assert(body, "bad line in " .. file)
    requests[#requests + 1] = wrk.format("POST", "/callbacks/wechatpay", {
      ["Content-Type"] = "application/json",
      ["User-Agent"] = "Mozilla/4.0 (bench WeChat Pay notifier)",
      ["Wechatpay-Timestamp"] = timestamp,
      ["Wechatpay-Nonce"] = nonce,
      ["Wechatpay-Signature"] = signature,
      ["Wechatpay-Serial"] = serial,
    }, body)
  end
  assert(#requests > 0, "no notifications for thread " .. thread_id .. " in " .. file)
  cycle = mode == "cycle"   -- global: done() reads it from each thread
  sent = 0
  shared.start(requests)
end

function request()
  if cycle then
    sent = sent + 1
    return requests[(sent - 1) % #requests + 1]
  end
  return shared.take(requests)
end

function done(summary, latency, requests)
  local first = shared.threads[1]
  if first and first:get("cycle") then
    for _, t in ipairs(shared.threads) do
      io.write(string.format("payments.lua: thread %d sent %d duplicates of its %d paid notifications\n",
        t:get("thread_id"), t:get("sent"), t:get("slice")))
    end
  else
    shared.report("payments.lua", "notifications", "raise FRESH_MAX_RPS")
  end
end
