-- The hls-segments scenario: GET /verify as a node's nginx sends it for each playlist and segment
-- request of its HLS viewers. Each viewer (a line of VIEWERS: its address and its own grant) has
-- a session the runner started; the viewers take turns, and each asks in a player's order:
-- its playlist, its next segment, its playlist, the segment after, and so on. Every check is a
-- warm session's, carrying the node's key as the node's nginx sends it (AUTHORIZATION).
--   wrk ... -s hls-segments.lua URL -- VIEWERS NODE AUTHORIZATION SERVER/CAMERA [PACE_MS]

package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local viewers = require("viewers")

local list = {}
local count = 0
local counter = 0
local node = ""
local authorization = ""
local stream = ""

function init(args)
  list = viewers.load(args[1])
  count = #list
  node = args[2]
  authorization = args[3]
  stream = args[4]
  viewers.pace(tonumber(args[5]))
end

function request()
  local viewer = list[counter % count + 1]
  local step = math.floor(counter / count)
  counter = counter + 1
  local file = step % 2 == 0 and "index.m3u8" or ("seg-" .. math.floor(step / 2) .. ".ts")
  return wrk.format(nil, nil, {
    ["X-Original-URI"] = "/hls/" .. viewer[2] .. "/" .. stream .. "/" .. file,
    ["X-Geogate-Node"] = node,
    ["X-Real-IP"] = viewer[1],
    ["Authorization"] = authorization
  })
end
