-- The node scenario: HLS viewers fetching from a node's nginx (the same requests for the
-- location with auth_request and for the one without). Each viewer (a line of VIEWERS: its
-- address, unused here, nginx sends its peer's, and its own grant) has a session the runner
-- started; the viewers take turns, and each asks in a player's order: its playlist, its next
-- segment, its playlist, the segment after, and so on, over SEGMENTS segment files.
--   wrk ... -s node-hls.lua URL -- VIEWERS SERVER/CAMERA SEGMENTS [PACE_MS]

package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local viewers = require("viewers")

local list = {}
local count = 0
local counter = 0
local stream = ""
local segments = 1

function init(args)
  list = viewers.load(args[1])
  count = #list
  stream = args[2]
  segments = tonumber(args[3]) or 1
  viewers.pace(tonumber(args[4]))
end

function request()
  local viewer = list[counter % count + 1]
  local step = math.floor(counter / count)
  counter = counter + 1
  local file = step % 2 == 0 and "index.m3u8" or ("seg-" .. (math.floor(step / 2) % segments) .. ".ts")
  return wrk.format("GET", "/hls/" .. viewer[2] .. "/" .. stream .. "/" .. file)
end
