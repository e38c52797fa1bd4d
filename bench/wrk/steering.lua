-- The steering scenario: HLS players asking for their steering manifests. Each viewer (a line of
-- VIEWERS: its address and its manifest's path, with the _HLS_pathway and _HLS_throughput
-- feedback hls.js sends) was minted through the gateway's own HLS answer; the viewers take turns.
--   wrk ... -s steering.lua URL -- VIEWERS [PACE_MS]

package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local viewers = require("viewers")

local list = {}
local count = 0
local counter = 0

function init(args)
  list = viewers.load(args[1])
  count = #list
  viewers.pace(tonumber(args[2]))
end

function request()
  local viewer = list[counter % count + 1]
  counter = counter + 1
  return wrk.format("GET", viewer[2], { ["X-Forwarded-For"] = viewer[1] })
end
