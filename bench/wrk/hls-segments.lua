-- The hls-segments scenario: GET /verify as a node's nginx sends it for every HLS segment, from
-- VIEWERS viewers (each its own X-Real-IP, so its own session) watching with one grant, each
-- asking for the next segment in turn. After the first request of each viewer every check is a
-- warm session's.
-- Each check carries the node's key (AUTHORIZATION, `Bearer KEY`), as the node's nginx sends it.
--   wrk ... -s hls-segments.lua URL -- GRANT VIEWERS AUTHORIZATION

local grant = ""
local viewers = 100
local counter = 0
local authorization = ""
local addresses = {}

function init(args)
  grant = args[1]
  viewers = tonumber(args[2]) or 100
  authorization = args[3] or ""
  for i = 0, viewers - 1 do
    addresses[i + 1] = "10.77." .. math.floor(i / 256) .. "." .. (i % 256)
  end
end

function request()
  local viewer = counter % viewers
  local segment = math.floor(counter / viewers)
  counter = counter + 1
  return wrk.format(nil, nil, {
    ["X-Original-URI"] = "/hls/" .. grant .. "/UIN-DEMO-1/cam-1/seg-" .. segment .. ".ts",
    ["X-Geogate-Node"] = "node-moscow-1",
    ["X-Real-IP"] = addresses[viewer + 1],
    ["Authorization"] = authorization
  })
end
