-- wrk script: rotates GET /api/v1/items over several real catalogue searches.
--   wrk -t2 -c64 -d10s --latency -s bench/search.lua http://127.0.0.1:PORT
-- bench/catalog.sh checks each of these paths once with curl before the run (status 200 and
-- the number of items found), reading them from the lines below: keep one path per line.
local paths = {
  "/api/v1/items?q=sfz",                                     -- initials
  "/api/v1/items?q=shenfenzheng",                            -- full pinyin
  "/api/v1/items?q=%E8%BA%AB%E4%BB%BD%E8%AF%81",             -- 身份证
  "/api/v1/items?q=%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7",    -- 营业执照
  "/api/v1/items?audience=company",
  "/api/v1/items?paid=true",
  "/api/v1/items?theme=life-birth",
}

local i = 0
local threads = 0

function setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

function init(args)
  -- Each wrk thread has its own Lua state; start the threads at different places in the list.
  i = ((thread_number or 0) * 3) % #paths
end

function request()
  i = (i % #paths) + 1
  return wrk.format("GET", paths[i])
end
